//! The browser underneath: web-sys for the standard Web APIs, and hand-written bindings for
//! the only two things web-sys 0.3 does not have, the Digital Goods service and the
//! `PaymentRequest` constructor (with its `show`), and for the global `fetch` and
//! `setTimeout`, which web-sys has twice (on `Window` and on `WorkerGlobalScope`).
//!
//! Everything that can throw is caught; the public API in the other modules is plain Rust.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{EventTarget, Storage};

#[wasm_bindgen]
extern "C" {
    /// The object `window.getDigitalGoodsService(provider)` resolves to. Hand-written: the
    /// Digital Goods API is not in web-sys.
    #[derive(Debug, Clone)]
    pub type DigitalGoodsService;

    #[wasm_bindgen(method, catch, js_name = getDetails)]
    pub fn get_details(this: &DigitalGoodsService, item_ids: &JsValue) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = listPurchases)]
    pub fn list_purchases(this: &DigitalGoodsService) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = listPurchaseHistory)]
    pub fn list_purchase_history(this: &DigitalGoodsService) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn consume(this: &DigitalGoodsService, purchase_token: &str) -> Result<Promise, JsValue>;

    /// The Payment Request API's `PaymentRequest`. Hand-written: web-sys has its response
    /// (`PaymentResponse`, used as such) but no `PaymentRequest` feature.
    #[derive(Debug)]
    pub type PaymentRequest;

    /// Chrome requires `details`; Play ignores it, so callers pass a zero `total`.
    #[wasm_bindgen(constructor, catch)]
    pub fn new(method_data: &JsValue, details: &JsValue) -> Result<PaymentRequest, JsValue>;

    /// Resolves to a [`web_sys::PaymentResponse`].
    #[wasm_bindgen(method, catch)]
    pub fn show(this: &PaymentRequest) -> Result<Promise, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` of a page or a worker (one binding for both: web-sys has it only
    /// as a method of `Window` and of `WorkerGlobalScope`, two imports and a scope test).
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(request: &web_sys::Request) -> Result<Promise, JsValue>;

    /// The global `setTimeout` of a page or a worker, likewise.
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn global_set_timeout(handler: &js_sys::Function, ms: i32) -> Result<JsValue, JsValue>;
}

/// The global object as an event target (window and worker scope both are).
pub fn events() -> EventTarget {
    js_sys::global().unchecked_into()
}

/// `localStorage`: `None` in a worker and where storage is denied (its getter throws).
pub fn local_storage() -> Option<Storage> {
    get(&js_sys::global(), "localStorage").dyn_into().ok()
}

/// `isSecureContext` of the page or worker (`false` where the global has none).
pub fn is_secure_context() -> bool {
    get(&js_sys::global(), "isSecureContext").as_bool() == Some(true)
}

/// `fetch(request)` of the page or worker, resolved to its `Response`; a rejection (or an
/// answer that is no `Response`) is the thrown value, as is a global scope without `fetch`.
///
/// The global `fetch` rather than gloo-net's `Request::send`, which panics when fetch
/// rejects with something that is not an `Error` or resolves to something that is not a
/// `Response` (both are reported as network errors here).
pub async fn fetch(request: &web_sys::Request) -> Result<web_sys::Response, JsValue> {
    resolve(global_fetch(request))
        .await?
        .dyn_into()
        .map_err(|_| JsValue::from_str("fetch answered with something that is not a Response"))
}

/// Whether `globalThis[name]` is defined (a throwing getter counts as absent): feature
/// detection, which no typed binding can do.
pub fn has_global(name: &str) -> bool {
    !get(&js_sys::global(), name).is_undefined()
}

/// Reads a property, `undefined` when it is missing or a getter throws (feature detection
/// and the `name`/`message` of thrown values, which may be anything).
pub fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Calls `globalThis.getDigitalGoodsService(provider)`; `None` when the function is absent.
pub fn get_digital_goods_service(provider: &str) -> Option<Result<Promise, JsValue>> {
    let global = js_sys::global();
    let function = get(&global, "getDigitalGoodsService");
    let function = function.dyn_ref::<js_sys::Function>()?;
    Some(
        function
            .call1(&global, &JsValue::from_str(provider))
            .map(|value| Promise::resolve(&value)),
    )
}

/// Awaits a promise returned by a throwing call: both failures are the thrown value.
/// (Every await in the library goes through this one function.)
pub async fn resolve(promise: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    wasm_bindgen_futures::JsFuture::from(promise?).await
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A promise that resolves after `ms` milliseconds (`setTimeout`; at once where there is
/// no timer).
pub async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        if global_set_timeout(&resolve, ms as i32).is_err() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = resolve(Ok(promise)).await;
}
