//! Montgomery arithmetic on fixed-size little-endian limb arrays (full radix).
//!
//! Limbs are machine words: `u64` with `u128` products on 64-bit targets, `u32`
//! with `u64` products elsewhere (wasm32, thumbv7em). Every function is generic
//! over the limb count `N`, so the 2048/3072/4096-bit cases are separate
//! monomorphisations whose loop bounds are constants: the compiler drops the
//! bounds checks and unrolls what pays.
//!
//! Values are kept fully reduced (`< n`) after every operation, so no
//! assumption about the top bits of `n` is needed.
//!
//! This is the engine for native targets; wasm32 uses `lazy.rs`.

// Limb loops index fixed-size arrays with bounds the types fix (N limbs per size class);
// indexing keeps them readable and V8/LLVM drop the checks. Wycheproof, the differential
// tests and the rsa_diff fuzzer exercise every size class.
#![allow(clippy::indexing_slicing)]

use super::engine::{size_classes, Engine};

#[cfg(target_pointer_width = "64")]
mod width {
    pub(crate) type Limb = u64;
    pub(crate) type Wide = u128;
}
#[cfg(not(target_pointer_width = "64"))]
mod width {
    pub(crate) type Limb = u32;
    pub(crate) type Wide = u64;
}
pub(crate) use width::{Limb, Wide};

pub(crate) const LIMB_BITS: usize = Limb::BITS as usize;
pub(crate) const LIMB_BYTES: usize = LIMB_BITS / 8;
/// Limbs of the largest supported modulus (8192 bits).
pub(crate) const MAX_LIMBS: usize = 8192 / LIMB_BITS;

/// Limbs of a size class of `bits` bits (a multiple of the limb width).
const fn limbs(bits: usize) -> usize {
    bits / LIMB_BITS
}

/// Limbs of a SHA-256 digest.
const DIGEST_LIMBS: usize = 256 / LIMB_BITS;

/// The machine-word engine (native targets).
#[derive(Clone, Copy)]
pub(crate) struct Mont;

impl Engine for Mont {
    type Limb = Limb;
    /// The 2N-limb square of `mont_sqr` (the product needs none).
    type Scratch = [Limb; 2 * MAX_LIMBS];
    const LIMB_BITS: usize = LIMB_BITS;
    const DIGEST_LIMBS: usize = DIGEST_LIMBS;
    const FOLD_LIMBS: usize = MAX_LIMBS;

    size_classes!(limbs);

