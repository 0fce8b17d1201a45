//! The per-request decision, without host calls: find the rule, extract each asked-for
//! provider's token, verify it with the core, and evaluate the requirement. The glue feeds
//! in the request headers and the time, and carries out the outcome.

use crate::config::{Config, KeySource, RouteConfig};
use crate::extract::{self, ExtractError, Location};
use crate::respond::Denial;
use crate::rules::{self, Decision, Status};
use crate::wire::Header;
use jwtgate::{ErrorCode, HostCrypto, KeySet, Verified, Verifier};

/// What the host knows of the request's route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    /// Envoy's route name (`xds.route_name`).
    pub name: Option<String>,
    /// `requirement_name` from the route's `filter_metadata.jwtgate`.
    pub requirement_name: Option<String>,
    /// `disabled: true` from the route's `filter_metadata.jwtgate`.
    pub disabled: bool,
}

/// A provider whose token verified (or that fails open without keys: then `verified` is `None`).
#[derive(Clone, Debug)]
pub struct Accepted {
    pub provider: usize,
    pub verified: Option<Verified>,
    /// Where the token was (to strip it).
    pub location: Location,
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Allow(Vec<Accepted>),
    Deny(Denial),
    /// The token names a `kid` (or the provider has no keys yet) that a fetch may bring.
    Wait(usize),
}

/// One provider's verdict, what to pass on when it verified, what to say when it did not.
type Verdict = (Status, Option<Accepted>, Option<Denial>);

/// The configuration plus one verifier per provider (`None` until keys arrive).
pub struct Gate {
    pub config: Config,
    verifiers: Vec<Option<Verifier>>,
}

impl Gate {
    pub fn new(config: Config) -> Gate {
        let verifiers = config
            .providers
            .iter()
            .map(|p| match &p.keys {
                KeySource::Local(keys) => Some(
                    Verifier::new(keys.clone(), p.policy.clone())
                        .with_cache(p.cache_size.unwrap_or(config.cache_size)),
                ),
                KeySource::Remote(_) => None,
            })
            .collect();
        Gate { config, verifiers }
    }

    /// Installs new keys for a provider (fetched, or read from shared data).
    pub fn set_keys(&mut self, provider: usize, keys: KeySet) {
        let (Some(slot), Some(p)) = (
            self.verifiers.get_mut(provider),
            self.config.providers.get(provider),
        ) else {
            return;
        };
        match slot {
            Some(v) => v.set_keys(keys),
            None => {
                *slot = Some(
                    Verifier::new(keys, p.policy.clone())
                        .with_cache(p.cache_size.unwrap_or(self.config.cache_size)),
                )
            }
        }
    }

    pub fn has_keys(&self, provider: usize) -> bool {
        matches!(self.verifiers.get(provider), Some(Some(_)))
    }

