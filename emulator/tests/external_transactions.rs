//! External transactions: create, get, refund.

mod support;

use serde_json::{json, Value};
use support::Emu;

fn one_time(pre: &str, tax: &str) -> Value {
    json!({
        "originalPreTaxAmount": { "priceMicros": pre, "currency": "EUR" },
        "originalTaxAmount": { "priceMicros": tax, "currency": "EUR" },
        "transactionTime": "2026-11-01T10:00:00Z",
        "userTaxAddress": { "regionCode": "DE" },
        "oneTimeTransaction": { "externalTransactionToken": "ext-token-1" },
    })
}

#[tokio::test]
async fn create_get_refund() {
    let e = Emu::start().await;
    let (s, t) = e
        .google(
            "POST",
            "externalTransactions?externalTransactionId=tx-1",
            Some(one_time("10000000", "1900000")),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["transactionState"], "TRANSACTION_REPORTED");
    assert_eq!(
        t["currentPreTaxAmount"],
        json!({ "priceMicros": "10000000", "currency": "EUR" })
    );
    assert_eq!(t["externalTransactionId"], "tx-1");
    assert!(t["createTime"].is_string());
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions?externalTransactionId=tx-1",
            Some(one_time("1", "0"))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions?externalTransactionId=bad%20id",
            Some(one_time("1", "0"))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        e.google("POST", "externalTransactions", Some(one_time("1", "0")))
            .await
            .0,
        400
    );
    let mut both = one_time("1", "0");
    both["recurringTransaction"] = json!({ "externalTransactionToken": "x", "externalSubscription": { "subscriptionType": "RECURRING" } });
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions?externalTransactionId=tx-2",
            Some(both)
        )
        .await
        .0,
        400
    );
    let mut neither = one_time("1", "0");
    neither
        .as_object_mut()
        .unwrap()
        .remove("oneTimeTransaction");
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions?externalTransactionId=tx-2",
            Some(neither)
        )
        .await
        .0,
        400
    );

    let (s, got) = e.google("GET", "externalTransactions/tx-1", None).await;
    assert_eq!((s, &got), (200, &t));
    assert_eq!(
        e.google("GET", "externalTransactions/nope", None).await.0,
        404
    );

    // Partial refunds: unique ids, never more than what is left; then full refund is refused.
    let partial = |id: &str, amount: &str| json!({ "refundTime": "2026-11-02T10:00:00Z", "partialRefund": { "refundId": id, "refundPreTaxAmount": { "priceMicros": amount, "currency": "EUR" } } });
    let (s, r) = e
        .google(
            "POST",
            "externalTransactions/tx-1:refund",
            Some(partial("r1", "4000000")),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["currentPreTaxAmount"]["priceMicros"], "6000000");
    assert_eq!(r["currentTaxAmount"]["priceMicros"], "1140000");
    assert_eq!(r["transactionState"], "TRANSACTION_REPORTED");
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions/tx-1:refund",
            Some(partial("r1", "1000000"))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions/tx-1:refund",
            Some(partial("r2", "7000000"))
        )
        .await
        .0,
        400
    );
    let (_, r) = e
        .google(
            "POST",
            "externalTransactions/tx-1:refund",
            Some(partial("r2", "6000000")),
        )
        .await;
    assert_eq!(r["transactionState"], "TRANSACTION_CANCELED");
    let full = json!({ "refundTime": "2026-11-02T10:00:00Z", "fullRefund": {} });
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions/tx-1:refund",
            Some(full.clone())
        )
        .await
        .0,
        400
    );

    // Full refund once.
    e.google(
        "POST",
        "externalTransactions?externalTransactionId=tx-3",
        Some(one_time("5000000", "0")),
    )
    .await;
    let (s, r) = e
        .google(
            "POST",
            "externalTransactions/tx-3:refund",
            Some(full.clone()),
        )
        .await;
    assert_eq!(
        (s, r["transactionState"].as_str()),
        (200, Some("TRANSACTION_CANCELED"))
    );
    assert_eq!(r["currentPreTaxAmount"]["priceMicros"], "0");
    assert_eq!(
        e.google("POST", "externalTransactions/tx-3:refund", Some(full))
            .await
            .0,
        400
    );
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions/tx-3:refund",
            Some(json!({ "refundTime": "2026-11-02T10:00:00Z" }))
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn recurring_transactions_reference_the_first() {
    let e = Emu::start().await;
    let mut first = one_time("1990000", "0");
    first.as_object_mut().unwrap().remove("oneTimeTransaction");
    first["recurringTransaction"] = json!({ "externalTransactionToken": "tok", "externalSubscription": { "subscriptionType": "RECURRING" } });
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions?externalTransactionId=sub-1",
            Some(first.clone())
        )
        .await
        .0,
        200
    );
    let mut renewal = first.clone();
    renewal["recurringTransaction"] = json!({ "initialExternalTransactionId": "sub-1", "externalSubscription": { "subscriptionType": "RECURRING" } });
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions?externalTransactionId=sub-1-r1",
            Some(renewal.clone())
        )
        .await
        .0,
        200
    );
    renewal["recurringTransaction"]["initialExternalTransactionId"] = json!("missing");
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions?externalTransactionId=sub-1-r2",
            Some(renewal)
        )
        .await
        .0,
        400
    );
    let mut no_type = first.clone();
    no_type["recurringTransaction"] = json!({ "externalTransactionToken": "tok" });
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions?externalTransactionId=sub-2",
            Some(no_type)
        )
        .await
        .0,
        400
    );
}
