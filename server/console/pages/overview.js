// Overview: entitlements by state, grants per day (30 days), revenue and refunds per month
// and currency from the imported reports; test purchases apart.
import { barChart } from "../charts.js";
import { el, figures, section, table } from "../dom.js";

export default async function overview(_params, { api }) {
  const o = await api.page("overview");
  const count = (state) => o.entitlements.find((e) => e.state === state)?.count ?? 0;
  const entitled = ["active", "grace_period", "canceled"].reduce((sum, s) => sum + count(s), 0);
  const tests = o.entitlements.reduce((sum, e) => sum + e.test, 0);
  const grants = o.grantsPerDay.reduce((sum, d) => sum + d.grants, 0);
  const sales = o.revenue.some((r) => r.source === "sales") ? "sales" : "earnings";
  const revenue = o.revenue.filter((r) => r.source === sales);
  const currencies = [...new Set(revenue.map((r) => r.currency))];
  return [
    figures([
      ["Active", count("active"), "active"],
      ["Entitled (active, grace period, canceled)", entitled, "entitled"],
      ["Grants, last 30 days", grants, "grants30"],
      ["Test purchases (apart)", tests, "tests"],
    ]),
    section("Entitlements by state",
      table("Purchases by state", ["State", "Purchases", "Test purchases"],
        o.entitlements.map((e) => [e.state, e.count, e.test]))),
    section("Grants per day",
      barChart("Grants per day, last 30 days (UTC)", o.grantsPerDay.map((d) => d.day.slice(5)), [
        { label: "Grants", values: o.grantsPerDay.map((d) => d.grants) },
        { label: "Test grants", values: o.grantsPerDay.map((d) => d.testGrants) },
      ]),
      table("Grants per day", ["Day", "Grants", "Test grants"],
        o.grantsPerDay.filter((d) => d.grants + d.testGrants > 0).map((d) => [d.day, d.grants, d.testGrants]),
        { empty: "no grant in the last 30 days." })),
    section(`Revenue and refunds (${sales} reports)`,
      currencies.map((currency) => {
        const rows = revenue.filter((r) => r.currency === currency);
        return barChart(`Charged and refunded per month, ${currency}`, rows.map((r) => r.month), [
          { label: `Charged (${currency})`, values: rows.map((r) => r.chargedMicros / 1e6) },
          { label: `Refunded (${currency})`, values: rows.map((r) => r.refundedMicros / 1e6) },
        ]);
      }),
      table("Revenue and refunds per month and currency",
        ["Month", "Report", "Currency", "Charges", "Charged", "Refunds", "Refunded"],
        o.revenue.map((r) => [r.month, r.source, r.currency, r.charges, r.charged, r.refunds, r.refunded]),
        { empty: "no financial report imported yet (pwa-billing reports import)." })),
  ];
}
