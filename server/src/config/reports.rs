//! `[reports]`: Play's financial reports in Cloud Storage (`pwa-billing reports …`).

use serde::{Deserialize, Serialize};
use serde_with::{serde_as, NoneAsEmptyString};
use smart_default::SmartDefault;
use url::Url;

use super::types::HttpUrl;
use crate::reports::Bucket;

/// Google's Cloud Storage base URL (the financial reports' bucket, JSON API).
pub const GOOGLE_STORAGE_BASE_URL: &str = "https://storage.googleapis.com/";

/// Play's financial reports.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// The bucket Play Console writes the reports to (`pubsite_prod_rev_…`, from Play
    /// Console → Download reports → Financial → Copy Cloud Storage URI), without `gs://`.
    #[serde_as(as = "NoneAsEmptyString")]
    pub bucket: Option<Bucket>,
    /// Base URL of the Cloud Storage JSON API.
    #[serde_as(as = "HttpUrl")]
    #[default(Url::parse(GOOGLE_STORAGE_BASE_URL).expect("constant URL"))]
    pub storage_base_url: Url,
}
