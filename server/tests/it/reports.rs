//! Financial reports: a month of sandbox purchases imported from the emulator's Cloud Storage
//! bucket and reconciled with what the server granted; the discrepancies each found;
//! re-imports that add nothing; bad files that fail clearly and leave earlier imports
//! intact; paging over more than 1,000 objects; the admin endpoint and the commands.
//! Runs on SQLite, and on PostgreSQL under `scripts/with-postgres.sh`.

use crate::common;

use std::io::Write;

use common::{Harness, ADMIN_KEY};
use pwa_billing_server::reports::import::{self, ImportSummary, MonthFilter, Progress};
use pwa_billing_server::reports::reconcile::{self, Reconciliation};
use pwa_billing_server::reports::storage_client;
use pwa_billing_server::reports::Month;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

async fn import_all(h: &Harness) -> ImportSummary {
    let client = storage_client(&h.config, None).unwrap();
    import::run(&h.state.db, &client, MonthFilter::All, Progress::Quiet)
        .await
        .unwrap()
}

async fn reconciled(h: &Harness) -> Reconciliation {
    reconcile::run(&h.state.db, None).await.unwrap()
}

async fn count(h: &Harness, table: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(h.state.db.pool())
        .await
        .unwrap()
        .get(0)
}

/// The emulator's view of a purchase (its `orderId`).
async fn order_id(h: &Harness, token: &str) -> String {
    h.control().purchase(token).await.unwrap().order_id
}

