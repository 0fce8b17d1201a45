//! The plugin configuration: `jwt_authn`'s JSON, as proto3 JSON spells it (snake_case or
//! lowerCamelCase names, durations as `"300s"` or `{"seconds": 300}`), plus jwtgate's own
//! fields. Everything is validated here, once, at `on_configure`; an error names the field
//! as the user wrote it, and a `jwt_authn` field that cannot be honoured says what to write
//! instead.

use crate::rules::{PathMatch, Requirement, Rule};
use jwtgate::refresh::RefreshConfig;
use jwtgate::{Error, ErrorCode, KeySet, Policy};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// A configuration error: the core's error shape (code `bad_policy`, the field as data),
/// with the field spelled as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    error: Error,
}

impl ConfigError {
    /// The core's error (its `field()` is the path the core saw).
    pub fn error(&self) -> &Error {
        &self.error
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.error.field() == Some(self.field.as_str()) {
            f.write_str(self.error.reason())
        } else {
            // The core saw the field under its own name (`issuers` for `issuer`).
            write!(f, "{}: {}", self.field, self.error.reason())
        }
    }
}

fn bad(field: impl Into<String>, what: impl AsRef<str>) -> ConfigError {
    let field = field.into();
    ConfigError {
        error: Error::for_field(ErrorCode::BadPolicy, &field, what.as_ref()),
        field,
    }
}

type Res<T> = Result<T, ConfigError>;

/// Where a provider looks for its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A request header; the token follows `value_prefix`, matched case-sensitively as
    /// `jwt_authn` does. The default `Authorization: Bearer` location (`rfc6750`) is parsed by
    /// RFC 6750 rules instead (scheme case-insensitive).
    Header {
        name: String,
        value_prefix: String,
        rfc6750: bool,
    },
    /// A query parameter.
    Param(String),
    /// A cookie.
    Cookie(String),
}

/// Where the keys come from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// Inline JWKS, parsed at configuration time.
    Local(KeySet),
    /// A JWKS URL (or an issuer's discovery document that names one) fetched through a cluster.
    Remote(Remote),
}

/// A fetched key source.
#[derive(Clone, Debug, PartialEq)]
pub struct Remote {
    /// `Some(issuer_uri)` for OIDC discovery; the JWKS URL is then learnt from the document.
    pub discovery_issuer: Option<String>,
    /// The JWKS URL (`remote_jwks`) or the discovery document URL (`oidc_discovery`).
    pub uri: Url,
    pub cluster: String,
    pub timeout_ms: u64,
    pub refresh: RefreshConfig,
}

/// The parts of an `http(s)://authority/path` URL a `dispatch_http_call` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    pub authority: String,
    pub path: String,
}

impl Url {
    pub fn parse(s: &str) -> Option<Url> {
        let (scheme, rest) = s.split_once("://")?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return None;
        }
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains(['@', ' ']) {
            return None;
        }
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        Some(Url {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_owned(),
            path: path.split('#').next().unwrap_or("/").to_owned(),
        })
    }
}

/// A claim copied to a request header or to filter state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimCopy {
    pub claim: String,
    pub target: String,
}

/// One provider: who issues the tokens, where the keys and tokens are, what to pass on.
#[derive(Clone, Debug)]
pub struct Provider {
    pub name: String,
    pub policy: Policy,
    pub keys: KeySource,
    pub sources: Vec<Source>,
    pub forward: bool,
    pub forward_payload_header: Option<String>,
    pub pad_forward_payload_header: bool,
    pub claim_to_headers: Vec<ClaimCopy>,
    pub claim_to_filter_state: Vec<ClaimCopy>,
    /// `payload_in_filter_state`, or `jwt_authn`'s `payload_in_metadata` (which a wasm filter
    /// can only write as filter state): the payload JSON as filter state `wasm.<name>`.
    pub payload_in_filter_state: Option<String>,
    /// `normalize_payload_in_metadata.space_delimited_claims`: these claims, when strings,
    /// become arrays of their space-separated words in the payload written to filter state.
    pub space_delimited_claims: Vec<String>,
    /// `subjects` was `jwt_authn`'s `StringMatcher`: a subject that fails it is a 401, as
    /// `jwt_authn` answers (the core's list form keeps its 403).
    pub jwt_authn_subjects: bool,
    /// The policy as the core read it, for `provider_and_audiences` to derive another.
    pub policy_map: Map<String, Value>,
    /// `jwt_cache_config.jwt_cache_size`: this provider's verified-token cache size.
    pub cache_size: Option<usize>,
    /// With no keys at all (never fetched), let requests through instead of refusing them.
    pub fail_open_without_keys: bool,
}

/// What a route (by its Envoy route name) asks for, like `jwt_authn`'s `PerRouteConfig`.
#[derive(Clone, Debug, PartialEq)]
pub enum RouteConfig {
    /// No authentication on this route.
    Disabled,
    /// This entry of `requirement_map`.
    Requires(Requirement),
}

/// The whole plugin configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The configured providers, then one derived provider per `provider_and_audiences`
    /// (the same provider with other audiences), which only requirements refer to.
    pub providers: Vec<Provider>,
    /// How many of `providers` were configured (`allow_missing` looks at these).
    pub configured_providers: usize,
    pub rules: Vec<Rule>,
    /// `per_route`: route name to what that route requires; when a route is listed here,
    /// `rules` are not consulted for it (as `jwt_authn`'s per-route configuration).
    pub per_route: BTreeMap<String, RouteConfig>,
    /// `requirement_map`, kept for names read from route metadata at request time.
    pub requirement_map: BTreeMap<String, Requirement>,
    /// `route_metadata`: read `requirement_name` / `disabled` from the route's metadata
    /// (`filter_metadata.jwtgate`), which overrides `per_route` and `rules` for that route.
    pub route_metadata: bool,
    pub bypass_cors_preflight: bool,
    pub cache_size: usize,
    pub realm: String,
    /// Metric names start with this (`<stat_prefix>.allowed`, ...).
    pub stat_prefix: String,
    /// Verify as if the time were this (Unix seconds). For conformance tests that replay
    /// recorded tokens; never for production.
    pub fixed_now: Option<u64>,
    /// Check RSA signatures with the host's `verify_signature` foreign function when it has
    /// one (BoringSSL, about twice as fast as the in-wasm engine in V8).
    pub native_rsa: bool,
    /// Things an operator must see that do not stop the configuration (logged as warnings).
    pub warnings: Vec<String>,
}

impl Config {
    pub fn provider_index(&self, name: &str) -> Option<usize> {
        self.providers[..self.configured_providers]
            .iter()
            .position(|p| p.name == name)
    }
}

// ---------------------------------------------------------------------------------------
// The path-tracking reader.

/// `from_headers` -> `fromHeaders` (proto3 JSON's other spelling).
fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON value and the dotted path it was found at.
#[derive(Clone)]
struct Node<'a> {
    v: &'a Value,
    path: String,
}

/// An object being read: every member taken is recorded, so that `done` can refuse the rest
/// by name (with what to write instead of a `jwt_authn` field jwtgate cannot honour).
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    taken: RefCell<Vec<&'a str>>,
}

