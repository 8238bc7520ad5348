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
    for n in 0..30 {
        let text = format!("10.213.8.143:8080 B earlier message {n}");
        s.recv("10.213.8.143:40004", text.as_bytes());
    }
    s.screen(ScreenAction::Scroll(Scroll::Up(3)));
    s.recv("10.213.8.143:40005", b"10.213.8.143:8080 B one more");
    s.recv("10.213.8.143:40006", b"10.213.8.143:8080 B and another");
    let screen = s.draw(100, 30);
    assert!(screen.contains("↓ 2 new messages"), "{screen}");
    assert!(!screen.contains("and another"), "{screen}");
    assert_snapshot!(screen);
}

/// Scrolling up a log that fits the pane hides nothing: no blank rows over hidden
/// messages, and no marker for messages that are in view.
#[test]
fn scrolling_up_a_short_log_hides_nothing() {
    let mut s = conversation();
    s.screen(ScreenAction::Scroll(Scroll::Up(3)));
    s.recv("10.213.8.143:40005", b"10.213.8.143:8080 B one more");
    s.recv("10.213.8.143:40006", b"10.213.8.143:8080 B and another");
    let screen = s.draw(100, 30);
    for text in ["Hi from B", "Hi from A", "one more", "and another"] {
        assert!(screen.contains(text), "{text} hidden:\n{screen}");
    }
    assert!(!screen.contains("new message"), "{screen}");
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
    s.recv("10.0.0.67:4", EIGHT_BIT_CSI);
    s
}

/// U+009B (the 8-bit CSI) as a character, UTF-8 encoded: a raw 0x9B byte is not
/// UTF-8 and becomes U+FFFD, so it alone would not test the CSI.
const EIGHT_BIT_CSI: &[u8] = b"10.0.0.67:7 Evil \xc2\x9b1;31mred? \xc2\x9b2Jcleared?";

#[test]
fn hostile_text_is_harmless() {
    assert!(String::from_utf8_lossy(EIGHT_BIT_CSI).contains('\u{9b}'));
    let screen = hostile().draw(100, 30);
    for bad in ['\x1b', '\x07', '\u{202e}', '\u{200b}', '\u{9b}'] {
        assert!(!screen.contains(bad), "{bad:?} reached the screen");
    }
    // The 8-bit sequences went whole, their parameters too.
    assert!(screen.contains("red? cleared?"), "{screen}");
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
    // Enter: the hit in its conversation, the list put away for a bar that says which
    // hit this is and how to go on (at 80x24 too).
    s.screen(ScreenAction::Submit);
    assert_snapshot!("search_going_through_hits_80x24", s.draw(80, 24));
}

/// At 45 columns the safety number does not fit one line: it takes two, never cut;
/// what each key does wraps under its column, and the help scrolls to its last line.
#[test]
fn help_in_a_narrow_window_shows_the_whole_safety_number() {
    let mut s = conversation();
    s.screen(ScreenAction::OpenHelp);
    let screen = s.draw(45, 30);
    for half in [
        "91614 69584 65215 88756 32976 67561",
        "29072 45162 40276 65336 66939 40081",
    ] {
        assert!(screen.contains(half), "{half} cut:\n{screen}");
    }
    assert!(screen.contains("Your safety number:"), "{screen}");
    assert!(screen.contains("own)"), "a wrapped description:\n{screen}");
    assert_snapshot!(screen);
    s.screen(ScreenAction::Scroll(Scroll::Bottom));
    let end = s.draw(45, 30);
    assert!(end.contains("closes."), "{end}");
    assert!(end.contains("/trust [IP:PORT]"), "{end}");
    // The front end brings the store's scroll back to the last page, so one PageUp
    // moves at once; the wider window's last page comes sooner.
    let narrow = ratatui::layout::Rect::new(0, 0, 45, 30);
    let last = ui::settle_help(&s.state, narrow).unwrap();
    assert!(last < s.state.view.help_scroll, "{last}");
    s.state.view.help_scroll = last;
    s.screen(ScreenAction::Scroll(Scroll::PageUp));
    assert!(
        !s.draw(45, 30).contains("closes."),
        "one PageUp left the end"
    );
    let wide = ratatui::layout::Rect::new(0, 0, 100, 30);
    assert!(ui::settle_help(&s.state, wide).unwrap() <= last);
}

