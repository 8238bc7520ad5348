//! Drafts kept across restarts. The store stays pure: it says which drafts changed
//! (as `Persist::Draft` effects) and the history writer stores them. A draft is
//! written when its conversation is left (switching peers) and, for the one on screen,
//! when brigade exits ([`keep_drafts`]); never on every key.

use tui_input::Input;

use super::state::State;
use super::view::Selection;
use crate::event::{Draft, Effect, Persist};

/// After every event: the drafts of conversations not on screen that differ from what
/// the history holds (a new or changed draft, or one sent or cleared).
pub(super) fn keep_changed(state: &mut State, fx: &mut Vec<Effect>) {
    keep(state, false, fx);
}

/// On exit: every changed draft, the one on screen included.
pub fn keep_drafts(state: &mut State) -> Vec<Effect> {
    let mut fx = Vec::new();
    keep(state, true, &mut fx);
    fx
}

fn keep(state: &mut State, on_screen_too: bool, fx: &mut Vec<Effect>) {
    let view = &state.view;
    let current = view.selection;
    let text = |selection: &Selection| -> &str {
        if *selection == current {
            view.compose.value()
        } else {
            view.drafts.get(selection).map_or("", Input::value)
        }
    };
    let candidates = state
        .saved_drafts
        .keys()
        .chain(view.drafts.keys())
        .chain(on_screen_too.then_some(&current));
    let mut changed: Vec<(Selection, String)> = Vec::new();
    for selection in candidates {
        if (*selection == current && !on_screen_too) || changed.iter().any(|c| c.0 == *selection) {
            continue;
        }
        let now = text(selection);
        let saved = state.saved_drafts.get(selection).map_or("", String::as_str);
        if now != saved {
            changed.push((*selection, now.to_string()));
        }
    }
    for (selection, text) in changed {
        let peer = match selection {
            Selection::All => None,
            Selection::Peer(id) => Some(state.peers[id.0].key.clone()),
        };
        if text.is_empty() {
            state.saved_drafts.remove(&selection);
        } else {
            state.saved_drafts.insert(selection, text.clone());
        }
        fx.push(Effect::Persist(Persist::Draft(Draft { peer, text })));
    }
}

/// At start-up: the drafts of the last run go back to their conversations ("All
/// peers", on screen first, gets its draft in the compose box). Drafts of peers the
/// restored log does not know are left out.
pub fn restore_drafts(state: &mut State, drafts: Vec<Draft>) {
    for Draft { peer, text } in drafts {
        let selection = match peer {
            None => Selection::All,
            Some(key) => match state.find(&key) {
                Some(id) => Selection::Peer(id),
                None => continue,
            },
        };
        if selection == state.view.selection {
            state.view.compose = Input::new(text.clone());
        } else {
            state
                .view
                .drafts
                .insert(selection, Input::new(text.clone()));
        }
        state.saved_drafts.insert(selection, text);
    }
}

#[cfg(test)]
mod tests {
    use tui_input::InputRequest;

    use super::super::tests::Harness;
    use super::*;
    use crate::event::{Action, PeerKey, ScreenAction};
    use crate::store::PeerId;

    fn drafts(fx: &[Effect]) -> Vec<(Option<String>, String)> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Persist(Persist::Draft(d)) => {
                    Some((d.peer.as_ref().map(|p| p.team.clone()), d.text.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn select(h: &mut Harness, selection: Selection) -> Vec<Effect> {
        h.act(Action::Screen(ScreenAction::Select(selection)))
    }

    #[test]
    fn a_draft_is_stored_when_its_conversation_is_left_and_the_last_one_on_exit() {
        let mut h = Harness::new();
        h.recv("10.0.0.2:1", "10.0.0.2:8080 B hello");
        // Typing writes nothing: the draft on screen is stored when it is left.
        assert_eq!(drafts(&h.type_text("to all")), []);
        let fx = select(&mut h, Selection::Peer(PeerId(0)));
        assert_eq!(drafts(&fx), [(None, "to all".into())]);
        h.type_text("for B");
        let fx = select(&mut h, Selection::All);
        assert_eq!(drafts(&fx), [(Some("B".into()), "for B".into())]);
        assert_eq!(h.state.view.compose.value(), "to all");
        // Unchanged drafts are not written again.
        assert_eq!(drafts(&select(&mut h, Selection::Peer(PeerId(0)))), []);
        assert_eq!(drafts(&select(&mut h, Selection::All)), []);
        // Sent: on exit the stored draft of "All peers" is removed.
        h.act(Action::Screen(ScreenAction::Submit));
        assert_eq!(h.state.view.compose.value(), "");
        assert_eq!(drafts(&keep_drafts(&mut h.state)), [(None, String::new())]);
        assert_eq!(drafts(&keep_drafts(&mut h.state)), []);
        // B's draft, emptied in its conversation, is removed when it is left.
        select(&mut h, Selection::Peer(PeerId(0)));
        h.act(Action::Screen(ScreenAction::Edit(InputRequest::DeleteLine)));
        let fx = select(&mut h, Selection::All);
        assert_eq!(drafts(&fx), [(Some("B".into()), String::new())]);
    }

    #[test]
    fn a_command_leaves_no_draft_behind_and_the_opened_conversation_keeps_its_own() {
        let mut h = Harness::new();
        h.recv("10.0.0.2:1", "10.0.0.2:8080 B hello");
        select(&mut h, Selection::Peer(PeerId(0)));
        h.type_text("half a thought");
        select(&mut h, Selection::All);
        // `/msg` switches to B: the line typed in "All peers" must not stay there.
        h.type_text("/msg 10.0.0.2:8080/B hi");
        let fx = h.act(Action::Screen(ScreenAction::Submit));
        assert_eq!(h.state.view.selection, Selection::Peer(PeerId(0)));
        assert_eq!(h.state.view.compose.value(), "half a thought");
        assert_eq!(drafts(&fx), []);
        select(&mut h, Selection::All);
        assert_eq!(h.state.view.compose.value(), "");
        assert_eq!(drafts(&keep_drafts(&mut h.state)), []);
        // Any other command empties the box too, and nothing is stored for it.
        h.type_text("/connect");
        h.act(Action::Screen(ScreenAction::Submit));
        assert_eq!(h.state.view.compose.value(), "");
        assert_eq!(drafts(&keep_drafts(&mut h.state)), []);
        // The recall still brings the command back.
        assert_eq!(
            h.state.view.sent.last().map(String::as_str),
            Some("/connect")
        );
    }

    #[test]
    fn drafts_of_the_last_run_come_back_to_their_conversations() {
        let mut h = Harness::new();
        h.recv("10.0.0.2:1", "10.0.0.2:8080 B hello");
        let key = |team: &str| Some(PeerKey::new("10.0.0.2".parse().unwrap(), 8080, team));
        restore_drafts(
            &mut h.state,
            vec![
                Draft {
                    peer: None,
                    text: "to all".into(),
                },
                Draft {
                    peer: key("B"),
                    text: "for B".into(),
                },
                Draft {
                    peer: key("Unknown"),
                    text: "for nobody".into(),
                },
            ],
        );
        assert_eq!(h.state.view.compose.value(), "to all");
        assert_eq!(h.state.view.compose.cursor(), "to all".len());
        // They are what the history holds: nothing to write back.
        assert_eq!(drafts(&keep_drafts(&mut h.state)), []);
        let fx = select(&mut h, Selection::Peer(PeerId(0)));
        assert_eq!(drafts(&fx), []);
        assert_eq!(h.state.view.compose.value(), "for B");
    }
}
