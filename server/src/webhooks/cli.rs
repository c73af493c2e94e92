//! `pwa-billing webhooks …`: list deliveries, replay events, send a test event.

use anyhow::{bail, Context};
use clap::Subcommand;
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use super::Attempt;
use crate::db::events::{self, EventType};
use crate::db::rfc3339;
use crate::db::webhook_deliveries as deliveries;
use crate::state::AppState;

/// `pwa-billing webhooks`.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// List the latest deliveries (event, type, endpoint, status, attempts, last answer).
    List {
        /// Only the deliveries given up on.
        #[arg(long)]
        failed: bool,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Deliver events again, to every endpoint that takes their type (same webhook-id).
    Replay {
        /// One event (`evt_…`).
        #[arg(long, conflicts_with = "since", required_unless_present = "since")]
        event: Option<String>,
        /// Every event since this time (RFC 3339, e.g. 2026-12-05T08:00:00Z).
        #[arg(long)]
        since: Option<String>,
    },
    /// Send a `webhook.test` event to every endpoint (or one) now, and print each answer.
    SendTest {
        /// Only this endpoint.
        #[arg(long)]
        endpoint: Option<String>,
    },
}

/// Runs a `webhooks` command; returns what to print. `send-test` fails (exit 1) if an
/// endpoint did not answer 2xx.
pub async fn run(state: &AppState, command: WebhooksCommand) -> anyhow::Result<String> {
    match command {
        WebhooksCommand::List { failed, limit } => {
            let rows = deliveries::list(&state.db, failed, limit).await?;
            let mut out = String::new();
            for r in &rows {
                out.push_str(&format!(
                    "{}  {:<38} {:<16} {:<10} attempts={} last={} created={}{}\n",
                    r.event_id,
                    r.kind,
                    r.endpoint,
                    r.status.as_str(),
                    r.attempts,
                    r.last_status.map_or("-".into(), |s| s.to_string()),
                    rfc3339(r.created_at).unwrap_or_default(),
                    r.last_error
                        .as_deref()
                        .map(|e| format!("  error: {e}"))
                        .unwrap_or_default(),
                ));
            }
            if rows.is_empty() {
                out.push_str(if failed {
                    "no failed deliveries\n"
                } else {
                    "no deliveries\n"
                });
            }
            Ok(out)
        }
        WebhooksCommand::Replay { event, since } => {
            let events = match (event, since) {
                (Some(id), _) => match events::find(&state.db, &id).await? {
                    Some(e) if e.position.is_some() => vec![e],
                    Some(_) => bail!("event {id} is not published yet; it is delivered shortly"),
                    None => bail!("no event {id}"),
                },
                (None, Some(since)) => {
                    let at = time::OffsetDateTime::parse(&since, &Rfc3339)
                        .with_context(|| format!("--since `{since}` is not RFC 3339"))?;
                    events::since(&state.db, (at.unix_timestamp_nanos() / 1_000_000) as i64).await?
                }
                (None, None) => bail!("give --event ID or --since TIME"),
            };
            let mut replayed = 0;
            for e in &events {
                for endpoint in state.webhooks.endpoints() {
                    if endpoint.takes(&e.kind) {
                        deliveries::replay(&state.db, &e.id, &endpoint.name).await?;
                        replayed += 1;
                    }
                }
            }
            Ok(format!(
                "{replayed} deliveries of {} event(s) scheduled again; a running server sends them\n",
                events.len()
            ))
        }
        WebhooksCommand::SendTest { endpoint } => {
            let endpoints: Vec<_> = state
                .webhooks
                .endpoints()
                .iter()
                .filter(|e| endpoint.as_ref().is_none_or(|n| *n == e.name))
                .cloned()
                .collect();
            if endpoints.is_empty() {
                bail!(match endpoint {
                    Some(n) => format!("no endpoint `{n}` in webhooks.endpoints"),
                    None => "no endpoint configured (webhooks.endpoints)".into(),
                });
            }
            let id = format!("evt_test_{}", uuid::Uuid::new_v4().simple());
            let body = events::body(
                &id,
                EventType::Test,
                crate::db::now_ms(),
                &json!({ "message": "a test event from pwa-billing webhooks send-test" }),
            )
            .to_string();
            let mut out = String::new();
            let mut failed = Vec::new();
            for e in endpoints {
                let attempt = e.send(&id, &body).await;
                out.push_str(&format!("{}  {}  {attempt}\n", e.name, e.url));
                if !matches!(attempt, Attempt::Delivered(_)) {
                    failed.push(e.name.clone());
                }
            }
            if !failed.is_empty() {
                bail!("{out}not delivered to: {}", failed.join(", "));
            }
            Ok(out)
        }
    }
}
