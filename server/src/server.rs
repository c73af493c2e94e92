//! The HTTP application (routes and middleware) and running it with its worker, with
//! graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::routes;
use crate::state::AppState;

/// How often the acknowledgement watchdog looks.
const WATCHDOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP API over `state`; unknown paths answer 404 `not_found`.
pub fn app(state: AppState) -> Router {
    build(state, None)
}

/// The API plus static files: the npm package under `/pkg/`, and `www` at `/` for every path
/// the API does not serve (`pwa-billing sandbox`).
pub fn app_with_files(state: AppState, www: &Path, pkg: &Path) -> Router {
    build(state, Some((www, pkg)))
}

fn build(state: AppState, files: Option<(&Path, &Path)>) -> Router {
    let (router, doc) = OpenApiRouter::with_openapi(routes::openapi::base())
        .merge(routes::purchases::router())
        .merge(routes::entitlements::router())
        .merge(routes::health::router())
        .merge(routes::metrics::router())
        .merge(routes::openapi::router())
        .merge(routes::dev::router())
        .merge(routes::rtdn::router())
        .merge(routes::reports::router())
        .merge(routes::external_transactions::router())
        .merge(crate::console::router(state.config.console.enabled))
        .merge(routes::accounts::router())
        .merge(routes::events::router())
        .split_for_parts();
    let limits = &state.config.limits;
    let router = router.layer(Extension(Arc::new(doc)));
    let router = match files {
        None => router.fallback(|| async { ApiError::NotFound }),
        Some((www, pkg)) => router
            .nest_service("/pkg", ServeDir::new(pkg))
            .fallback_service(ServeDir::new(www)),
    };
    let mut router = router
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes.get()))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ));
    if let Some(cors) = cors(&state.config.cors.allowed_origins) {
        router = router.layer(cors);
    }
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", method = %request.method(), uri = %request.uri(), request_id)
        }).on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
        // Every response is logged above with its status, and internal errors at ERROR by
        // `ApiError`: a 503 in a quota burst is an expected answer, not an error line.
        .on_failure(()))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER, REQUEST_ID]);
    Some(if origins.iter().any(|o| o == "*") {
        layer.allow_origin(Any)
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        layer.allow_origin(AllowOrigin::list(list))
    })
}

/// Gives the error responses produced outside the handlers (405, 408, 413) the API's JSON
/// error format.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return response;
    }
    match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed.into_response(),
        StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout.into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge.into_response(),
        _ => response,
    }
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state.metrics.http_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// A server running in the background with its worker.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    worker: Option<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// Serves `router` (built with [`app`] over `state`) on `listener` and starts the
    /// worker (if enabled).
    pub fn start(state: AppState, router: Router, listener: TcpListener) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (shutdown, rx) = watch::channel(false);
        let worker = state
            .config
            .worker
            .enabled
            .then(|| tokio::spawn(state.worker().run(rx.clone())));
        let mut background = Vec::new();
        if state.config.worker.enabled {
            background.push(tokio::spawn(crate::watchdog::run(
                state.db.clone(),
                state.metrics.clone(),
                WATCHDOG_INTERVAL,
                rx.clone(),
            )));
            let et = &state.config.external_transactions;
            background.push(tokio::spawn(crate::external_transactions::watchdog::run(
                state.db.clone(),
                state.metrics.clone(),
                et.watchdog_interval,
                et.warn_after,
                rx.clone(),
            )));
            background.push(tokio::spawn(state.webhooks.clone().run(rx.clone())));
        }
        if state.config.voided.enabled {
            background.push(tokio::spawn(state.voided_poller().run(rx.clone())));
        }
        let mut http_rx = rx;
        let header_read_timeout = state.config.limits.header_read_timeout;
        let http = tokio::spawn(crate::connections::serve(
            listener,
            router,
            header_read_timeout,
            async move {
                let _ = http_rx.wait_for(|stop| *stop).await;
            },
        ));
        Ok(Self {
            addr,
            shutdown,
            http,
            worker,
            background,
        })
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops gracefully: no new connections, in-flight requests and jobs finish.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        if let Some(worker) = self.worker {
            let _ = worker.await;
        }
        for task in self.background {
            let _ = task.await;
        }
        self.http.await.map_err(std::io::Error::other)?
    }

    /// Stops abruptly, as a crash would: nothing is finished or released.
    pub fn abort(self) {
        if let Some(worker) = &self.worker {
            worker.abort();
        }
        for task in &self.background {
            task.abort();
        }
        self.http.abort();
    }

    /// Runs until `signal` completes, then stops gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        signal.await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
