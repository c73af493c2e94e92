//! External transactions against the emulator: reports, refunds, idempotence, outages, a
//! crash between storing and reporting, the shared limiter, the deadline watchdog, and the
//! import and status commands.

use crate::common;

use std::time::Duration;

use common::{Harness, ADMIN_KEY};
use play_model::external_transactions::OneTimeExternalTransaction;
use pwa_billing_server::external_transactions::{cli, limiter, model, watchdog};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const CREATE: &str = "androidpublisher.externaltransactions.createexternaltransaction";
const REFUND: &str = "androidpublisher.externaltransactions.refundexternaltransaction";

/// `POST path` with the server API key.
async fn post(h: &Harness, path: &str, body: &Value) -> (StatusCode, Value) {
    h.request(Method::POST, path, ADMIN_KEY, Some(body)).await
}

async fn show(h: &Harness, id: &str) -> (StatusCode, Value) {
    let path = format!("/v1/external-transactions/{id}");
    h.request(Method::GET, &path, ADMIN_KEY, None).await
}

/// A token as the Play Billing Library would give the app.
async fn token(h: &Harness, test: bool) -> String {
    let r = h.control().external_transaction_token(test).await.unwrap();
    r["externalTransactionToken"].as_str().unwrap().to_string()
}

/// The emulator's virtual now, RFC 3339.
async fn emulator_now(h: &Harness) -> String {
    h.control().clock().await.unwrap().now
}

/// A valid one-time payment report paid at `time`.
fn payment(payment_id: &str, token: &str, time: &str) -> Value {
    json!({
        "paymentId": payment_id, "accountId": "alice", "productId": "premium_unlock",
        "kind": "one_time", "preTaxAmount": "9.99", "taxAmount": "1.90", "currency": "EUR",
        "transactionTime": time, "regionCode": "DE", "externalTransactionToken": token,
    })
}

/// Posts a report, asserts `202`, returns the external transaction id.
async fn report(h: &Harness, body: &Value) -> String {
    let (s, r) = post(h, "/v1/external-transactions", body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    r["id"].as_str().unwrap().to_string()
}

/// Waits until `check` holds of the transaction's view; returns the view.
async fn wait_for(h: &Harness, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    h.eventually(what, || async { check(&show(h, id).await.1) })
        .await;
    show(h, id).await.1
}

async fn wait_reported(h: &Harness, id: &str) -> Value {
    wait_for(h, id, "the report", |v| v["state"] == "reported").await
}

/// The emulator's external transactions by id.
async fn on_google(h: &Harness) -> std::collections::BTreeMap<String, Value> {
    h.control().external_transactions().await.unwrap()["externalTransactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["externalTransactionId"].as_str().unwrap().to_string(),
                t.clone(),
            )
        })
        .collect()
}

async fn google_resource(h: &Harness, id: &str) -> Value {
    // Read with the server's own client (it has an access token).
    let t = h
        .state
        .play
        .get_external_transaction(id)
        .await
        .expect("Google has it");
    json!({
        "recurring": t.recurring_transaction,
        "oneTime": t.one_time_transaction,
        "state": t.transaction_state,
    })
}

#[tokio::test]
async fn one_time_payment_is_stored_answered_202_and_reported_once() {
    let h = Harness::new().await;
    let now = emulator_now(&h).await;
    let tok = token(&h, false).await;
    let body = payment("ch_one", &tok, &now);
    let (s, r) = post(&h, "/v1/external-transactions", &body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    assert_eq!(r["created"], true);
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(id, model::transaction_id("ch_one"));
    assert!(play_model::ids::is_external_transaction_id(&id));

    let v = wait_reported(&h, &id).await;
    assert_eq!(v["google"]["transactionState"], "TRANSACTION_REPORTED");
    assert_eq!(v["google"]["currentPreTaxAmount"], "9.99");
    assert_eq!(v["google"]["currentTaxAmount"], "1.90");
    assert_eq!(v["google"]["testPurchase"], false);
    assert_eq!(v["tokenKept"], false, "the token is dropped once reported");
    assert_eq!(v["preTaxAmount"], "9.99");

    // The same payment again: the same id, nothing new for Google.
    let (s, again) = post(&h, "/v1/external-transactions", &body).await;
    assert_eq!(
        (s, &again["id"], &again["created"]),
        (StatusCode::ACCEPTED, &json!(id), &json!(false))
    );
    assert_eq!(again["state"], "reported");
    // The same id with another amount: a conflict.
    let mut other = body.clone();
    other["preTaxAmount"] = json!("10.00");
    let (s, e) = post(&h, "/v1/external-transactions", &other).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "conflict");
    assert_eq!(h.call_count(CREATE).await, 1);
    let google = on_google(&h).await;
    assert_eq!(google.len(), 1);
    assert_eq!(google[&id]["currentPreTaxAmount"]["priceMicros"], "9990000");
}

