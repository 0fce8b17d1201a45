// Cloudflare Workers / workerd: compiling wasm from bytes is forbidden there ("Wasm code
// generation disallowed by embedder"), so the wasm is imported as a module (wrangler and
// workerd hand it over already compiled) and instantiated synchronously at module scope.
import wasmModule from '../pkg/jwtgate_bg.wasm';
import { initSync } from '../pkg/jwtgate.js';

initSync({ module: wasmModule });

export * from './api.js';
