//! Counters, batched in the VM and flushed on the tick: a host call per counter per
//! request would cost more than the verification of a cached token.

use crate::ports::Host;
use std::collections::HashMap;

/// Counts since the last flush.
#[derive(Default)]
pub struct Stats {
    pub allowed: u64,
    pub denied: HashMap<&'static str, u64>,
    pub fetch_ok: u64,
    pub fetch_failed: u64,
    /// The gate's cache hits and misses already reported (its counts are running totals).
    pub cache_reported: (u64, u64),
}

impl Stats {
    pub fn deny(&mut self, code: &'static str) {
        *self.denied.entry(code).or_insert(0) += 1;
    }
}

/// Counter names (`<stat_prefix>.<name>`) and the host's ids for them.
pub struct Metrics {
    pub prefix: String,
    ids: HashMap<String, u32>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            prefix: "jwtgate".to_owned(),
            ids: HashMap::new(),
        }
    }
}

impl Metrics {
    /// Adds what `stats` counted (plus the native RSA counts and the gate's running cache
    /// totals) to the host's counters and resets the counts.
    pub fn flush(
        &mut self,
        host: &impl Host,
        stats: &mut Stats,
        native: [(&str, u64); 2],
        cache: Option<(u64, u64)>,
    ) {
        let prefix = &self.prefix;
        let mut pending: Vec<(String, u64)> = Vec::new();
        if stats.allowed > 0 {
            pending.push((
                format!("{prefix}.allowed"),
                std::mem::take(&mut stats.allowed),
            ));
        }
        for (code, n) in stats.denied.drain() {
            if n > 0 {
                pending.push((format!("{prefix}.denied.{code}"), n));
            }
        }
        if stats.fetch_ok > 0 {
            pending.push((
                format!("{prefix}.jwks_fetch_ok"),
                std::mem::take(&mut stats.fetch_ok),
            ));
        }
        if stats.fetch_failed > 0 {
            pending.push((
                format!("{prefix}.jwks_fetch_failed"),
                std::mem::take(&mut stats.fetch_failed),
            ));
        }
        for (name, n) in native {
            if n > 0 {
                pending.push((format!("{prefix}.{name}"), n));
            }
        }
        if let Some((h, m)) = cache {
            let (rh, rm) = stats.cache_reported;
            if h > rh {
                pending.push((format!("{prefix}.cache_hit"), h - rh));
            }
            if m > rm {
                pending.push((format!("{prefix}.cache_miss"), m - rm));
            }
            stats.cache_reported = (h.max(rh), m.max(rm));
        }
        for (name, n) in pending {
            let id = match self.ids.get(&name) {
                Some(id) => *id,
                None => match host.define_counter(&name) {
                    Ok(id) => {
                        self.ids.insert(name, id);
                        id
                    }
                    Err(_) => continue,
                },
            };
            let _ = host.increment_counter(id, i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
}
