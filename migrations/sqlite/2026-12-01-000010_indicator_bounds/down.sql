ALTER TABLE indicators DROP COLUMN whole_number;
ALTER TABLE indicators DROP COLUMN max_value;
ALTER TABLE indicators DROP COLUMN min_value;
