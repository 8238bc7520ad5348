//! Invites, for networks where no announcement passes: one line that names a brigade's
//! addresses, port, team and key, versioned:
//!
//! `brigade://v1/TEAM@IP[,IP...]:PORT[?key=HEX64]`
//!
//! e.g. `brigade://v1/B@10.0.0.5,192.168.1.7:8080?key=3f...`. `--peer` and the
//! new-recipient form accept one; `brigade --invite` prints one, and on a terminal the
//! same as a QR code.

use std::net::{IpAddr, SocketAddr};

use qrcode::{Color, QrCode};

use crate::event::{Hint, PublicKey, Via};
use crate::protocol::check_team_name;

pub const SCHEME: &str = "brigade://";
const VERSION: &str = "v1";
/// Most addresses an invite may carry.
const MAX_ADDRESSES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub team: String,
    /// At least one address.
    pub addresses: Vec<IpAddr>,
    pub port: u16,
    pub key: Option<PublicKey>,
}

impl Invite {
    /// Whether `s` is meant as an invite (then parse errors are about the invite).
    pub fn looks_like(s: &str) -> bool {
        s.trim().starts_with(SCHEME)
    }

    pub fn parse(s: &str) -> Result<Invite, String> {
        let bad = |why: &str| {
            format!(
                "not a brigade invite ({why}): expected {SCHEME}{VERSION}/TEAM@IP[,IP]:PORT[?key=...]"
            )
        };
        let rest = s
            .trim()
            .strip_prefix(SCHEME)
            .ok_or_else(|| bad("no brigade:// at the start"))?;
        let (version, rest) = rest.split_once('/').ok_or_else(|| bad("no version"))?;
        if version != VERSION {
            return Err(format!(
                "an invite of version {version:?}: this brigade reads {VERSION}; update it"
            ));
        }
        let (main, query) = match rest.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (rest, None),
        };
        let (team, hosts) = main.rsplit_once('@').ok_or_else(|| bad("no TEAM@"))?;
        check_team_name(team)?;
        let (ips, port) = hosts.rsplit_once(':').ok_or_else(|| bad("no :PORT"))?;
        let port: u16 = port.parse().map_err(|_| bad("the port is not a number"))?;
        if port == 0 {
            return Err(bad("port 0"));
        }
        let addresses = ips
            .split(',')
            .map(|ip| {
                ip.parse::<IpAddr>()
                    .map_err(|_| bad(&format!("{ip:?} is not an IP")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if addresses.is_empty() || addresses.len() > MAX_ADDRESSES {
            return Err(bad("no address, or too many"));
        }
        let mut key = None;
        // Later versions may add fields; unknown ones are skipped.
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            if let Some(("key", hex)) = pair.split_once('=') {
                key = Some(
                    PublicKey::parse_hex(hex).ok_or_else(|| bad("the key is not 64 hex digits"))?,
                );
            }
        }
        Ok(Invite {
            team: team.to_string(),
            addresses,
            port,
            key,
        })
    }

    /// Puts first the address on one of these interfaces' subnets (the one most
    /// likely reachable from here: an invite lists every address of its machine, some
    /// may be a VPN's or a container bridge's); otherwise the order stays.
    pub fn prefer_reachable(&mut self, local: &[super::beacon::Interface]) {
        let near = |ip: &IpAddr| local.iter().any(|i| !i.loopback && i.on_subnet(*ip));
        if let Some(i) = self.addresses.iter().position(near) {
            let ip = self.addresses.remove(i);
            self.addresses.insert(0, ip);
        }
    }

    /// Where to write first: the first address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.addresses[0], self.port)
    }

    /// The hint this invite gives the store (via `invite`: the key is pinned at once).
    pub fn hint(&self) -> Hint {
        Hint {
            addr: self.addr(),
            team: self.team.clone(),
            key: self.key,
            via: Via::Invite,
        }
    }

    /// The QR code drawn with half blocks (two modules per character cell), light
    /// modules as block characters (for a dark terminal background), with a quiet zone.
    pub fn qr(&self) -> Result<String, String> {
        let code = QrCode::new(self.to_string().as_bytes()).map_err(|e| e.to_string())?;
        let width = code.width();
        let colors = code.to_colors();
        let quiet = 2;
        let size = width + 2 * quiet;
        let dark = |x: usize, y: usize| {
            x >= quiet
                && y >= quiet
                && x < width + quiet
                && y < width + quiet
                && colors[(y - quiet) * width + (x - quiet)] == Color::Dark
        };
        let mut out = String::new();
        for y in (0..size).step_by(2) {
            for x in 0..size {
                let top = dark(x, y);
                let bottom = y + 1 >= size || dark(x, y + 1);
                out.push(match (top, bottom) {
                    (false, false) => '█',
                    (false, true) => '▀',
                    (true, false) => '▄',
                    (true, true) => ' ',
                });
            }
            out.push('\n');
        }
        Ok(out)
    }
}

impl std::fmt::Display for Invite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ips: Vec<String> = self.addresses.iter().map(IpAddr::to_string).collect();
        write!(
            f,
            "{SCHEME}{VERSION}/{}@{}:{}",
            self.team,
            ips.join(","),
            self.port
        )?;
        if let Some(key) = &self.key {
            write!(f, "?key={}", key.hex())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Invite {
        Invite {
            team: "B".into(),
            addresses: vec!["10.0.0.5".parse().unwrap(), "192.168.1.7".parse().unwrap()],
            port: 8080,
            key: Some(PublicKey([0xab; 32])),
        }
    }

    #[test]
    fn an_invite_round_trips() {
        let text = sample().to_string();
        assert!(text.starts_with("brigade://v1/B@10.0.0.5,192.168.1.7:8080?key=abab"));
        assert_eq!(Invite::parse(&text), Ok(sample()));
        let keyless = Invite {
            key: None,
            ..sample()
        };
        assert_eq!(Invite::parse(&keyless.to_string()), Ok(keyless));
        let hint = sample().hint();
        assert_eq!(
            (hint.addr.to_string(), hint.via),
            ("10.0.0.5:8080".into(), Via::Invite)
        );
    }

    #[test]
    fn the_address_on_a_local_subnet_goes_first() {
        let wifi = crate::discovery::beacon::Interface {
            name: "wlan0".into(),
            ip: "192.168.1.20".parse().unwrap(),
            broadcast: None,
            netmask: "255.255.255.0".parse().unwrap(),
            loopback: false,
        };
        let mut invite = sample();
        invite.prefer_reachable(std::slice::from_ref(&wifi));
        assert_eq!(invite.addr().to_string(), "192.168.1.7:8080");
        let mut invite = sample();
        invite.prefer_reachable(&[]);
        assert_eq!(invite.addr().to_string(), "10.0.0.5:8080");
    }

    #[test]
    fn bad_invites_say_why() {
        for bad in [
            "brigade://v1/B@10.0.0.5",
            "brigade://v1/B@10.0.0.5:0",
            "brigade://v1/@10.0.0.5:80",
            "brigade://v1/B@nonsense:80",
            "brigade://v1/B@10.0.0.5:80?key=12",
            "brigade://B@10.0.0.5:80",
            "http://v1/B@10.0.0.5:80",
        ] {
            assert!(Invite::parse(bad).is_err(), "{bad}");
        }
        let newer = Invite::parse("brigade://v9/B@10.0.0.5:80").unwrap_err();
        assert!(newer.contains("update"), "{newer}");
    }

    #[test]
    fn the_qr_code_is_square_half_blocks() {
        let qr = sample().qr().unwrap();
        let lines: Vec<&str> = qr.lines().collect();
        let cols = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == cols));
        assert_eq!(lines.len(), cols.div_ceil(2));
        assert!(qr.contains(' ') && qr.contains('▀'));
    }
}
