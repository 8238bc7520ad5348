//! Issue 16, discovery and invites, with the real binary. Multicast and broadcast tests
//! run inside their own unprivileged network namespace (`unshare -rn`: loopback and an
//! `ifb` interface with 10.77.0.1/24, multicast on, no default route), so nothing
//! leaves the machine: each outer test re-executes this test binary in a fresh
//! namespace to run one `#[ignore]`d inner test, which refuses to run anywhere else.
//! The invite test runs on loopback with discovery off.

mod support;

use std::time::Instant;

use serde_json::{Value, json};
use support::*;

/// Marks the inner run (set by the outer test only).
const INNER: &str = "BRIGADE_TEST_NETNS";
const NETNS_SETUP: &str = "ip link set lo up && ip link add d0 type ifb && \
     ip link set d0 multicast on up && ip addr add 10.77.0.1/24 dev d0 && exec \"$0\" \"$@\"";

/// Runs the inner test `name` in a new network namespace; skipped (saying why) when
/// unprivileged namespaces are not available.
fn in_namespace(name: &str) {
    let probe = std::process::Command::new("unshare")
        .args([
            "-rn",
            "sh",
            "-c",
            "ip link add d0 type ifb && ip link del d0",
        ])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            let why = String::from_utf8_lossy(&out.stderr);
            println!(
                "SKIPPED {name}: no usable network namespace: {}",
                why.trim()
            );
            return;
        }
        Err(e) => {
            println!("SKIPPED {name}: unshare cannot run: {e}");
            return;
        }
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("unshare")
        .args(["-rn", "sh", "-c", NETNS_SETUP])
        .arg(&exe)
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INNER, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inner test {name} failed:\n{stdout}\n{stderr}"
    );
}

/// The inner tests send multicast and broadcast: only inside the namespace.
fn inside_namespace() {
    assert_eq!(
        std::env::var(INNER).as_deref(),
        Ok("1"),
        "run through its outer test only"
    );
    let ifaces = if_addrs::get_if_addrs().unwrap();
    let names: Vec<&str> = ifaces.iter().map(|i| i.name.as_str()).collect();
    assert!(
        names.iter().all(|n| *n == "lo" || *n == "d0"),
        "not in the test namespace: {names:?}"
    );
}

/// A headless brigade on every interface of the namespace, in its own sandbox.
async fn brigade(team: &str, extra: &[&str]) -> Headless {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.brigade_async();
    cmd.args(["--headless", "--name", team, "--port", "0", "--no-history"])
        .arg("--log-file")
        .arg(sandbox.log())
        .args(extra);
    Headless::from_command(cmd, sandbox, team).await
}

fn port(h: &Headless) -> u16 {
    h.addr.rsplit_once(':').unwrap().1.parse().unwrap()
}

/// Waits until `h` discovered the brigade `other` by `via`; returns the event.
async fn discovers(h: &mut Headless, other: &Headless, via: &str) -> Value {
    let want = format!(":{}", port(other));
    let via = via.to_string();
    h.expect("discovered", move |v| {
        v["via"] == via.as_str() && v["addr"].as_str().is_some_and(|a| a.ends_with(&want))
    })
    .await
}

/// Waits until `h` discovered `other` by either means (a peer is told once).
async fn discovers_any(h: &mut Headless, other: &Headless) {
    let want = format!(":{}", port(other));
    h.expect("discovered", |v| {
        v["addr"].as_str().is_some_and(|a| a.ends_with(&want))
    })
    .await;
}

