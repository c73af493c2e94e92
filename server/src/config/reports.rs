//! `[reports]`: Play's financial reports in Cloud Storage (`pwa-billing reports …`).

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;
use url::Url;

use super::types::http_url;
use super::ConfigError;

/// Google's Cloud Storage base URL (the financial reports' bucket, JSON API).
pub const GOOGLE_STORAGE_BASE_URL: &str = "https://storage.googleapis.com/";

/// Play's financial reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// The bucket Play Console writes the reports to (`pubsite_prod_rev_…`, from Play
    /// Console → Download reports → Financial → Copy Cloud Storage URI), without `gs://`.
    pub bucket: Option<String>,
    /// Base URL of the Cloud Storage JSON API.
    #[default(Url::parse(GOOGLE_STORAGE_BASE_URL).expect("constant URL"))]
    pub storage_base_url: Url,
}

impl ReportsConfig {
    pub(super) fn validate(&mut self) -> Result<(), ConfigError> {
        self.bucket = match self.bucket.take().map(|b| b.trim().to_string()) {
            Some(b) if !b.is_empty() => {
                Some(validate_bucket(&b).map_err(|m| ConfigError::new("reports.bucket", m))?)
            }
            _ => None,
        };
        http_url(&self.storage_base_url)
            .map_err(|m| ConfigError::new("reports.storage_base_url", m))
    }
}

/// A bucket name as Play Console shows it (`pubsite_prod_rev_…`, with or without `gs://`),
/// checked against Cloud Storage's naming rules; returns the bare name.
pub fn validate_bucket(name: &str) -> Result<String, String> {
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
    if ok {
        Ok(bare.to_string())
    } else {
        Err(format!(
            "`{name}` is not a Cloud Storage bucket name like pubsite_prod_rev_01234567890987654321 \
             (Play Console → Download reports → Financial → Copy Cloud Storage URI)"
        ))
    }
}
