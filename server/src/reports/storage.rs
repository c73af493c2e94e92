//! A Cloud Storage client for the reports' bucket: the JSON API's two calls, list
//! (`GET {base}/storage/v1/b/{bucket}/o?prefix=&pageToken=`, every page) and download
//! (`GET …/o/{name}?alt=media&generation=`, the name one `%2F`-escaped segment), with the
//! server's service-account tokens for scope `devstorage.read_only`, retries on 429/5xx with
//! the server's backoff (through [`PlayClient`]'s call loop), and downloads checked against
//! the listed size and `md5Hash`.

use base64::Engine;
use md5::Digest;
use serde::Deserialize;
use serde_with::{serde_as, DisplayFromStr};
use url::Url;

use crate::play::{PlayClient, PlayError};

/// The Play Console permissions a service account needs to read the financial reports.
pub const PERMISSION_HINT: &str = "in Play Console → Users and permissions, give the service account the account permissions \
     \"View app information and download bulk reports (read-only)\" and \"View financial data, orders, and cancellation survey responses\" \
     (financial reports need both; Play can take up to 24 hours to grant bucket access)";

/// A bucket's name as Play Console shows it (`pubsite_prod_rev_…`, with or without `gs://`),
/// checked against Cloud Storage's naming rules and kept bare.
#[derive(
    Debug, Clone, PartialEq, Eq, serde_with::SerializeDisplay, serde_with::DeserializeFromStr,
)]
pub struct Bucket(String);

impl std::str::FromStr for Bucket {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        let bare = name
            .trim()
            .trim_start_matches("gs://")
            .trim_end_matches('/');
        let ok = (3..=222).contains(&bare.len())
            && bare
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
            && bare.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bare.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "`{name}` is not a Cloud Storage bucket name like pubsite_prod_rev_01234567890987654321 \
                 (Play Console → Download reports → Financial → Copy Cloud Storage URI)"
            ));
        }
        Ok(Self(bare.to_string()))
    }
}

impl std::fmt::Display for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One object of a listing.
#[serde_as]
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// The object name (`sales/salesreport_202612.zip`).
    pub name: String,
    /// The generation (changes whenever the content is replaced).
    pub generation: String,
    /// Base64 MD5 of the content (absent for composite objects).
    #[serde(default)]
    pub md5_hash: Option<String>,
    /// Size in bytes.
    #[serde_as(as = "DisplayFromStr")]
    pub size: u64,
    /// `gzip` for an object stored compressed, which Cloud Storage serves decompressed
    /// (decompressive transcoding): its size and md5 are the stored bytes'.
    #[serde(default)]
    pub content_encoding: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectList {
    #[serde(default)]
    items: Vec<ObjectMeta>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// What can go wrong with the bucket.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// 403: the service account may not read the bucket.
    #[error(
        "Cloud Storage refused {email} access to bucket `{bucket}` ({message}): {PERMISSION_HINT}"
    )]
    Forbidden {
        /// The bucket.
        bucket: String,
        /// The service account.
        email: String,
        /// Google's message.
        message: String,
    },
    /// 404 on the bucket itself.
    #[error("bucket `{0}` does not exist: check `reports.bucket` (Play Console → Download reports → Financial → Copy Cloud Storage URI)")]
    NoSuchBucket(String),
    /// Any other error answer, or no answer.
    #[error("Cloud Storage: {0}")]
    Other(String),
    /// The downloaded bytes do not match the listing.
    #[error("{name}: the download does not match the listing ({detail})")]
    Corrupt {
        /// The object.
        name: String,
        /// What differs.
        detail: String,
    },
}

/// A client for one bucket.
#[derive(Debug, Clone)]
pub struct StorageClient {
    play: PlayClient,
    base: Url,
    bucket: String,
    email: String,
}

impl StorageClient {
    /// A client of `bucket` at `base` (Google's `https://storage.googleapis.com/` or the
    /// emulator's URL). `play` is a Google client with the storage scope's tokens (its
    /// retries, backoff and call metrics apply); `email` is its service account's.
    pub fn new(play: PlayClient, base: Url, bucket: String, email: String) -> Self {
        Self {
            play,
            base,
            bucket,
            email,
        }
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `{base}/storage/v1/b/{bucket}/o[/{name}]`, each segment escaped (`/` → `%2F`).
    fn url(&self, name: Option<&str>) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.extend(["storage", "v1", "b", self.bucket.as_str(), "o"]);
            if let Some(n) = name {
                segments.push(n);
            }
        }
        url
    }

    /// Every object whose name starts with `prefix`, in name order, following
    /// `nextPageToken` to the last page.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StorageError> {
        let mut items = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut url = self.url(None);
            url.query_pairs_mut().append_pair("prefix", prefix);
            if let Some(t) = &page_token {
                url.query_pairs_mut().append_pair("pageToken", t);
            }
            let body = self.get(url, "storage.objects.list").await?;
            let page: ObjectList = serde_json::from_slice(&body)
                .map_err(|e| StorageError::Other(format!("listing `{prefix}`: {e}")))?;
            items.extend(page.items);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(t) => page_token = Some(t),
                None => return Ok(items),
            }
        }
    }

    /// The bytes of one generation of an object, checked against its listed size and md5.
    pub async fn download(&self, object: &ObjectMeta) -> Result<Vec<u8>, StorageError> {
        let mut url = self.url(Some(&object.name));
        url.query_pairs_mut()
            .append_pair("alt", "media")
            .append_pair("generation", &object.generation);
        let bytes = self.get(url, "storage.objects.get").await?;
        if object.content_encoding.as_deref() == Some("gzip") {
            return Ok(bytes);
        }
        if bytes.len() as u64 != object.size {
            return Err(StorageError::Corrupt {
                name: object.name.clone(),
                detail: format!("{} bytes, {} listed", bytes.len(), object.size),
            });
        }
        if let Some(expected) = &object.md5_hash {
            let got = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&bytes));
            if &got != expected {
                return Err(StorageError::Corrupt {
                    name: object.name.clone(),
                    detail: format!("md5 {got}, {expected} listed"),
                });
            }
        }
        Ok(bytes)
    }

    /// One GET, retried on transient failures by the Google client.
    async fn get(&self, url: Url, permission: &'static str) -> Result<Vec<u8>, StorageError> {
        self.play
            .call_url(permission, reqwest::Method::GET, url)
            .await
            .map_err(|e| self.error(e, permission))
    }

    fn error(&self, e: PlayError, permission: &str) -> StorageError {
        match e {
            PlayError::Api(s) if s.code == 403 => StorageError::Forbidden {
                bucket: self.bucket.clone(),
                email: self.email.clone(),
                message: if s.message.is_empty() {
                    format!("no {permission} permission")
                } else {
                    s.message
                },
            },
            PlayError::Api(s) if s.code == 404 && s.message.contains("bucket does not exist") => {
                StorageError::NoSuchBucket(self.bucket.clone())
            }
            PlayError::Api(s) => {
                StorageError::Other(format!("{} answered {}: {}", permission, s.code, s.message))
            }
            PlayError::Token(inner) => StorageError::Other(format!(
                "OAuth token for scope devstorage.read_only: {inner}"
            )),
            other => StorageError::Other(other.to_string()),
        }
    }
}
