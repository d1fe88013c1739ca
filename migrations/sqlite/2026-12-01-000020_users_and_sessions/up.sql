-- People who sign in to the web app. A password is kept only as an argon2id
-- hash (PHC string). Role and committee scope work exactly as a token's: the
-- scope is fixed when the account is created (the committees named and every
-- committee below them then).
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    disabled_at TEXT
);

CREATE TABLE user_committees (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    committee_id BIGINT NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, committee_id)
);

-- A signed-in browser. Only a SHA-256 hash of the session id (the cookie) is
-- stored, so a copy of the database signs no one in. Each session has its own
-- CSRF token, which every form posts back.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, for throttling: kept in the database so that every worker
-- and every instance counts the same failures.
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX sign_in_failures_by_name ON sign_in_failures (username, failed_at);
