//! Table definitions shared by both backends. Decimal columns use [`DbDecimal`]:
//! `NUMERIC` on PostgreSQL, canonical `TEXT` on SQLite.

diesel::table! {
    use diesel::sql_types::*;

    sources (id) {
        id -> BigInt,
        code -> Text,
        title -> Text,
        publisher -> Nullable<Text>,
        published_on -> Nullable<Date>,
        url -> Nullable<Text>,
        author -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    committees (id) {
        id -> BigInt,
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        kind -> Text,
        parent_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    committee_groups (id) {
        id -> BigInt,
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        description -> Nullable<Text>,
        source_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    committee_group_members (group_id, committee_id) {
        group_id -> BigInt,
        committee_id -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::decimal::DbDecimal;

    indicators (id) {
        id -> BigInt,
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        unit -> Text,
        scale -> Integer,
        measure_kind -> Text,
        direction -> Text,
        denominator_id -> Nullable<BigInt>,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        numerator_id -> Nullable<BigInt>,
        min_value -> Nullable<DbDecimal>,
        max_value -> Nullable<DbDecimal>,
        whole_number -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::decimal::DbDecimal;

    observations (id) {
        id -> BigInt,
        committee_id -> BigInt,
        indicator_id -> BigInt,
        period_code -> Text,
        frequency -> Text,
        period_start -> Date,
        period_end -> Date,
        breakdown -> Text,
        value -> DbDecimal,
        status -> Text,
        qualifier -> Text,
        reported_yoy_pct -> Nullable<DbDecimal>,
        reported_yoy_qualifier -> Nullable<Text>,
        reported_share_pct -> Nullable<DbDecimal>,
        reported_share_qualifier -> Nullable<Text>,
        source_id -> Nullable<BigInt>,
        source_quote -> Nullable<Text>,
        revision -> Integer,
        deleted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::decimal::DbDecimal;

    observation_revisions (id) {
        id -> BigInt,
        observation_id -> BigInt,
        revision -> Integer,
        action -> Text,
        value -> DbDecimal,
        previous_value -> Nullable<DbDecimal>,
        status -> Text,
        qualifier -> Text,
        reported_yoy_pct -> Nullable<DbDecimal>,
        reported_yoy_qualifier -> Nullable<Text>,
        reported_share_pct -> Nullable<DbDecimal>,
        reported_share_qualifier -> Nullable<Text>,
        source_id -> Nullable<BigInt>,
        source_quote -> Nullable<Text>,
        changed_at -> Timestamp,
        changed_by -> Text,
        reason -> Nullable<Text>,
        token_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::decimal::DbDecimal;

    targets (id) {
        id -> BigInt,
        committee_id -> BigInt,
        indicator_id -> BigInt,
        period_code -> Text,
        frequency -> Text,
        period_start -> Date,
        period_end -> Date,
        value -> DbDecimal,
        assigned_by -> Nullable<Text>,
        source_id -> Nullable<BigInt>,
        source_quote -> Nullable<Text>,
        revision -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::decimal::DbDecimal;

    target_revisions (id) {
        id -> BigInt,
        target_id -> BigInt,
        revision -> Integer,
        value -> DbDecimal,
        previous_value -> Nullable<DbDecimal>,
        assigned_by -> Nullable<Text>,
        changed_at -> Timestamp,
        changed_by -> Text,
        reason -> Nullable<Text>,
        token_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    group_rollups (group_id, indicator_id, period_code) {
        group_id -> BigInt,
        indicator_id -> BigInt,
        period_code -> Text,
        members_stored -> BigInt,
        total -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    rollup_state (id) {
        id -> Integer,
        version -> Integer,
    }
}

diesel::joinable!(group_rollups -> committee_groups (group_id));
diesel::joinable!(group_rollups -> indicators (indicator_id));
diesel::joinable!(committee_group_members -> committees (committee_id));
diesel::joinable!(committee_group_members -> committee_groups (group_id));
diesel::joinable!(observations -> committees (committee_id));
diesel::joinable!(observations -> indicators (indicator_id));
diesel::joinable!(observations -> sources (source_id));
diesel::joinable!(observation_revisions -> observations (observation_id));
diesel::joinable!(targets -> committees (committee_id));
diesel::joinable!(targets -> sources (source_id));
diesel::joinable!(observation_revisions -> sources (source_id));
diesel::joinable!(committee_groups -> sources (source_id));
diesel::joinable!(targets -> indicators (indicator_id));
diesel::joinable!(target_revisions -> targets (target_id));

diesel::table! {
    use diesel::sql_types::*;

    period_locks (id) {
        id -> BigInt,
        committee_id -> BigInt,
        period_code -> Text,
        period_start -> Date,
        period_end -> Date,
        locked_by -> Text,
        reason -> Nullable<Text>,
        locked_at -> Timestamp,
        unlocked_by -> Nullable<Text>,
        unlocked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(period_locks -> committees (committee_id));

diesel::allow_tables_to_appear_in_same_query!(
    sources,
    committees,
    committee_groups,
    committee_group_members,
    group_rollups,
    rollup_state,
    indicators,
    observations,
    observation_revisions,
    targets,
    target_revisions,
    period_locks,
    api_tokens,
    api_token_committees,
    users,
    user_committees,
    sessions,
);

// A temporary table each import creates on its own connection (see db::imports):
// not part of the migrations.
diesel::table! {
    use diesel::sql_types::*;
    use crate::db::decimal::DbDecimal;

    import_staging (row_no) {
        row_no -> BigInt,
        committee_id -> BigInt,
        indicator_id -> BigInt,
        period_code -> Text,
        frequency -> Text,
        period_start -> Date,
        period_end -> Date,
        breakdown -> Text,
        value -> Nullable<DbDecimal>,
        status -> Text,
        qualifier -> Text,
        reported_yoy_pct -> Nullable<DbDecimal>,
        reported_yoy_qualifier -> Nullable<Text>,
        reported_share_pct -> Nullable<DbDecimal>,
        reported_share_qualifier -> Nullable<Text>,
        source_id -> Nullable<BigInt>,
        source_quote -> Nullable<Text>,
        existing_id -> Nullable<BigInt>,
        action -> Nullable<Text>,
        reject_code -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        token_hash -> Text,
        token_prefix -> Text,
        created_at -> Timestamp,
        created_by -> Text,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    api_token_committees (token_id, committee_id) {
        token_id -> BigInt,
        committee_id -> BigInt,
    }
}

diesel::joinable!(api_token_committees -> api_tokens (token_id));
diesel::joinable!(api_token_committees -> committees (committee_id));

diesel::table! {
    use diesel::sql_types::*;

    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        created_by -> Text,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    user_committees (user_id, committee_id) {
        user_id -> BigInt,
        committee_id -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    sessions (id_hash) {
        id_hash -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    sign_in_failures (id) {
        id -> BigInt,
        username -> Text,
        failed_at -> Timestamp,
    }
}

diesel::joinable!(user_committees -> users (user_id));
diesel::joinable!(user_committees -> committees (committee_id));
diesel::joinable!(sessions -> users (user_id));
