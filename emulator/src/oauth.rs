//! OAuth: the service-account key this emulator issues, the `/token` JWT-bearer grant, the
//! access tokens it hands out, and the OIDC key that signs RTDN pushes (published as JWKS).
//!
//! Keys are RSA, generated at start. Token lifetimes use the real clock (clients cache
//! tokens by real time), not the virtual one.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock::real_now_secs;
use crate::error::GoogleError;
use crate::state::random_string;
use crate::SharedState;

/// The OAuth scope the API calls need.
pub const SCOPE: &str = "https://www.googleapis.com/auth/androidpublisher";
/// The Cloud Storage read-only scope (the financial reports' bucket).
pub const STORAGE_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_only";
/// Access token lifetime, as Google's (`expires_in: 3599`).
pub const TOKEN_LIFETIME_SECS: i64 = 3599;

/// An RSA signing key with its id.
pub struct SigningKey {
    /// `kid` / `private_key_id`.
    pub kid: String,
    /// PKCS#8 PEM of the private key.
    pub private_pem: String,
    /// SPKI PEM of the public key.
    pub public_pem: String,
    /// base64url modulus.
    pub n: String,
    /// base64url exponent.
    pub e: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a key of `bits` bits.
    pub fn generate(bits: usize) -> anyhow::Result<SigningKey> {
        let private = RsaPrivateKey::new(&mut rand::thread_rng(), bits)?;
        let public = private.to_public_key();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let n = b64.encode(public.n().to_bytes_be());
        let e = b64.encode(public.e().to_bytes_be());
        let der = private.to_pkcs1_der()?;
        Ok(SigningKey {
            kid: hex(&rand::random::<[u8; 20]>()),
            private_pem: private.to_pkcs8_pem(LineEnding::LF)?.to_string(),
            public_pem: public.to_public_key_pem(LineEnding::LF)?,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding: DecodingKey::from_rsa_components(&n, &e)?,
            n,
            e,
        })
    }

    /// Signs claims as an RS256 JWT with this key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_kid(claims, &self.kid)
    }

    /// Signs claims as an RS256 JWT under any `kid` (forged pushes).
    pub fn sign_with_kid(&self, claims: &Value, kid: &str) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("RS256 signing with a generated key")
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        json!({ "kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid, "n": self.n, "e": self.e })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The emulator's keys.
#[derive(Debug)]
pub struct Keys {
    /// The service account's key (its private half is in `service-account.json`).
    pub service_account: SigningKey,
    /// The key signing RTDN pushes' OIDC tokens (JWKS at `/emulator/v1/oidc/certs`).
    pub oidc: SigningKey,
    /// The service account's email.
    pub client_email: String,
}

impl Keys {
    /// Generates both keys (in parallel).
    pub fn generate(bits: usize) -> anyhow::Result<Keys> {
        let other = std::thread::spawn(move || SigningKey::generate(bits));
        let service_account = SigningKey::generate(bits)?;
        let oidc = other
            .join()
            .map_err(|_| anyhow::anyhow!("key generation panicked"))??;
        Ok(Keys {
            service_account,
            oidc,
            client_email: "play-emulator@pwa-billing-emulator.iam.gserviceaccount.com".into(),
        })
    }

    /// The keys of a configuration: new ones, or the process's shared ones with
    /// `share_keys` (of the size the first sharer asked for).
    pub fn for_config(config: &crate::Config) -> anyhow::Result<std::sync::Arc<Keys>> {
        static SHARED: std::sync::Mutex<Option<std::sync::Arc<Keys>>> = std::sync::Mutex::new(None);
        if !config.share_keys {
            return Ok(std::sync::Arc::new(Keys::generate(config.key_bits)?));
        }
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(keys) = shared.as_ref() {
            return Ok(keys.clone());
        }
        let keys = std::sync::Arc::new(Keys::generate(config.key_bits)?);
        *shared = Some(keys.clone());
        Ok(keys)
    }

    /// The JWKS of the OIDC key.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.oidc.jwk()] })
    }

    /// The service-account key file, as Google's console downloads it.
    pub fn service_account_json(&self, base_url: &str) -> Value {
        json!({
            "type": "service_account",
            "project_id": "pwa-billing-emulator",
            "private_key_id": self.service_account.kid,
            "private_key": self.service_account.private_pem,
            "client_email": self.client_email,
            "client_id": "100000000000000000001",
            "auth_uri": format!("{base_url}/o/oauth2/auth"),
            "token_uri": format!("{base_url}/token"),
            "auth_provider_x509_cert_url": format!("{base_url}/emulator/v1/oidc/certs"),
            "client_x509_cert_url": format!("{base_url}/emulator/v1/oidc/certs"),
            "universe_domain": "googleapis.com",
        })
    }
}

/// Access tokens handed out, with their expiry (real epoch seconds).
#[derive(Debug, Default)]
pub struct AccessTokens(HashMap<String, i64>);

impl AccessTokens {
    /// Issues a new token.
    pub fn issue(&mut self) -> String {
        let now = real_now_secs();
        self.0.retain(|_, exp| *exp > now);
        let token = format!("ya29.{}", random_string(160));
        self.0.insert(token.clone(), now + TOKEN_LIFETIME_SECS);
        token
    }

    /// Whether a token is live.
    pub fn is_live(&self, token: &str) -> bool {
        self.0.get(token).is_some_and(|exp| *exp > real_now_secs())
    }

    /// Forgets every token (tests: as though they expired).
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// Checks the `Authorization: Bearer` header of a Google-side call.
pub fn check_bearer(state: &crate::Shared, headers: &HeaderMap) -> Result<(), GoogleError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Err(GoogleError::missing_credentials());
    };
    let value = value.to_str().unwrap_or_default();
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return Err(GoogleError::invalid_credentials());
    };
    let live = state
        .access_tokens
        .lock()
        .map(|t| t.is_live(token.trim()))
        .unwrap_or(false);
    if live {
        Ok(())
    } else {
        Err(GoogleError::invalid_credentials())
    }
}

