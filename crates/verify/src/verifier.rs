//! The verifier: keys, what tokens must say, and the optional liveness check.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::claims::Claims;
use crate::error::{ConfigError, VerifyError};
#[cfg(feature = "fetch")]
use crate::introspection::{Introspection, LivenessCheck};
use crate::keys::KeySet;
#[cfg(feature = "fetch")]
use crate::remote_keys::{RefreshPolicy, RemoteKeys};
use crate::token::{Expectations, UnverifiedToken, check_claims};

/// The leeway for clock skew when none is set.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The largest leeway accepted: more would keep expired tokens alive.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// Checks otp-auth access tokens. Cheap to clone; clones share the key cache and the
/// liveness answers.
///
/// A token is accepted when it is a `v4.public.` PASETO whose footer names a known key
/// (`{"kid": "k4.pid.…"}`), whose signature verifies with that key, whose `iss` and
/// `aud` are the expected ones, that has not expired and was not issued in the future
/// (both with the leeway), and, with the liveness check on, whose session is still live.
#[derive(Debug, Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    keys: Keys,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: Duration,
    #[cfg(feature = "fetch")]
    liveness: Option<LivenessCheck>,
}

#[derive(Debug)]
enum Keys {
    Fixed {
        keys: KeySet,
        expected: Expectations,
    },
    #[cfg(feature = "fetch")]
    Remote(RemoteKeys),
}

impl Verifier {
    /// Starts a configuration.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// Verifies `token` (the text after `Bearer `) now.
    ///
    /// # Errors
    /// The [`VerifyError`] saying why the token is refused, or that it could not be
    /// checked ([`VerifyError::is_unavailable`]).
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        self.verify_at(token, OffsetDateTime::now_utc()).await
    }

    /// Verifies `token` as at `now` (for the expiry and issue-time checks).
    ///
    /// # Errors
    /// As [`Verifier::verify`].
    pub async fn verify_at(&self, token: &str, now: OffsetDateTime) -> Result<Claims, VerifyError> {
        let unverified = UnverifiedToken::parse(token)?;
        let claims = match &self.inner.keys {
            Keys::Fixed { keys, expected } => {
                let key = keys.find(unverified.kid()).ok_or(VerifyError::UnknownKey)?;
                let claims = unverified.verify(key)?;
                self.check(&claims, expected, now)?;
                claims
            }
            #[cfg(feature = "fetch")]
            Keys::Remote(remote) => {
                let found = remote.find(unverified.kid()).await?;
                let claims = unverified.verify(&found.key)?;
                self.check(&claims, &found.published, now)?;
                claims
            }
        };
        #[cfg(feature = "fetch")]
        if let Some(liveness) = &self.inner.liveness {
            liveness.check(token, &claims).await?;
        }
        Ok(claims)
    }

    /// Verifies the token of an `Authorization` header value (`Bearer …`).
    ///
    /// # Errors
    /// [`VerifyError::Missing`] without a Bearer token; otherwise as
    /// [`Verifier::verify`].
    pub async fn verify_authorization(&self, authorization: Option<&[u8]>) -> Result<Claims, VerifyError> {
        self.verify(crate::bearer::bearer_token(authorization)?).await
    }

    fn check(
        &self,
        claims: &Claims,
        published: &Expectations,
        now: OffsetDateTime,
    ) -> Result<(), VerifyError> {
        let expected = Expectations {
            issuer: self.inner.issuer.clone().unwrap_or_else(|| published.issuer.clone()),
            audience: self.inner.audience.clone().unwrap_or_else(|| published.audience.clone()),
        };
        check_claims(claims, &expected, self.inner.leeway, now)
    }
}

