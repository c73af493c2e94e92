// End-to-end tests of the demo store in Debian's Chromium, against `pwa-billing sandbox`
// (server + embedded Play emulator + the demo + the npm package). Each test starts its own
// sandbox, so the device's purchases and the server's database start empty.
import { after, afterEach, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { AxeBuilder } from "@axe-core/playwright";
import {
  buyWith, devicePurchase, emulator, entitlement, idle, launchBrowser, messageCode, newContext,
  openStore, poll, product, refreshUntil, screenshot, startSandbox,
} from "./support.mjs";

let browser;
let sandbox;
let context;

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});
beforeEach(async () => {
  sandbox = await startSandbox();
  context = await newContext(browser);
});
afterEach(async () => {
  await context?.close();
  await sandbox?.stop();
});

test("the catalog shows localized prices, a free trial and an introductory price", async () => {
  const page = await openStore(context, sandbox, "alice");
  for (const id of ["coins_100", "premium_unlock", "sub_monthly", "sub_yearly"]) {
    await product(page, id).getByRole("button", { name: "Buy", exact: true }).waitFor();
  }
  const price = await product(page, "premium_unlock").locator(".price").textContent();
  assert.match(price, /^\$\d+\.\d\d$/, "en-US formats dollars as $x.yy");
  assert.match(await product(page, "sub_monthly").locator(".offer").textContent(), /Free trial/);
  assert.match(await product(page, "sub_yearly").locator(".offer").textContent(), /Introductory price: \$\d/);
  assert.match(await product(page, "sub_monthly").locator(".price").textContent(), /\/ month$/);

  await page.getByLabel("Prices for").selectOption("de-DE");
  await poll(async () => /€|\$/.test(await product(page, "premium_unlock").locator(".price").textContent()) &&
    (await product(page, "premium_unlock").locator(".price").textContent()) !== price,
  { what: "prices formatted for de-DE" });
  assert.match(await product(page, "premium_unlock").locator(".price").textContent(), /\d,\d\d/);
  await screenshot(page, "catalog-de");
});

test("buys each kind of product: consumable, non-consumable, subscription", async () => {
  const page = await openStore(context, sandbox, "alice");
  await screenshot(page, "store-signed-in");
  for (const id of ["coins_100", "premium_unlock", "sub_monthly"]) {
    await buyWith(page, id, "Approve");
    assert.equal(await messageCode(page, "purchased"), "purchased");
  }
  await entitlement(page, "premium_unlock", "active").waitFor();
  await entitlement(page, "sub_monthly", "active").waitFor();
  await poll(async () => (await product(page, "coins_100").locator(".balance").getAttribute("data-balance")) === "100",
    { what: "a balance of 100 coins" });
  assert.equal(await product(page, "premium_unlock").locator(".badge").textContent(), "Owned");
  const manage = product(page, "sub_monthly").getByRole("link", { name: "Manage subscription" });
  assert.equal(await manage.getAttribute("href"),
    `https://play.google.com/store/account/subscriptions?sku=sub_monthly&package=${sandbox.packageName}`);
  await screenshot(page, "bought-each-kind");
});

test("the payment sheet shows the item and the price; Cancel is reported as canceled", async () => {
  const page = await openStore(context, sandbox, "alice");
  await product(page, "premium_unlock").getByRole("button", { name: "Buy", exact: true }).click();
  const sheet = page.getByRole("dialog");
  await sheet.waitFor();
  const title = await product(page, "premium_unlock").locator(".title").textContent();
  const price = await product(page, "premium_unlock").locator(".price").textContent();
  assert.ok((await sheet.textContent()).includes(title), "the sheet names the item");
  assert.ok((await sheet.textContent()).includes(price), "the sheet shows the price");
  await screenshot(page, "payment-sheet", { fullPage: false });
  await sheet.getByRole("button", { name: "Cancel", exact: true }).click();
  await idle(page);
  assert.equal(await messageCode(page, "PurchaseCanceledError"), "PurchaseCanceledError");
  assert.equal(await page.locator("[data-entitlement]").count(), 0);
  await screenshot(page, "canceled");
});

