// Node >= 20, Bun and Deno: read the wasm next to the glue and instantiate it
// synchronously, so importing (or requiring, Node >= 20.19) the package is all it takes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { constants, createPublicKey, verify } from 'node:crypto';
import { initSync } from '../pkg/jwtgate.js';
import { setHostCrypto } from './host.js';

initSync({ module: wasmBytes() });

// Where the wasm is: next to the glue in the package; next to the bundle when a bundler
// (esbuild --platform=node) moved this file and the .wasm was copied beside it; or
// resolved through node_modules from wherever this file now is. A CommonJS bundle has
// no import.meta.url, only __filename.
function wasmBytes() {
  const here = import.meta.url ?? (typeof __filename === 'string' ? pathToFileURL(__filename).href : undefined);
  const tried = [];
  const candidates = here === undefined ? [] : [new URL('../pkg/jwtgate_bg.wasm', here), new URL('./jwtgate_bg.wasm', here)];
  for (const url of candidates) {
    try {
      return readFileSync(url);
    } catch {
      tried.push(url.pathname);
    }
  }
  try {
    return readFileSync(createRequire(here ?? pathToFileURL(process.cwd() + '/').href).resolve('jwtgate/jwtgate_bg.wasm'));
  } catch {
    tried.push('jwtgate/jwtgate_bg.wasm through node_modules');
  }
  throw new Error(`jwtgate: cannot find jwtgate_bg.wasm (tried ${tried.join(', ')}). `
    + 'When bundling for Node, copy node_modules/jwtgate/pkg/jwtgate_bg.wasm next to the bundle.');
}

// Signatures go to crypto.verify (OpenSSL in Node, BoringSSL in Bun), faster than the wasm
// engine here: RS* and PS* with the RSA key, ES256/ES384 with the raw r || s form JWS uses,
// EdDSA as Ed25519 over the input itself. The core has already parsed the token, chosen
// the key and checked the signature's length and encoding; it decides everything else.
// Deno loads js/deno.js instead (its node:crypto is slower than the engine).
const HASHES = ['sha256', 'sha384', 'sha512'];
setHostCrypto((spki, alg, input, signature, cache, keyId) => {
  // The key id is only a hint: a cached key is used only if its SPKI bytes are the same.
  let entry = cache.get(keyId);
  if (entry === undefined || !entry.spki.equals(spki)) {
    const der = Buffer.from(spki); // a copy: spki is a view of wasm memory
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    // The verify options per algorithm, made once per key.
    entry = {
      spki: der,
      key,
      pss: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 },
      ec: { key, dsaEncoding: 'ieee-p1363' },
    };
    cache.set(keyId, entry);
  }
  if (alg < 3) return verify(HASHES[alg], input, entry.key, signature);
  if (alg < 6) {
    entry.pss.saltLength = 32 + 16 * (alg - 3); // the hash's length, as JWS fixes it
    return verify(HASHES[alg - 3], input, entry.pss, signature);
  }
  if (alg < 8) return verify(HASHES[alg - 6], input, entry.ec, signature);
  return verify(null, input, entry.key, signature);
});

export * from './api.js';
