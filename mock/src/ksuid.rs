//! KSUIDs: 20 bytes (4-byte big-endian timestamp in seconds since 2014-05-13T16:53:20Z,
//! then a 16-byte payload), written as 27 base62 characters (`0-9A-Za-z`).
//! Their string order is their time order.

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The KSUID epoch, in Unix seconds.
pub const EPOCH: i64 = 1_400_000_000;
/// Length of the string form.
pub const LEN: usize = 27;

/// Builds a KSUID from a Unix timestamp (seconds) and a payload.
pub fn new(unix_seconds: i64, payload: [u8; 16]) -> String {
    let ts = (unix_seconds - EPOCH).clamp(0, u32::MAX as i64) as u32;
    let mut bytes = [0u8; 20];
    bytes[..4].copy_from_slice(&ts.to_be_bytes());
    bytes[4..].copy_from_slice(&payload);
    encode(&bytes)
}

/// A payload that sorts by `seq` first and is otherwise a deterministic scramble of it.
pub fn payload(seq: u64) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&seq.to_be_bytes());
    // splitmix64 of the sequence number: looks random, stays deterministic.
    let mut z = seq.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    p[8..].copy_from_slice(&z.to_be_bytes());
    p
}

fn encode(bytes: &[u8; 20]) -> String {
    let mut num = *bytes;
    let mut out = [b'0'; LEN];
    let mut pos = LEN;
    loop {
        // Long division of `num` by 62.
        let mut rem: u32 = 0;
        let mut all_zero = true;
        for b in num.iter_mut() {
            let cur = (rem << 8) | *b as u32;
            *b = (cur / 62) as u8;
            rem = cur % 62;
            if *b != 0 {
                all_zero = false;
            }
        }
        pos -= 1;
        out[pos] = ALPHABET[rem as usize];
        if all_zero || pos == 0 {
            break;
        }
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// Decodes a KSUID string; `None` unless it is exactly 27 base62 characters
/// whose value fits in 20 bytes.
pub fn decode(s: &str) -> Option<[u8; 20]> {
    if s.len() != LEN {
        return None;
    }
    let mut num = [0u8; 20];
    for c in s.bytes() {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return None,
        } as u32;
        let mut carry = digit;
        for b in num.iter_mut().rev() {
            let cur = *b as u32 * 62 + carry;
            *b = (cur & 0xFF) as u8;
            carry = cur >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(num)
}

/// Whether `s` is a valid KSUID.
pub fn is_valid(s: &str) -> bool {
    decode(s).is_some()
}

/// The Unix timestamp (seconds) of a KSUID.
#[cfg(test)]
pub fn timestamp(s: &str) -> Option<i64> {
    let b = decode(s)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i64 + EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // The two extremes from the reference implementation.
        assert_eq!(encode(&[0u8; 20]), "000000000000000000000000000");
        assert_eq!(encode(&[0xFF; 20]), "aWgEPTl1tmebfsQzFP4bxwgy80V");
        assert!(is_valid("aWgEPTl1tmebfsQzFP4bxwgy80V"));
        assert!(!is_valid("aWgEPTl1tmebfsQzFP4bxwgy80W"));
        assert!(!is_valid("0ujssxh0cECutqzMgbtXSGnjor"));
        assert!(!is_valid("0ujssxh0cECutqzMgbtXSGnjor!"));
        assert!(is_valid("0ujssxh0cECutqzMgbtXSGnjorm"));
    }

    #[test]
    fn roundtrip_and_order() {
        let a = new(1_700_000_000, payload(1));
        let b = new(1_700_000_000, payload(2));
        let c = new(1_700_000_001, payload(0));
        assert!(a < b && b < c);
        assert_eq!(timestamp(&a), Some(1_700_000_000));
        assert_eq!(decode(&a).map(|d| encode(&d)), Some(a));
    }
}
