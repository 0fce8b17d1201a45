//! The exponent ladder: `s^e mod n` in the Montgomery domain, for either engine.

use super::engine::{Engine, Num};

/// `s^e mod n` for odd `e >= 3`, with `s < n` in plain (not Montgomery) form and `a`
/// its Montgomery form `s·R mod n` (the caller enters the domain with `scratch`).
///
/// Left-to-right binary exponentiation in the Montgomery domain; e = 65537 is sixteen
/// squarings and one multiply. The last step multiplies by the plain `s` instead of `a`,
/// which leaves the domain for free (`x·R · s / R = x·s`); this works because `e` is odd.
///
/// With `a = s` (e = 65537 only), `s` is not brought into the domain: the result is then
/// `s^65537·R^-65536 mod n`, the scaled form the fold compares (`fold.rs`).
// Not inlined in wasm: callers per size class would each carry a copy (size).
#[cfg_attr(target_arch = "wasm32", inline(never))]
pub(crate) fn pow_mod<E: Engine, const N: usize>(
    a: &Num<E, N>,
    s: &Num<E, N>,
    e: u32,
    n: &Num<E, N>,
    n0: E::Limb,
    scratch: &mut E::Scratch,
) -> Num<E, N> {
    let mut x = *a;
    if e == 65537 {
        // The common case: 2^16 + 1 is sixteen squarings and one multiply.
        for _ in 0..16 {
            x = E::sqr(&x, n, n0, scratch);
        }
    } else {
        let top = 31 - e.leading_zeros();
        for i in (1..top).rev() {
            x = E::sqr(&x, n, n0, scratch);
            if (e >> i) & 1 == 1 {
                x = E::mul(&x, a, n, n0, scratch);
            }
        }
        x = E::sqr(&x, n, n0, scratch);
    }
    E::mul(&x, s, n, n0, scratch)
}
