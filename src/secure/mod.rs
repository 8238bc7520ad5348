//! End-to-end encryption between brigades: the long-term identity key ([`identity`]),
//! the length-prefixed framing ([`frame`]) and the Noise channel ([`channel`]). The wire
//! format is in docs/PROTOCOL.md ("Encrypted connections"). Nothing here knows of the
//! store or the UI; `net` routes connections here.

pub mod channel;
pub mod frame;
pub mod identity;
pub mod invariants;

pub use channel::{Channel, HANDSHAKE_DEADLINE, MAGIC, PREAMBLE_LEN, accept, connect};
pub use frame::{FrameError, Framer, MAX_FRAME};
pub use identity::{Keypair, load_or_create, load_or_create_in};
