//! `update(&mut State, Event) -> Vec<Effect>`: every user action and network fact as a
//! case of one pure function.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use super::inbox::received;
use super::log::{error, flash, info, system};
use super::outbox::{delivery, failed_ids, queue_send, requeue, send, send_exit, set_delivery};
use super::peers::{lost, resolve_listed};
use super::screen::{remember_sent, typed_command};
use super::state::{PeerId, PeerStatus, State};
use crate::event::{Action, Delivery, Effect, Event, EventKind, NetEvent, Notice, Query, Record};
use crate::protocol::CONNECT_TEXT;
use crate::slash::Command;
use crate::store::ScreenAction;

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
            super::found::search_results(state, query, hits)
        }
        EventKind::Older(records) => {
            super::restore::prepend(state, records);
            super::found::resume(state, &mut fx);
        }
        EventKind::Answer { query, result } => fx.push(Effect::Notify(answer(query, result))),
        EventKind::Doctor(report) => super::doctor::show_doctor(state, &report),
    }
    super::drafts::keep_changed(state, &mut fx);
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

pub(super) fn on_action(
    state: &mut State,
    at: DateTime<Utc>,
    action: Action,
    fx: &mut Vec<Effect>,
) {
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
        Action::Quit => super::quit::quit(state, false, fx),
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
        Action::Screen(action) => on_screen_or_command(state, at, action, fx),
        Action::Trust { peer, key } => super::trust::trust(state, at, peer, key, fx),
        Action::Verify { peer } => super::verify::verify(state, at, peer, fx),
    }
}

/// Enter on a slash command in the compose box runs it; every other screen action
/// goes to the screen.
fn on_screen_or_command(
    state: &mut State,
    at: DateTime<Utc>,
    action: ScreenAction,
    fx: &mut Vec<Effect>,
) {
    match typed_command(state) {
        Some(command) if action == ScreenAction::Submit => run(state, at, command, fx),
        _ => super::screen::on_screen(state, at, action, fx),
    }
}

/// A slash command from the compose box does what its key does.
fn run(state: &mut State, at: DateTime<Utc>, command: Command, fx: &mut Vec<Effect>) {
    state.view.flash = None;
    let line = state.view.compose.value().to_string();
    let screen = |action| Action::Screen(action);
    match command {
        Command::Connect => on_action(state, at, Action::ConnectAll, fx),
        Command::Retry => on_action(state, at, Action::Retry { id: None }, fx),
        Command::Quit => on_action(state, at, Action::Quit, fx),
        Command::Disconnect => on_action(state, at, screen(ScreenAction::DisconnectSelected), fx),
        Command::Help => on_action(state, at, screen(ScreenAction::OpenHelp), fx),
        Command::Alias { peer, name } => super::notes::alias(state, peer, name, fx),
        Command::Forget => super::notes::ask_forget(state),
        Command::Doctor => on_action(state, at, screen(ScreenAction::OpenDoctor), fx),
        Command::Verify(peer) | Command::Trust(peer) => {
            let trust = matches!(command, Command::Trust(_));
            if !super::verify::by_command(state, at, peer, trust, fx) {
                return;
            }
        }
        Command::Msg { addr, team, text } => {
            return super::screen::msg(state, at, (addr, team, text), fx);
        }
    }
    remember_sent(state, line);
}

fn on_net(state: &mut State, at: DateTime<Utc>, net: NetEvent, fx: &mut Vec<Effect>) {
    match net {
        NetEvent::Listening { addr, key } => {
            state.me.listen = Some(addr);
            state.me.key = Some(key);
            fx.push(Effect::Notify(Notice::Listening {
                addr: SocketAddr::new(state.me.advertise_ip, addr.port()),
                team: state.me.team.clone(),
                fingerprint: key.safety_number().to_string(),
                key: key.hex(),
            }));
        }
        NetEvent::Received {
            from,
            message,
            sealed,
        } => {
            if !sealed {
                super::trust::plain_from(state, at, from, &message.header, fx);
            }
            received(state, at, from, message, sealed, fx)
        }
        NetEvent::PeerKey {
            addr,
            team,
            key,
            inbound,
        } => super::trust::key_seen(state, at, addr, team, key, inbound, fx),
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
        NetEvent::Discovered(hint) => super::trust::found(state, at, hint, fx),
        NetEvent::Lost { addr, team, via } => lost(state, at, addr, team, via, fx),
    }
}

#[cfg(test)]
mod ask_tests {
    use chrono::TimeZone;

    use super::*;

    fn apply(state: &mut State, kind: EventKind) -> Vec<Effect> {
        let at = Utc.timestamp_opt(0, 0).unwrap();
        update(state, Event { at, kind })
    }

    /// A question becomes an effect for the sink; its answer, a notice for the user.
    #[test]
    fn a_question_goes_to_the_sink_and_its_answer_to_the_user() {
        let mut state = State::new("A", "127.0.0.1".parse().unwrap());
        let query = Query::Search {
            query: "lab".into(),
            limit: 5,
        };
        let fx = apply(&mut state, EventKind::Action(Action::Ask(query.clone())));
        assert_eq!(fx, [Effect::Ask(query.clone())]);

        let fx = apply(
            &mut state,
            EventKind::Answer {
                query: query.clone(),
                result: Ok(Vec::new()),
            },
        );
        let search = Notice::Search {
            query: "lab".into(),
            hits: Vec::new(),
        };
        assert_eq!(fx, [Effect::Notify(search)]);

        let peer: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let conversation = Query::Conversation { peer, limit: 5 };
        let fx = apply(
            &mut state,
            EventKind::Answer {
                query: conversation,
                result: Ok(Vec::new()),
            },
        );
        let history = Notice::History {
            peer,
            messages: Vec::new(),
        };
        assert_eq!(fx, [Effect::Notify(history)]);

        let fx = apply(
            &mut state,
            EventKind::Answer {
                query,
                result: Err("no history".into()),
            },
        );
        let error = Notice::Error {
            text: "no history".into(),
        };
        assert_eq!(fx, [Effect::Notify(error)]);
        // Nothing of it reaches the log: the answer is for the one who asked.
        assert!(state.log.is_empty());
    }
}
