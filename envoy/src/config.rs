//! The plugin configuration: JSON shaped like `jwt_authn`, so that moving from the native
//! filter is mostly a rename. Everything is validated here, once, at `on_configure`;
//! an error names the offending field so the log line is actionable.

use crate::rules::{PathMatch, Requirement, Rule};
use jwtgate::refresh::RefreshConfig;
use jwtgate::{KeySet, Policy};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// A configuration error: the dotted field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

/// Where a provider looks for its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A request header; the token follows `value_prefix` (case-insensitive). The
    /// `Authorization` header with a `Bearer ` prefix is parsed by RFC 6750 rules.
    Header { name: String, value_prefix: String },
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
    pub payload_in_filter_state: Option<String>,
    /// With no keys at all (never fetched), let requests through instead of refusing them.
    pub fail_open_without_keys: bool,
}

/// The whole plugin configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub providers: Vec<Provider>,
    pub rules: Vec<Rule>,
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
}

impl Config {
    pub fn provider_index(&self, name: &str) -> Option<usize> {
        self.providers.iter().position(|p| p.name == name)
    }
}

const TOP_FIELDS: &[&str] = &[
    "providers",
    "rules",
    "bypass_cors_preflight",
    "cache_size",
    "realm",
    "stat_prefix",
    "fixed_now",
    "native_rsa",
];

const PROVIDER_FIELDS: &[&str] = &[
    "issuer",
    "local_jwks",
    "remote_jwks",
    "oidc_discovery",
    "from_headers",
    "from_params",
    "from_cookies",
    "forward",
    "forward_payload_header",
    "pad_forward_payload_header",
    "claim_to_headers",
    "claim_to_filter_state",
    "payload_in_filter_state",
    "fail_open_without_keys",
];

/// Parses and validates the plugin configuration.
pub fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| bad("configuration", format!("not valid JSON: {e}")))?;
    let top = doc
        .as_object()
        .ok_or_else(|| bad("configuration", "expected a JSON object"))?;
    unknown_fields(top, TOP_FIELDS, "")?;

    let mut providers = Vec::new();
    let provs = top
        .get("providers")
        .ok_or_else(|| bad("providers", "required"))?
        .as_object()
        .ok_or_else(|| {
            bad(
                "providers",
                "expected an object of provider name to provider",
            )
        })?;
    if provs.is_empty() {
        return Err(bad("providers", "at least one provider is required"));
    }
    for (name, v) in provs {
        providers.push(provider(name, v)?);
    }
    let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();

    let mut rules = Vec::new();
    match top.get("rules") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, r) in items.iter().enumerate() {
                rules.push(rule(r, &format!("rules[{i}]"), &names)?);
            }
        }
        Some(_) => return Err(bad("rules", "expected an array")),
    }
    let bypass_cors_preflight =
        opt_bool(top, "bypass_cors_preflight", "bypass_cors_preflight")?.unwrap_or(false);
    let cache_size = match top.get("cache_size") {
        None => 1000,
        Some(v) => count(v)
            .filter(|n| *n <= 1_000_000)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("cache_size", "expected an integer from 0 to 1000000"))?,
    };
    let realm = match top.get("realm") {
        None => "jwtgate".to_owned(),
        Some(Value::String(s))
            if !s.is_empty()
                && s.bytes()
                    .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') =>
        {
            s.clone()
        }
        Some(_) => {
            return Err(bad(
                "realm",
                "expected printable ASCII without quotes or backslashes",
            ))
        }
    };
    let stat_prefix = match top.get("stat_prefix") {
        None => "jwtgate".to_owned(),
        Some(Value::String(s)) => state_name(s, "stat_prefix")?,
        Some(_) => return Err(bad("stat_prefix", "expected a string")),
    };
    let fixed_now = match top.get("fixed_now") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| bad("fixed_now", "expected Unix seconds"))?,
        ),
    };
    let native_rsa = opt_bool(top, "native_rsa", "native_rsa")?.unwrap_or(true);
    Ok(Config {
        providers,
        rules,
        bypass_cors_preflight,
        cache_size,
        realm,
        stat_prefix,
        fixed_now,
        native_rsa,
    })
}

