//! Arbitrary bytes as a token, against a fixed key set and clock: never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = jwtgate_fuzz::fixture();
    let token = String::from_utf8_lossy(data);
    let _ = f.verifier.verify(&token, jwtgate_fuzz::NOW);
    let _ = f.verifier.verify_jws(&token);
    // Every algorithm, against one key of each type.
    let _ = f.all_algs.verify(&token, jwtgate_fuzz::NOW);
    let _ = jwtgate::bearer_token(&token);
});
