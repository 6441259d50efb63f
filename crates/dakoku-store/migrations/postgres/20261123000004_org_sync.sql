-- Org sync with a platform's directory: what each department and member looked like on both
-- sides after the last sync that touched it (the base of a three-way compare, so that a change
-- made on only one side is carried over and a change made on both is reported, never
-- overwritten), and which dakoku department is which platform department.

CREATE TABLE org_sync_base (
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    kind           TEXT NOT NULL,
    remote_id      TEXT NOT NULL,
    local_id       TEXT NOT NULL,
    name           TEXT NOT NULL,
    parent         TEXT,
    mobile         TEXT,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (integration_id, kind, remote_id)
);
CREATE INDEX org_sync_base_local ON org_sync_base (integration_id, kind, local_id);
