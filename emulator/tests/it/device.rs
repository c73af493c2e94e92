//! The device sandbox endpoints (what sandbox.js calls).

use crate::support;

use serde_json::{json, Value};
use support::Emu;

async fn pay(e: &Emu, body: Value) -> (u16, Value) {
    e.control("POST", "/emulator/v1/device/purchases", Some(body))
        .await
}

#[tokio::test]
async fn items_come_from_the_catalog() {
    let e = Emu::start().await;
    let (s, items) = e
        .control(
            "GET",
            "/emulator/v1/device/items?ids=coins_100,sub_yearly,nope",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(items.as_array().unwrap().len(), 2);
    assert_eq!(
        items[0],
        json!({
            "itemId": "coins_100", "title": "100 coins",
            "description": "A bag of 100 coins to spend in the app (consumable).",
            "price": { "currency": "USD", "value": "0.99" }, "type": "product", "iconURLs": [],
        })
    );
    assert_eq!(items[1]["type"], "subscription");
    assert_eq!(items[1]["subscriptionPeriod"], "P1Y");
    assert_eq!(
        items[1]["price"],
        json!({ "currency": "USD", "value": "19.99" })
    );
    // The demo's introductory offers: an intro price on yearly, a free trial on monthly.
    assert_eq!(
        items[1]["introductoryPrice"],
        json!({ "currency": "USD", "value": "9.99" })
    );
    assert_eq!(items[1]["introductoryPricePeriod"], "P1Y");
    assert_eq!(items[1]["introductoryPriceCycles"], 1);
    assert!(items[1].get("freeTrialPeriod").is_none());
    let (_, monthly) = e
        .control("GET", "/emulator/v1/device/items?ids=sub_monthly", None)
        .await;
    assert_eq!(monthly[0]["freeTrialPeriod"], "P7D");
    assert!(monthly[0].get("introductoryPrice").is_none());
    let (s, err) = e
        .control("GET", "/emulator/v1/device/items?ids=", None)
        .await;
    assert_eq!(s, 400);
    assert_eq!(err["error"]["name"], "TypeError");
}

#[tokio::test]
async fn cors_and_script() {
    let e = Emu::start().await;
    let r = e
        .http
        .get(e.url("/emulator/v1/sandbox.js"))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let r = e
        .http
        .request(
            reqwest::Method::OPTIONS,
            e.url("/emulator/v1/device/purchases"),
        )
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn instruments() {
    let e = Emu::start().await;
    let (s, v) = pay(&e, json!({ "sku": "coins_100", "instrument": "approve" })).await;
    assert_eq!(s, 200, "{v}");
    let token = v["purchaseToken"].as_str().unwrap();
    assert_eq!(v["token"], token);
    assert_eq!(v["state"], "purchased");
    let (_, p) = e.product("coins_100", token).await;
    assert_eq!(p["purchaseState"], 0);
    assert_eq!(e.notified(token).await, ["one:1"]);

    for (instrument, code) in [("decline", "declined"), ("cancel", "canceled")] {
        let (s, v) = pay(
            &e,
            json!({ "sku": "premium_unlock", "instrument": instrument }),
        )
        .await;
        assert!(s >= 400);
        assert_eq!(v["error"]["code"], code);
        assert_eq!(v["error"]["name"], "AbortError");
        assert_eq!(
            v["error"]["domMessage"],
            "Payment app returned RESULT_CANCELED code"
        );
    }
    let (s, v) = pay(
        &e,
        json!({ "sku": "premium_unlock", "instrument": "pending" }),
    )
    .await;
    assert_eq!((s, v["state"].as_str()), (200, Some("pending")));
    let pending = v["purchaseToken"].as_str().unwrap().to_string();
    let (_, p) = e.product("premium_unlock", &pending).await;
    assert_eq!(p["purchaseState"], 2);
    // Owned (even pending): buying again is refused.
    let (s, v) = pay(&e, json!({ "sku": "premium_unlock" })).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("item_already_owned"))
    );
    let (s, v) = pay(&e, json!({ "sku": "nope" })).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("item_unavailable"))
    );

    // listPurchases sees both; consume removes the consumable.
    let (_, list) = e
        .control("GET", "/emulator/v1/device/purchases", None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (s, _) = e
        .control(
            "POST",
            "/emulator/v1/device/consume",
            Some(json!({ "purchaseToken": token })),
        )
        .await;
    assert_eq!(s, 204);
    let (_, p) = e.product("coins_100", token).await;
    assert_eq!(
        (
            p["consumptionState"].as_i64(),
            p["acknowledgementState"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let (_, list) = e
        .control("GET", "/emulator/v1/device/purchases", None)
        .await;
    assert_eq!(
        list,
        json!([{ "itemId": "premium_unlock", "purchaseToken": pending }])
    );
    let (s, v) = e
        .control(
            "POST",
            "/emulator/v1/device/consume",
            Some(json!({ "purchaseToken": token })),
        )
        .await;
    assert_eq!(
        (s, v["error"]["domMessage"].as_str()),
        (404, Some("itemNotOwned"))
    );
    let (s, v) = e
        .control(
            "POST",
            "/emulator/v1/device/consume",
            Some(json!({ "purchaseToken": "" })),
        )
        .await;
    assert_eq!((s, v["error"]["name"].as_str()), (400, Some("TypeError")));
    // History keeps the consumed one.
    let (_, history) = e.control("GET", "/emulator/v1/device/history", None).await;
    assert_eq!(history.as_array().unwrap().len(), 2);
    // Other accounts see nothing.
    let (_, list) = e
        .control(
            "GET",
            "/emulator/v1/device/purchases?accountId=someone-else",
            None,
        )
        .await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn subscription_replacement() {
    let e = Emu::start().await;
    let (_, v) = pay(&e, json!({ "sku": "sub_monthly" })).await;
    let old = v["purchaseToken"].as_str().unwrap().to_string();
    // Refused combinations, as the TWA refuses them.
    let (s, v) = pay(&e, json!({ "sku": "sub_yearly", "oldSku": "sub_monthly", "purchaseToken": old, "replacementMode": "withoutProration" })).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("replacement_mode_refused"))
    );
    let (s, v) = pay(
        &e,
        json!({ "sku": "sub_yearly", "replacementMode": "chargeProratedPrice" }),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("missing_purchase_token"))
    );
    let (s, v) = pay(&e, json!({ "sku": "sub_yearly", "oldSku": "sub_monthly", "purchaseToken": "unknown", "replacementMode": "deferred" })).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("item_not_owned"))
    );

    let (s, v) = pay(&e, json!({ "sku": "sub_yearly", "oldSku": "sub_monthly", "purchaseToken": old, "replacementMode": "chargeProratedPrice" })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["linkedPurchaseToken"], old.as_str());
    let new = v["purchaseToken"].as_str().unwrap();
    let (_, sub) = e.subscription(new).await;
    assert_eq!(sub["linkedPurchaseToken"], old.as_str());
    assert_eq!(sub["lineItems"][0]["productId"], "sub_yearly");
    let (_, list) = e
        .control("GET", "/emulator/v1/device/purchases", None)
        .await;
    assert_eq!(
        list,
        json!([{ "itemId": "sub_yearly", "purchaseToken": new }])
    );
    // The legacy prorationMode key works too.
    let (s, v) = pay(&e, json!({ "sku": "sub_monthly", "oldSku": "sub_yearly", "purchaseToken": new, "prorationMode": "deferred" })).await;
    assert_eq!((s, v["replacementMode"].as_str()), (200, Some("DEFERRED")));
}
