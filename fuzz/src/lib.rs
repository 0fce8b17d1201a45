//! Shared fixtures for the fuzz targets: one deterministic RSA-2048 test key, its
//! JWKS, a verifier with a demanding policy, and a signer that mints real tokens so
//! the structure-aware target reaches the claim checks behind the signature; and the
//! committed P-256, P-384 and Ed25519 test keys with a verifier that allows every
//! algorithm, for the curve targets.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwtgate::{KeySet, Policy, Verifier};
use rsa::pkcs8::DecodePrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;

/// jwt-compact as the oracle of jwtgate's verdicts: the core's differential tests' module.
#[path = "../../filter/tests/oracle/mod.rs"]
pub mod oracle;

/// The fixed clock every target uses (the oracle's too).
pub const NOW: u64 = 1_767_225_600;
const _: () = assert!(NOW == oracle::NOW as u64);

/// The oracle's keys and a jwtgate verifier over them (every algorithm, the issuer and
/// audience the corpus uses). The RSA key is `tests/vectors/keys/main.pem`, the fixture's:
/// its JWK is there once more with `kid` `fuzz`, so an RS256 token [`sign`] made is judged
/// as it is, without signing it again (RSA signing is most of a run).
pub struct OracleFixture {
    pub keys: oracle::Keys,
    pub verifier: Verifier,
}

pub fn oracle_fixture() -> &'static OracleFixture {
    thread_local! {
        static F: &'static OracleFixture = {
            let keys = oracle::Keys::load();
            let mut jwks: serde_json::Value = serde_json::from_str(&keys.jwks()).expect("JWKS");
            let mut alias = jwks["keys"][0].clone();
            assert_eq!(alias["kid"], "rsa");
            alias["kid"] = "fuzz".into();
            jwks["keys"].as_array_mut().expect("keys").push(alias);
            let verifier = oracle::Keys::verifier_over(&jwks.to_string());
            Box::leak(Box::new(OracleFixture { keys, verifier }))
        };
    }
    F.with(|f| *f)
}

pub struct Fixture {
    pub key: RsaPrivateKey,
    pub signer: SigningKey<rsa::sha2::Sha256>,
    pub jwks: String,
    pub verifier: Verifier,
    pub ec256: p256::ecdsa::SigningKey,
    pub ec384: p384::ecdsa::SigningKey,
    pub ed25519: ed25519_dalek::SigningKey,
    /// One key per type (kids `rsa`, `ec256`, `ec384`, `ed25519`), every algorithm allowed.
    pub all_algs: Verifier,
}

pub fn fixture() -> &'static Fixture {
    // The verifier's cache is single-threaded by design, so the fixture is per thread.
    thread_local! {
        static F: &'static Fixture = Box::leak(Box::new(make()));
    }
    F.with(|f| *f)
}

fn make() -> Fixture {
    {
        // A committed key: generating one per process would dominate short fuzz runs.
        let key = RsaPrivateKey::from_pkcs8_pem(include_str!("../../tests/vectors/keys/main.pem"))
            .expect("test key");
        let jwks = format!(
            r#"{{"keys":[{{"kty":"RSA","kid":"fuzz","alg":"RS256","use":"sig","n":"{}","e":"{}"}}]}}"#,
            b64(&key.n().to_bytes_be()),
            b64(&key.e().to_bytes_be())
        );
        let policy = Policy::new()
            .issuer("https://issuer.example")
            .audience("api")
            .max_token_age(3600)
            .require_claim("kubernetes.io.pod.name")
            .subject("system:serviceaccount:payments:*")
            .claim("kubernetes.io.namespace", ["payments"]);
        let keys = KeySet::from_jwks(jwks.as_bytes()).expect("fixture JWKS");
        let verifier = Verifier::new(keys, policy).with_cache(16);
        let ec256 = p256::ecdsa::SigningKey::from_pkcs8_pem(include_str!(
            "../../tests/vectors/keys/ec256.pem"
        ))
        .expect("P-256 test key");
        let ec384 = p384::ecdsa::SigningKey::from_pkcs8_pem(include_str!(
            "../../tests/vectors/keys/ec384.pem"
        ))
        .expect("P-384 test key");
        let ed25519 = {
            use ed25519_dalek::pkcs8::DecodePrivateKey as _;
            ed25519_dalek::SigningKey::from_pkcs8_pem(include_str!(
                "../../tests/vectors/keys/ed25519.pem"
            ))
            .expect("Ed25519 test key")
        };
        let p256 = ec256.verifying_key().to_encoded_point(false);
        let p384 = ec384.verifying_key().to_encoded_point(false);
        let all_jwks = format!(
            r#"{{"keys":[{{"kty":"RSA","kid":"rsa","n":"{}","e":"{}"}},{{"kty":"EC","kid":"ec256","crv":"P-256","x":"{}","y":"{}"}},{{"kty":"EC","kid":"ec384","crv":"P-384","x":"{}","y":"{}"}},{{"kty":"OKP","kid":"ed25519","crv":"Ed25519","x":"{}"}}]}}"#,
            b64(&key.n().to_bytes_be()),
            b64(&key.e().to_bytes_be()),
            b64(p256.x().expect("x")),
            b64(p256.y().expect("y")),
            b64(p384.x().expect("x")),
            b64(p384.y().expect("y")),
            b64(&ed25519.verifying_key().to_bytes()),
        );
        let all_keys = KeySet::from_jwks(all_jwks.as_bytes()).expect("all-algorithm JWKS");
        assert_eq!(all_keys.len(), 4);
        let all_algs = Verifier::new(
            all_keys,
            Policy::new().algorithms(&jwtgate::Algorithm::ALL),
        );
        Fixture {
            signer: SigningKey::<rsa::sha2::Sha256>::new(key.clone()),
            key,
            jwks,
            verifier,
            ec256,
            ec384,
            ed25519,
            all_algs,
        }
    }
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs `header.payload` (raw JSON text, any bytes) with the fixture key.
pub fn sign(header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = fixture().signer.sign(input.as_bytes()).to_vec();
    format!("{input}.{}", b64(&sig))
}