/// A non-negative integer; an integral float too, because configurations that pass through
/// `google.protobuf.Struct` (Istio's `pluginConfig`) may carry every number as a double.
fn count(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..9.0e15).contains(f))
            .map(|f| f as u64)
    })
}

fn unknown_fields(
    map: &Map<String, Value>,
    known: &[&str],
    prefix: &str,
) -> Result<(), ConfigError> {
    for k in map.keys() {
        if !known.contains(&k.as_str()) {
            return Err(bad(format!("{prefix}{k}"), "unknown field"));
        }
    }
    Ok(())
}

fn opt_bool(map: &Map<String, Value>, key: &str, field: &str) -> Result<Option<bool>, ConfigError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(field, "expected a boolean")),
    }
}

fn opt_string(
    map: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<String>, ConfigError> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(bad(field, "expected a non-empty string")),
    }
}

fn string_list(v: &Value, field: &str) -> Result<Vec<String>, ConfigError> {
    let items = v
        .as_array()
        .ok_or_else(|| bad(field, "expected an array of strings"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(bad(format!("{field}[{i}]"), "expected a non-empty string")),
        })
        .collect()
}

/// A header name Envoy will accept: lower-case token characters.
fn header_name(s: &str, field: &str) -> Result<String, ConfigError> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(bad(field, "expected an HTTP header name"))
    }
}

