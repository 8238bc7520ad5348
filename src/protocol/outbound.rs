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

/// A long message is cut after a space when one lies in this last fraction of a piece's
/// room (a quarter: 250 bytes of a 1 024-byte text); a word longer than that is cut
/// where the room ends, on a character boundary.
pub const WORD_CUT_WINDOW_DIVISOR: usize = 4;

/// Splits `text` into wire texts of at most `max_bytes` each, every one starting with
/// `header`, in order. Each is cut after a space when one lies in the last quarter of
/// its room ([`WORD_CUT_WINDOW_DIVISOR`]), else on a character boundary; never inside a
/// UTF-8 character. The pieces joined give the text back, except that a piece of
/// nothing but white space is not sent (receivers refuse a header without text): a
/// run of white space that would fill a piece shrinks to its last character, and
/// white space that would be a piece of its own at the end is dropped. Every word is kept. A text with nothing but white
/// space gives no wire text. Returns `None` when the header leaves no room for even
/// one character.
pub fn split_for_wire(header: &str, text: &str, max_bytes: usize) -> Option<Vec<String>> {
    let room = max_bytes.checked_sub(header.len())?;
    if text.trim().is_empty() {
        return Some(Vec::new());
    }
    let widest_char = text.chars().map(char::len_utf8).max().unwrap_or(1);
    if room < widest_char {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.trim().is_empty() {
        let (piece, tail) = rest.split_at(cut_point(rest, room));
        if piece.trim().is_empty() {
            // Nothing but white space before the cut: skip the run, keeping its last
            // character so the words on either side stay apart (when the room is too
            // small for even that character and the next one, it goes too).
            let run = rest.len() - rest.trim_start().len();
            let last = rest[..run].chars().next_back().map_or(0, char::len_utf8);
            let keep = run - last;
            rest = &rest[if keep == 0 { run } else { keep }..];
            continue;
        }
        out.push(format!("{header}{piece}"));
        rest = tail;
    }
    Some(out)
}

/// Where to cut `text` so the piece has at most `room` bytes: after a space in the
/// last part of the room when there is one, else on a character boundary; and not
/// before a zero-width character (a combining mark stays with its base, else the
/// receiver's sanitizer would drop it). Falls back to any character boundary when a
/// single base character carries more marks than fit.
fn cut_point(text: &str, room: usize) -> usize {
    if text.len() <= room {
        return text.len();
    }
    let mut cut = room;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let boundary = cut;
    if let Some(after_space) = word_cut(text, boundary, room) {
        return after_space;
    }
    while cut > 0 && starts_with_zero_width(&text[cut..]) {
        cut = text[..cut].char_indices().next_back().map_or(0, |(i, _)| i);
    }
    if cut == 0 || text[..cut].trim().is_empty() {
        boundary
    } else {
        cut
    }
}

/// The cut just after the last space in the window before `limit`, unless a
/// zero-width character follows that space or only white space precedes it. A space
/// byte is never part of a multi-byte character, so the cut is on a character boundary.
fn word_cut(text: &str, limit: usize, room: usize) -> Option<usize> {
    let window = room / WORD_CUT_WINDOW_DIVISOR;
    let lo = limit.saturating_sub(window);
    let bytes = text.as_bytes();
    (lo..limit)
        .rev()
        .filter(|&i| bytes[i] == b' ')
        .map(|i| i + 1)
        .find(|&cut| !starts_with_zero_width(&text[cut..]) && !text[..cut].trim().is_empty())
}

fn starts_with_zero_width(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.width() == Some(0))
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

    /// The pieces' texts, header stripped.
    fn pieces(h: &str, text: &str) -> Vec<String> {
        split_for_wire(h, text, MAX_WIRE_BYTES)
            .unwrap()
            .into_iter()
            .map(|p| p.strip_prefix(h).unwrap().to_string())
            .collect()
    }

    #[test]
    fn long_messages_are_cut_after_a_space() {
        let h = "10.0.0.1:8080 A ";
        let text = "lorem ipsum dolor sit ".repeat(200);
        let parts = pieces(h, &text);
        assert!(parts.len() > 1);
        for p in &parts[..parts.len() - 1] {
            assert!(
                p.ends_with(' '),
                "cut inside a word: …{:?}",
                &p[p.len() - 12..]
            );
            assert!(h.len() + p.len() <= MAX_WIRE_BYTES);
        }
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn a_word_longer_than_the_window_is_cut_at_the_limit() {
        let h = "10.0.0.1:8080 A ";
        let room = MAX_WIRE_BYTES - h.len();
        // The only space lies before the last quarter of the room: not used.
        let text = format!("{} {}", "a".repeat(room / 2), "b".repeat(room));
        let parts = pieces(h, &text);
        assert_eq!(parts[0].len(), room);
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn white_space_alone_is_never_a_piece() {
        let h = "10.0.0.1:8080 A ";
        let text = format!("start{}end{}", " ".repeat(3000), "\n".repeat(2000));
        let parts = pieces(h, &text);
        assert!(parts.iter().all(|p| !p.trim().is_empty()), "{parts:?}");
        let words: Vec<&str> = parts.iter().flat_map(|p| p.split_whitespace()).collect();
        assert_eq!(words, ["start", "end"]);
        assert_eq!(split_for_wire(h, " \n\t ", MAX_WIRE_BYTES), Some(vec![]));
        // Room for one wide white space character but not for it and the next word.
        assert_eq!(
            split_for_wire("h ", "a\u{3000}\u{3000}bb", 5),
            Some(vec!["h a".into(), "h bb".into()])
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Words of up to 12 characters (multi-byte included) separated by spaces and
        /// newlines: no piece is longer than 1024 bytes; a piece ends after a space,
        /// or else no space lies in its last quarter and the next character would not
        /// have fitted; the pieces rejoined are the text.
        #[test]
        fn split_cuts_between_words(
            text in "([a-zé€😀]{1,12}[ \n]){0,400}[a-zé€😀]{0,12}",
            team in "[A-Za-z0-9_é]{1,16}",
        ) {
            let h = header("10.1.2.3".parse().unwrap(), 8080, &team);
            let room = MAX_WIRE_BYTES - h.len();
            let window = room / WORD_CUT_WINDOW_DIVISOR;
            let parts = pieces(&h, &text);
            for (n, p) in parts.iter().enumerate() {
                proptest::prop_assert!(p.len() <= room);
                proptest::prop_assert!(!p.trim().is_empty());
                if n + 1 < parts.len() && !p.ends_with(' ') {
                    let tail = &p.as_bytes()[p.len().saturating_sub(window)..];
                    proptest::prop_assert!(!tail.contains(&b' '), "a space was usable: {:?}", p);
                    let next = parts[n + 1].chars().next().unwrap();
                    proptest::prop_assert!(p.len() + next.len_utf8() > room, "cut early: {:?}", p);
                }
            }
            let joined = parts.concat();
            proptest::prop_assert!(text.starts_with(&joined));
            proptest::prop_assert!(text[joined.len()..].trim().is_empty());
        }

        /// Words separated by spaces (newlines inside them too): every piece but the
        /// last ends after a space; only white space at the end may be left out.
        #[test]
        fn split_never_cuts_a_short_word(
            text in "([a-zé€😀\n]{1,12} ){1,400}",
        ) {
            let h = "10.1.2.3:8080 T ";
            let parts = pieces(h, &text);
            // White space alone (e.g. "\n ") makes no piece at all.
            for p in &parts[..parts.len().saturating_sub(1)] {
                proptest::prop_assert!(p.ends_with(' '), "cut inside a word: {:?}", p);
            }
            let joined = parts.concat();
            proptest::prop_assert!(text.starts_with(&joined));
            proptest::prop_assert!(text[joined.len()..].trim().is_empty());
        }

        /// Any text, newlines and multi-byte characters included: every word is there.
        #[test]
        fn split_keeps_every_word(
            text in "(\\PC|\n|\r\n| {1,3}|[é€😀]){0,1500}",
            max in 24usize..1100,
        ) {
            let h = "10.1.2.3:8080 T ";
            crate::protocol::invariants::check_split(h, &text, max);
        }
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
