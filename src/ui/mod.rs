//! Pure functions of the state into a frame. One layout function decides where the
//! panes are; mouse hit-testing uses the same one.

mod compose;
mod confirm;
mod help;
pub mod layout;
mod log;
mod overlay;
mod peers;
pub mod residue;
mod reveal;
mod tags;
pub mod theme;
pub mod wrap;

use ratatui::Frame;

pub use theme::{Colour, Palette, Theme};

use crate::store::{Form, Overlay, ScreenAction, State};
use layout::{Screen, layout_of};

/// Draws the whole screen. `extra` is a short note for the status line (counts of
/// what the node refused), empty when there is nothing to say.
pub fn render(frame: &mut Frame, state: &State, theme: Theme, extra: &str) {
    let area = frame.area();
    let Screen::Panes(panes) = layout_of(state, area) else {
        overlay::render_too_small(frame, area, theme);
        return;
    };
    if let Some(list) = panes.peers {
        peers::render_list(frame, state, list, theme);
    }
    if let Some(selector) = panes.selector {
        peers::render_selector(frame, state, selector, theme);
    }
    log::render(frame, state, panes.log, theme);
    compose::render(frame, state, panes.compose, theme);
    if !compose::render_status(frame, state, panes.status, theme, extra) {
        compose::render_toast(frame, state, panes.compose, theme);
    }
    match &state.view.overlay {
        Overlay::None => {}
        Overlay::Help => {
            let scroll = state.view.help_scroll;
            help::render_help(frame, area, theme, scroll, state.me.key)
        }
        Overlay::Confirm(id) => confirm::render_confirm(frame, state, *id, area, theme),
        Overlay::ConfirmQuit { waiting, held } => {
            confirm::render_confirm_quit(frame, (*waiting, *held), area, theme)
        }
        Overlay::Search(search) if search.browsing => {
            overlay::render_search_bar(frame, search, panes.compose, theme)
        }
        Overlay::Forget(id) => confirm::render_forget(frame, state, *id, area, theme),
        Overlay::Doctor(doctor) => overlay::render_doctor(frame, area, theme, doctor),
        Overlay::ConfirmTrust(id) => confirm::render_confirm_trust(frame, state, *id, area, theme),
        Overlay::Search(search) => overlay::render_search(frame, search, state, area, theme),
        Overlay::NewRecipient(form) => overlay::render_form(
            frame,
            form,
            area,
            theme,
            &format!(
                "{}: next, send on the last · {}: move · {}: cancel",
                form_key(ScreenAction::Submit),
                form_key(ScreenAction::NextField),
                form_key(ScreenAction::Close)
            ),
        ),
    }
}

/// Where the log pane settles at this screen size: the front end hands it to the
/// store (`store::settle_scroll`) before drawing, so that scrolling by lines stops at
/// the oldest and the newest line. `None` when there is no log pane.
pub fn settle(state: &State, area: ratatui::layout::Rect) -> Option<crate::store::Settled> {
    let Screen::Panes(panes) = layout_of(state, area) else {
        return None;
    };
    let inner = panes.log.inner(ratatui::layout::Margin::new(1, 1));
    if inner.height == 0 || inner.width < 20 || state.view_len() == 0 {
        return None;
    }
    Some(log::place(state, inner, Theme::MONO).settled)
}

/// The first entry the peer list shows at this screen size, for the front end to keep
/// in `view.peer_top` (see [`layout::peer_first`]); `None` without a peer list.
/// Where the help's scrolling stops at `area` for the store's `help_scroll` (see
/// `overlay::help_first`); `None` when the help is not open.
pub fn settle_help(state: &State, area: ratatui::layout::Rect) -> Option<usize> {
    matches!(state.view.overlay, Overlay::Help)
        .then(|| help::help_first(area, state.view.help_scroll, state.me.key))
}

pub fn settle_peers(state: &State, area: ratatui::layout::Rect) -> Option<usize> {
    let Screen::Panes(panes) = layout_of(state, area) else {
        return None;
    };
    panes.peers.map(|list| layout::peer_first(state, list))
}

/// The key of a screen action in a form.
fn form_key(action: ScreenAction) -> String {
    crate::keymap::key_in(
        crate::keymap::When::Form,
        &crate::event::Action::Screen(action),
    )
}

/// The start-up form, alone on the screen (the original's two prompts).
pub fn render_startup(frame: &mut Frame, form: &Form, theme: Theme) {
    let area = frame.area();
    if area.width < layout::MIN_WIDTH || area.height < layout::MIN_HEIGHT {
        overlay::render_too_small(frame, area, theme);
        return;
    }
    overlay::render_form(
        frame,
        form,
        area,
        theme,
        &format!(
            "{}: next field, start on the last · {}: quit",
            form_key(ScreenAction::Submit),
            form_key(ScreenAction::Close)
        ),
    );
}
