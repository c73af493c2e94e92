// The demo store: a PWA that sells digital goods on Google Play with pwa-billing.
// It uses only the package's public API, imported as any PWA would import it. In the
// sandbox (`make demo`), it first loads the emulator's sandbox.js, which gives this browser
// the Digital Goods API and Play's payment sheet; the production path never loads it.
import init, { PlayBilling } from "/pkg/pwa_billing.js";

// The products this app sells (Play's catalog has titles and prices; the app knows what
// each one means to it).
const PRODUCTS = [
  { id: "coins_100", kind: "consumable", coins: 100 },
  { id: "premium_unlock", kind: "non_consumable" },
  { id: "sub_monthly", kind: "subscription", tier: 1 },
  { id: "sub_yearly", kind: "subscription", tier: 2 },
];
const MODES = ["chargeProratedPrice", "chargeFullPrice", "withTimeProration", "deferred"];
const DEFAULT_MODE = { Upgrade: "chargeProratedPrice", Downgrade: "deferred" };
const SESSION_KEY = "demo-store.session"; // per window: two windows, two accounts
const LOCALE_KEY = "demo-store.locale";
const POLL_MS = 3000;
// The sandbox's example backend (server/src/sandbox/receiver.rs): what it received by webhook.
const BACKEND_EVENTS = "/sandbox/backend/events";
const BACKEND_WAIT_MS = 5000;

const state = {
  sandbox: null, // {emulatorUrl, packageName} in the sandbox, null in production
  packageName: "com.example.pwa",
  session: null, // {accountId, token}
  billing: null,
  items: new Map(),
  entitlements: [],
  history: [],
  device: [],
  pendingItems: new Set(),
  pollTimer: null,
  busy: false,
  backend: { events: [], watch: null }, // the example backend's events for this account
};

const $ = (selector) => document.querySelector(selector);

// ---- start-up -------------------------------------------------------------------------

async function boot() {
  registerServiceWorker();
  window.addEventListener("online", () => location.reload());
  $("#locale").value = localStorage.getItem(LOCALE_KEY) || "";
  wireEvents();
  if (!navigator.onLine) return showOffline();
  try {
    state.sandbox = await sandboxInfo();
  } catch {
    return showOffline();
  }
  state.session = readSession();
  if (state.sandbox) {
    state.packageName = state.sandbox.packageName || state.packageName;
    await loadSandbox(state.sandbox.emulatorUrl);
  }
  await init();
  setMode();
  renderAccount();
  if (!PlayBilling.isSupported()) return showUnsupported();
  if (state.session) await start();
}

/** `GET /v1/dev/sandbox`: 200 in the sandbox, 404 in production. Throws when offline. */
async function sandboxInfo() {
  const response = await fetch("/v1/dev/sandbox", { headers: { Accept: "application/json" } });
  return response.ok ? response.json() : null;
}

/** Loads the emulator's sandbox.js, which installs getDigitalGoodsService and Play's sheet. */
function loadSandbox(emulatorUrl) {
  // One browser is one device with one Play account (the emulator's device account): the
  // app's accounts (sign-in) are not Play accounts, so accountId stays unset.
  window.__playSandbox = { autoRespond: null, emulatorUrl, ...window.__playSandbox };
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `${emulatorUrl}/emulator/v1/sandbox.js`;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${script.src}`));
    document.head.append(script);
  });
}

function registerServiceWorker() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch((error) => console.warn("service worker:", error));
  }
}

/** Connects to Play and the backend, shows the catalog and what the account owns. */
async function start() {
  try {
    state.billing = await PlayBilling.connect({
      backendUrl: `${location.origin}/v1`,
      authToken: () => state.session.token,
      locale: $("#locale").value || navigator.language,
    });
    const items = await state.billing.getDetails(PRODUCTS.map((p) => p.id));
    state.items = new Map(items.map((item) => [item.itemId, item]));
    if (items.length === 0) {
      showMessage("error", `Google Play sells none of this app's products (${PRODUCTS.map((p) => p.id).join(", ")}): check the catalog in Play Console.`, "empty_catalog");
    }
  } catch (error) {
    if (error.name === "BillingUnsupportedError" || error.name === "BillingUnavailableError") {
      return showUnsupported(error);
    }
    return showError(error);
  }
  for (const id of ["#store", "#entitlements-section", "#history-section"]) $(id).hidden = false;
  $("#device-section").hidden = !state.sandbox;
  renderCatalog();
  await refresh({ restore: true });
}

