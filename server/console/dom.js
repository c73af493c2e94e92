// Building the page from data: every value is put in as text (text nodes, textContent),
// never parsed as HTML, so an account id or a product title holding markup shows as text.

/** An element with attributes and children (nodes, or anything else as text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/** A table in a keyboard-scrollable region: `columns` are header texts, `rows` arrays of cells. */
export function table(caption, columns, rows, { empty = "None." } = {}) {
  if (rows.length === 0) return el("p", { class: "empty" }, `${caption}: ${empty}`);
  return el("div", { class: "table-wrap", role: "region", "aria-label": caption, tabindex: 0 },
    el("table", {},
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((cell, i) =>
        i === 0 ? el("th", { scope: "row" }, cell) : el("td", {}, cell)))))));
}

/** Figures as a description list: `[label, value, testId]`. */
export function figures(items) {
  return el("dl", { class: "figures" }, items.map(([label, value, id]) =>
    el("div", { "data-figure": id }, el("dt", {}, label), el("dd", {}, value))));
}

/** A level (green, amber, red) as a badge whose text says it (not colour alone). */
export function badge(level) {
  const words = { green: "Green", amber: "Amber", red: "Red" };
  return el("span", { class: `badge ${level}` }, words[level] ?? level);
}

/** A time in the reader's locale, with the exact value in `datetime`. */
export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return el("time", { datetime: iso }, Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"));
}

/** A page section with its heading. */
export function section(title, ...children) {
  return el("section", {}, el("h2", {}, title), children);
}
