//! The UDP broadcast beacon: a small, versioned, bounded datagram sent to every IPv4
//! interface's broadcast address at start and every 30 s. It passes where multicast is
//! filtered but broadcast is not. What arrives is size-checked, parsed strictly and
//! rate-limited per source; it is a hint, never proof.
//!
//! The datagram (all integers big-endian):
//!
//! | bytes | field |
//! | --- | --- |
//! | 4 | magic `BRGD` |
//! | 1 | version, `1` |
//! | 1 | kind: `1` announce, `2` probe (asks brigades to announce themselves; `--doctor`) |
//! | 8 | nonce: random per run, so a brigade ignores its own beacons |
//! | 2 | the TCP port it listens on (0 in a probe) |
//! | 1 | team length `n`, at most 32 |
//! | n | team, UTF-8, a valid team name (empty in a probe) |
//! | 1 | `0`: no key follows; `1`: a 32-byte X25519 public key follows |
//! | 0/32 | the key |
//!
//! Anything longer than [`MAX_DATAGRAM`], shorter than its fields say, with trailing
//! bytes, another magic or version, or an invalid team is ignored.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::event::PublicKey;
use crate::protocol::check_team_name;

/// The UDP port every brigade's beacon socket binds (with SO_REUSEPORT, so several
/// brigades on one host all hear broadcasts).
pub const BEACON_PORT: u16 = 47_789;
/// How often a brigade announces itself.
pub const PERIOD: Duration = Duration::from_secs(30);
/// Largest datagram accepted; a valid one is at most 81 bytes.
pub const MAX_DATAGRAM: usize = 128;
const MAGIC: &[u8; 4] = b"BRGD";
const VERSION: u8 = 1;
const MAX_TEAM: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Announce,
    Probe,
}

/// One beacon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beacon {
    pub kind: Kind,
    pub nonce: u64,
    pub port: u16,
    pub team: String,
    pub key: Option<PublicKey>,
}

impl Beacon {
    pub fn encode(&self) -> Vec<u8> {
        let team = self.team.as_bytes();
        let team = &team[..team.len().min(MAX_TEAM)];
        let mut out = Vec::with_capacity(MAX_DATAGRAM);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(match self.kind {
            Kind::Announce => 1,
            Kind::Probe => 2,
        });
        out.extend_from_slice(&self.nonce.to_be_bytes());
        out.extend_from_slice(&self.port.to_be_bytes());
        out.push(team.len() as u8);
        out.extend_from_slice(team);
        match &self.key {
            Some(key) => {
                out.push(1);
                out.extend_from_slice(&key.0);
            }
            None => out.push(0),
        }
        out
    }

    /// Parses a datagram strictly; `None` for anything malformed.
    pub fn decode(bytes: &[u8]) -> Option<Beacon> {
        if bytes.len() > MAX_DATAGRAM {
            return None;
        }
        let mut r = Reader(bytes);
        if r.take(4)? != MAGIC || r.byte()? != VERSION {
            return None;
        }
        let kind = match r.byte()? {
            1 => Kind::Announce,
            2 => Kind::Probe,
            _ => return None,
        };
        let nonce = u64::from_be_bytes(r.take(8)?.try_into().ok()?);
        let port = u16::from_be_bytes(r.take(2)?.try_into().ok()?);
        let n = r.byte()? as usize;
        if n > MAX_TEAM {
            return None;
        }
        let team = std::str::from_utf8(r.take(n)?).ok()?.to_string();
        let key = match r.byte()? {
            0 => None,
            1 => Some(PublicKey(r.take(32)?.try_into().ok()?)),
            _ => return None,
        };
        if !r.0.is_empty() {
            return None;
        }
        if kind == Kind::Announce && (port == 0 || check_team_name(&team).is_err()) {
            return None;
        }
        Some(Beacon {
            kind,
            nonce,
            port,
            team,
            key,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
}

/// Per-source rate limit: at most `MAX_PER_WINDOW` datagrams per source IP per window;
/// the table of sources is bounded too (cleared when full).
pub struct RateLimit {
    window: Duration,
    sources: HashMap<IpAddr, (Instant, u32)>,
}

const MAX_PER_WINDOW: u32 = 8;
const MAX_SOURCES: usize = 1024;

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(10),
            sources: HashMap::new(),
        }
    }
}

impl RateLimit {
    /// Whether a datagram from `ip` at `now` may be looked at.
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.sources.len() >= MAX_SOURCES && !self.sources.contains_key(&ip) {
            self.sources
                .retain(|_, (start, _)| now.duration_since(*start) < self.window);
            if self.sources.len() >= MAX_SOURCES {
                return false;
            }
        }
        let entry = self.sources.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= MAX_PER_WINDOW
    }
}

