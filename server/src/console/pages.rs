//! The console's JSON endpoints, one per page: `GET /v1/admin/console/{overview, health,
//! lookup, reconciliation, catalog, external-transactions}`. Each takes a server API key or
//! a console session ([`Operator`]) and reads; none changes anything.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Query, State};
use play_model::money::micros_to_decimal;
use play_model::rtdn::{OneTimeNotificationType, SubscriptionNotificationType};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rfc3339;
use super::session::{Operator, Refused};
use crate::db::external_transactions::{self as et, ReportState, DEADLINE_MS};
use crate::db::outbox::JobStatus;
use crate::db::{console as store, now_ms, purchases, report_rows};
use crate::entitlement::EntitlementState;
use crate::error::{ApiError, ErrorBody, Json};
use crate::external_transactions::watchdog;
use crate::fingerprint::sha256_hex;
use crate::reports::file::{base_order_id, TransactionType};
use crate::reports::reconcile::{self, Reconciliation};
use crate::reports::Month;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(health))
        .routes(routes!(lookup))
        .routes(routes!(reconciliation))
        .routes(routes!(catalog))
        .routes(routes!(external_transactions))
}

const DAY_MS: i64 = 86_400_000;
const ACTIVE: purchases::PurchaseState =
    purchases::PurchaseState::Granted(EntitlementState::Active);
const HOUR_MS: i64 = 3_600_000;
/// Days of grants the Overview charts.
pub const GRANT_DAYS: i64 = 30;
/// Purchases of an account whose timelines Lookup shows (the newest).
pub const LOOKUP_PURCHASES: i64 = 20;
/// Rows each list of a page shows at most.
pub const LIST_LIMIT: i64 = 100;

fn day_text(day: i64) -> String {
    rfc3339(day * DAY_MS)[..10].to_string()
}

/// A duration for people: `45 s`, `12 min`, `3 h`, `1 h 20 min`, `2 d 4 h`.
fn duration_text(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 if s % 3600 < 60 => format!("{} h", s / 3600),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ if s % 86_400 < 3600 => format!("{} d", s / 86_400),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

// ---------------------------------------------------------------------------------------
// Overview

/// Purchases in one state.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct StateCount {
    /// `pending` or an entitlement state (`active`, `grace_period`, …, `refunded`).
    pub state: String,
    /// Real purchases in it.
    pub count: i64,
    /// Test (license tester) purchases in it, counted apart.
    pub test: i64,
}

/// Grants of one UTC day.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DayCount {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Real purchases granted that day.
    pub grants: i64,
    /// Test purchases granted that day.
    pub test_grants: i64,
}

/// Revenue and refunds of a month in one currency, from one kind of imported report.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MonthRevenue {
    /// `YYYY-MM`.
    pub month: String,
    /// `sales` (buyer's currency) or `earnings`.
    pub source: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Charges (rows).
    pub charges: i64,
    /// Sum charged, in micros.
    pub charged_micros: i64,
    /// Sum charged, as a decimal.
    pub charged: String,
    /// Refunds (rows).
    pub refunds: i64,
    /// Sum refunded (positive), in micros.
    pub refunded_micros: i64,
    /// Sum refunded, as a decimal.
    pub refunded: String,
}

/// The Overview page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// When this was read (RFC 3339).
    pub generated_at: String,
    /// Entitlements by state, real and test purchases apart.
    pub entitlements: Vec<StateCount>,
    /// Grants per UTC day over the last 30 days, today last (days without grants included).
    pub grants_per_day: Vec<DayCount>,
    /// Revenue and refunds per month and currency, from the imported financial reports.
    pub revenue: Vec<MonthRevenue>,
}

