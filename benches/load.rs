//! End-to-end load on loopback, measured in one run so the figures compare:
//! a bare tokio sink that reads each connection to the end (the limit), and the real
//! headless brigade with history on, both fed N classic one-connection messages by C
//! concurrent senders that count a message only on a clean close. brigade closes only
//! after the message is committed, so "half-close to clean close" is the latency from a
//! sender's close to the message being in the store.
//!
//!     cargo bench --bench load            (BRIGADE_LOAD_N sets N, default 20000)

use std::net::{IpAddr, SocketAddr};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket};

/// One classic message: connect, write, half-close, wait for the close. Returns the
/// time from the half-close to a clean close, or None when not delivered.
async fn one(source: IpAddr, to: SocketAddr, text: &[u8]) -> Option<Duration> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(SocketAddr::new(source, 0)).ok()?;
    let mut s = socket.connect(to).await.ok()?;
    s.write_all(text).await.ok()?;
    s.shutdown().await.ok()?;
    let closed = Instant::now();
    let mut rest = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut rest)).await {
        Ok(Ok(_)) => Some(closed.elapsed()),
        _ => None,
    }
}

fn source(i: usize) -> IpAddr {
    IpAddr::from([127, 0, 4 + (i / 250) as u8, (i % 250 + 1) as u8])
}

/// N messages from C concurrent senders; returns (seconds, delivered).
async fn blast(to: SocketAddr, n: usize, c: usize) -> (f64, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let delivered = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..c {
        let (next, delivered) = (next.clone(), delivered.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                let text = format!("127.0.0.1:9 LOAD message {i} from sender {s}");
                if one(source(s), to, text.as_bytes()).await.is_some() {
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (
        start.elapsed().as_secs_f64(),
        delivered.load(Ordering::Relaxed),
    )
}

/// Latencies at a fixed offered rate (messages a second) for `secs` seconds.
async fn at_rate(to: SocketAddr, rate: u64, secs: u64) -> (Vec<Duration>, usize) {
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let mut tasks = Vec::new();
    for i in 0..(rate * secs) as usize {
        tick.tick().await;
        tasks.push(tokio::spawn(async move {
            one(
                source(i % 64),
                to,
                format!("127.0.0.1:9 RATE message {i}").as_bytes(),
            )
            .await
        }));
    }
    let mut lat = Vec::new();
    let mut lost = 0;
    for t in tasks {
        match t.await.unwrap() {
            Some(d) => lat.push(d),
            None => lost += 1,
        }
    }
    lat.sort();
    (lat, lost)
}

async fn bare_sink() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf).await;
            });
        }
    });
    addr
}

/// The real binary, headless, history on, in a fresh data directory.
async fn brigade(dir: Option<&std::path::Path>) -> (tokio::process::Child, SocketAddr) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_brigade"));
    cmd.args([
        "--headless",
        "--name",
        "B",
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
    ])
    .args(["--advertise-ip", "127.0.0.1", "--log-file", "/dev/null"])
    // An empty config: never the user's (its peers would be greeted).
    .args(["--config", "/dev/null"]);
    match dir {
        Some(dir) => cmd.arg("--data-dir").arg(dir),
        None => cmd.arg("--no-history"),
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    let addr = v["addr"].as_str().unwrap().parse().unwrap();
    // Keep reading its events so its stdout never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

fn pct(lat: &[Duration], p: f64) -> f64 {
    if lat.is_empty() {
        return f64::NAN;
    }
    let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
    lat[i].as_secs_f64() * 1000.0
}

fn main() {
    // `cargo test --benches` runs benches in test mode: do nothing heavy then.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let n: usize = std::env::var("BRIGADE_LOAD_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("load: {n} messages a run, one connection each, counted on a clean close");
        println!(
            "{:>8} {:>11} {:>11} {:>6} {:>11} {:>6} {:>10}",
            "senders", "bare msg/s", "brigade/s", "ratio", "no-hist/s", "ratio", "lost"
        );
        for c in [16, 64] {
            let sink = bare_sink().await;
            let (secs, bare_ok) = blast(sink, n, c).await;
            let bare_rate = bare_ok as f64 / secs;
            let dir = tempfile::tempdir().unwrap();
            let (child, addr) = brigade(Some(dir.path())).await;
            let (secs, ok) = blast(addr, n, c).await;
            let rate = ok as f64 / secs;
            drop(child);
            let (child, addr) = brigade(None).await;
            let (secs, mem_ok) = blast(addr, n, c).await;
            let mem_rate = mem_ok as f64 / secs;
            drop(child);
            println!(
                "{c:>8} {bare_rate:>11.0} {rate:>11.0} {:>6.2} {mem_rate:>11.0} {:>6.2} {:>10}",
                rate / bare_rate,
                mem_rate / bare_rate,
                format!("{} of {n}", (n - ok) + (n - mem_ok))
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let (child, addr) = brigade(Some(dir.path())).await;
        let (lat, lost) = at_rate(addr, 1000, 5).await;
        println!(
            "latency at 1000 msg/s for 5 s, sender's close to stored (brigade's clean close): p50 {:.2} ms, p99 {:.2} ms, lost {lost}",
            pct(&lat, 0.5),
            pct(&lat, 0.99)
        );
        drop(child);
    });
}
