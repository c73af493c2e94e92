//! `[cors]`: which browser origins may call the API.

use serde::{Deserialize, Serialize};
use serde_with::serde_as;

use super::types::StringList;

/// `[cors]`.
#[serde_as]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Allowed origins (`*` for any; empty: no CORS headers).
    #[serde_as(as = "StringList")]
    pub allowed_origins: Vec<String>,
}
