// Node >= 20, Bun and Deno: read the wasm next to the glue and instantiate it
// synchronously, so importing (or requiring, Node >= 20.19) the package is all it takes.
import { readFileSync } from 'node:fs';
import { createPublicKey, verify } from 'node:crypto';
import { initSync } from '../pkg/jwtgate.js';
import { setHostRsa } from './host.js';

initSync({ module: readFileSync(new URL('../pkg/jwtgate_bg.wasm', import.meta.url)) });

// RSA signatures go to crypto.verify (OpenSSL in Node, BoringSSL in Bun): about twice as
// fast as the wasm engine here. The core has already parsed the token, chosen the key and
// checked the signature length; it decides everything else. Deno loads js/deno.js instead
// (its node:crypto is slower than the engine).
const HASHES = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };
setHostRsa((spki, alg, input, signature, cache, keyId) => {
  // The key id is only a hint: a cached key is used only if its SPKI bytes are the same.
  let entry = cache.get(keyId);
  if (entry === undefined || !entry.spki.equals(spki)) {
    const der = Buffer.from(spki); // a copy: spki is a view of wasm memory
    entry = { spki: der, key: createPublicKey({ key: der, format: 'der', type: 'spki' }) };
    cache.set(keyId, entry);
  }
  return verify(HASHES[alg], input, entry.key, signature);
});

export * from './api.js';
