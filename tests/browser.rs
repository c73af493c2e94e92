//! The browser library in a real browser (headless Chromium via `wasm-pack test`), against
//! fakes of the TWA's Digital Goods service, Payment Request and the backend that check
//! what they are sent (`tests/fixtures/fake_billing.js`).
#![cfg(target_arch = "wasm32")]

use pwa_billing::{
    AuthToken, ConnectOptions, EntitlementState, Error, PlayBilling, ReplacementMode,
    SubscriptionChange,
};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/fixtures/fake_billing.js")]
extern "C" {
    fn install(options: &JsValue);
    fn uninstall();
    #[wasm_bindgen(js_name = setBackend)]
    fn set_backend(token: &str, behaviour: &str);
    #[wasm_bindgen(js_name = setShow)]
    fn set_show(behaviour: &str);
    fn recorded() -> JsValue;
    fn backend() -> String;
    #[wasm_bindgen(js_name = goOnline)]
    fn go_online();
}

fn fakes(options: Value) {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    install(&serde::Serialize::serialize(&options, &serializer).unwrap());
}

fn record() -> Value {
    serde_wasm_bindgen::from_value(recorded()).unwrap()
}

fn assert_no_problems() {
    assert_eq!(
        record()["problems"],
        json!([]),
        "a fake refused what it was sent"
    );
}

async fn connect() -> PlayBilling {
    let mut options = ConnectOptions::new(backend());
    options.auth_token = AuthToken::Static("session-1".into());
    options.locale = Some("en-US".into());
    PlayBilling::connect(options).await.expect("connects")
}

fn backend_paths() -> Vec<String> {
    record()["backendRequests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect()
}

async fn until(condition: impl FnMut() -> bool) {
    until_within(2_000, condition).await;
}

/// Waits (in 20 ms steps) until `condition` holds, at most `ms` milliseconds.
async fn until_within(ms: u32, mut condition: impl FnMut() -> bool) {
    for _ in 0..ms / 20 {
        if condition() {
            return;
        }
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20)
                .unwrap();
        });
        JsFuture::from(promise).await.unwrap();
    }
    panic!("condition not met within {ms} ms");
}

/// What a JS caller sees when a promise of the JS API rejects.
async fn js_rejection(promise: js_sys::Promise) -> (String, String, String) {
    let error = JsFuture::from(promise)
        .await
        .expect_err("the promise rejects");
    let error: js_sys::Error = error.dyn_into().expect("rejects with a real Error");
    let code = js_sys::Reflect::get(&error, &"code".into())
        .unwrap()
        .as_string()
        .unwrap();
    (
        String::from(error.name()),
        code,
        String::from(error.message()),
    )
}

#[wasm_bindgen_test]
async fn a_plain_tab_is_unsupported_and_diagnose_says_why() {
    uninstall();
    assert!(!PlayBilling::is_supported());
    let report = PlayBilling::diagnose(None).await;
    assert!(!report.supported);
    assert!(!report.digital_goods_api);
    assert!(report.secure_context, "the test page is on localhost");
    assert!(report
        .problems
        .iter()
        .any(|p| p.contains("getDigitalGoodsService is absent")));
    let error = PlayBilling::connect(ConnectOptions::new(backend()))
        .await
        .unwrap_err();
    assert_eq!(error.name(), "BillingUnsupportedError");
}

#[wasm_bindgen_test]
async fn diagnose_tells_versions_and_provider_refusals_apart() {
    fakes(json!({ "version": "2.0" }));
    assert!(PlayBilling::is_supported());
    let report = PlayBilling::diagnose(None).await;
    assert!(report.supported, "{:?}", report.problems);
    assert_eq!(report.api_version.as_deref(), Some("2.0"));

    fakes(json!({ "version": "2.1" }));
    assert_eq!(
        PlayBilling::diagnose(None).await.api_version.as_deref(),
        Some("2.1")
    );

    fakes(json!({ "version": "1.0" }));
    let report = PlayBilling::diagnose(None).await;
    assert_eq!(report.provider_available, Some(false));
    assert_eq!(report.api_version.as_deref(), Some("1.0"));

    fakes(json!({}));
    let report = PlayBilling::diagnose(Some("https://other.example/pay")).await;
    assert!(!report.supported);
    assert_eq!(
        report.provider_error.as_deref(),
        Some("unsupported payment method")
    );
}

#[wasm_bindgen_test]
async fn connect_retries_client_app_unavailable_then_succeeds() {
    fakes(json!({ "unavailableTimes": 2 }));
    let billing = connect().await;
    assert_eq!(billing.service_provider(), pwa_billing::PLAY_BILLING);
    assert_eq!(record()["serviceRequests"].as_array().unwrap().len(), 3);
}

#[wasm_bindgen_test]
async fn connect_gives_up_after_bounded_retries_keeping_the_message() {
    fakes(json!({ "unavailableTimes": 10 }));
    let error = PlayBilling::connect(ConnectOptions::new(backend()))
        .await
        .unwrap_err();
    assert_eq!(error, Error::Unavailable("clientAppUnavailable".into()));
    assert_eq!(error.name(), "BillingUnavailableError");
    assert_eq!(
        record()["serviceRequests"].as_array().unwrap().len(),
        pwa_billing::CONNECT_ATTEMPTS as usize
    );
}

