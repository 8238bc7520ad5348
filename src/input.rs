//! What a terminal event means: (key or mouse event, context) -> `Action`, keys looked
//! up in the one table of `crate::keymap`.

use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};
use ratatui::layout::Rect;
use tui_input::InputRequest;

use crate::event::Action;
pub use crate::keymap::{ALT, CTRL, NONE, SHIFT, edit};
pub use crate::keymap::{Binding, When, key_label, keymap};
pub use crate::store::PAGE;
use crate::store::{Focus, Overlay, ScreenAction, Scroll, State};
use crate::ui::layout::{Hit, hit};
use KeyCode::*;
use When::*;

/// Lines one wheel notch scrolls.
pub const WHEEL: usize = 3;

/// What a terminal event means in the current state. `area` is the whole screen,
/// for mouse hit-testing through the same layout as drawing.
pub fn action_for(event: &TermEvent, state: &State, area: Rect) -> Option<Action> {
    match event {
        TermEvent::Key(key) => key_action(key, state),
        TermEvent::Mouse(mouse) => mouse_action(mouse, state, area),
        TermEvent::Paste(text) => Some(Action::Screen(ScreenAction::Paste(text.clone()))),
        _ => None,
    }
}

/// Where the keyboard is: what decides which bindings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Main(Focus),
    Form,
    Help,
    /// Going through a search's hits (the query box put away).
    Search,
}

impl Context {
    pub fn of(state: &State) -> Context {
        match state.view.overlay {
            Overlay::None => Context::Main(state.view.focus),
            Overlay::Help | Overlay::Doctor(_) => Context::Help,
            Overlay::Search(ref search) if search.browsing => Context::Search,
            Overlay::NewRecipient(_)
            | Overlay::Search(_)
            | Overlay::Confirm(_)
            | Overlay::ConfirmTrust(_)
            | Overlay::ConfirmQuit { .. }
            | Overlay::Forget(_) => Context::Form,
        }
    }

    fn applies(self, when: When) -> bool {
        match (self, when) {
            (_, Always) => true,
            (Context::Main(_), Main | Editing) => true,
            (Context::Main(focus), Focused(f)) => focus == f,
            (Context::Form, Form | Editing) => true,
            (Context::Help, Help) => true,
            (Context::Search, Search) => true,
            _ => false,
        }
    }
}

pub fn key_action(key: &KeyEvent, state: &State) -> Option<Action> {
    key_action_in(key, Context::of(state))
}

/// What a key means in a context (also used by the start-up form, before any state).
pub fn key_action_in(key: &KeyEvent, context: Context) -> Option<Action> {
    // Windows consoles report every key twice, Press then Release (crossterm >= 0.26,
    // crossterm-rs/crossterm#797); unix terminals report Release only under the kitty
    // protocol, which brigade does not enable. A held key arrives as repeated Press on
    // Windows (or Repeat under kitty) and should repeat, so only Release is dropped.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let matches = |&(code, mods): &(KeyCode, KeyModifiers)| {
        let code_matches = match (code, key.code) {
            (Char(a), Char(b)) => a.eq_ignore_ascii_case(&b),
            (a, b) => a == b,
        };
        code_matches && key.modifiers == mods
    };
    if let Some(b) = keymap()
        .iter()
        .find(|b| context.applies(b.when) && b.keys.iter().any(matches))
    {
        return Some(b.action.clone());
    }
    // Printable characters go to the compose box (or the open form's field).
    let printable = key.modifiers.difference(SHIFT).is_empty() || key.modifiers == CTRL | ALT;
    match key.code {
        Char(c) if printable && context.applies(Editing) => Some(edit(InputRequest::InsertChar(c))),
        _ => None,
    }
}

pub fn mouse_action(mouse: &MouseEvent, state: &State, area: Rect) -> Option<Action> {
    if !matches!(state.view.overlay, Overlay::None) {
        return None;
    }
    let target = hit(state, area, mouse.column, mouse.row);
    let action = match (mouse.kind, target) {
        (MouseEventKind::Down(MouseButton::Left), Hit::Peer(selection)) => {
            ScreenAction::Select(selection)
        }
        (MouseEventKind::Down(MouseButton::Left), Hit::SelectorPrev) => ScreenAction::SelectPrev,
        (MouseEventKind::Down(MouseButton::Left), Hit::SelectorNext) => ScreenAction::SelectNext,
        (MouseEventKind::Down(MouseButton::Left), Hit::Compose) => {
            ScreenAction::Focus(Focus::Compose)
        }
        (MouseEventKind::Down(MouseButton::Left), Hit::Log) => ScreenAction::Focus(Focus::Log),
        (MouseEventKind::ScrollUp, Hit::Log) => ScreenAction::Scroll(Scroll::Up(WHEEL)),
        (MouseEventKind::ScrollDown, Hit::Log) => ScreenAction::Scroll(Scroll::Down(WHEEL)),
        (MouseEventKind::ScrollUp, Hit::Peer(_)) => ScreenAction::SelectPrev,
        (MouseEventKind::ScrollDown, Hit::Peer(_)) => ScreenAction::SelectNext,
        _ => return None,
    };
    Some(Action::Screen(action))
}

#[cfg(test)]
mod tests;
