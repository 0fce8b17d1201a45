// The runtime's own RSA check, where it beats the wasm engine. Not public API.
//
// - hostRsa: synchronous, used by every verification (Node, Bun: node:crypto, set by
//   js/node.js): (spki, hash, input, signature, cache, keyId) => boolean, called by the
//   core from inside verify. Deno's node:crypto is slower than the engine.
// - subtleRsa: asynchronous WebCrypto, used by verifyAsync only (workerd, browsers, Vercel
//   Edge: BoringSSL on the calling thread beats the engine). Synchronous verify keeps the
//   wasm engine there.
//
// - subtleRsa: { importKey(spki, hash) -> Promise<key>, verify(key, hash, input, signature)
//   -> Promise<boolean> }.
// hash is 256, 384 or 512 (RS256/384/512). The core has
// parsed the token, chosen the keys and checked the signature's length; it decides
// everything else, and a check that throws leaves the signature to the wasm engine.

/** @type {undefined | ((spki: Uint8Array, hash: number, input: Uint8Array, sig: Uint8Array, cache: Map, keyId: number) => boolean)} */
export let hostRsa;
/** @type {undefined | { importKey: Function, verify: Function }} */
export let subtleRsa;

/** Signatures each path checked: tests assert which path ran (never how fast). */
export const paths = { host: 0, subtle: 0 };

export function setHostRsa(rsa) {
  hostRsa = rsa;
}

export function setSubtleRsa(rsa) {
  subtleRsa = rsa;
}

const HASH = { 256: 'SHA-256', 384: 'SHA-384', 512: 'SHA-512' };

/** RSASSA-PKCS1-v1_5 through WebCrypto (`crypto.subtle`). */
export function webCryptoRsa(subtle) {
  return {
    importKey: (spki, hash) => subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash: HASH[hash] }, false, ['verify']),
    verify: (key, hash, input, signature) => subtle.verify('RSASSA-PKCS1-v1_5', key, signature, input),
  };
}