#[test]
fn help_in_a_short_window_says_there_is_more() {
    let mut s = conversation();
    s.screen(ScreenAction::OpenHelp);
    let screen = s.draw(80, 24);
    assert!(screen.contains("↓ more: ↑ ↓ PgUp PgDn scroll"), "{screen}");
    assert_snapshot!(screen);
    // It scrolls to its last line, and no further.
    for _ in 0..10 {
        s.screen(ScreenAction::Scroll(Scroll::PageDown));
    }
    let end = s.draw(80, 24);
    assert!(end.contains("↑ more above"), "{end}");
    assert!(end.contains("the wheel scrolls the log"), "{end}");
    assert!(end.contains("Ctrl+U"), "{end}");
    assert_snapshot!("help_scrolled_to_its_end", end);
}

/// Alt+Enter: the compose box grows with the lines (up to five rows), then scrolls to
/// keep the cursor's line in view.
#[test]
fn a_message_of_several_lines_grows_the_compose_box() {
    let mut s = conversation();
    for c in "first line\nsecond line\nthird".chars() {
        s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar(c)));
    }
    assert_snapshot!(s.draw(80, 24));
    for c in "\n4\n5\n6\nseventh".chars() {
        s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar(c)));
    }
    let screen = s.draw(80, 24);
    // Lines 3 to 7 of 7: an arrow says there are more above.
    assert!(!screen.contains("first line"), "{screen}");
    assert!(screen.contains("│  seventh"), "{screen}");
    assert!(screen.contains("│↑ third"), "{screen}");
    assert_snapshot!("seven_lines_scroll_in_five_rows", screen);
}

/// The terminal front end asks before quitting with messages on their way.
#[test]
fn quitting_with_undelivered_messages_asks() {
    let mut s = conversation();
    s.state.view.ask_before_quit = true;
    s.act(Action::Quit);
    let screen = s.draw(80, 24);
    assert!(
        screen.contains("1 message not delivered yet: quit anyway?"),
        "{screen}"
    );
    assert_snapshot!(screen);
}

/// Held messages (a changed key) are not waited for: the question says where they stay.
#[test]
fn quitting_with_only_held_messages_says_they_stay() {
    let mut s = conversation();
    s.state.view.overlay = brigade::store::Overlay::ConfirmQuit {
        waiting: 0,
        held: 2,
    };
    let screen = s.draw(80, 24);
    assert!(
        screen.contains("2 messages not delivered yet: quit anyway?"),
        "{screen}"
    );
    assert!(screen.contains("held for a changed key"), "{screen}");
    assert!(!screen.contains("waits for them"), "{screen}");
}

#[test]
fn ctrl_d_asks_before_disconnecting() {
    let mut s = conversation();
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(0))));
    s.screen(ScreenAction::DisconnectSelected);
    let screen = s.draw(80, 24);
    assert!(
        screen.contains("Disconnect B at 10.213.8.143:8080?"),
        "{screen}"
    );
    assert_snapshot!(screen);
}

impl Scene {
    /// What the terminal front end does before each frame: settle the scroll position
    /// at this size.
    fn settle(&mut self, width: u16, height: u16) {
        let area = ratatui::layout::Rect::new(0, 0, width, height);
        if let Some(settled) = ui::settle(&self.state, area) {
            brigade::store::settle_scroll(&mut self.state, settled);
        }
    }

    fn scroll(&mut self, by: Scroll, width: u16, height: u16) {
        self.screen(ScreenAction::Scroll(by));
        self.settle(width, height);
    }
}

