//! The proxy-wasm side: a root context per worker VM and an HTTP context per request,
//! each callback forwarded to the worker's [`Worker`] with the host calls behind
//! [`WasmHost`]. Nothing is decided here; no host result is unwrapped.

use crate::apply::Next;
use crate::extract;
use crate::fetch::MAX_BODY;
use crate::host::{self, WasmHost};
use crate::wire;
use crate::worker::{self, Worker};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};
use std::cell::RefCell;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|id| -> Box<dyn RootContext> {
        Box::new(Root { worker: Rc::new(RefCell::new(Worker::new(id))) })
    });
}}

type Shared = Rc<RefCell<Worker>>;

struct Root {
    worker: Shared,
}

struct Http {
    ctx: u32,
    worker: Shared,
    /// A local reply was sent: nothing of this request may move on.
    denied: bool,
}

/// A key fetch answered (or failed: Envoy calls back with no headers on reset or timeout).
fn fetch_done(worker: &Shared, token: u32, body_size: usize, restore_ctx: u32) {
    let mut w = worker.borrow_mut();
    if !w.is_fetch(token) {
        return;
    }
    let raw = host::header_map(MapType::HttpCallResponseHeaders);
    let headers = wire::decode_pairs(&raw);
    let status = extract::header(&headers, ":status").unwrap_or("");
    let cache_control = extract::header(&headers, "cache-control");
    let body = if body_size > MAX_BODY {
        None
    } else if body_size == 0 {
        Some(Vec::new())
    } else {
        Some(
            hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
                .ok()
                .flatten()
                .unwrap_or_default(),
        )
    };
    w.fetch_response(
        &WasmHost,
        token,
        status,
        body.as_deref(),
        cache_control,
        restore_ctx,
    );
}

impl Context for Root {
    fn on_http_call_response(&mut self, token: u32, _: usize, body_size: usize, _: usize) {
        let root = self.worker.borrow().root_id;
        fetch_done(&self.worker, token, body_size, root);
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
        let Some(cfg) = worker::parse_config(&bytes) else {
            return false;
        };
        self.worker.borrow_mut().configure(&WasmHost, cfg);
        true
    }

    fn on_tick(&mut self) {
        self.worker.borrow_mut().tick(&WasmHost);
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, ctx: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http {
            ctx,
            worker: self.worker.clone(),
            denied: false,
        }))
    }
}

impl Context for Http {
    fn on_http_call_response(&mut self, token: u32, _: usize, body_size: usize, _: usize) {
        fetch_done(&self.worker, token, body_size, self.ctx);
    }

    fn on_done(&mut self) -> bool {
        if let Ok(mut w) = self.worker.try_borrow_mut() {
            w.done(self.ctx);
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
        let next = self
            .worker
            .borrow_mut()
            .request_headers(&WasmHost, self.ctx, &headers);
        if next == Next::Pause && !self.waiting() {
            self.denied = true;
        }
        action(next)
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
        self.worker
            .try_borrow()
            .map_or(true, |w| w.waiting(self.ctx))
    }

    fn hold(&self) -> Action {
        if self.denied || self.waiting() {
            Action::Pause
        } else {
            Action::Continue
        }
    }
}

fn action(next: Next) -> Action {
    match next {
        Next::Continue => Action::Continue,
        Next::Pause => Action::Pause,
    }
}