/// Two brigades find each other by `means` alone, then talk at the found address.
async fn two_discover_each_other(means: &str) {
    inside_namespace();
    let mut a = brigade("A", &["--discovery", means]).await;
    let started = Instant::now();
    let mut b = brigade("B", &["--discovery", means]).await;
    let found_a = discovers(&mut b, &a, means).await;
    discovers(&mut a, &b, means).await;
    let took = started.elapsed();
    println!("MEASURED discovery by {means}: {} ms", took.as_millis());
    assert_eq!(found_a["team"], "A");
    assert_eq!(found_a["addr"].as_str(), Some(a.addr.as_str()));
    // Listed without anyone typing an address, with how it was found.
    b.cmd(json!({"cmd": "peers"})).await;
    let peers = b.expect("peers", |_| true).await;
    let entry = &peers["peers"][0];
    assert_eq!(
        (&entry["team"], &entry["discovered"], &entry["via"]),
        (&json!("A"), &json!(true), &json!(means)),
        "{peers}"
    );
    let to = a.addr.clone();
    b.cmd(json!({"cmd": "send", "to": to, "text": "found you"}))
        .await;
    b.delivered(&to).await;
    a.expect("message", |v| v["text"] == "found you" && v["team"] == "B")
        .await;
    // A announced its key: the first contact was encrypted (XX), and the key that
    // handshake proved is pinned (trust on first use).
    b.cmd(json!({"cmd": "peers"})).await;
    let peers = b.expect("peers", |_| true).await;
    assert_eq!(peers["peers"][0]["transport"], "encrypted", "{peers}");
    assert_eq!(
        peers["peers"][0]["fingerprint"], a.listening["fingerprint"],
        "{peers}"
    );
}

#[test]
fn beacon_alone_finds_a_brigade() {
    in_namespace("inner_beacon");
}

#[test]
fn mdns_alone_finds_a_brigade() {
    in_namespace("inner_mdns");
}

#[test]
fn no_discovery_is_neither_seen_nor_sees() {
    in_namespace("inner_no_discovery");
}

#[test]
fn malformed_beacons_are_ignored() {
    in_namespace("inner_malformed");
}

#[test]
fn the_doctor_reports_who_it_heard() {
    in_namespace("inner_doctor");
}

#[tokio::test]
#[ignore = "runs inside a network namespace, from beacon_alone_finds_a_brigade"]
async fn inner_beacon() {
    two_discover_each_other("beacon").await;
}

#[test]
fn a_brigade_that_quits_shows_as_gone() {
    in_namespace("inner_gone");
}

#[tokio::test]
#[ignore = "runs inside a network namespace, from a_brigade_that_quits_shows_as_gone"]
async fn inner_gone() {
    inside_namespace();
    let mut a = brigade("A", &["--discovery", "mdns"]).await;
    let b = brigade("B", &["--discovery", "mdns"]).await;
    discovers(&mut a, &b, "mdns").await;
    let b_addr = b.addr.clone();
    let _ = b.quit().await;
    let gone = a.expect("gone", |_| true).await;
    assert_eq!(
        (gone["addr"].as_str(), gone["via"].as_str()),
        (Some(b_addr.as_str()), Some("mdns"))
    );
    a.cmd(json!({"cmd": "peers"})).await;
    let peers = a.expect("peers", |_| true).await;
    assert_eq!(peers["peers"][0]["gone"], true, "{peers}");
}

#[tokio::test]
#[ignore = "runs inside a network namespace, from mdns_alone_finds_a_brigade"]
async fn inner_mdns() {
    two_discover_each_other("mdns").await;
}

#[tokio::test]
#[ignore = "runs inside a network namespace, from no_discovery_is_neither_seen_nor_sees"]
async fn inner_no_discovery() {
    inside_namespace();
    let mut hidden = brigade("H", &["--no-discovery"]).await;
    let mut a = brigade("A", &[]).await;
    let mut b = brigade("B", &[]).await;
    // A and B (started after H) found each other the way they would have found H:
    // B heard A answer a newcomer, A heard B's first announcement. H neither
    // answered nor announced, nor listened.
    discovers_any(&mut a, &b).await;
    discovers_any(&mut b, &a).await;
    let listed = |peers: Vec<(String, String, String)>| -> Vec<String> {
        peers.into_iter().map(|(_, team, _)| team).collect()
    };
    assert_eq!(listed(a.peers().await), ["B"]);
    assert_eq!(listed(b.peers().await), ["A"]);
    assert!(hidden.peers().await.is_empty());
}

