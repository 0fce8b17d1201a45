//! Montgomery arithmetic with 28-bit limbs and delayed carries (the wasm32 engine).
//!
//! WebAssembly has no add-with-carry and no 64×64→128 multiply, so a full-radix
//! 32-bit loop spends most of its time extracting carries. Here limbs hold 28 bits
//! in `u32` and partial sums live in `u64` columns: a product is below 2^56, so a
//! column can absorb 255 of them before it could overflow. The inner loops become
//! plain `t[i+j] += x * y[j]` — no carries, no data-dependent branches — which
//! LLVM turns into `i64x2.extmul_*_u32x4` + `i64x2.add` when `simd128` is enabled.
//! Carries are propagated once per row for the one column the Montgomery step
//! needs exactly, and across the whole buffer only when the column budget runs out.
//!
//! Layout: `t` is a `2L + 1` column buffer and row `i` works on `t[i..i + L]`,
//! so the Montgomery shift is a moving window instead of a copy.

// Limb loops index fixed-size arrays with bounds the types fix (N limbs per size class);
// indexing keeps them readable and V8/LLVM drop the checks. Wycheproof, the differential
// tests and the rsa_diff fuzzer exercise every size class.
#![allow(clippy::indexing_slicing)]

use super::engine::{size_classes, Engine};

/// One limb: a 28-bit digit stored in a `u32`.
pub(crate) type Limb = u32;

/// Bits per limb.
pub(crate) const W: usize = 28;
const MASK: u64 = (1 << W) - 1;

/// Limbs of a size class of `bits` bits, rounded up to an even count (the SIMD path
/// works on limb pairs): 74, 110, 148, 220, 294 for 2048 ... 8192 bits.
const fn limbs(bits: usize) -> usize {
    bits.div_ceil(W).div_ceil(2) * 2
}

/// Limbs of the largest class.
const C8192: usize = limbs(8192);
/// Columns of the scalar scratch buffer for the largest class.
#[cfg(not(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
)))]
const MAX_COLS: usize = 2 * C8192 + 1;

/// How many `(2^28 - 1)^2`-sized terms a column may hold, with room for carries.
const BUDGET: u32 = 254;

/// Limbs of a SHA-256 digest (280 bits hold its 256).
const DIGEST_LIMBS: usize = 256usize.div_ceil(W);
/// Columns of the fold's short product: `L + D` for the largest class.
const FOLD_COLS: usize = C8192 + DIGEST_LIMBS + 1;

/// The 28-bit engine (wasm32).
#[derive(Clone, Copy)]
pub(crate) struct Lazy;

impl Engine for Lazy {
    type Limb = Limb;
    type Scratch = Scratch;
    const LIMB_BITS: usize = W;
    const DIGEST_LIMBS: usize = DIGEST_LIMBS;
    // Up to 4096 bits: larger keys are rare, and each class costs wasm size.
    const FOLD_LIMBS: usize = limbs(4096);

    size_classes!(limbs);

    fn from_be(bytes: &[u8], out: &mut [Limb]) {
        from_be(bytes, out);
    }
    fn to_be(limbs: &[Limb], out: &mut [u8]) {
        to_be(limbs, out);
    }
    fn ge(a: &[Limb], b: &[Limb]) -> bool {
        ge(a, b)
    }
    fn neg_inv(n0: Limb) -> Limb {
        neg_inv(n0)
    }
    fn pow2_mod(k: usize, n: &[Limb], bits: usize, out: &mut [Limb]) {
        pow2_mod(k, n, bits, out);
    }
    #[inline(always)]
    fn scratch<const N: usize>(n: &[Limb; N]) -> Scratch {
        new_scratch(n)
    }
    #[inline(always)]
    fn mul<const N: usize>(
        a: &[Limb; N],
        b: &[Limb; N],
        n: &[Limb; N],
        n0: Limb,
        s: &mut Scratch,
    ) -> [Limb; N] {
        mont_mul(a, b, n, n0, s)
    }
    #[inline(always)]
    fn sqr<const N: usize>(a: &[Limb; N], n: &[Limb; N], n0: Limb, s: &mut Scratch) -> [Limb; N] {
        mont_sqr(a, n, n0, s)
    }
    fn fold_target(
        digest: &[u8],
        k: &[Limb],
        a: &[Limb],
        n: &[Limb],
        n0: Limb,
        out: &mut [Limb],
    ) -> Option<()> {
        fold_target(digest, k, a, n, n0, out)
    }
}

