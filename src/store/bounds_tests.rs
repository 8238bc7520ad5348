//! Issue 13 point 3 in the store: the peer table is bounded in all and per address,
//! the least recently heard peer makes room, and a restore keeps the most recent peers.

use chrono::{TimeZone, Utc};

use super::tests::Harness;
use super::*;
use crate::event::*;

fn ip(n: usize) -> String {
    format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255)
}

fn has(state: &State, addr: &str) -> bool {
    state.peers.iter().any(|p| p.key.addr().to_string() == addr)
}

#[test]
fn a_full_table_evicts_the_least_recently_heard_peer() {
    let mut h = Harness::new();
    for n in 1..=MAX_PEERS {
        let a = ip(n);
        h.recv(&format!("{a}:1"), &format!("{a}:7000 T{n} hi"));
    }
    assert_eq!(h.state.peers.len(), MAX_PEERS);
    // The first peer is heard again: the second is now the least recently heard.
    h.recv(&format!("{}:1", ip(1)), &format!("{}:7000 T1 again", ip(1)));
    let newcomer = ip(MAX_PEERS + 1);
    let fx = h.recv(
        &format!("{newcomer}:1"),
        &format!("{newcomer}:7000 N hello"),
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Persist(_))), "{fx:?}");
    assert_eq!(h.state.peers.len(), MAX_PEERS);
    assert!(has(&h.state, &format!("{newcomer}:7000")));
    assert!(has(&h.state, &format!("{}:7000", ip(1))));
    assert!(!has(&h.state, &format!("{}:7000", ip(2))));
    // The evicted peer's messages left the in-memory log; every index still points
    // at an entry of its own peer.
    let gone = format!("{}:7000", ip(2));
    assert!(h.state.log.iter().all(|e| match e.peer() {
        Some(p) => h.state.peer(p).key.addr().to_string() != gone,
        None => true,
    }));
    for (i, p) in h.state.peers.iter().enumerate() {
        for &k in &h.state.peer_log[i] {
            assert_eq!(h.state.log[k].peer(), Some(PeerId(i)), "{:?}", p.key);
        }
    }
    let listed: Vec<_> = h.state.peer_summaries();
    assert!(listed.iter().any(|s| s.team == "N"));
}

#[test]
fn one_address_holds_at_most_its_share_of_the_table() {
    let mut h = Harness::new();
    for port in 1..=(MAX_PEERS_PER_IP + 10) {
        h.recv("10.0.0.2:1", &format!("10.0.0.2:{port} F flood"));
    }
    let from_it = h
        .state
        .peers
        .iter()
        .filter(|p| p.key.ip.to_string() == "10.0.0.2")
        .count();
    assert_eq!(from_it, MAX_PEERS_PER_IP);
    // The newest are kept.
    let last = format!("10.0.0.2:{}", MAX_PEERS_PER_IP + 10);
    assert!(has(&h.state, &last));
    assert!(!has(&h.state, "10.0.0.2:1"));
    // Another address is unaffected.
    h.recv("10.0.0.3:1", "10.0.0.3:7000 C hello");
    assert!(has(&h.state, "10.0.0.3:7000"));
}

#[test]
fn restore_keeps_the_most_recent_peers_and_lists_them_with_when_heard() {
    let mut s = State::new("A", "10.0.0.9".parse().unwrap());
    let at = |n: usize| Utc.timestamp_opt(1_780_000_000 + n as i64, 0).unwrap();
    let extra = 500;
    let records: Vec<Record> = (1..=MAX_PEERS + extra)
        .map(|n| {
            let peer = PeerKey::new(ip(n).parse().unwrap(), 7000, format!("T{n}"));
            Record::received(at(n), peer, format!("message {n}"))
        })
        .collect();
    restore(&mut s, records);
    assert_eq!(s.peers.len(), MAX_PEERS);
    assert!(has(&s, &format!("{}:7000", ip(MAX_PEERS + extra))));
    assert!(has(&s, &format!("{}:7000", ip(extra + 1))));
    assert!(!has(&s, &format!("{}:7000", ip(extra))));
    let summaries = s.peer_summaries();
    assert_eq!(summaries.len(), MAX_PEERS);
    let newest = summaries
        .iter()
        .find(|p| p.team == format!("T{}", MAX_PEERS + extra));
    assert_eq!(newest.unwrap().last_heard, Some(at(MAX_PEERS + extra)));
}

/// Every per-peer index points at an entry of its own peer; every outgoing index at its
/// message.
fn indices_hold(state: &State) {
    for (i, list) in state.peer_log.iter().enumerate() {
        for &k in list {
            assert_eq!(state.log[k].peer(), Some(PeerId(i)));
        }
    }
    for (id, &k) in &state.outgoing {
        assert!(matches!(
            &state.log[k].body,
            Body::Message { dir: Direction::Out { id: m, .. }, .. } if m == id
        ));
    }
    let bytes: usize = state.log.iter().map(LogEntry::weight).sum();
    assert_eq!(state.log_bytes(), bytes);
}

#[test]
fn the_log_is_a_window_bounded_in_count() {
    let mut h = Harness::new();
    // An undelivered message to an offline peer, older than everything after it.
    h.send("10.0.0.7:9000", Some("Z"), "still pending");
    for n in 0..LOG_WINDOW * 3 {
        let a = ip(n % 32 + 1);
        h.recv(&format!("{a}:1"), &format!("{a}:7000 T{} m{n}", n % 32));
        assert!(h.state.log.len() <= LOG_WINDOW, "{}", h.state.log.len());
    }
    indices_hold(&h.state);
    let newest = format!("m{}", LOG_WINDOW * 3 - 1);
    assert!(
        h.state
            .log
            .iter()
            .any(|e| matches!(&e.body, Body::Message { text, .. } if *text == newest))
    );
    assert!(
        !h.state
            .log
            .iter()
            .any(|e| matches!(&e.body, Body::Message { text, .. } if text == "m0"))
    );
    // What left memory is paged in from the history by scrolling up.
    assert!(h.state.older_before.is_some());
    // The undelivered message stays (its delivery still updates it).
    assert_eq!(h.state.undelivered(), 1);
}

#[test]
fn the_log_is_a_window_bounded_in_bytes() {
    let mut h = Harness::new();
    let big = "x".repeat(60 * 1024);
    for n in 0..(LOG_WINDOW_BYTES / big.len()) * 3 {
        let a = ip(n % 32 + 1);
        h.recv(&format!("{a}:1"), &format!("{a}:7000 T {n} {big}"));
        assert!(
            h.state.log_bytes() <= LOG_WINDOW_BYTES,
            "{}",
            h.state.log_bytes()
        );
    }
    indices_hold(&h.state);
    assert!(h.state.log_bytes() >= LOG_WINDOW_BYTES / 2);
}
