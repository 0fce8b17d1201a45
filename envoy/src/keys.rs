//! The key record every worker VM shares through proxy-wasm shared data: the last good
//! JWKS with a version, and the refresh schedule (next fetch, failures, a fetch lease and
//! the unknown-`kid` cooldown), so that one fetch serves all workers and they all agree
//! on when the next one is due. Pure data and rules; the glue does the host calls.
//!
//! Times are milliseconds since the epoch; the core's schedule knobs are seconds.

use jwtgate::refresh::{RefreshConfig, RefreshState, Refresher};
use serde_json::{json, Value};

/// The shared state of one key source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Bumped whenever `jwks` changes; workers re-parse only then.
    pub version: u64,
    /// The last good JWKS document (empty: none yet).
    pub jwks: String,
    /// Learnt from the discovery document (OIDC discovery sources only).
    pub jwks_uri: Option<String>,
    pub next_fetch_at: u64,
    pub failures: u32,
    /// A fetch is in flight (by some worker) until this time.
    pub lease_until: u64,
    pub last_kid_refetch: Option<u64>,
    /// Fetches started, all workers together (observability and tests).
    pub fetches: u64,
    /// Fetches ended (succeeded or failed), all workers together. Keys that did not change
    /// leave `version` alone, so a worker whose requests joined another worker's fetch
    /// learns from this count that the fetch is over. Compared for a change, not for
    /// growth: it wraps, and a record rewritten by another VM may set it to anything.
    pub completed: u64,
}

/// Why a fetch may not start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoLease {
    /// Another fetch holds the lease until this time.
    Leased(u64),
    /// Not due yet (schedule, backoff or cooldown).
    NotDue,
}

