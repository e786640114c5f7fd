//! An index of the ids each account owns, so that an account's rows are found
//! without a scan of everyone's.

use std::collections::HashMap;
use std::hash::Hash;

use otp_core::UserId;

/// Each account's ids, possibly with some the owner no longer holds (ended or
/// dropped): each look at an account's ids drops those that fail its test.
#[derive(Debug)]
pub(crate) struct ByAccount<Id> {
    ids: HashMap<UserId, Vec<Id>>,
}

impl<Id> Default for ByAccount<Id> {
    fn default() -> Self {
        Self { ids: HashMap::new() }
    }
}

impl<Id: Copy + Eq + Hash> ByAccount<Id> {
    /// Adds `id` to `user_id`'s ids.
    pub(crate) fn add(&mut self, user_id: UserId, id: Id) {
        self.ids.entry(user_id).or_default().push(id);
    }

    /// Takes `id` out of `user_id`'s ids.
    pub(crate) fn remove(&mut self, user_id: UserId, id: Id) {
        if let Some(ids) = self.ids.get_mut(&user_id) {
            ids.retain(|kept| *kept != id);
            if ids.is_empty() {
                self.ids.remove(&user_id);
            }
        }
    }

    /// `user_id`'s ids that pass `keep`, after dropping the others from its list.
    pub(crate) fn of(&mut self, user_id: UserId, keep: impl Fn(&Id) -> bool) -> Vec<Id> {
        let Some(ids) = self.ids.get_mut(&user_id) else { return Vec::new() };
        ids.retain(|id| keep(id));
        ids.clone()
    }

    /// Drops every id that fails `keep`, and the accounts left with none.
    pub(crate) fn retain(&mut self, keep: impl Fn(&Id) -> bool) {
        self.ids.retain(|_, ids| {
            ids.retain(|id| keep(id));
            !ids.is_empty()
        });
    }

    /// How many ids `user_id`'s list holds now (tests).
    #[cfg(test)]
    pub(crate) fn len_of(&self, user_id: UserId) -> usize {
        self.ids.get(&user_id).map_or(0, Vec::len)
    }
}
