//! Screen actions as plain unit tests: selection, unread and bell, scrolling, the
//! compose box and its recall, paste, the new-recipient form, disconnect.

use tui_input::InputRequest;

use super::tests::{Harness, sends};
use super::*;
use crate::event::*;

fn screen(h: &mut Harness, action: ScreenAction) -> Vec<Effect> {
    h.act(Action::Screen(action))
}

/// B and C have written; B is peer 0, C is peer 1.
fn with_two_peers() -> Harness {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi from B");
    h.recv("10.0.0.3:1", "10.0.0.3:8080 C hi from C");
    h
}

#[test]
fn selection_walks_all_then_listed_peers_and_stops_at_the_ends() {
    let mut h = with_two_peers();
    assert_eq!(h.state.view.selection, Selection::All);
    screen(&mut h, ScreenAction::SelectPrev);
    assert_eq!(h.state.view.selection, Selection::All);
    screen(&mut h, ScreenAction::SelectNext);
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(0)));
    screen(&mut h, ScreenAction::SelectNext);
    screen(&mut h, ScreenAction::SelectNext);
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(1)));
}

#[test]
fn off_screen_messages_are_unread_and_ring_the_bell() {
    let mut h = with_two_peers();
    h.state.view.bell = true;
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(0))));
    let fx = h.recv("10.0.0.3:1", "10.0.0.3:8080 C are you there?");
    let bell = Effect::Bell {
        team: "C".into(),
        text: "are you there?".into(),
    };
    assert!(fx.contains(&bell), "{fx:?}");
    assert_eq!(h.state.peers[1].unread, 1);
    assert_eq!(h.state.total_unread(), 1);
    // On screen: no bell, nothing unread.
    let fx = h.recv("10.0.0.2:1", "10.0.0.2:8080 B here");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Bell { .. })));
    assert_eq!(h.state.peers[0].unread, 0);
    // Selecting C reads it.
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(1))));
    assert_eq!(h.state.peers[1].unread, 0);
}

#[test]
fn the_bell_is_off_unless_enabled() {
    let mut h = with_two_peers();
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(0))));
    let fx = h.recv("10.0.0.3:1", "10.0.0.3:8080 C ping");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Bell { .. })));
}

#[test]
fn a_conversation_view_holds_only_its_entries() {
    let mut h = with_two_peers();
    assert_eq!(h.state.view_len(), 4); // two arrivals, two messages
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(1))));
    assert_eq!(h.state.view_len(), 2);
    let Body::Message { text, .. } = &h.state.view_entry(1).body else {
        panic!()
    };
    assert_eq!(text, "hi from C");
}

#[test]
fn enter_sends_to_the_selected_peer_and_clears_the_compose_box() {
    let mut h = with_two_peers();
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(1))));
    h.type_text("hello C");
    let fx = screen(&mut h, ScreenAction::Submit);
    let s = sends(&fx);
    assert_eq!(
        (s[0].1.as_str(), s[0].2.as_str()),
        ("10.0.0.3:8080", "hello C")
    );
    assert_eq!(h.state.view.compose.value(), "");
    assert_eq!(h.state.view.sent, ["hello C"]);
}

#[test]
fn enter_on_all_peers_broadcasts() {
    let mut h = with_two_peers();
    h.type_text("hi all");
    assert_eq!(sends(&screen(&mut h, ScreenAction::Submit)).len(), 2);
}

#[test]
fn nothing_to_send_to_is_said_in_the_status_bar() {
    let mut h = Harness::new();
    h.type_text("hello?");
    assert!(sends(&screen(&mut h, ScreenAction::Submit)).is_empty());
    assert!(h.state.view.flash.as_ref().unwrap().text.contains("Ctrl+N"));
    // The text is kept, not lost.
    assert_eq!(h.state.view.compose.value(), "hello?");
    // The next key clears the flash.
    h.type_text("!");
    assert!(h.state.view.flash.is_none());
}

