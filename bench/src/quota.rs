//! The quota burst (issue 24): Google's per-minute quota is the real limit, not the server.
//!
//! `play-emulator` runs with small one-time and subscription buckets (`--quota
//! purchases_per_minute=Q`, `subscriptions_per_minute=Q`) and the server paces the same
//! budgets (`[quota]`). New purchases arrive at `factor` × Q a minute for each kind at once,
//! for `seconds`; each buyer verifies at once and, answered `503`, tries again after its
//! `Retry-After` with jitter (as the browser library does) until the burst ends. Measured,
//! as ratios: purchases verified a minute during the burst against Q (target ≥ 95 %),
//! Google's 429s (target 0), and, once the burst is over, every verified purchase settled
//! (acknowledged or consumed) before its deadline: the emulator's virtual clock is then
//! advanced past 3 days, and Play refunds every purchase left unacknowledged.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use play_emulator::control::CreatePurchase;
use play_emulator::ControlClient;
use serde_json::json;

use crate::process::{Launch, Processes};
use crate::report::{Figure, Report, Target};

/// The burst's shape.
#[derive(Debug, Clone, Copy)]
pub struct Burst {
    /// Each bucket's quota a minute (the emulator's and the server's).
    pub quota: u64,
    /// New purchases a minute, as a multiple of the quota.
    pub factor: u64,
    /// How long new purchases arrive.
    pub seconds: u64,
}

/// Play's acknowledgement deadline.
const ACK_DEADLINE_SECS: i64 = 3 * 24 * 3600;

