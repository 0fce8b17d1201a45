//! A compact ECDSA verifier for P-256 (ES256) and P-384 (ES384), feature `ecdsa-compact`:
//! the size-bound builds' replacement for RustCrypto's `p256`/`p384`, whose fiat-crypto
//! arithmetic, unrolled for 32-bit targets, is most of the gzipped npm module's EC code:
//! with every algorithm the module is 81,957 bytes gzipped with this, 114,423 with them.
//! In wasm (Node 20) it is also faster: ES256 443 vs 931 us, ES384 1,309 vs 5,566 us a
//! verify. Natively (u32 limbs, see `field.rs`) it is slower: 763 vs 298 us, 1.66 vs
//! 1.30 ms (the `timing` test), so native builds keep the RustCrypto curves by default.
//!
//! One implementation generic over the curve: Montgomery arithmetic mod p and mod n
//! (`field.rs`), Jacobian points with the `a = -3` doubling and an addition that
//! handles its special cases (identity, P = Q, P = -Q) apart, and Shamir's trick for
//! `u1 G + u2 Q`. Verification only, on public data: nothing is constant-time.
//!
//! The checks are the ones `p256`/`p384` make (the differential tests hold them to it):
//! a key is `x, y < p` on the curve (the identity has no affine encoding); a signature is
//! `r || s` with both in `[1, n-1]` (so `r = s = 0`, the "psychic signature", never
//! reaches the equation); `e` is the digest's leftmost bits mod n; it holds iff
//! `R = u1 G + u2 Q` is not the identity and `x(R) mod n = r`. High `s` is accepted.
// Every index is a loop counter below a constant limb count.
#![allow(clippy::indexing_slicing)]
// With one curve only, the other's tables are left for the linker to drop (the tests use both).
#![cfg_attr(not(all(feature = "es256", feature = "es384")), allow(dead_code))]

mod field;
#[cfg(test)]
mod tests;

use field::{add_raw, from_be, hex, is_zero, lt, sub_raw, Limb, Modulus};

/// Limb counts of the two curves (`u32` limbs).
const N256: usize = 8;
const N384: usize = 12;

/// A curve `y^2 = x^3 - 3x + b` over GF(p) of prime order n (cofactor 1).
#[derive(Debug)]
struct Curve<const N: usize> {
    p: Modulus<N>,
    n: Modulus<N>,
    /// `b`, `G` in Montgomery form mod p.
    b: [Limb; N],
    gx: [Limb; N],
    gy: [Limb; N],
}

impl<const N: usize> Curve<N> {
    const fn new(p: &str, n: &str, b: &str, gx: &str, gy: &str) -> Self {
        let p = Modulus::new(p);
        let b = p.to_mont(&hex(b));
        let gx = p.to_mont(&hex(gx));
        let gy = p.to_mont(&hex(gy));
        Curve {
            n: Modulus::new(n),
            b,
            gx,
            gy,
            p,
        }
    }
}

// SEC 2 / FIPS 186-4 domain parameters.
static P256: Curve<N256> = Curve::new(
    "ffffffff 00000001 00000000 00000000 00000000 ffffffff ffffffff ffffffff",
    "ffffffff 00000000 ffffffff ffffffff bce6faad a7179e84 f3b9cac2 fc632551",
    "5ac635d8 aa3a93e7 b3ebbd55 769886bc 651d06b0 cc53b0f6 3bce3c3e 27d2604b",
    "6b17d1f2 e12c4247 f8bce6e5 63a440f2 77037d81 2deb33a0 f4a13945 d898c296",
    "4fe342e2 fe1a7f9b 8ee7eb4a 7c0f9e16 2bce3357 6b315ece cbb64068 37bf51f5",
);

static P384: Curve<N384> = Curve::new(
    "ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff \
     ffffffff fffffffe ffffffff 00000000 00000000 ffffffff",
    "ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff \
     c7634d81 f4372ddf 581a0db2 48b0a77a ecec196a ccc52973",
    "b3312fa7 e23ee7e4 988e056b e3f82d19 181d9c6e fe814112 \
     0314088f 5013875a c656398d 8a2ed19d 2a85c8ed d3ec2aef",
    "aa87ca22 be8b0537 8eb1c71e f320ad74 6e1d3b62 8ba79b98 \
     59f741e0 82542a38 5502f25d bf55296c 3a545e38 72760ab7",
    "3617de4a 96262c6f 5d9e98bf 9292dc29 f8f41dbd 289a147c \
     e9da3113 b5f0b8c0 0a60b1ce 1d7e819d 7a431d7c 90ea0e5f",
);