/// A 66-line message at 80x24: scrolling by lines reaches its first line and stops
/// there (no blank pane above the oldest line), and every line can be read.
#[test]
fn a_66_line_message_is_read_whole_by_scrolling_lines() {
    let mut s = conversation();
    let text: Vec<String> = (1..=66)
        .map(|n| format!("line {n} of the long one"))
        .collect();
    s.send("10.213.8.143:8080", &text.join("\n"));
    s.settle(80, 24);
    let bottom = s.draw(80, 24);
    assert!(bottom.contains("line 66 of"), "{bottom}");
    let mut seen: std::collections::BTreeSet<usize> = (1..=66)
        .filter(|n| bottom.contains(&format!("line {n} of")))
        .collect();
    for _ in 0..40 {
        s.scroll(Scroll::Up(3), 80, 24);
        let screen = s.draw(80, 24);
        for n in 1..=66 {
            if screen.contains(&format!("line {n} of")) {
                seen.insert(n);
            }
        }
    }
    assert_eq!(seen.len(), 66, "every line was on screen once: {seen:?}");
    assert!(s.state.view.at_top);
    let top = s.draw(80, 24);
    assert!(
        top.contains("Thu 28 May 2026"),
        "the oldest line shows: {top}"
    );
    assert!(top.contains("↓ more below"), "{top}");
    assert_snapshot!(top);
    // One page down moves the text by the pane's height less one line.
    s.scroll(Scroll::PageDown, 80, 24);
    s.scroll(Scroll::Bottom, 80, 24);
    assert!(s.state.view.following());
}

/// Days are separated ("Yesterday", "Today"), and a conversation opened with unread
/// messages shows a marker above the first of them until another is selected.
#[test]
fn day_separators_and_the_unread_marker() {
    let mut s = Scene::new();
    s.recv("10.213.8.143:40001", b"10.213.8.143:8080 B late last night");
    s.send("10.213.8.143:8080", "good night");
    s.recv("10.206.4.122:40003", b"10.206.4.122:1255 C hello");
    // Reading C's conversation while B writes: B's messages are unread.
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(1))));
    s.clock += 12 * 3600;
    s.recv("10.213.8.143:40002", b"10.213.8.143:8080 B morning!");
    s.recv("10.213.8.143:40003", b"10.213.8.143:8080 B are you there?");
    s.state.view.today = Some(chrono::NaiveDate::from_ymd_opt(2026, 5, 29).unwrap());
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(0))));
    let screen = s.draw(80, 24);
    for text in ["Yesterday", "Today", " new "] {
        assert!(screen.contains(text), "{text}: {screen}");
    }
    let new = screen.find(" new ").unwrap();
    assert!(new < screen.find("morning!").unwrap() && new > screen.find("Today").unwrap());
    assert_snapshot!(screen);
    s.screen(ScreenAction::Select(Selection::All));
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(0))));
    assert!(!s.draw(80, 24).contains(" new "), "read now");
}

/// Enter on a search hit of this session brings it into view with the match
/// highlighted (the hit carries the history's whole milliseconds).
#[test]
fn a_search_hit_of_this_session_is_shown_highlighted() {
    let mut s = conversation();
    for n in 0..30 {
        let text = format!("10.213.8.143:8080 B filler {n}");
        s.recv("10.213.8.143:40004", text.as_bytes());
    }
    let entry = s.state.log[1].clone();
    let Body::Message { peer, text, .. } = &entry.body else {
        panic!()
    };
    let hit = Record {
        at: Utc
            .timestamp_millis_opt(entry.at.timestamp_millis())
            .unwrap(),
        peer: s.state.peers[peer.0].key.clone(),
        outgoing: false,
        text: text.clone(),
        msg_id: None,
        delivery: None,
        claimed_ip: None,
    };
    s.screen(ScreenAction::OpenSearch);
    for c in "from".chars() {
        s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar(c)));
    }
    let at = s.at();
    update(
        &mut s.state,
        Event {
            at,
            kind: EventKind::SearchResults {
                query: "from".into(),
                hits: vec![hit],
            },
        },
    );
    s.screen(ScreenAction::Submit);
    // Going through the hits: the list is put away, a bar says which hit this is.
    assert!(matches!(&s.state.view.overlay, Overlay::Search(search) if search.browsing));
    s.settle(100, 30);
    let terminal = s.terminal(100, 30);
    let buffer = terminal.backend().buffer();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Hi from B"), "{screen}");
    let row = (0..30)
        .find(|&y| {
            (0..100)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                .contains("Hi from B")
        })
        .unwrap();
    let highlighted: String = (30..100)
        .filter(|&x| {
            buffer[(x, row)]
                .modifier
                .contains(ratatui::style::Modifier::REVERSED)
        })
        .map(|x| buffer[(x, row)].symbol().to_string())
        .collect();
    assert_eq!(highlighted, "from");
}

