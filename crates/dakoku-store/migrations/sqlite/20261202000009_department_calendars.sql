-- Calendar days belong to a scope as work rules do: the organisation ('org') or one department
-- ('department:<id>'), so a Chinese branch keeps its own days inside a Japanese company.
-- A department's day overrides its parents' and the organisation's for its employees.
CREATE TABLE calendar_entries (
    org_id TEXT NOT NULL REFERENCES organizations (id),
    scope  TEXT NOT NULL,
    day    TEXT NOT NULL,
    kind   TEXT NOT NULL,
    name   TEXT NOT NULL,
    PRIMARY KEY (org_id, scope, day)
);
INSERT INTO calendar_entries (org_id, scope, day, kind, name)
    SELECT org_id, 'org', day, kind, name FROM calendar_days;
DROP TABLE calendar_days;
