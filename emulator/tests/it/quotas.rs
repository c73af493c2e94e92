//! Quotas: each bucket with small limits, Google's errors, windows on the virtual clock.

use crate::support;

use play_emulator::Quotas;
use serde_json::{json, Value};
use support::Emu;

/// Every limit 0 (off) except those set.
fn only(edit: impl FnOnce(&mut Quotas)) -> Quotas {
    let mut q = Quotas {
        purchases_per_minute: 0,
        subscriptions_per_minute: 0,
        external_transactions_per_minute: 0,
        monetization_per_minute: 0,
        catalog_modifications_per_hour: 0,
        latency_sensitive_changes_per_hour: 0,
        external_transaction_writes_per_minute: 0,
        voided_purchases_per_30s: 0,
        voided_purchases_per_day: 0,
        queries_per_day: 0,
    };
    edit(&mut q);
    q
}

fn reason(b: &Value) -> (&str, &str) {
    (
        b["error"]["errors"][0]["reason"].as_str().unwrap(),
        b["error"]["errors"][0]["domain"].as_str().unwrap(),
    )
}

async fn with(q: Quotas) -> Emu {
    Emu::start_with(move |c| c.quotas = q).await
}

#[tokio::test]
async fn per_minute_buckets() {
    let e = with(only(|q| {
        q.purchases_per_minute = 3;
        q.subscriptions_per_minute = 2;
    }))
    .await;
    let t = e.buy(json!({ "productId": "coins_100" })).await;
    let s = e.buy(json!({ "productId": "sub_monthly" })).await;
    for _ in 0..3 {
        assert_eq!(e.product("coins_100", &t).await.0, 200);
    }
    let (status, b) = e.product("coins_100", &t).await;
    assert_eq!(
        (status, reason(&b)),
        (429, ("rateLimitExceeded", "usageLimits"))
    );
    assert_eq!(b["error"]["status"], "RESOURCE_EXHAUSTED");
    // Another bucket is unaffected.
    assert_eq!(e.subscription(&s).await.0, 200);
    assert_eq!(e.subscription(&s).await.0, 200);
    assert_eq!(e.subscription(&s).await.0, 429);
    // A new minute on the virtual clock opens a new window.
    e.advance(60).await;
    assert_eq!(e.product("coins_100", &t).await.0, 200);
    assert_eq!(e.subscription(&s).await.0, 200);
    // Refused calls are counted as calls, but consume no quota.
    assert_eq!(e.emu.calls()["androidpublisher.purchases.products.get"], 5);
}

#[tokio::test]
async fn voided_purchases_buckets() {
    let e = with(only(|q| {
        q.voided_purchases_per_30s = 2;
        q.voided_purchases_per_day = 3;
    }))
    .await;
    assert_eq!(
        e.google("GET", "purchases/voidedpurchases", None).await.0,
        200
    );
    assert_eq!(
        e.google("GET", "purchases/voidedpurchases", None).await.0,
        200
    );
    let (s, b) = e.google("GET", "purchases/voidedpurchases", None).await;
    assert_eq!((s, reason(&b).0), (429, "rateLimitExceeded"));
    e.advance(30).await;
    assert_eq!(
        e.google("GET", "purchases/voidedpurchases", None).await.0,
        200
    );
    e.advance(30).await;
    let (s, b) = e.google("GET", "purchases/voidedpurchases", None).await;
    assert_eq!(
        (s, reason(&b)),
        (403, ("dailyLimitExceeded", "usageLimits"))
    );
    e.advance(24 * 3600).await;
    assert_eq!(
        e.google("GET", "purchases/voidedpurchases", None).await.0,
        200
    );
}

fn product(sku: &str) -> Value {
    json!({ "sku": sku, "defaultLanguage": "en-US", "defaultPrice": { "priceMicros": "1000000", "currency": "USD" }, "listings": { "en-US": { "title": sku } } })
}

