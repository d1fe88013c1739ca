-- A ratio indicator is numerator / denominator x 100: with both known it can be
-- recomputed for longer periods and for group totals instead of being averaged.
ALTER TABLE indicators ADD COLUMN numerator_id BIGINT REFERENCES indicators (id);
