//! Arbitrary bytes as a JWKS, a policy and a discovery document: never a panic, and
//! a key set that loads always has at least one key.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(keys) = jwtgate::KeySet::from_jwks(data) {
        assert!(!keys.is_empty());
    }
    let _ = jwtgate::Policy::from_json(data);
    let _ = jwtgate::discovery::jwks_uri(data, Some("https://issuer.example"));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = jwtgate::refresh::max_age(text);
    }
});
