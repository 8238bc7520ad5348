//! Slash commands typed in the compose box, for people who type rather than chord.
//! Pure: `parse` reads a submitted line, `complete` finishes one on Tab. The store turns
//! a command into the same actions the keys produce.

use std::net::SocketAddr;

/// Every command: (name, arguments, what it does). The help overlay lists these.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("connect", "", "connect to every Active peer"),
    (
        "disconnect",
        "",
        "disconnect the selected peer (asks first)",
    ),
    (
        "msg",
        "IP:PORT[/TEAM] text",
        "send to that address, adding the peer",
    ),
    ("retry", "", "retry the failed messages on screen"),
    (
        "alias",
        "[ADDR] [NAME]",
        "your name for the selected peer (or ADDR)",
    ),
    (
        "forget",
        "",
        "forget the selected peer (asks about history)",
    ),
    (
        "verify",
        "[IP:PORT]",
        "mark the selected (or named) peer verified",
    ),
    (
        "trust",
        "[IP:PORT]",
        "trust the selected (or named) peer's changed key (asks first)",
    ),
    ("help", "", "show the keys and these commands"),
    ("doctor", "", "why can't I see a peer? discovery's report"),
    ("quit", "", "quit brigade"),
];

/// A command a line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Connect,
    Disconnect,
    Msg {
        addr: SocketAddr,
        team: Option<String>,
        text: String,
    },
    Retry,
    /// Marks a peer verified: the one named, else the selected one.
    Verify(Option<SocketAddr>),
    /// Trusts a peer's changed key, after a confirm: the one named, else the selected.
    Trust(Option<SocketAddr>),
    Help,
    /// The doctor view (discovery's report).
    Doctor,
    Quit,
    /// A local name for the selected peer, or the one at `peer`; `None` removes it.
    Alias {
        peer: Option<(SocketAddr, Option<String>)>,
        name: Option<String>,
    },
    Forget,
}

/// What a submitted compose line is: text to send, or a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Text(String),
    Command(Command),
}

/// Reads a compose line. A line not starting with `/` is text; `//text` is the text
/// `/text`; anything else after `/` must be a command, or the error says why.
pub fn parse(line: &str) -> Result<Line, String> {
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Line::Text(line.to_string()));
    };
    if rest.starts_with('/') {
        return Ok(Line::Text(rest.to_string()));
    }
    let (name, args) = rest.split_once(' ').unwrap_or((rest, ""));
    let args = args.trim();
    let bare = |command: Command| {
        if args.is_empty() {
            Ok(Line::Command(command))
        } else {
            Err(format!("/{name} takes no arguments"))
        }
    };
    match name {
        "connect" => bare(Command::Connect),
        "disconnect" => bare(Command::Disconnect),
        "retry" => bare(Command::Retry),
        "help" => bare(Command::Help),
        "doctor" => bare(Command::Doctor),
        "quit" => bare(Command::Quit),
        "forget" => bare(Command::Forget),
        "msg" => msg(args).map(Line::Command),
        "alias" => Ok(Line::Command(alias(args))),
        "verify" => peer_arg(name, args).map(|a| Line::Command(Command::Verify(a))),
        "trust" => peer_arg(name, args).map(|a| Line::Command(Command::Trust(a))),
        _ => Err(format!("unknown command /{name}: /help lists them")),
    }
}

/// `/alias [IP:PORT[/TEAM]] [NAME]`: a first word that reads as an address names the
/// peer; the rest is the name (checked by the store, which bounds and cleans it).
fn alias(args: &str) -> Command {
    let (first, rest) = args.split_once(' ').unwrap_or((args, ""));
    let (addr, team) = first.split_once('/').unwrap_or((first, ""));
    let (peer, name) = match addr.parse::<SocketAddr>() {
        Ok(addr) => (
            Some((addr, (!team.is_empty()).then(|| team.to_string()))),
            rest.trim(),
        ),
        Err(_) => (None, args),
    };
    Command::Alias {
        peer,
        name: (!name.is_empty()).then(|| name.to_string()),
    }
}

/// The optional `IP:PORT` of `/verify` and `/trust`.
fn peer_arg(name: &str, args: &str) -> Result<Option<SocketAddr>, String> {
    if args.is_empty() {
        return Ok(None);
    }
    args.parse().map(Some).map_err(|_| {
        format!("/{name}: {args} is not IP:PORT: write /{name} alone for the selected peer")
    })
}

fn msg(args: &str) -> Result<Command, String> {
    let usage = "write /msg IP:PORT[/TEAM] text";
    let (target, text) = args.split_once(' ').unwrap_or((args, ""));
    if target.is_empty() {
        return Err(format!("/msg needs an address: {usage}"));
    }
    let (addr, team) = match target.split_once('/') {
        Some((addr, team)) => (addr, Some(team.to_string())),
        None => (target, None),
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("/msg: {addr} is not IP:PORT: {usage}"))?;
    Ok(Command::Msg {
        addr,
        team: team.filter(|t| !t.is_empty()),
        text: text.trim_start().to_string(),
    })
}

