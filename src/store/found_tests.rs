//! Going through search hits: n/N (↑/↓) jump from hit to hit in their conversations,
//! older history is loaded for a hit that is not in memory, and Esc goes back to where
//! the view was before the search.

use chrono::{TimeZone, Utc};

use super::tests::Harness;
use super::*;
use crate::event::*;

/// The stored form of the log entry at `index` (what a search answers).
fn record(state: &State, index: usize) -> Record {
    let Body::Message { peer, text, .. } = &state.log[index].body else {
        panic!("entry {index} is not a message")
    };
    Record::received(
        state.log[index].at,
        state.peers[peer.0].key.clone(),
        text.clone(),
    )
}

fn index_of(state: &State, wanted: &str) -> usize {
    state
        .log
        .iter()
        .position(|e| matches!(&e.body, Body::Message { text, .. } if text == wanted))
        .unwrap_or_else(|| panic!("{wanted:?} is not in the log"))
}

fn screen(h: &mut Harness, action: ScreenAction) -> Vec<Effect> {
    h.act(Action::Screen(action))
}

/// Opens the search, types `query` and answers it with `hits`.
fn search(h: &mut Harness, query: &str, hits: Vec<Record>) {
    screen(h, ScreenAction::OpenSearch);
    h.type_text(query);
    let at = Utc.timestamp_opt(0, 0).unwrap();
    let query = query.to_string();
    update(
        &mut h.state,
        Event {
            at,
            kind: EventKind::SearchResults { query, hits },
        },
    );
}

fn highlighted(state: &State) -> &str {
    let (i, _) = state.view.found.as_ref().expect("a highlighted hit");
    match &state.log[*i].body {
        Body::Message { text, .. } => text,
        Body::System { text, .. } => text,
    }
}

#[test]
fn n_and_shift_n_go_from_hit_to_hit_and_esc_returns_to_the_exact_position() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B lab at five");
    for n in 0..6 {
        h.recv("10.0.0.2:1", &format!("10.0.0.2:8080 B filler {n}"));
    }
    h.recv("10.0.0.3:1", "10.0.0.3:8080 C the lab is closed");
    h.recv("10.0.0.3:1", "10.0.0.3:8080 C later");
    let (b, c) = (PeerId(0), PeerId(1));
    // Reading B's conversation, scrolled up three lines into it.
    screen(&mut h, ScreenAction::Select(Selection::Peer(b)));
    screen(&mut h, ScreenAction::Scroll(Scroll::Up(3)));
    screen(&mut h, ScreenAction::Focus(Focus::Log));
    let before = (
        h.state.view.selection,
        h.state.view.scroll,
        h.state.view.scroll_lines,
    );
    assert_eq!(before, (Selection::Peer(b), 0, 3));

    let hits = vec![
        record(&h.state, index_of(&h.state, "the lab is closed")),
        record(&h.state, index_of(&h.state, "lab at five")),
    ];
    search(&mut h, "lab", hits);
    // Enter: the newest hit, in C's conversation, one entry above the bottom.
    screen(&mut h, ScreenAction::Submit);
    assert!(matches!(&h.state.view.overlay, Overlay::Search(s) if s.browsing));
    assert_eq!(h.state.view.selection, Selection::Peer(c));
    assert_eq!((h.state.view.scroll, h.state.view.scroll_lines), (1, 0));
    assert_eq!(highlighted(&h.state), "the lab is closed");
    // n: the next (older) hit, in B's conversation, seven entries above its bottom.
    screen(&mut h, ScreenAction::NextField);
    assert_eq!(h.state.view.selection, Selection::Peer(b));
    assert_eq!(h.state.view.scroll, 6);
    assert_eq!(highlighted(&h.state), "lab at five");
    // n at the last hit stays there; Shift+N goes back to the newer one.
    screen(&mut h, ScreenAction::NextField);
    assert_eq!(highlighted(&h.state), "lab at five");
    screen(&mut h, ScreenAction::PrevField);
    assert_eq!(h.state.view.selection, Selection::Peer(c));
    assert_eq!(highlighted(&h.state), "the lab is closed");
    // Esc: B again, scrolled as it was, nothing highlighted, the focus where it was.
    screen(&mut h, ScreenAction::Close);
    assert!(matches!(h.state.view.overlay, Overlay::None));
    assert_eq!(
        (
            h.state.view.selection,
            h.state.view.scroll,
            h.state.view.scroll_lines
        ),
        before
    );
    assert_eq!(h.state.view.focus, Focus::Log);
    assert_eq!(h.state.view.found, None);
}

