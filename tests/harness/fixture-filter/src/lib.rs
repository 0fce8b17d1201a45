//! A proxy-wasm filter that exists to exercise the jwtgate harness: each request header
//! `x-op` selects one host feature, and the filter reports what it saw through request
//! headers or a local response, so a harness test can check both sides of every host call.
//!
//! Plugin configuration: `key=value` pairs separated by `;` or newlines:
//! - `fail=1`: refuse the configuration (on_configure returns false);
//! - `tick_ms=N`: ask for a tick every N ms;
//! - `tick_callout=1`: on each tick, one worker (elected with a shared-data CAS) fetches
//!   `/data` from cluster `idp` and stores the body in shared data `fetched`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, UNIX_EPOCH};

use log::{debug, error, info, trace, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType, Status};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

#[link(wasm_import_module = "env")]
extern "C" {
    // Not a host call of any ABI: proves the host answers unknown imports with a status.
    fn proxy_fixture_not_a_host_call() -> u32;
}

const QUEUE: &str = "fixture.q";

#[derive(Default, Clone, Copy)]
struct Metrics {
    requests: u32,
    active: u32,
    sizes: u32,
    ticks: u32,
}

#[derive(Default)]
struct Root {
    metrics: Metrics,
    tick_callout: bool,
    queue: Option<u32>,
}

fn config_value<'a>(config: &'a str, key: &str) -> Option<&'a str> {
    config
        .split([';', '\n'])
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        _token: u32,
        headers: usize,
        body_size: usize,
        _trailers: usize,
    ) {
        if headers == 0 {
            warn!("tick callout failed");
            return;
        }
        let body = self
            .get_http_call_response_body(0, body_size)
            .unwrap_or_default();
        // Publish with CAS so a concurrent writer is detected rather than overwritten.
        let (_, cas) = self.get_shared_data("fetched");
        match self.set_shared_data("fetched", Some(&body), cas) {
            Ok(()) => info!("stored {} fetched bytes", body.len()),
            Err(status) => warn!("lost the race to store fetched data: {status:?}"),
        }
    }
}

