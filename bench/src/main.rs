//! `pwa-billing-bench`: the server's speed and memory targets, measured against
//! `pwa-billing serve` (release build) and `play-emulator` as two processes on 127.0.0.1,
//! each figure beside the `GET /healthz` floor of the same run (same middleware, no auth,
//! one database ping), so that a ratio survives a machine other builds share. The server's
//! CPU share and peak memory are its own (its pid), the emulator's are reported apart.
//! Bounded in time and count; exits 1 when a target is missed.
//!
//! With `--callgrind DIR` it runs the server under `valgrind --tool=callgrind` instead and
//! prints the instructions each scenario costs it per request (a repeatable figure on a
//! noisy machine); the dumps stay in DIR for `callgrind_annotate`.
//!
//! ```text
//! cargo build --profile server -p pwa-billing-server -p play-emulator -p pwa-billing-bench
//! target/server/pwa-billing-bench target/server/pwa-billing
//! target/server/pwa-billing-bench target/server/pwa-billing --database-url postgres://…
//! target/server/pwa-billing-bench target/server/pwa-billing --callgrind /tmp/cg
//! target/server/pwa-billing-bench target/server/pwa-billing --console   # the console, seeded
//! ```

mod console;
mod load;
mod process;
mod profile;
mod quota;
mod report;
mod webhooks;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use play_emulator::control::{CreatePurchase, SetRtdn};
use play_emulator::rtdn::NotificationRecord;
use play_emulator::ControlClient;
use serde_json::{json, Value};

use load::{closed, open, Limit, MakeRequest, Stats};
use process::{Launch, Processes};
use profile::Callgrind;
use pwa_billing_test_kit::{peak_rss_mib, CpuClock};
use report::{Figure, Report, Target};

/// Measures the pwa-billing server against its targets.
#[derive(Debug, Clone, Parser)]
#[command(version)]
struct Args {
    /// The server binary (built with `cargo build --profile server`).
    #[arg(default_value = "target/server/pwa-billing")]
    server: PathBuf,
    /// The emulator binary (default: `play-emulator` beside the server binary).
    #[arg(long)]
    emulator: Option<PathBuf>,
    /// The database (default: SQLite in a fresh directory); a `postgres://` URL to measure
    /// PostgreSQL: each server started gets a new, empty database on that cluster (its user
    /// may `CREATE DATABASE`), which the server migrates.
    #[arg(long)]
    database_url: Option<String>,
    /// New purchases verified (closed loop).
    #[arg(long, default_value_t = 3000)]
    new_purchases: u64,
    /// Purchases made with Play's notifications on, to count Google calls per purchase.
    #[arg(long, default_value_t = 400)]
    notified_purchases: u64,
    /// Clients of the closed loops.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds of each timed closed loop.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Requests per second of the open loops.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// Seconds of each open loop.
    #[arg(long, default_value_t = 5)]
    open_seconds: u64,
    /// Count instructions instead: the server under callgrind, dumps in this directory.
    #[arg(long)]
    callgrind: Option<PathBuf>,
    /// Requests per scenario when counting instructions.
    #[arg(long, default_value_t = 400)]
    profile_requests: u64,
    /// Measure the operator console's endpoints instead, on a seeded database.
    #[arg(long)]
    console: bool,
    /// Purchases seeded for `--console`.
    #[arg(long, default_value_t = 1_000_000)]
    console_purchases: u64,
    /// Report rows seeded for `--console`.
    #[arg(long, default_value_t = 1_000_000)]
    console_report_rows: u64,
    /// Run the quota burst instead ([`quota`]): Google's buckets at `--burst-quota`.
    #[arg(long)]
    quota_burst: bool,
    /// The burst's bucket quota a minute (emulator and server).
    #[arg(long, default_value_t = 120)]
    burst_quota: u64,
    /// New purchases a minute in the burst, as a multiple of the quota.
    #[arg(long, default_value_t = 10)]
    burst_factor: u64,
    /// Seconds of the burst.
    #[arg(long, default_value_t = 120)]
    burst_seconds: u64,
}

