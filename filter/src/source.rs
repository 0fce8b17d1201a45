//! The remote-key protocol as a sans-I/O state machine: where keys come from (a JWKS
//! URL, or an OIDC issuer's discovery document and then its `jwks_uri`), when to fetch
//! them (the [`Refresher`] schedule: `Cache-Control`, backoff, unknown-`kid` cooldown),
//! what a response means (status, size, discovery rules, a key set validated before it
//! is installed), and what survives a failure (the last good keys, always).
//!
//! The host owns the network and the clock. It asks [`KeySource::poll`] (or
//! [`KeySource::unknown_kid`]) for a [`Fetch`], performs the GET, and hands the answer to
//! [`KeySource::complete`] or the failure to [`KeySource::fail`]; the returned [`Step`]
//! says whether to fetch again at once (discovery done, JWKS next), whether new keys are
//! installed, and why a fetch failed. Requests waiting for keys are woken on any step
//! that is not [`Step::Fetch`].
//!
//! ```
//! use jwtgate::source::{KeySource, Origin, Step};
//! let mut src = KeySource::new(Origin::Jwks("https://idp.example/keys".into()), Default::default());
//! let fetch = src.poll(0).unwrap();
//! assert_eq!(fetch.uri, "https://idp.example/keys");
//! assert!(src.poll(0).is_none()); // single flight
//! # let jwks = include_bytes!("../tests/data/rfc7515-a2.jwks.json");
//! let step = src.complete(1, 200, jwks, Some("max-age=300"));
//! assert_eq!(step, Step::Installed { changed: true });
//! assert_eq!(src.version(), 1);
//! assert!(src.keys().is_some());
//! assert!(src.poll(300).is_none() && src.poll(301).is_some());
//! ```

use crate::discovery;
use crate::error::{err, Error};
use crate::jwks::{KeySet, KeySetLimits};
use crate::refresh::{RefreshConfig, Refresher};
use alloc::string::String;
use alloc::sync::Arc;

/// Where the keys come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A JWKS document at this URL.
    Jwks(String),
    /// An OpenID Provider: its discovery document at `discovery_uri`, whose `issuer`
    /// must equal `issuer` (OpenID Connect Discovery §4.3), names the `jwks_uri`.
    Discovery {
        /// The expected `issuer` of the discovery document.
        issuer: String,
        /// Usually `{issuer}/.well-known/openid-configuration`.
        discovery_uri: String,
    },
}

/// Limits and schedule of a [`KeySource`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceConfig {
    /// When to fetch (TTL bounds, backoff, unknown-`kid` cooldown, fetch timeout).
    pub refresh: RefreshConfig,
    /// Size and key-count limits of the JWKS; the discovery document gets the same size cap.
    pub limits: KeySetLimits,
}

/// Which document a fetch is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// The OpenID Connect discovery document.
    Discovery,
    /// The JWKS.
    Jwks,
}

/// A GET the host must perform (no redirects followed: the configured or discovered
/// URL is the only place keys come from).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetch {
    /// The URL.
    pub uri: String,
    /// What the answer will be read as.
    pub document: Document,
}

/// What a completed or failed fetch led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Perform this fetch now (the discovery document named the JWKS).
    Fetch(Fetch),
    /// A key set was validated and installed; `changed` is false when the document is
    /// the same as the installed one (the version stays).
    Installed {
        /// Whether the keys differ from the ones before.
        changed: bool,
    },
    /// The fetch failed; the keys before it (if any) stay installed, the next attempt
    /// backs off, and a discovery source rediscovers its `jwks_uri` first.
    Failed(Error),
    /// The answer belongs to no fetch in flight (late, or after a timeout): ignored.
    Stale,
}

/// The remote-key protocol of one issuer. See the module documentation.
#[derive(Clone, Debug)]
pub struct KeySource {
    origin: Origin,
    config: SourceConfig,
    schedule: Refresher,
    /// The discovered `jwks_uri`, forgotten after any failure.
    jwks_uri: Option<String>,
    /// The document being fetched, while a fetch is in flight.
    pending: Option<Document>,
    keys: Option<Arc<KeySet>>,
    document: Option<String>,
    version: u64,
    last_error: Option<Error>,
}

impl KeySource {
    /// A source with nothing fetched yet: the first [`KeySource::poll`] returns a fetch.
    pub fn new(origin: Origin, config: SourceConfig) -> KeySource {
        KeySource {
            origin,
            schedule: Refresher::new(config.refresh),
            config,
            jwks_uri: None,
            pending: None,
            keys: None,
            document: None,
            version: 0,
            last_error: None,
        }
    }

