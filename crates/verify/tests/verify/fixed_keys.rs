//! Tokens minted by otp-core, checked with keys given as PASERKs.

use otp_verify::{KeySet, PublicKey, Verifier, VerifyError};
use time::OffsetDateTime;

use crate::support::{AUDIENCE, ISSUER, Issuer, LIFETIME, tampered};

#[tokio::test]
async fn a_valid_token_is_accepted_with_the_claims_otp_core_signed() {
    let issuer = Issuer::new();
    let token = issuer.token();
    let claims = issuer.fixed_verifier().verify(&token).await.unwrap();
    let signed = issuer.claims_of(&token);
    assert_eq!(claims.subject, signed.user_id.as_uuid());
    assert_eq!(claims.session_id, signed.session_id.as_uuid());
    assert_eq!(claims.token_id, signed.token_id);
    assert_eq!((claims.issued_at, claims.expires_at), (signed.issued_at, signed.expires_at));
    assert_eq!((claims.issuer.as_str(), claims.audience.as_str()), (ISSUER, AUDIENCE));
    assert_eq!((claims.email.as_deref(), claims.email_verified), (signed.email.as_deref(), Some(true)));
    assert_eq!(claims.amr, signed.amr);
    assert!(claims.signed_in_with("otp") && !claims.is_admin());
}

#[tokio::test]
async fn key_ids_are_the_ones_otp_core_puts_in_footers() {
    let issuer = Issuer::new();
    let document = issuer.keys_document();
    let key = PublicKey::from_paserk(document["keys"][0]["paserk"].as_str().unwrap()).unwrap();
    assert_eq!(key.kid(), document["keys"][0]["kid"]);
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let issuer = Issuer::new();
    let error = issuer.fixed_verifier().verify(&tampered(&issuer.token())).await.unwrap_err();
    assert!(matches!(error, VerifyError::BadSignature | VerifyError::Malformed), "{error:?}");
    assert!(!error.is_unavailable());
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let issuer = Issuer::new();
    let long_ago = OffsetDateTime::now_utc() - LIFETIME - time::Duration::minutes(5);
    let error = issuer.fixed_verifier().verify(&issuer.token_at(long_ago)).await.unwrap_err();
    assert!(matches!(error, VerifyError::Expired), "{error:?}");
    let at_expiry = OffsetDateTime::now_utc() + LIFETIME + time::Duration::minutes(1);
    let error = issuer.fixed_verifier().verify_at(&issuer.token(), at_expiry).await.unwrap_err();
    assert!(matches!(error, VerifyError::Expired), "{error:?}");
}

#[tokio::test]
async fn a_token_for_another_issuer_or_audience_is_refused() {
    let issuer = Issuer::new();
    let verifier = issuer.fixed_verifier();
    let other_issuer = issuer.claiming("someone-else", AUDIENCE).token();
    assert!(matches!(verifier.verify(&other_issuer).await, Err(VerifyError::WrongIssuer)));
    let other_audience = issuer.claiming(ISSUER, "billing").token();
    assert!(matches!(verifier.verify(&other_audience).await, Err(VerifyError::WrongAudience)));
}

#[tokio::test]
async fn a_token_of_another_server_is_refused() {
    let ours = Issuer::new();
    let error = ours.fixed_verifier().verify(&Issuer::new().token()).await.unwrap_err();
    assert!(matches!(error, VerifyError::UnknownKey), "{error:?}");
}

#[tokio::test]
async fn after_a_rotation_both_listed_keys_verify() {
    let before = Issuer::new();
    let after = before.rotated();
    let verifier = Verifier::builder()
        .public_keys(KeySet::parse(&after.paserks()).unwrap())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    assert!(verifier.verify(&before.token()).await.is_ok());
    assert!(verifier.verify(&after.token()).await.is_ok());
}
