//! One worker VM's filter, host-agnostic: the configuration, the remote key sources, the
//! paused requests and the counters, with one method per proxy-wasm event. `glue`
//! forwards Envoy's callbacks here; the native tests drive it with a mock [`Host`].

use crate::apply::{self, Next};
use crate::config::{self, Config, KeySource};
use crate::fetch::{Ended, Provider};
use crate::gate::{Gate, Outcome, Route};
use crate::keys::NoLease;
use crate::metrics::{Metrics, Stats};
use crate::native::{NativeRsa, Via};
use crate::ports::{self, Host};
use crate::respond::Denial;
use crate::waiters::{Waiter, Waiters};
use crate::wire::Header;
use jwtgate::KeySet;

/// Envoy attribute paths (segments separated by NUL): the route's name, and the
/// `requirement_name` / `disabled` of its `filter_metadata.jwtgate` (Envoy's attribute reader
/// turns a `Struct` into a map and a `Value` into its content, so these are a plain string
/// and a one-byte bool).
const ROUTE_NAME: &[u8] = b"xds\0route_name";
const ROUTE_REQUIREMENT: &[u8] = b"xds\0route_metadata\0filter_metadata\0jwtgate\0requirement_name";
const ROUTE_DISABLED: &[u8] = b"xds\0route_metadata\0filter_metadata\0jwtgate\0disabled";

pub const TICK_MS: u64 = 1000;
pub const FAST_TICK_MS: u64 = 100;

#[derive(Default)]
pub struct Worker {
    /// The root context: its id is the effective context again after waking requests.
    pub root_id: u32,
    rsa: NativeRsa,
    gate: Option<Gate>,
    /// One per configured provider; `None` for local keys.
    providers: Vec<Option<Provider>>,
    waiters: Waiters,
    stats: Stats,
    metrics: Metrics,
    tick_ms: u64,
}

impl Worker {
    pub fn new(root_id: u32) -> Worker {
        Worker {
            root_id,
            ..Worker::default()
        }
    }

    /// A new configuration (already parsed and logged by the caller).
    pub fn configure(&mut self, host: &impl Host, cfg: Config) {
        let mut providers: Vec<Option<Provider>> = cfg
            .providers
            .iter()
            .enumerate()
            .map(|(i, p)| match &p.keys {
                KeySource::Remote(r) => Some(Provider::new(i, &p.name, r)),
                KeySource::Local(_) => None,
            })
            .collect();
        // A source whose shared-data key is unchanged (same provider, cluster, URL and
        // discovery issuer) keeps this worker's fetch in flight; one that changed starts
        // afresh and the answer for the old one is dropped.
        let mut old = std::mem::take(&mut self.providers);
        for p in providers.iter_mut().flatten() {
            let prev = old
                .iter_mut()
                .find(|o| o.as_ref().is_some_and(|o| o.key == p.key))
                .and_then(Option::take);
            if let Some(prev) = prev {
                p.carry_from(prev);
            }
        }
        self.metrics.prefix = cfg.stat_prefix.clone();
        self.gate = Some(Gate::new(cfg));
        self.providers = providers;
        self.stats.cache_reported = (0, 0);
        let now = host.now_ms();
        for i in 0..self.providers.len() {
            // Keys another worker (or an earlier configuration) already fetched. No fetch
            // from here: at Envoy's start-up a callout made during configuration can be
            // lost without a callback; the first (fast) tick fetches instead.
            self.sync(host, i);
        }
        self.finish_waiters(host, None, now);
        self.set_tick(host);
    }

    pub fn tick(&mut self, host: &impl Host) {
        let now = host.now_ms();
        let mut changed = Vec::new();
        for i in 0..self.providers.len() {
            if self.sync(host, i) {
                changed.push(i);
            }
            if let Some(Some(p)) = self.providers.get_mut(i) {
                let _ = p.start_fetch(host, now, false, &mut self.stats);
            }
        }
        for i in changed {
            self.finish_waiters(host, Some(i), now);
        }
        // Waiters whose fetch was lost (stalled IdP, another worker's lease expired).
        self.finish_waiters(host, None, now);
        let native = [
            ("native_rsa", self.rsa.verdicts.take()),
            ("native_rsa_no_verdict", self.rsa.no_verdict.take()),
        ];
        let cache = self.gate.as_ref().map(Gate::cache_stats);
        self.metrics.flush(host, &mut self.stats, native, cache);
        self.set_tick(host);
    }

