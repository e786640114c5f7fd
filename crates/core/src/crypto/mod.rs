//! Pure cryptography: password hashing, keyed hashes, access and refresh tokens.

mod access_token;
mod device_token;
mod keyed_hash;
mod keys;
mod mail_sealer;
mod password_hasher;
mod random_secret;
mod refresh_token;
mod service_credentials;
mod undo_token;
mod webhook_signature;

pub use access_token::{
    AccessClaims, AccessTokens, MAX_TOKEN_BYTES, SigningError, TokenError, TokenSubject, rfc3339,
};
pub use device_token::DeviceToken;
pub use keyed_hash::{CodeHash, KeyedHasher, MIN_SECRET_BYTES, StateHash, TokenHash};
pub use keys::{KeyError, Keyring, SigningKey, VerifyingKey};
pub use mail_sealer::{MailSealer, SealError};
pub use password_hasher::{
    Argon2Settings, BUSY_RETRY_AFTER, DUMMY_BCRYPT_COST, HashRoom, HashingError, PasswordHasher,
    default_queue,
};
pub use random_secret::{is_random_secret, random_secret};
pub use refresh_token::RefreshToken;
pub use service_credentials::{
    CredentialError, CredentialId, MAX_CREDENTIAL_CHARS, MIN_CREDENTIAL_CHARS, ServiceCredentials,
};
pub use undo_token::UndoToken;
pub use webhook_signature::{
    MAX_WEBHOOK_KEY_BYTES, MIN_WEBHOOK_KEY_BYTES, WebhookSecretError, WebhookSigner,
};
