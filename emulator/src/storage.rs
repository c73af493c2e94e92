//! A Cloud Storage bucket on the JSON API, the two calls a report reader makes, modelled on
//! fsouza/fake-gcs-server and Google's answers:
//!
//! - `GET /storage/v1/b/{bucket}/o?prefix=&delimiter=&startOffset=&pageToken=&maxResults=`
//!   lists objects in lexicographic order, at most `maxResults` (default and ceiling 1,000)
//!   a page, with `nextPageToken` while more remain;
//! - `GET /storage/v1/b/{bucket}/o/{object}` answers the object's metadata, or its bytes with
//!   `alt=media` (also under `/download/storage/v1/…`). The name is one path segment, `/`
//!   escaped as `%2F`.
//!
//! Both take a bearer access token from `/token` (scope `devstorage.read_only`). Errors are
//! Google's storage bodies: 404 `No such object: {bucket}/{name}`, 404 for another bucket,
//! 403 naming the missing `storage.objects.*` permission when access is revoked
//! ([`Bucket::denied`], the control API's `PUT /emulator/v1/storage/access`).
//!
//! The bucket holds the monthly reports generated from the emulator's sales
//! ([`crate::reports`], refreshed before every call: an unchanged report keeps its
//! generation, a changed one gets a new one) and whatever the control API uploads.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use md5::Digest;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::state::Model;
use crate::SharedState;

/// The default bucket name (Play's `pubsite_prod_rev_<id>` form).
pub const DEFAULT_BUCKET: &str = "pubsite_prod_rev_01234567890987654321";
/// Most objects in one list page (Google's ceiling and default).
pub const MAX_RESULTS: usize = 1000;

/// One stored object.
#[derive(Debug, Clone)]
pub struct Object {
    /// The bytes.
    pub data: Vec<u8>,
    /// The generation (changes with the content).
    pub generation: i64,
    /// Base64 MD5 of the bytes, as `md5Hash`.
    pub md5_hash: String,
    /// `contentType`.
    pub content_type: String,
    /// `timeCreated` (epoch ms).
    pub created_ms: i64,
    /// `updated` (epoch ms).
    pub updated_ms: i64,
}

/// The bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// Its name.
    pub name: String,
    /// Objects by name.
    pub objects: BTreeMap<String, Object>,
    /// Names of the objects generated from the reports (replaced on every refresh).
    pub generated: BTreeSet<String>,
    /// Access revoked: every call answers 403 (a service account without the Play Console
    /// permission).
    pub denied: bool,
    last_generation: i64,
}

impl Bucket {
    /// An empty bucket.
    pub fn new(name: &str) -> Bucket {
        Bucket {
            name: name.to_string(),
            objects: BTreeMap::new(),
            generated: BTreeSet::new(),
            denied: false,
            last_generation: 0,
        }
    }

    /// Stores an object; a new generation only if the bytes changed. Returns whether they did.
    pub fn put(&mut self, name: &str, data: Vec<u8>, content_type: &str, now_ms: i64) -> bool {
        let md5_hash = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&data));
        if self
            .objects
            .get(name)
            .is_some_and(|o| o.md5_hash == md5_hash)
        {
            return false;
        }
        // Generations are microsecond timestamps, strictly increasing.
        self.last_generation = (now_ms * 1000).max(self.last_generation + 1);
        let created_ms = self.objects.get(name).map_or(now_ms, |o| o.created_ms);
        self.objects.insert(
            name.to_string(),
            Object {
                data,
                generation: self.last_generation,
                md5_hash,
                content_type: content_type.to_string(),
                created_ms,
                updated_ms: now_ms,
            },
        );
        true
    }

    /// An object's metadata resource (`storage#object`).
    pub fn resource(&self, name: &str, o: &Object, base_url: &str) -> Value {
        let escaped = escape(name);
        json!({
            "kind": "storage#object",
            "id": format!("{}/{name}/{}", self.name, o.generation),
            "selfLink": format!("{base_url}/storage/v1/b/{}/o/{escaped}", self.name),
            "mediaLink": format!("{base_url}/download/storage/v1/b/{}/o/{escaped}?generation={}&alt=media", self.name, o.generation),
            "name": name,
            "bucket": self.name,
            "generation": o.generation.to_string(),
            "metageneration": "1",
            "contentType": o.content_type,
            "storageClass": "STANDARD",
            "size": o.data.len().to_string(),
            "md5Hash": o.md5_hash,
            "etag": format!("CL{}EAE=", o.generation),
            "timeCreated": rfc3339(o.created_ms),
            "updated": rfc3339(o.updated_ms),
        })
    }
}

