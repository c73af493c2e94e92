//! Webhooks (issue #21): deliveries per second and the p99 from a change to its delivery,
//! to a receiver in this process answering 204; and new purchases per second with one
//! endpoint that never answers configured, as a share of the same run without webhooks
//! (a hanging endpoint must not slow verification: ≥ 90 %).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::load::Limit;
use crate::report::{Figure, Report, Target};
use crate::{checked, progress, start_with, Args};

/// The endpoint's secret (the receiver here does not verify: the integration tests do,
/// with the official library).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYqr";

/// What the receiver does with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Answer 204 and note when, and how long after its event was written.
    Answer,
    /// Never answer.
    Hang,
}

#[derive(Debug, Default)]
struct Received {
    /// (arrival, ms from the event's `timestamp` to its arrival) per delivery.
    arrivals: Vec<(Instant, f64)>,
}

type Shared = (Mode, Arc<Mutex<Received>>);

async fn hook(State((mode, received)): State<Shared>, body: String) -> StatusCode {
    if mode == Mode::Hang {
        std::future::pending::<()>().await;
    }
    let arrived = OffsetDateTime::now_utc();
    let lag_ms = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| OffsetDateTime::parse(v["timestamp"].as_str()?, &Rfc3339).ok())
        .map_or(f64::NAN, |t| (arrived - t).as_seconds_f64() * 1000.0);
    received
        .lock()
        .expect("not poisoned")
        .arrivals
        .push((Instant::now(), lag_ms));
    StatusCode::NO_CONTENT
}

/// Starts a receiver; returns its URL and what it received.
async fn receiver(mode: Mode) -> anyhow::Result<(String, Arc<Mutex<Received>>)> {
    let received = Arc::new(Mutex::new(Received::default()));
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state((mode, received.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, received))
}

fn endpoint(url: &str) -> String {
    format!("\n[webhooks.endpoints.backend]\nurl = \"{url}\"\nsecrets = [\"{SECRET}\"]\n")
}

/// Verifies `count` new purchases on a fresh server configured with `config`; returns the
/// rate and when the verification started.
async fn new_purchases(
    args: &Args,
    config: String,
    count: u64,
    then: impl AsyncFnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<(f64, Instant)> {
    let b = start_with(args.clone(), config).await?;
    let bearer = b.session("bench-webhooks")?;
    let bodies = Arc::new(b.buy(count).await?);
    let started = Instant::now();
    let stats = checked(
        "new purchases (webhooks)",
        b.closed_until(Limit::Count(count), b.verify(&bearer, bodies))
            .await,
    )?;
    then().await?;
    b.procs.stop().await?;
    Ok((stats.rate(), started))
}

/// The webhook figures of a run.
pub async fn figures(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let count = (args.new_purchases / 3).max(300);
    // Deliveries: every new purchase is one `entitlement.granted`, each coins purchase one
    // `entitlement.consumed` more once the worker consumed it.
    let expected = count + count.div_ceil(2);
    progress("webhooks: deliveries to an endpoint that answers");
    let (url, received) = receiver(Mode::Answer).await?;
    let (_, started) = new_purchases(args, endpoint(&url), count, async || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while (received.lock().expect("not poisoned").arrivals.len() as u64) < expected {
            if Instant::now() > deadline {
                bail!("webhooks: not every event delivered within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    })
    .await?;
    let arrivals = std::mem::take(&mut received.lock().expect("not poisoned").arrivals);
    let last = arrivals
        .iter()
        .map(|(at, _)| *at)
        .max()
        .context("no delivery")?;
    let mut lags: Vec<f64> = arrivals.iter().map(|(_, lag)| *lag).collect();
    lags.sort_by(f64::total_cmp);
    // Reported, not judged: the issue sets these figures no target, and the deliveries
    // run while the verifications still load the one SQLite writer.
    report.note(format!(
        "webhook deliveries: {:.0} per second end to end ({} deliveries of {count} new purchases, granted and consumed for coins, from the first verification to the last arrival); p50 {:.0} ms, p99 {:.0} ms from a change (its event's timestamp) to its delivery",
        arrivals.len() as f64 / (last - started).as_secs_f64(),
        arrivals.len(),
        percentile(&lags, 50.0),
        percentile(&lags, 99.0),
    ));

    progress("webhooks: new purchases without webhooks and with a hanging endpoint, twice each");
    let (hang_url, _) = receiver(Mode::Hang).await?;
    let (mut without, mut with) = (0.0_f64, 0.0_f64);
    for _ in 0..2 {
        without = without.max(
            new_purchases(args, String::new(), count, async || Ok(()))
                .await?
                .0,
        );
        with = with.max(
            new_purchases(args, endpoint(&hang_url), count, async || Ok(()))
                .await?
                .0,
        );
    }
    report.figure(Figure::count(
        "new purchases/s with a hanging endpoint, share",
        with / without,
        Target::ShareAtLeast(0.9),
    ));
    report.note(format!(
        "new purchases: {with:.0} req/s with an endpoint that never answers, {without:.0} req/s without webhooks (best of two runs each, {count} purchases, fresh servers, interleaved)"
    ));
    Ok(())
}

/// The `p`-th percentile of sorted values (nearest rank).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
