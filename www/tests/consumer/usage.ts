// Every public API of pwa-billing, used with its declared types. Compiled by
// `tsc --noEmit --strict`: a wrong name, a missing field or an `any` leaking into user code
// (see wrong-usage.ts) fails the check.
import init, {
  PlayBilling,
  type Amount,
  type BillingError,
  type BillingErrorName,
  type ConnectOptions,
  type DiagnoseOptions,
  type Diagnosis,
  type Entitlement,
  type EntitlementKind,
  type EntitlementState,
  type ItemDetails,
  type PendingToken,
  type PurchaseDetails,
  type PurchaseResult,
  type ReplacementMode,
  type SubscriptionChange,
  type Verification,
} from "pwa-billing";

function describe(amount: Amount): string {
  return `${amount.value} ${amount.currency}`;
}

function isBillingError(error: unknown): error is BillingError {
  return error instanceof Error && typeof (error as Partial<BillingError>).code === "string";
}

export async function main(): Promise<string[]> {
  await init();
  const lines: string[] = [];

  const supported: boolean = PlayBilling.isSupported();
  const options: DiagnoseOptions = { serviceProvider: "https://play.google.com/billing" };
  const report: Diagnosis = await PlayBilling.diagnose(options);
  const fromDefault: Diagnosis = await PlayBilling.diagnose();
  lines.push(`${supported} ${report.supported} ${report.problems.join(",")} ${fromDefault.apiVersion ?? "none"}`);
  const manage: string = PlayBilling.manageSubscriptionUrl("sub_monthly", "com.example.pwa");
  lines.push(manage);

  const connectOptions: ConnectOptions = {
    backendUrl: "https://example.com/v1",
    serviceProvider: "https://play.google.com/billing",
    authToken: async () => "session-token",
    locale: "de-DE",
  };
  const withStringToken: ConnectOptions = { backendUrl: "/v1", authToken: "session-token" };
  lines.push(withStringToken.backendUrl);
  let billing: PlayBilling;
  try {
    billing = await PlayBilling.connect(connectOptions);
  } catch (error) {
    if (!isBillingError(error)) throw error;
    const name: BillingErrorName = error.name;
    lines.push(`${name}: ${error.code} ${error.message}`);
    return lines;
  }
  const provider: string = billing.serviceProvider;
  lines.push(provider);

  const items: ItemDetails[] = await billing.getDetails(["coins_100", "sub_monthly"]);
  for (const item of items) {
    const type: "product" | "subscription" | "unknown" | undefined = item.type;
    const icons: string[] = item.iconURLs;
    const cycles: number | undefined = item.introductoryPriceCycles;
    lines.push([
      item.itemId, item.title, item.description ?? "", describe(item.price), type ?? "", icons.length,
      item.subscriptionPeriod ?? "", item.freeTrialPeriod ?? "",
      item.introductoryPrice ? describe(item.introductoryPrice) : "", item.introductoryPricePeriod ?? "",
      cycles ?? 0, item.formattedPrice, item.formattedIntroductoryPrice ?? "",
    ].join(" "));
  }

  try {
    const bought: PurchaseResult = await billing.purchase("coins_100");
    const verification: Verification = bought.verification;
    lines.push(`${bought.itemId} ${bought.purchaseToken} ${verification.acknowledged}`);
    await billing.consume(bought.purchaseToken);
  } catch (error) {
    if (isBillingError(error) && error.name === "VerificationError") lines.push(`refused: ${error.code}`);
    else throw error;
  }

  const owned: PurchaseDetails[] = await billing.listPurchases();
  const history: PurchaseDetails[] = await billing.listPurchaseHistory();
  const monthly = owned.find((p) => p.itemId === "sub_monthly");
  if (monthly) {
    const mode: ReplacementMode = "chargeProratedPrice";
    const change: SubscriptionChange = {
      fromItemId: monthly.itemId,
      fromPurchaseToken: monthly.purchaseToken,
      toItemId: "sub_yearly",
      mode,
    };
    const changed: PurchaseResult = await billing.changeSubscription(change);
    lines.push(changed.verification.entitlement.state);
  }
  lines.push(`${owned.length} owned, ${history.length} in history`);

  const restored: Entitlement[] = await billing.restore();
  const current: Entitlement[] = await billing.entitlements();
  for (const e of [...restored, ...current]) {
    const kind: EntitlementKind = e.kind;
    const state: EntitlementState = e.state;
    const expires: string | undefined = e.expiresAt;
    lines.push(`${e.id} ${e.itemId} ${kind} ${state} ${e.entitled} ${e.quantity} ${expires ?? "-"} ${e.test} ${e.purchaseToken}`);
  }
  const waiting: PendingToken[] = billing.pendingTokens();
  for (const p of waiting) {
    lines.push(`${p.itemId} ${p.purchaseToken} ${p.addedAt} ${p.attempts} ${p.nextAttemptAt} ${p.lastError ?? ""}`);
  }
  return lines;
}