fn provider(name: &str, v: &Value) -> Result<Provider, ConfigError> {
    let prefix = format!("providers.{name}.");
    let f = |k: &str| format!("{prefix}{k}");
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(bad(
            format!("providers.{name}"),
            "provider names are 1-64 characters of [A-Za-z0-9._-]",
        ));
    }
    let map = v
        .as_object()
        .ok_or_else(|| bad(format!("providers.{name}"), "expected an object"))?;
    for k in map.keys() {
        if !PROVIDER_FIELDS.contains(&k.as_str()) && !Policy::FIELDS.contains(&k.as_str()) {
            return Err(bad(f(k), "unknown field"));
        }
    }

    // The core reads its own policy fields; `issuer` (jwt_authn's name) is folded into `issuers`.
    let mut policy_map = Map::new();
    for k in Policy::FIELDS {
        if let Some(v) = map.get(*k) {
            policy_map.insert((*k).to_owned(), v.clone());
        }
    }
    if let Some(iss) = map.get("issuer") {
        if map.contains_key("issuers") {
            return Err(bad(f("issuer"), "give either issuer or issuers, not both"));
        }
        policy_map.insert("issuers".to_owned(), iss.clone());
    }
    let policy = Policy::from_map(&policy_map, &prefix).map_err(|e| {
        // The core's reason starts with the prefixed field name; keep it whole.
        let reason = e.reason().to_owned();
        match reason.split_once(": ") {
            // Errors on the folded `issuer` name the field the user wrote.
            Some((field, msg))
                if field == format!("{prefix}issuers") && map.contains_key("issuer") =>
            {
                bad(format!("{prefix}issuer"), msg)
            }
            Some((field, msg)) if field.starts_with(&prefix) => bad(field, msg),
            _ => bad(format!("providers.{name}"), reason),
        }
    })?;

    let sources_given = ["local_jwks", "remote_jwks", "oidc_discovery"]
        .iter()
        .filter(|k| map.contains_key(**k))
        .count();
    if sources_given != 1 {
        return Err(bad(
            format!("providers.{name}"),
            "exactly one of local_jwks, remote_jwks, oidc_discovery is required",
        ));
    }
    let keys = if let Some(v) = map.get("local_jwks") {
        KeySource::Local(local_jwks(v, &f("local_jwks"))?)
    } else if let Some(v) = map.get("remote_jwks") {
        KeySource::Remote(remote(v, &f("remote_jwks"), false)?)
    } else {
        let v = map.get("oidc_discovery").unwrap_or(&Value::Null);
        let r = remote(v, &f("oidc_discovery"), true)?;
        KeySource::Remote(r)
    };

    let mut sources = Vec::new();
    if let Some(v) = map.get("from_headers") {
        let items = v
            .as_array()
            .ok_or_else(|| bad(f("from_headers"), "expected an array"))?;
        for (i, h) in items.iter().enumerate() {
            let field = f(&format!("from_headers[{i}]"));
            let h = h
                .as_object()
                .ok_or_else(|| bad(&field, "expected {name, value_prefix}"))?;
            unknown_fields(h, &["name", "value_prefix"], &format!("{field}."))?;
            let name = opt_string(h, "name", &format!("{field}.name"))?
                .ok_or_else(|| bad(format!("{field}.name"), "required"))?;
            let name = header_name(&name, &format!("{field}.name"))?;
            let value_prefix = match h.get("value_prefix") {
                None => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(bad(format!("{field}.value_prefix"), "expected a string")),
            };
            sources.push(Source::Header { name, value_prefix });
        }
    }
    if let Some(v) = map.get("from_params") {
        for p in string_list(v, &f("from_params"))? {
            sources.push(Source::Param(p));
        }
    }
    if let Some(v) = map.get("from_cookies") {
        for c in string_list(v, &f("from_cookies"))? {
            sources.push(Source::Cookie(c));
        }
    }
    if sources.is_empty() {
        // jwt_authn's default locations.
        sources.push(Source::Header {
            name: "authorization".to_owned(),
            value_prefix: "Bearer ".to_owned(),
        });
        sources.push(Source::Param("access_token".to_owned()));
    }

    let forward = opt_bool(map, "forward", &f("forward"))?.unwrap_or(false);
    let forward_payload_header =
        match opt_string(map, "forward_payload_header", &f("forward_payload_header"))? {
            Some(h) => Some(header_name(&h, &f("forward_payload_header"))?),
            None => None,
        };
    let pad_forward_payload_header = opt_bool(
        map,
        "pad_forward_payload_header",
        &f("pad_forward_payload_header"),
    )?
    .unwrap_or(false);
    let claim_to_headers = claim_copies(
        map.get("claim_to_headers"),
        &f("claim_to_headers"),
        "header_name",
        true,
    )?;
    let claim_to_filter_state = claim_copies(
        map.get("claim_to_filter_state"),
        &f("claim_to_filter_state"),
        "name",
        false,
    )?;
    let payload_in_filter_state = match opt_string(
        map,
        "payload_in_filter_state",
        &f("payload_in_filter_state"),
    )? {
        Some(n) => Some(state_name(&n, &f("payload_in_filter_state"))?),
        None => None,
    };
    let fail_open_without_keys =
        opt_bool(map, "fail_open_without_keys", &f("fail_open_without_keys"))?.unwrap_or(false);
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
        fail_open_without_keys,
    })
}

/// Filter-state names: Envoy stores them under `wasm.<name>`.
fn state_name(s: &str, field: &str) -> Result<String, ConfigError> {
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

fn claim_copies(
    v: Option<&Value>,
    field: &str,
    target_key: &str,
    is_header: bool,
) -> Result<Vec<ClaimCopy>, ConfigError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let items = v
        .as_array()
        .ok_or_else(|| bad(field, "expected an array"))?;
    let mut out = Vec::new();
    for (i, c) in items.iter().enumerate() {
        let field = format!("{field}[{i}]");
        let c = c
            .as_object()
            .ok_or_else(|| bad(&field, format!("expected {{{target_key}, claim_name}}")))?;
        unknown_fields(c, &[target_key, "claim_name"], &format!("{field}."))?;
        let claim = opt_string(c, "claim_name", &format!("{field}.claim_name"))?
            .ok_or_else(|| bad(format!("{field}.claim_name"), "required"))?;
        let target = opt_string(c, target_key, &format!("{field}.{target_key}"))?
            .ok_or_else(|| bad(format!("{field}.{target_key}"), "required"))?;
        let target = if is_header {
            header_name(&target, &format!("{field}.{target_key}"))?
        } else {
            state_name(&target, &format!("{field}.{target_key}"))?
        };
        out.push(ClaimCopy { claim, target });
    }
    Ok(out)
}

