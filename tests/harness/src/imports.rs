//! The host functions: every `env.proxy_*` import of the proxy-wasm Rust SDK 0.2.x and the
//! WASI preview 1 calls Rust's std makes on wasm32-wasip1.
//!
//! A host call never panics and never trusts a guest pointer: bad memory is
//! `InvalidMemoryAccess`, malformed maps are `BadArgument`. Only `proc_exit` and a trap inside
//! the guest's own allocator end the call with a trap.

use std::time::Duration;

use wasmtime::{Caller, Extern, FuncType, Linker, Memory, Module, Val, ValType};

use crate::abi::{self, Headers, LogLevel, MetricKind, Status};
use crate::state::{
    lock, Callout, LocalResponse, LogEntry, Metric, MetricSlot, Queue, StreamState, WorkerData,
};

type C<'a> = Caller<'a, WorkerData>;

/// Why a host call did not return `Ok`.
enum Fail {
    Status(Status),
    Trap(wasmtime::Error),
}

impl From<Status> for Fail {
    fn from(s: Status) -> Fail {
        Fail::Status(s)
    }
}

impl From<wasmtime::Error> for Fail {
    fn from(e: wasmtime::Error) -> Fail {
        Fail::Trap(e)
    }
}

type Hr = Result<(), Fail>;

fn ret(r: Hr) -> wasmtime::Result<i32> {
    match r {
        Ok(()) => Ok(Status::Ok.code() as i32),
        Err(Fail::Status(s)) => Ok(s.code() as i32),
        Err(Fail::Trap(e)) => Err(e),
    }
}

fn memory(c: &mut C<'_>) -> Result<Memory, Fail> {
    match c.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(Status::InvalidMemoryAccess.into()),
    }
}

fn read(c: &mut C<'_>, ptr: i32, len: i32) -> Result<Vec<u8>, Fail> {
    let m = memory(c)?;
    let start = ptr as u32 as usize;
    let end = start
        .checked_add(len as u32 as usize)
        .ok_or(Status::InvalidMemoryAccess)?;
    match m.data(&*c).get(start..end) {
        Some(s) => Ok(s.to_vec()),
        None => Err(Status::InvalidMemoryAccess.into()),
    }
}

fn read_str(c: &mut C<'_>, ptr: i32, len: i32) -> Result<String, Fail> {
    Ok(String::from_utf8_lossy(&read(c, ptr, len)?).into_owned())
}

fn write(c: &mut C<'_>, ptr: i32, bytes: &[u8]) -> Hr {
    let m = memory(c)?;
    let start = ptr as u32 as usize;
    let end = start
        .checked_add(bytes.len())
        .ok_or(Status::InvalidMemoryAccess)?;
    match m.data_mut(&mut *c).get_mut(start..end) {
        Some(s) => {
            s.copy_from_slice(bytes);
            Ok(())
        }
        None => Err(Status::InvalidMemoryAccess.into()),
    }
}

fn write_u32(c: &mut C<'_>, ptr: i32, v: u32) -> Hr {
    write(c, ptr, &v.to_le_bytes())
}

fn write_u64(c: &mut C<'_>, ptr: i32, v: u64) -> Hr {
    write(c, ptr, &v.to_le_bytes())
}

/// Copies `data` into guest memory the way the SDK expects to free it: allocated with the
/// guest's own `proxy_on_memory_allocate` (or `malloc`), the pointer and length written
/// to the two return slots. Empty data is returned as a null pointer, as Envoy does.
fn return_bytes(c: &mut C<'_>, data: &[u8], ptr_ptr: i32, size_ptr: i32) -> Hr {
    if data.is_empty() {
        write_u32(c, ptr_ptr, 0)?;
        return write_u32(c, size_ptr, 0);
    }
    let alloc = c
        .get_export("proxy_on_memory_allocate")
        .or_else(|| c.get_export("malloc"))
        .and_then(Extern::into_func)
        .ok_or(Status::InternalFailure)?;
    let alloc = alloc
        .typed::<i32, i32>(&*c)
        .map_err(|_| Status::InternalFailure)?;
    let addr = alloc.call(&mut *c, data.len() as i32)?;
    if addr == 0 {
        return Err(Status::InvalidMemoryAccess.into());
    }
    write(c, addr, data)?;
    write_u32(c, ptr_ptr, addr as u32)?;
    write_u32(c, size_ptr, data.len() as u32)
}

