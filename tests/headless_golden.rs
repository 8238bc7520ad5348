//! Byte-exact golden lines of the headless output: one line per kind of event, at a fixed
//! time. The events are built in-process and serialized exactly as the headless front end
//! prints them, so any change to the wire format, however small, fails here.

use std::net::SocketAddr;

use brigade::event::{Delivery, MsgId, Notice, PeerKey, PeerSummary, Record};
use chrono::{DateTime, TimeZone, Utc};

fn at() -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000, 123_000_000).unwrap()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The line the headless front end prints for a notice (without the newline).
fn line(notice: Notice) -> String {
    notice.line(at())
}

fn delivery(status: Delivery) -> String {
    line(Notice::Delivery {
        to: addr("10.0.0.2:8080"),
        id: MsgId(7),
        status,
    })
}

fn records() -> Vec<Record> {
    vec![
        Record {
            at: Utc.timestamp_opt(1_699_999_000, 5_000_000).unwrap(),
            peer: PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B"),
            outgoing: false,
            text: "hi \"there\"".into(),
            msg_id: None,
            delivery: None,
            claimed_ip: Some("10.9.9.9".parse().unwrap()),
        },
        Record {
            at: Utc.timestamp_opt(1_699_999_001, 0).unwrap(),
            peer: PeerKey::new("10.0.0.2".parse().unwrap(), 8080, ""),
            outgoing: true,
            text: "back at you ✓".into(),
            msg_id: Some(MsgId(3)),
            delivery: Some(Delivery::Delivered),
            claimed_ip: None,
        },
        Record {
            at: Utc.timestamp_opt(1_699_999_002, 0).unwrap(),
            peer: PeerKey::new("10.0.0.3".parse().unwrap(), 9, "C"),
            outgoing: true,
            text: "lost".into(),
            msg_id: Some(MsgId(4)),
            delivery: Some(Delivery::Failed {
                reason: "connection refused".into(),
            }),
            claimed_ip: None,
        },
    ]
}

#[test]
fn listening() {
    assert_eq!(
        line(Notice::Listening {
            addr: addr("10.0.0.1:8080"),
            team: "A".into(),
            fingerprint: "05123 00000 99999 12345 67890 11111 22222 33333 44444 55555 66666 77777"
                .into(),
            key: "ab".repeat(32),
        }),
        r#"{"event":"listening","at":"2023-11-14T22:13:20.123Z","addr":"10.0.0.1:8080","team":"A","fingerprint":"05123 00000 99999 12345 67890 11111 22222 33333 44444 55555 66666 77777","key":"abababababababababababababababababababababababababababababababab"}"#
    );
}

#[test]
fn message() {
    assert_eq!(
        line(Notice::Message {
            from: addr("10.0.0.2:8080"),
            team: "B".into(),
            text: "hello\tworld \"quoted\" é".into(),
            claimed_ip: None,
            sealed: true,
        }),
        r#"{"event":"message","at":"2023-11-14T22:13:20.123Z","from":"10.0.0.2:8080","team":"B","text":"hello\tworld \"quoted\" é","sealed":true}"#
    );
    assert_eq!(
        line(Notice::Message {
            from: addr("[::1]:8080"),
            team: String::new(),
            text: "who am I".into(),
            claimed_ip: Some("10.9.9.9".parse().unwrap()),
            sealed: false,
        }),
        r#"{"event":"message","at":"2023-11-14T22:13:20.123Z","from":"[::1]:8080","team":null,"text":"who am I","claimed_ip":"10.9.9.9","sealed":false}"#
    );
}

