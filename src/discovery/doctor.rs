//! `brigade --doctor`: listens a few seconds and says, per interface, its addresses,
//! whether the mDNS and beacon sockets could bind and send, what was heard from whom,
//! and in plain words what is likely missing. The TUI's doctor view (F2, `/doctor`)
//! writes the same report from the running discovery's live state ([`live`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mdns_sd::ServiceEvent;

use super::beacon::{self, Beacon, Kind};
use super::mdns;

/// What the doctor found.
#[derive(Debug)]
pub struct Findings {
    pub interfaces: Vec<beacon::Interface>,
    /// `Err(why)` when the beacon socket could not bind; `None`: the beacon is off.
    pub beacon_bind: Option<Result<(), String>>,
    /// Per broadcast address: whether a probe (or, live, the last beacon) could be sent.
    pub beacon_sends: Vec<(SocketAddr, Result<(), String>)>,
    /// `None`: mDNS is off.
    pub mdns: Option<Result<(), String>>,
    /// Brigades heard: (via, address, team), and how long ago (known when live).
    pub heard: BTreeMap<(&'static str, SocketAddr, String), Option<Duration>>,
    /// What the sends are: "beacon probe" (`--doctor`) or "last beacon" (the running
    /// discovery's latest announcement).
    pub sent: &'static str,
}

impl Default for Findings {
    fn default() -> Self {
        Findings {
            interfaces: Vec::new(),
            beacon_bind: Some(Ok(())),
            beacon_sends: Vec::new(),
            mdns: Some(Ok(())),
            heard: BTreeMap::new(),
            sent: "beacon probe",
        }
    }
}

/// The report of a running discovery (`None`: discovery is off) on the interfaces
/// `bind` allows, as it stands now.
pub fn live(bind: IpAddr, live: Option<&super::Live>) -> Findings {
    let interfaces = beacon::interfaces(bind);
    let Some(live) = live else {
        return Findings {
            interfaces,
            beacon_bind: None,
            mdns: None,
            sent: "last beacon",
            ..Findings::default()
        };
    };
    let now = tokio::time::Instant::now();
    Findings {
        interfaces,
        beacon_bind: live.beacon.clone(),
        beacon_sends: live
            .beacon_sends
            .iter()
            .map(|(to, r)| (*to, r.clone()))
            .collect(),
        mdns: live.mdns.clone(),
        heard: live
            .tracker
            .heard()
            .map(|(via, addr, team, at)| {
                let key = (via.label(), addr, team.to_string());
                (key, Some(now.saturating_duration_since(at)))
            })
            .collect(),
        sent: "last beacon",
    }
}

/// Where the listeners tell what they heard: (via, address, team).
type Heard = tokio::sync::mpsc::Sender<(&'static str, SocketAddr, String)>;

/// Listens for `listen` on the interfaces `bind` allows.
pub async fn examine(bind: IpAddr, beacon_port: u16, listen: Duration) -> Findings {
    let mut f = Findings {
        interfaces: beacon::interfaces(bind),
        ..Findings::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    f.mdns = Some(browse(bind, listen, tx.clone()));
    let socket = beacon::socket(beacon_port)
        .map_err(|e| format!("cannot bind UDP port {beacon_port}: {e}"))
        .and_then(|s| tokio::net::UdpSocket::from_std(s).map_err(|e| e.to_string()));
    match socket {
        Ok(socket) => {
            f.beacon_bind = Some(Ok(()));
            let nonce = super::random_u64();
            let probe = Beacon {
                kind: Kind::Probe,
                nonce,
                port: 0,
                team: String::new(),
                key: None,
            }
            .encode();
            for to in beacon::targets(&f.interfaces, beacon_port) {
                let sent = socket
                    .send_to(&probe, to)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                f.beacon_sends.push((to, sent));
            }
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; beacon::MAX_DATAGRAM + 1];
                while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                    if let Some(b) = Beacon::decode(&buf[..n.min(beacon::MAX_DATAGRAM + 1)])
                        && b.kind == Kind::Announce
                        && b.nonce != nonce
                        && tx
                            .send(("beacon", SocketAddr::new(from.ip(), b.port), b.team))
                            .await
                            .is_err()
                    {
                        break;
                    }
                }
            });
        }
        Err(e) => f.beacon_bind = Some(Err(e)),
    }
    drop(tx);
    let deadline = tokio::time::sleep(listen);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            got = rx.recv() => match got {
                Some(h) => { f.heard.insert(h, None); }
                None => { (&mut deadline).await; break; }
            },
        }
    }
    f
}

