-- dakoku foundation schema (SQLite). Keep in step with ../postgres/ of the same name.
-- Instants are BIGINT microseconds since the Unix epoch, UTC. Ids are UUIDv7 text.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    timezone   TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE departments (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    name       TEXT NOT NULL,
    code       TEXT,
    parent_id  TEXT REFERENCES departments (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, code)
);
CREATE INDEX departments_parent ON departments (org_id, parent_id);

CREATE TABLE employees (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    email         TEXT,
    timezone      TEXT,
    department_id TEXT REFERENCES departments (id),
    status        TEXT NOT NULL,
    retired_on    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (org_id, code)
);
CREATE INDEX employees_department ON employees (org_id, department_id);

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES organizations (id),
    email                 TEXT NOT NULL,
    role                  TEXT NOT NULL,
    employee_id           TEXT REFERENCES employees (id),
    manages_department_id TEXT REFERENCES departments (id),
    created_at            BIGINT NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (org_id, user_id);

CREATE TABLE integrations (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES organizations (id),
    platform              TEXT NOT NULL,
    name                  TEXT NOT NULL,
    settings              TEXT NOT NULL,
    secrets_sealed        TEXT NOT NULL,
    callback_token_hash   TEXT NOT NULL UNIQUE,
    callback_token_sealed TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

CREATE TABLE integration_links (
    integration_id   TEXT NOT NULL REFERENCES integrations (id),
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    employee_id      TEXT NOT NULL REFERENCES employees (id),
    external_user_id TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (integration_id, external_user_id),
    UNIQUE (integration_id, employee_id)
);

CREATE TABLE punches (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations (id),
    employee_id       TEXT NOT NULL REFERENCES employees (id),
    kind              TEXT NOT NULL,
    at                BIGINT NOT NULL,
    source            TEXT NOT NULL,
    recorded_by       TEXT NOT NULL,
    note              TEXT,
    location          TEXT,
    integration_id    TEXT REFERENCES integrations (id),
    external_event_id TEXT,
    created_at        BIGINT NOT NULL
);
CREATE INDEX punches_employee_at ON punches (org_id, employee_id, at);
CREATE INDEX punches_org_at ON punches (org_id, at);
CREATE UNIQUE INDEX punches_external_event ON punches (integration_id, external_event_id);

CREATE TABLE idempotency_keys (
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status BIGINT,
    response_body   TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    request_id  TEXT
);
CREATE INDEX audit_log_object ON audit_log (org_id, object_type, object_id);

CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    url           TEXT NOT NULL,
    events        TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);
CREATE INDEX webhooks_org ON webhooks (org_id);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    org_id       TEXT,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at       BIGINT NOT NULL,
    locked_by    TEXT,
    locked_until BIGINT,
    last_error   TEXT,
    dedupe_key   TEXT UNIQUE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_at);
CREATE INDEX jobs_lease ON jobs (status, locked_until);
