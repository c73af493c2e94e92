//! Subscription lifecycle actions of the control API and the virtual clock's rules.

use crate::support;

use serde_json::json;
use support::Emu;

const DAY: i64 = 24 * 3600;

async fn acked_sub(e: &Emu, product: &str) -> String {
    let t = e.buy(json!({ "productId": product })).await;
    let (s, _) = e
        .google(
            "POST",
            &format!("purchases/subscriptions/{product}/tokens/{t}:acknowledge"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    t
}

async fn state(e: &Emu, token: &str) -> String {
    let (s, v) = e.subscription(token).await;
    assert_eq!(s, 200, "{v}");
    v["subscriptionState"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn cancel_restart_expire() {
    let e = Emu::start().await;
    let t = acked_sub(&e, "sub_monthly").await;
    assert_eq!(e.action(&t, "cancel", None).await.0, 200);
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_CANCELED");
    let (_, v) = e.subscription(&t).await;
    assert!(v["canceledStateContext"]["userInitiatedCancellation"]["cancelTime"].is_string());
    assert_eq!(e.action(&t, "restart", None).await.0, 200);
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_ACTIVE");
    assert!(e
        .subscription(&t)
        .await
        .1
        .get("canceledStateContext")
        .is_none());
    assert_eq!(
        e.action(&t, "restart", None).await.0,
        409,
        "only a canceled subscription restarts"
    );
    assert_eq!(e.action(&t, "expire", None).await.0, 200);
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_EXPIRED");
    assert_eq!(e.action(&t, "cancel", None).await.0, 409);
    assert_eq!(e.notified(&t).await, ["sub:4", "sub:3", "sub:7", "sub:13"]);
}

#[tokio::test]
async fn renew_grace_hold_recover() {
    let e = Emu::start().await;
    let t = acked_sub(&e, "sub_monthly").await;
    let (_, v) = e.subscription(&t).await;
    let order = v["lineItems"][0]["latestSuccessfulOrderId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(e.action(&t, "renew", None).await.0, 200);
    let (_, v) = e.subscription(&t).await;
    assert_eq!(
        v["lineItems"][0]["latestSuccessfulOrderId"],
        format!("{order}..0")
    );
    assert_eq!(e.action(&t, "grace", None).await.0, 200);
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_IN_GRACE_PERIOD");
    assert_eq!(e.action(&t, "hold", None).await.0, 200);
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_ON_HOLD");
    assert_eq!(e.action(&t, "recover", None).await.0, 200);
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_ACTIVE");
    let (_, v) = e.subscription(&t).await;
    assert_eq!(
        v["lineItems"][0]["latestSuccessfulOrderId"],
        format!("{order}..1")
    );
    assert_eq!(e.action(&t, "recover", None).await.0, 409);
    assert_eq!(
        e.notified(&t).await,
        ["sub:4", "sub:2", "sub:6", "sub:5", "sub:1"]
    );
}

#[tokio::test]
async fn pause_resume_revoke() {
    let e = Emu::start().await;
    let t = acked_sub(&e, "sub_monthly").await;
    assert_eq!(e.action(&t, "pause", None).await.0, 200);
    let (_, v) = e.subscription(&t).await;
    assert_eq!(v["subscriptionState"], "SUBSCRIPTION_STATE_PAUSED");
    assert!(v["pausedStateContext"]["autoResumeTime"].is_string());
    assert_eq!(e.action(&t, "resume", None).await.0, 200);
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_ACTIVE");
    assert_eq!(e.action(&t, "revoke", None).await.0, 200);
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_EXPIRED");
    assert_eq!(
        e.notified(&t).await,
        ["sub:4", "sub:10", "sub:2", "sub:12", "voided"]
    );
    let (_, v) = e
        .google("GET", "purchases/voidedpurchases?type=1", None)
        .await;
    assert_eq!(v["voidedPurchases"][0]["purchaseToken"], t.as_str());
    // Actions on a one-time purchase, unknown actions and tokens.
    let p = e.buy(json!({ "productId": "coins_100" })).await;
    assert_eq!(e.action(&p, "renew", None).await.0, 409);
    assert_eq!(e.action(&p, "explode", None).await.0, 404);
    assert_eq!(e.action("nope", "renew", None).await.0, 404);
}

#[tokio::test]
async fn pending_subscription() {
    let e = Emu::start().await;
    let t = e
        .buy(json!({ "productId": "sub_yearly", "state": "pending" }))
        .await;
    let (_, v) = e.subscription(&t).await;
    assert_eq!(v["subscriptionState"], "SUBSCRIPTION_STATE_PENDING");
    assert!(v["lineItems"][0].get("expiryTime").is_none());
    let (s, b) = e
        .google(
            "POST",
            &format!("purchases/subscriptions/sub_yearly/tokens/{t}:acknowledge"),
            None,
        )
        .await;
    assert_eq!(
        (s, b["error"]["errors"][0]["reason"].as_str()),
        (400, Some("invalidPurchaseState"))
    );
    assert_eq!(e.action(&t, "complete", None).await.0, 200);
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_ACTIVE");
    let t2 = e
        .buy(json!({ "productId": "sub_yearly", "state": "pending" }))
        .await;
    assert_eq!(e.action(&t2, "cancel-pending", None).await.0, 200);
    assert_eq!(
        state(&e, &t2).await,
        "SUBSCRIPTION_STATE_PENDING_PURCHASE_CANCELED"
    );
    assert_eq!(e.notified(&t).await, ["sub:4"]);
    assert_eq!(e.notified(&t2).await, ["sub:20"]);
}

#[tokio::test]
async fn clock_renews_and_expires_on_schedule() {
    let e = Emu::start().await;
    let t = acked_sub(&e, "sub_monthly").await;
    let (_, v) = e.subscription(&t).await;
    let order = v["lineItems"][0]["latestSuccessfulOrderId"]
        .as_str()
        .unwrap()
        .to_string();
    e.advance(31 * DAY + 1).await;
    let (_, v) = e.subscription(&t).await;
    assert_eq!(v["subscriptionState"], "SUBSCRIPTION_STATE_ACTIVE");
    assert_eq!(
        v["lineItems"][0]["latestSuccessfulOrderId"],
        format!("{order}..0")
    );
    e.advance(31 * DAY).await;
    let (_, v) = e.subscription(&t).await;
    assert_eq!(
        v["lineItems"][0]["latestSuccessfulOrderId"],
        format!("{order}..1")
    );
    assert_eq!(e.notified(&t).await, ["sub:4", "sub:2", "sub:2"]);

    // Canceled: stays entitled until expiry, then expires.
    e.action(&t, "cancel", None).await;
    e.advance(2 * DAY).await;
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_CANCELED");
    e.advance(30 * DAY).await;
    assert_eq!(state(&e, &t).await, "SUBSCRIPTION_STATE_EXPIRED");
    assert_eq!(e.notified(&t).await.last().unwrap(), "sub:13");
    // Readable for 60 days after expiry, then 410.
    e.advance(61 * DAY).await;
    let (s, b) = e.subscription(&t).await;
    assert_eq!(
        (s, b["error"]["errors"][0]["reason"].as_str()),
        (410, Some("purchaseTokenNoLongerValid"))
    );

    // Grace period runs out into account hold, which runs out into expiry.
    let g = acked_sub(&e, "sub_monthly").await;
    e.action(&g, "grace", None).await;
    e.advance(8 * DAY).await;
    assert_eq!(state(&e, &g).await, "SUBSCRIPTION_STATE_ON_HOLD");
    e.advance(31 * DAY).await;
    assert_eq!(state(&e, &g).await, "SUBSCRIPTION_STATE_EXPIRED");
    assert_eq!(e.notified(&g).await, ["sub:4", "sub:6", "sub:5", "sub:13"]);

    // A pause ends by itself.
    let p = acked_sub(&e, "sub_monthly").await;
    e.action(&p, "pause", Some(json!({ "seconds": DAY }))).await;
    e.advance(DAY + 1).await;
    assert_eq!(state(&e, &p).await, "SUBSCRIPTION_STATE_ACTIVE");
    assert_eq!(e.notified(&p).await, ["sub:4", "sub:10", "sub:2"]);

    let (_, clock) = e.control("GET", "/emulator/v1/clock", None).await;
    assert!(clock["offsetSeconds"].as_i64().unwrap() >= 163 * DAY);
    let (s, _) = e
        .control(
            "POST",
            "/emulator/v1/clock:advance",
            Some(json!({ "seconds": -1 })),
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn unacknowledged_purchases_are_refunded_after_three_days() {
    let e = Emu::start().await;
    let unacked = e.buy(json!({ "productId": "premium_unlock" })).await;
    let acked = e
        .buy(json!({ "productId": "premium_unlock", "accountId": "other" }))
        .await;
    e.google(
        "POST",
        &format!("purchases/products/premium_unlock/tokens/{acked}:acknowledge"),
        None,
    )
    .await;
    let sub = e.buy(json!({ "productId": "sub_monthly" })).await;
    // The window starts when a pending purchase becomes purchased.
    let pending = e
        .buy(json!({ "productId": "coins_100", "state": "pending" }))
        .await;
    e.advance(2 * DAY).await;
    e.action(&pending, "complete", None).await;

    e.advance(DAY + 60).await;
    let (_, p) = e.product("premium_unlock", &unacked).await;
    assert_eq!(p["purchaseState"], 1, "refunded");
    let (_, p) = e.product("premium_unlock", &acked).await;
    assert_eq!(p["purchaseState"], 0);
    let (_, p) = e.product("coins_100", &pending).await;
    assert_eq!(p["purchaseState"], 0, "its window started later");
    assert_eq!(state(&e, &sub).await, "SUBSCRIPTION_STATE_EXPIRED");

    let (_, v) = e
        .google("GET", "purchases/voidedpurchases?type=1", None)
        .await;
    let voided = v["voidedPurchases"].as_array().unwrap();
    assert_eq!(voided.len(), 2);
    for entry in voided {
        assert_eq!(entry["voidedReason"], 8);
        assert_eq!(entry["voidedSource"], 2);
    }
    assert_eq!(e.notified(&unacked).await, ["one:1", "voided"]);
    assert_eq!(e.notified(&sub).await, ["sub:4", "sub:12", "voided"]);

    e.advance(2 * DAY).await;
    let (_, p) = e.product("coins_100", &pending).await;
    assert_eq!(p["purchaseState"], 1);
}