#[wasm_bindgen_test]
async fn connect_with_an_unknown_provider_is_unavailable() {
    fakes(json!({}));
    let mut options = ConnectOptions::new(backend());
    options.service_provider = "https://other.example/pay".into();
    let error = PlayBilling::connect(options).await.unwrap_err();
    assert_eq!(
        error,
        Error::Unavailable("unsupported payment method".into())
    );
}

#[wasm_bindgen_test]
async fn details_come_in_the_order_asked_with_exact_formatted_prices() {
    fakes(json!({}));
    let billing = connect().await;
    let items = billing
        .get_details(&[
            "sub_yearly",
            "missing",
            "coins_100",
            "premium_unlock",
            "sub_monthly",
        ])
        .await
        .unwrap();
    let ids: Vec<_> = items.iter().map(|i| i.item_id.as_str()).collect();
    assert_eq!(
        ids,
        ["sub_yearly", "coins_100", "premium_unlock", "sub_monthly"]
    );
    assert_eq!(items[0].formatted_price, "€49.90");
    assert_eq!(
        items[0].formatted_introductory_price.as_deref(),
        Some("€0.10")
    );
    assert_eq!(items[0].introductory_price_cycles, Some(3));
    assert_eq!(items[0].introductory_price_period.as_deref(), Some("P1M"));
    assert_eq!(items[1].formatted_price, "€1.99");
    assert_eq!(items[1].icon_urls, ["https://example.test/coins.png"]);
    assert_eq!(items[1].description.as_deref(), Some("A pile of coins"));
    // 17 significant digits: a float would print ...568.00.
    assert_eq!(items[2].formatted_price, "$12,345,678,901,234,567.89");
    assert_eq!(items[3].free_trial_period.as_deref(), Some("P7D"));
    assert_eq!(items[3].subscription_period.as_deref(), Some("P1M"));
    assert_eq!(record()["detailRequests"][0].as_array().unwrap().len(), 5);
}

#[wasm_bindgen_test]
async fn prices_follow_the_connection_locale() {
    fakes(json!({}));
    let mut options = ConnectOptions::new(backend());
    options.locale = Some("de-DE".into());
    let billing = PlayBilling::connect(options).await.unwrap();
    let items = billing.get_details(&["coins_100"]).await.unwrap();
    assert_eq!(items[0].formatted_price, "1,99\u{a0}€");
}

#[wasm_bindgen_test]
async fn an_empty_details_request_is_an_invalid_argument() {
    fakes(json!({}));
    let billing = connect().await;
    let error = billing.get_details(&[]).await.unwrap_err();
    assert_eq!(error.name(), "InvalidArgumentError");
    assert_eq!(
        record()["detailRequests"],
        json!([]),
        "refused before the provider"
    );
}

#[wasm_bindgen_test]
async fn a_purchase_is_verified_then_completed_with_success() {
    fakes(json!({ "authToken": "session-1" }));
    let billing = connect().await;
    let result = billing.purchase("premium_unlock").await.unwrap();
    assert_eq!(result.item_id, "premium_unlock");
    assert_eq!(result.purchase_token, "token-premium_unlock-1");
    assert!(result.verification.entitlement.entitled);
    assert_eq!(
        result.verification.entitlement.id, "7",
        "numeric ids become strings"
    );
    assert_eq!(
        result.verification.entitlement.state,
        EntitlementState::Active
    );
    let seen = record();
    assert_eq!(
        seen["paymentRequests"],
        json!([{ "sku": "premium_unlock" }])
    );
    assert_eq!(seen["completions"], json!(["success"]));
    assert_eq!(
        seen["backendRequests"][0]["body"],
        json!({ "itemId": "premium_unlock", "purchaseToken": "token-premium_unlock-1" })
    );
    assert_eq!(seen["backendRequests"][0]["auth"], "Bearer session-1");
    assert!(billing.pending_tokens().is_empty());
    assert_no_problems();
}

#[wasm_bindgen_test]
async fn the_legacy_token_field_is_read_when_purchase_token_is_absent() {
    fakes(json!({ "show": "legacy" }));
    let billing = connect().await;
    let result = billing.purchase("coins_100").await.unwrap();
    assert_eq!(result.purchase_token, "token-coins_100-1");
    assert_eq!(
        record()["backendRequests"][0]["body"]["purchaseToken"],
        "token-coins_100-1"
    );
}

#[wasm_bindgen_test]
async fn sheet_failures_map_to_typed_errors_without_a_backend_call() {
    fakes(json!({ "show": "cancel" }));
    let billing = connect().await;
    let error = billing.purchase("coins_100").await.unwrap_err();
    assert_eq!(error.name(), "PurchaseCanceledError");
    assert!(error.to_string().contains("Play reports both alike"));
    set_show("owned");
    assert_eq!(
        billing.purchase("premium_unlock").await.unwrap_err().name(),
        "ItemAlreadyOwnedError"
    );
    set_show("unavailable");
    assert_eq!(
        billing.purchase("nope").await.unwrap_err().name(),
        "ItemUnavailableError"
    );
    assert_eq!(backend_paths(), Vec::<String>::new());
    assert!(billing.pending_tokens().is_empty());
}

