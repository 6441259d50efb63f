-- Work rules take effect from a month: each scope keeps every version it had, and a month is
-- computed with the versions in force on its first day, so a change never silently moves the
-- figures of months before it. Existing overrides apply from the beginning.
CREATE TABLE work_rule_versions (
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    scope          TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    rule           TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (org_id, scope, effective_from)
);
INSERT INTO work_rule_versions (org_id, scope, effective_from, rule, updated_at)
    SELECT org_id, scope, '2000-01-01', rule, updated_at FROM work_rules;
DROP TABLE work_rules;
