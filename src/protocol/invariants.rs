//! Invariants of the protocol layer, as functions that panic when one is broken.
//! The property tests (`tests/protocol_props.rs`) and the cargo-fuzz targets (`fuzz/`)
//! run the same bodies, so a fuzz finding is a plain test case too.

use super::inbound::{Parsed, cut_messages, parse_message};
use super::outbound::split_for_wire;
use super::sanitize::sanitize_text;

/// True for characters that must never reach a terminal from a remote string.
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
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
