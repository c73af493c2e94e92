//! Webhooks to the app's backend, end to end against the emulator: a receiver written with
//! the official `standardwebhooks` npm package (`webhook_receiver.mjs`, not this project's
//! code) verifies every delivery; the event feed and the server-to-server lookups.

use crate::common;
use crate::rtdn_support;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use pwa_billing_server::config::{Config, EndpointConfig, WebhooksConfig};
use pwa_billing_server::webhooks::cli::{self, WebhooksCommand};
use pwa_billing_server::webhooks::signature::Secret;
use reqwest::{Method, StatusCode};
use rtdn_support::*;
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;

/// The receiver: a node process verifying with `standardwebhooks`; killed when dropped.
struct Receiver {
    _process: tokio::process::Child,
    url: String,
    secret: String,
    http: reqwest::Client,
}

impl Receiver {
    async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let secret = Secret::generate();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/webhook_receiver.mjs");
        let mut process = tokio::process::Command::new("node")
            .arg(script)
            .arg(&secret)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (scripts/install-tools.sh node)");
        let stdout = process.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the receiver starts")
            .unwrap()
            .expect("the receiver prints its port (is `standardwebhooks` installed? npm ci)");
        let port = line.strip_prefix("listening ").expect("listening <port>");
        Self {
            _process: process,
            url: format!("http://127.0.0.1:{port}"),
            secret,
            http: reqwest::Client::new(),
        }
    }

    async fn mode(&self, mode: &str) {
        let r = self
            .http
            .put(format!("{}/mode/{mode}", self.url))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    async fn received(&self) -> Value {
        self.http
            .get(format!("{}/received", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// How many times each webhook-id was accepted.
    async fn accepted(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for d in self.received().await["accepted"].as_array().unwrap() {
            *out.entry(d["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        out
    }

    fn endpoint(&self, secrets: Vec<String>) -> EndpointConfig {
        EndpointConfig {
            url: format!("{}/hook", self.url).parse().unwrap(),
            secrets,
            event_types: Vec::new(),
            allow_private: false,
        }
    }
}

/// The webhook settings of the tests: fast retries, short timeouts.
fn webhooks(endpoint: EndpointConfig) -> WebhooksConfig {
    WebhooksConfig {
        endpoints: [("backend".to_string(), endpoint)].into(),
        timeout: Duration::from_millis(500),
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        poll_interval: Duration::from_millis(50),
        ..WebhooksConfig::default()
    }
}

/// `pwa-billing webhooks list [--failed]`'s output.
async fn deliveries(h: &Harness, failed: bool) -> String {
    cli::run(&h.state, WebhooksCommand::List { failed, limit: 100 })
        .await
        .unwrap()
}

/// Every published event, from the feed.
async fn feed(h: &Harness) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = h
            .request(
                Method::GET,
                &format!("/v1/events?after={after}&limit=50"),
                ADMIN_KEY,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let events = page["events"].as_array().unwrap().clone();
        if events.is_empty() {
            return out;
        }
        after = page["cursor"].as_i64().unwrap();
        out.extend(events);
    }
}

/// Waits until the receiver has accepted every event of the feed, and at least `at_least`.
async fn all_delivered(h: &Harness, r: &Receiver, at_least: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let events = feed(h).await;
        let accepted = r.accepted().await;
        if events.len() >= at_least
            && events
                .iter()
                .all(|e| accepted.contains_key(e["id"].as_str().unwrap()))
        {
            return events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not every event delivered: {} event(s), accepted {accepted:?}",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_change_is_delivered_once_signed_and_in_the_feed() {
    let r = Receiver::start().await;
    // A rotation: the old secret and the receiver's both sign every delivery.
    let secrets = vec![Secret::generate(), r.secret.clone()];
    let h = pushed_with(|c| c.webhooks = webhooks(r.endpoint(secrets))).await;
    let c = catalog();

    let sub = h.verified("alice", &c.subscription).await;
    wait_state(&h, "alice", &sub, "active").await;
    for (action, state) in [
        ("grace", "grace_period"),
        ("recover", "active"),
        ("renew", "active"),
        ("cancel", "canceled"),
        ("expire", "expired"),
    ] {
        h.emulator_action(&sub, action, json!({})).await;
        wait_processed(&h, &sub).await;
        wait_state(&h, "alice", &sub, state).await;
    }
    let coins = h.buy(&c.consumable, json!({"quantity": 3})).await;
    assert_eq!(
        h.verify("alice", &c.consumable, &coins).await.0,
        StatusCode::OK
    );
    wait_state(&h, "alice", &coins, "consumed").await;
    h.emulator_action(&coins, "void", json!({"quantity": 1}))
        .await;
    h.eventually("the partial refund", || async {
        entitlement(&h, "alice", &coins).await.unwrap()["quantity"] == json!(2)
    })
    .await;
    // A license tester's purchase: marked `test`.
    let one_time = h.buy(&c.non_consumable, json!({"test": true})).await;
    assert_eq!(
        h.verify("bob", &c.non_consumable, &one_time).await.0,
        StatusCode::OK
    );
    h.wait_acknowledged("bob", &c.non_consumable, &one_time)
        .await;
    h.emulator_action(&one_time, "void", json!({})).await;
    wait_state(&h, "bob", &one_time, "revoked").await;

    // A pending subscription, paid later; an upgrade replaces it.
    let pending = h.buy(&c.subscription, json!({"state": "pending"})).await;
    assert_eq!(
        h.verify("carol", &c.subscription, &pending).await.0,
        StatusCode::ACCEPTED
    );
    h.emulator_action(&pending, "complete", json!({})).await;
    wait_state(&h, "carol", &pending, "active").await;
    let upgraded = h
        .replace(&pending, &c.other_subscription, "chargeProratedPrice")
        .await;
    wait_state(&h, "carol", &upgraded, "active").await;
    wait_state(&h, "carol", &pending, "replaced").await;

    let events = all_delivered(&h, &r, 15).await;
    let accepted = r.accepted().await;
    for e in &events {
        assert_eq!(
            accepted[e["id"].as_str().unwrap()],
            1,
            "delivered once: {e}"
        );
    }
    assert_eq!(accepted.len(), events.len(), "nothing but the events");
    assert_eq!(r.received().await["rejected"], 0);
    let delivered: BTreeMap<String, Value> = r.received().await["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_string(), d["body"].clone()))
        .collect();
    for e in &events {
        assert_eq!(
            &delivered[e["id"].as_str().unwrap()],
            e,
            "the feed holds what was delivered"
        );
    }

    let of = |token: &str| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["data"]["purchase"]["purchaseToken"] == json!(token))
            .cloned()
            .collect()
    };
    let sub_events = of(&sub);
    assert_eq!(
        types(&sub_events),
        [
            "entitlement.granted",
            "entitlement.state_changed",
            "entitlement.state_changed",
            "entitlement.renewed",
            "entitlement.state_changed",
            "entitlement.state_changed",
        ]
    );
    let states: Vec<(&Value, &Value)> = sub_events
        .iter()
        .map(|e| {
            (
                &e["data"]["previousState"],
                &e["data"]["entitlement"]["state"],
            )
        })
        .collect();
    assert_eq!(states[1], (&json!("active"), &json!("grace_period")));
    assert_eq!(
        states[2],
        (&json!("grace_period"), &json!("active")),
        "recovered"
    );
    assert_eq!(states[5], (&json!("canceled"), &json!("expired")));
    for (i, e) in sub_events.iter().enumerate() {
        assert_eq!(e["data"]["sequence"], json!(i + 1), "{e}");
        assert_eq!(e["data"]["accountId"], "alice");
        assert_eq!(e["data"]["test"], e["data"]["entitlement"]["test"]);
    }
    let coin_events = of(&coins);
    assert_eq!(
        types(&coin_events),
        [
            "entitlement.granted",
            "entitlement.consumed",
            "entitlement.refunded"
        ]
    );
    assert_eq!(
        coin_events[2]["data"]["refund"],
        json!({"quantity": 1, "full": false})
    );
    let one_time_events = of(&one_time);
    assert_eq!(
        types(&one_time_events),
        ["entitlement.granted", "entitlement.refunded"],
        "a voided purchase is refunded in full"
    );
    assert_eq!(
        one_time_events[1]["data"]["entitlement"]["state"],
        "revoked"
    );
    assert_eq!(one_time_events[1]["data"]["refund"]["full"], true);
    assert!(
        one_time_events.iter().all(|e| e["data"]["test"] == true),
        "a test purchase is marked"
    );
    assert!(sub_events.iter().all(|e| e["data"]["test"] == false));
    assert_eq!(
        types(&of(&pending)),
        [
            "purchase.pending",
            "entitlement.granted",
            "entitlement.replaced"
        ]
    );
    assert_eq!(
        of(&pending)[0]["data"]["entitlement"],
        Value::Null,
        "nothing granted while pending"
    );
    assert_eq!(types(&of(&upgraded)), ["entitlement.granted"]);

    // The server-to-server lookups, with a server API key only.
    let (status, mine) = h
        .request(
            Method::GET,
            "/v1/entitlements",
            &Harness::bearer("alice"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, theirs) = h
        .request(
            Method::GET,
            "/v1/accounts/alice/entitlements",
            ADMIN_KEY,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine, theirs);
    let (status, _) = h
        .request(
            Method::GET,
            "/v1/accounts/alice/entitlements",
            &Harness::bearer("alice"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a user's JWT is not a server key"
    );
    let (status, lookup) = h
        .request(
            Method::GET,
            &format!("/v1/purchases/{sub}"),
            ADMIN_KEY,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{lookup}");
    assert_eq!(lookup["accountId"], "alice");
    assert_eq!(lookup["state"], "expired");
    assert_eq!(lookup["history"].as_array().unwrap(), &sub_events);
    assert!(lookup["googleLastReadAt"].is_string());
    let (status, _) = h
        .request(Method::GET, "/v1/purchases/no-such-token", ADMIN_KEY, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, bob) = h
        .request(Method::GET, "/v1/events?accountId=bob", ADMIN_KEY, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bob["events"].as_array().unwrap(), &one_time_events);
}

#[tokio::test]
async fn a_receiver_down_for_six_hours_gets_everything_then_failures_replay() {
    let r = Receiver::start().await;
    let mut h = Harness::with(|c| {
        c.webhooks = WebhooksConfig {
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            ..webhooks(r.endpoint(vec![r.secret.clone()]))
        }
    })
    .await;
    let c = catalog();
    r.mode("down").await;
    let first = h.verified("alice", &c.non_consumable).await;
    let second = h.verified("bob", &c.subscription).await;
    let clock = h.state.webhooks.clock().clone();
    // Six hours of the senders' clock, ten minutes at a time, the receiver answering 503.
    for _ in 0..36 {
        clock.advance(Duration::from_secs(600));
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let listed = deliveries(&h, false).await;
    assert!(
        listed.contains("pending") && listed.contains("last=503"),
        "{listed}"
    );
    assert!(r.accepted().await.is_empty());
    r.mode("up").await;
    clock.advance(Duration::from_secs(3600));
    let events = all_delivered(&h, &r, 2).await;
    let accepted = r.accepted().await;
    for e in &events {
        assert_eq!(
            accepted[e["id"].as_str().unwrap()],
            1,
            "none lost, none twice: {e}"
        );
    }
    for token in [&first, &second] {
        assert!(events
            .iter()
            .any(|e| e["data"]["purchase"]["purchaseToken"] == json!(token)));
    }

    // Past webhooks.max_age_secs a delivery fails; a replay sends it again, same id.
    h.restart_with(|c| c.webhooks.max_age = Duration::from_secs(3600))
        .await;
    r.mode("down").await;
    let third = h.verified("carol", &c.non_consumable).await;
    let clock = h.state.webhooks.clock().clone();
    let mut failed = String::new();
    for _ in 0..40 {
        clock.advance(Duration::from_secs(600));
        tokio::time::sleep(Duration::from_millis(60)).await;
        failed = deliveries(&h, true).await;
        if failed.contains("entitlement.granted") {
            break;
        }
    }
    assert!(failed.contains("failed"), "{failed}");
    let event = failed.split_whitespace().next().unwrap().to_string();
    r.mode("up").await;
    let out = cli::run(
        &h.state,
        WebhooksCommand::Replay {
            event: Some(event.clone()),
            since: None,
        },
    )
    .await
    .unwrap();
    assert!(out.starts_with("1 deliveries of 1 event(s)"), "{out}");
    h.eventually("the replayed event", || async {
        r.accepted().await.contains_key(&event)
    })
    .await;
    let received = r.received().await;
    let body = &received["accepted"].as_array().unwrap().last().unwrap()["body"];
    assert_eq!(body["data"]["purchase"]["purchaseToken"], json!(third));
}

#[tokio::test]
async fn a_crash_during_deliveries_loses_nothing() {
    let r = Receiver::start().await;
    let mut h = Harness::with(|c| c.webhooks = webhooks(r.endpoint(vec![r.secret.clone()]))).await;
    let c = catalog();
    // The receiver holds every delivery open: the crash comes while they are in flight.
    r.mode("hang").await;
    for account in ["alice", "bob", "carol"] {
        h.verified(account, &c.non_consumable).await;
    }
    h.eventually("deliveries in flight", || async {
        let listed = deliveries(&h, false).await;
        listed.matches("attempts=1").count() == 3
    })
    .await;
    h.crash().await;
    r.mode("up").await;
    h.start().await;
    let events = all_delivered(&h, &r, 3).await;
    assert_eq!(types(&events), ["entitlement.granted"; 3]);
}

#[tokio::test]
async fn two_replicas_deliver_each_event_once() {
    let r = Receiver::start().await;
    let h = Harness::with(|c| c.webhooks = webhooks(r.endpoint(vec![r.secret.clone()]))).await;
    let other = h.replica().await;
    let c = catalog();
    let mut requests = Vec::new();
    for i in 0..12 {
        let token = h.buy(&c.non_consumable, json!({})).await;
        let base = if i % 2 == 0 { h.url("") } else { other.url() };
        requests.push((
            format!("{base}/v1/purchases/verify"),
            format!("account-{i}"),
            c.non_consumable.clone(),
            token,
        ));
    }
    for (_, status) in h.verify_concurrently(requests).await {
        assert_eq!(status, StatusCode::OK);
    }
    let events = all_delivered(&h, &r, 12).await;
    let accepted = r.accepted().await;
    assert_eq!(accepted.len(), 12);
    for e in &events {
        assert_eq!(
            accepted[e["id"].as_str().unwrap()],
            1,
            "delivered once: {e}"
        );
    }
    let (_, page) = h
        .request(Method::GET, "/v1/events?limit=100", ADMIN_KEY, None)
        .await;
    assert_eq!(page["cursor"], 12, "feed positions 1..=12, no gap");
    other.stop().await.unwrap();
}

#[tokio::test]
async fn wrong_secrets_redirects_and_private_addresses_are_refused() {
    let r = Receiver::start().await;
    // Signed with a secret the receiver does not have: refused there, retried here.
    let h = Harness::with(|c| c.webhooks = webhooks(r.endpoint(vec![Secret::generate()]))).await;
    let c = catalog();
    h.verified("alice", &c.non_consumable).await;
    h.eventually("a forged signature refused", || async {
        r.received().await["rejected"].as_u64().unwrap() >= 2
    })
    .await;
    assert!(r.accepted().await.is_empty());
    let listed = deliveries(&h, false).await;
    assert!(
        listed.contains("pending") && listed.contains("last=400"),
        "{listed}"
    );

    // A redirect is not followed: the delivery stays pending with the 307.
    r.mode("redirect").await;
    let out = cli::run(&h.state, WebhooksCommand::SendTest { endpoint: None }).await;
    let err = out.unwrap_err().to_string();
    assert!(err.contains("answered 307"), "{err}");
    assert_eq!(
        r.received().await["elsewhere"],
        0,
        "the redirect was not followed"
    );

    // send-test reaches a receiver that has the secret.
    r.mode("up").await;
    let good = Harness::with(|c| c.webhooks = webhooks(r.endpoint(vec![r.secret.clone()]))).await;
    let out = cli::run(&good.state, WebhooksCommand::SendTest { endpoint: None })
        .await
        .unwrap();
    assert!(out.contains("delivered (204)"), "{out}");

    // Private and link-local addresses, plain http to a public host: refused at load.
    for (url, allow_private, refused) in [
        ("https://10.0.0.7/hook", false, true),
        ("https://169.254.169.254/latest/meta-data", false, true),
        ("https://[fd12::1]/hook", false, true),
        ("http://backend.example/hook", false, true),
        ("https://10.0.0.7/hook", true, false),
        ("https://backend.example/hook", false, false),
    ] {
        let mut config: Config = h.config.clone();
        config.catalog = None;
        config.webhooks.endpoints.insert(
            "backend".into(),
            EndpointConfig {
                url: url.parse().unwrap(),
                secrets: vec![Secret::generate()],
                event_types: vec!["entitlement.granted".into()],
                allow_private,
            },
        );
        let result = config.validate();
        assert_eq!(result.is_err(), refused, "{url}: {result:?}");
        if let Err(e) = result {
            assert_eq!(e.key, "webhooks.endpoints.backend.url");
        }
    }
}

#[tokio::test]
async fn the_sandbox_delivers_to_a_local_receiver() {
    let r = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (www, pkg) = (dir.path().join("www"), dir.path().join("pkg"));
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    let config = dir.path().join("sandbox.toml");
    std::fs::write(
        &config,
        format!(
            "[webhooks.endpoints.local]\nurl = \"{}/hook\"\nsecrets = [\"{}\"]\n",
            r.url, r.secret
        ),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pwa-billing"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("PWA_BILLING_CONFIG", &config)
        .args([
            "sandbox",
            "--port",
            "0",
            "--emulator-port",
            "0",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .arg("--www")
        .arg(&www)
        .arg("--pkg")
        .arg(&pkg)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the sandbox starts")
            .unwrap()
            .expect("the sandbox says where it listens");
        if let Some(url) = line.strip_prefix("pwa-billing sandbox listening on ") {
            break url.to_string();
        }
    };
    let http = pwa_billing_server::play::http_client(Duration::from_secs(30));
    let sandbox: Value = http
        .get(format!("{base}/v1/dev/sandbox"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let control = play_emulator::ControlClient::with_http(
        http.clone(),
        sandbox["emulatorUrl"].as_str().unwrap(),
    );
    let session: Value = http
        .post(format!("{base}/v1/dev/session"))
        .json(&json!({"accountId": "alice"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = control.buy("premium_unlock").await.unwrap();
    let verified = http
        .post(format!("{base}/v1/purchases/verify"))
        .bearer_auth(session["token"].as_str().unwrap())
        .json(&json!({"itemId": "premium_unlock", "purchaseToken": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let received = r.received().await;
        let granted = received["accepted"].as_array().unwrap().iter().find(|d| {
            d["body"]["type"] == "entitlement.granted"
                && d["body"]["data"]["purchase"]["purchaseToken"] == json!(token)
        });
        if let Some(d) = granted {
            assert_eq!(d["body"]["data"]["accountId"], "alice");
            assert_eq!(d["body"]["data"]["entitlement"]["itemId"], "premium_unlock");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not delivered: {received}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
