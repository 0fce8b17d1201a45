//! Plain `extern "C"` exports for `bench/node/bench.mjs`: jwtgate's RSA engine alone
//! and the complete verifier, compiled to wasm32 and driven from Node.
//!
//! Memory protocol: JS asks for a buffer with `buf_alloc`, writes bytes into the
//! returned pointer, and passes `(ptr, len)` pairs back. Buffers live for the whole run.

use std::cell::RefCell;

use jwtgate::bench_internals::RsaPublicKey;

thread_local! {
    static KEYS: RefCell<Vec<RsaPublicKey>> = const { RefCell::new(Vec::new()) };
    static VERIFIER: RefCell<Option<jwtgate::Verifier>> = const { RefCell::new(None) };
}

/// # Safety
/// `(ptr, len)` must come from `buf_alloc` (JS owns the contents).
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

/// A buffer of `len` bytes that lives until the instance is dropped.
#[no_mangle]
pub extern "C" fn buf_alloc(len: usize) -> *mut u8 {
    Box::leak(vec![0u8; len].into_boxed_slice()).as_mut_ptr()
}

/// Registers an RSA key (big-endian `n`, `e`); returns its handle, or -1 when refused.
///
/// # Safety
/// Pointers from `buf_alloc`.
#[no_mangle]
pub unsafe extern "C" fn key_new(n: *const u8, n_len: usize, e: *const u8, e_len: usize) -> i32 {
    let (n, e) = unsafe { (bytes(n, n_len), bytes(e, e_len)) };
    match RsaPublicKey::from_be_bytes(n, e) {
        Some(k) => KEYS.with_borrow_mut(|keys| {
            keys.push(k);
            keys.len() as i32 - 1
        }),
        None => -1,
    }
}

/// One bare RS256 signature check with a precomputed SHA-256 digest: 1 = valid.
///
/// # Safety
/// Pointers from `buf_alloc`.
#[no_mangle]
pub unsafe extern "C" fn rsa_verify(
    key: usize,
    digest: *const u8,
    digest_len: usize,
    sig: *const u8,
    sig_len: usize,
) -> u32 {
    let (digest, sig) = unsafe { (bytes(digest, digest_len), bytes(sig, sig_len)) };
    KEYS.with_borrow(|keys| keys.get(key).is_some_and(|k| k.verify_rs256(digest, sig)) as u32)
}

/// Builds the verifier from a JWKS and a policy JSON document; 1 = ok.
///
/// # Safety
/// Pointers from `buf_alloc`.
#[no_mangle]
pub unsafe extern "C" fn jwt_setup(
    jwks: *const u8,
    jwks_len: usize,
    policy: *const u8,
    policy_len: usize,
) -> u32 {
    let (jwks, policy) = unsafe { (bytes(jwks, jwks_len), bytes(policy, policy_len)) };
    let (Ok(keys), Ok(policy)) = (
        jwtgate::KeySet::from_jwks(jwks),
        jwtgate::Policy::from_json(policy),
    ) else {
        return 0;
    };
    VERIFIER.set(Some(jwtgate::Verifier::new(keys, policy)));
    1
}

/// Complete verification of a compact JWT at time `now` (no cache): 1 = valid.
///
/// # Safety
/// Pointers from `buf_alloc`.
#[no_mangle]
pub unsafe extern "C" fn jwt_verify(token: *const u8, token_len: usize, now: u64) -> u32 {
    let token = unsafe { bytes(token, token_len) };
    let Ok(token) = core::str::from_utf8(token) else {
        return 0;
    };
    VERIFIER.with_borrow(|v| v.as_ref().is_some_and(|v| v.verify(token, now).is_ok()) as u32)
}

/// SHA-256 of `(ptr, len)` alone (the hashing step of a JWT check); returns the first byte.
///
/// # Safety
/// Pointers from `buf_alloc`.
#[no_mangle]
pub unsafe extern "C" fn sha256_only(data: *const u8, len: usize) -> u32 {
    use sha2::Digest;
    let data = unsafe { bytes(data, len) };
    u32::from(sha2::Sha256::digest(data)[0]) | 0x100
}

/// A host that accepts every signature: what the JWT work costs without RSA or hashing.
struct AcceptAll;

impl jwtgate::HostCrypto for AcceptAll {
    fn verify(
        &self,
        _key: &jwtgate::HostKey<'_>,
        _alg: jwtgate::Algorithm,
        _signing_input: &[u8],
        _signature: &[u8],
    ) -> Option<bool> {
        Some(true)
    }
}

/// The complete verification minus the signature check (parse, header, payload, claims).
///
/// # Safety
/// Pointers from `buf_alloc`.
#[no_mangle]
pub unsafe extern "C" fn jwt_verify_no_rsa(token: *const u8, token_len: usize, now: u64) -> u32 {
    let token = unsafe { bytes(token, token_len) };
    let Ok(token) = core::str::from_utf8(token) else {
        return 0;
    };
    VERIFIER.with_borrow(|v| {
        v.as_ref()
            .is_some_and(|v| v.verify_with(token, now, &AcceptAll).is_ok()) as u32
    })
}

/// The engine's bare `sig^e mod n` (general path) into `out`: 1 = done.
///
/// # Safety
/// Pointers from `buf_alloc`; `out` as long as the modulus.
#[no_mangle]
pub unsafe extern "C" fn rsa_public_op(
    key: usize,
    sig: *const u8,
    sig_len: usize,
    out: *mut u8,
) -> u32 {
    let sig = unsafe { bytes(sig, sig_len) };
    let out = unsafe { core::slice::from_raw_parts_mut(out, sig_len) };
    KEYS.with_borrow(|keys| keys.get(key).is_some_and(|k| k.public_op(sig, out)) as u32)
}

#[cfg(feature = "fma-proto")]
mod fma {
    use super::bytes;
    use jwtgate::bench_internals::FmaKey;
    use std::cell::RefCell;

    thread_local! {
        static FMA: RefCell<Option<FmaKey>> = const { RefCell::new(None) };
    }

    /// 1 when `f64x2.relaxed_madd` is fused on this host.
    #[no_mangle]
    pub extern "C" fn fma_probe() -> u32 {
        FmaKey::probe() as u32
    }

    /// Sets the prototype's 2048-bit key: 1 = ok.
    ///
    /// # Safety
    /// Pointers from `buf_alloc`.
    #[no_mangle]
    pub unsafe extern "C" fn fma_key(n: *const u8, n_len: usize) -> u32 {
        let key = FmaKey::new(unsafe { bytes(n, n_len) });
        let ok = key.is_some() as u32;
        FMA.set(key);
        ok
    }

    /// The prototype's `sig^65537 mod n` into `out` (256 bytes): 1 = done.
    ///
    /// # Safety
    /// Pointers from `buf_alloc`.
    #[no_mangle]
    pub unsafe extern "C" fn fma_public_op(sig: *const u8, sig_len: usize, out: *mut u8) -> u32 {
        let sig = unsafe { bytes(sig, sig_len) };
        let out = unsafe { core::slice::from_raw_parts_mut(out, sig_len) };
        FMA.with_borrow(|k| k.as_ref().is_some_and(|k| k.public_op(sig, out)) as u32)
    }
}