#[tokio::test]
async fn bad_reports_are_refused_naming_the_field_and_need_a_server_key() {
    let h = Harness::new().await;
    let now = emulator_now(&h).await;
    let good = payment("ch_bad", "tok", &now);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("preTaxAmount", json!("9.999"), "preTaxAmount"),
        ("preTaxAmount", json!("-1"), "preTaxAmount"),
        ("taxAmount", json!("1e2"), "taxAmount"),
        ("currency", json!("EURO"), "currency"),
        ("regionCode", json!("ZZ"), "regionCode"),
        ("regionCode", json!("IN"), "administrativeArea"),
        (
            "transactionTime",
            json!("2026-13-01T00:00:00Z"),
            "transactionTime",
        ),
        (
            "externalTransactionToken",
            json!(""),
            "externalTransactionToken",
        ),
        ("initialPaymentId", json!("ch_0"), "initialPaymentId"),
        ("paymentId", json!(""), "paymentId"),
    ];
    for (field, value, named) in cases {
        let mut body = good.clone();
        body[field] = value.clone();
        let (s, e) = post(&h, "/v1/external-transactions", &body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}: {e}");
        assert_eq!(e["error"]["code"], "invalid_field");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(named), "{field}={value}: {message}");
    }
    // A renewal: no token, and a known first payment.
    let mut renewal = good.clone();
    renewal["kind"] = json!("subscription_renewal");
    let (s, e) = post(&h, "/v1/external-transactions", &renewal).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("externalTransactionToken"));
    renewal
        .as_object_mut()
        .unwrap()
        .remove("externalTransactionToken");
    renewal["initialPaymentId"] = json!("never-reported");
    let (s, e) = post(&h, "/v1/external-transactions", &renewal).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("initialPaymentId"),
        "{e}"
    );
    // Unknown fields are a 400.
    let mut unknown = good.clone();
    unknown["amount"] = json!("1");
    assert_eq!(
        post(&h, "/v1/external-transactions", &unknown).await.0,
        StatusCode::BAD_REQUEST
    );

    // Only a server API key: no key, a wrong key, a user's JWT.
    let url = h.url("/v1/external-transactions");
    for auth in [
        None,
        Some("wrong-key-wrong-key-wrong-key-wrong-key".to_string()),
        Some(Harness::bearer("alice")),
    ] {
        let mut r = h.http.post(&url).json(&good);
        if let Some(a) = auth {
            r = r.bearer_auth(a);
        }
        assert_eq!(r.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(show(&h, "pb-unknown").await.0, StatusCode::NOT_FOUND);
    assert_eq!(h.call_count(CREATE).await, 0, "nothing reached Google");
}

#[tokio::test]
async fn subscription_first_payment_two_renewals_and_an_upgrade() {
    let h = Harness::new().await;
    let now = emulator_now(&h).await;
    let mut first = payment("sub_1", &token(&h, false).await, &now);
    first["kind"] = json!("subscription_first");
    first["productId"] = json!("sub_monthly");
    let first_id = report(&h, &first).await;
    let mut renewal_ids = Vec::new();
    for n in 1..=2 {
        let mut renewal = first.clone();
        renewal["paymentId"] = json!(format!("sub_1_renewal_{n}"));
        renewal["kind"] = json!("subscription_renewal");
        renewal["initialPaymentId"] = json!("sub_1");
        renewal
            .as_object_mut()
            .unwrap()
            .remove("externalTransactionToken");
        renewal_ids.push(report(&h, &renewal).await);
    }
    // The upgrade: a new token, a new series.
    let mut upgrade = first.clone();
    upgrade["paymentId"] = json!("sub_1_upgrade");
    upgrade["productId"] = json!("sub_yearly");
    upgrade["preTaxAmount"] = json!("99.00");
    upgrade["externalTransactionToken"] = json!(token(&h, false).await);
    let upgrade_id = report(&h, &upgrade).await;

    for id in renewal_ids.iter().chain([&first_id, &upgrade_id]) {
        wait_reported(&h, id).await;
    }
    let first_on_google = google_resource(&h, &first_id).await;
    assert!(
        first_on_google["recurring"]["externalSubscription"]["subscriptionType"] == "RECURRING"
    );
    for id in &renewal_ids {
        let r = google_resource(&h, id).await;
        assert_eq!(
            r["recurring"]["initialExternalTransactionId"],
            json!(first_id),
            "{r}"
        );
        assert!(
            r["recurring"].get("externalTransactionToken").is_none(),
            "no token on a renewal: {r}"
        );
    }
    let up = google_resource(&h, &upgrade_id).await;
    assert!(
        up["recurring"]
            .get("initialExternalTransactionId")
            .is_none(),
        "{up}"
    );
    assert_eq!(on_google(&h).await.len(), 4);
    assert_eq!(h.call_count(CREATE).await, 4);
}

#[tokio::test]
async fn partial_then_full_refund_and_a_test_purchase() {
    let h = Harness::new().await;
    let now = emulator_now(&h).await;
    let mut body = payment("ch_refund", &token(&h, true).await, &now);
    body["test"] = json!(true);
    let id = report(&h, &body).await;
    let v = wait_reported(&h, &id).await;
    assert_eq!(
        v["google"]["testPurchase"], true,
        "Google took it as a test purchase: {v}"
    );
    assert_eq!(v["test"], true);

    let refunds = format!("/v1/external-transactions/{id}/refunds");
    let partial = json!({ "refundId": "r1", "preTaxAmount": "4.00", "refundTime": now });
    let (s, r) = post(&h, &refunds, &partial).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    // The same refund again: idempotent; the same id with another amount: a conflict.
    assert_eq!(post(&h, &refunds, &partial).await.1["created"], false);
    let mut changed = partial.clone();
    changed["preTaxAmount"] = json!("3.00");
    assert_eq!(post(&h, &refunds, &changed).await.0, StatusCode::CONFLICT);
    // More than what is left.
    let too_much = json!({ "refundId": "r2", "preTaxAmount": "6.00", "refundTime": now });
    let (s, e) = post(&h, &refunds, &too_much).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("preTaxAmount"));
    let v = wait_for(&h, &id, "the partial refund", |v| {
        v["refunds"][0]["state"] == "reported"
    })
    .await;
    assert_eq!(v["google"]["currentPreTaxAmount"], "5.99");
    assert_eq!(v["google"]["refundedPreTaxAmount"], "4.00");
    assert_eq!(v["google"]["transactionState"], "TRANSACTION_REPORTED");

    let full = json!({ "refundId": "r-full", "refundTime": now });
    assert_eq!(post(&h, &refunds, &full).await.0, StatusCode::ACCEPTED);
    let v = wait_for(&h, &id, "the full refund", |v| {
        v["google"]["canceled"] == true
    })
    .await;
    assert_eq!(v["google"]["currentPreTaxAmount"], "0.00");
    assert_eq!(v["google"]["transactionState"], "TRANSACTION_CANCELED");
    let after = json!({ "refundId": "r3", "preTaxAmount": "0.01", "refundTime": now });
    assert_eq!(
        post(&h, &refunds, &after).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post(&h, "/v1/external-transactions/pb-nope/refunds", &full)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(h.call_count(REFUND).await, 2);
}

/// Sum of the reported refunds' pre-tax amounts in a view, in cents.
fn reported_refund_cents(view: &Value) -> i64 {
    view["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "reported")
        .map(|r| cents(r["preTaxAmount"].as_str().unwrap()))
        .sum()
}

/// `"4.00"` as 400.
fn cents(amount: &str) -> i64 {
    let (units, hundredths) = amount.split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + hundredths.parse::<i64>().unwrap()
}

#[tokio::test]
async fn a_transaction_read_while_refunds_complete_is_never_a_mix_of_two_moments() {
    const REFUNDS: usize = 20;
    let h = Harness::new().await;
    let now = emulator_now(&h).await;
    let id = report(&h, &payment("ch_snapshot", &token(&h, false).await, &now)).await;
    wait_reported(&h, &id).await;
    let refunds = format!("/v1/external-transactions/{id}/refunds");
    for n in 0..REFUNDS {
        let partial =
            json!({ "refundId": format!("r{n}"), "preTaxAmount": "0.40", "refundTime": now });
        let (s, r) = post(&h, &refunds, &partial).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    }
    // Readers poll while the worker reports the refunds one by one: each refund's state and
    // Google's amounts after it are written in one transaction, so every answer must show
    // Google's refunded amount equal to the refunds it shows reported.
    let reader = || async {
        let mut between = 0;
        loop {
            let (s, v) = show(&h, &id).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            let reported = reported_refund_cents(&v);
            let google = cents(v["google"]["refundedPreTaxAmount"].as_str().unwrap());
            assert_eq!(
                google, reported,
                "Google's amounts and the refunds' states disagree: {v}"
            );
            if reported == REFUNDS as i64 * 40 {
                return between;
            }
            if reported > 0 {
                between += 1;
            }
        }
    };
    let reads = tokio::time::timeout(Duration::from_secs(60), async {
        let (a, b, c, d, e, f) =
            tokio::join!(reader(), reader(), reader(), reader(), reader(), reader());
        [a, b, c, d, e, f]
    })
    .await
    .expect("every refund is reported within a minute");
    assert!(
        reads.iter().sum::<usize>() > 0,
        "some answers were read while only part of the refunds were reported"
    );
    assert_eq!(h.call_count(REFUND).await, REFUNDS as u64);
}

#[tokio::test]
async fn ten_concurrent_identical_reports_make_one_google_create() {
    let h = Harness::new().await;
    let now = emulator_now(&h).await;
    let body = payment("ch_concurrent", &token(&h, false).await, &now);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (http, url, body) = (
            h.http.clone(),
            h.url("/v1/external-transactions"),
            body.clone(),
        );
        tasks.spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(ADMIN_KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        });
    }
    let mut created = 0;
    while let Some(r) = tasks.join_next().await {
        let (s, v) = r.unwrap();
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        created += usize::from(v["created"] == true);
    }
    assert_eq!(created, 1);
    wait_reported(&h, &model::transaction_id("ch_concurrent")).await;
    assert_eq!(h.call_count(CREATE).await, 1);
}

