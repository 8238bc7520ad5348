//! `update(&mut State, Event) -> Vec<Effect>`: every user action and network fact as a
//! case of one pure function.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use super::state::{Body, Direction, LogEntry, MAX_PEERS, Peer, PeerId, PeerStatus, State};
use super::view::{Flash, Selection};
use crate::event::{
    Action, Delivery, Effect, Event, EventKind, MsgId, NetEvent, Notice, PeerKey, Persist, Query,
    Record, Target,
};
use crate::protocol::{CONNECT_TEXT, EXIT_TEXT, Header, Inbound, check_team_name, is_exit};

/// Applies one event to the state and returns what the world must do about it.
pub fn update(state: &mut State, event: Event) -> Vec<Effect> {
    let mut fx = Vec::new();
    let at = event.at;
    match event.kind {
        EventKind::Action(action) => on_action(state, at, action, &mut fx),
        EventKind::Net(net) => on_net(state, at, net, &mut fx),
        EventKind::Storage(fault) => {
            if let Some(text) = &fault {
                system(state, at, None, text.clone(), true);
                fx.push(Effect::Notify(Notice::Error { text: text.clone() }));
            } else if state.storage_fault.is_some() {
                info(state, at, "the history is written again", &mut fx);
            }
            state.storage_fault = fault;
        }
        EventKind::SearchResults { query, hits } => {
            super::screen::search_results(state, query, hits)
        }
        EventKind::Older(records) => super::restore::prepend(state, records),
        EventKind::Answer { query, result } => fx.push(Effect::Notify(answer(query, result))),
    }
    fx
}

/// What the user is told about the answer to a question.
fn answer(query: Query, result: Result<Vec<Record>, String>) -> Notice {
    match (query, result) {
        (_, Err(text)) => Notice::Error { text },
        (Query::Conversation { peer, .. }, Ok(messages)) => Notice::History { peer, messages },
        (Query::Search { query, .. }, Ok(hits)) => Notice::Search { query, hits },
    }
}

fn on_action(state: &mut State, at: DateTime<Utc>, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Send { to, text } => send(state, at, to, &text, fx),
        Action::Ask(query) => fx.push(Effect::Ask(query)),
        Action::QueryPeers => fx.push(Effect::Notify(Notice::Peers(state.peer_summaries()))),
        Action::ConnectAll => {
            let active: Vec<PeerId> = state
                .listed()
                .filter(|(_, p)| p.status == PeerStatus::Active && p.key.reachable())
                .map(|(id, _)| id)
                .collect();
            if active.is_empty() {
                info(state, at, "no Active peers to connect to", fx);
            }
            for id in active {
                queue_send(state, at, id, CONNECT_TEXT, fx);
            }
        }
        Action::Disconnect { addr, team } => match resolve_listed(state, addr, team.as_deref()) {
            Ok(id) => send_exit(state, at, id, fx),
            Err(e) => error(state, at, e, fx),
        },
        Action::Quit => {
            let waiting = state.undelivered();
            if waiting == 0 || state.quitting {
                state.quitting = true;
                fx.push(Effect::Quit);
            } else {
                state.quitting = true;
                flash(
                    state,
                    format!(
                        "quitting once {waiting} message(s) are delivered; Ctrl+C again quits now"
                    ),
                    false,
                );
            }
        }
        Action::Retry { id } => {
            let ids = failed_ids(state, id);
            if ids.is_empty() {
                return flash(state, "no failed messages here to retry".into(), false);
            }
            for id in ids {
                if !requeue(state, id, fx) {
                    let text = format!("message {} has not failed: nothing to retry", id.0);
                    error(state, at, text, fx);
                }
            }
        }
        Action::Drop { id } => {
            let ids = failed_ids(state, id);
            if ids.is_empty() {
                return flash(state, "no failed messages here to drop".into(), false);
            }
            for id in ids {
                if state.failed.remove(&id).is_some() {
                    set_delivery(state, id, Delivery::Dropped, fx);
                } else {
                    let text = format!(
                        "message {} has not failed: only failed messages can be dropped",
                        id.0
                    );
                    error(state, at, text, fx);
                }
            }
        }
        Action::Screen(action) => super::screen::on_screen(state, at, action, fx),
    }
}

