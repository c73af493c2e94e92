//! The operator console at `/console/`: the state of the billing at a glance in a browser
//! (Overview, Health, Lookup, Reconciliation, Catalog, External transactions).
//!
//! The page and its scripts are compiled into the binary ([`assets`]); its data comes from
//! the admin JSON endpoints under `/v1/admin/console/` ([`pages`]), which take a server API
//! key or the session cookie a key is exchanged for ([`session`]). See docs/console.md.

pub mod assets;
pub mod catalog;
pub mod pages;
pub mod session;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    tags((name = "console", description = "The operator console's data (docs/console.md): a server API key, or the console's session cookie")),
    modifiers(&SessionScheme)
)]
struct ConsoleDoc;

struct SessionScheme;

impl Modify for SessionScheme {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "console_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                session::COOKIE,
                "the console's session cookie (`POST /v1/admin/console/session`), used from \
                 the console's own origin; requests that change something also send \
                 `X-CSRF-Token`",
            ))),
        );
    }
}

/// The console's routes (none when `console.enabled` is false).
pub fn router(enabled: bool) -> OpenApiRouter<AppState> {
    if !enabled {
        return OpenApiRouter::new();
    }
    OpenApiRouter::with_openapi(ConsoleDoc::openapi())
        .merge(session::router())
        .merge(pages::router())
        .merge(OpenApiRouter::from(assets::router()))
}

/// Milliseconds since the epoch as RFC 3339 (UTC, milliseconds).
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}
