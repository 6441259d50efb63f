-- Work rules, calendars, rosters, corrections, monthly workflow and derived records (SQLite).
-- Keep in step with ../postgres/ of the same name.

-- A correction supersedes a punch with a new ledger row; a cancellation is a void row.
ALTER TABLE punches ADD COLUMN supersedes TEXT REFERENCES punches (id);
ALTER TABLE punches ADD COLUMN voids INTEGER NOT NULL DEFAULT 0;
ALTER TABLE punches ADD COLUMN correction_id TEXT;
-- Partial: almost no punch is superseded, and the planner must know it.
CREATE INDEX punches_supersedes ON punches (supersedes) WHERE supersedes IS NOT NULL;

-- Partial rule JSON per scope: 'org', 'department:<id>' or 'employee:<id>'.
CREATE TABLE work_rules (
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    scope      TEXT NOT NULL,
    rule       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, scope)
);

CREATE TABLE calendar_days (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    day    TEXT NOT NULL,
    kind   TEXT NOT NULL,
    name   TEXT NOT NULL,
    PRIMARY KEY (org_id, day)
);

CREATE TABLE shifts (
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    code       TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (org_id, code)
);

CREATE TABLE roster (
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    employee_id TEXT NOT NULL REFERENCES employees (id),
    day         TEXT NOT NULL,
    shift_code  TEXT NOT NULL,
    PRIMARY KEY (org_id, employee_id, day)
);

CREATE TABLE corrections (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    employee_id  TEXT NOT NULL REFERENCES employees (id),
    action       TEXT NOT NULL,
    punch_id     TEXT REFERENCES punches (id),
    kind         TEXT,
    at           BIGINT,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT,
    comment      TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX corrections_employee ON corrections (org_id, employee_id, status);

CREATE TABLE timesheet_months (
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    employee_id  TEXT NOT NULL REFERENCES employees (id),
    month        TEXT NOT NULL,
    status       TEXT NOT NULL,
    submitted_at BIGINT,
    submitted_by TEXT,
    decided_at   BIGINT,
    decided_by   TEXT,
    comment      TEXT,
    -- The days and summary as approved: payroll keeps these even if rules change later.
    snapshot     TEXT,
    PRIMARY KEY (org_id, employee_id, month)
);

-- Derived and disposable: deleted when their inputs change, recomputed on demand.
CREATE TABLE day_records (
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    employee_id TEXT NOT NULL REFERENCES employees (id),
    day         TEXT NOT NULL,
    record      TEXT NOT NULL,
    PRIMARY KEY (org_id, employee_id, day)
);

CREATE TABLE month_totals (
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    employee_id TEXT NOT NULL REFERENCES employees (id),
    month       TEXT NOT NULL,
    summary     TEXT NOT NULL,
    PRIMARY KEY (org_id, employee_id, month)
);