// ---- account --------------------------------------------------------------------------

function readSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY));
  } catch {
    return null;
  }
}

async function signIn(accountId) {
  const response = await fetch("/v1/dev/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ accountId }),
  });
  if (!response.ok) {
    return showMessage("error", response.status === 404
      ? "Demo sign-in exists only in the sandbox (make demo). Your app passes its own session token as authToken."
      : `Sign-in failed (HTTP ${response.status}).`, "sign_in_failed");
  }
  const { token } = await response.json();
  state.session = { accountId, token };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
  renderAccount();
  showMessage("success", `Signed in as ${accountId}.`, "signed_in");
  await start();
}

function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
  location.reload();
}

// ---- actions --------------------------------------------------------------------------

async function buy(itemId) {
  await run(async () => {
    // Play sells an item again only once it is consumed or its subscription ended, and a TWA
    // reports that refusal like a cancel: check what the device owns before paying.
    const owned = await state.billing.listPurchases();
    if (owned.some((p) => p.itemId === itemId)) return alreadyOwned(itemId);
    const { verification } = await state.billing.purchase(itemId);
    const coins = PRODUCTS.find((p) => p.id === itemId)?.coins;
    showMessage("success", coins
      ? `Thank you! ${coins * verification.entitlement.quantity} coins were added to your balance.`
      : `Thank you! ${title(itemId)} is yours.`, "purchased");
  }, itemId);
}

/**
 * Uses one pack of a consumable. Its coins were credited by the server, which also consumes
 * each purchase on Google Play; if Play still holds this one, it is consumed here first so
 * the pack can be bought again at once. Spending coins is the app's own logic: this demo
 * keeps the count in this browser.
 */
async function use(itemId) {
  await run(async () => {
    const owned = state.device.find((p) => p.itemId === itemId);
    if (owned) {
      try {
        await state.billing.consume(owned.purchaseToken);
      } catch (error) {
        if (error.name !== "ItemNotOwnedError") throw error; // else the server consumed it first
      }
    }
    const spent = readSpent();
    spent[itemId] = (spent[itemId] ?? 0) + 1;
    localStorage.setItem(spentKey(), JSON.stringify(spent));
    showMessage("success", `Used one pack of ${title(itemId)}. Buy more at any time.`, "used");
  }, itemId);
}

function spentKey() {
  return `demo-store.spent.${state.session.accountId}`;
}

function readSpent() {
  try {
    return JSON.parse(localStorage.getItem(spentKey())) ?? {};
  } catch {
    return {};
  }
}

/** Explains why an owned item is not sold again, after restoring the account's purchases. */
async function alreadyOwned(itemId) {
  state.entitlements = await state.billing.restore();
  const mine = state.entitlements.some((e) => e.itemId === itemId && e.entitled);
  if (state.pendingItems.has(itemId)) {
    return showMessage("warning", `A payment for ${title(itemId)} is still pending at Google Play.`, "already_pending");
  }
  showMessage("warning", mine
    ? `You already own ${title(itemId)}.`
    : `This Google Play account already owns ${title(itemId)}, but it belongs to another account of this app.`,
  "already_owned");
}

async function changeSubscription(from, toItemId, mode, label) {
  await run(async () => {
    await state.billing.changeSubscription({
      fromItemId: from.itemId,
      fromPurchaseToken: from.purchaseToken,
      toItemId,
      mode,
    });
    showMessage("success", `${label}: ${title(from.itemId)} → ${title(toItemId)} (${mode}).`, "changed");
  }, toItemId);
}

