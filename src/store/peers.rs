//! Who a message is from or for: finding, adding and renaming peers.

use std::net::SocketAddr;

use super::log::{reindex, select};
use super::state::{Body, Direction, MAX_PEERS, MAX_PEERS_PER_IP, Peer, PeerId, PeerStatus, State};
use super::view::Selection;
use chrono::{DateTime, Utc};

use super::log::system;
use crate::event::{Effect, Hint, Notice, PeerKey, Via};
use crate::protocol::{Header, check_team_name};

/// The peer a message came from, per PROTOCOL.md: socket IP, advertised port, team.
/// A missing team or port is filled in from the one known peer that fits; a team that
/// becomes known completes a peer we only knew by address. `None` when the peer table
/// is full.
pub(super) fn resolve_sender(
    state: &mut State,
    from: SocketAddr,
    header: &Header,
) -> Option<PeerId> {
    let ip = from.ip();
    let team = header.team.clone().unwrap_or_default();
    let fits = |p: &Peer| {
        p.key.ip == ip
            && header.port.is_none_or(|port| p.key.port == port)
            && (team.is_empty() || p.key.team.is_empty() || p.key.team == team)
    };
    let exact = PeerKey::new(ip, header.port.unwrap_or(0), team.clone());
    let complete = header.port.is_some() && !team.is_empty();
    if let Some(id) = state.find(&exact).filter(|_| complete) {
        return Some(id);
    }
    let candidates: Vec<PeerId> = (0..state.peers.len())
        .map(PeerId)
        .filter(|id| fits(state.peer(*id)))
        .collect();
    let listed: Vec<PeerId> = candidates
        .iter()
        .copied()
        .filter(|id| state.peer(*id).listed)
        .collect();
    let unique = match (listed.as_slice(), candidates.as_slice()) {
        ([one], _) | ([], [one]) => Some(*one),
        _ => None,
    };
    if let Some(id) = unique {
        if state.peer(id).key.team.is_empty() && complete {
            rename(state, id, exact);
        }
        return Some(id);
    }
    state
        .find(&exact)
        .or_else(|| add_peer(state, exact, PeerStatus::Contact, false))
}

/// The peer a user wants to write to; creates a contact for a new address.
pub(super) fn resolve_recipient(
    state: &mut State,
    addr: SocketAddr,
    team: Option<String>,
) -> Result<PeerId, String> {
    if addr.port() == 0 {
        return Err(format!("{addr}: port 0 is not a peer's port"));
    }
    if let Some(t) = &team {
        check_team_name(t)?;
    }
    match resolve_at(state, addr, team.as_deref(), false) {
        Ok(id) => Ok(id),
        Err(None) => {
            let key = PeerKey::new(addr.ip(), addr.port(), team.unwrap_or_default());
            // A peer known by address only gets its team now.
            if let Some(id) = state.find(&PeerKey::new(addr.ip(), addr.port(), "")) {
                rename(state, id, key);
                return Ok(id);
            }
            add_peer(state, key, PeerStatus::Contact, true)
                .ok_or_else(|| format!("cannot add {addr}: more than {MAX_PEERS} peers"))
        }
        Err(Some(e)) => Err(e),
    }
}

/// A listed peer the user names (to disconnect it); never creates one.
pub(super) fn resolve_listed(
    state: &State,
    addr: SocketAddr,
    team: Option<&str>,
) -> Result<PeerId, String> {
    resolve_at(state, addr, team, true)
        .map_err(|e| e.unwrap_or_else(|| format!("no peer at {addr} in the list")))
}

/// Finds the one peer at `addr` (with `team`, when given). `Err(None)`: none;
/// `Err(Some(msg))`: several, and the team is needed to tell them apart.
pub(super) fn resolve_at(
    state: &State,
    addr: SocketAddr,
    team: Option<&str>,
    listed_only: bool,
) -> Result<PeerId, Option<String>> {
    let matches: Vec<PeerId> = state
        .at_addr(addr)
        .filter(|id| team.is_none_or(|t| state.peer(*id).key.team == t))
        .filter(|id| !listed_only || state.peer(*id).listed)
        .collect();
    // Prefer listed peers when the address alone is ambiguous.
    let listed: Vec<PeerId> = matches
        .iter()
        .copied()
        .filter(|id| state.peer(*id).listed)
        .collect();
    match (listed.as_slice(), matches.as_slice()) {
        (_, []) => Err(None),
        ([one], _) | ([], [one]) => Ok(*one),
        _ => {
            let teams: Vec<&str> = matches
                .iter()
                .map(|id| state.peer(*id).key.team_label())
                .collect();
            Err(Some(format!(
                "several peers at {addr} ({}): say which team",
                teams.join(", ")
            )))
        }
    }
}

