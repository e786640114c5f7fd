//! Contract test suites, one per port: written once, run against every adapter.
//!
//! Enabled by the `testing` feature. Each suite is a set of `async fn`s taking a
//! fresh adapter, plus a macro that expands into one `#[tokio::test]` per contract
//! so that a failure names the broken rule. The factory expression is evaluated
//! once per test, so each test can get its own database or key prefix; it yields a
//! [`Fixture`]: the adapter, or the adapter and what must live until the test ends.
//!
//! ```rust,ignore
//! otp_core::user_repository_contract!(async {
//!     Arc::new(MemoryUserRepository::new()) as Arc<dyn UserRepository>
//! });
//! ```
//!
//! The suites of stores whose rows belong to accounts (sessions, identities) take a
//! [`WithOwners`]: the store and an account store of the same storage, where the suite
//! creates the owner of each row first. Every adapter runs the same suite, whether its
//! storage checks the owner (a foreign key) or not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

pub mod account_standing;
pub mod audit;
pub mod codes;
pub mod codes_within;
pub mod devices;
mod fixture;
pub mod identities;
pub mod oauth_states;
pub mod outbox;
pub mod rate_limits;
pub mod revocations;
pub mod sessions;
pub mod sessions_on_devices;
pub mod users;
pub mod webhooks;

use time::OffsetDateTime;

pub use self::fixture::{AccountStorage, Fixture, WithOwners};
use crate::EmailAddress;

/// A fixed instant, truncated to microseconds (what databases keep).
pub fn instant() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1000 * 1000).unwrap()
}

/// A unique address, so suites can share one store.
pub fn unique_email() -> EmailAddress {
    EmailAddress::parse(&format!("user-{}@example.com", uuid::Uuid::new_v4().simple())).unwrap()
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_tests {
    ($factory:expr, $suite:path, [$($case:ident),* $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                use $suite as suite;
                // Kept until the suite has run: it may own the adapter's database.
                let fixture = $factory.await;
                suite::$case($crate::testing::Fixture::subject(&fixture)).await;
            }
        )*
    };
}

/// Expands into the [`users`] contract tests for the adapter `$factory` builds
/// (an `async` expression yielding a [`Fixture`] of `Arc<dyn UserRepository>`).
#[macro_export]
macro_rules! user_repository_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::users,
            [
                created_accounts_are_found_by_id_and_email,
                a_second_account_with_the_same_email_is_refused,
                concurrent_creates_of_one_email_make_exactly_one_account,
                set_password_replaces_the_hash,
                recording_a_code_check_keeps_the_first_verification_time,
                registration_bindings_are_stored_and_cleared_by_set_password,
                registration_never_touches_a_verified_account,
                abandoning_a_registration_drops_its_password,
                a_code_sign_in_keeps_the_password_only_for_the_registrant,
                unknown_accounts_are_not_found,
                listing_pages_through_accounts_newest_first,
                searching_matches_a_literal_text_in_any_case,
                disabling_and_roles_are_stored,
                created_roles_are_kept,
                locales_are_stored_and_cleared,
                deleting_an_account_frees_its_address,
                changing_the_address_moves_it_and_refuses_a_taken_one,
            ]
        );
    };
}

/// Expands into the first sign-in tests of the [`users`] contract
/// ([`UserRepository::create_with_first_sign_in`](crate::ports::UserRepository::create_with_first_sign_in)):
/// `$factory` yields a [`Fixture`] of [`AccountStorage`], the account store with the
/// session and device stores it writes to.
#[macro_export]
macro_rules! user_repository_first_sign_in_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::users,
            [
                a_first_sign_in_stores_the_account_its_session_and_its_device,
                a_first_sign_in_of_a_taken_address_stores_none_of_the_three,
                of_concurrent_first_sign_ins_of_one_address_exactly_one_is_stored,
                of_concurrent_first_sign_ins_exactly_those_of_free_addresses_are_stored,
            ]
        );
    };
}

/// Expands into the [`account_standing`] contract tests
/// ([`UserRepository::find_by_email_with_standing`](crate::ports::UserRepository::find_by_email_with_standing)):
/// `$factory` yields a [`Fixture`] of [`AccountStorage`], the account store under test
/// with the device store of the same storage.
#[macro_export]
macro_rules! user_repository_standing_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::account_standing,
            [
                an_account_is_read_with_a_clients_standing_among_its_active_devices,
                an_account_without_devices_and_an_unknown_address_have_no_standing,
            ]
        );
    };
}

/// Expands into the [`sessions`] contract tests (`$factory` yields a [`Fixture`] of
/// [`WithOwners<dyn SessionRepository>`](WithOwners)).
#[macro_export]
macro_rules! session_repository_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::sessions,
            [
                created_sessions_are_found,
                rotating_with_the_current_hash_replaces_it,
                rotating_with_a_stale_hash_revokes_the_session,
                a_hash_the_session_never_held_changes_nothing,
                every_remembered_retired_hash_is_recognised_as_reuse,
                of_concurrent_rotations_with_one_hash_at_most_one_succeeds,
                expired_sessions_do_not_rotate,
                revoking_ends_a_session_once,
                revoking_all_of_a_user_leaves_others_alone,
                active_sessions_are_listed_newest_first,
                a_new_session_past_the_limit_ends_the_least_recently_used,
                a_password_reset_sets_the_hash_records_the_check_and_ends_every_session,
                a_password_reset_verifies_an_unverified_address,
                sessions_that_ended_before_the_cutoff_are_purged_in_batches,
            ]
        );
    };
}