    /// A request's headers: decide, or pause it until keys come.
    pub fn request_headers(&mut self, host: &impl Host, ctx: u32, headers: &[impl Header]) -> Next {
        let now = host.now_ms();
        let mut route = Route::default();
        let outcome = match &self.gate {
            Some(gate) => {
                // Host calls for the route only when the configuration selects by it.
                if gate.needs_route_metadata() {
                    route.requirement_name = ports::property_string(host, ROUTE_REQUIREMENT);
                    route.disabled = route.requirement_name.is_none()
                        && ports::property_bool(host, ROUTE_DISABLED);
                }
                if gate.needs_route_name() && route.requirement_name.is_none() && !route.disabled {
                    route.name = ports::property_string(host, ROUTE_NAME);
                }
                let rsa = Via {
                    rsa: &self.rsa,
                    host,
                };
                gate.check(headers, &route, now / 1000, true, &rsa)
            }
            None => Outcome::Deny(Denial::Invalid(jwtgate::ErrorCode::NoUsableKeys)),
        };
        match outcome {
            Outcome::Wait(i) => self.wait_for_keys(host, ctx, i, headers, route, now),
            other => apply::carry_out(host, self.gate.as_ref(), &mut self.stats, other, headers),
        }
    }

    /// Whether request `ctx` is paused waiting for keys.
    pub fn waiting(&self, ctx: u32) -> bool {
        self.waiters.contains(ctx)
    }

    /// Request `ctx` ended (the client may leave while it waits for keys).
    pub fn done(&mut self, ctx: u32) {
        self.waiters.remove(ctx);
    }

    /// Whether `token` is a key fetch of this worker (so its answer is worth reading).
    pub fn is_fetch(&self, token: u32) -> bool {
        self.providers.iter().flatten().any(|p| p.owns(token))
    }

    /// A fetch answered (`status` empty: Envoy reset it or it timed out). `restore_ctx`
    /// is the context the host called in, made effective again after waking requests.
    pub fn fetch_response(
        &mut self,
        host: &impl Host,
        token: u32,
        status: &str,
        body: Option<&[u8]>,
        cache_control: Option<&str>,
        restore_ctx: u32,
    ) {
        let now = host.now_ms();
        // Unknown token: the callout of a source a configuration push replaced.
        let Some((i, p)) = self.providers.iter_mut().enumerate().find_map(|(i, p)| {
            p.as_mut()
                .and_then(|p| p.take_token(token).then_some((i, p)))
        }) else {
            return;
        };
        match p.on_response(host, now, status, body, cache_control, &mut self.stats) {
            Ended::Continues => return,
            Ended::Installed => {
                if let (Some(g), Some(keys)) = (self.gate.as_mut(), p.keys()) {
                    g.set_keys(i, KeySet::clone(keys));
                }
            }
            Ended::Failed => {}
        }
        self.finish_waiters_in(host, Some(i), now, restore_ctx);
    }

    /// Re-reads provider `i`'s shared record; hands adopted keys to the gate.
    fn sync(&mut self, host: &impl Host, i: usize) -> bool {
        let Some(Some(p)) = self.providers.get_mut(i) else {
            return false;
        };
        if !p.sync(host) {
            return false;
        }
        if let (Some(g), Some(keys)) = (self.gate.as_mut(), p.keys()) {
            g.set_keys(i, KeySet::clone(keys));
        }
        true
    }

