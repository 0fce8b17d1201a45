// Browsers (native ESM and any bundler): the wasm is inlined as base64 and compiled
// synchronously, so there is no top-level await, no asset URL to configure and no init
// call. Costs about a third more bytes before compression than a separate .wasm file.
import { initSync } from '../pkg/jwtgate.js';
import { setSubtleRsa, webCryptoRsa } from './host.js';
import { wasmBase64 } from '../pkg/jwtgate_wasm_inline.js';

function bytesOf(b64) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

initSync({ module: bytesOf(wasmBase64) });

// RSA signatures checked by verifyAsync go to crypto.subtle.verify: browsers run it natively,
// faster than the wasm engine (verify, synchronous, keeps the engine). Without WebCrypto (an
// insecure context) verifyAsync uses the engine too.
if (globalThis.crypto?.subtle !== undefined) setSubtleRsa(webCryptoRsa(globalThis.crypto.subtle));

export * from './api.js';
