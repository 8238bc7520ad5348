//! Layered discovery (issue 16): each brigade announces itself and listens by mDNS/
//! DNS-SD ([`mdns`]) and by a UDP broadcast beacon ([`beacon`]). What is heard is a
//! hint ([`crate::event::Hint`]), deduplicated and bounded here ([`Tracker`]), and
//! reaches the store as `NetEvent::Discovered` / `NetEvent::Lost` through the session's
//! pump. Invites ([`invite`]) name a brigade where nothing passes; `--doctor`
//! ([`doctor`]) tells why someone cannot be seen.

pub mod beacon;
pub mod doctor;
pub mod invite;
pub mod mdns;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::event::{Hint, NetEvent, PublicKey, Via};
use beacon::{Beacon, Kind};

/// Most brigades tracked at once; announcements beyond are ignored.
pub const MAX_DISCOVERED: usize = 256;

/// Longest a quit waits for the mDNS goodbye to go out.
const GOODBYE_WAIT: Duration = Duration::from_millis(500);

/// Which means discovery uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Means {
    pub mdns: bool,
    pub beacon: bool,
}

impl Default for Means {
    fn default() -> Self {
        Self::ALL
    }
}

impl Means {
    pub const ALL: Means = Means {
        mdns: true,
        beacon: true,
    };
    pub const NONE: Means = Means {
        mdns: false,
        beacon: false,
    };

    /// `mdns,beacon`, `mdns`, `beacon`, or `off`/`none`.
    pub fn parse(s: &str) -> Result<Means, String> {
        let mut means = Means::NONE;
        for part in s.split(',').map(str::trim) {
            match part {
                "mdns" => means.mdns = true,
                "beacon" => means.beacon = true,
                "off" | "none" => {}
                other => {
                    return Err(format!(
                        "{other:?} is not a discovery means: write mdns, beacon, mdns,beacon or off"
                    ));
                }
            }
        }
        Ok(means)
    }

    pub fn any(self) -> bool {
        self.mdns || self.beacon
    }
}

/// What discovery announces and where.
#[derive(Debug, Clone)]
pub struct Config {
    pub means: Means,
    /// `0.0.0.0`: every interface; otherwise only the interface with this address.
    pub bind: IpAddr,
    pub team: String,
    /// The TCP port this brigade listens on.
    pub port: u16,
    /// The long-term public key to announce (`None`: announced without one).
    pub key: Option<PublicKey>,
    /// The UDP port of beacons ([`beacon::BEACON_PORT`]).
    pub beacon_port: u16,
    /// How often the beacon is sent; a beacon peer is gone after 3 silent periods.
    pub period: Duration,
}

impl Config {
    pub fn new(means: Means, bind: IpAddr, team: String, port: u16) -> Config {
        Config {
            means,
            bind,
            team,
            port,
            key: None,
            beacon_port: beacon::BEACON_PORT,
            period: beacon::PERIOD,
        }
    }
}

/// Whether discovery may run with this bind address: a loopback bind reaches nobody
/// else, so discovery is off.
pub fn allowed(bind: IpAddr) -> bool {
    let loopback = match bind {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v| v.is_loopback()),
    };
    !loopback
}

/// This machine's addresses a brigade announces (or only `bind`'s).
pub fn local_addresses(bind: IpAddr) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = beacon::interfaces(bind)
        .into_iter()
        .filter(|i| !i.loopback)
        .map(|i| IpAddr::V4(i.ip))
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

/// What the means report to the tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Seen(Hint),
    Gone {
        addr: SocketAddr,
        team: String,
        via: Via,
    },
}

/// Deduplicates sightings (a brigade is told once, and again only after it was lost
/// or when it announces another key), bounds how many are tracked, and expires beacon
/// peers that went silent.
#[derive(Debug, Default)]
pub struct Tracker {
    /// When each was last heard, and the key it last announced.
    seen: HashMap<(Via, SocketAddr, String), (Instant, Option<PublicKey>)>,
}

