//! `pwa-billing-bench --console`: the operator console's endpoints against a large
//! database. The server's database is seeded directly (a million purchases, each with its
//! acknowledgement job, a notification for every tenth, a million report rows over twelve
//! monthly files, external transactions) in a few SQL statements, then each endpoint is
//! asked by a closed loop with a server API key; target p99 ≤ 200 ms.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use sqlx::{AnyPool, Executor};

use pwa_billing_test_kit::CpuClock;

use crate::load::{closed, Limit, MakeRequest, Stats};
use crate::process::ADMIN_KEY;
use crate::report::{Figure, Report, Target};
use crate::{checked, progress, start, Args, Bench};

/// Clients of each closed loop (operators, not the app's traffic).
const CLIENTS: usize = 4;
/// Seeding a million rows of each kind and measuring, at most.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(1800);
/// The console's latency target.
pub const P99_MS: f64 = 200.0;
/// Accounts the purchases are spread over (so each has a few).
const ACCOUNTS: u64 = 200_000;
const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Rows `1..=n` as a recursive common table expression `n(i)` (SQLite and PostgreSQL).
fn numbers(n: u64) -> String {
    format!("WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < {n}) ")
}

/// A purchase token of number `i` (fixed width: no token is the start of another).
const TOKEN: &str = "'bench-token-' || (1000000 + i)";
const ORDER: &str = "'GPA.3300-0000-0000-' || (1000000 + i)";

