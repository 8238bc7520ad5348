//! A message arrives: find its peer, log it, store it, tell the user, and send again
//! what failed to reach that peer.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use super::log::{push_entry, system};
use super::outbox::requeue;
use super::peers::{resolve_sender, unlist};
use super::state::{Body, Direction, LogEntry, MAX_PEERS, PeerId, PeerStatus, State};
use crate::event::{Effect, MsgId, Notice, PeerKey, Persist, Record};
use crate::protocol::{Inbound, is_exit};

pub(super) fn received(
    state: &mut State,
    at: DateTime<Utc>,
    from: SocketAddr,
    message: Inbound,
    sealed: bool,
    fx: &mut Vec<Effect>,
) {
    let Inbound { header, text } = message;
    let Some(id) = resolve_sender(state, from, &header) else {
        return peers_full(state, at, from, &text, fx);
    };
    let claimed_ip = header.ip.filter(|ip| *ip != from.ip());
    // Plaintext from a peer whose key is pinned: nothing proves who wrote it.
    let unsealed = !sealed && state.peer(id).trust.key.is_some();
    let key = arrive(state, at, id, &text, fx);
    push_entry(
        state,
        LogEntry {
            at,
            body: Body::Message {
                peer: id,
                dir: Direction::In {
                    claimed_ip,
                    unsealed,
                },
                text: text.clone(),
            },
        },
    );
    fx.push(Effect::Persist(Persist::Message(Record {
        claimed_ip,
        ..Record::received(at, key.clone(), text.clone())
    })));
    fx.push(Effect::Notify(Notice::Message {
        from: key.addr(),
        team: key.team.clone(),
        text: text.clone(),
        claimed_ip,
        sealed,
    }));
    if is_exit(&text) {
        left(state, at, id, key, fx);
    } else {
        retry_failed(state, id, fx);
    }
}

/// A message from a new peer when the peer table is full: rejected.
fn peers_full(
    state: &mut State,
    at: DateTime<Utc>,
    from: SocketAddr,
    text: &str,
    fx: &mut Vec<Effect>,
) {
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
}

/// The sender is heard from: listed and Active if it was not, unread and the bell when
/// its conversation is not on screen. Returns its key.
fn arrive(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    text: &str,
    fx: &mut Vec<Effect>,
) -> PeerKey {
    let exit = is_exit(text);
    let peer = &mut state.peers[id.0];
    peer.last_heard = Some(at);
    let arrived = !peer.listed || peer.status == PeerStatus::Contact;
    if arrived {
        peer.listed = true;
        peer.status = PeerStatus::Active;
    }
    let key = peer.key.clone();
    if !state.on_screen(Some(id)) {
        state.peers[id.0].unread += 1;
        if state.view.bell {
            fx.push(Effect::Bell {
                team: key.team_label().to_string(),
                text: text.to_string(),
            });
        }
    }
    if arrived && !exit {
        let line = format!("{} is active (first message)", key.team_label());
        system(state, at, Some(id), line, false);
    }
    key
}

/// The peer is back: what failed to reach it goes again, in order.
fn retry_failed(state: &mut State, id: PeerId, fx: &mut Vec<Effect>) {
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

/// The peer said `exit`: it leaves the list.
fn left(state: &mut State, at: DateTime<Utc>, id: PeerId, key: PeerKey, fx: &mut Vec<Effect>) {
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
