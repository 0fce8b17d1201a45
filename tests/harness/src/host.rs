//! The host: one compiled module, N worker instances, the state they share, and the calls
//! a test makes to drive them.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmtime::{
    Config, Engine, Func, Instance, Linker, Module, Store, Trap, Val, ValType, WasmBacktrace,
};

use crate::abi::{Action, Headers, LogLevel, Status};
use crate::error::Error;
use crate::imports;
use crate::state::{
    lock, CallResponse, Callout, ForeignFunction, LocalResponse, LogEntry, Metric, Shared,
    SharedRef, Stream, StreamId, StreamState, WorkerData, ROOT_ID,
};

/// Default fuel per guest entry: enough for any sane callback, small enough that an infinite
/// loop fails a test in seconds instead of hanging it.
const DEFAULT_FUEL: u64 = 20_000_000_000;

/// 2026-01-01T00:00:00Z: a fixed start so runs repeat exactly.
const DEFAULT_START_SECS: u64 = 1_767_225_600;

/// How to start a [`Host`]: see [`Host::new`].
pub struct HostBuilder {
    wasm: PathBuf,
    workers: usize,
    vm_config: Vec<u8>,
    fuel: Option<u64>,
    clusters: Option<Vec<String>>,
    foreign: HashMap<String, ForeignFunction>,
    start: SystemTime,
    properties: HashMap<Vec<String>, Vec<u8>>,
    log_level: LogLevel,
}

impl HostBuilder {
    /// Number of worker VMs (Envoy's `--concurrency`), each its own instance of the module
    /// with its own root context. Default 1.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// The VM configuration (`vm_config.configuration`), read at `on_vm_start`.
    pub fn vm_config(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.vm_config = bytes.as_ref().to_vec();
        self
    }

    /// Fuel (roughly, wasm instructions) per guest entry; `None` for unlimited.
    pub fn fuel(mut self, fuel: Option<u64>) -> Self {
        self.fuel = fuel;
        self
    }

    /// The Envoy clusters that exist; a callout to another name gets `BadArgument`, as in
    /// Envoy. By default every name exists.
    pub fn clusters(mut self, names: &[&str]) -> Self {
        self.clusters = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// A host function the guest can call with `proxy_call_foreign_function(name, args)`.
    pub fn foreign_function(
        mut self,
        name: &str,
        f: impl Fn(&[u8]) -> Result<Vec<u8>, Status> + Send + Sync + 'static,
    ) -> Self {
        self.foreign.insert(name.to_owned(), Arc::new(f));
        self
    }

    /// Wall-clock time at start (default 2026-01-01T00:00:00Z).
    pub fn start_time(mut self, t: SystemTime) -> Self {
        self.start = t;
        self
    }

    /// A property every context can read with `get_property` (e.g. `["plugin_name"]`).
    pub fn property(mut self, path: &[&str], value: impl AsRef<[u8]>) -> Self {
        self.properties.insert(
            path.iter().map(|s| s.to_string()).collect(),
            value.as_ref().to_vec(),
        );
        self
    }

    /// The level `proxy_get_log_level` reports; lower log lines are dropped. Default `Trace`.
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = level;
        self
    }

    /// Loads the module, starts every worker (`_initialize`, root context creation,
    /// `on_vm_start`) and configures it (`on_configure` with `plugin_config`).
    ///
    /// A filter that refuses its configuration is not an error here: see
    /// [`Host::configured`]. A trap is.
    pub fn configure(self, plugin_config: impl AsRef<[u8]>) -> Result<Host, Error> {
        let module = load_module(&self.wasm)?;
        let engine = module.engine().clone();
        let now_ns = self
            .start
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::Usage("start time before 1970".into()))?
            .as_nanos() as u64;
        let mut shared = Shared::new(now_ns);
        shared.properties = self.properties;
        shared.clusters = self.clusters;
        shared.foreign = self.foreign;
        shared.log_level = self.log_level;
        let shared: SharedRef = Arc::new(Mutex::new(shared));
        let mut linker = Linker::new(&engine);
        let stubbed =
            imports::link(&mut linker, &module).map_err(|e| Error::Load(format!("{e:#}")))?;
        let mut host = Host {
            module,
            linker,
            stubbed,
            shared,
            workers: Vec::new(),
            fuel: self.fuel,
            vm_started: Vec::new(),
            configured: Vec::new(),
        };
        for index in 0..self.workers {
            host.start_worker(index, &self.vm_config)?;
        }
        host.configure(plugin_config)?;
        Ok(host)
    }
}

