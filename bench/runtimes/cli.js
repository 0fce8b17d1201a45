// The runner for Node, Bun and Deno: `<runtime> cli.js FIXTURES.json ROUNDS REPEAT
// CACHED_REPEAT`; prints one JSON line ({ samples, paths }). The clock is the runtime's own
// performance.now.
import { readFileSync } from 'node:fs';
import { contenders, rounds, paths } from './body.js';

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const data = JSON.parse(readFileSync(args[0], 'utf8'));
let fastJwt;
try {
  fastJwt = await import('fast-jwt');
} catch (e) {
  console.error(`fast-jwt does not load here: ${e.message}`);
}
// node:crypto floors in Node and Bun, whose jwtgate `verify` checks RSA there (Deno's runs
// the wasm engine).
const nodeCrypto = globalThis.Deno ? undefined : await import('node:crypto');
const list = await contenders(data, { fastJwt, nodeCrypto });
const samples = await rounds(list, data.tokens, {
  rounds: Number(args[1]), n: data.tokens.length, repeat: Number(args[2]), cachedRepeat: Number(args[3]), clock: () => performance.now(),
});
console.log(JSON.stringify({ samples, paths: paths() }));