/// Entitlements by state, grants per day, revenue and refunds per month.
#[utoipa::path(
    get,
    path = "/v1/admin/console/overview",
    tag = "console",
    security(("server_api_key" = []), ("console_session" = [])),
    responses(
        (status = 200, description = "The Overview page's numbers", body = Overview),
        (status = 401, description = "`unauthenticated`: no server API key or console session", body = ErrorBody),
        (status = 403, description = "`forbidden`: a cross-site request", body = ErrorBody),
    )
)]
async fn overview(State(state): State<AppState>, _: Operator) -> Result<Json<Overview>, Refused> {
    let db = &state.db;
    let now = now_ms();
    if let Err(e) = store::fold_purchase_counts(db).await {
        // Another replica folding at the same moment: the sums read below are as exact
        // (they add the changes not folded yet).
        tracing::debug!(error = %e, "purchase counts not folded");
    }
    let mut by_state: BTreeMap<String, StateCount> = BTreeMap::new();
    for (s, test, n) in store::purchases_by_state(db).await? {
        let entry = by_state.entry(s.clone()).or_insert(StateCount {
            state: s,
            count: 0,
            test: 0,
        });
        if test != 0 {
            entry.test += n;
        } else {
            entry.count += n;
        }
    }
    let today = now / DAY_MS;
    let first = today - (GRANT_DAYS - 1);
    let mut days: Vec<DayCount> = (first..=today)
        .map(|d| DayCount {
            day: day_text(d),
            grants: 0,
            test_grants: 0,
        })
        .collect();
    for (day, test, n) in store::grants_per_day(db, first * DAY_MS).await? {
        if let Some(d) = days.get_mut((day - first) as usize) {
            if test != 0 {
                d.test_grants += n;
            } else {
                d.grants += n;
            }
        }
    }
    if let Err(e) = store::refresh_report_totals(db).await {
        // Another replica summing the same file at the same moment: its sums serve.
        tracing::debug!(error = %e, "report totals not refreshed");
    }
    // By month, then source by name (`earnings` before `sales`), then currency.
    let mut revenue: BTreeMap<(String, &str, String), MonthRevenue> = BTreeMap::new();
    for t in store::report_totals(db).await? {
        let r = revenue
            .entry((t.month.clone(), t.kind.as_str(), t.currency.clone()))
            .or_insert_with(|| MonthRevenue {
                month: t.month,
                source: t.kind.as_str().into(),
                currency: t.currency,
                charges: 0,
                charged_micros: 0,
                charged: String::new(),
                refunds: 0,
                refunded_micros: 0,
                refunded: String::new(),
            });
        match t.transaction_type {
            TransactionType::Charge => {
                r.charges += t.row_count;
                r.charged_micros += t.amount_micros;
            }
            TransactionType::Refund => {
                r.refunds += t.row_count;
                r.refunded_micros += t.amount_micros.abs();
            }
            _ => {}
        }
    }
    let revenue = revenue
        .into_values()
        .filter(|r| r.charges + r.refunds > 0)
        .map(|mut r| {
            r.charged = micros_to_decimal(r.charged_micros);
            r.refunded = micros_to_decimal(r.refunded_micros);
            r
        })
        .collect();
    Ok(Json(Overview {
        generated_at: rfc3339(now),
        entitlements: by_state.into_values().collect(),
        grants_per_day: days,
        revenue,
    }))
}

// ---------------------------------------------------------------------------------------
// Health

/// Green, amber or red.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Nothing to do.
    Green,
    /// Look soon.
    Amber,
    /// Act now.
    Red,
}

/// One health check.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Stable id (`outbox`, `acknowledgements`, `notifications`, `voided_sweep`,
    /// `external_transactions`, `webhooks`).
    pub id: String,
    /// What is checked.
    pub title: String,
    /// The verdict.
    pub level: Level,
    /// What was seen, for people.
    pub value: String,
    /// The thresholds the verdict applies.
    pub threshold: String,
    /// The figures behind the verdict.
    #[schema(value_type = Object)]
    pub figures: serde_json::Value,
}

/// The Health page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthPage {
    /// When this was read (RFC 3339).
    pub generated_at: String,
    /// The worst level of the checks.
    pub level: Level,
    /// The checks.
    pub checks: Vec<Check>,
}

fn by_age(age_ms: Option<i64>, amber_ms: i64, red_ms: i64) -> Level {
    match age_ms {
        Some(a) if a >= red_ms => Level::Red,
        Some(a) if a >= amber_ms => Level::Amber,
        _ => Level::Green,
    }
}

/// The outbox: the oldest pending job's age (amber from 5 min, red from 1 h) and failed
/// jobs (amber).
pub const OUTBOX_AMBER_MS: i64 = 5 * 60_000;
/// See [`OUTBOX_AMBER_MS`].
pub const OUTBOX_RED_MS: i64 = HOUR_MS;
/// The oldest unacknowledged grant: amber from 24 h, red from 48 h (Google refunds at 3 days).
pub const ACK_AMBER_MS: i64 = 24 * HOUR_MS;
/// See [`ACK_AMBER_MS`].
pub const ACK_RED_MS: i64 = 48 * HOUR_MS;
/// Play's acknowledgement deadline.
pub const ACK_DEADLINE_MS: i64 = 72 * HOUR_MS;
/// The last notification: amber when none came for 24 h (or none ever).
pub const NOTIFICATION_AMBER_MS: i64 = 24 * HOUR_MS;

