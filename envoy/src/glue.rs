//! The proxy-wasm side: a root context per worker VM (configuration, timer, JWKS
//! fetches, metrics) and an HTTP context per request. Decisions are made by `gate`;
//! this module only moves bytes between the host and the pure modules, and never
//! unwraps a host result.

use crate::config::{self, KeySource, Remote, Url};
use crate::extract::{self, Location};
use crate::gate::{Accepted, Gate, Outcome, Route};
use crate::host;
use crate::keys::{NoLease, Record};
use crate::native;
use crate::respond::{self, Denial};
use crate::wire::{self, Header};
use jwtgate::{Algorithm, HostRsa, KeySet, RsaKey};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, Status};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|id| -> Box<dyn RootContext> {
        Box::new(Root { state: Rc::new(RefCell::new(State::new(id))) })
    });
}}

/// Envoy attribute paths (segments separated by NUL): the route's name, and the
/// `requirement_name` / `disabled` of its `filter_metadata.jwtgate` (Envoy's attribute reader
/// turns a `Struct` into a map and a `Value` into its content, so these are a plain string
/// and a one-byte bool).
const ROUTE_NAME: &[u8] = b"xds\0route_name";
const ROUTE_REQUIREMENT: &[u8] = b"xds\0route_metadata\0filter_metadata\0jwtgate\0requirement_name";
const ROUTE_DISABLED: &[u8] = b"xds\0route_metadata\0filter_metadata\0jwtgate\0disabled";

/// Writing with this CAS to an absent key creates it, and fails if another worker created
/// it first (the host only accepts a non-zero CAS equal to the current one): an atomic
/// create for the first lease.
const CREATE_CAS: u32 = u32::MAX;
/// Largest JWKS or discovery response read from the host.
const MAX_BODY: usize = 1 << 20;
const TICK_MS: u64 = 1000;
/// Most requests one worker keeps paused for keys; beyond it they are decided at once,
/// so a flood of unknown `kid`s during a slow fetch cannot pile up memory.
const MAX_WAITERS: usize = 1024;
const FAST_TICK_MS: u64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Discovery,
    Jwks,
}

/// This VM's view of one remote key source.
struct Source {
    remote: Remote,
    /// Shared-data key: provider name plus a hash of where the keys come from, so that
    /// listeners configured alike share one fetch and a changed URL starts afresh.
    key: String,
    seen_cas: Option<u32>,
    version: u64,
    /// The callout in flight from this worker: token, stage, and when its lease ends.
    inflight: Option<(u32, Stage, u64)>,
    /// The record's count of ended fetches when this worker last read it.
    completed: u64,
}

/// A request paused until a refetch (here or in another worker) completes.
struct Waiter {
    ctx: u32,
    provider: usize,
    /// The source's shared-data key and its count of ended fetches when the request began
    /// to wait: once the count moves, the fetch it waited for (here or in another worker)
    /// is over, even if it brought no new keys.
    source: String,
    joined: u64,
    deadline: u64,
    headers: Vec<(String, String)>,
    /// What the route says, when the configuration selects requirements by route.
    route: Route,
}

#[derive(Default)]
struct Stats {
    allowed: u64,
    denied: HashMap<&'static str, u64>,
    fetch_ok: u64,
    fetch_failed: u64,
    cache_reported: (u64, u64),
}

/// Envoy's `verify_signature` foreign function (BoringSSL) as the core's host RSA check.
/// Whether the host has it is learnt at the first call and kept for the VM's life; any
/// error or odd answer is "cannot tell", and the core's in-wasm engine decides.
#[derive(Default)]
struct EnvoyRsa {
    /// `None` until the first call; then whether the function exists.
    available: Cell<Option<bool>>,
    /// Verdicts the host gave, and calls that gave none (metrics, flushed on the tick).
    verdicts: Cell<u64>,
    no_verdict: Cell<u64>,
}