/// Verifies a purchase made with `extra` fields for `account`; returns the token.
async fn granted(h: &Harness, account: &str, product: &str, extra: Value) -> String {
    let token = h.buy(product, extra).await;
    let (status, body) = h.verify(account, product, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    token
}

/// `GET /v1/admin/reports/reconciliation{query}` with a bearer credential.
async fn reconciliation(h: &Harness, query: &str, bearer: &str) -> (StatusCode, Value) {
    let path = format!("/v1/admin/reports/reconciliation{query}");
    h.request(reqwest::Method::GET, &path, bearer, None).await
}

fn orders(list: &[reconcile::Discrepancy]) -> Vec<String> {
    list.iter().map(|d| d.order_id.clone()).collect()
}

/// A month of sandbox sales: one-time products (one partly refunded), a subscription renewed
/// twice, a voided purchase, a test purchase.
async fn a_month_of_sales(h: &Harness) {
    let c = common::catalog();
    let coins = granted(h, "alice", &c.consumable, json!({"quantity": 3})).await;
    granted(h, "bob", &c.non_consumable, json!({})).await;
    let sub = granted(h, "carol", &c.subscription, json!({})).await;
    for _ in 0..2 {
        h.emulator_action(&sub, "renew", json!({})).await;
    }
    let voided = granted(h, "dave", &c.non_consumable, json!({})).await;
    granted(h, "erin", &c.consumable, json!({"test": true})).await;
    h.emulator_action(&coins, "void", json!({"quantity": 1}))
        .await;
    h.emulator_action(&voided, "void", json!({"reason": 7}))
        .await;
    // The server learns of both refunds from Play's voided purchases.
    pwa_billing_server::reconcile::run(&h.state).await.unwrap();
}

#[tokio::test]
async fn a_month_of_sandbox_purchases_imports_and_reconciles_clean_and_reimports_add_nothing() {
    let h = Harness::new().await;
    a_month_of_sales(&h).await;

    let first = import_all(&h).await;
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    // One sales and two earnings objects (one-time products, subscriptions) per month.
    assert!(first.listed >= 3, "{first:?}");
    assert_eq!(first.imported, first.listed);
    let rows = count(&h, "report_rows").await;
    assert_eq!(first.rows as i64, rows);
    let r = reconciled(&h).await;
    assert_eq!(r.discrepancies, 0, "{}", r.to_text());
    assert_eq!(r.test_purchases_excluded, 1, "{}", r.to_text());
    assert_eq!(r.grants_checked, 4, "{}", r.to_text());
    let sales_sub = r
        .totals
        .iter()
        .find(|t| t.source == "sales" && t.product_id == common::catalog().subscription)
        .expect("subscription totals");
    assert_eq!(sales_sub.orders, 3, "the purchase and two renewals");
    // coins: 3 × 0.99 + 10 % tax charged, one coin (+ tax) refunded.
    let coins = r
        .totals
        .iter()
        .find(|t| t.source == "sales" && t.product_id == "coins_100")
        .unwrap();
    assert_eq!(
        (
            coins.charged.as_str(),
            coins.refunded.as_str(),
            coins.currency.as_str()
        ),
        ("3.27", "1.09", "USD")
    );
    let fees: Vec<&str> = r
        .totals
        .iter()
        .filter_map(|t| t.google_fees.as_deref())
        .collect();
    assert!(
        !fees.is_empty() && fees.iter().all(|f| f.starts_with('-')),
        "{fees:?}"
    );

    // Again: nothing downloaded, nothing added.
    let downloads = h.call_count("storage.objects.get").await;
    let second = import_all(&h).await;
    assert_eq!(
        (second.imported, second.unchanged, second.rows),
        (0, first.listed, 0)
    );
    assert_eq!(h.call_count("storage.objects.get").await, downloads);
    assert_eq!(count(&h, "report_rows").await, rows);
    assert_eq!(reconciled(&h).await, r);

    // The sales file grows with a new sale: only the changed objects are downloaded again,
    // their rows replaced, not added to.
    granted(&h, "frank", &common::catalog().non_consumable, json!({})).await;
    let third = import_all(&h).await;
    assert!(
        third.imported >= 1 && third.imported < third.listed,
        "{third:?}"
    );
    let grown = count(&h, "report_rows").await;
    assert_eq!(grown, rows + 1 + 3, "a sales row and three earnings rows");
    assert_eq!(reconciled(&h).await.discrepancies, 0);
}

#[tokio::test]
async fn grants_without_charges_charges_without_grants_and_missed_refunds_are_reported() {
    let h = Harness::new().await;
    let c = common::catalog();
    a_month_of_sales(&h).await;
    // A grant Play never charged.
    let free = granted(&h, "mallory", &c.non_consumable, json!({})).await;
    let free_order = order_id(&h, &free).await;
    h.emulator.hide_order_in_reports(&free_order);
    // A charge the server never granted (the token never reached it).
    let lost = h.buy(&c.consumable, json!({})).await;
    let lost_order = order_id(&h, &lost).await;
    // A refund the server has not heard of yet.
    let refunded = granted(&h, "oscar", &c.non_consumable, json!({})).await;
    let refunded_order = order_id(&h, &refunded).await;
    h.emulator_action(&refunded, "void", json!({})).await;

    let summary = import_all(&h).await;
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    let r = reconciled(&h).await;
    assert_eq!(orders(&r.charged_not_granted), [lost_order.as_str()]);
    assert_eq!(orders(&r.granted_not_charged), [free_order.as_str()]);
    assert_eq!(
        r.granted_not_charged[0].account_id.as_deref(),
        Some("mallory")
    );
    assert_eq!(
        orders(&r.refunded_still_entitled),
        [refunded_order.as_str()]
    );
    assert_eq!(r.discrepancies, 3);
    // Each becomes one `reports.discrepancy` event, however often reconcile runs.
    use pwa_billing_server::db::events;
    assert_eq!(events::discrepancies(&h.state.db, &r).await.unwrap(), 3);
    assert_eq!(events::discrepancies(&h.state.db, &r).await.unwrap(), 0);
    h.state.webhooks.publish().await.unwrap();
    let feed = events::feed(&h.state.db, 0, None, 100).await.unwrap();
    let mut reported: Vec<String> = feed
        .iter()
        .filter(|e| e.kind == "reports.discrepancy")
        .map(|e| {
            let body: Value = serde_json::from_str(&e.payload).unwrap();
            body["data"]["order"]["orderId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    reported.sort();
    let mut expected = vec![
        lost_order.clone(),
        free_order.clone(),
        refunded_order.clone(),
    ];
    expected.sort();
    assert_eq!(reported, expected);
    let text = r.to_text();
    for needle in [&lost_order, &free_order, &refunded_order] {
        assert!(text.contains(needle.as_str()), "{text}");
    }

    // The admin endpoint serves the same report, to server API keys only.
    let (status, body) = reconciliation(&h, "", ADMIN_KEY).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["discrepancies"], 3, "{body}");
    assert_eq!(body["chargedNotGranted"][0]["orderId"], lost_order.as_str());
    assert_eq!(body["grantedNotCharged"][0]["orderId"], free_order.as_str());
    assert_eq!(
        body["refundedStillEntitled"][0]["orderId"],
        refunded_order.as_str()
    );
    assert_eq!(serde_json::to_value(&r).unwrap(), body);
    let (status, _) = reconciliation(&h, "", &Harness::bearer("mallory")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, bad) = reconciliation(&h, "?month=2026-13", ADMIN_KEY).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("YYYY-MM"),
        "{bad}"
    );
    for (query, needle) in [("?confirm=maybe", "confirm"), ("?monthh=2026-12", "monthh")] {
        let (status, bad) = reconciliation(&h, query, ADMIN_KEY).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(bad["error"]["code"], "invalid_request", "{bad}");
        assert!(
            bad["error"]["message"].as_str().unwrap().contains(needle),
            "{bad}"
        );
    }
    let doc: Value = h
        .http
        .get(h.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["paths"]["/v1/admin/reports/reconciliation"]["get"]["security"],
        json!([{"server_api_key": []}])
    );
    let month = &r.months[0];
    let (_, one) = reconciliation(&h, &format!("?month={month}"), ADMIN_KEY).await;
    assert_eq!(one["month"], month.as_str());
    assert_eq!(one["discrepancies"], 3);

    // Confirmed with Play: each order's state now, and the lost charge's token.
    let calls = h.call_count("androidpublisher.orders.batchget").await;
    let mut confirmed = reconciled(&h).await;
    reconcile::confirm(&h.state.play, &mut confirmed).await;
    assert_eq!(
        h.call_count("androidpublisher.orders.batchget").await,
        calls + 1
    );
    assert!(confirmed.confirmed && confirmed.confirm_errors.is_empty());
    let d = &confirmed.charged_not_granted[0];
    assert_eq!(
        (d.play_state.as_deref(), d.purchase_token.as_deref()),
        (Some("PROCESSED"), Some(lost.as_str()))
    );
    assert_eq!(
        confirmed.refunded_still_entitled[0].play_state.as_deref(),
        Some("REFUNDED")
    );
    assert_eq!(confirmed.discrepancies, 3);
    let (_, body) = reconciliation(&h, "?confirm=true", ADMIN_KEY).await;
    assert_eq!(body["confirmed"], true);
    assert_eq!(body["chargedNotGranted"][0]["purchaseToken"], lost.as_str());
    // Play refunds the lost charge: confirmed, it no longer counts.
    h.emulator_action(&lost, "void", json!({})).await;
    let mut confirmed = reconciled(&h).await;
    reconcile::confirm(&h.state.play, &mut confirmed).await;
    assert!(confirmed.charged_not_granted.is_empty());
    assert_eq!(orders(&confirmed.resolved_by_play), [lost_order.as_str()]);
    assert_eq!(confirmed.discrepancies, 2);
    assert!(confirmed
        .to_text()
        .contains("1 charge(s) never granted since refunded"));

    // Once the server sweeps the voided purchases, the missed refund is settled.
    pwa_billing_server::reconcile::run(&h.state).await.unwrap();
    let r = reconciled(&h).await;
    assert!(r.refunded_still_entitled.is_empty(), "{}", r.to_text());
    assert_eq!(r.discrepancies, 2);

    // Orders Play does not know: batchGet fails as a whole, each is then asked alone.
    h.emulator.reset();
    let mut unknown = reconciled(&h).await;
    reconcile::confirm(&h.state.play, &mut unknown).await;
    assert!(
        unknown.confirm_errors.is_empty(),
        "{:?}",
        unknown.confirm_errors
    );
    assert!(unknown
        .charged_not_granted
        .iter()
        .chain(&unknown.granted_not_charged)
        .all(|d| d.play_state.as_deref() == Some("NOT_FOUND")));
    assert_eq!(h.call_count("androidpublisher.orders.get").await, 2);
}

/// One month's reconciliation keeps only the grants it looks at (`reconcile::run` drops the
/// others as it reads them); these are the grants of other months it must still find: one
/// bought in January and charged again in February's report (a renewal's order), one
/// bought in January and refunded in February's, and one bought in February and charged in
/// March's report. Besides them, a January grant no February row names is left out.
#[tokio::test]
async fn a_month_finds_grants_of_other_months_and_charges_of_later_reports() {
    let h = Harness::new().await;
    let pool = h.state.db.pool();
    let month = |m: &str| m.parse::<Month>().unwrap().range_ms().0;
    let (jan, feb, mar) = (month("2026-01"), month("2026-02"), month("2026-03"));
    let day = 86_400_000;
    for (token, order, bought) in [
        ("renewed", "GPA.3399-0000-0000-00001", jan + 14 * day),
        ("refunded", "GPA.3399-0000-0000-00002", jan + 19 * day),
        ("late-charge", "GPA.3399-0000-0000-00003", feb + 9 * day),
        ("unnamed", "GPA.3399-0000-0000-00004", jan + 2 * day),
    ] {
        sqlx::query(
            "INSERT INTO purchases (purchase_token, id, account_id, item_id, kind, state, quantity, \
             expires_at, test, acknowledged, order_id, linked_purchase_token, purchased_at, granted_at, \
             created_at, updated_at) VALUES ($1, $2, 'ann', 'premium_unlock', 'non_consumable', 'active', 1, \
             NULL, 0, 1, $3, NULL, $4, $4, $4, $4)",
        )
        .bind(token)
        .bind(format!("id-{token}"))
        .bind(order)
        .bind(bought)
        .execute(pool)
        .await
        .unwrap();
    }
    for (name, file_month) in [
        ("sales/salesreport_202602.zip", "2026-02"),
        ("sales/salesreport_202603.zip", "2026-03"),
    ] {
        sqlx::query(
            "INSERT INTO report_files (name, kind, month, generation, md5_hash, size, row_count, imported_at) \
             VALUES ($1, 'sales', $2, '1', 'test', 0, 1, 0)",
        )
        .bind(name)
        .bind(file_month)
        .execute(pool)
        .await
        .unwrap();
    }
    for (line, file_month, order, kind, amount, at) in [
        (
            1,
            "2026-02",
            "GPA.3399-0000-0000-00001..0",
            "charge",
            4_990_000,
            feb + 14 * day,
        ),
        (
            2,
            "2026-02",
            "GPA.3399-0000-0000-00002",
            "refund",
            -4_990_000,
            feb + 19 * day,
        ),
        (
            1,
            "2026-03",
            "GPA.3399-0000-0000-00003",
            "charge",
            4_990_000,
            mar + 2 * day,
        ),
    ] {
        let base = order.split("..").next().unwrap();
        sqlx::query(
            "INSERT INTO report_rows (file_name, line, kind, month, order_id, base_order_id, transaction_type, \
             refund_type, occurred_at, package_name, product_id, product_type, country, currency, amount_micros, \
             tax_micros, merchant_currency, merchant_amount_micros) \
             VALUES ($1, $2, 'sales', $3, $4, $5, $6, NULL, $7, 'com.example.app', 'premium_unlock', 'inapp', \
             'US', 'USD', $8, 0, NULL, NULL)",
        )
        .bind(format!("sales/salesreport_{}.zip", file_month.replace('-', "")))
        .bind(i64::from(line))
        .bind(file_month)
        .bind(order)
        .bind(base)
        .bind(kind)
        .bind(at)
        .bind(i64::from(amount))
        .execute(pool)
        .await
        .unwrap();
    }
    let r = reconcile::run(&h.state.db, Some("2026-02".parse().unwrap()))
        .await
        .unwrap();
    assert!(r.charged_not_granted.is_empty(), "{}", r.to_text());
    assert!(r.granted_not_charged.is_empty(), "{}", r.to_text());
    assert_eq!(
        orders(&r.refunded_still_entitled),
        ["GPA.3399-0000-0000-00002"]
    );
    assert_eq!(
        r.refunded_still_entitled[0].purchase_token.as_deref(),
        Some("refunded")
    );
    // February's one grant; January's are named by February's rows or not looked at.
    assert_eq!((r.grants_checked, r.discrepancies), (1, 1));
}

fn zip_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(content).unwrap();
    zip.finish().unwrap().into_inner()
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

#[tokio::test]
async fn bad_files_fail_clearly_and_leave_earlier_imports_intact() {
    let h = Harness::new().await;
    // A report as Google sometimes writes it: UTF-16 with a BOM, renamed headers.
    let csv = "Order Number,Order Charged Date,Order Charged Timestamp,Financial Status,Package ID,Product Type,SKU ID,Currency of Sale,Item Price,Taxes Collected,Charged Amount,Country of Buyer\n\
               GPA.0000-0000-0000-00001,2099-01-05,4071168000,Charged,com.example.pwa,inapp,coins_100,EUR,1.00,0.20,1.20,FR\n";
    let name = "sales/salesreport_209901.zip";
    h.emulator.put_object(
        name,
        zip_of("salesreport_209901.csv", &utf16le_with_bom(csv)),
        "application/zip",
    );
    let first = import_all(&h).await;
    assert_eq!((first.imported, first.rows), (1, 1), "{first:?}");
    let stored: (String, String, i64) = sqlx::query(
        "SELECT order_id, currency, amount_micros FROM report_rows WHERE file_name = $1",
    )
    .bind(name)
    .fetch_one(h.state.db.pool())
    .await
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .unwrap();
    assert_eq!(
        stored,
        ("GPA.0000-0000-0000-00001".into(), "EUR".into(), 1_200_000)
    );
    let generation: String = sqlx::query("SELECT generation FROM report_files WHERE name = $1")
        .bind(name)
        .fetch_one(h.state.db.pool())
        .await
        .unwrap()
        .get(0);

    // A new generation that is not a zip, and an earnings file whose columns are unknown.
    h.emulator
        .put_object(name, b"PK\x03\x04 truncated".to_vec(), "application/zip");
    h.emulator.put_object(
        "earnings/earnings_209901_0123-0.zip",
        zip_of("earnings.csv", b"Order,When,Money\nGPA.1,today,1.00\n"),
        "application/zip",
    );
    let second = import_all(&h).await;
    assert_eq!(second.failed.len(), 2, "{second:?}");
    let failures = second.failed.join("\n");
    assert!(
        failures.contains("sales/salesreport_209901.zip: not a readable zip"),
        "{failures}"
    );
    assert!(
        failures.contains("earnings/earnings_209901_0123-0.zip: unknown column layout: no column `Description` or `Order Number`"),
        "{failures}"
    );
    // The earlier import is intact: its row and its generation.
    assert_eq!(count(&h, "report_rows").await, 1);
    assert_eq!(count(&h, "report_files").await, 1);
    let kept: String = sqlx::query("SELECT generation FROM report_files WHERE name = $1")
        .bind(name)
        .fetch_one(h.state.db.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, generation);

    // No bucket configured: the key is named.
    let mut unconfigured = h.config.clone();
    unconfigured.reports.bucket = None;
    let e = storage_client(&unconfigured, None).unwrap_err().to_string();
    assert!(e.contains("`reports.bucket` is required"), "{e}");

    // A bucket that refuses the service account says which permission is missing.
    h.emulator.set_storage_denied(true);
    let client = storage_client(&h.config, None).unwrap();
    let e = import::run(&h.state.db, &client, MonthFilter::All, Progress::Quiet)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("403") || e.contains("refused"), "{e}");
    assert!(e.contains("View financial data"), "{e}");
    assert!(e.contains(&h.emulator.bucket_name()), "{e}");
    h.emulator.set_storage_denied(false);
    // Another bucket than Play's: named.
    let client =
        storage_client(&h.config, Some(&"pubsite_prod_rev_9999".parse().unwrap())).unwrap();
    let e = import::run(&h.state.db, &client, MonthFilter::All, Progress::Quiet)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bucket `pubsite_prod_rev_9999` does not exist"),
        "{e}"
    );
}

