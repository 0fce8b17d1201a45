// Vercel Edge (edge-light): `?module` asks the bundler for a compiled WebAssembly.Module,
// the only form that runtime accepts (no compiling from bytes at run time).
import wasmModule from '../pkg/jwtgate_bg.wasm?module';
import { initSync } from '../pkg/jwtgate.js';
import { setSubtleRsa, webCryptoRsa } from './host.js';

initSync({ module: wasmModule });

// RSA signatures checked by verifyAsync go to crypto.subtle.verify (Vercel Edge runs on V8
// isolates with native WebCrypto, as workerd does); verify, synchronous, keeps the engine.
if (globalThis.crypto?.subtle !== undefined) setSubtleRsa(webCryptoRsa(globalThis.crypto.subtle));

export * from './api.js';
