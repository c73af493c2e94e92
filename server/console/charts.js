// Bar charts drawn by uPlot (vendored, pinned: see docs/console.md). The chart is a picture
// of the table that always follows it, so it is hidden from assistive technology.
import { el } from "./dom.js";

const COLORS = ["#1a56db", "#c2410c", "#047857", "#7e22ce", "#b91c1c", "#0e7490"];

/**
 * A chart over `labels` along x: the first entry of `series` ({label, values}) as bars, the
 * others as lines with points. Returns a <figure> that resizes with its container.
 */
export function barChart(title, labels, series) {
  const plot = el("div", { class: "plot", "aria-hidden": "true" });
  const legend = el("ul", { class: "legend", "aria-hidden": "true" },
    series.map((s, i) => el("li", {}, el("span", { class: `swatch c${i}` }), i === 0 ? `${s.label} (bars)` : `${s.label} (line)`)));
  const figure = el("figure", { class: "chart" }, el("figcaption", {}, title), plot, legend);
  const uPlot = globalThis.uPlot;
  if (!uPlot) return figure;
  const xs = labels.map((_, i) => i);
  const opts = {
    width: 600,
    height: 220,
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: false, range: [-0.5, Math.max(labels.length - 0.5, 0.5)] }, y: { range: (_, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { values: (_, ticks) => ticks.map((t) => labels[t] ?? ""), space: 48, stroke: "#333", grid: { show: false } },
      { stroke: "#333", size: 60 },
    ],
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: COLORS[i % COLORS.length],
      width: 2,
      fill: i === 0 ? COLORS[0] : undefined,
      paths: i === 0 ? uPlot.paths.bars({ size: [0.6, 48] }) : uPlot.paths.linear(),
      points: { show: i !== 0, size: 6 },
    }))],
  };
  const chart = new uPlot(opts, [xs, ...series.map((s) => s.values)], plot);
  const fit = () => chart.setSize({ width: Math.max(260, figure.clientWidth - 2), height: 220 });
  new ResizeObserver(fit).observe(figure);
  return figure;
}
