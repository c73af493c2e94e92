// Reconciliation: imported months, their status, each discrepancy with what to do.
import { el, figures, section, table } from "../dom.js";

const GROUPS = [
  ["chargedNotGranted", "Charged by Google, not granted here"],
  ["grantedNotCharged", "Granted here, not charged by Google"],
  ["refundedStillEntitled", "Refunded by Google, still entitled here"],
];

export default async function reconciliation(params, { api }) {
  const r = await api.page("reconciliation", { month: params.month });
  const months = table("Imported months", ["Month", "Files", "Rows", "Last import"],
    r.months.map((m) => [el("a", { href: `#/reconciliation?month=${encodeURIComponent(m.month)}` }, m.month), m.files, m.rows, m.importedAt]),
    { empty: "no report imported yet (pwa-billing reports import)." });
  const status = { clean: "clean: everything adds up", discrepancies: "discrepancies to look at", not_imported: "not imported" };
  const asOf = r.computedAt ? ` (as of ${r.computedAt})` : "";
  const parts = [months, el("p", { class: "status", "data-figure": "status" }, `${r.month ?? "No month"}: ${status[r.status]}${asOf}`)];
  const rec = r.reconciliation;
  if (!rec) return parts;
  parts.push(figures([
    ["Discrepancies", rec.discrepancies, "discrepancies"],
    ["Report rows", rec.reportRows, "rows"],
    ["Grants checked", rec.grantsChecked, "grants"],
    ["Test purchases excluded", rec.testPurchasesExcluded, "tests"],
    ["Not yet reported", rec.notYetReported, "unreported"],
  ]));
  for (const [key, title] of GROUPS) {
    const list = rec[key] ?? [];
    parts.push(section(`${title} (${list.length})`,
      list.length ? el("p", { class: "advice" }, "What to do: ", r.advice[key]) : null,
      table(title, ["Order id", "Product", "Account", "State", "Amount", "At"],
        list.map((d) => [d.orderId, d.productId, d.accountId ?? "—", d.state ?? "—",
          d.amount ? `${d.amount} ${d.currency ?? ""}` : "—", d.at ?? "—"]))));
  }
  parts.push(section("Totals", table("Totals by report, product and currency",
    ["Report", "Product", "Currency", "Orders", "Charged", "Refunded", "Net"],
    rec.totals.map((t) => [t.source, t.productId, t.currency, t.orders, t.charged, t.refunded, t.net]))));
  return parts;
}
