// Runs a wasm32-wasip1 binary (e.g. a `cargo test --no-run` test executable) under Node's WASI:
//   node bench/node/wasi-run.mjs target/.../deps/jwtgate-*.wasm [test args...]
// Used to run the RSA tests with the wasm `simd128` engine, which native tests cannot reach.
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const { instance } = await WebAssembly.instantiate(readFileSync(file), { wasi_snapshot_preview1: wasi.wasiImport });
process.exitCode = wasi.start(instance);
