//! Google calls, whichever comes first: a new purchase costs exactly one get and one
//! acknowledge (or consume) whatever the order of the app's verification and Play's
//! notification — notification first, verification first, both at once, redelivered — for
//! one-time products and subscriptions alike. Counted with the emulator's call counter.

use crate::common;
use crate::rtdn_support;

use std::collections::BTreeMap;

use common::*;
use pwa_billing_server::rtdn::DeveloperNotification;
use pwa_billing_server::verify::settle_key;
use reqwest::StatusCode;
use rtdn_support::*;
use serde_json::{json, Value};

/// The purchase calls (`androidpublisher.purchases.*`) the emulator counted.
async fn purchase_calls(h: &Harness) -> BTreeMap<String, u64> {
    h.calls()
        .await
        .into_iter()
        .filter(|(method, _)| method.starts_with("androidpublisher.purchases."))
        .collect()
}

/// Asserts that the purchase calls since `before` are one get and one acknowledge (or
/// consume) of `item`'s kind.
async fn assert_one_get_one_settle(
    h: &Harness,
    before: &BTreeMap<String, u64>,
    item: &str,
    c: &Catalog,
    why: &str,
) {
    let (get, settle) = if item == c.subscription {
        (
            "androidpublisher.purchases.subscriptionsv2.get",
            "androidpublisher.purchases.subscriptions.acknowledge",
        )
    } else if item == c.consumable {
        (
            "androidpublisher.purchases.products.get",
            "androidpublisher.purchases.products.consume",
        )
    } else {
        (
            "androidpublisher.purchases.products.get",
            "androidpublisher.purchases.products.acknowledge",
        )
    };
    let expected: BTreeMap<String, u64> = [(get.to_string(), 1), (settle.to_string(), 1)].into();
    let after = purchase_calls(h).await;
    let spent: BTreeMap<String, u64> = after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect();
    assert_eq!(spent, expected, "{item}: {why}");
}

/// The first notification Play sent about `token`.
fn first_message(h: &Harness, token: &str) -> (String, Value) {
    messages_about(h, token)
        .into_iter()
        .next()
        .expect("Play sent a notification")
}

