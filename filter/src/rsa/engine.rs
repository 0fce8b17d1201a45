//! What a limb representation provides, and the size classes it is compiled for.
//!
//! The two engines (`mont.rs`: machine words; `lazy.rs`: 28-bit limbs with delayed
//! carries) differ only in their arithmetic. Everything around it — the per-key
//! constants (`precomp.rs`), the exponent ladder (`ladder.rs`) and the e = 65537
//! shortcut (`fold.rs`) — is written once over [`Engine`].
//!
//! Every loop is generic over the limb count `N`, so each size class gets its own
//! fixed-size code. The count of a class depends on the engine (2048 bits are 32
//! `u64` limbs but 74 28-bit ones), and stable Rust cannot compute a const argument
//! from a generic parameter; so each engine states its counts with [`size_classes!`],
//! which writes the dispatch from a key's limb count to its monomorphisation, and the
//! code that runs per class is a [`PerClass`] value.

/// The arithmetic of one limb representation. Numbers are little-endian limb arrays,
/// fully reduced (`< n`) between operations; `R = 2^(LIMB_BITS·N)`.
pub(crate) trait Engine: Sized {
    /// One limb.
    type Limb: Copy + Default + Eq + From<u8>;
    /// Working memory of the multiplications of one exponentiation.
    type Scratch;
    /// Bits a limb holds.
    const LIMB_BITS: usize;
    /// Limbs of a SHA-256 digest (the short operand of the fold).
    const DIGEST_LIMBS: usize;
    /// Limbs of the largest size class the e = 65537 shortcut is compiled for (each
    /// class costs code size; larger keys take the general path).
    const FOLD_LIMBS: usize;

    /// Limbs of the smallest size class that holds a modulus of `bits` bits.
    fn class_limbs(bits: usize) -> usize;
    /// Runs `f` for the size class of `limbs` limbs; `None` when no class has that many.
    fn by_class<F: PerClass<Self>>(limbs: usize, f: F) -> Option<F::Out>;

    /// Big-endian bytes into limbs; extra limbs are zeroed, bits that do not fit dropped.
    fn from_be(bytes: &[u8], out: &mut [Self::Limb]);
    /// Limbs into exactly `out.len()` big-endian bytes.
    fn to_be(limbs: &[Self::Limb], out: &mut [u8]);
    /// `a >= b` for equal-length numbers.
    fn ge(a: &[Self::Limb], b: &[Self::Limb]) -> bool;
    /// `-n0^-1 mod 2^LIMB_BITS` for odd `n0`.
    fn neg_inv(n0: Self::Limb) -> Self::Limb;
    /// `out = 2^k mod n`, `n` of exactly `bits` bits, `k >= bits - 1`.
    fn pow2_mod(k: usize, n: &[Self::Limb], bits: usize, out: &mut [Self::Limb]);
    /// Fresh working memory for multiplications modulo `n`.
    fn scratch<const N: usize>(n: &[Self::Limb; N]) -> Self::Scratch;
    /// Montgomery product `a·b/R mod n`.
    fn mul<const N: usize>(
        a: &[Self::Limb; N],
        b: &[Self::Limb; N],
        n: &[Self::Limb; N],
        n0: Self::Limb,
        s: &mut Self::Scratch,
    ) -> [Self::Limb; N];
    /// Montgomery square `a²/R mod n`.
    fn sqr<const N: usize>(
        a: &[Self::Limb; N],
        n: &[Self::Limb; N],
        n0: Self::Limb,
        s: &mut Self::Scratch,
    ) -> [Self::Limb; N];
    /// `out = a + H·k / 2^(LIMB_BITS·DIGEST_LIMBS) mod n` for the SHA-256 digest `H`
    /// (see `fold.rs`); `None` on inconsistent lengths.
    fn fold_target(
        digest: &[u8],
        k: &[Self::Limb],
        a: &[Self::Limb],
        n: &[Self::Limb],
        n0: Self::Limb,
        out: &mut [Self::Limb],
    ) -> Option<()>;
}

/// A number of `N` limbs of engine `E`.
pub(crate) type Num<E, const N: usize> = [<E as Engine>::Limb; N];

/// Code that runs with the limb count `N` of a key's size class as a constant.
pub(crate) trait PerClass<E: Engine> {
    type Out;
    fn run<const N: usize>(self) -> Self::Out;
}

/// Implements [`Engine::class_limbs`] and [`Engine::by_class`] inside an `impl Engine`,
/// for the size classes 2048, 3072, 4096, 6144 and 8192 bits, from the engine's
/// `const fn(bits) -> limbs`. A key uses the smallest class that holds it: Montgomery
/// arithmetic only needs `R > n`, so padding with zero limbs is exact.
macro_rules! size_classes {
    ($limbs:path) => {
        $crate::rsa::engine::size_classes!(@ $limbs; 2048, 3072, 4096, 6144, 8192);
    };
    (@ $limbs:path; $($bits:literal),+) => {
        fn class_limbs(bits: usize) -> usize {
            $(
                if bits <= $bits {
                    return const { $limbs($bits) };
                }
            )+
            // Larger moduli are refused with the key.
            const { $limbs($crate::rsa::MAX_BITS) }
        }

        fn by_class<F: $crate::rsa::engine::PerClass<Self>>(
            limbs: usize,
            f: F,
        ) -> Option<F::Out> {
            $(
                if limbs == const { $limbs($bits) } {
                    return Some(f.run::<{ $limbs($bits) }>());
                }
            )+
            None
        }
    };
}
pub(crate) use size_classes;