/// Expands into the [`sessions_on_devices`] contract tests
/// ([`SessionRepository::create_on_device`](crate::ports::SessionRepository::create_on_device)):
/// `$factory` yields a [`Fixture`] of [`AccountStorage`], the session store under test
/// with the account and device stores of the same storage.
#[macro_export]
macro_rules! session_on_device_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::sessions_on_devices,
            [
                a_sign_in_on_a_new_device_stores_both_within_their_limits,
                a_sign_in_on_a_remembered_device_records_it_beside_the_session,
                a_sign_in_of_a_deleted_account_stores_nothing,
                concurrent_sign_ins_of_one_account_succeed_and_keep_the_limits,
            ]
        );
    };
}

/// Expands into the [`devices`] contract tests (`$factory` yields a [`Fixture`] of
/// [`WithOwners<dyn DeviceRepository>`](WithOwners)).
#[macro_export]
macro_rules! device_repository_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::devices,
            [
                created_devices_are_found,
                sign_ins_are_recorded_on_active_devices_only,
                only_the_owner_revokes_a_device_once,
                active_devices_are_listed_newest_first,
                a_clients_standing_counts_its_own_active_devices_only,
                a_new_device_past_the_limit_forgets_unchecked_then_least_recently_used,
                devices_forgotten_before_the_cutoff_are_purged_in_batches,
            ]
        );
    };
}

/// Expands into the [`identities`] contract tests (`$factory` yields a [`Fixture`] of
/// [`WithOwners<dyn IdentityRepository>`](WithOwners)).
#[macro_export]
macro_rules! identity_repository_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::identities,
            [
                linked_identities_are_found,
                a_second_link_of_one_identity_is_refused,
                one_subject_at_two_providers_is_two_identities,
                subjects_and_providers_are_compared_exactly,
                concurrent_links_of_one_identity_make_exactly_one,
                unlinking_removes_only_that_accounts_identities_at_the_provider,
                a_user_may_have_several_identities_listed_oldest_first,
                identities_linked_at_one_instant_are_listed_by_provider_then_subject,
            ]
        );
    };
}

/// Expands into the [`oauth_states`] contract tests.
#[macro_export]
macro_rules! oauth_state_store_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::oauth_states,
            [
                a_stored_authorization_is_taken_once_exactly_as_stored,
                unknown_keys_are_not_found,
                keys_are_independent,
                an_expired_authorization_is_kept_through_its_retention,
                an_authorization_past_its_retention_is_not_stored,
                of_concurrent_takes_exactly_one_gets_the_record,
            ]
        );
    };
}

/// Expands into the [`codes`] contract tests.
#[macro_export]
macro_rules! code_store_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::codes,
            [
                an_issued_code_verifies_once,
                wrong_codes_spend_attempts_until_the_code_dies,
                expired_codes_are_refused,
                a_cooldown_blocks_reissue_until_it_passes,
                a_reissued_code_replaces_the_old_one,
                keys_are_independent,
                of_concurrent_right_guesses_exactly_one_is_accepted,
                concurrent_wrong_guesses_are_capped_at_max_attempts,
            ]
        );
    };
}

/// Expands into the [`codes_within`] contract tests for the code store and rate limiter
/// `$factory` builds (an `async` expression yielding a [`Fixture`] of
/// [`codes_within::CodesBesideLimits`]).
#[macro_export]
macro_rules! code_store_within_limits_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::codes_within,
            [
                a_code_issued_within_budgets_counts_each_of_them,
                a_spent_budget_issues_nothing_and_counts_only_the_budgets_before_it,
                a_cooldown_is_answered_after_the_budgets_are_counted,
                concurrent_issues_within_one_budget_issue_no_more_than_it_allows,
                a_code_checked_within_budgets_counts_each_of_them,
                a_spent_budget_checks_nothing_and_spends_no_try,
            ]
        );
    };
}

/// Expands into the [`rate_limits`] contract tests.
#[macro_export]
macro_rules! rate_limiter_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::rate_limits,
            [
                allows_max_hits_then_limits_with_a_wait,
                the_window_slides,
                keys_are_counted_separately,
                concurrent_hits_allow_exactly_max,
                hitting_several_keys_counts_each_in_turn_up_to_the_first_limited,
            ]
        );
    };
}

/// Expands into the [`outbox`] contract tests.
#[macro_export]
macro_rules! mail_outbox_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::outbox,
            [
                a_queued_message_is_claimed_once_with_its_content,
                claims_return_the_oldest_first_up_to_the_limit,
                a_completed_message_is_gone,
                completing_several_removes_exactly_those,
                a_deferred_message_comes_back_when_due_with_its_attempts_counted,
                an_expired_lease_makes_the_message_due_again,
                a_message_queued_leased_is_hidden_until_its_lease_ends_with_one_attempt_counted,
                a_released_message_is_due_at_once_without_spending_an_attempt,
                depth_counts_queued_and_leased_messages,
                concurrent_claims_never_share_a_message,
            ]
        );
    };
}

/// Expands into the [`audit`] contract tests (an `async` expression yielding a
/// [`Fixture`] of `Arc<dyn AuditLog>`).
#[macro_export]
macro_rules! audit_log_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::audit,
            [
                appended_entries_are_listed_as_written,
                the_listing_pages_newest_first,
                an_entry_id_is_written_once,
                entries_may_name_accounts_that_no_longer_exist,
                entries_naming_an_account_are_listed_and_pseudonymised,
            ]
        );
    };
}

/// Expands into the [`revocations`] contract tests (`$factory` yields a [`Fixture`] of
/// `Arc<dyn RevocationChannel>`).
#[macro_export]
macro_rules! revocation_channel_contract {
    ($factory:expr) => {
        $crate::__contract_tests!(
            $factory,
            $crate::testing::revocations,
            [
                a_listening_feed_receives_each_revocation_in_order,
                every_listening_feed_receives_a_revocation,
                publishing_with_no_feed_listening_succeeds,
            ]
        );
    };
}
