//! Whose key is whose: trust on first use, a changed key holds messages until the
//! user trusts it, verifying after comparing safety numbers. A peer is its key: a
//! known key at a new address moves its peer (and conversation) there.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use super::log::{error, system};
use super::outbox::requeue;
use super::peers::{add_peer, discovered, rename, resolve_at};
use super::state::{Body, Direction, PeerId, PeerStatus, State};
use crate::event::{Delivery, Effect, Hint, Notice, PeerKey, Persist, Pin, PublicKey, Secure, Via};
use crate::keymap::key_for;

/// Stores what we know of a peer's key (nothing for a classic peer).
pub(super) fn persist(state: &State, id: PeerId, fx: &mut Vec<Effect>) {
    let peer = state.peer(id);
    if let Some(key) = peer.trust.key {
        fx.push(Effect::Persist(Persist::Pin(Pin {
            peer: peer.key.clone(),
            key,
            changed: peer.trust.changed,
            verified: peer.trust.verified,
            downgraded: peer.trust.downgraded,
            offered: peer.trust.offered,
        })));
    }
}

/// Start-up: the pins from the history, and how the sender must reach each peer.
pub fn restore_pins(state: &mut State, pins: Vec<Pin>) -> Vec<Effect> {
    let mut fx = Vec::new();
    for pin in pins {
        let found = state
            .find(&pin.peer)
            .or_else(|| add_peer(state, pin.peer.clone(), PeerStatus::Contact, false));
        let Some(id) = found else { continue };
        let peer = &mut state.peers[id.0];
        peer.trust.key = Some(pin.key);
        peer.trust.changed = pin.changed;
        peer.trust.verified = pin.verified;
        peer.trust.downgraded = pin.downgraded;
        peer.trust.offered = pin.offered;
        let secure = if peer.trust.held() {
            Secure::Held
        } else {
            Secure::Pinned(pin.key)
        };
        fx.push(Effect::Transport {
            to: pin.peer.addr(),
            secure: Some(secure),
        });
    }
    fx
}

/// A handshake proved `key` for the peer listening at `addr`.
pub(super) fn key_seen(
    state: &mut State,
    at: DateTime<Utc>,
    addr: SocketAddr,
    team: Option<String>,
    key: PublicKey,
    inbound: bool,
    fx: &mut Vec<Effect>,
) {
    let Some(id) = peer_for(state, at, addr, team, key) else {
        return;
    };
    if inbound && state.peer(id).trust.key.is_none_or(|k| k == key) {
        state.peers[id.0].trust.offered = true;
    }
    let peer = &mut state.peers[id.0];
    let label = peer.key.team_label().to_string();
    let before = peer.trust.clone();
    key_seen_on(state, at, id, addr, label, key, fx);
    if state.peer(id).trust != before {
        persist(state, id, fx);
    }
}

fn key_seen_on(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    addr: SocketAddr,
    label: String,
    key: PublicKey,
    fx: &mut Vec<Effect>,
) {
    let peer = &mut state.peers[id.0];
    // A handshake settles what an announcement claimed: the pinned key (a stale or
    // forged announcement) or another (the change below holds the peer).
    peer.trust.announced = None;
    match peer.trust.key {
        None => {
            peer.trust.key = Some(key);
            fx.push(Effect::Transport {
                to: addr,
                secure: Some(Secure::Pinned(key)),
            });
            let text = format!(
                "messages with {label} are encrypted from now on (safety number {})",
                key.safety_number()
            );
            system(state, at, Some(id), text, false);
        }
        // The same key (maybe at a new address: the sender learns it there too).
        Some(pinned) if pinned == key => fx.push(Effect::Transport {
            to: addr,
            secure: Some(Secure::Pinned(key)),
        }),
        Some(_) if peer.trust.changed == Some(key) => {}
        Some(_) => {
            peer.trust.changed = Some(key);
            fx.push(Effect::Transport {
                to: addr,
                secure: Some(Secure::Held),
            });
            let text = format!(
                "WARNING: {label}'s key changed (new safety number {}). Messages to it are \
                 held. Compare safety numbers, then {} to trust the new key",
                key.safety_number(),
                key_for(&crate::event::Action::Screen(
                    crate::event::ScreenAction::TrustSelected
                ))
            );
            error(state, at, text, fx);
        }
    }
}

