//! Montgomery arithmetic modulo an odd `m` (the field prime p or the group order n) on
//! little-endian `u32` limbs, generic over the limb count (8 for P-256, 12 for P-384).
//!
//! `u32` limbs with `u64` products on every target: that is what wasm32 multiplies
//! natively (a `u64 x u64 -> u128` product is a libcall there), and it keeps the code the
//! native tests run the same as the one the npm module ships. Values are kept fully
//! reduced (`< m`). Nothing here is constant-time: it only ever sees public data (keys,
//! signatures, digests).
//!
//! Every constant (`-m^-1 mod 2^32`, `R mod m`, `R^2 mod m`) is derived from the modulus
//! by `const fn`s at compile time, so the curve tables are only the standard hex values.
// Every index is a loop counter below the constant `N` (or a limb count derived from it).
#![allow(clippy::indexing_slicing)]

pub(crate) type Limb = u32;
type Wide = u64;
const W: u32 = Limb::BITS;

/// A modulus with its Montgomery constants (`R = 2^(32 N)`).
#[derive(Debug)]
pub(crate) struct Modulus<const N: usize> {
    pub(crate) m: [Limb; N],
    /// `-m^-1 mod 2^32`.
    m0: Limb,
    /// `R^2 mod m`: `mul(a, r2)` puts `a` into Montgomery form.
    r2: [Limb; N],
    /// `R mod m`: 1 in Montgomery form.
    pub(crate) one: [Limb; N],
}

/// Big-endian hex (spaces allowed) to limbs, at compile time.
pub(crate) const fn hex<const N: usize>(s: &str) -> [Limb; N] {
    let b = s.as_bytes();
    let mut out = [0; N];
    let mut i = b.len();
    let mut nibble = 0usize;
    while i > 0 {
        i -= 1;
        let d = match b[i] {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => continue,
        };
        out[nibble / 8] |= (d as Limb) << (4 * (nibble % 8));
        nibble += 1;
    }
    out
}

/// `a + b` and the carry out.
pub(crate) const fn add_raw<const N: usize>(a: &[Limb; N], b: &[Limb; N]) -> ([Limb; N], bool) {
    let mut out = [0; N];
    let mut carry: Wide = 0;
    let mut i = 0;
    while i < N {
        let t = a[i] as Wide + b[i] as Wide + carry;
        out[i] = t as Limb;
        carry = t >> W;
        i += 1;
    }
    (out, carry != 0)
}

/// `a - b` and the borrow out.
pub(crate) const fn sub_raw<const N: usize>(a: &[Limb; N], b: &[Limb; N]) -> ([Limb; N], bool) {
    let mut out = [0; N];
    let mut borrow = false;
    let mut i = 0;
    while i < N {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(borrow as Limb);
        out[i] = d;
        borrow = b1 | b2;
        i += 1;
    }
    (out, borrow)
}

/// `a < b`.
pub(crate) const fn lt<const N: usize>(a: &[Limb; N], b: &[Limb; N]) -> bool {
    sub_raw(a, b).1
}

pub(crate) const fn is_zero<const N: usize>(a: &[Limb; N]) -> bool {
    let mut i = 0;
    while i < N {
        if a[i] != 0 {
            return false;
        }
        i += 1;
    }
    true
}

