// Replaces wasm-bindgen's passStringToWasm0 in the generated glue with one that copies
// with TextEncoder.encodeInto first. Same contract (returns the pointer, sets
// WASM_VECTOR_LEN to the UTF-8 length); exits non-zero when the helper is not found.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
const src = readFileSync(file, 'utf8');
const start = src.indexOf('function passStringToWasm0(arg, malloc, realloc) {');
const end = src.indexOf('\n}\n', start);
if (start < 0 || end < 0 || !src.includes('cachedTextEncoder')) {
  console.error(`patch-glue: passStringToWasm0 not found in ${file}; wasm-bindgen changed, update the patch`);
  process.exit(1);
}
const fast = `function passStringToWasm0(arg, malloc, realloc) {
    // Patched by scripts/patch-glue.mjs: encodeInto copies one-byte strings in bulk.
    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;
    let { read, written } = cachedTextEncoder.encodeInto(arg, getUint8ArrayMemory0().subarray(ptr, ptr + len));
    if (read !== arg.length) {
        // Non-ASCII: each remaining UTF-16 unit takes at most 3 bytes.
        const rest = arg.slice(read);
        ptr = realloc(ptr, len, len = written + rest.length * 3, 1) >>> 0;
        written += cachedTextEncoder.encodeInto(rest, getUint8ArrayMemory0().subarray(ptr + written, ptr + len)).written;
        ptr = realloc(ptr, len, written, 1) >>> 0;
    }
    WASM_VECTOR_LEN = written;
    return ptr;`;
writeFileSync(file, src.slice(0, start) + fast + src.slice(end));