/// Verifies for alice (asserted 200) and waits for the acknowledgement or consumption.
async fn verify_and_settle(h: &Harness, item: &str, token: &str) -> Value {
    let (status, body) = h.verify("alice", item, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    h.wait_job_done(&settle_key(token)).await;
    body
}

#[tokio::test]
async fn notification_first_then_verification_costs_one_get() {
    let h = pushed().await;
    let c = catalog();
    for item in [&c.non_consumable, &c.consumable, &c.subscription] {
        let before = purchase_calls(&h).await;
        // Bought for an account not known here: the notification cannot grant it.
        let token = h.buy(item, json!({})).await;
        wait_processed(&h, &token).await;
        let (_, data) = first_message(&h, &token);
        assert!(
            data["oneTimeProductNotification"]["notificationType"] == 1
                || data["subscriptionNotification"]["notificationType"] == 4,
            "a purchased notification: {data}"
        );
        assert!(
            entitlement(&h, "alice", &token).await.is_none(),
            "nothing granted before the app verifies"
        );
        verify_and_settle(&h, item, &token).await;
        assert_one_get_one_settle(
            &h,
            &before,
            item,
            &c,
            "the notification's get serves the verification",
        )
        .await;
    }
}

#[tokio::test]
async fn verification_first_then_notification_costs_one_get() {
    let h = pushed().await;
    let c = catalog();
    for item in [&c.non_consumable, &c.consumable, &c.subscription] {
        let before = purchase_calls(&h).await;
        push_off(&h);
        let token = h.buy(item, json!({})).await;
        verify_and_settle(&h, item, &token).await;
        push_on(&h);
        let (id, _) = first_message(&h, &token);
        assert_eq!(redeliver(&h, &id, None).await.0, StatusCode::ACCEPTED);
        wait_processed(&h, &token).await;
        assert_one_get_one_settle(
            &h,
            &before,
            item,
            &c,
            "the notification after the verification costs no call",
        )
        .await;
        let e = entitlement(&h, "alice", &token).await;
        assert!(e.is_some_and(|e| e["entitled"] == json!(true)), "{item}");
    }
}

#[tokio::test]
async fn twenty_verifications_racing_the_notification_cost_one_get() {
    let h = pushed().await;
    let c = catalog();
    for item in [&c.non_consumable, &c.subscription] {
        let before = purchase_calls(&h).await;
        push_off(&h);
        let token = h.buy(item, json!({})).await;
        push_on(&h);
        let (id, _) = first_message(&h, &token);
        let url = h.url("/v1/purchases/verify");
        let requests = (0..20).map(|_| {
            (
                url.clone(),
                "alice".to_string(),
                item.to_string(),
                token.clone(),
            )
        });
        let (push, verifications) =
            tokio::join!(redeliver(&h, &id, None), h.verify_concurrently(requests));
        assert_eq!(push.0, StatusCode::ACCEPTED);
        assert!(
            verifications.iter().all(|(_, s)| *s == StatusCode::OK),
            "{verifications:?}"
        );
        wait_processed(&h, &token).await;
        h.wait_job_done(&settle_key(&token)).await;
        assert_one_get_one_settle(
            &h,
            &before,
            item,
            &c,
            "20 verifications and the notification at once make one get",
        )
        .await;
    }
}

#[tokio::test]
async fn a_redelivered_or_duplicated_notification_costs_no_second_get() {
    let h = pushed().await;
    let c = catalog();
    for item in [&c.non_consumable, &c.subscription] {
        let before = purchase_calls(&h).await;
        let token = h.buy(item, json!({})).await;
        wait_processed(&h, &token).await;
        let (id, data) = first_message(&h, &token);
        // Pub/Sub redelivers the message (same id): stored once, processed once.
        assert_eq!(redeliver(&h, &id, None).await.0, StatusCode::ACCEPTED);
        wait_processed(&h, &token).await;
        // Play sends the same event again under another message id: the recorded read
        // serves it.
        let duplicate: DeveloperNotification = serde_json::from_value(data).unwrap();
        h.state.lifecycle.apply(&duplicate).await.unwrap();
        let verified = verify_and_settle(&h, item, &token).await;
        assert_eq!(
            verified["entitlement"]["state"],
            json!("active"),
            "{verified}"
        );
        // …and once more after the verification: the stored purchase answers it.
        h.state.lifecycle.apply(&duplicate).await.unwrap();
        assert_one_get_one_settle(
            &h,
            &before,
            item,
            &c,
            "redelivered and duplicated notifications cost no get",
        )
        .await;
    }
}

#[tokio::test]
async fn a_notification_for_a_known_account_grants_and_the_verification_costs_nothing() {
    let h = pushed().await;
    let c = catalog();
    // alice is known here once she has a purchase.
    let first = h.verified("alice", &c.consumable).await;
    h.wait_job_done(&settle_key(&first)).await;
    let before = purchase_calls(&h).await;
    let token = h
        .buy(
            &c.non_consumable,
            json!({"obfuscatedExternalAccountId": "alice"}),
        )
        .await;
    wait_state(&h, "alice", &token, "active").await;
    verify_and_settle(&h, &c.non_consumable, &token).await;
    assert_one_get_one_settle(&h, &before, &c.non_consumable, &c, "granted by the push").await;
}

#[tokio::test]
async fn a_recorded_read_never_outlives_a_refund_or_its_window() {
    // Voided before the app verifies: the read recorded for the purchased notification is
    // dropped, and the verification asks Google, which says canceled.
    let h = pushed().await;
    let c = catalog();
    let token = h.buy(&c.non_consumable, json!({})).await;
    wait_processed(&h, &token).await;
    h.emulator_action(&token, "void", json!({})).await;
    h.eventually("the voided notification", || async {
        messages_about(&h, &token).len() == 2
    })
    .await;
    wait_processed(&h, &token).await;
    let (status, body) = h.verify("alice", &c.non_consumable, &token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("canceled"),
        "Google's answer after the refund: {body}"
    );
    assert_eq!(
        h.call_count("androidpublisher.purchases.products.get")
            .await,
        2
    );

    // With the window at zero, nothing is recorded or reused: two gets, as before.
    let h = pushed_with(|c| c.limits.fetch_reuse = std::time::Duration::ZERO).await;
    let token = h.buy(&c.non_consumable, json!({})).await;
    wait_processed(&h, &token).await;
    verify_and_settle(&h, &c.non_consumable, &token).await;
    assert_eq!(
        h.call_count("androidpublisher.purchases.products.get")
            .await,
        2,
        "limits.fetch_reuse_ms = 0 turns the reuse off"
    );
}