/// Browses for brigades by mDNS for `listen` on a thread; what resolves goes to `tx`.
fn browse(bind: IpAddr, listen: Duration, tx: Heard) -> Result<(), String> {
    match mdns::daemon(bind) {
        Ok(daemon) => match daemon.browse(mdns::SERVICE) {
            Ok(events) => {
                std::thread::spawn(move || {
                    let until = std::time::Instant::now() + listen;
                    while let Ok(event) = events
                        .recv_timeout(until.saturating_duration_since(std::time::Instant::now()))
                    {
                        if let ServiceEvent::ServiceResolved(s) = event
                            && let Some(h) = mdns::hint(&s)
                            && tx.blocking_send(("mdns", h.addr, h.team)).is_err()
                        {
                            break;
                        }
                    }
                    let _ = daemon.shutdown();
                });
                Ok(())
            }
            Err(e) => Err(format!("mDNS browse: {e}")),
        },
        Err(e) => Err(e),
    }
}

impl Findings {
    /// The report in plain words.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Interfaces (IPv4):");
        if self.interfaces.is_empty() {
            let _ = writeln!(
                out,
                "  none found (with --bind, only that address's interface counts)"
            );
        }
        for i in &self.interfaces {
            let kind = if i.loopback {
                " (loopback: not used)"
            } else {
                ""
            };
            let bcast = i
                .broadcast
                .map_or("no broadcast".into(), |b| format!("broadcast {b}"));
            let _ = writeln!(out, "  {}: {} {bcast}{kind}", i.name, i.ip);
        }
        let ok = |r: &Result<(), String>| match r {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("FAILED: {e}"),
        };
        let on = |r: &Option<Result<(), String>>| r.as_ref().map_or("off".to_string(), ok);
        let _ = writeln!(out, "mDNS socket: {}", on(&self.mdns));
        let _ = writeln!(out, "Beacon socket: {}", on(&self.beacon_bind));
        for (to, sent) in &self.beacon_sends {
            let _ = writeln!(out, "  {} to {to}: {}", self.sent, ok(sent));
        }
        let _ = writeln!(out, "Heard:");
        if self.heard.is_empty() {
            let _ = writeln!(out, "  nobody");
        }
        for ((via, addr, team), ago) in &self.heard {
            let ago = ago.map_or(String::new(), |d| format!(", {} s ago", d.as_secs()));
            let _ = writeln!(out, "  {team} at {addr} by {via}{ago}");
        }
        let _ = writeln!(out, "Hints:");
        for hint in self.hints() {
            let _ = writeln!(out, "  - {hint}");
        }
        out
    }

    /// What is likely missing, in plain words.
    pub fn hints(&self) -> Vec<String> {
        let mut hints = Vec::new();
        let usable = self.interfaces.iter().filter(|i| !i.loopback).count();
        if usable == 0 {
            hints.push("no network interface besides loopback: connect to a network first".into());
        }
        if self.mdns.is_none() && self.beacon_bind.is_none() {
            hints.push("discovery is off (--no-discovery, or --bind to a loopback address): nobody finds you and you find nobody; type an address or use an invite".into());
            return hints;
        }
        if matches!(self.beacon_bind, Some(Err(_))) {
            hints.push("the beacon port is taken by another program or not allowed: beacons cannot be heard".into());
        }
        if self.beacon_sends.iter().any(|(_, r)| r.is_err()) {
            hints.push(
                "a beacon could not be sent: a firewall may block outgoing UDP broadcast".into(),
            );
        }
        if matches!(self.mdns, Some(Err(_))) {
            hints.push(
                "mDNS could not start: another program may hold port 5353 exclusively".into(),
            );
        }
        let by = |via: &str| self.heard.keys().any(|(v, _, _)| *v == via);
        if self.mdns.is_none() || self.beacon_bind.is_none() {
            let (on, off) = if self.mdns.is_none() {
                ("beacon", "mDNS")
            } else {
                ("mdns", "the beacon")
            };
            hints.push(if by(on) {
                format!("{off} is off here (--discovery); discovery works by {on}")
            } else {
                format!(
                    "nobody heard by {on} ({off} is off here, --discovery): the network may filter it, or nobody else runs brigade here; a brigade on another subnet is never heard: use an invite"
                )
            });
            return hints;
        }
        match (by("mdns"), by("beacon")) {
            (false, false) => hints.push(format!(
                "nobody heard: nobody else runs brigade here, or the network filters multicast and broadcast (campus Wi-Fi often isolates clients), or a firewall blocks UDP 5353 and {}; a brigade on another subnet is never heard: use an invite (brigade --invite on one side, --peer INVITE on the other)",
                beacon::BEACON_PORT
            )),
            (false, true) => hints.push("beacons pass but mDNS does not: multicast may be filtered here (or the others run with --discovery beacon); discovery still works by beacon".into()),
            (true, false) => hints.push("mDNS passes but beacons do not: broadcast is filtered, or the others run with --discovery mdns".into()),
            (true, true) => hints.push("both means work".into()),
        }
        hints
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_suggests_an_invite() {
        let f = Findings::default();
        let text = f.text();
        assert!(text.contains("use an invite"), "{text}");
        assert!(text.contains("no network interface"), "{text}");
    }

    #[test]
    fn the_live_report_is_the_running_discoverys_state() {
        let mut state = crate::discovery::Live {
            mdns: Some(Err("no socket".into())),
            beacon: Some(Ok(())),
            ..Default::default()
        };
        let to: SocketAddr = "10.77.0.255:47789".parse().unwrap();
        state.beacon_sends.insert(to, Ok(()));
        let hint = crate::event::Hint {
            addr: "10.77.0.2:9000".parse().unwrap(),
            team: "B".into(),
            key: None,
            via: crate::event::Via::Beacon,
        };
        let now = tokio::time::Instant::now();
        state
            .tracker
            .report(crate::discovery::Report::Seen(hint), now);
        let text = live_report(&state);
        assert!(text.contains("mDNS socket: FAILED: no socket"), "{text}");
        assert!(
            text.contains("last beacon to 10.77.0.255:47789: ok"),
            "{text}"
        );
        assert!(
            text.contains("B at 10.77.0.2:9000 by beacon, 0 s ago"),
            "{text}"
        );
        assert!(
            text.contains("another program may hold port 5353"),
            "{text}"
        );
        // Discovery off: said so, and what to do instead.
        let off = live(IpAddr::from([127, 0, 0, 1]), None).text();
        assert!(off.contains("mDNS socket: off"), "{off}");
        assert!(off.contains("discovery is off"), "{off}");
    }

    fn live_report(l: &crate::discovery::Live) -> String {
        live(IpAddr::from([127, 0, 0, 1]), Some(l)).text()
    }

    #[test]
    fn beacons_without_mdns_mean_multicast_is_filtered() {
        let mut f = Findings::default();
        f.heard
            .insert(("beacon", "10.0.0.2:80".parse().unwrap(), "B".into()), None);
        assert!(f.text().contains("multicast may be filtered"));
        assert!(f.text().contains("B at 10.0.0.2:80 by beacon"));
    }
}
