//! Start-up from history: the stored messages become the log again, and messages that
//! were still pending or retrying when brigade stopped (or crashed) are sent again, in
//! order. Pure like the rest of the store.

use super::log::push_entry;
use super::peers::add_peer;
use super::state::{Body, Direction, LogEntry, PeerStatus, State};
use crate::event::{Delivery, Effect, MsgId, Record};

/// Loads `records` (oldest first) into an empty log; returns the sends to resume.
/// Last session's peers are listed again, except those whose last word was `exit`:
/// those we had heard from as Active (so Ctrl+K reaches them, as before the restart),
/// the others as contacts not yet reached.
pub fn restore(state: &mut State, records: Vec<Record>) -> Vec<Effect> {
    let mut fx = Vec::new();
    let mut last_words: std::collections::HashMap<super::PeerId, bool> = Default::default();
    let mut heard = std::collections::HashSet::new();
    for r in records {
        let Some(peer) = state
            .find(&r.peer)
            .or_else(|| add_peer(state, r.peer.clone(), PeerStatus::Contact, false))
        else {
            continue; // more peers than the table holds: the message stays searchable
        };
        last_words.insert(peer, crate::protocol::is_exit(&r.text));
        if !r.outgoing {
            heard.insert(peer);
        }
        let dir = match (r.outgoing, r.msg_id) {
            (false, _) => Direction::In {
                claimed_ip: r.claimed_ip,
            },
            (true, Some(id)) => {
                let delivery = match r.delivery.unwrap_or(Delivery::Pending) {
                    Delivery::Retrying { .. } => Delivery::Pending,
                    other => other,
                };
                state.next_msg = state.next_msg.max(id.0 + 1);
                state.outgoing.insert(id, state.log.len());
                if matches!(delivery, Delivery::Failed { .. }) {
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
    state.log.extend(newer);
    state.outgoing.clear();
    state.failed.clear();
    for (i, e) in state.log.iter().enumerate() {
        if let Some(p) = e.peer() {
            state.peer_log[p.0].push(i);
        }
        if let Body::Message {
            dir: Direction::Out { id, delivery },
            ..
        } = &e.body
        {
            state.outgoing.insert(*id, i);
            if matches!(delivery, Delivery::Failed { .. }) {
                state.failed.insert(*id, i);
            }
        }
    }
    state.view.scroll = scroll;
}
