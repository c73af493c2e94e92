// The emulator's sandbox.js alone, in Debian's Chromium, against the `play-emulator` binary:
// the Digital Goods service and the Play PaymentRequest it installs behave as a TWA's do.
// The page is a blank page served by the emulator itself (sandbox.js and the device
// endpoints come from its origin), so nothing but the emulator is involved.
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { PLAY, launchBrowser, screenshot, startEmulator } from "./support.mjs";

let browser;
let emulator;
let page;

before(async () => {
  [browser, emulator] = await Promise.all([launchBrowser(), startEmulator()]);
});
after(async () => {
  await browser?.close();
  await emulator?.stop();
});
beforeEach(async () => {
  await fetch(`${emulator.url}/emulator/v1/reset`, { method: "POST" });
  await page?.context().close();
  const context = await browser.newContext({ viewport: { width: 412, height: 760 } });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  // A page on the emulator's origin that loads sandbox.js as a demo would.
  await page.route(`${emulator.url}/test-page`, (route) => route.fulfill({
    contentType: "text/html",
    body: "<!doctype html><title>sandbox</title><h1>sandbox.js</h1>",
  }));
  await page.goto(`${emulator.url}/test-page`);
  await page.addScriptTag({ url: `${emulator.url}/emulator/v1/sandbox.js` });
});

/** Runs `fn(PLAY)` in the page; a rejection comes back as {error: {name, message}}. */
function inPage(fn, arg) {
  return page.evaluate(async ([source, play, value]) => {
    try {
      // eslint-disable-next-line no-new-func
      return { value: await new Function("PLAY", "arg", `return (${source})(PLAY, arg)`)(play, value) };
    } catch (error) {
      return { error: { name: error.name, message: error.message, isDOMException: error instanceof DOMException } };
    }
  }, [fn.toString(), PLAY, arg]);
}

/** Buys `data.sku` with the automation switch set to `instrument`. */
function pay(instrument, data) {
  return inPage(async (play, { instrument, data }) => {
    window.__playSandbox.autoRespond = instrument;
    const response = await new PaymentRequest([{ supportedMethods: play, data }]).show();
    const completed = response.complete("success");
    const isPromise = completed instanceof Promise;
    await completed;
    return { methodName: response.methodName, details: response.details, isPromise };
  }, { instrument, data });
}

const CANCELED = { name: "AbortError", message: "Payment app returned RESULT_CANCELED code", isDOMException: true };

test("getDigitalGoodsService resolves for Play only, like Chromium", async () => {
  const play = await inPage(async (p) => typeof (await window.getDigitalGoodsService(p)).getDetails);
  assert.deepEqual(play, { value: "function" });
  const other = await inPage(() => window.getDigitalGoodsService("https://example.com/pay"));
  assert.deepEqual(other.error, { name: "OperationError", message: "unsupported payment method", isDOMException: true });
  const empty = await inPage(() => window.getDigitalGoodsService(""));
  assert.equal(empty.error.name, "TypeError");
});

test("getDetails returns the catalog's items and refuses an empty list", async () => {
  const result = await inPage(async (p) => {
    const service = await window.getDigitalGoodsService(p);
    return service.getDetails(["sub_yearly", "coins_100", "no_such_item", "sub_monthly"]);
  });
  const byId = Object.fromEntries(result.value.map((item) => [item.itemId, item]));
  assert.deepEqual(Object.keys(byId).sort(), ["coins_100", "sub_monthly", "sub_yearly"], "unknown ids are left out");
  assert.equal(byId.coins_100.type, "product");
  assert.match(byId.coins_100.price.value, /^\d+(\.\d+)?$/, "the price is a decimal string");
  assert.equal(byId.sub_monthly.type, "subscription");
  assert.ok(byId.sub_monthly.subscriptionPeriod && byId.sub_monthly.freeTrialPeriod);
  assert.ok(byId.sub_yearly.introductoryPrice?.currency);
  const empty = await inPage(async (p) => (await window.getDigitalGoodsService(p)).getDetails([]));
  assert.equal(empty.error.name, "TypeError");
});

test("Approve: the response carries purchaseToken and token, complete() returns a promise", async () => {
  const result = await pay("approve", { sku: "premium_unlock" });
  assert.equal(result.value.methodName, PLAY);
  assert.ok(result.value.details.purchaseToken, "a purchase token");
  assert.equal(result.value.details.token, result.value.details.purchaseToken, "the legacy token field too");
  assert.equal(result.value.isPromise, true);
  const listed = await inPage(async (p) => (await window.getDigitalGoodsService(p)).listPurchases());
  assert.deepEqual(listed.value, [{ itemId: "premium_unlock", purchaseToken: result.value.details.purchaseToken }]);
  // Play refuses to sell it twice; the TWA reports that failure, like every other, as
  // RESULT_CANCELED (apps check listPurchases() before they offer to buy).
  const again = await pay("approve", { sku: "premium_unlock" });
  assert.deepEqual(again.error, CANCELED);
});

test("Decline and Cancel reject with the TWA's RESULT_CANCELED AbortError", async () => {
  assert.deepEqual((await pay("decline", { sku: "premium_unlock" })).error, CANCELED);
  assert.deepEqual((await pay("cancel", { sku: "premium_unlock" })).error, CANCELED);
  const listed = await inPage(async (p) => (await window.getDigitalGoodsService(p)).listPurchases());
  assert.deepEqual(listed.value, [], "nothing was bought");
});

test("Pending resolves with a token that the device lists as owned", async () => {
  const result = await pay("pending", { sku: "premium_unlock" });
  const token = result.value.details.purchaseToken;
  assert.ok(token);
  const listed = await inPage(async (p) => (await window.getDigitalGoodsService(p)).listPurchases());
  assert.deepEqual(listed.value, [{ itemId: "premium_unlock", purchaseToken: token }]);
});

