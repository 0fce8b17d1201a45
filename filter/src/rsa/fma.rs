//! Prototype (crate feature `fma-proto`, wasm32 only, in no shipped build): Montgomery
//! arithmetic for 2048-bit moduli on `f64x2` lanes with relaxed-SIMD fused multiply-add,
//! to measure against the `simd128` engine (`lazy.rs::simd`). See `README.md`.
//!
//! Limbs hold 51 bits as exact `f64` values. A product `a·b < 2^102` is split without
//! rounding error by two fused multiply-adds: `hi = a·b + 2^103` rounds to a multiple of
//! 2^51, so its bit pattern is `bits(2^103) + H` with `H ≈ a·b / 2^51`; then
//! `lo = a·b + (2^103 + 3·2^51 - hi)` is exact and lies in `[2^52, 2^53)`, so its bit
//! pattern is `bits(2^52) + 2^51 + (a·b - H·2^51)`. The raw patterns are summed as `i64`
//! lanes (wrapping); the constant parts are known per column and subtracted up front.
//! Unfused, the split is wrong, hence [`probe`].
//!
//! Row `i` adds `a·b_i + m_i·n` into columns `i..=i + L` (lows into `lo`, highs into
//! `hi`, where `hi[c]` belongs to column `c + 1`); even rows use the operand as pairs
//! `(x[2k], x[2k+1])`, odd rows as `(x[2k-1], x[2k])`, so every window is pair-aligned.

// Fixed-size limb loops, as in `lazy.rs`.
#![allow(clippy::indexing_slicing)]

use core::arch::wasm32::{
    f64x2, f64x2_relaxed_madd, f64x2_splat, f64x2_sub, i64x2_add, u64x2, u64x2_extract_lane, v128,
};

/// Bits per limb.
const W: usize = 51;
const MASK: u64 = (1 << W) - 1;
/// Limbs for 2048 bits (2142 bits), even.
pub(crate) const L: usize = 42;
const P: usize = L / 2;
/// Columns `0..=2L+1`, as pairs.
const T: usize = L + 1;

/// `2^103`: adding it rounds a product to a multiple of 2^51.
const C_HI: f64 = 10141204801825835211973625643008.0;
/// `2^103 + 3·2^51`.
const C_LO: f64 = 10141204801825841967373066698752.0;
/// Bit pattern of `2^103` (what a zero high part reads as).
const B_HI: u64 = 0x4660_0000_0000_0000;
/// Bit pattern of `2^52`, plus the `2^51` offset of the low part.
const B_LO: u64 = 0x4330_0000_0000_0000 + (1 << 51);

/// 51-bit limbs, little-endian.
pub(crate) type Num = [u64; L];

/// Per-key constants and buffers.
pub(crate) struct Fma {
    n: Num,
    n0: u64,
    rr: Num,
    /// `n` as even-row and odd-row pairs.
    n_even: [v128; P + 1],
    n_odd: [v128; P + 1],
    /// Initial columns `[lo, hi]`: minus the constant parts of every pattern a column
    /// receives. (Interleaved, like the operands `[x, n]`, so a row's loop walks two
    /// arrays, not four: V8 otherwise spills its pointers.)
    acc0: [[v128; 2]; T],
    /// `[C_HI, C_LO]` splatted, read from here so V8 keeps them instead of rebuilding them.
    c: [v128; 2],
}

/// True when `f64x2.relaxed_madd` is fused here (the split needs one rounding).
#[target_feature(enable = "simd128,relaxed-simd")]
pub(crate) fn probe() -> bool {
    // (2^27 + 1)^2 = 2^54 + 2^28 + 1 needs 55 bits: only a fused madd keeps the 1.
    let x = f64x2_splat(134_217_729.0);
    let c = f64x2_splat(-18_014_398_777_917_440.0);
    let r = f64x2_relaxed_madd(x, x, c);
    u64x2_extract_lane::<0>(r) == 1.0f64.to_bits()
}

fn from_be(bytes: &[u8], out: &mut Num) {
    *out = [0; L];
    for (i, &b) in bytes.iter().rev().enumerate() {
        let bit = i * 8;
        let (k, s) = (bit / W, bit % W);
        if let Some(o) = out.get_mut(k) {
            *o |= (u64::from(b) << s) & MASK;
        }
        if s + 8 > W {
            if let Some(o) = out.get_mut(k + 1) {
                *o |= u64::from(b) >> (W - s);
            }
        }
    }
}

fn to_be(x: &Num, out: &mut [u8]) {
    let len = out.len();
    for (i, o) in out.iter_mut().enumerate() {
        let bit = (len - 1 - i) * 8;
        let (k, s) = (bit / W, bit % W);
        let mut v = x.get(k).copied().unwrap_or(0) >> s;
        if s + 8 > W {
            v |= x.get(k + 1).copied().unwrap_or(0) << (W - s);
        }
        *o = v as u8;
    }
}

