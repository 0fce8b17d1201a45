//! One remote key source as one worker VM sees it. The core's [`source::KeySource`] runs
//! the protocol of a fetch (discovery document, then the JWKS; status, size and discovery
//! rules; the key set validated before it is installed; the last good keys kept through
//! any failure). Around it, what Envoy's workers share: the [`Record`] in shared data,
//! written with compare-and-swap, holds the schedule and a fetch lease so that one worker
//! fetches for all, the discovered `jwks_uri`, and the last good JWKS for the others to
//! adopt.
//!
//! Times are the host's milliseconds; the core's source is given seconds.

use crate::config::{Remote, Url};
use crate::keys::{NoLease, Record};
use crate::metrics::Stats;
use crate::ports::{Host, SetShared};
use jwtgate::source::{self, Origin, SourceConfig, Step};
use jwtgate::KeySet;
use std::sync::Arc;

/// Writing with this CAS to an absent key creates it, and fails if another worker created
/// it first (the host only accepts a non-zero CAS equal to the current one): an atomic
/// create for the first lease.
pub const CREATE_CAS: u32 = u32::MAX;
/// Largest JWKS or discovery response read from the host.
pub const MAX_BODY: usize = 1 << 20;

/// How a fetch's answer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Discovery done, the JWKS fetch is in flight: waiters keep waiting.
    Continues,
    /// Keys installed (new or the same as before).
    Installed,
    /// The fetch failed; the last good keys stay.
    Failed,
}

/// This VM's view of one remote key source.
pub struct Provider {
    /// Position in the configuration (for logs).
    pub index: usize,
    pub remote: Remote,
    /// Shared-data key: provider name plus a hash of where the keys come from, so that
    /// listeners configured alike share one fetch and a changed URL starts afresh.
    pub key: String,
    source: source::KeySource,
    seen_cas: Option<u32>,
    /// The record's key version this worker last adopted (or published).
    version: u64,
    /// The callout in flight from this worker: its token, and when its lease ends.
    inflight: Option<(u32, u64)>,
    /// The record's count of ended fetches when this worker last read it.
    pub completed: u64,
}

impl Provider {
    pub fn new(index: usize, name: &str, remote: &Remote) -> Provider {
        let key = format!(
            "jwtgate.keys.{name}.{:016x}",
            fnv(&[
                remote.cluster.as_bytes(),
                remote.uri.authority.as_bytes(),
                remote.uri.path.as_bytes(),
                remote.discovery_issuer.as_deref().unwrap_or("").as_bytes()
            ])
        );
        let uri = format!(
            "{}://{}{}",
            remote.uri.scheme, remote.uri.authority, remote.uri.path
        );
        let origin = match &remote.discovery_issuer {
            Some(issuer) => Origin::Discovery {
                issuer: issuer.clone(),
                discovery_uri: uri,
            },
            None => Origin::Jwks(uri),
        };
        let config = SourceConfig {
            refresh: remote.refresh,
            ..SourceConfig::default()
        };
        Provider {
            index,
            remote: remote.clone(),
            key,
            source: source::KeySource::new(origin, config),
            seen_cas: None,
            version: 0,
            inflight: None,
            completed: 0,
        }
    }

    /// The last good keys this worker has.
    pub fn keys(&self) -> Option<&Arc<KeySet>> {
        self.source.keys()
    }

    /// A configuration push rebuilt this source with the same shared-data key: it keeps
    /// the fetch this worker has in flight, so that its answer is applied when it comes
    /// (its lease in the record still stands, so no other fetch could start before it
    /// ends). Keys come again from the shared record.
    pub fn carry_from(&mut self, old: Provider) {
        self.inflight = old.inflight;
        self.completed = old.completed;
        self.source = old.source;
    }

    /// Whether `token` is this worker's callout for this source.
    pub fn owns(&self, token: u32) -> bool {
        self.inflight.is_some_and(|(t, _)| t == token)
    }

    /// True (and forgotten) when `token` is this worker's callout for this source.
    pub fn take_token(&mut self, token: u32) -> bool {
        if self.inflight.is_some_and(|(t, _)| t == token) {
            self.inflight = None;
            return true;
        }
        false
    }

