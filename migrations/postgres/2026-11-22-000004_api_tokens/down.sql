ALTER TABLE target_revisions DROP COLUMN token_id;
ALTER TABLE observation_revisions DROP COLUMN token_id;
DROP TABLE api_token_committees;
DROP TABLE api_tokens;