impl Tracker {
    /// A report in; what the store must hear, if anything.
    pub fn report(&mut self, report: Report, now: Instant) -> Option<NetEvent> {
        match report {
            Report::Seen(hint) => {
                let key = (hint.via, hint.addr, hint.team.clone());
                if let Some((at, announced)) = self.seen.get_mut(&key) {
                    *at = now;
                    // Another key for the same brigade: the store must judge it (the
                    // per-IP rate limit of the means bounds how often).
                    if *announced == hint.key {
                        return None;
                    }
                    *announced = hint.key;
                    return Some(NetEvent::Discovered(hint));
                }
                if self.seen.len() >= MAX_DISCOVERED {
                    return None;
                }
                self.seen.insert(key, (now, hint.key));
                Some(NetEvent::Discovered(hint))
            }
            Report::Gone { addr, team, via } => self
                .seen
                .remove(&(via, addr, team.clone()))
                .map(|_| NetEvent::Lost { addr, team, via }),
        }
    }

    /// Who is tracked, by what means, and when each was last heard.
    pub fn heard(&self) -> impl Iterator<Item = (Via, SocketAddr, &str, Instant)> + '_ {
        self.seen
            .iter()
            .map(|((via, addr, team), (at, _))| (*via, *addr, team.as_str(), *at))
    }

    /// Beacon peers not heard for `max_silence`: lost.
    pub fn expire(&mut self, now: Instant, max_silence: Duration) -> Vec<NetEvent> {
        let stale: Vec<_> = self
            .seen
            .iter()
            .filter(|((via, _, _), (at, _))| {
                *via == Via::Beacon && now.duration_since(*at) > max_silence
            })
            .map(|(k, _)| k.clone())
            .collect();
        stale
            .into_iter()
            .map(|key| {
                self.seen.remove(&key);
                let (via, addr, team) = key;
                NetEvent::Lost { addr, team, via }
            })
            .collect()
    }
}

/// What the running discovery knows of itself, for the TUI's doctor view: whether
/// each means started (`None`: turned off), where the beacon was last sent and how
/// that went, and who is heard (the tracker).
#[derive(Debug, Default)]
pub struct Live {
    pub mdns: Option<Result<(), String>>,
    pub beacon: Option<Result<(), String>>,
    pub beacon_sends: BTreeMap<SocketAddr, Result<(), String>>,
    pub tracker: Tracker,
}

/// The live state, shared by the discovery tasks and whoever reports it.
pub type Shared = Arc<Mutex<Live>>;

fn lock(live: &Shared) -> std::sync::MutexGuard<'_, Live> {
    // A panicked task cannot leave it half-written in a way that matters to a report.
    live.lock().unwrap_or_else(|e| e.into_inner())
}

/// Discovery running: stops when dropped.
pub struct Discovery {
    tasks: Vec<JoinHandle<()>>,
    /// The mDNS daemon and our registration's full name.
    daemon: Option<(mdns_sd::ServiceDaemon, String)>,
    /// Why a means could not start (told to the user once).
    pub problems: Vec<String>,
    /// What it knows of itself now (`--doctor` in the TUI).
    pub live: Shared,
}

impl Drop for Discovery {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // Withdraw our registration (mDNS goodbye) so the others show us gone at
        // once; bounded, so quitting never hangs on it.
        if let Some((daemon, fullname)) = self.daemon.take() {
            if let Ok(done) = daemon.unregister(&fullname) {
                let _ = done.recv_timeout(GOODBYE_WAIT);
            }
            if let Ok(done) = daemon.shutdown() {
                let _ = done.recv_timeout(GOODBYE_WAIT);
            }
        }
    }
}

