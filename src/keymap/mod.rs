//! The keymap as data: one table of (keys, where they apply, action, help line, status
//! hint). Key handling, the help overlay and the status line's hints all read it, so
//! what the screen says is what the keys do.

mod binding;
mod rebind;
mod table;

use crate::event::{Action, ScreenAction};
pub use binding::{ALT, Binding, CTRL, NONE, SHIFT, When, edit, key_label};
pub use rebind::{Rebinds, install, names, parse_key, scoped};
pub use table::KEYMAP;

/// Every binding in force (the built-in table, or as the config file rebound it), in
/// the order the help lists them.
pub fn keymap() -> &'static [Binding] {
    rebind::current()
}

/// The status line's hints, most useful first: `F1 help`, `Ctrl+C quit`, ...
pub fn hints() -> Vec<String> {
    let mut hints: Vec<&Binding> = keymap().iter().filter(|b| b.hint.0 > 0).collect();
    hints.sort_by_key(|b| b.hint.0);
    hints
        .iter()
        .map(|b| format!("{} {}", key_label(b.keys[0].0, b.keys[0].1), b.hint.1))
        .collect()
}

/// The first key bound to `action` on the main screen, as the help shows it (`Ctrl+N`);
/// for texts that tell the user which key to press.
pub fn key_for(action: &Action) -> String {
    key_in(When::Main, action)
}

/// The first key bound to `action` where `when` applies (bindings for everywhere
/// included), as the help shows it.
pub fn key_in(when: When, action: &Action) -> String {
    keymap()
        .iter()
        .find(|b| &b.action == action && (b.when == when || b.when == When::Always))
        .map(|b| key_label(b.keys[0].0, b.keys[0].1))
        .unwrap_or_default()
}

/// How the help names the keys of `action` on the main screen (`Alt+↑ Alt+↓`).
pub fn keys_for(action: &Action) -> String {
    keymap()
        .iter()
        .find(|b| &b.action == action && (b.when == When::Main || b.when == When::Always))
        .map(Binding::keys_label)
        .unwrap_or_default()
}

/// The key of a screen action on the main screen.
pub fn screen_key(action: ScreenAction) -> String {
    key_for(&Action::Screen(action))
}
