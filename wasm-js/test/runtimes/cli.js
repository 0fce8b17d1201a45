// Smoke suite entry for Deno and Bun: `<runtime> cli.js <fixtures.json>`, importing the
// package by name so the runtime's own `exports` condition picks the loader.
import { readFileSync } from 'node:fs';
import * as lib from "jwtgate";
import { smoke } from '../smoke.js';

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const fx = JSON.parse(readFileSync(args[0], 'utf8'));
const results = await smoke(lib, fx);
let failed = 0;
for (const r of results) {
  if (r.ok) console.log(`ok - ${r.name}`);
  else {
    failed++;
    console.log(`not ok - ${r.name}\n  ${r.error.replace(/\n/g, '\n  ')}`);
  }
}
console.log(`${results.length - failed} passed, ${failed} failed`);
if (failed) (globalThis.Deno ? Deno.exit : process.exit)(1);
