// Misuses that the generated types must reject (checked by consumer.test.mjs, which expects
// tsc to fail on each marked line). Not part of the tsconfig project.
import { PlayBilling, type SubscriptionChange } from "pwa-billing";

export async function wrong(billing: PlayBilling): Promise<void> {
  // EXPECT-ERROR: Play disabled withoutProration; the type leaves it out.
  const change: SubscriptionChange = { fromItemId: "a", fromPurchaseToken: "t", toItemId: "b", mode: "withoutProration" };
  await billing.changeSubscription(change);
  // EXPECT-ERROR: getDetails takes a list of ids.
  await billing.getDetails("coins_100");
  // EXPECT-ERROR: prices are objects, not numbers.
  const price: number = (await billing.getDetails(["coins_100"]))[0].price;
  // EXPECT-ERROR: backendUrl is required.
  await PlayBilling.connect({ locale: "en" });
  // EXPECT-ERROR: an entitlement's state is one of the listed strings.
  const state: "owned" = (await billing.entitlements())[0].state;
  console.log(price, state);
}