    /// Verified-token cache hits and misses, all providers together.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.verifiers
            .iter()
            .flatten()
            .map(Verifier::cache_stats)
            .fold((0, 0), |(h, m), (a, b)| (h + a, m + b))
    }

    /// Whether `check` needs the request's route name (some route is configured by name).
    pub fn needs_route_name(&self) -> bool {
        !self.config.per_route.is_empty()
    }

    /// Whether `check` needs the route's `filter_metadata.jwtgate` (`route_metadata`).
    pub fn needs_route_metadata(&self) -> bool {
        self.config.route_metadata
    }

    /// Decides a request. `route` is what the host knows of its route (read only when
    /// `needs_route_name` / `needs_route_metadata` ask). `may_wait` is false on the second
    /// pass after a refetch. `rsa` is the host's native RSA check, used unless the
    /// configuration turned it off (it answers `None` when it cannot tell, and the core's
    /// engine decides).
    pub fn check(
        &self,
        headers: &[impl Header],
        route: &Route,
        now: u64,
        may_wait: bool,
        rsa: &dyn HostCrypto,
    ) -> Outcome {
        if self.config.bypass_cors_preflight && is_cors_preflight(headers) {
            return Outcome::Allow(Vec::new());
        }
        let now = self.config.fixed_now.unwrap_or(now);
        // A route's own configuration (its metadata, then its name) decides alone, as
        // jwt_authn's per-route configuration overrides its rules.
        let by_name = route
            .name
            .as_deref()
            .and_then(|r| self.config.per_route.get(r));
        let req = if route.disabled {
            None
        } else if let Some(name) = &route.requirement_name {
            match self.config.requirement_map.get(name) {
                Some(r) => Some(r),
                // A route naming no known requirement fails closed.
                None => {
                    log::warn!("jwtgate: route metadata names unknown requirement {name:?}");
                    return Outcome::Deny(Denial::Invalid(ErrorCode::BadPolicy));
                }
            }
        } else {
            match by_name {
                Some(RouteConfig::Disabled) => None,
                Some(RouteConfig::Requires(r)) => Some(r),
                None => {
                    let path = extract::header(headers, ":path").unwrap_or("/");
                    rules::requirement_for(&self.config.rules, path)
                }
            }
        };
        let Some(req) = req else {
            return Outcome::Allow(Vec::new());
        };
        let n = self.config.providers.len();
        let mut memo: Vec<Option<Verdict>> = vec![None; n];
        // allow_missing and allow_missing_or_failed look at the configured providers only,
        // not at those derived for provider_and_audiences.
        let configured = self.config.configured_providers;
        let decision = rules::evaluate(req, configured, &mut |i| {
            if let Some(Some((s, _, _))) = memo.get(i) {
                return *s;
            }
            let r = self.provider_status(i, headers, now, may_wait, rsa);
            let s = r.0;
            if let Some(slot) = memo.get_mut(i) {
                *slot = Some(r);
            }
            s
        });
        match decision {
            Decision::Allow => Outcome::Allow(
                memo.into_iter()
                    .flatten()
                    .filter(|(s, _, _)| *s == Status::Ok)
                    .filter_map(|(_, a, _)| a)
                    .collect(),
            ),
            Decision::DenyMissing => Outcome::Deny(Denial::Missing),
            Decision::Deny(i) => Outcome::Deny(
                memo.get(i)
                    .and_then(|m| m.as_ref())
                    .and_then(|(_, _, d)| *d)
                    .unwrap_or(Denial::Invalid(ErrorCode::Malformed)),
            ),
            Decision::Wait(i) => Outcome::Wait(i),
        }
    }

    fn provider_status(
        &self,
        i: usize,
        headers: &[impl Header],
        now: u64,
        may_wait: bool,
        rsa: &dyn HostCrypto,
    ) -> Verdict {
        let Some(p) = self.config.providers.get(i) else {
            return (Status::Missing, None, None);
        };
        let verifier = self.verifiers.get(i).and_then(Option::as_ref);
        // With a verifier, a bearer token's b64token scan waits for the cache's answer.
        let found = match extract::extract(&p.sources, headers, verifier.is_some()) {
            Ok(None) => return (Status::Missing, None, None),
            Ok(Some(f)) => f,
            Err(e) => return extract_failure(e),
        };
        let remote = matches!(p.keys, KeySource::Remote(_));
        let fail = |code: ErrorCode| (Status::Failed, None, Some(Denial::Invalid(code)));
        let Some(v) = verifier else {
            return if remote && may_wait {
                (Status::Pending, None, None)
            } else if p.fail_open_without_keys {
                (
                    Status::Ok,
                    Some(Accepted {
                        provider: i,
                        verified: None,
                        location: found.location,
                    }),
                    None,
                )
            } else {
                fail(ErrorCode::NoUsableKeys)
            };
        };
        let cached = if found.unscanned() {
            v.cached(&found.token, now)
        } else {
            None
        };
        let result = match cached {
            Some(r) => r,
            None => {
                if let Err(e) = found.scan() {
                    return extract_failure(e);
                }
                self.verify(v, &found.token, now, rsa)
            }
        };
        match result {
            Ok(verified) => (
                Status::Ok,
                Some(Accepted {
                    provider: i,
                    verified: Some(verified),
                    location: found.location,
                }),
                None,
            ),
            Err(e) if e.code() == ErrorCode::UnknownKid && remote && may_wait => {
                (Status::Pending, None, None)
            }
            // jwt_authn answers 403 to a token without `aud` under an audience check, as
            // to one with the wrong `aud`.
            Err(e) if e.code() == ErrorCode::MissingClaim && e.claim() == Some("aud") => {
                (Status::Failed, None, Some(Denial::Forbidden(e.code())))
            }
            Err(e)
                if e.code() == ErrorCode::ClaimRuleFailed
                    && e.claim() == Some("sub")
                    && p.jwt_authn_subjects =>
            {
                (Status::Failed, None, Some(Denial::Unauthorized(e.code())))
            }
            Err(e) => {
                log::debug!("provider {}: {}", p.name, e);
                fail(e.code())
            }
        }
    }
}

/// A token that could not be taken from the request.
fn extract_failure(e: ExtractError) -> Verdict {
    match e {
        ExtractError::Multiple => (Status::Failed, None, Some(Denial::Multiple)),
        ExtractError::Malformed(e) => (Status::Failed, None, Some(Denial::Invalid(e.code()))),
    }
}