fn ge(a: &Num, b: &Num) -> bool {
    for (x, y) in a.iter().zip(b).rev() {
        if x != y {
            return x > y;
        }
    }
    true
}

fn sub_in_place(a: &mut Num, b: &Num) {
    let mut borrow = 0u64;
    for (x, y) in a.iter_mut().zip(b) {
        let d = x.wrapping_sub(*y).wrapping_sub(borrow);
        borrow = d >> 63;
        *x = d & MASK;
    }
}

/// `(x[2k + shift], x[2k + 1 + shift])` as `f64x2`, zero outside `x`.
fn pairs(x: &Num, odd: bool, out: &mut [v128; P + 1]) {
    let at = |i: usize| x.get(i).copied().unwrap_or(0) as f64;
    for (k, o) in out.iter_mut().enumerate() {
        *o = if odd {
            f64x2(if k == 0 { 0.0 } else { at(2 * k - 1) }, at(2 * k))
        } else {
            f64x2(at(2 * k), at(2 * k + 1))
        };
    }
}

impl Fma {
    /// `n_be`: an odd 2048-bit modulus, big-endian.
    pub(crate) fn new(n_be: &[u8]) -> Option<Fma> {
        if n_be.len() != 256 || n_be.last().is_none_or(|b| b & 1 == 0) {
            return None;
        }
        let mut n = [0; L];
        from_be(n_be, &mut n);
        // -n^-1 mod 2^51 by Newton's iteration (each step doubles the correct bits).
        let mut inv = n[0];
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(inv)));
        }
        let n0 = inv.wrapping_neg() & MASK;
        let zero = u64x2(0, 0);
        let mut f = Fma {
            n,
            n0,
            rr: [0; L],
            n_even: [zero; P + 1],
            n_odd: [zero; P + 1],
            acc0: [[zero; 2]; T],
            c: [f64x2_splat(C_HI), f64x2_splat(C_LO)],
        };
        pairs(&n, false, &mut f.n_even);
        pairs(&n, true, &mut f.n_odd);
        f.rr = rr(&n);
        f.offsets();
        Some(f)
    }

    /// Counts the patterns each column receives (as `mul` adds them, two products per
    /// lane per row; a low lane only until its column is retired after row `c`).
    fn offsets(&mut self) {
        let mut lo = [0u64; 2 * T];
        let mut hi = [0u64; 2 * T];
        for i in 0..L {
            let (first, len) = if i.is_multiple_of(2) {
                (i, 2 * P)
            } else {
                (i - 1, 2 * P + 2)
            };
            for c in first..first + len {
                if c >= i || c >= L {
                    lo[c] = lo[c].wrapping_sub(2u64.wrapping_mul(B_LO));
                }
                hi[c] = hi[c].wrapping_sub(2u64.wrapping_mul(B_HI));
            }
        }
        for k in 0..T {
            self.acc0[k] = [
                u64x2(lo[2 * k], lo[2 * k + 1]),
                u64x2(hi[2 * k], hi[2 * k + 1]),
            ];
        }
    }

    /// `s^65537 mod n` (big-endian, `s < n`, 256 bytes) into `out`; false if `s >= n`.
    pub(crate) fn pow65537(&self, s_be: &[u8], out: &mut [u8]) -> bool {
        let mut s = [0; L];
        from_be(s_be, &mut s);
        if s_be.len() != 256 || ge(&s, &self.n) {
            return false;
        }
        let mut x = self.mul(&s, &self.rr);
        for _ in 0..16 {
            x = self.mul(&x, &x);
        }
        let x = self.mul(&x, &s);
        to_be(&x, out);
        true
    }

    /// `a·b·R^-1 mod n`, `R = 2^(51·L)`, for `a, b < n`; the result is below `n`.
    #[inline(never)]
    #[target_feature(enable = "simd128,relaxed-simd")]
    pub(crate) fn mul(&self, a: &Num, b: &Num) -> Num {
        let zero = u64x2(0, 0);
        let (mut a_even, mut a_odd) = ([zero; P + 1], [zero; P + 1]);
        pairs(a, false, &mut a_even);
        pairs(a, true, &mut a_odd);
        let (mut even, mut odd) = ([[zero; 2]; P + 1], [[zero; 2]; P + 1]);
        for k in 0..=P {
            even[k] = [a_even[k], self.n_even[k]];
            odd[k] = [a_odd[k], self.n_odd[k]];
        }
        let mut acc = self.acc0;
        let mut carry = 0u64;
        // Column `c`'s value is lo lane c + hi lane c-1 (+ the carry from below).
        let lane = |v: &[[v128; 2]; T], c: usize, which: usize| -> u64 {
            let Some(&p) = v.get(c / 2).and_then(|p| p.get(which)) else {
                return 0;
            };
            if c.is_multiple_of(2) {
                u64x2_extract_lane::<0>(p)
            } else {
                u64x2_extract_lane::<1>(p)
            }
        };
        let lo = |v: &[[v128; 2]; T], c: usize| lane(v, c, 0);
        let hi = |v: &[[v128; 2]; T], c: usize| lane(v, c, 1);
        for (i, &bi) in b.iter().enumerate() {
            let below = if i == 0 { 0 } else { hi(&acc, i - 1) };
            // The constant parts are 0 mod 2^51, so m is right before they are complete.
            let c = lo(&acc, i)
                .wrapping_add(below)
                .wrapping_add(carry)
                .wrapping_add(a[0].wrapping_mul(bi));
            let m = c.wrapping_mul(self.n0) & MASK;
            let (y, mv) = (f64x2_splat(bi as f64), f64x2_splat(m as f64));
            let r = i / 2;
            let xn: &[[v128; 2]] = if i.is_multiple_of(2) {
                &even[..P]
            } else {
                &odd
            };
            row(&mut acc[r..], xn, y, mv, self.c);
            let below = if i == 0 { 0 } else { hi(&acc, i - 1) };
            let col = lo(&acc, i).wrapping_add(below).wrapping_add(carry);
            debug_assert_eq!(col & MASK, 0);
            carry = ((col as i64) >> W) as u64;
        }
        // Columns L..=2L+1 hold the result; normalise (signed digits) and reduce once.
        let mut out = [0u64; L];
        for (k, o) in out.iter_mut().enumerate() {
            let c = L + k;
            let v = lo(&acc, c)
                .wrapping_add(hi(&acc, c - 1))
                .wrapping_add(carry);
            *o = v & MASK;
            carry = ((v as i64) >> W) as u64;
        }
        // Column 2L: only the high parts of the last row reach it.
        let top = carry
            .wrapping_add(lo(&acc, 2 * L))
            .wrapping_add(hi(&acc, 2 * L - 1));
        if top != 0 || ge(&out, &self.n) {
            sub_in_place(&mut out, &self.n);
        }
        out
    }
}

