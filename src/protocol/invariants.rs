//! Invariants of the protocol layer, as functions that panic when one is broken.
//! The property tests (`tests/protocol_props.rs`) and the cargo-fuzz targets (`fuzz/`)
//! run the same bodies, so a fuzz finding is a plain test case too.

use super::inbound::{Parsed, cut_messages, parse_message};
use super::outbound::split_for_wire;
use super::sanitize::sanitize_text;

/// True for characters that must never reach a terminal from a remote string: every
/// one the README says the sanitizer removes (controls, bidi controls, zero-width and
/// other invisible characters, tag characters).
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{61c}' | '\u{180e}' | '\u{200b}' | '\u{200e}' | '\u{200f}'
            | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}')
}

/// Sanitizing leaves no forbidden character and is idempotent.
pub fn check_sanitize(input: &str) {
    let once = sanitize_text(input);
    if let Some(c) = once.chars().find(|c| is_forbidden(*c)) {
        panic!("sanitize left {c:?} in {once:?} (input {input:?})");
    }
    assert_eq!(
        sanitize_text(&once),
        once,
        "sanitize is not idempotent for {input:?}"
    );
}

/// Cutting and parsing arbitrary bytes never panics, and whatever comes out is clean.
pub fn check_inbound(bytes: &[u8]) {
    for piece in cut_messages(bytes) {
        match parse_message(piece) {
            Parsed::Message(m) => {
                assert!(
                    !m.text.chars().any(is_forbidden),
                    "unclean text {:?}",
                    m.text
                );
                if let Some(team) = &m.header.team {
                    assert!(!team.is_empty() && !team.chars().any(char::is_whitespace));
                    assert!(!team.chars().any(is_forbidden), "unclean team {team:?}");
                }
            }
            Parsed::Rejected { preview, .. } => {
                assert!(
                    !preview.chars().any(is_forbidden),
                    "unclean preview {preview:?}"
                );
            }
            Parsed::Empty => {}
        }
    }
}

/// Splitting keeps every wire text within the limit, sends no piece of only white space
/// (receivers refuse it) and loses no word.
pub fn check_split(header: &str, text: &str, max: usize) {
    let Some(parts) = split_for_wire(header, text, max) else {
        return;
    };
    let mut joined = String::new();
    for p in &parts {
        assert!(p.len() <= max, "wire text of {} bytes", p.len());
        let piece = p
            .strip_prefix(header)
            .expect("every part starts with the header");
        assert!(!piece.trim().is_empty(), "a part of only white space");
        joined.push_str(piece);
    }
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(&joined), words(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each class the README names, checked against the sanitizer one by one.
    #[test]
    fn every_character_the_readme_names_is_forbidden_and_removed() {
        let named = [
            '\u{0}',
            '\u{7}',
            '\u{1b}',
            '\u{7f}',
            '\u{80}',
            '\u{9b}',
            '\u{9f}',
            '\u{61c}',
            '\u{180e}',
            '\u{200b}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{202a}',
            '\u{202e}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{2069}',
            '\u{206a}',
            '\u{206f}',
            '\u{feff}',
            '\u{fff9}',
            '\u{fffb}',
            '\u{e0000}',
            '\u{e0041}',
            '\u{e007f}',
        ];
        for c in named {
            assert!(is_forbidden(c), "{c:?} is not forbidden");
            check_sanitize(&format!("a{c}b"));
        }
        for fine in ['a', '\n', 'é', '中', '\u{301}', '\u{fffc}', '\u{e0100}'] {
            assert!(!is_forbidden(fine), "{fine:?}");
        }
    }
}
