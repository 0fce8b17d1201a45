// The runtime's own synchronous RSA check, when a loader provides one (Node, Bun: their
// crypto.verify beats the wasm engine; Deno's is slower than the engine, browsers and
// workerd have none that is synchronous). Not public API.

/** @type {undefined | ((spki: Uint8Array, alg: number, input: Uint8Array, sig: Uint8Array, cache: Map) => boolean)} */
export let hostRsa;

export function setHostRsa(fn) {
  hostRsa = fn;
}
