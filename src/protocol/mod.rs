//! The classic wire protocol as pure functions over bytes (see PROTOCOL.md).

pub mod inbound;
pub mod invariants;
pub mod outbound;
pub mod sanitize;

pub use inbound::{Header, Inbound, Parsed, cut_messages, parse_message};
pub use outbound::{
    CONNECT_TEXT, EXIT_TEXT, MAX_TEAM_BYTES, MAX_WIRE_BYTES, check_team_name, header, is_exit,
    split_for_wire,
};
pub use sanitize::{preview, sanitize_text, sanitize_token};