#[wasm_bindgen_test]
async fn a_pending_purchase_stays_in_the_outbox_until_it_settles() {
    fakes(json!({ "backend": { "*": "pending" } }));
    let billing = connect().await;
    let error = billing.purchase("coins_100").await.unwrap_err();
    assert_eq!(error, Error::Pending);
    assert_eq!(error.name(), "PurchasePendingError");
    assert_eq!(record()["completions"], json!(["unknown"]));
    let pending = billing.pending_tokens();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].last_error.as_deref(), Some("pending"));
    set_backend("*", "grant");
    billing.restore().await.unwrap();
    assert!(billing.pending_tokens().is_empty());
}

/// Issue 24: a verification refused because Google's quota is spent (`503` with
/// `Retry-After`) settles the purchase's promise at once with a typed "deferred, will retry"
/// error; the library re-sends the token after that delay (with jitter, never before it) on
/// a timer, without a reload, an `online` event or `restore()`, and it is granted.
#[wasm_bindgen_test]
async fn a_503_with_retry_after_is_re_sent_after_the_delay_and_granted() {
    fakes(json!({ "backend": { "*": "busy" } }));
    let billing = connect().await;
    let error = billing.purchase("coins_100").await.unwrap_err();
    assert_eq!(error.name(), "VerificationDeferredError");
    assert_eq!(error.code(), "verification_deferred");
    assert!(error.to_string().contains("re-sent in 1 s"), "{error}");
    assert_eq!(record()["completions"], json!(["unknown"]));
    let waiting = billing.pending_tokens();
    assert_eq!(waiting.len(), 1);
    let first = &record()["backendRequests"][0];
    let delay = waiting[0].next_attempt_at - js_sys::Date::now();
    assert!(
        (500.0..=1_600.0).contains(&delay),
        "Retry-After (1 s) plus jitter: {delay} ms"
    );
    set_backend("*", "grant");
    // Nothing but the library's own timer sends it again: granted without a reload.
    until_within(5_000, || billing.pending_tokens().is_empty()).await;
    let requests = record()["backendRequests"].as_array().unwrap().clone();
    assert_eq!(requests.len(), 2, "one re-send: {requests:?}");
    let waited = requests[1]["at"].as_f64().unwrap() - first["at"].as_f64().unwrap();
    assert!(waited >= 1_000.0, "not before Retry-After: {waited} ms");
    assert_eq!(requests[1]["body"]["purchaseToken"], "token-coins_100-1");
    assert_no_problems();
}

#[wasm_bindgen_test]
async fn backend_refusals_are_verification_errors_and_final() {
    fakes(json!({ "backend": { "token-coins_100-1": "claimed", "token-coins_100-2": "invalid" } }));
    let billing = connect().await;
    let error = billing.purchase("coins_100").await.unwrap_err();
    assert_eq!(error.name(), "VerificationError");
    assert_eq!(error.code(), "token_already_claimed");
    let error = billing.purchase("coins_100").await.unwrap_err();
    assert_eq!(error.code(), "purchase_invalid");
    assert_eq!(record()["completions"], json!(["fail", "fail"]));
    assert!(
        billing.pending_tokens().is_empty(),
        "a final answer empties the outbox"
    );
}

#[wasm_bindgen_test]
async fn the_outbox_keeps_a_token_through_a_failed_post_and_a_reload() {
    fakes(json!({ "backend": { "*": "down" } }));
    let billing = connect().await;
    let error = billing.purchase("premium_unlock").await.unwrap_err();
    assert_eq!(error.name(), "NetworkError");
    assert_eq!(record()["completions"], json!(["unknown"]));
    set_backend("*", "error");
    // restore() re-sends the outbox; a 503 leaves the token waiting, nothing else fails.
    assert_eq!(billing.restore().await.unwrap(), vec![]);
    let waiting = billing.pending_tokens();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].purchase_token, "token-premium_unlock-1");
    assert_eq!(waiting[0].attempts, 2);
    drop(billing);

    // A new page: the token is still on disk, and the browser coming online flushes it.
    set_backend("*", "grant");
    let billing = connect().await;
    assert_eq!(
        billing.pending_tokens().len(),
        1,
        "stored across connections"
    );
    go_online();
    until(|| billing.pending_tokens().is_empty()).await;
    let verifies = backend_paths()
        .iter()
        .filter(|p| *p == "POST /purchases/verify")
        .count();
    assert_eq!(verifies, 3);
}

#[wasm_bindgen_test]
async fn every_replacement_mode_sends_both_keys_and_the_old_token() {
    fakes(json!({}));
    let billing = connect().await;
    for mode in ReplacementMode::ALL {
        let change = SubscriptionChange {
            from_item_id: "sub_monthly".into(),
            from_purchase_token: "old-token".into(),
            to_item_id: "sub_yearly".into(),
            mode,
        };
        billing.change_subscription(&change).await.unwrap();
    }
    let sent = &record()["paymentRequests"];
    let expected: Vec<Value> = [
        ("chargeProratedPrice", "immediateAndChargeProratedPrice"),
        ("chargeFullPrice", "immediateAndChargeFullPrice"),
        ("withTimeProration", "immediateWithTimeProration"),
        ("deferred", "deferred"),
    ]
    .iter()
    .map(|(replacement, proration)| {
        json!({ "sku": "sub_yearly", "oldSku": "sub_monthly", "purchaseToken": "old-token",
                "replacementMode": replacement, "prorationMode": proration })
    })
    .collect();
    assert_eq!(sent, &json!(expected));
    assert_no_problems();
}

