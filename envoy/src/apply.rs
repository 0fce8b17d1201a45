//! Carries a decision out on the current stream: the local reply of a denial, or on
//! success the header and filter-state changes (strip the token, forward the payload and
//! claims, remove output headers a client might have supplied).

use crate::extract::{self, Location};
use crate::gate::{Accepted, Gate, Outcome};
use crate::metrics::Stats;
use crate::ports::Host;
use crate::respond::{self, Denial};
use crate::wire::Header;

/// What the host should do with the stream next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// Held: waiting for keys, or answered locally.
    Pause,
}

/// Applies a decision to the current (effective) stream.
pub fn carry_out(
    host: &impl Host,
    gate: Option<&Gate>,
    stats: &mut Stats,
    outcome: Outcome,
    headers: &[impl Header],
) -> Next {
    match outcome {
        Outcome::Allow(accepted) => {
            if let Some(gate) = gate {
                allow(host, gate, &accepted, headers);
            }
            stats.allowed += 1;
            Next::Continue
        }
        Outcome::Deny(d) => {
            deny(host, gate, stats, d);
            Next::Pause
        }
        // A second pass never waits; treat a stray wait as missing keys.
        Outcome::Wait(_) => {
            deny(
                host,
                gate,
                stats,
                Denial::Invalid(jwtgate::ErrorCode::UnknownKid),
            );
            Next::Pause
        }
    }
}

fn deny(host: &impl Host, gate: Option<&Gate>, stats: &mut Stats, d: Denial) {
    let realm = gate.map_or("jwtgate", |g| g.config.realm.as_str());
    let reply = respond::deny(d, realm);
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    if let Err(e) = host.send_response(reply.status, &headers, reply.body.as_bytes()) {
        log::warn!(
            "jwtgate: cannot send the {} reply (status {e})",
            reply.status
        );
    }
    stats.deny(d.code());
}

fn set_header(host: &impl Host, name: &str, value: Option<&str>) {
    if let Err(e) = host.set_header(name, value) {
        log::warn!("jwtgate: cannot set request header {name} (status {e})");
    }
}

/// Success: strip the token unless forwarded, add the payload and claim headers, publish
/// claims as filter state. Output headers of providers that did not verify are removed,
/// so a client cannot supply them itself.
fn allow(host: &impl Host, gate: &Gate, accepted: &[Accepted], headers: &[impl Header]) {
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
            set_header(host, name, value);
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
                match &a.location {
                    Location::Header(name) => set_header(host, name, None),
                    // Left in the request, as jwt_authn leaves them.
                    Location::KeptHeader(_) | Location::Cookie(_) => {}
                    Location::Param(name) => {
                        if let Some(path) = extract::header(headers, ":path") {
                            set_header(host, ":path", Some(&extract::strip_param(path, name)));
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
                if let Err(s) = host.set_property(&c.target, value.as_bytes()) {
                    log::debug!("jwtgate: filter state {} not set (status {s})", c.target);
                }
            }
        }
        if let Some(name) = &p.payload_in_filter_state {
            let payload = respond::payload_for_state(v.payload_json(), &p.space_delimited_claims);
            if let Err(s) = host.set_property(name, payload.as_bytes()) {
                log::debug!("jwtgate: filter state {name} not set (status {s})");
            }
        }
    }
}
