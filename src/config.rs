//! Command-line flags, the optional TOML config file, and the settings merged from both.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;

use crate::discovery::{self, Means, invite::Invite};
use crate::protocol::check_team_name;

/// A full-screen terminal chat for the classic campus peer-to-peer protocol.
///
/// Every message travels on its own TCP connection as `<ip>:<port> <team> <message>`,
/// so brigade talks to the menu programs already on the network. Without --name or
/// --port the terminal UI asks for them.
#[derive(Debug, Clone, Parser, Default)]
#[command(name = "brigade", version, about, long_about)]
pub struct Args {
    /// Your team name, one word: what peers see as the sender
    #[arg(long, short = 'n', value_name = "TEAM")]
    pub name: Option<String>,

    /// The port to listen on (0 picks a free one)
    #[arg(long, short = 'p', value_name = "PORT")]
    pub port: Option<u16>,

    /// The local address to listen on [default: 0.0.0.0, every address]
    #[arg(long, value_name = "IP")]
    pub bind: Option<IpAddr>,

    /// The IP written in your messages' header, where peers reply [default: the --bind
    /// address if one is given, else this machine's first non-loopback IPv4 address,
    /// else 127.0.0.1]
    #[arg(long, value_name = "IP")]
    pub advertise_ip: Option<IpAddr>,

    /// A well-known peer to greet at start-up (repeatable), e.g. 10.0.0.5:8080/B, or
    /// an invite (brigade://...)
    #[arg(long = "peer", value_name = "IP:PORT[/TEAM] or INVITE", value_parser = PeerSpec::parse)]
    pub peers: Vec<PeerSpec>,

    /// A TOML config file with the same settings [default: brigade/config.toml in
    /// your config directory, if it exists]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Run without a terminal UI: JSON commands on stdin, JSON events on stdout
    #[arg(long)]
    pub headless: bool,

    /// Do not ring the terminal bell when a message arrives off screen (as --notify off)
    #[arg(long)]
    pub no_bell: bool,

    /// How a message for a conversation not on screen is announced: bell, osc9 or
    /// osc777 (desktop notifications, where the terminal supports them) or off
    /// [default: bell]
    #[arg(long, value_name = "MODE", value_parser = Notify::parse)]
    pub notify: Option<Notify>,

    /// Where to write the log [default: brigade.log in your state directory]
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    /// Where the history lives [default: brigade/TEAM in your local data directory, one
    /// per team name]. One running brigade per directory
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Keep nothing on disk: history and outbox in memory only
    #[arg(long)]
    pub no_history: bool,

    /// How to find and be found by other brigades: mdns, beacon, or mdns,beacon
    /// [default: mdns,beacon; off with a loopback --bind]
    #[arg(long, value_name = "MEANS", value_parser = Means::parse)]
    pub discovery: Option<Means>,

    /// Neither announce this brigade nor listen for others
    #[arg(long, conflicts_with = "discovery")]
    pub no_discovery: bool,

    /// Print a one-line invite (and a QR code on a terminal) that others give to --peer,
    /// then exit; needs --name and --port
    #[arg(long)]
    pub invite: bool,

    /// Listen a few seconds and report what discovery sees on each interface, and why
    /// someone may be invisible, then exit
    #[arg(long)]
    pub doctor: bool,
    /// Messages a second one source address may send, sustained; bursts of 4 times as
    /// many are let through. Past it, its connections are reset. 0: no limit
    /// [default: 1000]
    #[arg(long, value_name = "N")]
    pub source_rate: Option<u32>,

    /// MiB of message text stored per source address per day; past it, its
    /// connections are reset. 0: no limit [default: 64]
    #[arg(long, value_name = "MIB")]
    pub source_quota: Option<u64>,

    /// Print this brigade's safety number (and public key) and exit; creates the key
    /// on first use. Uses the data directory of --name or --data-dir
    #[arg(long)]
    pub fingerprint: bool,
}

/// Default `--source-rate` (messages a second per source address).
pub const DEFAULT_SOURCE_RATE: u32 = 1000;
/// Default `--source-quota` (MiB per source address per day).
pub const DEFAULT_SOURCE_QUOTA_MIB: u64 = 64;