fn now_ns(c: &C<'_>) -> u64 {
    lock(&c.data().shared).now_ns
}

fn lower(map: Headers) -> Headers {
    map.into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

/// The header map `map_type` of the current context, read-only.
fn map_get(d: &WorkerData, map_type: u32) -> Result<&Headers, Status> {
    match map_type {
        abi::MAP_HTTP_CALL_RESPONSE_HEADERS => d
            .call_response
            .as_ref()
            .map(|r| &r.headers)
            .ok_or(Status::NotFound),
        abi::MAP_HTTP_CALL_RESPONSE_TRAILERS => d
            .call_response
            .as_ref()
            .map(|r| &r.trailers)
            .ok_or(Status::NotFound),
        abi::MAP_REQUEST_HEADERS
        | abi::MAP_REQUEST_TRAILERS
        | abi::MAP_RESPONSE_HEADERS
        | abi::MAP_RESPONSE_TRAILERS => {
            let s = d.streams.get(&d.effective).ok_or(Status::NotFound)?;
            Ok(match map_type {
                abi::MAP_REQUEST_HEADERS => &s.request_headers,
                abi::MAP_REQUEST_TRAILERS => &s.request_trailers,
                abi::MAP_RESPONSE_HEADERS => &s.response_headers,
                _ => &s.response_trailers,
            })
        }
        _ => Err(Status::BadArgument),
    }
}

/// The header map `map_type` of the current context, for writing (callout answers are
/// read-only, as in Envoy).
fn map_mut(d: &mut WorkerData, map_type: u32) -> Result<&mut Headers, Status> {
    let effective = d.effective;
    match map_type {
        abi::MAP_REQUEST_HEADERS
        | abi::MAP_REQUEST_TRAILERS
        | abi::MAP_RESPONSE_HEADERS
        | abi::MAP_RESPONSE_TRAILERS => {
            let s = d.streams.get_mut(&effective).ok_or(Status::NotFound)?;
            Ok(match map_type {
                abi::MAP_REQUEST_HEADERS => &mut s.request_headers,
                abi::MAP_REQUEST_TRAILERS => &mut s.request_trailers,
                abi::MAP_RESPONSE_HEADERS => &mut s.response_headers,
                _ => &mut s.response_trailers,
            })
        }
        _ => Err(Status::BadArgument),
    }
}

fn buffer_get(d: &WorkerData, buffer_type: u32) -> Result<&[u8], Status> {
    match buffer_type {
        abi::BUFFER_REQUEST_BODY | abi::BUFFER_RESPONSE_BODY => {
            let s = d.streams.get(&d.effective).ok_or(Status::NotFound)?;
            Ok(if buffer_type == abi::BUFFER_REQUEST_BODY {
                &s.request_body
            } else {
                &s.response_body
            })
        }
        abi::BUFFER_HTTP_CALL_RESPONSE_BODY => d
            .call_response
            .as_ref()
            .map(|r| r.body.as_slice())
            .ok_or(Status::NotFound),
        abi::BUFFER_VM_CONFIGURATION => Ok(&d.vm_config),
        abi::BUFFER_PLUGIN_CONFIGURATION => Ok(&d.plugin_config),
        abi::BUFFER_CALL_DATA => Err(Status::NotFound),
        _ => Err(Status::BadArgument),
    }
}

/// Properties Envoy derives from the current request, for the common paths.
fn derived_property(d: &WorkerData, path: &[String]) -> Option<Vec<u8>> {
    let s = d.streams.get(&d.effective)?;
    let h = |name: &str| {
        s.request_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["request", "path"] => h(":path"),
        ["request", "url_path"] => {
            h(":path").map(|v| v.split(|b| *b == b'?').next().unwrap_or(&[]).to_vec())
        }
        ["request", "query"] => h(":path").map(|v| match v.iter().position(|b| *b == b'?') {
            Some(i) => v[i + 1..].to_vec(),
            None => Vec::new(),
        }),
        ["request", "host"] => h(":authority"),
        ["request", "method"] => h(":method"),
        ["request", "scheme"] => h(":scheme"),
        ["request", "id"] => h("x-request-id"),
        ["request", "headers", name] => h(name),
        _ => None,
    }
}

macro_rules! env_fn {
    ($linker:expr, $name:literal, |$c:ident $(, $arg:ident : $ty:ty)*| $body:block) => {
        $linker.func_wrap("env", $name, |mut $c: C<'_>, $($arg: $ty),*| -> wasmtime::Result<i32> {
            let c = &mut $c;
            // The closure gives the body a scope for `?`.
            #[allow(clippy::redundant_closure_call)]
            let r: Hr = (|| { let $c = &mut *c; $body })();
            ret(r)
        })?;
    };
}

