//! Screen actions: selection, focus, overlays, the compose box and its recall, the
//! new-recipient form, scrolling (the search overlay is `found`). Pure, like the rest of the store.

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};
use tui_input::InputRequest;

use super::log::{flash, select};
use super::outbox::{send_exit, send_to};
use super::peers::resolve_recipient;
use super::state::{PeerId, State};
use super::view::{
    Focus, Form, Overlay, RECALL_LINES, ScreenAction, Scroll, Selection, Settled, View,
};
use crate::discovery::invite::Invite;
use crate::event::{Action, Effect};
use crate::keymap::{keys_for, screen_key};
use crate::protocol::check_team_name;
use crate::slash::{Command, Line, parse};

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
            ScreenAction::Scroll(by) => {
                // The drawing clamps it to the help's length at the window's size, and
                // the front end brings it back there (`ui::settle_help`); this bound is
                // for the narrowest window, where descriptions wrap to several lines.
                let most = 4 * (crate::keymap::keymap().len() + crate::slash::COMMANDS.len() + 5);
                let page = state.view.page;
                super::doctor::scroll_overlay(&mut state.view.help_scroll, by, page, most);
                state.view.overlay = Overlay::Help;
            }
            _ => state.view.overlay = Overlay::Help,
        },
        Overlay::Doctor(doctor) => super::doctor::on_doctor(state, doctor, action),
        Overlay::Confirm(id) => match action {
            ScreenAction::Submit | ScreenAction::Edit(InputRequest::InsertChar('y' | 'Y'))
                if state.peers[id.0].listed =>
            {
                send_exit(state, at, id, fx)
            }
            _ => {}
        },
        Overlay::ConfirmQuit { .. } => match action {
            ScreenAction::Submit | ScreenAction::Edit(InputRequest::InsertChar('y' | 'Y')) => {
                super::quit::quit(state, true, fx)
            }
            _ => {}
        },
        Overlay::Forget(id) => super::notes::on_forget(state, at, id, action, fx),
        Overlay::ConfirmTrust(id) => match action {
            ScreenAction::Submit | ScreenAction::Edit(InputRequest::InsertChar('y' | 'Y')) => {
                let peer = state.peers[id.0].key.addr();
                super::trust::trust(state, at, peer, None, fx)
            }
            _ => {}
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
        Overlay::Search(search) => super::found::on_search(state, search, action, fx),
        Overlay::None => on_main(state, at, action, fx),
    }
}

