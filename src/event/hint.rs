//! Discovery hints: a brigade announced itself (or an invite named it). A hint is never
//! proof of who a peer is; only the encrypted handshake proves that.

use std::net::SocketAddr;

use super::PublicKey;

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
    pub key: Option<PublicKey>,
    pub via: Via,
}
