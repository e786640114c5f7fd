//! The use cases, as one service per capability:
//!
//! - [`SignInService`]: sign-in by emailed code and by password (passwordless,
//!   registration, log-in with its code re-check, password reset);
//! - [`SessionService`]: access-token checks, refresh-token rotation, logout, the
//!   caller's sessions;
//! - [`OAuthSignIn`]: sign-in with Google, GitHub or another OAuth provider;
//! - [`AdminService`]: account administration and the audit log.
//! - [`RecordRetention`]: deleting ended sessions and forgotten devices once their
//!   retention has passed (run periodically, not per request).
//!
//! Each is built with exactly the ports it uses and has its own error enum. The steps
//! several of them share are small values they hold: [`Throttle`] (rate limits),
//! [`OneTimeCodes`] (issuing and checking codes) and [`SessionIssuer`] (opening a
//! session and signing its tokens). [`Services::new`] builds them all from one set of
//! [`Stores`].

/// The conversions the service errors share, so `?` works on their steps:
/// `port` (a port failure is a [`crate::Failure`]), `throttle` (a spent rate-limit budget
/// is `RateLimited`), `start` (a disabled account met when opening a session is
/// `AccountDisabled`), `codes` (issuing and checking codes: `Cooldown`, `CodeInvalid`,
/// `CodeExpired`, `CodeAttemptsExceeded`), `hashing` (a full Argon2 queue is `Busy`).
macro_rules! service_error_conversions {
    ($error:ident: $($kind:ident),+) => {
        $( service_error_conversions!(@$kind $error); )+
    };
    (@port $error:ident) => {
        impl From<crate::error::PortError> for $error {
            fn from(error: crate::error::PortError) -> Self {
                Self::Failure(error.into())
            }
        }
    };
    (@throttle $error:ident) => {
        impl From<crate::service::ThrottleError> for $error {
            fn from(error: crate::service::ThrottleError) -> Self {
                match error {
                    crate::service::ThrottleError::Limited { retry_after } => Self::RateLimited { retry_after },
                    crate::service::ThrottleError::Failure(failure) => Self::Failure(failure),
                }
            }
        }
    };
    (@codes $error:ident) => {
        impl From<crate::service::IssueError> for $error {
            fn from(error: crate::service::IssueError) -> Self {
                match error {
                    crate::service::IssueError::Cooldown { retry_after } => Self::Cooldown { retry_after },
                    crate::service::IssueError::Failure(failure) => Self::Failure(failure),
                }
            }
        }

        impl From<crate::service::CheckError> for $error {
            fn from(error: crate::service::CheckError) -> Self {
                match error {
                    crate::service::CheckError::Invalid { attempts_remaining } => {
                        Self::CodeInvalid { attempts_remaining }
                    }
                    crate::service::CheckError::Expired => Self::CodeExpired,
                    crate::service::CheckError::AttemptsExceeded => Self::CodeAttemptsExceeded,
                    crate::service::CheckError::Failure(failure) => Self::Failure(failure),
                }
            }
        }
    };
    (@hashing $error:ident) => {
        impl From<crate::crypto::HashingError> for $error {
            fn from(error: crate::crypto::HashingError) -> Self {
                match error {
                    crate::crypto::HashingError::Busy { retry_after } => Self::Busy { retry_after },
                    failed @ crate::crypto::HashingError::Failed(_) => Self::Failure(failed.into()),
                }
            }
        }
    };
    (@start $error:ident) => {
        impl From<crate::service::StartError> for $error {
            fn from(error: crate::service::StartError) -> Self {
                match error {
                    // Deleted while signing in: as unusable as a disabled account.
                    crate::service::StartError::AccountDisabled | crate::service::StartError::AccountGone => {
                        Self::AccountDisabled
                    }
                    crate::service::StartError::Failure(failure) => Self::Failure(failure),
                }
            }
        }
    };
}

pub mod account;
pub mod admin;
mod codes;
mod devices;
mod events;
pub mod oauth;
mod retention;
mod revocations;
mod session_issuer;
pub mod sessions;
pub mod sign_in;
mod throttle;

use std::sync::Arc;

pub use account::{AccountError, AccountExport, AccountPorts, AccountService, Proof};
pub use admin::{AdminError, AdminPorts, AdminService, Administrator};
pub use codes::{CheckError, IssueError, OneTimeCodes};
pub use devices::{CodeCheck, NewDevice, RememberedDevices, client_fingerprint};
pub use events::Events;
pub use oauth::{OAuthPorts, OAuthProviders, OAuthSignIn, OAuthSignInError, OAuthStart};
pub use retention::{Purged, RecordRetention};
pub use revocations::Revocations;
pub use session_issuer::{OnDevice, PreparedSession, SessionIssuer, SignedIn, StartError};
pub use sessions::{
    Introspection, Principal, ServiceCaller, SessionError, SessionPorts, SessionService, TokenCache,
};
pub use sign_in::{LoginOutcome, RegistrationToken, SignInError, SignInPorts, SignInService};
pub use throttle::{Action, Throttle, ThrottleError, client_network};

use crate::crypto::{AccessTokens, KeyedHasher, Keyring, PasswordHasher, ServiceCredentials};
use crate::policy::{AuthPolicy, PolicyError};
use crate::ports::{
    AuditLog, Clock, CodeStore, DeviceRepository, EventPublisher, IdentityRepository, Mailer,
    OAuthStateStore, RateLimiter, RevocationChannel, SessionRepository, UserRepository,
};