/// How a [`Verifier`] is configured.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use otp_verify::{Introspection, Verifier};
///
/// // Keys (and the issuer and audience) published by the auth server:
/// let verifier = Verifier::builder()
///     .keys_url("https://auth.example.com/auth/keys")
///     .audience("otp-auth")
///     .liveness(Introspection::new("https://auth.example.com", "service-credential"))
///     .build()?;
///
/// // Or fixed keys, with no network at all:
/// let offline = Verifier::builder()
///     .public_keys(otp_verify::KeySet::parse("k4.public.tw5OhDOLnhrLV01bHJGTt3fy1ZypJeFddwXp2iEjc8Q")?)
///     .issuer("otp-auth")
///     .audience("otp-auth")
///     .build()?;
/// let claims = offline.verify("v4.public.…").await?;
/// println!("user {} in session {}", claims.subject, claims.session_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct VerifierBuilder {
    fixed_keys: Option<KeySet>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: Option<Duration>,
    #[cfg(feature = "fetch")]
    keys_url: Option<String>,
    #[cfg(feature = "fetch")]
    refresh: RefreshPolicy,
    #[cfg(feature = "fetch")]
    allow_plain_http: bool,
    #[cfg(feature = "fetch")]
    liveness: Option<Introspection>,
}

impl VerifierBuilder {
    /// Verifies with these keys only (for example `KeySet::parse` of an environment
    /// variable). The issuer and audience must then be set too.
    #[must_use]
    pub fn public_keys(mut self, keys: KeySet) -> Self {
        self.fixed_keys = Some(keys);
        self
    }

    /// The `iss` tokens must carry. Default with [`keys_url`](Self::keys_url): the
    /// `issuer` the keys answer publishes.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The `aud` tokens must carry. Default with [`keys_url`](Self::keys_url): the
    /// `audience` the keys answer publishes.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Clock skew allowed on `exp` and `iat` (default [`DEFAULT_LEEWAY`], at most
    /// [`MAX_LEEWAY`]).
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Fetches the keys from an otp-server's `GET /auth/keys`
    /// (`https://auth.example.com/auth/keys`) and keeps them as [`RefreshPolicy`] says.
    #[cfg(feature = "fetch")]
    #[must_use]
    pub fn keys_url(mut self, url: impl Into<String>) -> Self {
        self.keys_url = Some(url.into());
        self
    }