fn local_jwks(v: &Value, field: &str) -> Result<KeySet, ConfigError> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad(field, "expected {inline_string} or a JWKS object"))?;
    let bytes = match obj.get("inline_string") {
        Some(Value::String(s)) => {
            if obj.len() != 1 {
                return Err(bad(field, "inline_string must be the only field"));
            }
            s.as_bytes().to_vec()
        }
        Some(_) => return Err(bad(format!("{field}.inline_string"), "expected a string")),
        // An inline JWKS object (`{"keys": [...]}`) is accepted as is.
        None if obj.contains_key("keys") => {
            serde_json::to_vec(v).map_err(|e| bad(field, e.to_string()))?
        }
        None => {
            return Err(bad(
                field,
                "expected {inline_string} or a JWKS object with keys",
            ))
        }
    };
    KeySet::from_jwks(&bytes).map_err(|e| bad(field, e.to_string()))
}

/// `"5s"`, `"0.25s"` (protobuf JSON Duration) or a number of seconds, to milliseconds.
pub fn duration_ms(v: &Value, field: &str) -> Result<u64, ConfigError> {
    let err = || {
        bad(
            field,
            "expected a duration such as \"5s\" or \"0.5s\", or a number of seconds",
        )
    };
    let secs: f64 = match v {
        Value::Number(n) => n.as_f64().ok_or_else(err)?,
        Value::String(s) => {
            let num = s
                .strip_suffix("ms")
                .map(|n| (n, 0.001))
                .or_else(|| s.strip_suffix('s').map(|n| (n, 1.0)));
            let (n, scale) = num.ok_or_else(err)?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(err());
            }
            n.parse::<f64>().map_err(|_| err())? * scale
        }
        _ => return Err(err()),
    };
    if !secs.is_finite() || !(0.0..=315_576_000_000.0).contains(&secs) {
        return Err(err());
    }
    Ok((secs * 1000.0).round() as u64)
}

fn seconds_field(
    map: &Map<String, Value>,
    key: &str,
    prefix: &str,
    default: u64,
) -> Result<u64, ConfigError> {
    match map.get(key) {
        None => Ok(default),
        Some(v) => Ok(duration_ms(v, &format!("{prefix}.{key}"))?.div_ceil(1000)),
    }
}

