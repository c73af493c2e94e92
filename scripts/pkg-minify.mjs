// Shrinks the npm package's two production files after wasm-pack (issue 23):
//
// 1. The wasm's import, export and module names, by binaryen's own pass
//    (`wasm-opt --minify-imports-and-exports-and-modules`, the binaryen@132 that `make pkg`
//    installs).
//    wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` and the closure shims it
//    exports `…__invoke__h<16 hex digits>`: about 60 bytes per name, twice (wasm and glue),
//    and hex digits hardly compress. The pass renames every import and export to a short
//    name and prints the mapping as JSON (the imports' one module, `./pwa_billing_bg.js`,
//    gets a short name too, read back from the result with Node's `WebAssembly.Module`);
//    the JS glue's import object, its `wasm.<export>`
//    calls and the two `.d.ts` files that list the exports (`InitOutput`, what `init()`
//    resolves to: wasm-bindgen's ABI, not the library's API, which is the `PlayBilling`
//    class) are renamed by that mapping.
// 2. The JS glue itself, minified by esbuild (whitespace, local names, syntax): what an app's
//    bundler does in production, done once here so that a page loading the package without
//    a bundler gets it too. Its types are in pwa_billing.d.ts, kept whole.
//
//   node scripts/pkg-minify.mjs [PKG_DIR=pkg]
//
// Fails, leaving the files as they were, when a name of the mapping is not found exactly
// once in the glue (a wasm-bindgen upgrade that changes the glue's shape).
import { execFileSync } from "node:child_process";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { transform } from "esbuild";

const dir = process.argv[2] ?? "pkg";
const wasmPath = join(dir, "pwa_billing_bg.wasm");
const jsPath = join(dir, "pwa_billing.js");
const typesPaths = [join(dir, "pwa_billing.d.ts"), join(dir, "pwa_billing_bg.wasm.d.ts")];

// The features wasm-bindgen's output uses (wasm-pack's own wasm-opt pass reads them from
// the target_features section, which that pass then strips).
const features = [
  "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue",
];
const minifiedPath = `${wasmPath}.minified`;
const mapping = JSON.parse(
  execFileSync(
    "wasm-opt",
    [...features, "--minify-imports-and-exports-and-modules", wasmPath, "-o", minifiedPath],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  ),
);

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
let js = readFileSync(jsPath, "utf8");
const types = typesPaths.map((path) => readFileSync(path, "utf8"));
function renameOnce(text, pattern, replacement, what) {
  const matches = text.match(new RegExp(pattern.source, "gm"));
  if (matches?.length !== 1) {
    rmSync(minifiedPath);
    throw new Error(`${jsPath}: ${matches?.length ?? 0} matches for ${what}, expected 1`);
  }
  return text.replace(pattern, replacement);
}
// The module is the import object's one key (`"./pwa_billing_bg.js": {`).
const [module, ...otherModules] = new Set(mapping.imports.map(([module]) => module));
const [short, ...otherShort] = new Set(
  WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(minifiedPath))).map(
    (entry) => entry.module,
  ),
);
if (otherModules.length || otherShort.length) {
  rmSync(minifiedPath);
  throw new Error(`${wasmPath}: imports from more than one module`);
}
js = renameOnce(js, new RegExp(`^(\\s+)"${escape(module)}":`, "m"), `$1${short}:`, module);
// An import is a key of the glue's import object (`    __wbg_new_…: function(…`).
for (const [, field, short] of mapping.imports) {
  js = renameOnce(js, new RegExp(`^(\\s+)${escape(field)}:`, "m"), `$1${short}:`, field);
}
// An export is called as `wasm.name` in the glue and listed as `readonly name:` (and
// `export const name:`) in the declaration files.
for (const [field, short] of mapping.exports) {
  js = js.replace(new RegExp(`\\bwasm\\.${escape(field)}\\b`, "g"), `wasm.${short}`);
  for (let index = 0; index < types.length; index++) {
    types[index] = types[index].replace(
      new RegExp(`^(\\s*(?:readonly|export const) )${escape(field)}:`, "m"),
      `$1${short}:`,
    );
  }
}

const minified = await transform(js, { format: "esm", minify: true, legalComments: "none" });
// The comment that points Deno (and other `@ts-self-types` readers) at the types.
const selfTypes = js.match(/^\/\* @ts-self-types=.*\*\/$/m)?.[0];
const before = readFileSync(wasmPath).length;
renameSync(minifiedPath, wasmPath);
writeFileSync(jsPath, (selfTypes ? `${selfTypes}\n` : "") + minified.code);
typesPaths.forEach((path, index) => writeFileSync(path, types[index]));
console.log(
  `pkg-minify: ${mapping.imports.length} imports and ${mapping.exports.length} exports renamed ` +
    `(wasm ${before} -> ${readFileSync(wasmPath).length} B), ` +
    `glue minified (${Buffer.byteLength(readFileSync(jsPath))} B)`,
);