impl HostRsa for EnvoyRsa {
    fn verify(
        &self,
        key: &RsaKey<'_>,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        if self.available.get() == Some(false) {
            return None;
        }
        let args = native::arguments(alg, key.spki_der(), signature, signing_input);
        match host::call_foreign_function(native::FUNCTION, &args) {
            Ok(result) => {
                let verdict = native::verdict(&result);
                if self.available.get().is_none() {
                    self.available.set(Some(true));
                    log::info!(
                        "jwtgate: RSA signatures checked by the host ({})",
                        native::FUNCTION
                    );
                }
                if verdict.is_some() {
                    self.verdicts.set(self.verdicts.get().saturating_add(1));
                } else {
                    self.no_verdict.set(self.no_verdict.get().saturating_add(1));
                    log::debug!(
                        "jwtgate: {} gave no verdict; in-wasm RSA decides",
                        native::FUNCTION
                    );
                }
                verdict
            }
            Err(status) => {
                if self.available.get().is_none() {
                    self.available.set(Some(false));
                    log::info!(
                        "jwtgate: host has no usable {} (status {status}); RSA runs in wasm",
                        native::FUNCTION
                    );
                } else {
                    self.no_verdict.set(self.no_verdict.get().saturating_add(1));
                    log::debug!(
                        "jwtgate: {} failed (status {status}); in-wasm RSA decides",
                        native::FUNCTION
                    );
                }
                None
            }
        }
    }
}

struct State {
    root_id: u32,
    rsa: EnvoyRsa,
    gate: Option<Gate>,
    sources: Vec<Option<Source>>,
    waiters: Vec<Waiter>,
    stats: Stats,
    metric_ids: HashMap<String, u32>,
    stat_prefix: String,
    tick_ms: u64,
}

impl State {
    fn new(root_id: u32) -> State {
        State {
            root_id,
            rsa: EnvoyRsa::default(),
            gate: None,
            sources: Vec::new(),
            waiters: Vec::new(),
            stats: Stats::default(),
            metric_ids: HashMap::new(),
            stat_prefix: "jwtgate".to_owned(),
            tick_ms: 0,
        }
    }
}

type Shared = Rc<RefCell<State>>;

struct Root {
    state: Shared,
}

struct Http {
    ctx: u32,
    state: Shared,
    /// A local reply was sent: nothing of this request may move on.
    denied: bool,
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        token: u32,
        _headers: usize,
        body_size: usize,
        _trailers: usize,
    ) {
        let root = self.state.borrow().root_id;
        fetch_done(&self.state, token, body_size, root);
    }
}

impl RootContext for Root {
    fn on_vm_start(&mut self, _size: usize) -> bool {
        true
    }

    fn on_configure(&mut self, _size: usize) -> bool {
        host::follow_host_log_level();
        let bytes = match hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX) {
            Ok(Some(b)) => b,
            Ok(None) => Vec::new(),
            Err(e) => {
                log::error!("jwtgate: cannot read the plugin configuration: {e:?}");
                return false;
            }
        };
        let cfg = match config::parse(&bytes) {
            Ok(c) => c,
            Err(e) => {
                log::error!("jwtgate: invalid configuration: {e}");
                return false;
            }
        };
        log::info!("jwtgate: configured, {}", config::summary(&cfg));
        for w in &cfg.warnings {
            log::warn!("jwtgate: {w}");
        }
        let sources = cfg
            .providers
            .iter()
            .map(|p| match &p.keys {
                KeySource::Remote(r) => Some(Source {
                    key: format!(
                        "jwtgate.keys.{}.{:016x}",
                        p.name,
                        fnv(&[
                            r.cluster.as_bytes(),
                            r.uri.authority.as_bytes(),
                            r.uri.path.as_bytes(),
                            r.discovery_issuer.as_deref().unwrap_or("").as_bytes()
                        ])
                    ),
                    remote: r.clone(),
                    seen_cas: None,
                    version: 0,
                    inflight: None,
                    completed: 0,
                }),
                KeySource::Local(_) => None,
            })
            .collect();
        let root = {
            let mut st = self.state.borrow_mut();
            let sources = carry_inflight(std::mem::take(&mut st.sources), sources);
            st.stat_prefix = cfg.stat_prefix.clone();
            st.gate = Some(Gate::new(cfg));
            st.sources = sources;
            st.stats.cache_reported = (0, 0);
            st.root_id
        };
        let now = host::now_ms();
        let n = self.state.borrow().sources.len();
        for i in 0..n {
            let mut st = self.state.borrow_mut();
            if st.sources.get(i).is_some_and(Option::is_some) {
                // Keys another worker (or an earlier configuration) already fetched. No fetch
                // from here: at Envoy's start-up a callout made during configuration can be
                // lost without a callback; the first (fast) tick fetches instead.
                sync(&mut st, i);
            }
        }
        finish_waiters(&self.state, None, now, root);
        set_tick(&mut self.state.borrow_mut());
        true
    }

    fn on_tick(&mut self) {
        let now = host::now_ms();
        let root = self.state.borrow().root_id;
        let n = self.state.borrow().sources.len();
        let mut changed = Vec::new();
        for i in 0..n {
            let mut st = self.state.borrow_mut();
            if st.sources.get(i).is_some_and(Option::is_some) {
                if sync(&mut st, i) {
                    changed.push(i);
                }
                let _ = start_fetch(&mut st, i, now, false);
            }
        }
        for i in changed {
            finish_waiters(&self.state, Some(i), now, root);
        }
        // Waiters whose fetch was lost (stalled IdP, another worker's lease expired).
        finish_waiters(&self.state, None, now, root);
        let mut st = self.state.borrow_mut();
        flush_metrics(&mut st);
        set_tick(&mut st);
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, ctx: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http {
            ctx,
            state: self.state.clone(),
            denied: false,
        }))
    }
}

