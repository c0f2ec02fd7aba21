use super::*;
use crate::auth::base64url_decode;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

const PKCS1: &str = include_str!("../testdata/app-key-pkcs1.pem");
const PKCS8: &str = include_str!("../testdata/app-key-pkcs8.pem");
const PUBLIC: &str = include_str!("../testdata/app-key-public.pem");
const EC_PKCS8: &str = include_str!("../testdata/ec-key-pkcs8.pem");
/// `openssl dgst -sha256 -sign app-key-pkcs1.pem` of "project-sync signing test".
const OPENSSL_SIGNATURE: &str = include_str!("../testdata/app-key-signature.b64");

fn der_of(pem: &str) -> Vec<u8> {
    pem_rfc7468::decode_vec(pem.as_bytes()).unwrap().1
}

fn signer(key: &AppKey) -> SigningKey<Sha256> {
    SigningKey::<Sha256>::new(RsaPrivateKey::from_pkcs8_der(&key.pkcs8_der).unwrap())
}

#[test]
fn a_pkcs1_key_is_wrapped_into_the_pkcs8_openssl_makes() {
    let wrapped = AppKey::from_pem(PKCS1).unwrap();
    assert_eq!(wrapped.pkcs8_der, der_of(PKCS8), "byte for byte what `openssl pkcs8 -topk8` wrote");
    assert_eq!(AppKey::from_pem(PKCS8).unwrap(), wrapped, "PKCS#8 is taken as it is");
}

#[test]
fn keys_pasted_on_one_line_or_with_crlf_read_the_same() {
    let expected = AppKey::from_pem(PKCS1).unwrap();
    let one_line = PKCS1.trim().replace('\n', "\\n");
    assert_eq!(AppKey::from_pem(&one_line).unwrap(), expected);
    assert_eq!(AppKey::from_pem(&PKCS1.replace('\n', "\r\n")).unwrap(), expected);
    assert_eq!(AppKey::from_pem(&format!("\n  {PKCS1}  \n")).unwrap(), expected);
}

#[test]
fn anything_but_an_rsa_private_key_is_refused_saying_why() {
    let cases: [(&str, &str); 6] = [
        (EC_PKCS8, "not an RSA key"),
        (PUBLIC, "\"PUBLIC KEY\" is not a private key"),
        ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n", "encrypted"),
        ("ghp_not_a_key_at_all", "not a readable PEM"),
        ("", "not a readable PEM"),
        ("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "not a DER sequence"),
    ];
    for (pem, why) in cases {
        let err = AppKey::from_pem(pem).expect_err(why);
        assert!(err.contains(why), "{why:?} in {err:?}");
    }
    assert_eq!(format!("{:?}", AppKey::from_pem(PKCS1).unwrap()), "AppKey(..)", "a key never reaches a log");
}

#[test]
fn the_wrapped_key_signs_exactly_as_openssl_does() {
    // RSASSA-PKCS1-v1_5 is deterministic: the same key and message give the same bytes.
    let signature = signer(&AppKey::from_pem(PKCS1).unwrap()).sign(b"project-sync signing test");
    let expected = <base64ct::Base64 as base64ct::Encoding>::decode_vec(OPENSSL_SIGNATURE.trim()).unwrap();
    assert_eq!(signature.to_vec(), expected);
}

#[test]
fn the_jwt_carries_githubs_claims_and_verifies_with_the_public_key() {
    let now = 1_780_000_000;
    let input = jwt_signing_input(123_456, now);
    let signature = signer(&AppKey::from_pem(PKCS8).unwrap()).sign(input.as_bytes());
    let token = jwt(&input, &signature.to_vec());

    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let json = |part: &str| serde_json::from_slice::<serde_json::Value>(&base64url_decode(part).unwrap()).unwrap();
    assert_eq!(json(parts[0]), serde_json::json!({"alg": "RS256", "typ": "JWT"}));
    let claims = json(parts[1]);
    assert_eq!(claims["iss"], 123_456, "iss is the app id");
    assert_eq!(claims["iat"], now - 60, "iat 60 s in the past");
    let exp = claims["exp"].as_u64().unwrap();
    assert!(exp > now && exp <= now + 600, "exp at most 10 minutes ahead: {exp}");

    let public = VerifyingKey::<Sha256>::new(RsaPublicKey::from_public_key_pem(PUBLIC).unwrap());
    let sig = Signature::try_from(base64url_decode(parts[2]).unwrap().as_slice()).unwrap();
    public.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).expect("the signature verifies");
    let mut forged = format!("{}.{}", parts[0], parts[1]);
    forged.push(' ');
    assert!(public.verify(forged.as_bytes(), &sig).is_err(), "and only over those bytes");
}

