//! What the user does about a peer's key: trust a changed key (after a confirm),
//! verify one after comparing safety numbers, by key, slash command or headless.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use super::log::{error, system};
use super::peers::resolve_at;
use super::state::{PeerId, State};
use super::trust::{persist, trust};
use crate::event::{Effect, Notice};
use crate::keymap::key_for;

/// The trust key (or `/trust`) on a peer: a changed key or a downgrade is accepted only
/// after a confirm that shows what accepting means (`Overlay::ConfirmTrust`); with
/// nothing to trust, the same error as the headless `trust` gives.
pub(super) fn ask_trust(state: &mut State, at: DateTime<Utc>, id: PeerId, fx: &mut Vec<Effect>) {
    if state.peer(id).trust.held() {
        state.view.overlay = super::view::Overlay::ConfirmTrust(id);
    } else {
        let addr = state.peer(id).key.addr();
        trust(state, at, addr, None, fx);
    }
}

/// `/verify` or `/trust` (`trust`), on the peer named or else the selected one. False
/// (the line stays in the box, a flash says why) when there is no such peer.
pub(super) fn by_command(
    state: &mut State,
    at: DateTime<Utc>,
    named: Option<SocketAddr>,
    trust: bool,
    fx: &mut Vec<Effect>,
) -> bool {
    let command = if trust { "/trust" } else { "/verify" };
    let found = match (named, state.view.selection) {
        (Some(addr), _) => resolve_at(state, addr, None, false)
            .map_err(|e| e.unwrap_or_else(|| format!("{command}: no peer at {addr}"))),
        (None, super::view::Selection::Peer(id)) => Ok(id),
        (None, super::view::Selection::All) => Err(format!(
            "{command}: select a peer first, or name it: {command} IP:PORT"
        )),
    };
    match found {
        Ok(id) if trust => ask_trust(state, at, id, fx),
        Ok(id) => verify_peer(state, at, id, fx),
        Err(text) => {
            super::log::flash(state, text, true);
            return false;
        }
    }
    true
}

/// The user compared safety numbers: the peer's key is verified.
pub(super) fn verify(state: &mut State, at: DateTime<Utc>, addr: SocketAddr, fx: &mut Vec<Effect>) {
    match resolve_at(state, addr, None, false) {
        Ok(id) => verify_peer(state, at, id, fx),
        Err(_) => error(state, at, format!("no peer at {addr}"), fx),
    }
}

/// Marks this peer verified; a classic peer (no key) or one whose key changed (trust
/// it first) is refused with a notice that says which and what to do.
pub(super) fn verify_peer(state: &mut State, at: DateTime<Utc>, id: PeerId, fx: &mut Vec<Effect>) {
    let peer = &mut state.peers[id.0];
    let (label, addr) = (peer.key.team_label().to_string(), peer.key.addr());
    let trust_key = || {
        key_for(&crate::event::Action::Screen(
            crate::event::ScreenAction::TrustSelected,
        ))
    };
    let key = match peer.trust.key {
        None => {
            let text =
                format!("{label} at {addr} is a classic (plaintext) peer: it has no key to verify");
            return error(state, at, text, fx);
        }
        Some(_) if peer.trust.held() => {
            let text = format!(
                "{label}'s key changed (or it stopped encrypting): compare safety numbers \
                 and trust it first ({} or /trust), then verify",
                trust_key()
            );
            return error(state, at, text, fx);
        }
        Some(key) => key,
    };
    peer.trust.verified = true;
    let text = format!(
        "{label} marked verified (safety number {})",
        key.safety_number()
    );
    system(state, at, Some(id), text.clone(), false);
    fx.push(Effect::Notify(Notice::Info { text }));
    persist(state, id, fx);
}
