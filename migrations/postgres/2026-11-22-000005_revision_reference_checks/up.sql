-- A revision's observation and token are checked once per statement instead of
-- once per row.
--
-- A foreign key checks each inserted row on its own: a lookup of the
-- referenced row and a lock on it, and when that row is new (the figure the
-- same statement created) the lock is a second write of it, WAL-logged. An
-- import of a million new figures writes a million revisions: measured on the
-- benchmark machine, each of these two keys added about 3 s per million rows
-- to a statement that takes 30 s.
--
-- The triggers below keep the same rule with set-based checks over the rows a
-- statement wrote (transition tables): an anti-join instead of a million
-- lookups. Observations and tokens are never deleted by chitieu (a figure is
-- deleted by setting `deleted_at`, a token by `revoked_at`), and the delete
-- triggers refuse to remove one that a revision names. Unlike a foreign key,
-- the checks take no row locks, so a DELETE racing a revision insert in
-- another transaction is not caught; nothing in chitieu issues such a DELETE.
ALTER TABLE observation_revisions DROP CONSTRAINT observation_revisions_observation_id_fkey;
ALTER TABLE observation_revisions DROP CONSTRAINT observation_revisions_token_id_fkey;

CREATE FUNCTION observation_revisions_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM written_revisions AS r
        WHERE NOT EXISTS (SELECT 1 FROM observations AS o WHERE o.id = r.observation_id)
    ) THEN
        RAISE EXCEPTION 'observation_revisions: no such observation'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM written_revisions AS r
        WHERE r.token_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM api_tokens AS t WHERE t.id = r.token_id)
    ) THEN
        RAISE EXCEPTION 'observation_revisions: no such token'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER observation_revisions_inserted_references
    AFTER INSERT ON observation_revisions
    REFERENCING NEW TABLE AS written_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION observation_revisions_check_references();

CREATE TRIGGER observation_revisions_updated_references
    AFTER UPDATE ON observation_revisions
    REFERENCING NEW TABLE AS written_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION observation_revisions_check_references();

CREATE FUNCTION observations_keep_revised() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM removed_observations AS o
        JOIN observation_revisions AS r ON r.observation_id = o.id
    ) THEN
        RAISE EXCEPTION 'observations: a revision still names this observation'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER observations_keep_revised
    AFTER DELETE ON observations
    REFERENCING OLD TABLE AS removed_observations
    FOR EACH STATEMENT EXECUTE FUNCTION observations_keep_revised();

CREATE FUNCTION api_tokens_keep_revised() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM removed_tokens AS t
        JOIN observation_revisions AS r ON r.token_id = t.id
    ) THEN
        RAISE EXCEPTION 'api_tokens: a revision still names this token'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_keep_revised
    AFTER DELETE ON api_tokens
    REFERENCING OLD TABLE AS removed_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_keep_revised();
