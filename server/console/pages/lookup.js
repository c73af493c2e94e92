// Lookup: an account id, purchase token or order id → the account's purchases, each with
// its timeline.
import { el, figures, section, time } from "../dom.js";

export default async function lookup(params, { api, go }) {
  const input = el("input", { id: "lookup-q", name: "q", type: "search", required: true, value: params.q ?? "", autocomplete: "off", spellcheck: "false" });
  const form = el("form", { class: "lookup", role: "search" },
    el("label", { for: "lookup-q" }, "Account id, purchase token or order id"),
    input, el("button", { type: "submit" }, "Look up"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go("lookup", { q: input.value.trim() });
  });
  if (!params.q) return [form];
  const r = await api.page("lookup", { q: params.q });
  const by = { purchase_token: "purchase token", order_id: "order id", account_id: "account id" };
  if (!r.matchedBy) return [form, el("p", { class: "empty", "data-figure": "nothing" }, "Nothing matches ", el("code", {}, r.query), ".")];
  return [
    form,
    el("p", { class: "matched" }, `Matched by ${by[r.matchedBy]}: account `, el("code", { "data-figure": "account" }, r.accountId),
      `, ${r.purchases.length} purchase(s).`),
    r.purchases.map((p) => el("article", { class: "purchase", "data-token": p.purchaseToken },
      el("h2", {}, p.itemId, " — ", p.state, p.test ? " (test)" : ""),
      el("p", { class: "token" }, "Purchase token: ", el("code", {}, p.purchaseToken)),
      figures([
        ["Order id", p.orderId ?? "—", "order"],
        ["Kind", p.kind, "kind"],
        ["Quantity", p.quantity, "quantity"],
        ["Acknowledged", p.acknowledged ? "yes" : "no", "acknowledged"],
        ["Access until", time(p.expiresAt), "expires"],
      ]),
      section("Timeline", el("ol", { class: "timeline" }, p.timeline.map((e) =>
        el("li", { "data-kind": e.kind }, time(e.at), " ", el("strong", {}, e.kind.replaceAll("_", " ")), ": ", e.detail)))))),
  ];
}