impl<'a> Obj<'a> {
    fn new(map: &'a Map<String, Value>, path: &str) -> Obj<'a> {
        Obj {
            map,
            path: path.to_owned(),
            taken: RefCell::new(Vec::new()),
        }
    }

    fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The member `snake` (or its lowerCamelCase spelling); both at once is an error.
    fn get(&self, snake: &str) -> Res<Option<Node<'a>>> {
        let camel = camel(snake);
        let a = self.map.get_key_value(snake);
        let b = if camel != snake {
            self.map.get_key_value(camel.as_str())
        } else {
            None
        };
        let (k, v) = match (a, b) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    self.child(snake),
                    format!("given twice, as {snake} and as {camel}"),
                ))
            }
            (Some(kv), None) | (None, Some(kv)) => kv,
            (None, None) => return Ok(None),
        };
        self.taken.borrow_mut().push(k.as_str());
        Ok(Some(Node {
            v,
            path: self.child(k),
        }))
    }

    fn has(&self, snake: &str) -> bool {
        self.map.contains_key(snake) || self.map.contains_key(camel(snake).as_str())
    }

    fn req(&self, snake: &str) -> Res<Node<'a>> {
        self.get(snake)?
            .ok_or_else(|| bad(self.child(snake), "required"))
    }

    fn path_of(&self, snake: &str) -> String {
        self.child(snake)
    }

    /// Refuses every member not taken; `hint` gives what to write instead of a known name.
    fn done(&self, hint: &dyn Fn(&str) -> Option<&'static str>) -> Res<()> {
        let taken = self.taken.borrow();
        for k in self.map.keys() {
            if !taken.contains(&k.as_str()) {
                let snake = snake(k);
                let what = match hint(&snake) {
                    Some(h) => h.to_owned(),
                    None => "unknown field".to_owned(),
                };
                return Err(bad(self.child(k), what));
            }
        }
        Ok(())
    }
}

/// `fromHeaders` -> `from_headers`, to look hints up whatever the spelling.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn no_hint(_: &str) -> Option<&'static str> {
    None
}

impl<'a> Node<'a> {
    fn obj(&self) -> Res<Obj<'a>> {
        match self.v {
            Value::Object(m) => Ok(Obj::new(m, &self.path)),
            _ => Err(bad(&self.path, "expected an object")),
        }
    }

    fn bool(&self) -> Res<bool> {
        self.v
            .as_bool()
            .ok_or_else(|| bad(&self.path, "expected a boolean"))
    }

    fn string(&self) -> Res<&'a str> {
        match self.v {
            Value::String(s) if !s.is_empty() => Ok(s),
            _ => Err(bad(&self.path, "expected a non-empty string")),
        }
    }

    /// A non-negative integer; an integral float or a decimal string too (proto3 JSON
    /// writes 64-bit integers as strings; Istio's `pluginConfig` carries numbers as doubles).
    fn count(&self) -> Option<u64> {
        match self.v {
            Value::String(s) => s.parse().ok(),
            v => v.as_u64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && (0.0..9.0e15).contains(f))
                    .map(|f| f as u64)
            }),
        }
    }

    fn items(&self) -> Res<Vec<Node<'a>>> {
        let Value::Array(items) = self.v else {
            return Err(bad(&self.path, "expected an array"));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| Node {
                v,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    fn strings(&self) -> Res<Vec<String>> {
        self.items()?
            .into_iter()
            .map(|n| n.string().map(str::to_owned))
            .collect()
    }

    /// A duration in milliseconds: proto3 JSON's `"300s"` (read with the core's one grammar,
    /// so `"0.5s"`, `"250ms"` and `"5m"` work too), a message `{"seconds", "nanos"}` (what
    /// YAML configurations give), or a number of seconds.
    fn duration_ms(&self) -> Res<u64> {
        let err = || {
            bad(
                &self.path,
                "expected a duration such as \"5s\", \"0.5s\" or {\"seconds\": 5}",
            )
        };
        match self.v {
            Value::String(s) => jwtgate::duration::parse_millis(s).ok_or_else(err),
            Value::Number(n) => {
                let secs = n.as_f64().ok_or_else(err)?;
                if !secs.is_finite() || !(0.0..=315_576_000_000.0).contains(&secs) {
                    return Err(err());
                }
                Ok((secs * 1000.0).round() as u64)
            }
            Value::Object(_) => {
                let o = self.obj()?;
                let secs = match o.get("seconds")? {
                    None => 0,
                    Some(n) => n.count().filter(|s| *s <= 315_576_000_000).ok_or_else(|| {
                        bad(&n.path, "expected a non-negative integer number of seconds")
                    })?,
                };
                let nanos = match o.get("nanos")? {
                    None => 0,
                    Some(n) => n
                        .count()
                        .filter(|s| *s < 1_000_000_000)
                        .ok_or_else(|| bad(&n.path, "expected 0 to 999999999"))?,
                };
                o.done(&no_hint)?;
                Ok(secs * 1000 + nanos.div_ceil(1_000_000))
            }
            _ => Err(err()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// What to write instead of the `jwt_authn` fields jwtgate cannot honour.

fn top_hint(name: &str) -> Option<&'static str> {
    Some(match name {
        "filter_state_rules" => "not supported (a wasm filter cannot match on other filters' state); select requirements by path with rules, or by route name with per_route",
        "strip_failure_response" => "not supported: jwtgate always answers RFC 6750 (status, WWW-Authenticate, a JSON body with the code)",
        _ => return None,
    })
}

fn provider_hint(name: &str) -> Option<&'static str> {
    Some(match name {
        "header_in_metadata" | "failed_status_in_metadata" => "not supported: Envoy 1.40 gives wasm filters no host call that writes dynamic metadata (only filter state); use payload_in_metadata or claim_to_filter_state (filter state wasm.<name>); a refusal's code is in the reply's error_description and the <stat_prefix>.denied.<code> counters",
        "max_lifetime" => "not supported as such: jwtgate bounds a token's age instead; write max_token_age_seconds (iat must be at most that old, and present)",
        "issuers" | "audiences" => return None,
        "audience" => "did you mean audiences?",
        "subject" => "did you mean subjects?",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------

/// Parses and validates the plugin configuration.
pub fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| bad("configuration", format!("not valid JSON: {e}")))?;
    let Value::Object(top) = &doc else {
        return Err(bad("configuration", "expected a JSON object"));
    };
    let top = Obj::new(top, "");
    let mut warnings = Vec::new();

    let provs = top.req("providers")?;
    let Value::Object(pmap) = provs.v else {
        return Err(bad(
            &provs.path,
            "expected an object of provider name to provider",
        ));
    };
    if pmap.is_empty() {
        return Err(bad(&provs.path, "at least one provider is required"));
    }
    let mut providers = Vec::new();
    for (name, v) in pmap {
        providers.push(provider(name, v, &mut warnings)?);
    }
    let configured_providers = providers.len();

    let mut cx = ReqCx {
        providers: &mut providers,
        configured: configured_providers,
        map: BTreeMap::new(),
    };
    if let Some(m) = top.get("requirement_map")? {
        let Value::Object(entries) = m.v else {
            return Err(bad(&m.path, "expected an object of name to requirement"));
        };
        for (name, r) in entries {
            let path = format!("{}.{name}", m.path);
            let req = cx.requirement(Node { v: r, path }, 0)?;
            cx.map.insert(name.clone(), req);
        }
    }

    let mut rules = Vec::new();
    if let Some(rs) = top.get("rules")? {
        for r in rs.items()? {
            rules.push(cx.rule(r)?);
        }
    }
    let mut per_route = BTreeMap::new();
    if let Some(pr) = top.get("per_route")? {
        let Value::Object(routes) = pr.v else {
            return Err(bad(
                &pr.path,
                "expected an object of Envoy route name to {requirement_name} or {disabled: true}",
            ));
        };
        for (route, v) in routes {
            let path = format!("{}.{route}", pr.path);
            let o = Node {
                v,
                path: path.clone(),
            }
            .obj()?;
            let rc = match (o.get("disabled")?, o.get("requirement_name")?) {
                (Some(d), None) if d.bool()? => RouteConfig::Disabled,
                (None, Some(n)) => RouteConfig::Requires(cx.named(n)?),
                _ => {
                    return Err(bad(
                        &path,
                        "exactly one of requirement_name or disabled: true",
                    ))
                }
            };
            o.done(&no_hint)?;
            per_route.insert(route.clone(), rc);
        }
    }

    let route_metadata = match top.get("route_metadata")? {
        Some(n) => n.bool()?,
        None => false,
    };
    if route_metadata && cx.map.is_empty() {
        return Err(bad(
            "route_metadata",
            "route metadata names requirements of requirement_map, which is empty",
        ));
    }
    let requirement_map = std::mem::take(&mut cx.map);
    let bypass_cors_preflight = match top.get("bypass_cors_preflight")? {
        Some(n) => n.bool()?,
        None => false,
    };
    let cache_size = match top.get("cache_size")? {
        None => 1000,
        Some(n) => cache_size(n)?,
    };
    let realm = match top.get("realm")? {
        None => "jwtgate".to_owned(),
        Some(n) => match n.v {
            Value::String(s)
                if !s.is_empty()
                    && s.bytes()
                        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') =>
            {
                s.clone()
            }
            _ => {
                return Err(bad(
                    n.path,
                    "expected printable ASCII without quotes or backslashes",
                ))
            }
        },
    };
    let stat_prefix = match top.get("stat_prefix")? {
        None => "jwtgate".to_owned(),
        Some(n) => state_name(n.string()?, &n.path)?,
    };
    let fixed_now = match top.get("fixed_now")? {
        None => None,
        Some(Node { v: Value::Null, .. }) => None,
        Some(n) => Some(
            n.v.as_u64()
                .ok_or_else(|| bad(&n.path, "expected Unix seconds"))?,
        ),
    };
    let native_rsa = match top.get("native_rsa")? {
        Some(n) => n.bool()?,
        None => true,
    };
    top.done(&top_hint)?;

    // Fail-safe migration: configurations jwt_authn accepts load, but an operator sees these.
    let mut used = vec![false; providers.len()];
    for r in rules.iter().filter_map(|r| r.requires.as_ref()) {
        mark(r, &mut used);
    }
    for r in cx_map_values(&per_route) {
        mark(r, &mut used);
    }
    if route_metadata {
        for r in requirement_map.values() {
            mark(r, &mut used);
        }
    }
    // A provider derived for provider_and_audiences counts as its base being required.
    for i in configured_providers..providers.len() {
        if used.get(i) == Some(&true) {
            let base = providers[..configured_providers]
                .iter()
                .position(|p| p.name == providers[i].name);
            if let Some(b) = base {
                used[b] = true;
            }
        }
    }
    let any_allow_missing = rules
        .iter()
        .filter_map(|r| r.requires.as_ref())
        .chain(cx_map_values(&per_route))
        .chain(requirement_map.values().filter(|_| route_metadata))
        .any(mentions_all);
    for (i, p) in providers[..configured_providers].iter().enumerate() {
        if !used[i] && !any_allow_missing {
            warnings.push(format!(
                "provider {} is required by no rule: its tokens are never checked",
                p.name
            ));
        }
    }
    for (i, r) in rules.iter().enumerate() {
        if r.requires.is_none() {
            warnings.push(format!(
                "rules[{i}] requires nothing: requests it matches are not authenticated"
            ));
        }
    }

    Ok(Config {
        providers,
        configured_providers,
        rules,
        per_route,
        requirement_map,
        route_metadata,
        bypass_cors_preflight,
        cache_size,
        realm,
        stat_prefix,
        fixed_now,
        native_rsa,
        warnings,
    })
}

fn cx_map_values(m: &BTreeMap<String, RouteConfig>) -> impl Iterator<Item = &Requirement> {
    m.values().filter_map(|r| match r {
        RouteConfig::Requires(r) => Some(r),
        RouteConfig::Disabled => None,
    })
}

fn mark(r: &Requirement, used: &mut [bool]) {
    match r {
        Requirement::Provider(i) => {
            if let Some(u) = used.get_mut(*i) {
                *u = true;
            }
        }
        Requirement::Any(l) | Requirement::All(l) => l.iter().for_each(|r| mark(r, used)),
        _ => {}
    }
}

/// `allow_missing` and `allow_missing_or_failed` look at every provider.
fn mentions_all(r: &Requirement) -> bool {
    match r {
        Requirement::AllowMissing | Requirement::AllowMissingOrFailed => true,
        Requirement::Any(l) | Requirement::All(l) => l.iter().any(mentions_all),
        _ => false,
    }
}

fn cache_size(n: Node<'_>) -> Res<usize> {
    n.count()
        .filter(|n| *n <= 1_000_000)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| bad(&n.path, "expected an integer from 0 to 1000000"))
}

/// A header name Envoy will accept: lower-case token characters.
fn header_name(s: &str, field: &str) -> Res<String> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(bad(field, "expected an HTTP header name"))
    }
}

/// Filter-state names: Envoy stores them under `wasm.<name>`.
fn state_name(s: &str, field: &str) -> Res<String> {
    if !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        Ok(s.to_owned())
    } else {
        Err(bad(field, "expected 1-128 characters of [A-Za-z0-9._-]"))
    }
}

