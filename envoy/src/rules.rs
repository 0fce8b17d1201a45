//! Which requirement applies to a request path, and whether the per-provider verdicts
//! satisfy it. `jwt_authn` semantics: the first matching rule wins, no match means no
//! requirement, and providers are only verified when the requirement asks about them.

/// How a rule matches the request path (the `:path` without its query string).
#[derive(Clone, Debug)]
pub enum PathMatch {
    Prefix(String),
    Exact(String),
    /// `path_separated_prefix`: the path itself, or it followed by `/...` (not `/apix`).
    SeparatedPrefix(String),
    /// Anchored at both ends, like Envoy's `safe_regex`.
    Regex(regex_lite::Regex),
}

impl PartialEq for PathMatch {
    fn eq(&self, other: &PathMatch) -> bool {
        match (self, other) {
            (PathMatch::Prefix(a), PathMatch::Prefix(b))
            | (PathMatch::Exact(a), PathMatch::Exact(b))
            | (PathMatch::SeparatedPrefix(a), PathMatch::SeparatedPrefix(b)) => a == b,
            (PathMatch::Regex(a), PathMatch::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl PathMatch {
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Prefix(p) => path.starts_with(p.as_str()),
            PathMatch::Exact(p) => path == p,
            PathMatch::SeparatedPrefix(p) => path
                .strip_prefix(p.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            PathMatch::Regex(re) => re.is_match(path),
        }
    }
}

/// What a matched rule demands. Providers are indexes into the configuration's list.
#[derive(Clone, Debug, PartialEq)]
pub enum Requirement {
    Provider(usize),
    Any(Vec<Requirement>),
    All(Vec<Requirement>),
    /// Satisfied when no provider finds a token; a token that is present must verify.
    AllowMissing,
    /// Always satisfied; valid tokens are still verified so their claims are passed on.
    AllowMissingOrFailed,
    /// `extract_only_without_validation`: always satisfied, and no token is verified, so
    /// nothing from one is passed on (claim headers are still removed against spoofing).
    ExtractOnly,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub path_match: PathMatch,
    pub requires: Option<Requirement>,
}

/// The requirement for a path: the first matching rule's, or none.
pub fn requirement_for<'a>(rules: &'a [Rule], path: &str) -> Option<&'a Requirement> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    rules
        .iter()
        .find(|r| r.path_match.matches(path))
        .and_then(|r| r.requires.as_ref())
}

/// One provider's verdict on the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// No token in this provider's locations.
    Missing,
    /// A token was found and refused.
    Failed,
    /// The token names a key this provider may learn by refetching: wait, then ask again.
    Pending,
}

/// The requirement's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No token where one was required.
    DenyMissing,
    /// Refused; the provider whose failure explains it.
    Deny(usize),
    /// Wait for this provider's keys, then evaluate again.
    Wait(usize),
}