/// The peer at `addr`; else the peer that holds this key elsewhere, moved here; else
/// a new contact.
fn peer_for(
    state: &mut State,
    at: DateTime<Utc>,
    addr: SocketAddr,
    team: Option<String>,
    key: PublicKey,
) -> Option<PeerId> {
    if let Ok(id) = resolve_at(state, addr, team.as_deref(), false) {
        return Some(id);
    }
    let moved = (0..state.peers.len())
        .map(PeerId)
        .find(|id| state.peer(*id).trust.key == Some(key));
    if let Some(id) = moved {
        let old = state.peer(id).key.clone();
        // Already here (the address alone was ambiguous: another team shares it).
        if old.addr() == addr {
            return Some(id);
        }
        let team = team.unwrap_or_else(|| old.team.clone());
        rename(state, id, PeerKey::new(addr.ip(), addr.port(), team));
        fx_move(state, at, id, old.addr(), addr);
        return Some(id);
    }
    let team = team.unwrap_or_default();
    add_peer(
        state,
        PeerKey::new(addr.ip(), addr.port(), team),
        PeerStatus::Contact,
        false,
    )
}

fn fx_move(state: &mut State, at: DateTime<Utc>, id: PeerId, from: SocketAddr, to: SocketAddr) {
    let label = state.peer(id).key.team_label().to_string();
    let text = format!("{label} (same key) moved from {from} to {to}");
    system(state, at, Some(id), text, false);
}

/// A plaintext message from `from` with this header: from a pinned peer, that is a
/// downgrade (it stopped offering encryption, or someone else speaks in its name), so
/// its messages are held like after a key change. The message itself is still shown.
pub(super) fn plain_from(
    state: &mut State,
    at: DateTime<Utc>,
    from: SocketAddr,
    header: &crate::protocol::Header,
    fx: &mut Vec<Effect>,
) {
    let Some(port) = header.port else { return };
    let addr = SocketAddr::new(from.ip(), port);
    let Ok(id) = resolve_at(state, addr, header.team.as_deref(), false) else {
        return;
    };
    let peer = &mut state.peers[id.0];
    // Only a peer that has itself connected encrypted can stop doing so; one that
    // never has (it does not know our key yet) still speaks plaintext, honestly.
    if peer.trust.key.is_none() || peer.trust.downgraded || !peer.trust.offered {
        return;
    }
    peer.trust.downgraded = true;
    let label = peer.key.team_label().to_string();
    fx.push(Effect::Transport {
        to: addr,
        secure: Some(Secure::Held),
    });
    let text = format!(
        "WARNING: {label} sent in plaintext although its key is pinned: it stopped \
         encrypting, or someone speaks in its name. Messages to it are held; {} accepts \
         plaintext from now on",
        key_for(&crate::event::Action::Screen(
            crate::event::ScreenAction::TrustSelected
        ))
    );
    error(state, at, text, fx);
    persist(state, id, fx);
}

/// The user accepts the key the peer now presents (or pins `given` at once, as an
/// invite does): its held messages go.
pub(super) fn trust(
    state: &mut State,
    at: DateTime<Utc>,
    addr: SocketAddr,
    given: Option<PublicKey>,
    fx: &mut Vec<Effect>,
) {
    let found = match resolve_at(state, addr, None, false) {
        Ok(id) => Some(id),
        Err(_) if given.is_some() && addr.port() != 0 => add_peer(
            state,
            PeerKey::new(addr.ip(), addr.port(), ""),
            PeerStatus::Contact,
            false,
        ),
        Err(_) => None,
    };
    let Some(id) = found else {
        return error(state, at, format!("no peer at {addr}"), fx);
    };
    trust_peer(state, at, id, addr, given, fx);
}

/// A brigade announced itself or an invite named it: listed (`peers::discovered`),
/// then what the hint says of its key goes to [`hinted`].
pub(super) fn found(state: &mut State, at: DateTime<Utc>, hint: Hint, fx: &mut Vec<Effect>) {
    let (addr, named) = (hint.addr, (hint.key, hint.via));
    if let Some(id) = discovered(state, at, hint, fx) {
        hinted(state, at, id, addr, named, fx);
    }
}

/// A discovery hint or an invite named this peer's key. An invite pins its key at
/// once when the peer has none pinned yet (no first-use trust needed); it never
/// overrides a pin (`--peer` gives the same invite on every start, however old).
/// An announcement (mDNS, beacon) proves nothing: the first contact runs the XX
/// handshake and the key it proves is pinned (trust on first use). A peer whose key
/// is known keeps it.
fn hinted(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    addr: SocketAddr,
    (key, via): (Option<PublicKey>, Via),
    fx: &mut Vec<Effect>,
) {
    let pinned = state.peer(id).trust.key;
    match (key, via) {
        (Some(k), Via::Invite) if pinned.is_none() => pin_from_invite(state, at, id, addr, k, fx),
        (Some(k), Via::Invite) if pinned != Some(k) => invite_differs(state, at, id, k, fx),
        (Some(_), Via::Mdns | Via::Beacon) if pinned.is_none() => fx.push(Effect::Transport {
            to: addr,
            secure: Some(Secure::Learn),
        }),
        (Some(k), Via::Mdns | Via::Beacon) if pinned != Some(k) => {
            announced_other(state, at, id, k, via, fx)
        }
        _ => {}
    }
}

