// Merges the npm fields of pkg.json into the package.json that wasm-pack generated.
// Usage: node scripts/package-json.mjs pkg.json pkg/package.json
import { readFileSync, writeFileSync } from "node:fs";

const [fieldsPath, targetPath] = process.argv.slice(2);
if (!fieldsPath || !targetPath) {
  console.error("usage: package-json.mjs <fields.json> <package.json>");
  process.exit(2);
}
const generated = JSON.parse(readFileSync(targetPath, "utf8"));
const fields = JSON.parse(readFileSync(fieldsPath, "utf8"));
// Our fields win; wasm-pack's `files` list is kept where ours does not name one.
const merged = { ...generated, ...fields, version: generated.version };
writeFileSync(targetPath, JSON.stringify(merged, null, 2) + "\n");
console.log(`package.json: ${merged.name}@${merged.version}, exports ${Object.keys(merged.exports ?? {}).join(", ")}`);
