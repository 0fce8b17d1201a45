//! Native RSA verification throughput:
//! `cargo bench -p jwtgate --features bench-internals --bench rsa` (or `make -C bench native`).
//!
//! Prints one markdown table of verifications/s, side by side in one run:
//! - jwtgate's engine alone (`bench_internals::RsaPublicKey::verify_rs256`, digest precomputed),
//! - jwtgate's complete `Verifier::verify` (parse, SHA-256, signature, claims; no cache),
//! - the `rsa` 0.9 crate (`RsaPublicKey::verify`, key pre-parsed),
//! - `openssl speed -seconds 1 rsa2048` (once per round) when `openssl` is on PATH.
//!
//! Contenders are timed round-robin (one short window each per round, `openssl speed` once
//! per round) and each figure is the median of its rounds, measured in this thread's
//! CPU time (`/proc/thread-self/schedstat`, wall time where that is missing): the
//! machines this runs on are shared and noisy, and CPU time is what stays comparable.
//! `openssl speed` also divides by CPU (user) time by default. `BENCH_CLOCK=wall`
//! switches everything to wall time (and passes `-elapsed` to OpenSSL).
//! This is a benchmark, not a test: nothing here asserts on time.
// Test code: a failure should stop loudly (the no-panic lints are for the library).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use jwtgate::bench_internals::RsaPublicKey;

fn wall_clock() -> bool {
    std::env::var("BENCH_CLOCK").is_ok_and(|v| v == "wall")
}

/// Nanoseconds of CPU time used by this thread, when Linux tells us.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// A clock in nanoseconds: thread CPU time, or wall time.
fn now_ns(origin: Instant) -> u64 {
    if !wall_clock() {
        if let Some(ns) = thread_cpu_ns() {
            return ns;
        }
    }
    origin.elapsed().as_nanos() as u64
}

/// Rounds per figure; each round times every contender once, in turn.
const ROUNDS: usize = 7;
/// Length of one timed window.
const WINDOW_NS: u64 = 250_000_000;

/// One timed window of `f`, in calls per second.
fn window(f: &mut dyn FnMut() -> bool, origin: Instant) -> f64 {
    let start = now_ns(origin);
    let mut n = 0u64;
    let mut now = start;
    while now - start < WINDOW_NS {
        for _ in 0..8 {
            black_box(f());
        }
        n += 8;
        now = now_ns(origin);
    }
    n as f64 / ((now - start) as f64 / 1e9)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

/// The first fixture key of `bits` with e = 65537 (see `src/rsa/test_keys.txt`).
fn fixture_key(bits: usize) -> RsaPrivateKey {
    let hex = |s: &str| BigUint::parse_bytes(s.as_bytes(), 16).unwrap();
    include_str!("../src/rsa/test_keys.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .find(|f| f[0] == bits.to_string() && f[1] == "65537")
        .map(|f| {
            RsaPrivateKey::from_components(
                hex(f[2]),
                BigUint::from(65537u32),
                hex(f[3]),
                vec![hex(f[4]), hex(f[5])],
            )
            .unwrap()
        })
        .expect("fixture key")
}

/// An RS256 token shaped like an EKS projected service-account token (~900 bytes),
/// with the JWKS holding its key.
fn token_and_jwks(key: &RsaPrivateKey) -> (String, String) {
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let header = r#"{"alg":"RS256","kid":"bench-key","typ":"JWT"}"#;
    let payload = r#"{"aud":["sts.amazonaws.com"],"exp":4102444800,"iat":1700000000,"iss":"https://oidc.eks.us-west-2.amazonaws.com/id/B8A3E1C9D2F04A6E8B7C5D3E1F2A4B6C","kubernetes.io":{"namespace":"payments","pod":{"name":"api-7d9c8b6f5-x2x4z","uid":"5d2f7c1e-8a4b-4c3d-9e6f-1a2b3c4d5e6f"},"serviceaccount":{"name":"payments-api","uid":"9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"},"warnafter":1700003607},"nbf":1700000000,"sub":"system:serviceaccount:payments:payments-api"}"#;
    let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let digest = Sha256::digest(signing_input.as_bytes());
    let sig = key
        .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
        .expect("sign");
    let token = format!("{signing_input}.{}", b64(&sig));
    let jwks = format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"bench-key","use":"sig","alg":"RS256","n":"{}","e":"{}"}}]}}"#,
        b64(&key.n().to_bytes_be()),
        b64(&key.e().to_bytes_be())
    );
    (token, jwks)
}