/// One kind of purchase in the burst.
#[derive(Debug, Clone, Copy)]
struct Kind {
    name: &'static str,
    emulator_kind: &'static str,
    products: [&'static str; 2],
    /// The emulator's call ids that settle it.
    settles: [&'static str; 2],
}

const ONE_TIME: Kind = Kind {
    name: "one-time",
    emulator_kind: "product",
    products: ["coins_100", "premium_unlock"],
    settles: [
        "androidpublisher.purchases.products.acknowledge",
        "androidpublisher.purchases.products.consume",
    ],
};

const SUBSCRIPTIONS: Kind = Kind {
    name: "subscriptions",
    emulator_kind: "subscription",
    products: ["sub_monthly", "sub_yearly"],
    settles: [
        "androidpublisher.purchases.subscriptions.acknowledge",
        "androidpublisher.purchases.subscriptions.acknowledge",
    ],
};

/// What the buyers of one kind came to.
#[derive(Debug, Default)]
struct Outcome {
    offered: u64,
    /// Tokens verified, with how long each buyer waited.
    verified: Vec<(String, Duration)>,
    /// Of those, granted before the burst ended.
    in_burst: u64,
    /// Answers `503` (each followed by a retry, or the end of the burst).
    unavailable: u64,
    /// Requests without an answer (retried after 1 s).
    unanswered: u64,
    /// Buyers still unverified when the burst ended (their outbox would retry).
    unverified: u64,
}

/// Runs the burst against fresh processes; prints the report; whether every target was met.
pub async fn run(
    server: PathBuf,
    emulator: PathBuf,
    database_url: Option<String>,
    burst: Burst,
) -> anyhow::Result<bool> {
    let started = Instant::now();
    // reqwest is built without a TLS provider of its own (loopback HTTP only here).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(60))
        .build()?;
    let q = burst.quota;
    let launch = Launch {
        server,
        emulator,
        database_url,
        callgrind: None,
        server_config: format!(
            "[quota]\none_time_purchases_per_minute = {q}\nsubscriptions_per_minute = {q}\n"
        ),
        emulator_args: vec![
            "--quota".into(),
            format!("purchases_per_minute={q}"),
            "--quota".into(),
            format!("subscriptions_per_minute={q}"),
        ],
        // Each refused verification is a 503, which the HTTP trace layer logs as an error.
        server_log: "warn,tower_http=off",
    };
    let procs = Processes::start(&launch, &http).await?;
    let control = ControlClient::with_http(http.clone(), &procs.emulator_url);
    crate::progress(&format!(
        "quota burst: {} new purchases a minute of each kind for {} s, quota {q} a minute",
        q * burst.factor,
        burst.seconds
    ));
    let (one_time, subscriptions) = tokio::join!(
        buyers(&http, &control, &procs.url, ONE_TIME, burst),
        buyers(&http, &control, &procs.url, SUBSCRIPTIONS, burst),
    );
    let outcomes = [(ONE_TIME, one_time?), (SUBSCRIPTIONS, subscriptions?)];

    crate::progress("quota burst: waiting for the acknowledgements");
    let drained = Instant::now();
    let drain_limit = Duration::from_secs(
        60 + outcomes
            .iter()
            .map(|(_, o)| o.verified.len() as u64)
            .max()
            .unwrap_or(0)
            * 60
            * 3
            / (2 * q),
    );
    for (kind, outcome) in &outcomes {
        settled(&control, kind, outcome.verified.len() as u64, drain_limit).await?;
    }
    let drain_secs = drained.elapsed().as_secs_f64();
    let throttled = google_429s(&http, &procs.url).await?;

    // Play's deadline on the virtual clock: past it, every purchase left unacknowledged is
    // refunded.
    control
        .advance_clock(ACK_DEADLINE_SECS + 3600)
        .await
        .context("advancing the emulator's clock")?;
    let purchases: BTreeMap<String, bool> = control
        .purchases()
        .await?
        .into_iter()
        .map(|p| {
            (
                p.purchase_token,
                !p.voided && (p.acknowledged || p.consumed),
            )
        })
        .collect();

    let mut report = Report::new(
        format!(
            "quota burst: emulator and server buckets at {q} a minute, new purchases at {}× for {} s, buyers retrying after Retry-After with jitter",
            burst.factor, burst.seconds
        ),
        true,
    );
    let minutes = burst.seconds as f64 / 60.0;
    for (kind, o) in &outcomes {
        let per_minute = o.in_burst as f64 / minutes;
        report.figure(Figure::count(
            &format!("{} verified a minute / quota", kind.name),
            per_minute / q as f64,
            Target::ShareAtLeast(0.95),
        ));
        let missed = o
            .verified
            .iter()
            .filter(|(token, _)| !purchases.get(token).copied().unwrap_or(false))
            .count();
        report.figure(Figure::count(
            &format!("{} verified, refunded for no acknowledgement", kind.name),
            missed as f64,
            Target::AtMost(0.0),
        ));
        let mut waits: Vec<Duration> = o.verified.iter().map(|(_, w)| *w).collect();
        waits.sort();
        let pct = |p: f64| {
            waits
                .get(((waits.len() as f64 - 1.0) * p).round().max(0.0) as usize)
                .map_or(0.0, Duration::as_secs_f64)
        };
        report.note(format!(
            "{}: {} offered, {} verified ({per_minute:.1} a minute during the burst), {} unverified at the end (still in their outboxes), {} answers 503, {} without an answer; a verified buyer waited p50 {:.1} s, p90 {:.1} s",
            kind.name,
            o.offered,
            o.verified.len(),
            o.unverified,
            o.unavailable,
            o.unanswered,
            pct(0.5),
            pct(0.9)
        ));
    }
    report.figure(Figure::count(
        "Google 429s (emulator's quota exceeded)",
        throttled,
        Target::AtMost(0.0),
    ));
    report.note(format!(
        "every verified purchase settled {drain_secs:.0} s after the burst; {:.0} s in all",
        started.elapsed().as_secs_f64()
    ));
    procs.stop().await?;
    Ok(report.print())
}

/// New purchases of `kind` at `factor` × the quota for the burst, each verified by its
/// buyer until granted or the burst is over.
async fn buyers(
    http: &reqwest::Client,
    control: &ControlClient,
    server: &str,
    kind: Kind,
    burst: Burst,
) -> anyhow::Result<Outcome> {
    let per_second = (burst.quota * burst.factor) as f64 / 60.0;
    let total = (per_second * burst.seconds as f64) as u64;
    let end = Instant::now() + Duration::from_secs(burst.seconds);
    let start = Instant::now();
    let bearer = Arc::new(crate::process::bearer(&format!("burst-{}", kind.name))?);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / per_second);
        tokio::time::sleep_until(at.into()).await;
        let (http, control, bearer) = (http.clone(), control.clone(), bearer.clone());
        let url = format!("{server}/v1/purchases/verify");
        tasks.spawn(async move {
            let product = kind.products[(i % 2) as usize];
            let request = CreatePurchase {
                kind: Some(kind.emulator_kind.into()),
                account_id: Some(format!("{}-{i}", kind.name)),
                ..CreatePurchase::of(product)
            };
            let token = control.create_purchase(&request).await?.purchase_token;
            let body = json!({ "itemId": product, "purchaseToken": token });
            let bought = Instant::now();
            let (mut unavailable, mut unanswered) = (0, 0);
            for attempt in 0u64.. {
                let sent = http
                    .post(&url)
                    .bearer_auth(&*bearer)
                    .json(&body)
                    .send()
                    .await;
                // No answer (a saturated server): the outbox's network retry, a second later.
                let Ok(r) = sent else {
                    unanswered += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                };
                match r.status().as_u16() {
                    200 => {
                        let granted = (token, bought.elapsed(), Instant::now() <= end);
                        return anyhow::Ok((Some(granted), unavailable, unanswered));
                    }
                    503 => {
                        unavailable += 1;
                        let after: f64 = r
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok()?.parse().ok())
                            .context("a 503 without Retry-After")?;
                        // The browser library's jitter: 1 to 1.5 times Retry-After.
                        let wait = Duration::from_secs_f64(after * (1.0 + unit(i, attempt) / 2.0));
                        if Instant::now() + wait >= end {
                            return Ok((None, unavailable, unanswered));
                        }
                        tokio::time::sleep(wait).await;
                    }
                    s => bail!(
                        "{} verification answered {s}: {}",
                        kind.name,
                        r.text().await?
                    ),
                }
            }
            unreachable!("the loop returns")
        });
    }
    let mut outcome = Outcome {
        offered: total,
        ..Outcome::default()
    };
    while let Some(done) = tasks.join_next().await {
        let (verified, unavailable, unanswered) = done??;
        outcome.unavailable += unavailable;
        outcome.unanswered += unanswered;
        match verified {
            Some((token, wait, in_burst)) => {
                outcome.in_burst += u64::from(in_burst);
                outcome.verified.push((token, wait));
            }
            None => outcome.unverified += 1,
        }
    }
    Ok(outcome)
}

/// Waits until the emulator counted `count` settlements of `kind`.
async fn settled(
    control: &ControlClient,
    kind: &Kind,
    count: u64,
    limit: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let calls = control.calls().await?;
        let mut ids = kind.settles.to_vec();
        ids.dedup();
        let done: u64 = ids.iter().filter_map(|id| calls.get(*id)).sum();
        if done >= count {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{}: {done} of {count} verified purchases settled after {limit:?}",
                kind.name
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Google's 429 answers the server counted (`pwa_billing_google_calls_total{status="429"}`).
async fn google_429s(http: &reqwest::Client, server: &str) -> anyhow::Result<f64> {
    let text = http
        .get(format!("{server}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter(|l| {
            l.starts_with("pwa_billing_google_calls_total{") && l.contains("status=\"429\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |sum, n| sum + n))
}

/// A uniform number in `[0, 1)` for buyer `i`'s attempt (splitmix64): jitter without a
/// random number crate, the same for every run.
fn unit(i: u64, attempt: u64) -> f64 {
    let mut z = i
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(attempt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
