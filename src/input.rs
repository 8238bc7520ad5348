//! The keymap as data: (key or mouse event, context) -> `Action`. The help overlay is
//! drawn from the same table, so what it says is what the keys do.

use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};
use ratatui::layout::Rect;
use tui_input::InputRequest;

use crate::event::Action;
use crate::store::{Focus, Overlay, PAGE, ScreenAction, Scroll, State};
use crate::ui::layout::{Hit, hit};

/// Log entries one wheel notch scrolls.
pub const WHEEL: usize = 3;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Everywhere, forms and overlays included.
    Always,
    /// The main screen (no form or overlay open).
    Main,
    /// The main screen with this pane focused.
    Focused(Focus),
    /// A form is open.
    Form,
    /// Editing text: the compose box or a form field.
    Editing,
}

/// One binding: its keys, where it applies, what it does, and its line in the help.
#[derive(Debug, Clone)]
pub struct Binding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    pub when: When,
    pub action: Action,
    /// Empty: not listed in the help.
    pub help: &'static str,
    /// The original menu's option this replaces, for the help.
    pub menu: &'static str,
    /// How the help names the keys, when not simply by the keys themselves (pairs).
    pub label: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const ALT: KeyModifiers = KeyModifiers::ALT;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

const fn screen(a: ScreenAction) -> Action {
    Action::Screen(a)
}

const fn edit(r: InputRequest) -> Action {
    Action::Screen(ScreenAction::Edit(r))
}

const fn bind(
    keys: &'static [(KeyCode, KeyModifiers)],
    when: When,
    action: Action,
    help: &'static str,
    menu: &'static str,
) -> Binding {
    Binding {
        keys,
        when,
        action,
        help,
        menu,
        label: "",
    }
}

impl Binding {
    const fn labelled(mut self, label: &'static str) -> Binding {
        self.label = label;
        self
    }
}

use KeyCode::*;
use When::*;

