//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers.

use std::sync::Arc;

use axum::Extension;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ErrorBody, Json};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pwa-billing",
        description = "Verifies Google Play purchases of a PWA, grants them once, acknowledges them in time. \
                       Errors are `{\"error\":{\"code\",\"message\"}}`.",
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "pubsub_push",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "the OIDC token Pub/Sub signs for the push subscription's service \
                         account (`rtdn.audience`, `rtdn.service_account_email`), never a \
                         user's JWT",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "server_api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "a server API key of `admin.api_keys`, never a user's JWT",
                    ))
                    .build(),
            ),
        );
    }
}

/// The base document the resource routers add their paths to.
pub fn base() -> Document {
    ApiDoc::openapi()
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi_json(Extension(doc): Extension<Arc<Document>>) -> Json<Arc<Document>> {
    Json(doc)
}
