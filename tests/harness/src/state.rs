//! What the host remembers: the parts a test reads (public) and the bookkeeping behind them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::abi::{Headers, LogLevel, MetricKind, Status};

/// One `proxy_log` line (or a line the guest wrote to stdout/stderr, at `Info`/`Error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Worker (VM instance) that logged it.
    pub worker: usize,
    /// Its level.
    pub level: LogLevel,
    /// The message, lossily decoded as UTF-8.
    pub message: String,
}

/// A response the filter sent itself with `proxy_send_local_response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalResponse {
    /// HTTP status code.
    pub status: u32,
    /// Extra response headers, in the order the filter gave them.
    pub headers: Headers,
    /// Response body.
    pub body: Vec<u8>,
    /// The status code details string (Envoy's `response_code_details`).
    pub details: String,
    /// gRPC status, -1 for a plain HTTP response.
    pub grpc_status: i32,
}

impl LocalResponse {
    /// First value of header `name` (case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<String> {
        header_value(&self.headers, name)
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP callout the filter dispatched with `proxy_http_call`, waiting for an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callout {
    /// The token the guest got back; answer the callout with it.
    pub id: u32,
    /// Worker that made it.
    pub worker: usize,
    /// Context (root or stream) that made it; the answer is delivered there.
    pub context_id: u32,
    /// The Envoy cluster name.
    pub upstream: String,
    /// Request headers (`:method`, `:path`, `:authority`, ...).
    pub headers: Headers,
    /// Request body.
    pub body: Vec<u8>,
    /// Request trailers.
    pub trailers: Headers,
    /// The timeout the filter asked for; `Host::advance` past it fails the callout.
    pub timeout: Duration,
    pub(crate) deadline_ns: u64,
}

impl Callout {
    /// First value of request header `name` (case-insensitive), as text.
    pub fn header(&self, name: &str) -> Option<String> {
        header_value(&self.headers, name)
    }
}

/// The value of a metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    /// A counter's value.
    Counter(u64),
    /// A gauge's value.
    Gauge(i64),
    /// Every sample recorded into a histogram, in order.
    Histogram(Vec<u64>),
}

impl Metric {
    /// The value of a counter or gauge; the number of samples of a histogram.
    pub fn value(&self) -> i64 {
        match self {
            Metric::Counter(v) => *v as i64,
            Metric::Gauge(v) => *v,
            Metric::Histogram(s) => s.len() as i64,
        }
    }
}

/// Names one HTTP stream: the worker it runs on and its context id there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId {
    /// Worker index.
    pub worker: usize,
    /// Context id inside that worker.
    pub context_id: u32,
}

/// Where an HTTP stream stands, from the proxy's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamState {
    /// The filter let it through (returned `Continue`, or resumed it later).
    Flowing,
    /// The filter returned `Pause` and has neither resumed it nor answered it yet.
    Paused,
    /// The filter sent a local response.
    Responded,
    /// The filter reset it with `proxy_close_stream`.
    Reset,
}

/// One HTTP stream as the filter left it.
#[derive(Debug, Clone)]
pub struct Stream {
    /// Its id.
    pub id: StreamId,
    /// Where it stands.
    pub state: StreamState,
    /// Request headers, after the filter's changes.
    pub request_headers: Headers,
    /// Request body, after the filter's changes.
    pub request_body: Vec<u8>,
    /// Request trailers.
    pub request_trailers: Headers,
    /// Response headers (empty until `Host::respond`), after the filter's changes.
    pub response_headers: Headers,
    /// Response body.
    pub response_body: Vec<u8>,
    /// Response trailers.
    pub response_trailers: Headers,
    /// The local response, if the filter sent one.
    pub local_response: Option<LocalResponse>,
    /// Values the filter stored with `proxy_set_property` while this stream was current
    /// (Envoy's filter state), keyed by path.
    pub filter_state: BTreeMap<Vec<String>, Vec<u8>>,
    /// How many times the filter called `proxy_continue_stream` on a paused request.
    pub resumed: u32,
}

impl Stream {
    pub(crate) fn new(id: StreamId, request_headers: Headers) -> Stream {
        Stream {
            id,
            state: StreamState::Flowing,
            request_headers,
            request_body: Vec::new(),
            request_trailers: Vec::new(),
            response_headers: Vec::new(),
            response_body: Vec::new(),
            response_trailers: Vec::new(),
            local_response: None,
            filter_state: BTreeMap::new(),
            resumed: 0,
        }
    }

    /// First value of request header `name` (case-insensitive), as text.
    pub fn request_header(&self, name: &str) -> Option<String> {
        header_value(&self.request_headers, name)
    }

    /// First value of response header `name` (case-insensitive), as text.
    pub fn response_header(&self, name: &str) -> Option<String> {
        header_value(&self.response_headers, name)
    }

    /// The filter-state value stored at `path`, e.g. `&["filter_state", "claims"]` for
    /// `set_property(vec!["filter_state", "claims"], ...)`.
    pub fn filter_state(&self, path: &[&str]) -> Option<&[u8]> {
        let key: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        self.filter_state.get(&key).map(Vec::as_slice)
    }
}

