-- Chat platforms: inbound events seen (a redelivered callback is handled once), the access
-- tokens each integration holds (sealed, shared by every instance), and the one-time codes
-- employees send to a bot to link their chat account, and what an adapter keeps about the
-- platform side of an integration (such as the rich menu it made).

CREATE TABLE inbound_events (
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    event_key      TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (integration_id, event_key)
);
CREATE INDEX inbound_events_age ON inbound_events (created_at);

CREATE TABLE platform_tokens (
    integration_id TEXT PRIMARY KEY REFERENCES integrations (id),
    token_sealed   TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE link_codes (
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    code_hash   TEXT NOT NULL,
    employee_id TEXT NOT NULL REFERENCES employees (id),
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, code_hash)
);
CREATE INDEX link_codes_employee ON link_codes (employee_id);

CREATE TABLE integration_state (
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    key            TEXT NOT NULL,
    value          TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (integration_id, key)
);

-- The operation log: every call dakoku made to a platform, kept 30 days.
CREATE TABLE platform_calls (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    operation      TEXT NOT NULL,
    ok             BIGINT NOT NULL,
    detail         TEXT NOT NULL,
    duration_ms    BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX platform_calls_recent ON platform_calls (integration_id, id);
