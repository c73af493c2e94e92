//! The sandbox's example backend: the app's own server as the sandbox imagines it, which
//! takes pwa-billing's webhooks. `pwa-billing sandbox` registers it as the endpoint
//! `sandbox-backend` (see [`ENDPOINT`]) with a `whsec_` secret kept in the data directory.
//!
//! - `POST /sandbox/backend/webhooks` verifies each delivery as any receiver must
//!   (Standard Webhooks: the signature over `id.timestamp.body` and a timestamp within five
//!   minutes, with the server's own [`signature::verify`]), answers `400` to anything else,
//!   stores an event once per `webhook-id` (a redelivery is answered `204` and not stored
//!   again) in `backend-events.jsonl` before answering `204`.
//! - `GET /sandbox/backend/events?accountId=…` reads the events stored for one account, in
//!   the order received; with `after=N&waitMs=M` it waits up to `M` ms (at most
//!   [`MAX_WAIT`]) until the account has more than `N` (the demo's live panel).
//!
//! It reads no session: the sandbox signs anyone in by name, and these routes are served on
//! the sandbox's loopback address only.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::db::now_ms;
use crate::webhooks::signature::{self, Secret};

/// The name of its endpoint in `[webhooks.endpoints]`.
pub const ENDPOINT: &str = "sandbox-backend";
/// Where it takes deliveries (the endpoint's URL path).
pub const WEBHOOKS_PATH: &str = "/sandbox/backend/webhooks";
/// Where it answers with an account's events.
pub const EVENTS_PATH: &str = "/sandbox/backend/events";
/// The longest `waitMs` of a read.
pub const MAX_WAIT: Duration = Duration::from_secs(10);
/// The file it stores events in, in the sandbox's data directory.
pub const FILE: &str = "backend-events.jsonl";

/// One delivery it accepted: what a backend keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// Its `webhook-id` header (the same on every redelivery).
    pub webhook_id: String,
    /// The event, the body as received.
    pub event: Value,
}

impl Received {
    /// The account the event is about (`data.accountId`), if any.
    fn account_id(&self) -> Option<&str> {
        self.event["data"]["accountId"].as_str()
    }
}

/// What it stored, and which ids it has seen.
#[derive(Debug, Default)]
struct Store {
    seen: HashSet<String>,
    events: Vec<Received>,
}

/// The example backend; clones share it.
#[derive(Debug, Clone)]
pub struct Receiver(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    secrets: Vec<Secret>,
    path: PathBuf,
    store: Mutex<Store>,
    /// Bumped at each stored event, and at close.
    changed: watch::Sender<u64>,
    closed: AtomicBool,
}