impl Context for Http {
    fn on_http_call_response(
        &mut self,
        token: u32,
        _headers: usize,
        body_size: usize,
        _trailers: usize,
    ) {
        fetch_done(&self.state, token, body_size, self.ctx);
    }

    fn on_done(&mut self) -> bool {
        // The client may leave while its request waits for keys.
        if let Ok(mut st) = self.state.try_borrow_mut() {
            st.waiters.retain(|w| w.ctx != self.ctx);
        }
        true
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        // One host call for every header: the rule needs :path, the token may be in any
        // configured header, and two Authorization headers must be seen as two tokens.
        // (`get_header_map_value` would cost a call, and a call back into our allocator,
        // per header, and Envoy answers it with the first value only.) Decoded in place.
        let raw = host::header_map(MapType::HttpRequestHeaders);
        let headers = wire::decode_pairs(&raw);
        let now = host::now_ms();
        let mut route = Route::default();
        let outcome = {
            let st = self.state.borrow();
            match &st.gate {
                Some(gate) => {
                    // Host calls for the route only when the configuration selects by it.
                    if gate.needs_route_metadata() {
                        route.requirement_name = host::property_string(ROUTE_REQUIREMENT);
                        route.disabled =
                            route.requirement_name.is_none() && host::property_bool(ROUTE_DISABLED);
                    }
                    if gate.needs_route_name()
                        && route.requirement_name.is_none()
                        && !route.disabled
                    {
                        route.name = host::property_string(ROUTE_NAME);
                    }
                    gate.check(&headers, &route, now / 1000, true, &st.rsa)
                }
                None => Outcome::Deny(Denial::Invalid(jwtgate::ErrorCode::NoUsableKeys)),
            }
        };
        let action = match outcome {
            Outcome::Wait(i) => self.wait_for_keys(i, &headers, route, now),
            other => {
                let mut st = self.state.borrow_mut();
                carry_out(&mut st, other, &headers)
            }
        };
        if matches!(action, Action::Pause) && !self.waiting() {
            self.denied = true;
        }
        action
    }

    // A data callback answering Continue makes Envoy pass the held headers on: while the
    // request waits for keys or has been refused, its body and trailers are held too.
    fn on_http_request_body(&mut self, _size: usize, _end_of_stream: bool) -> Action {
        self.hold()
    }

    fn on_http_request_trailers(&mut self, _num: usize) -> Action {
        self.hold()
    }
}

impl Http {
    fn waiting(&self) -> bool {
        self.state
            .try_borrow()
            .map_or(true, |st| st.waiters.iter().any(|w| w.ctx == self.ctx))
    }

    fn hold(&self) -> Action {
        if self.denied || self.waiting() {
            Action::Pause
        } else {
            Action::Continue
        }
    }

