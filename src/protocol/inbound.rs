//! Parsing what arrives on one inbound connection.
//!
//! A connection's bytes are cut into messages ([`cut_messages`]) at a newline that is
//! followed by a new header line; the listener also cuts at EOF and at an idle gap. Each
//! message is then parsed ([`parse_message`]) into a header (what the sender claims) and
//! a sanitized text. Every variant in PROTOCOL.md is accepted; nothing here panics.

use std::net::IpAddr;

use super::outbound::MAX_TEAM_BYTES;
use super::sanitize::{preview, sanitize_text, sanitize_token};

/// Length of the preview shown for rejected input.
pub const PREVIEW_CHARS: usize = 60;

/// What the sender claims about itself. Every field may be missing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// The advertised IP (often wrong; never used as the peer's identity).
    pub ip: Option<IpAddr>,
    /// The advertised listening port: where replies go.
    pub port: Option<u16>,
    /// The team name, sanitized to one token.
    pub team: Option<String>,
}

/// One message as parsed from the wire. `text` is sanitized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub header: Header,
    pub text: String,
}

/// The result of parsing one cut message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Message(Inbound),
    /// Nothing but whitespace: ignored silently (PROTOCOL.md rule 5).
    Empty,
    /// Input that cannot be shown as a message, with a sanitized one-line preview.
    Rejected {
        reason: String,
        preview: String,
    },
}

/// Parses one message (already cut) from raw bytes. Invalid UTF-8 is replaced.
///
/// NUL bytes at the end are padding, not data: a C program that sends its whole
/// buffer (`send(fd, buf, sizeof buf, 0)`) pads its message with them, and C reads a
/// string up to its first NUL. They are dropped; a NUL with text after it is binary
/// data and refused.
pub fn parse_message(raw: &[u8]) -> Parsed {
    let end = raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let raw = &raw[..end];
    if raw.contains(&0) {
        return Parsed::Rejected {
            reason: "binary data (NUL bytes)".into(),
            preview: preview(raw, PREVIEW_CHARS),
        };
    }
    let text = String::from_utf8_lossy(raw);
    let trimmed = strip_line_end(&text);
    if trimmed.trim().is_empty() {
        return Parsed::Empty;
    }
    let (header, body) = match parse_header(trimmed) {
        Some(Ok((header, body))) => {
            if body.trim().is_empty() {
                return Parsed::Rejected {
                    reason: "a header with no message text".into(),
                    preview: preview(raw, PREVIEW_CHARS),
                };
            }
            (header, body)
        }
        Some(Err(reason)) => {
            return Parsed::Rejected {
                reason,
                preview: preview(raw, PREVIEW_CHARS),
            };
        }
        None => (Header::default(), trimmed),
    };
    let clean = sanitize_text(body);
    if clean.trim().is_empty() && !body.trim().is_empty() {
        return Parsed::Rejected {
            reason: "only control characters".into(),
            preview: preview(raw, PREVIEW_CHARS),
        };
    }
    Parsed::Message(Inbound {
        header,
        text: clean,
    })
}

/// Cuts the bytes received on one connection into messages: a newline followed by a
/// line that starts with a header begins a new message. Other newlines stay inside the
/// message (a multi-line message). Empty pieces are dropped.
pub fn cut_messages(buf: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in buf.iter().enumerate().filter(|(_, b)| **b == b'\n') {
        let next = &buf[i + 1..];
        if starts_with_header(next) {
            push_piece(&mut out, &buf[start..=i]);
            start = i + 1;
        }
    }
    push_piece(&mut out, &buf[start..]);
    out
}

fn push_piece<'a>(out: &mut Vec<&'a [u8]>, piece: &'a [u8]) {
    if piece.iter().any(|b| !b.is_ascii_whitespace()) {
        out.push(piece);
    }
}