    /// When fetched keys are fetched again (default: [`RefreshPolicy::default`]).
    #[cfg(feature = "fetch")]
    #[must_use]
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.refresh = policy;
        self
    }

    /// Allows a plain `http` keys URL on another host than this machine. Anyone on the
    /// path could then substitute keys and forge tokens: only on a private network.
    #[cfg(feature = "fetch")]
    #[must_use]
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_plain_http = allow;
        self
    }

    /// Also asks the auth server whether each token's session is still live (cached
    /// per token for a few seconds).
    #[cfg(feature = "fetch")]
    #[must_use]
    pub fn liveness(mut self, introspection: Introspection) -> Self {
        self.liveness = Some(introspection);
        self
    }

    /// The verifier.
    ///
    /// # Errors
    /// [`ConfigError`] for a missing or doubled key source, a missing issuer or
    /// audience with fixed keys, a leeway over [`MAX_LEEWAY`], or a URL that is not
    /// HTTPS (plain HTTP is allowed to loopback addresses).
    pub fn build(self) -> Result<Verifier, ConfigError> {
        let leeway = self.leeway.unwrap_or(DEFAULT_LEEWAY);
        if leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge { max: MAX_LEEWAY });
        }
        let keys = self.keys()?;
        Ok(Verifier {
            inner: Arc::new(Inner {
                keys,
                issuer: self.issuer,
                audience: self.audience,
                leeway,
                #[cfg(feature = "fetch")]
                liveness: self.liveness.map(Introspection::build).transpose()?,
            }),
        })
    }

    fn keys(&self) -> Result<Keys, ConfigError> {
        #[cfg(feature = "fetch")]
        if let Some(url) = &self.keys_url {
            if self.fixed_keys.is_some() {
                return Err(ConfigError::BothKeySources);
            }
            let url = crate::http::parse_url("keys URL", url, self.allow_plain_http)?;
            return Ok(Keys::Remote(RemoteKeys::new(url, self.refresh.clone())?));
        }
        let keys = self.fixed_keys.clone().filter(|keys| !keys.is_empty()).ok_or(ConfigError::NoKeys)?;
        let issuer = self.issuer.clone().ok_or(ConfigError::MissingExpectation("issuer"))?;
        let audience = self.audience.clone().ok_or(ConfigError::MissingExpectation("audience"))?;
        Ok(Keys::Fixed { keys, expected: Expectations { issuer, audience } })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::PublicKey;
    use crate::keys::tests::generated;
    use crate::token::tests::{claims_at, sign};

    fn fixed() -> (pasetors::keys::AsymmetricKeyPair<pasetors::version4::V4>, String, Verifier) {
        let (pair, paserk) = generated();
        let kid = PublicKey::from_paserk(&paserk).unwrap().kid().to_owned();
        let verifier = Verifier::builder()
            .public_keys(KeySet::parse(&paserk).unwrap())
            .issuer("otp-auth")
            .audience("otp-auth")
            .build()
            .unwrap();
        (pair, kid, verifier)
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn fixed_keys_verify_without_any_network() {
        let (pair, kid, verifier) = fixed();
        let now = OffsetDateTime::now_utc();
        let claims = claims_at(now, time::Duration::minutes(30));
        let verified = block_on(verifier.verify(&sign(&pair, &kid, &claims))).unwrap();
        assert_eq!(verified.subject.to_string(), claims["sub"]);
        let header = format!("Bearer {}", sign(&pair, &kid, &claims));
        assert!(block_on(verifier.verify_authorization(Some(header.as_bytes()))).is_ok());
        assert!(matches!(block_on(verifier.verify_authorization(None)), Err(VerifyError::Missing)));
    }

    #[test]
    fn fixed_keys_refuse_unknown_keys_and_wrong_claims() {
        let (pair, kid, verifier) = fixed();
        let now = OffsetDateTime::now_utc();
        let (stranger, stranger_paserk) = generated();
        let stranger_kid = PublicKey::from_paserk(&stranger_paserk).unwrap().kid().to_owned();
        let foreign = sign(&stranger, &stranger_kid, &claims_at(now, time::Duration::minutes(30)));
        assert!(matches!(block_on(verifier.verify(&foreign)), Err(VerifyError::UnknownKey)));
        let mut other_audience = claims_at(now, time::Duration::minutes(30));
        other_audience["aud"] = json!("billing");
        let error = block_on(verifier.verify(&sign(&pair, &kid, &other_audience))).unwrap_err();
        assert!(matches!(error, VerifyError::WrongAudience));
        let expired =
            sign(&pair, &kid, &claims_at(now - time::Duration::hours(1), time::Duration::minutes(30)));
        assert!(matches!(block_on(verifier.verify(&expired)), Err(VerifyError::Expired)));
    }

    #[test]
    fn the_configuration_must_be_complete_and_sane() {
        let (_, paserk) = generated();
        let keys = || KeySet::parse(&paserk).unwrap();
        assert!(matches!(Verifier::builder().build(), Err(ConfigError::NoKeys)));
        let no_issuer = Verifier::builder().public_keys(keys()).audience("a").build();
        assert!(matches!(no_issuer, Err(ConfigError::MissingExpectation("issuer"))));
        let no_audience = Verifier::builder().public_keys(keys()).issuer("i").build();
        assert!(matches!(no_audience, Err(ConfigError::MissingExpectation("audience"))));
        let lax = Verifier::builder()
            .public_keys(keys())
            .issuer("i")
            .audience("a")
            .leeway(Duration::from_secs(301));
        assert!(matches!(lax.build(), Err(ConfigError::LeewayTooLarge { .. })));
    }

    #[cfg(feature = "fetch")]
    #[test]
    fn a_keys_url_is_exclusive_and_must_be_safe() {
        let (_, paserk) = generated();
        let both =
            Verifier::builder().public_keys(KeySet::parse(&paserk).unwrap()).keys_url("https://a.example/k");
        assert!(matches!(both.build(), Err(ConfigError::BothKeySources)));
        let plain = Verifier::builder().keys_url("http://auth.example.com/auth/keys").build();
        assert!(matches!(plain, Err(ConfigError::PlainHttp { .. })));
        assert!(Verifier::builder().keys_url("https://auth.example.com/auth/keys").build().is_ok());
    }
}