/// A peer as Tab knows it: `IP:PORT[/TEAM]`, and the user's alias for it if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerName {
    pub word: String,
    pub alias: Option<String>,
}

impl From<&str> for PeerName {
    fn from(word: &str) -> PeerName {
        PeerName {
            word: word.to_string(),
            alias: None,
        }
    }
}

impl PeerName {
    /// Whether `typed` starts its address, its team or (ignoring ASCII case) its alias.
    fn fits(&self, typed: &str) -> bool {
        let team = self.word.split_once('/').map(|(_, t)| t);
        let alias = self.alias.as_deref().unwrap_or_default();
        self.word.starts_with(typed)
            || team.is_some_and(|t| t.starts_with(typed))
            || (alias.len() >= typed.len()
                && alias.is_char_boundary(typed.len())
                && alias[..typed.len()].eq_ignore_ascii_case(typed))
    }
}

/// What Tab can complete `line` to: the text before the completed word and the words
/// that fit (command names after `/`, peers after `/msg ` and the like).
fn fits(line: &str, peers: &[PeerName]) -> Option<(String, Vec<String>)> {
    let rest = line.strip_prefix('/')?;
    let fits = match rest.split_once(' ') {
        None => {
            let fits = COMMANDS
                .iter()
                .filter(|(name, ..)| name.starts_with(rest))
                .map(|(name, ..)| name.to_string())
                .collect();
            ("/".into(), fits)
        }
        Some((name @ ("msg" | "alias" | "verify" | "trust"), arg)) if !arg.contains(' ') => {
            let fits = peers
                .iter()
                .filter(|p| p.fits(arg))
                // `/verify` and `/trust` take the address alone.
                .map(|p| match name {
                    "msg" | "alias" => p.word.clone(),
                    _ => p
                        .word
                        .split_once('/')
                        .map_or(p.word.as_str(), |(a, _)| a)
                        .to_string(),
                })
                .collect();
            (format!("/{name} "), fits)
        }
        Some(_) => return None,
    };
    Some(fits)
}

/// The words Tab could complete `line` to when they have no longer common start than
/// what is typed (shown to the user instead of a completion).
pub fn candidates(line: &str, peers: &[PeerName]) -> Vec<String> {
    fits(line, peers).map(|(_, fits)| fits).unwrap_or_default()
}