    /// The token names a key we do not have: look at the shared keys, then refetch once
    /// (cooldown-limited) or join a fetch already in flight, and pause the request.
    fn wait_for_keys(
        &mut self,
        i: usize,
        headers: &[impl Header],
        route: Route,
        now: u64,
    ) -> Action {
        let mut st = self.state.borrow_mut();
        let refreshed = sync(&mut st, i);
        let deadline = if refreshed {
            None
        } else {
            let timeout = st
                .sources
                .get(i)
                .and_then(Option::as_ref)
                .map_or(0, |s| s.remote.timeout_ms);
            let inflight_until = st
                .sources
                .get_mut(i)
                .and_then(Option::as_mut)
                .and_then(|s| live_inflight(s, now));
            if let Some(until) = inflight_until {
                Some(until)
            } else {
                match start_fetch(&mut st, i, now, true) {
                    Ok(()) => Some(now + lease_ms(timeout)),
                    Err(Some(NoLease::Leased(until))) => Some(until + 200),
                    Err(_) => None,
                }
            }
        };
        match deadline {
            Some(deadline) if st.waiters.len() < MAX_WAITERS => {
                log::debug!(
                    "jwtgate: request {} waits for keys of provider {i}",
                    self.ctx
                );
                let (source, joined) = match st.sources.get(i) {
                    Some(Some(src)) => (src.key.clone(), src.completed),
                    _ => (String::new(), 0),
                };
                st.waiters.push(Waiter {
                    ctx: self.ctx,
                    provider: i,
                    source,
                    joined,
                    deadline,
                    headers: headers
                        .iter()
                        .map(|h| (h.name().to_owned(), h.value().to_owned()))
                        .collect(),
                    route,
                });
                set_tick(&mut st);
                Action::Pause
            }
            _ => {
                let outcome = match &st.gate {
                    Some(g) => g.check(headers, &route, now / 1000, false, &st.rsa),
                    None => Outcome::Deny(Denial::Invalid(jwtgate::ErrorCode::NoUsableKeys)),
                };
                carry_out(&mut st, outcome, headers)
            }
        }
    }
}

/// A configuration push rebuilds the sources. One whose shared-data key is unchanged (same
/// provider, cluster, URL and discovery issuer) keeps the fetch this worker has in flight, so
/// that its answer is applied when it comes (its lease in the record still stands, so no
/// other fetch could start before it ends). A source that changed starts afresh and the
/// answer for the old one is dropped. Keys are not carried: the new gate gets them again
/// from the shared record.
fn carry_inflight(
    mut old: Vec<Option<Source>>,
    mut new: Vec<Option<Source>>,
) -> Vec<Option<Source>> {
    for src in new.iter_mut().flatten() {
        let prev = old
            .iter_mut()
            .find(|o| o.as_ref().is_some_and(|o| o.key == src.key))
            .and_then(Option::take);
        if let Some(prev) = prev {
            src.inflight = prev.inflight;
            src.completed = prev.completed;
        }
    }
    new
}

fn lease_ms(timeout_ms: u64) -> u64 {
    // Discovery and JWKS are two calls; a little slack for the host's scheduling.
    timeout_ms.saturating_mul(2).saturating_add(1000)
}

/// Applies a decision to the current (effective) stream.
fn carry_out(st: &mut State, outcome: Outcome, headers: &[impl Header]) -> Action {
    match outcome {
        Outcome::Allow(accepted) => {
            if let Some(gate) = &st.gate {
                apply_allow(gate, &accepted, headers);
            }
            st.stats.allowed += 1;
            Action::Continue
        }
        Outcome::Deny(d) => {
            deny(st, d);
            Action::Pause
        }
        // A second pass never waits; treat a stray wait as missing keys.
        Outcome::Wait(_) => {
            deny(st, Denial::Invalid(jwtgate::ErrorCode::UnknownKid));
            Action::Pause
        }
    }
}

fn deny(st: &mut State, d: Denial) {
    let realm = st
        .gate
        .as_ref()
        .map_or("jwtgate", |g| g.config.realm.as_str());
    let reply = respond::deny(d, realm);
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    if let Err(e) = host::send_local_response(reply.status, &headers, reply.body.as_bytes()) {
        log::warn!(
            "jwtgate: cannot send the {} reply (status {e})",
            reply.status
        );
    }
    *st.stats.denied.entry(d.code()).or_insert(0) += 1;
}

