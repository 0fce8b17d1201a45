//! Claims after a good signature: registered-claim types, time windows and their
//! boundaries, issuer, audience, subject patterns, required claims, claim rules.

use super::{main_token, payload, std_payload, AUD, ISS, NOW};
use crate::corpus::Corpus;
use crate::json::{n, s, strs};
use crate::keys::Keys;

pub fn cases(c: &mut Corpus, k: &Keys) {
    c.case(
        "valid_generic_token",
        "A well-formed, current RS256 token with every registered claim.",
        "main",
        "oidc",
        NOW,
        main_token(k, &std_payload()),
        "ok",
    )
    .claim("iss", s(ISS))
    .claim("sub", s("alice"))
    .claim("aud", s(AUD))
    .claim("exp", n(NOW + 3600));
    types(c, k);
    times(c, k);
    issuer_audience(c, k);
    subjects_and_rules(c, k);
    ordering(c, k);
}

fn types(c: &mut Corpus, k: &Keys) {
    let bad: &[(&str, &str, &str)] = &[
        ("exp", "\"1767229200\"", "exp_string"),
        ("exp", "\"1\"", "exp_string_1"),
        ("exp", "null", "exp_null"),
        ("exp", "true", "exp_true"),
        ("exp", "[1767229200]", "exp_array"),
        ("exp", "{}", "exp_object"),
        ("exp", "-1", "exp_negative"),
        ("exp", "-8334601228800", "exp_huge_negative"),
        ("nbf", "\"1\"", "nbf_string"),
        ("nbf", "null", "nbf_null"),
        ("nbf", "true", "nbf_true"),
        ("nbf", "-8334601228800", "nbf_huge_negative"),
        ("iat", "\"1\"", "iat_string"),
        ("iat", "null", "iat_null"),
        ("iat", "-8334601228800", "iat_huge_negative"),
        ("iss", "123", "iss_number"),
        ("iss", "[\"https://idp.example.com\"]", "iss_array"),
        ("sub", "42", "sub_number"),
        ("sub", "null", "sub_null"),
        ("jti", "7", "jti_number"),
        ("aud", "123", "aud_number"),
        ("aud", "null", "aud_null"),
        ("aud", "[1]", "aud_array_of_number"),
        ("aud", "[\"orders-api\",null]", "aud_array_with_null"),
        ("aud", "{\"aud\":\"orders-api\"}", "aud_object"),
        ("aud", "[[\"orders-api\"]]", "aud_nested_array"),
    ];
    for (claim, value, name) in bad {
        let t = main_token(k, &payload(&[(claim, Some(value))]));
        c.case(
            &format!("claim_{name}"),
            &format!("{claim} is {value}."),
            "main",
            "default",
            NOW,
            t,
            "invalid_claim",
        );
    }
    let t = main_token(k, &payload(&[("aud", Some("123"))]));
    c.case(
        "claim_aud_number_oidc",
        "aud 123 under a policy with audiences.",
        "main",
        "oidc",
        NOW,
        t,
        "invalid_claim",
    );
}

