// www/twa-manifest.json, checked with Bubblewrap's own library (@bubblewrap/core): it loads
// and validates, and its project generator (which needs no Android SDK) produces a TWA
// project with Play Billing wired in. The generator fetches the icons and the web manifest
// by URL, so www/ is served on a free localhost port and the manifest's URLs point there.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import bubblewrap from "@bubblewrap/core";
import { ROOT } from "./support.mjs";

const { TwaGenerator, TwaManifest, ConsoleLog } = bubblewrap;
const WWW = join(ROOT, "www");
const TYPES = { ".png": "image/png", ".webmanifest": "application/manifest+json", ".json": "application/json" };

let server;
let origin;

before(async () => {
  server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, "http://x").pathname));
    try {
      const body = await readFile(join(WWW, path));
      response.writeHead(200, { "Content-Type": TYPES[extname(path)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  origin = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((done) => {
  server.close(done);
  server.closeAllConnections(); // the generator's HTTP client keeps its connections alive
}));

test("twa-manifest.json loads and passes Bubblewrap's validation, with Play Billing on", async () => {
  const manifest = await TwaManifest.fromFile(join(WWW, "twa-manifest.json"));
  assert.equal(manifest.validate(), null);
  assert.equal(manifest.packageId, "com.example.pwa");
  assert.equal(manifest.features.playBilling?.enabled, true);
  // Bubblewrap's CLI refuses Play Billing without notification delegation.
  assert.equal(manifest.enableNotifications, true);
  const web = JSON.parse(await readFile(join(WWW, "manifest.webmanifest"), "utf8"));
  for (const url of [manifest.iconUrl, manifest.maskableIconUrl, manifest.webManifestUrl]) {
    const path = new URL(url).pathname;
    await stat(join(WWW, path)); // every URL it names is a file of the demo
  }
  assert.ok(web.icons.some((icon) => icon.purpose === "maskable" && new URL(manifest.maskableIconUrl).pathname === icon.src));
  assert.equal(new URL(manifest.startUrl, "http://x").pathname, new URL(web.start_url, "http://x").pathname);
});

test("Bubblewrap generates a TWA project with the billing dependency and the payment activity", async () => {
  const json = JSON.parse(await readFile(join(WWW, "twa-manifest.json"), "utf8"));
  for (const key of ["iconUrl", "maskableIconUrl", "webManifestUrl", "fullScopeUrl"]) {
    json[key] = new URL(new URL(json[key]).pathname, origin).toString();
  }
  const target = await mkdtemp(join(tmpdir(), "pwa-billing-twa-"));
  try {
    await new TwaGenerator().createTwaProject(target, new TwaManifest(json), new ConsoleLog("bubblewrap", false));
    const gradle = await readFile(join(target, "app", "build.gradle"), "utf8");
    assert.match(gradle, /com\.google\.androidbrowserhelper:billing:/, "the Play Billing dependency");
    assert.match(gradle, /applicationId "com\.example\.pwa"/);
    const android = await readFile(join(target, "app", "src", "main", "AndroidManifest.xml"), "utf8");
    assert.match(android, /playbilling\.provider\.PaymentActivity/, "the payment activity");
    assert.match(android, /org\.chromium\.intent\.action\.PAY/);
    assert.match(android, /https:\/\/play\.google\.com\/billing/, "the default payment method");
    assert.match(android, /playbilling\.provider\.PaymentService/);
    const delegation = await readFile(join(target, "app", "src", "main", "java", "com", "example", "pwa", "DelegationService.java"), "utf8");
    assert.match(delegation, /DigitalGoodsRequestHandler/, "the Digital Goods delegation handler");
    await stat(join(target, "app", "src", "main", "res", "mipmap-xxxhdpi", "ic_launcher.png"));
  } finally {
    await rm(target, { recursive: true, force: true });
  }
});
