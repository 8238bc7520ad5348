//! Whole screens from `TestBackend`, as committed insta snapshots, at 100x30 and at
//! small sizes. States are built through the real `update` function from wire bytes.

use brigade::event::{Action, Delivery, Event, EventKind, MsgId, NetEvent, Record, Target};
use brigade::protocol::{Parsed, parse_message};
use brigade::store::{
    Body, Direction, Form, Overlay, PeerId, ScreenAction, Scroll, Selection, State, update,
};
use brigade::ui::{self, Theme};
use chrono::{TimeZone, Utc};
use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

struct Scene {
    state: State,
    clock: i64,
}

impl Scene {
    fn new() -> Scene {
        let mut s = Scene {
            state: State::new("A", "10.206.7.5".parse().unwrap()),
            clock: 1_780_000_000, // 2026-05-28, 20:26:40 UTC
        };
        s.net(NetEvent::Listening {
            addr: "0.0.0.0:9991".parse().unwrap(),
            key: brigade::event::PublicKey([7; 32]),
        });
        s
    }

    fn at(&mut self) -> chrono::DateTime<Utc> {
        self.clock += 7;
        Utc.timestamp_opt(self.clock, 0).unwrap()
    }

    fn net(&mut self, e: NetEvent) {
        let at = self.at();
        update(&mut self.state, Event::net(at, e));
    }

    fn act(&mut self, a: Action) {
        let at = self.at();
        update(&mut self.state, Event::action(at, a));
    }

    fn screen(&mut self, a: ScreenAction) {
        self.act(Action::Screen(a));
    }

    fn recv(&mut self, from: &str, raw: &[u8]) {
        let Parsed::Message(message) = parse_message(raw) else {
            panic!("{raw:?}")
        };
        self.net(NetEvent::Received {
            from: from.parse().unwrap(),
            message,
            sealed: false,
        });
    }

    fn send(&mut self, to: &str, text: &str) {
        self.act(Action::Send {
            to: Target::Addr {
                addr: to.parse().unwrap(),
                team: None,
            },
            text: text.into(),
        });
    }

    fn delivery(&mut self, id: u64, to: &str, status: Delivery) {
        self.net(NetEvent::Delivery {
            id: MsgId(id),
            to: to.parse().unwrap(),
            status,
        });
    }

    fn terminal(&self, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| ui::render(f, &self.state, Theme::COLOR, ""))
            .unwrap();
        terminal
    }

    fn draw(&self, width: u16, height: u16) -> String {
        self.terminal(width, height).backend().to_string()
    }
}

/// Three peers and a conversation with B in both directions, every delivery state.
fn conversation() -> Scene {
    let mut s = Scene::new();
    s.recv("10.213.8.143:40001", b"10.213.8.143:8080 B Hi from B");
    s.recv(
        "10.206.5.228:40002",
        b"127.0.1.1:6555 Team_Subhra hello, anyone in the lab?",
    );
    s.recv(
        "10.206.4.122:40003",
        b"10.206.4.122:1255 C connection message",
    );
    s.send("10.213.8.143:8080", "Hi from A");
    s.delivery(1, "10.213.8.143:8080", Delivery::Delivered);
    s.send(
        "10.213.8.143:8080",
        "are you coming to the lab at five? I can bring the router and the spare cables",
    );
    s.delivery(2, "10.213.8.143:8080", Delivery::Delivered);
    s.send("10.213.8.143:8080", "ok see you there");
    s.delivery(
        3,
        "10.213.8.143:8080",
        Delivery::Retrying {
            attempt: 1,
            reason: "refused".into(),
        },
    );
    s.send("10.206.5.228:6555", "not to you, sorry");
    s.delivery(
        4,
        "10.206.5.228:6555",
        Delivery::Failed {
            reason: "connection refused (peer not listening) (after 5 attempts)".into(),
        },
    );
    s
}

#[test]
fn empty_start() {
    assert_snapshot!(Scene::new().draw(100, 30));
}

#[test]
fn conversation_all_peers() {
    assert_snapshot!(conversation().draw(100, 30));
}

#[test]
fn conversation_with_one_peer() {
    let mut s = conversation();
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(0))));
    for c in "let me check".chars() {
        s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar(c)));
    }
    // C writes while B is on screen: an unread badge on C.
    s.recv("10.206.4.122:40004", b"10.206.4.122:1255 C ping");
    assert_snapshot!(s.draw(100, 30));
}

