//! A deterministic hostile-input loop: generate, run through the guest, stop at the first trap
//! (or failed check) and name the input; then check the guest's linear memory stayed flat.
//!
//! ```no_run
//! use jwtgate_harness::{fuzz::Fuzz, Host};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut host = Host::new("filter.wasm").configure("{}")?;
//! let report = Fuzz::new(10_000).seed(7).run(
//!     &mut host,
//!     |rng| rng.mutate(b"Bearer abc.def.ghi"),
//!     |host, input| {
//!         let value = String::from_utf8_lossy(input).into_owned();
//!         let out = host.worker(0).request(&[(":path", "/"), ("authorization", value.as_str())])?;
//!         host.finish(out.stream)?;
//!         Ok(())
//!     },
//! );
//! let report = report.unwrap_or_else(|failure| panic!("{failure}"));
//! assert_eq!(report.iterations, 10_000);
//! # Ok(()) }
//! ```

use std::fmt::{self, Debug};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::{Error, Host};

/// One step of splitmix64: a tiny, good-enough, reproducible generator.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seeded random source with helpers for building hostile inputs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// Byte strings that tend to find bugs in parsers of tokens, headers and JSON.
const DICTIONARY: &[&[u8]] = &[
    b".",
    b"..",
    b"=",
    b"==",
    b"-",
    b"_",
    b"+",
    b"/",
    b"\0",
    b"\xff",
    b"\xc3\x28",
    b"\r\n",
    b" ",
    b"\t",
    b",",
    b";",
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e999",
    b"18446744073709551616",
    b"eyJ",
    b"eyJhbGciOiJSUzI1NiJ9",
    b"Bearer ",
    b"bearer ",
    b"alg",
    b"none",
    b"RS256",
    b"kid",
    b"exp",
    b"nbf",
    b"iat",
    b"aud",
    b"iss",
    b"sub",
    b"\\u0000",
    b"\\ud800",
    b"%00",
    b"%2e",
];

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.0)
    }

    /// A number in `0..n` (0 if `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// A random printable ASCII string of up to `max` characters.
    pub fn ascii(&mut self, max: usize) -> String {
        let len = self.below(max + 1);
        (0..len)
            .map(|_| (b' ' + self.below(95) as u8) as char)
            .collect()
    }

    /// `seed` changed by 1 to 8 mutations: bit flips, byte changes, insertions and deletions,
    /// truncation, duplication of a slice, and splices from a dictionary of tokens that
    /// matter to JWT, header and JSON parsers.
    pub fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..1 + self.below(8) {
            let len = v.len();
            match self.below(8) {
                0 if len > 0 => {
                    let i = self.below(len);
                    v[i] ^= 1 << self.below(8);
                }
                1 if len > 0 => {
                    let i = self.below(len);
                    v[i] = self.next_u64() as u8;
                }
                2 => {
                    let i = self.below(len + 1);
                    let b = self.next_u64() as u8;
                    v.insert(i, b);
                }
                3 if len > 0 => {
                    let i = self.below(len);
                    let n = 1 + self.below((len - i).min(16));
                    v.drain(i..i + n);
                }
                4 => v.truncate(self.below(len + 1)),
                5 if len > 0 => {
                    let i = self.below(len);
                    let n = 1 + self.below((len - i).min(64));
                    let piece = v[i..i + n].to_vec();
                    let at = self.below(v.len() + 1);
                    v.splice(at..at, piece);
                }
                _ => {
                    let word = *self.pick(DICTIONARY);
                    let at = self.below(len + 1);
                    if self.one_in(2) && at < len {
                        let end = (at + word.len()).min(len);
                        v.splice(at..end, word.iter().copied());
                    } else {
                        v.splice(at..at, word.iter().copied());
                    }
                }
            }
        }
        v
    }
}

/// Settings of a hostile-input run.
#[derive(Debug, Clone)]
pub struct Fuzz {
    iterations: usize,
    seed: u64,
    warmup: usize,
    memory_slack: usize,
}

/// What a passing run saw.
#[derive(Debug, Clone)]
pub struct FuzzReport {
    /// Inputs run.
    pub iterations: usize,
    /// Linear memory size of each worker once warm (after the warm-up inputs).
    pub warm_memory: Vec<usize>,
    /// Linear memory size of each worker at the end.
    pub final_memory: Vec<usize>,
}

