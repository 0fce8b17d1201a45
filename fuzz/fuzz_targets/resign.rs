//! Structure-aware: the input is split into header and claims JSON, re-signed with the
//! fixture key, and verified, so the claim checks behind the signature are reached.
//! A token the verifier accepts must really satisfy the policy. Then jwt-compact is the
//! oracle: the same header and claims are signed by jwt-compact with the key of the
//! header's `alg` (RS256 when it names none it implements) and judged by both; any
//! token jwtgate accepts, jwt-compact must accept with the same claims, and any it alone
//! refuses must break a documented rule (filter/tests/oracle).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (header, rest) = data.split_at(split);
    let payload = rest.get(1..).unwrap_or_default();
    // Half the runs use a valid header so the mutations concentrate on the claims.
    let default = header.first() == Some(&b'!');
    let header: &[u8] = if default {
        br#"{"alg":"RS256","kid":"fuzz"}"#
    } else {
        header
    };
    let token = jwtgate_fuzz::sign(header, payload);
    let f = jwtgate_fuzz::fixture();
    if let Ok(v) = f.verifier.verify(&token, jwtgate_fuzz::NOW) {
        let c = v.claims();
        assert_eq!(c.iss(), Some("https://issuer.example"));
        assert!(c.aud().contains(&"api"));
        assert!(c.sub().is_some_and(|s| s.starts_with("system:serviceaccount:payments:")));
        assert!(c.exp().is_some_and(|e| e + 60.0 > jwtgate_fuzz::NOW as f64));
        let ns = c.get("kubernetes.io.namespace");
        assert!(ns == Some(&serde_json::json!("payments")) || ns.is_some_and(|v| v.is_array()));
    }
    let o = jwtgate_fuzz::oracle_fixture();
    let named = serde_json::from_slice::<serde_json::Value>(header)
        .ok()
        .and_then(|h| Some(h.get("alg")?.as_str()?.to_owned()));
    let token = match jwtgate_fuzz::oracle::ALGS
        .into_iter()
        .find(|a| named.as_deref() == Some(*a))
    {
        // The fixture's RS256 signature is the one jwt-compact would make (PKCS#1 v1.5
        // is deterministic, the key is the same).
        Some("RS256") | None => token,
        Some(alg) => o.keys.token(alg, header, payload),
    };
    jwtgate_fuzz::oracle::judge(&o.keys, &o.verifier, &token);
});
