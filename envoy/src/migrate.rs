//! `jwtgate-envoy migrate`: turns the `envoy.filters.http.jwt_authn` filters of an Envoy
//! bootstrap or listener into this filter (`envoy.filters.http.wasm`), with a report per
//! field. Works on JSON values (the binary reads and writes YAML); native only.
//!
//! jwtgate reads `jwt_authn`'s own JSON, so a filter's `typed_config` (without `@type`) is
//! the plugin configuration. What changes: per-route `PerRouteConfig`s, which a wasm filter
//! cannot receive, become route metadata (or `per_route` by route name), and the result is
//! run through the filter's own parser (`config::parse`) so nothing it would refuse is
//! emitted.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::config;

pub const JWT_AUTHN: &str = "envoy.filters.http.jwt_authn";
pub const JWT_AUTHN_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication";
pub const PER_ROUTE_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig";
pub const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
/// The module `envoy/scripts/build.sh` ships.
pub const DEFAULT_WASM: &str = "target/envoy/jwtgate_envoy.wasm";

/// What a migration produced.
#[derive(Debug)]
pub struct Migrated {
    /// The input document with each `jwt_authn` filter replaced.
    pub document: Value,
    /// The plugin configuration of each converted filter, in document order.
    pub plugins: Vec<Value>,
    /// One line per field found (`kept`, `mapped to ...`) and per warning.
    pub report: Vec<String>,
}

/// Why a migration was refused: every field the filter would refuse, named.
#[derive(Debug, PartialEq)]
pub struct Refused {
    pub report: Vec<String>,
    pub errors: Vec<String>,
}

/// Fields jwtgate honours differently from `jwt_authn` (snake_case name, what it becomes).
/// Every other accepted field is kept as it is; refused ones come from `config::parse`.
fn mapped(name: &str) -> Option<&'static str> {
    Some(match name {
        "payload_in_metadata" => "filter state wasm.<name> (wasm cannot write dynamic metadata; RBAC reads it with a filter_state matcher)",
        "normalize_payload_in_metadata" => "applied to the payload_in_metadata filter state",
        "async_fetch" => "always-asynchronous fetching shared by workers (failed_refetch_duration: the first retry delay)",
        "retry_policy" => "the fetch backoff (retry_back_off.base_interval / max_interval; retried until a fetch succeeds)",
        "clear_route_cache" => "nothing to do: Envoy's wasm host clears the route cache when the filter changes a header",
        "extract_only_without_validation" => "pass every request without verifying (nothing from the token is passed on)",
        "jwt_cache_config" => "this provider's verified-token cache size",
        "require_expiration" => "require_expiration (jwtgate requires exp unless this is false)",
        _ => return None,
    })
}