/// The core's policy fields, and how `jwt_authn` spells the ones it has.
fn policy(o: &Obj<'_>, prefix: &str) -> Res<(Policy, Map<String, Value>)> {
    let mut map = Map::new();
    // Where each field the core sees came from, to name it as the user wrote it.
    let mut spelled: Vec<(String, String)> = Vec::new();
    for k in Policy::FIELDS {
        if let Some(n) = o.get(k)? {
            let v = match (*k, n.v) {
                ("subjects", _) => subjects(&n)?,
                // proto3 JSON may write integers as strings.
                (_, Value::String(t)) if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() => {
                    n.count().map_or_else(|| n.v.clone(), Value::from)
                }
                _ => n.v.clone(),
            };
            map.insert((*k).to_owned(), v);
            spelled.push((format!("{prefix}{k}"), n.path.clone()));
        }
    }
    if let Some(n) = o.get("issuer")? {
        if map.contains_key("issuers") {
            return Err(bad(&n.path, "give either issuer or issuers, not both"));
        }
        n.string()?;
        map.insert("issuers".to_owned(), n.v.clone());
        spelled.push((format!("{prefix}issuers"), n.path.to_owned()));
    }
    // jwt_authn's `require_expiration` is the core's `require_exp`.
    if let Some(n) = o.get("require_expiration")? {
        if map.contains_key("require_exp") {
            return Err(bad(
                &n.path,
                "give either require_expiration or require_exp",
            ));
        }
        map.insert("require_exp".to_owned(), Value::Bool(n.bool()?));
        spelled.push((format!("{prefix}require_exp"), n.path.to_owned()));
    }
    let policy = Policy::from_map(&map, prefix).map_err(|e| {
        let core = e.field().unwrap_or("").to_owned();
        let field = spelled
            .iter()
            .find(|(c, _)| core == *c || core.starts_with(&format!("{c}.")))
            .map(|(c, user)| format!("{user}{}", &core[c.len()..]))
            .unwrap_or_else(|| {
                if core.is_empty() {
                    prefix.trim_end_matches('.').to_owned()
                } else {
                    core.clone()
                }
            });
        ConfigError { field, error: e }
    })?;
    Ok((policy, map))
}

