//! `[admin]`: the server API keys of the admin and server-to-server endpoints.

use serde::{Deserialize, Serialize};
use serde_with::serde_as;

use super::types::StringList;
use super::ConfigError;

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

impl AdminConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let fail = |m: &str| Err(ConfigError::new("admin.api_keys", m));
        if self.api_keys.iter().any(|k| k.len() < 32) {
            return fail("every key must be at least 32 bytes long (e.g. `openssl rand -hex 32`)");
        }
        if self.api_keys.iter().any(|k| k.contains('.')) {
            return fail("a key must not contain `.`, so that it can never be taken for a JWT");
        }
        Ok(())
    }
}
