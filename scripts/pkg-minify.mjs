// Shrinks the npm package's two production files after wasm-pack (issue 23):
//
// 1. The wasm's import names. wasm-bindgen names each import `__wbg_<name>_<16 hex digits>`
//    under the module "./pwa_billing_bg.js", and the JS glue names its import object's keys
//    the same way: about 60 bytes per import, twice, and hex digits hardly compress (-2.5 KB
//    gzip over 110 imports). Each import is renamed to a short name (`a`, `b`, … `aa`) and
//    its module to `w`, in the wasm's import section and in the glue's import object. The
//    exports the glue calls (`wasm.playbilling_connect`, `wasm.__wbindgen_malloc`, the
//    closure shims with their hashes) are renamed likewise, in the wasm's export section,
//    the glue and the two `.d.ts` files that list them (`InitOutput`, what `init()` resolves
//    to: wasm-bindgen's ABI, not the library's API, which is the `PlayBilling` class), all
//    but `memory`.
// 2. The JS glue itself, minified by esbuild (whitespace, local names, syntax): what an app's
//    bundler does in production, done once here so that a page loading the package without
//    a bundler gets it too. Its types are in pwa_billing.d.ts, kept whole.
//
//   node scripts/pkg-minify.mjs [PKG_DIR=pkg]
//
// Fails, leaving the files as they were, when the glue does not have exactly one key per
// import (a wasm-bindgen upgrade that changes the glue's shape).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { transform } from "esbuild";

const dir = process.argv[2] ?? "pkg";
const wasmPath = join(dir, "pwa_billing_bg.wasm");
const jsPath = join(dir, "pwa_billing.js");
const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, "utf8");

// --- LEB128 and names -------------------------------------------------------------------
function readU32(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}
function u32(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}
const utf8 = new TextEncoder();
const decoder = new TextDecoder();
function name(text) {
  const bytes = utf8.encode(text);
  return [...u32(bytes.length), ...bytes];
}
// a … z, A … Z, then aa, ab, …: short, and valid as unquoted JS property names.
const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
function shortName(index) {
  let text = "";
  do {
    text = letters[index % letters.length] + text;
    index = Math.floor(index / letters.length) - 1;
  } while (index >= 0);
  return text;
}

// --- the import section -----------------------------------------------------------------
if (readU32(wasm, 4)[0] !== 1 || wasm.readUInt32LE(0) !== 0x6d736100) {
  throw new Error(`${wasmPath} is not a wasm module`);
}
const sections = [];
for (let at = 8; at < wasm.length; ) {
  const id = wasm[at];
  const [size, start] = readU32(wasm, at + 1);
  sections.push({ id, start, end: start + size, whole: wasm.subarray(at, start + size) });
  at = start + size;
}
const imports = sections.find((section) => section.id === 2);
if (!imports) throw new Error(`${wasmPath} has no import section`);

// An import's description, copied as it is (function, table, memory, global or tag).
function skipLimits(bytes, at) {
  const flags = bytes[at++];
  at = readU32(bytes, at)[1];
  return flags & 1 ? readU32(bytes, at)[1] : at;
}
function skipDescription(bytes, at) {
  const kind = bytes[at++];
  switch (kind) {
    case 0: return readU32(bytes, at)[1]; // function: type index
    case 1: return skipLimits(bytes, at + 1); // table: reference type, limits
    case 2: return skipLimits(bytes, at); // memory: limits
    case 3: return at + 2; // global: value type, mutability
    case 4: return readU32(bytes, at + 1)[1]; // tag: attribute, type index
    default: throw new Error(`unknown import kind ${kind}`);
  }
}

const modules = new Map();
const renamed = [];
let [count, at] = readU32(wasm, imports.start);
const body = [...u32(count)];
for (let index = 0; index < count; index++) {
  const [moduleLength, moduleStart] = readU32(wasm, at);
  const module = decoder.decode(wasm.subarray(moduleStart, moduleStart + moduleLength));
  const [fieldLength, fieldStart] = readU32(wasm, moduleStart + moduleLength);
  const field = decoder.decode(wasm.subarray(fieldStart, fieldStart + fieldLength));
  const descriptionStart = fieldStart + fieldLength;
  at = skipDescription(wasm, descriptionStart);
  if (!modules.has(module)) modules.set(module, modules.size ? `w${modules.size}` : "w");
  const short = shortName(index);
  renamed.push({ field, short });
  body.push(...name(modules.get(module)), ...name(short), ...wasm.subarray(descriptionStart, at));
}
if (at !== imports.end) throw new Error("the import section did not parse to its end");

