// Vercel Edge (edge-light): `?module` asks the bundler for a compiled WebAssembly.Module,
// the only form that runtime accepts (no compiling from bytes at run time).
import wasmModule from '../pkg/jwtgate_bg.wasm?module';
import { initSync } from '../pkg/jwtgate.js';

initSync({ module: wasmModule });

export * from './api.js';
