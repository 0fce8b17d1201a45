// The page's logic: build a Verifier from the pasted JWKS and options, verify the pasted
// token, and show the verdict, the decoded claims and the exact reason for a rejection.
// The package is loaded through its browser entry (wasm inlined, no network access).
import { Verifier, JwtError, decodeJwt, decodeProtectedHeader } from '../../wasm-js/js/browser.js';

const $ = (id) => document.getElementById(id);

// Decodes the token for display even when verification fails, so the user sees what it
// claims; these helpers check nothing, and the verdict line says whether to believe it.
function peek(decode, token) {
  try {
    return decode(token);
  } catch {
    return undefined;
  }
}

function show(kind, html) {
  const el = $('verdict');
  el.className = kind;
  el.innerHTML = html;
}

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function run() {
  const token = $('token').value.trim();
  const jwks = $('jwks').value.trim();
  const issuer = $('issuer').value.trim() || undefined;
  const audience = $('audience').value.trim() || undefined;
  // Every asymmetric algorithm the package verifies, unless the user narrows it (a server
  // should list only its IdP's); each key still verifies only what its type and `alg` allow.
  const algorithms = $('algorithms').value.split(/[\s,]+/).filter(Boolean);
  $('header').textContent = '';
  $('claims').textContent = '';
  $('keys').textContent = '';
  $('challenge').textContent = '';
  try {
    const verifier = new Verifier({ issuer, audience, algorithms });
    const report = verifier.setJwks(jwks);
    $('keys').textContent = `${report.loaded} usable key(s): ${report.kids.map((k) => k ?? '(no kid)').join(', ')}` +
      report.skipped.map((s) => `\nskipped #${s.index}${s.kid ? ` (${s.kid})` : ''}: ${s.reason}: ${s.detail}`).join('');
    const { header, payload } = verifier.verify(token);
    $('header').textContent = JSON.stringify(header, null, 2);
    $('claims').textContent = JSON.stringify(payload, null, 2);
    const exp = typeof payload.exp === 'number' ? `, expires ${new Date(payload.exp * 1000).toISOString()}` : '';
    show('ok', `Valid: signature verified with key <code>${escape(header.kid ?? '(no kid)')}</code>${escape(exp)}`);
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    const header = peek(decodeProtectedHeader, token);
    const payload = peek(decodeJwt, token);
    if (header) $('header').textContent = JSON.stringify(header, null, 2);
    if (payload) $('claims').textContent = `// NOT verified\n${JSON.stringify(payload, null, 2)}`;
    // Time verdicts are easier to read with the dates next to the raw seconds.
    const when = (name) => (typeof payload?.[name] === 'number' ? ` ${name} ${new Date(payload[name] * 1000).toISOString()};` : '');
    const times = ['expired', 'not_yet_valid', 'token_too_old'].includes(e.code)
      ? ` (${when('exp')}${when('nbf')}${when('iat')} now ${new Date().toISOString()})`.replace('( ', '(')
      : '';
    show('bad', `Rejected: <code>${escape(e.code)}</code>: ${escape(e.message)}${escape(times)}`);
    // What an API guarded by jwtgate would answer for this token.
    $('challenge').textContent = `HTTP ${e.forbidden ? 403 : 401}\nWWW-Authenticate: ${e.wwwAuthenticate('api')}`;
  }
}

$('verify').addEventListener('click', run);
document.body.dataset.ready = 'true';