#[tokio::test]
#[ignore = "runs inside a network namespace, from malformed_beacons_are_ignored"]
async fn inner_malformed() {
    use brigade::discovery::beacon::{BEACON_PORT, Beacon, Kind};
    inside_namespace();
    // A second subnet on the interface: with --bind, beacons from it do not count.
    let added = std::process::Command::new("ip")
        .args(["addr", "add", "10.88.0.1/24", "dev", "d0"])
        .status()
        .unwrap();
    assert!(added.success());
    let bind = ["--discovery", "beacon", "--bind", "10.77.0.1"];
    let mut a = brigade("A", &bind).await;
    let socket = std::net::UdpSocket::bind("10.77.0.1:0").unwrap();
    socket.set_broadcast(true).unwrap();
    let to = ("10.77.0.255", BEACON_PORT);
    let elsewhere = std::net::UdpSocket::bind("10.88.0.1:0").unwrap();
    elsewhere.set_broadcast(true).unwrap();
    let valid = Beacon {
        kind: Kind::Announce,
        nonce: 42,
        port: 9,
        team: "Z".into(),
        key: None,
    }
    .encode();
    let mut oversized = valid.clone();
    oversized.resize(4000, b'x');
    let mut other_version = valid.clone();
    other_version[4] = 9;
    let bad_team = Beacon {
        team: "no\u{1b}[2Jway".into(),
        port: 10,
        ..Beacon::decode(&valid).unwrap()
    }
    .encode();
    for junk in [
        &oversized[..],
        &valid[..valid.len() - 1],
        &other_version[..],
        &bad_team[..],
        b"not a beacon",
    ] {
        socket.send_to(junk, to).unwrap();
    }
    let other_subnet = Beacon {
        port: 11,
        ..Beacon::decode(&valid).unwrap()
    }
    .encode();
    elsewhere
        .send_to(&other_subnet, ("10.88.0.255", BEACON_PORT))
        .unwrap();
    socket.send_to(&valid, to).unwrap();
    // The first thing A discovers is the one valid beacon from its subnet, sent last.
    let found = a.expect("discovered", |_| true).await;
    assert_eq!(
        (found["team"].as_str(), found["addr"].as_str()),
        (Some("Z"), Some("10.77.0.1:9")),
        "{found}"
    );
    assert_eq!(a.peers().await.len(), 1);
}

#[tokio::test]
#[ignore = "runs inside a network namespace, from the_doctor_reports_who_it_heard"]
async fn inner_doctor() {
    inside_namespace();
    let a = brigade("A", &[]).await;
    // Its own HOME and XDG directories: the doctor writes its log like any run.
    let sandbox = Sandbox::new();
    let out = sandbox
        .brigade_async()
        .arg("--doctor")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("d0: 10.77.0.1 broadcast 10.77.0.255"),
        "{text}"
    );
    assert!(text.contains("beacon probe to 10.77.0.255"), "{text}");
    assert!(
        text.contains(&format!("A at {} by beacon", a.addr)),
        "{text}"
    );
    // mDNS resolution is covered by inner_mdns (with a longer wait than the
    // doctor's fixed 4 s, which a loaded machine could exceed).
    assert!(text.contains("mDNS socket: ok"), "{text}");
    assert!(!text.contains("nobody heard"), "{text}");
}

#[test]
fn a_forged_beacon_key_only_warns_until_the_handshake_settles_it() {
    in_namespace("inner_forged_key");
}

