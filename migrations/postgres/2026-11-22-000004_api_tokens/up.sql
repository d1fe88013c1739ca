-- API tokens: only a SHA-256 hash of each token is stored; the token itself is
-- shown once, when it is created.
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at TIMESTAMP
);

-- The committees (and, through their parents, subtrees) an editor token may write for.
CREATE TABLE api_token_committees (
    token_id BIGINT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    committee_id BIGINT NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    PRIMARY KEY (token_id, committee_id)
);

-- Which token made each change.
ALTER TABLE observation_revisions ADD COLUMN token_id BIGINT REFERENCES api_tokens (id);
ALTER TABLE target_revisions ADD COLUMN token_id BIGINT REFERENCES api_tokens (id);