/// A well-known peer: address and, when known, team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSpec {
    pub addr: SocketAddr,
    pub team: Option<String>,
    /// Given as an invite: its key is pinned at once (issue 16).
    pub invite: Option<Invite>,
}

impl PeerSpec {
    pub fn parse(s: &str) -> Result<Self, String> {
        if Invite::looks_like(s) {
            let mut invite = Invite::parse(s)?;
            invite.prefer_reachable(&discovery::beacon::interfaces(Ipv4Addr::UNSPECIFIED.into()));
            return Ok(Self {
                addr: invite.addr(),
                team: Some(invite.team.clone()),
                invite: Some(invite),
            });
        }
        let (addr, team) = match s.split_once('/') {
            Some((a, t)) => (a, Some(t.to_string())),
            None => (s, None),
        };
        let addr: SocketAddr = addr.trim().parse().map_err(|_| {
            format!(
                "{addr:?} is not an address: write IP:PORT, e.g. 10.0.0.5:8080 or 10.0.0.5:8080/B"
            )
        })?;
        if addr.port() == 0 {
            return Err(format!("{addr}: port 0 is not a peer's port"));
        }
        if let Some(t) = &team {
            check_team_name(t)?;
        }
        Ok(Self {
            addr,
            team,
            invite: None,
        })
    }
}

/// The config file: the same settings as the flags; flags win.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub name: Option<String>,
    pub port: Option<u16>,
    pub bind: Option<IpAddr>,
    pub advertise_ip: Option<IpAddr>,
    #[serde(default)]
    pub peers: Vec<String>,
    pub bell: Option<bool>,
    /// `"bell"`, `"osc9"`, `"osc777"` or `"off"`.
    pub notify: Option<String>,
    pub log_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub history: Option<bool>,
    /// `"mdns,beacon"`, `"mdns"`, `"beacon"` or `"off"`.
    pub discovery: Option<String>,
    pub source_rate: Option<u32>,
    pub source_quota: Option<u64>,
    /// Colours by role (`[theme]`).
    #[serde(default)]
    pub theme: crate::ui::Palette,
    /// Keys by action name (`[keys]`), checked for unknown names and conflicts.
    #[serde(default)]
    pub keys: crate::keymap::Rebinds,
}

/// The settings brigade runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub name: Option<String>,
    pub port: Option<u16>,
    pub bind: IpAddr,
    pub advertise_ip: IpAddr,
    pub peers: Vec<PeerSpec>,
    pub headless: bool,
    pub notify: Notify,
    pub log_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub history: bool,
    /// The discovery means in use (none with `--no-discovery`, `discovery = "off"`, or
    /// a loopback bind address).
    pub discovery: Means,
    pub invite: bool,
    pub doctor: bool,
    /// Messages a second per source address (0: no limit).
    pub source_rate: u32,
    /// MiB of text per source address per day (0: no limit).
    pub source_quota_mib: u64,
    /// The config file's colours (`NO_COLOR` still wins).
    pub theme: crate::ui::Palette,
    /// The config file's key bindings over the built-in ones.
    pub keys: crate::keymap::Rebinds,
}

/// How a message for a conversation not on screen is announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// The terminal bell.
    Bell,
    /// A desktop notification through OSC 9 (iTerm2, Windows Terminal, kitty, foot).
    Osc9,
    /// A desktop notification through OSC 777 (rxvt-unicode, VTE terminals, Ghostty).
    Osc777,
    Off,
}

impl Notify {
    pub fn parse(text: &str) -> Result<Notify, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "bell" => Ok(Notify::Bell),
            "osc9" => Ok(Notify::Osc9),
            "osc777" => Ok(Notify::Osc777),
            "off" => Ok(Notify::Off),
            other => Err(format!(
                "notify must be bell, osc9, osc777 or off, not {other:?}"
            )),
        }
    }
}

/// Where brigade looks for its config file when `--config` is not given.
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "brigade").map(|d| d.config_dir().join("config.toml"))
}

/// Where the log goes when neither the flag nor the file says.
pub fn default_log_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "brigade").map(|d| {
        d.state_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .join("brigade.log")
    })
}

impl Settings {
    /// Merges flags over the config file (the explicit one, else the default one if it
    /// exists) and checks everything. Errors are one line that says what to do.
    pub fn resolve(args: Args) -> Result<Settings, String> {
        let file = match &args.config {
            Some(path) => read_config(path)?,
            None => match default_config_path() {
                Some(path) if path.exists() => read_config(&path)?,
                _ => FileConfig::default(),
            },
        };
        Self::merge(args, file)
    }