#[wasm_bindgen_test]
async fn bad_subscription_changes_are_refused_before_any_sheet() {
    fakes(json!({}));
    let billing = connect().await;
    let change = |mode: &str, token: &str| {
        let value = json!({ "fromItemId": "sub_monthly", "fromPurchaseToken": token, "toItemId": "sub_yearly", "mode": mode });
        serde::Serialize::serialize(&value, &serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap()
            .unchecked_into()
    };
    for (mode, token) in [
        ("withoutProration", "t"),
        ("immediateWithoutProration", "t"),
        ("sideways", "t"),
        ("deferred", ""),
    ] {
        let (name, code, _) = js_rejection(
            billing
                .js_change_subscription(change(mode, token))
                .unchecked_into(),
        )
        .await;
        assert_eq!(
            (name.as_str(), code.as_str()),
            ("InvalidArgumentError", "invalid_argument"),
            "{mode}"
        );
    }
    // Legacy names are accepted.
    JsFuture::from(js_sys::Promise::from(JsValue::from(
        billing.js_change_subscription(change("immediateAndChargeFullPrice", "t")),
    )))
    .await
    .unwrap();
    let sent = &record()["paymentRequests"];
    assert_eq!(sent.as_array().unwrap().len(), 1);
    assert_eq!(sent[0]["replacementMode"], "chargeFullPrice");
    assert_no_problems();
}

#[wasm_bindgen_test]
async fn consume_and_the_purchase_lists() {
    let owned = json!([{ "itemId": "coins_100", "purchaseToken": "c1" }, { "itemId": "sub_monthly", "purchaseToken": "s1" }]);
    fakes(json!({ "owned": owned, "history": [{ "itemId": "coins_100", "purchaseToken": "c0" }] }));
    let billing = connect().await;
    let purchases = billing.list_purchases().await.unwrap();
    assert_eq!(purchases.len(), 2);
    assert_eq!(purchases[1].purchase_token, "s1");
    assert_eq!(
        billing.list_purchase_history().await.unwrap()[0].purchase_token,
        "c0"
    );
    billing.consume("c1").await.unwrap();
    assert_eq!(record()["consumed"], json!(["c1"]));
    assert_eq!(
        billing.consume("c1").await.unwrap_err().name(),
        "ItemNotOwnedError"
    );
    assert_eq!(
        billing.consume("").await.unwrap_err().name(),
        "InvalidArgumentError"
    );
    assert_eq!(billing.list_purchases().await.unwrap().len(), 1);
}

#[wasm_bindgen_test]
async fn purchase_history_is_empty_on_digital_goods_2_0() {
    fakes(
        json!({ "version": "2.0", "history": [{ "itemId": "coins_100", "purchaseToken": "c0" }] }),
    );
    let billing = connect().await;
    assert_eq!(billing.list_purchase_history().await.unwrap(), vec![]);
}

#[wasm_bindgen_test]
async fn restore_syncs_every_owned_purchase_and_returns_entitlements() {
    let owned = json!([{ "itemId": "premium_unlock", "purchaseToken": "p1" }, { "itemId": "sub_monthly", "purchaseToken": "s1" }]);
    fakes(json!({ "owned": owned, "authToken": "fresh" }));
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = calls.clone();
    let provider = Closure::<dyn FnMut() -> js_sys::Promise>::new(move || {
        counter.set(counter.get() + 1);
        js_sys::Promise::resolve(&JsValue::from_str("fresh"))
    });
    let mut options = ConnectOptions::new(backend());
    options.auth_token = AuthToken::Callback(
        provider
            .as_ref()
            .unchecked_ref::<js_sys::Function>()
            .clone(),
    );
    let billing = PlayBilling::connect(options).await.unwrap();
    let entitlements = billing.restore().await.unwrap();
    assert_eq!(entitlements.len(), 2);
    assert_eq!(entitlements[1].item_id, "sub_monthly");
    assert_eq!(
        backend_paths(),
        ["POST /purchases/sync", "GET /entitlements"]
    );
    assert_eq!(
        record()["backendRequests"][0]["body"],
        json!({ "purchases": owned })
    );
    assert_eq!(
        calls.get(),
        2,
        "the token function is asked before every request"
    );
    assert_no_problems();
}

#[wasm_bindgen_test]
async fn js_errors_are_real_errors_with_stable_names_and_codes() {
    uninstall();
    let options: JsValue = js_sys::Object::new().into();
    js_sys::Reflect::set(&options, &"backendUrl".into(), &backend().into()).unwrap();
    let (name, code, message) =
        js_rejection(PlayBilling::js_connect(options.clone().unchecked_into()).unchecked_into())
            .await;
    assert_eq!(
        (name.as_str(), code.as_str()),
        ("BillingUnsupportedError", "unsupported")
    );
    assert!(message.contains("getDigitalGoodsService"));

    fakes(json!({}));
    let (name, _, message) =
        js_rejection(PlayBilling::js_connect(JsValue::from(3).unchecked_into()).unchecked_into())
            .await;
    assert_eq!(name, "InvalidArgumentError");
    assert!(message.contains("must be an object"));

    let billing: PlayBilling = {
        let value = JsFuture::from(js_sys::Promise::from(JsValue::from(
            PlayBilling::js_connect(options.unchecked_into()),
        )))
        .await
        .unwrap();
        // The JS API resolves to a PlayBilling object; the Rust API is the same object.
        assert!(value.is_object());
        connect().await
    };
    let (name, code, _) = js_rejection(
        billing
            .js_get_details(JsValue::from("coins_100").unchecked_into())
            .unchecked_into(),
    )
    .await;
    assert_eq!(
        (name.as_str(), code.as_str()),
        ("InvalidArgumentError", "invalid_argument")
    );
    set_backend("*", "claimed");
    let (name, code, _) =
        js_rejection(billing.js_purchase("coins_100".into()).unchecked_into()).await;
    assert_eq!(
        (name.as_str(), code.as_str()),
        ("VerificationError", "token_already_claimed")
    );
    assert_eq!(
        PlayBilling::js_manage_subscription_url("sub_monthly".into(), "com.example.pwa".into())
            .as_string()
            .unwrap(),
        "https://play.google.com/store/account/subscriptions?sku=sub_monthly&package=com.example.pwa"
    );
    assert_eq!(
        billing.js_service_provider().as_string().unwrap(),
        "https://play.google.com/billing"
    );
    // The string arguments are JS values typed `string`: anything else is a missing argument,
    // refused with a rejection rather than a TypeError thrown by the glue.
    for not_a_string in [
        JsValue::from(5),
        JsValue::NULL,
        js_sys::Object::new().into(),
    ] {
        let (name, code, message) =
            js_rejection(billing.js_purchase(not_a_string.clone()).unchecked_into()).await;
        assert_eq!(
            (name.as_str(), code.as_str(), message.as_str()),
            (
                "InvalidArgumentError",
                "invalid_argument",
                "invalid argument: purchase needs an item id"
            )
        );
        let (name, _, message) =
            js_rejection(billing.js_consume(not_a_string).unchecked_into()).await;
        assert_eq!(
            (name.as_str(), message.as_str()),
            (
                "InvalidArgumentError",
                "invalid argument: consume needs a purchase token"
            )
        );
    }
}

/// Replaces a global with what a JS expression evaluates to (for one-off fakes).
fn set_global(name: &str, expression: &str) {
    let value = js_sys::Function::new_no_args(&format!("return ({expression});"))
        .call0(&JsValue::NULL)
        .unwrap();
    js_sys::Reflect::set(&js_sys::global(), &name.into(), &value).unwrap();
}

#[wasm_bindgen_test]
async fn provider_objects_are_read_leniently_and_bad_shapes_name_the_key() {
    fakes(json!({}));
    set_global(
        "getDigitalGoodsService",
        r#"async () => ({
            async getDetails() {
                return [{ itemId: "a", title: "A", price: { currency: "usd", value: "1" }, type: "bundle",
                          iconURLs: null, introductoryPriceCycles: 2, somethingNew: [1, 2] }];
            },
            async listPurchases() { return [{ itemId: "a", purchaseToken: "t" }, { itemId: "b" }]; },
            async listPurchaseHistory() { return "nope"; },
        })"#,
    );
    let billing = connect().await;
    let items = billing.get_details(&["a"]).await.unwrap();
    assert_eq!(
        items[0].item_type,
        Some(pwa_billing::ItemType::Unknown),
        "unknown types fall back"
    );
    assert!(items[0].icon_urls.is_empty());
    assert_eq!(items[0].introductory_price_cycles, Some(2));
    assert_eq!(items[0].description, None);
    assert_eq!(items[0].formatted_price, "$1.00");
    let error = billing.list_purchases().await.unwrap_err();
    assert_eq!(error.name(), "BillingUnavailableError");
    assert!(
        error
            .to_string()
            .contains("purchaseToken is missing or has the wrong type"),
        "{error}"
    );
    let error = billing.list_purchase_history().await.unwrap_err();
    assert!(error.to_string().contains("unexpected shape"), "{error}");
}