    /// The fetch to start now, if one is due and none is in flight (a fetch older than
    /// the configured fetch timeout counts as lost).
    pub fn poll(&mut self, now: u64) -> Option<Fetch> {
        if !self.schedule.due(now) {
            return None;
        }
        Some(self.fetch_now(now))
    }

    /// Starts a fetch now, whatever the schedule says, and forgets any fetch in flight (its
    /// answer would be taken for this one's: the host must drop it). For hosts that keep
    /// the schedule elsewhere, e.g. several workers sharing one schedule and a fetch lease.
    ///
    /// ```
    /// use jwtgate::source::{Document, KeySource, Origin};
    /// let mut src = KeySource::new(Origin::Jwks("https://idp.example/keys".into()), Default::default());
    /// assert_eq!(src.fetch_now(0).document, Document::Jwks);
    /// assert!(src.in_flight(0));
    /// ```
    pub fn fetch_now(&mut self, now: u64) -> Fetch {
        self.schedule.start(now);
        let fetch = match (&self.origin, &self.jwks_uri) {
            (Origin::Jwks(uri), _) | (Origin::Discovery { .. }, Some(uri)) => Fetch {
                uri: uri.clone(),
                document: Document::Jwks,
            },
            (Origin::Discovery { discovery_uri, .. }, None) => Fetch {
                uri: discovery_uri.clone(),
                document: Document::Discovery,
            },
        };
        self.pending = Some(fetch.document);
        fetch
    }

    /// A token named a `kid` the keys lack: the fetch to start, when the cooldown since
    /// the last such refetch has passed and none is in flight. While one is in flight,
    /// the host should wait for its [`Step`] instead.
    pub fn unknown_kid(&mut self, now: u64) -> Option<Fetch> {
        if self.schedule.in_flight(now) || !self.schedule.may_refetch_for_kid(now) {
            return None;
        }
        self.poll(now)
    }

    /// True while a fetch is in flight (waiting requests should wait for its step).
    pub fn in_flight(&self, now: u64) -> bool {
        self.pending.is_some() && self.schedule.in_flight(now)
    }

    /// The answer to the fetch in flight: HTTP `status`, the body, and the response's
    /// `Cache-Control` value.
    pub fn complete(
        &mut self,
        now: u64,
        status: u16,
        body: &[u8],
        cache_control: Option<&str>,
    ) -> Step {
        let Some(document) = self.pending.take() else {
            return Step::Stale;
        };
        if status != 200 {
            let what = match document {
                Document::Discovery => "discovery document",
                Document::Jwks => "JWKS",
            };
            let why = if (300..400).contains(&status) {
                " (redirects are not followed)"
            } else {
                ""
            };
            return self.failed(
                now,
                err!(JwksFetchFailed, "{what} answered HTTP {status}{why}"),
            );
        }
        match document {
            Document::Discovery => self.discovered(now, body),
            Document::Jwks => self.install(now, body, cache_control),
        }
    }

    /// The fetch in flight failed before an answer (connection refused, timeout, reset);
    /// `why` is the host's description, kept short and ASCII in the error.
    pub fn fail(&mut self, now: u64, why: &str) -> Step {
        if self.pending.take().is_none() {
            return Step::Stale;
        }
        let why = crate::error::excerpt(why);
        self.failed(now, err!(JwksFetchFailed, "key fetch failed: {why}"))
    }

    /// Installs a key set the host kept from an earlier run (a KV store), as if fetched at
    /// `fetched_at` with this `Cache-Control`, so the same freshness rules apply. Ignored
    /// (returns false) when keys are already installed or the document does not load.
    pub fn restore(&mut self, fetched_at: u64, jwks: &str, cache_control: Option<&str>) -> bool {
        if self.keys.is_some() {
            return false;
        }
        let Ok(keys) = KeySet::from_jwks_with(jwks.as_bytes(), &self.config.limits) else {
            return false;
        };
        self.schedule.succeeded(fetched_at, cache_control);
        self.set(keys, jwks);
        true
    }

