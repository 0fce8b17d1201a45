//! One verifier shared by threads: `Send + Sync`, verification and key replacement
//! through `&self`, and no verdict of replaced keys served from the cache.
// Test code: a failure should stop loudly (the no-panic lints are for the library).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use jwtgate::{ErrorCode, KeySet, Policy, Verifier};
use std::sync::Arc;

const JWKS: &[u8] = include_bytes!("data/rfc7515-a2.jwks.json");
/// RFC 7515 Appendix A.2 (RS256, no kid, exp 1300819380).
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const NOW: u64 = 1_300_000_000;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn one_verifier_shared_by_threads() {
    assert_send_sync::<Verifier>();
    let keys = KeySet::from_jwks(JWKS).unwrap();
    let v = Arc::new(Verifier::new(keys, Policy::new()).with_cache(1024));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let v = Arc::clone(&v);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    assert!(v.verify(TOKEN, NOW).is_ok());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (hits, misses) = v.cache_stats();
    // Every call looked the token up once, unless its shard was busy (then neither).
    assert!(
        hits + misses <= 200 && misses >= 1,
        "{hits} hits, {misses} misses"
    );
}

#[test]
fn replaced_keys_are_never_served_from_the_cache() {
    let keys = KeySet::from_jwks(JWKS).unwrap();
    let v = Verifier::new(keys, Policy::new()).with_cache(16);
    assert!(v.verify(TOKEN, NOW).is_ok());
    assert!(v.verify(TOKEN, NOW).is_ok());
    assert_eq!(v.cache_stats(), (1, 1));
    // Another issuer's key: the cached verdict of the old keys must not answer.
    let other = include_bytes!("data/rfc7520-4.1.jwks.json");
    v.set_keys(KeySet::from_jwks(other).unwrap());
    assert_eq!(
        v.verify(TOKEN, NOW).unwrap_err().code(),
        ErrorCode::BadSignature
    );
    v.set_keys(KeySet::from_jwks(JWKS).unwrap());
    assert!(v.verify(TOKEN, NOW).is_ok());
}
