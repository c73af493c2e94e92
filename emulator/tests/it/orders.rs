//! `orders.get` / `orders.batchGet`: the orders the emulator charged, their refund state,
//! and Google's refusals (unknown, duplicate, too many ids).

use crate::support;

use serde_json::json;
use support::Emu;

#[tokio::test]
async fn orders_carry_their_token_money_and_refund_state() {
    let e = Emu::start().await;
    let coins = e
        .buy(json!({"productId": "coins_100", "quantity": 3}))
        .await;
    let unlock = e.buy(json!({"productId": "premium_unlock"})).await;
    let sub = e.buy(json!({"productId": "sub_monthly"})).await;
    e.action(&sub, "renew", Some(json!({}))).await;
    e.action(&coins, "void", Some(json!({"quantity": 1}))).await;
    e.action(&unlock, "void", Some(json!({}))).await;
    let (c, u, s) = (
        e.order_id(&coins).await,
        e.order_id(&unlock).await,
        e.order_id(&sub).await,
    );
    let (status, v) = e
        .google(
            "GET",
            &format!("orders:batchGet?orderIds={c}&orderIds={u}&orderIds={s}..0"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let orders = v["orders"].as_array().unwrap();
    let states: Vec<(&str, &str, &str)> = orders
        .iter()
        .map(|o| {
            (
                o["orderId"].as_str().unwrap(),
                o["state"].as_str().unwrap(),
                o["purchaseToken"].as_str().unwrap(),
            )
        })
        .collect();
    let renewal = format!("{s}..0");
    assert_eq!(
        states,
        [
            (c.as_str(), "PARTIALLY_REFUNDED", coins.as_str()),
            (u.as_str(), "REFUNDED", unlock.as_str()),
            (renewal.as_str(), "PROCESSED", sub.as_str()),
        ]
    );
    // 3 × 0.99 + 10 % tax.
    assert_eq!(orders[0]["total"]["units"], "3");
    assert_eq!(orders[0]["total"]["nanos"], 270_000_000);
    assert_eq!(
        orders[0]["lineItems"][0]["oneTimePurchaseDetails"]["quantity"],
        3
    );
    assert_eq!(
        orders[2]["lineItems"][0]["subscriptionDetails"]["basePlanId"],
        "monthly"
    );

    let (status, v) = e
        .google("GET", "orders/GPA.0000-0000-0000-00000", None)
        .await;
    assert_eq!(status, 404, "{v}");
    let (status, v) = e
        .google(
            "GET",
            &format!("orders:batchGet?orderIds={c}&orderIds=GPA.0"),
            None,
        )
        .await;
    assert_eq!(status, 404, "one unknown id fails the request: {v}");
    let (status, _) = e
        .google(
            "GET",
            &format!("orders:batchGet?orderIds={c}&orderIds={c}"),
            None,
        )
        .await;
    assert_eq!(status, 400);
    let many: String = (0..1001).map(|i| format!("orderIds=GPA.{i}&")).collect();
    let (status, v) = e
        .google("GET", &format!("orders:batchGet?{many}"), None)
        .await;
    assert_eq!(status, 400, "{v}");
    let (status, _) = e.google("GET", "orders:batchGet", None).await;
    assert_eq!(status, 400);
}
