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
    /// P-256 (ES256), the issuer's key.
    pub ec256: p256::ecdsa::SigningKey,
    /// Another P-256 key, never in a trusted set.
    pub ec256_attacker: p256::ecdsa::SigningKey,
    /// P-384 (ES384).
    pub ec384: p384::ecdsa::SigningKey,
    /// Ed25519 (EdDSA).
    pub ed25519: ed25519_dalek::SigningKey,
}

/// Reads `name.pem` (PKCS#8), or generates it from a seeded RNG and writes it.
fn curve_key<K>(
    dir: &Path,
    name: &str,
    check: bool,
    read: impl Fn(&str) -> Result<K, String>,
    generate: impl Fn(&mut ChaCha20Rng) -> K,
    write: impl Fn(&K) -> Result<String, String>,
) -> Result<K, String> {
    let path = dir.join(format!("{name}.pem"));
    if path.exists() {
        let pem = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        return read(&pem).map_err(|e| format!("{}: {e}", path.display()));
    }
    if check {
        return Err(format!(
            "{} is missing: run the generator without --check",
            path.display()
        ));
    }
    eprintln!("generating {}", path.display());
    let mut rng = ChaCha20Rng::seed_from_u64(seed(name));
    let key = generate(&mut rng);
    std::fs::write(&path, write(&key)?).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(key)
}

fn p256_key(dir: &Path, name: &str, check: bool) -> Result<p256::ecdsa::SigningKey, String> {
    use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    curve_key(
        dir,
        name,
        check,
        |pem| p256::ecdsa::SigningKey::from_pkcs8_pem(pem).map_err(|e| e.to_string()),
        p256::ecdsa::SigningKey::random,
        |k| {
            k.to_pkcs8_pem(LineEnding::LF)
                .map(|p| p.to_string())
                .map_err(|e| e.to_string())
        },
    )
}

fn p384_key(dir: &Path, name: &str, check: bool) -> Result<p384::ecdsa::SigningKey, String> {
    use p384::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    curve_key(
        dir,
        name,
        check,
        |pem| p384::ecdsa::SigningKey::from_pkcs8_pem(pem).map_err(|e| e.to_string()),
        p384::ecdsa::SigningKey::random,
        |k| {
            k.to_pkcs8_pem(LineEnding::LF)
                .map(|p| p.to_string())
                .map_err(|e| e.to_string())
        },
    )
}

fn ed25519_key(dir: &Path, name: &str, check: bool) -> Result<ed25519_dalek::SigningKey, String> {
    use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    use rand_chacha::rand_core::RngCore;
    curve_key(
        dir,
        name,
        check,
        |pem| ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map_err(|e| e.to_string()),
        |rng| {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            ed25519_dalek::SigningKey::from_bytes(&secret)
        },
        |k| {
            k.to_pkcs8_pem(LineEnding::LF)
                .map(|p| p.to_string())
                .map_err(|e| e.to_string())
        },
    )
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
        ec256: p256_key(dir, "ec256", check)?,
        ec256_attacker: p256_key(dir, "ec256_attacker", check)?,
        ec384: p384_key(dir, "ec384", check)?,
        ed25519: ed25519_key(dir, "ed25519", check)?,
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

/// The public EC JWK of a P-256 key: `kty`, `kid`, `extra`, `crv`, `x`, `y`.
pub fn ec256_jwk(key: &p256::ecdsa::SigningKey, kid: &str, extra: &[(&str, J)]) -> J {
    let point = key.verifying_key().to_encoded_point(false);
    let (x, y) = (point.x().expect("x"), point.y().expect("y"));
    ec_jwk("P-256", x, y, kid, extra)
}

/// The public EC JWK of a P-384 key.
pub fn ec384_jwk(key: &p384::ecdsa::SigningKey, kid: &str, extra: &[(&str, J)]) -> J {
    let point = key.verifying_key().to_encoded_point(false);
    let (x, y) = (point.x().expect("x"), point.y().expect("y"));
    ec_jwk("P-384", x, y, kid, extra)
}

/// An EC JWK from raw coordinates (which need not be a point of the curve).
pub fn ec_jwk(crv: &str, x: &[u8], y: &[u8], kid: &str, extra: &[(&str, J)]) -> J {
    let mut j = obj([("kty", s("EC")), ("kid", s(kid))]);
    for (name, value) in extra {
        j.push(name, value.clone());
    }
    j.push("crv", s(crv));
    j.push("x", s(b64(x)));
    j.push("y", s(b64(y)));
    j
}

/// The public OKP JWK of an Ed25519 key.
pub fn ed25519_jwk(key: &ed25519_dalek::SigningKey, kid: &str, extra: &[(&str, J)]) -> J {
    okp_jwk("Ed25519", &key.verifying_key().to_bytes(), kid, extra)
}

/// An OKP JWK from raw bytes.
pub fn okp_jwk(crv: &str, x: &[u8], kid: &str, extra: &[(&str, J)]) -> J {
    let mut j = obj([("kty", s("OKP")), ("kid", s(kid))]);
    for (name, value) in extra {
        j.push(name, value.clone());
    }
    j.push("crv", s(crv));
    j.push("x", s(b64(x)));
    j
}
