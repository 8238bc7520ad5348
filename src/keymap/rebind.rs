//! Rebinding from the config file's `[keys]` table: action names for the table's rows,
//! key strings (`"ctrl+k"`, `"f2"`, `"alt+w"`), and the checks (unknown names and
//! keys, two actions on one key, a plain key that would only type) that turn a bad
//! table into a config error. The result is a keymap like the built-in one, which
//! `install` makes the one every key, hint and help line reads.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use KeyCode::*;
use crossterm::event::{KeyCode, KeyModifiers};
use serde::{Deserialize, Deserializer};
use tui_input::InputRequest;

use super::binding::{ALT, Binding, CTRL, NONE, SHIFT, When, edit, key_label, screen};
use super::table::KEYMAP;
use crate::event::screen::Focus;
use crate::event::screen::Scroll;
use crate::event::{Action, ScreenAction};

/// The actions `[keys]` may rebind: (name, where, action), naming rows of the table.
pub fn names() -> Vec<(&'static str, When, Action)> {
    use ScreenAction as S;
    use When::*;
    vec![
        ("send", Main, screen(S::Submit)),
        ("newline", Main, edit(InputRequest::InsertChar('\n'))),
        ("new", Main, screen(S::OpenNewRecipient)),
        ("connect", Main, Action::ConnectAll),
        ("disconnect", Main, screen(S::DisconnectSelected)),
        ("trust", Main, screen(S::TrustSelected)),
        ("verify", Main, screen(S::VerifySelected)),
        ("retry", Main, Action::Retry { id: None }),
        ("drop", Main, Action::Drop { id: None }),
        ("search", Main, screen(S::OpenSearch)),
        ("quit", Always, Action::Quit),
        ("help", Always, screen(S::OpenHelp)),
        ("doctor", Main, screen(S::OpenDoctor)),
        ("close", Always, screen(S::Close)),
        ("peer-prev", Main, screen(S::SelectPrev)),
        ("peer-next", Main, screen(S::SelectNext)),
        ("focus-next", Main, screen(S::FocusNext)),
        ("focus-prev", Main, screen(S::FocusPrev)),
        ("page-up", Main, screen(S::Scroll(Scroll::PageUp))),
        ("page-down", Main, screen(S::Scroll(Scroll::PageDown))),
        ("top", Main, screen(S::Scroll(Scroll::Top))),
        ("bottom", Main, screen(S::Scroll(Scroll::Bottom))),
        ("repaint", Always, screen(S::Repaint)),
        ("suspend", Main, screen(S::Suspend)),
        ("copy", Main, screen(S::CopyMessage)),
        ("hit-next", Search, screen(S::NextField)),
        ("hit-prev", Search, screen(S::PrevField)),
        ("word-left", Editing, edit(InputRequest::GoToPrevWord)),
        ("word-right", Editing, edit(InputRequest::GoToNextWord)),
        ("line-start", Editing, edit(InputRequest::GoToStart)),
        ("line-end", Editing, edit(InputRequest::GoToEnd)),
        ("delete-word", Editing, edit(InputRequest::DeletePrevWord)),
        ("delete-line", Editing, edit(InputRequest::DeleteLine)),
    ]
}

/// The table row a name stands for.
fn row_of(name: &str) -> Option<usize> {
    let (_, when, action) = names().into_iter().find(|(n, ..)| *n == name)?;
    KEYMAP
        .iter()
        .position(|b| b.when == when && b.action == action)
}

/// What is said of a name that is no action.
fn unknown(name: &str) -> String {
    let all: Vec<&str> = names().into_iter().map(|(n, ..)| n).collect();
    format!("{name:?} is not an action: use one of {}", all.join(", "))
}

/// How an error names a row: its action name, else the built-in keys and what they do.
fn describe(row: usize) -> String {
    let b = &KEYMAP[row];
    names()
        .into_iter()
        .find(|(_, when, action)| b.when == *when && b.action == *action)
        .map(|(n, ..)| n.to_string())
        .unwrap_or_else(|| format!("the built-in {}", b.keys_label()))
}