/// An IPv4 interface a beacon goes out on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub ip: Ipv4Addr,
    pub broadcast: Option<Ipv4Addr>,
    pub netmask: Ipv4Addr,
    pub loopback: bool,
}

impl Interface {
    /// Whether `ip` is on this interface's subnet.
    pub fn on_subnet(&self, ip: IpAddr) -> bool {
        let IpAddr::V4(ip) = ip else { return false };
        let mask = u32::from(self.netmask);
        u32::from(ip) & mask == u32::from(self.ip) & mask
    }
}

/// The IPv4 interfaces of this machine; with a specific `bind` address, only that one.
pub fn interfaces(bind: IpAddr) -> Vec<Interface> {
    let Ok(all) = if_addrs::get_if_addrs() else {
        return Vec::new();
    };
    all.into_iter()
        .filter_map(|i| match &i.addr {
            if_addrs::IfAddr::V4(v4) => Some(Interface {
                name: i.name.clone(),
                ip: v4.ip,
                // Without a configured broadcast address (`ip addr add` without
                // `brd +`; if-addrs then reports none, or the address itself), the
                // subnet's: the address with every host bit set.
                broadcast: v4.broadcast.filter(|b| *b != v4.ip).or_else(|| {
                    let mask = u32::from(v4.netmask);
                    (mask != u32::MAX).then(|| Ipv4Addr::from(u32::from(v4.ip) | !mask))
                }),
                netmask: v4.netmask,
                loopback: i.is_loopback(),
            }),
            if_addrs::IfAddr::V6(_) => None,
        })
        .filter(|i| bind.is_unspecified() || IpAddr::V4(i.ip) == bind)
        .collect()
}

/// The beacon socket: UDP on 0.0.0.0:`port`, broadcast allowed, SO_REUSEPORT so that
/// several brigades on one host each get a copy of every broadcast.
pub fn socket(port: u16) -> std::io::Result<std::net::UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.set_broadcast(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into())?;
    Ok(socket.into())
}

/// Where a beacon goes for each interface that has a broadcast address.
pub fn targets(interfaces: &[Interface], port: u16) -> Vec<SocketAddr> {
    interfaces
        .iter()
        .filter(|i| !i.loopback)
        .filter_map(|i| i.broadcast)
        .map(|b| SocketAddr::new(IpAddr::V4(b), port))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Beacon {
        Beacon {
            kind: Kind::Announce,
            nonce: 0x0102_0304_0506_0708,
            port: 8080,
            team: "Team_B".into(),
            key: Some(PublicKey([7; 32])),
        }
    }

    #[test]
    fn a_beacon_round_trips_and_stays_small() {
        for b in [
            sample(),
            Beacon {
                key: None,
                ..sample()
            },
        ] {
            let bytes = b.encode();
            assert!(bytes.len() <= MAX_DATAGRAM);
            assert_eq!(Beacon::decode(&bytes), Some(b));
        }
    }

    #[test]
    fn malformed_truncated_and_oversized_beacons_are_refused() {
        let good = sample().encode();
        for n in 0..good.len() {
            assert_eq!(Beacon::decode(&good[..n]), None, "truncated to {n}");
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(Beacon::decode(&long), None, "trailing byte");
        assert_eq!(Beacon::decode(&[0u8; 4096]), None);
        let mut bad = good.clone();
        bad[4] = 2;
        assert_eq!(Beacon::decode(&bad), None, "another version");
        let spaced = Beacon {
            team: "two words".into(),
            ..sample()
        };
        assert_eq!(Beacon::decode(&spaced.encode()), None, "invalid team");
        let no_port = Beacon {
            port: 0,
            ..sample()
        };
        assert_eq!(Beacon::decode(&no_port.encode()), None, "port 0");
    }

    #[test]
    fn subnets() {
        let i = Interface {
            name: "d0".into(),
            ip: "10.77.0.1".parse().unwrap(),
            broadcast: None,
            netmask: "255.255.255.0".parse().unwrap(),
            loopback: false,
        };
        assert!(i.on_subnet("10.77.0.200".parse().unwrap()));
        assert!(!i.on_subnet("10.78.0.2".parse().unwrap()));
        assert!(!i.on_subnet("::1".parse().unwrap()));
    }

    #[test]
    fn each_source_is_rate_limited_alone() {
        let mut limit = RateLimit::default();
        let now = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let allowed = (0..20).filter(|_| limit.allow(a, now)).count();
        assert_eq!(allowed, MAX_PER_WINDOW as usize);
        assert!(limit.allow(b, now));
        assert!(limit.allow(a, now + Duration::from_secs(11)));
    }
}