/// A random number per run (no extra dependency: the std hasher's random keys).
pub fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// Starts the chosen means; what they find goes to `out` as network events. Must run
/// inside a tokio runtime.
pub fn start(config: Config, out: mpsc::Sender<NetEvent>) -> Discovery {
    let (reports_tx, mut reports) = mpsc::channel::<Report>(256);
    let mut discovery = Discovery {
        tasks: Vec::new(),
        daemon: None,
        problems: Vec::new(),
        live: Shared::default(),
    };
    let live = discovery.live.clone();
    if config.means.mdns {
        let started = mdns::start(&config, &local_addresses(config.bind), reports_tx.clone());
        lock(&live).mdns = Some(started.as_ref().map(|_| ()).map_err(Clone::clone));
        match started {
            Ok(registered) => discovery.daemon = Some(registered),
            Err(e) => discovery.problems.push(e),
        }
    }
    if config.means.beacon {
        let bound = beacon::socket(config.beacon_port)
            .map_err(|e| format!("cannot bind UDP port {}: {e}", config.beacon_port))
            .and_then(|s| tokio::net::UdpSocket::from_std(s).map_err(|e| e.to_string()));
        lock(&live).beacon = Some(bound.as_ref().map(|_| ()).map_err(Clone::clone));
        match bound {
            Ok(socket) => discovery.tasks.push(tokio::spawn(run_beacon(
                config.clone(),
                socket,
                reports_tx.clone(),
                live.clone(),
            ))),
            Err(e) => discovery.problems.push(format!("beacon: {e}")),
        }
    }
    drop(reports_tx);
    let max_silence = config.period * 3;
    discovery.tasks.push(tokio::spawn(async move {
        let mut sweep = tokio::time::interval(config.period.min(Duration::from_secs(10)));
        loop {
            let events: Vec<NetEvent> = tokio::select! {
                report = reports.recv() => match report {
                    Some(r) => lock(&live).tracker.report(r, Instant::now()).into_iter().collect(),
                    None => return,
                },
                _ = sweep.tick() => lock(&live).tracker.expire(Instant::now(), max_silence),
            };
            for event in events {
                // Hints only: when the session is busy, one can be dropped.
                let _ = out.try_send(event);
            }
        }
    }));
    discovery
}

/// Announces at start and every period (and once more, throttled, when a new brigade
/// or a probe is heard, so a newcomer learns about us without waiting a period);
/// hears the others.
async fn run_beacon(
    config: Config,
    socket: tokio::net::UdpSocket,
    reports: mpsc::Sender<Report>,
    live: Shared,
) {
    let nonce = random_u64();
    let announce = Beacon {
        kind: Kind::Announce,
        nonce,
        port: config.port,
        team: config.team.clone(),
        key: config.key,
    }
    .encode();
    let mut tick = tokio::time::interval(config.period);
    let mut limit = beacon::RateLimit::default();
    let mut heard: HashSet<u64> = HashSet::new();
    let mut last_extra: Option<Instant> = None;
    let mut buf = [0u8; beacon::MAX_DATAGRAM + 1];
    loop {
        let mut send_now = false;
        tokio::select! {
            _ = tick.tick() => send_now = true,
            got = socket.recv_from(&mut buf) => {
                let Ok((n, from)) = got else { continue };
                if n > beacon::MAX_DATAGRAM
                    || !limit.allow(from.ip(), std::time::Instant::now())
                    || !heard_here(&config, from.ip())
                {
                    continue;
                }
                let Some(b) = Beacon::decode(&buf[..n]) else { continue };
                if b.nonce == nonce {
                    continue;
                }
                let new = b.kind == Kind::Probe || !heard.contains(&b.nonce);
                if b.kind == Kind::Announce {
                    if heard.len() >= MAX_DISCOVERED {
                        heard.clear();
                    }
                    heard.insert(b.nonce);
                    let hint = Hint {
                        addr: SocketAddr::new(from.ip(), b.port),
                        team: b.team,
                        key: b.key,
                        via: Via::Beacon,
                    };
                    if reports.send(Report::Seen(hint)).await.is_err() {
                        return;
                    }
                }
                let throttled = last_extra.is_some_and(|t| t.elapsed() < Duration::from_secs(1));
                if new && !throttled {
                    last_extra = Some(Instant::now());
                    send_now = true;
                }
            }
        }
        if send_now {
            let targets = beacon::targets(&beacon::interfaces(config.bind), config.beacon_port);
            for to in targets {
                let sent = socket.send_to(&announce, to).await.map(|_| ());
                if let Err(e) = &sent {
                    tracing::debug!("beacon to {to}: {e}");
                }
                let mut live = lock(&live);
                // Bounded by the interfaces; one that went away leaves its last word.
                if live.beacon_sends.len() < MAX_DISCOVERED || live.beacon_sends.contains_key(&to) {
                    live.beacon_sends
                        .insert(to, sent.map_err(|e| e.to_string()));
                }
            }
        }
    }
}

