//! Service-account OAuth: a signed JWT assertion exchanged at the key's `token_uri` for an
//! access token, cached until shortly before it expires. Concurrent callers wait for one
//! fetch instead of each fetching.

use std::path::Path;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::status::{PlayError, Status};
use crate::metrics::Metrics;

/// The Play Developer API scope.
pub const SCOPE: &str = "https://www.googleapis.com/auth/androidpublisher";
/// The Cloud Storage read-only scope (the financial reports' bucket).
pub const STORAGE_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_only";

/// The fields of a Google service-account key JSON this client uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    /// The account's email (`iss` of the assertion).
    pub client_email: String,
    /// PKCS#8 PEM RSA key.
    pub private_key: String,
    /// Key id, sent as `kid`.
    #[serde(default)]
    pub private_key_id: Option<String>,
    /// The OAuth token endpoint (also the assertion's `aud`).
    pub token_uri: String,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Parses a key JSON.
    pub fn from_json(json: &str) -> Result<Self, PlayError> {
        serde_json::from_str(json).map_err(|e| PlayError::Key(e.to_string()))
    }

    /// Reads a key file; refuses one that every user of the machine can read.
    pub fn from_file(path: &Path) -> Result<Self, PlayError> {
        refuse_world_readable(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| PlayError::Key(format!("cannot read {}: {e}", path.display())))?;
        Self::from_json(&text)
    }
}

/// A service-account key is a credential for the whole Play account: refuse it when its
/// file is readable by other users (Unix permission bits; other systems are not checked).
fn refuse_world_readable(path: &Path) -> Result<(), PlayError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| PlayError::Key(format!("cannot read {}: {e}", path.display())))?
            .permissions()
            .mode();
        if mode & 0o004 != 0 {
            return Err(PlayError::Key(format!(
                "{} is readable by every user of this machine (mode {:o}); it holds the service account's private key: run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug)]
struct Cached {
    token: String,
    refresh_at: Instant,
}

/// Access tokens for one service account.
pub struct TokenSource {
    key: ServiceAccountKey,
    signing_key: EncodingKey,
    scope: &'static str,
    http: reqwest::Client,
    metrics: Metrics,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A token source; fails if the private key is not an RSA PEM.
    pub fn new(
        key: ServiceAccountKey,
        http: reqwest::Client,
        metrics: Metrics,
    ) -> Result<Self, PlayError> {
        let signing_key = EncodingKey::from_rsa_pem(key.private_key.as_bytes())
            .map_err(|e| PlayError::Key(format!("private_key: {e}")))?;
        Ok(Self {
            key,
            signing_key,
            scope: SCOPE,
            http,
            metrics,
            cache: Mutex::new(None),
        })
    }

    /// The same account's tokens for another scope (e.g. [`STORAGE_SCOPE`]).
    pub fn with_scope(mut self, scope: &'static str) -> Self {
        self.scope = scope;
        self
    }

    /// A valid access token: the cached one, or one fetched now (one fetch at a time).
    pub async fn token(&self) -> Result<String, PlayError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        let fetched = self
            .fetch()
            .await
            .map_err(|e| PlayError::Token(Box::new(e)))?;
        let token = fetched.token.clone();
        *cache = Some(fetched);
        Ok(token)
    }

    /// Forgets the cached token (after Google answered 401 to it).
    pub async fn invalidate(&self, token: &str) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| c.token == token) {
            *cache = None;
        }
    }

    async fn fetch(&self) -> Result<Cached, PlayError> {
        let iat = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
        let claims = Assertion {
            iss: &self.key.client_email,
            scope: self.scope,
            aud: &self.key.token_uri,
            iat,
            exp: iat + 3600,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key.private_key_id.clone();
        let assertion = jsonwebtoken::encode(&header, &claims, &self.signing_key)
            .map_err(|e| PlayError::Key(format!("signing the assertion: {e}")))?;
        self.metrics.oauth_fetch();
        let started = Instant::now();
        let response = self
            .http
            .post(&self.key.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &assertion),
            ])
            .send()
            .await
            .map_err(|e| PlayError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| PlayError::Transport(e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(PlayError::Api(Status::parse(status, &body)));
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| PlayError::Decode(e.to_string()))?;
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
        let margin = (lifetime / 2).min(Duration::from_secs(60));
        Ok(Cached {
            token: parsed.access_token,
            refresh_at: started + lifetime - margin,
        })
    }
}
