// The smoke suite as a browser bundle (esbuild, browser conditions): proves the package
// works through a bundler with no configuration.
import * as lib from 'jwtgate';
import { smoke } from '../smoke.js';
import fx from '../.fixtures.json';

window.__results = smoke(lib, fx);