#[wasm_bindgen_test]
async fn backend_entitlements_are_read_with_serde_defaults_and_bad_ones_are_network_errors() {
    fakes(json!({}));
    let billing = connect().await;
    let entitlement = r#"{ id: "e-1", itemId: "coins_100", kind: "consumable", state: "frozen",
                           entitled: false, purchaseToken: "c1", expiresAt: null }"#;
    set_global(
        "fetch",
        &format!(
            "async () => new Response(JSON.stringify({{ entitlements: [{entitlement}, {{ ...{entitlement}, id: 12, kind: \"x\", \
             quantity: 3, test: true, expiresAt: \"2030-01-01T00:00:00Z\" }}] }}))"
        ),
    );
    let entitlements = billing.entitlements().await.unwrap();
    assert_eq!(entitlements.len(), 2);
    let (first, second) = (&entitlements[0], &entitlements[1]);
    assert_eq!(
        (first.id.as_str(), first.quantity, first.test),
        ("e-1", 1, false),
        "defaults"
    );
    assert_eq!(first.state, EntitlementState::Unknown);
    assert_eq!(first.kind, pwa_billing::EntitlementKind::Consumable);
    assert_eq!(first.expires_at, None);
    assert_eq!(
        (second.id.as_str(), second.quantity, second.test),
        ("12", 3, true)
    );
    assert_eq!(second.kind, pwa_billing::EntitlementKind::Unknown);
    assert_eq!(second.expires_at.as_deref(), Some("2030-01-01T00:00:00Z"));

    set_global("fetch", &format!("async () => new Response(JSON.stringify({{ entitlements: [{{ ...{entitlement}, id: 1.5 }}] }}))"));
    let error = billing.entitlements().await.unwrap_err();
    assert_eq!(error.name(), "NetworkError");
    assert!(
        error
            .to_string()
            .contains("id is missing or has the wrong type"),
        "{error}"
    );
    set_global(
        "fetch",
        "async () => new Response(JSON.stringify({ items: [] }))",
    );
    assert_eq!(
        billing.entitlements().await.unwrap_err().name(),
        "NetworkError"
    );
    uninstall();
}

