//! The console's page, scripts and styles, compiled into the binary (`server/console/`): no
//! Node, no CDN and no file on disk at run time. Served with a strict Content-Security-Policy
//! (scripts and styles from this origin only, no inline script), `nosniff`, and no framing.

use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

/// The policy of every console page and asset.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

macro_rules! asset {
    ($path:literal, $type:literal) => {
        (
            $path,
            $type,
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path)) as &[u8],
        )
    };
}

/// Every embedded file: its path under `/console/`, its media type and its bytes.
pub static FILES: &[(&str, &str, &[u8])] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("dom.js", "text/javascript; charset=utf-8"),
    asset!("charts.js", "text/javascript; charset=utf-8"),
    asset!("pages/overview.js", "text/javascript; charset=utf-8"),
    asset!("pages/health.js", "text/javascript; charset=utf-8"),
    asset!("pages/lookup.js", "text/javascript; charset=utf-8"),
    asset!("pages/reconciliation.js", "text/javascript; charset=utf-8"),
    asset!("pages/catalog.js", "text/javascript; charset=utf-8"),
    asset!("pages/external.js", "text/javascript; charset=utf-8"),
    asset!("vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/uPlot.min.css", "text/css; charset=utf-8"),
];

/// The routes: `/console` (redirects), `/console/` (the page) and `/console/{file}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { serve("index.html") }))
        .route(
            "/console/{*path}",
            get(|Path(path): Path<String>| async move { serve(&path) }),
        )
}

fn serve(path: &str) -> Response {
    let Some((_, media_type, bytes)) = FILES.iter().find(|(p, _, _)| *p == path) else {
        return ApiError::NotFound.into_response();
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    (StatusCode::OK, headers, *bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_files_and_has_no_inline_script() {
        let (_, _, page) = FILES[0];
        let page = std::str::from_utf8(page).unwrap();
        for (i, part) in page.split("<script").enumerate().skip(1) {
            let tag = &part[..part.find('>').expect("a closed tag")];
            let src = tag
                .split("src=\"")
                .nth(1)
                .unwrap_or_else(|| panic!("script {i} has no src (inline script): {tag}"));
            let src = &src[..src.find('"').unwrap()];
            let file = src
                .strip_prefix("/console/")
                .expect("an absolute console path");
            assert!(
                FILES.iter().any(|(p, _, _)| *p == file),
                "{file} is not embedded"
            );
            let after = &part[part.find('>').unwrap() + 1..];
            assert!(
                after.starts_with("</script>"),
                "script {i} has inline content"
            );
        }
        assert!(!page.contains(" style=\""), "no inline style");
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "nothing from another origin"
        );
    }

    #[test]
    fn every_module_import_names_an_embedded_file() {
        for (path, media_type, bytes) in FILES {
            if !media_type.starts_with("text/javascript") || path.starts_with("vendor/") {
                continue;
            }
            let text = std::str::from_utf8(bytes).unwrap();
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let spec = line.rsplit(['"', '\'']).nth(1).unwrap();
                let base = std::path::Path::new(path).parent().unwrap();
                let joined = base.join(spec);
                let mut parts: Vec<&str> = Vec::new();
                for c in joined.components() {
                    match c.as_os_str().to_str().unwrap() {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        other => parts.push(other),
                    }
                }
                let target = parts.join("/");
                assert!(
                    FILES.iter().any(|(p, _, _)| *p == target),
                    "{path} imports {spec}: not embedded"
                );
            }
        }
    }
}
