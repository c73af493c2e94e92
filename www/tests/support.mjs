// Shared helpers for the browser tests: start `pwa-billing sandbox` (or `play-emulator`) on
// free ports, launch Debian's Chromium through playwright-core, drive the demo store.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, mkdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const RESULTS = join(ROOT, "test-results", "e2e");
const SERVER_BIN = process.env.PWA_BILLING_BIN ?? join(ROOT, "target/debug/pwa-billing");
const EMULATOR_BIN = process.env.PLAY_EMULATOR_BIN ?? join(ROOT, "target/debug/play-emulator");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const START_TIMEOUT_MS = 60_000;
export const PLAY = "https://play.google.com/billing";

/** A child process whose output is kept (for error messages) and which is killed by stop(). */
async function run(bin, args) {
  await access(bin, constants.X_OK).catch(() => {
    throw new Error(`${bin} is missing: build it first (cargo build -p pwa-billing-server -p play-emulator)`);
  });
  const child = spawn(bin, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  const keep = (chunk) => {
    log.push(chunk.toString());
    if (log.length > 400) log.shift();
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((done) => child.once("exit", (code, signal) => done({ code, signal })));
  return {
    child,
    log: () => log.join(""),
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until `pattern` appears in the process's output; returns the match. */
function waitForLine(proc, pattern, what) {
  return new Promise((ok, fail) => {
    let text = "";
    const timer = setTimeout(() => fail(new Error(`${what}: no '${pattern}' after ${START_TIMEOUT_MS} ms:\n${proc.log()}`)), START_TIMEOUT_MS);
    const look = (chunk) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        ok(match);
      }
    };
    proc.child.stdout.on("data", look);
    proc.child.stderr.on("data", look);
    proc.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${proc.log()}`));
    });
  });
}

/**
 * Starts `pwa-billing sandbox --port 0 --emulator-port 0 --data-dir <tmp>`.
 * Returns {url, emulatorUrl, packageName, stop()}.
 */
export async function startSandbox() {
  const dataDir = await mkdtemp(join(tmpdir(), "pwa-billing-e2e-"));
  const proc = await run(SERVER_BIN, ["sandbox", "--port", "0", "--emulator-port", "0", "--data-dir", dataDir,
    "--www", join(ROOT, "www"), "--pkg", join(ROOT, "pkg")]);
  const [, url] = await waitForLine(proc, /listening on (http:\/\/[^\s]+)/, "pwa-billing sandbox");
  const base = url.replace(/\/$/, "");
  const info = await (await fetch(`${base}/v1/dev/sandbox`)).json();
  return {
    url: base,
    emulatorUrl: info.emulatorUrl.replace(/\/$/, ""),
    packageName: info.packageName,
    log: proc.log,
    async stop() {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A free TCP port on 127.0.0.1 (for binaries that take a port but print nothing). */
export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Starts the `play-emulator` binary on a free port; resolves once it answers. */
export async function startEmulator() {
  const port = await freePort();
  const proc = await run(EMULATOR_BIN, ["--port", String(port)]);
  const url = `http://127.0.0.1:${port}`;
  await poll(async () => {
    if (proc.child.exitCode !== null) throw new Error(`play-emulator exited:\n${proc.log()}`);
    return (await fetch(`${url}/emulator/v1/calls`).catch(() => null))?.ok;
  }, { timeout: START_TIMEOUT_MS, what: "play-emulator to answer" });
  return { url, log: proc.log, stop: () => proc.stop() };
}

/** Debian's Chromium, headless, with a fresh profile; never a downloaded browser. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

/** A phone-sized browser context (the demo is mobile first). */
export async function newContext(browser) {
  const context = await browser.newContext({ viewport: { width: 412, height: 860 }, deviceScaleFactor: 1, locale: "en-US" });
  context.setDefaultTimeout(15_000);
  return context;
}

/** Polls `check` until it returns a truthy value; fails with `what` after `timeout` ms. */
export async function poll(check, { timeout = 15_000, interval = 100, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
    await new Promise((done) => setTimeout(done, interval));
  }
}

/** Saves a screenshot (the whole page unless `fullPage: false`) as test-results/e2e/<name>.png. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  await mkdir(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage });
}

/** JSON request to the emulator's control or device API. */
export async function emulator(sandbox, method, path, body) {
  const response = await fetch(`${sandbox.emulatorUrl}${path}`, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The device's owned purchase of `itemId` (what getDigitalGoodsService().listPurchases() says). */
export async function devicePurchase(sandbox, itemId) {
  const owned = await emulator(sandbox, "GET", "/emulator/v1/device/purchases");
  const purchase = owned.find((p) => p.itemId === itemId);
  if (!purchase) throw new Error(`the device owns no ${itemId}: ${JSON.stringify(owned)}`);
  return purchase;
}

/**
 * Opens the store in a new page (a new window: its own sessionStorage), signs in as
 * `accountId` and waits for the catalog. `page.consoleErrors` collects console errors.
 */
export async function openStore(context, sandbox, accountId) {
  const page = await context.newPage();
  page.consoleErrors = [];
  page.on("console", (message) => {
    if (message.type() === "error") page.consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => page.consoleErrors.push(String(error)));
  await page.goto(sandbox.url);
  if (accountId) await signIn(page, accountId);
  return page;
}

export async function signIn(page, accountId) {
  await page.getByLabel("Demo account").fill(accountId);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator('[data-item-id="coins_100"]').waitFor();
  await idle(page);
}

/** Waits until no action runs (the page sets aria-busy on <body> while one does). */
export async function idle(page) {
  await page.waitForFunction(() => !document.body.hasAttribute("aria-busy"));
}

export function product(page, itemId) {
  return page.locator(`[data-item-id="${itemId}"]`);
}

/** Entitlements of `itemId` whose state is `state`. */
export function entitlement(page, itemId, state) {
  return page.locator(`[data-entitlement="${itemId}"][data-state="${state}"]`);
}

/** Clicks `action` on a product card, then `choice` (Approve, Decline, …) in Play's sheet. */
export async function buyWith(page, itemId, choice, action = "Buy") {
  await product(page, itemId).getByRole("button", { name: action, exact: true }).click();
  const sheet = page.getByRole("dialog");
  await sheet.getByRole("button", { name: choice, exact: true }).click();
  await sheet.waitFor({ state: "detached" });
  await idle(page);
}

/** The message line's code (data-code) once it shows one of `codes`. */
export async function messageCode(page, ...codes) {
  const message = page.locator("#message");
  await poll(async () => codes.includes(await message.getAttribute("data-code")), {
    what: `a message with code ${codes.join(" or ")} (now: ${await message.textContent().catch(() => "")})`,
  });
  return message.getAttribute("data-code");
}

/** Clicks Refresh until `locator` is visible (RTDN and pending payments land asynchronously). */
export async function refreshUntil(page, locator, what, timeout = 20_000) {
  await poll(async () => {
    if (await locator.count()) return true;
    await page.getByRole("button", { name: "Refresh" }).click();
    await idle(page);
    return (await locator.count()) > 0;
  }, { timeout, interval: 300, what });
}