#[tokio::test]
async fn listing_pages_over_a_thousand_objects() {
    let h = Harness::new().await;
    h.verified("alice", &common::catalog().consumable).await;
    // 1,005 other objects under `sales/` that sort before the report.
    for i in 0..1005 {
        h.emulator.put_object(
            &format!("sales/archive/{i:04}.txt"),
            b"x".to_vec(),
            "text/plain",
        );
    }
    let lists = h.call_count("storage.objects.list").await;
    let summary = import_all(&h).await;
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    assert!(
        summary.listed >= 2,
        "the sales report on the second page: {summary:?}"
    );
    assert_eq!(
        h.call_count("storage.objects.list").await - lists,
        3,
        "sales/ in two pages, earnings/ in one"
    );
    assert_eq!(reconciled(&h).await.discrepancies, 0);
    // --month narrows the listing to that month's names.
    let month: pwa_billing_server::reports::Month = reconciled(&h).await.months[0].parse().unwrap();
    let client = storage_client(&h.config, None).unwrap();
    let lists = h.call_count("storage.objects.list").await;
    let again = import::run(
        &h.state.db,
        &client,
        MonthFilter::Only(month),
        Progress::Quiet,
    )
    .await
    .unwrap();
    assert_eq!(again.unchanged, summary.listed);
    assert_eq!(h.call_count("storage.objects.list").await - lists, 2);
}