    /// The end of this worker's in-flight fetch, if it is still live. A callout made from a
    /// request whose client left is cancelled by Envoy without a callback; past its lease it
    /// is forgotten, so that this worker can fetch again.
    pub fn live_inflight(&mut self, now: u64) -> Option<u64> {
        match self.inflight {
            Some((_, until)) if until > now => Some(until),
            Some(_) => {
                self.inflight = None;
                None
            }
            None => None,
        }
    }

    pub fn lease_ms(&self) -> u64 {
        lease_ms(self.remote.timeout_ms)
    }

    /// Re-reads the shared record; adopts its keys when their version changed. True when
    /// keys were adopted (the caller hands them to the gate).
    pub fn sync(&mut self, host: &impl Host) -> bool {
        let (bytes, cas) = host.get_shared(&self.key).unwrap_or((None, None));
        if cas.is_some() && cas == self.seen_cas {
            return false;
        }
        self.seen_cas = cas;
        let Some(rec) = bytes.as_deref().and_then(Record::decode) else {
            return false;
        };
        self.completed = rec.completed;
        if rec.version == self.version || rec.jwks.is_empty() {
            return false;
        }
        self.version = rec.version;
        let i = self.index;
        match self.source.adopt(&rec.jwks) {
            Ok(_) => {
                log::info!(
                    "jwtgate: provider {i}: keys version {} from shared data ({} keys)",
                    rec.version,
                    self.source.keys().map_or(0, |k| k.len())
                );
                true
            }
            Err(e) => {
                log::warn!("jwtgate: provider {i}: shared keys unusable: {e}");
                false
            }
        }
    }

    /// Starts a fetch if this worker wins the lease: by schedule, or (`for_kid`) because a
    /// token named an unknown `kid` and the cooldown has passed.
    pub fn start_fetch(
        &mut self,
        host: &impl Host,
        now: u64,
        for_kid: bool,
        stats: &mut Stats,
    ) -> Result<(), Option<NoLease>> {
        if let Some(until) = self.live_inflight(now) {
            return Err(Some(NoLease::Leased(until)));
        }
        let cfg = self.remote.refresh;
        let lease = self.lease_ms();
        let mut completed = None;
        let taken = update_record(host, &self.key, &mut |r| {
            completed = Some(r.completed);
            r.take_lease(now, &cfg, lease, for_kid)
        });
        if let Some(c) = completed {
            // The newest count this worker has read: a request that now joins the fetch in
            // flight waits for the count to move from here.
            self.completed = c;
        }
        let rec = taken?;
        log::debug!(
            "jwtgate: provider {}: fetching keys (fetch #{})",
            self.index,
            rec.fetches
        );
        // Straight to the JWKS when some worker discovered its URL.
        self.source.set_jwks_uri(rec.jwks_uri);
        let fetch = self.source.fetch_now(now / 1000);
        self.send(host, now, &fetch.uri, stats).map_err(|()| None)
    }

    fn send(&mut self, host: &impl Host, now: u64, uri: &str, stats: &mut Stats) -> Result<(), ()> {
        let r = &self.remote;
        let sent = match Url::parse(uri) {
            Some(url) => host.dispatch_get(&r.cluster, &url, r.timeout_ms),
            None => Err(0),
        };
        match sent {
            Ok(token) => {
                self.inflight = Some((token, now.saturating_add(self.lease_ms())));
                Ok(())
            }
            Err(e) => {
                log::warn!(
                    "jwtgate: provider {}: cannot call cluster {}: status {e}",
                    self.index,
                    r.cluster
                );
                self.source.fail(now / 1000, "the host refused the call");
                self.failed(host, now, stats);
                Err(())
            }
        }
    }