impl RootContext for Root {
    fn on_vm_start(&mut self, _size: usize) -> bool {
        let config = self.get_vm_configuration().unwrap_or_default();
        info!("vm start: {}", String::from_utf8_lossy(&config));
        true
    }

    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        let config = String::from_utf8_lossy(&bytes).into_owned();
        if config_value(&config, "fail") == Some("1") {
            error!("refusing configuration: fail=1");
            return false;
        }
        let define = |kind, name| hostcalls::define_metric(kind, name).unwrap_or(0);
        self.metrics = Metrics {
            requests: define(MetricType::Counter, "fixture.requests"),
            active: define(MetricType::Gauge, "fixture.active"),
            sizes: define(MetricType::Histogram, "fixture.sizes"),
            ticks: define(MetricType::Counter, "fixture.ticks"),
        };
        if let Some(ms) = config_value(&config, "tick_ms").and_then(|v| v.parse().ok()) {
            self.set_tick_period(Duration::from_millis(ms));
        }
        self.tick_callout = config_value(&config, "tick_callout") == Some("1");
        self.queue = hostcalls::register_shared_queue(QUEUE).ok();
        let _ = hostcalls::set_property(vec!["fixture", "configured"], Some(config.as_bytes()));
        info!("configured: {config}");
        true
    }

    fn on_tick(&mut self) {
        let _ = hostcalls::increment_metric(self.metrics.ticks, 1);
        // Count ticks across workers with a CAS loop: lost updates would show in the count.
        loop {
            let (value, cas) = self.get_shared_data("ticks");
            let n: u64 = value
                .and_then(|v| String::from_utf8(v).ok())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if self
                .set_shared_data(
                    "ticks",
                    Some((n + 1).to_string().as_bytes()),
                    cas.or(Some(0)),
                )
                .is_ok()
            {
                break;
            }
        }
        if self.tick_callout {
            // Elect one fetcher per tick time: the first worker to CAS the slot wins.
            let now = self
                .get_current_time()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let slot = now.as_secs().to_string();
            let (leader, cas) = self.get_shared_data("leader");
            if leader.as_deref() == Some(slot.as_bytes()) {
                return;
            }
            if self
                .set_shared_data("leader", Some(slot.as_bytes()), cas)
                .is_ok()
            {
                let headers = vec![
                    (":method", "GET"),
                    (":path", "/data"),
                    (":authority", "idp.local"),
                ];
                if let Err(status) =
                    self.dispatch_http_call("idp", headers, None, vec![], Duration::from_secs(2))
                {
                    warn!("tick callout not dispatched: {status:?}");
                }
            }
        }
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        while let Ok(Some(item)) = hostcalls::dequeue_shared_queue(queue_id) {
            info!("dequeued {}", String::from_utf8_lossy(&item));
            let _ = self.set_shared_data("queue.last", Some(&item), None);
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream {
            metrics: self.metrics,
            queue: self.queue,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Stream {
    metrics: Metrics,
    queue: Option<u32>,
}

impl Stream {
    /// Header values are bytes on the wire: read them as bytes, never unwrap UTF-8.
    fn header(&self, name: &str) -> String {
        self.get_http_request_header_bytes(name)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }

    fn reply(&self, status: u32, body: &str, headers: Vec<(&str, &str)>) -> Action {
        self.send_http_response(status, headers, Some(body.as_bytes()));
        Action::Pause
    }
}

impl Context for Stream {
    fn on_http_call_response(
        &mut self,
        _token: u32,
        headers: usize,
        body_size: usize,
        _trailers: usize,
    ) {
        if headers == 0 {
            self.send_http_response(503, vec![], Some(b"callout failed"));
            return;
        }
        let status = self
            .get_http_call_response_header_bytes(":status")
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default();
        let body = self
            .get_http_call_response_body(0, body_size)
            .unwrap_or_default();
        if status == "200" {
            self.add_http_request_header("x-callout-body", &String::from_utf8_lossy(&body));
            self.resume_http_request();
        } else {
            self.send_http_response(
                502,
                vec![("x-upstream-status", status.as_str())],
                Some(b"bad upstream"),
            );
        }
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, count: usize, _end_of_stream: bool) -> Action {
        let _ = hostcalls::increment_metric(self.metrics.requests, 1);
        let _ = hostcalls::increment_metric(self.metrics.active, 1);
        let _ = hostcalls::record_metric(self.metrics.sizes, count as u64);
        let op = self.header("x-op");
        match op.as_str() {
            "deny" => self.reply(
                403,
                "{\"code\":\"denied\"}",
                vec![("x-reason", "denied"), ("content-type", "application/json")],
            ),
            "callout" => {
                let cluster = match self.header("x-cluster") {
                    c if c.is_empty() => "idp".to_owned(),
                    c => c,
                };
                let headers = vec![
                    (":method", "GET"),
                    (":path", "/data"),
                    (":authority", "idp.local"),
                    ("x-from", "fixture"),
                ];
                match self.dispatch_http_call(
                    &cluster,
                    headers,
                    Some(b"ping"),
                    vec![],
                    Duration::from_secs(5),
                ) {
                    Ok(_) => Action::Pause,
                    Err(status) => self.reply(500, &format!("{status:?}"), vec![]),
                }
            }
            "shared-get" => match self.get_shared_data(&self.header("x-key")) {
                (Some(value), cas) => {
                    let cas = cas.unwrap_or(0).to_string();
                    self.reply(
                        200,
                        &String::from_utf8_lossy(&value),
                        vec![("x-cas", cas.as_str())],
                    )
                }
                (None, _) => self.reply(404, "no such key", vec![]),
            },
            "shared-set" => {
                let cas = self.header("x-cas").parse::<u32>().ok();
                match self.set_shared_data(
                    &self.header("x-key"),
                    Some(self.header("x-value").as_bytes()),
                    cas,
                ) {
                    Ok(()) => self.reply(200, "ok", vec![]),
                    Err(Status::CasMismatch) => self.reply(409, "cas mismatch", vec![]),
                    Err(status) => self.reply(500, &format!("{status:?}"), vec![]),
                }
            }
            "time" => {
                let proxy = self
                    .get_current_time()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                let wasi = std::time::SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                self.set_http_request_header("x-now-secs", Some(&proxy.as_secs().to_string()));
                self.set_http_request_header("x-wasi-now-secs", Some(&wasi.as_secs().to_string()));
                Action::Continue
            }
            "metric" => {
                let n = hostcalls::get_metric(self.metrics.requests).unwrap_or(0);
                self.set_http_request_header("x-requests", Some(&n.to_string()));
                let histogram = hostcalls::get_metric(self.metrics.sizes).err();
                self.set_http_request_header("x-histogram-get", Some(&format!("{histogram:?}")));
                Action::Continue
            }
            "log" => {
                trace!("level-trace");
                debug!("level-debug");
                info!("level-info");
                warn!("level-warn");
                error!("level-error");
                println!("to stdout");
                Action::Continue
            }
            "panic" => panic!("fixture panic on request"),
            "loop" => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "grow" => {
                // A deliberate leak, so the memory-flatness check has something to catch.
                std::mem::forget(vec![1u8; 64 * 1024]);
                Action::Continue
            }
            "unimplemented" => {
                let status = unsafe { proxy_fixture_not_a_host_call() };
                self.set_http_request_header("x-status", Some(&status.to_string()));
                Action::Continue
            }
            "foreign" => {
                let out = match hostcalls::call_foreign_function(
                    &self.header("x-function"),
                    Some(self.header("x-arg").as_bytes()),
                ) {
                    Ok(v) => String::from_utf8_lossy(&v.unwrap_or_default()).into_owned(),
                    Err(status) => format!("{status:?}"),
                };
                self.set_http_request_header("x-foreign", Some(&out));
                Action::Continue
            }
            "enqueue" => {
                let queue = hostcalls::resolve_shared_queue("", QUEUE)
                    .ok()
                    .flatten()
                    .or(self.queue);
                match queue {
                    Some(q) => {
                        let _ = hostcalls::enqueue_shared_queue(
                            q,
                            Some(self.header("x-value").as_bytes()),
                        );
                        Action::Continue
                    }
                    None => self.reply(500, "no queue", vec![]),
                }
            }
            "random" => {
                let hash = RandomState::new().hash_one("x");
                self.set_http_request_header("x-hash", Some(&hash.to_string()));
                Action::Continue
            }
            "reset" => {
                self.reset_http_request();
                Action::Pause
            }
            "property" => {
                let path = self.header("x-path");
                let value = self
                    .get_property(path.split('.').collect())
                    .map(|v| String::from_utf8_lossy(&v).into_owned())
                    .unwrap_or_else(|| "<none>".into());
                self.set_http_request_header("x-property", Some(&value));
                self.set_property(
                    vec!["filter_state", "fixture.claims"],
                    Some(self.header("x-claims").as_bytes()),
                );
                Action::Continue
            }
            _ => {
                // "echo": read, add, replace and remove headers.
                let seen = self.get_http_request_headers_bytes().len();
                self.add_http_request_header("x-fixture-seen", &seen.to_string());
                if self.get_http_request_header_bytes("x-replace").is_some() {
                    self.set_http_request_header("x-replace", Some("replaced"));
                }
                self.set_http_request_header("x-remove", None);
                Action::Continue
            }
        }
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            return Action::Pause;
        }
        let body = self.get_http_request_body(0, size).unwrap_or_default();
        self.set_http_request_header("x-body-len", Some(&body.len().to_string()));
        self.set_http_request_body(0, size, &body.to_ascii_uppercase());
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _count: usize, _end_of_stream: bool) -> Action {
        self.add_http_response_header("x-fixture-response", "1");
        Action::Continue
    }

    fn on_log(&mut self) {
        let _ = hostcalls::increment_metric(self.metrics.active, -1);
    }
}