/// Outbox, acknowledgements, notifications, the voided sweep and external transactions
/// against their deadlines.
#[utoipa::path(
    get,
    path = "/v1/admin/console/health",
    tag = "console",
    security(("server_api_key" = []), ("console_session" = [])),
    responses(
        (status = 200, description = "The Health page's checks, each green, amber or red with its threshold", body = HealthPage),
        (status = 401, description = "`unauthenticated`: no server API key or console session", body = ErrorBody),
        (status = 403, description = "`forbidden`: a cross-site request", body = ErrorBody),
    )
)]
async fn health(State(state): State<AppState>, _: Operator) -> Result<Json<HealthPage>, Refused> {
    let db = &state.db;
    let now = now_ms();
    let mut checks = Vec::new();

    let outbox = store::outbox_summary(db).await?;
    let oldest = outbox.oldest_created_at.map(|t| now - t);
    let mut level = by_age(oldest, OUTBOX_AMBER_MS, OUTBOX_RED_MS);
    if outbox.failed > 0 {
        level = level.max(Level::Amber);
    }
    checks.push(Check {
        id: "outbox".into(),
        title: "Outbox (acknowledgements, consumption, reports to Google)".into(),
        level,
        value: format!(
            "{} pending{}, {} failed for good",
            outbox.pending,
            oldest
                .map(|a| format!(", oldest {}", duration_text(a)))
                .unwrap_or_default(),
            outbox.failed
        ),
        threshold: "oldest pending job: amber from 5 min, red from 1 h; any failed job: amber"
            .into(),
        figures: serde_json::json!({
            "pending": outbox.pending,
            "oldestPendingAgeMs": oldest,
            "failed": outbox.failed,
        }),
    });

    let unacked = purchases::oldest_unacknowledged_ms(db, now).await?;
    checks.push(Check {
        id: "acknowledgements".into(),
        title: "Oldest unacknowledged grant (Play refunds it after 3 days)".into(),
        level: by_age(unacked, ACK_AMBER_MS, ACK_RED_MS),
        value: match unacked {
            Some(a) => format!(
                "{} old, {} before Play's deadline",
                duration_text(a),
                duration_text(ACK_DEADLINE_MS - a)
            ),
            None => "every grant is acknowledged".into(),
        },
        threshold: "amber from 24 h, red from 48 h (Play's deadline: 3 days)".into(),
        figures: serde_json::json!({
            "oldestAgeMs": unacked,
            "deadlineMs": ACK_DEADLINE_MS,
        }),
    });

    let last = store::last_notification(db).await?;
    let since = last.map(|t| now - t);
    checks.push(Check {
        id: "notifications".into(),
        title: "Last real-time developer notification received".into(),
        level: match since {
            None => Level::Amber,
            s => by_age(s, NOTIFICATION_AMBER_MS, i64::MAX),
        },
        value: match (last, since) {
            (Some(t), Some(s)) => format!("{} ago ({})", duration_text(s), rfc3339(t)),
            _ => "none received yet (is the Pub/Sub push subscription set up?)".into(),
        },
        threshold: "amber when none came for 24 h, or none ever".into(),
        figures: serde_json::json!({
            "lastReceivedAt": last.map(rfc3339),
            "ageMs": since,
        }),
    });

    let interval = state.config.voided.poll_interval.as_millis() as i64;
    let sweep = store::lease_done_at(db, crate::voided::LEASE, now).await?;
    let done_at = sweep.map(|(at, _)| at).filter(|at| *at > 0);
    let sweep_age = done_at.map(|t| now - t);
    checks.push(Check {
        id: "voided_sweep".into(),
        title: "Last voided-purchases sweep".into(),
        level: match sweep_age {
            None => Level::Amber,
            a => by_age(a, 2 * interval, 6 * interval),
        },
        value: match (done_at, sweep_age) {
            (Some(t), Some(a)) => format!(
                "{} ago ({}){}",
                duration_text(a),
                rfc3339(t),
                if sweep.is_some_and(|(_, held)| held) {
                    ", one running now"
                } else {
                    ""
                }
            ),
            _ => "never yet".into(),
        },
        threshold: format!(
            "every {} (voided.poll_interval_secs): amber from {}, red from {}, amber if never",
            duration_text(interval),
            duration_text(2 * interval),
            duration_text(6 * interval)
        ),
        figures: serde_json::json!({
            "lastSweepAt": done_at.map(rfc3339),
            "ageMs": sweep_age,
            "intervalMs": interval,
        }),
    });

    let warn_after = state.config.external_transactions.warn_after;
    let (oldest_payment, pending) = et::oldest_unreported(db).await?;
    let age = oldest_payment.map(|t| Duration::from_millis((now - t).max(0) as u64));
    let counts = et::counts(db, now).await?;
    let mut level = match watchdog::level(age, warn_after) {
        watchdog::Level::Ok => Level::Green,
        watchdog::Level::Warning => Level::Amber,
        watchdog::Level::Alert => Level::Red,
    };
    if counts.failed + counts.refunds_failed > 0 {
        level = level.max(Level::Amber);
    }
    let alert_at = DEADLINE_MS - watchdog::ALERT_BEFORE_DEADLINE.as_millis() as i64;
    checks.push(Check {
        id: "external_transactions".into(),
        title: "External transactions against Google's 24-hour reporting deadline".into(),
        level,
        value: format!(
            "{pending} not reported{}, {} late, {} failed, {} refunds pending",
            age.map(|a| format!(", oldest {}", duration_text(a.as_millis() as i64)))
                .unwrap_or_default(),
            counts.late,
            counts.failed + counts.refunds_failed,
            counts.refunds_pending
        ),
        threshold: format!(
            "oldest unreported payment: amber from {} (external_transactions.warn_after_secs), red from {} (2 h before the 24 h deadline); any failed: amber",
            duration_text(warn_after.as_millis() as i64),
            duration_text(alert_at)
        ),
        figures: serde_json::json!({
            "pending": pending,
            "oldestAgeMs": age.map(|a| a.as_millis() as i64),
            "late": counts.late,
            "failed": counts.failed,
            "refundsPending": counts.refunds_pending,
            "refundsFailed": counts.refunds_failed,
            "deadlineMs": DEADLINE_MS,
        }),
    });

    // Webhook deliveries to the app's backend (issue 21).
    let (pending, oldest, failed) = store::webhook_deliveries(db).await?;
    let oldest = oldest.map(|t| now - t);
    let hooks = &state.config.webhooks;
    let (amber, red) = (
        hooks.warn_after.as_millis() as i64,
        hooks.max_age.as_millis() as i64 / 2,
    );
    let mut level = by_age(oldest, amber, red);
    if failed > 0 {
        level = level.max(Level::Amber);
    }
    checks.push(Check {
        id: "webhooks".into(),
        title: "Webhook deliveries to the app's backend".into(),
        level,
        value: format!(
            "{pending} pending{}, {failed} failed",
            oldest.map(|a| format!(", oldest {}", duration_text(a))).unwrap_or_default()
        ),
        threshold: format!(
            "oldest pending delivery: amber from {} (webhooks.warn_after_secs), red from {} (half of webhooks.max_age_secs, when it is given up); any failed: amber",
            duration_text(amber),
            duration_text(red)
        ),
        figures: serde_json::json!({
            "pending": pending,
            "oldestPendingAgeMs": oldest,
            "failed": failed,
        }),
    });

    Ok(Json(HealthPage {
        generated_at: rfc3339(now),
        level: checks.iter().map(|c| c.level).max().unwrap_or(Level::Green),
        checks,
    }))
}

