//! Parsing what arrives on one inbound connection.
//!
//! A connection's bytes are cut into messages ([`cut_messages`]) at a newline that is
//! followed by a new header line; the listener also cuts at EOF and at an idle gap. Each
//! message is then parsed ([`parse_message`]) into a header (what the sender claims) and
//! a sanitized text. Every variant in PROTOCOL.md is accepted; nothing here panics.

use std::net::IpAddr;

use super::sanitize::{preview, sanitize_text, sanitize_token};

/// Longest team name kept from the wire (characters); longer ones are cut.
pub const MAX_TEAM_CHARS: usize = 32;
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
pub fn parse_message(raw: &[u8]) -> Parsed {
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
        Some((header, body)) => (header, body),
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

/// Parses a header at the start of `text`; returns it and the message body.
fn parse_header(text: &str) -> Option<(Header, &str)> {
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
    match rest.split_once(' ') {
        Some((team, body)) if !team.is_empty() => Some((
            Header {
                ip,
                port: Some(port),
                team: team_field(team),
            },
            body,
        )),
        // Only two fields ("ip:port CONNECT_REQUEST"): the second one is the message.
        _ => Some((
            Header {
                ip,
                port: Some(port),
                team: None,
            },
            rest,
        )),
    }
}

/// `LISTENING_PORT:p|TEAM_NAME:t|message`; the leading key is already stripped.
fn parse_pipe_header(rest: &str) -> (Header, &str) {
    let mut header = Header::default();
    let mut fields = rest.splitn(3, '|');
    let port = fields.next().unwrap_or("");
    header.port = port.trim().parse().ok();
    let mut body = "";
    if let Some(second) = fields.next() {
        match second.split_once(':') {
            Some((key, team)) if key.trim().eq_ignore_ascii_case("TEAM_NAME") => {
                header.team = team_field(team);
                body = fields.next().unwrap_or("");
            }
            _ => {
                // No team field: everything after the port is the message.
                body = rest.split_once('|').map_or("", |(_, b)| b);
            }
        }
    }
    (header, body)
}

fn team_field(raw: &str) -> Option<String> {
    let team = sanitize_token(raw, MAX_TEAM_CHARS);
    (!team.is_empty()).then_some(team)
}

/// `ip:port`, `<ip:port>`, `[v6]:port` or `host:port`. The IP is `None` for a hostname.
fn parse_addr_token(token: &str) -> Option<(Option<IpAddr>, u16)> {
    let token = token.strip_prefix('<').unwrap_or(token);
    let token = token.strip_suffix('>').unwrap_or(token);
    if let Ok(addr) = token.parse::<std::net::SocketAddr>() {
        return Some((Some(addr.ip()), addr.port()));
    }
    let (host, port) = token.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
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
