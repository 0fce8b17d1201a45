//! Differential on the other algorithms: for ES256, ES384, EdDSA and PS256 signatures
//! (real ones, bit-flipped ones, raw bytes, DER-sized and off-length ones), jwtgate's
//! verdict equals the reference crate's strict check (`p256`/`p384` raw `r || s`,
//! ed25519-dalek `verify_strict`, the `rsa` crate's PSS with salt = hash length).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let f = jwtgate_fuzz::fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (alg, kid) = match mode % 4 {
        0 => ("ES256", "ec256"),
        1 => ("ES384", "ec384"),
        2 => ("EdDSA", "ed25519"),
        _ => ("PS256", "rsa"),
    };
    let header = format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#);
    let input = format!(
        "{}.{}",
        jwtgate_fuzz::b64(header.as_bytes()),
        jwtgate_fuzz::b64(rest.get(..rest.len().min(16)).unwrap_or_default())
    );
    let msg = input.as_bytes();
    let real = || -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match mode % 4 {
            0 => {
                let s: p256::ecdsa::Signature = f.ec256.sign(msg);
                s.to_bytes().to_vec()
            }
            1 => {
                let s: p384::ecdsa::Signature = f.ec384.sign(msg);
                s.to_bytes().to_vec()
            }
            2 => ed25519_dalek::Signer::sign(&f.ed25519, msg).to_bytes().to_vec(),
            _ => {
                use rsa::sha2::Digest as _;
                let digest = rsa::sha2::Sha256::digest(msg);
                // A fixed salt keeps runs reproducible; the salt's value is irrelevant here.
                let mut rng = FixedRng(0x5a);
                f.key
                    .sign_with_rng(&mut rng, rsa::pss::Pss::new_with_salt::<rsa::sha2::Sha256>(32), &digest)
                    .expect("PSS signing")
            }
        }
    };
    let sig: Vec<u8> = match (mode >> 2) % 3 {
        0 => real(),
        1 => {
            let mut s = real();
            let len = s.len();
            for (i, b) in rest.iter().enumerate().take(8) {
                let at = (*b as usize * 13 + i) % len;
                s[at] ^= 1 << (b % 8);
            }
            s
        }
        _ => rest.to_vec(),
    };
    let token = format!("{input}.{}", jwtgate_fuzz::b64(&sig));
    let ours = f.all_algs.verify_jws(&token).is_ok();
    let theirs = match mode % 4 {
        0 => {
            use p256::ecdsa::signature::Verifier as _;
            p256::ecdsa::Signature::from_slice(&sig)
                .is_ok_and(|s| f.ec256.verifying_key().verify(msg, &s).is_ok())
        }
        1 => {
            use p384::ecdsa::signature::Verifier as _;
            p384::ecdsa::Signature::from_slice(&sig)
                .is_ok_and(|s| f.ec384.verifying_key().verify(msg, &s).is_ok())
        }
        2 => <[u8; 64]>::try_from(sig.as_slice()).is_ok_and(|b| {
            f.ed25519
                .verifying_key()
                .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&b))
                .is_ok()
        }),
        _ => {
            use rsa::sha2::Digest as _;
            let digest = rsa::sha2::Sha256::digest(msg);
            sig.len() == 256
                && f.key
                    .to_public_key()
                    .verify(rsa::pss::Pss::new_with_salt::<rsa::sha2::Sha256>(32), &digest, &sig)
                    .is_ok()
        }
    };
    assert_eq!(ours, theirs, "{alg}: verdicts differ on {:02x?}", sig);
});

/// A constant "RNG" for the PSS salt and blinding: reproducible signatures.
struct FixedRng(u8);

impl rsa::rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes([self.0; 4])
    }
    fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes([self.0; 8])
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(self.0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        dest.fill(self.0);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for FixedRng {}
