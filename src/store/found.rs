//! The search overlay: typing a query, its hits, and jumping to the one chosen.

use chrono::{DateTime, Utc};
use tui_input::InputRequest;

use super::log::{flash, select};
use super::state::{Body, Direction, State};
use super::view::{Back, Focus, Overlay, ScreenAction, SearchView, Selection, single_line};
use crate::event::Effect;

pub(super) fn on_search(
    state: &mut State,
    mut search: SearchView,
    action: ScreenAction,
    fx: &mut Vec<Effect>,
) {
    match action {
        // Going through the hits: Enter stays where the hit is, Ctrl+F edits the query.
        ScreenAction::Submit if search.browsing => return,
        ScreenAction::OpenSearch => search.browsing = false,
        ScreenAction::Edit(_) | ScreenAction::Paste(_) if search.browsing => {}
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
        ScreenAction::NextField | ScreenAction::SelectNext if !search.hits.is_empty() => {
            search.selected = (search.selected + 1).min(search.hits.len() - 1);
            show(state, &mut search, fx);
        }
        ScreenAction::PrevField | ScreenAction::SelectPrev if !search.hits.is_empty() => {
            search.selected = search.selected.saturating_sub(1);
            show(state, &mut search, fx);
        }
        ScreenAction::Submit if !search.hits.is_empty() => {
            search.browsing = true;
            show(state, &mut search, fx);
        }
        ScreenAction::Close => return go_back(state, search.back),
        _ => {}
    }
    state.view.overlay = Overlay::Search(search);
}

/// Ctrl+F: an empty query, remembering where the view is for Esc.
pub(super) fn open(state: &mut State) {
    let back = Some(here(state));
    state.view.overlay = Overlay::Search(SearchView {
        back,
        ..SearchView::default()
    });
}

/// Where the view is now, for Esc to return to.
pub(super) fn here(state: &State) -> Back {
    let view = &state.view;
    Back {
        selection: view.selection,
        scroll: view.scroll,
        scroll_lines: view.scroll_lines,
        at_top: view.at_top,
        focus: view.focus,
        unread_from: view.unread_from,
        found: view.found.clone(),
    }
}

/// Esc: the conversation and the scroll position from before the search.
fn go_back(state: &mut State, back: Option<Back>) {
    let Some(back) = back else { return };
    select(state, back.selection);
    let most = state.view_len().saturating_sub(1);
    let view = &mut state.view;
    view.scroll = back.scroll.min(most);
    view.scroll_lines = back.scroll_lines;
    view.at_top = back.at_top;
    view.reveal = false;
    view.focus = back.focus;
    view.unread_from = back.unread_from;
    view.found = back.found;
}

/// Brings the chosen hit into view in its conversation. When it is older than the
/// loaded log, older history is loaded (page by page, see `resume`) and it is shown
/// once it is in.
fn show(state: &mut State, search: &mut SearchView, fx: &mut Vec<Effect>) {
    search.waiting = false;
    let Some(hit) = search.hits.get(search.selected) else {
        return;
    };
    if jump_to(state, hit, &search.answered) {
        return;
    }
    match state.older_before {
        Some(before) => {
            search.waiting = true;
            flash(
                state,
                "loading older history to show that message…".into(),
                false,
            );
            if !state.loading_older {
                state.loading_older = true;
                fx.push(Effect::LoadOlder { before });
            }
        }
        None => flash(
            state,
            "that message is not in the loaded history (its peer is not kept)".into(),
            true,
        ),
    }
}

/// Older history came in: a search waiting for its hit tries again (and asks for the
/// page before, until the hit is in or everything is loaded).
pub(super) fn resume(state: &mut State, fx: &mut Vec<Effect>) {
    let mut search = match std::mem::take(&mut state.view.overlay) {
        Overlay::Search(search) if search.waiting => search,
        other => {
            state.view.overlay = other;
            return;
        }
    };
    show(state, &mut search, fx);
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
        search.browsing = false;
        search.waiting = false;
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
    // The front end, which knows how the message wraps, shows its matched line.
    state.view.reveal = true;
    state.view.focus = Focus::Log;
    true
}
