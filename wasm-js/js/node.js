// Node >= 20, Bun and Deno: read the wasm next to the glue and instantiate it
// synchronously, so importing (or requiring, Node >= 20.19) the package is all it takes.
import { readFileSync } from 'node:fs';
import { initSync } from '../pkg/jwtgate.js';

initSync({ module: readFileSync(new URL('../pkg/jwtgate_bg.wasm', import.meta.url)) });

export * from './api.js';