/// `-n0^-1 mod 2^28` by Newton iteration (five steps give 3·2^5 ≥ 28 bits).
pub(crate) fn neg_inv(n0: Limb) -> Limb {
    let mut inv = n0;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inv)));
    }
    inv.wrapping_neg() & MASK as Limb
}

/// `a >= b` for equal-length normalized numbers.
fn ge(a: &[Limb], b: &[Limb]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x > y;
        }
    }
    true
}

/// `a -= b` on normalized limbs (the final borrow is dropped: callers know `a >= b`
/// up to a top bit held elsewhere).
fn sub_in_place(a: &mut [Limb], b: &[Limb]) {
    let mut borrow = 0u32;
    for (x, &y) in a.iter_mut().zip(b) {
        let d = x.wrapping_sub(y).wrapping_sub(borrow);
        borrow = d >> 31;
        *x = d & MASK as Limb;
    }
}

/// Propagates carries through `t` so every column but the last is below 2^28.
#[inline]
fn normalize(t: &mut [u64]) {
    let mut carry = 0u64;
    if let Some((last, rest)) = t.split_last_mut() {
        for x in rest {
            let v = *x + carry;
            *x = v & MASK;
            carry = v >> W;
        }
        *last += carry;
    }
}

/// Moves the high part of a row's lowest column (a multiple of 2^28 by now) into the next.
#[inline(always)]
fn carry_up(row: &mut [u64]) {
    if let [first, second, ..] = row {
        *second += *first >> W;
    }
}

#[cfg(not(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
)))]
/// Result of a Montgomery step: columns `t[L..=2L]` hold a value below 2n.
#[inline]
fn finish<const L: usize>(t: &mut [u64], n: &[Limb; L]) -> [Limb; L] {
    match t.get_mut(L..) {
        Some(high) => finish_high(high, n),
        None => [0; L],
    }
}

/// Normalizes the `L + 1` high columns of a Montgomery step (a value below 2n)
/// and reduces it below n.
#[inline]
fn finish_high<const L: usize>(high: &mut [u64], n: &[Limb; L]) -> [Limb; L] {
    let mut out = [0 as Limb; L];
    normalize(high);
    for (o, &x) in out.iter_mut().zip(high.iter()) {
        *o = x as Limb;
    }
    let top = high.last().copied().unwrap_or(0);
    if top != 0 || ge(&out, n) {
        sub_in_place(&mut out, n);
    }
    out
}

#[cfg(not(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
)))]
/// Montgomery product `a * b / R mod n`; row `i` adds `a * b_i + m_i * n` to the
/// window `t[i..i + L]`, where `m_i` clears the window's lowest column.
#[inline(never)]
fn mont_mul<const L: usize>(
    a: &[Limb; L],
    b: &[Limb; L],
    n: &[Limb; L],
    n0: Limb,
    scratch: &mut [u64; MAX_COLS],
) -> [Limb; L] {
    const { assert!(2 * L < MAX_COLS) };
    let t = &mut scratch[..2 * L + 1];
    t.fill(0);
    let mut used = 0u32;
    for (i, &bi) in b.iter().enumerate() {
        let bi = bi as u64;
        let Some(row) = t.get_mut(i..i + L) else {
            break;
        };
        let t0 = row[0] + a[0] as u64 * bi;
        let m = (t0 as Limb).wrapping_mul(n0) as u64 & MASK;
        for ((tj, &aj), &nj) in row.iter_mut().zip(a.iter()).zip(n.iter()) {
            *tj += aj as u64 * bi + nj as u64 * m;
        }
        // row[0] is now a multiple of 2^28: pass its high part on.
        carry_up(row);
        used += 2;
        if used + 2 > BUDGET {
            if let Some(rest) = t.get_mut(i + 1..) {
                normalize(rest);
            }
            used = 0;
        }
    }
    finish(t, n)
}

