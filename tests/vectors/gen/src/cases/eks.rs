//! Realistic EKS projected service-account tokens (IRSA): issuer per cluster, audience
//! sts.amazonaws.com, identity under `kubernetes.io`, a 24 h lifetime.

use super::NOW;
use crate::corpus::Corpus;
use crate::json::{obj, s, strs, J};
use crate::keys::Keys;
use crate::sign;
use rsa::RsaPrivateKey;

pub const ISS: &str =
    "https://oidc.eks.eu-west-1.amazonaws.com/id/5C3A8F1B2D4E6F7A8B9C0D1E2F3A4B5C";
pub const ISS_OTHER: &str =
    "https://oidc.eks.us-east-1.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9";
/// Key ids in the style EKS publishes (hex digests).
pub const KID: &str = "3f9c2b1e7a4d8c6f0e5b9a2d1c7f4e8b6a3d0c9f";
pub const KID_NEXT: &str = "a81d5e0c3b7f2e9d4c6a1b8f5e2d9c0b7a4f1e3d";
const IAT: u64 = NOW - 600;

/// The policy of an IRSA-style gateway: the cluster issuer(s), STS audience,
/// payments or billing service accounts only, and the namespace claim to match.
pub fn policy(issuers: &[&str], required: Option<&[&str]>) -> J {
    let mut p = obj([
        ("issuers", strs(issuers)),
        ("audiences", strs(&["sts.amazonaws.com"])),
        (
            "subjects",
            strs(&[
                "system:serviceaccount:payments:*",
                "system:serviceaccount:billing:*",
            ]),
        ),
        (
            "claims",
            obj([("kubernetes.io.namespace", strs(&["payments", "billing"]))]),
        ),
    ]);
    if let Some(required) = required {
        p.push("required_claims", strs(required));
    }
    p
}

/// What varies between EKS tokens.
struct Sa<'a> {
    iss: &'a str,
    aud: J,
    ns: &'a str,
    sa: &'a str,
    pod: bool,
    iat: u64,
}

impl Default for Sa<'_> {
    fn default() -> Self {
        Sa {
            iss: ISS,
            aud: strs(&["sts.amazonaws.com"]),
            ns: "payments",
            sa: "api",
            pod: true,
            iat: IAT,
        }
    }
}

fn k8s_claim(sa: &Sa) -> J {
    let mut k8s = obj([("namespace", s(sa.ns))]);
    if sa.pod {
        k8s.push(
            "node",
            obj([
                ("name", s("ip-10-0-12-34.eu-west-1.compute.internal")),
                ("uid", s("5b2e7c9a-1d3f-4e8b-a6c0-9f2d4b7e1a3c")),
            ]),
        );
        k8s.push(
            "pod",
            obj([
                ("name", s(format!("{}-7d9f8b6c5-x2k4p", sa.sa))),
                ("uid", s("c4a1e9d2-6b3f-4a7e-8d5c-2f1b0e9a7c6d")),
            ]),
        );
    }
    k8s.push(
        "serviceaccount",
        obj([
            ("name", s(sa.sa)),
            ("uid", s("9e8d7c6b-5a4f-4e3d-b2c1-0a9f8e7d6c5b")),
        ]),
    );
    if sa.pod {
        k8s.push("warnafter", J::Num((sa.iat + 3600).to_string()));
    }
    k8s
}

/// The claims, in the member order the Kubernetes API server writes them.
fn claims(sa: &Sa) -> J {
    obj([
        ("aud", sa.aud.clone()),
        ("exp", J::Num((sa.iat + 86400).to_string())),
        ("iat", J::Num(sa.iat.to_string())),
        ("iss", s(sa.iss)),
        ("jti", s("2d6f4b1a-8c3e-4f7d-9a5b-0e1c2d3f4a5b")),
        ("kubernetes.io", k8s_claim(sa)),
        ("nbf", J::Num(sa.iat.to_string())),
        (
            "sub",
            s(format!("system:serviceaccount:{}:{}", sa.ns, sa.sa)),
        ),
    ])
}

fn token(key: &RsaPrivateKey, kid: &str, sa: &Sa) -> String {
    sign::token(
        key,
        &format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#),
        &claims(sa).compact(),
    )
}