/// A key string: modifiers (`ctrl`, `alt`, `shift`) and a key joined by `+`.
pub fn parse_key(text: &str) -> Result<(KeyCode, KeyModifiers), String> {
    let lower = text.trim().to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('+').map(str::trim).collect();
    let bad = |why: &str| format!("{text:?} is not a key: {why}");
    let (key, mods) = match parts.split_last() {
        // "ctrl++" names the plus key.
        Some((&"", rest)) if rest.last() == Some(&"") => ("+", &rest[..rest.len() - 1]),
        Some((key, rest)) => (*key, rest),
        None => return Err(bad("write it like ctrl+k, alt+w or f2")),
    };
    let mut modifiers = NONE;
    for m in mods {
        modifiers |= match *m {
            "ctrl" | "control" => CTRL,
            "alt" | "meta" | "option" => ALT,
            "shift" => SHIFT,
            other => return Err(bad(&format!("{other:?} is not ctrl, alt or shift"))),
        };
    }
    let code = match key {
        "enter" | "return" => Enter,
        "esc" | "escape" => Esc,
        "tab" if modifiers.contains(SHIFT) => BackTab,
        "tab" => Tab,
        "backspace" => Backspace,
        "delete" | "del" => Delete,
        "insert" | "ins" => Insert,
        "home" => Home,
        "end" => End,
        "pageup" | "pgup" => PageUp,
        "pagedown" | "pgdn" => PageDown,
        "up" => Up,
        "down" => Down,
        "left" => Left,
        "right" => Right,
        "space" => Char(' '),
        f if f.starts_with('f') && f.len() > 1 && f[1..].chars().all(|c| c.is_ascii_digit()) => {
            match f[1..].parse::<u8>() {
                Ok(n @ 1..=24) => F(n),
                _ => return Err(bad("function keys are f1 to f24")),
            }
        }
        k if k.chars().count() == 1 => Char(k.chars().next().unwrap_or(' ')),
        _ => return Err(bad("write it like ctrl+k, alt+w, f2, pageup or enter")),
    };
    if matches!(code, Char(_)) && modifiers.difference(SHIFT).is_empty() {
        return Err(bad(
            "a plain character is typed into the compose box; add ctrl+ or alt+",
        ));
    }
    if let Some(twin) = terminal_twin(code, modifiers) {
        let key = key_label(code, modifiers).to_ascii_lowercase();
        return Err(format!(
            "{text:?}: {key} is the same key as {twin} to a terminal, so it cannot be told \
             apart; choose another key"
        ));
    }
    Ok((code, modifiers))
}

/// The key a terminal sends in place of this Ctrl key: Ctrl+I is a Tab, Ctrl+M an
/// Enter, Ctrl+J a newline and Ctrl+[ an Esc, byte for byte.
fn terminal_twin(code: KeyCode, modifiers: KeyModifiers) -> Option<&'static str> {
    if !modifiers.contains(CTRL) {
        return None;
    }
    match code {
        Char('i') => Some("Tab"),
        Char('m') => Some("Enter"),
        Char('j') => Some("newline (Enter on many terminals)"),
        Char('[') => Some("Esc"),
        _ => None,
    }
}

/// An action name of `[keys]`, read as its table row (an unknown name is an error
/// at the name).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Row(usize);

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        row_of(&name)
            .map(Row)
            .ok_or_else(|| serde::de::Error::custom(unknown(&name)))
    }
}

/// One key or a list of keys for an action (a bad key is an error at the key).
struct Keys(Vec<(KeyCode, KeyModifiers)>);

/// One key of a list, read on its own so that a bad one is an error at it, not at
/// the list.
struct OneKey((KeyCode, KeyModifiers));

