//! HTTP callouts, paused and resumed streams, timers, shared data with CAS across workers,
//! and shared queues, proved through the fixture filter.

mod common;

use std::time::Duration;

use common::{fixture, host};
use jwtgate_harness::{Action, Host, LogLevel, Metric, StreamState};

#[test]
fn a_callout_pauses_the_request_and_its_answer_resumes_it() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "callout")])
        .unwrap();
    assert_eq!(out.action, Action::Pause);
    assert_eq!(out.state, StreamState::Paused);

    let calls = host.pending_callouts();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.upstream, "idp");
    assert_eq!(call.header(":path").as_deref(), Some("/data"));
    assert_eq!(call.header("x-from").as_deref(), Some("fixture"));
    assert_eq!(call.body, b"ping");
    assert_eq!(call.timeout, Duration::from_secs(5));
    assert_eq!(call.context_id, out.stream.context_id);

    host.answer_callout(call.id, 200, &[("content-type", "text/plain")], b"pong")
        .unwrap();
    assert!(host.pending_callouts().is_empty());
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.state, StreamState::Flowing);
    assert_eq!(s.resumed, 1);
    assert_eq!(s.request_header("x-callout-body").as_deref(), Some("pong"));
    assert!(
        host.answer_callout(call.id, 200, &[], b"").is_err(),
        "answered twice"
    );
}

#[test]
fn a_callout_answer_can_end_in_a_local_response() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "callout")])
        .unwrap();
    let id = host.pending_callouts()[0].id;
    host.answer_callout(id, 500, &[], b"").unwrap();
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.state, StreamState::Responded);
    let r = s.local_response.as_ref().unwrap();
    assert_eq!(r.status, 502);
    assert_eq!(r.header("x-upstream-status").as_deref(), Some("500"));
}

#[test]
fn a_failed_callout_is_delivered_with_no_headers() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "callout")])
        .unwrap();
    let id = host.pending_callouts()[0].id;
    host.fail_callout(id).unwrap();
    let s = host.stream(out.stream).unwrap();
    assert_eq!(s.local_response.as_ref().unwrap().status, 503);
}

#[test]
fn a_callout_times_out_when_the_clock_passes_its_timeout() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "callout")])
        .unwrap();
    host.advance(Duration::from_millis(4_999)).unwrap();
    assert_eq!(host.pending_callouts().len(), 1);
    assert_eq!(host.stream(out.stream).unwrap().state, StreamState::Paused);
    host.advance(Duration::from_millis(1)).unwrap();
    assert!(host.pending_callouts().is_empty());
    assert_eq!(
        host.stream(out.stream)
            .unwrap()
            .local_response
            .as_ref()
            .unwrap()
            .status,
        503
    );
}

#[test]
fn a_callout_to_an_unknown_cluster_is_refused_with_bad_argument() {
    let mut host = Host::new(fixture())
        .clusters(&["idp"])
        .configure("")
        .unwrap();
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "callout"), ("x-cluster", "nope")])
        .unwrap();
    let r = out.local_response.unwrap();
    assert_eq!((r.status, r.body_text().as_str()), (500, "BadArgument"));
    assert!(host.pending_callouts().is_empty());
}

#[test]
fn finishing_a_stream_cancels_its_pending_callouts() {
    let mut host = host("");
    let out = host
        .worker(0)
        .request(&[(":path", "/"), ("x-op", "callout")])
        .unwrap();
    let s = host.finish(out.stream).unwrap();
    assert_eq!(s.state, StreamState::Paused);
    assert!(host.pending_callouts().is_empty());
}

#[test]
fn ticks_fire_per_worker_at_the_requested_period_as_time_advances() {
    let mut host = Host::new(fixture())
        .workers(3)
        .configure("tick_ms=1000")
        .unwrap();
    assert_eq!(host.tick_period(0), Some(Duration::from_secs(1)));
    host.advance(Duration::from_millis(999)).unwrap();
    assert_eq!(host.metric("fixture.ticks"), Some(Metric::Counter(0)));
    host.advance(Duration::from_millis(1)).unwrap();
    assert_eq!(host.metric("fixture.ticks"), Some(Metric::Counter(3)));
    host.advance(Duration::from_millis(10_500)).unwrap();
    assert_eq!(host.metric("fixture.ticks"), Some(Metric::Counter(33)));
    // Every worker's CAS increment of the shared counter landed: no lost update.
    assert_eq!(host.shared_data("ticks").unwrap().0, b"33");
}