#[test]
fn an_unreachable_peer_cannot_be_written_to_and_says_why() {
    let mut h = Harness::new();
    h.recv("10.0.0.5:1", "headerless hello");
    screen(&mut h, ScreenAction::SelectNext);
    h.type_text("reply");
    assert!(sends(&screen(&mut h, ScreenAction::Submit)).is_empty());
    assert!(
        h.state
            .view
            .flash
            .as_ref()
            .unwrap()
            .text
            .contains("no port")
    );
}

#[test]
fn empty_compose_sends_nothing() {
    let mut h = with_two_peers();
    h.type_text("   ");
    assert!(screen(&mut h, ScreenAction::Submit).is_empty());
}

#[test]
fn a_paste_fills_the_compose_box_and_is_not_sent() {
    let mut h = with_two_peers();
    let fx = screen(
        &mut h,
        ScreenAction::Paste("line one\nline two\x1b[31m\r\n\tred\x1b]0;title\x07\u{202e}!".into()),
    );
    assert!(sends(&fx).is_empty());
    // Escape sequences go whole (no `[31m` residue), tabs are spaces, line breaks stay
    // (the compose box holds several lines).
    assert_eq!(h.state.view.compose.value(), "line one\nline two\n    red!");
    // What goes to the peers (both: none is selected) is that clean text, a message
    // per line.
    let fx = screen(&mut h, ScreenAction::Submit);
    let sent: Vec<String> = sends(&fx).into_iter().map(|s| s.2).collect();
    assert_eq!(sent.len(), 6, "{sent:?}");
    for line in ["line one", "line two", "    red!"] {
        assert_eq!(sent.iter().filter(|s| *s == line).count(), 2, "{sent:?}");
    }
}

/// A paste is taken whole up to the compose box's limit (64 KiB, one message), or not
/// at all, with the reason shown: never cut silently. Typing stops at the same limit.
#[test]
fn a_paste_goes_in_at_the_cursor() {
    let mut h = with_two_peers();
    h.type_text("héllo");
    for _ in 0..3 {
        screen(
            &mut h,
            ScreenAction::Edit(tui_input::InputRequest::GoToPrevChar),
        );
    }
    screen(&mut h, ScreenAction::Paste("→".into()));
    assert_eq!(h.state.view.compose.value(), "hé→llo");
    assert_eq!(h.state.view.compose.cursor(), 3);
}

#[test]
fn a_paste_over_the_limit_is_refused_whole_and_said() {
    use crate::store::compose::MAX_COMPOSE_BYTES;
    let mut h = with_two_peers();
    h.type_text("ab");
    let big = "x".repeat(MAX_COMPOSE_BYTES - 1);
    screen(&mut h, ScreenAction::Paste(big));
    assert_eq!(h.state.view.compose.value(), "ab");
    let flash = h.state.view.flash.clone().expect("the refusal is shown");
    assert!(
        flash.error && flash.text.contains("not pasted"),
        "{flash:?}"
    );
    let fits = "y".repeat(MAX_COMPOSE_BYTES - 2);
    screen(&mut h, ScreenAction::Paste(fits));
    assert_eq!(h.state.view.compose.value().len(), MAX_COMPOSE_BYTES);
    screen(
        &mut h,
        ScreenAction::Edit(tui_input::InputRequest::InsertChar('z')),
    );
    assert_eq!(h.state.view.compose.value().len(), MAX_COMPOSE_BYTES);
    let flash = h.state.view.flash.clone().expect("the limit is shown");
    assert!(flash.text.contains("at its limit"), "{flash:?}");
}

#[test]
fn printable_keys_go_to_the_compose_box_from_any_pane() {
    let mut h = with_two_peers();
    screen(&mut h, ScreenAction::Focus(Focus::Peers));
    h.type_text("x");
    assert_eq!(h.state.view.focus, Focus::Compose);
    assert_eq!(h.state.view.compose.value(), "x");
}

#[test]
fn up_and_down_recall_sent_lines_and_restore_the_draft() {
    let mut h = with_two_peers();
    for line in ["first", "second"] {
        h.type_text(line);
        screen(&mut h, ScreenAction::Submit);
    }
    h.type_text("draft");
    screen(&mut h, ScreenAction::RecallOlder);
    assert_eq!(h.state.view.compose.value(), "second");
    screen(&mut h, ScreenAction::RecallOlder);
    screen(&mut h, ScreenAction::RecallOlder);
    assert_eq!(h.state.view.compose.value(), "first");
    screen(&mut h, ScreenAction::RecallNewer);
    assert_eq!(h.state.view.compose.value(), "second");
    screen(&mut h, ScreenAction::RecallNewer);
    assert_eq!(h.state.view.compose.value(), "draft");
}

