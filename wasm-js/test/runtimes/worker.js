// The smoke suite inside workerd: bundled by esbuild with the workerd conditions (as wrangler
// does), so `jwtgate` resolves to js/workerd.js and the wasm arrives as a compiled module.
import * as lib from 'jwtgate';
import { smoke } from '../smoke.js';
import fx from '../.fixtures.json';

export default {
  async fetch() {
    const results = await smoke(lib, fx);
    return Response.json(results);
  },
};