/// `subjects`: the core's list of patterns, or `jwt_authn`'s `StringMatcher`
/// (`exact` and `prefix` map onto patterns; other matchers have no equivalent).
fn subjects(n: &Node<'_>) -> Res<Value> {
    let Value::Object(_) = n.v else {
        return Ok(n.v.clone());
    };
    let o = n.obj()?;
    let pattern = match (o.get("exact")?, o.get("prefix")?) {
        (Some(e), None) => {
            let s = e.string()?;
            if s.ends_with('*') {
                return Err(bad(&e.path, "a subject ending in * would match as a prefix; use prefix"));
            }
            s.to_owned()
        }
        (None, Some(p)) => format!("{}*", p.string()?),
        _ => {
            return Err(bad(
                &n.path,
                "jwtgate matches subjects exactly or by prefix: write {exact} or {prefix}, a list of patterns, or a claims rule",
            ))
        }
    };
    if let Some(ic) = o.get("ignore_case")? {
        if ic.bool()? {
            return Err(bad(
                &ic.path,
                "subjects are compared case-sensitively; list each spelling",
            ));
        }
    }
    o.done(&|k| match k {
        "suffix" | "safe_regex" | "contains" => {
            Some("not supported for subjects: use exact or prefix")
        }
        _ => None,
    })?;
    Ok(Value::Array(vec![Value::String(pattern)]))
}

fn provider(name: &str, v: &Value, warnings: &mut Vec<String>) -> Res<Provider> {
    let path = format!("providers.{name}");
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(bad(
            &path,
            "provider names are 1-64 characters of [A-Za-z0-9._-]",
        ));
    }
    let o = Node {
        v,
        path: path.clone(),
    }
    .obj()?;
    let (policy, policy_map) = policy(&o, &format!("{path}."))?;

    let given: Vec<&str> = ["local_jwks", "remote_jwks", "oidc_discovery"]
        .into_iter()
        .filter(|k| o.has(k))
        .collect();
    if given.len() != 1 {
        return Err(bad(
            &path,
            "exactly one of local_jwks, remote_jwks, oidc_discovery is required",
        ));
    }
    let keys = if let Some(n) = o.get("local_jwks")? {
        KeySource::Local(local_jwks(n)?)
    } else if let Some(n) = o.get("remote_jwks")? {
        KeySource::Remote(remote_jwks(n)?)
    } else {
        KeySource::Remote(discovery(o.req("oidc_discovery")?)?)
    };

    let mut sources = Vec::new();
    if let Some(n) = o.get("from_headers")? {
        for h in n.items()? {
            let ho = h.obj()?;
            let hn = ho.req("name")?;
            let name = header_name(hn.string()?, &hn.path)?;
            let value_prefix = match ho.get("value_prefix")? {
                None => String::new(),
                Some(p) => match p.v {
                    Value::String(s) => s.clone(),
                    _ => return Err(bad(&p.path, "expected a string")),
                },
            };
            ho.done(&no_hint)?;
            sources.push(Source::Header {
                name,
                value_prefix,
                rfc6750: false,
            });
        }
    }
    if let Some(n) = o.get("from_params")? {
        for p in n.strings()? {
            sources.push(Source::Param(p));
        }
    }
    if let Some(n) = o.get("from_cookies")? {
        for c in n.strings()? {
            sources.push(Source::Cookie(c));
        }
    }
    if sources.is_empty() {
        // jwt_authn's default locations.
        sources.push(Source::Header {
            name: "authorization".to_owned(),
            value_prefix: "Bearer ".to_owned(),
            rfc6750: true,
        });
        sources.push(Source::Param("access_token".to_owned()));
    }

    let flag = |k: &str| -> Res<bool> {
        match o.get(k)? {
            Some(n) => n.bool(),
            None => Ok(false),
        }
    };
    let forward = flag("forward")?;
    let pad_forward_payload_header = flag("pad_forward_payload_header")?;
    let fail_open_without_keys = flag("fail_open_without_keys")?;
    let forward_payload_header = match o.get("forward_payload_header")? {
        Some(n) => Some(header_name(n.string()?, &n.path)?),
        None => None,
    };
    let claim_to_headers = claim_copies(o.get("claim_to_headers")?, "header_name", true)?;
    let claim_to_filter_state = claim_copies(o.get("claim_to_filter_state")?, "name", false)?;
    let mut payload_in_filter_state = None;
    for k in ["payload_in_filter_state", "payload_in_metadata"] {
        if let Some(n) = o.get(k)? {
            if payload_in_filter_state.is_some() {
                return Err(bad(
                    n.path,
                    "give either payload_in_metadata or payload_in_filter_state",
                ));
            }
            payload_in_filter_state = Some(state_name(n.string()?, &n.path)?);
            if k == "payload_in_metadata" {
                warnings.push(format!(
                    "{}: a wasm filter cannot write dynamic metadata in Envoy 1.40; the payload is filter state wasm.{} instead (RBAC filter_state, Lua streamInfo():filterState(), access logs %FILTER_STATE(wasm.{}:PLAIN)%)",
                    n.path,
                    payload_in_filter_state.as_deref().unwrap_or(""),
                    payload_in_filter_state.as_deref().unwrap_or(""),
                ));
            }
        }
    }
    // Envoy's wasm host clears the route cache whenever the filter changes a request header,
    // so routes can match on claim headers either way; the field is accepted for that.
    if let Some(n) = o.get("clear_route_cache")? {
        n.bool()?;
    }
    let mut space_delimited_claims = Vec::new();
    if let Some(n) = o.get("normalize_payload_in_metadata")? {
        let no = n.obj()?;
        if let Some(c) = no.get("space_delimited_claims")? {
            space_delimited_claims = c.strings()?;
        }
        no.done(&no_hint)?;
    }
    let mut cache = None;
    if let Some(n) = o.get("jwt_cache_config")? {
        let co = n.obj()?;
        cache = Some(match co.get("jwt_cache_size")? {
            Some(s) => cache_size(s)?,
            // jwt_authn's default size.
            None => 100,
        });
        // Our cache has no size limit per token: every token that verifies may be cached.
        if let Some(m) = co.get("jwt_max_token_size")? {
            m.count()
                .ok_or_else(|| bad(&m.path, "expected a non-negative integer"))?;
        }
        co.done(&no_hint)?;
    }
    o.done(&provider_hint)?;
    Ok(Provider {
        name: name.to_owned(),
        policy,
        keys,
        sources,
        forward,
        forward_payload_header,
        pad_forward_payload_header,
        claim_to_headers,
        claim_to_filter_state,
        payload_in_filter_state,
        space_delimited_claims,
        jwt_authn_subjects: o.get("subjects")?.is_some_and(|n| n.v.is_object()),
        policy_map,
        cache_size: cache,
        fail_open_without_keys,
    })
}

fn claim_copies(n: Option<Node<'_>>, target_key: &str, is_header: bool) -> Res<Vec<ClaimCopy>> {
    let Some(n) = n else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for c in n.items()? {
        let co = c.obj()?;
        let claim = co.req("claim_name")?.string()?.to_owned();
        let t = co.req(target_key)?;
        let target = if is_header {
            header_name(t.string()?, &t.path)?
        } else {
            state_name(t.string()?, &t.path)?
        };
        co.done(&no_hint)?;
        out.push(ClaimCopy { claim, target });
    }
    Ok(out)
}

