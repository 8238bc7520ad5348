//! Property tests of the protocol layer (the same bodies as the fuzz targets).

use brigade::protocol::invariants::{check_inbound, check_sanitize, check_split};
use brigade::protocol::{MAX_WIRE_BYTES, Parsed, header, parse_message, split_for_wire};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_inbound(&bytes);
    }

    #[test]
    fn hostile_looking_bytes_never_panic(s in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{206f}\\u{180e}\\u{2028}\\u{2029}\\u{fff9}-\\u{fffb}\\u{e0000}-\\u{e007f}\\u{feff}]|\\x1b\\[[0-9;]*m|10\\.0\\.0\\.1:80 |\n){0,64}") {
        check_inbound(s.as_bytes());
        check_sanitize(&s);
    }

    #[test]
    fn sanitize_is_clean_and_idempotent(s in any::<String>()) {
        check_sanitize(&s);
    }

    #[test]
    fn split_respects_the_limit(text in any::<String>(), team in "[A-Za-z0-9_]{1,16}") {
        let h = header("10.1.2.3".parse().unwrap(), 8080, &team);
        check_split(&h, &text, MAX_WIRE_BYTES);
        check_split(&h, &text, 40);
    }

    /// What brigade sends, a classic receiver (and brigade) parses back to the same
    /// team and text, part by part, newlines included. A part loses at most white space at
    /// its edges;
    /// rejoined, every visible character is there, in order. A part of nothing but white space is
    /// never sent.
    #[test]
    fn format_then_parse_round_trips(
        text in "[^\\p{C}\\s][^\\p{C}]{0,60}(\n\n?[a-z ][^\\p{C}]{0,60}){0,30}",
        team in "[A-Za-z0-9_]{1,16}",
        port in 1u16..,
    ) {
        // Text the receiver's sanitizer would change cannot round-trip by design.
        prop_assume!(brigade::protocol::sanitize_text(&text) == text);
        let ip = "10.1.2.3".parse().unwrap();
        let h = header(ip, port, &team);
        let parts = split_for_wire(&h, &text, MAX_WIRE_BYTES).unwrap();
        let mut received = Vec::new();
        for part in &parts {
            let payload = part.strip_prefix(&h).unwrap();
            match parse_message(part.as_bytes()) {
                Parsed::Message(m) => {
                    prop_assert_eq!(m.header.ip, Some(ip));
                    prop_assert_eq!(m.header.port, Some(port));
                    prop_assert_eq!(m.header.team.as_deref(), Some(team.as_str()));
                    prop_assert_eq!(m.text.trim(), payload.trim());
                    received.push(m.text);
                }
                other => prop_assert!(false, "part {:?} not a message: {:?}", payload, other),
            }
        }
        // Every visible character arrives, in order (where a cut may fall inside a word
        // is the split's own property, `check_split`).
        let visible = |t: &str| t.split_whitespace().collect::<String>();
        prop_assert_eq!(visible(&received.concat()), visible(&text));
    }

    /// Newlines inside a message survive the trip (they are not message boundaries
    /// unless a header follows).
    #[test]
    fn newlines_round_trip(lines in proptest::collection::vec("[a-z]{1,20}", 2..20)) {
        let text = lines.join("\n");
        let h = header("10.1.2.3".parse().unwrap(), 80, "T");
        let parts = split_for_wire(&h, &text, MAX_WIRE_BYTES).unwrap();
        prop_assert_eq!(parts.len(), 1);
        match parse_message(parts[0].as_bytes()) {
            Parsed::Message(m) => prop_assert_eq!(m.text, text),
            other => prop_assert!(false, "{:?}", other),
        }
    }
}
