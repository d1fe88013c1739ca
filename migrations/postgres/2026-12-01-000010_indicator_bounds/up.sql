-- Plausible values of an indicator (DHIS2's min-max): figures and targets
-- outside them are refused on every write path. In the indicator's own unit
-- and scale; NULL means unbounded.
ALTER TABLE indicators ADD COLUMN min_value NUMERIC;
ALTER TABLE indicators ADD COLUMN max_value NUMERIC;
ALTER TABLE indicators ADD COLUMN whole_number BOOLEAN NOT NULL DEFAULT FALSE;
