// Google's official Node client (@googleapis/androidpublisher) against `play-emulator`: every
// Play Developer API method the server calls, made as a new user would make it, with the
// client's own paths, query encoding and request bodies. The client's base URL is the
// emulator's; its OAuth2 client gets access tokens from the emulator's token endpoint (the
// service-account key's `token_uri`) through a JWT-bearer grant signed with that key.
import assert from "node:assert/strict";
import { createSign } from "node:crypto";
import { after, before, test } from "node:test";
import { androidpublisher, auth } from "@googleapis/androidpublisher";
import { startEmulator } from "./support.mjs";

const PKG = "com.example.pwa";
const SCOPE = "https://www.googleapis.com/auth/androidpublisher";
const base64url = (data) => Buffer.from(data).toString("base64url");

let emu;
let play;
let tokenFetches = 0;

/** A JWT-bearer grant at the key's `token_uri`, as Google's libraries make it. */
async function fetchAccessToken(key) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: key.private_key_id }));
  const claims = base64url(JSON.stringify({
    iss: key.client_email, scope: SCOPE, aud: key.token_uri, iat: now, exp: now + 3600,
  }));
  const signature = createSign("RSA-SHA256").update(`${header}.${claims}`).sign(key.private_key, "base64url");
  const response = await fetch(key.token_uri, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion: `${header}.${claims}.${signature}`,
    }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  tokenFetches += 1;
  return { access_token: body.access_token, expiry_date: Date.now() + body.expires_in * 1000 };
}