fn remote(v: &Value, field: &str, discovery: bool) -> Result<Remote, ConfigError> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad(field, "expected an object"))?;
    let mut known = vec![
        "cache_duration",
        "min_cache_duration",
        "max_cache_duration",
        "refetch_cooldown",
        "retry_initial",
        "retry_max",
    ];
    known.extend(if discovery {
        ["issuer_uri", "cluster", "timeout"].as_slice()
    } else {
        ["http_uri"].as_slice()
    });
    unknown_fields(obj, &known, &format!("{field}."))?;
    let (uri_field, uri, cluster, timeout_ms, discovery_issuer) = if discovery {
        let issuer = opt_string(obj, "issuer_uri", &format!("{field}.issuer_uri"))?
            .ok_or_else(|| bad(format!("{field}.issuer_uri"), "required"))?;
        let cluster = opt_string(obj, "cluster", &format!("{field}.cluster"))?
            .ok_or_else(|| bad(format!("{field}.cluster"), "required"))?;
        let timeout = match obj.get("timeout") {
            Some(t) => duration_ms(t, &format!("{field}.timeout"))?,
            None => 5000,
        };
        let doc = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        (
            format!("{field}.issuer_uri"),
            doc,
            cluster,
            timeout,
            Some(issuer),
        )
    } else {
        let h = obj
            .get("http_uri")
            .ok_or_else(|| bad(format!("{field}.http_uri"), "required"))?
            .as_object()
            .ok_or_else(|| {
                bad(
                    format!("{field}.http_uri"),
                    "expected {uri, cluster, timeout}",
                )
            })?;
        let hf = format!("{field}.http_uri");
        unknown_fields(h, &["uri", "cluster", "timeout"], &format!("{hf}."))?;
        let uri = opt_string(h, "uri", &format!("{hf}.uri"))?
            .ok_or_else(|| bad(format!("{hf}.uri"), "required"))?;
        let cluster = opt_string(h, "cluster", &format!("{hf}.cluster"))?
            .ok_or_else(|| bad(format!("{hf}.cluster"), "required"))?;
        let timeout = match h.get("timeout") {
            Some(t) => duration_ms(t, &format!("{hf}.timeout"))?,
            None => 5000,
        };
        (format!("{hf}.uri"), uri, cluster, timeout, None)
    };
    let url = Url::parse(&uri)
        .ok_or_else(|| bad(uri_field, "expected an absolute http:// or https:// URL"))?;
    if timeout_ms == 0 || timeout_ms > 60_000 {
        return Err(bad(
            format!("{field}.timeout"),
            "expected a duration from 1ms to 60s",
        ));
    }
    let d = RefreshConfig::default();
    let refresh = RefreshConfig {
        default_ttl: seconds_field(obj, "cache_duration", field, d.default_ttl)?,
        min_ttl: seconds_field(obj, "min_cache_duration", field, d.min_ttl)?,
        max_ttl: seconds_field(obj, "max_cache_duration", field, d.max_ttl)?,
        retry_initial: seconds_field(obj, "retry_initial", field, d.retry_initial)?.max(1),
        retry_max: seconds_field(obj, "retry_max", field, d.retry_max)?.max(1),
        kid_cooldown: seconds_field(obj, "refetch_cooldown", field, d.kid_cooldown)?,
        fetch_timeout: timeout_ms.div_ceil(1000) + 1,
    };
    if refresh.min_ttl > refresh.max_ttl {
        return Err(bad(
            format!("{field}.min_cache_duration"),
            "is larger than max_cache_duration",
        ));
    }
    Ok(Remote {
        discovery_issuer,
        uri: url,
        cluster,
        timeout_ms,
        refresh,
    })
}

fn rule(v: &Value, field: &str, providers: &[&str]) -> Result<Rule, ConfigError> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad(field, "expected {match, requires}"))?;
    unknown_fields(obj, &["match", "requires"], &format!("{field}."))?;
    let m = obj
        .get("match")
        .ok_or_else(|| bad(format!("{field}.match"), "required"))?
        .as_object()
        .ok_or_else(|| {
            bad(
                format!("{field}.match"),
                "expected {prefix}, {path} or {safe_regex}",
            )
        })?;
    let mf = format!("{field}.match");
    unknown_fields(m, &["prefix", "path", "safe_regex"], &format!("{mf}."))?;
    if m.len() != 1 {
        return Err(bad(mf, "exactly one of prefix, path, safe_regex"));
    }
    let path_match = if let Some(p) = m.get("prefix") {
        PathMatch::Prefix(
            p.as_str()
                .ok_or_else(|| bad(format!("{mf}.prefix"), "expected a string"))?
                .to_owned(),
        )
    } else if let Some(p) = m.get("path") {
        PathMatch::Exact(
            p.as_str()
                .ok_or_else(|| bad(format!("{mf}.path"), "expected a string"))?
                .to_owned(),
        )
    } else {
        let rf = format!("{mf}.safe_regex");
        // Envoy's shape is {regex: "..."} (google_re2 is implied); a bare string is accepted too.
        let text = match m.get("safe_regex") {
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Object(o)) => {
                unknown_fields(o, &["regex", "google_re2"], &format!("{rf}."))?;
                o.get("regex")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("{rf}.regex"), "expected a string"))?
            }
            _ => return Err(bad(rf, "expected {regex}")),
        };
        if text.len() > 4096 {
            return Err(bad(format!("{rf}.regex"), "longer than 4096 bytes"));
        }
        // Envoy's safe_regex matches the whole path, so anchor it.
        let anchored = format!("^(?:{text})$");
        let re = regex_lite::RegexBuilder::new(&anchored)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| bad(format!("{rf}.regex"), e.to_string()))?;
        PathMatch::Regex(re)
    };
    let requires = match obj.get("requires") {
        None => None,
        Some(r) => Some(requirement(r, &format!("{field}.requires"), providers, 0)?),
    };
    Ok(Rule {
        path_match,
        requires,
    })
}

