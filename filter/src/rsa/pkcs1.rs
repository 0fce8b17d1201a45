//! EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2), built whole so that verification
//! is a byte comparison: no ASN.1 parser, so no parser leniency to exploit.

use super::Hash;

/// DER `DigestInfo` headers (RFC 8017 §9.2 note 1): SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING }.
const SHA256_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
const SHA384_PREFIX: [u8; 19] = [
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0x04, 0x30,
];
const SHA512_PREFIX: [u8; 19] = [
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

impl Hash {
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Hash::Sha256 => &SHA256_PREFIX,
            Hash::Sha384 => &SHA384_PREFIX,
            Hash::Sha512 => &SHA512_PREFIX,
        }
    }

    pub(super) fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

/// Writes `00 01 FF..FF 00 || DigestInfo prefix || digest` filling all of `out`.
/// False when the digest has the wrong length for `hash` or `out` is too short
/// for the mandatory eight bytes of padding.
pub(super) fn encode(hash: Hash, digest: &[u8], out: &mut [u8]) -> bool {
    if digest.len() != hash.output_len() {
        return false;
    }
    let prefix = hash.digest_info_prefix();
    let t_len = prefix.len() + digest.len();
    let Some(ps_len) = out.len().checked_sub(t_len + 3) else {
        return false;
    };
    if ps_len < 8 {
        return false;
    }
    let (head, t) = out.split_at_mut(out.len() - t_len);
    let (t_prefix, t_digest) = t.split_at_mut(prefix.len());
    t_prefix.copy_from_slice(prefix);
    t_digest.copy_from_slice(digest);
    head.fill(0xff);
    if let [first, second, .., last] = head {
        *first = 0x00;
        *second = 0x01;
        *last = 0x00;
    }
    true
}
