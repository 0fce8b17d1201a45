//! When to fetch a remote JWKS: a sans-I/O schedule shared by every host, so the
//! Envoy filter and the JS package refresh, back off and refetch identically.
//!
//! The host owns the I/O and the clock; it asks [`Refresher::due`], starts a fetch,
//! and reports [`Refresher::succeeded`] (with the response's `Cache-Control`) or
//! [`Refresher::failed`]. A failed fetch never touches the keys the host already has.
//!
//! ```
//! use jwtgate::refresh::{RefreshConfig, Refresher};
//! let mut r = Refresher::new(RefreshConfig::default());
//! assert!(r.due(0));
//! r.start(0);
//! assert!(!r.due(0)); // single flight
//! assert_eq!(r.succeeded(1, Some("public, max-age=3600")), 3600);
//! assert!(!r.due(3600) && r.due(3601));
//! ```

/// The knobs of the schedule, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshConfig {
    /// Time to live when the response has no usable `Cache-Control` (default 600, like `jwt_authn`).
    pub default_ttl: u64,
    /// Lower bound applied to `max-age` (default 30): a misbehaving IdP cannot make us hammer it.
    pub min_ttl: u64,
    /// Upper bound applied to `max-age` (default 86,400): rotations are noticed within a day.
    pub max_ttl: u64,
    /// First retry delay after a failure (default 1); doubles per consecutive failure.
    pub retry_initial: u64,
    /// Longest retry delay (default 300).
    pub retry_max: u64,
    /// Least time between two refetches caused by an unknown `kid` (default 30).
    pub kid_cooldown: u64,
    /// An in-flight fetch older than this is considered lost (default 15).
    pub fetch_timeout: u64,
}

impl Default for RefreshConfig {
    fn default() -> RefreshConfig {
        RefreshConfig {
            default_ttl: 600,
            min_ttl: 30,
            max_ttl: 86_400,
            retry_initial: 1,
            retry_max: 300,
            kid_cooldown: 30,
            fetch_timeout: 15,
        }
    }
}

/// The refresh state as plain data, for hosts that keep it outside the [`Refresher`]
/// (the Envoy filter shares it between worker VMs through shared data).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshState {
    /// When the next scheduled fetch is due.
    pub next_fetch_at: u64,
    /// Consecutive failures since the last success.
    pub failures: u32,
    /// When the fetch in flight started, if one is.
    pub in_flight_since: Option<u64>,
    /// When the last unknown-`kid` refetch was allowed.
    pub last_kid_refetch: Option<u64>,
}

/// The refresh state of one key source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refresher {
    config: RefreshConfig,
    next_at: u64,
    failures: u32,
    in_flight_since: Option<u64>,
    last_kid_refetch: Option<u64>,
}

impl Refresher {
    /// A schedule that is due at once.
    pub fn new(config: RefreshConfig) -> Refresher {
        Refresher {
            config,
            next_at: 0,
            failures: 0,
            in_flight_since: None,
            last_kid_refetch: None,
        }
    }

    /// Resumes a schedule from state saved with [`Refresher::state`].
    ///
    /// ```
    /// use jwtgate::refresh::{RefreshConfig, Refresher};
    /// let mut a = Refresher::new(RefreshConfig::default());
    /// a.failed(100);
    /// let b = Refresher::with_state(RefreshConfig::default(), a.state());
    /// assert_eq!(a, b);
    /// ```
    pub fn with_state(config: RefreshConfig, state: RefreshState) -> Refresher {
        Refresher {
            config,
            next_at: state.next_fetch_at,
            failures: state.failures,
            in_flight_since: state.in_flight_since,
            last_kid_refetch: state.last_kid_refetch,
        }
    }

    /// The state as plain data.
    pub fn state(&self) -> RefreshState {
        RefreshState {
            next_fetch_at: self.next_at,
            failures: self.failures,
            in_flight_since: self.in_flight_since,
            last_kid_refetch: self.last_kid_refetch,
        }
    }

    /// True when a fetch should start now: its time has come and none is in flight.
    pub fn due(&self, now: u64) -> bool {
        !self.in_flight(now) && now >= self.next_at
    }

    /// True while a started fetch has neither finished nor timed out.
    pub fn in_flight(&self, now: u64) -> bool {
        matches!(self.in_flight_since, Some(t) if now < t.saturating_add(self.config.fetch_timeout))
    }

    /// Records that a fetch started.
    pub fn start(&mut self, now: u64) {
        self.in_flight_since = Some(now);
    }

    /// Records a fetch that produced usable keys; returns the time to live chosen
    /// from `Cache-Control` (`s-maxage`, else `max-age`, `no-cache`/`no-store` as 0),
    /// clamped to the configured bounds.
    pub fn succeeded(&mut self, now: u64, cache_control: Option<&str>) -> u64 {
        let ttl = cache_control
            .and_then(max_age)
            .unwrap_or(self.config.default_ttl)
            .clamp(
                self.config.min_ttl,
                self.config.max_ttl.max(self.config.min_ttl),
            );
        self.failures = 0;
        self.in_flight_since = None;
        self.next_at = now.saturating_add(ttl);
        ttl
    }

