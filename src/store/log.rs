//! Writing to the log and the status line's flash, and which conversation is shown.

use chrono::{DateTime, Utc};

use super::state::{Body, Direction, LOG_WINDOW, LOG_WINDOW_BYTES, LogEntry, PeerId, State};
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
    state.log_bytes += entry.weight();
    state.log.push(entry);
    trim(state);
}

/// Keeps the log a window: past [`LOG_WINDOW`] entries or [`LOG_WINDOW_BYTES`] (twice
/// that while scrolled up), the oldest leave memory down to three quarters of it (so
/// the indices are rebuilt once per quarter window), undelivered messages excepted.
/// They stay in the history: `older_before` makes scrolling up page them in again.
pub(super) fn trim(state: &mut State) {
    let slack = if state.view.scroll > 0 { 2 } else { 1 };
    if state.log.len() <= LOG_WINDOW * slack && state.log_bytes <= LOG_WINDOW_BYTES * slack {
        return;
    }
    let (mut n, mut bytes) = (0, 0);
    let mut cut = state.log.len();
    while cut > 0 {
        let w = state.log[cut - 1].weight();
        if n + 1 > LOG_WINDOW * 3 / 4 || (n > 0 && bytes + w > LOG_WINDOW_BYTES * 3 / 4) {
            break;
        }
        (n, bytes) = (n + 1, bytes + w);
        cut -= 1;
    }
    if cut == 0 {
        return;
    }
    let boundary = state.log[cut].at;
    let log = std::mem::take(&mut state.log);
    state.log = log
        .into_iter()
        .enumerate()
        .filter(|(i, e)| *i >= cut || undelivered(e))
        .map(|(_, e)| e)
        .collect();
    state.older_before = Some(match state.older_before {
        Some(b) => b.max(boundary),
        None => boundary,
    });
    reindex(state);
}

fn undelivered(e: &LogEntry) -> bool {
    matches!(&e.body, Body::Message { dir: Direction::Out { delivery, .. }, .. } if !delivery.is_final())
}

/// Rebuilds every index into the log (per peer, outgoing, failed) after entries were
/// added before others or removed.
pub(super) fn reindex(state: &mut State) {
    for list in &mut state.peer_log {
        list.clear();
    }
    state.outgoing.clear();
    state.failed.clear();
    state.log_bytes = state.log.iter().map(LogEntry::weight).sum();
    for (i, e) in state.log.iter().enumerate() {
        if let Some(p) = e.peer() {
            state.peer_log[p.0].push(i);
        }
        if let Body::Message {
            dir: Direction::Out { id, delivery },
            ..
        } = &e.body
        {
            state.outgoing.insert(*id, i);
            // A forgotten peer's failed messages are not retried (see `notes::forget`);
            // held ones are found by trust, Ctrl+R and Ctrl+X like failed ones.
            if matches!(delivery, crate::event::Delivery::Failed { reason } if reason != super::state::FORGOTTEN)
                || matches!(delivery, crate::event::Delivery::Held { .. })
            {
                state.failed.insert(*id, i);
            }
        }
    }
    state.view.scroll = state.view.scroll.min(state.view_len());
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