fn times(c: &mut Corpus, k: &Keys) {
    let exp = NOW + 3600;
    let exp_tok = |v: &str| main_token(k, &payload(&[("exp", Some(v))]));
    // Boundaries: expired when now >= exp + skew; not yet valid when now + skew < nbf.
    c.case(
        "exp_skew_last_second_ok",
        "now = exp + 59 with the default 60 s skew.",
        "main",
        "default",
        exp + 59,
        exp_tok(&exp.to_string()),
        "ok",
    );
    c.case(
        "exp_skew_boundary_expired",
        "now = exp + 60 with the default 60 s skew: expired.",
        "main",
        "default",
        exp + 60,
        exp_tok(&exp.to_string()),
        "expired",
    );
    c.case(
        "exp_no_skew_last_second_ok",
        "now = exp - 1 with no skew.",
        "main",
        "no_skew",
        exp - 1,
        exp_tok(&exp.to_string()),
        "ok",
    );
    c.case(
        "exp_no_skew_boundary_expired",
        "now = exp with no skew: expired (RFC 7519: now must be before exp).",
        "main",
        "no_skew",
        exp,
        exp_tok(&exp.to_string()),
        "expired",
    );
    c.case(
        "exp_fraction_ok",
        "exp = now + 0.5 with no skew.",
        "main",
        "no_skew",
        NOW,
        exp_tok(&format!("{NOW}.5")),
        "ok",
    );
    c.case(
        "exp_fraction_expired",
        "now = exp + 0.5 with no skew.",
        "main",
        "no_skew",
        NOW + 1,
        exp_tok(&format!("{NOW}.5")),
        "expired",
    );
    c.case(
        "exp_1_5_expired",
        "exp 1.5 (a fraction in 1970).",
        "main",
        "default",
        NOW,
        exp_tok("1.5"),
        "expired",
    );
    c.case(
        "exp_zero_expired",
        "exp 0.",
        "main",
        "default",
        NOW,
        exp_tok("0"),
        "expired",
    );
    c.case(
        "exp_long_ago_expired",
        "exp a day before now.",
        "main",
        "default",
        NOW,
        exp_tok(&(NOW - 86400).to_string()),
        "expired",
    );
    c.case(
        "exp_1e300_ok",
        "exp 1e300: far future, no overflow.",
        "main",
        "default",
        NOW,
        exp_tok("1e300"),
        "ok",
    );
    c.case(
        "exp_u64_max_ok",
        "exp 18446744073709551615 (u64::MAX): far future.",
        "main",
        "default",
        NOW,
        exp_tok("18446744073709551615"),
        "ok",
    );
    c.case(
        "exp_beyond_u64_ok",
        "exp 18446744073709551616 (u64::MAX + 1).",
        "main",
        "default",
        NOW,
        exp_tok("18446744073709551616"),
        "ok",
    );
    c.case(
        "exp_f64_max_ok",
        "exp 1.7976931348623157e308 (the largest double): adding the skew must not overflow.",
        "main",
        "default",
        NOW,
        exp_tok("1.7976931348623157e308"),
        "ok",
    );
    c.case(
        "exp_exponent_form_ok",
        "exp written as 1.7672292e9.",
        "main",
        "default",
        NOW,
        exp_tok("1.7672292e9"),
        "ok",
    );
    c.case(
        "exp_missing",
        "No exp, and the policy requires one.",
        "main",
        "default",
        NOW,
        main_token(k, &payload(&[("exp", None)])),
        "missing_claim",
    );
    c.case(
        "exp_missing_not_required_ok",
        "No exp under require_exp false.",
        "main",
        "no_exp",
        NOW,
        main_token(k, &payload(&[("exp", None)])),
        "ok",
    );
    c.case(
        "exp_present_not_required_still_checked",
        "require_exp false still checks an exp that is present.",
        "main",
        "no_exp",
        NOW,
        exp_tok("1"),
        "expired",
    );
    let nbf = NOW + 600;
    let nbf_tok = |v: &str| main_token(k, &payload(&[("nbf", Some(v))]));
    c.case(
        "nbf_skew_boundary_ok",
        "now = nbf - 60 with the default skew.",
        "main",
        "default",
        nbf - 60,
        nbf_tok(&nbf.to_string()),
        "ok",
    );
    c.case(
        "nbf_skew_boundary_not_yet_valid",
        "now = nbf - 61 with the default skew.",
        "main",
        "default",
        nbf - 61,
        nbf_tok(&nbf.to_string()),
        "not_yet_valid",
    );
    c.case(
        "nbf_no_skew_equal_ok",
        "now = nbf with no skew (RFC 7519: on or after nbf).",
        "main",
        "no_skew",
        nbf,
        nbf_tok(&nbf.to_string()),
        "ok",
    );
    c.case(
        "nbf_no_skew_one_early",
        "now = nbf - 1 with no skew.",
        "main",
        "no_skew",
        nbf - 1,
        nbf_tok(&nbf.to_string()),
        "not_yet_valid",
    );
    c.case(
        "nbf_1e300",
        "nbf 1e300.",
        "main",
        "default",
        NOW,
        nbf_tok("1e300"),
        "not_yet_valid",
    );
    c.case(
        "nbf_u64_max",
        "nbf 18446744073709551615 (u64::MAX).",
        "main",
        "default",
        NOW,
        nbf_tok("18446744073709551615"),
        "not_yet_valid",
    );
    c.case(
        "nbf_zero_ok",
        "nbf 0.",
        "main",
        "default",
        NOW,
        nbf_tok("0"),
        "ok",
    );
    c.case(
        "nbf_fraction_ok",
        "nbf 1.5.",
        "main",
        "default",
        NOW,
        nbf_tok("1.5"),
        "ok",
    );
    c.case(
        "iat_future_without_max_age_ok",
        "iat in the future is not checked without a max age.",
        "main",
        "default",
        NOW,
        main_token(k, &payload(&[("iat", Some(&(NOW + 86400).to_string()))])),
        "ok",
    );
    let iat = NOW - 3600;
    let iat_tok = |v: &str| main_token(k, &payload(&[("iat", Some(v)), ("nbf", None)]));
    c.case(
        "max_age_boundary_ok",
        "max age 3600 s, skew 60: now = iat + 3660.",
        "main",
        "max_age",
        iat + 3660,
        iat_tok(&iat.to_string()),
        "ok",
    );
    c.case(
        "max_age_boundary_too_old",
        "max age 3600 s, skew 60: now = iat + 3661.",
        "main",
        "max_age",
        iat + 3661,
        iat_tok(&iat.to_string()),
        "token_too_old",
    );
    c.case(
        "max_age_old_token",
        "iat a day ago under a one-hour max age.",
        "main",
        "max_age",
        NOW,
        iat_tok(&(NOW - 86400).to_string()),
        "token_too_old",
    );
    c.case(
        "max_age_iat_missing",
        "No iat under a max age.",
        "main",
        "max_age",
        NOW,
        main_token(k, &payload(&[("iat", None)])),
        "missing_claim",
    );
    c.case(
        "max_age_iat_future_within_skew_ok",
        "iat = now + 60 under a max age.",
        "main",
        "max_age",
        NOW,
        iat_tok(&(NOW + 60).to_string()),
        "ok",
    );
    c.case(
        "max_age_iat_future",
        "iat = now + 61 under a max age: issued in the future.",
        "main",
        "max_age",
        NOW,
        iat_tok(&(NOW + 61).to_string()),
        "not_yet_valid",
    );
    c.case(
        "max_age_iat_1e300",
        "iat 1e300 under a max age.",
        "main",
        "max_age",
        NOW,
        iat_tok("1e300"),
        "not_yet_valid",
    );
    c.case(
        "max_age_iat_zero",
        "iat 0 under a max age.",
        "main",
        "max_age",
        NOW,
        iat_tok("0"),
        "token_too_old",
    );
}

