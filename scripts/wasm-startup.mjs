// What a user feels of the npm package's size: the time from the wasm's bytes in memory to
// a ready module (compile + instantiate, through the package's own `init`), in Debian's
// Chromium, headless, with the CPU throttled 4x through the DevTools protocol (a low-end
// Android phone). Prints the median of RUNS, and the fastest and slowest.
//
//   node scripts/wasm-startup.mjs [PKG_DIR=pkg] [RUNS=20]
//
// The page is served from PKG_DIR by request interception (no server). Each run imports a
// fresh copy of the JS glue (its `init` runs once per module instance) and hands it the
// bytes with one extra custom section holding the run's number, so V8 never answers from
// its in-process cache of modules compiled from the same bytes.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const dir = resolve(process.argv[2] ?? "pkg");
const runs = Number(process.argv[3] ?? 20);
const origin = "http://startup.test";
const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const page = await browser.newPage();
  await page.route(`${origin}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/") {
      return route.fulfill({ contentType: types[".html"], body: "<!doctype html><title>startup</title>" });
    }
    const file = join(dir, path.slice(1));
    const type = types[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream";
    return route.fulfill({ contentType: type, body: readFileSync(file) });
  });
  await page.goto(`${origin}/`);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  const times = await page.evaluate(async (runs) => {
    const bytes = new Uint8Array(await (await fetch("/pwa_billing_bg.wasm")).arrayBuffer());
    // A custom section (id 0): size, name length, name "run", then one payload byte.
    const unique = (run) => {
      const copy = new Uint8Array(bytes.length + 7);
      copy.set(bytes);
      copy.set([0, 5, 3, 0x72, 0x75, 0x6e, run & 0xff], bytes.length);
      return copy;
    };
    const times = [];
    for (let run = 0; run < runs; run++) {
      const glue = await import(`/pwa_billing.js?run=${run}`);
      const module_or_path = unique(run);
      const start = performance.now();
      await glue.default({ module_or_path });
      times.push(performance.now() - start);
      if (typeof glue.PlayBilling?.isSupported !== "function") throw new Error("not initialised");
    }
    return times;
  }, runs);
  times.sort((a, b) => a - b);
  const median = runs % 2 ? times[(runs - 1) / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
  const size = readFileSync(join(dir, "pwa_billing_bg.wasm")).length;
  console.log(
    `wasm compile + instantiate (Chromium, CPU 4x slower, ${size} B wasm): median ${median.toFixed(1)} ms ` +
      `of ${runs} (fastest ${times[0].toFixed(1)} ms, slowest ${times[runs - 1].toFixed(1)} ms)`,
  );
} finally {
  await browser.close();
}