/// The `/token` form.
#[derive(Debug)]
struct TokenRequest {
    grant_type: Option<String>,
    assertion: Option<String>,
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    scope: Option<String>,
    aud: Option<Value>,
    iat: Option<i64>,
    exp: Option<i64>,
}

/// `POST /token`: the JWT-bearer grant.
pub async fn token(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(injected) = crate::faults::enter(&state, "oauth2.token").await {
        return injected.into_response(|e| {
            let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                axum::Json(json!({ "error": "internal_failure", "error_description": e.message })),
            )
                .into_response()
        });
    }
    let mut form = TokenRequest {
        grant_type: None,
        assertion: None,
    };
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "grant_type" => form.grant_type = Some(v.into_owned()),
            "assertion" => form.assertion = Some(v.into_owned()),
            _ => {}
        }
    }
    if form.grant_type.as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth_error(
            "unsupported_grant_type",
            &format!(
                "Invalid grant_type: {}",
                form.grant_type.unwrap_or_default()
            ),
        );
    }
    let Some(assertion) = form.assertion else {
        return oauth_error("invalid_request", "Missing required parameter: assertion");
    };
    let Ok(header) = jsonwebtoken::decode_header(&assertion) else {
        return oauth_error("invalid_grant", "Invalid JWT: malformed.");
    };
    let key = &state.keys.service_account;
    if header.alg != Algorithm::RS256 || header.kid.as_deref().is_some_and(|k| k != key.kid) {
        return oauth_error("invalid_grant", "Invalid JWT Signature.");
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims =
        match jsonwebtoken::decode::<AssertionClaims>(&assertion, &key.decoding, &validation) {
            Ok(data) => data.claims,
            Err(_) => return oauth_error("invalid_grant", "Invalid JWT Signature."),
        };
    if claims.iss.as_deref() != Some(state.keys.client_email.as_str()) {
        return oauth_error(
            "invalid_grant",
            "Invalid JWT: iss is not the service account.",
        );
    }
    let token_uri = format!("{}/token", state.base_url);
    let host_uri = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}/token"));
    let aud_ok = match &claims.aud {
        Some(Value::String(a)) => *a == token_uri || Some(a) == host_uri.as_ref(),
        _ => false,
    };
    if !aud_ok {
        return oauth_error("invalid_grant", "Invalid JWT: Failed audience check.");
    }
    let now = real_now_secs();
    let (Some(iat), Some(exp)) = (claims.iat, claims.exp) else {
        return oauth_error("invalid_grant", "Invalid JWT: iat and exp are required.");
    };
    if exp <= now || exp - iat > 3600 || iat > now + 300 || exp < iat {
        return oauth_error(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. \
             Check your iat and exp values in the JWT claim.",
        );
    }
    let scopes = claims.scope.unwrap_or_default();
    if !scopes
        .split_whitespace()
        .any(|s| s == SCOPE || s == STORAGE_SCOPE)
    {
        return oauth_error(
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        );
    }
    let access_token = match state.access_tokens.lock() {
        Ok(mut t) => t.issue(),
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "poisoned").into_response(),
    };
    axum::Json(json!({ "access_token": access_token, "expires_in": TOKEN_LIFETIME_SECS, "token_type": "Bearer" }))
        .into_response()
}
