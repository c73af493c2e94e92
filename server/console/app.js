// The console's shell: sign-in, navigation between the pages (#/overview, #/health, …),
// and showing a page's data or its error.
import * as api from "./api.js";
import { el, replace } from "./dom.js";
import overview from "./pages/overview.js";
import health from "./pages/health.js";
import lookup from "./pages/lookup.js";
import reconciliation from "./pages/reconciliation.js";
import catalog from "./pages/catalog.js";
import external from "./pages/external.js";

const PAGES = {
  overview: { title: "Overview", render: overview },
  health: { title: "Health", render: health },
  lookup: { title: "Lookup", render: lookup },
  reconciliation: { title: "Reconciliation", render: reconciliation },
  catalog: { title: "Catalog", render: catalog },
  "external-transactions": { title: "External transactions", render: external },
};

const $ = (id) => document.getElementById(id);

function route() {
  const hash = location.hash.startsWith("#/") ? location.hash.slice(2) : "overview";
  const [name, query = ""] = hash.split("?");
  return { name: PAGES[name] ? name : "overview", params: Object.fromEntries(new URLSearchParams(query)) };
}

function showSignIn(message = "") {
  $("nav").hidden = true;
  $("sign-out").hidden = true;
  replace($("page"));
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
  document.title = "Sign in · pwa-billing console";
  $("api-key").focus();
}

let rendering = 0;

async function show({ focus = true } = {}) {
  const { name, params } = route();
  const page = PAGES[name];
  const turn = ++rendering;
  $("sign-in").hidden = true;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  for (const a of $("nav").querySelectorAll("a")) {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${page.title} · pwa-billing console`;
  const heading = el("h1", { tabindex: -1 }, page.title);
  const body = el("div", { class: "loading", "aria-busy": "true" }, "Loading…");
  replace($("page"), heading, body);
  if (focus) heading.focus();
  try {
    const content = await page.render(params, { api, go });
    if (turn !== rendering) return;
    replace(body, content);
    body.className = "";
    body.removeAttribute("aria-busy");
    $("page").dataset.loaded = name;
  } catch (error) {
    if (turn !== rendering) return;
    if (error instanceof api.ApiError && error.status === 401) return showSignIn(error.message);
    replace(body, el("p", { class: "error", role: "alert" }, `Could not load ${page.title}: ${error.message}`));
    body.removeAttribute("aria-busy");
  }
}

/** Goes to `#/{name}?{params}`. */
function go(name, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
  location.hash = `#/${name}${query ? `?${query}` : ""}`;
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = $("api-key");
  try {
    await api.signIn(key.value.trim());
    key.value = "";
    await show();
  } catch (error) {
    showSignIn(error.message);
  }
});

$("sign-out").addEventListener("click", async () => {
  await api.signOut().catch(() => {});
  showSignIn("Signed out.");
});

$("skip").addEventListener("click", (event) => {
  event.preventDefault();
  $("main").focus();
});

window.addEventListener("hashchange", () => {
  if (location.hash.startsWith("#/") && $("sign-in").hidden) show();
});

api.session().then(() => show({ focus: false }), () => showSignIn());