    /// The token names a key we do not have: look at the shared keys, then refetch once
    /// (cooldown-limited) or join a fetch already in flight, and pause the request.
    fn wait_for_keys(
        &mut self,
        host: &impl Host,
        ctx: u32,
        i: usize,
        headers: &[impl Header],
        route: Route,
        now: u64,
    ) -> Next {
        let refreshed = self.sync(host, i);
        let deadline = match self.providers.get_mut(i) {
            Some(Some(p)) if !refreshed => match p.live_inflight(now) {
                Some(until) => Some(until),
                None => match p.start_fetch(host, now, true, &mut self.stats) {
                    Ok(()) => Some(now + p.lease_ms()),
                    Err(Some(NoLease::Leased(until))) => Some(until + 200),
                    Err(_) => None,
                },
            },
            _ => None,
        };
        if let Some(deadline) = deadline {
            log::debug!("jwtgate: request {ctx} waits for keys of provider {i}");
            let joined = match self.providers.get(i) {
                Some(Some(p)) => (p.key.clone(), p.completed),
                _ => (String::new(), 0),
            };
            if self
                .waiters
                .push(Waiter::new(ctx, i, joined, deadline, headers, &route))
            {
                self.set_tick(host);
                return Next::Pause;
            }
        }
        let outcome = self.recheck(host, headers, &route, now);
        apply::carry_out(host, self.gate.as_ref(), &mut self.stats, outcome, headers)
    }

    /// The second decision of a request, with the keys there are now: never waits.
    fn recheck(
        &self,
        host: &impl Host,
        headers: &[impl Header],
        route: &Route,
        now: u64,
    ) -> Outcome {
        match &self.gate {
            Some(g) => {
                let rsa = Via {
                    rsa: &self.rsa,
                    host,
                };
                g.check(headers, route, now / 1000, false, &rsa)
            }
            None => Outcome::Deny(Denial::Invalid(jwtgate::ErrorCode::NoUsableKeys)),
        }
    }

    fn finish_waiters(&mut self, host: &impl Host, provider: Option<usize>, now: u64) {
        self.finish_waiters_in(host, provider, now, self.root_id);
    }

    /// Completes paused requests: those waiting on `provider` (its fetch finished), those
    /// whose source has seen a fetch end since they began to wait (another worker's fetch,
    /// read from the shared record), and any past its deadline. Each is decided again with
    /// the keys there are now, never waiting twice.
    fn finish_waiters_in(
        &mut self,
        host: &impl Host,
        provider: Option<usize>,
        now: u64,
        restore_ctx: u32,
    ) {
        let providers = &self.providers;
        let ready = self.waiters.take_ready(provider, now, |w| {
            matches!(
                providers.get(w.provider),
                Some(Some(p)) if p.key == w.source && p.completed != w.joined
            )
        });
        if ready.is_empty() {
            return;
        }
        for w in ready {
            if !host.set_effective_context(w.ctx) {
                continue;
            }
            let outcome = self.recheck(host, &w.headers, &w.route, now);
            let next = apply::carry_out(
                host,
                self.gate.as_ref(),
                &mut self.stats,
                outcome,
                &w.headers,
            );
            if next == Next::Continue {
                if let Err(e) = host.resume() {
                    log::warn!("jwtgate: cannot resume request {} (status {e})", w.ctx);
                }
            }
        }
        let _ = host.set_effective_context(restore_ctx);
    }

    /// Fast while requests wait or a remote provider has no keys yet, so that start-up and
    /// another worker's fetch are noticed within 100 ms; 1 s otherwise.
    fn set_tick(&mut self, host: &impl Host) {
        let keyless = self.gate.as_ref().is_some_and(|g| {
            self.providers
                .iter()
                .enumerate()
                .any(|(i, p)| p.is_some() && !g.has_keys(i))
        });
        let want = if self.waiters.is_empty() && !keyless {
            TICK_MS
        } else {
            FAST_TICK_MS
        };
        if self.tick_ms != want && host.set_tick_ms(want).is_ok() {
            self.tick_ms = want;
        }
    }
}

/// Parses a configuration and logs what it says; `None` (logged) when it is invalid.
pub fn parse_config(bytes: &[u8]) -> Option<Config> {
    let cfg = match config::parse(bytes) {
        Ok(c) => c,
        Err(e) => {
            log::error!("jwtgate: invalid configuration: {e}");
            return None;
        }
    };
    log::info!("jwtgate: configured, {}", config::summary(&cfg));
    for w in &cfg.warnings {
        log::warn!("jwtgate: {w}");
    }
    Some(cfg)
}
