//! On `on_configure`, verifies one token N times with the core's in-wasm RSA engine and N
//! times through Envoy's `verify_signature` foreign function (key as PEM and as DER), and
//! logs the average time of each. The configuration is JSON: `token`, `jwks`, `pem`,
//! `der` (base64 SubjectPublicKeyInfo), `n`.
//!
//! Two more calls split the DER call's cost: with an unknown hash name (`sha255`) Envoy
//! imports the key and then gives up before verifying; with an empty key it gives up at the
//! import. So: crossing and protobuf = the empty-key call, key import = unknown hash minus
//! empty key, the verification itself = the DER call minus the unknown hash.

use base64::Engine as _;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, RootContext};
use proxy_wasm::types::{BufferType, LogLevel};
use std::time::UNIX_EPOCH;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Bench) });
}}

struct Bench;

impl Context for Bench {}

fn now_ns() -> u128 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// A length-delimited protobuf field (the foreign function takes `VerifySignatureArguments`).
fn field(out: &mut Vec<u8>, tag: u8, data: &[u8]) {
    out.push(tag);
    let mut n = data.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend_from_slice(data);
}

/// `VerifySignatureResult.result` (field 1, varint) is true.
fn verified(result: &[u8]) -> bool {
    result.first() == Some(&0x08) && result.get(1) == Some(&1)
}

fn foreign(key_tag: u8, key: &[u8], sig: &[u8], signing_input: &[u8], n: u32) -> (u128, u32) {
    foreign_with(b"sha256", key_tag, key, sig, signing_input, n).0
}

/// Also returns the last answer (to see where Envoy stopped).
fn foreign_with(
    hash: &[u8],
    key_tag: u8,
    key: &[u8],
    sig: &[u8],
    signing_input: &[u8],
    n: u32,
) -> ((u128, u32), Vec<u8>) {
    let mut ok = 0;
    let mut last = Vec::new();
    let t0 = now_ns();
    for _ in 0..n {
        let mut a = Vec::with_capacity(1024 + key.len() + signing_input.len());
        field(&mut a, 0x0a, hash);
        field(&mut a, key_tag, key);
        field(&mut a, 0x1a, sig);
        field(&mut a, 0x22, signing_input);
        if let Ok(Some(r)) = hostcalls::call_foreign_function("verify_signature", Some(&a)) {
            ok += u32::from(verified(&r));
            last = r;
        }
    }
    (((now_ns() - t0) / u128::from(n.max(1)), ok), last)
}

impl RootContext for Bench {
    fn on_configure(&mut self, _: usize) -> bool {
        let Ok(Some(cfg)) = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
        else {
            return false;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&cfg) else {
            return false;
        };
        let (Some(token), Some(pem), Some(der), Some(n)) = (
            v["token"].as_str(),
            v["pem"].as_str(),
            v["der"].as_str(),
            v["n"].as_u64(),
        ) else {
            return false;
        };
        let n = u32::try_from(n).unwrap_or(100).max(1);
        let Ok(der) = base64::engine::general_purpose::STANDARD.decode(der) else {
            return false;
        };
        let Ok(keys) = jwtgate::KeySet::from_jwks(v["jwks"].to_string().as_bytes()) else {
            return false;
        };
        let verifier = jwtgate::Verifier::new(keys, jwtgate::Policy::new().require_exp(false));
        let Some((signing_input, sig)) = token.rsplit_once('.') else {
            return false;
        };
        let Ok(sig) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig) else {
            return false;
        };

        let mut core_ok = 0u32;
        let t0 = now_ns();
        for _ in 0..n {
            core_ok += u32::from(verifier.verify_jws(token).is_ok());
        }
        let core = (now_ns() - t0) / u128::from(n);
        let (pem_ns, pem_ok) = foreign(0x2a, pem.as_bytes(), &sig, signing_input.as_bytes(), n);
        let (der_ns, der_ok) = foreign(0x12, &der, &sig, signing_input.as_bytes(), n);
        let si = signing_input.as_bytes();
        let ((bad_hash_ns, _), bad_hash) = foreign_with(b"sha255", 0x12, &der, &sig, si, n);
        let ((no_key_ns, _), no_key) = foreign_with(b"sha256", 0x12, &[], &sig, si, n);
        log::info!(
            "FFI-BENCH n={n} in_wasm_core_ns={core} foreign_pem_ns={pem_ns} foreign_der_ns={der_ns} ok={core_ok}/{pem_ok}/{der_ok}"
        );
        log::info!(
            "FFI-SPLIT der_bad_hash_ns={bad_hash_ns} no_key_ns={no_key_ns} bad_hash_answer={:?} no_key_answer={:?}",
            String::from_utf8_lossy(&bad_hash),
            String::from_utf8_lossy(&no_key)
        );
        true
    }
}
