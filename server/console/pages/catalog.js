// Catalog: the catalog file's products and subscriptions with prices, and the drift
// against Play (the read-only plan).
import { el, figures, section, table } from "../dom.js";

export default async function catalog(_params, { api }) {
  const c = await api.page("catalog");
  const parts = [
    el("p", {}, "Catalog file: ", el("code", {}, c.file ?? "none configured")),
    section("Products", table("Products and subscriptions", ["Product id", "Kind", "Title", "Prices"],
      c.products.map((p) => [p.id, p.kind, p.title ?? "—", p.prices.length ? el("ul", { class: "prices" }, p.prices.map((x) => el("li", {}, x))) : "—"]))),
  ];
  if (!c.drift) {
    parts.push(section("Drift against Play", el("p", { class: "error" }, c.driftError ?? "unknown")));
    return parts;
  }
  const d = c.drift;
  const changes = d.writes.length + d.state_changes.length + d.deletes.length;
  parts.push(section("Drift against Play",
    el("p", { "data-figure": "drift" }, changes === 0 ? "In sync: Play has what the file says." : `${changes} change(s) \`pwa-billing catalog apply\` would make.`),
    el("p", { "data-figure": "drift-read-at" }, `Play read at ${c.driftReadAt} (at most once a minute).`),
    figures([
      ["Creates and patches", d.writes.length, "writes"],
      ["Activations and deactivations", d.state_changes.length, "state-changes"],
      ["Deletes", d.deletes.length, "deletes"],
      ["Refused changes", d.refusals.length, "refusals"],
    ]),
    table("Creates and patches", ["Product", "Kind", "Create", "Fields"],
      d.writes.map((w) => [w.id, w.kind, w.create ? "new" : "patch", w.update_mask.join(", ")])),
    table("Activations and deactivations", ["Product", "Kind", "Entry", "To"],
      d.state_changes.map((s) => [s.id, s.kind, s.entry, s.to])),
    table("Deletes", ["Product", "Kind"], d.deletes.map((x) => [x.id, x.kind])),
    table("Refused changes", ["Where", "Why", "Instead"], d.refusals.map((x) => [x.path, x.reason, x.fix]))));
  return parts;
}