/// A JS API promise's value as JSON data.
async fn js_value(promise: JsValue) -> Value {
    let value = JsFuture::from(js_sys::Promise::from(promise))
        .await
        .expect("resolves");
    serde_wasm_bindgen::from_value(value).unwrap()
}

/// The JS API returns exactly the objects the serde derives describe (the JSON the Rust
/// types serialize to): same keys, `None` fields left out, enums by name.
#[wasm_bindgen_test]
async fn js_objects_have_the_shape_of_the_serde_types() {
    let owned = json!([{ "itemId": "coins_100", "purchaseToken": "c1" }]);
    fakes(json!({ "owned": owned, "history": owned, "backend": { "*": "pending" } }));
    let billing = connect().await;
    let ids = ["sub_yearly", "coins_100", "sub_monthly"];
    let js_ids: js_sys::Array = ids.iter().map(|id| JsValue::from_str(id)).collect();
    let js_items = js_value(billing.js_get_details(js_ids.unchecked_into()).into()).await;
    let items = billing.get_details(&ids).await.unwrap();
    assert_eq!(js_items, serde_json::to_value(&items).unwrap());
    assert_eq!(js_items[0]["introductoryPriceCycles"], 3);
    assert_eq!(js_items[0]["type"], "subscription");
    assert!(
        js_items[1].get("introductoryPrice").is_none(),
        "None is left out"
    );

    let js_purchases = js_value(billing.js_list_purchases().into()).await;
    assert_eq!(js_purchases, owned);
    assert_eq!(
        js_value(billing.js_list_purchase_history().into()).await,
        owned
    );
    let js_entitlements = js_value(billing.js_entitlements().into()).await;
    assert_eq!(
        js_entitlements,
        serde_json::to_value(billing.entitlements().await.unwrap()).unwrap()
    );
    assert_eq!(js_entitlements[0]["kind"], "non_consumable");

    let options = js_sys::Object::new();
    js_sys::Reflect::set(
        &options,
        &"serviceProvider".into(),
        &"https://other.example/pay".into(),
    )
    .unwrap();
    let js_report = js_value(PlayBilling::js_diagnose(options.into()).into()).await;
    let report = PlayBilling::diagnose(Some("https://other.example/pay")).await;
    assert_eq!(js_report, serde_json::to_value(&report).unwrap());
    assert_eq!(js_report["providerAvailable"], false);

    billing.purchase("coins_100").await.unwrap_err();
    // (Compared as PendingTokens: JSON data would tell 1.0 from 1.)
    let js_pending = billing.js_pending_tokens();
    let tokens: Vec<pwa_billing::PendingToken> =
        serde_wasm_bindgen::from_value(js_pending.clone()).unwrap();
    assert_eq!(tokens, billing.pending_tokens());
    let js_pending: Value = serde_wasm_bindgen::from_value(js_pending.into()).unwrap();
    let keys: Vec<_> = js_pending[0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "addedAt",
            "attempts",
            "itemId",
            "lastError",
            "nextAttemptAt",
            "purchaseToken"
        ]
    );
    assert_eq!(js_pending[0]["lastError"], "pending");

    set_backend("*", "grant");
    let js_result = js_value(billing.js_purchase("sub_monthly".into()).into()).await;
    assert_eq!(js_result["verification"]["entitlement"]["state"], "active");
    assert_eq!(js_result["verification"]["entitlement"]["id"], "7");
    let result: pwa_billing::PurchaseResult = serde_json::from_value(js_result.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&result).unwrap(),
        js_result,
        "round-trips through serde"
    );
}