fn send(state: &mut State, at: DateTime<Utc>, to: Target, text: &str, fx: &mut Vec<Effect>) {
    if text.trim().is_empty() {
        return error(
            state,
            at,
            "nothing to send: the message is empty".into(),
            fx,
        );
    }
    let recipients = match to {
        Target::All => {
            let all: Vec<PeerId> = state
                .listed()
                .filter(|(_, p)| p.key.reachable())
                .map(|(id, _)| id)
                .collect();
            if all.is_empty() {
                return error(state, at, "no peers to send to yet".into(), fx);
            }
            all
        }
        Target::Addr { addr, team } => match resolve_recipient(state, addr, team) {
            Ok(id) => vec![id],
            Err(e) => return error(state, at, e, fx),
        },
    };
    send_to(state, at, &recipients, text, fx);
}

/// Sends `text` to each peer; `exit` disconnects them.
pub(super) fn send_to(
    state: &mut State,
    at: DateTime<Utc>,
    recipients: &[PeerId],
    text: &str,
    fx: &mut Vec<Effect>,
) {
    for &id in recipients {
        if is_exit(text) {
            send_exit(state, at, id, fx);
        } else {
            state.peers[id.0].listed = true;
            queue_send(state, at, id, text, fx);
        }
    }
}

/// Sends `exit` and removes the peer from the list, as the original does.
pub(super) fn send_exit(state: &mut State, at: DateTime<Utc>, id: PeerId, fx: &mut Vec<Effect>) {
    queue_send(state, at, id, EXIT_TEXT, fx);
    let peer = &state.peers[id.0];
    let (addr, team) = (peer.key.addr(), peer.key.team.clone());
    let label = peer.key.team_label().to_string();
    unlist(state, id);
    system(state, at, Some(id), format!("you left {label}"), false);
    fx.push(Effect::Notify(Notice::PeerLeft { addr, team }));
}

fn queue_send(state: &mut State, at: DateTime<Utc>, id: PeerId, text: &str, fx: &mut Vec<Effect>) {
    let msg = MsgId(state.next_msg);
    state.next_msg += 1;
    let to = state.peers[id.0].key.addr();
    state.outgoing.insert(msg, state.log.len());
    push_entry(
        state,
        LogEntry {
            at,
            body: Body::Message {
                peer: id,
                dir: Direction::Out {
                    id: msg,
                    delivery: Delivery::Pending,
                },
                text: text.to_string(),
            },
        },
    );
    let key = state.peers[id.0].key.clone();
    fx.push(Effect::Persist(Persist::Message(Record {
        at,
        peer: key,
        outgoing: true,
        text: text.to_string(),
        msg_id: Some(msg),
        delivery: Some(Delivery::Pending),
        claimed_ip: None,
    })));
    fx.push(Effect::Send {
        id: msg,
        to,
        text: text.to_string(),
    });
    fx.push(Effect::Notify(Notice::Delivery {
        to,
        id: msg,
        status: Delivery::Pending,
    }));
}

/// The message named, or every failed message in the view on screen.
fn failed_ids(state: &State, id: Option<MsgId>) -> Vec<MsgId> {
    match id {
        Some(id) => vec![id],
        None => state
            .failed
            .iter()
            .filter(|(_, i)| state.on_screen(state.log[**i].peer()))
            .map(|(id, _)| *id)
            .collect(),
    }
}

/// Sends a failed message again; false when it is not a failed message.
fn requeue(state: &mut State, id: MsgId, fx: &mut Vec<Effect>) -> bool {
    let Some(index) = state.failed.remove(&id) else {
        return false;
    };
    let Body::Message { peer, text, .. } = &state.log[index].body else {
        return false;
    };
    let (peer, text) = (*peer, text.clone());
    let to = state.peers[peer.0].key.addr();
    if !state.peers[peer.0].listed {
        state.peers[peer.0].listed = true;
    }
    set_delivery(state, id, Delivery::Pending, fx);
    fx.push(Effect::Send { id, to, text });
    true
}

/// Sets an outgoing message's state, stores it and reports it.
fn set_delivery(state: &mut State, id: MsgId, status: Delivery, fx: &mut Vec<Effect>) {
    let Some((_, peer, delivery)) = outgoing_mut(state, id) else {
        return;
    };
    *delivery = status.clone();
    let to = state.peers[peer.0].key.addr();
    fx.push(Effect::Persist(Persist::Status {
        id,
        status: status.clone(),
    }));
    fx.push(Effect::Notify(Notice::Delivery { to, id, status }));
}