    /// Installs a JWKS document that another instance of this source fetched (shared
    /// state between workers), validated exactly as a fetched one; the schedule is left
    /// alone. `Ok(true)` when the keys changed (the version is bumped); on `Err` the keys
    /// before stay.
    ///
    /// ```
    /// use jwtgate::source::{KeySource, Origin};
    /// let mut src = KeySource::new(Origin::Jwks("https://idp.example/keys".into()), Default::default());
    /// # let jwks = core::str::from_utf8(include_bytes!("../tests/data/rfc7515-a2.jwks.json")).unwrap();
    /// assert_eq!(src.adopt(jwks), Ok(true));
    /// assert_eq!(src.adopt(jwks), Ok(false));
    /// assert!(src.adopt("{}").is_err() && src.version() == 1);
    /// ```
    pub fn adopt(&mut self, jwks: &str) -> Result<bool, Error> {
        if self.document.as_deref() == Some(jwks) {
            return Ok(false);
        }
        let keys = KeySet::from_jwks_with(jwks.as_bytes(), &self.config.limits)?;
        self.set(keys, jwks);
        Ok(true)
    }

    /// The `jwks_uri` the discovery document named, until a failure makes it rediscover.
    pub fn jwks_uri(&self) -> Option<&str> {
        self.jwks_uri.as_deref()
    }

    /// Sets (or forgets) the discovered `jwks_uri`, as learnt by another instance of this
    /// source, so that the next fetch goes straight to the JWKS. Ignored for a source
    /// configured with a JWKS URL.
    pub fn set_jwks_uri(&mut self, uri: Option<String>) {
        if matches!(self.origin, Origin::Discovery { .. }) {
            self.jwks_uri = uri;
        }
    }

    /// The installed keys: the last good set, kept through any failure.
    pub fn keys(&self) -> Option<&Arc<KeySet>> {
        self.keys.as_ref()
    }

    /// The installed JWKS document, as fetched (for hosts that store it).
    pub fn document(&self) -> Option<&str> {
        self.document.as_deref()
    }

    /// Bumped each time different keys are installed (0: none yet).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Why the last fetch failed, until one succeeds.
    pub fn last_error(&self) -> Option<&Error> {
        self.last_error.as_ref()
    }

    /// The schedule (next fetch time, consecutive failures).
    pub fn schedule(&self) -> &Refresher {
        &self.schedule
    }

    fn discovered(&mut self, now: u64, body: &[u8]) -> Step {
        let Origin::Discovery { issuer, .. } = &self.origin else {
            return Step::Stale;
        };
        if body.len() > self.config.limits.max_bytes {
            let e = err!(
                BadDiscovery,
                "discovery document is {} bytes, the limit is {}",
                body.len(),
                self.config.limits.max_bytes
            );
            return self.failed(now, e);
        }
        match discovery::jwks_uri(body, Some(issuer)) {
            Ok(uri) => {
                self.jwks_uri = Some(uri.clone());
                self.pending = Some(Document::Jwks);
                // The JWKS fetch continues this attempt: the schedule's start time stays.
                Step::Fetch(Fetch {
                    uri,
                    document: Document::Jwks,
                })
            }
            Err(e) => self.failed(now, e),
        }
    }

    fn install(&mut self, now: u64, body: &[u8], cache_control: Option<&str>) -> Step {
        let text = match core::str::from_utf8(body) {
            Ok(t) => t,
            Err(_) => return self.failed(now, err!(JwksMalformed, "JWKS: not UTF-8")),
        };
        // Validated before anything changes: a bad document never replaces good keys.
        match KeySet::from_jwks_with(body, &self.config.limits) {
            Ok(keys) => {
                self.schedule.succeeded(now, cache_control);
                self.last_error = None;
                let changed = self.document.as_deref() != Some(text);
                if changed {
                    self.set(keys, text);
                }
                Step::Installed { changed }
            }
            Err(e) => self.failed(now, e),
        }
    }

    fn set(&mut self, keys: KeySet, text: &str) {
        self.keys = Some(Arc::new(keys));
        self.document = Some(String::from(text));
        self.version = self.version.wrapping_add(1);
    }

