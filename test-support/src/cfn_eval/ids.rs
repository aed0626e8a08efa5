//! Derived ids and encodings: what AWS would generate (a name's suffix, a RoleId, a UUID), derived
//! from the stack and logical id so that every run gives the same, and `Fn::Base64`'s encoding.

pub(super) const UPPER_ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
pub(super) const HEX: &[u8] = b"0123456789abcdef";

/// `len` characters of `alphabet` derived from `parts` (FNV-1a, 8 characters per hash): the same
/// parts always give the same token.
pub(super) fn token(parts: &[&str], alphabet: &[u8], len: usize) -> String {
    let base = alphabet.len() as u64;
    let mut state = 0;
    let mut out = String::with_capacity(len);
    for position in 0..len {
        if position % 8 == 0 {
            let round = position.to_string();
            let round = round.as_str();
            let bytes = parts
                .iter()
                .chain([&round])
                .flat_map(|part| part.bytes().chain([0]));
            state = bytes.fold(0xcbf2_9ce4_8422_2325, |hash: u64, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        }
        out.push(char::from(alphabet[(state % base) as usize]));
        state /= base;
    }
    out
}

/// A UUID-shaped id derived from `parts`.
pub(super) fn uuid(parts: &[&str]) -> String {
    let hex = token(parts, HEX, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Standard base64 with padding, as `Fn::Base64` encodes.
pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |index: usize| u32::from(chunk.get(index).copied().unwrap_or(0));
        let triple = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for position in 0..4 {
            let sextet = (triple >> (18 - 6 * position)) & 0x3f;
            out.push(if position <= chunk.len() {
                char::from(ALPHABET[sextet as usize])
            } else {
                '='
            });
        }
    }
    out
}