    pub fn merge(args: Args, file: FileConfig) -> Result<Settings, String> {
        let mut peers = Vec::new();
        for p in &file.peers {
            peers.push(PeerSpec::parse(p).map_err(|e| format!("in the config file: {e}"))?);
        }
        peers.extend(args.peers);
        let name = args.name.or(file.name);
        if let Some(n) = &name {
            check_team_name(n)?;
        }
        let file_means = match &file.discovery {
            Some(m) => Some(Means::parse(m).map_err(|e| format!("in the config file: {e}"))?),
            None => None,
        };
        let file_notify = match &file.notify {
            Some(m) => Some(Notify::parse(m).map_err(|e| format!("in the config file: {e}"))?),
            None => None,
        };
        let bind = args
            .bind
            .or(file.bind)
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let discovery = if args.no_discovery || !discovery::allowed(bind) {
            Means::NONE
        } else {
            args.discovery.or(file_means).unwrap_or_default()
        };
        let settings = Settings {
            name,
            port: args.port.or(file.port),
            bind,
            // Bound to one address: that is where peers can reach us.
            advertise_ip: args.advertise_ip.or(file.advertise_ip).unwrap_or_else(|| {
                if bind.is_unspecified() {
                    detect_advertise_ip()
                } else {
                    bind
                }
            }),
            peers,
            headless: args.headless,
            notify: match (args.no_bell, args.notify.or(file_notify), file.bell) {
                (true, ..) | (false, None, Some(false)) => Notify::Off,
                (false, Some(mode), _) => mode,
                (false, None, _) => Notify::Bell,
            },
            log_file: args.log_file.or(file.log_file),
            data_dir: args.data_dir.or(file.data_dir),
            history: !args.no_history && file.history.unwrap_or(true),
            discovery,
            invite: args.invite,
            doctor: args.doctor,
            source_rate: args
                .source_rate
                .or(file.source_rate)
                .unwrap_or(DEFAULT_SOURCE_RATE),
            source_quota_mib: args
                .source_quota
                .or(file.source_quota)
                .unwrap_or(DEFAULT_SOURCE_QUOTA_MIB),
            theme: file.theme,
            keys: file.keys,
        };
        if settings.invite && (settings.name.is_none() || settings.port.is_none()) {
            return Err("--invite needs --name TEAM and --port PORT (or both in the config file): the invite names them".into());
        }
        if settings.headless
            && !settings.invite
            && !settings.doctor
            && (settings.name.is_none() || settings.port.is_none())
        {
            return Err(
                "headless mode needs --name TEAM and --port PORT (or both in the config file)"
                    .into(),
            );
        }
        Ok(settings)
    }
}

