//! Policy documents: an empty allow-list never means "anything" (refused, naming the
//! field), and the fields a user mistypes are named in the refusal.

use crate::corpus::Corpus;

pub fn cases(c: &mut Corpus) {
    for (name, raw, field) in [
        ("policy_empty_issuers", r#"{"issuers": []}"#, "issuers"),
        (
            "policy_empty_audiences",
            r#"{"audiences": []}"#,
            "audiences",
        ),
        ("policy_empty_subjects", r#"{"subjects": []}"#, "subjects"),
        (
            "policy_empty_algorithms",
            r#"{"algorithms": []}"#,
            "algorithms",
        ),
        (
            "policy_empty_claim_values",
            r#"{"claims": {"team": []}}"#,
            "claims.team",
        ),
        ("policy_empty_types", r#"{"types": []}"#, "types"),
    ] {
        c.policy_case(
            name,
            "An empty allow-list would accept any value: refused as bad_policy, naming the field.",
            raw,
            Some(field),
        );
    }
    c.policy_case(
        "policy_unknown_field_named",
        "A jose-style option name in the core's JSON is refused, naming the field.",
        r#"{"audience": "orders-api"}"#,
        Some("audience"),
    );
    c.policy_case(
        "policy_hs256_refused",
        "A shared-secret algorithm has no place at a gateway.",
        r#"{"algorithms": ["RS256", "HS256"]}"#,
        Some("algorithms"),
    );
    c.policy_case(
        "policy_missing_lists_load",
        "Absent lists are not checked (issuer, audience) or keep their default (RS256).",
        r#"{"require_exp": true}"#,
        None,
    );
    c.policy_case(
        "policy_one_of_each_loads",
        "One value in each allow-list loads.",
        r#"{"issuers": "https://idp.example.com", "audiences": ["orders-api"], "subjects": ["alice"], "algorithms": ["RS256"], "claims": {"team": "a"}}"#,
        None,
    );
}