// ---------------------------------------------------------------------------------------
// Lookup

/// What to look up.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// An account id, a purchase token or an order id (`GPA.…`, a renewal's `..N` too).
    pub q: String,
}

/// One thing that happened to a purchase.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Event {
    /// When (RFC 3339).
    pub at: String,
    /// What (`verified`, `granted`, `acknowledged`, `notification`, `google_read`,
    /// `report_charge`, `report_refund`, `state`, …).
    pub kind: String,
    /// For people.
    pub detail: String,
}

/// A purchase and its timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseStory {
    /// The purchase token.
    pub purchase_token: String,
    /// The account it is bound to.
    pub account_id: String,
    /// The product id.
    pub item_id: String,
    /// The product's kind.
    pub kind: String,
    /// `pending` or the entitlement's state.
    pub state: String,
    /// Quantity granted.
    pub quantity: i64,
    /// Whether it is a test purchase.
    pub test: bool,
    /// Whether Google has it acknowledged (or consumed).
    pub acknowledged: bool,
    /// Google's order id.
    pub order_id: Option<String>,
    /// Access end (RFC 3339), subscriptions.
    pub expires_at: Option<String>,
    /// What happened, oldest first.
    pub timeline: Vec<Event>,
}

/// The Lookup page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Lookup {
    /// What was asked.
    pub query: String,
    /// How it matched: `purchase_token`, `order_id`, `account_id`, or none.
    pub matched_by: Option<String>,
    /// The account.
    pub account_id: Option<String>,
    /// The account's purchases (the newest 20), each with its timeline; the matched
    /// purchase first.
    pub purchases: Vec<PurchaseStory>,
}

fn notification_detail(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    if let Some(s) = v.get("subscriptionNotification") {
        let code = s["notificationType"].as_i64()? as i32;
        return Some(format!(
            "subscription notification {:?} ({code})",
            SubscriptionNotificationType::from(code)
        ));
    }
    if let Some(s) = v.get("oneTimeProductNotification") {
        let code = s["notificationType"].as_i64()? as i32;
        return Some(format!(
            "one-time product notification {:?} ({code})",
            OneTimeNotificationType::from(code)
        ));
    }
    if let Some(s) = v.get("voidedPurchaseNotification") {
        return Some(format!(
            "voided purchase notification (refund type {})",
            s["refundType"]
        ));
    }
    None
}

