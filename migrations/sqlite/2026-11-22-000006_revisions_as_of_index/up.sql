-- Reading figures "as of" a moment takes, for each figure, its last revision
-- made by then: an anti-join on a later revision of the same figure made by
-- then. This index answers both sides from the index alone.
CREATE INDEX observation_revisions_as_of
    ON observation_revisions (observation_id, changed_at, revision);