#[cfg(not(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
)))]
/// Montgomery square: the square `Σ a_i^2 2^(2iw) + Σ_{i<k} 2 a_i a_k 2^((i+k)w)` is
/// built with each cross product once (about half the multiplies), then reduced.
#[inline(never)]
fn mont_sqr<const L: usize>(
    a: &[Limb; L],
    n: &[Limb; L],
    n0: Limb,
    scratch: &mut [u64; MAX_COLS],
) -> [Limb; L] {
    const { assert!(2 * L < MAX_COLS) };
    let t = &mut scratch[..2 * L + 1];
    t.fill(0);
    let mut used = 0u32;
    for (i, &ai) in a.iter().enumerate() {
        let ai = ai as u64;
        if let Some(c) = t.get_mut(2 * i) {
            *c += ai * ai;
        }
        // 2·a_i < 2^29, so each term counts twice against the column budget.
        let ai2 = ai << 1;
        if let (Some(row), Some(rest)) = (t.get_mut(2 * i + 1..i + L), a.get(i + 1..)) {
            for (tj, &ak) in row.iter_mut().zip(rest) {
                *tj += ai2 * ak as u64;
            }
        }
        used += 2;
        if used + 2 > BUDGET {
            normalize(t);
            used = 0;
        }
    }
    for i in 0..L {
        let Some(row) = t.get_mut(i..i + L) else {
            break;
        };
        let m = (row[0] as Limb).wrapping_mul(n0) as u64 & MASK;
        for (tj, &nj) in row.iter_mut().zip(n.iter()) {
            *tj += nj as u64 * m;
        }
        carry_up(row);
        used += 1;
        if used + 1 > BUDGET {
            if let Some(rest) = t.get_mut(i + 1..) {
                normalize(rest);
            }
            used = 0;
        }
    }
    finish(t, n)
}

// Working memory of `mont_mul`/`mont_sqr` for one exponentiation.
#[cfg(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
))]
use simd::Scratch;
#[cfg(not(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
)))]
type Scratch = [u64; MAX_COLS];

#[cfg(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
))]
fn new_scratch<const L: usize>(n: &[Limb; L]) -> Scratch {
    Scratch::new(n)
}
#[cfg(not(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
)))]
fn new_scratch<const L: usize>(_n: &[Limb; L]) -> Scratch {
    [0; MAX_COLS]
}