#[test]
fn enter_on_a_hit_stays_there_and_up_down_in_the_query_box_jump_too() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B lab one");
    h.recv("10.0.0.3:1", "10.0.0.3:8080 C lab two");
    let hits = vec![
        record(&h.state, index_of(&h.state, "lab two")),
        record(&h.state, index_of(&h.state, "lab one")),
    ];
    search(&mut h, "lab", hits);
    // ↓ in the query box chooses the next hit and shows it behind the list.
    screen(&mut h, ScreenAction::NextField);
    assert!(matches!(&h.state.view.overlay, Overlay::Search(s) if !s.browsing));
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(0)));
    assert_eq!(highlighted(&h.state), "lab one");
    screen(&mut h, ScreenAction::PrevField);
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(1)));
    // Enter shows it; Enter again leaves the search there, highlight kept.
    screen(&mut h, ScreenAction::Submit);
    screen(&mut h, ScreenAction::Submit);
    assert!(matches!(h.state.view.overlay, Overlay::None));
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(1)));
    assert_eq!(highlighted(&h.state), "lab two");
}

#[test]
fn a_hit_older_than_the_loaded_log_is_shown_once_older_history_is_loaded() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B recent");
    let oldest_loaded = h.state.log[0].at;
    h.state.older_before = Some(oldest_loaded);
    let old = |secs: i64, text: &str| {
        let b = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
        Record::received(Utc.timestamp_opt(secs, 0).unwrap(), b, text)
    };
    let hit = old(1_000, "the old lab");
    search(&mut h, "lab", vec![hit.clone()]);
    let fx = screen(&mut h, ScreenAction::Submit);
    assert_eq!(
        fx,
        [Effect::LoadOlder {
            before: oldest_loaded
        }]
    );
    assert!(matches!(&h.state.view.overlay, Overlay::Search(s) if s.waiting));
    // A page without the hit: the page before it is asked for.
    let page = vec![old(2_000, "newer than the hit")];
    let fx = update(
        &mut h.state,
        Event {
            at: oldest_loaded,
            kind: EventKind::Older(page),
        },
    );
    assert_eq!(
        fx,
        [Effect::LoadOlder {
            before: Utc.timestamp_opt(2_000, 0).unwrap()
        }]
    );
    // The page with the hit: it is shown, in B's conversation, highlighted.
    let fx = update(
        &mut h.state,
        Event {
            at: oldest_loaded,
            kind: EventKind::Older(vec![old(500, "older still"), hit]),
        },
    );
    assert!(fx.is_empty(), "{fx:?}");
    assert!(matches!(&h.state.view.overlay, Overlay::Search(s) if s.browsing && !s.waiting));
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(0)));
    assert_eq!(highlighted(&h.state), "the old lab");
    // Below it: "newer than the hit", the line saying B is active, "recent".
    assert_eq!(h.state.view.scroll, 3);
    // More history loaded above keeps the highlight on the same message.
    update(
        &mut h.state,
        Event {
            at: oldest_loaded,
            kind: EventKind::Older(vec![old(100, "ancient")]),
        },
    );
    assert_eq!(highlighted(&h.state), "the old lab");
    // Esc: back to "All peers", following the newest line.
    screen(&mut h, ScreenAction::Close);
    assert_eq!(h.state.view.selection, Selection::All);
    assert_eq!((h.state.view.scroll, h.state.view.scroll_lines), (0, 0));
}

#[test]
fn a_hit_that_cannot_be_loaded_says_so() {
    let mut h = Harness::new();
    let gone = Record::received(
        Utc.timestamp_opt(5, 0).unwrap(),
        PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B"),
        "x marks the spot",
    );
    search(&mut h, "x", vec![gone]);
    let fx = screen(&mut h, ScreenAction::Submit);
    assert!(fx.is_empty(), "everything is loaded: {fx:?}");
    assert!(h.state.view.flash.as_ref().unwrap().error);
    assert!(matches!(&h.state.view.overlay, Overlay::Search(s) if !s.waiting));
}