/// A validated public key: affine `(x, y)` in Montgomery form mod p.
#[derive(Clone, Debug)]
pub(crate) struct PublicKey<const N: usize> {
    x: [Limb; N],
    y: [Limb; N],
}

/// An ES256 key.
pub(crate) type P256Key = PublicKey<N256>;
/// An ES384 key.
pub(crate) type P384Key = PublicKey<N384>;

impl P256Key {
    /// From the big-endian coordinates (32 bytes each); `None` when they are not a
    /// point of the curve.
    pub(crate) fn from_xy(x: &[u8], y: &[u8]) -> Option<Self> {
        key_from_xy(&P256, x, y)
    }

    /// Whether raw `r || s` (64 bytes) signs `digest` (SHA-256).
    pub(crate) fn verify(&self, digest: &[u8], sig: &[u8]) -> bool {
        verify(&P256, self, digest, sig)
    }
}

impl P384Key {
    /// From the big-endian coordinates (48 bytes each).
    pub(crate) fn from_xy(x: &[u8], y: &[u8]) -> Option<Self> {
        key_from_xy(&P384, x, y)
    }

    /// Whether raw `r || s` (96 bytes) signs `digest` (SHA-384).
    pub(crate) fn verify(&self, digest: &[u8], sig: &[u8]) -> bool {
        verify(&P384, self, digest, sig)
    }
}

/// The coordinate's bytes as an integer mod p: exactly `4 N` bytes and `< p`.
fn coordinate<const N: usize>(c: &Curve<N>, bytes: &[u8]) -> Option<[Limb; N]> {
    let v = from_be::<N>(bytes);
    (bytes.len() == 4 * N && lt(&v, &c.p.m)).then(|| c.p.to_mont(&v))
}

/// `x^3 - 3x + b` (Montgomery form).
fn rhs<const N: usize>(c: &Curve<N>, x: &[Limb; N]) -> [Limb; N] {
    let f = &c.p;
    let x2_minus_3 = f.sub(&f.mul(x, x), &f.add(&f.one, &f.add(&f.one, &f.one)));
    f.add(&f.mul(&x2_minus_3, x), &c.b)
}

fn key_from_xy<const N: usize>(c: &Curve<N>, x: &[u8], y: &[u8]) -> Option<PublicKey<N>> {
    let x = coordinate(c, x)?;
    let y = coordinate(c, y)?;
    // On the curve; (0, 0), the usual stand-in for the identity, is not (b != 0).
    (c.p.mul(&y, &y) == rhs(c, &x)).then_some(PublicKey { x, y })
}

/// A point in Jacobian coordinates `(X : Y : Z)`, `x = X/Z^2`, `y = Y/Z^3`; the identity
/// has `Z = 0`.
#[derive(Clone, Copy)]
struct Point<const N: usize> {
    x: [Limb; N],
    y: [Limb; N],
    z: [Limb; N],
}

/// `2a` for `a = -3` (3M + 5S). The identity stays the identity (`Z3 = 2 Y Z`), and no
/// point has `y = 0` on a curve of odd order, so there is no special case.
fn double<const N: usize>(c: &Curve<N>, a: &Point<N>) -> Point<N> {
    let f = &c.p;
    let delta = f.mul(&a.z, &a.z);
    let gamma = f.mul(&a.y, &a.y);
    let beta = f.mul(&a.x, &gamma);
    // alpha = 3 (x - delta)(x + delta) = 3 x^2 + a z^4 with a = -3.
    let t = f.mul(&f.sub(&a.x, &delta), &f.add(&a.x, &delta));
    let alpha = f.add(&f.add(&t, &t), &t);
    let beta2 = f.add(&beta, &beta);
    let beta4 = f.add(&beta2, &beta2);
    let x = f.sub(&f.mul(&alpha, &alpha), &f.add(&beta4, &beta4));
    let yz = f.add(&a.y, &a.z);
    let z = f.sub(&f.sub(&f.mul(&yz, &yz), &gamma), &delta);
    let g2 = f.mul(&gamma, &gamma);
    let g4 = f.add(&g2, &g2);
    let g8 = f.add(&g4, &g4);
    let y = f.sub(&f.mul(&alpha, &f.sub(&beta4, &x)), &f.add(&g8, &g8));
    Point { x, y, z }
}

