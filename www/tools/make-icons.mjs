// Draws the demo's app icons as PNG files (no dependencies: zlib + a CRC table).
// Run from the repository root: node www/tools/make-icons.mjs
// Writes www/icons/icon-192.png, icon-512.png (rounded, transparent corners) and
// maskable-512.png (full bleed, the artwork inside the 80% safe zone).
import { deflateSync } from "node:zlib";
import { writeFileSync } from "node:fs";

const BRAND = [1, 135, 95]; // #01875f
const WHITE = [255, 255, 255];

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
function png(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// The artwork in unit coordinates (0..1): a white coin ring with a white diamond, on the
// brand colour; `scale` shrinks the artwork around the centre (maskable safe zone).
function shade(x, y, { rounded, scale }) {
  const r = 0.22; // corner radius of the rounded square
  if (rounded) {
    const cx = Math.min(Math.max(x, r), 1 - r), cy = Math.min(Math.max(y, r), 1 - r);
    if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) return null;
  }
  const u = (x - 0.5) / scale, v = (y - 0.5) / scale;
  const d = Math.hypot(u, v);
  if (d > 0.27 && d < 0.34) return WHITE;
  if (Math.abs(u) + Math.abs(v) < 0.17) return WHITE;
  return BRAND;
}

function draw(size, options) {
  const rgba = Buffer.alloc(size * size * 4);
  const n = 4; // 4x4 supersampling for smooth edges
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = shade((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size, options);
          if (c) { r += c[0]; g += c[1]; b += c[2]; a += 1; }
        }
      }
      const i = (py * size + px) * 4;
      if (a) rgba.set([Math.round(r / a), Math.round(g / a), Math.round(b / a), Math.round((255 * a) / (n * n))], i);
    }
  }
  return png(size, rgba);
}

const dir = new URL("../icons/", import.meta.url);
writeFileSync(new URL("icon-192.png", dir), draw(192, { rounded: true, scale: 1 }));
writeFileSync(new URL("icon-512.png", dir), draw(512, { rounded: true, scale: 1 }));
writeFileSync(new URL("maskable-512.png", dir), draw(512, { rounded: false, scale: 0.8 }));
console.log("wrote www/icons/icon-192.png, icon-512.png, maskable-512.png");
