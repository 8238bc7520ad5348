//! End-to-end load on loopback, measured in one run so the figures compare:
//! a bare tokio sink that reads each connection to the end (the limit), and the real
//! headless brigade with history on, both fed N classic one-connection messages by C
//! concurrent senders that count a message only on a clean close. brigade closes only
//! after the message is committed, so "half-close to clean close" is the latency from a
//! sender's close to the message being in the store.
//!
//! The sink runs as a child process (this bench binary again) so that CPU time per
//! message (user+sys from /proc/PID/stat, divided by the messages received) is measured
//! the same way for the sink and for brigade, apart from the load generator.
//!
//!     cargo bench --bench load            (BRIGADE_LOAD_N sets N, default 20000;
//!                                          BRIGADE_LOAD_ROUNDS the rounds, default 3;
//!                                          BRIGADE_LOAD_BIN another brigade binary)

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

/// The bare sink, run in the child: accept, read each connection to the end, close.
/// Prints its address, serves until its stdin closes.
async fn serve_bare_sink() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", l.local_addr().unwrap());
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
    let mut rest = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut rest).await;
}

/// The bare sink in a child process (this binary with `BRIGADE_LOAD_ROLE=sink`).
async fn bare_sink() -> (tokio::process::Child, SocketAddr) {
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .env("BRIGADE_LOAD_ROLE", "sink")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = lines.next_line().await.unwrap().unwrap().parse().unwrap();
    (child, addr)
}

/// CPU seconds (user + sys) a child has used so far, from /proc/PID/stat (Linux; the
/// kernel reports USER_HZ = 100 ticks a second to user space).
fn cpu_secs(child: &tokio::process::Child) -> f64 {
    let Some(pid) = child.id() else {
        return f64::NAN;
    };
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (tick(11) + tick(12)) / 100.0
}

/// Microseconds of the child's CPU per message received.
fn us_per_msg(child: &tokio::process::Child, msgs: usize) -> f64 {
    cpu_secs(child) * 1e6 / msgs.max(1) as f64
}

/// The real binary, headless, history on, in a fresh data directory.
async fn brigade(dir: Option<&std::path::Path>) -> (tokio::process::Child, SocketAddr) {
    // BRIGADE_LOAD_BIN measures another build (an older one, for before/after).
    let bin = std::env::var("BRIGADE_LOAD_BIN").unwrap_or(env!("CARGO_BIN_EXE_brigade").into());
    let mut cmd = tokio::process::Command::new(bin);
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

/// The middle value (of an odd count; the upper middle of an even one).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One round at `c` senders: the sink, brigade with history, brigade without, one
/// after the other so a noisy moment of the machine falls on all three alike.
/// Returns (rate, CPU µs per message, lost) for each.
async fn round(n: usize, c: usize) -> [(f64, f64, usize); 3] {
    let (sink, to) = bare_sink().await;
    let (secs, ok) = blast(to, n, c).await;
    let bare = (ok as f64 / secs, us_per_msg(&sink, ok), n - ok);
    drop(sink);
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = brigade(Some(dir.path())).await;
    let (secs, ok) = blast(addr, n, c).await;
    let stored = (ok as f64 / secs, us_per_msg(&child, ok), n - ok);
    drop(child);
    let (child, addr) = brigade(None).await;
    let (secs, ok) = blast(addr, n, c).await;
    let memory = (ok as f64 / secs, us_per_msg(&child, ok), n - ok);
    drop(child);
    [bare, stored, memory]
}

fn main() {
    // `cargo test --benches` runs benches in test mode: do nothing heavy then.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    if std::env::var("BRIGADE_LOAD_ROLE").as_deref() == Ok("sink") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(serve_bare_sink());
        return;
    }
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let n = env("BRIGADE_LOAD_N", 20_000);
    let rounds = env("BRIGADE_LOAD_ROUNDS", 3).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!(
            "load: {n} messages a run, one connection each, counted on a clean close; \
             {rounds} rounds of sink, brigade, brigade --no-history in turn"
        );
        println!(
            "rates and CPU are medians over the rounds; a ratio is brigade's rate over the sink's \
             in the same round (median, and lowest-highest)"
        );
        println!("CPU: user+sys of the receiving process per message received, in µs");
        println!(
            "{:>8} {:>10} {:>10} {:>17} {:>10} {:>17} {:>6} {:>8} {:>8} {:>8}",
            "senders",
            "bare/s",
            "brigade/s",
            "ratio",
            "no-hist/s",
            "ratio",
            "lost",
            "bare CPU",
            "brig CPU",
            "no-h CPU"
        );
        for c in [16, 64] {
            let mut runs = Vec::new();
            for _ in 0..rounds {
                runs.push(round(n, c).await);
            }
            let col = |k: usize, f: &dyn Fn(&(f64, f64, usize)) -> f64| {
                median(runs.iter().map(|r| f(&r[k])).collect())
            };
            let ratios = |k: usize| {
                let v: Vec<f64> = runs.iter().map(|r| r[k].0 / r[0].0).collect();
                let (lo, hi) = v
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
                format!("{:.2} ({lo:.2}-{hi:.2})", median(v))
            };
            let lost: usize = runs.iter().flat_map(|r| r.iter().map(|x| x.2)).sum();
            println!(
                "{c:>8} {:>10.0} {:>10.0} {:>17} {:>10.0} {:>17} {lost:>6} {:>8.1} {:>8.1} {:>8.1}",
                col(0, &|x| x.0),
                col(1, &|x| x.0),
                ratios(1),
                col(2, &|x| x.0),
                ratios(2),
                col(0, &|x| x.1),
                col(1, &|x| x.1),
                col(2, &|x| x.1),
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
