// Play sandbox for the browser (served by the emulator at /emulator/v1/sandbox.js).
//
// Loaded as a classic <script>, it makes any browser look like a PWA inside a Trusted Web
// Activity with Play Billing, backed by the emulator's device endpoints:
//   - window.getDigitalGoodsService("https://play.google.com/billing") resolves to a
//     Digital Goods service (getDetails, listPurchases, listPurchaseHistory, consume);
//   - new PaymentRequest([{supportedMethods: "https://play.google.com/billing", data: {sku}}])
//     .show() opens a small payment sheet (Approve, Decline, Pending, Cancel) and resolves to
//     a PaymentResponse-like object with details.purchaseToken and details.token, as a TWA does.
// Other payment methods and providers go to the browser's own implementations.
//
// Settings, read at call time from window.__playSandbox (set them before or after loading):
//   autoRespond: null | "approve" | "decline" | "pending" | "cancel"  (skip the sheet)
//   accountId:   the Play account signed in on this "device" (default: the emulator's device
//                account); purchases, lists and consumption belong to one Play account
//   emulatorUrl: the emulator's origin (default: the origin this script was loaded from)
//
// Errors are what Chromium and the TWA give: DOMExceptions with the same names and messages.
// This file is development tooling: the production library never loads or contains it.
(function () {
  "use strict";

  var PLAY = "https://play.google.com/billing";
  // The TWA reports every failed or canceled payment with this one rejection.
  var CANCELED = "Payment app returned RESULT_CANCELED code";
  var INSTRUMENTS = ["approve", "decline", "pending", "cancel"];
  // Replacement modes: the new key's values, and the deprecated prorationMode names.
  var MODES = ["chargeProratedPrice", "chargeFullPrice", "withoutProration", "withTimeProration",
    "deferred", "unknownReplacementMode"];
  var LEGACY_MODES = {
    immediateAndChargeProratedPrice: "chargeProratedPrice",
    immediateAndChargeFullPrice: "chargeFullPrice",
    immediateWithoutProration: "withoutProration",
    immediateWithTimeProration: "withTimeProration",
    deferred: "deferred",
    unknownSubscriptionUpgradeDowngradePolicy: "unknownReplacementMode",
  };

  var script = document.currentScript;
  var settings = window.__playSandbox || {};
  window.__playSandbox = settings;
  if (settings.installed) return; // loaded twice: keep the first installation
  if (!("autoRespond" in settings)) settings.autoRespond = null;
  if (!("accountId" in settings)) settings.accountId = null;
  if (!settings.emulatorUrl) {
    settings.emulatorUrl = script && script.src ? new URL(script.src).origin : location.origin;
  }
  settings.installed = true;

  function config() {
    return window.__playSandbox || settings;
  }

  function fail(name, message) {
    return new DOMException(message, name);
  }

  // Calls a device endpoint. Error bodies {"error":{"name","domMessage"?,"message"}} become
  // the DOMException the browser would throw (domMessage is the TWA's or Chromium's text; an
  // explanation for people may be in message); an unreachable emulator looks like an
  // unreachable Play app.
  async function device(method, path, body) {
    var init = { method: method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var response;
    try {
      response = await fetch(config().emulatorUrl + "/emulator/v1/device/" + path, init);
    } catch (e) {
      throw fail("OperationError", "clientAppUnavailable");
    }
    if (response.status === 204) return undefined;
    var payload = await response.json().catch(function () { return null; });
    if (response.ok) return payload;
    var error = (payload && payload.error) || {};
    var message = error.domMessage || error.message || "error";
    if (error.name === "TypeError") throw new TypeError(message);
    throw fail(error.name || "OperationError", message);
  }

  // The Play account the device is signed in to: the emulator's device account unless
  // automation names another one (purchases, lists and consumption are per Play account).
  function account() {
    var id = config().accountId;
    return id == null || id === "" ? null : String(id);
  }

  function withAccount(path) {
    return account() ? path + (path.indexOf("?") < 0 ? "?" : "&") + "accountId=" + encodeURIComponent(account()) : path;
  }

  function requireNonEmpty(value, what) {
    if (typeof value !== "string" || value === "") {
      throw new TypeError("Failed to execute '" + what + "': the argument must not be empty.");
    }
  }

  // --- Digital Goods API ---------------------------------------------------------------

  var service = {
    getDetails: async function (itemIds) {
      var ids = Array.from(itemIds || []);
      if (ids.length === 0) {
        throw new TypeError("Failed to execute 'getDetails' on 'DigitalGoodsService': item IDs must not be empty.");
      }
      ids.forEach(function (id) { requireNonEmpty(id, "getDetails"); });
      return device("GET", "items?ids=" + ids.map(encodeURIComponent).join(","));
    },
    listPurchases: function () {
      return device("GET", withAccount("purchases"));
    },
    listPurchaseHistory: function () {
      return device("GET", withAccount("history"));
    },
    consume: async function (purchaseToken) {
      requireNonEmpty(purchaseToken, "consume");
      var body = { purchaseToken: purchaseToken };
      if (account()) body.accountId = account();
      await device("POST", "consume", body);
    },
  };

  var nativeGetService = window.getDigitalGoodsService;
  window.getDigitalGoodsService = function getDigitalGoodsService(serviceProvider) {
    if (arguments.length === 0 || serviceProvider === "") {
      return Promise.reject(new TypeError("Failed to execute 'getDigitalGoodsService': Empty payment method"));
    }
    if (String(serviceProvider) === PLAY) return Promise.resolve(service);
    if (nativeGetService) return nativeGetService.call(window, serviceProvider);
    return Promise.reject(fail("OperationError", "unsupported payment method"));
  };

  // --- Payment Request -----------------------------------------------------------------

  // The replacement mode the TWA would apply: replacementMode first, then the deprecated
  // prorationMode; unknown strings are ignored, as the TWA does.
  function replacementMode(data) {
    if (MODES.indexOf(data.replacementMode) >= 0) return data.replacementMode;
    return LEGACY_MODES[data.prorationMode] || null;
  }

  var NativePaymentRequest = window.PaymentRequest;

  function SandboxPaymentRequest(methodData, details, options) {
    if (!(this instanceof SandboxPaymentRequest)) {
      throw new TypeError("Failed to construct 'PaymentRequest': Please use the 'new' operator.");
    }
    var methods = Array.from(methodData || []);
    if (methods.length === 0) {
      throw new TypeError("Failed to construct 'PaymentRequest': At least one payment method is required");
    }
    var play = methods.find(function (m) { return m && m.supportedMethods === PLAY; });
    if (!play) {
      if (NativePaymentRequest) return new NativePaymentRequest(methodData, details, options);
      throw new RangeError("Failed to construct 'PaymentRequest': no payment method is supported");
    }
    this.id = (details && details.id) || (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()));
    this._data = play.data || {};
    this._state = "created";
    this._sheet = null;
  }

  SandboxPaymentRequest.prototype.canMakePayment = function () {
    return Promise.resolve(true);
  };
  SandboxPaymentRequest.prototype.hasEnrolledInstrument = SandboxPaymentRequest.prototype.canMakePayment;

  SandboxPaymentRequest.prototype.abort = function () {
    if (this._state !== "interactive") return Promise.reject(fail("InvalidStateError", "No show() or retry() in progress, so nothing to abort"));
    if (this._sheet) this._sheet.close("abort");
    return Promise.resolve();
  };

  SandboxPaymentRequest.prototype.show = async function () {
    if (this._state !== "created") throw fail("InvalidStateError", "Already called show() once");
    this._state = "interactive";
    try {
      return await this._pay();
    } finally {
      this._state = "closed";
      this._sheet = null;
    }
  };

  SandboxPaymentRequest.prototype._pay = async function () {
    var data = this._data;
    var mode = replacementMode(data);
    // The TWA fails these before Play's UI shows: no sku, the mode Play disabled, or a mode
    // without the current subscription's purchase token (Play would never show its UI).
    if (typeof data.sku !== "string" || data.sku === "" || mode === "withoutProration" ||
        (mode && !data.purchaseToken)) {
      throw fail("AbortError", CANCELED);
    }
    var instrument = config().autoRespond;
    if (instrument != null && INSTRUMENTS.indexOf(instrument) < 0) {
      throw new TypeError("__playSandbox.autoRespond must be null or one of " + INSTRUMENTS.join(", "));
    }
    if (instrument == null) {
      var items = await service.getDetails([data.sku]);
      var item = items && items[0];
      if (item) {
        this._sheet = openSheet(item, data, mode);
        instrument = await this._sheet.result;
        if (instrument === "abort") throw fail("AbortError", "The website has requested abort");
      } else {
        instrument = "approve"; // an item Play does not sell: Play fails before any UI
      }
    }
    var body = { sku: data.sku, instrument: instrument };
    if (data.oldSku) body.oldSku = data.oldSku;
    if (data.purchaseToken) body.purchaseToken = data.purchaseToken;
    if (mode) body.replacementMode = mode;
    if (account()) body.accountId = account();
    var purchase = await device("POST", "purchases", body);
    return paymentResponse(this.id, purchase.purchaseToken);
  };

  function paymentResponse(requestId, token) {
    var completed = false;
    return {
      requestId: requestId,
      methodName: PLAY,
      details: { purchaseToken: token, token: token },
      payerName: null,
      payerEmail: null,
      payerPhone: null,
      shippingAddress: null,
      shippingOption: null,
      complete: function (result) {
        if (result !== undefined && ["success", "fail", "unknown"].indexOf(result) < 0) {
          return Promise.reject(new TypeError("The provided value '" + result + "' is not a valid enum value of type PaymentComplete."));
        }
        if (completed) return Promise.reject(fail("InvalidStateError", "Already called complete() once"));
        completed = true;
        return Promise.resolve();
      },
      retry: function () {
        return Promise.reject(fail("NotSupportedError", "retry() is not supported by this payment app"));
      },
      toJSON: function () {
        return { requestId: requestId, methodName: PLAY, details: { purchaseToken: token, token: token } };
      },
    };
  }

  window.PaymentRequest = SandboxPaymentRequest;

  // --- The payment sheet -----------------------------------------------------------------

  var SHEET_CSS =
    ":host{all:initial}" +
    "dialog{box-sizing:border-box;width:min(92vw,380px);border:0;border-radius:16px 16px 12px 12px;" +
    "padding:20px;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#202124;" +
    "box-shadow:0 12px 40px rgba(0,0,0,.3)}" +
    "dialog::backdrop{background:rgba(32,33,36,.55)}" +
    // A bottom sheet on phones, as Play's own purchase sheet.
    "@media (max-width:600px){dialog{width:100vw;max-width:100vw;margin:auto 0 0;" +
    "border-radius:16px 16px 0 0;padding-bottom:max(20px,env(safe-area-inset-bottom))}}" +
    ".brand{display:flex;justify-content:space-between;font-size:13px;color:#5f6368;margin:0 0 14px}" +
    ".badge{background:#fef7e0;color:#b06000;border-radius:10px;padding:1px 8px;font-weight:600}" +
    "h2{font-size:18px;margin:0 0 4px}" +
    ".desc{color:#5f6368;margin:0 0 12px}" +
    ".price{font-size:22px;font-weight:600;margin:0 0 4px}" +
    ".note{color:#188038;font-size:13px;margin:0 0 12px}" +
    ".account{color:#5f6368;font-size:13px;border-top:1px solid #e8eaed;padding-top:10px;margin:12px 0}" +
    ".buttons{display:grid;grid-template-columns:1fr 1fr;gap:8px}" +
    "button{font:inherit;font-weight:600;border-radius:20px;padding:10px 12px;cursor:pointer;" +
    "border:1px solid #dadce0;background:#fff;color:#1a73e8}" +
    "button.approve{background:#01875f;border-color:#01875f;color:#fff}" +
    "button:focus-visible{outline:3px solid #8ab4f8;outline-offset:2px}" +
    ".hint{font-size:12px;color:#5f6368;margin:10px 0 0}";

  function formatPrice(price) {
    try {
      return new Intl.NumberFormat(navigator.language, { style: "currency", currency: price.currency })
        .format(price.value);
    } catch (e) {
      return price.value + " " + price.currency;
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // Shows a modal sheet for one item; `result` resolves to the chosen instrument, or "cancel"
  // when the sheet is dismissed with Escape, or "abort" after PaymentRequest.abort().
  function openSheet(item, data, mode) {
    var host = document.createElement("play-sandbox-sheet");
    var root = host.attachShadow({ mode: "open" });
    var style = document.createElement("style");
    style.textContent = SHEET_CSS;
    var dialog = element("dialog");
    dialog.setAttribute("aria-labelledby", "title");
    var brand = element("p", "brand");
    brand.append(element("span", null, "Google Play"), element("span", "badge", "Sandbox"));
    var title = element("h2", null, item.title);
    title.id = "title";
    dialog.append(brand, title);
    if (item.description) dialog.append(element("p", "desc", item.description));
    var period = { P1W: " / week", P1M: " / month", P3M: " / 3 months", P6M: " / 6 months", P1Y: " / year" };
    dialog.append(element("p", "price", formatPrice(item.price) + (period[item.subscriptionPeriod] || "")));
    if (item.freeTrialPeriod) dialog.append(element("p", "note", "Free trial: " + item.freeTrialPeriod));
    if (item.introductoryPrice) {
      dialog.append(element("p", "note", "Introductory price: " + formatPrice(item.introductoryPrice)));
    }
    if (data.oldSku) {
      dialog.append(element("p", "note", "Replaces " + data.oldSku + (mode ? " (" + mode + ")" : "")));
    }
    dialog.append(element("p", "account", "Test account" + (account() ? ": " + account() : "") +
      ". No money is charged."));
    var buttons = element("div", "buttons");
    var resolve;
    var result = new Promise(function (r) { resolve = r; });
    INSTRUMENTS.forEach(function (instrument) {
      var label = instrument.charAt(0).toUpperCase() + instrument.slice(1);
      var button = element("button", instrument, label);
      button.type = "button";
      button.addEventListener("click", function () { close(instrument); });
      buttons.append(button);
    });
    dialog.append(buttons, element("p", "hint",
      "Approve: test card, always approves. Decline: always declines. Pending: slow card, " +
      "completes later. Cancel: close the sheet."));
    // Escape closes a modal dialog: that is the user canceling.
    dialog.addEventListener("cancel", function (event) {
      event.preventDefault();
      close("cancel");
    });
    root.append(style, dialog);
    document.body.append(host);
    dialog.showModal();

    function close(outcome) {
      if (!host.isConnected) return;
      dialog.close();
      host.remove();
      resolve(outcome);
    }
    return { result: result, close: close };
  }
})();