test("a declined payment grants nothing and says so", async () => {
  const page = await openStore(context, sandbox, "alice");
  await buyWith(page, "premium_unlock", "Decline");
  assert.equal(await messageCode(page, "PurchaseCanceledError"), "PurchaseCanceledError");
  assert.match(await page.locator("#message").textContent(), /canceled or declined/);
  assert.equal(await page.locator("[data-entitlement]").count(), 0);
  await screenshot(page, "declined");
});

test("a pending payment completed through the emulator becomes an entitlement", async () => {
  const page = await openStore(context, sandbox, "alice");
  await buyWith(page, "premium_unlock", "Pending");
  assert.equal(await messageCode(page, "PurchasePendingError"), "PurchasePendingError");
  assert.equal(await entitlement(page, "premium_unlock", "active").count(), 0, "nothing granted while pending");
  await screenshot(page, "pending");

  const { purchaseToken } = await devicePurchase(sandbox, "premium_unlock");
  await emulator(sandbox, "POST", `/emulator/v1/purchases/${purchaseToken}:complete`);
  // The page polls restore() while a payment is pending; Refresh does the same at once.
  await refreshUntil(page, entitlement(page, "premium_unlock", "active"), "the completed purchase's entitlement");
  await screenshot(page, "pending-completed");
});

test("a consumable is consumed on Google Play, used, and bought again", async () => {
  const page = await openStore(context, sandbox, "alice");
  const coins = product(page, "coins_100");
  const balance = () => coins.locator(".balance").getAttribute("data-balance");
  await buyWith(page, "coins_100", "Approve");
  await poll(async () => (await balance()) === "100", { what: "100 coins" });
  // The server consumes the purchase on Play (its outbox), so the pack can be bought again.
  await refreshUntil(page, entitlement(page, "coins_100", "consumed"), "the pack consumed on Google Play");
  await coins.getByRole("button", { name: "Use", exact: true }).click();
  await idle(page);
  assert.equal(await messageCode(page, "used"), "used");
  assert.equal(await balance(), "0");
  assert.ok(await coins.getByRole("button", { name: "Use", exact: true }).isDisabled(), "nothing left to use");
  await buyWith(page, "coins_100", "Approve");
  assert.equal(await messageCode(page, "purchased"), "purchased");
  await poll(async () => (await balance()) === "100", { what: "100 coins again" });
  assert.equal(await page.locator('[data-entitlement="coins_100"]').count(), 2, "one entitlement per token");
  await screenshot(page, "consumed-used-bought-again");
});

/** The event of `type` about `itemId` in the "Your backend received" panel. */
function backendEvent(page, type, itemId) {
  return page.locator(`#backend-events [data-event-type="${type}"][data-event-item="${itemId}"]`);
}