/// An error longer than the status line is shown whole, wrapped in a box above the
/// compose box, not cut at the window's edge.
#[test]
fn a_long_error_is_shown_whole() {
    let mut s = conversation();
    s.screen(ScreenAction::DisconnectSelected);
    let flash = s.state.view.flash.clone().expect("an error").text;
    let screen = s.draw(80, 24);
    let shown: String = screen
        .lines()
        .map(|l| l.trim_matches(|c| c == '"' || c == '│' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(shown.contains(&flash), "{flash}\n{screen}");
    assert_snapshot!(screen);
}

/// Issue 16: brigades found by beacon, mDNS and an invite show how, compactly; one whose
/// announcements stopped shows as gone.
#[test]
fn discovered_peers_show_how_they_were_found() {
    use brigade::event::{Hint, Via};
    let mut s = Scene::new();
    for (addr, team, via) in [
        ("10.77.0.2:9000", "Beacon_B", Via::Beacon),
        ("10.77.0.3:9000", "Mdns_M", Via::Mdns),
        ("10.77.0.4:9000", "Invited_I", Via::Invite),
    ] {
        s.net(NetEvent::Discovered(Hint {
            addr: addr.parse().unwrap(),
            team: team.into(),
            key: None,
            via,
        }));
    }
    s.net(NetEvent::Lost {
        addr: "10.77.0.3:9000".parse().unwrap(),
        team: "Mdns_M".into(),
        via: Via::Mdns,
    });
    assert_snapshot!(s.draw(100, 30));
}

/// Types a line into the compose box and submits it.
fn submit(s: &mut Scene, line: &str) {
    for c in line.chars() {
        s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar(c)));
    }
    s.screen(ScreenAction::Submit);
}

#[test]
fn help_and_hints_show_the_keys_the_config_bound() {
    let mut s = conversation();
    let table = [("connect", "f5"), ("search", "ctrl+k"), ("help", "f3")]
        .into_iter()
        .map(|(a, k)| (a.to_string(), vec![k.to_string()]))
        .collect();
    let map = brigade::keymap::Rebinds::check(&table).unwrap().keymap();
    let main = brigade::keymap::scoped(map, || s.draw(100, 30));
    let status = main.lines().last().unwrap();
    assert!(status.contains("F3 help"), "{status}");
    assert!(!main.contains("F1"), "{main}");
    s.screen(ScreenAction::OpenHelp);
    let help = brigade::keymap::scoped(map, || s.draw(100, 30));
    assert!(help.contains("F5                connect"), "{help}");
    assert!(help.contains("Ctrl+K            search"), "{help}");
    assert_snapshot!(help);
}

#[test]
fn an_alias_shows_with_the_address_and_team_under_it() {
    let mut s = conversation();
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(0))));
    submit(&mut s, "/alias Bob");
    let screen = s.draw(100, 30);
    assert!(screen.contains("Bob"), "{screen}");
    assert!(screen.contains("10.213.8.143:8080/B"), "{screen}");
    assert_snapshot!(screen);
}

#[test]
fn forget_asks_whether_to_keep_the_history() {
    let mut s = conversation();
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(0))));
    submit(&mut s, "/forget");
    let screen = s.draw(80, 24);
    assert!(
        screen.contains("Forget B at 10.213.8.143:8080?"),
        "{screen}"
    );
    assert!(screen.contains("k: keep its history"), "{screen}");
    assert_snapshot!(screen);
}

/// After a restart the peers come back from the history as they were last known
/// (Active: they wrote), with when each was last heard.
#[test]
fn after_a_restart_peers_show_when_they_were_last_heard() {
    let mut s = Scene::new();
    let heard = |peer: &str, team: &str, at: i64, text: &str| Record {
        at: Utc.timestamp_opt(at, 0).unwrap(),
        peer: brigade::event::PeerKey::new(peer.parse().unwrap(), 8080, team),
        outgoing: false,
        text: text.into(),
        msg_id: None,
        delivery: None,
        claimed_ip: None,
    };
    // Oldest first, as the history loads them.
    let records = vec![
        heard("10.206.5.228", "Old", 1_770_000_000, "long ago"), // 2 Feb
        heard("10.213.8.143", "B", 1_780_000_000, "see you tomorrow"), // 28 May
        heard("10.206.4.122", "C", 1_780_045_000, "morning"),    // 29 May, 08:56
    ];
    brigade::store::restore(&mut s.state, records);
    s.state.view.today = Some(chrono::NaiveDate::from_ymd_opt(2026, 5, 29).unwrap());
    let screen = s.draw(130, 14);
    for text in ["yesterday", "heard 08:56", "heard 2 Feb", "Active"] {
        assert!(screen.contains(text), "{text}: {screen}");
    }
    assert_snapshot!(screen);
}

