//! Hand-written bindings for what web-sys does not have: the Digital Goods service,
//! `PaymentRequest` with its response, and `Intl.NumberFormat` called with a decimal string;
//! and the little of `fetch` the backend client needs (bound here rather than through
//! gloo-net, whose request builder, URL handling and error conversion cost ~4 KB gzip).
//!
//! Everything that can throw is `catch`; the public API in the other modules is plain Rust.

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The object `window.getDigitalGoodsService(provider)` resolves to.
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

    /// The Payment Request API's `PaymentRequest` (web-sys has no binding for it).
    #[derive(Debug)]
    pub type PaymentRequest;

    /// Chrome requires `details`; Play ignores it, so callers pass a zero `total`.
    #[wasm_bindgen(constructor, catch)]
    pub fn new(method_data: &JsValue, details: &JsValue) -> Result<PaymentRequest, JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn show(this: &PaymentRequest) -> Result<Promise, JsValue>;

    /// What `PaymentRequest.show()` resolves to.
    #[derive(Debug)]
    pub type PaymentResponse;

    #[wasm_bindgen(method, getter)]
    pub fn details(this: &PaymentResponse) -> JsValue;

    #[wasm_bindgen(method, catch)]
    pub fn complete(this: &PaymentResponse, result: &str) -> Result<Promise, JsValue>;

    /// The global object: the window in a page, `self` in a worker (so no web-sys
    /// `Window`, whose `instanceof` check and features cost bytes).
    #[derive(Debug, Clone)]
    pub type Global;

    /// `localStorage`: throws where storage is denied, `undefined` in a worker.
    #[wasm_bindgen(method, getter, catch, js_name = localStorage)]
    pub fn local_storage(this: &Global) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch, js_name = addEventListener)]
    pub fn add_event_listener(
        this: &Global,
        kind: &str,
        listener: &js_sys::Function,
    ) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch, js_name = removeEventListener)]
    pub fn remove_event_listener(
        this: &Global,
        kind: &str,
        listener: &js_sys::Function,
    ) -> Result<(), JsValue>;

    /// A `Storage` (`localStorage`).
    #[derive(Debug)]
    pub type Storage;

    #[wasm_bindgen(method, catch, js_name = getItem)]
    pub fn get_item(this: &Storage, key: &str) -> Result<Option<String>, JsValue>;

    #[wasm_bindgen(method, catch, js_name = setItem)]
    pub fn set_item(this: &Storage, key: &str, value: &str) -> Result<(), JsValue>;

    /// The global `fetch` (window or worker), looked up at each call.
    #[wasm_bindgen(catch, js_name = fetch)]
    pub fn fetch(url: &str, init: &JsValue) -> Result<Promise, JsValue>;

    /// What `fetch` resolves to.
    #[derive(Debug)]
    pub type Response;

    #[wasm_bindgen(method, getter)]
    pub fn status(this: &Response) -> u16;

    #[wasm_bindgen(method, getter, js_name = statusText)]
    pub fn status_text(this: &Response) -> String;

    #[wasm_bindgen(method, catch)]
    pub fn text(this: &Response) -> Result<Promise, JsValue>;

    /// `Intl.NumberFormat`, bound by hand so `format` can take the decimal *string*
    /// (exact in current engines, no float round trip).
    #[derive(Debug)]
    #[wasm_bindgen(js_namespace = Intl)]
    pub type NumberFormat;

    #[wasm_bindgen(constructor, catch, js_namespace = Intl)]
    pub fn new(locales: &JsValue, options: &Object) -> Result<NumberFormat, JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn format(this: &NumberFormat, value: &str) -> Result<String, JsValue>;

    #[wasm_bindgen(method, js_name = resolvedOptions)]
    pub fn resolved_options(this: &NumberFormat) -> Object;
}

/// The global object (window in a page, `self` in a worker).
pub fn global() -> Global {
    js_sys::global().unchecked_into()
}

/// Whether `globalThis[name]` is defined (a throwing getter counts as absent).
pub fn has_global(name: &str) -> bool {
    !get(&global(), name).is_undefined()
}

/// Reads a property, `undefined` when it is missing or a getter throws.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Sets a property on a plain object created here (cannot fail for those).
pub fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}

/// Calls `globalThis.getDigitalGoodsService(provider)`; `None` when the function is absent.
pub fn get_digital_goods_service(provider: &str) -> Option<Result<Promise, JsValue>> {
    let function = get(&global(), "getDigitalGoodsService");
    let function = function.dyn_ref::<js_sys::Function>()?;
    Some(
        function
            .call1(&global(), &JsValue::from_str(provider))
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

/// A promise that resolves after `ms` milliseconds (`setTimeout`).
pub async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        let set_timeout = get(&global(), "setTimeout");
        if let Some(set_timeout) = set_timeout.dyn_ref::<js_sys::Function>() {
            let _ = set_timeout.call2(&global(), &resolve, &JsValue::from(ms));
        } else {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = resolve(Ok(promise)).await;
}
