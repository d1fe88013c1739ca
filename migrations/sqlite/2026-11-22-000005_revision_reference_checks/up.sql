-- PostgreSQL replaces two per-row foreign keys of observation_revisions with
-- per-statement checks (see the PostgreSQL migration of the same name: there a
-- per-row check locks the referenced row, a WAL-logged write when the figure
-- is new). SQLite checks a foreign key with one index lookup and no lock, so
-- its keys stay as they are. This migration exists to keep the two trees in
-- step.
SELECT 1;
