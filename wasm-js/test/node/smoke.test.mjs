// The cross-runtime smoke suite, run under Node's test runner through the package entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from 'jwtgate';
import { smoke } from '../smoke.js';
import { buildFixtures, corpusFixtures } from '../fixtures.mjs';

const results = await smoke(lib, { ...buildFixtures(), corpus: corpusFixtures() });
for (const r of results) {
  test(r.name, () => assert.ok(r.ok, r.error));
}