fn on_main(state: &mut State, at: DateTime<Utc>, action: ScreenAction, fx: &mut Vec<Effect>) {
    let view = &mut state.view;
    match action {
        ScreenAction::Edit(request) => super::compose::edit(state, request),
        ScreenAction::Paste(text) => super::compose::paste(state, &text),
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
        ScreenAction::FocusNext => super::compose::complete_or_focus_next(state),
        ScreenAction::FocusPrev => view.focus = view.focus.prev(),
        ScreenAction::Focus(focus) => view.focus = focus,
        ScreenAction::Scroll(by) => {
            let at_top = state.view.at_top;
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
        ScreenAction::RecallOlder => super::compose::recall(state, true),
        ScreenAction::RecallNewer => super::compose::recall(state, false),
        ScreenAction::OpenHelp => {
            view.help_scroll = 0;
            view.overlay = Overlay::Help;
        }
        ScreenAction::OpenSearch => super::found::open(state),
        ScreenAction::OpenNewRecipient => {
            view.overlay = Overlay::NewRecipient(Form::new_recipient())
        }
        ScreenAction::DisconnectSelected => match view.selection {
            // Removing the peer also moves the view back to "All peers".
            Selection::Peer(id) if state.peers[id.0].listed => view.overlay = Overlay::Confirm(id),
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
            if action == ScreenAction::TrustSelected {
                super::verify::ask_trust(state, at, id, fx)
            } else {
                super::verify::verify_peer(state, at, id, fx)
            }
        }
        ScreenAction::Suspend => fx.push(Effect::Suspend),
        ScreenAction::Repaint => {}
        ScreenAction::CopyMessage => super::clipboard::copy_message(state, fx),
        ScreenAction::OpenDoctor => fx.push(Effect::Doctor),
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

/// Scrolls by lines. The store does not know how tall entries are: it moves the line
/// offset and the front end settles it (`settle_scroll`) before the next frame.
fn scroll(state: &mut State, by: Scroll) {
    let max = state.view_len().saturating_sub(1);
    let view = &mut state.view;
    let lines = |n: usize| isize::try_from(n).unwrap_or(isize::MAX / 4);
    view.reveal = false;
    match by {
        Scroll::Up(n) if !view.at_top => view.scroll_lines += lines(n),
        Scroll::PageUp if !view.at_top => view.scroll_lines += lines(view.page),
        Scroll::Up(_) | Scroll::PageUp => {}
        Scroll::Down(n) => view.scroll_lines -= lines(n),
        Scroll::PageDown => view.scroll_lines -= lines(view.page),
        Scroll::Top => {
            view.scroll = max;
            view.scroll_lines = isize::MAX / 4;
        }
        Scroll::Bottom => (view.scroll, view.scroll_lines) = (0, 0),
    }
    if view.scroll == 0 && view.scroll_lines <= 0 {
        view.scroll_lines = 0;
        view.new_below = 0;
    }
}

/// The front end's measure of where the log really is: the offset within the bottom
/// entry, clamped at the oldest and the newest line, and the page height.
pub fn settle_scroll(state: &mut State, settled: Settled) {
    let view = &mut state.view;
    view.scroll = settled.scroll;
    view.scroll_lines = settled.scroll_lines;
    view.at_top = settled.at_top;
    view.page = settled.page.max(1);
    view.reveal = false;
    if view.following() {
        view.new_below = 0;
    }
}

/// The slash command the compose box holds, when Enter would run it (the store's
/// `update` runs it as the actions its key produces).
pub(super) fn typed_command(state: &State) -> Option<Command> {
    if !matches!(state.view.overlay, Overlay::None) || state.view.focus != Focus::Compose {
        return None;
    }
    match parse(state.view.compose.value()) {
        Ok(Line::Command(command)) => Some(command),
        Ok(Line::Text(_)) | Err(_) => None,
    }
}

/// `/msg`: lists and opens the peer at that address and sends the text, if any.
pub(super) fn msg(
    state: &mut State,
    at: DateTime<Utc>,
    (addr, team, text): (SocketAddr, Option<String>, String),
    fx: &mut Vec<Effect>,
) {
    let line = state.view.compose.value().to_string();
    match resolve_recipient(state, addr, team) {
        Ok(id) => {
            // The command ran: the box it was typed in empties before the view moves,
            // or it would stay behind as that conversation's draft.
            remember_sent(state, line);
            open_and_send(state, at, id, text, fx);
        }
        Err(e) => flash(state, format!("/msg: {e}"), true),
    }
}

fn send_compose(state: &mut State, at: DateTime<Utc>, fx: &mut Vec<Effect>) {
    let line = state.view.compose.value().to_string();
    if line.trim().is_empty() {
        return;
    }
    let text = match parse(&line) {
        Ok(Line::Text(text)) => text,
        // `update` ran it before the screen saw the Enter (see `typed_command`).
        Ok(Line::Command(_)) => return,
        Err(e) => return flash(state, e, true),
    };
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
    if send_to(state, at, &recipients, &text, fx) {
        remember_sent(state, line);
    }
}

/// A line was sent or a command ran: the recall keeps it, the compose box empties and
/// the log follows the newest line.
pub(super) fn remember_sent(state: &mut State, text: String) {
    let view = &mut state.view;
    remember(view, text);
    view.compose.reset();
    follow_newest(view);
}

/// Up in the compose box brings `text` back.
fn remember(view: &mut View, text: String) {
    if view.sent.last() != Some(&text) {
        view.sent.push(text);
        if view.sent.len() > RECALL_LINES {
            view.sent.remove(0);
        }
    }
    view.recall = None;
}

fn follow_newest(view: &mut View) {
    view.scroll = 0;
    view.scroll_lines = 0;
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
    // An invite pasted into the IP field names the address, port and team (issue 16).
    if Invite::looks_like(form.fields[0].value()) {
        match Invite::parse(form.fields[0].value()) {
            Ok(invite) => {
                let (addr, team) = (invite.addr(), invite.team.clone());
                super::trust::found(state, at, invite.hint(), fx);
                form.fields[0].input = addr.ip().to_string().into();
                form.fields[1].input = addr.port().to_string().into();
                form.fields[2].input = team.into();
            }
            Err(e) => {
                form.fail(0, e);
                return Err(form);
            }
        }
    }
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
    let text = form.fields[3].input.value().to_string();
    if open_and_send(state, at, id, text.clone(), fx) {
        remember(&mut state.view, text);
    }
    Ok(())
}

/// Lists and opens the peer a user wrote to by address, and sends `text` if any is
/// written; true when it was sent. The opened conversation keeps its own draft.
fn open_and_send(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    text: String,
    fx: &mut Vec<Effect>,
) -> bool {
    state.peers[id.0].listed = true;
    select(state, Selection::Peer(id));
    state.view.focus = Focus::Compose;
    let sent = !text.trim().is_empty() && send_to(state, at, &[id], &text, fx);
    if sent {
        follow_newest(&mut state.view);
    }
    sent
}
