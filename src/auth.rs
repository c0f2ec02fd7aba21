//! Credentials without I/O: API token hashing, bearer parsing, HMAC-SHA256, signed stream
//! tokens for EventSource URLs, GitHub webhook signatures, base64url for cursors and sealed tokens.

use crate::domain::SyncId;
use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Compares without an early exit, so timing says nothing about where two values differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token from `Authorization: Bearer <token>` (scheme case-insensitive).
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let header = header?.trim();
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// How long an `eventsUrl` token stays valid. A sync that outlives it can be watched
/// again with a fresh URL from the status call.
pub const STREAM_TOKEN_TTL_SECS: u64 = 6 * 60 * 60;

/// `<expiry>.<hex hmac>` bound to one sync id.
pub fn stream_token(secret: &[u8], sync_id: &SyncId, expires_at_secs: u64) -> String {
    let mac = hmac_sha256(secret, stream_token_message(sync_id, expires_at_secs).as_bytes());
    format!("{expires_at_secs}.{}", hex(&mac))
}

fn stream_token_message(sync_id: &SyncId, expires_at_secs: u64) -> String {
    format!("project-sync/stream/v1\n{sync_id}\n{expires_at_secs}")
}

#[derive(Debug, PartialEq, Eq)]
pub enum StreamTokenError {
    Malformed,
    Expired,
    BadSignature,
}

pub fn verify_stream_token(secret: &[u8], sync_id: &SyncId, token: &str, now_secs: u64) -> Result<(), StreamTokenError> {
    let (expiry, mac_hex) = token.split_once('.').ok_or(StreamTokenError::Malformed)?;
    let expiry: u64 = expiry.parse().map_err(|_| StreamTokenError::Malformed)?;
    let given = unhex(mac_hex).ok_or(StreamTokenError::Malformed)?;
    let want = hmac_sha256(secret, stream_token_message(sync_id, expiry).as_bytes());
    if !constant_time_eq(&given, &want) {
        return Err(StreamTokenError::BadSignature);
    }
    if now_secs >= expiry {
        return Err(StreamTokenError::Expired);
    }
    Ok(())
}

/// Checks GitHub's `X-Hub-Signature-256: sha256=<hex>` over the raw body.
pub fn verify_webhook_signature(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(given) = header.and_then(|h| h.trim().strip_prefix("sha256=")).and_then(unhex) else {
        return false;
    };
    constant_time_eq(&given, &hmac_sha256(secret, body))
}

/// Unpadded base64url (RFC 4648 §5).
pub fn base64url_encode(data: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(data)
}

pub fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_and_hmac_match_published_vectors() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // RFC 4231 test cases 1 and 2.
        assert_eq!(hex(&hmac_sha256(&[0x0b; 20], b"Hi There")), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 test case 6: a key longer than the block size.
        assert_eq!(
            hex(&hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn github_webhook_signature_example() {
        // The example from GitHub's "Validating webhook deliveries" documentation.
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify_webhook_signature(b"It's a Secret to Everybody", b"Hello, World!", Some(sig)));
        assert!(!verify_webhook_signature(b"wrong", b"Hello, World!", Some(sig)));
        assert!(!verify_webhook_signature(b"It's a Secret to Everybody", b"Hello, World?", Some(sig)));
        assert!(!verify_webhook_signature(b"s", b"b", None));
        assert!(!verify_webhook_signature(b"s", b"b", Some("sha1=abc")));
    }

    #[test]
    fn stream_tokens() {
        let secret = b"server secret";
        let (one, two) = (SyncId::parse("sync-1").unwrap(), SyncId::parse("sync-2").unwrap());
        let t = stream_token(secret, &one, 1_000);
        assert_eq!(verify_stream_token(secret, &one, &t, 999), Ok(()));
        assert_eq!(verify_stream_token(secret, &one, &t, 1_000), Err(StreamTokenError::Expired));
        assert_eq!(verify_stream_token(secret, &two, &t, 10), Err(StreamTokenError::BadSignature));
        assert_eq!(verify_stream_token(b"other", &one, &t, 10), Err(StreamTokenError::BadSignature));
        let forged_expiry = t.replacen("1000", "9999", 1);
        assert_eq!(verify_stream_token(secret, &one, &forged_expiry, 10), Err(StreamTokenError::BadSignature));
        for bad in ["", "x", "1000.zz", "abc.00"] {
            assert_eq!(verify_stream_token(secret, &one, bad, 10), Err(StreamTokenError::Malformed), "{bad}");
        }
    }

    #[test]
    fn bearer() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }

    #[test]
    fn base64_round_trips() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", &[0xff, 0xfe, 0x00]] {
            assert_eq!(base64url_decode(&base64url_encode(data)).unwrap(), data);
        }
        assert_eq!(base64url_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url_decode("!!"), None);
    }
}