/// `out = a + H·k / 2^(28·D) mod n ≡ EM·R^-65536` for the digest `H`: a product by D
/// limbs reduced by D limbs. Not generic over the size class (it is an eighth of a
/// multiplication), which keeps the wasm module small. `None` on inconsistent lengths.
fn fold_target(
    digest: &[u8],
    k: &[Limb],
    a: &[Limb],
    n: &[Limb],
    n0: Limb,
    out: &mut [Limb],
) -> Option<()> {
    let l = n.len();
    if k.len() != l || a.len() != l || out.len() != l {
        return None;
    }
    let mut h = [0 as Limb; DIGEST_LIMBS];
    from_be(digest, &mut h);
    // Columns take at most 2D products below 2^56 plus carries: far below 2^64.
    let mut cols = [0u64; FOLD_COLS];
    let t = cols.get_mut(..l + DIGEST_LIMBS + 1)?;
    for (i, &hi) in h.iter().enumerate() {
        for (tj, &kj) in t.get_mut(i..i + l)?.iter_mut().zip(k) {
            *tj += hi as u64 * kj as u64;
        }
    }
    for i in 0..DIGEST_LIMBS {
        let row = t.get_mut(i..i + l + 1)?;
        let m = (row[0] as Limb).wrapping_mul(n0) as u64 & MASK;
        for (tj, &nj) in row.iter_mut().zip(n) {
            *tj += m * nj as u64;
        }
        // row[0] is now a multiple of 2^28: pass its high part on.
        carry_up(row);
    }
    // The high columns hold a value below 2n; normalise, reduce once, then add `a`
    // (both terms below n, so the sum is below 2n) and reduce once more.
    let high = t.get_mut(DIGEST_LIMBS..)?;
    normalize(high);
    for (o, &x) in out.iter_mut().zip(high.iter()) {
        *o = x as Limb;
    }
    if high.last().is_some_and(|&top| top != 0) || ge(out, n) {
        sub_in_place(out, n);
    }
    let mut carry = 0;
    for (x, &y) in out.iter_mut().zip(a) {
        let v = *x + y + carry;
        *x = v & MASK as Limb;
        carry = v >> W;
    }
    if carry != 0 || ge(out, n) {
        sub_in_place(out, n);
    }
    Some(())
}

#[cfg(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
))]
use simd::{mont_mul, mont_sqr};

/// The same algorithms on `i64x2` lanes, two columns per vector, two rows per pass.
///
/// Column pairs `(2k, 2k+1)` live in one `v128`, and rows are processed in pairs
/// `(2r, 2r+1)` so the window moves by a whole vector. Operands are pre-arranged
/// as `u32x4(x[2k], x[2k+1], x[2k-1], x[2k])`: `extmul_low` by `(y, y)` gives row
/// `2r`'s products for the pair, `extmul_high` by `(y', y')` row `2r+1`'s (shifted by
/// one column). The two Montgomery factors of a pass are found in scalar code first.
/// Squaring fuses its square rows and reduction rows into one pass per row pair, so
/// each column pair is loaded and stored once per pass.
#[cfg(all(
    target_arch = "wasm32",
    any(target_feature = "simd128", feature = "simd128")
))]
mod simd {
    use super::{finish_high, Limb, BUDGET, C8192, MASK, W};
    use core::arch::wasm32::{
        i64x2_add, i64x2_extmul_high_u32x4, i64x2_extmul_low_u32x4, i64x2_sub, u32x4, u32x4_splat,
        u64x2, u64x2_extract_lane, v128, v128_and, v128_or,
    };

    /// Vectors in an arranged operand (`L/2 + 1`) and in the column buffer (`L + 1`).
    const MAX_PAIRS: usize = C8192 / 2 + 1;
    const MAX_T: usize = C8192 + 1;

    /// Buffers for one exponentiation: the arranged modulus, an arranged operand,
    /// the column pairs and the extracted high columns.
    pub(crate) struct Scratch {
        n2: [v128; MAX_PAIRS],
        x2: [v128; MAX_PAIRS],
        t: [v128; MAX_T],
        high: [u64; MAX_T + 1],
    }

    impl Scratch {
        #[target_feature(enable = "simd128")]
        pub(super) fn new<const L: usize>(n: &[Limb; L]) -> Scratch {
            let zero = u64x2(0, 0);
            let mut s = Scratch {
                n2: [zero; MAX_PAIRS],
                x2: [zero; MAX_PAIRS],
                t: [zero; MAX_T],
                high: [0; MAX_T + 1],
            };
            arrange(n, &mut s.n2);
            s
        }
    }

    /// `out[k] = (x[2k], x[2k+1], x[2k-1], x[2k])`, zero outside `x`, for `k <= L/2`.
    #[inline]
    #[target_feature(enable = "simd128")]
    fn arrange<const L: usize>(x: &[Limb; L], out: &mut [v128; MAX_PAIRS]) {
        let at = |i: usize| x.get(i).copied().unwrap_or(0);
        for (k, o) in out.iter_mut().enumerate().take(L / 2 + 1) {
            let prev = if k == 0 { 0 } else { at(2 * k - 1) };
            *o = u32x4(at(2 * k), at(2 * k + 1), prev, at(2 * k));
        }
    }

