ALTER TABLE indicators DROP COLUMN numerator_id;
