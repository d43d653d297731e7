-- Users, sessions and the hash-chained audit log.

CREATE TABLE users (
    id {{ID_PK}},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- Comma-separated role words (finance, support, approver, admin).
    roles TEXT NOT NULL,
    -- Argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the session token: a stolen database does not yield usable tokens.
    token_hash TEXT NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX sessions_by_user ON sessions (username);

-- Append-only, hash-chained: hash = SHA-256(prev_hash, seq, at, actor, action, target,
-- outcome, details). Editing, deleting or reordering an entry breaks the chain.
CREATE TABLE audit_log (
    seq BIGINT NOT NULL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_by_actor ON audit_log (actor, seq);
CREATE INDEX audit_by_action ON audit_log (action, seq);
