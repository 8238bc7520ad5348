//! Screen actions: selection, focus, overlays, the compose box and its recall, the
//! new-recipient form, scrolling. Pure, like the rest of the store.

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};
use tui_input::InputRequest;

use super::log::{flash, select};
use super::outbox::{send_exit, send_to};
use super::peers::resolve_recipient;
use super::state::{Body, Direction, PeerId, State};
use super::view::{
    Focus, Form, Overlay, RECALL_LINES, ScreenAction, Scroll, SearchView, Selection, single_line,
};
use crate::event::{Action, Effect};
use crate::keymap::{keys_for, screen_key};
use crate::protocol::check_team_name;

pub(super) fn on_screen(
    state: &mut State,
    at: DateTime<Utc>,
    action: ScreenAction,
    fx: &mut Vec<Effect>,
) {
    state.view.flash = None;
    match std::mem::take(&mut state.view.overlay) {
        Overlay::Help => match action {
            ScreenAction::Close | ScreenAction::Submit | ScreenAction::OpenHelp => {}
            _ => state.view.overlay = Overlay::Help,
        },
        Overlay::NewRecipient(mut form) => {
            match action {
                ScreenAction::Edit(request) => form.edit(request),
                ScreenAction::Paste(text) => form.paste(&text),
                ScreenAction::Submit if form.on_last() => {
                    if let Err(form) = submit_new_recipient(state, at, form, fx) {
                        state.view.overlay = Overlay::NewRecipient(form);
                    }
                    return;
                }
                ScreenAction::Submit | ScreenAction::NextField => form.next(),
                ScreenAction::PrevField => form.prev(),
                ScreenAction::Close => return,
                _ => {}
            }
            state.view.overlay = Overlay::NewRecipient(form);
        }
        Overlay::Search(search) => on_search(state, search, action, fx),
        Overlay::None => on_main(state, at, action, fx),
    }
}

