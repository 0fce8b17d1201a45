//! The corpus model: named key sets and policies, token cases and JWKS cases, and
//! their rendering to `corpus.json`.

use crate::json::{n, obj, s, J};
use std::collections::BTreeSet;

/// Which core entry point a case runs through.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `Verifier::verify(token, now)`: signature, then claims and policy.
    Verify,
    /// `Verifier::verify_jws(token)`: structure, header and signature only.
    VerifyJws,
}

/// The token of a case: literal text, or a rule for building a huge one.
pub enum Token {
    Text(String),
    /// `prefix + unit × count + suffix`.
    Repeat {
        prefix: String,
        unit: String,
        count: usize,
        suffix: String,
    },
}

/// One token vector.
pub struct Case {
    pub name: String,
    pub about: String,
    pub entry: Entry,
    pub jwks: &'static str,
    pub policy: &'static str,
    pub now: u64,
    pub token: Token,
    pub expect: &'static str,
    pub claims: Vec<(String, J)>,
    pub payload: Option<String>,
    pub known_bug: bool,
}

impl Case {
    /// Expected claim values (top-level member name → JSON value) when the case is ok.
    pub fn claim(&mut self, name: &str, value: J) -> &mut Case {
        self.claims.push((name.to_owned(), value));
        self
    }

    /// Runs through `verify_jws`; `payload` is the expected payload text when ok.
    pub fn jws(&mut self, payload: Option<&str>) -> &mut Case {
        self.entry = Entry::VerifyJws;
        self.payload = payload.map(str::to_owned);
        self
    }

    /// The core does not give this (RFC) verdict yet; see the README.
    #[allow(dead_code)]
    pub fn known_bug(&mut self) -> &mut Case {
        self.known_bug = true;
        self
    }
}

/// One JWKS vector.
pub struct JwksCase {
    pub name: String,
    pub about: String,
    pub raw: String,
    pub expect: &'static str,
    pub loaded: Vec<Option<String>>,
    /// (index, kid, reason)
    pub skipped: Vec<(usize, Option<String>, &'static str)>,
}

impl JwksCase {
    /// A usable key with this `kid` (or none).
    pub fn loads(&mut self, kid: Option<&str>) -> &mut JwksCase {
        self.loaded.push(kid.map(str::to_owned));
        self
    }

