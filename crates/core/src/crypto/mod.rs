//! Pure cryptography: password hashing, keyed hashes, access and refresh tokens.

mod access_token;
mod keyed_hash;
mod keys;
mod mail_sealer;
mod password_hasher;
mod refresh_token;
mod service_credentials;

pub use access_token::{
    AccessClaims, AccessTokens, MAX_TOKEN_BYTES, SigningError, TokenError, TokenSubject, rfc3339,
};
pub use keyed_hash::{CodeHash, KeyedHasher, MIN_SECRET_BYTES, StateHash, TokenHash};
pub use keys::{KeyError, Keyring, SigningKey, VerifyingKey};
pub use mail_sealer::{MailSealer, SealError};
pub use password_hasher::{Argon2Settings, HashingError, PasswordHasher};
pub use refresh_token::RefreshToken;
pub use service_credentials::{
    CredentialError, CredentialId, MAX_CREDENTIAL_CHARS, MIN_CREDENTIAL_CHARS, ServiceCredentials,
};