async fn story(state: &AppState, p: purchases::PurchaseRow) -> Result<PurchaseStory, Refused> {
    let db = &state.db;
    let mut events: Vec<(i64, Event)> = Vec::new();
    let mut push = |at: i64, kind: &str, detail: String| {
        events.push((
            at,
            Event {
                at: rfc3339(at),
                kind: kind.into(),
                detail,
            },
        ))
    };
    if let Some(at) = p.purchased_at {
        push(
            at,
            "purchased",
            format!(
                "bought on Google Play (order {})",
                p.order_id.as_deref().unwrap_or("unknown")
            ),
        );
    }
    if let Some((resource, at)) = store::play_fetch(db, &p.purchase_token).await? {
        push(
            at,
            "google_read",
            format!("Google's {resource} purchase read before the app verified it"),
        );
    }
    push(
        p.created_at,
        "verified",
        format!("verified with Google and bound to account {}", p.account_id),
    );
    if let Some(old) = &p.linked_purchase_token {
        push(p.created_at, "replaces", format!("replaces purchase {old}"));
    }
    if let Some(at) = p.granted_at {
        push(
            at,
            "granted",
            format!("granted: {} × {}", p.quantity, p.item_id),
        );
    }
    if let Some(job) = store::job_by_key(db, &crate::verify::settle_key(&p.purchase_token)).await? {
        push(job.created_at, "queued", format!("{} queued", job.kind));
        match job.status {
            JobStatus::Done => push(
                job.updated_at,
                "acknowledged",
                format!(
                    "{} done on Google Play after {} attempt(s)",
                    job.kind, job.attempts
                ),
            ),
            JobStatus::Failed => push(
                job.updated_at,
                "failed",
                format!(
                    "{} failed for good: {}",
                    job.kind,
                    job.last_error.unwrap_or_default()
                ),
            ),
            JobStatus::Pending => push(
                job.updated_at,
                "retrying",
                format!(
                    "{} not done yet ({} attempt(s)){}",
                    job.kind,
                    job.attempts,
                    job.last_error.map(|e| format!(": {e}")).unwrap_or_default()
                ),
            ),
        }
    }
    let since = p.purchased_at.unwrap_or(p.created_at).min(p.created_at) - 7 * DAY_MS;
    for (at, deliveries, json) in
        store::notifications_naming(db, &p.purchase_token, since, LIST_LIMIT).await?
    {
        let what = notification_detail(&json).unwrap_or_else(|| "notification".into());
        let again = if deliveries > 1 {
            format!(", delivered {deliveries} times")
        } else {
            String::new()
        };
        push(at, "notification", format!("{what}{again}"));
    }
    if let Some(order) = &p.order_id {
        for r in report_rows::of_order(db, base_order_id(order), LIST_LIMIT).await? {
            // Charges and refunds; fees and taxes are the reconciliation's business.
            let kind = match r.transaction_type {
                TransactionType::Charge => "report_charge",
                TransactionType::Refund => "report_refund",
                _ => continue,
            };
            push(
                r.occurred_at.unwrap_or(0),
                kind,
                format!(
                    "{} {} {} {} in Google's {} report for {}",
                    r.order_id,
                    r.transaction_type.as_str(),
                    micros_to_decimal(r.amount_micros),
                    r.currency,
                    r.kind,
                    r.month
                ),
            );
        }
    }
    for (token, at) in store::replaced_by(db, &p.purchase_token).await? {
        push(at, "replaced", format!("replaced by purchase {token}"));
    }
    if p.updated_at > p.granted_at.unwrap_or(p.created_at) || p.state != ACTIVE {
        push(p.updated_at, "state", format!("state now {}", p.state));
    }
    events.sort_by_key(|(at, _)| *at);
    Ok(PurchaseStory {
        timeline: events.into_iter().map(|(_, e)| e).collect(),
        purchase_token: p.purchase_token,
        account_id: p.account_id,
        item_id: p.item_id,
        kind: p.kind.as_str().into(),
        state: p.state.as_str().into(),
        quantity: p.quantity,
        test: p.test != 0,
        acknowledged: p.acknowledged != 0,
        order_id: p.order_id,
        expires_at: p.expires_at.map(rfc3339),
    })
}

/// An account's entitlements and each purchase's timeline, by account id, purchase token
/// or order id.
#[utoipa::path(
    get,
    path = "/v1/admin/console/lookup",
    tag = "console",
    params(LookupQuery),
    security(("server_api_key" = []), ("console_session" = [])),
    responses(
        (status = 200, description = "What matched (nothing: `matchedBy` is null and `purchases` empty)", body = Lookup),
        (status = 400, description = "`invalid_request`: no `q`, or longer than 512 characters", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no server API key or console session", body = ErrorBody),
        (status = 403, description = "`forbidden`: a cross-site request", body = ErrorBody),
    )
)]
async fn lookup(
    State(state): State<AppState>,
    _: Operator,
    query: Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Lookup>, Refused> {
    let Query(query) = query.map_err(|e| ApiError::InvalidRequest(e.body_text()))?;
    let q = query.q.trim().to_string();
    if q.is_empty() || q.len() > 512 {
        return Err(ApiError::InvalidRequest(
            "q: an account id, purchase token or order id of 1 to 512 characters".into(),
        )
        .into());
    }
    let db = &state.db;
    let mut found = purchases::find(db, &q).await?;
    for order in [q.as_str(), base_order_id(&q)] {
        if found.is_none() {
            found = purchases::find_by_order_id(db, order).await?;
        }
    }
    let (matched_by, account, first) = match found {
        Some(p) => {
            let by = if p.purchase_token == q {
                "purchase_token"
            } else {
                "order_id"
            };
            (Some(by), Some(p.account_id.clone()), Some(p))
        }
        None => (Some("account_id"), Some(q.clone()), None),
    };
    let mut rows = Vec::new();
    if let Some(p) = first {
        rows.push(p);
    }
    if let Some(account) = &account {
        for p in purchases::newest_of_account(db, account, LOOKUP_PURCHASES).await? {
            if rows.iter().all(|r| r.purchase_token != p.purchase_token) {
                rows.push(p);
            }
        }
    }
    let matched_by = if rows.is_empty() { None } else { matched_by };
    let mut purchases = Vec::with_capacity(rows.len());
    for p in rows {
        purchases.push(story(&state, p).await?);
    }
    Ok(Json(Lookup {
        query: q,
        matched_by: matched_by.map(String::from),
        account_id: if purchases.is_empty() { None } else { account },
        purchases,
    }))
}

// ---------------------------------------------------------------------------------------
// Reconciliation

/// Which month.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM`; absent: the newest imported month.
    pub month: Option<String>,
}