fn set_header(name: &str, value: Option<&str>) {
    if let Err(e) = host::set_request_header(name, value) {
        log::warn!("jwtgate: cannot set request header {name} (status {e})");
    }
}

/// Success: strip the token unless forwarded, add the payload and claim headers, publish
/// claims as filter state. Output headers of providers that did not verify are removed,
/// so a client cannot supply them itself.
fn apply_allow(gate: &Gate, accepted: &[Accepted], headers: &[impl Header]) {
    // Headers a verified provider writes: another provider that did not verify must not
    // remove them (two providers may share an output header, e.g. one per issuer).
    let mut written: Vec<&str> = Vec::new();
    for a in accepted.iter().filter(|a| a.verified.is_some()) {
        if let Some(p) = gate.config.providers.get(a.provider) {
            written.extend(p.forward_payload_header.as_deref());
            written.extend(p.claim_to_headers.iter().map(|c| c.target.as_str()));
        }
    }
    let set_output = |name: &str, value: Option<&str>, mine: bool| {
        if value.is_some() || mine || !written.contains(&name) {
            set_header(name, value);
        }
    };
    for (i, p) in gate.config.providers.iter().enumerate() {
        let acc = accepted.iter().find(|a| a.provider == i);
        // A provider derived for provider_and_audiences shares its base's output headers:
        // unless it verified the token, it leaves them to the base.
        if acc.is_none() && i >= gate.config.configured_providers {
            continue;
        }
        let verified = acc.and_then(|a| a.verified.as_ref());
        if let Some(a) = acc {
            if !p.forward {
                match &a.found.location {
                    Location::Header(name) => set_header(name, None),
                    // Left in the request, as jwt_authn leaves them.
                    Location::KeptHeader(_) | Location::Cookie(_) => {}
                    Location::Param(name) => {
                        if let Some(path) = extract::header(headers, ":path") {
                            set_header(":path", Some(&extract::strip_param(path, name)));
                        }
                    }
                }
            }
        }
        if let Some(h) = &p.forward_payload_header {
            let value = verified
                .map(|v| respond::payload_header(v.payload_json(), p.pad_forward_payload_header));
            set_output(h, value.as_deref(), verified.is_some());
        }
        for c in &p.claim_to_headers {
            let value = verified
                .and_then(|v| v.claims().get(&c.claim))
                .and_then(respond::claim_header_value);
            set_output(&c.target, value.as_deref(), verified.is_some());
        }
        let Some(v) = verified else { continue };
        for c in &p.claim_to_filter_state {
            if let Some(value) = v.claims().get(&c.claim).and_then(respond::claim_text) {
                if let Err(s) = host::set_property(&c.target, value.as_bytes()) {
                    log::debug!("jwtgate: filter state {} not set (status {s})", c.target);
                }
            }
        }
        if let Some(name) = &p.payload_in_filter_state {
            let payload = respond::payload_for_state(v.payload_json(), &p.space_delimited_claims);
            if let Err(s) = host::set_property(name, payload.as_bytes()) {
                log::debug!("jwtgate: filter state {name} not set (status {s})");
            }
        }
    }
}

/// Re-reads the shared record of provider `i`; installs its keys when their version
/// changed. True when new keys were installed.
fn sync(st: &mut State, i: usize) -> bool {
    let Some(Some(src)) = st.sources.get_mut(i) else {
        return false;
    };
    let (bytes, cas) = hostcalls::get_shared_data(&src.key).unwrap_or((None, None));
    if cas.is_some() && cas == src.seen_cas {
        return false;
    }
    src.seen_cas = cas;
    let Some(rec) = bytes.as_deref().and_then(Record::decode) else {
        return false;
    };
    src.completed = rec.completed;
    if rec.version == src.version || rec.jwks.is_empty() {
        return false;
    }
    src.version = rec.version;
    match KeySet::from_jwks(rec.jwks.as_bytes()) {
        Ok(keys) => {
            log::info!(
                "jwtgate: provider {i}: keys version {} from shared data ({} keys)",
                rec.version,
                keys.len()
            );
            if let Some(g) = st.gate.as_mut() {
                g.set_keys(i, keys);
            }
            true
        }
        Err(e) => {
            log::warn!("jwtgate: provider {i}: shared keys unusable: {e}");
            false
        }
    }
}