impl Gate {
    /// Verifies with the host's RSA check unless the configuration turned it off.
    fn verify(
        &self,
        v: &Verifier,
        token: &str,
        now: u64,
        rsa: &dyn HostCrypto,
    ) -> Result<Verified, jwtgate::Error> {
        if self.config.native_rsa {
            v.verify_with(token, now, rsa)
        } else {
            v.verify(token, now)
        }
    }
}

/// A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
fn is_cors_preflight(headers: &[impl Header]) -> bool {
    extract::header(headers, ":method") == Some("OPTIONS")
        && extract::header(headers, "origin").is_some()
        && extract::header(headers, "access-control-request-method").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, Config};
    use jwtgate::{Algorithm, HostKey};
    use std::cell::RefCell;

    /// A host without native RSA.
    struct NoNative;
    impl HostCrypto for NoNative {
        fn verify(&self, _: &HostKey<'_>, _: Algorithm, _: &[u8], _: &[u8]) -> Option<bool> {
            None
        }
    }

    /// What a host check was asked: algorithm, key DER length, signing input, signature length.
    type Call = (Algorithm, usize, Vec<u8>, usize);

    /// A host that answers `verdict` and records what it was asked.
    struct Fixed {
        verdict: Option<bool>,
        calls: RefCell<Vec<Call>>,
    }
    impl HostCrypto for Fixed {
        fn verify(
            &self,
            key: &HostKey<'_>,
            alg: Algorithm,
            input: &[u8],
            sig: &[u8],
        ) -> Option<bool> {
            self.calls
                .borrow_mut()
                .push((alg, key.spki_der().len(), input.to_vec(), sig.len()));
            self.verdict
        }
    }

    fn fixed(verdict: Option<bool>) -> Fixed {
        Fixed {
            verdict,
            calls: RefCell::new(Vec::new()),
        }
    }

    const JWKS: &str = include_str!("../../tests/vectors/keys/rfc7515-a2.jwks.json");
    // RFC 7515 A.2: RS256, no kid, iss "joe", exp 1300819380.
    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

    fn gate(extra_provider: &str, rules: &str) -> Gate {
        let doc = serde_json::json!({
            "providers": {"joe": serde_json::from_str::<serde_json::Value>(&format!(
                r#"{{"issuer": "joe", "local_jwks": {{"inline_string": {}}} {extra_provider}}}"#,
                serde_json::to_string(JWKS).unwrap_or_default()
            )).unwrap_or_default()},
            "rules": serde_json::from_str::<serde_json::Value>(rules).unwrap_or_default(),
            "bypass_cors_preflight": true,
        });
        Gate::new(config::parse(doc.to_string().as_bytes()).unwrap())
    }

    fn req(path: &str, auth: Option<&str>) -> Vec<(String, String)> {
        let mut h = vec![
            (":path".to_owned(), path.to_owned()),
            (":method".to_owned(), "GET".to_owned()),
        ];
        if let Some(a) = auth {
            h.push(("authorization".to_owned(), a.to_owned()));
        }
        h
    }

    impl Gate {
        fn check_(
            &self,
            h: &[(String, String)],
            now: u64,
            wait: bool,
            rsa: &dyn HostCrypto,
        ) -> Outcome {
            self.check(h, &Route::default(), now, wait, rsa)
        }
    }

    const RULES: &str = r#"[{"match": {"prefix": "/public"}}, {"match": {"prefix": "/"}, "requires": {"provider_name": "joe"}}]"#;

    #[test]
    fn allow_deny_and_unprotected_paths() {
        let g = gate("", RULES);
        let bearer = format!("Bearer {TOKEN}");
        assert!(
            matches!(g.check_(&req("/", Some(&bearer)), 1_300_819_000, true, &NoNative), Outcome::Allow(a) if a.len() == 1)
        );
        assert!(matches!(
            g.check_(&req("/", Some(&bearer)), 1_400_000_000, true, &NoNative),
            Outcome::Deny(Denial::Invalid(ErrorCode::Expired))
        ));
        assert!(matches!(
            g.check_(&req("/", None), 0, true, &NoNative),
            Outcome::Deny(Denial::Missing)
        ));
        assert!(
            matches!(g.check_(&req("/public/x", None), 0, true, &NoNative), Outcome::Allow(a) if a.is_empty())
        );
    }

    #[test]
    fn cors_preflight_bypass() {
        let g = gate("", RULES);
        let mut h = req("/", None);
        h[1].1 = "OPTIONS".into();
        h.push(("origin".into(), "https://a.example".into()));
        h.push(("access-control-request-method".into(), "POST".into()));
        assert!(matches!(
            g.check_(&h, 0, true, &NoNative),
            Outcome::Allow(_)
        ));
    }

    #[test]
    fn a_token_without_aud_under_audiences_is_forbidden_as_in_jwt_authn() {
        // RFC 7515 A.2's token has no aud.
        let g = gate(r#","audiences": ["api"]"#, RULES);
        let out = g.check_(
            &req("/", Some(&format!("Bearer {TOKEN}"))),
            1_300_819_000,
            true,
            &NoNative,
        );
        assert!(matches!(
            out,
            Outcome::Deny(Denial::Forbidden(ErrorCode::MissingClaim))
        ));
    }

    #[test]
    fn a_route_listed_by_name_overrides_the_rules() {
        let doc = serde_json::json!({
            "providers": {"joe": {"issuer": "joe", "local_jwks": {"inline_string": JWKS}}},
            "requirement_map": {"need": {"provider_name": "joe"}},
            "rules": [{"match": {"prefix": "/"}, "requirement_name": "need"}],
            "per_route": {"open": {"disabled": true}, "closed": {"requirement_name": "need"}},
        });
        let g = Gate::new(config::parse(doc.to_string().as_bytes()).unwrap());
        assert!(g.needs_route_name());
        let h = req("/", None);
        let at = 1_300_819_000;
        let named = |n: Option<&str>| Route {
            name: n.map(str::to_owned),
            ..Route::default()
        };
        assert!(matches!(
            g.check(&h, &named(Some("open")), at, true, &NoNative),
            Outcome::Allow(_)
        ));
        for route in [Some("closed"), Some("other"), None] {
            assert!(matches!(
                g.check(&h, &named(route), at, true, &NoNative),
                Outcome::Deny(Denial::Missing)
            ));
        }
        // Route metadata overrides the name; an unknown requirement fails closed.
        let meta = |req: Option<&str>, disabled: bool| Route {
            name: Some("open".into()),
            requirement_name: req.map(str::to_owned),
            disabled,
        };
        assert!(matches!(
            g.check(&h, &meta(Some("need"), false), at, true, &NoNative),
            Outcome::Deny(Denial::Missing)
        ));
        assert!(matches!(
            g.check(&h, &meta(Some("nope"), false), at, true, &NoNative),
            Outcome::Deny(Denial::Invalid(ErrorCode::BadPolicy))
        ));
        let closed = Route {
            name: Some("closed".into()),
            disabled: true,
            ..Route::default()
        };
        assert!(matches!(
            g.check(&h, &closed, at, true, &NoNative),
            Outcome::Allow(_)
        ));
    }

    #[test]
    fn claim_rule_is_forbidden() {
        let g = gate(
            r#","claims": {"http://example.com/is_root": [false]}"#,
            RULES,
        );
        let out = g.check_(
            &req("/", Some(&format!("Bearer {TOKEN}"))),
            1_300_819_000,
            true,
            &NoNative,
        );
        assert!(matches!(
            out,
            Outcome::Deny(Denial::Invalid(ErrorCode::ClaimRuleFailed))
        ));
    }

    #[test]
    fn native_rsa_decides_when_it_can_and_the_core_otherwise() {
        let bearer = format!("Bearer {TOKEN}");
        let h = req("/", Some(&bearer));
        let at = 1_300_819_000;
        // cache_size 0: every check verifies again.
        let g = gate("", RULES);
        let g = Gate::new(Config {
            cache_size: 0,
            ..g.config
        });
        let no = fixed(Some(false));
        assert!(matches!(
            g.check_(&h, at, true, &no),
            Outcome::Deny(Denial::Invalid(ErrorCode::BadSignature))
        ));
        let calls = no.calls.borrow();
        assert_eq!(calls.len(), 1);
        let (alg, spki_len, input, sig_len) = &calls[0];
        assert_eq!(*alg, Algorithm::RS256);
        assert!(*spki_len > 256);
        assert_eq!(
            input.as_slice(),
            TOKEN
                .rsplit_once('.')
                .map(|(i, _)| i.as_bytes())
                .unwrap_or_default()
        );
        assert_eq!(*sig_len, 256);
        assert!(matches!(
            g.check_(&h, at, true, &fixed(None)),
            Outcome::Allow(_)
        ));
        assert!(matches!(
            g.check_(&h, at, true, &fixed(Some(true))),
            Outcome::Allow(_)
        ));

        // Turned off: the host is never asked.
        let off = Gate::new(Config {
            native_rsa: false,
            ..g.config
        });
        let no = fixed(Some(false));
        assert!(matches!(off.check_(&h, at, true, &no), Outcome::Allow(_)));
        assert!(no.calls.borrow().is_empty());
    }
}
