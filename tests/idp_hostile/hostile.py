"""A hostile identity provider on 127.0.0.1 for the hostile-IdP scenarios.

envoy/e2e/idp.py is a well-behaved IdP with a few failure modes. This one answers at the
socket level so a test can make it misbehave in ways an http.server cannot: close without
answering, lie about Content-Length, drip the body byte by byte, send megabytes, redirect.
Each path has a behaviour (a function that writes to the socket); every request is counted
per path. Stalls wait on an event, so stop() never hangs on a sleeping handler.

Signing keys are the committed test keys (tests/vectors/keys/*.pem), through envoy/e2e's Key.
"""

import json
import socket
import socketserver
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "envoy" / "e2e"))

from envoyrun import free_port  # noqa: E402
from idp import Key  # noqa: E402

KEYS_DIR = ROOT / "tests" / "vectors" / "keys"
# The issuer the scenarios configure. The filter sends every fetch to its configured cluster
# (the URL only gives :authority and :path), so the issuer need not resolve.
ISSUER = "http://idp.hostile.test"
AUDIENCE = "sts.amazonaws.com"


def pem_key(name: str, kid: str | None = None) -> Key:
    """A committed PKCS#8 test key (main, rotated, attacker, rsa3072, ...) with `kid`."""
    return Key.from_pem(kid or name, (KEYS_DIR / f"{name}.pem").read_bytes())


# ---- behaviours: fn(idp, handler) writes one answer (or none) ---------------------------

def _head(status: int, reason: str, headers: dict, length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    for k, v in headers.items():
        lines.append(f"{k}: {v}")
    if length is not None:
        lines.append(f"content-length: {length}")
    lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def respond(status: int = 200, body: bytes | str = b"", ctype: str = "application/json",
            headers: dict | None = None, reason: str = "X"):
    data = body.encode() if isinstance(body, str) else body

    def b(idp, h):
        hd = {"content-type": ctype}
        hd.update(headers or {})
        h.send(_head(status, reason, hd, len(data)) + data)
    return b


def jwks(keys, max_age: int = 300, extra_keys: list | None = None):
    """A good JWKS answer, built at answer time (so `keys` may be a callable)."""
    def b(idp, h):
        ks = keys() if callable(keys) else keys
        doc = {"keys": [k.jwk() for k in ks] + (extra_keys or [])}
        respond(200, json.dumps(doc), headers={"cache-control": f"max-age={max_age}"})(idp, h)
    return b


def close_without_answer():
    def b(idp, h):
        pass
    return b


def stall(seconds: float, then=None):
    """Accept, read the request, say nothing for `seconds`, then answer `then` (or 503)."""
    def b(idp, h):
        if idp.stopping.wait(seconds):
            return
        (then or respond(503, "{}"))(idp, h)
    return b


def drip(body: bytes, seconds: float):
    """Headers at once (200, correct length), then the body spread over `seconds`."""
    def b(idp, h):
        h.send(_head(200, "OK", {"content-type": "application/json"}, len(body)))
        step = max(seconds / max(len(body), 1), 0.001)
        for i in range(len(body)):
            if idp.stopping.wait(step):
                return
            h.send(body[i:i + 1])
    return b


def truncated(body: bytes, declared: int):
    """Content-Length `declared`, but only `body` is sent before the connection closes."""
    def b(idp, h):
        h.send(_head(200, "OK", {"content-type": "application/json"}, declared) + body)
    return b


def redirect(location: str, status: int = 302):
    return respond(status, "", "text/plain", {"location": location}, reason="Redirect")


def huge(nbytes: int, prefix: bytes = b'{"keys":[],"pad":"', suffix: bytes = b'"}'):
    """A syntactically valid JSON object of `nbytes` bytes, sent in 64 KiB writes."""
    def b(idp, h):
        fill = nbytes - len(prefix) - len(suffix)
        h.send(_head(200, "OK", {"content-type": "application/json"}, nbytes) + prefix)
        chunk = b"a" * 65536
        while fill > 0:
            n = min(fill, len(chunk))
            if not h.send(chunk[:n]):
                return
            fill -= n
        h.send(suffix)
    return b


# ---- the server ---------------------------------------------------------------------------

class _Handler(socketserver.BaseRequestHandler):
    def send(self, data: bytes) -> bool:
        try:
            self.request.sendall(data)
            return True
        except OSError:
            return False

    def handle(self):
        idp = self.server.idp
        self.request.settimeout(10)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf and len(buf) < 65536:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                buf += chunk
        except OSError:
            return
        line = buf.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        path = parts[1].split("?", 1)[0] if len(parts) > 1 else ""
        headers = {}
        for raw in buf.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
            k, _, v = raw.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        with idp.lock:
            idp.hits[path] += 1
            idp.requests.append((time.time(), path, headers))
            behaviour = idp.routes.get(path)
        if behaviour is None:
            behaviour = respond(404, '{"error":"not found"}')
        try:
            behaviour(idp, self)
        finally:
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class HostileIdp:
    """`routes` maps a path to a behaviour. Defaults: /keys serves `keys`, discovery serves
    an honest document pointing at /keys on this server."""

    def __init__(self, keys: list | None = None, port: int = 0, max_age: int = 300):
        self.keys = list(keys) if keys is not None else [pem_key("main", "k1")]
        self.max_age = max_age
        self.lock = threading.Lock()
        self.hits: Counter = Counter()
        self.requests: list = []
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler, bind_and_activate=True)
        self._server.idp = self
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.issuer = ISSUER
        self.routes = {}
        self.serve_keys()
        self.routes["/.well-known/openid-configuration"] = self.discovery_doc()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def serve_keys(self, max_age: int | None = None):
        """/keys answers the current `self.keys` (read at answer time)."""
        self.routes["/keys"] = jwks(lambda: self.keys, self.max_age if max_age is None else max_age)

    def discovery_doc(self, jwks_uri: str | None = None, issuer: str | None = None):
        def b(idp, h):
            doc = {"issuer": issuer or idp.issuer, "jwks_uri": jwks_uri or f"{idp.base}/keys",
                   "id_token_signing_alg_values_supported": ["RS256"]}
            respond(200, json.dumps(doc), headers={"cache-control": "max-age=3600"})(idp, h)
        return b

    def set(self, path: str, behaviour) -> None:
        with self.lock:
            self.routes[path] = behaviour

    def count(self, path: str = "/keys") -> int:
        with self.lock:
            return self.hits[path]

    def start(self) -> "HostileIdp":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    # -- tokens -----------------------------------------------------------------------------
    def token(self, key: Key | None = None, **kw) -> str:
        return make_token(key or self.keys[0], **kw)


def make_token(key: Key, lifetime: int = 3600, issuer: str = ISSUER, **claims) -> str:
    now = int(time.time())
    body = {"iss": issuer, "aud": [AUDIENCE], "sub": "system:serviceaccount:payments:api",
            "iat": now, "nbf": now, "exp": now + lifetime}
    body.update(claims)
    return key.sign(body)


def closed_port() -> int:
    """A loopback port with nothing listening (for an IdP that is down): outside the ephemeral
    range, so no server bound to port 0 in the meantime can take it."""
    return free_port()


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
