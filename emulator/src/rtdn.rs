//! Real-time developer notifications: Pub/Sub push envelopes signed with an OIDC JWT,
//! retried with exponential backoff until the endpoint answers 2xx (or 102), like Pub/Sub.
//!
//! Each notification is delivered by its own task, so one failing message never holds back
//! the others (Pub/Sub without ordering keys does not order either). A `reset` stops the
//! retries of notifications sent before it.

use std::sync::{Arc, Weak};
use std::time::Duration;

use base64::Engine;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::clock::{real_now_secs, rfc3339};
use crate::oauth::SigningKey;
use crate::Shared;

/// A notification as recorded (`GET /emulator/v1/notifications`) and pushed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRecord {
    /// Pub/Sub message id.
    pub message_id: String,
    /// Publish time (virtual clock), RFC 3339.
    pub publish_time: String,
    /// The decoded `DeveloperNotification`.
    pub data: Value,
    /// Push attempts so far.
    pub attempts: u32,
    /// Whether the endpoint acknowledged it (2xx/102).
    pub delivered: bool,
    /// The last HTTP status the endpoint answered (none on a connection failure).
    pub last_status: Option<u16>,
    #[serde(skip)]
    pub(crate) generation: u64,
}

impl NotificationRecord {
    pub(crate) fn new(data: Value, publish_ms: i64, generation: u64) -> Self {
        let message_id: u64 =
            rand::thread_rng().gen_range(1_000_000_000_000_000..10_000_000_000_000_000);
        NotificationRecord {
            message_id: message_id.to_string(),
            publish_time: rfc3339(publish_ms),
            data,
            attempts: 0,
            delivered: false,
            last_status: None,
            generation,
        }
    }

    /// The Pub/Sub push envelope (camelCase fields, and Pub/Sub's snake_case duplicates).
    pub fn envelope(&self, subscription: &str) -> Value {
        let data = base64::engine::general_purpose::STANDARD.encode(self.data.to_string());
        json!({
            "message": {
                "attributes": {},
                "data": data,
                "messageId": self.message_id,
                "message_id": self.message_id,
                "publishTime": self.publish_time,
                "publish_time": self.publish_time,
            },
            "subscription": subscription,
        })
    }
}

/// The sending half: the model hands each new notification to the pusher through it.
#[derive(Debug, Clone, Default)]
pub struct Outbox(Option<UnboundedSender<NotificationRecord>>);

impl Outbox {
    pub(crate) fn channel() -> (Outbox, UnboundedReceiver<NotificationRecord>) {
        let (tx, rx) = unbounded_channel();
        (Outbox(Some(tx)), rx)
    }

    pub(crate) fn send(&self, record: &NotificationRecord) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(record.clone());
        }
    }
}

/// Runs until the emulator is dropped: starts one delivery task per notification.
pub(crate) async fn pusher(shared: Weak<Shared>, mut rx: UnboundedReceiver<NotificationRecord>) {
    while let Some(record) = rx.recv().await {
        tokio::spawn(deliver(shared.clone(), record));
    }
}

/// A way to spoil a push's OIDC token, to check that a push endpoint refuses it
/// (`POST /emulator/v1/notifications/{messageId}:redeliver {"forge": …}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Forge {
    /// `aud` is another audience.
    Audience,
    /// `iss` is not Google's.
    Issuer,
    /// `exp` is an hour ago.
    Expired,
    /// `email` is another service account.
    Email,
    /// `email_verified` is false.
    Unverified,
    /// Signed by another key, under the real key's `kid`.
    Signature,
    /// Signed by another key whose `kid` is not in the JWKS.
    UnknownKey,
    /// No `Authorization` header at all.
    NoToken,
}

/// Pushes a record once; `Ok(status)` (None: no answer), `Err` without a push URL.
pub(crate) async fn push_once(
    shared: &Arc<Shared>,
    record: &NotificationRecord,
    forge: Option<Forge>,
) -> Result<Option<u16>, String> {
    let target = shared.rtdn.read().map(|c| c.clone()).unwrap_or_default();
    let url = target
        .push_url
        .clone()
        .ok_or("no RTDN push URL is configured")?;
    let audience = target.audience.clone().unwrap_or_else(|| url.clone());
    let mut claims = oidc_claims(&audience, &target.service_account_email);
    let now = real_now_secs();
    match forge {
        Some(Forge::Audience) => claims["aud"] = json!("https://wrong-audience.example.com/rtdn"),
        Some(Forge::Issuer) => claims["iss"] = json!("https://issuer.example.com"),
        Some(Forge::Expired) => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Some(Forge::Email) => {
            claims["email"] = json!("someone-else@forged.iam.gserviceaccount.com")
        }
        Some(Forge::Unverified) => claims["email_verified"] = json!(false),
        _ => {}
    }
    let jwt = match forge {
        Some(Forge::NoToken) => None,
        Some(Forge::Signature | Forge::UnknownKey) => {
            let s = shared.clone();
            let forger = tokio::task::spawn_blocking(move || {
                s.forger
                    .get_or_init(|| SigningKey::generate(2048).expect("RSA key generation"));
            });
            let _ = forger.await;
            let key = shared.forger.get().expect("initialised above");
            let kid = if forge == Some(Forge::Signature) {
                shared.keys.oidc.kid.clone()
            } else {
                key.kid.clone()
            };
            Some(key.sign_with_kid(&claims, &kid))
        }
        _ => Some(shared.keys.oidc.sign(&claims)),
    };
    let body = record.envelope(&target.subscription);
    let mut request = shared
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .timeout(Duration::from_secs(10));
    if let Some(jwt) = jwt {
        request = request.bearer_auth(jwt);
    }
    let result = request.send().await;
    match &result {
        Ok(r) => {
            tracing::debug!(message_id = %record.message_id, status = r.status().as_u16(), ?forge, "RTDN push")
        }
        Err(e) => tracing::debug!(message_id = %record.message_id, error = %e, "RTDN push failed"),
    }
    Ok(result.ok().map(|r| r.status().as_u16()))
}

async fn deliver(shared: Weak<Shared>, record: NotificationRecord) {
    let mut attempt: u32 = 0;
    loop {
        let Some(s) = shared.upgrade() else { return };
        if s.model
            .lock()
            .map(|m| m.generation != record.generation)
            .unwrap_or(true)
        {
            return;
        }
        let target = s.rtdn.read().map(|c| c.clone()).unwrap_or_default();
        let Ok(status) = push_once(&s, &record, None).await else {
            return;
        };
        let ok = matches!(status, Some(102 | 200..=299));
        if let Ok(mut m) = s.model.lock() {
            if let Some(r) = m
                .notifications
                .iter_mut()
                .find(|r| r.message_id == record.message_id)
            {
                r.attempts += 1;
                r.last_status = status;
                r.delivered = ok;
            }
        }
        drop(s);
        if ok {
            return;
        }
        let min = target.min_backoff_ms.max(1);
        let delay = min
            .saturating_mul(1u64 << attempt.min(20))
            .min(target.max_backoff_ms.max(min));
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
}

/// The claims of the OIDC token on a push.
pub(crate) fn oidc_claims(audience: &str, email: &str) -> Value {
    let iat = real_now_secs();
    json!({
        "iss": "https://accounts.google.com",
        "aud": audience,
        "azp": "112233445566778899000",
        "sub": "112233445566778899000",
        "email": email,
        "email_verified": true,
        "iat": iat,
        "exp": iat + 3600,
    })
}