/// Read-modify-write of a shared record with compare-and-swap, retried on conflict.
fn update_record(
    key: &str,
    f: &mut dyn FnMut(&mut Record) -> Result<(), NoLease>,
) -> Result<Record, Option<NoLease>> {
    for _ in 0..8 {
        let (bytes, cas) = hostcalls::get_shared_data(key).map_err(|_| None)?;
        let mut rec = bytes
            .as_deref()
            .and_then(Record::decode)
            .unwrap_or_default();
        f(&mut rec).map_err(Some)?;
        match hostcalls::set_shared_data(key, Some(&rec.encode()), Some(cas.unwrap_or(CREATE_CAS)))
        {
            Ok(()) => return Ok(rec),
            Err(Status::CasMismatch) => continue,
            Err(e) => {
                log::warn!("jwtgate: shared data write failed: {e:?}");
                return Err(None);
            }
        }
    }
    Err(None)
}

/// The end of this worker's in-flight fetch, if it is still live. A callout made from a
/// request whose client left is cancelled by Envoy without a callback; past its lease it is
/// forgotten, so that this worker can fetch again.
fn live_inflight(src: &mut Source, now: u64) -> Option<u64> {
    match src.inflight {
        Some((_, _, until)) if until > now => Some(until),
        Some(_) => {
            src.inflight = None;
            None
        }
        None => None,
    }
}

/// Starts a fetch for provider `i` if this worker wins the lease.
fn start_fetch(st: &mut State, i: usize, now: u64, for_kid: bool) -> Result<(), Option<NoLease>> {
    let Some(Some(src)) = st.sources.get_mut(i) else {
        return Err(None);
    };
    if let Some(until) = live_inflight(src, now) {
        return Err(Some(NoLease::Leased(until)));
    }
    let cfg = src.remote.refresh;
    let lease = lease_ms(src.remote.timeout_ms);
    let key = src.key.clone();
    let mut completed = None;
    let taken = update_record(&key, &mut |r| {
        completed = Some(r.completed);
        r.take_lease(now, &cfg, lease, for_kid)
    });
    if let Some(c) = completed {
        // The newest count this worker has read: a request that now joins the fetch in
        // flight waits for the count to move from here.
        src.completed = c;
    }
    let rec = taken?;
    log::debug!(
        "jwtgate: provider {i}: fetching keys (fetch #{})",
        rec.fetches
    );
    dispatch(st, i, now, &rec)
}

fn dispatch(st: &mut State, i: usize, now: u64, rec: &Record) -> Result<(), Option<NoLease>> {
    let Some(Some(src)) = st.sources.get_mut(i) else {
        return Err(None);
    };
    let (stage, url) = match (&src.remote.discovery_issuer, &rec.jwks_uri) {
        (Some(_), None) => (Stage::Discovery, Some(src.remote.uri.clone())),
        (Some(_), Some(u)) => (Stage::Jwks, Url::parse(u)),
        (None, _) => (Stage::Jwks, Some(src.remote.uri.clone())),
    };
    let result = match &url {
        Some(url) => hostcalls::dispatch_http_call(
            &src.remote.cluster,
            vec![
                (":method", "GET"),
                (":path", &url.path),
                (":authority", &url.authority),
                (":scheme", &url.scheme),
                ("accept", "application/json"),
            ],
            None,
            vec![],
            Duration::from_millis(src.remote.timeout_ms),
        ),
        None => Err(Status::BadArgument),
    };
    match result {
        Ok(token) => {
            src.inflight = Some((
                token,
                stage,
                now.saturating_add(lease_ms(src.remote.timeout_ms)),
            ));
            Ok(())
        }
        Err(e) => {
            log::warn!(
                "jwtgate: provider {i}: cannot call cluster {}: {e:?}",
                src.remote.cluster
            );
            let key = src.key.clone();
            fetch_failed(st, i, &key, now);
            Err(None)
        }
    }
}

