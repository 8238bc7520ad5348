//! Tags before an incoming message's text, in words so that they read without colour.

use super::theme::Theme;
use crate::store::Direction;

/// Before a message that came in plaintext from a peer whose key is pinned (issue 16:
/// never a silent downgrade).
pub(super) const UNSEALED: &str = "plaintext! ";

/// Before an incoming message's text: `plaintext!` (in the error style) when it came
/// unencrypted from a pinned peer, `(as IP)` when the sender claimed another address.
pub(super) fn message_prefix(dir: &Direction, theme: Theme) -> (String, ratatui::style::Style) {
    let Direction::In {
        claimed_ip,
        unsealed,
    } = dir
    else {
        return (String::new(), theme.dim());
    };
    let claimed = claimed_ip
        .map(|ip| format!("(as {ip}) "))
        .unwrap_or_default();
    match unsealed {
        true => (format!("{UNSEALED}{claimed}"), theme.error()),
        false => (claimed, theme.dim()),
    }
}