fn requirement(
    v: &Value,
    field: &str,
    providers: &[&str],
    depth: usize,
) -> Result<Requirement, ConfigError> {
    if depth > 8 {
        return Err(bad(field, "requirements nest deeper than 8 levels"));
    }
    let obj = v
        .as_object()
        .ok_or_else(|| bad(field, "expected an object"))?;
    if obj.len() != 1 {
        return Err(bad(
            field,
            "exactly one of provider_name, requires_any, requires_all, allow_missing, allow_missing_or_failed",
        ));
    }
    let Some((k, inner)) = obj.iter().next() else {
        return Err(bad(field, "empty requirement"));
    };
    let inner_field = format!("{field}.{k}");
    match k.as_str() {
        "provider_name" => {
            let name = inner
                .as_str()
                .ok_or_else(|| bad(&inner_field, "expected a string"))?;
            let idx = providers
                .iter()
                .position(|p| *p == name)
                .ok_or_else(|| bad(&inner_field, format!("no provider named \"{name}\"")))?;
            Ok(Requirement::Provider(idx))
        }
        "requires_any" | "requires_all" => {
            let o = inner
                .as_object()
                .ok_or_else(|| bad(&inner_field, "expected {requirements: [...]}"))?;
            unknown_fields(o, &["requirements"], &format!("{inner_field}."))?;
            let list = o
                .get("requirements")
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("{inner_field}.requirements"), "expected an array"))?;
            if list.len() < 2 {
                return Err(bad(
                    format!("{inner_field}.requirements"),
                    "needs at least two requirements",
                ));
            }
            let mut reqs = Vec::new();
            for (i, r) in list.iter().enumerate() {
                reqs.push(requirement(
                    r,
                    &format!("{inner_field}.requirements[{i}]"),
                    providers,
                    depth + 1,
                )?);
            }
            Ok(if k == "requires_any" {
                Requirement::Any(reqs)
            } else {
                Requirement::All(reqs)
            })
        }
        "allow_missing" | "allow_missing_or_failed" => {
            if !inner.as_object().is_some_and(Map::is_empty) {
                return Err(bad(&inner_field, "expected {}"));
            }
            Ok(if k == "allow_missing" {
                Requirement::AllowMissing
            } else {
                Requirement::AllowMissingOrFailed
            })
        }
        _ => Err(bad(&inner_field, "unknown requirement")),
    }
}

