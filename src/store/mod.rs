//! The app-state store: [`State`] and the pure [`update`] function. No I/O, no clock.

mod state;
mod update;

#[cfg(test)]
mod tests;

pub use state::{Body, Direction, LogEntry, MAX_PEERS, Me, Peer, PeerId, PeerStatus, State};
pub use update::update;
