-- A committee × period approved and closed to writes. Unlocking keeps the row
-- (unlocked_at, unlocked_by) so the history of approvals is not lost.
CREATE TABLE period_locks (
    id BIGSERIAL PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES committees (id),
    period_code TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    locked_by TEXT NOT NULL,
    reason TEXT,
    locked_at TIMESTAMP NOT NULL,
    unlocked_by TEXT,
    unlocked_at TIMESTAMP
);
CREATE INDEX period_locks_committee ON period_locks (committee_id) WHERE unlocked_at IS NULL;
