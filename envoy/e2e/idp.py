"""A local identity provider and an echo backend for the Envoy end-to-end tests, the demo
and the benchmark. Loopback only.

The IdP signs RS256 tokens with keys it generates at start, and serves OIDC discovery and
a JWKS with Cache-Control. It can rotate keys and fail, stall or return garbage on command
(Python calls, or GET /control?action=...). The echo backend answers every request with
the request's headers as JSON, so tests can see what the filter forwarded.
"""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class Key:
    def __init__(self, kid: str, private_key=None):
        self.kid = kid
        self.private = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict:
        pub = self.private.public_key().public_numbers()
        return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": _uint(pub.n), "e": _uint(pub.e)}

    def sign(self, claims: dict, header: dict | None = None) -> str:
        h = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        if header is not None:
            h = header
        signing_input = (b64url(json.dumps(h, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(sig)

    @staticmethod
    def from_pem(kid: str, pem: bytes) -> "Key":
        return Key(kid, serialization.load_pem_private_key(pem, password=None))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Idp:
    """An OIDC-ish issuer on 127.0.0.1. `issuer` defaults to its own base URL."""

    def __init__(self, issuer: str | None = None, max_age: int = 300, first_kid: str = "k1"):
        self.keys = [Key(first_kid)]
        self.mode = "ok"  # ok | fail | stall | garbage | down
        self.max_age = max_age
        self.jwks_hits = 0
        self.discovery_hits = 0
        self.stall_seconds = 30.0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.issuer = issuer or self.base
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- life cycle -----------------------------------------------------------
    def start(self) -> "Idp":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- commands -------------------------------------------------------------
    @property
    def key(self) -> Key:
        return self.keys[-1]

    def rotate(self, kid: str | None = None, keep_old: bool = True) -> Key:
        """Publishes a new key and signs with it from now on."""
        with self._lock:
            k = Key(kid or f"k{len(self.keys) + 1}")
            self.keys = (self.keys if keep_old else []) + [k]
            return k

    def set_mode(self, mode: str) -> None:
        assert mode in ("ok", "fail", "stall", "garbage", "down")
        self.mode = mode

    def jwks(self) -> dict:
        return {"keys": [k.jwk() for k in self.keys]}

    def token(self, key: Key | None = None, lifetime: int = 3600, **claims) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "iat": now, "nbf": now, "exp": now + lifetime}
        body.update(claims)
        return (key or self.key).sign(body)

    def eks_token(self, namespace: str = "payments", sa: str = "api", aud: str = "sts.amazonaws.com",
                  key: Key | None = None, lifetime: int = 3600, **extra) -> str:
        """A token shaped like an EKS projected service-account token."""
        claims = {
            "aud": [aud],
            "sub": f"system:serviceaccount:{namespace}:{sa}",
            "kubernetes.io": {
                "namespace": namespace,
                "pod": {"name": f"{sa}-7d9f8c6b5-x2x7q", "uid": "5f1c7a4e-2b0a-4d7e-9f7c-2a1b3c4d5e6f"},
                "serviceaccount": {"name": sa, "uid": "a1b2c3d4-e5f6-4a5b-8c7d-9e0f1a2b3c4d"},
            },
        }
        claims.update(extra)
        return self.token(key=key, lifetime=lifetime, **claims)

    # -- HTTP -----------------------------------------------------------------
    def _handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per response: headers and body in separate small writes meet
            # delayed ACKs and add ~40 ms per request.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json", extra=None):
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path == "/control":
                    q = parse_qs(url.query)
                    action = q.get("action", [""])[0]
                    if action == "rotate":
                        idp.rotate()
                    elif action in ("ok", "fail", "stall", "garbage", "down"):
                        idp.set_mode(action)
                    else:
                        return self._send(400, b'{"error":"unknown action"}')
                    return self._send(200, json.dumps({"mode": idp.mode, "kid": idp.key.kid}).encode())
                if url.path == "/stats":
                    return self._send(200, json.dumps({"jwks": idp.jwks_hits, "discovery": idp.discovery_hits}).encode())
                is_discovery = url.path.endswith("/.well-known/openid-configuration")
                is_jwks = url.path == "/keys"
                if not (is_discovery or is_jwks):
                    return self._send(404, b'{"error":"not found"}')
                with idp._lock:
                    if is_jwks:
                        idp.jwks_hits += 1
                    else:
                        idp.discovery_hits += 1
                mode = idp.mode
                if mode == "down":
                    # Close without an answer: Envoy sees a reset.
                    self.close_connection = True
                    return
                if mode == "fail":
                    return self._send(503, b'{"error":"unavailable"}')
                if mode == "stall":
                    time.sleep(idp.stall_seconds)
                    return self._send(503, b"{}")
                if mode == "garbage":
                    return self._send(200, b"<html>not a jwks</html>", "text/html")
                if is_discovery:
                    doc = {"issuer": idp.issuer, "jwks_uri": f"{idp.base}/keys",
                           "id_token_signing_alg_values_supported": ["RS256"]}
                    return self._send(200, json.dumps(doc).encode(), extra={"cache-control": "max-age=3600"})
                return self._send(200, json.dumps(idp.jwks()).encode(),
                                  extra={"cache-control": f"public, max-age={idp.max_age}"})

        return Handler


class Echo:
    """A backend that answers 200 with the request's method, path and headers as JSON."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per response: headers and body in separate small writes meet
            # delayed ACKs and add ~40 ms per request.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                body = json.dumps({"method": self.command, "path": self.path,
                                   "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET
            do_OPTIONS = do_GET

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "Echo":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
