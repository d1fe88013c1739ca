DROP TABLE rollup_state;
DROP TABLE group_rollups;