/// B pinned A's key (from an invite). A beacon in A's name with another key is only a
/// warning on B: messages still go, encrypted to the pinned key, and the delivery over
/// that key settles it.
#[tokio::test]
#[ignore = "runs inside a network namespace, from a_forged_beacon_key_only_warns_until_the_handshake_settles_it"]
async fn inner_forged_key() {
    use brigade::discovery::beacon::{BEACON_PORT, Beacon, Kind};
    inside_namespace();
    let mut a = brigade("A", &["--no-discovery"]).await;
    let key = a.listening["key"].as_str().unwrap().to_string();
    let invite = format!("brigade://v1/A@{}?key={key}", a.addr);
    let mut b = brigade("B", &["--discovery", "beacon", "--peer", &invite]).await;
    b.delivered(&a.addr).await;
    a.expect("message", |v| v["team"] == "B").await;

    let a_addr: std::net::SocketAddr = a.addr.parse().unwrap();
    let forged = Beacon {
        kind: Kind::Announce,
        nonce: 7,
        port: a_addr.port(),
        team: "A".into(),
        key: Some(brigade::event::PublicKey([0x66; 32])),
    }
    .encode();
    let socket = std::net::UdpSocket::bind((a_addr.ip(), 0)).unwrap();
    socket.set_broadcast(true).unwrap();
    // Until B has heard it (its beacon socket may still be starting): repeats are
    // deduplicated, so B warns once.
    let sender = tokio::spawn(async move {
        loop {
            socket
                .send_to(&forged, ("10.77.0.255", BEACON_PORT))
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });
    let warning = b
        .expect("error", |v| {
            v["text"]
                .as_str()
                .is_some_and(|t| t.contains("names another key"))
        })
        .await;
    sender.abort();
    println!("{warning}");
    b.cmd(json!({"cmd": "peers"})).await;
    let peers = b.expect("peers", |_| true).await;
    let entry = &peers["peers"][0];
    assert_eq!(entry["announced_key_differs"], true, "{peers}");
    assert_eq!(entry["key_changed"], false, "{peers}");
    assert_eq!(entry["fingerprint"], a.listening["fingerprint"], "{peers}");

    // Not held, not redirected: it goes to A, encrypted to the pinned key.
    let to = a.addr.clone();
    b.cmd(json!({"cmd": "send", "to": to, "text": "despite the forgery"}))
        .await;
    b.delivered(&to).await;
    a.expect("message", |v| v["text"] == "despite the forgery")
        .await;
    b.cmd(json!({"cmd": "peers"})).await;
    let peers = b.expect("peers", |_| true).await;
    let entry = &peers["peers"][0];
    assert!(entry.get("announced_key_differs").is_none(), "{peers}");
    assert_eq!(entry["key_changed"], false, "{peers}");
    assert_eq!(entry["transport"], "encrypted", "{peers}");
}

/// On loopback, discovery off: the invite one brigade prints connects another to it.
#[tokio::test]
async fn an_invite_connects_two_brigades_with_discovery_off() {
    let mut a = Headless::start("A", &["--no-discovery"]).await;
    // In A's own sandbox and data directory: the invite carries A's key.
    let out = a
        .sandbox
        .brigade_async()
        .args(["--invite", "--name", "A", "--port", &port(&a).to_string()])
        .args(["--bind", "127.0.0.1", "--no-discovery", "--data-dir"])
        .arg(&a.data)
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let invite = String::from_utf8(out.stdout).unwrap();
    let invite = invite.trim();
    let key = a.listening["key"].as_str().unwrap();
    assert_eq!(invite, format!("brigade://v1/A@{}?key={key}", a.addr));
    let mut b = Headless::start("B", &["--no-discovery", "--peer", invite]).await;
    let found = b.expect("discovered", |_| true).await;
    assert_eq!(
        (found["via"].as_str(), found["addr"].as_str()),
        (Some("invite"), Some(a.addr.as_str()))
    );
    b.delivered(&a.addr).await;
    a.expect("message", |v| v["team"] == "B").await;
    b.cmd(json!({"cmd": "peers"})).await;
    let peers = b.expect("peers", |_| true).await;
    assert_eq!(peers["peers"][0]["via"], "invite", "{peers}");
    assert_eq!(peers["peers"][0]["discovered"], false, "{peers}");
    // The invite's key was pinned at once: the message went encrypted.
    assert_eq!(peers["peers"][0]["transport"], "encrypted", "{peers}");
    assert_eq!(
        peers["peers"][0]["fingerprint"], a.listening["fingerprint"],
        "{peers}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_encrypted_message_is_not_in_a_packet_capture() {
    in_namespace("inner_capture");
}

#[cfg(target_os = "linux")]
/// Everything sent on the namespace's interfaces (loopback included), as captured by
/// an AF_PACKET socket opened before the brigades start and drained at the end.
struct Capture(std::os::fd::OwnedFd);

#[cfg(target_os = "linux")]
impl Capture {
    fn open() -> Capture {
        use std::os::fd::FromRawFd;
        let all = (libc::ETH_P_ALL as u16).to_be() as libc::c_int;
        // SAFETY: plain socket(2); the descriptor is owned from here on.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                all,
            )
        };
        assert!(
            fd >= 0,
            "AF_PACKET socket: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: fd is a fresh descriptor nobody else owns.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        let size: libc::c_int = 8 << 20;
        // SAFETY: setsockopt with a pointer to a c_int of the size given. FORCE works
        // as root of the namespace; the plain option is the fallback.
        unsafe {
            for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
                let ptr = (&size as *const libc::c_int).cast();
                let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
                if libc::setsockopt(fd_of(&fd), libc::SOL_SOCKET, opt, ptr, len) == 0 {
                    break;
                }
            }
        }
        Capture(fd)
    }

    /// Every byte queued so far; panics if the kernel dropped any packet (then an
    /// absent marker would prove nothing).
    fn drain(&self) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = vec![0u8; 1 << 17];
        let mut packets = 0;
        loop {
            // SAFETY: recv(2) into a buffer of the length given.
            let n = unsafe { libc::recv(fd_of(&self.0), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
                break;
            }
            packets += 1;
            all.extend_from_slice(&buf[..n as usize]);
        }
        let mut stats = libc::tpacket_stats {
            tp_packets: 0,
            tp_drops: 0,
        };
        let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: getsockopt into a tpacket_stats of the size given.
        let got = unsafe {
            libc::getsockopt(
                fd_of(&self.0),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut stats as *mut libc::tpacket_stats).cast(),
                &mut len,
            )
        };
        assert_eq!(got, 0, "{}", std::io::Error::last_os_error());
        assert_eq!(stats.tp_drops, 0, "the capture dropped packets");
        println!("MEASURED capture: {packets} packets, {} bytes", all.len());
        all
    }
}