/// Providers referenced by name, for the log line at configuration time.
pub fn summary(c: &Config) -> String {
    let mut kinds: BTreeMap<&str, &str> = BTreeMap::new();
    for p in &c.providers {
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
        c.providers.len(),
        list.join(", "),
        c.rules.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWKS: &str = include_str!("../../tests/vectors/keys/rfc7515-a2.jwks.json");

    fn cfg(providers: &str, rest: &str) -> Result<Config, ConfigError> {
        parse(format!(r#"{{"providers": {providers} {rest}}}"#).as_bytes())
    }

    fn inline() -> String {
        serde_json::to_string(&serde_json::json!({"local_jwks": {"inline_string": JWKS}}))
            .unwrap_or_default()
    }

    #[test]
    fn minimal_inline_provider_gets_jwt_authn_default_sources() {
        let c = cfg(&format!(r#"{{"a": {}}}"#, inline()), "").unwrap();
        assert_eq!(c.providers[0].sources.len(), 2);
        assert_eq!(c.cache_size, 1000);
        let c = cfg(
            &format!(r#"{{"a": {}}}"#, inline()),
            r#","cache_size": 10.0"#,
        )
        .unwrap();
        assert_eq!(c.cache_size, 10);
        assert_eq!(c.realm, "jwtgate");
        assert!(c.native_rsa);
        let c = cfg(
            &format!(r#"{{"a": {}}}"#, inline()),
            r#","native_rsa": false"#,
        )
        .unwrap();
        assert!(!c.native_rsa);
    }

    #[test]
    fn errors_name_the_field() {
        let p = |extra: &str| {
            format!(
                r#"{{"a": {{"local_jwks": {{"inline_string": {}}} {extra}}}}}"#,
                serde_json::to_string(JWKS).unwrap_or_default()
            )
        };
        for (doc, field) in [
            (cfg("3", ""), "providers"),
            (cfg("{}", ""), "providers"),
            (cfg(&p(r#","audences": []"#), ""), "providers.a.audences"),
            (cfg(&p(r#","issuer": 3"#), ""), "providers.a.issuer"),
            (
                cfg(&p(r#","from_headers": [{"name": "x y"}]"#), ""),
                "providers.a.from_headers[0].name",
            ),
            (
                cfg(&p(r#","claim_to_headers": [{"header_name": "x"}]"#), ""),
                "providers.a.claim_to_headers[0].claim_name",
            ),
            (
                cfg(
                    &p(""),
                    r#","rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "b"}}]"#,
                ),
                "rules[0].requires.provider_name",
            ),
            (
                cfg(
                    &p(""),
                    r#","rules": [{"match": {"safe_regex": {"regex": "("}}}]"#,
                ),
                "rules[0].match.safe_regex.regex",
            ),
            (cfg(&p(""), r#","cache_size": -1"#), "cache_size"),
            (cfg(&p(""), r#","native_rsa": "yes""#), "native_rsa"),
            (cfg(&p(""), r#","extra": 1"#), "extra"),
            (
                cfg(
                    r#"{"a": {"remote_jwks": {"http_uri": {"uri": "ftp://x", "cluster": "c"}}}}"#,
                    "",
                ),
                "providers.a.remote_jwks.http_uri.uri",
            ),
            (
                cfg(
                    r#"{"a": {"remote_jwks": {"http_uri": {"uri": "http://x/j", "cluster": "c", "timeout": "5 s"}}}}"#,
                    "",
                ),
                "providers.a.remote_jwks.http_uri.timeout",
            ),
            (
                cfg(r#"{"a": {"local_jwks": {"inline_string": "{}"}}}"#, ""),
                "providers.a.local_jwks",
            ),
            (cfg(r#"{"a": {}}"#, ""), "providers.a"),
        ] {
            let e = doc.unwrap_err();
            assert_eq!(e.field, field, "{e}");
        }
    }

    #[test]
    fn remote_and_discovery_sources() {
        let c = cfg(
            r#"{"r": {"remote_jwks": {"http_uri": {"uri": "http://idp:8080/keys?x=1", "cluster": "idp", "timeout": "0.5s"},
                        "cache_duration": "120s", "refetch_cooldown": 10}},
                "d": {"oidc_discovery": {"issuer_uri": "https://issuer.example/id/1/", "cluster": "idp"}}}"#,
            "",
        )
        .unwrap();
        let KeySource::Remote(r) = &c.providers[c.provider_index("r").unwrap()].keys else {
            panic!()
        };
        assert_eq!(r.uri.authority, "idp:8080");
        assert_eq!(r.uri.path, "/keys?x=1");
        assert_eq!(r.timeout_ms, 500);
        assert_eq!(r.refresh.default_ttl, 120);
        assert_eq!(r.refresh.kid_cooldown, 10);
        let KeySource::Remote(d) = &c.providers[c.provider_index("d").unwrap()].keys else {
            panic!()
        };
        assert_eq!(d.uri.path, "/id/1/.well-known/openid-configuration");
        assert_eq!(
            d.discovery_issuer.as_deref(),
            Some("https://issuer.example/id/1/")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms(&Value::from("1.5s"), "x"), Ok(1500));
        assert_eq!(duration_ms(&Value::from("250ms"), "x"), Ok(250));
        assert_eq!(duration_ms(&Value::from(3), "x"), Ok(3000));
        assert!(duration_ms(&Value::from("-1s"), "x").is_err());
        assert!(duration_ms(&Value::from("s"), "x").is_err());
    }
}