// --- the export section: the exports the glue calls get short names --------------------
const exports = sections.find((section) => section.id === 7);
if (!exports) throw new Error(`${wasmPath} has no export section`);
// `memory` keeps its name: the one export an app may read from `init()`'s result.
const called = new Set([...js.matchAll(/\bwasm\.(\w+)/g)].map((match) => match[1]));
called.delete("memory");
const exported = [];
let exportAt;
[count, exportAt] = readU32(wasm, exports.start);
const exportBody = [...u32(count)];
for (let index = 0; index < count; index++) {
  const [length, start] = readU32(wasm, exportAt);
  const field = decoder.decode(wasm.subarray(start, start + length));
  const kindAt = start + length;
  exportAt = readU32(wasm, kindAt + 1)[1];
  const short = called.has(field) ? shortName(exported.length) : field;
  if (called.has(field)) exported.push({ field, short });
  exportBody.push(...name(short), ...wasm.subarray(kindAt, exportAt));
}
if (exportAt !== exports.end) throw new Error("the export section did not parse to its end");
if (exported.length !== called.size) {
  throw new Error(`${jsPath} calls exports the wasm does not have`);
}

// --- the glue's import object -----------------------------------------------------------
function replaceOnce(text, pattern, replacement, what) {
  const matches = text.match(new RegExp(pattern.source, "gm"));
  if (matches?.length !== 1) {
    throw new Error(`${jsPath}: ${matches?.length ?? 0} matches for ${what}, expected 1`);
  }
  return text.replace(pattern, replacement);
}
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
for (const { field, short } of renamed) {
  js = replaceOnce(js, new RegExp(`^(\\s+)${escape(field)}:`, "m"), `$1${short}:`, field);
}
for (const [module, short] of modules) {
  js = replaceOnce(js, new RegExp(`^(\\s+)"${escape(module)}":`, "m"), `$1${short}:`, module);
}
// `wasm.name` in the glue, `name:` / `readonly name:` in the two declaration files.
const typesPaths = [join(dir, "pwa_billing.d.ts"), join(dir, "pwa_billing_bg.wasm.d.ts")];
const types = typesPaths.map((path) => readFileSync(path, "utf8"));
for (const { field, short } of exported) {
  js = js.replace(new RegExp(`\\bwasm\\.${escape(field)}\\b`, "g"), `wasm.${short}`);
  for (let index = 0; index < types.length; index++) {
    types[index] = types[index].replace(
      new RegExp(`^(\\s*(?:readonly|export const) )${escape(field)}:`, "m"),
      `$1${short}:`,
    );
  }
}

// --- write both -------------------------------------------------------------------------
const importSection = Buffer.from([2, ...u32(body.length), ...body]);
const exportSection = Buffer.from([7, ...u32(exportBody.length), ...exportBody]);
const out = Buffer.concat(
  sections.map((each) =>
    each === imports ? importSection : each === exports ? exportSection : each.whole,
  ),
);
const minified = await transform(js, { format: "esm", minify: true, legalComments: "none" });
// The comment that points Deno (and other `@ts-self-types` readers) at the types.
const selfTypes = js.match(/^\/\* @ts-self-types=.*\*\/$/m)?.[0];
writeFileSync(wasmPath, Buffer.concat([wasm.subarray(0, 8), out]));
writeFileSync(jsPath, (selfTypes ? `${selfTypes}\n` : "") + minified.code);
typesPaths.forEach((path, index) => writeFileSync(path, types[index]));
console.log(
  `pkg-minify: ${renamed.length} imports and ${exported.length} exports renamed ` +
    `(wasm ${wasm.length} -> ${8 + out.length} B), ` +
    `glue minified (${Buffer.byteLength(readFileSync(jsPath))} B)`,
);