impl<'de> Deserialize<'de> for OneKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Checked inside the visit, so the format's position is the key's own.
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = OneKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key like \"ctrl+k\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneKey, E> {
                parse_key(v).map(OneKey).map_err(E::custom)
            }
        }
        d.deserialize_str(Visit)
    }
}

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key like \"ctrl+k\" or a list of keys")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Keys, E> {
                parse_key(v).map(|k| Keys(vec![k])).map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(OneKey(k)) = seq.next_element()? {
                    keys.push(k);
                }
                if keys.is_empty() {
                    return Err(serde::de::Error::custom("give at least one key"));
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// The `[keys]` table, checked: (table row, its new keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebinds(Vec<(usize, Vec<(KeyCode, KeyModifiers)>)>);

impl Rebinds {
    /// Checks a table of action name -> keys.
    pub fn check(table: &BTreeMap<String, Vec<String>>) -> Result<Rebinds, String> {
        let mut rows = Vec::new();
        for (name, keys) in table {
            let row = row_of(name).ok_or_else(|| unknown(name))?;
            if keys.is_empty() {
                return Err(format!("{name}: give at least one key"));
            }
            let keys = keys
                .iter()
                .map(|k| parse_key(k).map_err(|e| format!("{name}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            rows.push((row, keys));
        }
        let rebinds = Rebinds(rows);
        rebinds.conflicts()?;
        Ok(rebinds)
    }

    fn keys_of(&self, row: usize) -> &[(KeyCode, KeyModifiers)] {
        self.0
            .iter()
            .find(|(r, _)| *r == row)
            .map_or(KEYMAP[row].keys, |(_, keys)| keys.as_slice())
    }

    /// Two rows that apply somewhere together may not share a key, when either of
    /// them was rebound.
    fn conflicts(&self) -> Result<(), String> {
        let rebound = |row: usize| self.0.iter().any(|(r, _)| *r == row);
        let same = |a: &(KeyCode, KeyModifiers), b: &(KeyCode, KeyModifiers)| {
            a.1 == b.1
                && match (a.0, b.0) {
                    (Char(x), Char(y)) => x.eq_ignore_ascii_case(&y),
                    (x, y) => x == y,
                }
        };
        let n = KEYMAP.len();
        let pairs = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j)));
        for (i, j) in pairs {
            if !(rebound(i) || rebound(j)) || !overlap(KEYMAP[i].when, KEYMAP[j].when) {
                continue;
            }
            if let Some(k) = self
                .keys_of(i)
                .iter()
                .find(|a| self.keys_of(j).iter().any(|b| same(a, b)))
            {
                return Err(format!(
                    "{} is bound to both {} and {}: give one of them another key",
                    key_label(k.0, k.1),
                    describe(i),
                    describe(j)
                ));
            }
        }
        Ok(())
    }

    /// The keymap with these keys: labels of rebound pairs are rewritten, so the help
    /// names the keys actually bound. Built once at start-up (leaked, it lives as
    /// long as the program).
    pub fn keymap(&self) -> &'static [Binding] {
        if self.0.is_empty() {
            return KEYMAP;
        }
        let leak = |keys: &[(KeyCode, KeyModifiers)]| -> &'static [(KeyCode, KeyModifiers)] {
            Box::leak(keys.to_vec().into_boxed_slice())
        };
        let mut map: Vec<Binding> = KEYMAP.to_vec();
        for (row, keys) in &self.0 {
            map[*row].keys = leak(keys);
        }
        for i in 0..map.len() {
            let partner = i + 1 < map.len() && map[i + 1].help.is_empty();
            let touched = |r: usize| self.0.iter().any(|(row, _)| *row == r);
            if !map[i].label.is_empty() && (touched(i) || (partner && touched(i + 1))) {
                let mut label = Binding {
                    label: "",
                    ..map[i].clone()
                }
                .keys_label();
                if partner {
                    let next = Binding {
                        label: "",
                        ..map[i + 1].clone()
                    };
                    label = format!("{label} {}", next.keys_label());
                }
                map[i].label = Box::leak(label.into_boxed_str());
            }
        }
        Box::leak(map.into_boxed_slice())
    }
}

impl<'de> Deserialize<'de> for Rebinds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rows = BTreeMap::<Row, Keys>::deserialize(d)?
            .into_iter()
            .map(|(Row(row), Keys(keys))| (row, keys))
            .collect();
        let rebinds = Rebinds(rows);
        // Two actions on one key: an error at the whole table.
        rebinds.conflicts().map_err(serde::de::Error::custom)?;
        Ok(rebinds)
    }
}

/// Whether two bindings apply somewhere together: in one of the places the keyboard
/// can be (as `input::Context` tells them apart: the main screen with each pane
/// focused, a form, the help).
fn overlap(a: When, b: When) -> bool {
    let places = [
        Some(Focus::Compose),
        Some(Focus::Peers),
        Some(Focus::Log),
        None, // a form
    ];
    let applies = |place: Option<Focus>, when: When| match (place, when) {
        (_, When::Always) => true,
        (Some(_), When::Main | When::Editing) | (None, When::Form | When::Editing) => true,
        (Some(focus), When::Focused(f)) => focus == f,
        _ => false,
    };
    let in_help = |w: When| matches!(w, When::Always | When::Help);
    places.iter().any(|&p| applies(p, a) && applies(p, b)) || (in_help(a) && in_help(b))
}

