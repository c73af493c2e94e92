//! RTDN wiring for the lifecycle tests: the emulator pushes its notifications, signed, to
//! the server's `/v1/rtdn`, whose configuration trusts the emulator's JWKS.
#![allow(dead_code)]

use std::time::Duration;

use pwa_billing_server::config::{Config, RtdnConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::Harness;

/// The audience the push tokens carry.
pub const AUDIENCE: &str = "https://billing.example.test/v1/rtdn";

/// Configures `/v1/rtdn` to trust the emulator of this configuration.
pub fn trust_emulator(c: &mut Config) {
    c.rtdn = RtdnConfig {
        jwks_url: c
            .play_api_base_url
            .join("emulator/v1/oidc/certs")
            .expect("JWKS URL"),
        audience: Some(AUDIENCE.into()),
        service_account_email: Some(play_emulator::Config::default().rtdn.service_account_email),
    };
}

/// A harness whose emulator pushes every notification to the server.
pub async fn pushed() -> Harness {
    pushed_with(|_| {}).await
}

/// [`pushed`] with a configuration `adjust` may change.
pub async fn pushed_with(adjust: impl FnOnce(&mut Config)) -> Harness {
    let h = Harness::with(|c| {
        trust_emulator(c);
        adjust(c);
    })
    .await;
    push_on(&h);
    h
}

/// Points the emulator's push at the server.
pub fn push_on(h: &Harness) {
    h.emulator
        .set_rtdn_push(Some(h.url("/v1/rtdn")), Some(AUDIENCE.into()));
}

/// Stops pushing (notifications are only recorded).
pub fn push_off(h: &Harness) {
    h.emulator.set_rtdn_push(None, None);
}

/// The message ids of the notifications about `token`, oldest first.
pub fn messages_about(h: &Harness, token: &str) -> Vec<(String, Value)> {
    h.emulator
        .notifications()
        .into_iter()
        .filter(|n| n.data.to_string().contains(token))
        .map(|n| (n.message_id, n.data))
        .collect()
}

/// Redelivers a message (`forge`: a spoiled token); returns the endpoint's status for a
/// forged push, 202 for a genuine redelivery (retried until acknowledged).
pub async fn redeliver(h: &Harness, message_id: &str, forge: Option<&str>) -> (StatusCode, Value) {
    let body = match forge {
        Some(f) => json!({ "forge": f }),
        None => json!({}),
    };
    let response = h
        .http
        .post(format!(
            "{}/emulator/v1/notifications/{message_id}:redeliver",
            h.emulator.url()
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The caller's entitlement of `token`, if listed.
pub async fn entitlement(h: &Harness, account: &str, token: &str) -> Option<Value> {
    h.entitlements(account)
        .await
        .into_iter()
        .find(|e| e["purchaseToken"] == json!(token))
}

/// Waits until the entitlement of `token` is in `state`; returns it.
pub async fn wait_state(h: &Harness, account: &str, token: &str, state: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let e = entitlement(h, account, token).await;
        if e.as_ref().is_some_and(|e| e["state"] == json!(state)) {
            return e.unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {state}: {e:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every notification about `token` was acknowledged by the server and its
/// processing job is done.
pub async fn wait_processed(h: &Harness, token: &str) {
    let db = h.state.db.clone();
    h.eventually("the notifications to be processed", || {
        let db = db.clone();
        let notes = h.emulator.notifications();
        async move {
            for n in notes.iter().filter(|n| n.data.to_string().contains(token)) {
                if !n.delivered {
                    return false;
                }
                let job = pwa_billing_server::db::outbox::status_by_key(
                    &db,
                    &format!("rtdn:{}", n.message_id),
                )
                .await
                .unwrap();
                if !matches!(
                    job,
                    Some((pwa_billing_server::db::outbox::JobStatus::Done, _))
                ) {
                    return false;
                }
            }
            true
        }
    })
    .await;
}

/// `POST /emulator/v1/clock:advance`.
pub async fn advance_clock(h: &Harness, seconds: u64) {
    let seconds = i64::try_from(seconds).expect("seconds");
    h.control().advance_clock(seconds).await.unwrap();
}
