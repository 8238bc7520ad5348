//! Discovery hints: a brigade announced itself (or an invite named it). A hint is never
//! proof of who a peer is; only the encrypted handshake proves that.

use std::net::SocketAddr;

/// PROVISIONAL (issue 16, discovery helper): a brigade's long-term X25519 public key as
/// announced. The identity helper defines the real key type in `event`; at the merge,
/// this type is replaced by theirs and `Hint::key` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnnouncedKey(pub [u8; 32]);

impl AnnouncedKey {
    /// Lower-case hex, 64 characters (the form in TXT records, beacons and invites).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(key))
    }
}

/// How a peer became known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Via {
    /// Typed by the user, given by a flag, or a sender we heard from.
    #[default]
    Manual,
    /// An mDNS/DNS-SD announcement (`_brigade._tcp.local.`).
    Mdns,
    /// A UDP broadcast beacon.
    Beacon,
    /// An invite (`brigade://...`), given with `--peer` or in the new-recipient form.
    Invite,
}

impl Via {
    /// The headless `via` value.
    pub fn label(self) -> &'static str {
        match self {
            Via::Manual => "manual",
            Via::Mdns => "mdns",
            Via::Beacon => "beacon",
            Via::Invite => "invite",
        }
    }

    /// Whether the peer was found without anyone typing its address.
    pub fn discovered(self) -> bool {
        matches!(self, Via::Mdns | Via::Beacon)
    }
}

/// A brigade that announced itself, or that an invite names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// Where it listens (for mDNS and beacons: the announcement's source address and
    /// announced port).
    pub addr: SocketAddr,
    pub team: String,
    /// The key it announced, when it announced one (pinned by the trust code).
    pub key: Option<AnnouncedKey>,
    pub via: Via,
}