fn read_config(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        let msg = e.message().trim_end();
        match e.span() {
            Some(span) => {
                let (line, column) = line_and_column(&text, span.start);
                format!(
                    "config file {}, line {line}, column {column}: {msg}",
                    path.display()
                )
            }
            None => format!("config file {}: {msg}", path.display()),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The first non-loopback, non-link-local IPv4 address of an interface that is up,
/// read from the system (no traffic is sent); else 127.0.0.1.
pub fn detect_advertise_ip() -> IpAddr {
    let Ok(interfaces) = if_addrs::get_if_addrs() else {
        return IpAddr::V4(Ipv4Addr::LOCALHOST);
    };
    let usable =
        |i: &&if_addrs::Interface| i.ip().is_ipv4() && !i.is_loopback() && !i.is_link_local();
    interfaces
        .iter()
        .filter(usable)
        .find(|i| i.is_oper_up())
        .or_else(|| interfaces.iter().find(usable))
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |i| i.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Action;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn args(list: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("brigade").chain(list.iter().copied())).unwrap()
    }

    #[test]
    fn peers_parse_with_and_without_team() {
        let p = PeerSpec::parse("10.0.0.5:8080/B").unwrap();
        assert_eq!(
            (p.addr.to_string(), p.team.as_deref()),
            ("10.0.0.5:8080".into(), Some("B"))
        );
        assert_eq!(PeerSpec::parse("10.0.0.5:8080").unwrap().team, None);
        for bad in [
            "10.0.0.5",
            "nonsense:1",
            "10.0.0.5:0",
            "10.0.0.5:8080/two words",
        ] {
            assert!(PeerSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_win_over_the_file() {
        let file: FileConfig = toml::from_str(
            "name = \"FileTeam\"\nport = 7000\npeers = [\"10.0.0.1:1/X\"]\nbell = false\n",
        )
        .unwrap();
        let s = Settings::merge(args(&["--port", "8000", "--peer", "10.0.0.2:2"]), file).unwrap();
        assert_eq!(s.name.as_deref(), Some("FileTeam"));
        assert_eq!(s.port, Some(8000));
        assert_eq!(s.peers.len(), 2);
        assert_eq!(s.notify, Notify::Off);
        assert_eq!(s.bind, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }

    #[test]
    fn bound_to_one_address_it_advertises_that_address() {
        let s = Settings::merge(args(&["--bind", "127.0.0.1"]), FileConfig::default()).unwrap();
        assert_eq!(s.advertise_ip, IpAddr::V4(Ipv4Addr::LOCALHOST));
        let s = Settings::merge(
            args(&["--bind", "127.0.0.1", "--advertise-ip", "10.1.2.3"]),
            FileConfig::default(),
        )
        .unwrap();
        assert_eq!(s.advertise_ip, "10.1.2.3".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_team_with_spaces_is_refused_with_advice() {
        let err = Settings::merge(args(&["--name", "my team"]), FileConfig::default()).unwrap_err();
        assert!(err.contains("\"my_team\""), "{err}");
    }

    #[test]
    fn headless_needs_name_and_port() {
        let err = Settings::merge(args(&["--headless", "--name", "A"]), FileConfig::default())
            .unwrap_err();
        assert!(err.contains("--port"), "{err}");
    }

    #[test]
    fn config_errors_name_the_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "name = \"A\"\nport = \"eighty\"\n",
                "line 2, column 8",
                "expected u16",
            ),
            ("name = \"A\"\n\n  bell = maybe\n", "line 3, column 10", ""),
            ("name = \"é\"\nnmae = 1\n", "line 2, column 1", "nmae"),
        ];
        for (n, (text, at, says)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("{n}.toml"));
            std::fs::write(&path, text).unwrap();
            let err = read_config(&path).unwrap_err();
            assert!(err.contains(at) && err.contains(says), "{text:?}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn theme_colours_are_read_and_bad_ones_name_their_place() {
        let file: FileConfig =
            toml::from_str("[theme]\nerror = \"light red\"\nborder = \"#00ff88\"\n").unwrap();
        let s = Settings::merge(Args::default(), file).unwrap();
        assert_eq!(
            s.theme.error,
            Some(crate::ui::Colour(ratatui::style::Color::LightRed))
        );
        assert_eq!(
            s.theme.border,
            Some(crate::ui::Colour(ratatui::style::Color::Rgb(0, 0xff, 0x88)))
        );
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "name = \"A\"\n[theme]\nerror = \"mauve\"\n",
                "line 3, column 9",
                "not a colour",
            ),
            (
                "[theme]\nborder = \"#12\"\n",
                "line 2, column 10",
                "#rrggbb",
            ),
            (
                "[theme]\nborders = \"red\"\n",
                "line 2, column 1",
                "borders",
            ),
            ("[theme]\ntime = 3\n", "line 2, column 8", "string"),
        ];
        for (n, (text, at, says)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("{n}.toml"));
            std::fs::write(&path, text).unwrap();
            let err = read_config(&path).unwrap_err();
            assert!(err.contains(at) && err.contains(says), "{text:?}: {err}");
        }
    }

    #[test]
    fn keys_are_rebound_by_action_name_and_bad_tables_name_their_place() {
        let file: FileConfig =
            toml::from_str("[keys]\nconnect = \"ctrl+o\"\nquit = [\"ctrl+c\", \"F10\"]\n").unwrap();
        let map = Settings::merge(Args::default(), file)
            .unwrap()
            .keys
            .keymap();
        let connect = map.iter().find(|b| b.action == Action::ConnectAll).unwrap();
        assert_eq!(connect.keys, [(KeyCode::Char('o'), KeyModifiers::CONTROL)]);
        let quit = map.iter().find(|b| b.action == Action::Quit).unwrap();
        assert_eq!(quit.keys_label(), "Ctrl+C F10");
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "[keys]\nconect = \"ctrl+o\"\n",
                "line 2, column 1",
                "\"conect\" is not an action",
            ),
            (
                "[keys]\nconnect = \"ctrl+\"\n",
                "line 2, column 11",
                "is not a key",
            ),
            (
                "[keys]\nconnect = \"hyper+k\"\n",
                "line 2, column 11",
                "not ctrl, alt or shift",
            ),
            // A bad key in a list: said at that key.
            (
                "[keys]\nconnect = [\"f2\", \"k\"]\n",
                "line 2, column 18",
                "plain character",
            ),
            ("[keys]\nconnect = 5\n", "line 2, column 11", "a key like"),
            (
                "[keys]\nconnect = [\"f2\", \"ctrl+i\"]\n",
                "line 2, column 18",
                "ctrl+i is the same key as Tab to a terminal",
            ),
            (
                "[keys]\nsend = []\n",
                "line 2, column 8",
                "at least one key",
            ),
            // Two actions on one key: said at the table.
            (
                "[keys]\nconnect = \"f2\"\nsearch = \"F2\"\n",
                "line 1",
                "F2 is bound to both connect and search",
            ),
            (
                "[keys]\ncopy = \"ctrl+w\"\n",
                "line 1",
                "Ctrl+W is bound to both copy and delete-word",
            ),
            (
                "[keys]\nsearch = \"ctrl+k\"\n",
                "line 1",
                "Ctrl+K is bound to both connect and search",
            ),
        ];
        for (n, (text, at, says)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("{n}.toml"));
            std::fs::write(&path, text).unwrap();
            let err = read_config(&path).unwrap_err();
            assert!(err.contains(at) && err.contains(says), "{text:?}: {err}");
        }
        // Swapping two keys is no conflict.
        let swap: FileConfig =
            toml::from_str("[keys]\nconnect = \"ctrl+f\"\nsearch = \"ctrl+k\"\n").unwrap();
        assert!(Settings::merge(Args::default(), swap).is_ok());
    }

    #[test]
    fn line_and_column_count_characters_from_one() {
        assert_eq!(line_and_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("é\nx", 3), (2, 1));
        assert_eq!(line_and_column("éx", 2), (1, 2));
    }

    #[test]
    fn unknown_config_keys_are_errors() {
        assert!(toml::from_str::<FileConfig>("nmae = \"A\"").is_err());
    }

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../assets/config.example.toml");
        let file: FileConfig = toml::from_str(text).unwrap();
        assert!(Settings::merge(Args::default(), file).is_ok());
    }

    #[test]
    fn discovery_is_on_by_default_and_off_on_request_or_loopback() {
        let on = |list: &[&str], file: &str| {
            let file: FileConfig = toml::from_str(file).unwrap();
            Settings::merge(args(list), file).unwrap().discovery
        };
        assert_eq!(on(&[], ""), Means::ALL);
        assert!(!on(&["--discovery", "beacon"], "").mdns);
        assert_eq!(on(&["--no-discovery"], ""), Means::NONE);
        assert_eq!(on(&[], "discovery = \"off\""), Means::NONE);
        assert!(!on(&[], "discovery = \"mdns\"").beacon);
        assert_eq!(on(&["--bind", "127.0.0.1"], ""), Means::NONE);
        assert!(Args::try_parse_from(["brigade", "--discovery", "smoke"]).is_err());
    }

    #[test]
    fn a_peer_can_be_an_invite() {
        let p = PeerSpec::parse("brigade://v1/B@10.0.0.5:8080").unwrap();
        assert_eq!(p.addr.to_string(), "10.0.0.5:8080");
        assert_eq!(p.team.as_deref(), Some("B"));
        assert!(p.invite.is_some());
        assert!(PeerSpec::parse("brigade://v1/B@10.0.0.5").is_err());
    }

    #[test]
    fn bad_addresses_are_clap_errors() {
        let e = Args::try_parse_from(["brigade", "--bind", "10.0.0"]).unwrap_err();
        assert!(e.to_string().contains("--bind"), "{e}");
    }
}