/// A proxy-wasm host running one filter module in several worker VMs.
///
/// ```no_run
/// use jwtgate_harness::{Action, Host};
/// # fn main() -> Result<(), jwtgate_harness::Error> {
/// let mut host = Host::new("target/wasm-guests/wasm32-wasip1/release/my_filter.wasm")
///     .workers(2)
///     .configure(r#"{"upstream": "idp"}"#)?;
/// assert!(host.configured());
/// let out = host.worker(0).request(&[(":method", "GET"), (":path", "/")])?;
/// assert_eq!(out.action, Action::Pause);
/// let callout = host.pending_callouts()[0].clone();
/// host.answer_callout(callout.id, 200, &[], b"ok")?;
/// let stream = host.finish(out.stream)?;
/// assert!(stream.local_response.is_none());
/// # Ok(()) }
/// ```
pub struct Host {
    module: Module,
    linker: Linker<WorkerData>,
    stubbed: Vec<String>,
    shared: SharedRef,
    workers: Vec<Worker>,
    fuel: Option<u64>,
    vm_started: Vec<bool>,
    configured: Vec<bool>,
}

struct Worker {
    store: Store<WorkerData>,
    instance: Instance,
    failed: bool,
    /// Export, whether each parameter is i64, and the number of results.
    exports: HashMap<String, (Func, Vec<bool>, usize)>,
}

/// What a request did: see [`WorkerRef::request`].
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The stream, to answer, respond to or finish later.
    pub stream: StreamId,
    /// What `on_http_request_headers` (or the body callback) returned.
    pub action: Action,
    /// Where the stream stands now.
    pub state: StreamState,
    /// The local response, if the filter sent one.
    pub local_response: Option<LocalResponse>,
}

/// One worker of a host, to send it requests: see [`Host::worker`].
pub struct WorkerRef<'a> {
    host: &'a mut Host,
    index: usize,
}

impl WorkerRef<'_> {
    /// Runs a request without body through the filter: creates a stream context and calls
    /// `on_http_request_headers` with end of stream. Header names are lowercased, as Envoy's
    /// codecs do. The stream stays open: answer its callouts, then [`Host::finish`] it.
    pub fn request(&mut self, headers: &[(&str, &str)]) -> Result<Outcome, Error> {
        self.host.request(self.index, to_headers(headers), None)
    }

    /// Like [`WorkerRef::request`] with header values as raw bytes (Envoy passes any
    /// `obs-text` byte through, and the SDK's `String` getters panic on invalid UTF-8).
    pub fn request_raw(&mut self, headers: &[(&str, &[u8])]) -> Result<Outcome, Error> {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_vec()))
            .collect();
        self.host.request(self.index, headers, None)
    }

    /// Like [`WorkerRef::request`] with a body: headers (not end of stream), then, if the
    /// filter let the headers through, `on_http_request_body` with the whole body.
    pub fn request_with_body(
        &mut self,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Outcome, Error> {
        self.host
            .request(self.index, to_headers(headers), Some(body))
    }

    /// Re-runs `on_configure` on this worker only (a config push that reached one worker).
    pub fn configure(&mut self, plugin_config: impl AsRef<[u8]>) -> Result<bool, Error> {
        self.host
            .configure_worker(self.index, plugin_config.as_ref())
    }
}

fn to_headers(headers: &[(&str, &str)]) -> Headers {
    headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec()))
        .collect()
}