#[tokio::test]
async fn the_commands_import_print_a_summary_and_exit_3_on_a_discrepancy() {
    let h = Harness::new().await;
    let c = common::catalog();
    h.verified("alice", &c.consumable).await;
    let bin = env!("CARGO_BIN_EXE_pwa-billing");
    let run = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("PWA_BILLING_PACKAGE_NAME", &h.config.package_name)
            .env(
                "PWA_BILLING_SERVICE_ACCOUNT_KEY",
                &h.config.service_account_key,
            )
            .env("PWA_BILLING_DATABASE_URL", &h.config.database_url)
            .env("PWA_BILLING_PLAY_API_BASE_URL", h.emulator.url())
            .env("PWA_BILLING_AUTH_JWT_HS256_SECRET", common::SECRET)
            .env(
                "PWA_BILLING_PRODUCTS",
                format!("{}=consumable", c.consumable),
            )
            .env("PWA_BILLING_REPORTS_BUCKET", h.emulator.bucket_name())
            .env("PWA_BILLING_REPORTS_STORAGE_BASE_URL", h.emulator.url())
            .args(args)
            .kill_on_drop(true);
        async move {
            let out = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
                .await
                .expect("the command ends")
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        }
    };
    let (code, out, err) = run(&["reports", "import"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("2 report file(s) listed: 2 imported")
            && out.contains("0 unchanged, 0 failed"),
        "{out}"
    );
    assert!(err.contains("sales/salesreport_"), "a line per file: {err}");
    let (code, out, _) = run(&["reports", "import"]).await;
    assert_eq!(code, Some(0));
    assert!(
        out.contains("0 imported") && out.contains("2 unchanged"),
        "{out}"
    );
    let (code, out, err) = run(&["reports", "reconcile"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("everything adds up"), "{out}");

    let lost = h.buy(&c.consumable, json!({})).await;
    let lost_order = order_id(&h, &lost).await;
    run(&["reports", "import"]).await;
    let (code, out, err) = run(&["reports", "reconcile"]).await;
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.contains(&lost_order), "{out}");
    assert!(err.contains("1 discrepancy(ies)"), "{err}");
    let (code, out, _) = run(&["reports", "reconcile", "--json"]).await;
    assert_eq!(code, Some(3));
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["chargedNotGranted"][0]["orderId"], lost_order.as_str());

    let (code, _, err) = run(&["reports", "import", "--month", "2026-13"]).await;
    assert_eq!(code, Some(2), "clap refuses the month: {err}");
    assert!(err.contains("YYYY-MM"), "{err}");
    let (code, _, err) = run(&["reports", "import", "--bucket", "Not A Bucket"]).await;
    assert_eq!(code, Some(2), "clap refuses the bucket: {err}");
    assert!(
        err.contains("--bucket") && err.contains("Copy Cloud Storage URI"),
        "{err}"
    );
}

