//! `[admin]`: the server API keys of the admin and server-to-server endpoints.

use serde::{Deserialize, Serialize};
use serde_with::serde_as;

use super::types::StringList;

/// Server-to-server credentials: the API keys that the admin and server-to-server endpoints
/// (the app's payment system, operators' tools) present as `Authorization: Bearer <key>`.
/// Browser users' JWTs are never accepted there, and these keys are never accepted as a
/// user's token.
#[serde_as]
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// The accepted keys (each at least 32 bytes). Empty: those endpoints refuse every call.
    #[serde_as(as = "StringList")]
    pub api_keys: Vec<String>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field(
                "api_keys",
                &format_args!("[{} key(s)]", self.api_keys.len()),
            )
            .finish()
    }
}
