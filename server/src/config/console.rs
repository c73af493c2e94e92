//! `[console]`: the operator console at `/console/`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::serde_as;
use smart_default::SmartDefault;

use super::types::{Positive, Secs};

/// The operator console (sign-in with a server API key of `admin.api_keys`).
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Whether `/console/` and its endpoints are served.
    #[default(true)]
    pub enabled: bool,
    /// How long a sign-in lasts before the operator signs in again (`session_lifetime_secs`).
    #[serde(rename = "session_lifetime_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(8 * 3600))]
    pub session_lifetime: Duration,
}
