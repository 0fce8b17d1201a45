//! Headers, bodies, local responses, properties, configuration, logs, metrics and the clock,
//! proved through the fixture filter.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::{fixture, host};
use jwtgate_harness::{Action, Host, LogLevel, Metric, Status, StreamState};

#[test]
fn request_headers_are_read_added_replaced_and_removed() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request(&[
            (":path", "/a"),
            ("X-Replace", "old"),
            ("x-remove", "gone"),
            ("x-keep", "kept"),
        ])
        .unwrap();
    assert_eq!(out.action, Action::Continue);
    assert_eq!(out.state, StreamState::Flowing);
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.request_header("x-fixture-seen").as_deref(), Some("4"));
    assert_eq!(s.request_header("x-replace").as_deref(), Some("replaced"));
    assert_eq!(s.request_header("x-remove"), None);
    assert_eq!(s.request_header("x-keep").as_deref(), Some("kept"));
}

#[test]
fn raw_header_bytes_reach_the_filter_unchanged() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request_raw(&[(":path", b"/"), ("x-junk", b"\xff\xfe\x00")])
        .unwrap();
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.request_headers[1].1, b"\xff\xfe\x00");
}

#[test]
fn a_local_response_is_recorded_with_status_headers_and_body() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "deny")])
        .unwrap();
    assert_eq!(out.action, Action::Pause);
    assert_eq!(out.state, StreamState::Responded);
    let r = out.local_response.unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-reason").as_deref(), Some("denied"));
    assert_eq!(r.body_text(), r#"{"code":"denied"}"#);
    assert_eq!(r.grpc_status, -1);
}

#[test]
fn a_reset_is_recorded() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "reset")])
        .unwrap();
    assert_eq!(out.state, StreamState::Reset);
}

#[test]
fn request_bodies_are_read_and_rewritten() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request_with_body(&[(":path", "/"), (":method", "POST")], b"hello")
        .unwrap();
    assert_eq!(out.action, Action::Continue);
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.request_header("x-body-len").as_deref(), Some("5"));
    assert_eq!(s.request_body, b"HELLO");
}

#[test]
fn response_headers_pass_through_the_filter_and_finish_closes_the_stream() {
    let mut host = host("");
    let out = host.worker(0).request(&[(":path", "/")]).unwrap();
    assert_eq!(
        host.respond(out.stream, &[(":status", "204")]).unwrap(),
        Action::Continue
    );
    let s = host.finish(out.stream).unwrap();
    assert_eq!(
        s.response_header("x-fixture-response").as_deref(),
        Some("1")
    );
    assert!(host.stream(out.stream).is_err());
    assert!(host.open_streams(0).is_empty());
    // on_log ran: the active-requests gauge went back down.
    assert_eq!(host.metric("fixture.active"), Some(Metric::Gauge(0)));
}

#[test]
fn properties_are_derived_from_the_request_or_set_by_the_host_and_filter_state_is_kept() {
    let mut host = Host::new(fixture())
        .property(&["plugin_name"], "fixture")
        .configure("")
        .unwrap();
    let out = host
        .worker(0)
        .request(&[
            (":path", "/p?q=1"),
            ("x-op", "property"),
            ("x-path", "request.url_path"),
            ("x-claims", "{\"sub\":\"a\"}"),
        ])
        .unwrap();
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.request_header("x-property").as_deref(), Some("/p"));
    assert_eq!(
        s.filter_state(&["filter_state", "fixture.claims"]),
        Some(&b"{\"sub\":\"a\"}"[..])
    );

    let out = host
        .worker(0)
        .request(&[
            (":path", "/"),
            ("x-op", "property"),
            ("x-path", "plugin_name"),
        ])
        .unwrap();
    assert_eq!(
        host.stream(out.stream)
            .unwrap()
            .request_header("x-property")
            .as_deref(),
        Some("fixture")
    );

    let out = host
        .worker(0)
        .request(&[
            (":path", "/"),
            ("x-op", "property"),
            ("x-path", "no.such.thing"),
        ])
        .unwrap();
    assert_eq!(
        host.stream(out.stream)
            .unwrap()
            .request_header("x-property")
            .as_deref(),
        Some("<none>")
    );
    // The root context's set_property lands in its own state.
    assert_eq!(
        host.root_property(0, &["fixture", "configured"]).as_deref(),
        Some(&b""[..])
    );
}

#[test]
fn vm_and_plugin_configuration_reach_the_filter_and_a_refusal_is_reported() {
    let host = Host::new(fixture())
        .vm_config("vm-cfg")
        .configure("tick_ms=0")
        .unwrap();
    assert!(host.configured());
    assert!(host.logged(LogLevel::Info, "vm start: vm-cfg"));
    assert!(host.logged(LogLevel::Info, "configured: tick_ms=0"));

    let mut host = Host::new(fixture()).workers(2).configure("fail=1").unwrap();
    assert!(!host.configured());
    assert_eq!(host.configure_results(), &[false, false]);
    assert!(host.logged(LogLevel::Error, "refusing configuration"));
    // A later push of a good configuration is accepted.
    assert!(host.configure("").unwrap());
    assert!(host.configured());
}

