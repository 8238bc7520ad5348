//! Quitting: at once, or after asking and waiting for undelivered messages.

use super::log::flash;
use super::state::State;
use super::view::Overlay;
use crate::event::{Action, Effect};
use crate::keymap::key_for;

/// Ctrl+C, Ctrl+Q, /quit: quits at once when nothing is undelivered (or on a second
/// quit); otherwise asks first (the terminal front end: "N messages not delivered yet:
/// quit anyway?"), and once `confirmed` waits for the deliveries (the session's
/// `settle` adds its grace timer), saying so.
///
/// Messages held for a changed key count as not delivered for the question, but
/// nothing is waited for them: they go only once the user trusts the key.
pub(super) fn quit(state: &mut State, confirmed: bool, fx: &mut Vec<Effect>) {
    let waiting = state.undelivered();
    let unsent = waiting + state.held_count();
    let asking = matches!(state.view.overlay, Overlay::ConfirmQuit { .. });
    if unsent > 0 && state.view.ask_before_quit && !confirmed && !asking && !state.quitting {
        let held = unsent - waiting;
        state.view.overlay = Overlay::ConfirmQuit { waiting, held };
    } else if waiting == 0 || state.quitting {
        state.view.overlay = Overlay::None;
        state.quitting = true;
        fx.push(Effect::Quit);
    } else {
        // Quitting again while asked is the answer too.
        state.view.overlay = Overlay::None;
        state.quitting = true;
        flash(
            state,
            format!(
                "quitting once {waiting} message(s) are delivered; {} again quits now",
                key_for(&Action::Quit)
            ),
            false,
        );
    }
}
