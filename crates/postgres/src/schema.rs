//! The tables, as the migrations in this crate's `migrations/` folder create them.

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamptz>,
        last_code_verified_at -> Nullable<Timestamptz>,
        disabled -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        role -> Text,
        registration_token_hash -> Nullable<Bytea>,
        registration_client -> Nullable<Text>,
        registration_expires_at -> Nullable<Timestamptz>,
        locale -> Nullable<Text>,
    }
}

diesel::table! {
    devices (id) {
        id -> Uuid,
        user_id -> Uuid,
        token_hash -> Bytea,
        client -> Text,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        code_verified_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        ip -> Nullable<Inet>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        refresh_hash -> Bytea,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        ip -> Nullable<Inet>,
        user_agent -> Nullable<Text>,
        auth_methods -> Array<Text>,
        retired_refresh_hashes -> Array<Bytea>,
    }
}

diesel::table! {
    identities (provider, subject) {
        provider -> Text,
        subject -> Text,
        user_id -> Uuid,
        email -> Text,
        linked_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        at -> Timestamptz,
        actor_id -> Uuid,
        actor_email -> Text,
        action -> Text,
        target_id -> Nullable<Uuid>,
        target_email -> Nullable<Text>,
        ip -> Nullable<Inet>,
    }
}

diesel::table! {
    webhook_outbox (seq) {
        seq -> Int8,
        id -> Uuid,
        event_id -> Uuid,
        user_id -> Uuid,
        endpoint -> Text,
        payload -> Text,
        queued_at -> Timestamptz,
        available_at -> Timestamptz,
        attempts -> Int4,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(devices -> users (user_id));
diesel::joinable!(identities -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    devices,
    identities,
    mail_outbox,
    audit_log,
    webhook_outbox
);

/// SQL functions the queries use.
pub(crate) mod functions {
    use diesel::sql_types::{Nullable, Text, Timestamptz};

    #[diesel::declare_sql_function]
    extern "SQL" {
        /// `lower(text)`: the expression the unique index on `users` is built on.
        fn lower(text: Text) -> Text;

        /// `coalesce` of two nullable timestamps.
        fn coalesce(first: Nullable<Timestamptz>, second: Nullable<Timestamptz>) -> Nullable<Timestamptz>;
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Uuid,
        sealed -> Text,
        queued_at -> Timestamptz,
        available_at -> Timestamptz,
        expires_at -> Timestamptz,
        attempts -> Int4,
    }
}
