//! Differential: jwtgate's RSA engine and the `rsa` crate agree on every signature
//! over the same signing input, including mutated, short, long and out-of-range ones.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rsa::signature::Verifier as _;

fuzz_target!(|data: &[u8]| {
    let f = jwtgate_fuzz::fixture();
    if data.is_empty() {
        return;
    }
    // First byte picks how the signature is formed; the rest is payload and signature material.
    let (mode, rest) = data.split_at(1);
    let input = format!("eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ1enoifQ.{}", jwtgate_fuzz::b64(rest));
    let mut sig = match mode[0] % 4 {
        // A real signature, then bit-flipped by the remaining input.
        0 | 1 => {
            use rsa::signature::{SignatureEncoding, Signer};
            let mut s = f.signer.sign(input.as_bytes()).to_vec();
            if mode[0] % 4 == 1 {
                for (i, b) in rest.iter().enumerate().take(8) {
                    let at = (*b as usize * 7 + i) % s.len();
                    s[at] ^= 1 << (b % 8);
                }
            }
            s
        }
        // Raw bytes as the signature: lengths and values the engine must bound-check.
        _ => rest.to_vec(),
    };
    if mode[0] & 0x80 != 0 {
        sig.insert(0, 0);
    }
    let token = format!("{input}.{}", jwtgate_fuzz::b64(&sig));
    let ours = f.verifier.verify_jws(&token).is_ok();
    let vk = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(f.key.to_public_key());
    let theirs = rsa::pkcs1v15::Signature::try_from(sig.as_slice())
        .map(|s| sig.len() == 256 && vk.verify(input.as_bytes(), &s).is_ok())
        .unwrap_or(false);
    assert_eq!(ours, theirs, "engines disagree on signature {:02x?}", sig);
});