async function control(method, path, body) {
  const response = await fetch(`${emu.url}${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const buy = async (body) => (await control("POST", "/emulator/v1/purchases", body)).purchaseToken;

before(async () => {
  emu = await startEmulator();
  const key = await control("GET", "/emulator/v1/service-account.json");
  assert.equal(key.token_uri, `${emu.url}/token`);
  const client = new auth.OAuth2();
  client.refreshHandler = () => fetchAccessToken(key);
  play = androidpublisher({ version: "v3", auth: client, rootUrl: `${emu.url}/` });
});

after(async () => {
  await emu?.stop();
});

test("purchases: products, productsv2, subscriptionsv2, acknowledge, consume", async () => {
  const coins = await buy({ productId: "coins_100" });
  const product = await play.purchases.products.get({ packageName: PKG, productId: "coins_100", token: coins });
  assert.equal(product.status, 200);
  assert.equal(product.data.purchaseState, 0);
  assert.match(product.data.orderId, /^GPA\./);
  const v2 = await play.purchases.productsv2.getproductpurchasev2({ packageName: PKG, token: coins });
  assert.equal(v2.data.orderId, product.data.orderId);
  assert.equal(v2.data.purchaseStateContext.purchaseState, "PURCHASED");
  const ack = await play.purchases.products.acknowledge({
    packageName: PKG, productId: "coins_100", token: coins, requestBody: { developerPayload: "p" },
  });
  assert.equal(ack.status, 204);
  const consume = await play.purchases.products.consume({ packageName: PKG, productId: "coins_100", token: coins });
  assert.equal(consume.status, 204);
  const consumed = await play.purchases.products.get({ packageName: PKG, productId: "coins_100", token: coins });
  assert.deepEqual([consumed.data.acknowledgementState, consumed.data.consumptionState], [1, 1]);

  const sub = await buy({ productId: "sub_monthly" });
  const s = await play.purchases.subscriptionsv2.get({ packageName: PKG, token: sub });
  assert.equal(s.data.subscriptionState, "SUBSCRIPTION_STATE_ACTIVE");
  const subAck = await play.purchases.subscriptions.acknowledge({
    packageName: PKG, subscriptionId: "sub_monthly", token: sub, requestBody: {},
  });
  assert.equal(subAck.status, 204);
  const acked = await play.purchases.subscriptionsv2.get({ packageName: PKG, token: sub });
  assert.equal(acked.data.acknowledgementState, "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED");

  // An unknown token: the client rejects with Google's error (400 "Invalid Value").
  await assert.rejects(
    play.purchases.subscriptionsv2.get({ packageName: PKG, token: "unknown" }),
    (e) => e.status === 400 && e.response.data.error.errors[0].reason === "invalid",
  );
  assert.ok(tokenFetches >= 1, "the client took its token from the emulator");
});

test("orders: get, batchGet (every id the emulator hands out, pending included)", async () => {
  const paid = await buy({ productId: "premium_unlock" });
  const pending = await buy({ productId: "coins_100", state: "pending" });
  const sub = await buy({ productId: "sub_yearly" });
  const orderOf = async (token, productId) =>
    (await play.purchases.products.get({ packageName: PKG, productId, token })).data.orderId;
  const paidOrder = await orderOf(paid, "premium_unlock");
  const pendingOrder = await orderOf(pending, "coins_100");
  const subOrder = (await play.purchases.subscriptionsv2.get({ packageName: PKG, token: sub }))
    .data.lineItems[0].latestSuccessfulOrderId;
  const one = await play.orders.get({ packageName: PKG, orderId: paidOrder });
  assert.equal(one.data.state, "PROCESSED");
  assert.equal(one.data.purchaseToken, paid);
  const pendingView = await play.orders.get({ packageName: PKG, orderId: pendingOrder });
  assert.equal(pendingView.data.state, "PENDING");
  const batch = await play.orders.batchget({ packageName: PKG, orderIds: [paidOrder, subOrder] });
  assert.deepEqual(batch.data.orders.map((o) => o.orderId), [paidOrder, subOrder]);
  assert.equal(batch.data.orders[1].lineItems[0].subscriptionDetails.basePlanId, "yearly");
});

test("voidedpurchases.list", async () => {
  const token = await buy({ productId: "premium_unlock" });
  await control("POST", `/emulator/v1/purchases/${token}:void`, {});
  const list = await play.purchases.voidedpurchases.list({ packageName: PKG, type: 1 });
  assert.ok(list.data.voidedPurchases.some((v) => v.purchaseToken === token));
});

test("externaltransactions: create, get, refund", async () => {
  const { externalTransactionToken } = await control("POST", "/emulator/v1/external-transaction-tokens", {});
  const parent = `applications/${PKG}`;
  const created = await play.externaltransactions.createexternaltransaction({
    parent,
    externalTransactionId: "node-1",
    requestBody: {
      originalPreTaxAmount: { priceMicros: "1000000", currency: "USD" },
      originalTaxAmount: { priceMicros: "100000", currency: "USD" },
      transactionTime: new Date().toISOString(),
      userTaxAddress: { regionCode: "US", administrativeArea: "CA" },
      oneTimeTransaction: { externalTransactionToken },
    },
  });
  assert.equal(created.data.transactionState, "TRANSACTION_REPORTED");
  const name = `${parent}/externalTransactions/node-1`;
  const got = await play.externaltransactions.getexternaltransaction({ name });
  assert.equal(got.data.externalTransactionId, "node-1");
  const refunded = await play.externaltransactions.refundexternaltransaction({
    name, requestBody: { refundTime: new Date().toISOString(), fullRefund: {} },
  });
  assert.equal(refunded.data.transactionState, "TRANSACTION_CANCELED");
});

test("catalog: the reads and writes of `pwa-billing catalog`", async () => {
  const m = play.monetization;
  const legacy = await play.inappproducts.list({ packageName: PKG });
  assert.ok(legacy.data.inappproduct.some((p) => p.sku === "coins_100"));
  const price = await m.convertRegionPrices({
    packageName: PKG, requestBody: { price: { currencyCode: "USD", units: "2", nanos: 990000000 } },
  });
  assert.ok(price.data.convertedRegionPrices.US);

  const gems = {
    packageName: PKG,
    productId: "gems",
    listings: [{ languageCode: "en-US", title: "Gems", description: "A pile of gems" }],
    purchaseOptions: [{
      purchaseOptionId: "buy",
      buyOption: { legacyCompatible: true },
      regionalPricingAndAvailabilityConfigs: [
        { regionCode: "US", price: { currencyCode: "USD", units: "1" }, availability: "AVAILABLE" },
      ],
    }],
  };
  const version = { version: "2025/03" };
  const written = await m.onetimeproducts.batchUpdate({
    packageName: PKG,
    requestBody: { requests: [{ oneTimeProduct: gems, allowMissing: true, updateMask: "listings,purchaseOptions", regionsVersion: version }] },
  });
  assert.equal(written.data.oneTimeProducts[0].purchaseOptions[0].state, "DRAFT");
  await m.onetimeproducts.purchaseOptions.batchUpdateStates({
    packageName: PKG, productId: "-",
    requestBody: { requests: [{ activatePurchaseOptionRequest: { packageName: PKG, productId: "gems", purchaseOptionId: "buy" } }] },
  });
  const offer = {
    packageName: PKG, productId: "gems", purchaseOptionId: "buy", offerId: "launch",
    discountedOffer: { startTime: "2027-01-01T00:00:00Z", redemptionLimit: "1" },
    regionalPricingAndAvailabilityConfigs: [{ regionCode: "US", availability: "AVAILABLE", relativeDiscount: 0.25 }],
  };
  await m.onetimeproducts.purchaseOptions.offers.batchUpdate({
    packageName: PKG, productId: "-", purchaseOptionId: "-",
    requestBody: { requests: [{ oneTimeProductOffer: offer, allowMissing: true, updateMask: "offerTags", regionsVersion: version }] },
  });
  const ref = { packageName: PKG, productId: "gems", purchaseOptionId: "buy", offerId: "launch" };
  await m.onetimeproducts.purchaseOptions.offers.batchUpdateStates({
    packageName: PKG, productId: "-", purchaseOptionId: "-",
    requestBody: { requests: [{ activateOneTimeProductOfferRequest: ref }] },
  });
  const offers = await m.onetimeproducts.purchaseOptions.offers.list({ packageName: PKG, productId: "-", purchaseOptionId: "-" });
  assert.equal(offers.data.oneTimeProductOffers.find((o) => o.offerId === "launch").state, "ACTIVE");
  const listed = await m.onetimeproducts.list({ packageName: PKG });
  assert.ok(listed.data.oneTimeProducts.some((p) => p.productId === "gems"));

  // A draft product and a draft offer deleted in batches.
  await m.onetimeproducts.batchUpdate({
    packageName: PKG,
    requestBody: { requests: [{ oneTimeProduct: { ...gems, productId: "draft" }, allowMissing: true, updateMask: "listings", regionsVersion: version }] },
  });
  await m.onetimeproducts.purchaseOptions.offers.batchUpdate({
    packageName: PKG, productId: "-", purchaseOptionId: "-",
    requestBody: { requests: [{ oneTimeProductOffer: { ...offer, offerId: "draft" }, allowMissing: true, updateMask: "offerTags", regionsVersion: version }] },
  });
  const deletedOffer = await m.onetimeproducts.purchaseOptions.offers.batchDelete({
    packageName: PKG, productId: "-", purchaseOptionId: "-",
    requestBody: { requests: [{ ...ref, offerId: "draft" }] },
  });
  assert.equal(deletedOffer.status, 204);
  const deleted = await m.onetimeproducts.batchDelete({
    packageName: PKG, requestBody: { requests: [{ packageName: PKG, productId: "draft" }] },
  });
  assert.equal(deleted.status, 204);

  const gold = {
    packageName: PKG,
    productId: "gold",
    listings: [{ languageCode: "en-US", title: "Gold" }],
    basePlans: [{
      basePlanId: "monthly",
      autoRenewingBasePlanType: { billingPeriodDuration: "P1M" },
      regionalConfigs: [{ regionCode: "US", price: { currencyCode: "USD", units: "3" } }],
    }],
  };
  const subs = await m.subscriptions.batchUpdate({
    packageName: PKG,
    requestBody: { requests: [{ subscription: gold, allowMissing: true, updateMask: "listings,basePlans", regionsVersion: version }] },
  });
  assert.equal(subs.data.subscriptions[0].basePlans[0].state, "DRAFT");
  await m.subscriptions.basePlans.batchUpdateStates({
    packageName: PKG, productId: "-",
    requestBody: { requests: [{ activateBasePlanRequest: { packageName: PKG, productId: "gold", basePlanId: "monthly" } }] },
  });
  const trial = {
    packageName: PKG, productId: "gold", basePlanId: "monthly", offerId: "trial",
    phases: [{ duration: "P7D", recurrenceCount: 1, regionalConfigs: [{ regionCode: "US", free: {} }] }],
    regionalConfigs: [{ regionCode: "US", newSubscriberAvailability: true }],
  };
  await m.subscriptions.basePlans.offers.batchUpdate({
    packageName: PKG, productId: "-", basePlanId: "-",
    requestBody: { requests: [{ subscriptionOffer: trial, allowMissing: true, updateMask: "phases", regionsVersion: version }] },
  });
  await m.subscriptions.basePlans.offers.batchUpdateStates({
    packageName: PKG, productId: "-", basePlanId: "-",
    requestBody: { requests: [{ activateSubscriptionOfferRequest: { packageName: PKG, productId: "gold", basePlanId: "monthly", offerId: "trial" } }] },
  });
  const subOffers = await m.subscriptions.basePlans.offers.list({ packageName: PKG, productId: "-", basePlanId: "-" });
  assert.equal(subOffers.data.subscriptionOffers.find((o) => o.offerId === "trial").state, "ACTIVE");
  const subList = await m.subscriptions.list({ packageName: PKG });
  assert.ok(subList.data.subscriptions.some((s) => s.productId === "gold"));

  const migration = {
    packageName: PKG, productId: "gold", basePlanId: "monthly", regionsVersion: version,
    regionalPriceMigrations: [{ regionCode: "US", oldestAllowedPriceVersionTime: "2026-01-01T00:00:00Z", priceIncreaseType: "PRICE_INCREASE_TYPE_OPT_IN" }],
  };
  const one = await m.subscriptions.basePlans.migratePrices({
    packageName: PKG, productId: "gold", basePlanId: "monthly", requestBody: migration,
  });
  assert.equal(one.status, 200);
  const many = await m.subscriptions.basePlans.batchMigratePrices({
    packageName: PKG, productId: "-", requestBody: { requests: [migration] },
  });
  assert.equal(many.status, 200);
});

// Every Play Developer API method the server (`pwa-billing`) calls, by discovery id: the
// tests above made each one through the official client (the emulator counts calls by id).
const SERVER_CALLS = [
  "androidpublisher.purchases.products.get",
  "androidpublisher.purchases.products.acknowledge",
  "androidpublisher.purchases.products.consume",
  "androidpublisher.purchases.subscriptionsv2.get",
  "androidpublisher.purchases.subscriptions.acknowledge",
  "androidpublisher.orders.get",
  "androidpublisher.orders.batchget",
  "androidpublisher.purchases.voidedpurchases.list",
  "androidpublisher.externaltransactions.createexternaltransaction",
  "androidpublisher.externaltransactions.getexternaltransaction",
  "androidpublisher.externaltransactions.refundexternaltransaction",
  "androidpublisher.inappproducts.list",
  "androidpublisher.monetization.convertRegionPrices",
  "androidpublisher.monetization.onetimeproducts.list",
  "androidpublisher.monetization.onetimeproducts.batchUpdate",
  "androidpublisher.monetization.onetimeproducts.batchDelete",
  "androidpublisher.monetization.onetimeproducts.purchaseOptions.batchUpdateStates",
  "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.list",
  "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdate",
  "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdateStates",
  "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchDelete",
  "androidpublisher.monetization.subscriptions.list",
  "androidpublisher.monetization.subscriptions.batchUpdate",
  "androidpublisher.monetization.subscriptions.basePlans.batchUpdateStates",
  "androidpublisher.monetization.subscriptions.basePlans.offers.list",
  "androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdate",
  "androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdateStates",
  "androidpublisher.monetization.subscriptions.basePlans.migratePrices",
  "androidpublisher.monetization.subscriptions.basePlans.batchMigratePrices",
];

test("every method the server calls went through the official client", async () => {
  const counts = await control("GET", "/emulator/v1/calls");
  const missing = SERVER_CALLS.filter((id) => !(counts[id] > 0));
  assert.deepEqual(missing, []);
  assert.ok(counts["oauth2.token"] >= 1, JSON.stringify(counts));
});
