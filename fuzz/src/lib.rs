//! Shared fixtures for the fuzz targets: one deterministic RSA-2048 test key, its
//! JWKS, a verifier with a demanding policy, and a signer that mints real tokens so
//! the structure-aware target reaches the claim checks behind the signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwtgate::{KeySet, Policy, Verifier};
use rsa::pkcs8::DecodePrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;

/// The fixed clock every target uses.
pub const NOW: u64 = 1_767_225_600;

pub struct Fixture {
    pub key: RsaPrivateKey,
    pub signer: SigningKey<rsa::sha2::Sha256>,
    pub jwks: String,
    pub verifier: Verifier,
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
        Fixture {
            signer: SigningKey::<rsa::sha2::Sha256>::new(key.clone()),
            key,
            jwks,
            verifier,
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
