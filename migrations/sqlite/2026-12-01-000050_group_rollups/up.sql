-- Group totals kept current on write (issue 14): for each group, indicator
-- and period, the total over the members' figures stored for exactly that
-- period (totals, not breakdowns), as `domain::resolve::group_total` gives it
-- (`total`, the answer serialised as JSON), and how many members have one.
-- When every member has one, that total is the group's answer for the
-- period. Filled by the application (`chitieu rollups rebuild`, or at start
-- when `rollup_state` is missing or names an older version), then on every write.
CREATE TABLE group_rollups (
    group_id BIGINT NOT NULL REFERENCES committee_groups (id) ON DELETE CASCADE,
    indicator_id BIGINT NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    period_code TEXT NOT NULL,
    members_stored BIGINT NOT NULL,
    total TEXT NOT NULL,
    PRIMARY KEY (group_id, indicator_id, period_code)
);

-- One row: the version of the rule the rollups were built with.
CREATE TABLE rollup_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