#[test]
fn scrolled_up_with_new_messages_below() {
    let mut s = conversation();
    s.screen(ScreenAction::Scroll(Scroll::Up(3)));
    s.recv("10.213.8.143:40005", b"10.213.8.143:8080 B one more");
    s.recv("10.213.8.143:40006", b"10.213.8.143:8080 B and another");
    assert_snapshot!(s.draw(100, 30));
}

#[test]
fn help_overlay() {
    let mut s = conversation();
    s.screen(ScreenAction::OpenHelp);
    assert_snapshot!(s.draw(100, 30));
}

#[test]
fn new_recipient_form_with_an_error() {
    let mut s = conversation();
    s.screen(ScreenAction::OpenNewRecipient);
    for c in "10.0.0".chars() {
        s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar(c)));
    }
    for _ in 0..4 {
        s.screen(ScreenAction::Submit);
    }
    assert!(matches!(s.state.view.overlay, Overlay::NewRecipient(_)));
    assert_snapshot!(s.draw(100, 30));
}

#[test]
fn startup_form_with_a_taken_port() {
    let mut form = Form::startup(Some("A"), Some(9991));
    form.fail(
        1,
        "port 9991 is taken by another program; choose another port".into(),
    );
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|f| ui::render_startup(f, &form, Theme::COLOR))
        .unwrap();
    assert_snapshot!(terminal.backend().to_string());
}

/// Escape sequences, bidi overrides, zero-width and combining floods, wide characters
/// and a forged second line, in the team and the text: nothing breaks the borders.
fn hostile() -> Scene {
    let mut s = Scene::new();
    s.recv(
        "10.0.0.66:1",
        b"10.0.0.66:6666 \x1b[31mEvil\x1b]0;pwned\x07 \x1b[2J\x1b[Hcleared?\x1b[1;1H \xe2\x80\xaeSSAP\xe2\x80\xac \
          tab\there zero\xe2\x80\x8bwidth \r\n14:00:00  you  forged line",
    );
    let zalgo = format!(
        "10.0.0.66:6666 Evil z{}algo 日本語の文字 😀👍🏽 end",
        "\u{301}\u{302}".repeat(200)
    );
    s.recv("10.0.0.66:2", zalgo.as_bytes());
    s.recv(
        "10.0.0.67:3",
        b"\x1b[?1049l\x1b[?1000l no header, just escapes \x9b31m\x07\x08\x08\x08",
    );
    s
}

#[test]
fn hostile_text_is_harmless() {
    let screen = hostile().draw(100, 30);
    for bad in ['\x1b', '\x07', '\u{202e}', '\u{200b}', '\u{9b}'] {
        assert!(!screen.contains(bad), "{bad:?} reached the screen");
    }
    assert_snapshot!(screen);
}

#[test]
fn narrow_screen_collapses_the_peer_list() {
    let mut s = conversation();
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(0))));
    assert_snapshot!(s.draw(56, 16));
}

#[test]
fn smallest_supported_size() {
    assert_snapshot!(conversation().draw(40, 10));
}

#[test]
fn too_small_asks_for_a_larger_window() {
    assert_snapshot!(conversation().draw(30, 8));
}

#[test]
fn nothing_panics_at_any_size() {
    let mut s = hostile();
    s.screen(ScreenAction::OpenHelp);
    let c = conversation();
    for w in 0..130 {
        for h in [0, 1, 2, 5, 9, 10, 11, 17, 40] {
            s.terminal(w, h);
            c.terminal(w, h);
        }
    }
}

#[test]
fn search_overlay_with_hits() {
    let mut s = conversation();
    s.screen(ScreenAction::OpenSearch);
    for c in "lab".chars() {
        s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar(c)));
    }
    let hits: Vec<Record> = s
        .state
        .log
        .iter()
        .filter_map(|e| match &e.body {
            Body::Message { peer, dir, text } if text.contains("lab") => Some(Record {
                at: e.at,
                peer: s.state.peers[peer.0].key.clone(),
                outgoing: matches!(dir, Direction::Out { .. }),
                text: text.clone(),
                msg_id: None,
                delivery: None,
                claimed_ip: None,
            }),
            _ => None,
        })
        .rev()
        .collect();
    let at = s.at();
    update(
        &mut s.state,
        Event {
            at,
            kind: EventKind::SearchResults {
                query: "lab".into(),
                hits,
            },
        },
    );
    s.screen(ScreenAction::NextField);
    assert_snapshot!(s.draw(100, 30));
}

#[test]
fn help_in_a_short_window_says_there_is_more() {
    let mut s = conversation();
    s.screen(ScreenAction::OpenHelp);
    let screen = s.draw(80, 24);
    assert!(screen.contains("more keys in a taller window"), "{screen}");
    assert_snapshot!(screen);
}