/// Defines every host function on `linker`, then stubs whatever else `module` imports.
/// Returns the stubbed imports as `module.name`.
pub(crate) fn link(
    linker: &mut Linker<WorkerData>,
    module: &Module,
) -> wasmtime::Result<Vec<String>> {
    link_proxy(linker)?;
    link_wasi(linker)?;
    stub_unknown(linker, module)
}

fn link_proxy(linker: &mut Linker<WorkerData>) -> wasmtime::Result<()> {
    env_fn!(linker, "proxy_log", |c, level: i32, ptr: i32, len: i32| {
        let level = LogLevel::from_code(level as u32).ok_or(Status::BadArgument)?;
        let message = read_str(c, ptr, len)?;
        let worker = c.data().index;
        lock(&c.data().shared).push_log(LogEntry {
            worker,
            level,
            message,
        });
        Ok(())
    });
    env_fn!(linker, "proxy_get_log_level", |c, ptr: i32| {
        let level = lock(&c.data().shared).log_level;
        write_u32(c, ptr, level.code())
    });
    env_fn!(
        linker,
        "proxy_get_current_time_nanoseconds",
        |c, ptr: i32| {
            let now = now_ns(c);
            write_u64(c, ptr, now)
        }
    );
    env_fn!(
        linker,
        "proxy_set_tick_period_milliseconds",
        |c, period: i32| {
            let now = now_ns(c);
            let d = c.data_mut();
            d.tick_period_ms = period as u32;
            d.next_tick_ns = match period as u32 {
                0 => None,
                ms => Some(now + u64::from(ms) * 1_000_000),
            };
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_get_buffer_bytes",
        |c, buffer_type: i32, start: i32, max: i32, ptr_ptr: i32, size_ptr: i32| {
            let data = {
                let buf = buffer_get(c.data(), buffer_type as u32)?;
                let start = (start as u32 as usize).min(buf.len());
                let end = start.saturating_add(max as u32 as usize).min(buf.len());
                buf[start..end].to_vec()
            };
            return_bytes(c, &data, ptr_ptr, size_ptr)
        }
    );
    env_fn!(
        linker,
        "proxy_set_buffer_bytes",
        |c, buffer_type: i32, start: i32, size: i32, ptr: i32, len: i32| {
            let data = read(c, ptr, len)?;
            let d = c.data_mut();
            let effective = d.effective;
            let s = d.streams.get_mut(&effective).ok_or(Status::NotFound)?;
            let buf = match buffer_type as u32 {
                abi::BUFFER_REQUEST_BODY => &mut s.request_body,
                abi::BUFFER_RESPONSE_BODY => &mut s.response_body,
                _ => return Err(Status::BadArgument.into()),
            };
            // Envoy: (0, 0) prepends, (len, _) appends, (0, >=len) replaces.
            let start = (start as u32 as usize).min(buf.len());
            let end = start.saturating_add(size as u32 as usize).min(buf.len());
            buf.splice(start..end, data);
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_get_header_map_pairs",
        |c, map_type: i32, ptr_ptr: i32, size_ptr: i32| {
            let bytes = abi::serialize_map(map_get(c.data(), map_type as u32)?);
            return_bytes(c, &bytes, ptr_ptr, size_ptr)
        }
    );
    env_fn!(
        linker,
        "proxy_set_header_map_pairs",
        |c, map_type: i32, ptr: i32, len: i32| {
            let bytes = read(c, ptr, len)?;
            let map = abi::deserialize_map(&bytes).ok_or(Status::BadArgument)?;
            *map_mut(c.data_mut(), map_type as u32)? = lower(map);
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_get_header_map_value",
        |c, map_type: i32, kp: i32, kl: i32, ptr_ptr: i32, size_ptr: i32| {
            let key = read_str(c, kp, kl)?;
            let value = map_get(c.data(), map_type as u32)?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                .map(|(_, v)| v.clone())
                .ok_or(Status::NotFound)?;
            return_bytes(c, &value, ptr_ptr, size_ptr)
        }
    );
    env_fn!(
        linker,
        "proxy_remove_header_map_value",
        |c, map_type: i32, kp: i32, kl: i32| {
            let key = read_str(c, kp, kl)?;
            map_mut(c.data_mut(), map_type as u32)?.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_replace_header_map_value",
        |c, map_type: i32, kp: i32, kl: i32, vp: i32, vl: i32| {
            let key = read_str(c, kp, kl)?.to_ascii_lowercase();
            let value = read(c, vp, vl)?;
            let map = map_mut(c.data_mut(), map_type as u32)?;
            match map.iter().position(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                Some(i) => {
                    map[i].1 = value;
                    let mut n = 0;
                    map.retain(|(k, _)| {
                        n += 1;
                        n - 1 == i || !k.eq_ignore_ascii_case(&key)
                    });
                }
                None => map.push((key, value)),
            }
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_add_header_map_value",
        |c, map_type: i32, kp: i32, kl: i32, vp: i32, vl: i32| {
            let key = read_str(c, kp, kl)?.to_ascii_lowercase();
            let value = read(c, vp, vl)?;
            map_mut(c.data_mut(), map_type as u32)?.push((key, value));
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_get_property",
        |c, pp: i32, pl: i32, ptr_ptr: i32, size_ptr: i32| {
            let path = abi::split_property_path(&read(c, pp, pl)?);
            let value = {
                let d = c.data();
                let local = match d.streams.get(&d.effective) {
                    Some(s) => s.filter_state.get(&path).cloned(),
                    None => d.root_state.get(&path).cloned(),
                };
                local
                    .or_else(|| derived_property(d, &path))
                    .or_else(|| lock(&d.shared).properties.get(&path).cloned())
                    .ok_or(Status::NotFound)?
            };
            return_bytes(c, &value, ptr_ptr, size_ptr)
        }
    );
    env_fn!(
        linker,
        "proxy_set_property",
        |c, pp: i32, pl: i32, vp: i32, vl: i32| {
            let path = abi::split_property_path(&read(c, pp, pl)?);
            let value = read(c, vp, vl)?;
            let d = c.data_mut();
            let effective = d.effective;
            match d.streams.get_mut(&effective) {
                Some(s) => s.filter_state.insert(path, value),
                None => d.root_state.insert(path, value),
            };
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_get_shared_data",
        |c, kp: i32, kl: i32, ptr_ptr: i32, size_ptr: i32, cas_ptr: i32| {
            let key = read_str(c, kp, kl)?;
            let (value, cas) = lock(&c.data().shared)
                .shared_data
                .get(&key)
                .cloned()
                .ok_or(Status::NotFound)?;
            return_bytes(c, &value, ptr_ptr, size_ptr)?;
            write_u32(c, cas_ptr, cas)
        }
    );
    env_fn!(
        linker,
        "proxy_set_shared_data",
        |c, kp: i32, kl: i32, vp: i32, vl: i32, cas: i32| {
            let key = read_str(c, kp, kl)?;
            let value = read(c, vp, vl)?;
            lock(&c.data().shared).set_shared(&key, value, cas as u32)?;
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_register_shared_queue",
        |c, np: i32, nl: i32, id_ptr: i32| {
            let name = read_str(c, np, nl)?;
            let owner = (c.data().index, c.data().effective);
            let id = {
                let mut s = lock(&c.data().shared);
                match s.queues.iter().position(|q| q.name == name) {
                    Some(i) => {
                        s.queues[i].owner = owner;
                        i + 1
                    }
                    None => {
                        s.queues.push(Queue {
                            name,
                            owner,
                            items: Default::default(),
                        });
                        s.queues.len()
                    }
                }
            };
            write_u32(c, id_ptr, id as u32)
        }
    );
    env_fn!(
        linker,
        "proxy_resolve_shared_queue",
        |c, _vp: i32, _vl: i32, np: i32, nl: i32, id_ptr: i32| {
            // One module, one VM id: the vm_id argument cannot name another VM here.
            let name = read_str(c, np, nl)?;
            let id = lock(&c.data().shared)
                .queues
                .iter()
                .position(|q| q.name == name)
                .ok_or(Status::NotFound)?;
            write_u32(c, id_ptr, id as u32 + 1)
        }
    );
    env_fn!(
        linker,
        "proxy_enqueue_shared_queue",
        |c, id: i32, vp: i32, vl: i32| {
            let value = read(c, vp, vl)?;
            let mut s = lock(&c.data().shared);
            let i = (id as u32 as usize)
                .checked_sub(1)
                .ok_or(Status::NotFound)?;
            let q = s.queues.get_mut(i).ok_or(Status::NotFound)?;
            q.items.push_back(value);
            let (w, ctx) = q.owner;
            // Delivered by the host once the current guest call returns, as Envoy posts it.
            s.queue_ready.push_back((w, ctx, id as u32));
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_dequeue_shared_queue",
        |c, id: i32, ptr_ptr: i32, size_ptr: i32| {
            let item = {
                let mut s = lock(&c.data().shared);
                let i = (id as u32 as usize)
                    .checked_sub(1)
                    .ok_or(Status::NotFound)?;
                let q = s.queues.get_mut(i).ok_or(Status::NotFound)?;
                q.items.pop_front().ok_or(Status::Empty)?
            };
            return_bytes(c, &item, ptr_ptr, size_ptr)
        }
    );
    env_fn!(linker, "proxy_continue_stream", |c, stream_type: i32| {
        let d = c.data_mut();
        let effective = d.effective;
        let s = d.streams.get_mut(&effective).ok_or(Status::BadArgument)?;
        match stream_type as u32 {
            abi::STREAM_HTTP_REQUEST | abi::STREAM_HTTP_RESPONSE => {
                if s.state == StreamState::Paused {
                    s.state = StreamState::Flowing;
                    s.resumed += 1;
                }
                Ok(())
            }
            _ => Err(Status::BadArgument.into()),
        }
    });
    env_fn!(linker, "proxy_close_stream", |c, _stream_type: i32| {
        let d = c.data_mut();
        let effective = d.effective;
        let s = d.streams.get_mut(&effective).ok_or(Status::BadArgument)?;
        s.state = StreamState::Reset;
        Ok(())
    });
    env_fn!(
        linker,
        "proxy_send_local_response",
        |c, status: i32, dp: i32, dl: i32, bp: i32, bl: i32, hp: i32, hl: i32, grpc: i32| {
            let details = read_str(c, dp, dl)?;
            let body = read(c, bp, bl)?;
            let headers = abi::deserialize_map(&read(c, hp, hl)?).ok_or(Status::BadArgument)?;
            let d = c.data_mut();
            let effective = d.effective;
            let s = d.streams.get_mut(&effective).ok_or(Status::BadArgument)?;
            s.local_response = Some(LocalResponse {
                status: status as u32,
                headers: lower(headers),
                body,
                details,
                grpc_status: grpc,
            });
            s.state = StreamState::Responded;
            Ok(())
        }
    );
    env_fn!(
        linker,
        "proxy_http_call",
        |c,
         up: i32,
         ul: i32,
         hp: i32,
         hl: i32,
         bp: i32,
         bl: i32,
         tp: i32,
         tl: i32,
         timeout: i32,
         token_ptr: i32| {
            let upstream = read_str(c, up, ul)?;
            let headers = abi::deserialize_map(&read(c, hp, hl)?).ok_or(Status::BadArgument)?;
            let body = read(c, bp, bl)?;
            let trailers = abi::deserialize_map(&read(c, tp, tl)?).ok_or(Status::BadArgument)?;
            // Envoy refuses a callout without these pseudo-headers.
            for required in [":method", ":path", ":authority"] {
                if !headers.iter().any(|(k, _)| k == required) {
                    return Err(Status::BadArgument.into());
                }
            }
            let (worker, context_id) = (c.data().index, c.data().effective);
            let token = {
                let mut s = lock(&c.data().shared);
                if let Some(clusters) = &s.clusters {
                    if !clusters.contains(&upstream) {
                        return Err(Status::BadArgument.into());
                    }
                }
                s.next_token = s.next_token.wrapping_add(1).max(1);
                let token = s.next_token;
                let timeout = Duration::from_millis(u64::from(timeout as u32));
                let deadline_ns = s.now_ns + timeout.as_nanos() as u64;
                s.callouts.insert(
                    token,
                    Callout {
                        id: token,
                        worker,
                        context_id,
                        upstream,
                        headers,
                        body,
                        trailers,
                        timeout,
                        deadline_ns,
                    },
                );
                token
            };
            write_u32(c, token_ptr, token)
        }
    );
    env_fn!(linker, "proxy_set_effective_context", |c, id: i32| {
        let d = c.data_mut();
        let id = id as u32;
        if id == d.root_id || d.streams.contains_key(&id) {
            d.effective = id;
            Ok(())
        } else {
            Err(Status::BadArgument.into())
        }
    });
    env_fn!(
        linker,
        "proxy_call_foreign_function",
        |c, np: i32, nl: i32, ap: i32, al: i32, ptr_ptr: i32, size_ptr: i32| {
            let name = read_str(c, np, nl)?;
            let args = read(c, ap, al)?;
            let f = lock(&c.data().shared)
                .foreign
                .get(&name)
                .cloned()
                .ok_or(Status::NotFound)?;
            let out = f(&args)?;
            return_bytes(c, &out, ptr_ptr, size_ptr)
        }
    );
    env_fn!(linker, "proxy_done", |_c| { Ok(()) });
    env_fn!(
        linker,
        "proxy_define_metric",
        |c, kind: i32, np: i32, nl: i32, id_ptr: i32| {
            let kind = MetricKind::from_code(kind as u32).ok_or(Status::BadArgument)?;
            let name = read_str(c, np, nl)?;
            let id = {
                let mut s = lock(&c.data().shared);
                // Envoy's stats are process-wide: every worker defining a name gets the same metric.
                match s.metrics.iter().position(|m| m.name == name) {
                    Some(i) if s.metrics[i].kind == kind => i + 1,
                    Some(_) => return Err(Status::BadArgument.into()),
                    None => {
                        let value = match kind {
                            MetricKind::Counter => Metric::Counter(0),
                            MetricKind::Gauge => Metric::Gauge(0),
                            MetricKind::Histogram => Metric::Histogram(Vec::new()),
                        };
                        s.metrics.push(MetricSlot { name, kind, value });
                        s.metrics.len()
                    }
                }
            };
            write_u32(c, id_ptr, id as u32)
        }
    );
    env_fn!(linker, "proxy_get_metric", |c, id: i32, ptr: i32| {
        let v = {
            let s = lock(&c.data().shared);
            let i = (id as u32 as usize)
                .checked_sub(1)
                .ok_or(Status::NotFound)?;
            match &s.metrics.get(i).ok_or(Status::NotFound)?.value {
                Metric::Counter(v) => *v,
                Metric::Gauge(v) => *v as u64,
                Metric::Histogram(_) => return Err(Status::BadArgument.into()),
            }
        };
        write_u64(c, ptr, v)
    });
    env_fn!(linker, "proxy_record_metric", |c, id: i32, value: i64| {
        let mut s = lock(&c.data().shared);
        let i = (id as u32 as usize)
            .checked_sub(1)
            .ok_or(Status::NotFound)?;
        match &mut s.metrics.get_mut(i).ok_or(Status::NotFound)?.value {
            Metric::Counter(v) => *v = value as u64,
            Metric::Gauge(v) => *v = value,
            Metric::Histogram(samples) => samples.push(value as u64),
        }
        Ok(())
    });
    env_fn!(
        linker,
        "proxy_increment_metric",
        |c, id: i32, offset: i64| {
            let mut s = lock(&c.data().shared);
            let i = (id as u32 as usize)
                .checked_sub(1)
                .ok_or(Status::NotFound)?;
            match &mut s.metrics.get_mut(i).ok_or(Status::NotFound)?.value {
                Metric::Counter(_) if offset < 0 => return Err(Status::BadArgument.into()),
                Metric::Counter(v) => *v = v.wrapping_add(offset as u64),
                Metric::Gauge(v) => *v = v.wrapping_add(offset),
                Metric::Histogram(_) => return Err(Status::BadArgument.into()),
            }
            Ok(())
        }
    );
    Ok(())
}

// WASI errno values.
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOSYS: i32 = 52;

const WASI: &str = "wasi_snapshot_preview1";

fn errno(r: Hr) -> wasmtime::Result<i32> {
    match r {
        Ok(()) => Ok(ERRNO_SUCCESS),
        Err(Fail::Status(_)) => Ok(ERRNO_FAULT),
        Err(Fail::Trap(e)) => Err(e),
    }
}

fn link_wasi(linker: &mut Linker<WorkerData>) -> wasmtime::Result<()> {
    linker.func_wrap(
        WASI,
        "fd_write",
        |mut c: C<'_>, fd: i32, iovs: i32, n: i32, written: i32| -> wasmtime::Result<i32> {
            if fd != 1 && fd != 2 {
                return Ok(ERRNO_BADF);
            }
            let c = &mut c;
            errno((|| {
                let mut out = Vec::new();
                for i in 0..(n as u32).min(1024) {
                    let iov = read(c, iovs.wrapping_add((i * 8) as i32), 8)?;
                    let ptr = i32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
                    let len = i32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
                    out.extend(read(c, ptr, len)?);
                }
                write_u32(c, written, out.len() as u32)?;
                let d = c.data_mut();
                let sink = if fd == 1 {
                    &mut d.stdout
                } else {
                    &mut d.stderr
                };
                sink.extend_from_slice(&out);
                // Keep a line-oriented copy in the log so trap reports show what std printed.
                let level = if fd == 1 {
                    LogLevel::Info
                } else {
                    LogLevel::Error
                };
                let text = String::from_utf8_lossy(&out).trim_end().to_owned();
                if !text.is_empty() {
                    let worker = d.index;
                    lock(&d.shared).push_log(LogEntry {
                        worker,
                        level,
                        message: format!("[fd {fd}] {text}"),
                    });
                }
                Ok(())
            })())
        },
    )?;
    linker.func_wrap(
        WASI,
        "clock_time_get",
        |mut c: C<'_>, id: i32, _precision: i64, ptr: i32| -> wasmtime::Result<i32> {
            // Realtime and monotonic both follow the host's controllable clock.
            if !(0..=3).contains(&id) {
                return Ok(ERRNO_INVAL);
            }
            let now = now_ns(&c);
            errno(write_u64(&mut c, ptr, now))
        },
    )?;
    linker.func_wrap(
        WASI,
        "clock_res_get",
        |mut c: C<'_>, _id: i32, ptr: i32| -> wasmtime::Result<i32> {
            errno(write_u64(&mut c, ptr, 1))
        },
    )?;
    linker.func_wrap(
        WASI,
        "random_get",
        |mut c: C<'_>, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            // Deterministic per worker, so hash seeds and test runs repeat exactly.
            let mut bytes = vec![0u8; len as u32 as usize];
            let mut state = c.data().rng;
            for chunk in bytes.chunks_mut(8) {
                state = crate::fuzz::splitmix64(&mut state);
                chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
            }
            c.data_mut().rng = state;
            errno(write(&mut c, ptr, &bytes))
        },
    )?;
    for (count_fn, get_fn) in [
        ("environ_sizes_get", "environ_get"),
        ("args_sizes_get", "args_get"),
    ] {
        linker.func_wrap(
            WASI,
            count_fn,
            |mut c: C<'_>, count: i32, size: i32| -> wasmtime::Result<i32> {
                errno(write_u32(&mut c, count, 0).and_then(|_| write_u32(&mut c, size, 0)))
            },
        )?;
        linker.func_wrap(
            WASI,
            get_fn,
            |_c: C<'_>, _a: i32, _b: i32| -> wasmtime::Result<i32> { Ok(ERRNO_SUCCESS) },
        )?;
    }
    linker.func_wrap(WASI, "sched_yield", || -> i32 { ERRNO_SUCCESS })?;
    linker.func_wrap(WASI, "proc_exit", |code: i32| -> wasmtime::Result<()> {
        wasmtime::bail!("guest called proc_exit({code})")
    })?;
    Ok(())
}

/// Links every other import as a stub that records the call and answers `Unimplemented`
/// (proxy-wasm) or `ENOSYS` (WASI), so a module that imports more than the SDK still loads.
fn stub_unknown(linker: &mut Linker<WorkerData>, module: &Module) -> wasmtime::Result<Vec<String>> {
    let mut stubbed = Vec::new();
    let mut missing = Vec::new();
    for import in module.imports() {
        if let Some(ty) = import.ty().func() {
            missing.push((
                import.module().to_owned(),
                import.name().to_owned(),
                ty.clone(),
            ));
        }
    }
    for (m, n, ty) in missing {
        let answer = if m == WASI {
            ERRNO_NOSYS
        } else {
            Status::Unimplemented.code() as i32
        };
        let label = format!("{m}.{n}");
        let results: Vec<ValType> = ty.results().collect();
        let ty = FuncType::new(module.engine(), ty.params(), results.clone());
        let name = label.clone();
        // Defining a name the harness already implements fails (no shadowing): that is how
        // the implemented ones are skipped.
        let defined = linker.func_new(&m, &n, ty, move |c: C<'_>, _args, out| {
            lock(&c.data().shared).unimplemented.push(label.clone());
            for (slot, t) in out.iter_mut().zip(&results) {
                *slot = match t {
                    ValType::I32 => Val::I32(answer),
                    ValType::I64 => Val::I64(i64::from(answer)),
                    ValType::F32 => Val::F32(0),
                    ValType::F64 => Val::F64(0),
                    _ => Val::null_func_ref(),
                };
            }
            Ok(())
        });
        if defined.is_ok() {
            stubbed.push(name);
        }
    }
    Ok(stubbed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Shared, WorkerData};
    use std::sync::{Arc, Mutex};

    /// Every `env` import of the proxy-wasm Rust SDK 0.2.5 (`hostcalls.rs`).
    const SDK_IMPORTS: &[&str] = &[
        "proxy_log",
        "proxy_get_log_level",
        "proxy_get_current_time_nanoseconds",
        "proxy_set_tick_period_milliseconds",
        "proxy_get_buffer_bytes",
        "proxy_set_buffer_bytes",
        "proxy_get_header_map_pairs",
        "proxy_set_header_map_pairs",
        "proxy_get_header_map_value",
        "proxy_remove_header_map_value",
        "proxy_replace_header_map_value",
        "proxy_add_header_map_value",
        "proxy_get_property",
        "proxy_set_property",
        "proxy_get_shared_data",
        "proxy_set_shared_data",
        "proxy_register_shared_queue",
        "proxy_resolve_shared_queue",
        "proxy_dequeue_shared_queue",
        "proxy_enqueue_shared_queue",
        "proxy_continue_stream",
        "proxy_close_stream",
        "proxy_send_local_response",
        "proxy_http_call",
        "proxy_grpc_call",
        "proxy_grpc_stream",
        "proxy_grpc_send",
        "proxy_grpc_cancel",
        "proxy_grpc_close",
        "proxy_get_status",
        "proxy_set_effective_context",
        "proxy_call_foreign_function",
        "proxy_done",
        "proxy_define_metric",
        "proxy_get_metric",
        "proxy_record_metric",
        "proxy_increment_metric",
    ];

    /// The SDK imports the harness deliberately leaves to the `Unimplemented` stub: gRPC.
    const SDK_STUBBED: &[&str] = &[
        "proxy_grpc_call",
        "proxy_grpc_stream",
        "proxy_grpc_send",
        "proxy_grpc_cancel",
        "proxy_grpc_close",
        "proxy_get_status",
    ];

    #[test]
    fn every_sdk_import_but_grpc_has_a_real_implementation() {
        let engine = wasmtime::Engine::default();
        let mut linker = Linker::<WorkerData>::new(&engine);
        link_proxy(&mut linker).unwrap();
        link_wasi(&mut linker).unwrap();
        let shared = Arc::new(Mutex::new(Shared::new(0)));
        let mut store = wasmtime::Store::new(&engine, WorkerData::new(0, shared, Vec::new()));
        for name in SDK_IMPORTS {
            let linked = linker.get(&mut store, "env", name).is_ok();
            assert_eq!(linked, !SDK_STUBBED.contains(name), "{name}");
        }
    }
}
