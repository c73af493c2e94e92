//! The operator console: its page served from the binary under a strict policy; sign-in
//! refused without a key, with a wrong key, after the session expired and from another
//! site; each endpoint's numbers against a seeded database (a month of sandbox purchases,
//! its imported reports, external transactions). Runs on SQLite, and on PostgreSQL under
//! `scripts/with-postgres.sh`.

use crate::common;

use std::time::Duration;

use common::{Harness, ADMIN_KEY};
use pwa_billing_server::console::assets::{CONTENT_SECURITY_POLICY, FILES};
use pwa_billing_server::db::{now_ms, rtdn_messages};
use pwa_billing_server::reports::import::{self, MonthFilter, Progress};
use pwa_billing_server::reports::reconcile;
use pwa_billing_server::reports::storage_client;
use reqwest::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SESSION: &str = "/v1/admin/console/session";
const PAGES: [&str; 6] = [
    "overview",
    "health",
    "lookup?q=alice",
    "reconciliation",
    "catalog",
    "external-transactions",
];

/// The harness server's own origin (`http://127.0.0.1:PORT`).
fn origin(h: &Harness) -> String {
    h.url("")
}

/// Signs in with `key` from the console's origin: the status, the `Set-Cookie` header and
/// the JSON answer.
async fn sign_in(h: &Harness, key: &str) -> (StatusCode, Option<String>, Value) {
    let r = h
        .http
        .post(h.url(SESSION))
        .header(ORIGIN, origin(h))
        .json(&json!({ "apiKey": key }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let cookie = r
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string());
    (status, cookie, r.json().await.unwrap_or(Value::Null))
}

/// Signs in with the admin key; returns the `name=value` of the cookie and the CSRF token.
async fn signed_in(h: &Harness) -> (String, String) {
    let (status, cookie, body) = sign_in(h, ADMIN_KEY).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = cookie.expect("a session cookie");
    let pair = cookie.split(';').next().unwrap().to_string();
    (pair, body["csrfToken"].as_str().unwrap().to_string())
}

/// `GET /v1/admin/console/{page}` with the session cookie, from the console's origin.
async fn page(h: &Harness, cookie: &str, page: &str) -> (StatusCode, Value) {
    let r = h
        .http
        .get(h.url(&format!("/v1/admin/console/{page}")))
        .header(COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_page_and_its_assets_come_from_the_binary_under_a_strict_policy() {
    let h = Harness::new().await;
    let r = h.http.get(h.url("/console/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(csp, CONTENT_SECURITY_POLICY);
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("<script type=\"module\" src=\"/console/app.js\"></script>"));
    for (path, media_type, bytes) in FILES {
        let r = h
            .http
            .get(h.url(&format!("/console/{path}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-type"], *media_type, "{path}");
        assert_eq!(r.bytes().await.unwrap().as_ref(), *bytes, "{path}");
    }
    let missing = h.http.get(h.url("/console/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects.get(h.url("/console")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers()["location"], "/console/");

    // Documented in the OpenAPI document, with the session cookie as a security scheme.
    let (_, doc) = h.request(Method::GET, "/openapi.json", "", None).await;
    for p in [
        "overview",
        "health",
        "lookup",
        "reconciliation",
        "catalog",
        "external-transactions",
        "session",
    ] {
        assert!(
            doc["paths"][format!("/v1/admin/console/{p}")].is_object(),
            "{p} undocumented"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["console_session"]["in"],
        "cookie"
    );
}

#[tokio::test]
async fn no_key_a_wrong_key_a_users_token_and_an_expired_session_are_refused() {
    let h = Harness::with(|c| c.console.session_lifetime = Duration::from_secs(1)).await;
    for p in PAGES {
        let (status, body) = page(&h, "", p).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{p}: {body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let (status, cookie, body) = sign_in(&h, "not-the-key-not-the-key-not-the-key-0000").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(cookie.is_none(), "no cookie for a wrong key");
    let (status, _, _) = sign_in(&h, &Harness::bearer("alice")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a user's JWT is not a server key"
    );
    let (status, body) = page(&h, "pwa_billing_console=made-up", "overview").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // A user's JWT as a bearer is refused too; the server API key is accepted.
    let (status, _) = h
        .request(
            Method::GET,
            "/v1/admin/console/health",
            &Harness::bearer("alice"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = h
        .request(Method::GET, "/v1/admin/console/health", ADMIN_KEY, None)
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, set_cookie, _) = sign_in(&h, ADMIN_KEY).await;
    assert_eq!(status, StatusCode::OK);
    let set_cookie = set_cookie.unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/v1/admin/console",
        "Max-Age=1",
    ] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} missing: {set_cookie}"
        );
    }
    assert!(
        !set_cookie.contains("Secure"),
        "loopback: not Secure, {set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    // Only the cookie's digest is stored.
    let stored: Vec<String> = sqlx::query_scalar("SELECT id_digest FROM console_sessions")
        .fetch_all(h.state.db.pool())
        .await
        .unwrap();
    let value = cookie.split_once('=').unwrap().1;
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0].contains(value) && stored[0].len() == 64,
        "{stored:?}"
    );
    for p in PAGES {
        let (status, body) = page(&h, &cookie, p).await;
        assert_eq!(status, StatusCode::OK, "{p}: {body}");
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = page(&h, &cookie, "overview").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_session_ends_when_its_key_is_no_longer_configured() {
    let mut h = Harness::new().await;
    let (cookie, _) = signed_in(&h).await;
    assert_eq!(page(&h, &cookie, "health").await.0, StatusCode::OK);
    let other = "another-admin-key-another-admin-key-0123";
    h.restart_with(|c| c.admin.api_keys = vec![other.into()])
        .await;
    let (status, body) = page(&h, &cookie, "health").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no longer configured"));
}

#[tokio::test]
async fn cross_site_requests_and_missing_csrf_tokens_are_refused() {
    let h = Harness::new().await;
    let evil = "https://evil.example";
    // Signing in from another site (login forgery).
    let r = h
        .http
        .post(h.url(SESSION))
        .header(ORIGIN, evil)
        .json(&json!({ "apiKey": ADMIN_KEY }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    // A form post cannot send JSON: refused before any key is looked at.
    let r = h
        .http
        .post(h.url(SESSION))
        .header(ORIGIN, origin(&h))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("apiKey={ADMIN_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let (cookie, csrf) = signed_in(&h).await;
    let delete = |origin: String, csrf: Option<String>| {
        let mut r = h
            .http
            .delete(h.url(SESSION))
            .header(COOKIE, cookie.clone())
            .header(ORIGIN, origin);
        if let Some(t) = csrf {
            r = r.header("x-csrf-token", t);
        }
        r.send()
    };
    // A cross-site POST (here DELETE) carrying the cookie, even with the token.
    let r = delete(evil.into(), Some(csrf.clone())).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Same origin without the token, or with another one.
    assert_eq!(
        delete(origin(&h), None).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(origin(&h), Some("wrong".into()))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // A cross-site read with the cookie.
    let r = h
        .http
        .get(h.url("/v1/admin/console/overview"))
        .header(COOKIE, &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Still signed in after all of that; then signing out properly ends the session.
    assert_eq!(page(&h, &cookie, "overview").await.0, StatusCode::OK);
    let r = delete(origin(&h), Some(csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        page(&h, &cookie, "overview").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_cookie_is_secure_outside_loopback() {
    let h = Harness::new().await;
    let r = h
        .http
        .post(h.url(SESSION))
        .header(HOST, "billing.example.com")
        .header(ORIGIN, "https://billing.example.com")
        .json(&json!({ "apiKey": ADMIN_KEY }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let set_cookie = r.headers()[SET_COOKIE].to_str().unwrap();
    assert!(set_cookie.ends_with("; Secure"), "{set_cookie}");
}

/// Verifies a purchase of `product` (with `extra` emulator fields) for `account`.
async fn granted(h: &Harness, account: &str, product: &str, extra: Value) -> String {
    let token = h.buy(product, extra).await;
    let (status, body) = h.verify(account, product, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    h.wait_job_done(&pwa_billing_server::verify::settle_key(&token))
        .await;
    token
}

/// A stored external transaction, written as the server writes one (no delivery job: it
/// stays in the state given).
async fn external_transaction(
    h: &Harness,
    id: &str,
    state: &str,
    paid_at: i64,
    error: Option<&str>,
) {
    sqlx::query(
        "INSERT INTO external_transactions (id, payment_id, account_id, product_id, kind, currency, \
         pre_tax_micros, tax_micros, transaction_time, region_code, test, fingerprint, state, last_error, \
         created_at, updated_at) VALUES ($1, $2, 'frank', 'premium_unlock', 'one_time', 'EUR', 9990000, \
         1900000, $3, 'DE', 0, 'f', $4, $5, $3, $3)",
    )
    .bind(id)
    .bind(format!("pay-{id}"))
    .bind(paid_at)
    .bind(state)
    .bind(error)
    .execute(h.state.db.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn each_page_answers_the_numbers_of_a_seeded_database() {
    let h = Harness::new().await;
    let c = common::catalog();
    let coins = granted(&h, "alice", &c.consumable, json!({"quantity": 2})).await;
    let unlock = granted(&h, "bob", &c.non_consumable, json!({})).await;
    let sub = granted(&h, "carol", &c.subscription, json!({})).await;
    for _ in 0..2 {
        h.emulator_action(&sub, "renew", json!({})).await;
    }
    let voided = granted(&h, "dave", &c.non_consumable, json!({})).await;
    granted(&h, "erin", &c.consumable, json!({"test": true})).await;
    h.emulator_action(&voided, "void", json!({"reason": 7}))
        .await;
    pwa_billing_server::reconcile::run(&h.state).await.unwrap();
    let client = storage_client(&h.config, None).unwrap();
    let imported = import::run(&h.state.db, &client, MonthFilter::All, Progress::Quiet)
        .await
        .unwrap();
    assert!(
        imported.imported > 0 && imported.failed.is_empty(),
        "{imported:?}"
    );
    let now = now_ms();
    // A notification naming the subscription, received a minute ago, stored as before its
    // purchase token had a column (migration 0023): filled in at start.
    let notification = json!({"version": "1.0", "packageName": h.config.package_name,
        "subscriptionNotification": {"version": "1.0", "notificationType": 2, "purchaseToken": sub}});
    sqlx::query("INSERT INTO rtdn_messages (message_id, notification, received_at, deliveries) VALUES ('m1', $1, $2, 2)")
        .bind(notification.to_string())
        .bind(now - 60_000)
        .execute(h.state.db.pool())
        .await
        .unwrap();
    assert_eq!(rtdn_messages::fill_tokens(&h.state.db).await.unwrap(), 1);
    assert_eq!(rtdn_messages::fill_tokens(&h.state.db).await.unwrap(), 0);
    // One naming the consumable, stored as the push endpoint stores it (with its token).
    let consumed = json!({"version": "1.0", "packageName": h.config.package_name,
        "oneTimeProductNotification": {"version": "1.0", "notificationType": 1, "purchaseToken": coins, "sku": c.consumable}});
    let mut conn = h.state.db.writer().acquire().await.unwrap();
    assert!(
        rtdn_messages::store_message(&mut conn, "m2", None, None, &consumed.to_string())
            .await
            .unwrap()
    );
    drop(conn);
    external_transaction(&h, "et-late", "pending", now - 30 * 3_600_000, None).await;
    external_transaction(
        &h,
        "et-failed",
        "failed",
        now - 3_600_000,
        Some("400 INVALID_ARGUMENT: bad region"),
    )
    .await;
    external_transaction(&h, "et-ok", "reported", now - 3_600_000, None).await;
    // A webhook delivery given up.
    sqlx::query(
        "INSERT INTO webhook_deliveries (event_id, endpoint, status, attempts, run_at, created_at, updated_at) \
         VALUES ('ev-1', 'backend', 'failed', 9, $1, $1, $1)",
    )
    .bind(now - 3_600_000)
    .execute(h.state.db.pool())
    .await
    .unwrap();
    // The voided sweep last done 3 intervals ago.
    let interval = h.config.voided.poll_interval.as_millis() as i64;
    sqlx::query("UPDATE leases SET updated_at = $1 WHERE name = 'voided_purchases'")
        .bind(now - 3 * interval)
        .execute(h.state.db.pool())
        .await
        .unwrap();
    let (cookie, _) = signed_in(&h).await;

    // Overview.
    let (status, o) = page(&h, &cookie, "overview").await;
    assert_eq!(status, StatusCode::OK, "{o}");
    let states: Vec<&Value> = o["entitlements"].as_array().unwrap().iter().collect();
    let count = |s: &str, field: &str| {
        states
            .iter()
            .find(|e| e["state"] == s)
            .map_or(0, |e| e[field].as_i64().unwrap())
    };
    let real: i64 = states.iter().map(|e| e["count"].as_i64().unwrap()).sum();
    let test: i64 = states.iter().map(|e| e["test"].as_i64().unwrap()).sum();
    assert_eq!((real, test), (4, 1), "{o}");
    assert_eq!(
        count("active", "count"),
        2,
        "bob's unlock and carol's subscription: {o}"
    );
    assert_eq!(
        count("refunded", "count") + count("revoked", "count"),
        1,
        "dave's voided purchase: {o}"
    );
    // The counts kept as purchases changed are those of the purchases table, and the
    // Overview folded the changes it read.
    let direct: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT state, test, COUNT(*) FROM purchases GROUP BY state, test ORDER BY state, test",
    )
    .fetch_all(h.state.db.pool())
    .await
    .unwrap();
    let shown: Vec<(String, i64, i64)> = states
        .iter()
        .flat_map(|e| {
            let state = e["state"].as_str().unwrap().to_string();
            [
                (0, e["count"].as_i64().unwrap()),
                (1, e["test"].as_i64().unwrap()),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(move |(test, n)| (state.clone(), test, n))
        })
        .collect();
    assert_eq!(shown, direct, "{o}");
    let unfolded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchase_count_changes")
        .fetch_one(h.state.db.pool())
        .await
        .unwrap();
    assert_eq!(unfolded, 0);
    let days = o["grantsPerDay"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = days.last().unwrap();
    assert_eq!(
        (today["grants"].as_i64(), today["testGrants"].as_i64()),
        (Some(4), Some(1)),
        "{o}"
    );
    let rec = reconcile::run(&h.state.db, None).await.unwrap();
    let revenue = o["revenue"].as_array().unwrap();
    let sales: Vec<&Value> = revenue.iter().filter(|r| r["source"] == "sales").collect();
    assert!(!sales.is_empty(), "{o}");
    for r in &sales {
        let currency = r["currency"].as_str().unwrap();
        let sum = |f: fn(&reconcile::Total) -> &String| -> i64 {
            rec.totals
                .iter()
                .filter(|t| t.source == "sales" && t.currency == currency)
                .map(|t| play_model::money::parse_decimal(f(t)).unwrap())
                .sum()
        };
        assert_eq!(
            r["chargedMicros"].as_i64().unwrap(),
            sum(|t| &t.charged),
            "{currency}: {o}"
        );
        assert_eq!(
            r["refundedMicros"].as_i64().unwrap(),
            sum(|t| &t.refunded),
            "{currency}: {o}"
        );
    }
    let charges: i64 = sales.iter().map(|r| r["charges"].as_i64().unwrap()).sum();
    assert!(charges >= 6, "4 purchases, 2 renewals: {o}");
    // Summed once per file: a second read sums nothing again and answers the same.
    assert_eq!(
        pwa_billing_server::db::console::refresh_report_totals(&h.state.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        page(&h, &cookie, "overview").await.1["revenue"],
        o["revenue"]
    );
    // A file imported again at a new generation is summed again, alone.
    sqlx::query(
        "UPDATE report_files SET generation = 'again' WHERE name = (SELECT MIN(name) FROM report_files)",
    )
    .execute(h.state.db.pool())
    .await
    .unwrap();
    assert_eq!(
        pwa_billing_server::db::console::refresh_report_totals(&h.state.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        page(&h, &cookie, "overview").await.1["revenue"],
        o["revenue"]
    );

    // Health.
    let (status, health) = page(&h, &cookie, "health").await;
    assert_eq!(status, StatusCode::OK, "{health}");
    let check = |id: &str| {
        health["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(check("outbox")["level"], "green", "{health}");
    assert_eq!(check("outbox")["figures"]["pending"], 0);
    assert_eq!(check("acknowledgements")["level"], "green", "{health}");
    assert_eq!(check("notifications")["level"], "green", "{health}");
    assert_eq!(check("voided_sweep")["level"], "amber", "{health}");
    assert_eq!(
        check("voided_sweep")["figures"]["ageMs"].as_i64().unwrap() / 1000,
        3 * interval / 1000
    );
    let et = check("external_transactions");
    assert_eq!(et["level"], "red", "{health}");
    assert_eq!(
        (
            et["figures"]["pending"].as_i64(),
            et["figures"]["late"].as_i64(),
            et["figures"]["failed"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert!(et["threshold"].as_str().unwrap().contains("22 h"), "{et}");
    assert_eq!(
        check("webhooks")["level"],
        "amber",
        "one failed delivery: {health}"
    );
    assert_eq!(check("webhooks")["figures"]["failed"], 1);
    assert_eq!(check("webhooks")["figures"]["pending"], 0);
    assert_eq!(health["level"], "red");

    // Lookup by order id: the subscription's story.
    let order = h.state.db.pool();
    let order_id: String =
        sqlx::query_scalar("SELECT order_id FROM purchases WHERE purchase_token = $1")
            .bind(&sub)
            .fetch_one(order)
            .await
            .unwrap();
    let (status, l) = page(&h, &cookie, &format!("lookup?q={order_id}")).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["matchedBy"], "order_id");
    assert_eq!(l["accountId"], "carol");
    let story = &l["purchases"][0];
    assert_eq!(story["purchaseToken"], sub);
    let kinds: Vec<&str> = story["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "purchased",
        "verified",
        "granted",
        "queued",
        "acknowledged",
        "notification",
        "report_charge",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let sales_charges = story["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["kind"] == "report_charge" && e["detail"].as_str().unwrap().contains("sales report")
        })
        .count();
    assert_eq!(sales_charges, 3, "the purchase and two renewals: {story}");
    let times: Vec<&str> = story["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in time order: {times:?}"
    );
    let note = story["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "notification")
        .unwrap();
    assert!(
        note["detail"]
            .as_str()
            .unwrap()
            .contains("Renewed (2), delivered 2 times"),
        "{note}"
    );
    // A renewal's order id finds the same purchase; a token and an account too.
    let (_, by_renewal) = page(&h, &cookie, &format!("lookup?q={order_id}..1")).await;
    assert_eq!(by_renewal["purchases"][0]["purchaseToken"], sub);
    let (_, by_token) = page(&h, &cookie, &format!("lookup?q={coins}")).await;
    assert_eq!(by_token["matchedBy"], "purchase_token");
    assert_eq!(by_token["accountId"], "alice");
    let notes: Vec<&Value> = by_token["purchases"][0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "notification")
        .collect();
    assert_eq!(notes.len(), 1, "{by_token}");
    assert!(
        notes[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("one-time product notification Purchased (1)"),
        "{by_token}"
    );
    let (_, by_account) = page(&h, &cookie, "lookup?q=bob").await;
    assert_eq!(by_account["matchedBy"], "account_id");
    assert_eq!(by_account["purchases"][0]["purchaseToken"], unlock);
    let (_, voided_story) = page(&h, &cookie, "lookup?q=dave").await;
    let voided_kinds: Vec<&str> = voided_story["purchases"][0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        voided_kinds.contains(&"report_refund") && voided_kinds.contains(&"state"),
        "{voided_kinds:?}"
    );
    let (_, nothing) = page(&h, &cookie, "lookup?q=nobody").await;
    assert_eq!(nothing["matchedBy"], Value::Null);
    assert_eq!(nothing["purchases"], json!([]));
    assert_eq!(
        page(&h, &cookie, "lookup?q=").await.0,
        StatusCode::BAD_REQUEST
    );

    // Reconciliation: the newest month, as the reconciliation endpoint gives it.
    let (status, r) = page(&h, &cookie, "reconciliation").await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let month = r["months"][0]["month"].as_str().unwrap().to_string();
    assert_eq!(r["month"], month);
    let (_, direct) = h
        .request(
            Method::GET,
            &format!("/v1/admin/reports/reconciliation?month={month}"),
            ADMIN_KEY,
            None,
        )
        .await;
    assert_eq!(r["reconciliation"], direct);
    // Stored: read again as it was computed, until a report file is imported again.
    let computed_at = r["computedAt"].as_str().unwrap().to_string();
    let (_, again) = page(&h, &cookie, "reconciliation").await;
    assert_eq!(
        (&again["computedAt"], &again["reconciliation"]),
        (&r["computedAt"], &direct)
    );
    sqlx::query("UPDATE report_files SET generation = 'later' WHERE month = $1")
        .bind(&month)
        .execute(h.state.db.pool())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (_, recomputed) = page(&h, &cookie, "reconciliation").await;
    assert!(
        recomputed["computedAt"].as_str().unwrap() > computed_at.as_str(),
        "{recomputed}"
    );
    assert_eq!(recomputed["reconciliation"], direct);
    assert_eq!(
        r["status"],
        if direct["discrepancies"] == 0 {
            "clean"
        } else {
            "discrepancies"
        }
    );
    assert_eq!(
        page(&h, &cookie, "reconciliation?month=2001-13").await.0,
        StatusCode::BAD_REQUEST
    );
    let (_, none) = page(&h, &cookie, "reconciliation?month=2001-01").await;
    assert_eq!(none["status"], "not_imported");

    // Catalog: what the server sells; no file, so no drift to read.
    let (status, cat) = page(&h, &cookie, "catalog").await;
    assert_eq!(status, StatusCode::OK, "{cat}");
    let ids: Vec<&str> = cat["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let sold: Vec<&str> = h.config.products.keys().map(String::as_str).collect();
    assert_eq!(ids, sold);
    assert!(
        cat["driftError"]
            .as_str()
            .unwrap()
            .contains("no catalog file"),
        "{cat}"
    );

    // External transactions.
    let (status, e) = page(&h, &cookie, "external-transactions").await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(
        (
            e["pending"].as_i64(),
            e["late"].as_i64(),
            e["failed"].as_i64(),
            e["reported"].as_i64()
        ),
        (Some(1), Some(1), Some(1), Some(1)),
        "{e}"
    );
    assert_eq!(e["pendingPayments"][0]["paymentId"], "pay-et-late");
    assert_eq!(e["pendingPayments"][0]["late"], true);
    assert_eq!(e["pendingPayments"][0]["amount"], "9.99 EUR");
    assert_eq!(
        e["failedPayments"][0]["lastError"],
        "400 INVALID_ARGUMENT: bad region"
    );
}

#[tokio::test]
async fn the_catalog_page_shows_the_files_prices_and_the_drift_against_play() {
    let catalog = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog.toml");
    let h = Harness::with(|c| c.catalog = Some(catalog.clone())).await;
    let (_, cat) = h
        .request(Method::GET, "/v1/admin/console/catalog", ADMIN_KEY, None)
        .await;
    let premium = cat["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "premium_unlock")
        .unwrap();
    assert_eq!(premium["title"], "Premium upgrade");
    assert!(
        premium["prices"]
            .as_array()
            .unwrap()
            .contains(&json!("buy US: 4.99 USD")),
        "{premium}"
    );
    let drift = &cat["drift"];
    assert!(drift.is_object(), "{cat}");
    for list in ["writes", "state_changes", "deletes", "refusals"] {
        assert!(drift[list].is_array(), "{list}: {drift}");
    }
    assert!(drift["regions_version"].is_string(), "{drift}");
    // Play is read once a minute at most for the file: a second view shows that read.
    let read_at = cat["driftReadAt"].as_str().unwrap();
    let (_, again) = h
        .request(Method::GET, "/v1/admin/console/catalog", ADMIN_KEY, None)
        .await;
    assert_eq!(again["driftReadAt"], read_at, "{again}");
    assert_eq!(&again["drift"], drift);
}

#[tokio::test]
async fn a_disabled_console_serves_nothing() {
    let h = Harness::with(|c| c.console.enabled = false).await;
    let page = h.http.get(h.url("/console/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let (status, _) = h
        .request(Method::GET, "/v1/admin/console/health", ADMIN_KEY, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, doc) = h.request(Method::GET, "/openapi.json", "", None).await;
    assert!(doc["paths"]["/v1/admin/console/health"].is_null());
}