/// Why a run failed; its `Display` names the seed, the iteration and the input.
#[derive(Debug)]
pub struct FuzzFailure {
    /// The seed of the run, to replay it.
    pub seed: u64,
    /// Index of the failing input.
    pub iteration: usize,
    /// `Debug` rendering of the failing input.
    pub input: String,
    /// What happened: the trap report, the failed check, or the memory growth.
    pub reason: String,
}

impl fmt::Display for FuzzFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hostile input #{} (seed {}) failed:\ninput: {}\n{}",
            self.iteration, self.seed, self.input, self.reason
        )
    }
}

impl std::error::Error for FuzzFailure {}

impl Fuzz {
    /// A run of `iterations` inputs, seed 0, a warm-up of 1% of the inputs (at least 100).
    pub fn new(iterations: usize) -> Fuzz {
        Fuzz {
            iterations,
            seed: 0,
            warmup: (iterations / 100).max(100).min(iterations),
            memory_slack: 0,
        }
    }

    /// Sets the seed; the same seed replays the same inputs.
    pub fn seed(mut self, seed: u64) -> Fuzz {
        self.seed = seed;
        self
    }

    /// Inputs run before the memory baseline is taken (allocator and caches warm up).
    pub fn warmup(mut self, n: usize) -> Fuzz {
        self.warmup = n.min(self.iterations);
        self
    }

    /// Bytes of linear-memory growth tolerated after warm-up (default 0: flat).
    pub fn memory_slack(mut self, bytes: usize) -> Fuzz {
        self.memory_slack = bytes;
        self
    }

    /// Runs `case` on `iterations` inputs from `generate`. Stops at the first input whose
    /// case returns an error (a guest trap comes back as [`Error::Trap`]) or panics (a failed
    /// assertion), or after which any worker's linear memory has grown past its warm size
    /// plus the slack, and reports that input.
    pub fn run<I: Debug>(
        &self,
        host: &mut Host,
        mut generate: impl FnMut(&mut Rng) -> I,
        mut case: impl FnMut(&mut Host, &I) -> Result<(), Error>,
    ) -> Result<FuzzReport, FuzzFailure> {
        let mut rng = Rng::new(self.seed);
        let workers = host.worker_count();
        let mut warm = Vec::new();
        for iteration in 0..self.iterations {
            if iteration == self.warmup {
                warm = (0..workers).map(|w| host.memory_size(w)).collect();
            }
            let input = generate(&mut rng);
            let fail = |reason: String| FuzzFailure {
                seed: self.seed,
                iteration,
                input: format!("{input:?}"),
                reason,
            };
            match catch_unwind(AssertUnwindSafe(|| case(host, &input))) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(fail(e.to_string())),
                Err(panic) => {
                    let msg = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "a panic".into());
                    return Err(fail(format!("the check panicked: {msg}")));
                }
            }
            if !warm.is_empty() {
                for (w, base) in warm.iter().enumerate() {
                    let now = host.memory_size(w);
                    if now > base + self.memory_slack {
                        return Err(fail(format!(
                            "worker {w} linear memory grew from {base} to {now} bytes after warm-up \
                             (first seen after this input)"
                        )));
                    }
                }
            }
        }
        if warm.is_empty() {
            warm = (0..workers).map(|w| host.memory_size(w)).collect();
        }
        Ok(FuzzReport {
            iterations: self.iterations,
            warm_memory: warm,
            final_memory: (0..workers).map(|w| host.memory_size(w)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let a: Vec<Vec<u8>> = (0..50)
            .scan(Rng::new(3), |r, _| Some(r.mutate(b"abc.def")))
            .collect();
        let b: Vec<Vec<u8>> = (0..50)
            .scan(Rng::new(3), |r, _| Some(r.mutate(b"abc.def")))
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().any(|m| m != b"abc.def"));
    }

    #[test]
    fn mutate_handles_empty_seeds() {
        let mut r = Rng::new(1);
        for _ in 0..1000 {
            r.mutate(b"");
        }
    }
}
