// End-to-end tests of the operator console (/console/) in Debian's Chromium, against one
// `pwa-billing sandbox` holding a month of purchases: one-time products, a subscription
// renewed twice, a partial refund, a voided purchase, a test purchase, an external
// transaction, the month's imported reports, and an account id and a product title made of
// markup. Each page must show the numbers its JSON endpoint gives, be usable by keyboard,
// fit a phone's width, and pass axe with no serious or critical violation.
// `CONSOLE_SCREENSHOTS_TO_DOCS=1` also saves each page's screenshot into docs/console/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AxeBuilder } from "@axe-core/playwright";
import { ROOT, emulator, launchBrowser, newContext, poll, screenshot, startSandbox } from "./support.mjs";

const SERVER_BIN = process.env.PWA_BILLING_BIN ?? join(ROOT, "target/debug/pwa-billing");
/** An account id made of markup: shown as text, never run. */
const HOSTILE_ACCOUNT = `<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">`;
/** A product title made of markup (Play's titles are at most 55 characters). */
const HOSTILE_TITLE = `"><img src=x onerror=__xss=3><script>__xss=4</script>`;
const PAGES = ["overview", "health", "lookup", "reconciliation", "catalog", "external-transactions"];

let browser;
let sandbox;
let key;
let catalogDir;
const seeded = {};

/** `pwa-billing --config <sandbox's file> <args…>` (reports import, reconcile). */
async function cli(configPath, ...args) {
  const { stdout } = await promisify(execFile)(SERVER_BIN, ["--config", configPath, ...args], { cwd: ROOT });
  return stdout;
}