fn issuer_audience(c: &mut Corpus, k: &Keys) {
    let iss_tok = |v: &str| main_token(k, &payload(&[("iss", Some(&format!("\"{v}\"")))]));
    for (name, iss) in [
        ("iss_prefix_of_configured", "https://idp.example.co"),
        ("iss_suffix_of_configured", "idp.example.com"),
        ("iss_substring_of_configured", "idp.example"),
        (
            "iss_configured_is_prefix",
            "https://idp.example.com.attacker.net",
        ),
        ("iss_trailing_slash", "https://idp.example.com/"),
        ("iss_uppercase", "HTTPS://IDP.EXAMPLE.COM"),
        ("iss_http_scheme", "http://idp.example.com"),
        ("iss_trailing_space", "https://idp.example.com "),
        ("iss_empty", ""),
        ("iss_other", "https://attacker.example"),
    ] {
        c.case(
            name,
            &format!("iss \"{iss}\" against the configured \"{ISS}\"."),
            "main",
            "oidc",
            NOW,
            iss_tok(iss),
            "bad_issuer",
        );
    }
    c.case(
        "iss_missing",
        "No iss, and the policy names issuers.",
        "main",
        "oidc",
        NOW,
        main_token(k, &payload(&[("iss", None)])),
        "missing_claim",
    );
    let aud_tok = |v: &str| main_token(k, &payload(&[("aud", Some(v))]));
    for (name, aud, about) in [
        ("aud_empty_array", "[]", "aud []."),
        ("aud_array_empty_string", "[\"\"]", "aud [\"\"]."),
        ("aud_empty_string", "\"\"", "aud \"\"."),
        (
            "aud_wrong_case",
            "\"ORDERS-API\"",
            "aud in upper case: audiences are case-sensitive.",
        ),
        (
            "aud_trailing_space",
            "\"orders-api \"",
            "aud with a trailing space.",
        ),
        (
            "aud_prefix",
            "\"orders\"",
            "aud a prefix of a configured audience.",
        ),
        (
            "aud_other_array",
            "[\"billing-api\",\"https://api.example.com/\"]",
            "Two audiences, neither configured exactly.",
        ),
    ] {
        c.case(
            name,
            about,
            "main",
            "oidc",
            NOW,
            aud_tok(aud),
            "bad_audience",
        );
    }
    c.case(
        "aud_missing",
        "No aud, and the policy names audiences.",
        "main",
        "oidc",
        NOW,
        main_token(k, &payload(&[("aud", None)])),
        "missing_claim",
    );
    c.case(
        "aud_array_any_of_ok",
        "aud array where the second value is configured.",
        "main",
        "oidc",
        NOW,
        aud_tok("[\"billing-api\",\"https://api.example.com\"]"),
        "ok",
    )
    .claim("aud", strs(&["billing-api", "https://api.example.com"]));
    c.case(
        "aud_unchecked_without_policy_ok",
        "aud of any string when the policy names no audience.",
        "main",
        "default",
        NOW,
        aud_tok("\"anything\""),
        "ok",
    );
}

