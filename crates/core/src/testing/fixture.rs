//! What a contract suite runs on.

use std::sync::Arc;

use super::{instant, unique_email};
use crate::UserId;
use crate::domain::User;
use crate::ports::{DeviceRepository, SessionRepository, UserRepository};

/// What a contract macro's factory yields: the subject the suite's functions take, alone
/// or paired with something that must live until the test ends (a database or key
/// prefix of the test's own, dropped after the suite has run):
///
/// ```rust,ignore
/// otp_core::user_repository_contract!(async {
///     let database = TestDatabase::migrated().await;
///     let users = PgUserRepository::new(database.pool().await);
///     (Arc::new(users) as Arc<dyn UserRepository>, database)
/// });
/// ```
pub trait Fixture {
    /// What the suite's functions take.
    type Subject;

    /// The subject, leaving whatever `self` keeps alive in place.
    fn subject(&self) -> Self::Subject;
}

impl<P: ?Sized> Fixture for Arc<P> {
    type Subject = Self;

    fn subject(&self) -> Self {
        Arc::clone(self)
    }
}

impl Fixture for AccountStorage {
    type Subject = Self;

    fn subject(&self) -> Self {
        self.clone()
    }
}

impl<P: ?Sized> Fixture for WithOwners<P> {
    type Subject = Self;

    fn subject(&self) -> Self {
        self.clone()
    }
}

/// The subject of `F`, with `G` kept until the test ends.
impl<F: Fixture, G> Fixture for (F, G) {
    type Subject = F::Subject;

    fn subject(&self) -> F::Subject {
        self.0.subject()
    }
}

/// A store whose rows belong to accounts (sessions, linked identities), with the
/// account store of the same storage.
///
/// The suite creates, through `accounts`, the owner of every row it stores, so the
/// suite runs unchanged on storage that refuses rows of unknown accounts (a foreign key)
/// and on storage that does not check.
#[derive(Debug)]
pub struct WithOwners<S: ?Sized> {
    /// The adapter under test.
    pub store: Arc<S>,
    /// Where the owners of the store's rows are created.
    pub accounts: Arc<dyn UserRepository>,
}

impl<S: ?Sized> WithOwners<S> {
    /// `store`, whose rows' owners are created in `accounts`.
    pub fn new(store: Arc<S>, accounts: Arc<dyn UserRepository>) -> Self {
        Self { store, accounts }
    }

    /// Creates a new verified account and returns its id.
    pub async fn new_owner(&self) -> UserId {
        let owner = User::new_verified(unique_email(), instant());
        self.accounts.create(&owner).await.unwrap();
        owner.id
    }

    /// Creates `count` new accounts and returns their ids.
    pub async fn new_owners(&self, count: usize) -> Vec<UserId> {
        let mut owners = Vec::with_capacity(count);
        for _ in 0..count {
            owners.push(self.new_owner().await);
        }
        owners
    }
}

impl<S: ?Sized> Clone for WithOwners<S> {
    fn clone(&self) -> Self {
        Self { store: Arc::clone(&self.store), accounts: Arc::clone(&self.accounts) }
    }
}

/// An account store with the session and device stores of the same storage: what the
/// first sign-in contract of [`UserRepository`] reads its results back through.
#[derive(Debug, Clone)]
pub struct AccountStorage {
    /// The adapter under test.
    pub users: Arc<dyn UserRepository>,
    /// Where the adapter stores the sessions of first sign-ins.
    pub sessions: Arc<dyn SessionRepository>,
    /// Where the adapter stores the devices of first sign-ins.
    pub devices: Arc<dyn DeviceRepository>,
}
