// The runtime's own signature checks, where they beat the wasm engine. Not public API.
//
// - hostCrypto: synchronous, used by every verification (Node, Bun: node:crypto, set by
//   js/node.js): (spki, alg, input, signature, cache, keyId) => boolean, called by the
//   core from inside verify. Deno's node:crypto is slower than the engine.
// - subtleCrypto: asynchronous WebCrypto, used by verifyAsync only (workerd, browsers,
//   Vercel Edge: BoringSSL on the calling thread beats the engine). Synchronous verify
//   keeps the wasm engine there. { importKey(spki, alg) -> Promise<key>,
//   verify(key, alg, input, signature) -> Promise<boolean> }.
//
// alg is an index into ALGS (the core's codes, wasm-js/src/lib.rs `alg_code`). The core
// has parsed the token, chosen the keys and checked the signature's length and encoding
// (ECDSA r and s in [1, n-1], Ed25519 S < L and R not of small order, so that no two
// correct libraries can disagree); it decides everything else, and a check that throws
// leaves the signature to the wasm engine. ES* signatures are IEEE P1363 (r || s), PS*
// salts are as long as the hash, EdDSA is Ed25519 over the signing input itself.

/** The algorithms, by the core's code. */
export const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];

/** @type {undefined | ((spki: Uint8Array, alg: number, input: Uint8Array, sig: Uint8Array, cache: Map, keyId: number) => boolean)} */
export let hostCrypto;
/** @type {undefined | { importKey: Function, verify: Function }} */
export let subtleCrypto;

/** Signatures each path checked: tests assert which path ran (never how fast). */
export const paths = { host: 0, subtle: 0 };

export function setHostCrypto(check) {
  hostCrypto = check;
}

export function setSubtleCrypto(check) {
  subtleCrypto = check;
}

// The former names (RS* only then).
export { hostCrypto as hostRsa, setHostCrypto as setHostRsa, subtleCrypto as subtleRsa, setSubtleCrypto as setSubtleRsa };

const HASH = ['SHA-256', 'SHA-384', 'SHA-512'];

// WebCrypto's import and verify parameters per algorithm code.
function subtleParams(alg) {
  if (alg < 3) return [{ name: 'RSASSA-PKCS1-v1_5', hash: HASH[alg] }, 'RSASSA-PKCS1-v1_5'];
  if (alg < 6) return [{ name: 'RSA-PSS', hash: HASH[alg - 3] }, { name: 'RSA-PSS', saltLength: 32 + 16 * (alg - 3) }];
  if (alg === 6) return [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }];
  if (alg === 7) return [{ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' }];
  return [{ name: 'Ed25519' }, { name: 'Ed25519' }];
}

/**
 * Every JWS algorithm through WebCrypto (`crypto.subtle`). Ed25519 where the runtime has it:
 * a runtime without it rejects the import, and the wasm engine checks those signatures.
 */
export function webCrypto(subtle) {
  const params = ALGS.map((_, alg) => subtleParams(alg));
  return {
    importKey: (spki, alg) => subtle.importKey('spki', spki, params[alg][0], false, ['verify']),
    verify: (key, alg, input, signature) => subtle.verify(params[alg][1], key, signature, input),
  };
}

/** The former name. */
export const webCryptoRsa = webCrypto;