impl Record {
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        let o = v.as_object()?;
        let u = |k: &str| o.get(k).and_then(Value::as_u64).unwrap_or(0);
        Some(Record {
            version: u("version"),
            jwks: o
                .get("jwks")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            jwks_uri: o.get("jwks_uri").and_then(Value::as_str).map(str::to_owned),
            next_fetch_at: u("next_fetch_at"),
            failures: u32::try_from(u("failures")).unwrap_or(u32::MAX),
            lease_until: u("lease_until"),
            last_kid_refetch: o.get("last_kid_refetch").and_then(Value::as_u64),
            fetches: u("fetches"),
            completed: u("completed"),
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        json!({
            "version": self.version,
            "jwks": self.jwks,
            "jwks_uri": self.jwks_uri,
            "next_fetch_at": self.next_fetch_at,
            "failures": self.failures,
            "lease_until": self.lease_until,
            "last_kid_refetch": self.last_kid_refetch,
            "fetches": self.fetches,
            "completed": self.completed,
        })
        .to_string()
        .into_bytes()
    }

    /// Takes the fetch lease when a fetch is due: by schedule, or (`for_kid`) because a
    /// token named an unknown `kid` and the cooldown has passed. The caller writes the
    /// record back with compare-and-swap and fetches only if that write wins.
    pub fn take_lease(
        &mut self,
        now: u64,
        cfg: &RefreshConfig,
        lease_ms: u64,
        for_kid: bool,
    ) -> Result<(), NoLease> {
        if self.lease_until > now {
            return Err(NoLease::Leased(self.lease_until));
        }
        if for_kid && !self.jwks.is_empty() {
            let cooled = self
                .last_kid_refetch
                .is_none_or(|t| now >= t.saturating_add(cfg.kid_cooldown.saturating_mul(1000)));
            if !cooled {
                return Err(NoLease::NotDue);
            }
            self.last_kid_refetch = Some(now);
        } else if now < self.next_fetch_at {
            return Err(NoLease::NotDue);
        }
        self.lease_until = now.saturating_add(lease_ms);
        self.fetches = self.fetches.saturating_add(1);
        Ok(())
    }

    /// A fetch gave usable keys: schedule the next by `Cache-Control` (the core's clamping
    /// rules) and publish the keys if they changed. Returns the time to live in seconds.
    pub fn succeeded(
        &mut self,
        now: u64,
        cfg: &RefreshConfig,
        cache_control: Option<&str>,
        jwks: &str,
    ) -> u64 {
        let ttl = Refresher::new(*cfg).succeeded(0, cache_control);
        self.next_fetch_at = now.saturating_add(ttl.saturating_mul(1000));
        self.failures = 0;
        self.lease_until = 0;
        self.completed = self.completed.wrapping_add(1);
        if self.jwks != jwks {
            self.jwks = jwks.to_owned();
            self.version = self.version.saturating_add(1);
        }
        ttl
    }

    /// A fetch failed or gave garbage: keep the keys, back off exponentially (the core's
    /// schedule, resumed from the shared failure count), release the lease. Returns the
    /// delay in seconds.
    pub fn failed(&mut self, now: u64, cfg: &RefreshConfig) -> u64 {
        // The core's clock is seconds and the record's milliseconds: the core schedules
        // from 0 and only the delay it returns is used.
        let state = RefreshState {
            failures: self.failures,
            ..RefreshState::default()
        };
        let mut schedule = Refresher::with_state(*cfg, state);
        let delay = schedule.failed(0);
        self.failures = schedule.state().failures;
        self.next_fetch_at = now.saturating_add(delay.saturating_mul(1000));
        self.lease_until = 0;
        self.completed = self.completed.wrapping_add(1);
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RefreshConfig {
        RefreshConfig {
            kid_cooldown: 10,
            ..RefreshConfig::default()
        }
    }

    #[test]
    fn round_trip() {
        let r = Record {
            version: 3,
            jwks: "{\"keys\":[]}".into(),
            jwks_uri: Some("http://x/jwks".into()),
            next_fetch_at: 5,
            failures: 1,
            lease_until: 7,
            last_kid_refetch: Some(9),
            fetches: 2,
            completed: 1,
        };
        assert_eq!(Record::decode(&r.encode()), Some(r));
        assert_eq!(Record::decode(b"garbage"), None);
    }

    #[test]
    fn a_record_without_newer_fields_decodes_with_defaults() {
        // As written by an older build of the filter (no `completed`).
        let r = Record::decode(br#"{"version":2,"jwks":"k","fetches":4,"lease_until":9}"#)
            .expect("decodes");
        assert_eq!((r.version, r.fetches, r.completed), (2, 4, 0));
        assert_eq!(r.lease_until, 9);
        let r = Record::decode(br#"{"completed":"x","fetches":-1}"#).expect("decodes");
        assert_eq!((r.completed, r.fetches), (0, 0));
    }

    #[test]
    fn every_ended_fetch_is_counted_even_when_the_keys_are_unchanged() {
        let mut r = Record::default();
        assert_eq!(r.take_lease(0, &cfg(), 5000, false), Ok(()));
        assert_eq!(r.completed, 0, "a started fetch has not ended");
        r.succeeded(1000, &cfg(), Some("max-age=3600"), "k1");
        assert_eq!((r.version, r.completed), (1, 1));
        // An unknown-kid refetch bringing the same document: no new version, but it ended.
        assert_eq!(r.take_lease(2000, &cfg(), 5000, true), Ok(()));
        r.succeeded(3000, &cfg(), Some("max-age=3600"), "k1");
        assert_eq!((r.version, r.completed, r.lease_until), (1, 2, 0));
        // A failure ends a fetch too.
        r.failed(4000, &cfg());
        assert_eq!((r.version, r.completed), (1, 3));
        r.completed = u64::MAX;
        r.failed(5000, &cfg());
        assert_eq!(r.completed, 0, "wraps: only a change matters");
    }

    #[test]
    fn lease_is_single_flight_and_scheduled() {
        let mut r = Record::default();
        assert_eq!(r.take_lease(1000, &cfg(), 5000, false), Ok(()));
        assert_eq!(
            r.take_lease(2000, &cfg(), 5000, false),
            Err(NoLease::Leased(6000))
        );
        assert_eq!(r.succeeded(3000, &cfg(), Some("max-age=60"), "k1"), 60);
        assert_eq!(r.version, 1);
        assert_eq!(
            r.take_lease(4000, &cfg(), 5000, false),
            Err(NoLease::NotDue)
        );
        assert_eq!(r.take_lease(63_000, &cfg(), 5000, false), Ok(()));
        // Same keys again: no new version, so no worker re-parses.
        r.succeeded(64_000, &cfg(), None, "k1");
        assert_eq!(r.version, 1);
        assert_eq!(r.fetches, 2);
    }

    #[test]
    fn unknown_kid_refetch_has_a_cooldown() {
        let mut r = Record::default();
        r.succeeded(0, &cfg(), Some("max-age=3600"), "k1");
        assert_eq!(r.take_lease(1000, &cfg(), 5000, true), Ok(()));
        r.succeeded(2000, &cfg(), Some("max-age=3600"), "k2");
        assert_eq!(r.take_lease(5000, &cfg(), 5000, true), Err(NoLease::NotDue));
        assert_eq!(r.take_lease(11_000, &cfg(), 5000, true), Ok(()));
    }

    #[test]
    fn failures_back_off_and_keep_keys() {
        let mut r = Record::default();
        r.succeeded(0, &cfg(), None, "k1");
        assert_eq!(r.failed(0, &cfg()), 1);
        assert_eq!(r.failed(0, &cfg()), 2);
        assert_eq!(r.failed(0, &cfg()), 4);
        assert_eq!(r.jwks, "k1");
        assert_eq!(r.next_fetch_at, 4000);
        assert_eq!(r.failures, 3);
        // Capped at retry_max (300 s by default), however many failures are recorded.
        r.failures = 40;
        assert_eq!(r.failed(1000, &cfg()), 300);
        assert_eq!(r.next_fetch_at, 301_000);
        r.failures = u32::MAX;
        assert_eq!(r.failed(0, &cfg()), 300);
        assert_eq!(r.failures, u32::MAX);
        // A success resets the count.
        r.succeeded(0, &cfg(), None, "k1");
        assert_eq!(r.failed(0, &cfg()), 1);
    }
}
