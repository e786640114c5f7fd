//! What an account may do beyond signing in.

use std::fmt;
use std::str::FromStr;

use crate::error::ValidationError;

/// The role stored with an account.
///
/// The role that counts is decided by the domain (see
/// [`crate::AdminService::effective_role`]): an account is an administrator only while
/// its address is verified, and the account whose verified address is `ADMIN_EMAIL` is
/// one whatever its stored role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Role {
    /// An ordinary account (the default).
    #[default]
    User,
    /// May use the admin API.
    Admin,
}

impl Role {
    /// The role's name as stored and shown: `user` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            _ => Err(ValidationError::new("role", "must be \"user\" or \"admin\"")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in [Role::User, Role::Admin] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert_eq!(Role::default(), Role::User);
    }

    #[test]
    fn unknown_and_differently_cased_names_are_refused() {
        for raw in ["Admin", "root", "", " user"] {
            assert_eq!(raw.parse::<Role>().unwrap_err().field, "role", "{raw:?}");
        }
    }
}