    /// The entry at `index` is skipped for `reason`.
    pub fn skips(
        &mut self,
        index: usize,
        kid: Option<&str>,
        reason: &'static str,
    ) -> &mut JwksCase {
        self.skipped.push((index, kid.map(str::to_owned), reason));
        self
    }
}

/// One policy-document vector: `Policy::from_json` either loads it or refuses it as
/// `bad_policy` naming `field`.
pub struct PolicyCase {
    pub name: String,
    pub about: String,
    pub raw: String,
    /// `None`: loads; `Some(field)`: refused as `bad_policy` with this field.
    pub bad_field: Option<&'static str>,
}

/// Everything that goes into `corpus.json`.
#[derive(Default)]
pub struct Corpus {
    pub jwks: Vec<(&'static str, J)>,
    pub policies: Vec<(&'static str, J)>,
    pub cases: Vec<Case>,
    pub jwks_cases: Vec<JwksCase>,
    pub policy_cases: Vec<PolicyCase>,
}

/// Every verdict a token can get from `verify`/`verify_jws`.
pub const TOKEN_CODES: &[&str] = &[
    "ok",
    "token_too_large",
    "malformed",
    "jwe_unsupported",
    "nested_jwt_unsupported",
    "alg_not_allowed",
    "crit_unsupported",
    "unknown_kid",
    "bad_signature",
    "invalid_claim",
    "expired",
    "not_yet_valid",
    "token_too_old",
    "bad_issuer",
    "bad_audience",
    "missing_claim",
    "claim_rule_failed",
];

/// Every verdict of `KeySet::from_jwks`.
pub const JWKS_CODES: &[&str] = &[
    "ok",
    "no_usable_keys",
    "jwks_malformed",
    "jwks_too_large",
    "jwks_too_many_keys",
];

/// Every `SkipReason` code.
pub const SKIP_REASONS: &[&str] = &[
    "unsupported_kty",
    "bad_member",
    "bad_encoding",
    "modulus_too_small",
    "modulus_too_large",
    "bad_modulus",
    "bad_exponent",
    "wrong_use",
    "no_verify_op",
    "alg_not_allowed",
    "private_key",
    "unsupported_curve",
    "bad_point",
];

impl Corpus {
    pub fn add_jwks(&mut self, name: &'static str, doc: J) {
        self.jwks.push((name, doc));
    }

    pub fn add_policy(&mut self, name: &'static str, doc: J) {
        self.policies.push((name, doc));
    }

    /// Adds a `verify` case.
    #[allow(clippy::too_many_arguments)]
    pub fn case(
        &mut self,
        name: &str,
        about: &str,
        jwks: &'static str,
        policy: &'static str,
        now: u64,
        token: impl Into<String>,
        expect: &'static str,
    ) -> &mut Case {
        self.push(
            name,
            about,
            jwks,
            policy,
            now,
            Token::Text(token.into()),
            expect,
        )
    }

    /// Adds a case whose token is built by repetition.
    #[allow(clippy::too_many_arguments)]
    pub fn repeat_case(
        &mut self,
        name: &str,
        about: &str,
        jwks: &'static str,
        policy: &'static str,
        now: u64,
        token: Token,
        expect: &'static str,
    ) -> &mut Case {
        self.push(name, about, jwks, policy, now, token, expect)
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        name: &str,
        about: &str,
        jwks: &'static str,
        policy: &'static str,
        now: u64,
        token: Token,
        expect: &'static str,
    ) -> &mut Case {
        self.cases.push(Case {
            name: name.to_owned(),
            about: about.to_owned(),
            entry: Entry::Verify,
            jwks,
            policy,
            now,
            token,
            expect,
            claims: Vec::new(),
            payload: None,
            known_bug: false,
        });
        self.cases.last_mut().expect("just pushed")
    }

    /// Adds a JWKS case.
    pub fn jwks_case(
        &mut self,
        name: &str,
        about: &str,
        raw: impl Into<String>,
        expect: &'static str,
    ) -> &mut JwksCase {
        self.jwks_cases.push(JwksCase {
            name: name.to_owned(),
            about: about.to_owned(),
            raw: raw.into(),
            expect,
            loaded: Vec::new(),
            skipped: Vec::new(),
        });
        self.jwks_cases.last_mut().expect("just pushed")
    }

    /// Adds a policy case; `bad_field` is the field a refusal must name.
    pub fn policy_case(
        &mut self,
        name: &str,
        about: &str,
        raw: &str,
        bad_field: Option<&'static str>,
    ) {
        self.policy_cases.push(PolicyCase {
            name: name.to_owned(),
            about: about.to_owned(),
            raw: raw.to_owned(),
            bad_field,
        });
    }

    /// Internal consistency: unique names, known references and codes, full coverage.
    pub fn validate(&self) -> Result<(), String> {
        let mut names = BTreeSet::new();
        let jwks: BTreeSet<&str> = self.jwks.iter().map(|(k, _)| *k).collect();
        let policies: BTreeSet<&str> = self.policies.iter().map(|(k, _)| *k).collect();
        let mut seen = BTreeSet::new();
        for c in &self.cases {
            if !names.insert(c.name.as_str()) {
                return Err(format!("duplicate case name {}", c.name));
            }
            if !c
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(format!("case name {} is not snake_case", c.name));
            }
            if !jwks.contains(c.jwks) || !policies.contains(c.policy) {
                return Err(format!(
                    "{}: unknown jwks {} or policy {}",
                    c.name, c.jwks, c.policy
                ));
            }
            if !TOKEN_CODES.contains(&c.expect) {
                return Err(format!("{}: unknown code {}", c.name, c.expect));
            }
            if c.now > 1 << 53 {
                return Err(format!("{}: now must be exact as a JS number", c.name));
            }
            if c.expect != "ok" && (!c.claims.is_empty() || c.payload.is_some()) {
                return Err(format!(
                    "{}: claims/payload only make sense when ok",
                    c.name
                ));
            }
            seen.insert(c.expect);
        }
        for code in TOKEN_CODES {
            if !seen.contains(code) {
                return Err(format!("no token case expects {code}"));
            }
        }
        let mut seen = BTreeSet::new();
        let mut reasons = BTreeSet::new();
        for c in &self.jwks_cases {
            if !names.insert(c.name.as_str()) {
                return Err(format!("duplicate case name {}", c.name));
            }
            if !JWKS_CODES.contains(&c.expect) {
                return Err(format!("{}: unknown code {}", c.name, c.expect));
            }
            if c.expect != "ok" && !(c.loaded.is_empty() && c.skipped.is_empty()) {
                return Err(format!(
                    "{}: loaded/skipped only make sense when ok",
                    c.name
                ));
            }
            seen.insert(c.expect);
            for (_, _, reason) in &c.skipped {
                if !SKIP_REASONS.contains(reason) {
                    return Err(format!("{}: unknown skip reason {reason}", c.name));
                }
                reasons.insert(*reason);
            }
        }
        for c in &self.policy_cases {
            if !names.insert(c.name.as_str()) {
                return Err(format!("duplicate case name {}", c.name));
            }
        }
        for code in JWKS_CODES {
            if !seen.contains(code) {
                return Err(format!("no JWKS case expects {code}"));
            }
        }
        for reason in SKIP_REASONS {
            if !reasons.contains(reason) {
                return Err(format!("no JWKS case shows skip reason {reason}"));
            }
        }
        Ok(())
    }

    /// The corpus document.
    pub fn to_json(&self) -> J {
        let cases = self.cases.iter().map(case_json).collect();
        let jwks_cases = self.jwks_cases.iter().map(jwks_case_json).collect();
        let policy_cases = self
            .policy_cases
            .iter()
            .map(|c| {
                let mut j = obj([
                    ("name", s(&c.name)),
                    ("about", s(&c.about)),
                    ("policy_raw", s(&c.raw)),
                    (
                        "expect",
                        s(if c.bad_field.is_some() {
                            "bad_policy"
                        } else {
                            "ok"
                        }),
                    ),
                ]);
                if let Some(f) = c.bad_field {
                    j.push("field", s(f));
                }
                j
            })
            .collect();
        obj([
            ("version", n(1)),
            (
                "jwks",
                J::Obj(
                    self.jwks
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect(),
                ),
            ),
            (
                "policies",
                J::Obj(
                    self.policies
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect(),
                ),
            ),
            ("cases", J::Arr(cases)),
            ("jwks_cases", J::Arr(jwks_cases)),
            ("policy_cases", J::Arr(policy_cases)),
        ])
    }
}

fn case_json(c: &Case) -> J {
    let entry = match c.entry {
        Entry::Verify => "verify",
        Entry::VerifyJws => "verify_jws",
    };
    let mut j = obj([
        ("name", s(&c.name)),
        ("about", s(&c.about)),
        ("entry", s(entry)),
        ("jwks", s(c.jwks)),
        ("policy", s(c.policy)),
        ("now", n(c.now)),
    ]);
    match &c.token {
        Token::Text(t) => j.push("token", s(t)),
        Token::Repeat {
            prefix,
            unit,
            count,
            suffix,
        } => j.push(
            "token_repeat",
            obj([
                ("prefix", s(prefix)),
                ("unit", s(unit)),
                ("count", n(*count as i128)),
                ("suffix", s(suffix)),
            ]),
        ),
    }
    j.push("expect", s(c.expect));
    if !c.claims.is_empty() {
        j.push("claims", J::Obj(c.claims.clone()));
    }
    if let Some(p) = &c.payload {
        j.push("payload", s(p));
    }
    if c.known_bug {
        j.push("known_bug", J::Bool(true));
    }
    j
}

fn jwks_case_json(c: &JwksCase) -> J {
    let mut j = obj([
        ("name", s(&c.name)),
        ("about", s(&c.about)),
        ("jwks_raw", s(&c.raw)),
        ("expect", s(c.expect)),
    ]);
    if c.expect == "ok" {
        let kid = |k: &Option<String>| k.as_ref().map_or(J::Null, s);
        j.push("loaded", J::Arr(c.loaded.iter().map(kid).collect()));
        j.push(
            "skipped",
            J::Arr(
                c.skipped
                    .iter()
                    .map(|(i, k, r)| {
                        obj([("index", n(*i as i128)), ("kid", kid(k)), ("reason", s(*r))])
                    })
                    .collect(),
            ),
        );
    }
    j
}
