//! Generates `tests/vectors/corpus.json`, the vector corpus every jwtgate surface runs.
//!
//! ```text
//! cargo run -p jwtgate-vectors-gen --release            # (re)write corpus.json
//! cargo run -p jwtgate-vectors-gen --release -- --check # exit 1 if it would change
//! ```
//!
//! Deterministic: the keys are committed PEM files and PKCS#1 v1.5 signatures are
//! deterministic, so the same sources give the same bytes. Missing keys are generated
//! once from a seeded RNG (never in `--check` mode).

mod cases;
mod corpus;
mod json;
mod keys;
mod sign;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: jwtgate-vectors-gen [--check]\n  writes tests/vectors/corpus.json; --check only compares");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?} (try --help)");
                return ExitCode::from(2);
            }
        }
    }
    match run(check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jwtgate-vectors-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(check: bool) -> Result<(), String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .ok_or("no parent directory")?;
    sign::self_test();
    let keys = keys::load(&dir.join("keys"), check)?;
    let corpus = cases::build(&keys);
    corpus.validate()?;
    let text = corpus.to_json().pretty();
    // The output must be valid JSON that a plain parser reads back.
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("generated JSON does not parse: {e}"))?;
    let path = dir.join("corpus.json");
    let current = std::fs::read(&path).unwrap_or_default();
    let summary = format!(
        "{} token cases, {} JWKS cases, {} bytes",
        corpus.cases.len(),
        corpus.jwks_cases.len(),
        text.len()
    );
    if current == text.as_bytes() {
        println!("{}: up to date ({summary})", path.display());
        return Ok(());
    }
    if check {
        return Err(format!(
            "{} is out of date: run `cargo run -p jwtgate-vectors-gen --release` and commit it",
            path.display()
        ));
    }
    std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{}: written ({summary})", path.display());
    Ok(())
}