#[test]
fn scrolled_up_the_view_stays_put_and_counts_new_messages() {
    let mut h = with_two_peers();
    screen(&mut h, ScreenAction::Scroll(Scroll::Up(2)));
    assert_eq!((h.state.view.scroll, h.state.view.scroll_lines), (0, 2));
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B new one");
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B new two");
    assert_eq!(
        (h.state.view.scroll, h.state.view.scroll_lines),
        (2, 2),
        "the same lines stay on screen"
    );
    assert_eq!(h.state.view.new_below, 2);
    screen(&mut h, ScreenAction::Scroll(Scroll::Bottom));
    assert_eq!((h.state.view.scroll, h.state.view.new_below), (0, 0));
    assert!(h.state.view.following());
    // Down past the newest line follows again.
    screen(&mut h, ScreenAction::Scroll(Scroll::Up(1)));
    screen(&mut h, ScreenAction::Scroll(Scroll::Down(1000)));
    assert!(h.state.view.following());
}

#[test]
fn pages_are_the_settled_height_and_the_top_stops_scrolling_up() {
    let mut h = with_two_peers();
    settle_scroll(
        &mut h.state,
        Settled {
            scroll: 0,
            scroll_lines: 0,
            at_top: false,
            page: 17,
        },
    );
    screen(&mut h, ScreenAction::Scroll(Scroll::PageUp));
    assert_eq!(h.state.view.scroll_lines, 17);
    screen(&mut h, ScreenAction::Scroll(Scroll::PageDown));
    assert!(h.state.view.following());
    settle_scroll(
        &mut h.state,
        Settled {
            scroll: 1,
            scroll_lines: 0,
            at_top: true,
            page: 17,
        },
    );
    screen(&mut h, ScreenAction::Scroll(Scroll::Up(3)));
    assert_eq!(
        (h.state.view.scroll, h.state.view.scroll_lines),
        (1, 0),
        "nothing above the oldest line"
    );
}

#[test]
fn following_the_bottom_needs_no_marker() {
    let mut h = with_two_peers();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B more");
    assert_eq!((h.state.view.scroll, h.state.view.new_below), (0, 0));
}

#[test]
fn ctrl_d_disconnects_the_selected_peer_and_shows_all() {
    let mut h = with_two_peers();
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(0))));
    // It asks first: Esc (or anything but y/Enter) keeps the peer.
    let fx = screen(&mut h, ScreenAction::DisconnectSelected);
    assert!(sends(&fx).is_empty());
    assert!(matches!(h.state.view.overlay, Overlay::Confirm(PeerId(0))));
    screen(&mut h, ScreenAction::Close);
    assert!(h.state.peers[0].listed);
    screen(&mut h, ScreenAction::DisconnectSelected);
    let fx = screen(&mut h, ScreenAction::Edit(InputRequest::InsertChar('y')));
    assert_eq!(sends(&fx)[0].2, "exit");
    assert!(!h.state.peers[0].listed);
    assert_eq!(h.state.view.selection, Selection::All);
    // With "All peers" selected there is nobody to disconnect.
    let fx = screen(&mut h, ScreenAction::DisconnectSelected);
    assert!(sends(&fx).is_empty());
    assert!(h.state.view.flash.as_ref().unwrap().error);
}

#[test]
fn a_peer_that_leaves_while_selected_returns_the_view_to_all() {
    let mut h = with_two_peers();
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(1))));
    h.recv("10.0.0.3:1", "10.0.0.3:8080 C exit");
    assert_eq!(h.state.view.selection, Selection::All);
}

