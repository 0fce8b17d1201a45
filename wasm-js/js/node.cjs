// CommonJS entry for Node (require('jwtgate')): the ESM package itself, loaded with
// require(esm) (Node >= 20.19), so both module systems share one instance and one wasm.
// It exists so that `require` resolves to a CommonJS file, typed by index.d.cts.
module.exports = require('./node.js');