fn on_net(state: &mut State, at: DateTime<Utc>, net: NetEvent, fx: &mut Vec<Effect>) {
    match net {
        NetEvent::Listening { addr } => {
            state.me.listen = Some(addr);
            fx.push(Effect::Notify(Notice::Listening {
                addr: SocketAddr::new(state.me.advertise_ip, addr.port()),
                team: state.me.team.clone(),
            }));
        }
        NetEvent::Received { from, message } => received(state, at, from, message, fx),
        NetEvent::Delivery { id, to, status } => delivery(state, id, to, status, fx),
        NetEvent::Reply { from, text } => {
            let peer = state.at_addr(from).next();
            let who = peer.map_or(from.to_string(), |id| {
                state.peer(id).key.team_label().to_string()
            });
            system(state, at, peer, format!("{who} replied: {text}"), false);
            fx.push(Effect::Notify(Notice::Reply { from, text }));
        }
        NetEvent::Rejected {
            from,
            reason,
            preview,
        } => {
            let line = format!("rejected input from {}: {reason}: {preview}", from.ip());
            system(state, at, None, line, true);
            fx.push(Effect::Notify(Notice::Rejected {
                from,
                reason,
                preview,
            }));
        }
        NetEvent::Error { text } => error(state, at, text, fx),
    }
}

fn received(
    state: &mut State,
    at: DateTime<Utc>,
    from: SocketAddr,
    message: Inbound,
    fx: &mut Vec<Effect>,
) {
    let Inbound { header, text } = message;
    let Some(id) = resolve_sender(state, from, &header) else {
        let reason = format!("more than {MAX_PEERS} peers");
        let preview: String = text.chars().take(60).collect();
        system(
            state,
            at,
            None,
            format!("rejected input from {}: {reason}", from.ip()),
            true,
        );
        fx.push(Effect::Notify(Notice::Rejected {
            from,
            reason,
            preview,
        }));
        return;
    };
    let claimed_ip = header.ip.filter(|ip| *ip != from.ip());
    let peer = &mut state.peers[id.0];
    let arrived = !peer.listed || peer.status == PeerStatus::Contact;
    if arrived {
        peer.listed = true;
        peer.status = PeerStatus::Active;
    }
    let key = peer.key.clone();
    if !state.on_screen(Some(id)) {
        state.peers[id.0].unread += 1;
        if state.view.bell {
            fx.push(Effect::Bell);
        }
    }
    if arrived && !is_exit(&text) {
        let line = format!("{} is active (first message)", key.team_label());
        system(state, at, Some(id), line, false);
    }
    push_entry(
        state,
        LogEntry {
            at,
            body: Body::Message {
                peer: id,
                dir: Direction::In { claimed_ip },
                text: text.clone(),
            },
        },
    );
    fx.push(Effect::Persist(Persist::Message(Record {
        at,
        peer: key.clone(),
        outgoing: false,
        text: text.clone(),
        msg_id: None,
        delivery: None,
        claimed_ip,
    })));
    fx.push(Effect::Notify(Notice::Message {
        from: key.addr(),
        team: key.team.clone(),
        text: text.clone(),
        claimed_ip,
    }));
    // The peer is back: what failed to reach it goes again, in order.
    if !is_exit(&text) {
        let waiting: Vec<MsgId> = state
            .failed
            .iter()
            .filter(|(_, i)| state.log[**i].peer() == Some(id))
            .map(|(m, _)| *m)
            .collect();
        for m in waiting {
            requeue(state, m, fx);
        }
    }
    if is_exit(&text) {
        unlist(state, id);
        system(
            state,
            at,
            Some(id),
            format!("{} left", key.team_label()),
            false,
        );
        fx.push(Effect::Notify(Notice::PeerLeft {
            addr: key.addr(),
            team: key.team,
        }));
    }
}