/// `acc[k] += [lo, hi] of split(x·y) + split(n·m)`, `xn[k] = [x, n]`.
#[inline]
#[target_feature(enable = "simd128,relaxed-simd")]
fn row(acc: &mut [[v128; 2]], xn: &[[v128; 2]], y: v128, m: v128, [c_hi, c_lo]: [v128; 2]) {
    for (a, &[xk, nk]) in acc.iter_mut().zip(xn) {
        let h1 = f64x2_relaxed_madd(xk, y, c_hi);
        let h2 = f64x2_relaxed_madd(nk, m, c_hi);
        let l1 = f64x2_relaxed_madd(xk, y, f64x2_sub(c_lo, h1));
        let l2 = f64x2_relaxed_madd(nk, m, f64x2_sub(c_lo, h2));
        a[0] = i64x2_add(a[0], i64x2_add(l1, l2));
        a[1] = i64x2_add(a[1], i64x2_add(h1, h2));
    }
}

/// `R^2 mod n` by doubling (setup only).
fn rr(n: &Num) -> Num {
    let mut x = [0u64; L];
    x[0] = 1;
    for _ in 0..2 * W * L {
        let mut carry = 0;
        for v in x.iter_mut() {
            let d = (*v << 1) | carry;
            carry = d >> W;
            *v = d & MASK;
        }
        if carry != 0 || ge(&x, n) {
            sub_in_place(&mut x, n);
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// Against the selected engine's `s^e mod n`, on every 2048-bit fixture key.
    #[test]
    fn fma_agrees_with_engine() {
        assert!(probe(), "relaxed madd is not fused on this host");
        let mut keys = 0;
        for line in include_str!("test_keys.txt").lines() {
            let f: Vec<&str> = line.split(' ').collect();
            if f[0] != "2048" {
                continue;
            }
            let n = hex(f[2]);
            let key = super::super::PublicKey::from_be_bytes(&n, &[1, 0, 1]).unwrap();
            let fma = Fma::new(&n).unwrap();
            let mut state = 0x9e37_79b9_7f4a_7c15u64;
            for t in 0..20 {
                let mut s: Vec<u8> = (0..256)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (state >> 56) as u8
                    })
                    .collect();
                s[0] %= n[0];
                if t == 0 {
                    s = n.clone();
                    s[255] -= 1; // n - 1
                }
                let (mut want, mut got) = ([0u8; 256], [0u8; 256]);
                assert!(key.pre.public_op(65537, &s, &mut want));
                assert!(fma.pow65537(&s, &mut got));
                assert_eq!(want, got);
            }
            keys += 1;
        }
        assert!(keys > 0);
    }
}