/** A console endpoint's JSON, read with the server API key. */
async function api(path) {
  const response = await fetch(`${sandbox.url}/v1/admin/console/${path}`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
  return response.json();
}

async function json(method, path, { bearer, body } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const response = await fetch(`${sandbox.url}${path}`, { method, headers, body: JSON.stringify(body) });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(data)}`);
  return data;
}

/** Buys `productId` on the emulator (with `extra` fields) and verifies it for `account`. */
async function purchase(account, productId, extra = {}) {
  const { purchaseToken } = await emulator(sandbox, "POST", "/emulator/v1/purchases", { productId, ...extra });
  const { token } = await json("POST", "/v1/dev/session", { body: { accountId: account } });
  await json("POST", "/v1/purchases/verify", { bearer: token, body: { itemId: productId, purchaseToken } });
  return purchaseToken;
}

before(async () => {
  browser = await launchBrowser();
  // The demo catalog with a product title made of markup.
  catalogDir = await mkdtemp(join(tmpdir(), "pwa-billing-console-"));
  const catalogPath = join(catalogDir, "catalog.toml");
  const text = await readFile(join(ROOT, "catalog.toml"), "utf8");
  assert.ok(text.includes('title = "Premium upgrade"'));
  await writeFile(catalogPath, text.replace('title = "Premium upgrade"', `title = '${HOSTILE_TITLE}'`));
  process.env.PWA_BILLING_CATALOG = catalogPath;
  try {
    sandbox = await startSandbox();
  } finally {
    delete process.env.PWA_BILLING_CATALOG;
  }
  const log = sandbox.log();
  key = (await readFile(/server API key \(admin\.api_keys\) in (\S+)/.exec(log)[1], "utf8")).trim();
  const configPath = /pwa-billing --config (\S+) <command>/.exec(log)[1];
  assert.match(log, /operator console on http:\/\/127\.0\.0\.1:\d+\/console\//);

  // A month of purchases.
  const coins = await purchase("alice", "coins_100", { quantity: 3 });
  seeded.unlock = await purchase("bob", "premium_unlock");
  seeded.sub = await purchase("carol", "sub_monthly");
  for (let i = 0; i < 2; i++) await emulator(sandbox, "POST", `/emulator/v1/purchases/${seeded.sub}:renew`, {});
  const voided = await purchase("dave", "premium_unlock");
  await purchase("erin", "coins_100", { test: true });
  await purchase(HOSTILE_ACCOUNT, "premium_unlock");
  // Paid on Google Play, never verified here: "I paid and got nothing" for reconciliation.
  await emulator(sandbox, "POST", "/emulator/v1/purchases", { productId: "premium_unlock" });
  await emulator(sandbox, "POST", `/emulator/v1/purchases/${coins}:void`, { quantity: 1 });
  await emulator(sandbox, "POST", `/emulator/v1/purchases/${voided}:void`, { reason: 7 });
  // An external transaction, reported to Google by the worker.
  const { externalTransactionToken } = await emulator(sandbox, "POST", "/emulator/v1/external-transaction-tokens", { test: false });
  const { now } = await emulator(sandbox, "GET", "/emulator/v1/clock");
  await json("POST", "/v1/external-transactions", {
    bearer: key,
    body: {
      paymentId: "ch_console", accountId: "frank", productId: "premium_unlock", kind: "one_time",
      preTaxAmount: "9.99", taxAmount: "1.90", currency: "EUR", transactionTime: now, regionCode: "DE",
      externalTransactionToken,
    },
  });
  // Every acknowledgement, consumption and report done; the refunds seen; the month imported.
  await poll(async () => (await api("health")).checks.find((c) => c.id === "outbox").figures.pending === 0,
    { timeout: 30_000, what: "an empty outbox" });
  await cli(configPath, "reconcile");
  await cli(configPath, "reports", "import");
  const order = await poll(async () => (await api(`lookup?q=${seeded.sub}`)).purchases[0].orderId, { what: "the order id" });
  seeded.order = order;
});

after(async () => {
  await browser?.close();
  await sandbox?.stop();
  if (catalogDir) await rm(catalogDir, { recursive: true, force: true });
});

/** A signed-in console page at `width`; CSP reports and script errors are collected. */
async function signedIn(width = 1200) {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.setViewportSize({ width, height: 900 });
  page.problems = [];
  page.on("console", (m) => { if (m.type() === "error") page.problems.push(m.text()); });
  page.on("pageerror", (e) => page.problems.push(String(e)));
  page.on("dialog", (d) => { page.problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  await page.goto(`${sandbox.url}/console/`);
  await page.getByLabel("Server API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await loaded(page, "overview");
  // Before signing in, the console's question "am I signed in?" is answered 401 (logged
  // by the browser): only what comes after counts.
  page.problems.length = 0;
  return page;
}

async function loaded(page, name) {
  await page.waitForFunction((n) => document.getElementById("page").dataset.loaded === n &&
    !document.querySelector("[aria-busy]"), name);
}

async function visit(page, name, query = "") {
  await page.goto(`${sandbox.url}/console/#/${name}${query}`);
  await loaded(page, name);
}

const figure = (page, id) => page.locator(`[data-figure="${id}"] dd`).first().textContent();

async function noSeriousViolation(page, name) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), [], `${name}: axe`);
}

async function saveScreenshot(page, name) {
  await screenshot(page, `console-${name}`);
  if (process.env.CONSOLE_SCREENSHOTS_TO_DOCS === "1") {
    await mkdir(join(ROOT, "docs/console"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "docs/console", `${name}.png`), fullPage: true });
  }
}

test("the console's uPlot is the pinned npm package's file, byte for byte", async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
  const installed = JSON.parse(await readFile(join(ROOT, "node_modules/uplot/package.json"), "utf8"));
  assert.match(pkg.devDependencies.uplot, /^\d+\.\d+\.\d+$/, "pinned to one version");
  assert.equal(installed.version, pkg.devDependencies.uplot);
  for (const file of ["uPlot.iife.min.js", "uPlot.min.css"]) {
    const vendored = await readFile(join(ROOT, "server/console/vendor", file));
    const published = await readFile(join(ROOT, "node_modules/uplot/dist", file));
    assert.ok(vendored.equals(published), `server/console/vendor/${file} differs from uplot@${installed.version}`);
  }
});

