// Deno: a source-phase import hands over the compiled WebAssembly.Module, so no read
// permission is needed (reading the file with node:fs would ask for --allow-read).
import source wasmModule from '../pkg/jwtgate_bg.wasm';
import { initSync } from '../pkg/jwtgate.js';

initSync({ module: wasmModule });

export * from './api.js';
