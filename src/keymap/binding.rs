//! One binding of the keymap and the helpers the table is written with.

use KeyCode::*;
use crossterm::event::{KeyCode, KeyModifiers};
use tui_input::InputRequest;

use crate::event::screen::Focus;
use crate::event::{Action, ScreenAction};

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
    /// The help overlay is open (it scrolls).
    Help,
    /// Going through a search's hits in their conversations (after Enter).
    Search,
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
    /// Its place among the status line's hints (1 first; 0: not a hint) and the word
    /// after the key there.
    pub hint: (u8, &'static str),
}

pub const NONE: KeyModifiers = KeyModifiers::NONE;
pub const CTRL: KeyModifiers = KeyModifiers::CONTROL;
pub const ALT: KeyModifiers = KeyModifiers::ALT;
pub const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

pub const fn screen(a: ScreenAction) -> Action {
    Action::Screen(a)
}

pub const fn edit(r: InputRequest) -> Action {
    Action::Screen(ScreenAction::Edit(r))
}

pub const fn bind(
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
        hint: (0, ""),
    }
}

/// A binding with no line of its own in the help: it is told by the row above it (the
/// other keys of a scroll, the reverse of a step).
pub const fn also(keys: &'static [(KeyCode, KeyModifiers)], when: When, action: Action) -> Binding {
    bind(keys, when, action, "", "")
}

impl Binding {
    pub const fn labelled(mut self, label: &'static str) -> Binding {
        self.label = label;
        self
    }

    pub const fn hint(mut self, rank: u8, word: &'static str) -> Binding {
        self.hint = (rank, word);
        self
    }

    /// The keys as the help shows them.
    pub fn keys_label(&self) -> String {
        if !self.label.is_empty() {
            return self.label.to_string();
        }
        let mut keys: Vec<String> = self.keys.iter().map(|(c, m)| key_label(*c, *m)).collect();
        keys.dedup();
        keys.join(" ")
    }
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
