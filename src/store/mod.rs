//! The app-state store: [`State`] and the pure [`update`] function. No I/O, no clock.

mod clipboard;
mod compose;
mod doctor;
mod drafts;
mod found;
mod inbox;
mod log;
mod notes;
mod outbox;
mod peers;
mod quit;
mod restore;
mod screen;
mod state;
pub mod trust;
mod update;
mod verify;
mod view;

#[cfg(test)]
mod bounds_tests;
#[cfg(test)]
mod compose_tests;
#[cfg(test)]
mod found_tests;
#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod notes_tests;
#[cfg(test)]
mod quit_tests;
#[cfg(test)]
mod screen_tests;
#[cfg(test)]
mod slash_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trust_tests;

pub use drafts::{keep_drafts, restore_drafts};
pub use notes::{FORGOTTEN, MAX_ALIAS, clean_alias, restore_notes};
pub use restore::{next_id, restore};
pub use screen::settle_scroll;
pub use state::{
    Body, Direction, ENTRY_OVERHEAD, LOG_WINDOW, LOG_WINDOW_BYTES, LogEntry, MAX_PEERS,
    MAX_PEERS_PER_IP, Me, Peer, PeerId, PeerStatus, State,
};
pub use update::update;
pub use view::{
    DoctorView, Field, Flash, Focus, Form, Overlay, PAGE, RECALL_LINES, ScreenAction, Scroll,
    SearchView, Selection, Settled, View, single_line,
};