fn load_module(path: &Path) -> Result<Module, Error> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    static MODULES: OnceLock<Mutex<HashMap<u64, Module>>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.consume_fuel(true);
        Engine::new(&config).expect("the harness's wasmtime configuration is valid")
    });
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Load(format!(
            "{}: {e} (build the guest first, see jwtgate_harness::guest)",
            path.display()
        ))
    })?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let key = hasher.finish();
    // Held while compiling, so test threads that start together compile the module once.
    let mut modules = MODULES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(m) = modules.get(&key) {
        return Ok(m.clone());
    }
    // Compiling with a debug build of Cranelift takes seconds: keep the compiled code next to
    // the .wasm, keyed by its hash, for the next test binary and the next run.
    let cached = path.with_extension(format!("{key:016x}.cwasm"));
    // SAFETY: the file is one this function wrote from Module::serialize; wasmtime checks its
    // version and configuration header and refuses a mismatch.
    let module = match unsafe { Module::deserialize_file(engine, &cached) } {
        Ok(m) => m,
        Err(_) => {
            let m = Module::new(engine, &bytes)
                .map_err(|e| Error::Load(format!("{}: {e:#}", path.display())))?;
            if let Ok(serialized) = m.serialize() {
                remove_stale_cache(path);
                let tmp = cached.with_extension("tmp");
                if std::fs::write(&tmp, serialized).is_ok() {
                    let _ = std::fs::rename(&tmp, &cached);
                }
            }
            m
        }
    };
    modules.insert(key, module.clone());
    Ok(module)
}

