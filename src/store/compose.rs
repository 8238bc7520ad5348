//! The compose box: typing and pasting within its limit, recalling sent lines, Tab
//! completion.

use tui_input::InputRequest;

use super::log::flash;
use super::state::State;
use super::view::Focus;

/// The most text the compose box holds: what a brigade takes as one message (64 KiB;
/// classic peers get it in pieces of about 1 KiB).
pub const MAX_COMPOSE_BYTES: usize = 64 * 1024;

fn compose_full() -> String {
    format!(
        "the message is at its limit of {} KiB: send it, or shorten it",
        MAX_COMPOSE_BYTES / 1024
    )
}

/// A key edits the compose box (from any pane: typing always goes there).
pub(super) fn edit(state: &mut State, request: InputRequest) {
    let view = &mut state.view;
    view.focus = Focus::Compose;
    match request {
        // In a box of several lines, Ctrl+U takes the cursor's line, not all of them.
        InputRequest::DeleteLine if view.compose.value().contains('\n') => {
            view.compose = super::view::without_cursor_line(&view.compose);
        }
        InputRequest::InsertChar(c)
            if view.compose.value().len() + c.len_utf8() > MAX_COMPOSE_BYTES =>
        {
            flash(state, compose_full(), true);
        }
        request => {
            view.compose.handle(request);
        }
    }
}

/// A paste only fills the compose box; it is never sent by itself. Its line breaks
/// stay (each line goes as a message of its own), and it is taken whole or, past the
/// compose box's limit, not at all: never cut silently.
pub(super) fn paste(state: &mut State, text: &str) {
    let view = &mut state.view;
    view.focus = Focus::Compose;
    let text = crate::protocol::sanitize_text(text);
    if view.compose.value().len() + text.len() > MAX_COMPOSE_BYTES {
        let text = format!(
            "not pasted: {} KiB would pass the {} KiB a message may hold",
            (view.compose.value().len() + text.len()).div_ceil(1024),
            MAX_COMPOSE_BYTES / 1024
        );
        return flash(state, text, true);
    }
    // At the cursor, in one step: inserting a character at a time costs the length of
    // the box per character (seconds for a large paste).
    let value = view.compose.value();
    let cursor = view.compose.cursor();
    let at = value
        .char_indices()
        .nth(cursor)
        .map_or(value.len(), |(i, _)| i);
    let joined = format!("{}{text}{}", &value[..at], &value[at..]);
    let moved = cursor + text.chars().count();
    view.compose = tui_input::Input::new(joined).with_cursor(moved);
}

/// Up (`older`) or Down in the compose box: the sent lines, then back to the draft.
pub(super) fn recall(state: &mut State, older: bool) {
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

/// Tab: in the compose box, completes a slash command or the peer of `/msg` (by its
/// address, team or alias);
/// otherwise (or when nothing completes) moves the focus.
pub(super) fn complete_or_focus_next(state: &mut State) {
    let peers: Vec<crate::slash::PeerName> = state
        .listed()
        .filter(|(_, p)| p.key.reachable())
        .map(|(_, p)| crate::slash::PeerName {
            word: match p.key.team.as_str() {
                "" => p.key.addr().to_string(),
                team => format!("{}/{team}", p.key.addr()),
            },
            alias: p.alias.clone(),
        })
        .collect();
    let view = &mut state.view;
    let line = view.compose.value();
    match crate::slash::complete(line, &peers) {
        Some(line) if view.focus == Focus::Compose => view.compose = tui_input::Input::new(line),
        None if view.focus == Focus::Compose && line.starts_with('/') => {
            // Several fit and nothing more is common to them: say which, keep the focus.
            let fits = crate::slash::candidates(line, &peers);
            if fits.len() > 1 {
                let shown: Vec<&str> = fits.iter().take(6).map(String::as_str).collect();
                let more = if fits.len() > 6 { ", …" } else { "" };
                flash(state, format!("Tab: {}{more}", shown.join(", ")), false);
            } else {
                view.focus = view.focus.next();
            }
        }
        _ => view.focus = view.focus.next(),
    }
}
