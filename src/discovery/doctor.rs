//! `brigade --doctor`: listens a few seconds and says, per interface, its addresses,
//! whether the mDNS and beacon sockets could bind and send, what was heard from whom,
//! and in plain words what is likely missing.

use std::collections::BTreeSet;
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
    /// `Err(why)` when the beacon socket could not bind.
    pub beacon_bind: Result<(), String>,
    /// Per broadcast address: whether a probe could be sent.
    pub beacon_sends: Vec<(SocketAddr, Result<(), String>)>,
    pub mdns: Result<(), String>,
    /// Brigades heard: (via, address, team).
    pub heard: BTreeSet<(&'static str, SocketAddr, String)>,
}

impl Default for Findings {
    fn default() -> Self {
        Findings {
            interfaces: Vec::new(),
            beacon_bind: Ok(()),
            beacon_sends: Vec::new(),
            mdns: Ok(()),
            heard: BTreeSet::new(),
        }
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
    f.mdns = browse(bind, listen, tx.clone());
    let socket = beacon::socket(beacon_port)
        .map_err(|e| format!("cannot bind UDP port {beacon_port}: {e}"))
        .and_then(|s| tokio::net::UdpSocket::from_std(s).map_err(|e| e.to_string()));
    match socket {
        Ok(socket) => {
            f.beacon_bind = Ok(());
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
        Err(e) => f.beacon_bind = Err(e),
    }
    drop(tx);
    let deadline = tokio::time::sleep(listen);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            got = rx.recv() => match got {
                Some(h) => { f.heard.insert(h); }
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
        let _ = writeln!(out, "mDNS socket: {}", ok(&self.mdns));
        let _ = writeln!(out, "Beacon socket: {}", ok(&self.beacon_bind));
        for (to, sent) in &self.beacon_sends {
            let _ = writeln!(out, "  beacon probe to {to}: {}", ok(sent));
        }
        let _ = writeln!(out, "Heard:");
        if self.heard.is_empty() {
            let _ = writeln!(out, "  nobody");
        }
        for (via, addr, team) in &self.heard {
            let _ = writeln!(out, "  {team} at {addr} by {via}");
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
        if self.beacon_bind.is_err() {
            hints.push("the beacon port is taken by another program or not allowed: beacons cannot be heard".into());
        }
        if self.beacon_sends.iter().any(|(_, r)| r.is_err()) {
            hints.push(
                "a beacon could not be sent: a firewall may block outgoing UDP broadcast".into(),
            );
        }
        if self.mdns.is_err() {
            hints.push(
                "mDNS could not start: another program may hold port 5353 exclusively".into(),
            );
        }
        let by = |via: &str| self.heard.iter().any(|(v, _, _)| *v == via);
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
    fn beacons_without_mdns_mean_multicast_is_filtered() {
        let mut f = Findings::default();
        f.heard
            .insert(("beacon", "10.0.0.2:80".parse().unwrap(), "B".into()));
        assert!(f.text().contains("multicast may be filtered"));
        assert!(f.text().contains("B at 10.0.0.2:80 by beacon"));
    }
}