    /// `(x0, x1, x2, x3) * (y0, y0, y1, y1)`, lanes summed pairwise: `(x0 y0 + x2 y1, x1 y0 + x3 y1)`.
    ///
    /// `y` is passed through `y | (x & 0xF000_0000)`, which is `y` (limbs in `x` have 28
    /// bits) but not provably so: otherwise LLVM hoists the zero-extension of the
    /// loop-invariant `y` and emits `i64x2.mul`, which V8 emulates at several times the
    /// cost of `extmul`. (`v128.bitselect` does the same in one instruction but measured
    /// slower in V8.)
    #[inline]
    #[target_feature(enable = "simd128")]
    fn dot(x: v128, y: v128) -> v128 {
        let y = v128_or(y, v128_and(x, u32x4_splat(0xF000_0000)));
        i64x2_add(i64x2_extmul_low_u32x4(x, y), i64x2_extmul_high_u32x4(x, y))
    }

    /// `t[k] += dot(x[k], y)`. (Unrolling by two measured no faster in V8.)
    #[inline]
    #[target_feature(enable = "simd128")]
    fn add_dots(t: &mut [v128], x: &[v128], y: v128) {
        for (tk, &xk) in t.iter_mut().zip(x) {
            *tk = i64x2_add(*tk, dot(xk, y));
        }
    }

    /// `t[k] += dot(x[k], y) + dot(n[k], m)`: both halves of a multiplication pass.
    #[inline]
    #[target_feature(enable = "simd128")]
    fn add_dots2(t: &mut [v128], x: &[v128], y: v128, n: &[v128], m: v128) {
        for ((tk, &xk), &nk) in t.iter_mut().zip(x).zip(n) {
            // One opaque zero for both multipliers (see `dot`).
            let z = v128_and(xk, u32x4_splat(0xF000_0000));
            let (y, m) = (v128_or(y, z), v128_or(m, z));
            let xy = i64x2_add(
                i64x2_extmul_low_u32x4(xk, y),
                i64x2_extmul_high_u32x4(xk, y),
            );
            let nm = i64x2_add(
                i64x2_extmul_low_u32x4(nk, m),
                i64x2_extmul_high_u32x4(nk, m),
            );
            *tk = i64x2_add(*tk, i64x2_add(xy, nm));
        }
    }

    /// Carries through all column pairs; the very last column keeps what is left.
    #[target_feature(enable = "simd128")]
    fn normalize(t: &mut [v128]) {
        let mut carry = 0u64;
        let count = t.len();
        for (k, v) in t.iter_mut().enumerate() {
            let lo = u64x2_extract_lane::<0>(*v) + carry;
            let hi = u64x2_extract_lane::<1>(*v) + (lo >> W);
            if k + 1 == count {
                *v = u64x2(lo & MASK, hi);
            } else {
                *v = u64x2(lo & MASK, hi & MASK);
                carry = hi >> W;
            }
        }
    }

    /// Two Montgomery rows at once: picks `m` for columns 0 and 1 of `win`
    /// (given their scalar additions `add0`, `add1` besides `m * n`), then adds
    /// `xy` (already computed) and the `m * n` pairs, and passes the carry up.
    #[inline]
    #[target_feature(enable = "simd128")]
    fn reduce_pass(win: &[v128], n: (u64, u64), n0: Limb, add0: u64, add1: u64) -> (u64, u64) {
        let Some(&w0) = win.first() else {
            return (0, 0);
        };
        let c0 = u64x2_extract_lane::<0>(w0) + add0;
        let mi = (c0 as Limb).wrapping_mul(n0) as u64 & MASK;
        let carry0 = (c0 + n.0 * mi) >> W;
        let c1 = u64x2_extract_lane::<1>(w0) + add1 + n.1 * mi + carry0;
        let mj = (c1 as Limb).wrapping_mul(n0) as u64 & MASK;
        let carry1 = (c1 + n.0 * mj) >> W;
        (mi | (mj << 32), carry1)
    }