/// With a specific bind address, only beacons from its interface's subnet count (the
/// socket itself hears every interface, to get broadcasts).
fn heard_here(config: &Config, from: IpAddr) -> bool {
    config.bind.is_unspecified()
        || beacon::interfaces(config.bind)
            .iter()
            .any(|i| i.on_subnet(from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(via: Via) -> Hint {
        Hint {
            addr: "10.77.0.2:9000".parse().unwrap(),
            team: "B".into(),
            key: None,
            via,
        }
    }

    #[test]
    fn means_parse() {
        assert_eq!(Means::parse("mdns,beacon"), Ok(Means::ALL));
        assert_eq!(Means::parse("off"), Ok(Means::NONE));
        assert!(Means::parse("beacon").unwrap().beacon);
        assert!(!Means::parse("beacon").unwrap().mdns);
        assert!(Means::parse("smoke").is_err());
    }

    #[test]
    fn loopback_binds_turn_discovery_off() {
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert!(!allowed(ip.parse().unwrap()), "{ip}");
        }
        assert!(allowed("0.0.0.0".parse().unwrap()));
        assert!(allowed("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn a_sighting_is_told_once_and_again_after_it_was_lost() {
        let mut t = Tracker::default();
        let now = Instant::now();
        assert!(matches!(
            t.report(Report::Seen(hint(Via::Beacon)), now),
            Some(NetEvent::Discovered(_))
        ));
        assert_eq!(t.report(Report::Seen(hint(Via::Beacon)), now), None);
        // The same brigade by the other means is its own sighting.
        assert!(t.report(Report::Seen(hint(Via::Mdns)), now).is_some());
        let period = Duration::from_secs(30);
        assert!(t.expire(now + period * 2, period * 3).is_empty());
        let lost = t.expire(now + period * 4, period * 3);
        assert_eq!(
            lost,
            vec![NetEvent::Lost {
                addr: hint(Via::Beacon).addr,
                team: "B".into(),
                via: Via::Beacon
            }]
        );
        // mDNS peers leave by removal, not by the beacon's clock.
        let gone = Report::Gone {
            addr: hint(Via::Mdns).addr,
            team: "B".into(),
            via: Via::Mdns,
        };
        assert!(matches!(
            t.report(gone.clone(), now),
            Some(NetEvent::Lost { .. })
        ));
        assert_eq!(t.report(gone, now), None);
        assert!(t.report(Report::Seen(hint(Via::Beacon)), now).is_some());
    }

    #[test]
    fn another_announced_key_is_told_again() {
        let mut t = Tracker::default();
        let now = Instant::now();
        let keyed = |k: u8| Hint {
            key: Some(PublicKey([k; 32])),
            ..hint(Via::Beacon)
        };
        assert!(t.report(Report::Seen(keyed(1)), now).is_some());
        assert_eq!(t.report(Report::Seen(keyed(1)), now), None);
        assert_eq!(
            t.report(Report::Seen(keyed(2)), now),
            Some(NetEvent::Discovered(keyed(2)))
        );
        assert_eq!(t.report(Report::Seen(keyed(2)), now), None);
    }

    #[test]
    fn the_tracker_is_bounded() {
        let mut t = Tracker::default();
        let now = Instant::now();
        let told = (0..MAX_DISCOVERED + 10)
            .filter(|i| {
                let mut h = hint(Via::Beacon);
                h.addr.set_port(1000 + *i as u16);
                t.report(Report::Seen(h), now).is_some()
            })
            .count();
        assert_eq!(told, MAX_DISCOVERED);
    }
}
