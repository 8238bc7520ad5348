//! Writing to the log and the status line's flash, and which conversation is shown.

use chrono::{DateTime, Utc};

use super::state::{Body, LogEntry, PeerId, State};
use super::view::{Flash, Selection};
use crate::event::{Effect, Notice};

/// Appends to the log. A view scrolled up stays where it is (the new entry is one
/// more below it) and counts new messages for the "N new" marker.
pub(super) fn push_entry(state: &mut State, entry: LogEntry) {
    let index = state.log.len();
    let peer = entry.peer();
    if let Some(p) = peer {
        state.peer_log[p.0].push(index);
    }
    if state.on_screen(peer) && !state.view.following() {
        state.view.scroll += 1;
        if matches!(entry.body, Body::Message { .. }) {
            state.view.new_below += 1;
        }
    }
    state.log.push(entry);
}

/// Shows a short line in the status bar until the next key.
pub(super) fn flash(state: &mut State, text: String, error: bool) {
    state.view.flash = Some(Flash { text, error });
}

pub(super) fn system(
    state: &mut State,
    at: DateTime<Utc>,
    peer: Option<PeerId>,
    text: String,
    error: bool,
) {
    push_entry(
        state,
        LogEntry {
            at,
            body: Body::System { peer, text, error },
        },
    );
}

pub(super) fn info(state: &mut State, at: DateTime<Utc>, text: &str, fx: &mut Vec<Effect>) {
    system(state, at, None, text.to_string(), false);
    fx.push(Effect::Notify(Notice::Info {
        text: text.to_string(),
    }));
}

pub(super) fn error(state: &mut State, at: DateTime<Utc>, text: String, fx: &mut Vec<Effect>) {
    system(state, at, None, text.clone(), true);
    flash(state, text.clone(), true);
    fx.push(Effect::Notify(Notice::Error { text }));
}

/// Shows a conversation: its unread count is cleared and the log follows it.
pub(super) fn select(state: &mut State, selection: Selection) {
    let selection = match selection {
        Selection::Peer(id) if id.0 < state.peers.len() && state.peer(id).listed => selection,
        _ => Selection::All,
    };
    let unread = match selection {
        Selection::Peer(id) => std::mem::take(&mut state.peers[id.0].unread),
        Selection::All => 0,
    };
    if state.view.selection != selection {
        state.switch_conversation(selection, unread);
    }
}
