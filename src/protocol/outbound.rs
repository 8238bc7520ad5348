//! Formatting what brigade sends: `<ip>:<port> <team> <message>`, at most
//! [`MAX_WIRE_BYTES`] per connection, longer messages split on character boundaries.

use std::net::IpAddr;

use unicode_width::UnicodeWidthChar;

/// Most classic receivers read once with `recv(1024)`: no outgoing text may be longer.
pub const MAX_WIRE_BYTES: usize = 1024;
/// The text the original program sends for "connect to active peers".
pub const CONNECT_TEXT: &str = "connection message";
/// The text that means "I am leaving".
pub const EXIT_TEXT: &str = "exit";

/// Whether a message text means "I am leaving" (trimmed, any case).
pub fn is_exit(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case(EXIT_TEXT)
}

/// Longest local team name accepted (bytes), leaving room for text in every wire text.
pub const MAX_TEAM_BYTES: usize = 64;

/// Checks a team name that brigade will send: one word, no control characters, short.
/// The error says what to do.
pub fn check_team_name(team: &str) -> Result<(), String> {
    if team.is_empty() {
        return Err("the team name is empty: choose one word, e.g. --name B".into());
    }
    if team.chars().any(char::is_whitespace) {
        let joined = team.split_whitespace().collect::<Vec<_>>().join("_");
        return Err(format!(
            "{team:?} has spaces and peers split on them: use {joined:?}"
        ));
    }
    if team.chars().any(char::is_control) {
        return Err(format!(
            "team name {team:?} has control characters: use printable text"
        ));
    }
    if team.len() > MAX_TEAM_BYTES {
        return Err(format!(
            "team name is {} bytes long: keep it to {MAX_TEAM_BYTES}",
            team.len()
        ));
    }
    Ok(())
}

/// The header that starts every outgoing text, trailing space included.
pub fn header(ip: IpAddr, port: u16, team: &str) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port} {team} "),
        IpAddr::V6(v6) => format!("[{v6}]:{port} {team} "),
    }
}

/// Splits `text` into wire texts of at most `max_bytes` each, every one starting with
/// `header`, cut on character boundaries, in order. An empty text gives no wire text.
/// Returns `None` when the header leaves no room for even one character.
pub fn split_for_wire(header: &str, text: &str, max_bytes: usize) -> Option<Vec<String>> {
    let room = max_bytes.checked_sub(header.len())?;
    if text.is_empty() {
        return Some(Vec::new());
    }
    let widest_char = text.chars().map(char::len_utf8).max().unwrap_or(1);
    if room < widest_char {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at(cut_point(rest, room));
        out.push(format!("{header}{piece}"));
        rest = tail;
    }
    Some(out)
}

/// Where to cut `text` so the piece has at most `room` bytes: on a character boundary,
/// and not before a zero-width character (a combining mark stays with its base, else the
/// receiver's sanitizer would drop it), nor where the receiver would drop what is at
/// the cut: a line end ending a piece, spaces or a line end starting one. Falls back to
/// any character boundary when no such cut fits.
fn cut_point(text: &str, room: usize) -> usize {
    if text.len() <= room {
        return text.len();
    }
    let mut cut = room;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let boundary = cut;
    let lost_at = |cut: usize| {
        let next = text[cut..].chars().next();
        let prev = text[..cut].chars().next_back();
        next.is_some_and(|c| c.width() == Some(0) || matches!(c, ' ' | '\n' | '\r'))
            || prev.is_some_and(|c| matches!(c, '\n' | '\r'))
    };
    while cut > 0 && lost_at(cut) {
        cut = text[..cut].char_indices().next_back().map_or(0, |(i, _)| i);
    }
    if cut == 0 { boundary } else { cut }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_the_classic_format() {
        let ip: IpAddr = "10.213.8.143".parse().unwrap();
        assert_eq!(header(ip, 8080, "B"), "10.213.8.143:8080 B ");
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(header(v6, 1, "B"), "[::1]:1 B ");
    }

    #[test]
    fn short_message_is_one_wire_text() {
        let parts = split_for_wire("1.2.3.4:5 A ", "Hi from A", MAX_WIRE_BYTES).unwrap();
        assert_eq!(parts, vec!["1.2.3.4:5 A Hi from A"]);
    }

    #[test]
    fn exactly_full_message_is_not_split() {
        let h = "1.2.3.4:5 A ";
        let text = "x".repeat(MAX_WIRE_BYTES - h.len());
        let parts = split_for_wire(h, &text, MAX_WIRE_BYTES).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].len(), MAX_WIRE_BYTES);
    }

    #[test]
    fn long_message_is_split_in_order_on_char_boundaries() {
        let h = "1.2.3.4:5 A ";
        let text = "é".repeat(1500); // 3000 bytes of two-byte characters
        let parts = split_for_wire(h, &text, MAX_WIRE_BYTES).unwrap();
        assert_eq!(parts.len(), 3);
        let mut joined = String::new();
        for p in &parts {
            assert!(p.len() <= MAX_WIRE_BYTES);
            joined.push_str(p.strip_prefix(h).unwrap());
        }
        assert_eq!(joined, text);
    }

    #[test]
    fn four_byte_characters_are_never_cut() {
        let h = "1.2.3.4:5 A ";
        let text = "😀".repeat(600);
        for p in split_for_wire(h, &text, MAX_WIRE_BYTES).unwrap() {
            assert!(p.len() <= MAX_WIRE_BYTES);
            assert!(p.strip_prefix(h).unwrap().chars().all(|c| c == '😀'));
        }
    }

    #[test]
    fn combining_marks_stay_with_their_base() {
        let h = "h ";
        let text = "ae\u{301}";
        let parts = split_for_wire(h, text, 5).unwrap();
        assert_eq!(parts, vec!["h a", "h e\u{301}"]);
    }

    #[test]
    fn no_room_is_reported() {
        assert_eq!(split_for_wire("abcdef", "x", 4), None);
        assert_eq!(split_for_wire("abc", "😀", 5), None);
        assert_eq!(split_for_wire("abc", "", 5), Some(vec![]));
    }

    #[test]
    fn team_names_are_checked() {
        assert!(check_team_name("Team_Subhra").is_ok());
        for bad in ["", "two words", "tab\there", "bell\x07", &"x".repeat(65)] {
            assert!(check_team_name(bad).is_err(), "{bad:?}");
        }
        assert!(
            check_team_name("my team")
                .unwrap_err()
                .contains("\"my_team\"")
        );
    }

    #[test]
    fn exit_detection() {
        for t in ["exit", "EXIT", " Exit \n", "exit\r\n"] {
            assert!(is_exit(t), "{t:?}");
        }
        for t in ["exit now", "quit", "DISCONNECT", "exi"] {
            assert!(!is_exit(t), "{t:?}");
        }
    }
}