#[test]
fn delivery_in_every_state() {
    let head =
        r#"{"event":"delivery","at":"2023-11-14T22:13:20.123Z","to":"10.0.0.2:8080","id":7,"#;
    assert_eq!(
        delivery(Delivery::Pending),
        format!(r#"{head}"status":"pending"}}"#)
    );
    assert_eq!(
        delivery(Delivery::Retrying {
            attempt: 2,
            reason: "refused".into()
        }),
        format!(r#"{head}"status":"retrying","attempt":2,"reason":"refused"}}"#)
    );
    assert_eq!(
        delivery(Delivery::Delivered),
        format!(r#"{head}"status":"delivered"}}"#)
    );
    assert_eq!(
        delivery(Delivery::Failed {
            reason: "timed out".into()
        }),
        format!(r#"{head}"status":"failed","reason":"timed out"}}"#)
    );
    assert_eq!(
        delivery(Delivery::Dropped),
        format!(r#"{head}"status":"dropped"}}"#)
    );
}

#[test]
fn discovered_and_gone() {
    assert_eq!(
        line(Notice::Discovered {
            addr: addr("10.77.0.2:9000"),
            team: "B".into(),
            via: "mdns",
            key: Some("ab".repeat(32)),
        }),
        format!(
            r#"{{"event":"discovered","at":"2023-11-14T22:13:20.123Z","addr":"10.77.0.2:9000","team":"B","via":"mdns","key":"{}"}}"#,
            "ab".repeat(32)
        )
    );
    assert_eq!(
        line(Notice::Gone {
            addr: addr("10.77.0.2:9000"),
            team: "B".into(),
            via: "beacon",
        }),
        r#"{"event":"gone","at":"2023-11-14T22:13:20.123Z","addr":"10.77.0.2:9000","team":"B","via":"beacon"}"#
    );
}

#[test]
fn peers() {
    assert_eq!(
        line(Notice::Peers(vec![
            PeerSummary {
                addr: addr("10.0.0.2:8080"),
                team: "B".into(),
                status: "Connected",
                discovered: true,
                via: "beacon",
                gone: true,
                last_heard: None,
                transport: "encrypted",
                fingerprint: Some(
                    "05123 00000 99999 12345 67890 11111 22222 33333 44444 55555 66666 77777"
                        .into(),
                ),
                key_changed: true,
                announced_key_differs: true,
                verified: false,
            },
            PeerSummary {
                addr: addr("10.0.0.3:9"),
                team: String::new(),
                status: "Active",
                discovered: false,
                via: "manual",
                gone: false,
                last_heard: Some(at()),
                transport: "plain",
                fingerprint: None,
                key_changed: false,
                announced_key_differs: false,
                verified: false,
            },
        ])),
        r#"{"event":"peers","at":"2023-11-14T22:13:20.123Z","peers":[{"addr":"10.0.0.2:8080","team":"B","status":"Connected","discovered":true,"via":"beacon","gone":true,"transport":"encrypted","fingerprint":"05123 00000 99999 12345 67890 11111 22222 33333 44444 55555 66666 77777","key_changed":true,"announced_key_differs":true,"verified":false},{"addr":"10.0.0.3:9","team":null,"status":"Active","discovered":false,"via":"manual","last_heard":"2023-11-14T22:13:20.123Z","transport":"plain","fingerprint":null,"key_changed":false,"verified":false}]}"#
    );
    assert_eq!(
        line(Notice::Peers(Vec::new())),
        r#"{"event":"peers","at":"2023-11-14T22:13:20.123Z","peers":[]}"#
    );
}

#[test]
fn peer_left() {
    assert_eq!(
        line(Notice::PeerLeft {
            addr: addr("10.0.0.2:8080"),
            team: "B".into(),
        }),
        r#"{"event":"peer_left","at":"2023-11-14T22:13:20.123Z","addr":"10.0.0.2:8080","team":"B"}"#
    );
    assert_eq!(
        line(Notice::PeerLeft {
            addr: addr("10.0.0.2:8080"),
            team: String::new(),
        }),
        r#"{"event":"peer_left","at":"2023-11-14T22:13:20.123Z","addr":"10.0.0.2:8080","team":null}"#
    );
}

#[test]
fn reply() {
    assert_eq!(
        line(Notice::Reply {
            from: addr("10.0.0.2:8080"),
            text: "[ACK] got it".into(),
        }),
        r#"{"event":"reply","at":"2023-11-14T22:13:20.123Z","from":"10.0.0.2:8080","text":"[ACK] got it"}"#
    );
}

#[test]
fn rejected() {
    assert_eq!(
        line(Notice::Rejected {
            from: addr("10.0.0.2:8080"),
            reason: "no header".into(),
            preview: "garbage\\x00".into(),
        }),
        r#"{"event":"rejected","at":"2023-11-14T22:13:20.123Z","from":"10.0.0.2:8080","reason":"no header","preview":"garbage\\x00"}"#
    );
}

#[test]
fn info_and_error() {
    assert_eq!(
        line(Notice::Info {
            text: "waiting for 2 messages to be delivered before quitting".into(),
        }),
        r#"{"event":"info","at":"2023-11-14T22:13:20.123Z","text":"waiting for 2 messages to be delivered before quitting"}"#
    );
    assert_eq!(
        line(Notice::Error {
            text: "bad command \"x\"".into(),
        }),
        r#"{"event":"error","at":"2023-11-14T22:13:20.123Z","text":"bad command \"x\""}"#
    );
}

#[test]
fn lagged() {
    assert_eq!(
        line(Notice::Lagged { dropped: 42 }),
        r#"{"event":"lagged","at":"2023-11-14T22:13:20.123Z","dropped":42}"#
    );
}

#[test]
fn history_answer() {
    assert_eq!(
        line(Notice::History {
            peer: addr("10.0.0.2:8080"),
            messages: records(),
        }),
        concat!(
            r#"{"event":"history","at":"2023-11-14T22:13:20.123Z","peer":"10.0.0.2:8080","messages":["#,
            r#"{"at":"2023-11-14T21:56:40.005Z","peer":"10.0.0.2:8080","team":"B","direction":"in","text":"hi \"there\""},"#,
            r#"{"at":"2023-11-14T21:56:41.000Z","peer":"10.0.0.2:8080","team":null,"direction":"out","text":"back at you ✓","id":3,"status":"delivered"},"#,
            r#"{"at":"2023-11-14T21:56:42.000Z","peer":"10.0.0.3:9","team":"C","direction":"out","text":"lost","id":4,"status":"failed","reason":"connection refused"}"#,
            r#"]}"#
        )
    );
}

#[test]
fn search_answer() {
    assert_eq!(
        line(Notice::Search {
            query: "lab \"7\"".into(),
            hits: records()[..1].to_vec(),
        }),
        concat!(
            r#"{"event":"search","at":"2023-11-14T22:13:20.123Z","query":"lab \"7\"","hits":["#,
            r#"{"at":"2023-11-14T21:56:40.005Z","peer":"10.0.0.2:8080","team":"B","direction":"in","text":"hi \"there\""}"#,
            r#"]}"#
        )
    );
    assert_eq!(
        line(Notice::Search {
            query: "nothing".into(),
            hits: Vec::new(),
        }),
        r#"{"event":"search","at":"2023-11-14T22:13:20.123Z","query":"nothing","hits":[]}"#
    );
}
