// Service worker of the demo store: caches the app shell so the app opens offline.
// Network first for the shell (a new deploy shows at once), the cache when offline.
// Billing, the backend (/v1/) and the emulator are never cached: they need a connection.
const CACHE = "demo-store-v1";
const SHELL = [
  "/",
  "/index.html",
  "/app.js",
  "/style.css",
  "/manifest.webmanifest",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/pkg/pwa_billing.js",
  "/pkg/pwa_billing_bg.wasm",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const shell = event.request.method === "GET" && url.origin === self.location.origin &&
    (event.request.mode === "navigate" || SHELL.includes(url.pathname));
  if (!shell) return; // the network as usual
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request.mode === "navigate" ? "/" : event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request.mode === "navigate" ? "/" : event.request)),
  );
});
