// Cloudflare Workers / workerd: compiling wasm from bytes is forbidden there ("Wasm code
// generation disallowed by embedder"), so the wasm is imported as a module (wrangler and
// workerd hand it over already compiled) and instantiated synchronously at module scope.
import wasmModule from '../pkg/jwtgate_bg.wasm';
import { initSync } from '../pkg/jwtgate.js';
import { setSubtleRsa, webCryptoRsa } from './host.js';

initSync({ module: wasmModule });

// RSA signatures checked by verifyAsync go to crypto.subtle.verify: workerd runs BoringSSL
// on the calling thread, faster than the wasm engine (verify, synchronous, keeps the engine).
if (globalThis.crypto?.subtle !== undefined) setSubtleRsa(webCryptoRsa(globalThis.crypto.subtle));

export * from './api.js';
