//! Contract of [`IdentityRepository`].
//!
//! Every identity is linked to an account the suite creates first (see [`WithOwners`]).

use std::sync::Arc;

use time::Duration;

use super::{WithOwners, instant, unique_email};
use crate::ports::{IdentityRepository, LinkedIdentity};
use crate::{PortError, UserId};

type Identities = WithOwners<dyn IdentityRepository>;

/// A subject no other test uses, so suites can share one store.
fn unique_subject() -> String {
    format!("subject-{}", uuid::Uuid::new_v4().simple())
}

fn identity(
    provider: &str,
    subject: &str,
    user_id: UserId,
    linked_at: time::OffsetDateTime,
) -> LinkedIdentity {
    LinkedIdentity {
        provider: provider.to_owned(),
        subject: subject.to_owned(),
        user_id,
        email: unique_email(),
        linked_at,
    }
}

pub async fn linked_identities_are_found(identities: Identities) {
    let repo = &identities.store;
    let linked = identity("google", &unique_subject(), identities.new_owner().await, instant());
    repo.link(&linked).await.unwrap();
    assert_eq!(repo.find(&linked.provider, &linked.subject).await.unwrap(), Some(linked.clone()));
    assert_eq!(repo.find("github", &linked.subject).await.unwrap(), None, "another provider");
    assert_eq!(repo.find("google", &unique_subject()).await.unwrap(), None, "another subject");
}

pub async fn a_second_link_of_one_identity_is_refused(identities: Identities) {
    let repo = &identities.store;
    let subject = unique_subject();
    let first = identity("google", &subject, identities.new_owner().await, instant());
    repo.link(&first).await.unwrap();
    let other_account =
        identity("google", &subject, identities.new_owner().await, instant() + Duration::seconds(1));
    let error = repo.link(&other_account).await.unwrap_err();
    assert!(matches!(error, PortError::IdentityTaken), "{error:?}");
    let same_account = LinkedIdentity { linked_at: first.linked_at + Duration::seconds(2), ..first.clone() };
    let error = repo.link(&same_account).await.unwrap_err();
    assert!(matches!(error, PortError::IdentityTaken), "{error:?}");
    assert_eq!(repo.find("google", &subject).await.unwrap(), Some(first.clone()), "the first link is kept");
    assert!(repo.list_for_user(other_account.user_id).await.unwrap().is_empty());
}

pub async fn one_subject_at_two_providers_is_two_identities(identities: Identities) {
    let repo = &identities.store;
    let (subject, now) = (unique_subject(), instant());
    let at_google = identity("google", &subject, identities.new_owner().await, now);
    let at_github = identity("github", &subject, identities.new_owner().await, now);
    repo.link(&at_google).await.unwrap();
    repo.link(&at_github).await.unwrap();
    assert_eq!(repo.find("google", &subject).await.unwrap(), Some(at_google));
    assert_eq!(repo.find("github", &subject).await.unwrap(), Some(at_github));
}

pub async fn subjects_and_providers_are_compared_exactly(identities: Identities) {
    let repo = &identities.store;
    let subject = format!("Mixed-{}", uuid::Uuid::new_v4().simple());
    let linked = identity("google", &subject, identities.new_owner().await, instant());
    repo.link(&linked).await.unwrap();
    assert_eq!(repo.find("google", &subject.to_lowercase()).await.unwrap(), None);
    assert_eq!(repo.find("Google", &subject).await.unwrap(), None);
    let other_case = identity("google", &subject.to_uppercase(), identities.new_owner().await, instant());
    repo.link(&other_case).await.unwrap();
    assert_eq!(repo.find("google", &subject).await.unwrap(), Some(linked));
}

pub async fn concurrent_links_of_one_identity_make_exactly_one(identities: Identities) {
    let repo = &identities.store;
    let (subject, now) = (unique_subject(), instant());
    let attempts: Vec<_> = identities
        .new_owners(50)
        .await
        .into_iter()
        .map(|owner| {
            let repo = Arc::clone(repo);
            let candidate = identity("google", &subject, owner, now);
            tokio::spawn(async move { (repo.link(&candidate).await, candidate) })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            (Ok(()), candidate) => winners.push(candidate),
            (Err(PortError::IdentityTaken), _) => {}
            (Err(other), _) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one link succeeds");
    assert_eq!(repo.find("google", &subject).await.unwrap().as_ref(), winners.first());
}

pub async fn a_user_may_have_several_identities_listed_oldest_first(identities: Identities) {
    let repo = &identities.store;
    let (user, start) = (identities.new_owner().await, instant());
    let newest = identity("google", &unique_subject(), user, start + Duration::minutes(2));
    let oldest = identity("github", &unique_subject(), user, start);
    let middle = identity("google", &unique_subject(), user, start + Duration::minutes(1));
    let someone_else = identity("github", &unique_subject(), identities.new_owner().await, start);
    for linked in [&newest, &oldest, &someone_else, &middle] {
        repo.link(linked).await.unwrap();
    }
    assert_eq!(repo.list_for_user(user).await.unwrap(), [oldest, middle, newest]);
    assert_eq!(repo.list_for_user(someone_else.user_id).await.unwrap(), [someone_else]);
    assert!(repo.list_for_user(UserId::generate()).await.unwrap().is_empty());
}

pub async fn identities_linked_at_one_instant_are_listed_by_provider_then_subject(identities: Identities) {
    let repo = &identities.store;
    let (user, now) = (identities.new_owner().await, instant());
    let tag = uuid::Uuid::new_v4().simple();
    let b_google = identity("google", &format!("b-{tag}"), user, now);
    let z_github = identity("github", &format!("z-{tag}"), user, now);
    let a_google = identity("google", &format!("a-{tag}"), user, now);
    let upper_google = identity("google", &format!("B-{tag}"), user, now);
    for linked in [&b_google, &z_github, &a_google, &upper_google] {
        repo.link(linked).await.unwrap();
    }
    let listed: Vec<_> = repo.list_for_user(user).await.unwrap();
    assert_eq!(listed, [z_github, upper_google, a_google, b_google], "byte order: upper case first");
}

pub async fn unlinking_removes_only_that_accounts_identities_at_the_provider(identities: Identities) {
    let repo = &identities.store;
    let (owner, other) = (identities.new_owner().await, identities.new_owner().await);
    let google = identity("google", &unique_subject(), owner, instant());
    let github = identity("github", &unique_subject(), owner, instant());
    let others = identity("google", &unique_subject(), other, instant());
    for linked in [&google, &github, &others] {
        repo.link(linked).await.unwrap();
    }
    assert_eq!(repo.unlink(owner, "google").await.unwrap(), 1);
    assert_eq!(repo.list_for_user(owner).await.unwrap(), vec![github.clone()]);
    assert_eq!(repo.list_for_user(other).await.unwrap(), vec![others.clone()]);
    assert_eq!(repo.unlink(owner, "google").await.unwrap(), 0, "already gone");
    assert_eq!(repo.find("google", &google.subject).await.unwrap(), None, "the identity may link again");
}