/// Deletes compiled copies of earlier builds of `wasm` (`<stem>.<hash>.cwasm`).
fn remove_stale_cache(wasm: &Path) {
    let (Some(dir), Some(stem)) = (wasm.parent(), wasm.file_stem().and_then(|s| s.to_str())) else {
        return;
    };
    let prefix = format!("{stem}.");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".cwasm") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl Host {
    /// Starts describing a host for the filter at `wasm` (a `.wasm` built for wasm32-wasip1).
    // `Host::new(..).workers(2).configure(..)` reads as what it does; the builder is the detail.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(wasm: impl AsRef<Path>) -> HostBuilder {
        HostBuilder {
            wasm: wasm.as_ref().to_path_buf(),
            workers: 1,
            vm_config: Vec::new(),
            fuel: Some(DEFAULT_FUEL),
            clusters: None,
            foreign: HashMap::new(),
            start: UNIX_EPOCH + Duration::from_secs(DEFAULT_START_SECS),
            properties: HashMap::new(),
            log_level: LogLevel::Trace,
        }
    }

    fn start_worker(&mut self, index: usize, vm_config: &[u8]) -> Result<(), Error> {
        let data = WorkerData::new(index, self.shared.clone(), vm_config.to_vec());
        let mut store = Store::new(self.module.engine(), data);
        let _ = store.set_fuel(self.fuel.unwrap_or(u64::MAX));
        let instance = self
            .linker
            .instantiate(&mut store, &self.module)
            .map_err(|e| Error::Load(format!("instantiate: {e:#}")))?;
        self.workers.push(Worker {
            store,
            instance,
            failed: false,
            exports: HashMap::new(),
        });
        // Reactor modules (the SDK's `main!`) export `_initialize`; command modules `_start`.
        if self.exports(index, "_initialize") {
            self.call(index, ROOT_ID, "_initialize", &[])?;
        } else if self.exports(index, "_start") {
            self.call(index, ROOT_ID, "_start", &[])?;
        }
        self.call(
            index,
            ROOT_ID,
            "proxy_on_context_create",
            &[ROOT_ID as i32, 0],
        )?;
        let len = vm_config.len() as i32;
        let ok = self.call(index, ROOT_ID, "proxy_on_vm_start", &[ROOT_ID as i32, len])?;
        self.vm_started.push(ok != 0);
        Ok(())
    }

    fn exports(&mut self, worker: usize, name: &str) -> bool {
        let w = &mut self.workers[worker];
        w.instance.get_func(&mut w.store, name).is_some()
    }

    /// Calls guest export `name` on `worker` with `context` current, and delivers any
    /// shared-queue notifications it caused. Returns the i32 result (0 for none).
    fn call(
        &mut self,
        worker: usize,
        context: u32,
        name: &str,
        args: &[i32],
    ) -> Result<u32, Error> {
        let result = self.call_one(worker, context, name, args)?;
        self.deliver_queue_events()?;
        Ok(result)
    }

    fn call_one(
        &mut self,
        worker: usize,
        context: u32,
        name: &str,
        args: &[i32],
    ) -> Result<u32, Error> {
        let fuel = self.fuel.unwrap_or(u64::MAX);
        let w = self
            .workers
            .get_mut(worker)
            .ok_or_else(|| Error::Usage(format!("no worker {worker}")))?;
        if w.failed {
            return Err(Error::WorkerFailed(worker));
        }
        // Looked up once per worker: export lookup and type queries are slow in a debug build.
        let (func, kinds, result_count) = match w.exports.get(name) {
            Some(cached) => cached.clone(),
            None => {
                let Some(func) = w.instance.get_func(&mut w.store, name) else {
                    // Envoy skips callbacks a module does not export (the shipped filter
                    // strips the SDK's no-op ones): Continue, as the SDK's default would.
                    if OPTIONAL_CALLBACKS.contains(&name) {
                        return Ok(0);
                    }
                    return Err(Error::Load(format!("the module does not export {name}")));
                };
                let ty = func.ty(&w.store);
                let kinds: Vec<bool> = ty.params().map(|t| matches!(t, ValType::I64)).collect();
                let entry = (func, kinds, ty.results().len());
                w.exports.insert(name.to_owned(), entry.clone());
                entry
            }
        };
        let params: Vec<Val> = kinds
            .iter()
            .zip(args.iter().copied().chain(std::iter::repeat(0)))
            .map(|(is_i64, a)| {
                if *is_i64 {
                    Val::I64(i64::from(a))
                } else {
                    Val::I32(a)
                }
            })
            .collect();
        let mut results = vec![Val::I32(0); result_count];
        w.store.data_mut().effective = context;
        let _ = w.store.set_fuel(fuel);
        let outcome = func.call(&mut w.store, &params, &mut results);
        w.store.data_mut().effective = ROOT_ID;
        match outcome {
            Ok(()) => Ok(match results.first() {
                Some(Val::I32(v)) => *v as u32,
                Some(Val::I64(v)) => *v as u32,
                _ => 0,
            }),
            Err(e) => {
                w.failed = true;
                let message = match e.downcast_ref::<Trap>() {
                    Some(Trap::OutOfFuel) => {
                        format!(
                            "{} (fuel per call: {fuel}; an endless loop?)",
                            Trap::OutOfFuel
                        )
                    }
                    Some(t) => t.to_string(),
                    None => format!("{e:#}"),
                };
                // Display starts with its own "error while executing at wasm backtrace:" line.
                let backtrace = e
                    .downcast_ref::<WasmBacktrace>()
                    .map(|b| {
                        let text = b.to_string();
                        match text.split_once('\n') {
                            Some((first, rest)) if first.starts_with("error while") => {
                                rest.to_owned()
                            }
                            _ => text,
                        }
                    })
                    .unwrap_or_else(|| "(no wasm backtrace)".into());
                let last_logs = {
                    let s = lock(&self.shared);
                    let mine: Vec<LogEntry> = s
                        .logs
                        .iter()
                        .filter(|l| l.worker == worker)
                        .cloned()
                        .collect();
                    mine[mine.len().saturating_sub(20)..].to_vec()
                };
                Err(Error::Trap {
                    worker,
                    call: name.to_owned(),
                    message,
                    backtrace,
                    last_logs,
                })
            }
        }
    }

    fn deliver_queue_events(&mut self) -> Result<(), Error> {
        // Bounded, so two filters enqueueing to each other forever cannot hang a test.
        for _ in 0..10_000 {
            let next = lock(&self.shared).queue_ready.pop_front();
            let Some((worker, context, queue)) = next else {
                return Ok(());
            };
            self.call_one(
                worker,
                context,
                "proxy_on_queue_ready",
                &[context as i32, queue as i32],
            )?;
        }
        Err(Error::Usage(
            "more than 10,000 queue notifications in a row".into(),
        ))
    }

    /// Re-runs `on_configure` on every worker with a new plugin configuration (a control
    /// plane push); returns whether every worker accepted it.
    pub fn configure(&mut self, plugin_config: impl AsRef<[u8]>) -> Result<bool, Error> {
        let mut all = true;
        for w in 0..self.workers.len() {
            all &= self.configure_worker(w, plugin_config.as_ref())?;
        }
        Ok(all)
    }

    fn configure_worker(&mut self, worker: usize, config: &[u8]) -> Result<bool, Error> {
        self.workers
            .get_mut(worker)
            .ok_or_else(|| Error::Usage(format!("no worker {worker}")))?
            .store
            .data_mut()
            .plugin_config = config.to_vec();
        let ok = self.call(
            worker,
            ROOT_ID,
            "proxy_on_configure",
            &[ROOT_ID as i32, config.len() as i32],
        )? != 0;
        if self.configured.len() <= worker {
            self.configured.resize(worker + 1, false);
        }
        self.configured[worker] = ok;
        Ok(ok)
    }

    /// Whether every worker's `on_vm_start` and latest `on_configure` returned true.
    pub fn configured(&self) -> bool {
        self.vm_started.iter().all(|b| *b) && self.configured.iter().all(|b| *b)
    }

    /// Per worker: did `on_configure` last return true.
    pub fn configure_results(&self) -> &[bool] {
        &self.configured
    }

    /// Number of workers.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// Worker `index`, to send requests to.
    ///
    /// # Panics
    /// If there is no such worker (a bug in the test).
    pub fn worker(&mut self, index: usize) -> WorkerRef<'_> {
        assert!(index < self.workers.len(), "no worker {index}");
        WorkerRef { host: self, index }
    }

    fn data(&self, worker: usize) -> &WorkerData {
        self.workers[worker].store.data()
    }

    fn data_mut(&mut self, worker: usize) -> &mut WorkerData {
        self.workers[worker].store.data_mut()
    }

    fn outcome(&self, id: StreamId, action: Action) -> Outcome {
        let s = &self.data(id.worker).streams[&id.context_id];
        Outcome {
            stream: id,
            action,
            state: s.state,
            local_response: s.local_response.clone(),
        }
    }

    fn request(
        &mut self,
        worker: usize,
        headers: Headers,
        body: Option<&[u8]>,
    ) -> Result<Outcome, Error> {
        if self.workers[worker].failed {
            return Err(Error::WorkerFailed(worker));
        }
        let d = self.data_mut(worker);
        let context_id = d.next_context;
        d.next_context += 1;
        let id = StreamId { worker, context_id };
        let count = headers.len() as i32;
        let mut stream = Stream::new(id, headers);
        stream.request_body = body.unwrap_or_default().to_vec();
        d.streams.insert(context_id, stream);
        let ctx = context_id as i32;
        self.call(
            worker,
            context_id,
            "proxy_on_context_create",
            &[ctx, ROOT_ID as i32],
        )?;
        let eos = i32::from(body.is_none());
        let code = self.call(
            worker,
            context_id,
            "proxy_on_request_headers",
            &[ctx, count, eos],
        )?;
        let mut action = self.settle(id, Action::from_code(code));
        if let (Some(body), Action::Continue, StreamState::Flowing) = (body, action, self.state(id))
        {
            let code = self.call(
                worker,
                context_id,
                "proxy_on_request_body",
                &[ctx, body.len() as i32, 1],
            )?;
            action = self.settle(id, Action::from_code(code));
        }
        Ok(self.outcome(id, action))
    }

    /// After a stream callback: a `Pause` with no local response leaves the stream paused.
    fn settle(&mut self, id: StreamId, action: Action) -> Action {
        if let Some(s) = self.data_mut(id.worker).streams.get_mut(&id.context_id) {
            if action == Action::Pause && s.state == StreamState::Flowing {
                s.state = StreamState::Paused;
            }
        }
        action
    }

    fn state(&self, id: StreamId) -> StreamState {
        self.data(id.worker).streams[&id.context_id].state
    }

    fn stream_or_err(&self, id: StreamId) -> Result<&Stream, Error> {
        self.workers
            .get(id.worker)
            .and_then(|w| w.store.data().streams.get(&id.context_id))
            .ok_or_else(|| Error::Usage(format!("no open stream {id:?}")))
    }

    /// The open stream `id` as the filter left it so far.
    pub fn stream(&self, id: StreamId) -> Result<&Stream, Error> {
        self.stream_or_err(id)
    }

    /// Runs the upstream's response headers through the filter (`on_http_response_headers`,
    /// end of stream); returns the filter's action.
    pub fn respond(&mut self, id: StreamId, headers: &[(&str, &str)]) -> Result<Action, Error> {
        self.stream_or_err(id)?;
        let headers = to_headers(headers);
        let count = headers.len() as i32;
        self.data_mut(id.worker)
            .streams
            .get_mut(&id.context_id)
            .expect("checked above")
            .response_headers = headers;
        let ctx = id.context_id as i32;
        let code = self.call(
            id.worker,
            id.context_id,
            "proxy_on_response_headers",
            &[ctx, count, 1],
        )?;
        Ok(Action::from_code(code))
    }

    /// Ends stream `id` as Envoy does: if it flowed and has no response yet, a `200` response
    /// passes through the filter; then `on_done`, `on_log` and `on_delete`. Callouts the
    /// stream still had pending are cancelled. Returns the stream's final state.
    pub fn finish(&mut self, id: StreamId) -> Result<Stream, Error> {
        let s = self.stream_or_err(id)?;
        if s.state == StreamState::Flowing && s.response_headers.is_empty() {
            self.respond(id, &[(":status", "200")])?;
        }
        let ctx = id.context_id as i32;
        self.call(id.worker, id.context_id, "proxy_on_done", &[ctx])?;
        self.call(id.worker, id.context_id, "proxy_on_log", &[ctx])?;
        self.call(id.worker, id.context_id, "proxy_on_delete", &[ctx])?;
        lock(&self.shared)
            .callouts
            .retain(|_, c| !(c.worker == id.worker && c.context_id == id.context_id));
        Ok(self
            .data_mut(id.worker)
            .streams
            .remove(&id.context_id)
            .expect("checked above"))
    }

    /// Ids of the streams still open on `worker`.
    pub fn open_streams(&self, worker: usize) -> Vec<StreamId> {
        self.data(worker)
            .streams
            .keys()
            .map(|&context_id| StreamId { worker, context_id })
            .collect()
    }

    /// Callouts dispatched and not yet answered, failed or timed out, oldest first.
    pub fn pending_callouts(&self) -> Vec<Callout> {
        lock(&self.shared).callouts.values().cloned().collect()
    }

    fn take_callout(&mut self, id: u32) -> Result<Callout, Error> {
        lock(&self.shared)
            .callouts
            .remove(&id)
            .ok_or_else(|| Error::Usage(format!("no pending callout {id}")))
    }

    /// Answers callout `id` with a response: `:status` then `headers`, and `body`; calls
    /// `on_http_call_response` in the context that made it.
    pub fn answer_callout(
        &mut self,
        id: u32,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), Error> {
        let callout = self.take_callout(id)?;
        let mut h: Headers = vec![(":status".into(), status.to_string().into_bytes())];
        h.extend(
            headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec())),
        );
        self.deliver(
            callout,
            CallResponse {
                headers: h,
                body: body.to_vec(),
                trailers: Vec::new(),
            },
        )
    }

    /// Fails callout `id` as Envoy does on a reset or connection failure:
    /// `on_http_call_response` with no headers, body or trailers.
    pub fn fail_callout(&mut self, id: u32) -> Result<(), Error> {
        let callout = self.take_callout(id)?;
        self.deliver(
            callout,
            CallResponse {
                headers: Vec::new(),
                body: Vec::new(),
                trailers: Vec::new(),
            },
        )
    }

    fn deliver(&mut self, callout: Callout, response: CallResponse) -> Result<(), Error> {
        let (w, ctx) = (callout.worker, callout.context_id);
        let d = self.data(w);
        if ctx != d.root_id && !d.streams.contains_key(&ctx) {
            return Ok(()); // The context is gone; Envoy drops the answer too.
        }
        let args = [
            ctx as i32,
            callout.id as i32,
            response.headers.len() as i32,
            response.body.len() as i32,
            response.trailers.len() as i32,
        ];
        self.data_mut(w).call_response = Some(response);
        let result = self.call(w, ctx, "proxy_on_http_call_response", &args);
        if let Some(worker) = self.workers.get_mut(w) {
            worker.store.data_mut().call_response = None;
        }
        result.map(|_| ())
    }

    /// Moves the clock forward by `d`, firing in time order every `on_tick` due (each
    /// worker's root context, at its own period) and failing every callout whose timeout
    /// passes (as [`Host::fail_callout`]).
    pub fn advance(&mut self, d: Duration) -> Result<(), Error> {
        let target = lock(&self.shared).now_ns + d.as_nanos() as u64;
        loop {
            let tick = (0..self.workers.len())
                .filter(|&w| !self.workers[w].failed)
                .filter_map(|w| self.data(w).next_tick_ns.map(|t| (t, w)))
                .min();
            let failed: Vec<usize> = (0..self.workers.len())
                .filter(|&w| self.workers[w].failed)
                .collect();
            // A failed worker's callouts never complete, as its VM is gone.
            let timeout = lock(&self.shared)
                .callouts
                .values()
                .filter(|c| !failed.contains(&c.worker))
                .map(|c| (c.deadline_ns, c.id))
                .min();
            match (tick, timeout) {
                (Some((t, w)), to) if t <= target && to.is_none_or(|(dl, _)| t <= dl) => {
                    lock(&self.shared).now_ns = t;
                    let period = u64::from(self.data(w).tick_period_ms) * 1_000_000;
                    self.data_mut(w).next_tick_ns = Some(t + period.max(1));
                    self.call(w, ROOT_ID, "proxy_on_tick", &[ROOT_ID as i32])?;
                }
                (_, Some((dl, id))) if dl <= target => {
                    let mut shared = lock(&self.shared);
                    shared.now_ns = shared.now_ns.max(dl);
                    drop(shared);
                    self.fail_callout(id)?;
                }
                _ => break,
            }
        }
        lock(&self.shared).now_ns = target;
        Ok(())
    }

    /// Current host time.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(lock(&self.shared).now_ns)
    }

    /// Sets the clock (it may go backwards) without firing ticks or timeouts.
    pub fn set_time(&mut self, t: SystemTime) {
        if let Ok(d) = t.duration_since(UNIX_EPOCH) {
            lock(&self.shared).now_ns = d.as_nanos() as u64;
        }
    }

    /// The tick period worker `w` asked for, if any.
    pub fn tick_period(&self, worker: usize) -> Option<Duration> {
        match self.data(worker).tick_period_ms {
            0 => None,
            ms => Some(Duration::from_millis(u64::from(ms))),
        }
    }

    /// Every log line so far (at most the last 20,000), all workers, in order.
    pub fn logs(&self) -> Vec<LogEntry> {
        lock(&self.shared).logs.iter().cloned().collect()
    }

    /// Forgets the log lines so far.
    pub fn clear_logs(&mut self) {
        lock(&self.shared).logs.clear();
    }

    /// Whether any log line at `level` or above contains `needle`.
    pub fn logged(&self, level: LogLevel, needle: &str) -> bool {
        lock(&self.shared)
            .logs
            .iter()
            .any(|l| l.level >= level && l.message.contains(needle))
    }

    /// What worker `w` wrote to stdout (fd 1).
    pub fn stdout(&self, worker: usize) -> String {
        String::from_utf8_lossy(&self.data(worker).stdout).into_owned()
    }

    /// The metric named `name`, shared by all workers as Envoy's stats are.
    pub fn metric(&self, name: &str) -> Option<Metric> {
        lock(&self.shared)
            .metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value.clone())
    }

    /// Every metric, by name.
    pub fn metrics(&self) -> Vec<(String, Metric)> {
        lock(&self.shared)
            .metrics
            .iter()
            .map(|m| (m.name.clone(), m.value.clone()))
            .collect()
    }

    /// Shared-data value and CAS number at `key`.
    pub fn shared_data(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        lock(&self.shared).shared_data.get(key).cloned()
    }

    /// Every shared-data key, sorted (to find a record a filter names after a hash).
    pub fn shared_data_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = lock(&self.shared).shared_data.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// Writes shared data unconditionally (as another plugin or a previous VM would);
    /// returns the new CAS number.
    pub fn set_shared_data(&mut self, key: &str, value: impl AsRef<[u8]>) -> u32 {
        lock(&self.shared)
            .set_shared(key, value.as_ref().to_vec(), 0)
            .expect("CAS 0 always succeeds")
    }

    /// Sets a property every context can read.
    pub fn set_property(&mut self, path: &[&str], value: impl AsRef<[u8]>) {
        lock(&self.shared).properties.insert(
            path.iter().map(|s| s.to_string()).collect(),
            value.as_ref().to_vec(),
        );
    }

    /// What worker `w`'s root context stored with `set_property` at `path`.
    pub fn root_property(&self, worker: usize, path: &[&str]) -> Option<Vec<u8>> {
        let key: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        self.data(worker).root_state.get(&key).cloned()
    }

    /// Enqueues `value` on the shared queue `name` (as another VM would) and delivers
    /// `on_queue_ready` to the context that registered it.
    pub fn enqueue(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), Error> {
        {
            let mut s = lock(&self.shared);
            let i = s
                .queues
                .iter()
                .position(|q| q.name == name)
                .ok_or_else(|| Error::Usage(format!("no shared queue {name:?}")))?;
            s.queues[i].items.push_back(value.as_ref().to_vec());
            let (w, ctx) = s.queues[i].owner;
            s.queue_ready.push_back((w, ctx, i as u32 + 1));
        }
        self.deliver_queue_events()
    }

    /// Items waiting in shared queue `name`.
    pub fn queue(&self, name: &str) -> Option<Vec<Vec<u8>>> {
        lock(&self.shared)
            .queues
            .iter()
            .find(|q| q.name == name)
            .map(|q| q.items.iter().cloned().collect())
    }

    /// Imports of the module the harness links to a stub (`module.name`): they answer
    /// `Unimplemented` (proxy-wasm) or `ENOSYS` (WASI) when called.
    pub fn stubbed_imports(&self) -> &[String] {
        &self.stubbed
    }

    /// Imports the guest called that the harness does not implement (`module.name`, one
    /// per call); they answered `Unimplemented` (proxy-wasm) or `ENOSYS` (WASI).
    pub fn unimplemented_calls(&self) -> Vec<String> {
        lock(&self.shared).unimplemented.clone()
    }

    /// Linear memory size of worker `w` in bytes (it only grows; flat means no leak).
    pub fn memory_size(&mut self, worker: usize) -> usize {
        let w = &mut self.workers[worker];
        w.instance
            .get_memory(&mut w.store, "memory")
            .map(|m| m.data_size(&w.store))
            .unwrap_or(0)
    }

    /// Whether worker `w` trapped (and so takes no more calls).
    pub fn failed(&self, worker: usize) -> bool {
        self.workers[worker].failed
    }
}

/// Callbacks Envoy skips when a module does not export them; envoy/scripts/build.sh strips
/// the SDK's no-op versions from the shipped filter, which the harness runs.
const OPTIONAL_CALLBACKS: &[&str] = &[
    "proxy_on_response_headers",
    "proxy_on_response_body",
    "proxy_on_response_trailers",
    "proxy_on_log",
    "proxy_on_queue_ready",
    "proxy_on_foreign_function",
    "proxy_on_new_connection",
    "proxy_on_downstream_data",
    "proxy_on_downstream_connection_close",
    "proxy_on_upstream_data",
    "proxy_on_upstream_connection_close",
    "proxy_on_grpc_receive_initial_metadata",
    "proxy_on_grpc_receive",
    "proxy_on_grpc_receive_trailing_metadata",
    "proxy_on_grpc_close",
];
