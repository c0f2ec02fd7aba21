//! WebCrypto through the runtime: random ids and tokens, AES-GCM for stored GitHub tokens,
//! and RS256 signatures for GitHub App JWTs.

use crate::auth::{base64url_decode, base64url_encode, hex};
use crate::config::TokenKeys;
use crate::domain::Id;
use crate::error::{AppError, AppResult};
use crate::github_app::AppKey;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AesGcmParams, Crypto, CryptoKey};
use worker::wasm_bindgen_futures::JsFuture;

fn crypto() -> AppResult<Crypto> {
    let value = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(js_err)?;
    Ok(value.unchecked_into())
}

fn js_err(e: JsValue) -> AppError {
    AppError::internal(format!("WebCrypto: {e:?}"))
}

pub fn random_bytes(n: usize) -> AppResult<Vec<u8>> {
    let mut buf = vec![0u8; n];
    crypto()?.get_random_values_with_u8_array(&mut buf).map_err(js_err)?;
    Ok(buf)
}

/// A content write's tag (`blob_contents.write_tag`): 48 random bits as 12 hex digits. It
/// tells a write's own new rows from rows another write created; two writes that race on
/// the same blobs sharing a tag is a chance of 2^-48, where a UUID cost 24 more bytes on
/// every blob row.
pub fn new_write_tag() -> AppResult<String> {
    Ok(hex(&random_bytes(6)?))
}

/// A random UUID (v4), our id format.
/// A fresh id (a random UUID) of whatever it is made for: a sync's, a hook's, ...
pub fn new_id<T: From<Id>>() -> AppResult<T> {
    Id::parse(&crypto()?.random_uuid()).map(T::from).map_err(|e| AppError::internal(e.0))
}

/// A user API token: 256 random bits, recognisable by its prefix.
pub fn new_api_token() -> AppResult<String> {
    Ok(format!("psk_{}", hex(&random_bytes(32)?)))
}

async fn aes_key(key_bytes: &[u8]) -> AppResult<CryptoKey> {
    let subtle = crypto()?.subtle();
    let usages = Array::of2(&JsValue::from_str("encrypt"), &JsValue::from_str("decrypt"));
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"AES-GCM".into()).map_err(js_err)?;
    let raw = Uint8Array::from(&key_bytes[..32.min(key_bytes.len())]);
    let promise = subtle.import_key_with_object("raw", &raw, &algorithm, false, &usages).map_err(js_err)?;
    Ok(JsFuture::from(promise).await.map_err(js_err)?.unchecked_into())
}

/// `v1.<base64url nonce>.<base64url ciphertext+tag>`, sealed with the current key.
pub async fn encrypt_token(keys: &TokenKeys, plaintext: &str) -> AppResult<String> {
    let key = aes_key(&keys.current).await?;
    let mut iv = random_bytes(12)?;
    let params = AesGcmParams::new_with_u8_slice("AES-GCM", &mut iv);
    let data = plaintext.as_bytes();
    let promise = crypto()?.subtle().encrypt_with_object_and_u8_array(&params, &key, data).map_err(js_err)?;
    let sealed = Uint8Array::new(&JsFuture::from(promise).await.map_err(js_err)?).to_vec();
    Ok(format!("v1.{}.{}", base64url_encode(&iv), base64url_encode(&sealed)))
}

/// Opens a sealed token with the current key, or else the previous one (a rotation in
/// progress). A token neither opens is an error that names the likely cause.
pub async fn decrypt_token(keys: &TokenKeys, sealed: &str) -> AppResult<String> {
    match open_with(&keys.current, sealed).await {
        Ok(plain) => Ok(plain),
        Err(first) => match &keys.previous {
            Some(previous) => open_with(previous, sealed).await.map_err(|_| first),
            None => Err(first),
        },
    }
}

async fn open_with(key_bytes: &[u8], sealed: &str) -> AppResult<String> {
    let mut parts = sealed.split('.');
    let (Some("v1"), Some(iv), Some(body), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AppError::internal("stored token has an unknown format"));
    };
    let mut iv = base64url_decode(iv).ok_or_else(|| AppError::internal("stored token nonce"))?;
    let data = base64url_decode(body).ok_or_else(|| AppError::internal("stored token body"))?;
    let key = aes_key(key_bytes).await?;
    let params = AesGcmParams::new_with_u8_slice("AES-GCM", &mut iv);
    let promise = crypto()?.subtle().decrypt_with_object_and_u8_array(&params, &key, &data).map_err(js_err)?;
    let plain = Uint8Array::new(&JsFuture::from(promise).await.map_err(|_| {
        AppError::internal(
            "a stored GitHub token could not be decrypted: TOKEN_ENCRYPTION_KEY changed without TOKEN_ENCRYPTION_KEY_PREVIOUS set to the old key",
        )
    })?)
    .to_vec();
    String::from_utf8(plain).map_err(|_| AppError::internal("stored token is not UTF-8"))
}

/// RSASSA-PKCS1-v1_5 with SHA-256 (JWT `RS256`) over `data` with the app's key.
pub async fn sign_rs256(key: &AppKey, data: &[u8]) -> AppResult<Vec<u8>> {
    let subtle = crypto()?.subtle();
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"RSASSA-PKCS1-v1_5".into()).map_err(js_err)?;
    Reflect::set(&algorithm, &"hash".into(), &"SHA-256".into()).map_err(js_err)?;
    let usages = Array::of1(&JsValue::from_str("sign"));
    let der = Uint8Array::from(key.pkcs8_der.as_slice());
    let imported = subtle.import_key_with_object("pkcs8", &der, &algorithm, false, &usages).map_err(js_err)?;
    let private: CryptoKey = JsFuture::from(imported)
        .await
        .map_err(|_| AppError::internal("GITHUB_APP_PRIVATE_KEY could not be imported as an RSA key"))?
        .unchecked_into();
    let signing = subtle.sign_with_object_and_u8_array(&algorithm, &private, data).map_err(js_err)?;
    Ok(Uint8Array::new(&JsFuture::from(signing).await.map_err(js_err)?).to_vec())
}