/// What Tab makes of `line`: a command name after `/`, or a peer (`IP:PORT[/TEAM]`,
/// matched by its start, its team's or its alias's) after `/msg ` or `/alias ` (after
/// `/verify ` and `/trust `, its `IP:PORT`). `None` when nothing fits or
/// nothing would change; several fits complete to their common start.
pub fn complete(line: &str, peers: &[PeerName]) -> Option<String> {
    let (head, fits) = fits(line, peers)?;
    let done = match fits.as_slice() {
        [] => return None,
        [one] => format!("{head}{one} "),
        [first, others @ ..] => {
            let common = others.iter().fold(first.as_str(), |common, p| {
                let n = common
                    .char_indices()
                    .zip(p.chars())
                    .take_while(|((_, a), b)| a == b)
                    .count();
                &common[..common
                    .char_indices()
                    .nth(n)
                    .map_or(common.len(), |(i, _)| i)]
            });
            format!("{head}{common}")
        }
    };
    (done.len() > line.len()).then_some(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(line: &str) -> Command {
        match parse(line) {
            Ok(Line::Command(c)) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn every_bare_command_parses() {
        assert_eq!(command("/connect"), Command::Connect);
        assert_eq!(command("/disconnect"), Command::Disconnect);
        assert_eq!(command("/retry"), Command::Retry);
        assert_eq!(command("/help "), Command::Help);
        assert_eq!(command("/quit"), Command::Quit);
        assert_eq!(command("/forget"), Command::Forget);
        assert!(parse("/forget all").is_err());
        assert_eq!(command("/verify"), Command::Verify(None));
        assert_eq!(command("/trust"), Command::Trust(None));
    }

    #[test]
    fn alias_reads_an_optional_peer_and_an_optional_name() {
        let alias = |peer: Option<(&str, Option<&str>)>, name: Option<&str>| Command::Alias {
            peer: peer.map(|(a, t)| (a.parse().unwrap(), t.map(String::from))),
            name: name.map(String::from),
        };
        assert_eq!(command("/alias Bob"), alias(None, Some("Bob")));
        assert_eq!(command("/alias Big  Bob "), alias(None, Some("Big  Bob")));
        assert_eq!(command("/alias"), alias(None, None));
        assert_eq!(
            command("/alias 10.0.0.2:80/B Bob"),
            alias(Some(("10.0.0.2:80", Some("B"))), Some("Bob"))
        );
        assert_eq!(
            command("/alias 10.0.0.2:80"),
            alias(Some(("10.0.0.2:80", None)), None)
        );
    }

    #[test]
    fn verify_and_trust_take_an_optional_address() {
        let at: SocketAddr = "10.0.0.2:8080".parse().unwrap();
        assert_eq!(command("/verify 10.0.0.2:8080"), Command::Verify(Some(at)));
        assert_eq!(command("/trust  10.0.0.2:8080 "), Command::Trust(Some(at)));
        assert!(parse("/verify B").unwrap_err().contains("not IP:PORT"));
    }

    #[test]
    fn msg_reads_address_team_and_text() {
        assert_eq!(
            command("/msg 10.0.0.2:8080/B hello there"),
            Command::Msg {
                addr: "10.0.0.2:8080".parse().unwrap(),
                team: Some("B".into()),
                text: "hello there".into(),
            }
        );
        assert_eq!(
            command("/msg 10.0.0.2:80 hi"),
            Command::Msg {
                addr: "10.0.0.2:80".parse().unwrap(),
                team: None,
                text: "hi".into(),
            }
        );
    }

    #[test]
    fn bad_arguments_and_unknown_commands_are_errors() {
        assert!(parse("/msg").unwrap_err().contains("needs an address"));
        assert!(
            parse("/msg 10.0.0.2 hi")
                .unwrap_err()
                .contains("not IP:PORT")
        );
        assert!(parse("/msg bob:80 hi").unwrap_err().contains("not IP:PORT"));
        assert_eq!(parse("/quit now").unwrap_err(), "/quit takes no arguments");
        assert_eq!(
            parse("/x").unwrap_err(),
            "unknown command /x: /help lists them"
        );
    }

    #[test]
    fn double_slash_and_plain_lines_are_text() {
        assert_eq!(parse("//text").unwrap(), Line::Text("/text".into()));
        assert_eq!(parse("hello /x").unwrap(), Line::Text("hello /x".into()));
    }

    #[test]
    fn tab_completes_command_names() {
        let none: Vec<PeerName> = Vec::new();
        assert_eq!(complete("/co", &none).as_deref(), Some("/connect "));
        assert_eq!(complete("/di", &none).as_deref(), Some("/disconnect "));
        assert_eq!(complete("/do", &none).as_deref(), Some("/doctor "));
        // Several fits and no longer common start: nothing to complete.
        assert_eq!(complete("/d", &none), None);
        assert_eq!(complete("/connect", &none).as_deref(), Some("/connect "));
        assert_eq!(complete("/zz", &none), None);
        assert_eq!(complete("hello", &none), None);
    }

    #[test]
    fn tab_completes_a_peer_after_msg() {
        let peers: Vec<PeerName> = ["10.0.0.2:8080/Blue", "10.0.0.3:9/Cyan"]
            .map(PeerName::from)
            .to_vec();
        assert_eq!(
            complete("/msg 10.0.0.3", &peers).as_deref(),
            Some("/msg 10.0.0.3:9/Cyan ")
        );
        assert_eq!(
            complete("/msg Bl", &peers).as_deref(),
            Some("/msg 10.0.0.2:8080/Blue ")
        );
        assert_eq!(
            complete("/msg 10.", &peers).as_deref(),
            Some("/msg 10.0.0.")
        );
        assert_eq!(complete("/msg 10.0.0.", &peers), None);
        assert_eq!(complete("/msg 10.0.0.2:8080/Blue hi", &peers), None);
        assert_eq!(
            complete("/alias Cy", &peers).as_deref(),
            Some("/alias 10.0.0.3:9/Cyan ")
        );
        assert_eq!(
            complete("/trust Cy", &peers).as_deref(),
            Some("/trust 10.0.0.3:9 ")
        );
    }

    /// A peer's alias (the name the screen shows) completes to its address.
    #[test]
    fn tab_completes_a_peer_by_its_alias() {
        let mut bob = PeerName::from("10.0.0.2:8080/Blue");
        bob.alias = Some("Bob".into());
        let peers = vec![bob, PeerName::from("10.0.0.3:9/Cyan")];
        assert_eq!(
            complete("/verify bo", &peers).as_deref(),
            Some("/verify 10.0.0.2:8080 ")
        );
        assert_eq!(
            complete("/msg Bob", &peers).as_deref(),
            Some("/msg 10.0.0.2:8080/Blue ")
        );
        assert_eq!(complete("/msg Bobby", &peers), None);
        assert_eq!(complete("/msg é", &peers), None);
    }
}