/** Sandbox tool: presents one device token to the server as the signed-in account. */
async function claim(purchase) {
  await run(async () => {
    const response = await fetch(`${location.origin}/v1/purchases/verify`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.session.token}` },
      body: JSON.stringify({ itemId: purchase.itemId, purchaseToken: purchase.purchaseToken }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 200) {
      showMessage("success", `${title(purchase.itemId)} is now granted to ${state.session.accountId}.`, "claimed");
    } else if (response.status === 202) {
      showMessage("warning", `${title(purchase.itemId)} is still pending at Google Play.`, "pending");
    } else {
      const code = body.error?.code ?? `http_${response.status}`;
      showMessage("error", code === "token_already_claimed"
        ? `This purchase belongs to another account of this app: the server refused it (${code}).`
        : `The server refused this purchase (${code}): ${body.error?.message ?? ""}`, code);
    }
  }, purchase.itemId);
}

/** Runs one action with the buttons disabled, shows its error (if any), then refreshes. */
async function run(action, itemId, { restore = false } = {}) {
  setBusy(true);
  try {
    await action();
  } catch (error) {
    showError(error, itemId);
  }
  try {
    await refresh({ restore });
  } finally {
    setBusy(false);
  }
}

async function refresh({ restore }) {
  if (!state.billing) return;
  try {
    const [entitlements, history, device] = await Promise.all([
      restore ? state.billing.restore() : state.billing.entitlements(),
      state.billing.listPurchaseHistory(),
      state.billing.listPurchases(),
    ]);
    Object.assign(state, { entitlements, history, device });
  } catch (error) {
    showError(error);
  }
  for (const itemId of state.pendingItems) {
    if (state.entitlements.some((e) => e.itemId === itemId && e.entitled)) {
      state.pendingItems.delete(itemId);
      showMessage("success", `Your pending payment completed: ${title(itemId)} is yours.`, "pending_completed");
    }
  }
  render();
  schedulePoll();
  watchBackend();
}

/** While a payment is pending (or a token waits in the outbox), restore() every few seconds. */
function schedulePoll() {
  clearTimeout(state.pollTimer);
  if (state.pendingItems.size > 0 || state.billing.pendingTokens().length > 0) {
    state.pollTimer = setTimeout(() => refresh({ restore: true }), POLL_MS);
  }
}

/**
 * Reads what the sandbox's example backend received for the signed-in account, then keeps
 * reading while events arrive (a webhook lands a moment after the change that made it, and
 * one change can make several): each further read waits up to BACKEND_WAIT_MS for one more
 * event, and the first that brings none ends the watch. A new call replaces a running one.
 * Outside the sandbox (or with `--no-backend`) the route answers 404 and the panel stays hidden.
 */
async function watchBackend() {
  if (!state.sandbox || !state.session) return;
  state.backend.watch?.abort();
  const watch = new AbortController();
  state.backend.watch = watch;
  let waitMs = 0;
  try {
    for (;;) {
      const known = state.backend.events.length;
      const query = new URLSearchParams({ accountId: state.session.accountId, after: String(known), waitMs: String(waitMs) });
      const response = await fetch(`${BACKEND_EVENTS}?${query}`, { signal: watch.signal, headers: { Accept: "application/json" } });
      if (!response.ok) {
        $("#backend-section").hidden = true;
        return;
      }
      const { events } = await response.json();
      if (watch.signal.aborted) return;
      state.backend.events = events;
      $("#backend-section").hidden = false;
      renderBackend();
      if (events.length <= known && waitMs > 0) return;
      waitMs = BACKEND_WAIT_MS;
    }
  } catch (error) {
    if (error.name === "AbortError") return;
    setText($("#backend-status"), `The example backend could not be reached (${error.message}).`);
  }
}

// ---- messages -------------------------------------------------------------------------

function showError(error, itemId) {
  const name = error?.name ?? "Error";
  const item = itemId ? title(itemId) : "this item";
  switch (name) {
    case "PurchaseCanceledError":
      return showMessage("warning", "The purchase was canceled or declined. Google Play reports both the same way, so nothing was charged either way.", name);
    case "PurchasePendingError":
      state.pendingItems.add(itemId);
      return showMessage("warning", `Payment pending: ${item} will be yours as soon as Google Play confirms the payment.`, name);
    case "ItemAlreadyOwnedError":
      return showMessage("warning", `This Google Play account already owns ${item}. Your purchases were restored; if it is missing, it belongs to another account of this app.`, name);
    case "ItemNotOwnedError":
      return showMessage("error", `${item} is not owned any more, so it cannot be used.`, name);
    case "ItemUnavailableError":
      return showMessage("error", `${item} is not for sale right now.`, name);
    case "VerificationError":
      return showMessage("error", error.code === "token_already_claimed"
        ? `This purchase belongs to another account of this app (${error.code}).`
        : `The server could not verify the purchase (${error.code}): ${error.message}`, error.code || name);
    case "NetworkError":
      return showMessage("warning", "The server could not be reached. Your purchase is saved on this device and will be sent as soon as it is back.", name);
    case "BillingUnsupportedError":
    case "BillingUnavailableError":
      return showUnsupported(error);
    default:
      return showMessage("error", `${error?.message || String(error)}`, name);
  }
}

function showMessage(kind, text, code) {
  const message = $("#message");
  message.textContent = text;
  message.className = `message ${kind}`;
  message.dataset.code = code;
  message.hidden = false;
}

async function showUnsupported(error) {
  const report = await PlayBilling.diagnose();
  $("#unsupported").hidden = false;
  $("#unsupported-reason").textContent = error?.message || report.problems.join(" ") ||
    "This browser has no Digital Goods API.";
  $("#diagnosis").textContent = JSON.stringify(report, null, 2);
  $("#account").hidden = true;
  showMessage("warning", "Billing is unsupported in this browser.", error?.name ?? "BillingUnsupportedError");
}

function showOffline() {
  $("#account").hidden = true;
  showMessage("warning", "You are offline. The app works, but buying and restoring purchases need a connection.", "offline");
}

// ---- rendering ------------------------------------------------------------------------

function title(itemId) {
  return state.items.get(itemId)?.title ?? itemId;
}

function setMode() {
  const pill = $("#mode");
  pill.textContent = state.sandbox ? "Sandbox" : "Google Play";
  pill.hidden = false;
}

/** While an action runs, every button is disabled and the page says it is busy. */
function setBusy(busy) {
  state.busy = busy;
  if (busy) document.body.setAttribute("aria-busy", "true");
  else document.body.removeAttribute("aria-busy");
  for (const button of document.querySelectorAll("main button")) {
    button.disabled = busy || button.dataset.unavailable === "true";
  }
}

function renderAccount() {
  const signedIn = Boolean(state.session);
  $("#sign-in").hidden = signedIn;
  $("#signed-in").hidden = !signedIn;
  $("#account-name").textContent = state.session?.accountId ?? "";
}

function render() {
  renderCatalog();
  renderEntitlements();
  renderPurchases($("#history"), state.history, "Nothing bought yet.");
  renderPurchases($("#device"), state.device, "Google Play reports no owned purchases.", true);
  const waiting = state.billing.pendingTokens();
  $("#outbox").hidden = waiting.length === 0;
  $("#outbox").textContent = `${waiting.length} purchase(s) waiting to be sent to the server: ` +
    waiting.map((p) => `${title(p.itemId)} (${p.attempts} attempt(s)${p.lastError ? `, ${p.lastError}` : ""})`).join(", ");
  setBusy(state.busy);
}

/** The example backend's events, newest first: type, state, product, sequence, time. */
function renderBackend() {
  const events = state.backend.events;
  setText($("#backend-status"), events.length === 0
    ? `Nothing received yet for ${state.session.accountId}.`
    : `${events.length} event${events.length === 1 ? "" : "s"} received for ${state.session.accountId}.`);
  $("#backend-events").replaceChildren(...events.toReversed().map(({ event }) => {
    const data = event.data ?? {};
    const itemId = data.purchase?.itemId ?? data.entitlement?.itemId ??
      data.externalTransaction?.productId ?? data.order?.productId ?? "";
    const itemState = data.purchase?.state ?? data.externalTransaction?.state ?? data.entitlement?.state ?? "";
    const li = document.createElement("li");
    li.dataset.eventType = event.type;
    li.dataset.eventItem = itemId;
    const type = document.createElement("code");
    type.className = "name";
    type.textContent = event.type;
    li.append(type);
    if (itemState) {
      const status = document.createElement("span");
      status.className = `state state-${itemState}`;
      status.textContent = itemState;
      li.append(status);
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    const time = document.createElement("time");
    time.dateTime = event.timestamp;
    time.textContent = new Date(event.timestamp).toLocaleString();
    meta.append([
      itemId ? title(itemId) : "",
      data.sequence ? `sequence ${data.sequence}` : "",
      data.test ? "test purchase" : "",
    ].filter(Boolean).concat("").join(" · "), time);
    li.append(meta);
    return li;
  }));
}

/** Sets `element`'s text only when it changes (a live region then speaks only news). */
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function renderCatalog() {
  const list = $("#catalog");
  list.replaceChildren(...PRODUCTS.filter((p) => state.items.has(p.id)).map(productCard));
}

function productCard(product) {
  const item = state.items.get(product.id);
  const card = $("#product-template").content.firstElementChild.cloneNode(true);
  card.dataset.itemId = item.itemId;
  card.querySelector(".title").textContent = item.title;
  card.querySelector(".description").textContent = item.description ?? "";
  const period = item.subscriptionPeriod ? ` / ${describePeriod(item.subscriptionPeriod, true)}` : "";
  card.querySelector(".price").textContent = item.formattedPrice + period;
  const offer = subscriptionOffer(item);
  card.querySelector(".offer").hidden = !offer;
  card.querySelector(".offer").textContent = offer;

  const mine = state.entitlements.filter((e) => e.itemId === item.itemId);
  const current = mine.find((e) => e.entitled);
  const badge = card.querySelector(".badge");
  if (product.kind !== "consumable" && current) {
    badge.hidden = false;
    badge.textContent = product.kind === "subscription" ? label(current.state) : "Owned";
  }
  const actions = card.querySelector(".actions");
  // Buy, unless the account owns it already, or (a subscription) owns another plan, which it
  // then changes instead of holding two.
  const changeFrom = product.kind === "subscription" ? currentSubscription(item.itemId) : null;
  if ((product.kind === "consumable" || !current) && !changeFrom) {
    actions.append(button("Buy", "primary", () => buy(item.itemId)));
  }

  if (product.kind === "consumable") {
    const credited = mine.filter((e) => e.entitled).reduce((sum, e) => sum + e.quantity, 0);
    const packs = Math.max(0, credited - (readSpent()[item.itemId] ?? 0));
    const balance = card.querySelector(".balance");
    balance.hidden = false;
    balance.textContent = `Balance: ${packs * product.coins} coins`;
    balance.dataset.balance = String(packs * product.coins);
    const spend = button("Use", "", () => use(item.itemId));
    spend.dataset.unavailable = String(packs === 0);
    spend.title = `Spend ${product.coins} coins`;
    actions.append(spend);
  }
  if (product.kind === "subscription") {
    if (changeFrom) actions.append(...changeControls(product, changeFrom));
    if (current) {
      const link = document.createElement("a");
      link.href = PlayBilling.manageSubscriptionUrl(item.itemId, state.packageName);
      link.target = "_blank";
      link.rel = "noopener";
      link.className = "manage";
      link.textContent = "Manage subscription";
      actions.append(link);
    }
  }
  return card;
}

/** The account's entitled subscription to another product than `itemId`, if any. */
function currentSubscription(itemId) {
  return state.entitlements.find((e) => e.kind === "subscription" && e.entitled && e.itemId !== itemId);
}

/** Upgrade or Downgrade from the current subscription to `product`, with a mode picker. */
function changeControls(product, from) {
  const fromTier = PRODUCTS.find((p) => p.id === from.itemId)?.tier ?? 0;
  const action = product.tier > fromTier ? "Upgrade" : "Downgrade";
  const wrap = document.createElement("label");
  wrap.className = "mode";
  wrap.append("Replacement mode ");
  const select = document.createElement("select");
  select.setAttribute("aria-label", `${action} replacement mode`);
  for (const mode of MODES) select.append(new Option(mode, mode, false, mode === DEFAULT_MODE[action]));
  wrap.append(select);
  const go = button(action, "primary", () => changeSubscription(from, product.id, select.value, action));
  return [go, wrap];
}

function subscriptionOffer(item) {
  if (item.freeTrialPeriod) return `Free trial: ${describePeriod(item.freeTrialPeriod)}`;
  if (item.introductoryPrice) {
    const cycles = item.introductoryPriceCycles ?? 1;
    const period = describePeriod(item.introductoryPricePeriod ?? item.subscriptionPeriod ?? "P1M", true);
    const span = cycles > 1 ? `${cycles} billing periods (${period} each)` : `the first ${period}`;
    return `Introductory price: ${item.formattedIntroductoryPrice} for ${span}`;
  }
  return "";
}

/** "P1M" → "1 month" (or "month" with `bare`), "P7D" → "7 days". */
function describePeriod(iso, bare = false) {
  const match = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/.exec(iso);
  if (!match) return iso;
  const units = ["year", "month", "week", "day"];
  const parts = units.flatMap((unit, i) => {
    const n = Number(match[i + 1] || 0);
    if (!n) return [];
    if (n === 1 && bare) return [unit];
    return [`${n} ${unit}${n === 1 ? "" : "s"}`];
  });
  return parts.join(" ") || iso;
}

function renderEntitlements() {
  const list = $("#entitlements");
  if (state.entitlements.length === 0) {
    list.replaceChildren(empty("No entitlements yet: buy something."));
    return;
  }
  list.replaceChildren(...state.entitlements.map((e) => {
    const li = document.createElement("li");
    li.dataset.entitlement = e.itemId;
    li.dataset.state = e.state;
    li.className = e.entitled ? "entitled" : "ended";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = title(e.itemId) + (e.quantity > 1 ? ` × ${e.quantity}` : "");
    const status = document.createElement("span");
    status.className = `state state-${e.state}`;
    status.textContent = e.state;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = [
      e.entitled ? "grants access" : "no access",
      e.expiresAt ? `until ${new Date(e.expiresAt).toLocaleDateString()}` : "",
      e.test ? "test purchase" : "",
    ].filter(Boolean).join(" · ");
    li.append(name, status, meta);
    return li;
  }));
}

function renderPurchases(list, purchases, none, claimable = false) {
  if (purchases.length === 0) {
    list.replaceChildren(empty(none));
    return;
  }
  list.replaceChildren(...purchases.map((p) => {
    const li = document.createElement("li");
    li.dataset.purchase = p.itemId;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = title(p.itemId);
    const token = document.createElement("code");
    token.className = "token";
    token.title = p.purchaseToken;
    token.textContent = p.purchaseToken.slice(0, 12) + "…";
    li.append(name, token);
    if (claimable) li.append(button("Claim", "quiet", () => claim(p)));
    return li;
  }));
}

function label(entitlementState) {
  return entitlementState.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function button(text, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (className) b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

function empty(text) {
  const li = document.createElement("li");
  li.className = "empty";
  li.textContent = text;
  return li;
}

function wireEvents() {
  $("#sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("#account-id").value.trim());
  });
  $("#sign-out").addEventListener("click", signOut);
  $("#refresh").addEventListener("click", () => run(async () => {}, null, { restore: true }));
  $("#locale").addEventListener("change", async () => {
    localStorage.setItem(LOCALE_KEY, $("#locale").value);
    if (state.session) await start();
  });
}

boot().catch((error) => showMessage("error", `The store could not start: ${error.message}`, "boot_failed"));