impl<const N: usize> Modulus<N> {
    /// The modulus from big-endian hex; it must be odd and have its top bit set (true of
    /// the NIST primes and orders), so that `R mod m = R - m`.
    pub(crate) const fn new(hex_m: &str) -> Self {
        let m = hex::<N>(hex_m);
        // Newton's iteration doubles the correct low bits: 1 -> 2 -> ... -> 32 (m odd).
        let mut inv: Limb = 1;
        let mut k = 0;
        while k < 5 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(m[0].wrapping_mul(inv)));
            k += 1;
        }
        let one = sub_raw(&[0; N], &m).0;
        let mut this = Modulus {
            m,
            m0: inv.wrapping_neg(),
            r2: [0; N],
            one,
        };
        // R^2 = R * 2^(32 N): double R mod m that many times.
        let mut r2 = one;
        let mut i = 0;
        while i < 32 * N {
            r2 = this.add(&r2, &r2);
            i += 1;
        }
        this.r2 = r2;
        this
    }

    /// `a + b mod m`. Not inlined, like `mul` (size: the limb loops unroll).
    #[inline(never)]
    pub(crate) const fn add(&self, a: &[Limb; N], b: &[Limb; N]) -> [Limb; N] {
        let (s, carry) = add_raw(a, b);
        let (d, borrow) = sub_raw(&s, &self.m);
        // a + b < 2m: subtract m when the sum overflowed or is at least m.
        if carry || !borrow {
            d
        } else {
            s
        }
    }

    /// `a - b mod m`.
    #[inline(never)]
    pub(crate) const fn sub(&self, a: &[Limb; N], b: &[Limb; N]) -> [Limb; N] {
        let (d, borrow) = sub_raw(a, b);
        if borrow {
            add_raw(&d, &self.m).0
        } else {
            d
        }
    }

    /// Montgomery product `a b R^-1 mod m` (CIOS: one multiply, one reduce step a limb).
    /// Not inlined: one copy a limb count instead of one a call site (module size; the
    /// call is small next to its 2 N^2 products).
    #[inline(never)]
    pub(crate) const fn mul(&self, a: &[Limb; N], b: &[Limb; N]) -> [Limb; N] {
        let mut t = [0 as Limb; N];
        // The two limbs above t: t is < 2m < 2^(32 N + 1) between steps.
        let mut hi: Limb = 0;
        let mut i = 0;
        while i < N {
            let bi = b[i] as Wide;
            let mut c: Wide = 0;
            let mut j = 0;
            while j < N {
                let v = t[j] as Wide + a[j] as Wide * bi + c;
                t[j] = v as Limb;
                c = v >> W;
                j += 1;
            }
            let v = hi as Wide + c;
            let top = (v >> W) as Limb;
            hi = v as Limb;
            // Add q m with q chosen so the low limb becomes 0, then shift down a limb.
            let q = t[0].wrapping_mul(self.m0) as Wide;
            let mut c = (t[0] as Wide + q * self.m[0] as Wide) >> W;
            let mut j = 1;
            while j < N {
                let v = t[j] as Wide + q * self.m[j] as Wide + c;
                t[j - 1] = v as Limb;
                c = v >> W;
                j += 1;
            }
            let v = hi as Wide + c;
            t[N - 1] = v as Limb;
            hi = top + (v >> W) as Limb;
            i += 1;
        }
        let (d, borrow) = sub_raw(&t, &self.m);
        if hi != 0 || !borrow {
            d
        } else {
            t
        }
    }

    /// Into Montgomery form (`a < m`).
    pub(crate) const fn to_mont(&self, a: &[Limb; N]) -> [Limb; N] {
        self.mul(a, &self.r2)
    }

    /// Out of Montgomery form (the tests' view of the tables).
    #[cfg(test)]
    pub(crate) fn out_of_mont(&self, a: &[Limb; N]) -> [Limb; N] {
        let mut one = [0; N];
        if let Some(l) = one.first_mut() {
            *l = 1;
        }
        self.mul(a, &one)
    }

    /// `a^-1` in Montgomery form (Fermat: `a^(m-2)`, m prime); 0 for 0.
    pub(crate) fn inv(&self, a: &[Limb; N]) -> [Limb; N] {
        let mut two = [0; N];
        if let Some(l) = two.first_mut() {
            *l = 2;
        }
        let e = sub_raw(&self.m, &two).0;
        let mut acc = self.one;
        for i in (0..N).rev() {
            for bit in (0..W).rev() {
                acc = self.mul(&acc, &acc);
                if (e[i] >> bit) & 1 == 1 {
                    acc = self.mul(&acc, a);
                }
            }
        }
        acc
    }
}

/// Big-endian bytes (at most `4 N`) to limbs.
pub(crate) fn from_be<const N: usize>(bytes: &[u8]) -> [Limb; N] {
    let mut out = [0; N];
    for (k, &byte) in bytes.iter().rev().enumerate() {
        if let Some(l) = out.get_mut(k / 4) {
            *l |= Limb::from(byte) << (8 * (k % 4));
        }
    }
    out
}