#[tokio::test]
async fn a_six_hour_google_outage_still_reports_everything_within_24_hours() {
    let h = Harness::new().await;
    h.set_faults(json!({ "rate": 1.0, "status": 503, "methods": [CREATE] }))
        .await;
    let now = emulator_now(&h).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            report(
                &h,
                &payment(&format!("ch_outage_{i}"), &token(&h, false).await, &now),
            )
            .await,
        );
    }
    h.eventually("failed attempts during the outage", || async {
        h.call_count(CREATE).await >= 6
    })
    .await;
    for id in &ids {
        let v = show(&h, id).await.1;
        assert_eq!(v["state"], "pending");
        assert!(v["lastError"].as_str().unwrap().contains("503"), "{v}");
    }
    // Six hours pass on Google's clock; then Google is back.
    h.control().advance_clock(6 * 3600).await.unwrap();
    h.clear_faults().await;
    for id in &ids {
        wait_reported(&h, id).await;
    }
    let google = on_google(&h).await;
    assert_eq!(google.len(), 3, "each reported once");
    for id in &ids {
        let delay: i64 = google[id]["reportDelayMillis"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (6 * 3600 * 1000..24 * 3600 * 1000).contains(&delay),
            "{id} reported {delay} ms after its payment"
        );
    }
}