test("signing in needs the server API key; a wrong one is refused and says so", async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${sandbox.url}/console/`);
  await page.getByLabel("Server API key").fill("not-the-key-not-the-key-not-the-key-000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await poll(async () => /unknown server API key/.test(await page.locator("#sign-in-error").textContent()), { what: "the refusal" });
  assert.equal(await page.locator("#nav").isHidden(), true);
  await noSeriousViolation(page, "sign-in");
  await saveScreenshot(page, "sign-in");
  await context.close();
});

test("each page shows the numbers its endpoint gives, passes axe, and is saved as a screenshot", async () => {
  const page = await signedIn();

  // Overview.
  const o = await api("overview");
  const count = (s) => o.entitlements.find((e) => e.state === s)?.count ?? 0;
  assert.equal(Number(await figure(page, "active")), count("active"));
  assert.equal(Number(await figure(page, "tests")), o.entitlements.reduce((s, e) => s + e.test, 0));
  assert.equal(Number(await figure(page, "grants30")), o.grantsPerDay.reduce((s, d) => s + d.grants, 0));
  const states = page.getByRole("table", { name: "Purchases by state" }).locator("tbody tr");
  assert.equal(await states.count(), o.entitlements.length);
  for (const e of o.entitlements) {
    const row = states.filter({ has: page.getByRole("rowheader", { name: e.state, exact: true }) });
    assert.deepEqual(await row.locator("td").allTextContents(), [String(e.count), String(e.test)], e.state);
  }
  assert.ok(o.revenue.length > 0, "the imported month's revenue");
  const revenue = page.getByRole("table", { name: "Revenue and refunds per month and currency" }).locator("tbody tr");
  assert.equal(await revenue.count(), o.revenue.length);
  for (const [i, r] of o.revenue.entries()) {
    assert.deepEqual(await revenue.nth(i).locator("th, td").allTextContents(),
      [r.month, r.source, r.currency, String(r.charges), r.charged, String(r.refunds), r.refunded]);
  }
  assert.ok(o.revenue.some((r) => r.refunds > 0), "the refunds are in the reports");
  assert.ok(await page.locator("figure.chart canvas").count() >= 2, "charts drawn");
  await noSeriousViolation(page, "overview");
  await saveScreenshot(page, "overview");

  // Health.
  await visit(page, "health");
  const h = await api("health");
  for (const c of h.checks) {
    const item = page.locator(`[data-check="${c.id}"]`);
    assert.equal((await item.locator(".badge").textContent()).toLowerCase(), c.level, c.id);
    assert.equal(await item.locator(".value").textContent(), c.value, c.id);
    assert.equal(await item.locator(".threshold").textContent(), `Threshold: ${c.threshold}`, c.id);
  }
  await noSeriousViolation(page, "health");
  await saveScreenshot(page, "health");

  // Reconciliation.
  await visit(page, "reconciliation");
  const r = await api("reconciliation");
  assert.equal(r.status === "not_imported", false, "a month is imported");
  assert.equal(Number(await figure(page, "discrepancies")), r.reconciliation.discrepancies);
  assert.equal(Number(await figure(page, "rows")), r.reconciliation.reportRows);
  assert.equal(Number(await figure(page, "grants")), r.reconciliation.grantsChecked);
  assert.equal(Number(await figure(page, "tests")), r.reconciliation.testPurchasesExcluded);
  assert.match(await page.locator('[data-figure="status"]').textContent(), new RegExp(`^${r.month}: `));
  assert.ok((await page.locator('[data-figure="status"]').textContent()).endsWith(` (as of ${r.computedAt})`));
  assert.equal(r.reconciliation.chargedNotGranted.length, 1, "the purchase never verified");
  const unpaid = page.getByRole("table", { name: "Charged by Google, not granted here" }).locator("tbody tr");
  assert.equal(await unpaid.count(), 1);
  assert.equal(await unpaid.locator("th").textContent(), r.reconciliation.chargedNotGranted[0].orderId);
  assert.equal(await page.locator(".advice").first().textContent(), `What to do: ${r.advice.chargedNotGranted}`);
  await noSeriousViolation(page, "reconciliation");
  await saveScreenshot(page, "reconciliation");

  // Catalog: the title made of markup is text.
  await visit(page, "catalog");
  const c = await api("catalog");
  const products = page.getByRole("table", { name: "Products and subscriptions" }).locator("tbody tr");
  assert.equal(await products.count(), c.products.length);
  const premium = products.filter({ has: page.getByRole("rowheader", { name: "premium_unlock", exact: true }) });
  assert.equal(await premium.locator("td").nth(1).textContent(), HOSTILE_TITLE);
  assert.equal(await page.locator("#page img").count(), 0, "no element made of the title");
  if (c.drift) {
    assert.equal(Number(await figure(page, "writes")), c.drift.writes.length);
    assert.equal(Number(await figure(page, "refusals")), c.drift.refusals.length);
    assert.equal(await page.locator('[data-figure="drift-read-at"]').textContent(), `Play read at ${c.driftReadAt} (at most once a minute).`);
  }
  await noSeriousViolation(page, "catalog");
  await saveScreenshot(page, "catalog");

  // External transactions.
  await visit(page, "external-transactions");
  const e = await api("external-transactions");
  for (const [id, value] of [["pending", e.pending], ["late", e.late], ["failed", e.failed], ["reported", e.reported]]) {
    assert.equal(Number(await figure(page, id)), value, id);
  }
  assert.equal(e.reported + e.pending, 1, "the one external transaction");
  await noSeriousViolation(page, "external-transactions");
  await saveScreenshot(page, "external-transactions");

  assert.deepEqual(page.problems, [], "no script error and no CSP violation");
  await page.context().close();
});

test("a lookup by order id, typed and sent by keyboard, shows the purchase's timeline", async () => {
  const page = await signedIn();
  // To Lookup by keyboard: Tab through the navigation, Enter on the link.
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.textContent === "Lookup")) break;
  }
  await page.keyboard.press("Enter");
  await loaded(page, "lookup");
  await page.getByLabel("Account id, purchase token or order id").focus();
  await page.keyboard.type(seeded.order);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector(".purchase"));
  await loaded(page, "lookup");
  const l = await api(`lookup?q=${encodeURIComponent(seeded.order)}`);
  assert.equal(l.matchedBy, "order_id");
  assert.equal(await page.locator('[data-figure="account"]').textContent(), "carol");
  const story = page.locator(`[data-token="${seeded.sub}"]`);
  const items = story.locator(".timeline li");
  assert.equal(await items.count(), l.purchases[0].timeline.length);
  const kinds = await items.evaluateAll((lis) => lis.map((li) => li.dataset.kind));
  assert.deepEqual(kinds, l.purchases[0].timeline.map((t) => t.kind));
  for (const k of ["verified", "granted", "acknowledged", "report_charge"]) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
  await noSeriousViolation(page, "lookup");
  await saveScreenshot(page, "lookup");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("an account id made of markup is shown as text, never run", async () => {
  const page = await signedIn();
  await visit(page, "lookup", `?q=${encodeURIComponent(HOSTILE_ACCOUNT)}`);
  await page.waitForFunction(() => document.querySelector(".purchase"));
  assert.equal(await page.locator('[data-figure="account"]').textContent(), HOSTILE_ACCOUNT);
  assert.equal(await page.locator("#page img, #page script").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  const verified = await page.locator('.timeline li[data-kind="verified"]').textContent();
  assert.ok(verified.endsWith(`bound to account ${HOSTILE_ACCOUNT}`), verified);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("every page fits a phone's width", async () => {
  const page = await signedIn(390);
  for (const name of PAGES) {
    await visit(page, name, name === "lookup" ? `?q=${seeded.order}` : "");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name}: ${overflow} px wider than the phone`);
  }
  await visit(page, "overview");
  await saveScreenshot(page, "phone-overview");
  await page.context().close();
});

test("signing out ends the session: the pages ask to sign in again", async () => {
  const page = await signedIn();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Server API key").waitFor();
  const status = await page.evaluate(async () => (await fetch("/v1/admin/console/overview")).status);
  assert.equal(status, 401);
  await page.reload();
  await page.getByLabel("Server API key").waitFor();
  assert.equal(await page.locator("#nav").isHidden(), true);
  await page.context().close();
});