#[test]
fn the_new_recipient_form_validates_each_field_in_place() {
    let mut h = Harness::new();
    screen(&mut h, ScreenAction::OpenNewRecipient);
    // Typing goes to the form, not the compose box.
    h.type_text("10.0.0");
    screen(&mut h, ScreenAction::Submit); // to Port
    h.type_text("99999");
    screen(&mut h, ScreenAction::Submit); // to Team
    h.type_text("B");
    screen(&mut h, ScreenAction::Submit); // to Message
    h.type_text("hello B");
    let fx = screen(&mut h, ScreenAction::Submit); // submit
    assert!(sends(&fx).is_empty());
    let Overlay::NewRecipient(form) = &h.state.view.overlay else {
        panic!("form stays open")
    };
    assert_eq!(form.focus, 0);
    assert!(
        form.fields[0]
            .error
            .as_ref()
            .unwrap()
            .contains("not an IP address")
    );
    assert_eq!(h.state.view.compose.value(), "");

    h.type_text(".2");
    for _ in 0..4 {
        screen(&mut h, ScreenAction::Submit);
    }
    let Overlay::NewRecipient(form) = &h.state.view.overlay else {
        panic!()
    };
    assert_eq!(form.focus, 1);
    assert!(
        form.fields[1]
            .error
            .as_ref()
            .unwrap()
            .contains("1 to 65535")
    );
    for _ in 0..5 {
        screen(&mut h, ScreenAction::Edit(InputRequest::DeletePrevChar));
    }
    h.type_text("8080");
    screen(&mut h, ScreenAction::Submit);
    screen(&mut h, ScreenAction::Submit);
    let fx = screen(&mut h, ScreenAction::Submit);
    let s = sends(&fx);
    assert_eq!(
        (s[0].1.as_str(), s[0].2.as_str()),
        ("10.0.0.2:8080", "hello B")
    );
    assert!(matches!(h.state.view.overlay, Overlay::None));
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(0)));
    assert_eq!(h.state.peers[0].key.team, "B");
}

#[test]
fn the_new_recipient_form_without_a_message_just_opens_the_conversation() {
    let mut h = Harness::new();
    screen(&mut h, ScreenAction::OpenNewRecipient);
    h.type_text("10.0.0.7");
    screen(&mut h, ScreenAction::NextField);
    h.type_text("7000");
    screen(&mut h, ScreenAction::NextField);
    screen(&mut h, ScreenAction::NextField);
    let fx = screen(&mut h, ScreenAction::Submit);
    assert!(sends(&fx).is_empty());
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(0)));
    assert_eq!(h.state.peers[0].status, PeerStatus::Contact);
}

#[test]
fn esc_closes_overlays_and_help_swallows_typing() {
    let mut h = Harness::new();
    screen(&mut h, ScreenAction::OpenHelp);
    h.type_text("x");
    assert!(matches!(h.state.view.overlay, Overlay::Help));
    assert_eq!(h.state.view.compose.value(), "");
    screen(&mut h, ScreenAction::Close);
    assert!(matches!(h.state.view.overlay, Overlay::None));
    screen(&mut h, ScreenAction::OpenNewRecipient);
    h.type_text("1.2.3.4");
    screen(&mut h, ScreenAction::Close);
    assert!(matches!(h.state.view.overlay, Overlay::None));
}

#[test]
fn focus_cycles_through_the_three_panes() {
    let mut h = Harness::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        screen(&mut h, ScreenAction::FocusNext);
        seen.push(h.state.view.focus);
    }
    assert_eq!(seen, [Focus::Peers, Focus::Log, Focus::Compose]);
    screen(&mut h, ScreenAction::FocusPrev);
    assert_eq!(h.state.view.focus, Focus::Log);
}

#[test]
fn ctrl_z_asks_to_suspend() {
    let mut h = Harness::new();
    assert_eq!(screen(&mut h, ScreenAction::Suspend), [Effect::Suspend]);
}

#[test]
fn the_startup_form_checks_team_and_port() {
    let mut form = Form::startup(None, None);
    assert_eq!(form.startup_values().unwrap_err().0, 0);
    form.paste("my team");
    let (field, msg) = form.startup_values().unwrap_err();
    assert_eq!(field, 0);
    assert!(msg.contains("my_team"), "{msg}");
    let mut form = Form::startup(Some("A"), None);
    assert_eq!(form.startup_values().unwrap_err().0, 1);
    form.focus = 1;
    form.paste("99999");
    assert!(form.startup_values().unwrap_err().1.contains("1 to 65535"));
    let form = Form::startup(Some("A"), Some(9991));
    assert_eq!(form.startup_values(), Ok(("A".into(), 9991)));
}