    fn failed(&mut self, now: u64, e: Error) -> Step {
        self.schedule.failed(now);
        // The jwks_uri itself may have moved: rediscover on the next attempt.
        self.jwks_uri = None;
        self.pending = None;
        self.last_error = Some(e.clone());
        Step::Failed(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use alloc::vec::Vec;

    const JWKS_A: &[u8] = include_bytes!("../tests/data/rfc7515-a2.jwks.json");
    const JWKS_B: &[u8] = include_bytes!("../tests/data/rfc7520-4.1.jwks.json");
    const ISS: &str = "https://idp.example";

    fn disco(jwks_uri: &str) -> Vec<u8> {
        alloc::format!(r#"{{"issuer":"{ISS}","jwks_uri":"{jwks_uri}"}}"#).into_bytes()
    }

    fn config() -> SourceConfig {
        SourceConfig {
            refresh: RefreshConfig {
                default_ttl: 600,
                min_ttl: 30,
                max_ttl: 86_400,
                retry_initial: 1,
                retry_max: 8,
                kid_cooldown: 30,
                fetch_timeout: 5,
            },
            limits: KeySetLimits::default(),
        }
    }

    fn discovery_source() -> KeySource {
        KeySource::new(
            Origin::Discovery {
                issuer: ISS.into(),
                discovery_uri: alloc::format!("{ISS}/.well-known/openid-configuration"),
            },
            config(),
        )
    }

    #[test]
    fn a_source_can_live_in_shared_state() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<KeySource>();
    }

    #[test]
    fn discovery_then_jwks_then_refresh_by_cache_control() {
        let mut s = discovery_source();
        let f = s.poll(0).unwrap();
        assert_eq!(f.document, Document::Discovery);
        let Step::Fetch(f) = s.complete(0, 200, &disco("https://keys.example/jwks"), None) else {
            panic!("discovery should lead to the JWKS");
        };
        assert_eq!(f.uri, "https://keys.example/jwks");
        assert!(s.poll(1).is_none(), "the JWKS fetch is in flight");
        assert_eq!(
            s.complete(1, 200, JWKS_A, Some("public, max-age=120")),
            Step::Installed { changed: true }
        );
        // The next refresh goes straight to the known jwks_uri.
        assert!(s.poll(120).is_none());
        assert_eq!(s.poll(121).unwrap().document, Document::Jwks);
        assert_eq!(
            s.complete(121, 200, JWKS_A, None),
            Step::Installed { changed: false }
        );
        assert_eq!(s.version(), 1);
    }

    #[test]
    fn failures_keep_the_last_good_keys_back_off_and_rediscover() {
        let mut s = discovery_source();
        s.poll(0).unwrap();
        s.complete(0, 200, &disco("https://keys.example/jwks"), None);
        s.complete(0, 200, JWKS_A, None);
        let good = s.keys().cloned();
        // Refresh due at 600: the JWKS answers garbage, then 500, then the connection fails.
        assert_eq!(s.poll(600).unwrap().document, Document::Jwks);
        let Step::Failed(e) = s.complete(600, 200, b"\0garbage", None) else {
            panic!("garbage must fail");
        };
        assert_eq!(e.code(), ErrorCode::JwksMalformed);
        assert!(Arc::ptr_eq(s.keys().unwrap(), good.as_ref().unwrap()));
        // Backoff 1 s, then 2 s; each attempt rediscovers first.
        assert!(s.poll(600).is_none());
        assert_eq!(s.poll(601).unwrap().document, Document::Discovery);
        let Step::Failed(e) = s.complete(601, 500, b"", None) else {
            panic!("500 must fail");
        };
        assert_eq!(e.code(), ErrorCode::JwksFetchFailed);
        assert!(s.poll(602).is_none());
        assert_eq!(s.poll(603).unwrap().document, Document::Discovery);
        assert!(matches!(s.fail(603, "connection refused"), Step::Failed(_)));
        assert_eq!(s.schedule().failures(), 3);
        assert!(s
            .last_error()
            .unwrap()
            .reason()
            .contains("connection refused"));
        assert!(Arc::ptr_eq(s.keys().unwrap(), good.as_ref().unwrap()));
        assert_eq!(s.version(), 1);
        // Recovery with other keys: installed, version bumped, error cleared.
        s.poll(607).unwrap();
        s.complete(607, 200, &disco("https://keys.example/jwks2"), None);
        assert_eq!(
            s.complete(607, 200, JWKS_B, None),
            Step::Installed { changed: true }
        );
        assert_eq!(s.version(), 2);
        assert!(s.last_error().is_none());
        assert_eq!(s.schedule().failures(), 0);
    }

    #[test]
    fn discovery_rules_and_redirects() {
        let mut s = discovery_source();
        s.poll(0).unwrap();
        let foreign = br#"{"issuer":"https://evil.example","jwks_uri":"https://evil.example/k"}"#;
        let Step::Failed(e) = s.complete(0, 200, foreign, None) else {
            panic!("a foreign issuer must fail");
        };
        assert_eq!(e.code(), ErrorCode::BadDiscovery);
        s.poll(1).unwrap();
        let Step::Failed(e) = s.complete(1, 302, b"", None) else {
            panic!("a redirect must fail");
        };
        assert!(e.reason().contains("redirects are not followed"));
        assert!(s.keys().is_none());
    }

    #[test]
    fn unknown_kid_refetches_respect_the_cooldown_and_single_flight() {
        let mut s = KeySource::new(Origin::Jwks("https://k".into()), config());
        s.poll(0).unwrap();
        s.complete(0, 200, JWKS_A, None);
        assert!(s.unknown_kid(10).is_some());
        assert!(s.in_flight(10));
        assert!(s.unknown_kid(10).is_none(), "in flight: wait for it");
        s.complete(11, 200, JWKS_B, None);
        assert!(s.unknown_kid(20).is_none(), "cooldown");
        assert!(s.unknown_kid(40).is_some());
    }

    #[test]
    fn a_lost_fetch_times_out_and_its_late_answer_is_ignored() {
        let mut s = KeySource::new(Origin::Jwks("https://k".into()), config());
        s.poll(0).unwrap();
        assert!(s.poll(4).is_none());
        assert!(s.poll(5).is_some(), "fetch_timeout passed: a new attempt");
        assert_eq!(
            s.complete(6, 200, JWKS_A, None),
            Step::Installed { changed: true }
        );
        assert_eq!(s.complete(7, 200, JWKS_B, None), Step::Stale);
        assert_eq!(s.fail(7, "late"), Step::Stale);
        assert_eq!(s.version(), 1);
    }

    #[test]
    fn a_shared_schedule_drives_fetches_and_shares_the_jwks_uri_and_keys() {
        // Worker A discovers; worker B, told the jwks_uri, goes straight to the JWKS.
        let mut a = discovery_source();
        assert_eq!(a.fetch_now(0).document, Document::Discovery);
        a.complete(0, 200, &disco("https://keys.example/jwks"), None);
        assert_eq!(a.jwks_uri(), Some("https://keys.example/jwks"));
        let mut b = discovery_source();
        b.set_jwks_uri(a.jwks_uri().map(String::from));
        let f = b.fetch_now(0);
        assert_eq!(
            (f.uri.as_str(), f.document),
            ("https://keys.example/jwks", Document::Jwks)
        );
        // A failure forgets it; a fetch_now forgets a fetch in flight.
        assert!(matches!(b.fail(1, "reset"), Step::Failed(_)));
        assert_eq!(b.jwks_uri(), None);
        assert_eq!(b.fetch_now(2).document, Document::Discovery);
        assert_eq!(b.fetch_now(2).document, Document::Discovery);
        // Keys fetched by A are adopted by B after the same validation.
        a.complete(0, 200, JWKS_A, None);
        let text = core::str::from_utf8(JWKS_A).unwrap();
        assert_eq!(b.adopt(a.document().unwrap()), Ok(true));
        assert_eq!(b.adopt(text), Ok(false));
        assert_eq!(
            b.adopt("{\"keys\":1}").map_err(|e| e.code()),
            Err(ErrorCode::JwksMalformed)
        );
        assert_eq!(b.version(), 1);
        // A JWKS-URL source has no jwks_uri to set.
        let mut c = KeySource::new(Origin::Jwks("https://k".into()), config());
        c.set_jwks_uri(Some("https://elsewhere".into()));
        assert_eq!(c.fetch_now(0).uri, "https://k");
    }

    #[test]
    fn size_limits_and_restore() {
        let limits = KeySetLimits {
            max_bytes: 64,
            max_keys: 100,
        };
        let mut s = KeySource::new(
            Origin::Jwks("https://k".into()),
            SourceConfig { limits, ..config() },
        );
        s.poll(0).unwrap();
        let Step::Failed(e) = s.complete(0, 200, JWKS_A, None) else {
            panic!("too large");
        };
        assert_eq!(e.code(), ErrorCode::JwksTooLarge);
        let mut s = KeySource::new(Origin::Jwks("https://k".into()), config());
        let text = core::str::from_utf8(JWKS_A).unwrap();
        assert!(!s.restore(100, "not json", None));
        assert!(s.restore(100, text, Some("max-age=60")));
        assert_eq!(s.version(), 1);
        assert!(s.poll(159).is_none() && s.poll(160).is_some());
        assert!(!s.restore(100, text, None), "keys are installed already");
    }
}