fn fetch_failed(st: &mut State, i: usize, key: &str, now: u64) {
    let Some(Some(src)) = st.sources.get(i) else {
        return;
    };
    let cfg = src.remote.refresh;
    let discovery = src.remote.discovery_issuer.is_some();
    st.stats.fetch_failed += 1;
    let delay = update_record(key, &mut |r| {
        r.failed(now, &cfg);
        if discovery {
            // The JWKS URL may have moved: rediscover next time.
            r.jwks_uri = None;
        }
        Ok(())
    })
    .map(|r| r.next_fetch_at.saturating_sub(now) / 1000);
    let has_keys = st.gate.as_ref().is_some_and(|g| g.has_keys(i));
    log::warn!(
        "jwtgate: provider {i}: key fetch failed; {}; next attempt in {}s",
        if has_keys {
            "keeping the last good keys"
        } else {
            "no keys yet, requests are refused"
        },
        delay.unwrap_or(0)
    );
}

/// A fetch answered (or failed: Envoy calls back with no headers on reset or timeout).
fn fetch_done(state: &Shared, token: u32, body_size: usize, restore_ctx: u32) {
    let now = host::now_ms();
    let provider = {
        let mut st = state.borrow_mut();
        let found = st
            .sources
            .iter_mut()
            .enumerate()
            .find_map(|(i, s)| match s {
                Some(src) if src.inflight.is_some_and(|(t, _, _)| t == token) => {
                    src.inflight.take().map(|(_, stage, _)| (i, stage))
                }
                _ => None,
            });
        // Unknown token: the callout of a source a configuration push replaced.
        let Some((i, stage)) = found else { return };
        let raw = host::header_map(MapType::HttpCallResponseHeaders);
        let headers = wire::decode_pairs(&raw);
        let status = extract::header(&headers, ":status").unwrap_or("");
        let body = if body_size > 0 && body_size <= MAX_BODY {
            hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
                .ok()
                .flatten()
        } else {
            None
        };
        let key = match st.sources.get(i) {
            Some(Some(s)) => s.key.clone(),
            _ => return,
        };
        let Some(Some(src)) = st.sources.get(i) else {
            return;
        };
        let remote = src.remote.clone();
        match (stage, status, body) {
            (Stage::Discovery, "200", Some(doc)) => {
                match jwtgate::discovery::jwks_uri(&doc, remote.discovery_issuer.as_deref()) {
                    Ok(uri) if Url::parse(&uri).is_some() => {
                        log::info!("jwtgate: provider {i}: discovery gives jwks_uri {uri}");
                        match update_record(&key, &mut |r| {
                            r.jwks_uri = Some(uri.clone());
                            Ok(())
                        }) {
                            Ok(rec) => {
                                let _ = dispatch(&mut st, i, now, &rec);
                            }
                            Err(_) => fetch_failed(&mut st, i, &key, now),
                        }
                        // The JWKS fetch is now in flight; waiters keep waiting.
                        return;
                    }
                    Ok(_) => {
                        log::warn!(
                            "jwtgate: provider {i}: discovery jwks_uri is not an http(s) URL"
                        );
                        fetch_failed(&mut st, i, &key, now);
                    }
                    Err(e) => {
                        log::warn!("jwtgate: provider {i}: {e}");
                        fetch_failed(&mut st, i, &key, now);
                    }
                }
            }
            (Stage::Jwks, "200", Some(body)) => {
                match (KeySet::from_jwks(&body), String::from_utf8(body)) {
                    (Ok(keys), Ok(text)) => {
                        let cc = extract::header(&headers, "cache-control").map(str::to_owned);
                        let cfg = remote.refresh;
                        let mut ttl = 0;
                        let published = update_record(&key, &mut |r| {
                            ttl = r.succeeded(now, &cfg, cc.as_deref(), &text);
                            Ok(())
                        });
                        log::info!(
                            "jwtgate: provider {i}: fetched {} keys; next refresh in {ttl}s",
                            keys.len()
                        );
                        if let Some(g) = st.gate.as_mut() {
                            g.set_keys(i, keys);
                        }
                        if let (Ok(rec), Some(Some(src))) = (published, st.sources.get_mut(i)) {
                            src.version = rec.version;
                        }
                        st.stats.fetch_ok += 1;
                    }
                    (Err(e), _) => {
                        log::warn!("jwtgate: provider {i}: fetched JWKS refused: {e}");
                        fetch_failed(&mut st, i, &key, now);
                    }
                    (_, Err(_)) => {
                        log::warn!("jwtgate: provider {i}: fetched JWKS is not UTF-8");
                        fetch_failed(&mut st, i, &key, now);
                    }
                }
            }
            (_, status, _) => {
                log::warn!(
                    "jwtgate: provider {i}: key fetch answered {:?} ({body_size} bytes)",
                    if status.is_empty() {
                        "no response"
                    } else {
                        status
                    }
                );
                fetch_failed(&mut st, i, &key, now);
            }
        }
        i
    };
    finish_waiters(state, Some(provider), now, restore_ctx);
}