test("the example backend receives each change by webhook; the panel lists the account's", async () => {
  const page = await openStore(context, sandbox, "alice");
  const panel = page.getByRole("region", { name: "Your backend received" });
  await panel.waitFor();
  await poll(async () => /Nothing received yet for alice/.test(await panel.getByRole("status").textContent()),
    { what: "an empty panel" });

  await buyWith(page, "coins_100", "Approve");
  // The panel follows the deliveries by itself after the purchase: no Refresh.
  const granted = backendEvent(page, "entitlement.granted", "coins_100");
  await granted.waitFor();
  assert.match(await granted.textContent(), /entitlement\.granted/);
  assert.match(await granted.textContent(), /sequence 1/);
  assert.equal(await granted.locator("time").count(), 1, "when the change happened");
  // The server consumes the pack on Google Play: that change reaches the backend too.
  const consumed = backendEvent(page, "entitlement.consumed", "coins_100");
  await refreshUntil(page, consumed, "entitlement.consumed in the panel");
  assert.match(await consumed.textContent(), /consumed/);
  assert.match(await consumed.textContent(), /sequence 2/);
  assert.equal(await page.locator("#backend-events li").first().getAttribute("data-event-type"),
    "entitlement.consumed", "newest first");

  await buyWith(page, "premium_unlock", "Approve");
  await backendEvent(page, "entitlement.granted", "premium_unlock").waitFor();
  // Each event once (the receiver de-duplicates by webhook-id), even after refreshes.
  await page.getByRole("button", { name: "Refresh" }).click();
  await idle(page);
  await poll(async () => /3 events received for alice/.test(await panel.getByRole("status").textContent()),
    { what: "3 events for alice" });
  assert.equal(await page.locator("#backend-events li").count(), 3);
  const { violations } = await new AxeBuilder({ page }).include("#backend-section").analyze();
  assert.deepEqual(violations.map((v) => v.id), [], "axe finds nothing in the panel");
  await screenshot(page, "backend-received");

  // Another account's window lists only its own events.
  const bob = await openStore(context, sandbox, "bob");
  await poll(async () => /Nothing received yet for bob/.test(await bob.locator("#backend-status").textContent()),
    { what: "bob's empty panel" });
  assert.equal(await bob.locator("#backend-events li").count(), 0);

  // The backend refuses a delivery that is not signed with its secret.
  const forged = await fetch(`${sandbox.url}/sandbox/backend/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": "evt_forged",
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
      "webhook-signature": "v1,Zm9yZ2VkIHNpZ25hdHVyZQ==",
    },
    body: JSON.stringify({ id: "evt_forged", type: "entitlement.granted", timestamp: new Date().toISOString(),
      data: { accountId: "bob", sequence: 1, purchase: { itemId: "premium_unlock", state: "active" } } }),
  });
  assert.equal(forged.status, 400);
  const stored = await (await fetch(`${sandbox.url}/sandbox/backend/events?accountId=bob`)).json();
  assert.deepEqual(stored.events, [], "nothing stored from a forgery");
  assert.deepEqual(page.consoleErrors, []);
});

test("upgrade then downgrade a subscription; the old entitlement is retired each time", async () => {
  const page = await openStore(context, sandbox, "alice");
  await buyWith(page, "sub_monthly", "Approve");
  await entitlement(page, "sub_monthly", "active").waitFor();

  const yearly = product(page, "sub_yearly");
  assert.equal(await yearly.getByLabel("Upgrade replacement mode").inputValue(), "chargeProratedPrice");
  await screenshot(page, "upgrade-offered");
  await buyWith(page, "sub_yearly", "Approve", "Upgrade");
  assert.equal(await messageCode(page, "changed"), "changed");
  await entitlement(page, "sub_yearly", "active").waitFor();
  await refreshUntil(page, entitlement(page, "sub_monthly", "replaced"), "the monthly plan replaced");

  const monthly = product(page, "sub_monthly");
  assert.equal(await monthly.getByLabel("Downgrade replacement mode").inputValue(), "deferred");
  await buyWith(page, "sub_monthly", "Approve", "Downgrade");
  assert.equal(await messageCode(page, "changed"), "changed");
  await refreshUntil(page, entitlement(page, "sub_yearly", "replaced"), "the yearly plan replaced");
  await screenshot(page, "upgraded-and-downgraded");
});

test("after a reload, restore() brings the entitlements back", async () => {
  const page = await openStore(context, sandbox, "alice");
  await buyWith(page, "premium_unlock", "Approve");
  await entitlement(page, "premium_unlock", "active").waitFor();
  await page.reload();
  await product(page, "premium_unlock").waitFor();
  await idle(page);
  await entitlement(page, "premium_unlock", "active").waitFor();
  assert.equal(await page.locator("#account-name").textContent(), "alice", "the window keeps its account");
  await screenshot(page, "restored-after-reload");
});

test("two accounts, one token: the second account gets token_already_claimed", async () => {
  const alice = await openStore(context, sandbox, "alice");
  await buyWith(alice, "premium_unlock", "Approve");
  await entitlement(alice, "premium_unlock", "active").waitFor();

  const bob = await openStore(context, sandbox, "bob");
  assert.equal(await bob.locator("#account-name").textContent(), "bob");
  assert.equal(await alice.locator("#account-name").textContent(), "alice", "each window keeps its account");
  assert.equal(await entitlement(bob, "premium_unlock", "active").count(), 0, "restore() granted bob nothing");

  // Bob tries to buy it: the device's Play account already owns it, so no sheet opens.
  await product(bob, "premium_unlock").getByRole("button", { name: "Buy", exact: true }).click();
  await idle(bob);
  assert.equal(await messageCode(bob, "already_owned"), "already_owned");
  assert.match(await bob.locator("#message").textContent(), /belongs to another account/);
  assert.equal(await bob.getByRole("dialog").count(), 0);
  await screenshot(bob, "already-owned");

  // Bob presents alice's token: the server refuses it.
  await bob.locator('#device [data-purchase="premium_unlock"]').getByRole("button", { name: "Claim" }).click();
  await idle(bob);
  assert.equal(await messageCode(bob, "token_already_claimed"), "token_already_claimed");
  assert.equal(await entitlement(bob, "premium_unlock", "active").count(), 0);
  await screenshot(bob, "token-already-claimed");
  await alice.reload();
  await entitlement(alice, "premium_unlock", "active").waitFor();
});

test("the backend down during a purchase: the outbox delivers the token later", async () => {
  const page = await openStore(context, sandbox, "alice");
  const backend = `${sandbox.url}/v1/**`;
  await page.route(backend, (route) => route.abort("connectionrefused"));
  await buyWith(page, "premium_unlock", "Approve");
  assert.equal(await messageCode(page, "NetworkError"), "NetworkError");
  const waiting = await page.evaluate(() => document.querySelector("#outbox").textContent);
  assert.match(waiting, /1 purchase\(s\) waiting/);
  await screenshot(page, "backend-down");

  await page.unroute(backend);
  await refreshUntil(page, entitlement(page, "premium_unlock", "active"), "the outbox's token granted");
  await poll(async () => page.locator("#outbox").isHidden(), { what: "an empty outbox" });
  await screenshot(page, "outbox-delivered");
});

test("a subscription revoked by Play (RTDN) shows as revoked after a refresh", async () => {
  const page = await openStore(context, sandbox, "alice");
  await buyWith(page, "sub_monthly", "Approve");
  await entitlement(page, "sub_monthly", "active").waitFor();
  const { purchaseToken } = await devicePurchase(sandbox, "sub_monthly");
  await emulator(sandbox, "POST", `/emulator/v1/purchases/${purchaseToken}:revoke`, {});
  await refreshUntil(page, entitlement(page, "sub_monthly", "revoked"), "the revoked entitlement");
  assert.match(await entitlement(page, "sub_monthly", "revoked").textContent(), /no access/);
  await screenshot(page, "revoked-by-rtdn");
});

test("without the sandbox, a browser with no Play Billing sees why (diagnose)", async () => {
  const page = await context.newPage();
  await page.route(`${sandbox.url}/v1/dev/sandbox`, (route) => route.fulfill({ status: 404, body: "" }));
  await page.goto(sandbox.url);
  await page.locator("#unsupported").waitFor();
  const report = JSON.parse(await page.locator("#diagnosis").textContent());
  assert.equal(report.supported, false);
  assert.ok(report.problems.length > 0, "diagnose() names the problem");
  assert.equal(await page.evaluate(() => Boolean(window.__playSandbox)), false, "production never loads sandbox.js");
  await page.locator("#unsupported details").evaluate((details) => { details.open = true; });
  await screenshot(page, "unsupported");
});

test("the installed app opens offline and says billing needs a connection", async () => {
  const page = await openStore(context, sandbox, "alice");
  await page.evaluate(() => navigator.serviceWorker.ready);
  // The first visit installs the worker; it controls the page from the next load on.
  await page.reload();
  await idle(page);
  assert.ok(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), "a service worker controls the page");
  await context.setOffline(true);
  await page.reload();
  assert.equal(await messageCode(page, "offline"), "offline");
  assert.match(await page.locator("#message").textContent(), /need a connection/);
  await screenshot(page, "offline");
  await context.setOffline(false);
});

test("a whole session logs no console errors", async () => {
  const page = await openStore(context, sandbox, "alice");
  await buyWith(page, "coins_100", "Approve");
  await buyWith(page, "sub_monthly", "Approve");
  await entitlement(page, "sub_monthly", "active").waitFor();
  await page.getByRole("button", { name: "Refresh" }).click();
  await idle(page);
  await page.reload();
  await entitlement(page, "sub_monthly", "active").waitFor();
  assert.deepEqual(page.consoleErrors, []);
});