/// `password` back if `strength` finds it strong enough for the account of `email`,
/// else why not. The estimate (a few milliseconds for the longest password) runs off
/// the async workers.
async fn strong_enough(
    strength: crate::domain::PasswordStrength,
    password: crate::domain::Password,
    email: &crate::domain::EmailAddress,
) -> Result<Result<crate::domain::Password, crate::domain::WeakPassword>, crate::error::Failure> {
    let email = email.clone();
    tokio::task::spawn_blocking(move || strength.check(&password, &email).map(|()| password))
        .await
        .map_err(crate::error::Failure::internal)
}

/// Every store the services run on; [`Services::new`] gives each service the ones it
/// uses.
#[derive(Debug, Clone)]
pub struct Stores {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sessions and refresh-token hashes.
    pub sessions: Arc<dyn SessionRepository>,
    /// Remembered devices and their token hashes.
    pub devices: Arc<dyn DeviceRepository>,
    /// Provider identities linked to accounts.
    pub identities: Arc<dyn IdentityRepository>,
    /// Provider sign-ins started and not yet completed.
    pub oauth_states: Arc<dyn OAuthStateStore>,
    /// One-time codes.
    pub codes: Arc<dyn CodeStore>,
    /// Rate limits.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// What administrators did.
    pub audit_log: Arc<dyn AuditLog>,
    /// Ended sessions and changed accounts, pushed to every instance.
    pub revocations: Arc<dyn RevocationChannel>,
}

/// The secrets the services sign and hash with.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// The server secret, for keyed hashes of codes, refresh tokens and addresses.
    pub keyed_hasher: KeyedHasher,
    /// Argon2id, bounded.
    pub password_hasher: PasswordHasher,
    /// Access-token signing and verification keys.
    pub keyring: Keyring,
    /// The credentials back-end services present to introspect tokens (none: the
    /// endpoint refuses every caller).
    pub service_credentials: ServiceCredentials,
}

impl Secrets {
    /// The access tokens `policy` describes, signed with this keyring.
    pub fn access_tokens(&self, policy: &AuthPolicy) -> AccessTokens {
        AccessTokens::new(
            self.keyring.clone(),
            policy.token_issuer.clone(),
            policy.token_audience.clone(),
            policy.access_token_ttl,
        )
    }
}

/// The capability services on one set of stores.
#[derive(Debug, Clone)]
pub struct Services {
    /// Sign-in by code and by password.
    pub sign_in: Arc<SignInService>,
    /// Token checks, refresh, logout, the caller's sessions.
    pub sessions: Arc<SessionService>,
    /// Sign-in with OAuth providers.
    pub oauth: Arc<OAuthSignIn>,
    /// Account administration and the audit log.
    pub admin: Arc<AdminService>,
    /// Revocations and this process's token cache: run [`Revocations::follow`] once
    /// beside the services so revocations from other instances reach the cache.
    pub revocations: Revocations,
    /// The owner's changes to their own account.
    pub account: Arc<AccountService>,
}

impl Services {
    /// Builds every service on `stores`, sending mail through `mailer`, publishing auth
    /// events to `events`, under `policy`, signing in with `providers`.
    ///
    /// # Errors
    /// [`PolicyError`] when the policy is out of range.
    pub fn new(
        stores: Stores,
        mailer: Arc<dyn Mailer>,
        events: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        secrets: &Secrets,
        policy: &AuthPolicy,
        providers: OAuthProviders,
    ) -> Result<Self, PolicyError> {
        let cache = Arc::new(TokenCache::new(policy.token_cache));
        let revocations = Revocations::new(stores.revocations, cache);
        let account = AccountService::new(
            AccountPorts {
                users: stores.users.clone(),
                sessions: stores.sessions.clone(),
                devices: stores.devices.clone(),
                identities: stores.identities.clone(),
                codes: stores.codes.clone(),
                rate_limiter: stores.rate_limiter.clone(),
                audit_log: stores.audit_log.clone(),
                mailer: mailer.clone(),
                clock: clock.clone(),
                revocations: revocations.clone(),
                events: events.clone(),
            },
            secrets,
            policy,
        )?;
        let sign_in = SignInService::new(
            SignInPorts {
                users: stores.users.clone(),
                sessions: stores.sessions.clone(),
                devices: stores.devices.clone(),
                codes: stores.codes,
                rate_limiter: stores.rate_limiter.clone(),
                mailer: mailer.clone(),
                clock: clock.clone(),
                revocations: revocations.clone(),
                events: events.clone(),
            },
            secrets,
            policy,
        )?;
        let sessions = SessionService::new(
            SessionPorts {
                sessions: stores.sessions.clone(),
                users: stores.users.clone(),
                devices: stores.devices.clone(),
                rate_limiter: stores.rate_limiter.clone(),
                clock: clock.clone(),
                revocations: revocations.clone(),
                events: events.clone(),
            },
            secrets,
            policy,
        )?;
        let oauth = OAuthSignIn::new(
            OAuthPorts {
                states: stores.oauth_states,
                identities: stores.identities,
                users: stores.users.clone(),
                sessions: stores.sessions.clone(),
                devices: stores.devices,
                rate_limiter: stores.rate_limiter,
                mailer: mailer.clone(),
                clock: clock.clone(),
                revocations: revocations.clone(),
                events: events.clone(),
            },
            providers,
            secrets,
            policy,
        )?;
        let admin = AdminService::new(
            AdminPorts {
                users: stores.users,
                sessions: stores.sessions,
                audit_log: stores.audit_log,
                clock,
                revocations: revocations.clone(),
                events,
            },
            policy.admin_email.clone(),
        );
        Ok(Self {
            sign_in: Arc::new(sign_in),
            sessions: Arc::new(sessions),
            oauth: Arc::new(oauth),
            admin: Arc::new(admin),
            revocations,
            account: Arc::new(account),
        })
    }
}
