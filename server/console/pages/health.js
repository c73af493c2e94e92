// Health: each check green, amber or red, with what was seen and the threshold applied.
import { badge, el, section } from "../dom.js";

export default async function health(_params, { api }) {
  const h = await api.page("health");
  return [
    el("p", { class: "overall", "data-figure": "level" }, "Overall: ", badge(h.level), ` (read ${h.generatedAt})`),
    section("Checks", el("ul", { class: "checks" }, h.checks.map((c) =>
      el("li", { class: `check ${c.level}`, "data-check": c.id },
        el("h3", {}, badge(c.level), " ", c.title),
        el("p", { class: "value" }, c.value),
        el("p", { class: "threshold" }, "Threshold: ", c.threshold))))),
  ];
}