fn subjects_and_rules(c: &mut Corpus, k: &Keys) {
    let sub_tok = |v: &str| main_token(k, &payload(&[("sub", Some(&format!("\"{v}\"")))]));
    for (name, sub) in [
        ("subject_exact_ok", "alice"),
        ("subject_prefix_ok", "system:serviceaccount:payments:api"),
    ] {
        c.case(
            name,
            &format!("sub \"{sub}\" against [alice, system:serviceaccount:payments:*]."),
            "main",
            "subjects",
            NOW,
            sub_tok(sub),
            "ok",
        )
        .claim("sub", s(sub));
    }
    for (name, sub) in [
        ("subject_exact_longer", "alice2"),
        ("subject_exact_case", "Alice"),
        ("subject_exact_shorter", "alic"),
        (
            "subject_prefix_sibling_namespace",
            "system:serviceaccount:payments-evil:api",
        ),
        (
            "subject_prefix_no_separator",
            "system:serviceaccount:paymentsx:api",
        ),
        (
            "subject_prefix_namespace_only",
            "system:serviceaccount:payments",
        ),
        (
            "subject_other_namespace",
            "system:serviceaccount:kube-system:default",
        ),
    ] {
        c.case(
            name,
            &format!("sub \"{sub}\" against [alice, system:serviceaccount:payments:*]."),
            "main",
            "subjects",
            NOW,
            sub_tok(sub),
            "claim_rule_failed",
        );
    }
    c.case(
        "subject_missing",
        "No sub when the policy has subject patterns.",
        "main",
        "subjects",
        NOW,
        main_token(k, &payload(&[("sub", None)])),
        "missing_claim",
    );
    let k8s = |ns: &str, sa: &str| {
        format!(
            r#"{{"namespace":{ns},"serviceaccount":{{"name":{sa},"uid":"7e1a5c2d-0b3f-4a8e-9c6d-1f2e3a4b5c6d"}}}}"#
        )
    };
    let rule_tok = |v: &str| main_token(k, &payload(&[("kubernetes.io", Some(v))]));
    c.case(
        "rule_namespace_ok",
        "kubernetes.io.namespace payments, serviceaccount.name api.",
        "main",
        "k8s_rules",
        NOW,
        rule_tok(&k8s("\"payments\"", "\"api\"")),
        "ok",
    );
    c.case(
        "rule_namespace_second_value_ok",
        "kubernetes.io.namespace billing (second allowed value).",
        "main",
        "k8s_rules",
        NOW,
        rule_tok(&k8s("\"billing\"", "\"api\"")),
        "ok",
    );
    for (name, ns, sa, about) in [
        (
            "rule_namespace_other",
            "\"kube-system\"",
            "\"api\"",
            "namespace kube-system is not allowed.",
        ),
        (
            "rule_namespace_case",
            "\"Payments\"",
            "\"api\"",
            "namespace Payments: rules compare exactly.",
        ),
        (
            "rule_namespace_prefix",
            "\"pay\"",
            "\"api\"",
            "namespace pay (a prefix).",
        ),
        (
            "rule_namespace_number",
            "1",
            "\"api\"",
            "namespace is a number.",
        ),
        (
            "rule_namespace_null",
            "null",
            "\"api\"",
            "namespace is null.",
        ),
        (
            "rule_serviceaccount_other",
            "\"payments\"",
            "\"admin\"",
            "serviceaccount.name admin is not allowed.",
        ),
    ] {
        c.case(
            name,
            about,
            "main",
            "k8s_rules",
            NOW,
            rule_tok(&k8s(ns, sa)),
            "claim_rule_failed",
        );
    }
    c.case(
        "rule_claim_absent",
        "No kubernetes.io claim at all.",
        "main",
        "k8s_rules",
        NOW,
        main_token(k, &std_payload()),
        "claim_rule_failed",
    );
    c.case(
        "rule_parent_not_object",
        "kubernetes.io is a string, so the path does not resolve.",
        "main",
        "k8s_rules",
        NOW,
        rule_tok("\"payments\""),
        "claim_rule_failed",
    );
    let scalar = |ev: &str, tier: &str| {
        main_token(
            k,
            &payload(&[("email_verified", Some(ev)), ("tier", Some(tier))]),
        )
    };
    c.case(
        "rule_scalar_values_ok",
        "email_verified true and tier 2 against {email_verified: true, tier: [1, 2]}.",
        "main",
        "scalar_rules",
        NOW,
        scalar("true", "2"),
        "ok",
    );
    c.case(
        "rule_scalar_bool_as_string",
        "email_verified \"true\" (a string) against true.",
        "main",
        "scalar_rules",
        NOW,
        scalar("\"true\"", "1"),
        "claim_rule_failed",
    );
    c.case(
        "rule_scalar_number_not_allowed",
        "tier 3 against [1, 2].",
        "main",
        "scalar_rules",
        NOW,
        scalar("true", "3"),
        "claim_rule_failed",
    );
    let pod = r#"{"namespace":"payments","pod":{"name":"api-6f7d9c8b5-q2w4e","uid":"3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"}}"#;
    c.case(
        "required_claims_ok",
        "jti and kubernetes.io.pod.name present.",
        "main",
        "required",
        NOW,
        main_token(k, &payload(&[("kubernetes.io", Some(pod))])),
        "ok",
    );
    c.case(
        "required_claim_jti_missing",
        "No jti when the policy requires it.",
        "main",
        "required",
        NOW,
        main_token(k, &payload(&[("jti", None), ("kubernetes.io", Some(pod))])),
        "missing_claim",
    );
    c.case(
        "required_claim_nested_missing",
        "No kubernetes.io.pod.name when the policy requires it.",
        "main",
        "required",
        NOW,
        main_token(
            k,
            &payload(&[("kubernetes.io", Some(r#"{"namespace":"payments"}"#))]),
        ),
        "missing_claim",
    );
    c.case(
        "required_claim_null_present_ok",
        "A required claim whose value is null is present.",
        "main",
        "required",
        NOW,
        main_token(
            k,
            &payload(&[("kubernetes.io", Some(r#"{"pod":{"name":null}}"#))]),
        ),
        "ok",
    );
}

fn ordering(c: &mut Corpus, k: &Keys) {
    let t = |changes: &[(&str, Option<&str>)]| main_token(k, &payload(changes));
    c.case(
        "order_types_before_times",
        "aud 123 and expired: types are checked first.",
        "main",
        "oidc",
        NOW,
        t(&[("aud", Some("123")), ("exp", Some("1"))]),
        "invalid_claim",
    );
    c.case(
        "order_times_before_issuer",
        "Expired with a wrong issuer: times first.",
        "main",
        "oidc",
        NOW,
        t(&[
            ("iss", Some("\"https://attacker.example\"")),
            ("exp", Some("1")),
        ]),
        "expired",
    );
    c.case(
        "order_issuer_before_audience",
        "Wrong issuer and wrong audience: issuer first.",
        "main",
        "oidc",
        NOW,
        t(&[
            ("iss", Some("\"https://attacker.example\"")),
            ("aud", Some("\"x\"")),
        ]),
        "bad_issuer",
    );
    c.case(
        "order_exp_type_before_nbf",
        "exp \"1\" and a future nbf: the type error wins.",
        "main",
        "default",
        NOW,
        t(&[
            ("exp", Some("\"1\"")),
            ("nbf", Some(&(NOW + 9999).to_string())),
        ]),
        "invalid_claim",
    );
    c.case(
        "order_nbf_type_over_expired",
        "Expired exp with nbf \"1\": all time claims are typed before any is compared.",
        "main",
        "default",
        NOW,
        t(&[("exp", Some("1")), ("nbf", Some("\"1\""))]),
        "invalid_claim",
    );
}