/// `openssl speed` verify/s for RSA-2048, if openssl is available. OpenSSL divides by
/// its CPU user time unless given `-elapsed`, which matches our clock choice.
fn openssl_verify_rate() -> Option<f64> {
    let mut args = vec!["speed", "-seconds", "1"];
    if wall_clock() {
        args.push("-elapsed");
    }
    args.push("rsa2048");
    let out = Command::new("openssl").args(&args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Summary line: "rsa 2048 bits 0.000613s 0.000036s   1631.4  27683.1"
    // (OpenSSL 3.2+ adds encrypt/decrypt columns; verify/s is then the fourth number).
    let line = text.lines().find(|l| l.starts_with("rsa 2048 bits"))?;
    let nums: Vec<f64> = line
        .split_whitespace()
        .skip(3)
        .filter(|w| !w.ends_with('s'))
        .filter_map(|w| w.parse().ok())
        .collect();
    match nums.len() {
        2 | 4.. => Some(nums[1]),
        _ => None,
    }
}

/// A benchmarked call and its rate in each round.
struct Contender<'a> {
    what: String,
    bits: usize,
    f: Box<dyn FnMut() -> bool + 'a>,
    rates: Vec<f64>,
}

/// Everything one key size needs, kept alive while the contenders borrow it.
struct Fixture {
    bits: usize,
    public: rsa::RsaPublicKey,
    digest: Vec<u8>,
    sig: Vec<u8>,
    ours: RsaPublicKey,
    token: String,
    verifier: jwtgate::Verifier,
}

fn fixture(bits: usize) -> Fixture {
    let key = fixture_key(bits);
    let public = key.to_public_key();
    let msg = format!("benchmark message for {bits} bits");
    let digest = Sha256::digest(msg.as_bytes()).to_vec();
    let sig = key
        .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
        .expect("sign");
    let ours = RsaPublicKey::from_be_bytes(&public.n().to_bytes_be(), &public.e().to_bytes_be())
        .expect("key");
    let (token, jwks) = token_and_jwks(&key);
    let keys = jwtgate::KeySet::from_jwks(jwks.as_bytes()).expect("jwks");
    let verifier = jwtgate::Verifier::new(
        keys,
        jwtgate::Policy::new()
            .issuer("https://oidc.eks.us-west-2.amazonaws.com/id/B8A3E1C9D2F04A6E8B7C5D3E1F2A4B6C")
            .audience("sts.amazonaws.com"),
    );
    Fixture {
        bits,
        public,
        digest,
        sig,
        ours,
        token,
        verifier,
    }
}

fn main() {
    let now = 1_700_000_100;
    let fixtures: Vec<Fixture> = [2048usize, 3072, 4096].into_iter().map(fixture).collect();
    let mut contenders: Vec<Contender<'_>> = Vec::new();
    for fx in &fixtures {
        contenders.push(Contender {
            what: "jwtgate engine (bare RSA verify)".into(),
            bits: fx.bits,
            f: Box::new(|| {
                fx.ours
                    .verify_rs256(black_box(&fx.digest[..]), black_box(&fx.sig))
            }),
            rates: Vec::new(),
        });
        contenders.push(Contender {
            what: "jwtgate `Verifier::verify` (full JWT, no cache)".into(),
            bits: fx.bits,
            f: Box::new(move || fx.verifier.verify(black_box(&fx.token), now).is_ok()),
            rates: Vec::new(),
        });
        contenders.push(Contender {
            what: "`rsa` 0.9 crate (bare RSA verify)".into(),
            bits: fx.bits,
            f: Box::new(|| {
                fx.public
                    .verify(
                        Pkcs1v15Sign::new::<Sha256>(),
                        black_box(&fx.digest[..]),
                        black_box(&fx.sig),
                    )
                    .is_ok()
            }),
            rates: Vec::new(),
        });
    }
    for c in &mut contenders {
        assert!((c.f)(), "the benchmarked call must succeed: {}", c.what);
    }

    // Round-robin: a load swing on the shared machine hits every contender alike.
    let origin = Instant::now();
    let mut openssl_rates = Vec::new();
    for _ in 0..ROUNDS {
        for c in &mut contenders {
            let r = window(&mut *c.f, origin);
            c.rates.push(r);
        }
        if let Some(r) = openssl_verify_rate() {
            openssl_rates.push(r);
        }
    }
    let openssl = (!openssl_rates.is_empty()).then(|| median(openssl_rates));

    let clock = if wall_clock() { "wall" } else { "CPU" };
    println!(
        "Median of {ROUNDS} interleaved rounds ({} ms of {clock} time per figure per round; \
         `openssl speed -seconds 1` once per round).\n",
        WINDOW_NS / 1_000_000
    );
    println!("| what | bits | verifications/s | vs OpenSSL 2048 |");
    println!("|---|---:|---:|---:|");
    let mut rows: Vec<(String, usize, f64)> = contenders
        .into_iter()
        .map(|c| (c.what, c.bits, median(c.rates)))
        .collect();
    if let Some(r) = openssl {
        rows.push(("`openssl speed rsa2048` verify".into(), 2048, r));
    }
    for (what, bits, rate) in &rows {
        let ratio = openssl.map_or("n/a".into(), |o| format!("{:.2}x", rate / o));
        println!("| {what} | {bits} | {rate:.0} | {ratio} |");
    }
}