    /// Adds the carry out of a pass's two low columns into the window's third column.
    #[inline]
    #[target_feature(enable = "simd128")]
    fn carry_in(win: &mut [v128], carry: u64) {
        if let Some(w1) = win.get_mut(1) {
            *w1 = i64x2_add(*w1, u64x2(carry, 0));
        }
    }

    /// Extracts columns `L..=2L` and finishes as the scalar code does.
    #[inline]
    #[target_feature(enable = "simd128")]
    fn finish<const L: usize>(t: &[v128], high: &mut [u64; MAX_T + 1], n: &[Limb; L]) -> [Limb; L] {
        let cols = &mut high[..L + 2];
        for (pair, v) in cols.chunks_exact_mut(2).zip(t.iter().skip(L / 2)) {
            pair[0] = u64x2_extract_lane::<0>(*v);
            pair[1] = u64x2_extract_lane::<1>(*v);
        }
        // Column 2L+1 only ever receives the final carry of `normalize`: fold it down.
        cols[L] += cols[L + 1] << W;
        finish_high(&mut cols[..L + 1], n)
    }

    #[inline(never)]
    #[target_feature(enable = "simd128")]
    pub(super) fn mont_mul<const L: usize>(
        a: &[Limb; L],
        b: &[Limb; L],
        n: &[Limb; L],
        n0: Limb,
        s: &mut Scratch,
    ) -> [Limb; L] {
        const { assert!(L.is_multiple_of(2) && L <= C8192) };
        let p = L / 2;
        arrange(a, &mut s.x2);
        let t = &mut s.t[..L + 1];
        t.fill(u64x2(0, 0));
        let (a0, a1) = (a[0] as u64, a[1] as u64);
        let nn = (n[0] as u64, n[1] as u64);
        let x2 = &s.x2[..p + 1];
        let n2 = &s.n2[..p + 1];
        let mut used = 0u32;
        for r in 0..p {
            let (bi, bj) = (b[2 * r], b[2 * r + 1]);
            let Some(win) = t.get_mut(r..r + p + 1) else {
                break;
            };
            let (bi64, bj64) = (bi as u64, bj as u64);
            let (m, carry) = reduce_pass(win, nn, n0, a0 * bi64, a1 * bi64 + a0 * bj64);
            let yb = u32x4(bi, bi, bj, bj);
            let ym = u32x4(m as u32, m as u32, (m >> 32) as u32, (m >> 32) as u32);
            add_dots2(win, x2, yb, n2, ym);
            carry_in(win, carry);
            used += 4;
            if used + 4 > BUDGET {
                if let Some(rest) = t.get_mut(r + 1..) {
                    normalize(rest);
                }
                used = 0;
            }
        }
        finish(t, &mut s.high, n)
    }