fn local_jwks(n: Node<'_>) -> Res<KeySet> {
    let o = n.obj()?;
    let bytes = if let Some(s) = o.get("inline_string")? {
        let Value::String(text) = s.v else {
            return Err(bad(&s.path, "expected a string"));
        };
        o.done(&|k| match k {
            "filename" => Some(
                "a wasm VM has no file system: give the JWKS as inline_string, or use remote_jwks",
            ),
            _ => None,
        })?;
        normalize_inline_jwks(text).map_err(|e| bad(&s.path, e))?
    } else if let Some(b) = o.get("inline_bytes")? {
        // proto3 JSON writes bytes as standard base64.
        use base64::Engine as _;
        let text = b
            .string()
            .ok()
            .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
            .and_then(|raw| String::from_utf8(raw).ok())
            .ok_or_else(|| bad(&b.path, "expected base64 of a JWKS"))?;
        o.done(&no_hint)?;
        normalize_inline_jwks(&text).map_err(|e| bad(&b.path, e))?
    } else if o.has("environment_variable") {
        return Err(bad(
            o.path_of("environment_variable"),
            "a wasm VM has no environment: give the JWKS as inline_string, or use remote_jwks",
        ));
    } else if o.has("keys") {
        // An inline JWKS object (`{"keys": [...]}`) is accepted as is.
        serde_json::to_vec(n.v).map_err(|e| bad(&n.path, e.to_string()))?
    } else if o.has("filename") {
        return Err(bad(
            o.path_of("filename"),
            "a wasm VM has no file system: give the JWKS as inline_string, or use remote_jwks",
        ));
    } else {
        return Err(bad(
            &n.path,
            "expected {inline_string} or a JWKS object with keys",
        ));
    };
    KeySet::from_jwks(&bytes).map_err(|e| bad(&n.path, e.to_string()))
}

/// An inline JWKS as Envoy accepts it from a configuration: YAML folded or literal strings
/// leave spaces, tabs and line breaks inside the base64 values (every Envoy docs example
/// does). Those are removed here, before the core's strict parser sees the document; keys
/// fetched from an IdP are never normalised.
pub fn normalize_inline_jwks(text: &str) -> Result<Vec<u8>, String> {
    // Raw line breaks and tabs inside JSON strings (a YAML literal block) are not JSON;
    // Envoy's parser takes them, so they become spaces and are then dropped below.
    let mut cleaned = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            } else if matches!(c, '\n' | '\r' | '\t') {
                cleaned.push(' ');
                continue;
            }
        } else if c == '"' {
            in_string = true;
        }
        cleaned.push(c);
    }
    let mut doc: Value =
        serde_json::from_str(&cleaned).map_err(|e| format!("not a JSON JWKS: {e}"))?;
    if let Some(keys) = doc.get_mut("keys").and_then(Value::as_array_mut) {
        for key in keys.iter_mut().filter_map(Value::as_object_mut) {
            for member in ["n", "e", "x5t", "x5t#S256"] {
                if let Some(Value::String(s)) = key.get_mut(member) {
                    s.retain(|c| !c.is_ascii_whitespace());
                }
            }
            if let Some(Value::Array(certs)) = key.get_mut("x5c") {
                for c in certs {
                    if let Value::String(s) = c {
                        s.retain(|c| !c.is_ascii_whitespace());
                    }
                }
            }
        }
    }
    serde_json::to_vec(&doc).map_err(|e| e.to_string())
}

/// The refresh fields `remote_jwks` and `oidc_discovery` share, plus `jwt_authn`'s
/// `async_fetch` and `retry_policy` mapped onto the same schedule.
fn refresh(o: &Obj<'_>, timeout_ms: u64) -> Res<RefreshConfig> {
    let d = RefreshConfig::default();
    let secs = |k: &str, default: u64| -> Res<u64> {
        Ok(match o.get(k)? {
            Some(n) => n.duration_ms()?.div_ceil(1000),
            None => default,
        })
    };
    let mut r = RefreshConfig {
        default_ttl: secs("cache_duration", d.default_ttl)?,
        min_ttl: secs("min_cache_duration", d.min_ttl)?,
        max_ttl: secs("max_cache_duration", d.max_ttl)?,
        retry_initial: secs("retry_initial", d.retry_initial)?.max(1),
        retry_max: secs("retry_max", d.retry_max)?.max(1),
        kid_cooldown: secs("refetch_cooldown", d.kid_cooldown)?,
        fetch_timeout: timeout_ms.div_ceil(1000) + 1,
    };
    // Fetching is always asynchronous and never holds a listener back: `fast_listener` is what
    // jwtgate always does; `failed_refetch_duration` is the first retry delay after a failure.
    if let Some(n) = o.get("async_fetch")? {
        let a = n.obj()?;
        if let Some(f) = a.get("fast_listener")? {
            f.bool()?;
        }
        if let Some(f) = a.get("failed_refetch_duration")? {
            r.retry_initial = f.duration_ms()?.div_ceil(1000).max(1);
        }
        a.done(&no_hint)?;
    }
    // Failed fetches are retried with exponential backoff until one succeeds: base_interval
    // and max_interval set its bounds; num_retries has no meaning for a background fetch.
    if let Some(n) = o.get("retry_policy")? {
        let p = n.obj()?;
        if let Some(b) = p.get("retry_back_off")? {
            let bo = b.obj()?;
            if let Some(i) = bo.get("base_interval")? {
                r.retry_initial = i.duration_ms()?.div_ceil(1000).max(1);
            }
            if let Some(i) = bo.get("max_interval")? {
                r.retry_max = i.duration_ms()?.div_ceil(1000).max(1);
            }
            bo.done(&no_hint)?;
        }
        if let Some(k) = p.get("num_retries")? {
            k.count()
                .ok_or_else(|| bad(&k.path, "expected a non-negative integer"))?;
        }
        p.done(&|k| match k {
            "retry_on" | "retry_priority" | "retry_host_predicate" | "host_selection_retry_max_attempts" | "retriable_status_codes" | "retriable_headers" | "retriable_request_headers" | "per_try_timeout" | "per_try_idle_timeout" | "rate_limited_retry_back_off" | "retry_options_predicates" => Some("not supported: a failed key fetch is retried with backoff (retry_back_off) until one succeeds"),
            _ => None,
        })?;
    }
    if r.retry_initial > r.retry_max {
        r.retry_max = r.retry_initial;
    }
    if r.min_ttl > r.max_ttl {
        return Err(bad(
            o.path_of("min_cache_duration"),
            "is larger than max_cache_duration",
        ));
    }
    Ok(r)
}

fn timeout(n: Option<Node<'_>>) -> Res<u64> {
    let Some(n) = n else { return Ok(5000) };
    let ms = n.duration_ms()?;
    if ms == 0 || ms > 60_000 {
        return Err(bad(&n.path, "expected a duration from 1ms to 60s"));
    }
    Ok(ms)
}

fn remote_jwks(n: Node<'_>) -> Res<Remote> {
    let o = n.obj()?;
    let h = o.req("http_uri")?.obj()?;
    let u = h.req("uri")?;
    let url = Url::parse(u.string()?)
        .ok_or_else(|| bad(&u.path, "expected an absolute http:// or https:// URL"))?;
    let cluster = h.req("cluster")?.string()?.to_owned();
    let timeout_ms = timeout(h.get("timeout")?)?;
    h.done(&no_hint)?;
    let refresh = refresh(&o, timeout_ms)?;
    o.done(&no_hint)?;
    Ok(Remote {
        discovery_issuer: None,
        uri: url,
        cluster,
        timeout_ms,
        refresh,
    })
}