const TOTAL_DEADLINE: Duration = Duration::from_secs(240);
/// Counting instructions runs the processes some 50 times slower.
const PROFILE_DEADLINE: Duration = Duration::from_secs(1800);
/// The quota burst: two minutes of burst, then the acknowledgements paced at the quota.
const QUOTA_DEADLINE: Duration = Duration::from_secs(900);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let deadline = if args.callgrind.is_some() {
        PROFILE_DEADLINE
    } else if args.console {
        console::DEADLINE
    } else if args.quota_burst {
        QUOTA_DEADLINE
    } else {
        TOTAL_DEADLINE
    };
    let outcome = tokio::time::timeout(deadline, async {
        if args.console {
            console::run(args).await
        } else if args.callgrind.is_some() {
            profile(args).await.map(|()| true)
        } else if args.quota_burst {
            let burst = quota::Burst {
                quota: args.burst_quota,
                factor: args.burst_factor,
                seconds: args.burst_seconds,
            };
            let emulator = emulator_path(&args);
            quota::run(args.server, emulator, args.database_url, burst).await
        } else {
            run(args).await
        }
    })
    .await;
    match outcome {
        Ok(Ok(true)) => std::process::ExitCode::SUCCESS,
        Ok(Ok(false)) => std::process::ExitCode::FAILURE,
        Ok(Err(e)) => {
            eprintln!("pwa-billing-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("pwa-billing-bench: over {deadline:?}, stopped");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Everything a scenario needs.
struct Bench {
    http: reqwest::Client,
    /// The emulator's control API.
    control: ControlClient,
    procs: Processes,
    args: Args,
}

impl Bench {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.procs.url)
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{status}: {text}");
        }
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    /// A bearer token for `account` (HS256, the server's configured secret, valid 1 h).
    fn session(&self, account: &str) -> anyhow::Result<String> {
        process::bearer(account)
    }

    /// Buys `count` one-time products on the emulator (coins and premium in turn); returns
    /// each verification body.
    async fn buy(&self, count: u64) -> anyhow::Result<Vec<Value>> {
        let mut bought = Vec::with_capacity(count as usize);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..count {
            let request = CreatePurchase {
                kind: Some("product".into()),
                account_id: Some(format!("device-{i}")),
                ..CreatePurchase::of(product(i))
            };
            let control = self.control.clone();
            tasks.spawn(async move {
                let purchase = control.create_purchase(&request).await?;
                anyhow::Ok((i, purchase.purchase_token))
            });
            if tasks.len() >= 16 {
                bought.push(tasks.join_next().await.expect("a task")??);
            }
        }
        while let Some(done) = tasks.join_next().await {
            bought.push(done??);
        }
        bought.sort();
        Ok(bought
            .into_iter()
            .map(|(i, token)| json!({"itemId": product(i), "purchaseToken": token}))
            .collect())
    }

    /// Google's purchase calls counted by the emulator so far.
    async fn google_calls(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        Ok(self.control.calls().await?)
    }

    /// Waits (60 s at most) until the emulator counted `settles` acknowledgements and
    /// consumptions, every notification after the first `pushed_after` was delivered (if
    /// given), and the purchase calls stopped moving for half a second (the RTDN jobs are
    /// done); returns the purchase calls.
    async fn quiet(&self, settles: u64, pushed_after: Option<usize>) -> anyhow::Result<u64> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = (u64::MAX, Instant::now());
        loop {
            let calls = self.google_calls().await?;
            let count = |prefix: &str| -> u64 {
                calls
                    .iter()
                    .filter(|(m, _)| m.starts_with(prefix))
                    .map(|(_, n)| n)
                    .sum()
            };
            let settled = count("androidpublisher.purchases.products.acknowledge")
                + count("androidpublisher.purchases.products.consume");
            let purchase_calls = purchase_calls(&calls) as u64;
            let undelivered = match pushed_after {
                None => 0,
                Some(skip) => self
                    .notifications()
                    .await?
                    .iter()
                    .skip(skip)
                    .filter(|n| !n.delivered)
                    .count(),
            };
            if purchase_calls != last.0 {
                last = (purchase_calls, Instant::now());
            }
            if settled >= settles
                && undelivered == 0
                && last.1.elapsed() >= Duration::from_millis(500)
            {
                return Ok(purchase_calls);
            }
            if Instant::now() > deadline {
                bail!("not settled in 60 s: {settled} of {settles} settled, {undelivered} notification(s) undelivered");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The notifications Play sent, oldest first.
    async fn notifications(&self) -> anyhow::Result<Vec<NotificationRecord>> {
        Ok(self.control.notifications().await?)
    }

    /// Points the emulator's RTDN push at the server (`on`) or nowhere.
    async fn push(&self, on: bool) -> anyhow::Result<()> {
        let url = on.then(|| self.url("/v1/rtdn"));
        self.control
            .set_rtdn(&SetRtdn {
                push_url: url.clone(),
                audience: url,
            })
            .await?;
        Ok(())
    }

    fn healthz(&self) -> MakeRequest {
        let (http, url) = (self.http.clone(), self.url("/healthz"));
        Arc::new(move |_| http.get(&url))
    }

    fn verify(&self, bearer: &str, bodies: Arc<Vec<Value>>) -> MakeRequest {
        let (http, url, bearer) = (
            self.http.clone(),
            self.url("/v1/purchases/verify"),
            bearer.to_string(),
        );
        Arc::new(move |i| {
            http.post(&url)
                .bearer_auth(&bearer)
                .json(&bodies[(i as usize) % bodies.len()])
        })
    }

    fn entitlements(&self, bearer: &str) -> MakeRequest {
        let (http, url, bearer) = (
            self.http.clone(),
            self.url("/v1/entitlements"),
            bearer.to_string(),
        );
        Arc::new(move |_| http.get(&url).bearer_auth(&bearer))
    }

    /// A closed loop for the configured time.
    async fn closed(&self, make: MakeRequest) -> Stats {
        let limit = Limit::For(Duration::from_secs(self.args.seconds));
        self.closed_until(limit, make).await
    }

    /// A closed loop until `limit`, with the server's CPU share over it.
    async fn closed_until(&self, limit: Limit, make: MakeRequest) -> Stats {
        let server = CpuClock::of(self.procs.server_pid);
        let mut stats = closed(self.args.clients, limit, make).await;
        stats.server_cpu = server.share_of_one_core();
        stats
    }

    /// An open loop at the configured rate and time, with the server's CPU share over it.
    async fn open(&self, make: MakeRequest) -> Stats {
        let server = CpuClock::of(self.procs.server_pid);
        let duration = Duration::from_secs(self.args.open_seconds);
        let mut stats = open(self.args.rate, duration, make).await;
        stats.server_cpu = server.share_of_one_core();
        stats
    }
}

/// A progress line on stderr (the report goes to stdout).
fn progress(what: &str) {
    eprintln!("pwa-billing-bench: {what}…");
}

fn product(i: u64) -> &'static str {
    if i.is_multiple_of(2) {
        "coins_100"
    } else {
        "premium_unlock"
    }
}

/// Fails on requests that did not answer 2xx: a figure over errors means nothing.
fn checked(what: &str, stats: Stats) -> anyhow::Result<Stats> {
    if stats.errors > 0 {
        bail!(
            "{what}: {} of {} requests failed; first: {}",
            stats.errors,
            stats.errors + stats.ok,
            stats.first_error.as_deref().unwrap_or("?")
        );
    }
    Ok(stats)
}

/// `--emulator`, or `play-emulator` beside the server binary.
fn emulator_path(args: &Args) -> PathBuf {
    args.emulator.clone().unwrap_or_else(|| {
        args.server
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("play-emulator")
    })
}

/// The HTTP client of the bench, and the two processes started.
async fn start(args: Args) -> anyhow::Result<Bench> {
    start_with(args, String::new()).await
}

/// [`start`] with `server_config` added to the server's configuration file.
async fn start_with(args: Args, server_config: String) -> anyhow::Result<Bench> {
    // reqwest is built without a TLS provider of its own (loopback HTTP only here).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()?;
    let emulator = emulator_path(&args);
    if let Some(dir) = &args.callgrind {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--callgrind: cannot create {}", dir.display()))?;
    }
    let launch = Launch {
        server: args.server.clone(),
        emulator,
        database_url: args.database_url.clone(),
        callgrind: args.callgrind.clone(),
        // The emulator's quota is lifted below: the server's pacing too.
        server_config: format!(
            "[quota]\none_time_purchases_per_minute = 0\nsubscriptions_per_minute = 0\n\n{server_config}"
        ),
        emulator_args: Vec::new(),
        server_log: "warn",
    };
    let procs = Processes::start(&launch, &http).await?;
    let control = ControlClient::with_http(http.clone(), &procs.emulator_url);
    let b = Bench {
        http,
        control,
        procs,
        args,
    };
    // The emulator's per-minute quota (Google's default) is lifted: the server is measured.
    let lifted = BTreeMap::from([("purchases_per_minute".to_string(), 10_000_000)]);
    b.control.set_quotas(&lifted).await?;
    b.push(false).await?;
    Ok(b)
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let started = Instant::now();
    let database = if args.database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let b = start(args).await?;
    let server_cpu = CpuClock::of(b.procs.server_pid);
    // The speed targets are set for SQLite; PostgreSQL's speeds are reported beside them.
    let mut report = Report::new(
        format!(
            "pwa-billing server benchmark: {database}, pwa-billing serve and play-emulator apart, 127.0.0.1, {} closed-loop clients, open loop at {} req/s",
            b.args.clients, b.args.rate
        ),
        b.args.database_url.is_none(),
    );
    if b.args.database_url.is_some() {
        report.note("speed targets bind SQLite; on PostgreSQL a figure under one says `less`, and only counts (Google calls, memory) fail the run".into());
    }

    // The floor, closed loop, at the start (and again before each figure: the floor of a
    // figure is the one measured nearest to it).
    progress("the /healthz floor");
    let floor = checked("GET /healthz", b.closed(b.healthz()).await)?;
    report.floor("GET /healthz floor (closed loop)", &floor);

    // New purchases: Google's get on the hot path, the acknowledgement enqueued.
    let bearer = b.session("bench")?;
    progress(&format!(
        "buying {} purchases on the emulator",
        b.args.new_purchases
    ));
    let bodies = Arc::new(b.buy(b.args.new_purchases).await?);
    progress("verifying them");
    let calls_before = b.google_calls().await?;
    let fresh = checked(
        "new purchases",
        b.closed_until(
            Limit::Count(b.args.new_purchases),
            b.verify(&bearer, bodies.clone()),
        )
        .await,
    )?;
    report.figure(Figure::rate(
        "new purchases verified (get + ack enqueued)",
        &fresh,
        &floor,
        Target::AtLeast(1500.0),
    ));
    let settling = Instant::now();
    b.quiet(settles(&calls_before) + b.args.new_purchases, None)
        .await?;
    report.note(format!(
        "the outbox settled the {} acknowledgements and consumptions {:.1} s after the last verification",
        b.args.new_purchases,
        settling.elapsed().as_secs_f64()
    ));

    // Settled re-verification: a bearer check and one indexed read.
    progress("settled re-verification, closed then open loop");
    let calls_settled = b.google_calls().await?;
    let floor = checked("GET /healthz", b.closed(b.healthz()).await)?;
    let settled = checked(
        "settled re-verification",
        b.closed(b.verify(&bearer, bodies.clone())).await,
    )?;
    report.figure(Figure::ratio(
        "settled re-verification (closed loop)",
        &settled,
        &floor,
        Target::RatioAtLeast(0.5),
    ));
    let open_floor = checked("GET /healthz open loop", b.open(b.healthz()).await)?;
    report.floor("GET /healthz floor (open loop)", &open_floor);
    let open_settled = checked(
        "settled re-verification open loop",
        b.open(b.verify(&bearer, bodies.clone())).await,
    )?;
    report.figure(Figure::p99(
        "settled re-verification p99 (open loop)",
        &open_settled,
        &open_floor,
        Target::AtMostMs(5.0),
    ));
    let calls_after = b.google_calls().await?;
    report.figure(Figure::count(
        "Google calls for settled re-verifications",
        purchase_calls(&calls_after) - purchase_calls(&calls_settled),
        Target::AtMost(0.0),
    ));

    // GET /v1/entitlements of an account with a few purchases.
    progress("GET /v1/entitlements");
    let reader = b.reader().await?;
    let floor = checked("GET /healthz", b.closed(b.healthz()).await)?;
    let listed = checked("entitlements", b.closed(b.entitlements(&reader)).await)?;
    report.figure(Figure::ratio(
        "GET /v1/entitlements (closed loop)",
        &listed,
        &floor,
        Target::RatioAtLeast(0.5),
    ));

    // Google calls per purchase with Play's notifications on: each purchase is verified
    // the moment it is made, racing the notification Play pushes at once.
    progress("Google calls per purchase with notifications on");
    b.push(true).await?;
    let earlier = b.notifications().await?.len();
    let before = b.quiet(0, None).await?;
    let settles_before = settles(&b.google_calls().await?);
    let notified = Arc::new(b.buy(b.args.notified_purchases).await?);
    checked(
        "notified purchases",
        b.closed_until(
            Limit::Count(b.args.notified_purchases),
            b.verify(&bearer, notified),
        )
        .await,
    )?;
    let after = b
        .quiet(settles_before + b.args.notified_purchases, Some(earlier))
        .await?;
    report.figure(Figure::count(
        "Google calls per new purchase (RTDN on)",
        (after - before) as f64 / b.args.notified_purchases as f64,
        Target::AtMost(2.0),
    ));

    report.figure(Figure::count(
        "server peak RSS, MiB (its own process)",
        peak_rss_mib(b.procs.server_pid)?,
        Target::AtMost(64.0),
    ));
    report.note(format!(
        "server CPU over the run {:.0} % of one core; the emulator (apart, not counted above) peaked at {:.1} MiB; {:.1} s in all",
        server_cpu.share_of_one_core() * 100.0,
        peak_rss_mib(b.procs.emulator_pid)?,
        started.elapsed().as_secs_f64()
    ));
    let args = b.args.clone();
    b.procs.stop().await?;
    webhooks::figures(&args, &mut report).await?;
    Ok(report.print())
}

impl Bench {
    /// The bearer of an account with 5 granted purchases (the entitlements scenario).
    async fn reader(&self) -> anyhow::Result<String> {
        let reader = self.session("reader")?;
        for body in &self.buy(5).await? {
            self.json(
                self.http
                    .post(self.url("/v1/purchases/verify"))
                    .bearer_auth(&reader)
                    .json(body),
            )
            .await
            .context("verifying the reader's purchases")?;
        }
        Ok(reader)
    }
}

/// Instructions per request of each scenario, the server under callgrind.
async fn profile(mut args: Args) -> anyhow::Result<()> {
    let n = args.profile_requests;
    // Few clients: under valgrind the server runs one thread at a time anyway.
    args.clients = args.clients.min(4);
    let dir = args.callgrind.clone().expect("profile mode");
    let b = start(args).await?;
    let cg = Callgrind::new(&dir);
    let server = b.procs.server_pid.to_string();
    let bearer = b.session("bench")?;
    let bodies = Arc::new(b.buy(n).await?);
    let reader = b.reader().await?;
    let mut rows = Vec::new();
    let mut measure = async |name: &str, make: Option<MakeRequest>, settle: bool| {
        let calls = b.google_calls().await?;
        cg.zero(&server)?;
        if let Some(make) = make {
            checked(name, b.closed_until(Limit::Count(n), make).await)?;
        }
        if settle {
            b.quiet(settles(&calls) + n, None).await?;
        }
        let (s, path) = cg.dump(&server, name)?;
        rows.push(format!(
            "{name:<46} {:>12.0}   {}",
            s as f64 / n as f64,
            path.display()
        ));
        anyhow::Ok(())
    };
    progress("counting GET /healthz");
    measure("GET /healthz", Some(b.healthz()), false).await?;
    progress("counting new purchases (verified, then settled by the outbox)");
    measure(
        "new purchase (verify + ack/consume settled)",
        Some(b.verify(&bearer, bodies.clone())),
        true,
    )
    .await?;
    progress("counting settled re-verifications");
    measure(
        "settled re-verification",
        Some(b.verify(&bearer, bodies.clone())),
        false,
    )
    .await?;
    progress("counting GET /v1/entitlements");
    measure(
        "GET /v1/entitlements (5 purchases)",
        Some(b.entitlements(&reader)),
        false,
    )
    .await?;
    println!(
        "instructions per request (callgrind Ir), {n} requests per scenario, {} clients",
        b.args.clients
    );
    println!("{:<46} {:>12}   dump", "scenario", "server Ir/req");
    for row in &rows {
        println!("{row}");
    }
    b.procs.stop().await
}

/// Google's calls about purchases (get, acknowledge, consume), the voided purchases poll
/// (every 30 s, whatever the load) left out.
fn purchase_calls(calls: &BTreeMap<String, u64>) -> f64 {
    calls
        .iter()
        .filter(|(m, _)| {
            m.starts_with("androidpublisher.purchases.") && !m.contains(".voidedpurchases.")
        })
        .map(|(_, n)| *n as f64)
        .sum()
}

fn settles(calls: &BTreeMap<String, u64>) -> u64 {
    calls
        .iter()
        .filter(|(m, _)| {
            m.as_str() == "androidpublisher.purchases.products.acknowledge"
                || m.as_str() == "androidpublisher.purchases.products.consume"
        })
        .map(|(_, n)| n)
        .sum()
}