fn snake(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            s.push('_');
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

/// Report lines for the fields of one `jwt_authn` configuration (top level and providers).
fn field_report(at: &str, cfg: &Map<String, Value>, refused: &[String], out: &mut Vec<String>) {
    let line = |path: &str, name: &str, out: &mut Vec<String>| {
        if refused.iter().any(|r| r == path) {
            return;
        }
        match mapped(&snake(name)) {
            Some(m) => out.push(format!("{at}: {path}: mapped to {m}")),
            None => out.push(format!("{at}: {path}: kept")),
        }
    };
    for (k, v) in cfg {
        if k == "providers" {
            if let Value::Object(ps) = v {
                for (p, pv) in ps {
                    if let Value::Object(fields) = pv {
                        for (f, fv) in fields {
                            let path = format!("providers.{p}.{f}");
                            if let (Value::Object(sub), "remote_jwks") = (fv, snake(f).as_str()) {
                                for sk in sub.keys() {
                                    line(&format!("{path}.{sk}"), sk, out);
                                }
                            } else {
                                line(&path, f, out);
                            }
                        }
                    }
                }
            }
        } else {
            line(k, k, out);
        }
    }
}

/// Removes the field at a path as `config::parse` names it (`a.b[2].c`; keys may contain dots).
fn remove_path(v: &mut Value, path: &str) -> bool {
    match v {
        Value::Object(m) => {
            if m.remove(path).is_some() {
                return true;
            }
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if let Some(rest) = path.strip_prefix(k.as_str()) {
                    let rest = rest.strip_prefix('.').unwrap_or(rest);
                    if rest.len() < path.len() - k.len() || rest.starts_with('[') {
                        if let Some(child) = m.get_mut(&k) {
                            if remove_path(child, rest) {
                                return true;
                            }
                        }
                    }
                }
            }
            false
        }
        Value::Array(a) => {
            let Some(rest) = path.strip_prefix('[') else {
                return false;
            };
            let Some((i, rest)) = rest.split_once(']') else {
                return false;
            };
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            match (i.parse::<usize>(), rest.is_empty()) {
                (Ok(i), true) if i < a.len() => {
                    a.remove(i);
                    true
                }
                (Ok(i), false) => a.get_mut(i).is_some_and(|c| remove_path(c, rest)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// The field at a path as `config::parse` names it, where the path is unambiguous.
fn pointer_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path.split('.') {
        cur = cur.get_mut(seg)?;
    }
    Some(cur)
}

/// A public RSA key that lets the probe go on past a refused key source (never emitted).
const PROBE_JWKS: &str = r#"{"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","use":"sig","n":"u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw","e":"AQAB"}]}"#;

/// Istio names `payload_in_metadata` after the issuer (`https://...`, `a@b`); filter state
/// names are `[A-Za-z0-9._-]`, so other characters become `_` (reported).
fn sanitize_payload_names(plugin: &mut Map<String, Value>, at: &str, report: &mut Vec<String>) {
    let Some(Value::Object(ps)) = plugin.get_mut("providers") else {
        return;
    };
    for (p, pv) in ps.iter_mut() {
        let Value::Object(fields) = pv else { continue };
        for k in ["payload_in_metadata", "payloadInMetadata"] {
            let Some(Value::String(n)) = fields.get_mut(k) else {
                continue;
            };
            let clean: String = n
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if clean != *n && !clean.is_empty() {
                report.push(format!(
                    "{at}: providers.{p}.{k}: renamed {n:?} to {clean:?} (filter state names are [A-Za-z0-9._-]): the payload is filter state wasm.{clean}"
                ));
                *n = clean;
            }
        }
    }
}

/// Runs a plugin configuration through the filter's parser; on refusal, removes the field
/// and parses again, so every refused field is named (not only the first).
fn validate(plugin: &Value) -> Result<Vec<String>, Vec<(String, String)>> {
    let mut probe = plugin.clone();
    let mut errors = Vec::new();
    for _ in 0..64 {
        match config::parse(probe.to_string().as_bytes()) {
            Ok(c) if errors.is_empty() => return Ok(c.warnings),
            Ok(_) => return Err(errors),
            Err(e) => {
                let field = e.field.clone();
                // An error on a parent of a removed field is that removal's consequence.
                if errors.iter().any(|(f, _)| f.starts_with(field.as_str())) {
                    // A key source emptied by a removal: give the probe keys to go on.
                    if field.ends_with("local_jwks") || field.ends_with("localJwks") {
                        if let Some(v) = pointer_mut(&mut probe, &field) {
                            *v = json!({"inline_string": PROBE_JWKS});
                            continue;
                        }
                    }
                    return Err(errors);
                }
                errors.push((field.clone(), e.to_string()));
                if !remove_path(&mut probe, &field) {
                    return Err(errors);
                }
            }
        }
    }
    Err(errors)
}

/// A per-route `jwt_authn` setting: `{requirement_name}` or `{disabled: true}`, without `@type`.
fn per_route_value(v: &Value, at: &str) -> Result<Value, String> {
    let Value::Object(m) = v else {
        return Err(format!("{at}: expected a PerRouteConfig object"));
    };
    let mut out = Map::new();
    for (k, v) in m {
        match k.as_str() {
            "@type" => {}
            "requirement_name" | "requirementName" => {
                out.insert("requirement_name".into(), v.clone());
            }
            "disabled" => {
                out.insert("disabled".into(), v.clone());
            }
            _ => return Err(format!("{at}.{k}: unknown PerRouteConfig field")),
        }
    }
    if out.len() != 1 {
        return Err(format!(
            "{at}: expected exactly one of requirement_name or disabled"
        ));
    }
    Ok(Value::Object(out))
}

fn key<'a>(m: &'a mut Map<String, Value>, snake_name: &str, camel: &str) -> Option<&'a mut Value> {
    if m.contains_key(snake_name) {
        m.get_mut(snake_name)
    } else {
        m.get_mut(camel)
    }
}

/// (virtual host index, route index, route name, `{requirement_name}` or `{disabled}`).
type RouteSetting = (usize, usize, Option<String>, Value);

/// Takes the `jwt_authn` per-route settings (keyed by the filter's name) out of an inline
/// `route_config`, returning (virtual host, route index, route name, setting).
fn take_per_route(
    route_config: &mut Value,
    filter_name: &str,
) -> Result<Vec<RouteSetting>, String> {
    let mut found = Vec::new();
    let Value::Object(rc) = route_config else {
        return Ok(found);
    };
    let Some(Value::Array(vhosts)) = key(rc, "virtual_hosts", "virtualHosts") else {
        return Ok(found);
    };
    for (vi, vh) in vhosts.iter_mut().enumerate() {
        let Value::Object(vh) = vh else { continue };
        // A virtual host's setting applies to its routes that have none of their own.
        let vh_default = take_tpfc(vh, filter_name)
            .map(|v| per_route_value(&v, &format!("virtual_hosts[{vi}]")))
            .transpose()?;
        let Some(Value::Array(routes)) = vh.get_mut("routes") else {
            continue;
        };
        for (ri, r) in routes.iter_mut().enumerate() {
            let Value::Object(r) = r else { continue };
            let at = format!("virtual_hosts[{vi}].routes[{ri}]");
            let own = take_tpfc(r, filter_name)
                .map(|v| per_route_value(&v, &at))
                .transpose()?;
            if let Some(s) = own.or_else(|| vh_default.clone()) {
                let name = r.get("name").and_then(Value::as_str).map(str::to_owned);
                found.push((vi, ri, name, s));
            }
        }
    }
    Ok(found)
}

fn take_tpfc(m: &mut Map<String, Value>, filter_name: &str) -> Option<Value> {
    let tpfc = key(m, "typed_per_filter_config", "typedPerFilterConfig")?;
    let Value::Object(t) = tpfc else { return None };
    let v = t.remove(filter_name)?;
    let empty = t.is_empty();
    if empty {
        m.remove("typed_per_filter_config");
        m.remove("typedPerFilterConfig");
    }
    // A per-route config may be wrapped in a FilterConfig ({config: {...}}).
    match v {
        Value::Object(ref o) if o.contains_key("config") && !o.contains_key("disabled") => {
            o.get("config").cloned()
        }
        v => Some(v),
    }
}

fn set_route_metadata(route_config: &mut Value, vi: usize, ri: usize, setting: Value) {
    let vkey = if route_config.get("virtual_hosts").is_some() {
        "virtual_hosts"
    } else {
        "virtualHosts"
    };
    let route = route_config
        .get_mut(vkey)
        .and_then(|v| v.get_mut(vi))
        .and_then(|v| v.get_mut("routes"))
        .and_then(|v| v.get_mut(ri));
    if let Some(Value::Object(r)) = route {
        let md = r.entry("metadata").or_insert_with(|| json!({}));
        if let Value::Object(md) = md {
            let fm = md.entry("filter_metadata").or_insert_with(|| json!({}));
            if let Value::Object(fm) = fm {
                fm.insert("jwtgate".into(), setting);
            }
        }
    }
}

/// The wasm filter that replaces a `jwt_authn` filter (the shape Envoy 1.40 loads).
pub fn wasm_filter(plugin: &Value, wasm: &str, vm_id: &str) -> Value {
    json!({
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": WASM_TYPE,
            "config": {
                "name": "jwtgate",
                "vm_config": {
                    "vm_id": vm_id,
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": wasm}},
                },
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": plugin.to_string(),
                },
                "fail_open": false,
            },
        },
    })
}