    fn from_be(bytes: &[u8], out: &mut [Limb]) {
        limbs_from_be(bytes, out);
    }
    fn to_be(limbs: &[Limb], out: &mut [u8]) {
        limbs_to_be(limbs, out);
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
    fn scratch<const N: usize>(_n: &[Limb; N]) -> Self::Scratch {
        [0; 2 * MAX_LIMBS]
    }
    #[inline(always)]
    fn mul<const N: usize>(
        a: &[Limb; N],
        b: &[Limb; N],
        n: &[Limb; N],
        n0: Limb,
        _s: &mut Self::Scratch,
    ) -> [Limb; N] {
        mont_mul(a, b, n, n0)
    }
    #[inline(always)]
    fn sqr<const N: usize>(
        a: &[Limb; N],
        n: &[Limb; N],
        n0: Limb,
        s: &mut Self::Scratch,
    ) -> [Limb; N] {
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

/// `t + a * b + c` as (low, high): cannot overflow, `(2^w-1)^2 + 2(2^w-1) = 2^2w - 1`.
#[inline(always)]
fn mac(t: Limb, a: Limb, b: Limb, c: Limb) -> (Limb, Limb) {
    let w = t as Wide + a as Wide * b as Wide + c as Wide;
    (w as Limb, (w >> LIMB_BITS) as Limb)
}

/// `-n0^-1 mod 2^w` by Newton iteration (each step doubles the correct low bits;
/// `n0 * n0 ≡ 1 mod 8` for odd `n0`, so the start already has 3).
pub(crate) fn neg_inv(n0: Limb) -> Limb {
    let mut inv = n0;
    for _ in 0..5 {
        inv = inv.wrapping_mul((2 as Limb).wrapping_sub(n0.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}

/// `a >= b` for equal-length little-endian numbers.
#[inline]
pub(crate) fn ge(a: &[Limb], b: &[Limb]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x > y;
        }
    }
    true
}

/// `a -= b`, returning the borrow.
#[inline]
pub(crate) fn sub_in_place(a: &mut [Limb], b: &[Limb]) -> bool {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(y);
        let (d, b2) = d.overflowing_sub(borrow as Limb);
        *x = d;
        borrow = b1 | b2;
    }
    borrow
}

/// Final step of a Montgomery product: `t + top * R` is `< 2n`; bring it below `n`.
#[inline(always)]
fn reduce_once<const N: usize>(t: &mut [Limb; N], top: Limb, n: &[Limb; N]) {
    if top != 0 || ge(t, n) {
        sub_in_place(t, n);
    }
}

/// Montgomery product `a * b / R mod n` (R = 2^(w·N)), fused operand scanning:
/// one pass per limb of `b` adds `a * b_i` and `m * n` together and shifts by a limb.
#[inline(never)]
pub(crate) fn mont_mul<const N: usize>(
    a: &[Limb; N],
    b: &[Limb; N],
    n: &[Limb; N],
    n0: Limb,
) -> [Limb; N] {
    let mut t = [0 as Limb; N];
    if N == 0 {
        return t;
    }
    let mut top: Limb = 0;
    for &bi in b.iter() {
        let (t0, mut c1) = mac(t[0], a[0], bi, 0);
        let m = t0.wrapping_mul(n0);
        // Low limb is zero by the choice of m; only the carry matters.
        let (_, mut c2) = mac(t0, m, n[0], 0);
        for j in 1..N {
            let (x, c) = mac(t[j], a[j], bi, c1);
            c1 = c;
            let (y, c) = mac(x, m, n[j], c2);
            c2 = c;
            t[j - 1] = y;
        }
        // t < 2n < 2R holds after every pass, so this sum fits two limbs and top <= 1.
        let w = top as Wide + c1 as Wide + c2 as Wide;
        t[N - 1] = w as Limb;
        top = (w >> LIMB_BITS) as Limb;
    }
    reduce_once(&mut t, top, n);
    t
}

/// Montgomery square `a^2 / R mod n`: the full square costs about half a product
/// (each cross term once, then doubled), followed by a separate reduction. Both
/// halves take two rows per pass, so each pass runs two independent carry chains
/// (one row at a time measured ~4% slower: a single chain waits on its carries).
/// `p` holds the 2N-limb square.
#[inline(never)]
pub(crate) fn mont_sqr<const N: usize>(
    a: &[Limb; N],
    n: &[Limb; N],
    n0: Limb,
    p: &mut [Limb; 2 * MAX_LIMBS],
) -> [Limb; N] {
    const { assert!(N <= MAX_LIMBS && N >= 4 && N.is_multiple_of(2)) };
    p[..2 * N].fill(0);
    // Cross products a_i * a_j (i < j), rows i and i+1 in one pass: two carry chains.
    let mut i = 0;
    while i + 2 < N {
        let (ai, ai1) = (a[i], a[i + 1]);
        let (x, mut ca) = mac(p[2 * i + 1], ai, a[i + 1], 0);
        p[2 * i + 1] = x;
        let (x, c) = mac(p[2 * i + 2], ai, a[i + 2], ca);
        ca = c;
        p[2 * i + 2] = x;
        let mut cb: Limb = 0;
        for k in 2 * i + 3..i + N {
            let (x, c) = mac(p[k], ai, a[k - i], ca);
            ca = c;
            let (y, c) = mac(x, ai1, a[k - i - 1], cb);
            cb = c;
            p[k] = y;
        }
        let (x, c) = mac(ca, ai1, a[N - 1], cb);
        p[i + N] = x;
        p[i + N + 1] = c;
        i += 2;
    }
    // Row N-2 has one cross term; row N-1 has none.
    let (x, c) = mac(p[2 * N - 3], a[N - 2], a[N - 1], 0);
    p[2 * N - 3] = x;
    p[2 * N - 2] = c;

    let mut shift_in: Limb = 0;
    let mut carry: Limb = 0;
    for (pair, &ai) in p[..2 * N].chunks_exact_mut(2).zip(a.iter()) {
        let sq = ai as Wide * ai as Wide;
        let lo = pair[0];
        let hi = pair[1];
        let d_lo = (lo << 1) | shift_in;
        let d_hi = (hi << 1) | (lo >> (LIMB_BITS - 1));
        shift_in = hi >> (LIMB_BITS - 1);
        let w = d_lo as Wide + (sq as Limb) as Wide + carry as Wide;
        pair[0] = w as Limb;
        let w = d_hi as Wide + (sq >> LIMB_BITS) + (w >> LIMB_BITS);
        pair[1] = w as Limb;
        carry = (w >> LIMB_BITS) as Limb;
    }

    // Reduction, rows i and i+1 in one pass: m_{i+1} is known once row i has
    // touched column i+1, so the rest of both rows run as two carry chains.
    let mut hc: Limb = 0;
    let mut i = 0;
    while i < N {
        let m0 = p[i].wrapping_mul(n0);
        let (_, ca0) = mac(p[i], m0, n[0], 0);
        let (v, ca1) = mac(p[i + 1], m0, n[1], ca0);
        let m1 = v.wrapping_mul(n0);
        let (_, mut cb) = mac(v, m1, n[0], 0);
        let mut ca = ca1;
        for j in 2..N {
            let (x, c) = mac(p[i + j], m0, n[j], ca);
            ca = c;
            let (y, c) = mac(x, m1, n[j - 1], cb);
            cb = c;
            p[i + j] = y;
        }
        let w = p[i + N] as Wide + ca as Wide + hc as Wide;
        let (y, c) = mac(w as Limb, m1, n[N - 1], cb);
        p[i + N] = y;
        let w2 = p[i + N + 1] as Wide + c as Wide + (w >> LIMB_BITS);
        p[i + N + 1] = w2 as Limb;
        hc = (w2 >> LIMB_BITS) as Limb;
        i += 2;
    }
    let mut t = [0 as Limb; N];
    t.copy_from_slice(&p[N..2 * N]);
    reduce_once(&mut t, hc, n);
    t
}

/// `out = a + H·k / 2^(w·D) mod n ≡ EM·R^-65536` for the digest `H`: a product by D
/// limbs reduced by D limbs (an eighth of a multiplication for 2048-bit keys).
/// `None` on inconsistent lengths.
fn fold_target(
    digest: &[u8],
    k: &[Limb],
    a: &[Limb],
    n: &[Limb],
    n0: Limb,
    out: &mut [Limb],
) -> Option<()> {
    let l = n.len();
    if k.len() != l || a.len() != l || out.len() != l || l > MAX_LIMBS {
        return None;
    }
    let mut h = [0 as Limb; DIGEST_LIMBS];
    limbs_from_be(digest, &mut h);
    let mut cols = [0 as Limb; MAX_LIMBS + DIGEST_LIMBS];
    let t = cols.get_mut(..l + DIGEST_LIMBS)?;
    for (i, &hi) in h.iter().enumerate() {
        let mut c: Limb = 0;
        for (tj, &kj) in t.get_mut(i..i + l)?.iter_mut().zip(k) {
            let (lo, hi2) = mac(*tj, hi, kj, c);
            *tj = lo;
            c = hi2;
        }
        *t.get_mut(i + l)? = c;
    }
    let mut hc: Limb = 0;
    for i in 0..DIGEST_LIMBS {
        let row = t.get_mut(i..=i + l)?;
        let m = row[0].wrapping_mul(n0);
        let mut c: Limb = 0;
        for (tj, &nj) in row.iter_mut().zip(n) {
            let (lo, hi2) = mac(*tj, m, nj, c);
            *tj = lo;
            c = hi2;
        }
        let w = row[l] as Wide + c as Wide + hc as Wide;
        row[l] = w as Limb;
        hc = (w >> LIMB_BITS) as Limb;
    }
    // (H·k + Σ m_i·n·2^(w·i)) / 2^(w·D) < 2n: one subtraction at most.
    out.copy_from_slice(t.get(DIGEST_LIMBS..)?);
    if hc != 0 || ge(out, n) {
        sub_in_place(out, n);
    }
    // Both terms are below n, so their sum is below 2n.
    let mut carry = false;
    for (x, &y) in out.iter_mut().zip(a) {
        let (d, c1) = x.overflowing_add(y);
        let (d, c2) = d.overflowing_add(carry as Limb);
        *x = d;
        carry = c1 | c2;
    }
    if carry || ge(out, n) {
        sub_in_place(out, n);
    }
    Some(())
}

/// Big-endian bytes into little-endian limbs; `out` must be long enough (extra limbs are zeroed).
pub(crate) fn limbs_from_be(bytes: &[u8], out: &mut [Limb]) {
    out.fill(0);
    for (limb, chunk) in out.iter_mut().zip(bytes.rchunks(LIMB_BYTES)) {
        *limb = chunk.iter().fold(0, |acc, &b| (acc << 8) | b as Limb);
    }
}

/// Little-endian limbs into exactly `out.len()` big-endian bytes (higher limbs are dropped).
pub(crate) fn limbs_to_be(limbs: &[Limb], out: &mut [u8]) {
    for (chunk, limb) in out.rchunks_mut(LIMB_BYTES).zip(limbs) {
        let bytes = limb.to_be_bytes();
        let skip = LIMB_BYTES - chunk.len();
        if let Some(src) = bytes.get(skip..) {
            chunk.copy_from_slice(src);
        }
    }
}

/// `2^k mod n` by doubling, for the per-key `R^2 mod n`. `n` must have its top
/// bit at position `bits - 1` and `k >= bits - 1`. Runs once per key.
pub(crate) fn pow2_mod(k: usize, n: &[Limb], bits: usize, out: &mut [Limb]) {
    out.fill(0);
    let start = bits - 1;
    if let Some(l) = out.get_mut(start / LIMB_BITS) {
        *l = 1 << (start % LIMB_BITS);
    }
    for _ in start..k {
        // out < n < 2^bits, so 2·out fits in the same limbs plus one carried-out bit.
        let mut carry: Limb = 0;
        for l in out.iter_mut() {
            let next = *l >> (LIMB_BITS - 1);
            *l = (*l << 1) | carry;
            carry = next;
        }
        if carry != 0 || ge(out, n) {
            sub_in_place(out, n);
        }
    }
}