/// An imported month.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportedMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Report files imported for it.
    pub files: i64,
    /// Their rows.
    pub rows: i64,
    /// The last import (RFC 3339).
    pub imported_at: String,
}

/// What to do about each kind of discrepancy.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Advice {
    /// For `chargedNotGranted`.
    pub charged_not_granted: String,
    /// For `grantedNotCharged`.
    pub granted_not_charged: String,
    /// For `refundedStillEntitled`.
    pub refunded_still_entitled: String,
}

/// The Reconciliation page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconciliationPage {
    /// Every imported month, newest first.
    pub months: Vec<ImportedMonth>,
    /// The month shown, if any is imported.
    pub month: Option<String>,
    /// `clean` (no discrepancy), `discrepancies`, or `not_imported`.
    pub status: String,
    /// The month's reconciliation (as `GET /v1/admin/reports/reconciliation?month=`
    /// answered at `computedAt`).
    #[schema(value_type = Option<Reconciliation>)]
    pub reconciliation: Option<Box<RawValue>>,
    /// When the reconciliation shown was computed (RFC 3339): it is computed again in the
    /// background when older than 10 minutes, at once when a report file was imported
    /// since.
    pub computed_at: Option<String>,
    /// What to do about each kind of discrepancy.
    pub advice: Advice,
}

/// How long a stored reconciliation is shown as it is; an older one is shown while it is
/// computed again in the background.
pub const RECONCILIATION_FRESH_MS: i64 = 10 * 60_000;

/// How many discrepancies a stored reconciliation counts (its other fields skipped, not
/// copied: it is passed on as stored).
fn discrepancies(r: &RawValue) -> Option<u64> {
    #[derive(Deserialize)]
    struct Count {
        discrepancies: u64,
    }
    serde_json::from_str::<Count>(r.get())
        .ok()
        .map(|c| c.discrepancies)
}

/// One reconciliation computed at a time in this process (it reads every granted
/// purchase): the requests that find none stored wait for it instead of each computing it.
static RECONCILING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Computes `month`'s reconciliation and stores it with the report files it read; in a task
/// of its own, so that a request that gives up waiting (its timeout, a closed tab) does not
/// waste it.
async fn reconcile_and_store(
    state: &AppState,
    month: Month,
) -> Result<(Box<RawValue>, i64), ApiError> {
    let state = state.clone();
    let task = tokio::spawn(async move {
        let db = &state.db;
        let inputs = sha256_hex(&store::report_inputs(db).await?);
        let at = now_ms();
        let r = reconcile::run(db, Some(month)).await?;
        let json = serde_json::value::to_raw_value(&r).map_err(ApiError::internal)?;
        store::store_reconciliation(db, &month.to_string(), &inputs, at, json.get()).await?;
        Ok::<_, ApiError>((json, at))
    });
    task.await.map_err(ApiError::internal)?
}

/// `month`'s reconciliation and when it was computed: the stored one if it read the report
/// files imported now (computed again in the background when older than
/// [`RECONCILIATION_FRESH_MS`]), else computed now.
async fn stored_reconciliation(
    state: &AppState,
    month: Month,
) -> Result<(Box<RawValue>, i64), ApiError> {
    let db = &state.db;
    let key = month.to_string();
    let current = |stored: Option<(String, i64, String)>, inputs: &str| {
        stored
            .filter(|(read, _, _)| read == inputs)
            .and_then(|(_, at, json)| Some((RawValue::from_string(json).ok()?, at)))
    };
    let inputs = sha256_hex(&store::report_inputs(db).await?);
    if let Some((r, at)) = current(store::stored_reconciliation(db, &key).await?, &inputs) {
        if now_ms() - at >= RECONCILIATION_FRESH_MS {
            if let Ok(guard) = RECONCILING.try_lock() {
                let state = state.clone();
                tokio::spawn(async move {
                    let _computing = guard;
                    if let Err(e) = reconcile_and_store(&state, month).await {
                        tracing::warn!(error = %e, %month, "reconciliation not computed again");
                    }
                });
            }
        }
        return Ok((r, at));
    }
    let _computing = RECONCILING.lock().await;
    // Computed by the request this one waited for?
    if let Some(done) = current(store::stored_reconciliation(db, &key).await?, &inputs) {
        return Ok(done);
    }
    reconcile_and_store(state, month).await
}