/// Issue 16: an invite pasted into the IP field fills in the address, port and team,
/// and the peer shows as found by invite.
#[test]
fn the_new_recipient_form_accepts_an_invite() {
    let mut h = Harness::new();
    screen(&mut h, ScreenAction::OpenNewRecipient);
    screen(
        &mut h,
        ScreenAction::Paste("brigade://v1/B@10.0.0.9:8080".into()),
    );
    for _ in 0..3 {
        screen(&mut h, ScreenAction::Submit);
    }
    h.type_text("hi B");
    let fx = screen(&mut h, ScreenAction::Submit);
    assert_eq!(sends(&fx).len(), 1, "{fx:?}");
    assert!(matches!(h.state.view.overlay, Overlay::None));
    let peer = &h.state.peers[0];
    assert_eq!(peer.key.addr().to_string(), "10.0.0.9:8080");
    assert_eq!(peer.key.team, "B");
    assert_eq!(peer.via, crate::event::Via::Invite);

    screen(&mut h, ScreenAction::OpenNewRecipient);
    screen(
        &mut h,
        ScreenAction::Paste("brigade://v1/B@10.0.0.9".into()),
    );
    for _ in 0..4 {
        screen(&mut h, ScreenAction::Submit);
    }
    let Overlay::NewRecipient(form) = &h.state.view.overlay else {
        panic!("a bad invite keeps the form open")
    };
    assert!(form.fields[0].error.as_ref().unwrap().contains("invite"));
}

#[test]
fn each_conversation_keeps_its_own_draft() {
    let mut h = with_two_peers();
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(0))));
    h.type_text("for B only");
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(1))));
    assert_eq!(h.state.view.compose.value(), "", "B's draft is not C's");
    h.type_text("for C");
    screen(&mut h, ScreenAction::Select(Selection::All));
    assert_eq!(h.state.view.compose.value(), "");
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(0))));
    assert_eq!(h.state.view.compose.value(), "for B only");
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(1))));
    assert_eq!(h.state.view.compose.value(), "for C");
}

#[test]
fn the_unread_marker_sits_above_the_first_unread_message_until_left() {
    let mut h = with_two_peers();
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(1))));
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B one");
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B two");
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(0))));
    let at = h.state.view.unread_from.expect("a marker");
    assert!(
        matches!(&h.state.view_entry(at).body, Body::Message { text, .. } if text == "one"),
        "{:?}",
        h.state.view_entry(at)
    );
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B three");
    assert_eq!(h.state.view.unread_from, Some(at), "kept while reading");
    screen(&mut h, ScreenAction::Select(Selection::All));
    assert_eq!(h.state.view.unread_from, None);
}

#[test]
fn retrying_a_failed_exit_does_not_bring_the_peer_back() {
    let mut h = with_two_peers();
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(0))));
    screen(&mut h, ScreenAction::DisconnectSelected);
    let fx = screen(&mut h, ScreenAction::Submit);
    let (id, to, _) = sends(&fx)[0].clone();
    h.net(NetEvent::Delivery {
        id,
        to: super::tests::addr(&to),
        status: Delivery::Failed {
            reason: "refused".into(),
        },
    });
    let fx = h.act(Action::Retry { id: Some(id) });
    assert_eq!(sends(&fx).len(), 1, "the exit goes again");
    assert!(!h.state.peers[0].listed, "but the peer stays gone");
}