#[tokio::test]
async fn a_payment_stored_before_a_crash_is_reported_after_the_restart() {
    let mut h = Harness::with(|c| c.worker.enabled = false).await;
    let now = emulator_now(&h).await;
    let id = report(&h, &payment("ch_crash", &token(&h, false).await, &now)).await;
    assert_eq!(show(&h, &id).await.1["state"], "pending");
    h.crash().await;
    assert_eq!(h.call_count(CREATE).await, 0);
    h.config.worker.enabled = true;
    h.start().await;
    wait_reported(&h, &id).await;
    assert_eq!(h.call_count(CREATE).await, 1);
}

#[tokio::test]
async fn a_conflict_is_read_back_and_compared() {
    let h = Harness::with(|c| c.worker.enabled = false).await;
    let now = emulator_now(&h).await;
    // The first attempt reached Google but its answer was lost: Google has it already.
    let same = report(
        &h,
        &payment("ch_lost_answer", &token(&h, false).await, &now),
    )
    .await;
    let different = report(&h, &payment("ch_other", &token(&h, false).await, &now)).await;
    for (id, amount) in [(&same, 9_990_000), (&different, 1)] {
        let row = pwa_billing_server::db::external_transactions::get(&h.state.db, id)
            .await
            .unwrap()
            .unwrap();
        let mut body =
            pwa_billing_server::external_transactions::delivery::google_body(&row).unwrap();
        body.original_pre_tax_amount = Some(play_model::Price::new(amount, &row.currency));
        body.one_time_transaction = Some(OneTimeExternalTransaction {
            external_transaction_token: Some(format!("{id}-other")),
        });
        h.state
            .play
            .create_external_transaction(id, &body)
            .await
            .unwrap();
    }
    let mut h = h;
    h.stop().await;
    h.config.worker.enabled = true;
    h.start().await;
    let v = wait_reported(&h, &same).await;
    assert_eq!(v["tokenKept"], false);
    let v = wait_for(&h, &different, "the refusal", |v| v["state"] == "failed").await;
    assert!(
        v["lastError"].as_str().unwrap().contains("different"),
        "{v}"
    );
}

