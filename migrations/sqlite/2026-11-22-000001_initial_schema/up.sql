-- SQLite twin of the PostgreSQL migration of the same name. Decimals are TEXT holding the
-- canonical decimal string: SQLite's NUMERIC affinity would turn them into floats and lose digits.
-- Reference data: sources, committees, groups, indicators.
CREATE TABLE sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    publisher TEXT,
    published_on TEXT,
    url TEXT,
    author TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE committees (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id BIGINT REFERENCES committees (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX committees_parent_id ON committees (parent_id);

CREATE TABLE committee_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    description TEXT,
    source_id BIGINT REFERENCES sources (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE committee_group_members (
    group_id BIGINT NOT NULL REFERENCES committee_groups (id) ON DELETE CASCADE,
    committee_id BIGINT NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, committee_id)
);
CREATE INDEX committee_group_members_committee_id ON committee_group_members (committee_id);

CREATE TABLE indicators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    unit TEXT NOT NULL,
    scale INTEGER NOT NULL,
    measure_kind TEXT NOT NULL,
    direction TEXT NOT NULL,
    denominator_id BIGINT REFERENCES indicators (id),
    description TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Facts. A deleted observation keeps its row (deleted_at set) so that its
-- revision history stays attached to one id and a later re-entry continues it.
CREATE TABLE observations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id BIGINT NOT NULL REFERENCES committees (id),
    indicator_id BIGINT NOT NULL REFERENCES indicators (id),
    period_code TEXT NOT NULL,
    frequency TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    breakdown TEXT NOT NULL DEFAULT '',
    value TEXT NOT NULL,
    status TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    reported_yoy_pct TEXT,
    reported_yoy_qualifier TEXT,
    reported_share_pct TEXT,
    reported_share_qualifier TEXT,
    source_id BIGINT REFERENCES sources (id),
    source_quote TEXT,
    revision INTEGER NOT NULL,
    deleted_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT observations_key UNIQUE (committee_id, indicator_id, period_code, breakdown)
);
CREATE INDEX observations_indicator_period ON observations (indicator_id, period_code);
CREATE INDEX observations_period_start ON observations (period_start);

-- One row per change: the full state after the change, and the value before it.
CREATE TABLE observation_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    observation_id BIGINT NOT NULL REFERENCES observations (id),
    revision INTEGER NOT NULL,
    action TEXT NOT NULL,
    value TEXT NOT NULL,
    previous_value TEXT,
    status TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    reported_yoy_pct TEXT,
    reported_yoy_qualifier TEXT,
    reported_share_pct TEXT,
    reported_share_qualifier TEXT,
    source_id BIGINT REFERENCES sources (id),
    source_quote TEXT,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    reason TEXT,
    CONSTRAINT observation_revisions_key UNIQUE (observation_id, revision)
);

CREATE TABLE targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id BIGINT NOT NULL REFERENCES committees (id),
    indicator_id BIGINT NOT NULL REFERENCES indicators (id),
    period_code TEXT NOT NULL,
    frequency TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    value TEXT NOT NULL,
    assigned_by TEXT,
    source_id BIGINT REFERENCES sources (id),
    source_quote TEXT,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT targets_key UNIQUE (committee_id, indicator_id, period_code)
);

CREATE TABLE target_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target_id BIGINT NOT NULL REFERENCES targets (id),
    revision INTEGER NOT NULL,
    value TEXT NOT NULL,
    previous_value TEXT,
    assigned_by TEXT,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    reason TEXT,
    CONSTRAINT target_revisions_key UNIQUE (target_id, revision)
);
