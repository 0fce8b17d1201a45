//! The e = 65537, SHA-256 shortcut ("fold"), for either engine.
//!
//! Entering the Montgomery domain costs a full multiplication per signature. Without
//! it, sixteen Montgomery squarings of `s` and one product with `s` give
//! `z = s^65537·R^-65536 mod n`. Instead of undoing the factor, the expected encoding
//! gets it too: `P·R^-65536` is a per-key constant for the fixed part `P` of the encoding
//! (see [`prefix`]), and `H·R^-65536` is a product by the 256-bit digest `H` reduced by
//! as many limbs, an eighth of a full multiplication for 2048-bit keys
//! ([`Engine::fold_target`]). `z` equals `EM·R^-65536 mod n` exactly when
//! `s^65537 mod n = EM` (R is invertible mod odd n, and `EM < n` since it starts with
//! `00 01`), so the check is still a comparison of the whole encoding. Saves about 5%
//! per verification.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::engine::{Engine, PerClass};
use super::ladder::pow_mod;
use super::precomp::{load, Precomp};
use super::{pkcs1, Hash};

/// The SHA-256 encoding with an all-zero digest, `len` bytes: the constant part `P` of
/// every expected encoding `EM = P + H` (the digest `H` is its low 32 bytes).
pub(super) fn prefix(len: usize) -> Option<Vec<u8>> {
    let mut p = alloc::vec![0u8; len];
    pkcs1::encode(Hash::Sha256, &[0; 32], &mut p).then_some(p)
}

/// Per-key constants: `a = P·R^-65536 mod n` and `k = R^-65536·2^(w·D) mod n` (D the
/// digest's limbs).
#[derive(Clone)]
pub(crate) struct Fold<E: Engine> {
    a: Box<[E::Limb]>,
    k: Box<[E::Limb]>,
}

impl<E: Engine> Precomp<E> {
    /// Prepares the shortcut for the encoding prefix `p_be` (from [`prefix`]: as long as
    /// `n` in bytes, and below `n`). Keys above the engine's fold classes get none.
    pub(crate) fn prepare_fold(&mut self, p_be: &[u8]) {
        let fold = E::by_class(self.limbs(), Consts { pre: self, p_be });
        self.fold = fold.flatten();
    }

    /// The check by the shortcut: `Some(valid)`, or `None` when the key has no fold
    /// constants (the caller then takes the general path). `sig` has the modulus length
    /// and `digest` 32 bytes (checked by the caller).
    pub(crate) fn verify_folded(&self, sig: &[u8], digest: &[u8]) -> Option<bool> {
        E::by_class(
            self.limbs(),
            Check {
                pre: self,
                sig,
                digest,
            },
        )
        .flatten()
    }
}

/// [`Precomp::prepare_fold`] for one size class.
struct Consts<'a, E: Engine> {
    pre: &'a Precomp<E>,
    p_be: &'a [u8],
}

impl<E: Engine> PerClass<E> for Consts<'_, E> {
    type Out = Option<Fold<E>>;

    fn run<const N: usize>(self) -> Option<Fold<E>> {
        if N > E::FOLD_LIMBS {
            return None;
        }
        let (n, rr) = self.pre.arrays::<N>()?;
        if self.p_be.len() > N * E::LIMB_BITS / 8 {
            return None;
        }
        let n0 = self.pre.n0;
        let unit = |at: usize| {
            let mut x = [E::Limb::default(); N];
            if let Some(l) = x.get_mut(at) {
                *l = E::Limb::from(1);
            }
            x
        };
        // The scaled power of 1 is u = R^-65536; v = u·R = R^-65535.
        let one = unit(0);
        let mut scratch = E::scratch(n);
        let u = pow_mod::<E, N>(&one, &one, 65537, n, n0, &mut scratch);
        let v = E::mul(&u, rr, n, n0, &mut scratch);
        let mut p = [E::Limb::default(); N];
        E::from_be(self.p_be, &mut p);
        let a = E::mul(&p, &v, n, n0, &mut scratch);
        let k = E::mul(&v, &unit(E::DIGEST_LIMBS), n, n0, &mut scratch);
        Some(Fold {
            a: a.into(),
            k: k.into(),
        })
    }
}

/// [`Precomp::verify_folded`] for one size class.
struct Check<'a, E: Engine> {
    pre: &'a Precomp<E>,
    sig: &'a [u8],
    digest: &'a [u8],
}

impl<E: Engine> PerClass<E> for Check<'_, E> {
    type Out = Option<bool>;

    fn run<const N: usize>(self) -> Option<bool> {
        // A constant per class: classes without the shortcut compile to nothing here.
        if N > E::FOLD_LIMBS {
            return None;
        }
        let fold = self.pre.fold.as_ref()?;
        let (n, _) = self.pre.arrays::<N>()?;
        if self.digest.len() > E::DIGEST_LIMBS * E::LIMB_BITS / 8 {
            return Some(false);
        }
        let mut s = [E::Limb::default(); N];
        if !load::<E, N>(self.sig, n, &mut s) {
            return Some(false);
        }
        let n0 = self.pre.n0;
        let z = pow_mod::<E, N>(&s, &s, 65537, n, n0, &mut E::scratch(n));
        let mut e = [E::Limb::default(); N];
        E::fold_target(self.digest, &fold.k, &fold.a, n, n0, &mut e)?;
        Some(e == z)
    }
}
