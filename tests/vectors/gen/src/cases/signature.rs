//! Signature values: wrong keys, malleated lengths and values (0, 1, n-1, n, n+1),
//! and encodings that a lax PKCS#1 v1.5 parser would accept (Bleichenbacher 2006
//! against e = 3, missing NULL parameters, garbage after the digest, ...).

use super::{input, main_token, resign_with, sig_of, std_payload, H_MAIN, NOW};
use crate::corpus::Corpus;
use crate::keys::Keys;
use crate::sign::{self, emsa_with_tail, left_pad, raw_sign, Hash, DIGEST_INFO_SHA256};
use rsa::traits::PublicKeyParts;
use rsa::BigUint;
use sha2::{Digest, Sha256};

pub fn cases(c: &mut Corpus, k: &Keys) {
    let p = std_payload();
    let valid = main_token(k, &p);
    let sig = sig_of(&valid);
    let n = k.main.n().clone();
    let len = k.main.size();
    let value = |v: &BigUint| left_pad(&v.to_bytes_be(), len);
    let one = BigUint::from(1u32);
    let tampered: Vec<(&str, &str, Vec<u8>)> = vec![
        ("sig_empty", "An empty signature segment.", Vec::new()),
        ("sig_value_zero", "256 zero bytes (s = 0).", vec![0; len]),
        ("sig_value_one", "s = 1.", value(&one)),
        (
            "sig_value_n_minus_1",
            "s = n - 1 (= -1 mod n).",
            value(&(&n - &one)),
        ),
        ("sig_value_n", "s = n (out of range).", value(&n)),
        (
            "sig_value_n_plus_1",
            "s = n + 1 (out of range, = 1 mod n).",
            value(&(&n + &one)),
        ),
        (
            "sig_value_all_ff",
            "256 bytes of 0xFF (above n).",
            vec![0xff; len],
        ),
        (
            "sig_one_byte_short",
            "The valid signature without its last byte.",
            sig[..len - 1].to_vec(),
        ),
        (
            "sig_one_byte_short_leading",
            "The valid signature without its first byte.",
            sig[1..].to_vec(),
        ),
        (
            "sig_leading_zero_byte",
            "The valid signature with a leading zero byte (same integer, 257 bytes).",
            [&[0u8][..], &sig].concat(),
        ),
        (
            "sig_trailing_zero_byte",
            "The valid signature with a zero byte appended.",
            [&sig[..], &[0u8][..]].concat(),
        ),
        (
            "sig_doubled",
            "The valid signature twice.",
            [&sig[..], &sig[..]].concat(),
        ),
        ("sig_single_byte", "A one-byte signature.", vec![1]),
        (
            "sig_bit_flip",
            "The valid signature with its last bit flipped.",
            {
                let mut s = sig.clone();
                s[len - 1] ^= 1;
                s
            },
        ),
    ];
    for (name, about, bytes) in tampered {
        c.case(
            name,
            about,
            "main",
            "default",
            NOW,
            resign_with(&valid, &bytes),
            "bad_signature",
        );
    }
    // s + n is the same value mod n; a verifier that reduces instead of refusing s >= n
    // accepts it. It fits in the modulus length only when s < 2^(8k) - n: vary a claim
    // until the honest signature is that small.
    let limit = (BigUint::from(1u32) << (8 * len)) - &n;
    let (small, small_sig) = (0..)
        .map(|i| {
            let t = main_token(k, &super::payload(&[("nonce", Some(&i.to_string()))]));
            let s = sig_of(&t);
            (t, s)
        })
        .find(|(_, s)| BigUint::from_bytes_be(s) < limit)
        .expect("some signature is small enough");
    let plus_n = value(&(BigUint::from_bytes_be(&small_sig) + &n));
    assert_eq!(plus_n.len(), len);
    c.case(
        "sig_plus_n",
        "A valid signature plus n (same value mod n, still 256 bytes): s >= n is refused.",
        "main",
        "default",
        NOW,
        resign_with(&small, &plus_n),
        "bad_signature",
    );
    c.case(
        "sig_plus_n_original_ok",
        "The honest signature that sig_plus_n malleates.",
        "main",
        "default",
        NOW,
        small,
        "ok",
    );
    c.case(
        "sig_wrong_key",
        "Signed by another 2048-bit key, kid main.",
        "main",
        "default",
        NOW,
        sign::token(&k.attacker, H_MAIN, &p),
        "bad_signature",
    );
    let other = main_token(k, &super::payload(&[("sub", Some("\"mallory\""))]));
    let spliced = format!("{}.{}.{}", seg(&valid, 0), seg(&valid, 1), seg(&other, 2));
    c.case(
        "sig_from_other_token",
        "The header and payload of one token with the signature of another.",
        "main",
        "default",
        NOW,
        spliced,
        "bad_signature",
    );
    let si = input(H_MAIN, &p);
    let rs384 = sign::sign(&k.main, Hash::S384, si.as_bytes());
    c.case(
        "sig_rs384_under_rs256",
        "Header says RS256, signature is RS384 over the same input.",
        "main",
        "rs_all",
        NOW,
        format!("{si}.{}", sign::b64(&rs384)),
        "bad_signature",
    );
    let with_space = format!(
        "{}.{}",
        sign::b64(br#"{"alg":"RS256", "kid":"main","typ":"JWT"}"#),
        seg(&valid, 1)
    );
    c.case(
        "sig_header_changed",
        "A header re-encoded with one extra space keeps the old signature.",
        "main",
        "default",
        NOW,
        format!("{with_space}.{}", seg(&valid, 2)),
        "bad_signature",
    );
    c.case(
        "sig_4096_against_2048",
        "A 512-byte signature by the 4096-bit key, naming kid main.",
        "main",
        "default",
        NOW,
        sign::token(&k.rsa4096, H_MAIN, &p),
        "bad_signature",
    );

    // Encoded messages a lax parser might accept, signed by the real key (raw RSA).
    let hash = Sha256::digest(si.as_bytes());
    let oid = &DIGEST_INFO_SHA256[4..15];
    let no_null = [&[0x30, 0x2f, 0x30, 0x0b][..], oid, &[0x04, 0x20], &hash].concat();
    let di = [&DIGEST_INFO_SHA256[..], &hash].concat();
    let long_form = [&[0x30, 0x81, 0x31][..], &DIGEST_INFO_SHA256[2..], &hash].concat();
    let mut type2 = vec![0x00, 0x02];
    type2.resize(len - di.len() - 1, 0x5a);
    type2.push(0x00);
    type2.extend_from_slice(&di);
    let mut lead01 = emsa_with_tail(len, &di);
    lead01[0] = 0x01;
    let mut inner_zero = emsa_with_tail(len, &di);
    inner_zero[10] = 0x00;
    let encodings: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "pkcs1_digestinfo_without_null",
            "DigestInfo without the NULL parameters (a different encoding).",
            emsa_with_tail(len, &no_null),
        ),
        (
            "pkcs1_digestinfo_long_form_length",
            "DigestInfo with a BER long-form length (30 81 31).",
            emsa_with_tail(len, &long_form),
        ),
        (
            "pkcs1_bare_digest",
            "The digest without any DigestInfo.",
            emsa_with_tail(len, &hash),
        ),
        (
            "pkcs1_garbage_after_digest",
            "The DigestInfo and digest followed by 16 garbage bytes (short padding).",
            emsa_with_tail(len, &[&di[..], &[0x42; 16]].concat()),
        ),
        (
            "pkcs1_block_type_2",
            "Block type 02 (encryption padding) around the right DigestInfo.",
            type2,
        ),
        (
            "pkcs1_leading_byte_01",
            "First byte 01 instead of 00.",
            lead01,
        ),
        (
            "pkcs1_zero_inside_padding",
            "A zero byte inside the FF padding (a lax parser stops there).",
            inner_zero,
        ),
        (
            "pkcs1_sha384_digestinfo",
            "A SHA-384 DigestInfo of the input under alg RS256.",
            emsa_with_tail(len, &sha384_di(si.as_bytes())),
        ),
    ];
    for (name, about, em) in encodings {
        c.case(
            name,
            about,
            "main",
            "default",
            NOW,
            format!("{si}.{}", sign::b64(&raw_sign(&k.main, &em))),
            "bad_signature",
        );
    }

    // e = 3: Bleichenbacher's 2006 forgery needs no private key. With garbage after the
    // digest, the cube root of `00 01 FF 00 DigestInfo digest 00..` is a valid
    // "signature" for any verifier that stops parsing after the digest.
    let h3 = r#"{"alg":"RS256","kid":"e3"}"#;
    let si3 = input(h3, &p);
    let hash3 = Sha256::digest(si3.as_bytes());
    let prefix = [&[0x00, 0x01, 0xff, 0x00][..], &DIGEST_INFO_SHA256, &hash3].concat();
    let k3 = k.e3.size();
    let target = BigUint::from_bytes_be(&[&prefix[..], &vec![0u8; k3 - prefix.len()]].concat());
    let mut root = target.cbrt();
    if &root * &root * &root < target {
        root += 1u32;
    }
    let cube = left_pad(&(&root * &root * &root).to_bytes_be(), k3);
    assert_eq!(
        &cube[..prefix.len()],
        &prefix[..],
        "forgery keeps the prefix"
    );
    c.case(
        "e3_bleichenbacher_forgery",
        "e = 3 key; a cube root whose cube is 00 01 FF 00 DigestInfo digest garbage (no private key used).",
        "e3",
        "default",
        NOW,
        format!("{si3}.{}", sign::b64(&left_pad(&root.to_bytes_be(), k3))),
        "bad_signature",
    );
    let di3 = [&DIGEST_INFO_SHA256[..], &hash3].concat();
    let e3_encodings: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "e3_garbage_after_digest",
            "e = 3 key signing 8 FF, then DigestInfo, digest and garbage.",
            {
                let mut em = vec![0x00, 0x01];
                em.extend_from_slice(&[0xff; 8]);
                em.push(0x00);
                em.extend_from_slice(&di3);
                em.resize(k3, 0x42);
                em
            },
        ),
        (
            "e3_digestinfo_garbage_parameters",
            "e = 3 key; garbage in the DigestInfo parameters instead of NULL.",
            {
                let tail = [
                    &[0x30, 0x35, 0x30, 0x11][..],
                    &DIGEST_INFO_SHA256[4..15],
                    &[0x04, 0x04, 0xde, 0xad, 0xbe, 0xef],
                    &[0x04, 0x20],
                    &hash3,
                ]
                .concat();
                emsa_with_tail(k3, &tail)
            },
        ),
        (
            "e3_long_form_length",
            "e = 3 key; DigestInfo with a BER long-form length.",
            emsa_with_tail(
                k3,
                &[&[0x30, 0x81, 0x31][..], &DIGEST_INFO_SHA256[2..], &hash3].concat(),
            ),
        ),
    ];
    for (name, about, em) in e3_encodings {
        c.case(
            name,
            about,
            "e3",
            "default",
            NOW,
            format!("{si3}.{}", sign::b64(&raw_sign(&k.e3, &em))),
            "bad_signature",
        );
    }
    let ordering = sign::token(&k.attacker, H_MAIN, &super::payload(&[("exp", Some("1"))]));
    c.case(
        "order_signature_before_claims",
        "Bad signature and expired: the signature is checked first.",
        "main",
        "default",
        NOW,
        ordering,
        "bad_signature",
    );
}

fn seg(token: &str, i: usize) -> String {
    token.split('.').nth(i).expect("segment").to_owned()
}

fn sha384_di(msg: &[u8]) -> Vec<u8> {
    // DER DigestInfo prefix for SHA-384 (RFC 8017 §9.2, note 1).
    let prefix = [
        0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
        0x05, 0x00, 0x04, 0x30,
    ];
    [&prefix[..], &sha2::Sha384::digest(msg)].concat()
}
