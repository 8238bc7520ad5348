//! mDNS/DNS-SD: register `_brigade._tcp.local.` with the advertised addresses and TXT
//! records (team, protocol version, key), browse for the others. Loopback interfaces
//! are disabled (a first resolution could otherwise carry only 127.0.0.1), and IPv6
//! too (the classic protocol is IPv4); with a specific bind address only its interface
//! is used. Our own registration is filtered out by its unique instance name.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};
use tokio::sync::mpsc;

use super::{Config, Report};
use crate::event::{Hint, PublicKey, Via};
use crate::protocol::check_team_name;

pub const SERVICE: &str = "_brigade._tcp.local.";
/// The TXT `v` value this brigade speaks.
pub const TXT_VERSION: &str = "1";

/// The instance name: unique per team and port.
pub fn instance(team: &str, port: u16) -> String {
    format!("{team}-{port}")
}

/// A daemon on the interfaces discovery may use (no loopback, no IPv6).
pub fn daemon(bind: IpAddr) -> Result<ServiceDaemon, String> {
    let daemon = ServiceDaemon::new().map_err(|e| format!("mDNS: {e}"))?;
    let mut off = vec![IfKind::LoopbackV4, IfKind::LoopbackV6, IfKind::IPv6];
    if !bind.is_unspecified() {
        off = vec![IfKind::All];
    }
    daemon
        .disable_interface(off)
        .map_err(|e| format!("mDNS: {e}"))?;
    if !bind.is_unspecified() {
        daemon
            .enable_interface(IfKind::Addr(bind))
            .map_err(|e| format!("mDNS: {e}"))?;
    }
    Ok(daemon)
}

/// Registers this brigade and browses for the others; what is found is reported on
/// `reports` from a thread of its own. Returns the daemon and our instance's full name.
pub fn start(
    config: &Config,
    addresses: &[IpAddr],
    reports: mpsc::Sender<Report>,
) -> Result<(ServiceDaemon, String), String> {
    let daemon = daemon(config.bind)?;
    let name = instance(&config.team, config.port);
    let host = format!("brigade-{name}.local.");
    let key = config.key.map(|k| k.hex()).unwrap_or_default();
    let mut props = vec![("team", config.team.as_str()), ("v", TXT_VERSION)];
    if !key.is_empty() {
        props.push(("key", key.as_str()));
    }
    let info = ServiceInfo::new(SERVICE, &name, &host, addresses, config.port, &props[..])
        .map_err(|e| format!("mDNS: {e}"))?;
    let own = info.get_fullname().to_string();
    let fullname = own.clone();
    daemon
        .register(info)
        .map_err(|e| format!("mDNS register: {e}"))?;
    let events = daemon
        .browse(SERVICE)
        .map_err(|e| format!("mDNS browse: {e}"))?;
    std::thread::Builder::new()
        .name("brigade-mdns".into())
        .spawn(move || {
            let mut known: HashMap<String, (SocketAddr, String)> = HashMap::new();
            while let Ok(event) = events.recv() {
                let report = match event {
                    ServiceEvent::ServiceResolved(s) if s.fullname != own => {
                        let Some(hint) = hint(&s) else { continue };
                        if known.len() < super::MAX_DISCOVERED {
                            known.insert(s.fullname.clone(), (hint.addr, hint.team.clone()));
                        }
                        Report::Seen(hint)
                    }
                    ServiceEvent::ServiceRemoved(_, fullname) => {
                        let Some((addr, team)) = known.remove(&fullname) else {
                            continue;
                        };
                        Report::Gone {
                            addr,
                            team,
                            via: Via::Mdns,
                        }
                    }
                    _ => continue,
                };
                if reports.blocking_send(report).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("mDNS thread: {e}"))?;
    Ok((daemon, fullname))
}

/// A resolved service as a hint: a valid team, our TXT version, an IPv4 address.
pub fn hint(s: &mdns_sd::ResolvedService) -> Option<Hint> {
    let team = s.txt_properties.get_property_val_str("team")?;
    check_team_name(team).ok()?;
    if s.txt_properties.get_property_val_str("v")? != TXT_VERSION || s.port == 0 {
        return None;
    }
    let key = s
        .txt_properties
        .get_property_val_str("key")
        .and_then(PublicKey::parse_hex);
    let mut ips: Vec<IpAddr> = s
        .addresses
        .iter()
        .map(|a| a.to_ip_addr())
        .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
        .collect();
    ips.sort();
    Some(Hint {
        addr: SocketAddr::new(*ips.first()?, s.port),
        team: team.to_string(),
        key,
        via: Via::Mdns,
    })
}