#[wasm_bindgen_test]
async fn backend_failures_keep_what_the_browser_and_the_server_said() {
    fakes(json!({ "backend": { "*": "down" } }));
    let billing = connect().await;
    billing.purchase("coins_100").await.unwrap_err();
    assert_eq!(
        billing.pending_tokens()[0].last_error.as_deref(),
        Some("network error: TypeError: Failed to fetch")
    );
    set_global(
        "fetch",
        r#"async () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" })"#,
    );
    let error = billing.entitlements().await.unwrap_err();
    assert_eq!(
        error,
        Error::Network("HTTP 502 http_502: Bad Gateway".into())
    );
    set_global(
        "fetch",
        r#"async () => new Response("not json", { status: 200 })"#,
    );
    let error = billing.entitlements().await.unwrap_err();
    assert_eq!(
        error,
        Error::Network("the backend sent invalid JSON (HTTP 200)".into())
    );
    set_global("fetch", r#"async () => { throw "offline"; }"#);
    assert_eq!(
        billing.entitlements().await.unwrap_err(),
        Error::Network("offline".into())
    );
    uninstall();
}

/// Runs a JS statement (for one-off changes to the page).
fn run_js(code: &str) {
    js_sys::Function::new_no_args(code)
        .call0(&JsValue::NULL)
        .unwrap();
}

#[wasm_bindgen_test]
async fn where_storage_is_denied_the_outbox_lives_in_memory() {
    fakes(json!({ "backend": { "*": "down" } }));
    run_js(
        r#"window.__storage = Object.getOwnPropertyDescriptor(window, "localStorage")
              ?? Object.getOwnPropertyDescriptor(Window.prototype, "localStorage");
           Object.defineProperty(window, "localStorage", { configurable: true,
              get() { throw new DOMException("denied", "SecurityError"); } });"#,
    );
    let billing = connect().await;
    let error = billing.purchase("coins_100").await.unwrap_err();
    run_js(
        r#"Object.defineProperty(window, "localStorage", window.__storage); delete window.__storage;"#,
    );
    assert_eq!(error.name(), "NetworkError");
    let waiting = billing.pending_tokens();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].purchase_token, "token-coins_100-1");
    assert_eq!(waiting[0].attempts, 1);
    let stored = web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .length()
        .unwrap();
    assert_eq!(stored, 0, "nothing went to localStorage");
    set_backend("*", "grant");
    billing.restore().await.unwrap();
    assert!(billing.pending_tokens().is_empty());
}

#[wasm_bindgen_test]
async fn a_200_that_breaks_the_contract_is_a_bad_response_kept_for_capped_attempts() {
    fakes(json!({}));
    let billing = connect().await;
    // The backend answers 200, but its entitlement lacks the purchase token.
    set_global(
        "fetch",
        r#"async () => {
            window.__verifies = (window.__verifies ?? 0) + 1;
            return new Response(JSON.stringify({ entitlement: { id: 7, itemId: "coins_100",
                kind: "consumable", state: "active", entitled: true } }), { status: 200 });
        }"#,
    );
    let error = billing.purchase("coins_100").await.unwrap_err();
    assert_eq!(
        (error.name(), error.code()),
        ("VerificationError", "bad_response")
    );
    assert!(
        error
            .to_string()
            .contains("purchaseToken is missing or has the wrong type"),
        "{error}"
    );
    let (name, code, message) =
        js_rejection(billing.js_purchase("coins_100".into()).unchecked_into()).await;
    assert_eq!(
        (name.as_str(), code.as_str()),
        ("VerificationError", "bad_response")
    );
    assert!(message.contains("purchaseToken is missing"), "{message}");
    assert_eq!(
        record()["completions"],
        json!(["unknown", "unknown"]),
        "the payment went through: neither success nor failure"
    );

    // Both tokens stay in the outbox, re-sent until the cap, then kept without a send.
    let waiting = billing.pending_tokens();
    assert_eq!(waiting.len(), 2);
    assert_eq!(waiting[0].attempts, 1);
    assert!(
        waiting[0]
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("verification failed (bad_response): "),
        "{:?}",
        waiting[0].last_error
    );
    for _ in 0..pwa_billing::BAD_RESPONSE_ATTEMPTS + 3 {
        billing.flush_outbox(true).await;
    }
    let verifies = js_sys::Reflect::get(&js_sys::global(), &"__verifies".into())
        .unwrap()
        .as_f64()
        .unwrap();
    assert_eq!(
        verifies,
        f64::from(2 * pwa_billing::BAD_RESPONSE_ATTEMPTS),
        "each token is sent at most BAD_RESPONSE_ATTEMPTS times"
    );
    let waiting = billing.pending_tokens();
    assert_eq!(waiting.len(), 2, "kept: the purchases are real");
    assert!(waiting
        .iter()
        .all(|token| token.attempts == pwa_billing::BAD_RESPONSE_ATTEMPTS));
    run_js("delete window.__verifies;");
    uninstall();
}