/// An invite named the key of a peer with none pinned: pinned now. Not the user's
/// trust of a changed key, and not logged as such.
fn pin_from_invite(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    addr: SocketAddr,
    key: PublicKey,
    fx: &mut Vec<Effect>,
) {
    let peer = &mut state.peers[id.0];
    peer.trust.key = Some(key);
    peer.trust.verified = false;
    fx.push(Effect::Transport {
        to: addr,
        secure: Some(Secure::Pinned(key)),
    });
    let text = format!(
        "pinned {}'s key from the invite (safety number {})",
        peer.key.team_label(),
        key.safety_number()
    );
    system(state, at, Some(id), text, false);
    persist(state, id, fx);
}

/// An invite named another key than the one pinned: the invite is older than the
/// pin, or the peer's key changed since. Said, and the pin stays: the next
/// connection proves which key the peer holds (another one holds its messages).
fn invite_differs(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    key: PublicKey,
    fx: &mut Vec<Effect>,
) {
    let label = state.peer(id).key.team_label().to_string();
    let text = format!(
        "the invite for {label} names another key (safety number {}) than the one pinned: \
         the invite is older, or {label}'s key changed. The pinned key stays; the next \
         connection proves which key {label} holds",
        key.safety_number()
    );
    system(state, at, Some(id), text.clone(), false);
    fx.push(Effect::Notify(Notice::Info { text }));
}

/// An announcement for a pinned peer named another key. It proves nothing (anyone can
/// send one), so it neither moves nor holds the peer: messages still go to the pinned
/// key only, and the next handshake decides. A warning, once per announced key; not
/// for the key the peer already presented (that one is held already).
fn announced_other(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    key: PublicKey,
    via: Via,
    fx: &mut Vec<Effect>,
) {
    let trust = &mut state.peers[id.0].trust;
    if trust.announced == Some(key) || trust.changed == Some(key) {
        return;
    }
    trust.announced = Some(key);
    let label = state.peer(id).key.team_label().to_string();
    let text = format!(
        "WARNING: an announcement ({}) for {label} names another key (safety number {}) \
         than the one pinned. Announcements are unauthenticated: messages still go \
         encrypted to the pinned key only, and the next connection proves which key \
         {label} holds",
        via.label(),
        key.safety_number()
    );
    error(state, at, text, fx);
}

fn trust_peer(
    state: &mut State,
    at: DateTime<Utc>,
    id: PeerId,
    addr: SocketAddr,
    given: Option<PublicKey>,
    fx: &mut Vec<Effect>,
) {
    let peer = &mut state.peers[id.0];
    if given.is_none() && peer.trust.changed.is_none() && peer.trust.downgraded {
        // Accepting a downgrade: a classic peer from now on.
        peer.trust = Default::default();
        fx.push(Effect::Persist(Persist::Unpin(peer.key.clone())));
        fx.push(Effect::Transport {
            to: addr,
            secure: None,
        });
        let text = format!("{} is a plaintext peer from now on", peer.key.team_label());
        system(state, at, Some(id), text.clone(), false);
        fx.push(Effect::Notify(Notice::Info { text }));
        return release_held(state, id, fx);
    }
    let Some(new) = given.or(peer.trust.changed.take()) else {
        let text = format!("{addr}: its key has not changed, nothing to trust");
        return error(state, at, text, fx);
    };
    if peer.trust.key != Some(new) {
        peer.trust.verified = false;
    }
    peer.trust.changed = None;
    peer.trust.downgraded = false;
    peer.trust.key = Some(new);
    fx.push(Effect::Transport {
        to: addr,
        secure: Some(Secure::Pinned(new)),
    });
    let text = format!(
        "you trusted the new key of {} (safety number {})",
        peer.key.team_label(),
        new.safety_number()
    );
    system(state, at, Some(id), text.clone(), false);
    fx.push(Effect::Notify(Notice::Info { text }));
    persist(state, id, fx);
    release_held(state, id, fx);
}

/// Sends again the messages held for this peer.
fn release_held(state: &mut State, id: PeerId, fx: &mut Vec<Effect>) {
    let held: Vec<_> = state
        .failed
        .iter()
        .filter(|(_, i)| match &state.log[**i].body {
            Body::Message {
                peer,
                dir: Direction::Out { delivery, .. },
                ..
            } => *peer == id && matches!(delivery, Delivery::Held { .. }),
            _ => false,
        })
        .map(|(m, _)| *m)
        .collect();
    for m in held {
        requeue(state, m, fx);
    }
}