pub(super) fn add_peer(
    state: &mut State,
    key: PeerKey,
    status: PeerStatus,
    listed: bool,
) -> Option<PeerId> {
    let same_ip: Vec<PeerId> = (0..state.peers.len())
        .map(PeerId)
        .filter(|id| state.peer(*id).key.ip == key.ip)
        .collect();
    let victim = if same_ip.len() >= MAX_PEERS_PER_IP {
        Some(least_recent(state, same_ip)?)
    } else if state.peers.len() >= MAX_PEERS {
        Some(least_recent(
            state,
            (0..state.peers.len()).map(PeerId).collect(),
        )?)
    } else {
        None
    };
    let peer = Peer {
        key: key.clone(),
        trust: Default::default(),
        status,
        listed,
        unread: 0,
        via: Via::Manual,
        gone: false,
        last_heard: None,
        alias: None,
    };
    let id = match victim {
        Some(id) => {
            evict(state, id);
            state.peers[id.0] = peer;
            id
        }
        None => {
            state.peer_log.push(Vec::new());
            state.peers.push(peer);
            PeerId(state.peers.len() - 1)
        }
    };
    state.by_key.insert(key, id);
    Some(id)
}

/// The least recently heard of `candidates` that may be evicted: not on screen and
/// with nothing undelivered. Never heard counts as oldest.
fn least_recent(state: &State, candidates: Vec<PeerId>) -> Option<PeerId> {
    let busy: std::collections::HashSet<PeerId> = state
        .outgoing
        .values()
        .filter_map(|&i| match &state.log[i].body {
            Body::Message {
                peer,
                dir: Direction::Out { delivery, .. },
                ..
            } if !delivery.is_final() => Some(*peer),
            _ => None,
        })
        .collect();
    candidates
        .into_iter()
        .filter(|id| !busy.contains(id) && state.view.selection != Selection::Peer(*id))
        .min_by_key(|id| state.peer(*id).last_heard)
}

/// Forgets a peer to reuse its slot: its entries leave the in-memory log (its history
/// stays on disk, searchable and paged in again when scrolled to).
fn evict(state: &mut State, id: PeerId) {
    state.by_key.remove(&state.peers[id.0].key);
    state.log.retain(|e| e.peer() != Some(id));
    reindex(state);
}

pub(super) fn rename(state: &mut State, id: PeerId, key: PeerKey) {
    state.by_key.remove(&state.peers[id.0].key);
    state.by_key.insert(key.clone(), id);
    state.peers[id.0].key = key;
}

pub(super) fn unlist(state: &mut State, id: PeerId) {
    let peer = &mut state.peers[id.0];
    peer.listed = false;
    peer.status = PeerStatus::Contact;
    peer.unread = 0;
    if state.view.selection == Selection::Peer(id) {
        select(state, Selection::All);
    }
}

/// A brigade announced itself or an invite named it (issue 16): it is listed without
/// anyone typing its address, with how it was found. Told once per sighting (the
/// discovery layer reports a peer again only after it was lost).
pub(super) fn discovered(
    state: &mut State,
    at: DateTime<Utc>,
    hint: Hint,
    fx: &mut Vec<Effect>,
) -> Option<PeerId> {
    let key = PeerKey::new(hint.addr.ip(), hint.addr.port(), hint.team.clone());
    let mut fresh = false;
    let id = match state.find(&key) {
        Some(id) => id,
        None => match state.find(&PeerKey::new(hint.addr.ip(), hint.addr.port(), "")) {
            Some(id) => {
                rename(state, id, key);
                id
            }
            None => {
                let id = add_peer(state, key, PeerStatus::Contact, true)?;
                fresh = true;
                id
            }
        },
    };
    let peer = &mut state.peers[id.0];
    if fresh
        || hint.via == Via::Invite
        || peer.via == Via::Manual && peer.status == PeerStatus::Contact
    {
        peer.via = hint.via;
    }
    let news = fresh || !peer.listed || peer.gone;
    peer.listed = true;
    peer.gone = false;
    if !news {
        return Some(id);
    }
    let team = state.peer(id).key.team_label().to_string();
    let line = format!("{team} found at {} ({})", hint.addr, hint.via.label());
    system(state, at, Some(id), line, false);
    fx.push(Effect::Notify(Notice::Discovered {
        addr: hint.addr,
        team: hint.team,
        via: hint.via.label(),
        key: hint.key.map(|k| k.hex()),
    }));
    Some(id)
}

/// A discovered brigade's announcements by `via` stopped: it shows as gone.
pub(super) fn lost(
    state: &mut State,
    at: DateTime<Utc>,
    addr: SocketAddr,
    team: String,
    via: Via,
    fx: &mut Vec<Effect>,
) {
    let Some(id) = state.find(&PeerKey::new(addr.ip(), addr.port(), team.clone())) else {
        return;
    };
    let peer = &mut state.peers[id.0];
    if peer.via != via || peer.gone {
        return;
    }
    peer.gone = true;
    let line = format!(
        "{} is gone: its announcements stopped",
        peer.key.team_label()
    );
    system(state, at, Some(id), line, false);
    fx.push(Effect::Notify(Notice::Gone {
        addr,
        team,
        via: via.label(),
    }));
}