/// Issue 16: the trust key on a peer whose key changed asks first, showing the old and
/// the new safety number and what accepting means.
#[test]
fn trusting_a_changed_key_asks_first_with_both_safety_numbers() {
    use brigade::event::PublicKey;
    let mut s = conversation();
    let (old, new) = (PublicKey([5; 32]), PublicKey([6; 32]));
    for key in [old, new] {
        s.net(NetEvent::PeerKey {
            addr: "10.213.8.143:8080".parse().unwrap(),
            team: Some("B".into()),
            key,
            inbound: false,
        });
    }
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(0))));
    s.screen(ScreenAction::TrustSelected);
    let screen = s.draw(100, 30);
    for number in [old, new].map(|k| k.safety_number().to_string()) {
        assert!(screen.contains(&number), "{number}\n{screen}");
    }
    assert!(screen.contains("keep holding"), "{screen}");
    assert_snapshot!(screen);
}

/// Issue 16: F2 shows the running discovery's report, written by the same code as
/// `brigade --doctor` (here from fixed findings, so the snapshot is deterministic).
#[test]
fn the_doctor_view_shows_discoverys_report() {
    use brigade::discovery::beacon::Interface;
    use brigade::discovery::doctor::Findings;
    use std::time::Duration;
    let mut findings = Findings {
        interfaces: vec![
            Interface {
                name: "lo".into(),
                ip: "127.0.0.1".parse().unwrap(),
                broadcast: None,
                netmask: "255.0.0.0".parse().unwrap(),
                loopback: true,
            },
            Interface {
                name: "wlan0".into(),
                ip: "10.206.7.5".parse().unwrap(),
                broadcast: Some("10.206.7.255".parse().unwrap()),
                netmask: "255.255.255.0".parse().unwrap(),
                loopback: false,
            },
        ],
        beacon_sends: vec![(
            "10.206.7.255:47789".parse().unwrap(),
            Err("Network is unreachable (os error 101)".into()),
        )],
        sent: "last beacon",
        ..Findings::default()
    };
    findings.heard.insert(
        ("mdns", "10.206.7.9:9000".parse().unwrap(), "B".into()),
        Some(Duration::from_secs(12)),
    );
    let mut s = conversation();
    s.screen(ScreenAction::OpenDoctor);
    let at = s.at();
    update(
        &mut s.state,
        Event {
            at,
            kind: EventKind::Doctor(findings.text()),
        },
    );
    let screen = s.draw(100, 30);
    assert!(
        screen.contains("B at 10.206.7.9:9000 by mdns, 12 s ago"),
        "{screen}"
    );
    assert!(
        screen.contains("last beacon to 10.206.7.255:47789: FAILED"),
        "{screen}"
    );
    assert_snapshot!(screen);
    // A short window scrolls it, as the help does.
    s.screen(ScreenAction::Scroll(Scroll::Bottom));
    let short = s.draw(80, 12);
    assert!(short.contains("more above"), "{short}");
}

/// A forgotten peer's failed message says why it stays failed, and offers no retry
/// (Ctrl+R would not bring the peer back).
#[test]
fn a_forgotten_peers_failed_message_offers_no_retry() {
    let mut s = conversation();
    let before = s.draw(100, 30);
    assert!(before.contains("retries, Ctrl+X gives up"), "{before}");
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(1))));
    for c in "/forget".chars() {
        s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar(c)));
    }
    s.screen(ScreenAction::Submit);
    s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar('k')));
    let screen = s.draw(100, 30);
    assert!(
        screen.contains("not delivered: the peer was forgotten"),
        "{screen}"
    );
    assert!(!screen.contains("retries"), "{screen}");
}