    /// Records a failed fetch (transport error, non-2xx, or a body that gave no usable
    /// keys); returns the delay before the next attempt (exponential backoff).
    pub fn failed(&mut self, now: u64) -> u64 {
        self.failures = self.failures.saturating_add(1);
        let shift = self.failures.saturating_sub(1).min(32);
        let delay = self
            .config
            .retry_initial
            .max(1)
            .checked_shl(shift)
            .unwrap_or(u64::MAX)
            .min(self.config.retry_max.max(1));
        self.in_flight_since = None;
        self.next_at = now.saturating_add(delay);
        delay
    }

    /// A token named a `kid` the keys lack: returns true (and makes a fetch due now)
    /// when the cooldown since the last such refetch has passed. When a fetch is
    /// already in flight the host should wait for it instead of starting another.
    pub fn may_refetch_for_kid(&mut self, now: u64) -> bool {
        let cooled = match self.last_kid_refetch {
            Some(t) => now >= t.saturating_add(self.config.kid_cooldown),
            None => true,
        };
        if cooled {
            self.last_kid_refetch = Some(now);
            self.next_at = self.next_at.min(now);
        }
        cooled
    }

    /// When the next scheduled fetch is due.
    pub fn next_fetch_at(&self) -> u64 {
        self.next_at
    }

    /// Consecutive failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// The freshness lifetime a `Cache-Control` value grants a shared cache, in seconds:
/// `s-maxage` wins over `max-age`; `no-cache` and `no-store` mean 0. `None` when
/// the value says nothing usable.
///
/// ```
/// assert_eq!(jwtgate::refresh::max_age("public, max-age=300"), Some(300));
/// assert_eq!(jwtgate::refresh::max_age("max-age=300, s-maxage=60"), Some(60));
/// assert_eq!(jwtgate::refresh::max_age("no-store"), Some(0));
/// assert_eq!(jwtgate::refresh::max_age("max-age=abc"), None);
/// ```
pub fn max_age(cache_control: &str) -> Option<u64> {
    let mut max_age = None;
    let mut s_maxage = None;
    for directive in cache_control.split(',') {
        let directive = directive.trim();
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (directive, None),
        };
        let seconds = || {
            value
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .map(parse_saturating)
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(0);
        } else if name.eq_ignore_ascii_case("max-age") {
            max_age = max_age.or_else(seconds);
        } else if name.eq_ignore_ascii_case("s-maxage") {
            s_maxage = s_maxage.or_else(seconds);
        }
    }
    s_maxage.or(max_age)
}

fn parse_saturating(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_clamped() {
        let mut r = Refresher::new(RefreshConfig::default());
        assert_eq!(r.succeeded(0, Some("max-age=1")), 30);
        assert_eq!(
            r.succeeded(0, Some("max-age=99999999999999999999999")),
            86_400
        );
        assert_eq!(r.succeeded(0, None), 600);
        assert_eq!(r.succeeded(0, Some("private")), 600);
    }

    #[test]
    fn backoff_doubles_then_caps_and_success_resets() {
        let mut r = Refresher::new(RefreshConfig::default());
        let delays: alloc::vec::Vec<u64> = (0..12).map(|_| r.failed(100)).collect();
        assert_eq!(&delays[..10], &[1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(r.failures(), 12);
        for _ in 0..100 {
            r.failed(0);
        }
        r.succeeded(0, None);
        assert_eq!(r.failures(), 0);
        assert_eq!(r.failed(0), 1);
    }

    #[test]
    fn single_flight_with_timeout() {
        let mut r = Refresher::new(RefreshConfig::default());
        r.start(10);
        assert!(r.in_flight(24) && !r.due(24));
        assert!(!r.in_flight(25) && r.due(25));
    }

    #[test]
    fn unknown_kid_refetch_has_a_cooldown() {
        let mut r = Refresher::new(RefreshConfig::default());
        r.succeeded(0, Some("max-age=3600"));
        assert!(!r.due(100));
        assert!(r.may_refetch_for_kid(100));
        assert!(r.due(100));
        r.start(100);
        r.succeeded(101, Some("max-age=3600"));
        assert!(!r.may_refetch_for_kid(110));
        assert!(!r.due(110));
        assert!(r.may_refetch_for_kid(130));
    }

    #[test]
    fn cache_control_forms() {
        assert_eq!(max_age("MAX-AGE=\"60\""), Some(60));
        assert_eq!(max_age("max-age=-1"), None);
        assert_eq!(max_age("max-age="), None);
        assert_eq!(max_age(""), None);
        assert_eq!(max_age("no-cache, max-age=60"), Some(0));
    }
}