    /// The answer to this worker's fetch (the caller matched its token): the `:status`
    /// (empty when the host reset or timed the call out), the body (`None` when over
    /// [`MAX_BODY`]) and the `Cache-Control` value.
    pub fn on_response(
        &mut self,
        host: &impl Host,
        now: u64,
        status: &str,
        body: Option<&[u8]>,
        cache_control: Option<&str>,
        stats: &mut Stats,
    ) -> Ended {
        let i = self.index;
        let secs = now / 1000;
        let step = match (status.parse::<u16>(), body) {
            (Ok(code), Some(body)) => self.source.complete(secs, code, body, cache_control),
            (Ok(code), None) if code != 200 => self.source.complete(secs, code, b"", None),
            (Ok(_), None) => self.source.fail(secs, "the answer is over 1 MiB"),
            (Err(_), _) if status.is_empty() => self.source.fail(secs, "no response"),
            (Err(_), _) => self.source.fail(secs, "no valid :status"),
        };
        match step {
            Step::Fetch(fetch) => {
                let uri = fetch.uri;
                if Url::parse(&uri).is_none() {
                    log::warn!("jwtgate: provider {i}: discovery jwks_uri is not an http(s) URL");
                    self.source.fail(secs, "jwks_uri is not an http(s) URL");
                    self.failed(host, now, stats);
                    return Ended::Failed;
                }
                log::info!("jwtgate: provider {i}: discovery gives jwks_uri {uri}");
                let shared = update_record(host, &self.key, &mut |r| {
                    r.jwks_uri = Some(uri.clone());
                    Ok(())
                });
                if shared.is_err() {
                    self.source.fail(secs, "shared data write failed");
                    self.failed(host, now, stats);
                    return Ended::Failed;
                }
                match self.send(host, now, &uri, stats) {
                    Ok(()) => Ended::Continues,
                    Err(()) => Ended::Failed,
                }
            }
            Step::Installed { .. } => {
                let Some(text) = self.source.document().map(str::to_owned) else {
                    return Ended::Failed;
                };
                let cfg = self.remote.refresh;
                let mut ttl = 0;
                let published = update_record(host, &self.key, &mut |r| {
                    ttl = r.succeeded(now, &cfg, cache_control, &text);
                    Ok(())
                });
                log::info!(
                    "jwtgate: provider {i}: fetched {} keys; next refresh in {ttl}s",
                    self.source.keys().map_or(0, |k| k.len())
                );
                if let Ok(rec) = published {
                    self.version = rec.version;
                }
                stats.fetch_ok += 1;
                Ended::Installed
            }
            Step::Failed(e) => {
                log::warn!(
                    "jwtgate: provider {i}: key fetch answered {:?} ({} bytes): {e}",
                    if status.is_empty() {
                        "no response"
                    } else {
                        status
                    },
                    body.map_or(0, <[u8]>::len)
                );
                self.failed(host, now, stats);
                Ended::Failed
            }
            // Not expected (the token matched): release the lease all the same.
            Step::Stale => {
                self.failed(host, now, stats);
                Ended::Failed
            }
        }
    }

    /// Records a failed fetch: back off, release the lease, rediscover next time.
    fn failed(&mut self, host: &impl Host, now: u64, stats: &mut Stats) {
        let cfg = self.remote.refresh;
        let discovery = self.remote.discovery_issuer.is_some();
        stats.fetch_failed += 1;
        let delay = update_record(host, &self.key, &mut |r| {
            r.failed(now, &cfg);
            if discovery {
                // The JWKS URL may have moved: rediscover next time.
                r.jwks_uri = None;
            }
            Ok(())
        })
        .map(|r| r.next_fetch_at.saturating_sub(now) / 1000);
        log::warn!(
            "jwtgate: provider {}: key fetch failed; {}; next attempt in {}s",
            self.index,
            if self.source.keys().is_some() {
                "keeping the last good keys"
            } else {
                "no keys yet, requests are refused"
            },
            delay.unwrap_or(0)
        );
    }
}

/// Read-modify-write of a shared record with compare-and-swap, retried on conflict.
pub fn update_record(
    host: &impl Host,
    key: &str,
    f: &mut dyn FnMut(&mut Record) -> Result<(), NoLease>,
) -> Result<Record, Option<NoLease>> {
    for _ in 0..8 {
        let (bytes, cas) = host.get_shared(key).map_err(|_| None)?;
        let mut rec = bytes
            .as_deref()
            .and_then(Record::decode)
            .unwrap_or_default();
        f(&mut rec).map_err(Some)?;
        match host.set_shared(key, &rec.encode(), cas.unwrap_or(CREATE_CAS)) {
            Ok(()) => return Ok(rec),
            Err(SetShared::CasMismatch) => continue,
            Err(SetShared::Failed(e)) => {
                log::warn!("jwtgate: shared data write failed: status {e}");
                return Err(None);
            }
        }
    }
    Err(None)
}

pub fn lease_ms(timeout_ms: u64) -> u64 {
    // Discovery and JWKS are two calls; a little slack for the host's scheduling.
    timeout_ms.saturating_mul(2).saturating_add(1000)
}

/// FNV-1a over several byte strings (separated), for shared-data key names.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}