#[test]
fn installation_ids_tokens_and_pages() {
    assert_eq!(InstallationId::parse("42").map(InstallationId::get), Some(42));
    for bad in ["", "0", "-1", "1e3", " 4", "99999999999999999"] {
        assert_eq!(InstallationId::parse(bad), None, "{bad:?}");
    }
    assert!(serde_json::from_str::<InstallationId>("0").is_err());
    assert!(serde_json::from_str::<InstallationId>("1.5").is_err());

    let hour = 3_600_000;
    assert!(token_usable(hour, 0));
    assert!(!token_usable(hour, hour - TOKEN_RENEW_MARGIN_MS), "renewed 5 minutes before it expires");
    assert!(token_usable(hour, hour - TOKEN_RENEW_MARGIN_MS - 1));

    let long = AccessTokenWire { token: format!("ghs_{}", "a".repeat(996)), expires_at: String::new() };
    assert_eq!(long.checked_token().unwrap().len(), 1_000, "GitHub's longer tokens fit");
    let too_long = AccessTokenWire { token: "a".repeat(1_001), expires_at: String::new() };
    assert!(too_long.checked_token().is_err());
    let spaced = AccessTokenWire { token: "ghs_a b".into(), expires_at: String::new() };
    assert!(spaced.checked_token().is_err(), "nothing that would break a header");

    assert_eq!(pages_for(0, 50), 1..=1);
    assert_eq!(pages_for(0, 100), 1..=1);
    assert_eq!(pages_for(50, 100), 1..=2);
    assert_eq!(pages_for(100, 500), 2..=6);
    assert_eq!(pages_for(250, 1), 3..=3);
}

#[test]
fn refusals_of_the_app_endpoints_say_what_is_wrong() {
    let jwt = app_refusal(401, r#"{"message":"'Expiration time' claim ('exp') is too far in the future"}"#);
    assert_eq!(
        jwt,
        Some(GhError::Credential("GitHub refused the App's JWT: 'Expiration time' claim ('exp') is too far in the future".into()))
    );
    assert!(matches!(app_refusal(404, r#"{"message":"Not Found"}"#), Some(GhError::Credential(m)) if m.contains("uninstalled")));
    assert!(matches!(app_refusal(403, r#"{"message":"This installation has been suspended"}"#), Some(GhError::Credential(_))));
    assert_eq!(app_refusal(403, r#"{"message":"API rate limit exceeded"}"#), None, "rate limits are read as everywhere");
    assert_eq!(app_refusal(502, ""), None);
}

#[test]
fn installation_events_apply_in_the_order_of_their_own_time() {
    // (applied, event) → stale?
    let table = [
        (None, None, false),
        (None, Some(5), false),
        (Some(5), None, false),
        (Some(5), Some(4), true),
        (Some(5), Some(5), false),
        (Some(5), Some(6), false),
        (Some(1_619_663_570_000), Some(1_619_663_569_999), true),
    ];
    for (applied, event, stale) in table {
        assert_eq!(installation_event_is_stale(applied, event), stale, "applied {applied:?}, event {event:?}");
    }
}

#[test]
fn the_mint_lease_is_claimed_when_free_or_lapsed() {
    for (until, now, free) in [(None, 5, true), (Some(10), 5, false), (Some(10), 10, true), (Some(10), 11, true), (Some(0), 0, true)] {
        assert_eq!(mint_lease_free(until, now), free, "lease until {until:?} at {now}");
    }
    assert!(MINT_WAITS_MS.iter().sum::<u64>() <= MINT_LEASE_MS, "the losers give up within the lease");
    assert!(MINT_WAITS_MS.windows(2).all(|w| w[0] < w[1]), "waits grow");
}

#[test]
fn a_waiting_isolate_takes_only_a_token_minted_meanwhile() {
    let now = 1_000_000;
    let hour = now + 3_600_000;
    let table = [
        // (before, after, expires, takeable)
        (None, None, hour, false),
        (None, Some("new"), hour, true),
        (Some("old"), Some("new"), hour, true),
        (Some("old"), Some("old"), hour, false),
        (Some("old"), None, hour, false),
        (Some("old"), Some("new"), now + 290_000, true),
        (Some("old"), Some("new"), now + WAITED_TOKEN_MIN_LIFE_MS, false),
        (Some("old"), Some("new"), now - 1, false),
    ];
    for (before, after, expires, takeable) in table {
        assert_eq!(waited_token_takeable(before, after, expires, now), takeable, "{before:?} → {after:?} expiring {expires}");
    }
}