fn discovery(n: Node<'_>) -> Res<Remote> {
    let o = n.obj()?;
    let i = o.req("issuer_uri")?;
    let issuer = i.string()?.to_owned();
    let doc = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let url = Url::parse(&doc)
        .ok_or_else(|| bad(&i.path, "expected an absolute http:// or https:// URL"))?;
    let cluster = o.req("cluster")?.string()?.to_owned();
    let timeout_ms = timeout(o.get("timeout")?)?;
    let refresh = refresh(&o, timeout_ms)?;
    o.done(&no_hint)?;
    Ok(Remote {
        discovery_issuer: Some(issuer),
        uri: url,
        cluster,
        timeout_ms,
        refresh,
    })
}

/// Reading requirements needs the providers (names, and room for derived ones) and the
/// `requirement_map` read so far.
struct ReqCx<'p> {
    providers: &'p mut Vec<Provider>,
    configured: usize,
    map: BTreeMap<String, Requirement>,
}

impl ReqCx<'_> {
    fn provider(&self, n: Node<'_>) -> Res<usize> {
        let name = n.string()?;
        self.providers[..self.configured]
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| bad(&n.path, format!("no provider named \"{name}\"")))
    }

    fn named(&self, n: Node<'_>) -> Res<Requirement> {
        let name = n.string()?;
        self.map.get(name).cloned().ok_or_else(|| {
            bad(
                n.path,
                format!("no requirement named \"{name}\" in requirement_map"),
            )
        })
    }

    fn rule(&mut self, n: Node<'_>) -> Res<Rule> {
        let o = n.obj()?;
        let m = o.req("match")?.obj()?;
        let kinds = ["prefix", "path", "safe_regex", "path_separated_prefix"];
        if kinds.iter().filter(|k| m.has(k)).count() != 1 {
            return Err(bad(
                &m.path,
                "exactly one of prefix, path, safe_regex, path_separated_prefix",
            ));
        }
        let path_match = if let Some(p) = m.get("prefix")? {
            PathMatch::Prefix(text(&p)?)
        } else if let Some(p) = m.get("path_separated_prefix")? {
            let t = text(&p)?;
            if !t.starts_with('/') || (t.len() > 1 && t.ends_with('/')) {
                return Err(bad(
                    &p.path,
                    "expected a path starting with / and not ending in /",
                ));
            }
            PathMatch::SeparatedPrefix(t)
        } else if let Some(p) = m.get("path")? {
            PathMatch::Exact(text(&p)?)
        } else {
            let r = m.req("safe_regex")?;
            // Envoy's shape is {regex: "..."} (google_re2 is implied); a bare string works too.
            let (re_text, re_path) = match r.v {
                Value::String(s) => (s.clone(), r.path.clone()),
                _ => {
                    let ro = r.obj()?;
                    if let Some(g) = ro.get("google_re2")? {
                        g.obj()?.done(&no_hint)?;
                    }
                    let x = ro.req("regex")?;
                    let s = text(&x)?;
                    ro.done(&no_hint)?;
                    (s, x.path.clone())
                }
            };
            if re_text.len() > 4096 {
                return Err(bad(re_path, "longer than 4096 bytes"));
            }
            // Envoy's safe_regex matches the whole path, so anchor it.
            let re = regex_lite::RegexBuilder::new(&format!("^(?:{re_text})$"))
                .size_limit(1 << 20)
                .build()
                .map_err(|e| bad(&re_path, e.to_string()))?;
            PathMatch::Regex(re)
        };
        m.done(&|k| match k {
            "headers" | "query_parameters" | "case_sensitive" | "runtime_fraction" | "grpc" | "tls_context" | "dynamic_metadata" | "filter_state" | "connect_matcher" | "path_match_policy" => Some("not supported: rules match on prefix, path or safe_regex; select by other request properties with per_route (Envoy route names)"),
            _ => None,
        })?;
        let requires = match (o.get("requires")?, o.get("requirement_name")?) {
            (Some(_), Some(n)) => {
                return Err(bad(&n.path, "give either requires or requirement_name"))
            }
            (Some(r), None) => Some(self.requirement(r, 0)?),
            (None, Some(n)) => Some(self.named(n)?),
            (None, None) => None,
        };
        o.done(&no_hint)?;
        Ok(Rule {
            path_match,
            requires,
        })
    }

    fn requirement(&mut self, n: Node<'_>, depth: usize) -> Res<Requirement> {
        if depth > 8 {
            return Err(bad(&n.path, "requirements nest deeper than 8 levels"));
        }
        let o = n.obj()?;
        const KINDS: [&str; 7] = [
            "provider_name",
            "provider_and_audiences",
            "requires_any",
            "requires_all",
            "allow_missing",
            "allow_missing_or_failed",
            "extract_only_without_validation",
        ];
        if KINDS.iter().filter(|k| o.has(k)).count() != 1 {
            if let Some(k) = o.map.keys().find(|k| !KINDS.contains(&snake(k).as_str())) {
                return Err(bad(o.child(k), "unknown requirement"));
            }
            return Err(bad(&n.path, format!("exactly one of {}", KINDS.join(", "))));
        }
        let req = if let Some(p) = o.get("provider_name")? {
            Requirement::Provider(self.provider(p)?)
        } else if let Some(pa) = o.get("provider_and_audiences")? {
            let pao = pa.obj()?;
            let i = self.provider(pao.req("provider_name")?)?;
            let a = pao.req("audiences")?;
            // The same provider with these audiences: a derived provider, verified apart.
            let base = self.providers[i].clone();
            let mut map = base.policy_map.clone();
            map.insert("audiences".to_owned(), a.v.clone());
            let policy = Policy::from_map(&map, "").map_err(|e| ConfigError {
                field: a.path.clone(),
                error: e,
            })?;
            pao.done(&no_hint)?;
            self.providers.push(Provider { policy, ..base });
            Requirement::Provider(self.providers.len() - 1)
        } else if let Some(a) = o.get("requires_any")?.or(o.get("requires_all")?) {
            let any = o.has("requires_any");
            let ao = a.obj()?;
            let list = ao.req("requirements")?.items()?;
            if list.len() < 2 {
                return Err(bad(
                    ao.path_of("requirements"),
                    "needs at least two requirements",
                ));
            }
            let mut reqs = Vec::new();
            for r in list {
                reqs.push(self.requirement(r, depth + 1)?);
            }
            ao.done(&no_hint)?;
            if any {
                Requirement::Any(reqs)
            } else {
                Requirement::All(reqs)
            }
        } else {
            let (k, req) = if o.has("allow_missing") {
                ("allow_missing", Requirement::AllowMissing)
            } else if o.has("allow_missing_or_failed") {
                ("allow_missing_or_failed", Requirement::AllowMissingOrFailed)
            } else {
                ("extract_only_without_validation", Requirement::ExtractOnly)
            };
            let e = o.req(k)?;
            e.obj()?.done(&no_hint)?;
            req
        };
        o.done(&no_hint)?;
        Ok(req)
    }
}

fn text(n: &Node<'_>) -> Res<String> {
    n.v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| bad(&n.path, "expected a string"))
}