/// An Istio `WasmPlugin` running jwtgate with this plugin configuration.
pub fn wasm_plugin(plugin: &Value, name: &str, url: &str) -> Value {
    json!({
        "apiVersion": "extensions.istio.io/v1alpha1",
        "kind": "WasmPlugin",
        "metadata": {"name": name},
        "spec": {
            "url": url,
            "imagePullPolicy": "IfNotPresent",
            "phase": "AUTHN",
            "type": "HTTP",
            "failStrategy": "FAIL_CLOSE",
            "pluginConfig": plugin,
        },
    })
}

fn is_jwt_authn(f: &Value) -> bool {
    let tc = f.get("typed_config").or_else(|| f.get("typedConfig"));
    match tc.and_then(|t| t.get("@type")).and_then(Value::as_str) {
        Some(t) => t == JWT_AUTHN_TYPE,
        None => f.get("name").and_then(Value::as_str) == Some(JWT_AUTHN),
    }
}

struct Cx<'a> {
    wasm: &'a str,
    plugins: Vec<Value>,
    report: Vec<String>,
    errors: Vec<String>,
}

impl Cx<'_> {
    /// Converts every HTTP connection manager (an object with `http_filters`) under `v`.
    fn walk(&mut self, v: &mut Value, at: &str) {
        match v {
            Value::Object(m) => {
                if m.contains_key("http_filters") || m.contains_key("httpFilters") {
                    self.hcm(m, at);
                }
                for (k, c) in m.iter_mut() {
                    if k != "http_filters" && k != "httpFilters" {
                        self.walk(c, &format!("{at}.{k}"));
                    }
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter_mut().enumerate() {
                    self.walk(c, &format!("{at}[{i}]"));
                }
            }
            _ => {}
        }
    }

    fn hcm(&mut self, hcm: &mut Map<String, Value>, at: &str) {
        let fkey = if hcm.contains_key("http_filters") {
            "http_filters"
        } else {
            "httpFilters"
        };
        let Some(Value::Array(filters)) = hcm.get(fkey).cloned() else {
            return;
        };
        let mut out = Vec::with_capacity(filters.len());
        for (i, f) in filters.into_iter().enumerate() {
            if !is_jwt_authn(&f) {
                out.push(f);
                continue;
            }
            let fat = format!("{at}.{fkey}[{i}]");
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(JWT_AUTHN)
                .to_owned();
            match self.filter(&f, &name, hcm, &fat) {
                Some(plugin) => {
                    let vm = format!("jwtgate-{}", self.plugins.len());
                    out.push(wasm_filter(&plugin, self.wasm, &vm));
                    self.plugins.push(plugin);
                }
                None => out.push(f),
            }
        }
        hcm.insert(fkey.into(), Value::Array(out));
    }

    /// One `jwt_authn` filter: its plugin configuration, or None (errors recorded).
    fn filter(
        &mut self,
        f: &Value,
        name: &str,
        hcm: &mut Map<String, Value>,
        at: &str,
    ) -> Option<Value> {
        let tc = f.get("typed_config").or_else(|| f.get("typedConfig"));
        let Some(Value::Object(tc)) = tc else {
            self.errors
                .push(format!("{at}: a jwt_authn filter without typed_config"));
            return None;
        };
        let mut plugin = tc.clone();
        plugin.remove("@type");
        sanitize_payload_names(&mut plugin, at, &mut self.report);
        // The report covers the user's fields, not the per_route/route_metadata added below.
        let original = plugin.clone();
        let mut per_route = Vec::new();
        if let Some(rc) = key(hcm, "route_config", "routeConfig") {
            match take_per_route(rc, name) {
                Ok(p) => per_route = p,
                Err(e) => {
                    self.errors.push(format!("{at}: route_config.{e}"));
                    return None;
                }
            }
        }
        let map_names: Vec<String> = ["requirement_map", "requirementMap"]
            .iter()
            .filter_map(|k| plugin.get(*k))
            .filter_map(Value::as_object)
            .flat_map(|m| m.keys().cloned())
            .collect();
        for (_, _, rname, s) in &per_route {
            if let Some(n) = s.get("requirement_name").and_then(Value::as_str) {
                if !map_names.iter().any(|m| m == n) {
                    self.errors.push(format!(
                        "{at}: route {}: requirement_name {n:?} is not in requirement_map",
                        rname.as_deref().unwrap_or("(unnamed)")
                    ));
                    return None;
                }
            }
        }
        // Route metadata needs no route names; without a requirement_map (only `disabled`
        // routes) the filter refuses route_metadata, so those go by route name.
        if !per_route.is_empty() {
            if !map_names.is_empty() {
                plugin.insert("route_metadata".into(), Value::Bool(true));
                if let Some(rc) = key(hcm, "route_config", "routeConfig") {
                    for (vi, ri, rname, s) in &per_route {
                        set_route_metadata(rc, *vi, *ri, s.clone());
                        self.report.push(format!(
                            "{at}: route {}: per-route config mapped to route metadata filter_metadata.jwtgate = {s}",
                            rname.as_deref().unwrap_or("(unnamed)")
                        ));
                    }
                }
            } else {
                let mut byname = BTreeMap::new();
                for (vi, ri, rname, s) in &per_route {
                    let Some(n) = rname else {
                        self.errors.push(format!(
                            "{at}: route_config.virtual_hosts[{vi}].routes[{ri}]: a per-route jwt_authn config on a route without a name; give the route a name (jwtgate selects it by per_route.<name>) or add a requirement_map"
                        ));
                        return None;
                    };
                    self.report.push(format!(
                        "{at}: route {n}: per-route config mapped to per_route.{n} = {s}"
                    ));
                    byname.insert(n.clone(), s.clone());
                }
                plugin.insert(
                    "per_route".into(),
                    Value::Object(byname.into_iter().collect()),
                );
            }
        }
        let plugin = Value::Object(plugin);
        match validate(&plugin) {
            Ok(warnings) => {
                field_report(at, &original, &[], &mut self.report);
                for w in warnings {
                    self.report.push(format!("{at}: warning: {w}"));
                }
                Some(plugin)
            }
            Err(errs) => {
                let fields: Vec<String> = errs.iter().map(|(f, _)| f.clone()).collect();
                field_report(at, &original, &fields, &mut self.report);
                for (_, e) in errs {
                    self.report.push(format!("{at}: refused: {e}"));
                    self.errors.push(format!("{at}: {e}"));
                }
                None
            }
        }
    }
}