/// Whether these bytes begin with something that can only be a header: an IP literal
/// with a port (optionally in angle brackets) followed by a space, or a
/// `LISTENING_PORT:` field. Deliberately strict so message text is not cut by accident.
pub fn starts_with_header(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"LISTENING_PORT:") {
        return true;
    }
    let end = bytes.len().min(64);
    let Ok(head) = std::str::from_utf8(&bytes[..end])
        .or_else(|e| std::str::from_utf8(&bytes[..e.valid_up_to()]))
    else {
        return false;
    };
    let Some(token) = head.split(' ').next() else {
        return false;
    };
    // The token must be followed by a space (there is more header to come).
    head.len() > token.len() && parse_addr_token(token).is_some_and(|(ip, _)| ip.is_some())
}

/// Strips one trailing `\n` or `\r\n` (rule 2), and any further trailing line ends.
fn strip_line_end(text: &str) -> &str {
    text.trim_end_matches(['\n', '\r'])
}

/// A header and the message body after it, or why the header is refused.
type HeaderAndBody<'a> = Result<(Header, &'a str), String>;

/// Parses a header at the start of `text`; returns it and the message body. `None`:
/// there is no header (the whole text is the message).
fn parse_header(text: &str) -> Option<HeaderAndBody<'_>> {
    if let Some(rest) = text.strip_prefix("LISTENING_PORT:") {
        return Some(parse_pipe_header(rest));
    }
    let (token, rest) = text.split_once(' ').unwrap_or((text, ""));
    let (ip, port) = parse_addr_token(token)?;
    let rest = rest.trim_start_matches(' ');
    // "@ team message" and "@team message"
    let rest = rest
        .strip_prefix('@')
        .map_or(rest, |r| r.trim_start_matches(' '));
    Some(match rest.split_once(' ') {
        Some((team, body)) if !team.is_empty() => team_field(team).map(|team| {
            let header = Header {
                ip,
                port: Some(port),
                team,
            };
            (header, body)
        }),
        // Only two fields ("ip:port CONNECT_REQUEST"): the second one is the message.
        _ => Ok((
            Header {
                ip,
                port: Some(port),
                team: None,
            },
            rest,
        )),
    })
}

/// `LISTENING_PORT:p|TEAM_NAME:t|message`; the leading key is already stripped.
fn parse_pipe_header(rest: &str) -> HeaderAndBody<'_> {
    let mut header = Header::default();
    let mut fields = rest.splitn(3, '|');
    let port = fields.next().unwrap_or("");
    header.port = parse_port(port.trim());
    let mut body = "";
    if let Some(second) = fields.next() {
        match second.split_once(':') {
            Some((key, team)) if key.trim().eq_ignore_ascii_case("TEAM_NAME") => {
                header.team = team_field(team)?;
                body = fields.next().unwrap_or("");
            }
            _ => {
                // No team field: everything after the port is the message.
                body = rest.split_once('|').map_or("", |(_, b)| b);
            }
        }
    }
    Ok((header, body))
}

/// A team name from the wire, sanitized to one token and kept whole: `Ok(None)` when
/// nothing printable is left, an error when it is longer than [`MAX_TEAM_BYTES`].
fn team_field(raw: &str) -> Result<Option<String>, String> {
    // Cut one character past the bound only to keep the work bounded: a name that
    // fits has at most MAX_TEAM_BYTES characters, so it is never cut.
    let team = sanitize_token(raw, MAX_TEAM_BYTES + 1);
    if team.len() > MAX_TEAM_BYTES {
        return Err(format!(
            "team name longer than {MAX_TEAM_BYTES} bytes (names are never cut)"
        ));
    }
    Ok((!team.is_empty()).then_some(team))
}

/// A listening port: decimal digits only, 1 to 65535 (0 is not an address).
fn parse_port(digits: &str) -> Option<u16> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|p| *p != 0)
}

