//! The search overlay: typing a query, its hits, and jumping to the one chosen.

use chrono::{DateTime, Utc};
use tui_input::InputRequest;

use super::log::{flash, select};
use super::state::{Body, Direction, State};
use super::view::{Focus, Overlay, ScreenAction, SearchView, Selection, single_line};
use crate::event::Effect;

pub(super) fn on_search(
    state: &mut State,
    mut search: SearchView,
    action: ScreenAction,
    fx: &mut Vec<Effect>,
) {
    match action {
        ScreenAction::Edit(request) => {
            search.input.handle(request);
            let query = search.input.value().trim().to_string();
            if query.is_empty() {
                search.hits.clear();
                search.answered.clear();
            } else {
                fx.push(Effect::Search { query });
            }
        }
        ScreenAction::Paste(text) => {
            for c in single_line(&text).chars() {
                search.input.handle(InputRequest::InsertChar(c));
            }
            fx.push(Effect::Search {
                query: search.input.value().trim().to_string(),
            });
        }
        ScreenAction::NextField | ScreenAction::SelectNext => {
            search.selected = (search.selected + 1).min(search.hits.len().saturating_sub(1));
        }
        ScreenAction::PrevField | ScreenAction::SelectPrev => {
            search.selected = search.selected.saturating_sub(1);
        }
        ScreenAction::Submit => {
            if let Some(hit) = search.hits.get(search.selected) {
                if jump_to(state, hit, &search.answered) {
                    return; // the overlay closes on the hit
                }
                flash(
                    state,
                    "that message is older than the loaded history: scroll up to load more".into(),
                    false,
                );
            }
        }
        ScreenAction::Close => return,
        _ => {}
    }
    state.view.overlay = Overlay::Search(search);
}

/// Hits for the query on screen; answers to an older query are ignored.
pub(super) fn search_results(state: &mut State, query: String, hits: Vec<crate::event::Record>) {
    if let Overlay::Search(search) = &mut state.view.overlay
        && search.input.value().trim() == query
    {
        search.answered = query;
        search.hits = hits;
        search.selected = 0;
    }
}

/// Shows the conversation that holds this message, scrolled so it is at the bottom,
/// with the query highlighted in it. Outgoing messages are matched by their id; the
/// others by peer, text and time to the millisecond (the history keeps whole
/// milliseconds, the log full precision). False when the message is not in the log.
fn jump_to(state: &mut State, hit: &crate::event::Record, query: &str) -> bool {
    let millis = |at: DateTime<Utc>| at.timestamp_millis();
    let found = state.log.iter().rposition(|e| match &e.body {
        Body::Message {
            dir: Direction::Out { id, .. },
            ..
        } => hit.outgoing && hit.msg_id == Some(*id),
        Body::Message { peer, text, .. } => {
            !hit.outgoing
                && millis(e.at) == millis(hit.at)
                && text == &hit.text
                && state.peers[peer.0].key == hit.peer
        }
        Body::System { .. } => false,
    });
    let Some(index) = found else {
        return false;
    };
    let peer = state.log[index].peer();
    match peer {
        Some(p) if state.peers[p.0].listed => select(state, Selection::Peer(p)),
        _ => select(state, Selection::All),
    }
    let position = match state.view.selection {
        Selection::All => index,
        Selection::Peer(p) => state.peer_log[p.0]
            .iter()
            .position(|&i| i == index)
            .unwrap_or(0),
    };
    state.view.scroll = state.view_len() - 1 - position;
    state.view.scroll_lines = 0;
    state.view.at_top = false;
    state.view.found = Some((index, query.to_string()));
    state.view.focus = Focus::Log;
    true
}