#[test]
fn logs_keep_levels_and_stdout_is_captured() {
    let mut host = host("");
    host.clear_logs();
    host.worker(0)
        .request(&[(":path", "/"), ("x-op", "log")])
        .unwrap();
    let levels: Vec<(LogLevel, String)> = host
        .logs()
        .into_iter()
        .map(|l| (l.level, l.message))
        .collect();
    for (level, msg) in [
        (LogLevel::Trace, "level-trace"),
        (LogLevel::Debug, "level-debug"),
        (LogLevel::Info, "level-info"),
        (LogLevel::Warn, "level-warn"),
        (LogLevel::Error, "level-error"),
    ] {
        assert!(
            levels.contains(&(level, msg.to_string())),
            "{msg} missing from {levels:?}"
        );
    }
    assert_eq!(host.stdout(0), "to stdout\n");

    // The host's level filters what it keeps.
    let mut host = Host::new(fixture())
        .log_level(LogLevel::Warn)
        .configure("")
        .unwrap();
    host.worker(0)
        .request(&[(":path", "/"), ("x-op", "log")])
        .unwrap();
    assert!(!host.logged(LogLevel::Trace, "level-info"));
    assert!(host.logged(LogLevel::Warn, "level-warn"));
}

#[test]
fn metrics_are_defined_incremented_recorded_and_read_back_across_workers() {
    let mut host = Host::new(fixture()).workers(2).configure("").unwrap();
    host.worker(0)
        .request(&[(":path", "/"), ("a", "1")])
        .unwrap();
    host.worker(1).request(&[(":path", "/")]).unwrap();
    let out = host
        .worker(1)
        .request(&[(":path", "/"), ("x-op", "metric")])
        .unwrap();
    assert_eq!(host.metric("fixture.requests"), Some(Metric::Counter(3)));
    assert_eq!(host.metric("fixture.active"), Some(Metric::Gauge(3)));
    assert_eq!(
        host.metric("fixture.sizes"),
        Some(Metric::Histogram(vec![2, 1, 2]))
    );
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.request_header("x-requests").as_deref(), Some("3"));
    // Envoy does not read histograms back.
    assert_eq!(
        s.request_header("x-histogram-get").as_deref(),
        Some("Some(BadArgument)")
    );
    assert_eq!(host.metric("nope"), None);
}

#[test]
fn the_clock_is_the_hosts_for_proxy_and_wasi_calls() {
    let start = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut host = Host::new(fixture())
        .start_time(start)
        .configure("")
        .unwrap();
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "time")])
        .unwrap();
    let s = host.stream(out.stream).unwrap();
    assert_eq!(
        s.request_header("x-now-secs").as_deref(),
        Some("1800000000")
    );
    assert_eq!(
        s.request_header("x-wasi-now-secs").as_deref(),
        Some("1800000000")
    );

    host.advance(Duration::from_secs(90)).unwrap();
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "time")])
        .unwrap();
    assert_eq!(
        host.stream(out.stream)
            .unwrap()
            .request_header("x-now-secs")
            .as_deref(),
        Some("1800000090")
    );
    assert_eq!(host.now(), start + Duration::from_secs(90));

    host.set_time(start - Duration::from_secs(10));
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "time")])
        .unwrap();
    assert_eq!(
        host.stream(out.stream)
            .unwrap()
            .request_header("x-now-secs")
            .as_deref(),
        Some("1799999990")
    );
}

#[test]
fn random_bytes_are_deterministic() {
    let hash = |host: &mut Host| {
        let out = host
            .worker(0)
            .request(&[(":path", "/"), ("x-op", "random")])
            .unwrap();
        host.stream(out.stream)
            .unwrap()
            .request_header("x-hash")
            .unwrap()
    };
    let (mut a, mut b) = (host(""), host(""));
    assert_eq!(hash(&mut a), hash(&mut b));
}

#[test]
fn unknown_imports_answer_unimplemented_and_are_listed() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "unimplemented")])
        .unwrap();
    let s = host.stream(out.stream).unwrap();
    assert_eq!(
        s.request_header("x-status"),
        Some(Status::Unimplemented.code().to_string())
    );
    assert_eq!(
        host.unimplemented_calls(),
        vec!["env.proxy_fixture_not_a_host_call".to_string()]
    );
}

#[test]
fn foreign_functions_are_called_and_unknown_ones_are_not_found() {
    let mut host = Host::new(fixture())
        .foreign_function("echo", |args| Ok([b"echo:", args].concat()))
        .configure("")
        .unwrap();
    let out = host
        .worker(0)
        .request(&[
            (":path", "/"),
            ("x-op", "foreign"),
            ("x-function", "echo"),
            ("x-arg", "hi"),
        ])
        .unwrap();
    assert_eq!(
        host.stream(out.stream)
            .unwrap()
            .request_header("x-foreign")
            .as_deref(),
        Some("echo:hi")
    );
    let out = host
        .worker(0)
        .request(&[
            (":path", "/"),
            ("x-op", "foreign"),
            ("x-function", "verify_signature"),
        ])
        .unwrap();
    assert_eq!(
        host.stream(out.stream)
            .unwrap()
            .request_header("x-foreign")
            .as_deref(),
        Some("NotFound")
    );
}

#[test]
fn only_grpc_and_unknown_imports_are_stubbed() {
    let host = host("");
    // The SDK's dispatcher references the gRPC calls, so every SDK filter imports them; the
    // harness leaves them to the Unimplemented stub. Every other SDK and WASI import the
    // fixture has is implemented.
    let mut stubbed = host.stubbed_imports().to_vec();
    stubbed.sort();
    let expected = [
        "env.proxy_fixture_not_a_host_call",
        "env.proxy_get_status",
        "env.proxy_grpc_call",
        "env.proxy_grpc_cancel",
        "env.proxy_grpc_close",
        "env.proxy_grpc_send",
        "env.proxy_grpc_stream",
    ];
    assert_eq!(stubbed, expected);
}