#[cfg(target_os = "linux")]
fn fd_of(fd: &std::os::fd::OwnedFd) -> libc::c_int {
    use std::os::fd::AsRawFd;
    fd.as_raw_fd()
}

#[cfg(target_os = "linux")]
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(target_os = "linux")]
/// A brigade writes to another over the encrypted transport: the message arrives, and
/// its text is nowhere in what the namespace's interfaces carried. As a control, a
/// classic peer's plaintext message to the same brigade is in the capture.
#[tokio::test]
#[ignore = "runs inside a network namespace, from an_encrypted_message_is_not_in_a_packet_capture"]
async fn inner_capture() {
    inside_namespace();
    let capture = Capture::open();
    let unique = format!("{}-{}", std::process::id(), discovery_nonce());
    let secret = format!("SECRET-MARKER-{unique}");
    let plain = format!("PLAIN-MARKER-{unique}");

    let mut a = brigade("A", &["--no-discovery"]).await;
    let key = a.listening["key"].as_str().unwrap().to_string();
    let invite = format!("brigade://v1/A@{}?key={key}", a.addr);
    let mut b = brigade("B", &["--no-discovery", "--peer", &invite]).await;
    b.delivered(&a.addr).await;
    let to = a.addr.clone();
    b.cmd(json!({"cmd": "send", "to": to, "text": secret}))
        .await;
    b.delivered(&to).await;
    a.expect("message", |v| {
        v["text"] == secret.as_str() && v["team"] == "B"
    })
    .await;
    b.cmd(json!({"cmd": "peers"})).await;
    let peers = b.expect("peers", |_| true).await;
    assert_eq!(peers["peers"][0]["transport"], "encrypted", "{peers}");

    let a_addr: std::net::SocketAddr = a.addr.parse().unwrap();
    classic_send(a_addr, format!("10.77.0.1:9 Z {plain}").as_bytes()).await;
    a.expect("message", |v| v["text"] == plain.as_str()).await;

    let captured = capture.drain();
    assert!(
        contains(&captured, plain.as_bytes()),
        "the control: a plaintext message is in the capture"
    );
    assert!(
        contains(&captured, b"\0brigade\x01"),
        "the encrypted connection's preamble is in the capture"
    );
    assert!(
        !contains(&captured, secret.as_bytes()),
        "the encrypted message's text is in the capture"
    );
}

#[cfg(target_os = "linux")]
fn discovery_nonce() -> u64 {
    brigade::discovery::random_u64()
}