/// First value of `name` in `headers`, case-insensitively, as text.
pub fn header_value(headers: &Headers, name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// A host-provided foreign function (`proxy_call_foreign_function`).
pub type ForeignFunction = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, Status> + Send + Sync>;

pub(crate) struct Queue {
    pub name: String,
    pub owner: (usize, u32),
    pub items: VecDeque<Vec<u8>>,
}

pub(crate) struct MetricSlot {
    pub name: String,
    pub kind: MetricKind,
    pub value: Metric,
}

/// Caps the log so a 100,000-input run does not grow the test process without bound.
pub(crate) const MAX_LOGS: usize = 20_000;

/// State every worker sees: what Envoy keeps per process (or per VM id).
pub(crate) struct Shared {
    pub now_ns: u64,
    pub shared_data: HashMap<String, (Vec<u8>, u32)>,
    pub next_cas: u32,
    pub queues: Vec<Queue>,
    pub queue_ready: VecDeque<(usize, u32, u32)>,
    pub metrics: Vec<MetricSlot>,
    pub logs: VecDeque<LogEntry>,
    pub callouts: BTreeMap<u32, Callout>,
    pub next_token: u32,
    pub properties: HashMap<Vec<String>, Vec<u8>>,
    pub clusters: Option<Vec<String>>,
    pub foreign: HashMap<String, ForeignFunction>,
    pub log_level: LogLevel,
    pub unimplemented: Vec<String>,
}

impl Shared {
    pub fn new(now_ns: u64) -> Shared {
        Shared {
            now_ns,
            shared_data: HashMap::new(),
            next_cas: 0,
            queues: Vec::new(),
            queue_ready: VecDeque::new(),
            metrics: Vec::new(),
            logs: VecDeque::new(),
            callouts: BTreeMap::new(),
            next_token: 0,
            properties: HashMap::new(),
            clusters: None,
            foreign: HashMap::new(),
            log_level: LogLevel::Trace,
            unimplemented: Vec::new(),
        }
    }

    pub fn push_log(&mut self, entry: LogEntry) {
        if entry.level < self.log_level {
            return;
        }
        if self.logs.len() == MAX_LOGS {
            self.logs.pop_front();
        }
        self.logs.push_back(entry);
    }

    /// CAS numbers are never 0: the SDK reads 0 as "no CAS".
    pub fn bump_cas(&mut self) -> u32 {
        self.next_cas = self.next_cas.wrapping_add(1).max(1);
        self.next_cas
    }

    /// Envoy's semantics: a write with CAS 0 always wins; a write with a CAS to an existing
    /// key wins only if the CAS is the key's current one.
    pub fn set_shared(&mut self, key: &str, value: Vec<u8>, cas: u32) -> Result<u32, Status> {
        if cas != 0 {
            if let Some((_, current)) = self.shared_data.get(key) {
                if *current != cas {
                    return Err(Status::CasMismatch);
                }
            }
        }
        let new_cas = self.bump_cas();
        self.shared_data.insert(key.to_owned(), (value, new_cas));
        Ok(new_cas)
    }
}

pub(crate) type SharedRef = Arc<Mutex<Shared>>;

pub(crate) fn lock(shared: &SharedRef) -> MutexGuard<'_, Shared> {
    // A panicking test thread must not turn every later call into a poison error.
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// The answer being delivered to `proxy_on_http_call_response` (buffer 4, maps 6 and 7).
pub(crate) struct CallResponse {
    pub headers: Headers,
    pub body: Vec<u8>,
    pub trailers: Headers,
}

/// Per-worker state, the wasmtime `Store` data of one VM instance.
pub(crate) struct WorkerData {
    pub index: usize,
    pub shared: SharedRef,
    pub root_id: u32,
    pub next_context: u32,
    pub streams: BTreeMap<u32, Stream>,
    pub root_state: BTreeMap<Vec<String>, Vec<u8>>,
    pub effective: u32,
    pub call_response: Option<CallResponse>,
    pub vm_config: Vec<u8>,
    pub plugin_config: Vec<u8>,
    pub tick_period_ms: u32,
    pub next_tick_ns: Option<u64>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub rng: u64,
}

/// Context id of each worker's root context; streams are numbered from 2 (as in Envoy, ids
/// are per VM and never reused).
pub(crate) const ROOT_ID: u32 = 1;

impl WorkerData {
    pub fn new(index: usize, shared: SharedRef, vm_config: Vec<u8>) -> WorkerData {
        WorkerData {
            index,
            shared,
            root_id: ROOT_ID,
            next_context: ROOT_ID + 1,
            streams: BTreeMap::new(),
            root_state: BTreeMap::new(),
            effective: ROOT_ID,
            call_response: None,
            vm_config,
            plugin_config: Vec::new(),
            tick_period_ms: 0,
            next_tick_ns: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            // Deterministic, and different per worker like real random seeds would be.
            rng: 0x5eed_0000 + index as u64,
        }
    }
}