/// An outgoing message's log index, peer and delivery state.
fn outgoing_mut(state: &mut State, id: MsgId) -> Option<(usize, PeerId, &mut Delivery)> {
    let index = *state.outgoing.get(&id)?;
    match &mut state.log[index].body {
        Body::Message {
            peer,
            dir: Direction::Out { delivery, .. },
            ..
        } => Some((index, *peer, delivery)),
        _ => None,
    }
}

fn delivery(state: &mut State, id: MsgId, to: SocketAddr, status: Delivery, fx: &mut Vec<Effect>) {
    let Some((index, peer, delivery)) = outgoing_mut(state, id) else {
        return;
    };
    if delivery.is_final() {
        return; // a final state is never revised
    }
    *delivery = status.clone();
    if matches!(status, Delivery::Failed { .. }) {
        state.failed.insert(id, index);
    }
    fx.push(Effect::Persist(Persist::Status {
        id,
        status: status.clone(),
    }));
    if status == Delivery::Delivered {
        let p = &mut state.peers[peer.0];
        if p.listed {
            p.status = PeerStatus::Connected;
        }
    }
    fx.push(Effect::Notify(Notice::Delivery { to, id, status }));
    if state.quitting && state.undelivered() == 0 {
        fx.push(Effect::Quit);
    }
}

/// The peer a message came from, per PROTOCOL.md: socket IP, advertised port, team.
/// A missing team or port is filled in from the one known peer that fits; a team that
/// becomes known completes a peer we only knew by address. `None` when the peer table
/// is full.
fn resolve_sender(state: &mut State, from: SocketAddr, header: &Header) -> Option<PeerId> {
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
fn resolve_listed(state: &State, addr: SocketAddr, team: Option<&str>) -> Result<PeerId, String> {
    resolve_at(state, addr, team, true)
        .map_err(|e| e.unwrap_or_else(|| format!("no peer at {addr} in the list")))
}

/// Finds the one peer at `addr` (with `team`, when given). `Err(None)`: none;
/// `Err(Some(msg))`: several, and the team is needed to tell them apart.
fn resolve_at(
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
    if state.peers.len() >= MAX_PEERS {
        return None;
    }
    let id = PeerId(state.peers.len());
    state.by_key.insert(key.clone(), id);
    state.peer_log.push(Vec::new());
    state.peers.push(Peer {
        key,
        status,
        listed,
        unread: 0,
    });
    Some(id)
}

fn rename(state: &mut State, id: PeerId, key: PeerKey) {
    state.by_key.remove(&state.peers[id.0].key);
    state.by_key.insert(key.clone(), id);
    state.peers[id.0].key = key;
}

fn unlist(state: &mut State, id: PeerId) {
    let peer = &mut state.peers[id.0];
    peer.listed = false;
    peer.status = PeerStatus::Contact;
    peer.unread = 0;
    if state.view.selection == Selection::Peer(id) {
        super::screen::select(state, Selection::All);
    }
}

/// Appends to the log. A view scrolled up stays where it is (the new entry is one
/// more below it) and counts new messages for the "N new" marker.
pub(super) fn push_entry(state: &mut State, entry: LogEntry) {
    let index = state.log.len();
    let peer = entry.peer();
    if let Some(p) = peer {
        state.peer_log[p.0].push(index);
    }
    if state.on_screen(peer) && state.view.scroll > 0 {
        state.view.scroll += 1;
        if matches!(entry.body, Body::Message { .. }) {
            state.view.new_below += 1;
        }
    }
    state.log.push(entry);
}

/// Shows a short line in the status bar until the next key.
pub(super) fn flash(state: &mut State, text: String, error: bool) {
    state.view.flash = Some(Flash { text, error });
}

fn system(state: &mut State, at: DateTime<Utc>, peer: Option<PeerId>, text: String, error: bool) {
    push_entry(
        state,
        LogEntry {
            at,
            body: Body::System { peer, text, error },
        },
    );
}

fn info(state: &mut State, at: DateTime<Utc>, text: &str, fx: &mut Vec<Effect>) {
    system(state, at, None, text.to_string(), false);
    fx.push(Effect::Notify(Notice::Info {
        text: text.to_string(),
    }));
}

pub(super) fn error(state: &mut State, at: DateTime<Utc>, text: String, fx: &mut Vec<Effect>) {
    system(state, at, None, text.clone(), true);
    flash(state, text.clone(), true);
    fx.push(Effect::Notify(Notice::Error { text }));
}