/// `make bench`: a year-end-sized sales report (100,000 rows, `REPORTS_BENCH_ROWS` to change)
/// imported in one run; prints the figures and fails under the target rate. The target is
/// the rate a debug build reached on a loaded 2-core machine (4,609 rows/s), so a release
/// build missing it has regressed badly.
#[tokio::test]
#[ignore = "a benchmark: make bench runs it on a release build"]
async fn bench_import_of_a_large_sales_report() {
    const TARGET_ROWS_PER_SEC: f64 = 4_000.0;
    let rows: usize = std::env::var("REPORTS_BENCH_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let h = Harness::new().await;
    let mut csv = String::from("Order Number,Order Charged Date,Order Charged Timestamp,Financial Status,Device Model,Product Title,Product ID,Product Type,SKU ID,Currency of Sale,Item Price,Taxes Collected,Charged Amount,City of Buyer,State of Buyer,Postal Code of Buyer,Country of Buyer\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "GPA.{:04}-{:04}-{:04}-{:05},2099-12-01,4099766400,Charged,device,Coins,com.example.pwa,inapp,coins_100,USD,0.99,0.10,1.09,,,,US\n",
            i % 10_000, i / 10_000, i % 7, i
        ));
    }
    let zipped = zip_of("salesreport_209912.csv", csv.as_bytes());
    h.emulator.put_object(
        "sales/salesreport_209912.zip",
        zipped.clone(),
        "application/zip",
    );
    let started = std::time::Instant::now();
    let summary = import_all(&h).await;
    let seconds = started.elapsed().as_secs_f64();
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    assert_eq!(summary.rows as usize, rows);
    let rate = rows as f64 / seconds;
    let backend = if h.config.database_url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    println!(
        "reports import ({backend}): {rows} rows, {:.1} MiB CSV in a {:.1} MiB zip, {seconds:.2} s, {rate:.0} rows/s (target >= {TARGET_ROWS_PER_SEC:.0})",
        csv.len() as f64 / 1_048_576.0,
        zipped.len() as f64 / 1_048_576.0,
    );
    let started = std::time::Instant::now();
    let r = reconciled(&h).await;
    println!(
        "reports reconcile: {} rows in {:.2} s",
        r.report_rows,
        started.elapsed().as_secs_f64()
    );
    assert!(rate >= TARGET_ROWS_PER_SEC, "{rate:.0} rows/s");
}
