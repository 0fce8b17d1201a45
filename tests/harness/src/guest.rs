//! Building the filters under test for wasm32-wasip1, from inside a test.
//!
//! Tests call [`guest`] with a workspace crate name. It runs
//! `cargo build --release --target wasm32-wasip1 -p <crate>` with its own target directory,
//! `target/wasm-guests`, so the nested cargo never waits for the build-directory lock the
//! outer `cargo test` holds on `target/`. Builds are serialised per process and done once per
//! crate; cargo's own lock on `target/wasm-guests` serialises test binaries run in parallel.
//! Cargo's incremental check makes a rebuild of an unchanged guest take about a second.
//!
//! Set `JWTGATE_HARNESS_NO_BUILD=1` to skip the build and use what is already in
//! `target/wasm-guests` (for example after `make wasm`), or `JWTGATE_WASM_DIR` to look for
//! the `.wasm` files somewhere else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/harness sits two levels below the workspace root")
        .to_path_buf()
}

/// The cargo target directory of guest builds: `JWTGATE_WASM_DIR` or `target/wasm-guests`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("JWTGATE_WASM_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("target").join("wasm-guests"),
    }
}

/// Where the release `.wasm` of workspace crate `crate_name` lands.
pub fn wasm_path(crate_name: &str) -> PathBuf {
    target_dir()
        .join("wasm32-wasip1")
        .join("release")
        .join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// The command that builds `crate_name`, as a person would type it from the workspace root.
pub fn build_command(crate_name: &str) -> String {
    format!(
        "CARGO_TARGET_DIR={} cargo build --release --target wasm32-wasip1 -p {crate_name}",
        target_dir().display()
    )
}

/// Builds workspace crate `crate_name` for wasm32-wasip1 (once per process) and returns the
/// path of its `.wasm`, or a message saying what failed and which command to run.
pub fn build(crate_name: &str) -> Result<PathBuf, String> {
    static BUILT: OnceLock<Mutex<HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(result) = built.get(crate_name) {
        return result.clone();
    }
    let result = build_now(crate_name);
    built.insert(crate_name.to_owned(), result.clone());
    result
}

fn build_now(crate_name: &str) -> Result<PathBuf, String> {
    // `make test` builds the shipped (stripped) Envoy module once and points every
    // Envoy-side suite at it, so the harness tests exactly what ships.
    if crate_name == "jwtgate-envoy" {
        if let Some(shipped) = std::env::var_os("JWTGATE_ENVOY_WASM") {
            let shipped = PathBuf::from(shipped);
            return if shipped.is_file() {
                Ok(shipped)
            } else {
                Err(format!(
                    "JWTGATE_ENVOY_WASM names {}, which is missing; build it with envoy/scripts/build.sh",
                    shipped.display()
                ))
            };
        }
    }
    let wasm = wasm_path(crate_name);
    if std::env::var_os("JWTGATE_HARNESS_NO_BUILD").is_some() {
        return if wasm.is_file() {
            Ok(wasm)
        } else {
            Err(format!(
                "{} is missing and JWTGATE_HARNESS_NO_BUILD is set; build it with:\n  {}",
                wasm.display(),
                build_command(crate_name)
            ))
        };
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip1",
            "-p",
            crate_name,
        ])
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir())
        // Host-side flags (coverage, sanitizers) do not apply to a wasm guest.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .map_err(|e| {
            format!(
                "cannot run cargo ({e}); build the guest with:\n  {}",
                build_command(crate_name)
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let hint =
            if stderr.contains("wasm32-wasip1") && stderr.contains("target may not be installed") {
                "\nthe wasm32-wasip1 target is missing: rustup target add wasm32-wasip1"
            } else {
                ""
            };
        return Err(format!(
            "building guest {crate_name} failed:\n{}{hint}\nreproduce with:\n  {}",
            tail.join("\n"),
            build_command(crate_name)
        ));
    }
    if !wasm.is_file() {
        return Err(format!(
            "cargo built {crate_name} but {} is missing",
            wasm.display()
        ));
    }
    Ok(wasm)
}

/// [`build`] for tests: the `.wasm` path, or a panic whose message says how to build it.
///
/// ```no_run
/// let wasm = jwtgate_harness::guest::guest("jwtgate-harness-fixture");
/// let host = jwtgate_harness::Host::new(wasm).configure("")?;
/// # Ok::<(), jwtgate_harness::Error>(())
/// ```
pub fn guest(crate_name: &str) -> PathBuf {
    build(crate_name).unwrap_or_else(|message| panic!("{message}"))
}
