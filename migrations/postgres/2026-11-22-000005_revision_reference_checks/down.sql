DROP TRIGGER api_tokens_keep_revised ON api_tokens;
DROP FUNCTION api_tokens_keep_revised();
DROP TRIGGER observations_keep_revised ON observations;
DROP FUNCTION observations_keep_revised();
DROP TRIGGER observation_revisions_updated_references ON observation_revisions;
DROP TRIGGER observation_revisions_inserted_references ON observation_revisions;
DROP FUNCTION observation_revisions_check_references();
ALTER TABLE observation_revisions
    ADD CONSTRAINT observation_revisions_token_id_fkey FOREIGN KEY (token_id) REFERENCES api_tokens (id);
ALTER TABLE observation_revisions
    ADD CONSTRAINT observation_revisions_observation_id_fkey FOREIGN KEY (observation_id) REFERENCES observations (id);
