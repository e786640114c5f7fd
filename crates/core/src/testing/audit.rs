//! Contract of [`AuditLog`].
//!
//! Tests pick out their own entries by id, so they may share one log.

use std::sync::Arc;

use super::{instant, unique_email};
use crate::UserId;
use crate::domain::{AdminAction, AuditEntry, AuditEntryId};
use crate::error::PortError;
use crate::ports::AuditLog;

type Log = Arc<dyn AuditLog>;

fn entry(action: AdminAction, target: bool) -> AuditEntry {
    AuditEntry {
        id: AuditEntryId::generate(),
        at: instant(),
        actor_id: UserId::generate(),
        actor_email: unique_email(),
        action,
        target_id: target.then(UserId::generate),
        target_email: target.then(unique_email),
        ip: Some("203.0.113.9".parse().unwrap()),
    }
}

/// Every entry of the log, newest first, walked page by page.
async fn all_pages(log: &Log, page: usize) -> Vec<AuditEntry> {
    let mut all: Vec<AuditEntry> = Vec::new();
    loop {
        let next = log.list(all.last().map(|entry| entry.id), page).await.unwrap();
        assert!(next.len() <= page, "at most `limit` entries");
        if next.is_empty() {
            return all;
        }
        all.extend(next);
    }
}

pub async fn appended_entries_are_listed_as_written(log: Log) {
    let with_target = entry(AdminAction::DisableUser, true);
    let without =
        AuditEntry { ip: Some("2001:db8::1".parse().unwrap()), ..entry(AdminAction::ListUsers, false) };
    let no_address = AuditEntry { ip: None, ..entry(AdminAction::ViewAuditLog, false) };
    for written in [&with_target, &without, &no_address] {
        log.append(written).await.unwrap();
    }
    let listed = all_pages(&log, 100).await;
    for written in [&with_target, &without, &no_address] {
        assert_eq!(listed.iter().find(|entry| entry.id == written.id), Some(written));
    }
}

pub async fn the_listing_pages_newest_first(log: Log) {
    let written: Vec<AuditEntry> = AdminAction::ALL.iter().map(|action| entry(*action, true)).collect();
    for entry in &written {
        log.append(entry).await.unwrap();
    }
    let listed = all_pages(&log, 2).await;
    assert!(listed.windows(2).all(|pair| pair[0].id > pair[1].id), "descending ids");
    let ours: Vec<AuditEntry> =
        listed.into_iter().filter(|entry| written.iter().any(|mine| mine.id == entry.id)).collect();
    let newest_first: Vec<AuditEntry> = written.into_iter().rev().collect();
    assert_eq!(ours, newest_first);

    let newest = &newest_first[0];
    let below = log.list(Some(newest.id), 3).await.unwrap();
    assert!(below.iter().all(|entry| entry.id < newest.id), "strictly below the cursor");
    assert!(log.list(None, 0).await.unwrap().is_empty());
}

pub async fn an_entry_id_is_written_once(log: Log) {
    let first = entry(AdminAction::DeleteUser, true);
    log.append(&first).await.unwrap();
    let impostor = AuditEntry { action: AdminAction::EnableUser, ..first.clone() };
    let error = log.append(&impostor).await.unwrap_err();
    assert!(matches!(error, PortError::Failed(_)), "{error:?}");
    let listed = all_pages(&log, 100).await;
    assert_eq!(listed.iter().filter(|entry| entry.id == first.id).collect::<Vec<_>>(), [&first]);
}

/// Ids of accounts this log has never heard of (deleted ones, in practice) are kept.
pub async fn entries_may_name_accounts_that_no_longer_exist(log: Log) {
    let about_the_gone = entry(AdminAction::DeleteUser, true);
    log.append(&about_the_gone).await.unwrap();
    assert!(all_pages(&log, 100).await.contains(&about_the_gone));
}

pub async fn entries_naming_an_account_are_listed_and_pseudonymised(log: Log) {
    let acted = entry(AdminAction::ViewUser, true);
    let subject = acted.actor_id;
    let acted_on = AuditEntry { target_id: Some(subject), ..entry(AdminAction::DisableUser, true) };
    let unrelated = entry(AdminAction::EnableUser, true);
    for written in [&acted, &acted_on, &unrelated] {
        log.append(written).await.unwrap();
    }
    let listed = log.list_for_user(subject, 10).await.unwrap();
    assert_eq!(listed, vec![acted_on.clone(), acted.clone()], "newest first, only the account's");
    assert_eq!(log.list_for_user(subject, 1).await.unwrap().len(), 1);

    let pseudonym = crate::EmailAddress::parse("deleted-0123abcd@deleted.invalid").unwrap();
    assert_eq!(log.pseudonymise(subject, &pseudonym).await.unwrap(), 2);
    let listed = log.list_for_user(subject, 10).await.unwrap();
    assert_eq!(listed[0].target_email.as_ref(), Some(&pseudonym));
    assert_eq!(listed[0].actor_email, acted_on.actor_email, "the other account's address is kept");
    assert_eq!(listed[1].actor_email, pseudonym);
    assert_eq!(listed[1].target_email, acted.target_email);
    let others = all_pages(&log, 100).await;
    assert!(others.contains(&unrelated), "other entries are untouched");
}