/// Evaluates `req`; `status(i)` verifies provider `i` (callers memoise it, since a
/// provider can appear more than once). `providers` is the number of providers.
pub fn evaluate(
    req: &Requirement,
    providers: usize,
    status: &mut dyn FnMut(usize) -> Status,
) -> Decision {
    match req {
        Requirement::Provider(i) => match status(*i) {
            Status::Ok => Decision::Allow,
            Status::Missing => Decision::DenyMissing,
            Status::Failed => Decision::Deny(*i),
            Status::Pending => Decision::Wait(*i),
        },
        Requirement::Any(list) => {
            let mut best: Option<Decision> = None;
            for r in list {
                let d = evaluate(r, providers, status);
                if d == Decision::Allow {
                    return d;
                }
                // Waiting beats refusing (the wait may allow); a refusal beats "missing".
                best = Some(match (best, d) {
                    (None, d) => d,
                    (Some(Decision::Wait(i)), _) => Decision::Wait(i),
                    (_, Decision::Wait(i)) => Decision::Wait(i),
                    (Some(Decision::Deny(i)), _) => Decision::Deny(i),
                    (_, d) => d,
                });
            }
            best.unwrap_or(Decision::DenyMissing)
        }
        Requirement::All(list) => {
            let mut wait = None;
            for r in list {
                match evaluate(r, providers, status) {
                    Decision::Allow => {}
                    Decision::Wait(i) => wait = wait.or(Some(Decision::Wait(i))),
                    deny => return deny,
                }
            }
            wait.unwrap_or(Decision::Allow)
        }
        Requirement::AllowMissing => {
            let mut failed = None;
            let mut wait = None;
            for i in 0..providers {
                match status(i) {
                    Status::Ok => return Decision::Allow,
                    Status::Missing => {}
                    Status::Failed => failed = failed.or(Some(i)),
                    Status::Pending => wait = wait.or(Some(i)),
                }
            }
            match (wait, failed) {
                (Some(i), _) => Decision::Wait(i),
                (None, Some(i)) => Decision::Deny(i),
                (None, None) => Decision::Allow,
            }
        }
        Requirement::ExtractOnly => Decision::Allow,
        Requirement::AllowMissingOrFailed => {
            for i in 0..providers {
                if status(i) == Status::Ok {
                    break;
                }
            }
            Decision::Allow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Requirement::*;
    use Status as S;

    fn eval(req: &Requirement, verdicts: &[S]) -> Decision {
        evaluate(req, verdicts.len(), &mut |i| verdicts[i])
    }

    #[test]
    fn first_matching_rule_wins_and_query_is_ignored() {
        let rules = vec![
            Rule {
                path_match: PathMatch::Exact("/health".into()),
                requires: None,
            },
            Rule {
                path_match: PathMatch::Regex(regex_lite::Regex::new("^(?:/v[0-9]+/.*)$").unwrap()),
                requires: Some(Provider(1)),
            },
            Rule {
                path_match: PathMatch::Prefix("/".into()),
                requires: Some(Provider(0)),
            },
        ];
        assert_eq!(requirement_for(&rules, "/health?x=1"), None);
        assert_eq!(requirement_for(&rules, "/v2/items"), Some(&Provider(1)));
        assert_eq!(requirement_for(&rules, "/healthz"), Some(&Provider(0)));
        assert_eq!(requirement_for(&rules[..1], "/other"), None);
        let sep = PathMatch::SeparatedPrefix("/api".into());
        assert!(sep.matches("/api") && sep.matches("/api/x") && !sep.matches("/apix"));
    }

    #[test]
    fn provider_and_combinators() {
        assert_eq!(eval(&Provider(0), &[S::Ok]), Decision::Allow);
        assert_eq!(eval(&Provider(0), &[S::Missing]), Decision::DenyMissing);
        assert_eq!(eval(&Provider(0), &[S::Failed]), Decision::Deny(0));
        assert_eq!(eval(&Provider(0), &[S::Pending]), Decision::Wait(0));
        let any = Any(vec![Provider(0), Provider(1)]);
        assert_eq!(eval(&any, &[S::Missing, S::Ok]), Decision::Allow);
        assert_eq!(eval(&any, &[S::Missing, S::Failed]), Decision::Deny(1));
        assert_eq!(eval(&any, &[S::Pending, S::Failed]), Decision::Wait(0));
        assert_eq!(eval(&any, &[S::Missing, S::Missing]), Decision::DenyMissing);
        let all = All(vec![Provider(0), Provider(1)]);
        assert_eq!(eval(&all, &[S::Ok, S::Ok]), Decision::Allow);
        assert_eq!(eval(&all, &[S::Ok, S::Missing]), Decision::DenyMissing);
        assert_eq!(eval(&all, &[S::Pending, S::Failed]), Decision::Deny(1));
        let optional = Any(vec![Provider(0), AllowMissing]);
        assert_eq!(eval(&optional, &[S::Missing]), Decision::Allow);
        assert_eq!(eval(&optional, &[S::Failed]), Decision::Deny(0));
        assert_eq!(eval(&AllowMissingOrFailed, &[S::Failed]), Decision::Allow);
    }

    #[test]
    fn any_short_circuits() {
        let mut asked = Vec::new();
        let d = evaluate(&Any(vec![Provider(0), Provider(1)]), 2, &mut |i| {
            asked.push(i);
            S::Ok
        });
        assert_eq!(d, Decision::Allow);
        assert_eq!(asked, vec![0]);
    }
}