impl Receiver {
    /// A receiver that verifies with `secrets` and keeps its events in `path` (the events
    /// stored there before are read back; a line that does not parse is skipped).
    pub fn open(secrets: Vec<Secret>, path: PathBuf) -> std::io::Result<Self> {
        let mut store = Store::default();
        match File::open(&path) {
            Ok(file) => {
                for line in BufReader::new(file).lines() {
                    let line = line?;
                    match serde_json::from_str::<Received>(&line) {
                        Ok(r) => {
                            if store.seen.insert(r.webhook_id.clone()) {
                                store.events.push(r);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(file = %path.display(), error = %e, "skipped a line of the example backend's events")
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Self(Arc::new(Inner {
            secrets,
            path,
            store: Mutex::new(store),
            changed: watch::channel(0).0,
            closed: AtomicBool::new(false),
        })))
    }

    /// Its routes ([`WEBHOOKS_PATH`], [`EVENTS_PATH`]).
    pub fn router(&self) -> Router {
        Router::new()
            .route(WEBHOOKS_PATH, post(take))
            .route(EVENTS_PATH, get(events))
            .with_state(self.clone())
    }

    /// Ends every waiting read now (at shutdown, so that none holds the server up).
    pub fn close(&self) {
        self.0.closed.store(true, Ordering::SeqCst);
        self.0.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The events stored for `account_id`, in the order received.
    pub fn events_of(&self, account_id: &str) -> Vec<Received> {
        let store = self.0.store.lock().expect("never poisoned");
        store
            .events
            .iter()
            .filter(|r| r.account_id() == Some(account_id))
            .cloned()
            .collect()
    }

    /// Stores `received` unless its id was seen; returns whether it was new. The line is
    /// written and flushed before the delivery is answered: a 2xx means stored.
    fn store(&self, received: Received) -> std::io::Result<bool> {
        let mut store = self.0.store.lock().expect("never poisoned");
        if store.seen.contains(&received.webhook_id) {
            return Ok(false);
        }
        let mut line = serde_json::to_string(&received).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.0.path)?;
        file.write_all(line.as_bytes())?;
        file.flush()?;
        store.seen.insert(received.webhook_id.clone());
        store.events.push(received);
        drop(store);
        self.0.changed.send_modify(|n| *n = n.wrapping_add(1));
        Ok(true)
    }
}

/// A header as text, or why the delivery is refused.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, (StatusCode, String)> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| (StatusCode::BAD_REQUEST, format!("missing header {name}")))
}

/// `POST /sandbox/backend/webhooks`: verify, de-duplicate, store, answer 204.
async fn take(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, (StatusCode, String)> {
    let id = header(&headers, "webhook-id")?;
    signature::verify(
        &receiver.0.secrets,
        id,
        header(&headers, "webhook-timestamp")?,
        header(&headers, "webhook-signature")?,
        &body,
        now_ms() / 1000,
    )
    .map_err(|e| {
        tracing::warn!(webhook_id = %id, error = %e, "the example backend refused a delivery");
        (StatusCode::BAD_REQUEST, e.to_string())
    })?;
    let event: Value = serde_json::from_slice(&body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })?;
    let received = Received {
        webhook_id: id.to_string(),
        event,
    };
    receiver.store(received).map_err(|e| {
        tracing::warn!(error = %e, "the example backend could not store an event");
        // Not stored: a 5xx makes the server deliver it again.
        (StatusCode::SERVICE_UNAVAILABLE, "not stored".to_string())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// The query of `GET /sandbox/backend/events`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventsQuery {
    account_id: String,
    /// How many events of the account the caller has.
    #[serde(default)]
    after: usize,
    /// How long to wait for more than `after` (ms).
    #[serde(default)]
    wait_ms: u64,
}

/// The answer of `GET /sandbox/backend/events`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventsResponse {
    account_id: String,
    events: Vec<Received>,
}

/// `GET /sandbox/backend/events?accountId=…[&after=N&waitMs=M]`.
async fn events(
    State(receiver): State<Receiver>,
    Query(query): Query<EventsQuery>,
) -> Json<EventsResponse> {
    let wait = Duration::from_millis(query.wait_ms).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    // Subscribed before reading: an event stored in between still wakes this read.
    let mut changed = receiver.0.changed.subscribe();
    let events = loop {
        let events = receiver.events_of(&query.account_id);
        if events.len() > query.after || receiver.0.closed.load(Ordering::SeqCst) {
            break events;
        }
        tokio::select! {
            result = changed.changed() => if result.is_err() { break events },
            _ = tokio::time::sleep_until(deadline) => break events,
        }
    };
    Json(EventsResponse {
        account_id: query.account_id,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn event(id: &str, account: &str, kind: &str) -> String {
        serde_json::json!({
            "id": id,
            "type": kind,
            "timestamp": "2026-12-05T08:00:00Z",
            "data": {"accountId": account, "sequence": 1, "purchase": {"itemId": "coins_100", "state": "active"}},
        })
        .to_string()
    }

    fn delivery(id: &str, timestamp: i64, signature: &str, body: &str) -> Request<Body> {
        Request::post(WEBHOOKS_PATH)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    /// A delivery signed as the server signs it (with every secret of `secrets`).
    fn signed(secrets: &[Secret], id: &str, body: &str) -> Request<Body> {
        let now = now_ms() / 1000;
        delivery(
            id,
            now,
            &signature::header(secrets, id, now, body.as_bytes()),
            body,
        )
    }

    async fn status(receiver: &Receiver, request: Request<Body>) -> StatusCode {
        receiver.router().oneshot(request).await.unwrap().status()
    }

    /// Posts `body` as delivery `id`, signed with `secrets`; the answer's status.
    async fn post(receiver: &Receiver, secrets: &[Secret], id: &str, body: &str) -> StatusCode {
        status(receiver, signed(secrets, id, body)).await
    }

    async fn read(receiver: &Receiver, query: &str) -> Value {
        let response = receiver
            .router()
            .oneshot(
                Request::get(format!("{EVENTS_PATH}?{query}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn secret() -> Secret {
        Secret::parse(&Secret::generate()).unwrap()
    }

    /// A forged signature, another secret's, a stale timestamp or a missing header is
    /// refused with 400 and stored nowhere; a redelivered id is answered 204 and counted once.
    #[tokio::test]
    async fn refuses_forgeries_and_counts_a_redelivery_once() {
        let dir = tempfile::tempdir().unwrap();
        let (mine, other) = (secret(), secret());
        let receiver = Receiver::open(vec![mine.clone()], dir.path().join(FILE)).unwrap();
        let body = event("evt_1", "alice", "entitlement.granted");
        let now = now_ms() / 1000;

        let forged = [
            delivery("evt_1", now, "v1,Zm9yZ2VkIHNpZ25hdHVyZQ==", &body),
            signed(std::slice::from_ref(&other), "evt_1", &body),
            // Signed for another body than the one sent.
            delivery("evt_1", now, &mine.sign("evt_1", now, b"{}"), &body),
            // A replay of an old delivery, correctly signed.
            delivery(
                "evt_1",
                now - 3600,
                &mine.sign("evt_1", now - 3600, body.as_bytes()),
                &body,
            ),
            Request::post(WEBHOOKS_PATH)
                .header("webhook-id", "evt_1")
                .body(Body::from(body.clone()))
                .unwrap(),
        ];
        for request in forged {
            assert_eq!(status(&receiver, request).await, StatusCode::BAD_REQUEST);
        }
        assert_eq!(
            read(&receiver, "accountId=alice").await["events"],
            serde_json::json!([])
        );

        // Signed during a rotation (the receiver's secret among others): accepted; the
        // same id again, even re-signed later, is answered 204 and not stored twice.
        let both = [other.clone(), mine.clone()];
        for _ in 0..3 {
            assert_eq!(
                post(&receiver, &both, "evt_1", &body).await,
                StatusCode::NO_CONTENT
            );
        }
        let second = event("evt_2", "alice", "entitlement.consumed");
        assert_eq!(
            post(&receiver, std::slice::from_ref(&mine), "evt_2", &second).await,
            StatusCode::NO_CONTENT
        );
        let bob = event("evt_3", "bob", "entitlement.granted");
        assert_eq!(
            post(&receiver, std::slice::from_ref(&mine), "evt_3", &bob).await,
            StatusCode::NO_CONTENT
        );
        let alice = read(&receiver, "accountId=alice").await;
        let ids: Vec<&str> = alice["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["webhookId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["evt_1", "evt_2"], "{alice}");
        assert_eq!(alice["events"][1]["event"]["type"], "entitlement.consumed");

        // Stored: a restarted receiver has them, and still counts evt_1 once.
        let restarted = Receiver::open(vec![mine.clone()], dir.path().join(FILE)).unwrap();
        assert_eq!(restarted.events_of("alice").len(), 2);
        assert_eq!(
            post(&restarted, &[mine], "evt_1", &body).await,
            StatusCode::NO_CONTENT
        );
        assert_eq!(restarted.events_of("alice").len(), 2);
        assert_eq!(restarted.events_of("bob").len(), 1);
    }

    /// Over HTTP, from the server's own sender (the endpoint the sandbox configures): each
    /// delivery is answered 204, a redelivery of the same id too, and stored once.
    #[tokio::test]
    async fn takes_the_servers_deliveries_once_over_http() {
        let dir = tempfile::tempdir().unwrap();
        let secret = Secret::generate();
        let receiver =
            Receiver::open(vec![Secret::parse(&secret).unwrap()], dir.path().join(FILE)).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(std::future::IntoFuture::into_future(axum::serve(
            listener,
            receiver.router(),
        )));
        let mut config = crate::config::WebhooksConfig::default();
        config.endpoints.insert(
            ENDPOINT.into(),
            crate::config::EndpointConfig {
                url: format!("http://{addr}{WEBHOOKS_PATH}").parse().unwrap(),
                secrets: vec![secret],
                event_types: Vec::new(),
                allow_private: false,
            },
        );
        let endpoint = crate::webhooks::Endpoint::all(&config).remove(0);
        let body = event("evt_http", "alice", "entitlement.granted");
        for _ in 0..2 {
            assert_eq!(
                endpoint.send("evt_http", &body).await,
                crate::webhooks::Attempt::Delivered(204)
            );
        }
        let stored = receiver.events_of("alice");
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].webhook_id, "evt_http");
        assert_eq!(stored[0].event["type"], "entitlement.granted");
        server.abort();
    }

    /// A read with `after` and `waitMs` answers as soon as a new event is stored, and at
    /// once when the receiver closes.
    #[tokio::test]
    async fn a_waiting_read_answers_when_an_event_arrives() {
        let dir = tempfile::tempdir().unwrap();
        let mine = secret();
        let receiver = Receiver::open(vec![mine.clone()], dir.path().join(FILE)).unwrap();
        let started = std::time::Instant::now();
        let waiting = tokio::spawn({
            let receiver = receiver.clone();
            async move { read(&receiver, "accountId=alice&after=0&waitMs=10000").await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Another account's event does not answer alice's read.
        let bob = event("evt_b", "bob", "entitlement.granted");
        assert_eq!(
            post(&receiver, std::slice::from_ref(&mine), "evt_b", &bob).await,
            StatusCode::NO_CONTENT
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished());
        let body = event("evt_a", "alice", "entitlement.granted");
        assert_eq!(
            post(&receiver, &[mine], "evt_a", &body).await,
            StatusCode::NO_CONTENT
        );
        let answer = waiting.await.unwrap();
        assert_eq!(answer["events"][0]["webhookId"], "evt_a");
        assert!(started.elapsed() < Duration::from_secs(5));

        let waiting = tokio::spawn({
            let receiver = receiver.clone();
            async move { read(&receiver, "accountId=alice&after=1&waitMs=10000").await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        receiver.close();
        let answer = tokio::time::timeout(Duration::from_secs(2), waiting)
            .await
            .expect("closing ends the wait")
            .unwrap();
        assert_eq!(answer["events"].as_array().unwrap().len(), 1);
    }
}
