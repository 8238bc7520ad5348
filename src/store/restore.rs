//! Start-up from history: the stored messages become the log again, and messages that
//! were still pending or retrying when brigade stopped (or crashed) are sent again, in
//! order. Pure like the rest of the store.

use std::collections::{HashMap, HashSet};

use super::log::{push_entry, reindex};
use super::peers::add_peer;
use super::state::{Body, Direction, LogEntry, MAX_PEERS, MAX_PEERS_PER_IP, PeerStatus, State};
use super::view::{Overlay, SearchView, Selection};
use crate::event::{Delivery, Effect, MsgId, PeerKey, Record};

/// The peers restored from `records` (oldest first) when there are more than the table
/// holds: those with undelivered messages, then the most recently seen, within the
/// per-address bound.
fn peers_to_keep(state: &State, records: &[Record]) -> HashSet<PeerKey> {
    let mut keep = HashSet::new();
    let mut per_ip: HashMap<std::net::IpAddr, usize> = HashMap::new();
    let room = MAX_PEERS.saturating_sub(state.peers.len());
    let undelivered = records
        .iter()
        .filter(|r| r.outgoing && r.delivery.as_ref().is_none_or(|d| !d.is_final()));
    for r in undelivered.chain(records.iter().rev()) {
        if keep.len() >= room {
            break;
        }
        if keep.contains(&r.peer) {
            continue;
        }
        let n = per_ip.entry(r.peer.ip).or_default();
        if *n < MAX_PEERS_PER_IP {
            *n += 1;
            keep.insert(r.peer.clone());
        }
    }
    keep
}

/// Loads `records` (oldest first) into an empty log; returns the sends to resume.
/// Last session's peers are listed again, except those whose last word was `exit`:
/// those we had heard from as Active (so Ctrl+K reaches them, as before the restart),
/// the others as contacts not yet reached.
pub fn restore(state: &mut State, records: Vec<Record>) -> Vec<Effect> {
    let mut fx = Vec::new();
    let mut last_words: std::collections::HashMap<super::PeerId, bool> = Default::default();
    let keep = peers_to_keep(state, &records);
    let mut heard = std::collections::HashSet::new();
    for r in records {
        if !keep.contains(&r.peer) && state.find(&r.peer).is_none() {
            continue; // more peers than the table holds: the message stays searchable
        }
        let Some(peer) = state
            .find(&r.peer)
            .or_else(|| add_peer(state, r.peer.clone(), PeerStatus::Contact, false))
        else {
            continue; // more peers than the table holds: the message stays searchable
        };
        last_words.insert(peer, crate::protocol::is_exit(&r.text));
        if !r.outgoing {
            state.peers[peer.0].last_heard = Some(r.at);
            heard.insert(peer);
        }
        let dir = match (r.outgoing, r.msg_id) {
            (false, _) => Direction::In {
                claimed_ip: r.claimed_ip,
                unsealed: false,
            },
            (true, Some(id)) => {
                // Held for a key change: held again while the pin still differs (the
                // pins are restored first), and released by trust like this run's;
                // sent again when it no longer does.
                let held_now = state.peers[peer.0].trust.held();
                let delivery = match r.delivery.unwrap_or(Delivery::Pending) {
                    Delivery::Retrying { .. } => Delivery::Pending,
                    Delivery::Held { .. } if !held_now => Delivery::Pending,
                    other => other,
                };
                state.next_msg = state.next_msg.max(id.0 + 1);
                state.outgoing.insert(id, state.log.len());
                if matches!(delivery, Delivery::Failed { .. } | Delivery::Held { .. }) {
                    state.failed.insert(id, state.log.len());
                }
                if !delivery.is_final() {
                    state.peers[peer.0].listed = true;
                    fx.push(Effect::Send {
                        id,
                        to: r.peer.addr(),
                        text: r.text.clone(),
                    });
                }
                Direction::Out { id, delivery }
            }
            (true, None) => continue,
        };
        push_entry(
            state,
            LogEntry {
                at: r.at,
                body: Body::Message {
                    peer,
                    dir,
                    text: r.text,
                },
            },
        );
    }
    for (peer, left) in last_words {
        if !left && state.peers[peer.0].key.reachable() {
            state.peers[peer.0].listed = true;
            if heard.contains(&peer) && state.peers[peer.0].status == PeerStatus::Contact {
                state.peers[peer.0].status = PeerStatus::Active;
            }
        }
    }
    fx
}

/// The next message id the store will use (for tests and diagnostics).
pub fn next_id(state: &State) -> MsgId {
    MsgId(state.next_msg)
}

/// Prepends older messages (oldest first) to the log, keeping what is on screen where
/// it is (the view counts from the bottom), and rebuilds the indices into the log.
pub(super) fn prepend(state: &mut State, records: Vec<Record>) {
    state.loading_older = false;
    let Some(first) = records.first() else {
        state.older_before = None; // everything is loaded
        return;
    };
    state.older_before = Some(first.at);
    let newer = std::mem::take(&mut state.log);
    for list in &mut state.peer_log {
        list.clear();
    }
    let scroll = state.view.scroll;
    for r in records {
        // Undelivered messages were loaded at start-up already.
        if r.msg_id.is_some_and(|id| state.outgoing.contains_key(&id)) {
            continue;
        }
        let Some(peer) = state
            .find(&r.peer)
            .or_else(|| add_peer(state, r.peer.clone(), PeerStatus::Contact, false))
        else {
            continue;
        };
        let dir = match (r.outgoing, r.msg_id) {
            (false, _) => Direction::In {
                claimed_ip: r.claimed_ip,
                unsealed: false,
            },
            (true, Some(id)) => Direction::Out {
                id,
                delivery: r.delivery.unwrap_or(Delivery::Pending),
            },
            (true, None) => continue,
        };
        state.log.push(LogEntry {
            at: r.at,
            body: Body::Message {
                peer,
                dir,
                text: r.text,
            },
        });
    }
    let added = state.log.len();
    state.log.extend(newer);
    reindex(state);
    state.view.scroll = scroll;
    shift_positions(state, added);
}

/// After `added` entries went before the log: what points into it from the top (the
/// highlighted hit, the unread marker, where a search returns to) moves down with it.
fn shift_positions(state: &mut State, added: usize) {
    let in_view = |state: &State, selection: Selection| match selection {
        Selection::All => added,
        Selection::Peer(p) => state.peer_log[p.0]
            .iter()
            .take_while(|&&i| i < added)
            .count(),
    };
    let here = in_view(state, state.view.selection);
    let there = match &state.view.overlay {
        Overlay::Search(SearchView { back: Some(b), .. }) => in_view(state, b.selection),
        _ => 0,
    };
    let view = &mut state.view;
    let mut marks = vec![(&mut view.found, &mut view.unread_from, here)];
    if let Overlay::Search(SearchView { back: Some(b), .. }) = &mut view.overlay {
        marks.push((&mut b.found, &mut b.unread_from, there));
    }
    for (found, unread_from, in_view) in marks {
        if let Some((i, _)) = found {
            *i += added;
        }
        if let Some(i) = unread_from {
            *i += in_view;
        }
    }
}
