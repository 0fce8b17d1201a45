// The page's logic: build a Verifier from the pasted JWKS and options, verify the pasted
// token, and show the verdict, the decoded claims and the exact reason for a rejection.
// The package is loaded through its browser entry (wasm inlined, no network access).
import { Verifier, JwtError } from '../../wasm-js/js/browser.js';

const $ = (id) => document.getElementById(id);

// Decodes a segment for display even when verification fails, so the user sees what
// the token claims; the verdict line says whether to believe it.
function peek(token, index) {
  try {
    const seg = token.split('.')[index];
    const bin = atob(seg.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((seg.length + 3) % 4));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
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
  $('header').textContent = '';
  $('claims').textContent = '';
  $('keys').textContent = '';
  try {
    const verifier = new Verifier({ issuer, audience });
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
    const header = peek(token, 0);
    const payload = peek(token, 1);
    if (header) $('header').textContent = JSON.stringify(header, null, 2);
    if (payload) $('claims').textContent = `// NOT verified\n${JSON.stringify(payload, null, 2)}`;
    // Time verdicts are easier to read with the dates next to the raw seconds.
    const when = (name) => (typeof payload?.[name] === 'number' ? ` ${name} ${new Date(payload[name] * 1000).toISOString()};` : '');
    const times = ['expired', 'not_yet_valid', 'token_too_old'].includes(e.code)
      ? ` (${when('exp')}${when('nbf')}${when('iat')} now ${new Date().toISOString()})`.replace('( ', '(')
      : '';
    show('bad', `Rejected: <code>${escape(e.code)}</code>: ${escape(e.message)}${escape(times)}`);
  }
}

$('verify').addEventListener('click', run);
document.body.dataset.ready = 'true';