/// Converts every `jwt_authn` filter in an Envoy bootstrap or listener document.
/// `wasm` is the module path written into each filter.
pub fn migrate(mut document: Value, wasm: &str) -> Result<Migrated, Refused> {
    let mut cx = Cx {
        wasm,
        plugins: Vec::new(),
        report: Vec::new(),
        errors: Vec::new(),
    };
    cx.walk(&mut document, "$");
    if cx.plugins.is_empty() && cx.errors.is_empty() {
        cx.errors.push(format!(
            "no {JWT_AUTHN} filter (typed_config {JWT_AUTHN_TYPE}) found"
        ));
    }
    if !cx.errors.is_empty() {
        return Err(Refused {
            report: cx.report,
            errors: cx.errors,
        });
    }
    Ok(Migrated {
        document,
        plugins: cx.plugins,
        report: cx.report,
    })
}

/// The Envoy cluster Istio gives a host's port (a `ServiceEntry` for the JWKS host creates it).
fn istio_cluster(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let authority = rest.split('/').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => (h, p.to_owned()),
        _ => (
            authority,
            if scheme == "https" { "443" } else { "80" }.to_owned(),
        ),
    };
    (!host.is_empty()).then(|| format!("outbound|{port}||{host}"))
}

/// An Istio `RequestAuthentication` (security.istio.io) as jwtgate's plugin configuration,
/// built as Istio builds its `jwt_authn` filter: a provider `origins-<i>` per `jwtRules`
/// entry, the payload under the issuer's name, and any one token or none accepted
/// (an `AuthorizationPolicy` is what requires one).
pub fn request_authentication(doc: &Value) -> Result<Migrated, Refused> {
    let mut report = Vec::new();
    let mut errors = Vec::new();
    let rules = doc
        .get("spec")
        .and_then(|s| s.get("jwtRules"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if rules.is_empty() {
        errors.push("spec.jwtRules: no rules: nothing to convert".to_owned());
    }
    let mut providers = Map::new();
    let mut any = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let at = format!("spec.jwtRules[{i}]");
        let Value::Object(r) = r else {
            errors.push(format!("{at}: expected an object"));
            continue;
        };
        let name = format!("origins-{i}");
        let mut p = Map::new();
        let mut timeout = None;
        for (k, v) in r {
            let f = format!("{at}.{k}");
            let mapped_to: Result<&str, String> = match k.as_str() {
                "issuer" => {
                    p.insert("issuer".into(), v.clone());
                    if let Some(iss) = v.as_str() {
                        p.insert("payload_in_metadata".into(), Value::String(iss.to_owned()));
                    }
                    Ok("issuer")
                }
                "audiences" => {
                    p.insert("audiences".into(), v.clone());
                    Ok("audiences")
                }
                "jwks" => {
                    p.insert("local_jwks".into(), json!({"inline_string": v}));
                    Ok("local_jwks.inline_string")
                }
                "jwksUri" => match v.as_str().and_then(istio_cluster) {
                    Some(c) => {
                        report.push(format!("{f}: uses cluster {c} (Istio's name for a ServiceEntry of that host and port: create one)"));
                        p.insert(
                            "remote_jwks".into(),
                            json!({"http_uri": {"uri": v, "cluster": c}}),
                        );
                        Ok("remote_jwks.http_uri")
                    }
                    None => Err(format!("{f}: expected an http(s) URL")),
                },
                "timeout" => {
                    timeout = Some(v.clone());
                    Ok("remote_jwks.http_uri.timeout")
                }
                "fromHeaders" => {
                    let hs: Vec<Value> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|h| {
                            let mut o = json!({"name": h.get("name").cloned().unwrap_or(Value::Null)});
                            if let Some(px) = h.get("prefix") {
                                o["value_prefix"] = px.clone();
                            }
                            o
                        })
                        .collect();
                    p.insert("from_headers".into(), Value::Array(hs));
                    Ok("from_headers (prefix as value_prefix)")
                }
                "fromParams" => {
                    p.insert("from_params".into(), v.clone());
                    Ok("from_params")
                }
                "fromCookies" => {
                    p.insert("from_cookies".into(), v.clone());
                    Ok("from_cookies")
                }
                "outputPayloadToHeader" => {
                    p.insert("forward_payload_header".into(), v.clone());
                    Ok("forward_payload_header")
                }
                "outputClaimToHeaders" => {
                    let cs: Vec<Value> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| json!({"header_name": c.get("header").cloned().unwrap_or(Value::Null),
                                        "claim_name": c.get("claim").cloned().unwrap_or(Value::Null)}))
                        .collect();
                    p.insert("claim_to_headers".into(), Value::Array(cs));
                    Ok("claim_to_headers")
                }
                "forwardOriginalToken" => {
                    p.insert("forward".into(), v.clone());
                    Ok("forward")
                }
                _ => Err(format!("{f}: not converted: write it in the WasmPlugin's pluginConfig (envoy/README.md, Configuration reference)")),
            };
            match mapped_to {
                Ok(m) => report.push(format!("{f}: mapped to providers.{name}.{m}")),
                Err(e) => {
                    report.push(format!("refused: {e}"));
                    errors.push(e);
                }
            }
        }
        if let (Some(t), Some(Value::Object(rj))) = (timeout, p.get_mut("remote_jwks")) {
            if let Some(Value::Object(h)) = rj.get_mut("http_uri") {
                h.insert("timeout".into(), t);
            }
        }
        any.push(json!({"provider_name": name}));
        providers.insert(name, Value::Object(p));
    }
    any.push(json!({"allow_missing": {}}));
    let plugin = json!({
        "providers": providers,
        "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": any}}}],
        "bypass_cors_preflight": true,
    });
    let mut plugin = plugin;
    if let Value::Object(pm) = &mut plugin {
        sanitize_payload_names(pm, "RequestAuthentication", &mut report);
    }
    if errors.is_empty() {
        match validate(&plugin) {
            Ok(ws) => report.extend(ws.into_iter().map(|w| format!("warning: {w}"))),
            Err(es) => {
                for (_, e) in es {
                    report.push(format!("refused: {e}"));
                    errors.push(e);
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(Refused { report, errors });
    }
    let mut wp = wasm_plugin(
        &plugin,
        "jwtgate",
        "oci://registry.example.com/platform/jwtgate-envoy:0.1.0",
    );
    if let Some(md) = doc.get("metadata") {
        if let Some(ns) = md.get("namespace") {
            wp["metadata"]["namespace"] = ns.clone();
        }
        if let Some(n) = md.get("name").and_then(Value::as_str) {
            wp["metadata"]["name"] = json!(format!("jwtgate-{n}"));
        }
    }
    if let Some(sel) = doc.get("spec").and_then(|s| s.get("selector")) {
        wp["spec"]["selector"] = sel.clone();
    }
    if let Some(tr) = doc.get("spec").and_then(|s| s.get("targetRefs")) {
        wp["spec"]["targetRefs"] = tr.clone();
    }
    Ok(Migrated {
        document: wp,
        plugins: vec![plugin],
        report,
    })
}

/// Whether a document is an Istio `RequestAuthentication`.
pub fn is_request_authentication(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some("RequestAuthentication")
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    const JWKS: &str = PROBE_JWKS;

    fn bootstrap(filters: Value, routes: Value) -> Value {
        json!({"static_resources": {"listeners": [{"name": "l", "filter_chains": [{"filters": [{
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "in",
            "route_config": {"virtual_hosts": [{"name": "a", "domains": ["*"], "routes": routes}]},
            "http_filters": filters,
        }}]}]}]}})
    }

    fn jwt(cfg: Value) -> Value {
        let mut tc = cfg;
        tc["@type"] = json!(JWT_AUTHN_TYPE);
        json!({"name": JWT_AUTHN, "typed_config": tc})
    }

    fn router() -> Value {
        json!({"name": "envoy.filters.http.router", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}})
    }

    fn route(name: Option<&str>, prefix: &str, per_route: Option<Value>) -> Value {
        let mut r = json!({"match": {"prefix": prefix}, "route": {"cluster": "up"}});
        if let Some(n) = name {
            r["name"] = json!(n);
        }
        if let Some(p) = per_route {
            let mut p = p;
            p["@type"] = json!(PER_ROUTE_TYPE);
            r["typed_per_filter_config"] = json!({ JWT_AUTHN: p });
        }
        r
    }

    fn hcm(doc: &Value) -> &Value {
        &doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    }

    fn run(cfg: Value, routes: Value) -> Migrated {
        migrate(bootstrap(json!([jwt(cfg), router()]), routes), DEFAULT_WASM).unwrap()
    }

    fn plugin_of(doc: &Value) -> Value {
        let f = &hcm(doc)["http_filters"][0];
        assert_eq!(f["name"], "envoy.filters.http.wasm");
        let v = f["typed_config"]["config"]["configuration"]["value"]
            .as_str()
            .unwrap();
        serde_json::from_str(v).unwrap()
    }

    fn has(report: &[String], s: &str) -> bool {
        report.iter().any(|l| l.contains(s))
    }

    #[test]
    fn envoy_docs_remote_jwks() {
        let cfg = json!({"providers": {"provider1": {
            "issuer": "https://example.com", "audiences": ["bookstore_android.apps.googleusercontent.com"],
            "forward": true,
            "remote_jwks": {"http_uri": {"uri": "https://example.com/jwks.json", "cluster": "example_jwks_cluster", "timeout": "1s"},
                            "cache_duration": {"seconds": 300}}}},
            "rules": [{"match": {"prefix": "/health"}},
                      {"match": {"prefix": "/api"}, "requires": {"provider_and_audiences": {"provider_name": "provider1", "audiences": ["api_audience"]}}},
                      {"match": {"prefix": "/v1"}, "requires": {"provider_name": "provider1"}}]});
        let m = run(cfg.clone(), json!([route(None, "/", None)]));
        let mut want = cfg;
        want.as_object_mut().unwrap().remove("@type");
        assert_eq!(plugin_of(&m.document), want);
        assert_eq!(m.plugins, vec![want]);
        // The rest of the chain is untouched.
        assert_eq!(hcm(&m.document)["http_filters"][1], router());
        let f = &hcm(&m.document)["http_filters"][0]["typed_config"]["config"];
        assert_eq!(f["vm_config"]["runtime"], "envoy.wasm.runtime.v8");
        assert_eq!(f["vm_config"]["code"]["local"]["filename"], DEFAULT_WASM);
        assert!(has(&m.report, "providers.provider1.issuer: kept"));
        assert!(has(
            &m.report,
            "providers.provider1.remote_jwks.cache_duration: kept"
        ));
        assert!(has(&m.report, "rules: kept"));
    }

    #[test]
    fn envoy_docs_inline_folded_jwks() {
        // A YAML folded string leaves spaces inside the base64 of n; Envoy accepts it.
        let folded = JWKS.replace("u1SU1LfVLPHCozMx", "u1SU1LfVLPHC ozMx");
        let cfg = json!({"providers": {"jwt_provider": {"issuer": "https://example.com",
            "local_jwks": {"inline_string": folded}, "from_headers": [{"name": "x-jwt", "value_prefix": "Bearer "}],
            "claim_to_headers": [{"header_name": "x-sub", "claim_name": "sub"}]}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "jwt_provider"}}]});
        let m = run(cfg, json!([route(None, "/", None)]));
        assert!(has(&m.report, "providers.jwt_provider.local_jwks: kept"));
        assert!(has(
            &m.report,
            "providers.jwt_provider.claim_to_headers: kept"
        ));
    }

    #[test]
    fn istio_generated() {
        let cfg = json!({"providers": {"origins-0": {"issuer": "testing@secure.istio.io",
            "local_jwks": {"inline_string": JWKS}, "forward": true,
            "payload_in_metadata": "testing@secure.istio.io",
            "normalize_payload_in_metadata": {"space_delimited_claims": ["scope", "permission"]}}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"requires_any": {"requirements": [
                {"provider_name": "origins-0"}, {"allow_missing": {}}]}}}],
            "bypass_cors_preflight": true});
        let m = run(cfg, json!([route(None, "/", None)]));
        assert!(has(
            &m.report,
            "payload_in_metadata: mapped to filter state"
        ));
        assert!(has(
            &m.report,
            "renamed \"testing@secure.istio.io\" to \"testing_secure.istio.io\""
        ));
        let p = plugin_of(&m.document);
        assert_eq!(
            p["providers"]["origins-0"]["payload_in_metadata"],
            "testing_secure.istio.io"
        );
        assert!(has(&m.report, "normalize_payload_in_metadata: mapped to"));
        assert!(has(&m.report, "bypass_cors_preflight: kept"));
        assert!(has(&m.report, "warning: "));
    }

    #[test]
    fn camel_case_async_fetch_retry_policy_jwt_cache_config() {
        let cfg = json!({"providers": {"p": {"issuer": "https://i", "audiences": ["api"],
            "remoteJwks": {"httpUri": {"uri": "https://i/keys", "cluster": "idp", "timeout": "2s"},
                "cacheDuration": "300s", "asyncFetch": {"fastListener": true, "failedRefetchDuration": "1s"},
                "retryPolicy": {"retryBackOff": {"baseInterval": "0.5s", "maxInterval": "10s"}, "numRetries": 3}},
            "fromParams": ["token"], "jwtCacheConfig": {"jwtCacheSize": 100}}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"providerName": "p"}}]});
        let m = run(cfg, json!([route(None, "/", None)]));
        assert!(has(
            &m.report,
            "remoteJwks.asyncFetch: mapped to always-asynchronous"
        ));
        assert!(has(
            &m.report,
            "remoteJwks.retryPolicy: mapped to the fetch backoff"
        ));
        assert!(has(&m.report, "providers.p.jwtCacheConfig: mapped to"));
        assert!(has(&m.report, "providers.p.fromParams: kept"));
    }

    #[test]
    fn requirement_map_gateway_per_route_goes_to_route_metadata() {
        let cfg = json!({"providers": {"a": {"issuer": "https://a", "local_jwks": {"inline_string": JWKS}},
                                       "b": {"issuer": "https://b", "local_jwks": {"inline_string": JWKS}, "from_cookies": ["session"]}},
            "requirement_map": {"need-a": {"provider_name": "a"}, "any": {"requires_any": {"requirements": [
                {"provider_name": "a"}, {"provider_name": "b"}]}}}});
        let routes = json!([
            route(
                Some("admin"),
                "/admin",
                Some(json!({"requirement_name": "need-a"}))
            ),
            route(None, "/health", Some(json!({"disabled": true}))),
            route(Some("rest"), "/", Some(json!({"requirement_name": "any"}))),
        ]);
        let m = run(cfg, routes);
        let p = plugin_of(&m.document);
        assert_eq!(p["route_metadata"], true);
        let rs = &hcm(&m.document)["route_config"]["virtual_hosts"][0]["routes"];
        assert_eq!(
            rs[0]["metadata"]["filter_metadata"]["jwtgate"],
            json!({"requirement_name": "need-a"})
        );
        assert_eq!(
            rs[1]["metadata"]["filter_metadata"]["jwtgate"],
            json!({"disabled": true})
        );
        assert!(rs[0].get("typed_per_filter_config").is_none());
        assert!(has(
            &m.report,
            "route admin: per-route config mapped to route metadata"
        ));
        assert!(has(&m.report, "providers.b.from_cookies: kept"));
    }

    #[test]
    fn disabled_only_per_route_goes_by_route_name() {
        let cfg = json!({"providers": {"a": {"issuer": "https://a", "local_jwks": {"inline_string": JWKS}}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "a"}}]});
        let routes = json!([
            route(Some("health"), "/health", Some(json!({"disabled": true}))),
            route(Some("rest"), "/", None)
        ]);
        let m = run(cfg.clone(), routes);
        let p = plugin_of(&m.document);
        assert_eq!(p["per_route"], json!({"health": {"disabled": true}}));
        // Without a route name there is nothing to select it by: refused, saying what to do.
        let routes = json!([route(None, "/health", Some(json!({"disabled": true})))]);
        let e = migrate(bootstrap(json!([jwt(cfg), router()]), routes), DEFAULT_WASM).unwrap_err();
        assert!(e.errors[0].contains("give the route a name"), "{e:?}");
    }

    #[test]
    fn unknown_requirement_name_is_refused() {
        let cfg = json!({"providers": {"a": {"local_jwks": {"inline_string": JWKS}}},
            "requirement_map": {"x": {"provider_name": "a"}}});
        let routes = json!([route(
            Some("r"),
            "/",
            Some(json!({"requirement_name": "y"}))
        )]);
        let e = migrate(bootstrap(json!([jwt(cfg)]), routes), DEFAULT_WASM).unwrap_err();
        assert!(
            e.errors[0].contains("\"y\" is not in requirement_map"),
            "{e:?}"
        );
    }

    #[test]
    fn refused_fields_are_all_named_with_what_to_write() {
        let cfg = json!({"providers": {"a": {"issuer": "https://a", "local_jwks": {"filename": "/etc/jwks.json"},
            "max_lifetime": "3600s", "header_in_metadata": "h"}},
            "rules": [{"match": {"prefix": "/", "headers": [{"name": "x"}]}, "requires": {"provider_name": "a"}}]});
        let e = migrate(bootstrap(json!([jwt(cfg)]), json!([])), DEFAULT_WASM).unwrap_err();
        let all = e.errors.join("\n");
        assert!(
            all.contains("max_lifetime") && all.contains("max_token_age_seconds"),
            "{all}"
        );
        assert!(
            all.contains("header_in_metadata") && all.contains("payload_in_metadata"),
            "{all}"
        );
        assert!(all.contains("filename"), "{all}");
        assert!(
            all.contains("headers") && all.contains("per_route"),
            "{all}"
        );
        assert!(has(&e.report, "providers.a.issuer: kept"));
        assert!(has(&e.report, "refused: "));
    }

    #[test]
    fn claim_to_headers_and_extract_only() {
        let cfg = json!({"providers": {"a": {"issuer": "https://a", "local_jwks": {"inline_string": JWKS},
            "claim_to_headers": [{"header_name": "x-groups", "claim_name": "groups"}, {"header_name": "x-org", "claim_name": "org.name"}],
            "clear_route_cache": true}},
            "requirement_map": {"x": {"extract_only_without_validation": {}}},
            "rules": [{"match": {"safe_regex": {"regex": "/api/.*"}}, "requirement_name": "x"}]});
        let m = run(cfg, json!([route(None, "/", None)]));
        assert!(has(&m.report, "clear_route_cache: mapped to nothing to do"));
        assert!(has(&m.report, "requirement_map: kept"));
    }

    #[test]
    fn several_filters_and_no_filter() {
        let a = json!({"providers": {"a": {"local_jwks": {"inline_string": JWKS}}},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "a"}}]});
        let doc = json!({"listeners": [bootstrap(json!([jwt(a.clone())]), json!([])), bootstrap(json!([jwt(a)]), json!([]))]});
        let m = migrate(doc, "/m.wasm").unwrap();
        assert_eq!(m.plugins.len(), 2);
        let e = migrate(bootstrap(json!([router()]), json!([])), DEFAULT_WASM).unwrap_err();
        assert!(e.errors[0].contains("no envoy.filters.http.jwt_authn filter"));
    }

    #[test]
    fn istio_request_authentication() {
        let ra = json!({"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication",
            "metadata": {"name": "jwt", "namespace": "foo"},
            "spec": {"selector": {"matchLabels": {"app": "httpbin"}}, "jwtRules": [
                {"issuer": "testing@secure.istio.io", "jwks": JWKS, "audiences": ["api"],
                 "fromHeaders": [{"name": "x-jwt", "prefix": "Bearer "}], "fromParams": ["t"],
                 "fromCookies": ["session"], "outputPayloadToHeader": "x-payload",
                 "outputClaimToHeaders": [{"header": "x-sub", "claim": "sub"}], "forwardOriginalToken": true},
                {"issuer": "https://accounts.example.com", "jwksUri": "https://accounts.example.com/keys", "timeout": "3s"}]}});
        assert!(is_request_authentication(&ra));
        let m = request_authentication(&ra).unwrap();
        let p = &m.plugins[0];
        let o0 = &p["providers"]["origins-0"];
        assert_eq!(
            o0["from_headers"],
            json!([{"name": "x-jwt", "value_prefix": "Bearer "}])
        );
        assert_eq!(
            o0["claim_to_headers"],
            json!([{"header_name": "x-sub", "claim_name": "sub"}])
        );
        assert_eq!(o0["payload_in_metadata"], "testing_secure.istio.io");
        assert_eq!(o0["forward"], true);
        let o1 = &p["providers"]["origins-1"]["remote_jwks"]["http_uri"];
        assert_eq!(o1["cluster"], "outbound|443||accounts.example.com");
        assert_eq!(o1["timeout"], "3s");
        assert_eq!(m.document["spec"]["selector"], ra["spec"]["selector"]);
        assert_eq!(m.document["metadata"]["namespace"], "foo");
        assert_eq!(m.document["spec"]["phase"], "AUTHN");
        let bad = json!({"kind": "RequestAuthentication", "spec": {"jwtRules": [{"issuer": "i", "jwks": JWKS, "foo": 1}]}});
        let e = request_authentication(&bad).unwrap_err();
        assert!(e.errors[0].contains("spec.jwtRules[0].foo"), "{e:?}");
    }

    #[test]
    fn remove_path_follows_the_parser_names() {
        let mut v = json!({"providers": {"a.b": {"x": 1, "y": [{"z": 1}, {"z": 2}]}}});
        assert!(remove_path(&mut v, "providers.a.b.x"));
        assert!(remove_path(&mut v, "providers.a.b.y[1].z"));
        assert!(!remove_path(&mut v, "providers.c"));
        assert_eq!(v, json!({"providers": {"a.b": {"y": [{"z": 1}, {}]}}}));
    }
}