/// Completes paused requests: those waiting on `provider` (its fetch finished), those whose
/// source has seen a fetch end since they began to wait (another worker's fetch, read from
/// the shared record), and any past its deadline. Each is decided again with the keys there
/// are now, never waiting twice.
fn finish_waiters(state: &Shared, provider: Option<usize>, now: u64, restore_ctx: u32) {
    let ready: Vec<Waiter> = {
        let mut st = state.borrow_mut();
        let waiters = std::mem::take(&mut st.waiters);
        let (ready, keep): (Vec<Waiter>, Vec<Waiter>) = waiters.into_iter().partition(|w| {
            let fetch_ended = matches!(
                st.sources.get(w.provider),
                Some(Some(src)) if src.key == w.source && src.completed != w.joined
            );
            Some(w.provider) == provider || w.deadline <= now || fetch_ended
        });
        st.waiters = keep;
        ready
    };
    if ready.is_empty() {
        return;
    }
    for w in ready {
        if hostcalls::set_effective_context(w.ctx).is_err() {
            continue;
        }
        let mut st = state.borrow_mut();
        let outcome = match &st.gate {
            Some(g) => g.check(&w.headers, &w.route, now / 1000, false, &st.rsa),
            None => Outcome::Deny(Denial::Invalid(jwtgate::ErrorCode::NoUsableKeys)),
        };
        if let Action::Continue = carry_out(&mut st, outcome, &w.headers) {
            if let Err(e) = host::resume_request() {
                log::warn!("jwtgate: cannot resume request {} (status {e})", w.ctx);
            }
        }
    }
    let _ = hostcalls::set_effective_context(restore_ctx);
}

/// Fast while requests wait or a remote provider has no keys yet, so that start-up and
/// another worker's fetch are noticed within 100 ms; 1 s otherwise.
fn set_tick(st: &mut State) {
    let keyless = st.gate.as_ref().is_some_and(|g| {
        st.sources
            .iter()
            .enumerate()
            .any(|(i, s)| s.is_some() && !g.has_keys(i))
    });
    let want = if st.waiters.is_empty() && !keyless {
        TICK_MS
    } else {
        FAST_TICK_MS
    };
    if st.tick_ms != want && host::set_tick_period_ms(want).is_ok() {
        st.tick_ms = want;
    }
}

/// Counters are batched in the VM and flushed on the tick: a host call per counter
/// per request would cost more than the verification of a cached token.
fn flush_metrics(st: &mut State) {
    let mut pending: Vec<(String, u64)> = Vec::new();
    let prefix = st.stat_prefix.clone();
    let stats = &mut st.stats;
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
    for (name, cell) in [
        ("native_rsa", &st.rsa.verdicts),
        ("native_rsa_no_verdict", &st.rsa.no_verdict),
    ] {
        let n = cell.take();
        if n > 0 {
            pending.push((format!("{prefix}.{name}"), n));
        }
    }
    if let Some(g) = &st.gate {
        let (h, m) = g.cache_stats();
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
        let id = match st.metric_ids.get(&name) {
            Some(id) => *id,
            None => match host::define_counter(&name) {
                Ok(id) => {
                    st.metric_ids.insert(name.clone(), id);
                    id
                }
                Err(_) => continue,
            },
        };
        let _ = host::increment_counter(id, i64::try_from(n).unwrap_or(i64::MAX));
    }
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
