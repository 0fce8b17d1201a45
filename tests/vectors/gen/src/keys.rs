//! The committed test keys: loaded from `keys/*.pem` (PKCS#8), generated once from a
//! seeded RNG when missing, and rendered as JWKs.

use crate::json::{obj, s, J};
use crate::sign::b64;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey};
use std::path::Path;

/// One test key: its file stem, size and public exponent.
struct Spec {
    name: &'static str,
    bits: usize,
    e: u32,
}

const SPECS: &[Spec] = &[
    Spec {
        name: "main",
        bits: 2048,
        e: 65537,
    },
    Spec {
        name: "rotated",
        bits: 2048,
        e: 65537,
    },
    Spec {
        name: "attacker",
        bits: 2048,
        e: 65537,
    },
    Spec {
        name: "rsa3072",
        bits: 3072,
        e: 65537,
    },
    Spec {
        name: "rsa4096",
        bits: 4096,
        e: 65537,
    },
    Spec {
        name: "rsa1024",
        bits: 1024,
        e: 65537,
    },
    Spec {
        name: "e3",
        bits: 2048,
        e: 3,
    },
];

/// Every private key the generator signs with.
pub struct Keys {
    pub main: RsaPrivateKey,
    pub rotated: RsaPrivateKey,
    /// Never in any trusted key set: it signs forgeries.
    pub attacker: RsaPrivateKey,
    pub rsa3072: RsaPrivateKey,
    pub rsa4096: RsaPrivateKey,
    /// Below the 2048-bit minimum: every key set skips it.
    pub rsa1024: RsaPrivateKey,
    /// 2048 bits with e = 3, the classic target of Bleichenbacher's 2006 forgery.
    pub e3: RsaPrivateKey,
}

/// Loads every key from `dir`, generating (and writing) the missing ones unless `check` is set.
pub fn load(dir: &Path, check: bool) -> Result<Keys, String> {
    let mut loaded = Vec::new();
    for spec in SPECS {
        let path = dir.join(format!("{}.pem", spec.name));
        let key = if path.exists() {
            let pem =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?
        } else if check {
            return Err(format!(
                "{} is missing: run the generator without --check",
                path.display()
            ));
        } else {
            eprintln!(
                "generating {} ({} bits, e = {})",
                path.display(),
                spec.bits,
                spec.e
            );
            let mut rng = ChaCha20Rng::seed_from_u64(seed(spec.name));
            let key = RsaPrivateKey::new_with_exp(&mut rng, spec.bits, &BigUint::from(spec.e))
                .map_err(|e| format!("{}: {e}", spec.name))?;
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| e.to_string())?;
            std::fs::write(&path, pem.as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            key
        };
        if key.n().bits() != spec.bits || key.e() != &BigUint::from(spec.e) {
            return Err(format!(
                "{} is not a {}-bit key with e = {}",
                path.display(),
                spec.bits,
                spec.e
            ));
        }
        loaded.push(key);
    }
    let mut it = loaded.into_iter();
    let mut next = || it.next().expect("one key per spec");
    Ok(Keys {
        main: next(),
        rotated: next(),
        attacker: next(),
        rsa3072: next(),
        rsa4096: next(),
        rsa1024: next(),
        e3: next(),
    })
}

/// A fixed seed per key name (FNV-1a), so regenerating a deleted key gives it back.
fn seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Big-endian minimal bytes of `n`.
pub fn n_bytes(key: &RsaPrivateKey) -> Vec<u8> {
    key.n().to_bytes_be()
}

/// The public JWK: `kty`, then `kid` when given, then `extra` members, then `n`, `e`.
pub fn jwk(key: &RsaPrivateKey, kid: Option<&str>, extra: &[(&str, J)]) -> J {
    let mut j = obj([("kty", s("RSA"))]);
    if let Some(kid) = kid {
        j.push("kid", s(kid));
    }
    for (name, value) in extra {
        j.push(name, value.clone());
    }
    j.push("n", s(b64(&key.n().to_bytes_be())));
    j.push("e", s(b64(&key.e().to_bytes_be())));
    j
}

/// The usual published form: `use: sig`, `alg: RS256`.
pub fn jwk_sig(key: &RsaPrivateKey, kid: Option<&str>) -> J {
    jwk(key, kid, &[("use", s("sig")), ("alg", s("RS256"))])
}

/// A JWKS document from JWKs.
pub fn jwks(keys: Vec<J>) -> J {
    obj([("keys", J::Arr(keys))])
}
