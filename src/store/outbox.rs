//! Outgoing messages: queueing a send, its delivery state, retrying and giving up.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use super::log::{error, push_entry, system};
use super::peers::{resolve_recipient, unlist};
use super::state::{Body, Direction, LogEntry, PeerId, PeerStatus, State};
use crate::event::{Delivery, Effect, MsgId, Notice, Persist, Record, Target};
use crate::protocol::{EXIT_TEXT, is_exit};

pub(super) fn send(
    state: &mut State,
    at: DateTime<Utc>,
    to: Target,
    text: &str,
    fx: &mut Vec<Effect>,
) {
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

/// Sends `text` to each peer; `exit` disconnects them. A message of several lines
/// goes as one message per line, in order (see [`message_lines`]). False when it was
/// refused (said in the log and the status line).
pub(super) fn send_to(
    state: &mut State,
    at: DateTime<Utc>,
    recipients: &[PeerId],
    text: &str,
    fx: &mut Vec<Effect>,
) -> bool {
    let lines = message_lines(text);
    // Blank lines before or among the lines; a line break at the end is no line.
    let blanks = text.trim_end().split('\n').count() - lines.len();
    if blanks > 0 && !lines.is_empty() {
        // Said, not dropped silently: a classic peer takes no message without text.
        let s = if blanks == 1 { "" } else { "s" };
        let text = format!("{blanks} empty line{s} not sent");
        super::log::flash(state, text.clone(), false);
        fx.push(Effect::Notify(Notice::Info { text }));
    }
    if lines.len() > 1 && lines.iter().any(|l| is_exit(l)) {
        let text = "a line of only `exit` would disconnect the peer: send it on its own";
        error(state, at, text.into(), fx);
        return false;
    }
    for line in lines {
        for &id in recipients {
            if is_exit(line) {
                send_exit(state, at, id, fx);
            } else {
                state.peers[id.0].listed = true;
                queue_send(state, at, id, line, fx);
            }
        }
    }
    true
}

/// The lines a message travels as. The classic protocol is one line per connection,
/// and a receiver (brigade included) takes a line inside a text that starts like a
/// header (`1.2.3.4:5 team ...`) as a new message from whoever it names; so each line
/// is a message of its own, under our header, and no line can pose as another sender.
/// Blank lines are left out (receivers refuse a header without text), a line's
/// trailing `\r` too.
pub fn message_lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.trim().is_empty())
        .collect()
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

pub(super) fn queue_send(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    text: &str,
    fx: &mut Vec<Effect>,
) {
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
    if state.peers[id.0].trust.held() {
        fx.push(Effect::Notify(Notice::Delivery {
            to,
            id: msg,
            status: Delivery::Pending,
        }));
        return hold(state, msg, fx);
    }
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

/// Keeps a message unsent (its peer's key changed); it goes once the key is trusted.
pub(super) fn hold(state: &mut State, id: MsgId, fx: &mut Vec<Effect>) {
    if let Some(&index) = state.outgoing.get(&id) {
        state.failed.insert(id, index);
    }
    set_delivery(state, id, Delivery::held(), fx);
}

/// The message named, or every failed message in the view on screen.
pub(super) fn failed_ids(state: &State, id: Option<MsgId>) -> Vec<MsgId> {
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
pub(super) fn requeue(state: &mut State, id: MsgId, fx: &mut Vec<Effect>) -> bool {
    let Some(index) = state.failed.remove(&id) else {
        return false;
    };
    let Body::Message { peer, text, .. } = &state.log[index].body else {
        return false;
    };
    let (peer, text) = (*peer, text.clone());
    if state.peers[peer.0].trust.held() {
        hold(state, id, fx);
        return true;
    }
    let to = state.peers[peer.0].key.addr();
    // Retrying an `exit` still means leaving: it never brings the peer back.
    if !is_exit(&text) {
        state.peers[peer.0].listed = true;
    }
    set_delivery(state, id, Delivery::Pending, fx);
    fx.push(Effect::Send { id, to, text });
    true
}

/// Sets an outgoing message's state, stores it and reports it.
pub(super) fn set_delivery(state: &mut State, id: MsgId, status: Delivery, fx: &mut Vec<Effect>) {
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

/// An outgoing message's log index, peer and delivery state.
pub(super) fn outgoing_mut(state: &mut State, id: MsgId) -> Option<(usize, PeerId, &mut Delivery)> {
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

pub(super) fn delivery(
    state: &mut State,
    id: MsgId,
    to: SocketAddr,
    status: Delivery,
    fx: &mut Vec<Effect>,
) {
    let Some((index, peer, delivery)) = outgoing_mut(state, id) else {
        return;
    };
    if delivery.is_final() {
        return; // a final state is never revised
    }
    *delivery = status.clone();
    if matches!(status, Delivery::Failed { .. } | Delivery::Held { .. }) {
        state.failed.insert(id, index);
    }
    fx.push(Effect::Persist(Persist::Status {
        id,
        status: status.clone(),
    }));
    if status == Delivery::Delivered {
        let p = &mut state.peers[peer.0];
        // To a pinned peer, delivered means its encrypted receipt came back over a
        // session only the pinned key's holder could answer: proof that settles an
        // announcement that named another key (issue 16).
        if p.trust.key.is_some() && !p.trust.held() {
            p.trust.announced = None;
        }
        if p.listed {
            p.status = PeerStatus::Connected;
        }
    }
    fx.push(Effect::Notify(Notice::Delivery { to, id, status }));
    if state.quitting && state.undelivered() == 0 {
        fx.push(Effect::Quit);
    }
}