/// Seeds the database the server migrated: `purchases` purchases over the last 60 days and
/// `rows` report rows over the last 12 months.
async fn seed(pool: &AnyPool, purchases: u64, rows: u64) -> anyhow::Result<()> {
    let now = now_ms();
    let statements = [
        (
            "purchases",
            format!(
                "{n}INSERT INTO purchases (purchase_token, id, account_id, item_id, kind, state, quantity, \
                 expires_at, test, acknowledged, order_id, linked_purchase_token, purchased_at, granted_at, \
                 created_at, updated_at) \
                 SELECT {TOKEN}, 'bench-id-' || i, 'account-' || (i % {ACCOUNTS}), \
                 CASE WHEN i % 3 = 0 THEN 'sub_monthly' ELSE 'premium_unlock' END, \
                 CASE WHEN i % 3 = 0 THEN 'subscription' ELSE 'non_consumable' END, \
                 CASE WHEN i % 50 = 0 THEN 'refunded' WHEN i % 7 = 0 THEN 'expired' ELSE 'active' END, \
                 1, NULL, CASE WHEN i % 100 = 0 THEN 1 ELSE 0 END, 1, {ORDER}, NULL, \
                 {now} - (i % 60) * {DAY_MS} - i % 1000, {now} - (i % 60) * {DAY_MS} - i % 1000 + 500, \
                 {now} - (i % 60) * {DAY_MS} - i % 1000 + 400, {now} - (i % 60) * {DAY_MS} - i % 1000 + 900 FROM n",
                n = numbers(purchases)
            ),
        ),
        (
            // What the server appends to `purchase_count_changes` as it writes each
            // purchase, folded: the counts the Overview reads.
            "purchase counts",
            "INSERT INTO purchase_counts (state, test, granted_day, n) \
             SELECT state, test, COALESCE(granted_at / 86400000, -1), COUNT(*) FROM purchases \
             GROUP BY state, test, COALESCE(granted_at / 86400000, -1)"
                .to_string(),
        ),
        (
            "acknowledgement jobs",
            format!(
                "{n}INSERT INTO outbox (id, kind, payload, dedupe_key, status, attempts, run_at, created_at, updated_at) \
                 SELECT 'bench-job-' || i, 'acknowledge', '{{}}', 'settle:' || {TOKEN}, 'done', 1, \
                 {now} - (i % 60) * {DAY_MS}, {now} - (i % 60) * {DAY_MS}, {now} - (i % 60) * {DAY_MS} + 300 FROM n",
                n = numbers(purchases)
            ),
        ),
        (
            "notifications",
            format!(
                "{n}INSERT INTO rtdn_messages (message_id, subscription, publish_time, notification, received_at, deliveries, purchase_token) \
                 SELECT 'bench-message-' || i, NULL, NULL, \
                 '{{\"version\":\"1.0\",\"packageName\":\"com.example.bench\",\"subscriptionNotification\":{{\"version\":\"1.0\",\"notificationType\":2,\"purchaseToken\":\"' || 'bench-token-' || (1000000 + i * 10) || '\"}}}}', \
                 {now} - ((i * 10) % 60) * {DAY_MS} + 600, 1, 'bench-token-' || (1000000 + i * 10) FROM n",
                n = numbers(purchases / 10)
            ),
        ),
        (
            "report files",
            format!(
                "{n}INSERT INTO report_files (name, kind, month, generation, md5_hash, size, row_count, imported_at) \
                 SELECT 'sales/salesreport_2026' || CASE WHEN i < 10 THEN '0' ELSE '' END || i || '.zip', 'sales', \
                 '2026-' || CASE WHEN i < 10 THEN '0' ELSE '' END || i, '1', 'bench', 0, {per_file}, {now} FROM n",
                n = numbers(12),
                per_file = rows / 12
            ),
        ),
        (
            "report rows",
            format!(
                "{n}INSERT INTO report_rows (file_name, line, kind, month, order_id, base_order_id, transaction_type, \
                 refund_type, occurred_at, package_name, product_id, product_type, country, currency, amount_micros, \
                 tax_micros, merchant_currency, merchant_amount_micros) \
                 SELECT 'sales/salesreport_2026' || CASE WHEN i % 12 < 9 THEN '0' ELSE '' END || (i % 12 + 1) || '.zip', i, 'sales', \
                 '2026-' || CASE WHEN i % 12 < 9 THEN '0' ELSE '' END || (i % 12 + 1), {ORDER}, {ORDER}, \
                 CASE WHEN i % 20 = 0 THEN 'refund' ELSE 'charge' END, NULL, {now} - (i % 365) * {DAY_MS}, \
                 'com.example.bench', 'premium_unlock', 'inapp', 'US', \
                 CASE WHEN i % 3 = 0 THEN 'EUR' WHEN i % 3 = 1 THEN 'USD' ELSE 'GBP' END, \
                 CASE WHEN i % 20 = 0 THEN -4990000 ELSE 4990000 END, 0, NULL, NULL FROM n",
                n = numbers(rows)
            ),
        ),
        (
            "external transactions",
            format!(
                "{n}INSERT INTO external_transactions (id, payment_id, account_id, product_id, kind, currency, \
                 pre_tax_micros, tax_micros, transaction_time, region_code, test, fingerprint, state, last_error, \
                 reported_at, created_at, updated_at) \
                 SELECT 'bench-et-' || i, 'bench-payment-' || i, 'account-' || (i % {ACCOUNTS}), 'premium_unlock', 'one_time', 'EUR', \
                 9990000, 1900000, {now} - (i % 60) * {DAY_MS}, 'DE', 0, 'f', \
                 CASE WHEN i % 1000 = 0 THEN 'failed' WHEN i % 997 = 0 THEN 'pending' ELSE 'reported' END, \
                 CASE WHEN i % 1000 = 0 THEN '400 INVALID_ARGUMENT' ELSE NULL END, \
                 {now} - (i % 60) * {DAY_MS} + 60000, {now} - (i % 60) * {DAY_MS}, {now} - (i % 60) * {DAY_MS} FROM n",
                n = numbers(purchases / 10)
            ),
        ),
    ];
    for (what, sql) in statements {
        let started = Instant::now();
        pool.execute(sqlx::AssertSqlSafe(sql))
            .await
            .with_context(|| format!("seeding {what}"))?;
        progress(&format!(
            "seeded {what} in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    // Fresh statistics for the planners, as after any bulk load.
    pool.execute("ANALYZE").await?;
    Ok(())
}

impl Bench {
    /// A closed loop of [`CLIENTS`] clients until `limit`, with the server's CPU share.
    async fn operators(&self, limit: Limit, make: MakeRequest) -> Stats {
        let server = CpuClock::of(self.procs.server_pid);
        let mut stats = closed(CLIENTS, limit, make).await;
        stats.server_cpu = server.share_of_one_core();
        stats
    }

    fn console(
        &self,
        page: &str,
        query: impl Fn(u64) -> String + Send + Sync + 'static,
    ) -> MakeRequest {
        let (http, url) = (
            self.http.clone(),
            self.url(&format!("/v1/admin/console/{page}")),
        );
        Arc::new(move |i| {
            http.get(format!("{url}{}", query(i)))
                .bearer_auth(ADMIN_KEY)
        })
    }
}

/// The first Reconciliation of the newest month: it computes it (reading every granted
/// purchase) and stores it; it may outlast the server's request timeout (the computation
/// goes on, and the next request waits for it). Measured after the other pages: its
/// reading of a million purchases is not theirs to wait for.
async fn first_reconciliation(b: &Bench, report: &mut Report) -> anyhow::Result<()> {
    let first = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        let answer = b
            .json(
                b.http
                    .get(b.url("/v1/admin/console/reconciliation"))
                    .bearer_auth(ADMIN_KEY),
            )
            .await;
        match answer {
            Ok(_) => break,
            Err(e) if tries < 10 => progress(&format!("first Reconciliation: {e}")),
            Err(e) => return Err(e.context("the first Reconciliation")),
        }
    }
    report.note(format!(
        "first Reconciliation after the import (computes the newest month once and stores it): {:.1} s",
        first.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Seeds, then measures each console endpoint.
pub async fn run(args: Args) -> anyhow::Result<bool> {
    let purchases = args.console_purchases;
    let rows = args.console_report_rows;
    let database = if args.database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let b = start(args).await?;
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(&b.procs.database_url)
        .await
        .context("opening the server's database")?;
    progress(&format!(
        "seeding {purchases} purchases and {rows} report rows ({database})"
    ));
    let seeding = Instant::now();
    seed(&pool, purchases, rows).await?;
    let seeded_in = seeding.elapsed();
    pool.close().await;

    let mut report = Report::new(
        format!("pwa-billing console benchmark: {database}, {purchases} purchases, {rows} report rows, {CLIENTS} closed-loop clients"),
        true,
    );
    report.note(format!("seeded in {:.0} s", seeded_in.as_secs_f64()));
    let floor = checked(
        "GET /healthz",
        b.operators(Limit::Count(400), b.healthz()).await,
    )?;
    report.floor("GET /healthz floor", &floor);

    // The first Overview after an import sums each report file once.
    let first = Instant::now();
    b.json(
        b.http
            .get(b.url("/v1/admin/console/overview"))
            .bearer_auth(ADMIN_KEY),
    )
    .await?;
    report.note(format!(
        "first Overview after the import (sums {rows} report rows once, per file): {:.0} ms",
        first.elapsed().as_secs_f64() * 1000.0
    ));

    let accounts = ACCOUNTS;
    // 200 requests a page, 4 at once: the p99 is not the one slowest answer.
    let scenarios: Vec<(&str, MakeRequest, u64)> = vec![
        (
            "GET …/console/overview",
            b.console("overview", |_| String::new()),
            200,
        ),
        (
            "GET …/console/health",
            b.console("health", |_| String::new()),
            200,
        ),
        (
            "GET …/console/lookup (account id)",
            b.console("lookup", move |i| {
                format!("?q=account-{}", (i * 7919) % accounts)
            }),
            200,
        ),
        (
            "GET …/console/lookup (order id)",
            b.console("lookup", move |i| {
                format!(
                    "?q=GPA.3300-0000-0000-{}",
                    1_000_000 + (i * 104_729) % purchases + 1
                )
            }),
            200,
        ),
        (
            "GET …/console/lookup (purchase token)",
            b.console("lookup", move |i| {
                format!(
                    "?q=bench-token-{}",
                    1_000_000 + (i * 15_485_863) % purchases + 1
                )
            }),
            200,
        ),
        (
            "GET …/console/external-transactions",
            b.console("external-transactions", |_| String::new()),
            200,
        ),
        (
            "GET …/console/catalog",
            b.console("catalog", |_| String::new()),
            200,
        ),
        (
            "GET …/console/reconciliation (newest month, stored)",
            b.console("reconciliation", |_| String::new()),
            200,
        ),
    ];
    for (name, make, count) in scenarios {
        if name.contains("reconciliation") {
            first_reconciliation(&b, &mut report).await?;
        }
        progress(name);
        let stats = b.operators(Limit::Count(count), make).await;
        if stats.errors > 0 {
            // A scenario whose answers failed (e.g. the request timeout) is a miss with
            // its reason, not the end of the run.
            report.figure(Figure::count(name, f64::INFINITY, Target::AtMost(P99_MS)));
            report.note(format!(
                "{name}: {} of {count} failed: {}",
                stats.errors,
                stats.first_error.unwrap_or_default()
            ));
            continue;
        }
        report.figure(Figure::p99(name, &stats, &floor, Target::AtMostMs(P99_MS)));
    }
    b.procs.stop().await?;
    Ok(report.print())
}
