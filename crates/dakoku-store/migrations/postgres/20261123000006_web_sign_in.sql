-- Signing in to the web app: a password per user (argon2id PHC string), sessions kept in the
-- database (the cookie carries a random token, only its SHA-256 is stored, with the form
-- token that guards every POST), failed sign-ins for throttling, and the single-use links an
-- admin issues to set or reset a password (stored hashed).

ALTER TABLE users ADD COLUMN password_hash TEXT;

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

CREATE TABLE sign_in_failures (
    email TEXT NOT NULL,
    at    BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, at);

CREATE TABLE password_links (
    token_hash TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    created_at BIGINT NOT NULL
);