/// The option objects are read by serde, each key checked by name.
#[wasm_bindgen_test]
async fn option_keys_of_the_wrong_type_are_named() {
    fakes(json!({}));
    let options = |value: Value| -> JsValue {
        serde::Serialize::serialize(&value, &serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap()
    };
    for (value, words) in [
        (json!({ "backendUrl": 5 }), "backendUrl must be a string"),
        (json!({ "backendUrl": "" }), "backendUrl is required"),
        (
            json!({ "backendUrl": backend(), "locale": ["de"] }),
            "locale must be a string",
        ),
        (
            json!({ "backendUrl": backend(), "authToken": 7 }),
            "authToken must be a string or a function",
        ),
    ] {
        let (name, _, message) =
            js_rejection(PlayBilling::js_connect(options(value).unchecked_into()).unchecked_into())
                .await;
        assert_eq!(name, "InvalidArgumentError");
        assert!(message.contains(words), "{message}");
    }
    let billing = connect().await;
    let (name, _, message) = js_rejection(
        billing
            .js_change_subscription(
                options(
                    json!({ "fromItemId": "sub_monthly", "fromPurchaseToken": "t",
                                "toItemId": "sub_yearly", "mode": 3 }),
                )
                .unchecked_into(),
            )
            .unchecked_into(),
    )
    .await;
    assert_eq!(name, "InvalidArgumentError");
    assert!(message.contains("mode must be a string"), "{message}");
    let (name, _, message) = js_rejection(
        PlayBilling::js_diagnose(options(json!({ "serviceProvider": 1 }))).unchecked_into(),
    )
    .await;
    assert_eq!(name, "InvalidArgumentError");
    assert!(
        message.contains("serviceProvider must be a string"),
        "{message}"
    );
    assert_eq!(
        record()["paymentRequests"],
        json!([]),
        "refused before any sheet"
    );
}

/// A `200` whose keys have the wrong type, a number where a string is expected and the
/// reverse, is a `bad_response` whose message names the key (with its path).
#[wasm_bindgen_test]
async fn a_number_for_a_string_and_the_reverse_are_bad_responses_naming_the_key() {
    fakes(json!({}));
    let billing = connect().await;
    let entitlement = r#"{ id: 7, itemId: "coins_100", kind: "consumable", state: "active",
                           entitled: true, purchaseToken: "t" }"#;
    for (change, key) in [
        ("purchaseToken: 5", "entitlement.purchaseToken"),
        ("itemId: 1.5", "entitlement.itemId"),
        ("quantity: \"3\"", "entitlement.quantity"),
        ("entitled: \"true\"", "entitlement.entitled"),
        ("id: \"\", id: 2.5", "entitlement.id"),
    ] {
        set_global(
            "fetch",
            &format!(
                "async () => new Response(JSON.stringify({{ entitlement: {{ ...{entitlement}, {change} }} }}))"
            ),
        );
        let error = billing.purchase("coins_100").await.unwrap_err();
        assert_eq!(
            (error.name(), error.code()),
            ("VerificationError", "bad_response"),
            "{change}"
        );
        let words = format!("{key} is missing or has the wrong type");
        assert!(error.to_string().contains(&words), "{change}: {error}");
    }
    set_global(
        "fetch",
        "async () => new Response(JSON.stringify({ entitlement: { id: 7 }, acknowledged: \"no\" }))",
    );
    let error = billing.purchase("coins_100").await.unwrap_err();
    assert_eq!(error.code(), "bad_response");
    assert!(
        error.to_string().contains("entitlement.itemId is missing"),
        "{error}"
    );
    // The entitlement list names the entry too.
    set_global(
        "fetch",
        &format!(
            "async () => new Response(JSON.stringify({{ entitlements: [{entitlement}, {{ ...{entitlement}, state: 3 }}] }}))"
        ),
    );
    let error = billing.entitlements().await.unwrap_err();
    assert_eq!(error.name(), "NetworkError");
    assert!(
        error
            .to_string()
            .contains("entitlements[1].state is missing or has the wrong type"),
        "{error}"
    );
    uninstall();
}

/// serde-wasm-bindgen's type errors, with its `[patch]` (vendor/serde-wasm-bindgen/PATCH.md),
/// keep serde's words: the number written by JavaScript (with serde's `.0` on integral
/// values), the string quoted.
#[wasm_bindgen_test]
fn serde_type_errors_keep_serdes_words_without_rust_float_formatting() {
    let message = |error: serde_wasm_bindgen::Error| {
        String::from(
            JsValue::from(error)
                .unchecked_into::<js_sys::Error>()
                .message(),
        )
    };
    assert_eq!(
        message(serde_wasm_bindgen::from_value::<String>(JsValue::from_f64(1.5)).unwrap_err()),
        "invalid type: floating point `1.5`, expected a string"
    );
    assert_eq!(
        message(serde_wasm_bindgen::from_value::<String>(JsValue::from_f64(5.0)).unwrap_err()),
        "invalid type: floating point `5.0`, expected a string"
    );
    assert_eq!(
        message(serde_wasm_bindgen::from_value::<u32>(JsValue::from_f64(-0.25)).unwrap_err()),
        "invalid type: floating point `-0.25`, expected u32"
    );
    assert_eq!(
        message(serde_wasm_bindgen::from_value::<bool>(JsValue::from_str("y\"es")).unwrap_err()),
        "invalid type: string \"y\\\"es\", expected a boolean"
    );
    // Integers are written by JavaScript too (through a BigInt: every digit exact).
    assert_eq!(
        message(serde_wasm_bindgen::from_value::<u8>(JsValue::from_f64(300.0)).unwrap_err()),
        "invalid value: integer `300`, expected u8"
    );
    // Values of no simpler kind are named as serde names them, or by their JS `typeof`
    // (not by `JsValue`'s `Debug`, which would link the glue's `debugString`).
    for (value, kind) in [
        (js_sys::Array::new().into(), "sequence"),
        (js_sys::Object::new().into(), "map"),
        (js_sys::Uint8Array::new_with_length(2).into(), "byte array"),
        (JsValue::bigint_from_str("12"), "bigint"),
        (JsValue::symbol(Some("s")), "symbol"),
    ] {
        assert_eq!(
            message(serde_wasm_bindgen::from_value::<String>(value).unwrap_err()),
            format!("invalid type: {kind}, expected a string")
        );
    }
}