fn on_search(
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
                if jump_to(state, hit) {
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

/// Shows the conversation that holds this message, scrolled so it is at the bottom.
/// False when the message is not in the loaded log.
fn jump_to(state: &mut State, hit: &crate::event::Record) -> bool {
    let found = state.log.iter().rposition(|e| {
        e.at == hit.at
            && matches!(&e.body, Body::Message { peer, dir, text }
                if text == &hit.text
                    && state.peers[peer.0].key == hit.peer
                    && matches!(dir, Direction::Out { .. }) == hit.outgoing)
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
    state.view.focus = Focus::Log;
    true
}

fn on_main(state: &mut State, at: DateTime<Utc>, action: ScreenAction, fx: &mut Vec<Effect>) {
    let view = &mut state.view;
    match action {
        ScreenAction::Edit(request) => {
            view.compose.handle(request);
            view.focus = Focus::Compose;
        }
        ScreenAction::Paste(text) => {
            // A paste only fills the compose box; it is never sent by itself.
            for c in single_line(&text).chars() {
                view.compose.handle(InputRequest::InsertChar(c));
            }
            view.focus = Focus::Compose;
        }
        ScreenAction::Submit => match view.focus {
            Focus::Compose => send_compose(state, at, fx),
            Focus::Peers | Focus::Log => view.focus = Focus::Compose,
        },
        ScreenAction::NextField | ScreenAction::PrevField | ScreenAction::Close => {}
        ScreenAction::SelectNext => step_selection(state, 1),
        ScreenAction::SelectPrev => step_selection(state, -1),
        ScreenAction::Select(selection) => {
            select(state, selection);
            state.view.focus = Focus::Compose;
        }
        ScreenAction::FocusNext => view.focus = view.focus.next(),
        ScreenAction::FocusPrev => view.focus = view.focus.prev(),
        ScreenAction::Focus(focus) => view.focus = focus,
        ScreenAction::Scroll(by) => {
            let at_top = state.view.scroll + 1 >= state.view_len();
            scroll(state, by);
            // Past the oldest loaded message: ask for older ones.
            if at_top
                && matches!(by, Scroll::Up(_) | Scroll::Top)
                && !state.loading_older
                && let Some(before) = state.older_before
            {
                state.loading_older = true;
                fx.push(Effect::LoadOlder { before });
            }
        }
        ScreenAction::RecallOlder => recall(state, true),
        ScreenAction::RecallNewer => recall(state, false),
        ScreenAction::OpenHelp => view.overlay = Overlay::Help,
        ScreenAction::OpenSearch => view.overlay = Overlay::Search(SearchView::default()),
        ScreenAction::OpenNewRecipient => {
            view.overlay = Overlay::NewRecipient(Form::new_recipient())
        }
        ScreenAction::DisconnectSelected => match view.selection {
            // Removing the peer also moves the view back to "All peers".
            Selection::Peer(id) if state.peers[id.0].listed => send_exit(state, at, id, fx),
            _ => flash(
                state,
                format!(
                    "select a peer to disconnect ({} or click it)",
                    keys_for(&Action::Screen(ScreenAction::SelectPrev))
                ),
                true,
            ),
        },
        ScreenAction::TrustSelected | ScreenAction::VerifySelected => {
            let Selection::Peer(id) = view.selection else {
                let text = "select a peer first (its view shows its safety number)";
                return flash(state, text.into(), true);
            };
            let peer = state.peers[id.0].key.addr();
            if action == ScreenAction::TrustSelected {
                super::trust::trust(state, at, peer, None, fx)
            } else {
                super::trust::verify(state, at, peer, fx)
            }
        }
        ScreenAction::Suspend => fx.push(Effect::Suspend),
    }
}

fn step_selection(state: &mut State, step: isize) {
    let entries = state.selections();
    let here = entries
        .iter()
        .position(|s| *s == state.view.selection)
        .unwrap_or(0);
    let next = here.saturating_add_signed(step).min(entries.len() - 1);
    select(state, entries[next]);
}

fn scroll(state: &mut State, by: Scroll) {
    let max = state.view_len().saturating_sub(1);
    let view = &mut state.view;
    view.scroll = match by {
        Scroll::Up(n) => view.scroll.saturating_add(n).min(max),
        Scroll::Down(n) => view.scroll.saturating_sub(n),
        Scroll::Top => max,
        Scroll::Bottom => 0,
    };
    if view.scroll == 0 {
        view.new_below = 0;
    }
}

fn recall(state: &mut State, older: bool) {
    let view = &mut state.view;
    if view.sent.is_empty() {
        return;
    }
    let next = match (&view.recall, older) {
        (None, true) => Some(view.sent.len() - 1),
        (None, false) => return,
        (Some((i, _)), true) => Some(i.saturating_sub(1)),
        (Some((i, _)), false) if i + 1 < view.sent.len() => Some(i + 1),
        (Some(_), false) => None,
    };
    let draft = match view.recall.take() {
        Some((_, draft)) => draft,
        None => view.compose.value().to_string(),
    };
    let text = match next {
        Some(i) => {
            view.recall = Some((i, draft));
            view.sent[i].clone()
        }
        None => draft,
    };
    view.compose = tui_input::Input::new(text);
}

fn send_compose(state: &mut State, at: DateTime<Utc>, fx: &mut Vec<Effect>) {
    let text = state.view.compose.value().to_string();
    if text.trim().is_empty() {
        return;
    }
    let recipients: Vec<PeerId> = match state.view.selection {
        Selection::All => state
            .listed()
            .filter(|(_, p)| p.key.reachable())
            .map(|(id, _)| id)
            .collect(),
        Selection::Peer(id) if !state.peer(id).key.reachable() => {
            let who = state.peer(id).key.team_label().to_string();
            let text = format!(
                "{who} at {} gave no port to reply to; {} to write to its address",
                state.peer(id).key.ip,
                screen_key(ScreenAction::OpenNewRecipient)
            );
            return flash(state, text, true);
        }
        Selection::Peer(id) => vec![id],
    };
    if recipients.is_empty() {
        let text = format!(
            "no peers to send to yet: {} writes to a new one",
            screen_key(ScreenAction::OpenNewRecipient)
        );
        return flash(state, text, true);
    }
    send_to(state, at, &recipients, &text, fx);
    remember_sent(state, text);
}

fn remember_sent(state: &mut State, text: String) {
    let view = &mut state.view;
    if view.sent.last() != Some(&text) {
        view.sent.push(text);
        if view.sent.len() > RECALL_LINES {
            view.sent.remove(0);
        }
    }
    view.compose.reset();
    view.recall = None;
    view.scroll = 0;
    view.new_below = 0;
}

/// Checks the form; on success opens the conversation (and sends the message, if
/// one was written). On failure the form comes back with the error on its field.
fn submit_new_recipient(
    state: &mut State,
    at: DateTime<Utc>,
    mut form: Form,
    fx: &mut Vec<Effect>,
) -> Result<(), Form> {
    let ip: IpAddr = match form.fields[0].value().parse() {
        Ok(ip) => ip,
        Err(_) => {
            form.fail(0, "not an IP address: write it like 10.213.8.143".into());
            return Err(form);
        }
    };
    let port = match form.fields[1].value().parse::<u16>() {
        Ok(p) if p > 0 => p,
        _ => {
            form.fail(1, "a port is a number from 1 to 65535".into());
            return Err(form);
        }
    };
    let team = form.fields[2].value().to_string();
    if !team.is_empty()
        && let Err(e) = check_team_name(&team)
    {
        form.fail(2, e);
        return Err(form);
    }
    let team = (!team.is_empty()).then_some(team);
    let id = match resolve_recipient(state, SocketAddr::new(ip, port), team) {
        Ok(id) => id,
        Err(e) => {
            form.fail(0, e);
            return Err(form);
        }
    };
    state.peers[id.0].listed = true;
    select(state, Selection::Peer(id));
    state.view.focus = Focus::Compose;
    let text = form.fields[3].input.value().to_string();
    if !text.trim().is_empty() {
        send_to(state, at, &[id], &text, fx);
        remember_sent(state, text);
    }
    Ok(())
}
