//! A brigade's long-term public key (X25519) and the safety number people compare to
//! verify it. Plain data: the encrypted transport and discovery both speak in these.

use std::fmt;

use sha2::{Digest, Sha512};

/// A brigade's long-term X25519 public key: its identity, whatever its address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

/// Groups of digits in a safety number, and digits per group.
pub const SAFETY_GROUPS: usize = 12;
pub const SAFETY_GROUP_DIGITS: usize = 5;

impl PublicKey {
    /// From bytes; anything but 32 bytes is not a key.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(PublicKey)
    }

    /// Lowercase hex, 64 characters (how keys travel in text: invites, announcements).
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 hex digits (either case, surrounding whitespace ignored).
    pub fn parse_hex(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(PublicKey(out))
    }

    /// The safety number: 12 groups of 5 digits, read aloud to compare keys. Each group
    /// is 5 bytes of SHA-512("brigade safety number v1" || key) taken modulo 100 000.
    pub fn safety_number(&self) -> SafetyNumber {
        let digest = Sha512::new()
            .chain_update(b"brigade safety number v1")
            .chain_update(self.0)
            .finalize();
        let mut groups = [0u32; SAFETY_GROUPS];
        for (g, chunk) in groups.iter_mut().zip(digest.chunks(5)) {
            let v = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            *g = (v % 100_000) as u32;
        }
        SafetyNumber(groups)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.hex())
    }
}

/// The digits people compare: see [`PublicKey::safety_number`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SafetyNumber(pub [u32; SAFETY_GROUPS]);

impl SafetyNumber {
    /// Parses 60 digits, in groups or not: spaces, dashes and line breaks are ignored.
    pub fn parse(s: &str) -> Option<Self> {
        let digits: Vec<u32> = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_digit(10))
            .collect::<Option<_>>()?;
        if digits.len() != SAFETY_GROUPS * SAFETY_GROUP_DIGITS {
            return None;
        }
        let mut groups = [0u32; SAFETY_GROUPS];
        for (g, chunk) in groups.iter_mut().zip(digits.chunks(SAFETY_GROUP_DIGITS)) {
            *g = chunk.iter().fold(0, |acc, d| acc * 10 + d);
        }
        Some(SafetyNumber(groups))
    }
}

/// `12345 67890 ...`: twelve groups of five digits, zero-padded, space-separated.
impl fmt::Display for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, g) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{g:05}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        let key = PublicKey(std::array::from_fn(|i| i as u8 * 7));
        assert_eq!(PublicKey::parse_hex(&key.hex()), Some(key));
        assert_eq!(PublicKey::parse_hex(&key.hex().to_uppercase()), Some(key));
        assert_eq!(PublicKey::parse_hex(&key.hex()[1..]), None);
        assert_eq!(PublicKey::parse_hex(&"zz".repeat(32)), None);
        assert_eq!(PublicKey::parse_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn safety_number_is_twelve_groups_of_five_digits_and_parses_back() {
        let key = PublicKey([9; 32]);
        let text = key.safety_number().to_string();
        let groups: Vec<&str> = text.split(' ').collect();
        assert_eq!(groups.len(), 12);
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
        );
        assert_eq!(SafetyNumber::parse(&text), Some(key.safety_number()));
        assert_eq!(
            SafetyNumber::parse(&text.replace(' ', "-")),
            Some(key.safety_number())
        );
        assert_eq!(SafetyNumber::parse(&text[1..]), None);
        assert_ne!(PublicKey([8; 32]).safety_number(), key.safety_number());
    }
}