#[tokio::test]
async fn the_limiter_spaces_every_replicas_calls() {
    let h = Harness::new().await;
    // Two replicas' limiters on one database, 600 a minute: one slot every 100 ms.
    let a = limiter::Limiter::new(h.state.db.clone(), limiter::WRITES, 600);
    let b = limiter::Limiter::new(h.state.db.clone(), limiter::WRITES, 600);
    let start = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let l = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move {
            let wait = l.reserve().await.unwrap();
            start.elapsed() + wait
        });
    }
    let mut slots = Vec::new();
    while let Some(s) = tasks.join_next().await {
        slots.push(s.unwrap());
    }
    slots.sort();
    // Slots are 100 ms apart; at most two (the tolerance) may be caught up at once: any
    // k + 1 consecutive slots span at least (k − 2) intervals (a few ms of each
    // reservation's own `now` allowed).
    let k = 10;
    for i in 0..slots.len() - k {
        assert!(
            slots[i + k] - slots[i] >= Duration::from_millis((k as u64 - 2) * 95),
            "{:?}",
            &slots[i..=i + k]
        );
    }
    assert!(slots[39] - slots[0] >= Duration::from_millis(37 * 95));
}

#[tokio::test]
async fn the_watchdog_raises_the_alert_near_the_deadline_and_status_lists_late_payments() {
    let h = Harness::with(|c| c.worker.enabled = false).await;
    let ago = |hours: i64| {
        pwa_billing_server::db::rfc3339(pwa_billing_server::db::now_ms() - hours * 3600 * 1000)
            .expect("in range")
    };
    let metrics = &h.state.metrics;
    let warn = Duration::from_secs(3600);
    assert_eq!(
        watchdog::check(&h.state.db, metrics, warn)
            .await
            .unwrap()
            .level,
        watchdog::Level::Ok
    );
    report(&h, &payment("ch_2h", "tok-2h", &ago(2))).await;
    let c = watchdog::check(&h.state.db, metrics, warn).await.unwrap();
    assert_eq!((c.level, c.pending), (watchdog::Level::Warning, 1));
    report(&h, &payment("ch_23h", "tok-23h", &ago(23))).await;
    report(&h, &payment("ch_25h", "tok-25h", &ago(25))).await;
    let c = watchdog::check(&h.state.db, metrics, warn).await.unwrap();
    assert_eq!(c.level, watchdog::Level::Alert);
    assert!(c.oldest.unwrap() >= Duration::from_secs(25 * 3600));
    // One `external_transaction.deadline_warning` per payment within 2 h of its deadline,
    // however many checks see it.
    watchdog::check(&h.state.db, metrics, warn).await.unwrap();
    h.state.webhooks.publish().await.unwrap();
    let events = pwa_billing_server::db::events::feed(&h.state.db, 0, None, 100)
        .await
        .unwrap();
    let mut warned: Vec<String> = events
        .iter()
        .filter(|e| e.kind == "external_transaction.deadline_warning")
        .map(|e| {
            let body: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
            body["data"]["externalTransaction"]["externalTransactionId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    warned.sort();
    let mut late = vec![
        model::transaction_id("ch_23h"),
        model::transaction_id("ch_25h"),
    ];
    late.sort();
    assert_eq!(warned, late);
    let text = metrics.encode();
    assert!(
        text.contains("pwa_billing_external_transactions_deadline_level 2"),
        "{text}"
    );
    assert!(
        text.contains("pwa_billing_external_transactions_unreported 3"),
        "{text}"
    );

    let status = cli::status(&h.state, 10).await.unwrap();
    assert!(
        status.starts_with("payments: 3 pending (1 past the 24 h deadline)"),
        "{status}"
    );
    assert_eq!(status.matches(" LATE").count(), 1, "{status}");
    assert!(
        status.contains(&model::transaction_id("ch_25h")),
        "{status}"
    );
}

#[tokio::test]
async fn import_stores_csv_and_ndjson_once_and_reports_them() {
    let h = Harness::new().await;
    let now = emulator_now(&h).await;
    let dir = h.dir.path();
    let mut ndjson = String::new();
    for i in 0..20 {
        ndjson.push_str(&payment(&format!("imp_{i}"), &token(&h, false).await, &now).to_string());
        ndjson.push('\n');
    }
    ndjson.push_str("{not json\n");
    let path = dir.join("backlog.ndjson");
    std::fs::write(&path, &ndjson).unwrap();
    let s = cli::import(&h.state, &path, cli::Format::Ndjson, true, false)
        .await
        .unwrap();
    assert_eq!(
        (s.read, s.stored, s.duplicates, s.reported, s.failed),
        (21, 20, 0, 20, 0),
        "{s}"
    );
    assert_eq!(s.refused.len(), 1);
    assert_eq!(s.refused[0].0, 21, "the line of the bad record");
    // Again: nothing new.
    let s = cli::import(&h.state, &path, cli::Format::Ndjson, true, false)
        .await
        .unwrap();
    assert_eq!((s.stored, s.duplicates), (0, 20));

    let csv = format!(
        "paymentId,accountId,productId,kind,preTaxAmount,taxAmount,currency,transactionTime,regionCode,administrativeArea,externalTransactionToken,test\n\
         csv_1,bob,premium_unlock,one_time,499,0,INR,{now},IN,KERALA,{},false\n\
         csv_2,bob,premium_unlock,one_time,4.999,0,EUR,{now},DE,,{},false\n",
        token(&h, false).await,
        token(&h, false).await,
    );
    let path = dir.join("backlog.csv");
    std::fs::write(&path, csv).unwrap();
    let s = cli::import(&h.state, &path, cli::Format::Csv, true, false)
        .await
        .unwrap();
    assert_eq!((s.stored, s.reported), (1, 1), "{s}");
    assert_eq!(s.refused.len(), 1);
    assert_eq!(s.refused[0].0, 3);
    assert!(
        s.refused[0].1.starts_with("preTaxAmount"),
        "{:?}",
        s.refused
    );
    assert_eq!(h.call_count(CREATE).await, 21);
    let v = show(&h, &model::transaction_id("csv_1")).await.1;
    assert_eq!(v["google"]["currentPreTaxAmount"], "499.00");
}

/// Runs `pwa-billing ARGS` on the harness's database and emulator (asynchronously: the
/// emulator answers in this test's runtime), a minute at most.
async fn run(h: &Harness, args: &[&str]) -> std::process::Output {
    let mut c = h.binary("premium_unlock=non_consumable");
    c.env("PWA_BILLING_WORKER_POLL_INTERVAL_MS", "100")
        .args(args);
    tokio::time::timeout(Duration::from_secs(60), c.output())
        .await
        .unwrap_or_else(|_| panic!("pwa-billing {args:?} took over a minute"))
        .unwrap()
}

#[tokio::test]
async fn the_import_and_status_commands_run_as_processes() {
    let h = Harness::with(|c| c.worker.enabled = false).await;
    let now = emulator_now(&h).await;
    let path = h.dir.path().join("payments.jsonl");
    let mut lines = String::new();
    for i in 0..3 {
        lines.push_str(&payment(&format!("proc_{i}"), &token(&h, false).await, &now).to_string());
        lines.push('\n');
    }
    std::fs::write(&path, lines).unwrap();
    let out = run(
        &h,
        &[
            "external-transactions",
            "import",
            path.to_str().unwrap(),
            "--no-deliver",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 read, 3 stored"));
    let out = run(&h, &["external-transactions", "status"]).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.starts_with("payments: 3 pending"), "{text}");
    let out = run(
        &h,
        &["external-transactions", "import", path.to_str().unwrap()],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 reported"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&run(&h, &["external-transactions", "status"]).await.stdout)
        .to_string();
    assert!(
        text.starts_with("payments: 0 pending (0 past the 24 h deadline), 3 reported"),
        "{text}"
    );
    let bad = h.dir.path().join("payments.txt");
    std::fs::write(&bad, "x").unwrap();
    let out = run(
        &h,
        &["external-transactions", "import", bad.to_str().unwrap()],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format"));
}

/// `make bench`: a backlog of 5,000 payments imported is reported at ≥ 95 % of Google's
/// 1,200 creates a minute and never above it in any minute of the emulator's (virtual)
/// clock, with two workers (the server's and the import's) sharing the limiter. About
/// 4.5 minutes.
#[tokio::test]
#[ignore = "benchmark: make bench"]
async fn bench_backlog_of_5000_is_reported_at_the_limit() {
    const N: usize = 5000;
    let h = Harness::with(|c| c.worker.lease = Duration::from_secs(60)).await;
    let paid = pwa_billing_server::db::rfc3339(pwa_billing_server::db::now_ms() - 3600 * 1000)
        .expect("in range");
    let mut lines = String::new();
    for i in 0..N {
        lines.push_str(
            &payment(&format!("backlog_{i}"), &format!("tok-backlog-{i}"), &paid).to_string(),
        );
        lines.push('\n');
    }
    let path = h.dir.path().join("backlog.ndjson");
    std::fs::write(&path, lines).unwrap();
    let s = cli::import(&h.state, &path, cli::Format::Ndjson, true, false)
        .await
        .unwrap();
    assert_eq!(
        (s.stored, s.reported, s.failed),
        (N as u64, N as u64, 0),
        "{s}"
    );
    let google = on_google(&h).await;
    assert_eq!(google.len(), N);
    let mut created: Vec<i64> = google
        .values()
        .map(|t| {
            let c = t["createTime"].as_str().unwrap();
            let c = time::OffsetDateTime::parse(c, &time::format_description::well_known::Rfc3339)
                .unwrap();
            (c.unix_timestamp_nanos() / 1_000_000) as i64
        })
        .collect();
    created.sort_unstable();
    let mut per_minute = std::collections::BTreeMap::<i64, u64>::new();
    for t in &created {
        *per_minute.entry(t.div_euclid(60_000)).or_default() += 1;
    }
    // Any 60 s, not only Google's aligned windows.
    let busiest_60s = (0..created.len())
        .map(|i| created[i..].partition_point(|t| *t < created[i] + 60_000))
        .max()
        .unwrap();
    let span_ms = (created[N - 1] - created[0]).max(1);
    let rate = (N - 1) as f64 * 60_000.0 / span_ms as f64;
    println!(
        "external transactions backlog: {N} reported in {:.1} s of delivery ({:.1} s on Google's clock): {rate:.0} creates/min = {:.1} % of 1,200; busiest Google minute {}, busiest 60 s {busiest_60s}; {} create calls",
        s.delivery.as_secs_f64(),
        span_ms as f64 / 1000.0,
        rate / 12.0,
        per_minute.values().max().unwrap(),
        h.call_count(CREATE).await,
    );
    assert!(per_minute.values().all(|n| *n <= 1200), "{per_minute:?}");
    assert!(busiest_60s <= 1200, "{busiest_60s} in 60 s");
    assert!(rate >= 0.95 * 1200.0, "{rate:.0} a minute");
    assert_eq!(
        h.call_count(CREATE).await,
        N as u64,
        "no 429, no second attempt"
    );
}