/// Cases found by mutation testing (`docs/TESTING.md`, "Mutation testing"): each one fails
/// on a mutant of the code above that the other unit tests let through.
#[cfg(test)]
mod mutation_tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("brigade").chain(list.iter().copied())).unwrap()
    }

    fn advertised() -> Vec<&'static str> {
        // Fixed, so merging never looks at this machine's interfaces.
        vec!["--advertise-ip", "127.0.0.1"]
    }

    #[test]
    fn bell_and_history_are_on_unless_a_flag_or_the_file_turns_them_off() {
        let on = Settings::merge(args(&advertised()), FileConfig::default()).unwrap();
        assert!(on.notify == Notify::Bell && on.history, "{on:?}");

        let flags = [advertised(), vec!["--no-bell", "--no-history"]].concat();
        let off = Settings::merge(args(&flags), FileConfig::default()).unwrap();
        assert!(off.notify == Notify::Off && !off.history, "{off:?}");

        let file_off = FileConfig {
            bell: Some(false),
            history: Some(false),
            ..FileConfig::default()
        };
        let off = Settings::merge(args(&advertised()), file_off).unwrap();
        assert!(off.notify == Notify::Off && !off.history, "{off:?}");

        // The file cannot turn back on what a flag turned off.
        let file_on = FileConfig {
            bell: Some(true),
            history: Some(true),
            ..FileConfig::default()
        };
        let off = Settings::merge(args(&flags), file_on).unwrap();
        assert!(off.notify == Notify::Off && !off.history, "{off:?}");
    }

    #[test]
    fn notify_comes_from_the_flag_then_the_file_and_no_bell_means_off() {
        let with = |flags: &[&str], file: &str| {
            let file: FileConfig = toml::from_str(file).unwrap();
            Settings::merge(args(&[advertised(), flags.to_vec()].concat()), file)
        };
        assert_eq!(
            with(&["--notify", "osc9"], "").unwrap().notify,
            Notify::Osc9
        );
        assert_eq!(
            with(&["--notify", "OSC777"], "").unwrap().notify,
            Notify::Osc777
        );
        assert_eq!(with(&[], "notify = \"osc9\"").unwrap().notify, Notify::Osc9);
        assert_eq!(with(&[], "notify = \"off\"").unwrap().notify, Notify::Off);
        let flag_wins = with(&["--notify", "bell"], "notify = \"osc777\"");
        assert_eq!(flag_wins.unwrap().notify, Notify::Bell);
        // `notify` wins over the older `bell` key; --no-bell over everything.
        let both = with(&[], "bell = false\nnotify = \"osc9\"");
        assert_eq!(both.unwrap().notify, Notify::Osc9);
        let no_bell = with(&["--no-bell"], "notify = \"osc9\"");
        assert_eq!(no_bell.unwrap().notify, Notify::Off);
        // A bad mode says what is allowed, from the file and from the flag.
        let err = with(&[], "notify = \"popup\"").unwrap_err();
        assert!(
            err.contains("in the config file") && err.contains("osc777"),
            "{err}"
        );
        let bad = Args::try_parse_from(["brigade", "--notify", "popup"]).unwrap_err();
        assert!(
            bad.to_string().contains("bell, osc9, osc777 or off"),
            "{bad}"
        );
    }

    #[test]
    fn only_headless_mode_needs_a_name_and_port() {
        let tui = Settings::merge(args(&advertised()), FileConfig::default()).unwrap();
        assert_eq!((tui.name, tui.port), (None, None));
    }

    #[test]
    fn an_offset_inside_a_character_counts_from_its_start() {
        assert_eq!(line_and_column("é", 1), (1, 1));
        assert_eq!(line_and_column("x\né!", 3), (2, 1));
    }

    #[test]
    fn the_default_paths_are_brigade_s_own_files() {
        let config = default_config_path().expect("a home directory");
        assert_eq!(
            config.file_name(),
            Some("config.toml".as_ref()),
            "{config:?}"
        );
        assert!(
            config.components().any(|c| c.as_os_str() == "brigade"),
            "{config:?}"
        );
        let log = default_log_path().expect("a home directory");
        assert_eq!(log.file_name(), Some("brigade.log".as_ref()), "{log:?}");
        assert!(
            log.components().any(|c| c.as_os_str() == "brigade"),
            "{log:?}"
        );
    }
}