/// Providers referenced by name, for the log line at configuration time.
pub fn summary(c: &Config) -> String {
    let mut kinds: BTreeMap<&str, &str> = BTreeMap::new();
    for p in &c.providers[..c.configured_providers] {
        let kind = match &p.keys {
            KeySource::Local(_) => "inline JWKS",
            KeySource::Remote(r) if r.discovery_issuer.is_some() => "OIDC discovery",
            KeySource::Remote(_) => "remote JWKS",
        };
        kinds.insert(&p.name, kind);
    }
    let list: Vec<String> = kinds.iter().map(|(n, k)| format!("{n} ({k})")).collect();
    format!(
        "{} provider(s): {}; {} rule(s)",
        c.configured_providers,
        list.join(", "),
        c.rules.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JWKS: &str = include_str!("../../tests/vectors/keys/rfc7515-a2.jwks.json");

    fn parse_v(v: Value) -> Result<Config, ConfigError> {
        parse(v.to_string().as_bytes())
    }

    fn with(provider_extra: Value, top_extra: Value) -> Result<Config, ConfigError> {
        let mut p = json!({"local_jwks": {"inline_string": JWKS}});
        if let (Some(p), Value::Object(e)) = (p.as_object_mut(), provider_extra) {
            p.extend(e);
        }
        let mut top = json!({"providers": {"a": p}});
        if let (Some(t), Value::Object(e)) = (top.as_object_mut(), top_extra) {
            t.extend(e);
        }
        parse_v(top)
    }

    fn field(r: Result<Config, ConfigError>) -> (String, String) {
        let e = r.expect_err("refused");
        (e.field.clone(), e.to_string())
    }

    #[test]
    fn minimal_inline_provider_gets_jwt_authn_default_sources() {
        let c = with(json!({}), json!({})).unwrap();
        assert_eq!(c.providers[0].sources.len(), 2);
        assert_eq!(c.cache_size, 1000);
        assert_eq!(c.realm, "jwtgate");
        assert!(c.native_rsa);
        let c = with(json!({}), json!({"cache_size": 10.0, "native_rsa": false})).unwrap();
        assert_eq!(c.cache_size, 10);
        assert!(!c.native_rsa);
    }

    #[test]
    fn errors_name_the_field_as_written() {
        let remote =
            |h: Value| parse_v(json!({"providers": {"a": {"remote_jwks": {"http_uri": h}}}}));
        for (r, f) in [
            (parse_v(json!({"providers": 3})), "providers"),
            (parse_v(json!({"providers": {}})), "providers"),
            (
                with(json!({"audences": ["x"]}), json!({})),
                "providers.a.audences",
            ),
            (with(json!({"issuer": 3}), json!({})), "providers.a.issuer"),
            (
                with(json!({"clockSkewSeconds": "x"}), json!({})),
                "providers.a.clockSkewSeconds",
            ),
            (
                with(json!({"from_headers": [{"name": "x y"}]}), json!({})),
                "providers.a.from_headers[0].name",
            ),
            (
                with(
                    json!({"claim_to_headers": [{"header_name": "x"}]}),
                    json!({}),
                ),
                "providers.a.claim_to_headers[0].claim_name",
            ),
            (
                with(
                    json!({}),
                    json!({"rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "b"}}]}),
                ),
                "rules[0].requires.provider_name",
            ),
            (
                with(
                    json!({}),
                    json!({"rules": [{"match": {"safe_regex": {"regex": "("}}}]}),
                ),
                "rules[0].match.safe_regex.regex",
            ),
            (with(json!({}), json!({"cache_size": -1})), "cache_size"),
            (with(json!({}), json!({"native_rsa": "yes"})), "native_rsa"),
            (with(json!({}), json!({"extra": 1})), "extra"),
            (
                remote(json!({"uri": "ftp://x", "cluster": "c"})),
                "providers.a.remote_jwks.http_uri.uri",
            ),
            (
                remote(json!({"uri": "http://x/j", "cluster": "c", "timeout": "5 s s"})),
                "providers.a.remote_jwks.http_uri.timeout",
            ),
            // Out of range: the field is http_uri.timeout, where it was written.
            (
                remote(json!({"uri": "http://x/j", "cluster": "c", "timeout": "90s"})),
                "providers.a.remote_jwks.http_uri.timeout",
            ),
            (
                parse_v(json!({"providers": {"a": {"local_jwks": {"inline_string": "{}"}}}})),
                "providers.a.local_jwks",
            ),
            (parse_v(json!({"providers": {"a": {}}})), "providers.a"),
            (
                with(json!({"from_headers": [], "fromHeaders": []}), json!({})),
                "providers.a.from_headers",
            ),
        ] {
            let (got, text) = field(r);
            assert_eq!(got, f, "{text}");
            assert!(text.starts_with(f), "{text}");
        }
    }

    #[test]
    fn empty_allow_lists_are_refused_and_absent_means_no_check() {
        let (f, text) = field(with(json!({"audiences": []}), json!({})));
        assert_eq!(f, "providers.a.audiences");
        assert!(text.contains("leave the field out"), "{text}");
        let (f, _) = field(with(json!({"issuer": []}), json!({})));
        assert_eq!(f, "providers.a.issuer");
        assert!(with(json!({}), json!({})).is_ok());
    }

    #[test]
    fn proto3_json_spellings_and_durations() {
        let c = parse_v(json!({"providers": {"r": {
            "remoteJwks": {"httpUri": {"uri": "http://idp:8080/keys?x=1", "cluster": "idp", "timeout": {"seconds": 1, "nanos": 500000000}},
                           "cacheDuration": {"seconds": 300}, "asyncFetch": {"fastListener": true, "failedRefetchDuration": "7s"},
                           "retryPolicy": {"retryBackOff": {"baseInterval": "0.5s", "maxInterval": "20s"}, "numRetries": 3}},
            "fromHeaders": [{"name": "X-Token", "valuePrefix": "JWT "}],
            "forwardPayloadHeader": "x-payload", "clockSkewSeconds": "30",
            "jwtCacheConfig": {"jwtCacheSize": 50}, "payloadInMetadata": "claims",
            "normalizePayloadInMetadata": {"spaceDelimitedClaims": ["scope"]}}},
            "bypassCorsPreflight": true}))
        .unwrap();
        let p = &c.providers[0];
        let KeySource::Remote(r) = &p.keys else {
            panic!()
        };
        assert_eq!(r.uri.authority, "idp:8080");
        assert_eq!(r.uri.path, "/keys?x=1");
        assert_eq!(r.timeout_ms, 1500);
        assert_eq!(r.refresh.default_ttl, 300);
        // retry_policy comes after async_fetch and wins.
        assert_eq!(r.refresh.retry_initial, 1);
        assert_eq!(r.refresh.retry_max, 20);
        assert_eq!(
            p.sources,
            vec![Source::Header {
                name: "x-token".into(),
                value_prefix: "JWT ".into(),
                rfc6750: false
            }]
        );
        assert_eq!(p.cache_size, Some(50));
        assert_eq!(p.payload_in_filter_state.as_deref(), Some("claims"));
        assert_eq!(p.space_delimited_claims, vec!["scope".to_owned()]);
        assert!(c.bypass_cors_preflight);
        assert!(
            c.warnings.iter().any(|w| w.contains("dynamic metadata")),
            "{:?}",
            c.warnings
        );
        let d = parse_v(json!({"providers": {"d": {"oidc_discovery": {"issuer_uri": "https://issuer.example/id/1/", "cluster": "idp", "timeout": "250ms", "refetch_cooldown": 10}}}})).unwrap();
        let KeySource::Remote(d) = &d.providers[0].keys else {
            panic!()
        };
        assert_eq!(d.uri.path, "/id/1/.well-known/openid-configuration");
        assert_eq!(d.timeout_ms, 250);
        assert_eq!(d.refresh.kid_cooldown, 10);
    }

    #[test]
    fn inline_jwks_from_a_yaml_folded_or_literal_string() {
        let doc: Value = serde_json::from_str(JWKS).unwrap();
        let n = doc["keys"][0]["n"].as_str().unwrap().to_owned();
        for sep in [" ", "\n", "\r\n", "\t", " \n  "] {
            let broken: String = n
                .as_bytes()
                .chunks(60)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(sep);
            let mut d = doc.clone();
            d["keys"][0]["n"] = Value::String(broken);
            // A literal block puts raw line breaks inside the JSON string.
            let text = d
                .to_string()
                .replace("\\n", "\n")
                .replace("\\r", "\r")
                .replace("\\t", "\t");
            assert!(
                with(json!({"local_jwks": {"inline_string": text}}), json!({})).is_ok(),
                "{sep:?}"
            );
        }
        // The core's parser stays strict for everything else.
        assert!(KeySet::from_jwks(
            format!(
                r#"{{"keys":[{{"kty":"RSA","e":"AQAB","n":"{} {}"}}]}}"#,
                &n[..10],
                &n[10..]
            )
            .as_bytes()
        )
        .is_err());
    }

    #[test]
    fn requirement_map_per_route_and_provider_and_audiences() {
        let c = with(
            json!({"audiences": ["a1"]}),
            json!({
                "requirement_map": {
                    "strict": {"provider_and_audiences": {"provider_name": "a", "audiences": ["a2"]}},
                    "loose": {"allow_missing": {}},
                    "peek": {"extract_only_without_validation": {}}
                },
                "rules": [{"match": {"prefix": "/x"}, "requirement_name": "loose"},
                          {"match": {"prefix": "/"}, "requires": {"providerName": "a"}}],
                "per_route": {"r1": {"requirement_name": "strict"}, "r2": {"disabled": true}}
            }),
        )
        .unwrap();
        assert_eq!(c.configured_providers, 1);
        assert_eq!(c.providers.len(), 2);
        assert_eq!(c.rules[0].requires, Some(Requirement::AllowMissing));
        assert_eq!(
            c.per_route.get("r1"),
            Some(&RouteConfig::Requires(Requirement::Provider(1)))
        );
        assert_eq!(c.per_route.get("r2"), Some(&RouteConfig::Disabled));
        let (f, _) = field(with(
            json!({}),
            json!({"per_route": {"r": {"requirement_name": "nope"}}}),
        ));
        assert_eq!(f, "per_route.r.requirement_name");
        let (f, _) = field(with(
            json!({}),
            json!({"rules": [{"match": {"prefix": "/"}, "requires": {"provider_and_audiences": {"provider_name": "a", "audiences": []}}}]}),
        ));
        assert_eq!(f, "rules[0].requires.provider_and_audiences.audiences");
    }

    #[test]
    fn refused_jwt_authn_fields_say_what_to_write() {
        for (extra, top, f, hint) in [
            (
                json!({"max_lifetime": "3600s"}),
                json!({}),
                "providers.a.max_lifetime",
                "max_token_age_seconds",
            ),
            (
                json!({"header_in_metadata": "h"}),
                json!({}),
                "providers.a.header_in_metadata",
                "dynamic metadata",
            ),
            (
                json!({"failedStatusInMetadata": "h"}),
                json!({}),
                "providers.a.failedStatusInMetadata",
                "dynamic metadata",
            ),
            (
                json!({"subjects": {"suffix": "x"}}),
                json!({}),
                "providers.a.subjects",
                "exactly or by prefix",
            ),
            (
                json!({}),
                json!({"filter_state_rules": {}}),
                "filter_state_rules",
                "per_route",
            ),
            (
                json!({}),
                json!({"rules": [{"match": {"prefix": "/", "headers": []}}]}),
                "rules[0].match.headers",
                "per_route",
            ),
        ] {
            let (got, text) = field(with(extra, top));
            assert_eq!(got, f, "{text}");
            assert!(text.contains(hint), "{text}");
        }
        let (f, text) = field(parse_v(
            json!({"providers": {"a": {"local_jwks": {"filename": "/k.json"}}}}),
        ));
        assert_eq!(f, "providers.a.local_jwks.filename");
        assert!(text.contains("inline_string"), "{text}");
    }

    #[test]
    fn route_metadata_needs_a_requirement_map() {
        let (f, _) = field(with(json!({}), json!({"route_metadata": true})));
        assert_eq!(f, "route_metadata");
        let c = with(
            json!({}),
            json!({"route_metadata": true, "requirement_map": {"need": {"provider_name": "a"}}}),
        )
        .unwrap();
        assert!(c.route_metadata && c.requirement_map.contains_key("need"));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn inline_bytes_clear_route_cache_and_separated_prefixes() {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(JWKS);
        let c = parse_v(json!({"providers": {"a": {"local_jwks": {"inline_bytes": b64}, "clear_route_cache": true}},
                               "rules": [{"match": {"path_separated_prefix": "/api"}, "requires": {"provider_name": "a"}}]}))
        .unwrap();
        assert_eq!(
            c.rules[0].path_match,
            PathMatch::SeparatedPrefix("/api".into())
        );
        let (f, _) = field(with(
            json!({}),
            json!({"rules": [{"match": {"path_separated_prefix": "/api/"}}]}),
        ));
        assert_eq!(f, "rules[0].match.path_separated_prefix");
    }

    #[test]
    fn jwt_authn_subject_matchers_and_require_expiration() {
        let c = with(
            json!({"subjects": {"prefix": "spiffe://"}, "require_expiration": false}),
            json!({}),
        )
        .unwrap();
        assert_eq!(c.providers[0].policy_map["subjects"], json!(["spiffe://*"]));
        assert_eq!(c.providers[0].policy_map["require_exp"], json!(false));
    }

    #[test]
    fn requirement_errors_name_the_member() {
        let r = |req: Value| {
            with(
                json!({}),
                json!({"rules": [{"match": {"prefix": "/"}, "requires": req}]}),
            )
        };
        let (f, t) = field(r(json!({"provider_name": "a", "allow_missing": {}})));
        assert_eq!(f, "rules[0].requires", "{t}");
        assert!(t.contains("exactly one of"), "{t}");
        let (f, _) = field(r(json!({"provider_name": "a", "bogus": 1})));
        assert_eq!(f, "rules[0].requires.bogus");
        let (f, _) = field(r(
            json!({"requiresAny": {"requirements": [{"providerName": "a"}]}}),
        ));
        assert_eq!(f, "rules[0].requires.requiresAny.requirements");
        // provider_and_audiences requires the provider: no warning about it.
        let c = r(json!({"provider_and_audiences": {"provider_name": "a", "audiences": ["x"]}}))
            .unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn unused_providers_and_open_rules_are_warned_about() {
        let c = with(json!({}), json!({"rules": [{"match": {"prefix": "/"}}]})).unwrap();
        assert!(
            c.warnings
                .iter()
                .any(|w| w.contains("provider a is required by no rule")),
            "{:?}",
            c.warnings
        );
        assert!(
            c.warnings
                .iter()
                .any(|w| w.contains("rules[0] requires nothing")),
            "{:?}",
            c.warnings
        );
    }
}