static INSTALLED: OnceLock<&'static [Binding]> = OnceLock::new();

thread_local! {
    static SCOPED: Cell<Option<&'static [Binding]>> = const { Cell::new(None) };
}

/// Makes `map` the keymap of the whole program (once, at start-up).
pub fn install(map: &'static [Binding]) {
    let _ = INSTALLED.set(map);
}

/// Runs `f` with `map` as this thread's keymap (tests draw and type with a rebound
/// keymap while others run in parallel with the built-in one).
pub fn scoped<R>(map: &'static [Binding], f: impl FnOnce() -> R) -> R {
    struct Restore(Option<&'static [Binding]>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SCOPED.with(|s| s.replace(Some(map))));
    f()
}

/// The keymap in force: this thread's, else the installed one, else the built-in one.
pub fn current() -> &'static [Binding] {
    SCOPED
        .with(Cell::get)
        .or_else(|| INSTALLED.get().copied())
        .unwrap_or(KEYMAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_strings_read_like_the_help_writes_them() {
        assert_eq!(parse_key("ctrl+k"), Ok((Char('k'), CTRL)));
        assert_eq!(parse_key(" Alt + W "), Ok((Char('w'), ALT)));
        assert_eq!(parse_key("F12"), Ok((F(12), NONE)));
        assert_eq!(parse_key("shift+tab"), Ok((BackTab, SHIFT)));
        assert_eq!(parse_key("ctrl+alt+pgdn"), Ok((PageDown, CTRL | ALT)));
        assert_eq!(parse_key("ctrl++"), Ok((Char('+'), CTRL)));
        assert_eq!(parse_key("ctrl+space"), Ok((Char(' '), CTRL)));
        for bad in [
            "f25", "f0", "ctrl+", "", "super+k", "ctrl+kk", "x", "shift+x",
        ] {
            assert!(parse_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ctrl_keys_a_terminal_sends_as_other_keys_are_refused() {
        let cases = [
            ("ctrl+i", "ctrl+i is the same key as Tab"),
            ("Ctrl+M", "ctrl+m is the same key as Enter"),
            ("ctrl+alt+j", "is the same key as newline"),
            ("ctrl+[", "ctrl+[ is the same key as Esc"),
        ];
        for (key, says) in cases {
            let err = parse_key(key).unwrap_err();
            assert!(err.contains(says), "{key}: {err}");
        }
        // Their neighbours and the Alt forms are distinct keys.
        for key in ["ctrl+h", "ctrl+k", "ctrl+n", "alt+i", "alt+m", "alt+["] {
            assert!(parse_key(key).is_ok(), "{key}");
        }
    }

    #[test]
    fn every_name_stands_for_one_row_of_the_table() {
        let mut rows: Vec<usize> = names()
            .iter()
            .map(|(n, ..)| row_of(n).unwrap_or_else(|| panic!("{n}")))
            .collect();
        let n = rows.len();
        rows.sort_unstable();
        rows.dedup();
        assert_eq!(rows.len(), n);
    }

    #[test]
    fn bindings_overlap_where_the_keyboard_can_be_in_both() {
        use When::*;
        assert!(overlap(Main, Editing));
        assert!(overlap(Focused(Focus::Log), Main));
        assert!(overlap(Form, Editing));
        assert!(overlap(Help, Always));
        assert!(!overlap(Focused(Focus::Peers), Focused(Focus::Log)));
        assert!(!overlap(Form, Main));
        assert!(!overlap(Help, Main));
        assert!(!overlap(Help, Editing));
    }

    #[test]
    fn a_rebound_pair_is_labelled_by_its_new_keys() {
        let table = [("peer-prev".to_string(), vec!["ctrl+p".to_string()])]
            .into_iter()
            .collect();
        let map = Rebinds::check(&table).unwrap().keymap();
        let row = row_of("peer-prev").unwrap();
        assert_eq!(map[row].keys_label(), "Ctrl+P Alt+↓");
        assert_eq!(Rebinds::default().keymap().len(), KEYMAP.len());
    }
}
