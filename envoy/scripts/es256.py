"""An ES256 issuer shaped like a new Supabase project (P-256 key, JWKS entry with `kid`,
`alg: ES256`, `use: sig`), for the demo and the benchmark. Signs with `cryptography`, which
envoy/scripts/setup.sh installs in the venv for the local IdP already."""

import base64
import json
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ISSUER = "https://demo-project.supabase.co/auth/v1"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Es256Issuer:
    """Its public JWK, and tokens signed as JWS wants (raw r || s) or, to show a refusal,
    with the DER signature OpenSSL produces."""

    def __init__(self, kid: str, issuer: str = ISSUER):
        self.kid = kid
        self.issuer = issuer
        self.private = ec.generate_private_key(ec.SECP256R1())

    def jwk(self) -> dict:
        n = self.private.public_key().public_numbers()
        return {"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
                "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}

    def jwks(self) -> str:
        return json.dumps({"keys": [self.jwk()]})

    def token(self, sub: str = "5f1c-user", aud: str = "authenticated", lifetime: int = 3600,
              der: bool = False) -> str:
        now = int(time.time())
        header = {"alg": "ES256", "typ": "JWT", "kid": self.kid}
        claims = {"iss": self.issuer, "sub": sub, "aud": aud, "role": "authenticated",
                  "iat": now, "exp": now + lifetime}
        signing_input = (b64(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64(json.dumps(claims, separators=(",", ":")).encode()))
        sig = self.private.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        if not der:
            r, s = decode_dss_signature(sig)
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input + "." + b64(sig)
