// npm consumers of pwa-billing: the built package (pkg/, from `make pkg`) installed as
// node_modules/pwa-billing of a tiny app, which Vite 7 builds and `tsc --noEmit --strict`
// type-checks against the generated .d.ts (and which must reject misuse).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "vite";
import { ROOT } from "./support.mjs";

const PKG = join(ROOT, "pkg");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
let app;

before(async () => {
  await stat(join(PKG, "package.json")).catch(() => {
    throw new Error("pkg/ is missing: run `make pkg` first (the consumer check installs the built package)");
  });
  app = await mkdtemp(join(tmpdir(), "pwa-billing-consumer-"));
  await cp(join(ROOT, "www", "tests", "consumer"), app, { recursive: true });
  await mkdir(join(app, "node_modules"));
  await symlink(PKG, join(app, "node_modules", "pwa-billing"), "dir");
});
after(async () => {
  if (app) await rm(app, { recursive: true, force: true });
});

function tsc(project) {
  const result = spawnSync(process.execPath, [TSC, "-p", project], { cwd: app, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test("the package is an ES module with an exports map that names its types", async () => {
  const manifest = JSON.parse(await readFile(join(PKG, "package.json"), "utf8"));
  assert.equal(manifest.name, "pwa-billing");
  assert.equal(manifest.type, "module");
  assert.equal(manifest.sideEffects, false);
  const entry = manifest.exports?.["."] ?? manifest.exports;
  assert.equal(typeof entry?.types, "string", "exports names the .d.ts");
  await stat(join(PKG, entry.types));
});

test("Vite 7 builds an app that imports pwa-billing; the bundle has no sandbox code", async () => {
  const outDir = join(app, "dist");
  await build({ root: app, configFile: false, logLevel: "warn", build: { outDir, emptyOutDir: true } });
  const assets = await readdir(join(outDir, "assets"));
  assert.ok(assets.some((f) => f.endsWith(".wasm")), `the wasm is emitted as an asset: ${assets}`);
  const scripts = assets.filter((f) => f.endsWith(".js"));
  assert.ok(scripts.length > 0, "a JS bundle");
  for (const file of scripts) {
    const code = await readFile(join(outDir, "assets", file), "utf8");
    assert.ok(code.includes("isSupported"), `${file} contains the library's glue`);
    assert.ok(!code.includes("__playSandbox"), `${file} contains no sandbox code`);
  }
  assert.match(await readFile(join(outDir, "index.html"), "utf8"), /<script type="module"[^>]+assets\//);
});

test("tsc --noEmit --strict accepts a file that uses every public API", () => {
  const { status, output } = tsc("tsconfig.json");
  assert.equal(status, 0, output);
});

test("the types reject misuse: each EXPECT-ERROR line fails to compile, nothing else does", async () => {
  const config = JSON.parse(await readFile(join(app, "tsconfig.json"), "utf8"));
  config.files = ["wrong-usage.ts"];
  await writeFile(join(app, "tsconfig.wrong.json"), JSON.stringify(config));
  const { status, output } = tsc("tsconfig.wrong.json");
  assert.notEqual(status, 0, "tsc must fail on wrong-usage.ts");
  const source = (await readFile(join(app, "wrong-usage.ts"), "utf8")).split("\n");
  const expected = source.flatMap((line, i) => (line.includes("EXPECT-ERROR") ? [i + 2] : []));
  const actual = [...new Set([...output.matchAll(/wrong-usage\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1])))];
  assert.deepEqual(actual.sort((a, b) => a - b), expected, output);
});