#[tokio::test]
async fn catalog_modifications_count_a_batch_once() {
    let e = with(only(|q| q.catalog_modifications_per_hour = 2)).await;
    let batch = |skus: &[&str]| json!({ "requests": skus.iter().map(|s| json!({ "sku": s, "allowMissing": true, "inappproduct": product(s) })).collect::<Vec<_>>() });
    assert_eq!(
        e.google(
            "POST",
            "inappproducts:batchUpdate",
            Some(batch(&["a1", "a2", "a3"]))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        e.google("GET", "inappproducts/a1", None).await.0,
        200,
        "reads are not modifications"
    );
    assert_eq!(
        e.google("POST", "inappproducts", Some(product("b1")))
            .await
            .0,
        200
    );
    let (s, b) = e.google("POST", "inappproducts", Some(product("b2"))).await;
    assert_eq!((s, reason(&b)), (403, ("quotaExceeded", "usageLimits")));
    e.advance(3600).await;
    assert_eq!(
        e.google("POST", "inappproducts", Some(product("b2")))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn latency_sensitive_changes_count_each_entry() {
    let e = with(only(|q| q.latency_sensitive_changes_per_hour = 3)).await;
    let entry = |s: &str, tolerant: bool| {
        let mut r = json!({ "sku": s, "allowMissing": true, "inappproduct": product(s) });
        if tolerant {
            r["latencyTolerance"] = json!("PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT");
        }
        r
    };
    // Two sensitive entries + one tolerant one: 2 used.
    let (s, _) = e
        .google(
            "POST",
            "inappproducts:batchUpdate",
            Some(json!({ "requests": [entry("a", false), entry("b", false), entry("c", true)] })),
        )
        .await;
    assert_eq!(s, 200);
    // Two more sensitive ones do not fit (2 + 2 > 3): the whole batch is refused.
    let (s, b) = e
        .google(
            "POST",
            "inappproducts:batchUpdate",
            Some(json!({ "requests": [entry("d", false), entry("e", false)] })),
        )
        .await;
    assert_eq!((s, reason(&b).0), (403, "quotaExceeded"));
    // Tolerant changes go through.
    let (s, _) = e.google("PUT", "inappproducts/d?allowMissing=true&latencyTolerance=PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT", Some(product("d"))).await;
    assert_eq!(s, 200);
    assert_eq!(
        e.google(
            "PATCH",
            "inappproducts/d",
            Some(json!({ "status": "inactive" }))
        )
        .await
        .0,
        200
    );
    assert_eq!(e.google("DELETE", "inappproducts/d", None).await.0, 403);
}

#[tokio::test]
async fn monetization_and_external_transaction_buckets() {
    let e = with(only(|q| {
        q.monetization_per_minute = 2;
        q.external_transaction_writes_per_minute = 1;
        q.external_transactions_per_minute = 2;
    }))
    .await;
    assert_eq!(e.google("GET", "inappproducts", None).await.0, 200);
    assert_eq!(e.google("GET", "subscriptions", None).await.0, 200);
    assert_eq!(
        e.google("GET", "subscriptions/sub_monthly", None).await.0,
        429
    );

    let tx = json!({
        "originalPreTaxAmount": { "priceMicros": "1000000", "currency": "USD" },
        "originalTaxAmount": { "priceMicros": "0", "currency": "USD" },
        "transactionTime": "2026-11-01T10:00:00Z",
        "userTaxAddress": { "regionCode": "US" },
        "oneTimeTransaction": { "externalTransactionToken": "t" },
    });
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions?externalTransactionId=a",
            Some(tx.clone())
        )
        .await
        .0,
        200
    );
    let (s, b) = e
        .google(
            "POST",
            "externalTransactions?externalTransactionId=b",
            Some(tx.clone()),
        )
        .await;
    assert_eq!((s, reason(&b).0), (429, "rateLimitExceeded"));
    assert_eq!(
        e.google("GET", "externalTransactions/a", None).await.0,
        200,
        "get is not a write"
    );
    assert_eq!(
        e.google("GET", "externalTransactions/a", None).await.0,
        429,
        "but counts in the per-minute bucket"
    );
}

#[tokio::test]
async fn daily_quota_and_runtime_changes() {
    let e = with(only(|q| q.queries_per_day = 2)).await;
    assert_eq!(e.google("GET", "inappproducts", None).await.0, 200);
    assert_eq!(e.google("GET", "inappproducts", None).await.0, 200);
    let (s, b) = e.google("GET", "subscriptions", None).await;
    assert_eq!((s, reason(&b).0), (403, "dailyLimitExceeded"));
    // Limits can change at run time.
    let (s, q) = e
        .control(
            "PUT",
            "/emulator/v1/quotas",
            Some(json!({ "queries_per_day": 0, "purchases_per_minute": 1 })),
        )
        .await;
    assert_eq!((s, q["queries_per_day"].as_u64()), (200, Some(0)));
    assert_eq!(e.google("GET", "subscriptions", None).await.0, 200);
    assert_eq!(
        e.control("PUT", "/emulator/v1/quotas", Some(json!({ "nope": 1 })))
            .await
            .0,
        400
    );
    assert_eq!(
        e.control("GET", "/emulator/v1/quotas", None).await.1["purchases_per_minute"],
        1
    );
}