#[test]
fn alt_w_copies_the_newest_message_of_the_conversation_on_screen() {
    let mut h = with_two_peers();
    let copied = |fx: &[Effect]| {
        fx.iter()
            .find_map(|e| match e {
                Effect::Copy(text) => Some(text.clone()),
                _ => None,
            })
            .expect("a copy effect")
    };
    // All peers: the newest message of all, C's.
    let fx = screen(&mut h, ScreenAction::CopyMessage);
    assert_eq!(copied(&fx), "hi from C");
    assert_eq!(
        h.state.view.flash.as_ref().unwrap().text,
        "copied 9 characters"
    );
    // B's conversation: B's message, though C's is newer.
    screen(&mut h, ScreenAction::Select(Selection::Peer(PeerId(0))));
    let fx = screen(&mut h, ScreenAction::CopyMessage);
    assert_eq!(copied(&fx), "hi from B");
    // Scrolled up past the newest: the message at the bottom of the pane.
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B second");
    h.state.view.scroll = 1;
    let fx = screen(&mut h, ScreenAction::CopyMessage);
    assert_eq!(copied(&fx), "hi from B");
}

#[test]
fn alt_w_with_no_message_on_screen_says_so_and_copies_nothing() {
    let mut h = Harness::new();
    let fx = screen(&mut h, ScreenAction::CopyMessage);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Copy(_))), "{fx:?}");
    assert!(h.state.view.flash.as_ref().unwrap().error);
}

/// Issue 16: F2 (or /doctor) asks the running discovery for its report; the report
/// opens the doctor view, which scrolls like the help and closes on Esc.
#[test]
fn the_doctor_view_shows_discoverys_report_and_scrolls() {
    let mut h = Harness::new();
    let fx = screen(&mut h, ScreenAction::OpenDoctor);
    assert_eq!(fx, [Effect::Doctor]);
    assert!(
        matches!(h.state.view.overlay, Overlay::None),
        "not before the report"
    );
    let report: String = (0..40).map(|i| format!("line {i}\n")).collect();
    let at = h.now();
    crate::store::update(
        &mut h.state,
        crate::event::Event {
            at,
            kind: crate::event::EventKind::Doctor(report),
        },
    );
    let Overlay::Doctor(doctor) = &h.state.view.overlay else {
        panic!("{:?}", h.state.view.overlay)
    };
    assert_eq!(doctor.lines.len(), 40);
    assert_eq!(doctor.lines[39], "line 39");
    screen(&mut h, ScreenAction::Scroll(Scroll::Down(3)));
    screen(&mut h, ScreenAction::Scroll(Scroll::Bottom));
    screen(&mut h, ScreenAction::Scroll(Scroll::Up(1)));
    let Overlay::Doctor(doctor) = &h.state.view.overlay else {
        panic!()
    };
    assert_eq!(doctor.scroll, 39);
    // Typing does not leak into the compose box behind it.
    screen(&mut h, ScreenAction::Edit(InputRequest::InsertChar('x')));
    assert_eq!(h.state.view.compose.value(), "");
    screen(&mut h, ScreenAction::Close);
    assert!(matches!(h.state.view.overlay, Overlay::None));
}

/// Ctrl+U in a compose box of several lines takes the cursor's line only; in one line
/// it empties the box, as before.
#[test]
fn ctrl_u_deletes_the_cursors_line_of_several() {
    let mut h = Harness::new();
    let delete_line = ScreenAction::Edit(InputRequest::DeleteLine);
    screen(&mut h, ScreenAction::Paste("first\nsecond\nthird".into()));
    // The cursor is at the end: the last line goes, the cursor ends the one before.
    screen(&mut h, delete_line.clone());
    assert_eq!(h.state.view.compose.value(), "first\nsecond");
    assert_eq!(
        h.state.view.compose.cursor(),
        "first\nsecond".chars().count()
    );
    // A middle line: the cursor goes to the start of the next.
    h.state.view.compose = tui_input::Input::new("a\nbé\nc".into()).with_cursor(3);
    screen(&mut h, delete_line.clone());
    assert_eq!(h.state.view.compose.value(), "a\nc");
    assert_eq!(h.state.view.compose.cursor(), 2);
    // The first line, then the one line left empties the box.
    h.state.view.compose = tui_input::Input::new("a\nc".into()).with_cursor(0);
    screen(&mut h, delete_line.clone());
    assert_eq!(h.state.view.compose.value(), "c");
    screen(&mut h, delete_line);
    assert_eq!(h.state.view.compose.value(), "");
}
