// The relaxed-SIMD prototype kernel (filter/src/rsa/fma.rs) against the simd128 engine's bare
// `s^65537 mod n` (2048 bits), both in one module built with `--features simd128,fma-proto`,
// timed interleaved (one window each per round, median and best of the rounds, wall clock).
// Runs in Node (needs --experimental-wasm-relaxed-simd on Node 20) and Deno:
//   node --experimental-wasm-relaxed-simd bench/node/fma.mjs path/to/jwtgate_bench_wasm.wasm
//   deno run --allow-read bench/node/fma.mjs path/to/jwtgate_bench_wasm.wasm
// Environment: FMA_WINDOW_MS (default 60), FMA_ROUNDS (default 41).
const isDeno = typeof Deno !== 'undefined';
const args = isDeno ? Deno.args : process.argv.slice(2);
const env = (k, d) => Number((isDeno ? Deno.env.get(k) : process.env[k]) ?? d);
const read = isDeno ? (p) => Deno.readFileSync(p) : (await import('node:fs')).readFileSync;
const WINDOW_MS = env('FMA_WINDOW_MS', 60);
const ROUNDS = env('FMA_ROUNDS', 41);

const { instance } = await WebAssembly.instantiate(read(args[0]), {});
const x = instance.exports;
const mem = () => new Uint8Array(x.memory.buffer);
const put = (bytes) => { const p = x.buf_alloc(bytes.length); mem().set(bytes, p); return p; };

// The first 2048-bit fixture key of the RSA tests.
const keys = new TextDecoder().decode(read(new URL('../../filter/src/rsa/test_keys.txt', import.meta.url)));
const hex = keys.split('\n').find((l) => l.startsWith('2048 ')).split(' ')[2];
const n = Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));
const sig = Uint8Array.from({ length: 256 }, (_, i) => (i * 167 + 13) & 0xff);
sig[0] = n[0] - 1;
const [np, ep, sp] = [put(n), put(Uint8Array.of(1, 0, 1)), put(sig)];
const outA = x.buf_alloc(256), outB = x.buf_alloc(256);
const key = x.key_new(np, 256, ep, 3);
const probe = x.fma_probe();
if (key < 0 || !x.fma_key(np, 256)) throw new Error('key refused');
x.rsa_public_op(key, sp, 256, outA);
x.fma_public_op(sp, 256, outB);
const same = mem().slice(outA, outA + 256).every((b, i) => b === mem()[outB + i]);
console.log(`fused madd: ${probe === 1}, results agree: ${same}`);
if (!same) throw new Error('the kernels disagree');

const contenders = [
  { what: 'simd128 engine, bare s^65537 mod n', f: () => x.rsa_public_op(key, sp, 256, outA), rates: [] },
  { what: 'relaxed-SIMD f64 FMA prototype', f: () => x.fma_public_op(sp, 256, outB), rates: [] },
];
function window(f) {
  const start = performance.now();
  let calls = 0, now = start;
  while (now - start < WINDOW_MS) { for (let i = 0; i < 4; i++) f(); calls += 4; now = performance.now(); }
  return calls / ((now - start) / 1000);
}
for (const c of contenders) window(c.f); // warm-up (tier-up)
for (let r = 0; r < ROUNDS; r++) for (const c of contenders) c.rates.push(window(c.f));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [base] = contenders;
console.log('| kernel | median /s | best /s | ratio (median, best) |\n|---|---:|---:|---:|');
for (const c of contenders) {
  const [m, b] = [median(c.rates), Math.max(...c.rates)];
  console.log(`| ${c.what} | ${m.toFixed(0)} | ${b.toFixed(0)} | ${(m / median(base.rates)).toFixed(2)}x, ${(b / Math.max(...base.rates)).toFixed(2)}x |`);
}