    #[inline(never)]
    #[target_feature(enable = "simd128")]
    pub(super) fn mont_sqr<const L: usize>(
        a: &[Limb; L],
        n: &[Limb; L],
        n0: Limb,
        s: &mut Scratch,
    ) -> [Limb; L] {
        const { assert!(L.is_multiple_of(2) && L <= C8192) };
        let p = L / 2;
        arrange(a, &mut s.x2);
        let t = &mut s.t[..L + 1];
        t.fill(u64x2(0, 0));
        let x2 = &s.x2[..p + 1];
        let n2 = &s.n2[..p + 1];
        let nn = (n[0] as u64, n[1] as u64);
        let mut used = 0u32;
        // Pass r squares rows 2r and 2r+1 (times doubled limbs, into pairs 2r..=r+p) and
        // reduces columns 2r and 2r+1 (pairs r..=r+p). Both use operand index k - r for
        // pair k, so one loop does both where they overlap. Products a_j a_i with j < i
        // are skipped by taking only the low half at pair 2r, and the doubled diagonal
        // terms a_i * 2a_i are corrected to a_i^2. Pair r is complete when it is reduced:
        // square pass r' only reaches pairs from 2r' on.
        for r in 0..p {
            let (x0, x1) = (a[2 * r], a[2 * r + 1]);
            let y = u32x4(x0 << 1, x0 << 1, x1 << 1, x1 << 1);
            let (Some(win), Some(&xr)) = (t.get_mut(r..r + p + 1), x2.get(r)) else {
                break;
            };
            let (Some(low), Some(high)) = (win.get_mut(r), x2.get(r + 1..)) else {
                break;
            };
            let sq0 = x0 as u64 * x0 as u64;
            *low = i64x2_sub(
                i64x2_add(*low, i64x2_extmul_low_u32x4(xr, y)),
                u64x2(sq0, 0),
            );
            if let Some(next) = win.get_mut(r + 1) {
                // Wraps below zero until the loop adds 2 x1^2 here; lanes are mod 2^64.
                let sq1 = x1 as u64 * x1 as u64;
                *next = i64x2_sub(*next, u64x2(sq1, 0));
            }
            let (m, carry) = reduce_pass(win, nn, n0, 0, 0);
            let ym = u32x4(m as u32, m as u32, (m >> 32) as u32, (m >> 32) as u32);
            let (reduce_only, both) = win.split_at_mut(r + 1);
            let (n_low, n_high) = n2.split_at(r + 1);
            add_dots(reduce_only, n_low, ym);
            add_dots2(both, high, y, n_high, ym);
            carry_in(win, carry);
            used += 6;
            if used + 6 > BUDGET {
                if let Some(rest) = t.get_mut(r + 1..) {
                    normalize(rest);
                }
                used = 0;
            }
        }
        finish(t, &mut s.high, n)
    }
}

/// Big-endian bytes into 28-bit limbs (little-endian); extra limbs are zeroed,
/// bits that do not fit are dropped (callers size `out` to hold them).
fn from_be(bytes: &[u8], out: &mut [Limb]) {
    out.fill(0);
    let mut acc = 0u64;
    let mut have = 0usize;
    let mut limbs = out.iter_mut();
    for &b in bytes.iter().rev() {
        acc |= (b as u64) << have;
        have += 8;
        if have >= W {
            if let Some(l) = limbs.next() {
                *l = (acc & MASK) as Limb;
            }
            acc >>= W;
            have -= W;
        }
    }
    if let Some(l) = limbs.next() {
        *l = acc as Limb;
    }
}

/// 28-bit limbs into exactly `out.len()` big-endian bytes.
fn to_be(limbs: &[Limb], out: &mut [u8]) {
    let mut acc = 0u64;
    let mut have = 0usize;
    let mut limbs = limbs.iter();
    for byte in out.iter_mut().rev() {
        if have < 8 {
            acc |= (limbs.next().copied().unwrap_or(0) as u64) << have;
            have += W;
        }
        *byte = acc as u8;
        acc >>= 8;
        have -= 8;
    }
}

/// `2^k mod n` by doubling from `2^(bits-1)` (the largest power of two below `n`).
fn pow2_mod(k: usize, n: &[Limb], bits: usize, out: &mut [Limb]) {
    out.fill(0);
    let start = bits - 1;
    if let Some(l) = out.get_mut(start / W) {
        *l = 1 << (start % W);
    }
    for _ in start..k {
        let mut carry = 0;
        for l in out.iter_mut() {
            let v = (*l << 1) | carry;
            *l = v & MASK as Limb;
            carry = v >> W;
        }
        if carry != 0 || ge(out, n) {
            sub_in_place(out, n);
        }
    }
}