/// A path segment with everything but unreserved characters percent-escaped (`/` → `%2F`).
pub fn escape(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Model {
    /// Regenerates the report objects from the sales so far: unchanged ones keep their
    /// generation, reports no longer produced (after a reset) disappear.
    pub(crate) fn refresh_reports(&mut self) {
        let now = self.now_ms();
        let objects = crate::reports::objects(self);
        let names: BTreeSet<String> = objects.iter().map(|(n, _, _)| n.clone()).collect();
        for stale in self.bucket.generated.difference(&names) {
            self.bucket.objects.remove(stale);
        }
        for (name, data, content_type) in objects {
            self.bucket.put(&name, data, content_type, now);
        }
        self.bucket.generated = names;
    }
}

/// The Cloud Storage routes and their control routes.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/storage/v1/b/{bucket}/o", get(list))
        .route("/storage/v1/b/{bucket}/o/{object}", get(object))
        .route("/download/storage/v1/b/{bucket}/o/{object}", get(object))
        .route("/storage/v1/b/{bucket}/o/{object}/{*rest}", get(unescaped))
        .route("/emulator/v1/storage/objects", post(upload))
        .route("/emulator/v1/storage/access", put(set_access))
        .route("/emulator/v1/storage/hidden-orders", post(hide_order))
}

/// Google's storage error body.
fn error(code: u16, reason: &str, message: String) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(json!({ "error": {
            "code": code,
            "message": message,
            "errors": [{ "message": message, "domain": "global", "reason": reason }],
        }})),
    )
        .into_response()
}

/// Counts the call, applies faults, checks the bearer token, the bucket and the access;
/// refreshes the reports.
async fn enter(
    state: &crate::Shared,
    headers: &HeaderMap,
    bucket: &str,
    method_id: &str,
    permission: &str,
) -> Result<(), Response> {
    if let Some(injected) = crate::faults::enter(state, method_id).await {
        return Err(injected.into_response(|e| error(e.code, e.reason, e.message)));
    }
    if let Err(e) = crate::oauth::check_bearer(state, headers) {
        return Err(error(e.code, e.reason, e.message));
    }
    let mut m = state.lock();
    m.settle();
    if bucket != m.bucket.name {
        return Err(error(
            404,
            "notFound",
            "The specified bucket does not exist.".into(),
        ));
    }
    if m.bucket.denied {
        return Err(error(
            403,
            "forbidden",
            format!(
                "{} does not have {permission} access to the Google Cloud Storage bucket. \
                 Permission '{permission}' denied on resource (or it may not exist).",
                state.keys.client_email
            ),
        ));
    }
    m.refresh_reports();
    Ok(())
}

/// The list query.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    prefix: Option<String>,
    delimiter: Option<String>,
    start_offset: Option<String>,
    page_token: Option<String>,
    max_results: Option<String>,
}

