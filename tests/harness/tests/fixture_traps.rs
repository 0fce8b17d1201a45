//! Guest traps come back as errors with a backtrace and the last logs, endless loops run out
//! of fuel, and the hostile-input loop names the input that broke the filter or leaked memory.

mod common;

use common::{fixture, host};
use jwtgate_harness::fuzz::{Fuzz, Rng};
use jwtgate_harness::{Error, Host, LogLevel};

#[test]
fn a_guest_panic_is_an_error_with_the_panic_message_and_a_wasm_backtrace() {
    let mut host = host("");
    let err = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "panic")])
        .unwrap_err();
    let Error::Trap {
        worker,
        call,
        message,
        backtrace,
        last_logs,
    } = &err
    else {
        panic!("expected a trap, got {err}");
    };
    assert_eq!(*worker, 0);
    assert_eq!(call, "proxy_on_request_headers");
    assert!(message.contains("unreachable"), "{message}");
    assert!(backtrace.contains("on_http_request_headers"), "{backtrace}");
    let last = last_logs.last().unwrap();
    assert_eq!(last.level, LogLevel::Critical);
    assert!(
        last.message.contains("fixture panic on request"),
        "{}",
        last.message
    );
    assert!(err.to_string().contains("fixture panic on request"));

    // Envoy fails a VM that trapped; so does the harness.
    assert!(host.failed(0));
    assert!(matches!(
        host.worker(0).request(&[(":path", "/")]),
        Err(Error::WorkerFailed(0))
    ));
}

#[test]
fn a_trap_on_one_worker_leaves_the_others_running() {
    let mut host = Host::new(fixture()).workers(2).configure("").unwrap();
    assert!(host
        .worker(1)
        .request(&[(":path", "/"), ("x-op", "panic")])
        .is_err());
    assert!(host.worker(0).request(&[(":path", "/")]).is_ok());
}

#[test]
fn an_endless_loop_runs_out_of_fuel_instead_of_hanging_the_test() {
    let mut host = Host::new(fixture())
        .fuel(Some(50_000_000))
        .configure("")
        .unwrap();
    let err = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "loop")])
        .unwrap_err();
    assert!(err.is_trap());
    assert!(err.to_string().contains("fuel"), "{err}");
}

/// Hostile requests for the fixture: every op that must not trap, with mutated values.
fn hostile_request(rng: &mut Rng) -> Vec<(&'static str, Vec<u8>)> {
    const OPS: &[&str] = &[
        "echo",
        "deny",
        "shared-get",
        "shared-set",
        "property",
        "time",
        "metric",
        "callout",
        "enqueue",
        "foreign",
    ];
    let mut headers = vec![
        (":path", rng.mutate(b"/api?x=1")),
        ("x-op", rng.pick(OPS).as_bytes().to_vec()),
    ];
    for name in [
        "x-key",
        "x-value",
        "x-cas",
        "x-path",
        "x-replace",
        "x-remove",
        "x-claims",
    ] {
        if rng.one_in(2) {
            headers.push((name, rng.mutate(b"request.path")));
        }
    }
    headers
}

fn run_hostile(host: &mut Host, input: &Vec<(&'static str, Vec<u8>)>) -> Result<(), Error> {
    let headers: Vec<(&str, &[u8])> = input.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    let out = host.worker(0).request_raw(&headers)?;
    for call in host.pending_callouts() {
        host.answer_callout(call.id, 200, &[], &call.body)?;
    }
    host.finish(out.stream)?;
    Ok(())
}

#[test]
fn hostile_requests_never_trap_the_fixture_and_its_memory_stays_flat() {
    let mut host = host("");
    let report = Fuzz::new(3_000)
        .seed(42)
        .run(&mut host, hostile_request, run_hostile)
        .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.iterations, 3_000);
    assert_eq!(report.final_memory, report.warm_memory);
    assert!(host.open_streams(0).is_empty());
}

#[test]
fn the_hostile_loop_names_the_input_that_trapped() {
    let mut host = host("");
    let failure = Fuzz::new(1_000)
        .seed(1)
        .run(
            &mut host,
            |rng| if rng.one_in(50) { "panic" } else { "echo" },
            |host, op| {
                let out = host.worker(0).request(&[(":path", "/"), ("x-op", op)])?;
                host.finish(out.stream).map(drop)
            },
        )
        .unwrap_err();
    assert_eq!(failure.input, "\"panic\"");
    let text = failure.to_string();
    assert!(
        text.contains("seed 1") && text.contains("fixture panic on request"),
        "{text}"
    );
}

#[test]
fn the_hostile_loop_catches_a_leak_after_warm_up() {
    let mut host = host("");
    let failure = Fuzz::new(2_000)
        .warmup(100)
        .run(
            &mut host,
            |rng| if rng.one_in(4) { "grow" } else { "echo" },
            |host, op| {
                let out = host.worker(0).request(&[(":path", "/"), ("x-op", op)])?;
                host.finish(out.stream).map(drop)
            },
        )
        .unwrap_err();
    assert!(failure.reason.contains("linear memory grew"), "{failure}");
    assert_eq!(failure.input, "\"grow\"");
}