/// Imported months, their status, and the discrepancies of one with what to do.
#[utoipa::path(
    get,
    path = "/v1/admin/console/reconciliation",
    tag = "console",
    params(MonthQuery),
    security(("server_api_key" = []), ("console_session" = [])),
    responses(
        (status = 200, description = "The Reconciliation page", body = ReconciliationPage),
        (status = 400, description = "`invalid_request`: a month that is not YYYY-MM", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: no server API key or console session", body = ErrorBody),
        (status = 403, description = "`forbidden`: a cross-site request", body = ErrorBody),
    )
)]
async fn reconciliation(
    State(state): State<AppState>,
    _: Operator,
    query: Result<Query<MonthQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ReconciliationPage>, Refused> {
    let Query(query) = query.map_err(|e| ApiError::InvalidRequest(e.body_text()))?;
    let months: Vec<ImportedMonth> = store::report_months(&state.db)
        .await?
        .into_iter()
        .map(|(month, files, rows, at)| ImportedMonth {
            month,
            files,
            rows,
            imported_at: rfc3339(at),
        })
        .collect();
    let month = match query.month.filter(|m| !m.is_empty()) {
        Some(m) => Some(
            m.parse::<Month>()
                .map_err(|e| ApiError::InvalidRequest(format!("month: {e}")))?,
        ),
        None => months.first().and_then(|m| m.month.parse::<Month>().ok()),
    };
    let imported = month.is_some_and(|m| months.iter().any(|i| i.month == m.to_string()));
    let (reconciliation, computed_at) = match (month, imported) {
        (Some(m), true) => {
            let (r, at) = stored_reconciliation(&state, m).await?;
            (Some(r), Some(rfc3339(at)))
        }
        _ => (None, None),
    };
    let status = match &reconciliation {
        None => "not_imported",
        Some(r) if discrepancies(r) == Some(0) => "clean",
        Some(_) => "discrepancies",
    };
    Ok(Json(ReconciliationPage {
        months,
        month: month.map(|m| m.to_string()),
        status: status.into(),
        reconciliation,
        computed_at,
        advice: Advice {
            charged_not_granted: "Google charged and the buyer has nothing here: look the order up; the app's next start (restore) or `POST /v1/purchases/sync` grants it, or the buyer was refunded by Play since (confirm with Play).".into(),
            granted_not_charged: "Granted here with no charge in Google's report: a purchase later than the report, a promo code, or a token that is not a real sale; confirm with Play (`?confirm=true` on the reconciliation endpoint) and revoke what Play does not know.".into(),
            refunded_still_entitled: "Refunded on Google Play and still entitled here: the voided-purchases sweep has not seen it yet; run `pwa-billing reconcile` (or wait for the next sweep) and check the Health page.".into(),
        },
    }))
}

// ---------------------------------------------------------------------------------------
// Catalog

/// A product of the catalog file.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogProduct {
    /// The product id.
    pub id: String,
    /// `consumable`, `non_consumable` or `subscription`.
    pub kind: String,
    /// Its title (default language), as the file gives it.
    pub title: Option<String>,
    /// Prices as the file gives them (`"4.99 USD"`, by region or purchase option).
    pub prices: Vec<String>,
}

/// The Catalog page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPage {
    /// The catalog file (`catalog`), if configured.
    pub file: Option<String>,
    /// Every product the server sells, with what the file says of it.
    pub products: Vec<CatalogProduct>,
    /// What `pwa-billing catalog apply` would change on Play (the read-only `plan`), or
    /// null when it could not be read (`driftError` says why).
    #[schema(value_type = Option<Object>)]
    pub drift: Option<serde_json::Value>,
    /// Why the drift could not be read.
    pub drift_error: Option<String>,
    /// When Play's catalog was read for the drift (RFC 3339): at most once a minute for
    /// one file (each read is several calls of Google's monetization quota).
    pub drift_read_at: Option<String>,
}

/// The catalog file's products and subscriptions with prices, and the drift against Play.
#[utoipa::path(
    get,
    path = "/v1/admin/console/catalog",
    tag = "console",
    security(("server_api_key" = []), ("console_session" = [])),
    responses(
        (status = 200, description = "The Catalog page", body = CatalogPage),
        (status = 401, description = "`unauthenticated`: no server API key or console session", body = ErrorBody),
        (status = 403, description = "`forbidden`: a cross-site request", body = ErrorBody),
    )
)]
async fn catalog(State(state): State<AppState>, _: Operator) -> Result<Json<CatalogPage>, Refused> {
    super::catalog::page(&state).await.map(Json)
}

// ---------------------------------------------------------------------------------------
// External transactions