async fn list(
    State(state): State<SharedState>,
    Path(bucket): Path<String>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = enter(
        &state,
        &headers,
        &bucket,
        "storage.objects.list",
        "storage.objects.list",
    )
    .await
    {
        return r;
    }
    let max = match q.max_results.as_deref().map(str::parse::<usize>) {
        None => MAX_RESULTS,
        Some(Ok(n)) if n > 0 => n.min(MAX_RESULTS),
        Some(_) => {
            return error(
                400,
                "invalid",
                format!(
                    "Invalid unsigned integer value: '{}'.",
                    q.max_results.unwrap_or_default()
                ),
            )
        }
    };
    let after = match q.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => match base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            Some(name) => Some(name),
            None => return error(400, "invalid", "Invalid page token.".into()),
        },
    };
    let prefix = q.prefix.unwrap_or_default();
    let m = state.lock();
    let mut items = Vec::new();
    let mut prefixes = BTreeSet::new();
    let mut next = None;
    let start = after.clone().or(q.start_offset.clone()).unwrap_or_default();
    for (name, o) in m.bucket.objects.range(start..) {
        if after.as_deref() == Some(name.as_str()) || !name.starts_with(&prefix) {
            continue;
        }
        if let Some(d) = q.delimiter.as_deref().filter(|d| !d.is_empty()) {
            if let Some(i) = name[prefix.len()..].find(d) {
                prefixes.insert(name[..prefix.len() + i + d.len()].to_string());
                continue;
            }
        }
        if items.len() == max {
            let last = items
                .last()
                .and_then(|i: &Value| i["name"].as_str())
                .unwrap_or_default();
            next = Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last));
            break;
        }
        items.push(m.bucket.resource(name, o, &state.base_url));
    }
    let mut body = json!({ "kind": "storage#objects" });
    if !items.is_empty() {
        body["items"] = Value::Array(items);
    }
    if !prefixes.is_empty() {
        body["prefixes"] = json!(prefixes);
    }
    if let Some(token) = next {
        body["nextPageToken"] = Value::String(token);
    }
    Json(body).into_response()
}

/// The object query.
#[derive(Debug, Default, Deserialize)]
struct ObjectQuery {
    alt: Option<String>,
    generation: Option<String>,
}

async fn object(
    State(state): State<SharedState>,
    Path((bucket, name)): Path<(String, String)>,
    Query(q): Query<ObjectQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = enter(
        &state,
        &headers,
        &bucket,
        "storage.objects.get",
        "storage.objects.get",
    )
    .await
    {
        return r;
    }
    let m = state.lock();
    let found = m.bucket.objects.get(&name).filter(|o| {
        q.generation
            .as_deref()
            .is_none_or(|g| g == o.generation.to_string())
    });
    let Some(o) = found else {
        return error(
            404,
            "notFound",
            format!("No such object: {}/{name}", m.bucket.name),
        );
    };
    match q.alt.as_deref() {
        Some("media") => (
            [
                (header::CONTENT_TYPE, o.content_type.clone()),
                (
                    header::HeaderName::from_static("x-goog-generation"),
                    o.generation.to_string(),
                ),
                (
                    header::HeaderName::from_static("x-goog-hash"),
                    format!("md5={}", o.md5_hash),
                ),
            ],
            o.data.clone(),
        )
            .into_response(),
        None | Some("json") => Json(m.bucket.resource(&name, o, &state.base_url)).into_response(),
        Some(other) => error(400, "invalid", format!("Invalid value for alt: '{other}'.")),
    }
}

/// An object name with an unescaped `/`: Google finds no such route.
async fn unescaped() -> Response {
    error(404, "notFound", "Not Found".into())
}

/// `POST /emulator/v1/storage/objects?name=…` with the bytes as the body (and their
/// `Content-Type`): stores an object, as Play Console would.
async fn upload(
    State(state): State<SharedState>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let name = q
        .get("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("the query parameter `name` is required"))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let mut m = state.lock();
    let now = m.now_ms();
    m.bucket.put(name, body.to_vec(), content_type, now);
    let o = &m.bucket.objects[name.as_str()];
    Ok(Json(m.bucket.resource(name, o, &state.base_url)))
}

/// `PUT /emulator/v1/storage/access`: `{"denied": true}` makes every bucket call answer 403.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Access {
    denied: bool,
}

async fn set_access(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let access: Access = crate::control::parse(&body)?;
    state.lock().bucket.denied = access.denied;
    Ok(Json(json!({ "denied": access.denied })))
}

/// `POST /emulator/v1/storage/hidden-orders` `{"orderId": "GPA…"}`: leaves an order out of
/// every report, as though Play had never charged it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HideOrder {
    order_id: String,
}

async fn hide_order(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let hide: HideOrder = crate::control::parse(&body)?;
    state
        .lock()
        .ledger
        .hidden_orders
        .insert(hide.order_id.clone());
    Ok(Json(json!({ "orderId": hide.order_id })))
}
