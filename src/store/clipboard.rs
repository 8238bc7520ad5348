//! Copying a message to the terminal's clipboard (Alt+W, OSC 52 in the front end).

use super::log::flash;
use super::state::{Body, State};
use crate::event::Effect;

/// Alt+W: the newest message at the bottom of the log pane (the newest of the
/// conversation unless scrolled up) goes to the clipboard.
pub(super) fn copy_message(state: &mut State, fx: &mut Vec<Effect>) {
    let total = state.view_len();
    let bottom = total.saturating_sub(state.view.scroll);
    let text = (0..bottom)
        .rev()
        .find_map(|i| match &state.view_entry(i).body {
            Body::Message { text, .. } => Some(text.clone()),
            Body::System { .. } => None,
        });
    match text {
        Some(text) => {
            let line = format!("copied {} characters", text.chars().count());
            fx.push(Effect::Copy(text));
            flash(state, line, false);
        }
        None => flash(state, "no message here to copy".into(), true),
    }
}