pub fn cases(c: &mut Corpus, k: &Keys) {
    let sa = Sa::default();
    c.case(
        "eks_valid",
        "An EKS IRSA token for payments/api, signed by the cluster's current key.",
        "eks",
        "eks",
        NOW,
        token(&k.main, KID, &sa),
        "ok",
    )
    .claim("iss", s(ISS))
    .claim("sub", s("system:serviceaccount:payments:api"))
    .claim("aud", strs(&["sts.amazonaws.com"]))
    .claim("kubernetes.io", k8s_claim(&sa));
    c.case(
        "eks_valid_next_key",
        "The same token signed by the cluster's next (rotated-in) key.",
        "eks",
        "eks",
        NOW,
        token(&k.rotated, KID_NEXT, &sa),
        "ok",
    );
    let billing = Sa {
        ns: "billing",
        sa: "worker",
        ..Sa::default()
    };
    c.case(
        "eks_valid_billing",
        "billing/worker: the second allowed namespace.",
        "eks",
        "eks",
        NOW,
        token(&k.main, KID, &billing),
        "ok",
    )
    .claim("sub", s("system:serviceaccount:billing:worker"));
    let no_pod = Sa {
        pod: false,
        ..Sa::default()
    };
    c.case(
        "eks_valid_without_pod",
        "A token from `kubectl create token` (no pod or node binding).",
        "eks",
        "eks",
        NOW,
        token(&k.main, KID, &no_pod),
        "ok",
    );
    c.case(
        "eks_pod_bound_ok",
        "A pod-bound token under a policy that requires pod name, uid and jti.",
        "eks",
        "eks_pod_bound",
        NOW,
        token(&k.main, KID, &sa),
        "ok",
    );
    c.case(
        "eks_pod_bound_missing_pod",
        "A token without pod binding under a policy that requires it.",
        "eks",
        "eks_pod_bound",
        NOW,
        token(&k.main, KID, &no_pod),
        "missing_claim",
    );
    let aud_str = Sa {
        aud: s("sts.amazonaws.com"),
        ..Sa::default()
    };
    c.case(
        "eks_aud_string_ok",
        "aud as a single string.",
        "eks",
        "eks",
        NOW,
        token(&k.main, KID, &aud_str),
        "ok",
    );
    let other = Sa {
        iss: ISS_OTHER,
        ..Sa::default()
    };
    c.case(
        "eks_other_cluster",
        "A token from another cluster (other issuer) with a trusted key.",
        "eks",
        "eks",
        NOW,
        token(&k.main, KID, &other),
        "bad_issuer",
    );
    c.case(
        "eks_two_clusters_ok",
        "The other cluster's token under a policy trusting both issuers.",
        "eks",
        "eks_two_clusters",
        NOW,
        token(&k.main, KID, &other),
        "ok",
    );
    let region = Sa {
        iss: "https://oidc.eks.eu-west-2.amazonaws.com/id/5C3A8F1B2D4E6F7A8B9C0D1E2F3A4B5C",
        ..Sa::default()
    };
    c.case(
        "eks_wrong_region",
        "Same cluster id, another region.",
        "eks",
        "eks",
        NOW,
        token(&k.main, KID, &region),
        "bad_issuer",
    );
    let default_aud = Sa {
        aud: strs(&["https://kubernetes.default.svc"]),
        ..Sa::default()
    };
    c.case(
        "eks_default_audience",
        "A token minted for the API server audience, not STS.",
        "eks",
        "eks",
        NOW,
        token(&k.main, KID, &default_aud),
        "bad_audience",
    );
    let wrong_ns = Sa {
        ns: "kube-system",
        sa: "aws-node",
        ..Sa::default()
    };
    c.case(
        "eks_kube_system",
        "kube-system/aws-node: subject not allowed.",
        "eks",
        "eks",
        NOW,
        token(&k.main, KID, &wrong_ns),
        "claim_rule_failed",
    );
    // Subject allowed, namespace claim not: the claim rule catches the mismatch.
    let mut mismatch = claims(&sa);
    if let J::Obj(members) = &mut mismatch {
        for (name, value) in members.iter_mut() {
            if name == "kubernetes.io" {
                *value = k8s_claim(&Sa {
                    ns: "default",
                    ..Sa::default()
                });
            }
        }
    }
    let t = sign::token(
        &k.main,
        &format!(r#"{{"alg":"RS256","kid":"{KID}"}}"#),
        &mismatch.compact(),
    );
    c.case(
        "eks_namespace_claim_mismatch",
        "sub says payments, kubernetes.io.namespace says default.",
        "eks",
        "eks",
        NOW,
        t,
        "claim_rule_failed",
    );
    c.case(
        "eks_expired",
        "now = exp + 60 (24 h after issue, plus the skew).",
        "eks",
        "eks",
        IAT + 86400 + 60,
        token(&k.main, KID, &sa),
        "expired",
    );
    c.case(
        "eks_last_valid_second",
        "now = exp + 59.",
        "eks",
        "eks",
        IAT + 86400 + 59,
        token(&k.main, KID, &sa),
        "ok",
    );
    c.case(
        "eks_not_yet_valid",
        "now = nbf - 61 (a node clock 61 s ahead of ours).",
        "eks",
        "eks",
        IAT - 61,
        token(&k.main, KID, &sa),
        "not_yet_valid",
    );
    c.case(
        "eks_nbf_within_skew",
        "now = nbf - 60.",
        "eks",
        "eks",
        IAT - 60,
        token(&k.main, KID, &sa),
        "ok",
    );
    c.case(
        "eks_unknown_kid",
        "A kid the cluster no longer publishes.",
        "eks",
        "eks",
        NOW,
        token(&k.main, "0000000000000000000000000000000000000000", &sa),
        "unknown_kid",
    );
    c.case(
        "eks_forged",
        "The cluster's kid with a signature by an attacker key.",
        "eks",
        "eks",
        NOW,
        token(&k.attacker, KID, &sa),
        "bad_signature",
    );
    c.case(
        "eks_key_swapped",
        "The current kid, signed by the next key.",
        "eks",
        "eks",
        NOW,
        token(&k.rotated, KID, &sa),
        "bad_signature",
    );
}