#[test]
fn workers_share_data_and_compare_and_swap_detects_stale_writes() {
    let mut host = Host::new(fixture()).workers(2).configure("").unwrap();
    let set = |host: &mut Host, worker: usize, value: &str, cas: Option<u32>| {
        let cas = cas.map(|c| c.to_string()).unwrap_or_default();
        let out = host
            .worker(worker)
            .request(&[
                (":path", "/"),
                ("x-op", "shared-set"),
                ("x-key", "k"),
                ("x-value", value),
                ("x-cas", cas.as_str()),
            ])
            .unwrap();
        out.local_response.unwrap().status
    };
    let get = |host: &mut Host, worker: usize| {
        let out = host
            .worker(worker)
            .request(&[(":path", "/"), ("x-op", "shared-get"), ("x-key", "k")])
            .unwrap();
        let r = out.local_response.unwrap();
        (
            r.status,
            r.body_text(),
            r.header("x-cas")
                .unwrap_or_default()
                .parse::<u32>()
                .unwrap_or(0),
        )
    };
    assert_eq!(get(&mut host, 0).0, 404);
    assert_eq!(set(&mut host, 0, "one", None), 200);
    let (status, value, cas) = get(&mut host, 1);
    assert_eq!((status, value.as_str()), (200, "one"));
    assert_eq!(host.shared_data("k"), Some((b"one".to_vec(), cas)));

    // Worker 1 writes with the CAS it read; worker 0's write with the same, now stale, CAS fails.
    assert_eq!(set(&mut host, 1, "two", Some(cas)), 200);
    assert_eq!(set(&mut host, 0, "three", Some(cas)), 409);
    let (_, value, new_cas) = get(&mut host, 0);
    assert_eq!(value, "two");
    assert_ne!(new_cas, cas);
    // The host can seed data too, and that bumps the CAS.
    let seeded = host.set_shared_data("k", "seed");
    assert_eq!(set(&mut host, 0, "four", Some(new_cas)), 409);
    assert_eq!(set(&mut host, 0, "four", Some(seeded)), 200);
}

#[test]
fn one_worker_wins_the_election_and_its_callout_result_is_shared() {
    let mut host = Host::new(fixture())
        .workers(4)
        .configure("tick_ms=60000;tick_callout=1")
        .unwrap();
    host.advance(Duration::from_secs(60)).unwrap();
    let calls = host.pending_callouts();
    assert_eq!(calls.len(), 1, "exactly one worker fetches");
    assert_eq!(calls[0].context_id, 1, "from its root context");
    host.answer_callout(calls[0].id, 200, &[], b"keys-v1")
        .unwrap();
    assert_eq!(host.shared_data("fetched").unwrap().0, b"keys-v1");
    assert!(host.logged(LogLevel::Info, "stored 7 fetched bytes"));

    // The next period elects again; a failed fetch keeps the last good data.
    host.advance(Duration::from_secs(60)).unwrap();
    let calls = host.pending_callouts();
    assert_eq!(calls.len(), 1);
    host.fail_callout(calls[0].id).unwrap();
    assert_eq!(host.shared_data("fetched").unwrap().0, b"keys-v1");
    assert!(host.logged(LogLevel::Warn, "tick callout failed"));
}

#[test]
fn shared_queues_deliver_to_the_registering_root_context() {
    let mut host = Host::new(fixture()).workers(2).configure("").unwrap();
    // Worker 1 configured last, so its root context owns the queue.
    host.worker(0)
        .request(&[(":path", "/"), ("x-op", "enqueue"), ("x-value", "from-0")])
        .unwrap();
    assert_eq!(host.shared_data("queue.last").unwrap().0, b"from-0");
    assert!(host
        .logs()
        .iter()
        .any(|l| l.worker == 1 && l.message == "dequeued from-0"));
    host.enqueue("fixture.q", "from-host").unwrap();
    assert_eq!(host.shared_data("queue.last").unwrap().0, b"from-host");
    assert_eq!(host.queue("fixture.q"), Some(vec![]));
}