/// `ip:port`, `<ip:port>`, `[v6]:port` or `host:port`. The IP is `None` for a hostname.
/// An IPv4-mapped IPv6 address (`[::ffff:a.b.c.d]`) is the IPv4 address it maps.
fn parse_addr_token(token: &str) -> Option<(Option<IpAddr>, u16)> {
    let token = token.strip_prefix('<').unwrap_or(token);
    let token = token.strip_suffix('>').unwrap_or(token);
    if let Ok(addr) = token.parse::<std::net::SocketAddr>() {
        let port = Some(addr.port()).filter(|p| *p != 0)?;
        return Some((Some(addr.ip().to_canonical()), port));
    }
    let (host, port) = token.rsplit_once(':')?;
    let port = parse_port(port)?;
    let hostname_like = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    hostname_like.then_some((None, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[track_caller]
    fn message(raw: &[u8]) -> Inbound {
        match parse_message(raw) {
            Parsed::Message(m) => m,
            other => panic!("expected a message for {raw:?}, got {other:?}"),
        }
    }

    /// One row per receiving variant in PROTOCOL.md: (bytes, ip, port, team, text).
    #[test]
    fn receiving_variants() {
        type Row = (
            &'static [u8],
            Option<&'static str>,
            Option<u16>,
            Option<&'static str>,
            &'static str,
        );
        let rows: &[Row] = &[
            // 1. no terminator
            (
                b"10.213.8.143:8080 B Hi from B",
                Some("10.213.8.143"),
                Some(8080),
                Some("B"),
                "Hi from B",
            ),
            // 2. trailing \n and \r\n
            (
                b"10.0.0.1:9000 A hello\n",
                Some("10.0.0.1"),
                Some(9000),
                Some("A"),
                "hello",
            ),
            (
                b"10.0.0.1:9000 A hello\r\n",
                Some("10.0.0.1"),
                Some(9000),
                Some("A"),
                "hello",
            ),
            // the message keeps its inner spaces
            (
                b"1.2.3.4:5 T  two  spaces ",
                Some("1.2.3.4"),
                Some(5),
                Some("T"),
                " two  spaces ",
            ),
            // 6. only two fields
            (
                b"10.0.0.1:9000 CONNECT_REQUEST",
                Some("10.0.0.1"),
                Some(9000),
                None,
                "CONNECT_REQUEST",
            ),
            // 6. angle brackets
            (
                b"<10.0.0.1:9000> B hi",
                Some("10.0.0.1"),
                Some(9000),
                Some("B"),
                "hi",
            ),
            // 6. "@ team" and "@team"
            (
                b"10.0.0.1:9000 @ B hi there",
                Some("10.0.0.1"),
                Some(9000),
                Some("B"),
                "hi there",
            ),
            (
                b"10.0.0.1:9000 @B hi",
                Some("10.0.0.1"),
                Some(9000),
                Some("B"),
                "hi",
            ),
            // 6. pipe fields
            (
                b"LISTENING_PORT:7000|TEAM_NAME:Z|hello | world",
                None,
                Some(7000),
                Some("Z"),
                "hello | world",
            ),
            (
                b"LISTENING_PORT:7000|just text",
                None,
                Some(7000),
                None,
                "just text",
            ),
            // 6. hostname instead of an IP
            (b"localhost:8080 B hi", None, Some(8080), Some("B"), "hi"),
            // IPv6
            (b"[::1]:8080 B hi", Some("::1"), Some(8080), Some("B"), "hi"),
            // 6. no header at all
            (b"hello there", None, None, None, "hello there"),
            (
                b"99.1.1.1:99999 B bad port",
                None,
                None,
                None,
                "99.1.1.1:99999 B bad port",
            ),
            // 7. control words are ordinary messages
            (
                b"10.0.0.1:9000 B connection message",
                Some("10.0.0.1"),
                Some(9000),
                Some("B"),
                "connection message",
            ),
            (
                b"10.0.0.1:9000 B exit",
                Some("10.0.0.1"),
                Some(9000),
                Some("B"),
                "exit",
            ),
            // 8. invalid UTF-8 is replaced
            (
                b"10.0.0.1:9000 B caf\xc3",
                Some("10.0.0.1"),
                Some(9000),
                Some("B"),
                "caf\u{fffd}",
            ),
            // hostile team and text are sanitized
            (
                b"10.0.0.1:9000 \x1b[31mB\x1b[0m \x1b]0;x\x07hi",
                Some("10.0.0.1"),
                Some(9000),
                Some("B"),
                "hi",
            ),
        ];
        for (raw, want_ip, port, team, text) in rows {
            let m = message(raw);
            assert_eq!(m.header.ip, want_ip.and_then(ip), "ip for {raw:?}");
            assert_eq!(m.header.port, *port, "port for {raw:?}");
            assert_eq!(m.header.team.as_deref(), *team, "team for {raw:?}");
            assert_eq!(m.text, *text, "text for {raw:?}");
        }
    }

    /// A C program that sends its whole zeroed buffer pads the message with NULs: the
    /// padding is dropped, the message kept. A NUL with text after it is still binary.
    #[test]
    fn trailing_nul_padding_is_dropped_not_refused() {
        let mut padded = b"10.0.0.7:8080 C padded by a C peer\n".to_vec();
        padded.resize(1024, 0);
        let Parsed::Message(m) = parse_message(&padded) else {
            panic!("refused: {:?}", parse_message(&padded));
        };
        assert_eq!(m.text, "padded by a C peer");
        assert_eq!(m.header.team.as_deref(), Some("C"));
        assert_eq!(parse_message(&[0; 64]), Parsed::Empty);
        assert!(matches!(
            parse_message(b"10.0.0.7:8080 C half\0and more\0\0"),
            Parsed::Rejected { .. }
        ));
    }

    #[test]
    fn empty_and_rejected() {
        assert_eq!(parse_message(b""), Parsed::Empty);
        assert_eq!(parse_message(b"  \r\n"), Parsed::Empty);
        assert!(matches!(
            parse_message(b"\x00\x01binary"),
            Parsed::Rejected { .. }
        ));
        assert!(matches!(
            parse_message(b"\x1b[2J\x1b[H"),
            Parsed::Rejected { .. }
        ));
    }

    #[track_caller]
    fn refused(raw: &[u8]) -> String {
        match parse_message(raw) {
            Parsed::Rejected { reason, .. } => reason,
            other => panic!("expected {raw:?} to be refused, got {other:?}"),
        }
    }

    /// A full header followed by nothing but white space is refused, never stored as
    /// an empty message; the two-field form keeps its meaning, line end or not.
    #[test]
    fn a_header_without_text_is_refused() {
        for raw in [
            &b"10.0.0.1:9000 B "[..],
            b"10.0.0.1:9000 B \n",
            b"10.0.0.1:9000 B \r\n",
            b"10.0.0.1:9000 B  \t  \n",
            b"10.0.0.1:9000 @ B ",
            b"10.0.0.1:9000 ",
            b"10.0.0.1:9000",
            b"LISTENING_PORT:7000|TEAM_NAME:Z|",
            b"LISTENING_PORT:7000|TEAM_NAME:Z|  \r\n",
        ] {
            assert!(refused(raw).contains("no message text"), "{raw:?}");
        }
        for raw in [
            &b"10.0.0.1:9000 CONNECT_REQUEST"[..],
            b"10.0.0.1:9000 CONNECT_REQUEST\n",
            b"10.0.0.1:9000 CONNECT_REQUEST\r\n",
        ] {
            let m = message(raw);
            assert_eq!(m.header.port, Some(9000));
            assert_eq!(m.header.team, None);
            assert_eq!(m.text, "CONNECT_REQUEST");
        }
    }

    /// Ports outside 1-65535 (and anything but digits) are not addresses: the whole
    /// text is the message, attributed to the socket's address.
    #[test]
    fn ports_outside_the_range_are_not_addresses() {
        for raw in [
            &b"10.0.0.1:0 B hi"[..],
            b"10.0.0.1:99999 B hi",
            b"10.0.0.1:-1 B hi",
            b"[::1]:0 B hi",
            b"localhost:0 B hi",
            b"localhost:+80 B hi",
        ] {
            let m = message(raw);
            assert_eq!(m.header, Header::default(), "{raw:?}");
            assert_eq!(m.text.as_bytes(), raw);
            assert!(!starts_with_header(raw), "{raw:?}");
        }
        assert_eq!(
            message(b"LISTENING_PORT:0|TEAM_NAME:Z|hi").header.port,
            None
        );
        assert_eq!(message(b"10.0.0.1:1 B hi").header.port, Some(1));
        assert_eq!(message(b"10.0.0.1:65535 B hi").header.port, Some(65535));
    }

    /// Team names are kept whole up to 64 bytes; longer ones are refused, so two names
    /// that differ are never merged into one.
    #[test]
    fn team_names_are_kept_whole_or_refused() {
        let a = format!("{}_alpha", "x".repeat(40));
        let b = format!("{}_bravo", "x".repeat(40));
        let team = |t: &str| message(format!("10.0.0.1:1 {t} hi").as_bytes()).header.team;
        assert_eq!(team(&a).as_deref(), Some(a.as_str()));
        assert_eq!(team(&b).as_deref(), Some(b.as_str()));
        let longest = "t".repeat(MAX_TEAM_BYTES);
        assert_eq!(team(&longest).as_deref(), Some(longest.as_str()));
        let wide = "é".repeat(MAX_TEAM_BYTES / 2);
        assert_eq!(team(&wide).as_deref(), Some(wide.as_str()));
        for long in [
            "t".repeat(MAX_TEAM_BYTES + 1),
            "é".repeat(MAX_TEAM_BYTES / 2 + 1),
        ] {
            let reason = refused(format!("10.0.0.1:1 {long} hi").as_bytes());
            assert!(reason.contains("longer than 64 bytes"), "{reason}");
            let reason = refused(format!("LISTENING_PORT:1|TEAM_NAME:{long}|hi").as_bytes());
            assert!(reason.contains("longer than 64 bytes"), "{reason}");
        }
    }

    /// `[::ffff:a.b.c.d]` is the IPv4 address it maps.
    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let m = message(b"[::ffff:10.0.0.1]:9000 B hi");
        assert_eq!(m.header.ip, ip("10.0.0.1"));
        assert_eq!(
            message(b"<[::ffff:10.0.0.1]:9000> B hi").header.ip,
            ip("10.0.0.1")
        );
        assert_eq!(message(b"[::1]:9000 B hi").header.ip, ip("::1"));
    }

    #[test]
    fn cutting_at_header_lines() {
        let buf = b"10.0.0.1:1 A one\n10.0.0.1:1 A two\r\n10.0.0.1:1 A three";
        let cut = cut_messages(buf);
        assert_eq!(cut.len(), 3);
        assert_eq!(message(cut[1]).text, "two");
        assert_eq!(message(cut[2]).text, "three");
    }

    #[test]
    fn multi_line_message_stays_whole() {
        let buf = b"10.0.0.1:1 A first line\nsecond line\nat 10:30 we meet\n";
        let cut = cut_messages(buf);
        assert_eq!(cut.len(), 1);
        assert_eq!(
            message(cut[0]).text,
            "first line\nsecond line\nat 10:30 we meet"
        );
    }

    #[test]
    fn cutting_skips_blank_pieces() {
        assert!(cut_messages(b"\n\n").is_empty());
        assert_eq!(cut_messages(b"\n10.0.0.1:1 A x").len(), 1);
    }

    #[test]
    fn header_detection_is_strict() {
        assert!(starts_with_header(b"10.0.0.1:80 A x"));
        assert!(starts_with_header(b"<10.0.0.1:80> A x"));
        assert!(starts_with_header(b"LISTENING_PORT:1|x"));
        assert!(!starts_with_header(b"10:30 meeting"));
        assert!(!starts_with_header(b"localhost:80 A x"));
        assert!(!starts_with_header(b"10.0.0.1:80"));
    }
}