/// `a + b` (12M + 4S; 8M + 3S when `b` is affine, `Z = 1`), with the cases the
/// formula cannot take handled apart: either point the identity, `a = b` (doubled)
/// and `a = -b` (the identity).
fn add<const N: usize>(c: &Curve<N>, a: &Point<N>, b: &Point<N>) -> Point<N> {
    let f = &c.p;
    if is_zero(&a.z) {
        return *b;
    }
    if is_zero(&b.z) {
        return *a;
    }
    let affine = b.z == f.one;
    let z1z1 = f.mul(&a.z, &a.z);
    let u2 = f.mul(&b.x, &z1z1);
    let s2 = f.mul(&b.y, &f.mul(&a.z, &z1z1));
    let (u1, s1) = if affine {
        (a.x, a.y)
    } else {
        let z2z2 = f.mul(&b.z, &b.z);
        (f.mul(&a.x, &z2z2), f.mul(&a.y, &f.mul(&b.z, &z2z2)))
    };
    let h = f.sub(&u2, &u1);
    let r = f.sub(&s2, &s1);
    if is_zero(&h) {
        return if is_zero(&r) {
            double(c, a)
        } else {
            Point {
                x: f.one,
                y: f.one,
                z: [0; N],
            }
        };
    }
    let hh = f.mul(&h, &h);
    let hhh = f.mul(&h, &hh);
    let v = f.mul(&u1, &hh);
    let x = f.sub(&f.sub(&f.mul(&r, &r), &hhh), &f.add(&v, &v));
    let y = f.sub(&f.mul(&r, &f.sub(&v, &x)), &f.mul(&s1, &hhh));
    let z = f.mul(&a.z, &h);
    let z = if affine { z } else { f.mul(&z, &b.z) };
    Point { x, y, z }
}

/// `u1 G + u2 Q` (plain integers), by Shamir's trick: one doubling a bit and at most
/// one addition of `G`, `Q` (both affine: the cheaper mixed addition) or `G + Q`.
fn double_mul<const N: usize>(
    c: &Curve<N>,
    u1: &[Limb; N],
    u2: &[Limb; N],
    q: &PublicKey<N>,
) -> Point<N> {
    let g = Point {
        x: c.gx,
        y: c.gy,
        z: c.p.one,
    };
    let q = Point {
        x: q.x,
        y: q.y,
        z: c.p.one,
    };
    let gq = add(c, &g, &q);
    let mut r = Point {
        x: c.p.one,
        y: c.p.one,
        z: [0; N],
    };
    for i in (0..N).rev() {
        for bit in (0..Limb::BITS).rev() {
            r = double(c, &r);
            let t = match ((u1[i] >> bit) & 1, (u2[i] >> bit) & 1) {
                (1, 1) => &gq,
                (1, _) => &g,
                (_, 1) => &q,
                _ => continue,
            };
            r = add(c, &r, t);
        }
    }
    r
}

/// A scalar from `r` or `s`: in `[1, n-1]`.
fn scalar<const N: usize>(c: &Curve<N>, bytes: &[u8]) -> Option<[Limb; N]> {
    let v = from_be::<N>(bytes);
    (!is_zero(&v) && lt(&v, &c.n.m)).then_some(v)
}

/// `v mod n` for `v < 2n` (a digest as wide as n: `n > 2^(32 N - 1)` here).
fn reduce_once<const N: usize>(c: &Curve<N>, v: [Limb; N]) -> [Limb; N] {
    if lt(&v, &c.n.m) {
        v
    } else {
        sub_raw(&v, &c.n.m).0
    }
}

fn verify<const N: usize>(c: &Curve<N>, key: &PublicKey<N>, digest: &[u8], sig: &[u8]) -> bool {
    let len = 4 * N;
    if sig.len() != 2 * len {
        return false;
    }
    let (Some(r), Some(s)) = (
        sig.get(..len).and_then(|b| scalar(c, b)),
        sig.get(len..).and_then(|b| scalar(c, b)),
    ) else {
        return false;
    };
    // e: the digest's leftmost bits, as many as n has (a whole number of bytes here).
    let e = reduce_once(c, from_be::<N>(digest.get(..len).unwrap_or(digest)));
    // w = s^-1 in Montgomery form; then mul(plain, w) = plain * s^-1, out of the form.
    let n = &c.n;
    let w = n.inv(&n.to_mont(&s));
    let u1 = n.mul(&e, &w);
    let u2 = n.mul(&r, &w);
    let point = double_mul(c, &u1, &u2, key);
    if is_zero(&point.z) {
        return false;
    }
    // x(R) = X / Z^2; x(R) mod n = r iff X = x Z^2 for x = r or (when < p) r + n, which
    // spares the inversion mod p.
    let f = &c.p;
    let zz = f.mul(&point.z, &point.z);
    let mut x = r;
    loop {
        if f.mul(&f.to_mont(&x), &zz) == point.x {
            return true;
        }
        let (next, carry) = add_raw(&x, &n.m);
        if carry || !lt(&next, &f.m) {
            return false;
        }
        x = next;
    }
}
