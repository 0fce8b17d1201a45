//! The host crypto seam: the host's verdict decides, `None` falls back to the core's engine,
//! and everything but the signature check stays in the core.
// Test code: a failure should stop loudly (the no-panic lints are for the library).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use jwtgate::{Algorithm, ErrorCode, HostCrypto, HostKey, KeySet, Policy, Verifier};
use std::cell::RefCell;

const JWKS: &[u8] = include_bytes!("data/rfc7515-a2.jwks.json");
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const NOW: u64 = 1_300_000_000;

/// Records every call and answers with a fixed verdict.
struct Scripted {
    answer: Option<bool>,
    calls: RefCell<Vec<(usize, usize, Algorithm, usize)>>,
}

impl HostCrypto for Scripted {
    fn verify(&self, key: &HostKey<'_>, alg: Algorithm, input: &[u8], sig: &[u8]) -> Option<bool> {
        assert_eq!(key.exponent(), [1, 0, 1]);
        assert_eq!(key.spki_der().first(), Some(&0x30));
        assert_eq!(input, TOKEN.rsplit_once('.').unwrap().0.as_bytes());
        self.calls
            .borrow_mut()
            .push((key.modulus().len(), input.len(), alg, sig.len()));
        self.answer
    }
}

fn verifier() -> Verifier {
    Verifier::new(
        KeySet::from_jwks(JWKS).unwrap(),
        Policy::new().issuer("joe"),
    )
}

#[test]
fn the_hosts_verdict_decides() {
    let v = verifier();
    let yes = Scripted {
        answer: Some(true),
        calls: RefCell::new(Vec::new()),
    };
    assert!(v.verify_with(TOKEN, NOW, &yes).is_ok());
    assert_eq!(
        yes.calls.borrow().as_slice(),
        &[(256, TOKEN.rfind('.').unwrap(), Algorithm::RS256, 256)]
    );

    let no = Scripted {
        answer: Some(false),
        calls: RefCell::new(Vec::new()),
    };
    assert_eq!(
        v.verify_with(TOKEN, NOW, &no).unwrap_err().code(),
        ErrorCode::BadSignature
    );
}

#[test]
fn none_falls_back_to_the_core_engine() {
    let v = verifier();
    let unsure = Scripted {
        answer: None,
        calls: RefCell::new(Vec::new()),
    };
    assert!(v.verify_with(TOKEN, NOW, &unsure).is_ok());
    let forged = format!("{}AAAA", &TOKEN[..TOKEN.len() - 4]);
    assert_eq!(
        v.verify_with(&forged, NOW, &unsure).unwrap_err().code(),
        ErrorCode::BadSignature
    );
}

#[test]
fn the_core_still_decides_everything_else() {
    let v = verifier();
    let yes = Scripted {
        answer: Some(true),
        calls: RefCell::new(Vec::new()),
    };
    // Wrong signature length never reaches the host; claims are still checked after it.
    let short = format!("{}.AAAA", TOKEN.rsplit_once('.').unwrap().0);
    assert_eq!(
        v.verify_with(&short, NOW, &yes).unwrap_err().code(),
        ErrorCode::BadSignature
    );
    assert_eq!(
        v.verify_with(TOKEN, 1_400_000_000, &yes)
            .unwrap_err()
            .code(),
        ErrorCode::Expired
    );
    assert_eq!(yes.calls.borrow().len(), 1);
}
