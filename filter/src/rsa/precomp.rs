//! Per-key constants and the public operation `s^e mod n`, for either engine.

use alloc::boxed::Box;
use alloc::vec;

use super::engine::{Engine, Num, PerClass};
use super::fold::Fold;
use super::ladder::pow_mod;

/// Per-key constants: `n` in limbs padded to its size class, `R^2 mod n`, `-n^-1 mod 2^w`,
/// and the constants of the e = 65537 shortcut when the key has them.
#[derive(Clone)]
pub(crate) struct Precomp<E: Engine> {
    n: Box<[E::Limb]>,
    rr: Box<[E::Limb]>,
    pub(super) n0: E::Limb,
    pub(super) fold: Option<Fold<E>>,
}

impl<E: Engine> Precomp<E> {
    /// `n_be` is a validated odd modulus of exactly `bits` bits.
    pub(crate) fn new(n_be: &[u8], bits: usize) -> Precomp<E> {
        let limbs = E::class_limbs(bits);
        let mut n = vec![E::Limb::default(); limbs].into_boxed_slice();
        E::from_be(n_be, &mut n);
        let mut rr = vec![E::Limb::default(); limbs].into_boxed_slice();
        E::pow2_mod(2 * E::LIMB_BITS * limbs, &n, bits, &mut rr);
        let n0 = E::neg_inv(n.first().copied().unwrap_or(E::Limb::from(1)));
        Precomp {
            n,
            rr,
            n0,
            fold: None,
        }
    }

    /// Limbs of the key's size class.
    pub(super) fn limbs(&self) -> usize {
        self.n.len()
    }

    /// `n` and `R^2 mod n` as `N`-limb arrays (`None` unless `N` is the key's class).
    pub(super) fn arrays<const N: usize>(&self) -> Option<(&Num<E, N>, &Num<E, N>)> {
        Some((
            <&[E::Limb; N]>::try_from(&*self.n).ok()?,
            <&[E::Limb; N]>::try_from(&*self.rr).ok()?,
        ))
    }

    /// `em = sig^e mod n` as big-endian bytes; false when `sig >= n`.
    pub(crate) fn public_op(&self, e: u32, sig: &[u8], em: &mut [u8]) -> bool {
        let op = PublicOp {
            pre: self,
            e,
            sig,
            em,
        };
        E::by_class(self.limbs(), op).unwrap_or(false)
    }
}

/// Reads `sig` (big-endian) into `s`; true when it fits and is below `n`. (An out
/// parameter: returning the array in an `Option` costs a copy per class in wasm.)
pub(super) fn load<E: Engine, const N: usize>(
    sig: &[u8],
    n: &Num<E, N>,
    s: &mut Num<E, N>,
) -> bool {
    // `len·8 > N·w` without the multiplication that could overflow.
    if sig.len() > N * E::LIMB_BITS / 8 {
        return false;
    }
    E::from_be(sig, s);
    !E::ge(s, n)
}

/// [`Precomp::public_op`] for one size class.
struct PublicOp<'a, E: Engine> {
    pre: &'a Precomp<E>,
    e: u32,
    sig: &'a [u8],
    em: &'a mut [u8],
}

impl<E: Engine> PerClass<E> for PublicOp<'_, E> {
    type Out = bool;

    fn run<const N: usize>(self) -> bool {
        let Some((n, rr)) = self.pre.arrays::<N>() else {
            return false;
        };
        let mut s = [E::Limb::default(); N];
        if !load::<E, N>(self.sig, n, &mut s) {
            return false;
        }
        let n0 = self.pre.n0;
        let mut scratch = E::scratch(n);
        let a = E::mul(&s, rr, n, n0, &mut scratch);
        let m = pow_mod::<E, N>(&a, &s, self.e, n, n0, &mut scratch);
        E::to_be(&m, self.em);
        true
    }
}
