//! External transactions: create, get, refund.

use crate::support;

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
    let mut tx3 = one_time("5000000", "0");
    tx3["oneTimeTransaction"]["externalTransactionToken"] = json!("ext-token-3");
    e.google(
        "POST",
        "externalTransactions?externalTransactionId=tx-3",
        Some(tx3),
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

fn create_path(id: &str) -> String {
    format!("externalTransactions?externalTransactionId={id}")
}

#[tokio::test]
async fn google_checks_india_program_details_and_token_reuse() {
    let e = Emu::start().await;
    let mut india = one_time("100000000", "18000000");
    india["originalPreTaxAmount"]["currency"] = json!("INR");
    india["originalTaxAmount"]["currency"] = json!("INR");
    india["userTaxAddress"] = json!({ "regionCode": "IN" });
    let (s, body) = e
        .google("POST", &create_path("in-1"), Some(india.clone()))
        .await;
    assert_eq!(s, 400, "India needs its state: {body}");
    assert!(body.to_string().contains("administrativeArea"), "{body}");
    india["userTaxAddress"]["administrativeArea"] = json!("KERALA");
    assert_eq!(
        e.google("POST", &create_path("in-1"), Some(india)).await.0,
        200
    );

    let mut both = one_time("1", "0");
    both["oneTimeTransaction"]["externalTransactionToken"] = json!("tok-both");
    both["externalOfferDetails"] = json!({ "linkType": "LINK_TO_DIGITAL_CONTENT_OFFER" });
    both["externalContentLinkDetails"] = json!({ "linkType": "LINK_TO_DIGITAL_CONTENT_OFFER" });
    assert_eq!(
        e.google("POST", &create_path("p-1"), Some(both.clone()))
            .await
            .0,
        400
    );
    both.as_object_mut()
        .unwrap()
        .remove("externalContentLinkDetails");
    both["transactionProgramCode"] = json!(7);
    assert_eq!(
        e.google("POST", &create_path("p-1"), Some(both.clone()))
            .await
            .0,
        400
    );
    both.as_object_mut()
        .unwrap()
        .remove("transactionProgramCode");
    assert_eq!(
        e.google("POST", &create_path("p-1"), Some(both)).await.0,
        200
    );

    // A token reports one transaction: reusing it (a common mistake) is refused.
    let mut reused = one_time("1", "0");
    reused["oneTimeTransaction"]["externalTransactionToken"] = json!("tok-once");
    assert_eq!(
        e.google("POST", &create_path("t-1"), Some(reused.clone()))
            .await
            .0,
        200
    );
    let (s, body) = e.google("POST", &create_path("t-2"), Some(reused)).await;
    assert_eq!(s, 400, "{body}");
    assert!(body.to_string().contains("already used"), "{body}");
}

#[tokio::test]
async fn test_tokens_make_test_purchases_and_delays_are_reported() {
    let e = Emu::start().await;
    let (s, issued) = e
        .control(
            "POST",
            "/emulator/v1/external-transaction-tokens",
            Some(json!({ "test": true })),
        )
        .await;
    assert_eq!(s, 201, "{issued}");
    let token = issued["externalTransactionToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, now) = e.control("GET", "/emulator/v1/clock", None).await;
    let paid = now["now"].as_str().unwrap().to_string();
    let mut body = one_time("2990000", "0");
    body["oneTimeTransaction"]["externalTransactionToken"] = json!(token);
    body["transactionTime"] = json!(paid);
    // Reported three hours after the payment, on the virtual clock.
    e.advance(3 * 3600).await;
    let (s, t) = e.google("POST", &create_path("late-1"), Some(body)).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["testPurchase"], json!({}));
    let (_, not_test) = e
        .control("POST", "/emulator/v1/external-transaction-tokens", None)
        .await;
    let mut body = one_time("1000000", "0");
    body["oneTimeTransaction"]["externalTransactionToken"] =
        not_test["externalTransactionToken"].clone();
    let (_, t) = e.google("POST", &create_path("plain-1"), Some(body)).await;
    assert!(t.get("testPurchase").is_none(), "{t}");

    let (s, list) = e
        .control("GET", "/emulator/v1/external-transactions", None)
        .await;
    assert_eq!(s, 200);
    let late = list["externalTransactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["externalTransactionId"] == "late-1")
        .cloned()
        .unwrap();
    let delay: i64 = late["reportDelayMillis"].as_str().unwrap().parse().unwrap();
    assert!(
        (3 * 3600 * 1000..3 * 3600 * 1000 + 60_000).contains(&delay),
        "{delay}"
    );
    assert_eq!(late["testPurchase"], true);
}

#[tokio::test]
async fn creates_and_refunds_share_1200_a_minute() {
    let e = Emu::start().await;
    // Start at the beginning of a virtual minute so that the window does not roll over.
    let (_, now) = e.control("GET", "/emulator/v1/clock", None).await;
    let ms: i64 = now["nowMillis"].as_str().unwrap().parse().unwrap();
    e.advance(60 - (ms / 1000) % 60).await;
    for i in 0..1199 {
        let mut body = one_time("1000000", "0");
        body["oneTimeTransaction"]["externalTransactionToken"] = json!(format!("tok-{i}"));
        let (s, t) = e
            .google("POST", &create_path(&format!("q-{i}")), Some(body))
            .await;
        assert_eq!(s, 200, "{i}: {t}");
    }
    let full = json!({ "refundTime": "2026-11-02T10:00:00Z", "fullRefund": {} });
    assert_eq!(
        e.google(
            "POST",
            "externalTransactions/q-0:refund",
            Some(full.clone())
        )
        .await
        .0,
        200,
        "the 1,200th write of the minute"
    );
    let (s, body) = e
        .google(
            "POST",
            "externalTransactions/q-1:refund",
            Some(full.clone()),
        )
        .await;
    assert_eq!(s, 429, "{body}");
    // Reads do not count.
    assert_eq!(
        e.google("GET", "externalTransactions/q-1", None).await.0,
        200
    );
    e.advance(60).await;
    assert_eq!(
        e.google("POST", "externalTransactions/q-1:refund", Some(full))
            .await
            .0,
        200
    );
}