test("an unknown sku fails the payment as the TWA does (RESULT_CANCELED)", async () => {
  const result = await pay("approve", { sku: "no_such_item" });
  assert.deepEqual(result.error, CANCELED);
  const sheetless = await inPage(async (p) => {
    window.__playSandbox.autoRespond = null;
    return new PaymentRequest([{ supportedMethods: p, data: { sku: "no_such_item" } }]).show();
  });
  assert.deepEqual(sheetless.error, CANCELED, "no sheet opens for an item Play does not sell");
});

test("consume frees a consumable for another purchase; history keeps it", async () => {
  const first = await pay("approve", { sku: "coins_100" });
  const token = first.value.details.purchaseToken;
  const consumed = await inPage(async (p, t) => {
    const service = await window.getDigitalGoodsService(p);
    const value = await service.consume(t);
    return { value: value === undefined, owned: await service.listPurchases(), history: await service.listPurchaseHistory() };
  }, token);
  assert.equal(consumed.value.value, true, "consume resolves to undefined");
  assert.deepEqual(consumed.value.owned, []);
  assert.deepEqual(consumed.value.history, [{ itemId: "coins_100", purchaseToken: token }]);
  const again = await inPage(async (p, t) => (await window.getDigitalGoodsService(p)).consume(t), token);
  assert.deepEqual(again.error, { name: "OperationError", message: "itemNotOwned", isDOMException: true });
  const empty = await inPage(async (p) => (await window.getDigitalGoodsService(p)).consume(""));
  assert.equal(empty.error.name, "TypeError");
  const second = await pay("approve", { sku: "coins_100" });
  assert.notEqual(second.value.details.purchaseToken, token, "bought again with a new token");
});

test("subscription replacement: modes as the TWA reads them; withoutProration and a mode without a token refused", async () => {
  const monthly = (await pay("approve", { sku: "sub_monthly" })).value.details.purchaseToken;
  const refused = await pay("approve", {
    sku: "sub_yearly", oldSku: "sub_monthly", purchaseToken: monthly, replacementMode: "withoutProration",
  });
  assert.deepEqual(refused.error, CANCELED, "withoutProration fails the flow");
  const legacyRefused = await pay("approve", {
    sku: "sub_yearly", oldSku: "sub_monthly", purchaseToken: monthly, prorationMode: "immediateWithoutProration",
  });
  assert.deepEqual(legacyRefused.error, CANCELED, "its legacy name too");
  const noToken = await pay("approve", { sku: "sub_yearly", oldSku: "sub_monthly", replacementMode: "chargeProratedPrice" });
  assert.deepEqual(noToken.error, CANCELED, "a mode without the old token never shows Play's UI");

  const upgraded = await pay("approve", {
    sku: "sub_yearly", oldSku: "sub_monthly", purchaseToken: monthly,
    replacementMode: "chargeProratedPrice", prorationMode: "immediateAndChargeProratedPrice",
  });
  const yearly = upgraded.value.details.purchaseToken;
  assert.ok(yearly && yearly !== monthly, "a new token for the new plan");
  const owned = await inPage(async (p) => (await window.getDigitalGoodsService(p)).listPurchases());
  assert.deepEqual(owned.value, [{ itemId: "sub_yearly", purchaseToken: yearly }], "the old plan is no longer owned");
});

test("the payment sheet shows the item, its price and the four instruments", async () => {
  const shown = page.evaluate(async (play) => {
    try {
      const response = await new PaymentRequest([{ supportedMethods: play, data: { sku: "premium_unlock" } }]).show();
      return { token: response.details.purchaseToken };
    } catch (error) {
      return { error: error.name };
    }
  }, PLAY);
  const sheet = page.getByRole("dialog");
  await sheet.waitFor();
  const item = (await inPage(async (p) => (await window.getDigitalGoodsService(p)).getDetails(["premium_unlock"]))).value[0];
  const text = await sheet.textContent();
  assert.ok(text.includes(item.title), "the item's title");
  const price = await page.evaluate((p) => new Intl.NumberFormat(navigator.language, { style: "currency", currency: p.currency }).format(p.value), item.price);
  assert.ok(text.includes(price), `the price ${price}`);
  for (const name of ["Approve", "Decline", "Pending", "Cancel"]) {
    assert.equal(await sheet.getByRole("button", { name, exact: true }).count(), 1, name);
  }
  await screenshot(page, "sandbox-sheet", { fullPage: false });
  await page.keyboard.press("Escape");
  assert.deepEqual(await shown, { error: "AbortError" }, "Escape cancels");
  const second = page.evaluate(async (play) => {
    const response = await new PaymentRequest([{ supportedMethods: play, data: { sku: "premium_unlock" } }]).show();
    return response.details.purchaseToken;
  }, PLAY);
  await sheet.getByRole("button", { name: "Approve", exact: true }).click();
  assert.ok(await second, "Approve in the sheet buys");
});

test("other payment methods go to the browser's own PaymentRequest", async () => {
  const result = await inPage(() => {
    const request = new PaymentRequest([{ supportedMethods: "https://example.com/pay" }],
      { total: { label: "Total", amount: { currency: "USD", value: "1.00" } } });
    return request.constructor.name;
  });
  assert.equal(result.value, "PaymentRequest");
  const native = await inPage(() => new PaymentRequest([{ supportedMethods: "https://example.com/pay" }],
    { total: { label: "Total", amount: { currency: "USD", value: "1.00" } } }).canMakePayment());
  assert.equal(native.value, false, "the native implementation answers for other methods");
});