/// Every binding, in the order the help lists them.
pub fn keymap() -> &'static [Binding] {
    static KEYMAP: std::sync::OnceLock<Vec<Binding>> = std::sync::OnceLock::new();
    KEYMAP.get_or_init(|| {
        vec![
            bind(
                &[(Enter, NONE)],
                Main,
                screen(ScreenAction::Submit),
                "send to the selected peer (or to all)",
                "1",
            ),
            bind(
                &[(Char('n'), CTRL)],
                Main,
                screen(ScreenAction::OpenNewRecipient),
                "write to a new IP and port",
                "1",
            ),
            bind(
                &[(Char('k'), CTRL)],
                Main,
                Action::ConnectAll,
                "connect to every Active peer",
                "3",
            ),
            bind(
                &[(Char('d'), CTRL)],
                Main,
                screen(ScreenAction::DisconnectSelected),
                "disconnect the selected peer (sends exit)",
                "exit",
            ),
            bind(
                &[(Char('r'), CTRL)],
                Main,
                Action::Retry { id: None },
                "retry the failed messages on screen",
                "",
            ),
            bind(
                &[(Char('x'), CTRL)],
                Main,
                Action::Drop { id: None },
                "give up on the failed messages on screen",
                "",
            ),
            bind(
                &[(Char('f'), CTRL)],
                Main,
                screen(ScreenAction::OpenSearch),
                "search all history; Enter jumps to the hit",
                "",
            ),
            bind(
                &[(Char('c'), CTRL), (Char('q'), CTRL)],
                Always,
                Action::Quit,
                "quit (after pending deliveries; twice: now)",
                "0",
            ),
            bind(
                &[(F(1), NONE)],
                Always,
                screen(ScreenAction::OpenHelp),
                "this help",
                "",
            ),
            bind(
                &[(Esc, NONE)],
                Always,
                screen(ScreenAction::Close),
                "close a form or this help",
                "",
            ),
            bind(
                &[(Up, ALT)],
                Main,
                screen(ScreenAction::SelectPrev),
                "previous / next peer, from anywhere",
                "",
            )
            .labelled("Alt+↑ Alt+↓"),
            bind(
                &[(Down, ALT)],
                Main,
                screen(ScreenAction::SelectNext),
                "",
                "",
            ),
            bind(
                &[(Tab, NONE)],
                Main,
                screen(ScreenAction::FocusNext),
                "next / previous pane",
                "",
            )
            .labelled("Tab Shift+Tab"),
            bind(
                &[(BackTab, SHIFT), (BackTab, NONE)],
                Main,
                screen(ScreenAction::FocusPrev),
                "",
                "",
            ),
            bind(
                &[(Up, NONE)],
                Focused(Focus::Peers),
                screen(ScreenAction::SelectPrev),
                "peer list: choose; log: scroll",
                "",
            )
            .labelled("↑ ↓"),
            bind(
                &[(Down, NONE)],
                Focused(Focus::Peers),
                screen(ScreenAction::SelectNext),
                "",
                "",
            ),
            bind(
                &[(Up, NONE)],
                Focused(Focus::Log),
                screen(ScreenAction::Scroll(Scroll::Up(1))),
                "",
                "",
            ),
            bind(
                &[(Down, NONE)],
                Focused(Focus::Log),
                screen(ScreenAction::Scroll(Scroll::Down(1))),
                "",
                "",
            ),
            bind(
                &[(Up, NONE)],
                Focused(Focus::Compose),
                screen(ScreenAction::RecallOlder),
                "compose box: recall sent lines",
                "",
            )
            .labelled("↑ ↓"),
            bind(
                &[(Down, NONE)],
                Focused(Focus::Compose),
                screen(ScreenAction::RecallNewer),
                "",
                "",
            ),
            bind(
                &[(PageUp, NONE)],
                Main,
                screen(ScreenAction::Scroll(Scroll::Up(PAGE))),
                "scroll the log a page",
                "",
            )
            .labelled("PgUp PgDn"),
            bind(
                &[(PageDown, NONE)],
                Main,
                screen(ScreenAction::Scroll(Scroll::Down(PAGE))),
                "",
                "",
            ),
            bind(
                &[(Home, NONE)],
                Main,
                screen(ScreenAction::Scroll(Scroll::Top)),
                "oldest / newest message",
                "",
            )
            .labelled("Home End"),
            bind(
                &[(End, NONE)],
                Main,
                screen(ScreenAction::Scroll(Scroll::Bottom)),
                "",
                "",
            ),
            bind(
                &[(Char('z'), CTRL)],
                Main,
                screen(ScreenAction::Suspend),
                "suspend to the shell (fg resumes)",
                "",
            ),
            bind(
                &[(Enter, NONE)],
                Form,
                screen(ScreenAction::Submit),
                "form: next field; on the last, submit",
                "",
            ),
            bind(
                &[(Tab, NONE), (Down, NONE)],
                Form,
                screen(ScreenAction::NextField),
                "",
                "",
            ),
            bind(
                &[(BackTab, SHIFT), (BackTab, NONE), (Up, NONE)],
                Form,
                screen(ScreenAction::PrevField),
                "",
                "",
            ),
            bind(
                &[(Left, NONE)],
                Editing,
                edit(InputRequest::GoToPrevChar),
                "",
                "",
            ),
            bind(
                &[(Right, NONE)],
                Editing,
                edit(InputRequest::GoToNextChar),
                "",
                "",
            ),
            bind(
                &[(Left, CTRL), (Left, ALT), (Char('b'), ALT)],
                Editing,
                edit(InputRequest::GoToPrevWord),
                "",
                "",
            ),
            bind(
                &[(Right, CTRL), (Right, ALT), (Char('f'), ALT)],
                Editing,
                edit(InputRequest::GoToNextWord),
                "",
                "",
            ),
            bind(
                &[(Char('a'), CTRL)],
                Editing,
                edit(InputRequest::GoToStart),
                "start / end of the line being typed",
                "",
            )
            .labelled("Ctrl+A Ctrl+E"),
            bind(
                &[(Char('e'), CTRL)],
                Editing,
                edit(InputRequest::GoToEnd),
                "",
                "",
            ),
            bind(
                &[(Backspace, NONE), (Char('h'), CTRL)],
                Editing,
                edit(InputRequest::DeletePrevChar),
                "",
                "",
            ),
            bind(
                &[(Delete, NONE)],
                Editing,
                edit(InputRequest::DeleteNextChar),
                "",
                "",
            ),
            bind(
                &[(Char('w'), CTRL), (Backspace, ALT), (Backspace, CTRL)],
                Editing,
                edit(InputRequest::DeletePrevWord),
                "delete a word / the whole line",
                "",
            )
            .labelled("Ctrl+W Ctrl+U"),
            bind(
                &[(Char('u'), CTRL)],
                Editing,
                edit(InputRequest::DeleteLine),
                "",
                "",
            ),
        ]
    })
}

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
}

impl Context {
    pub fn of(state: &State) -> Context {
        match state.view.overlay {
            Overlay::None => Context::Main(state.view.focus),
            Overlay::Help => Context::Help,
            Overlay::NewRecipient(_) | Overlay::Search(_) => Context::Form,
        }
    }

    fn applies(self, when: When) -> bool {
        match (self, when) {
            (_, Always) => true,
            (Context::Main(_), Main | Editing) => true,
            (Context::Main(focus), Focused(f)) => focus == f,
            (Context::Form, Form | Editing) => true,
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

/// A key as the help shows it: `Ctrl+N`, `Alt+↑`, `F1`.
pub fn key_label(code: KeyCode, mods: KeyModifiers) -> String {
    let mut out = String::new();
    if mods.contains(CTRL) {
        out.push_str("Ctrl+");
    }
    if mods.contains(ALT) {
        out.push_str("Alt+");
    }
    let name = match code {
        Char(c) => c.to_ascii_uppercase().to_string(),
        F(n) => format!("F{n}"),
        Up => "↑".into(),
        Down => "↓".into(),
        Left => "←".into(),
        Right => "→".into(),
        PageUp => "PgUp".into(),
        PageDown => "PgDn".into(),
        BackTab => "Shift+Tab".into(),
        other => format!("{other:?}"),
    };
    out.push_str(&name);
    out
}

#[cfg(test)]
mod tests;