/// A payment taken outside Play billing, as the page shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalPayment {
    /// The externalTransactionId.
    pub id: String,
    /// The app's payment id.
    pub payment_id: String,
    /// The account.
    pub account_id: String,
    /// The product.
    pub product_id: String,
    /// `pending`, `reported` or `failed`.
    pub state: String,
    /// Pre-tax amount and currency (`"4.99 USD"`).
    pub amount: String,
    /// When it was paid (RFC 3339).
    pub transaction_time: String,
    /// When Google must have it (payment time + 24 h).
    pub deadline: String,
    /// Whether the deadline has passed while it is not reported.
    pub late: bool,
    /// Google's last error.
    pub last_error: Option<String>,
}

/// The External transactions page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalPage {
    /// When this was read (RFC 3339).
    pub generated_at: String,
    /// Not reported yet.
    pub pending: i64,
    /// Of those, past the 24-hour deadline.
    pub late: i64,
    /// Refused by Google for good.
    pub failed: i64,
    /// Reported.
    pub reported: i64,
    /// Reported after the deadline.
    pub reported_late: i64,
    /// Refunds not reported yet.
    pub refunds_pending: i64,
    /// Refunds refused for good.
    pub refunds_failed: i64,
    /// The oldest pending payments (at most 100), oldest first.
    pub pending_payments: Vec<ExternalPayment>,
    /// The failed payments (at most 100), with Google's last error.
    pub failed_payments: Vec<ExternalPayment>,
}

fn payment(row: et::TransactionRow, now: i64) -> ExternalPayment {
    let deadline = row.transaction_time + DEADLINE_MS;
    ExternalPayment {
        late: row.state == ReportState::Pending && now > deadline,
        amount: format!("{} {}", micros_to_decimal(row.pre_tax_micros), row.currency),
        deadline: rfc3339(deadline),
        transaction_time: rfc3339(row.transaction_time),
        state: row.state.as_str().into(),
        id: row.id,
        payment_id: row.payment_id,
        account_id: row.account_id,
        product_id: row.product_id,
        last_error: row.last_error,
    }
}

/// Pending, late and failed external transactions, with Google's last error.
#[utoipa::path(
    get,
    path = "/v1/admin/console/external-transactions",
    tag = "console",
    security(("server_api_key" = []), ("console_session" = [])),
    responses(
        (status = 200, description = "The External transactions page", body = ExternalPage),
        (status = 401, description = "`unauthenticated`: no server API key or console session", body = ErrorBody),
        (status = 403, description = "`forbidden`: a cross-site request", body = ErrorBody),
    )
)]
async fn external_transactions(
    State(state): State<AppState>,
    _: Operator,
) -> Result<Json<ExternalPage>, Refused> {
    let db = &state.db;
    let now = now_ms();
    let c = et::counts(db, now).await?;
    let list = |s| et::list(db, s, LIST_LIMIT);
    let pending_payments = list(ReportState::Pending)
        .await?
        .into_iter()
        .map(|r| payment(r, now))
        .collect();
    let failed_payments = list(ReportState::Failed)
        .await?
        .into_iter()
        .map(|r| payment(r, now))
        .collect();
    Ok(Json(ExternalPage {
        generated_at: rfc3339(now),
        pending: c.pending,
        late: c.late,
        failed: c.failed,
        reported: c.reported,
        reported_late: c.reported_late,
        refunds_pending: c.refunds_pending,
        refunds_failed: c.refunds_failed,
        pending_payments,
        failed_payments,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        let cases = [
            (0, "0 s"),
            (59_999, "59 s"),
            (60_000, "1 min"),
            (HOUR_MS, "1 h"),
            (HOUR_MS + 20 * 60_000, "1 h 20 min"),
            (22 * HOUR_MS, "22 h"),
            (DAY_MS, "1 d"),
            (2 * DAY_MS + 4 * HOUR_MS, "2 d 4 h"),
            (-5, "0 s"),
        ];
        for (ms, text) in cases {
            assert_eq!(duration_text(ms), text, "{ms}");
        }
    }

    #[test]
    fn levels_follow_the_thresholds() {
        assert_eq!(by_age(None, 10, 20), Level::Green);
        assert_eq!(by_age(Some(9), 10, 20), Level::Green);
        assert_eq!(by_age(Some(10), 10, 20), Level::Amber);
        assert_eq!(by_age(Some(20), 10, 20), Level::Red);
        assert!(Level::Red > Level::Amber && Level::Amber > Level::Green);
    }

    #[test]
    fn notifications_are_described() {
        let n = r#"{"subscriptionNotification":{"notificationType":2,"purchaseToken":"tok_1"}}"#;
        assert_eq!(
            notification_detail(n).unwrap(),
            "subscription notification Renewed (2)"
        );
        let o = r#"{"oneTimeProductNotification":{"notificationType":1,"purchaseToken":"t"}}"#;
        assert_eq!(
            notification_detail(o).unwrap(),
            "one-time product notification Purchased (1)"
        );
        assert_eq!(notification_detail("{}"), None);
    }
}