/// A hit inside a message taller than the pane: Enter shows the matched line, not
/// just the message's end (at 80x24 this one wraps to more lines than the pane has).
#[test]
fn a_search_hit_deep_in_a_long_message_is_shown() {
    let mut s = conversation();
    let words: Vec<String> = (0..150).map(|n| format!("word{n:03}")).collect();
    let raw = format!("10.213.8.143:8080 B {}", words.join(" "));
    s.recv("10.213.8.143:40009", raw.as_bytes());
    s.screen(ScreenAction::OpenSearch);
    for c in "ord042".chars() {
        s.screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar(c)));
    }
    let entry = s.state.log.last().unwrap();
    let hit = Record {
        at: entry.at,
        peer: s.state.peers[0].key.clone(),
        outgoing: false,
        text: words.join(" "),
        msg_id: None,
        delivery: None,
        claimed_ip: None,
    };
    let at = s.at();
    update(
        &mut s.state,
        Event {
            at,
            kind: EventKind::SearchResults {
                query: "ord042".into(),
                hits: vec![hit],
            },
        },
    );
    s.screen(ScreenAction::Submit);
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    // As the terminal front end does: settle, then draw; a second frame stays put.
    for _ in 0..2 {
        if let Some(settled) = ui::settle(&s.state, area) {
            brigade::store::settle_scroll(&mut s.state, settled);
        }
        let screen = s.draw(80, 24);
        assert!(screen.contains("hit 1 of 1"), "{screen}");
        assert!(screen.contains("word042"), "{screen}");
        assert!(!screen.contains("word149"), "{screen}");
    }
    assert!(!s.state.view.reveal);
    assert_snapshot!(s.draw(80, 24));
}

/// Issue 16: a plaintext message from a peer whose key is pinned is marked on its own
/// line, in words (readable without colour); the sealed one before it is not.
#[test]
fn plaintext_from_a_pinned_peer_is_marked_on_its_line() {
    use brigade::event::PublicKey;
    let mut s = Scene::new();
    s.act(Action::Trust {
        peer: "10.213.8.143:8080".parse().unwrap(),
        key: Some(PublicKey([5; 32])),
    });
    let Parsed::Message(message) = parse_message(b"10.213.8.143:8080 B sealed and sound") else {
        panic!()
    };
    s.net(NetEvent::Received {
        from: "10.213.8.143:40001".parse().unwrap(),
        message,
        sealed: true,
    });
    s.recv(
        "10.213.8.143:40002",
        b"10.213.8.143:8080 B send me the keys",
    );
    let screen = s.draw(100, 30);
    let line = |text: &str| {
        screen
            .lines()
            .find(|l| l.contains(text))
            .unwrap_or_else(|| panic!("{text}\n{screen}"))
            .to_string()
    };
    assert!(!line("sealed and sound").contains("plaintext!"), "{screen}");
    assert!(
        line("send me the keys").contains("plaintext! send me the keys"),
        "{screen}"
    );
    assert_snapshot!(screen);
}

/// Issue 16: accepting a downgrade says the peer stopped encrypting (its key did not
/// change), and the log's title says KEY CHANGED as the peer list does.
#[test]
fn accepting_plaintext_says_the_peer_stopped_encrypting() {
    use brigade::event::PublicKey;
    let mut s = Scene::new();
    s.net(NetEvent::PeerKey {
        addr: "10.213.8.143:8080".parse().unwrap(),
        team: Some("B".into()),
        key: PublicKey([5; 32]),
        inbound: true,
    });
    s.recv("10.213.8.143:40002", b"10.213.8.143:8080 B plaintext now");
    s.screen(ScreenAction::Select(Selection::Peer(PeerId(0))));
    let screen = s.draw(100, 30);
    assert!(
        screen.lines().next().unwrap().contains("KEY CHANGED"),
        "{screen}"
    );
    s.screen(ScreenAction::TrustSelected);
    let screen = s.draw(100, 30);
    assert!(
        screen.contains("B at 10.213.8.143:8080 stopped encrypting."),
        "{screen}"
    );
    assert!(!screen.contains("The key of"), "{screen}");
    assert_snapshot!(screen);
}
