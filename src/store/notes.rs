//! The user's notes on peers: `/alias` names a peer locally, `/forget` takes it off
//! the list, keeping or deleting its history as the user chooses (asked first). Both
//! are kept in the history, so they survive a restart. Pure like the rest of the store.

use std::collections::HashMap;
use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use tui_input::InputRequest;

use super::log::{flash, info, reindex};
use super::outbox::set_delivery;
use super::peers::{add_peer, resolve_at, unlist};
use super::state::{Body, Direction, PeerId, PeerStatus, State};
use super::view::{Overlay, ScreenAction, Selection, single_line};
use crate::event::{Delivery, Effect, MsgId, PeerKey, PeerNote, Persist, Record, Via};

/// Longest alias, in characters.
pub const MAX_ALIAS: usize = 32;

pub use super::state::FORGOTTEN;

/// An alias as kept: one line of sanitized text without control characters, at most
/// [`MAX_ALIAS`] characters, trimmed; `None` when nothing is left.
pub fn clean_alias(text: &str) -> Option<String> {
    let line: String = single_line(text)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let bounded: String = line.trim().chars().take(MAX_ALIAS).collect();
    let bounded = bounded.trim_end();
    (!bounded.is_empty()).then(|| bounded.to_string())
}

/// The peer a command means: the one named by address, else the selected one.
fn target(state: &State, peer: Option<(SocketAddr, Option<String>)>) -> Result<PeerId, String> {
    match (peer, state.view.selection) {
        (Some((addr, team)), _) => resolve_at(state, addr, team.as_deref(), false)
            .map_err(|e| e.unwrap_or_else(|| format!("no peer at {addr}"))),
        (None, Selection::Peer(id)) => Ok(id),
        (None, Selection::All) => {
            Err("select a peer first, or name it: /alias IP:PORT NAME".into())
        }
    }
}

/// `/alias [IP:PORT[/TEAM]] [NAME]`: sets or (no name) removes the local name.
pub(super) fn alias(
    state: &mut State,
    peer: Option<(SocketAddr, Option<String>)>,
    name: Option<String>,
    fx: &mut Vec<Effect>,
) {
    let id = match target(state, peer) {
        Ok(id) => id,
        Err(e) => return flash(state, format!("/alias: {e}"), true),
    };
    let alias = name.as_deref().and_then(clean_alias);
    if name.is_some() && alias.is_none() {
        return flash(
            state,
            "/alias: that name has nothing printable".into(),
            true,
        );
    }
    let peer = &mut state.peers[id.0];
    peer.alias = alias.clone();
    let key = peer.key.clone();
    fx.push(Effect::Persist(Persist::Alias {
        peer: key.clone(),
        alias: alias.clone(),
    }));
    let text = match alias {
        Some(a) => format!("{} ({}) is shown as {a}", key.team_label(), key.addr()),
        None => format!(
            "{} ({}) is shown by its team name",
            key.team_label(),
            key.addr()
        ),
    };
    flash(state, text, false);
}

/// `/forget`: asks about the selected peer's history first.
pub(super) fn ask_forget(state: &mut State) {
    match state.view.selection {
        Selection::Peer(id) => state.view.overlay = Overlay::Forget(id),
        Selection::All => flash(state, "/forget: select a peer first".into(), true),
    }
}

/// A key while "Forget this peer?" is open: k keeps its history, d deletes it, Esc
/// cancels; anything else leaves the question open.
pub(super) fn on_forget(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    action: ScreenAction,
    fx: &mut Vec<Effect>,
) {
    match action {
        ScreenAction::Edit(InputRequest::InsertChar('k' | 'K')) => forget(state, at, id, false, fx),
        ScreenAction::Edit(InputRequest::InsertChar('d' | 'D')) => forget(state, at, id, true, fx),
        ScreenAction::Close => {}
        _ => state.view.overlay = Overlay::Forget(id),
    }
}

/// Forgets a peer: its undelivered messages fail (shown), it leaves the list with its
/// alias, pin and draft, and, when `delete`, its messages leave the log and the history.
/// Should it write again, it comes back as a new peer.
fn forget(state: &mut State, at: DateTime<Utc>, id: PeerId, delete: bool, fx: &mut Vec<Effect>) {
    let waiting: Vec<_> = state
        .outgoing
        .iter()
        .filter(|&(_, &i)| {
            matches!(&state.log[i].body, Body::Message { peer, dir: Direction::Out { delivery, .. }, .. }
                if *peer == id && !delivery.is_final())
        })
        .map(|(&msg, _)| msg)
        .collect();
    for msg in &waiting {
        let reason = FORGOTTEN.to_string();
        set_delivery(state, *msg, Delivery::Failed { reason }, fx);
    }
    let key = state.peers[id.0].key.clone();
    let mut text = format!("forgot {} ({})", state.peers[id.0].name(), key.addr());
    if state.peers[id.0].trust.key.is_some() {
        fx.push(Effect::Transport {
            to: key.addr(),
            secure: None,
        });
    }
    fx.push(Effect::Persist(Persist::Forget {
        peer: key.clone(),
        at,
        delete,
    }));
    if delete {
        state.log.retain(|e| e.peer() != Some(id));
        state.view.found = None;
        reindex(state);
    } else {
        // Its kept failed messages stay failed, for that reason now: Ctrl+R does not
        // bring the peer back.
        let log = &state.log;
        let failed: Vec<MsgId> = state
            .failed
            .iter()
            .filter(|&(_, &i)| log[i].peer() == Some(id))
            .map(|(&msg, _)| msg)
            .collect();
        for msg in failed {
            state.failed.remove(&msg);
            let reason = FORGOTTEN.to_string();
            set_delivery(state, msg, Delivery::Failed { reason }, fx);
        }
    }
    state.view.drafts.remove(&Selection::Peer(id));
    let peer = &mut state.peers[id.0];
    peer.trust = Default::default();
    peer.alias = None;
    peer.last_heard = None;
    peer.via = Via::Manual;
    peer.gone = false;
    unlist(state, id);
    state.view.unread_from = None;
    if !waiting.is_empty() {
        text.push_str(&format!(
            "; {} undelivered message(s) failed",
            waiting.len()
        ));
    }
    text.push_str(if delete {
        "; its history is deleted"
    } else {
        "; its history is kept"
    });
    info(state, at, &text, fx);
}

/// Start-up: the aliases go on their peers (listed only once they are heard of), and
/// the messages of forgotten peers until they were forgotten leave `records`, so the
/// peers are not listed again.
pub fn restore_notes(state: &mut State, notes: Vec<PeerNote>, records: &mut Vec<Record>) {
    let mut forgotten: HashMap<PeerKey, DateTime<Utc>> = HashMap::new();
    for note in notes {
        if let Some(at) = note.forgotten {
            forgotten.insert(note.peer.clone(), at);
        }
        let Some(alias) = note.alias.as_deref().and_then(clean_alias) else {
            continue;
        };
        let found = state
            .find(&note.peer)
            .or_else(|| add_peer(state, note.peer.clone(), PeerStatus::Contact, false));
        if let Some(id) = found {
            state.peers[id.0].alias = Some(alias);
        }
    }
    if !forgotten.is_empty() {
        records.retain(|r| forgotten.get(&r.peer).is_none_or(|&at| r.at > at));
    }
}
