//! The headless front end: the same session as the terminal's, JSON lines on stdin and
//! stdout. Each command line becomes an action; each notice the session tells becomes
//! a line. End of stdin means quit; quitting waits (a bounded time) for undelivered
//! messages.

pub mod wire;

use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::app::{Failure, Session, Setup, crash, open_history};
use crate::config::Settings;
use crate::event::{Action, Effect, Notice};
use crate::net::{Limits, bind_listener};
use wire::Command;

/// Longest a quit waits for messages still being delivered.
pub const QUIT_GRACE: Duration = Duration::from_secs(30);

/// Bytes of lines waiting for stdout. A consumer that reads slower than events come
/// never stalls the session (which acknowledges received messages): past this, events
/// are left out and counted, and a `lagged` line says how many.
pub const STDOUT_QUEUE_BYTES: usize = 1024 * 1024;

/// How long the stdout thread lets lines gather after writing some.
const GATHER: Duration = Duration::from_micros(500);

/// Stdout, written by its own thread from a bounded queue, one flush per burst.
struct Out {
    lines: Option<Sender<String>>,
    /// Shared with the thread: bytes queued and not yet written, events left out.
    counts: Arc<Counts>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

#[derive(Default)]
struct Counts {
    queued: AtomicUsize,
    /// Events left out since the last `lagged` line. Whoever takes it (swap to zero)
    /// prints it: the session before its next line, or the thread once it has caught
    /// up (so an idle node tells it too).
    dropped: AtomicU64,
}

impl Out {
    fn start() -> Out {
        let (tx, rx) = channel();
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        let thread = std::thread::Builder::new()
            .name("headless-stdout".into())
            .spawn(move || print(rx, &shared))
            .expect("spawning the stdout thread");
        Out {
            lines: Some(tx),
            counts,
            thread: Some(thread),
        }
    }

    /// Queues lines without waiting, together (one hand-off to the thread); a line
    /// that does not fit the queue is counted instead, and the count goes out as a
    /// `lagged` line as soon as there is room. What is gathered is handed off before a
    /// line that would not fit is judged, so the thread may have made room meanwhile,
    /// and the lines before a left-out one are queued before its count.
    fn push(&mut self, lines: impl IntoIterator<Item = String>) -> Result<(), Failure> {
        let mut batch = String::new();
        for line in lines {
            let mut queued = self.counts.queued.load(Ordering::Acquire) + batch.len();
            if queued + line.len() > STDOUT_QUEUE_BYTES && !batch.is_empty() {
                self.queue(std::mem::take(&mut batch))?;
                queued = self.counts.queued.load(Ordering::Acquire);
            }
            if queued > 0 && queued + line.len() > STDOUT_QUEUE_BYTES {
                self.counts.dropped.fetch_add(1, Ordering::AcqRel);
                continue;
            }
            let dropped = self.counts.dropped.swap(0, Ordering::AcqRel);
            if dropped > 0 {
                batch.push_str(&lagged(dropped));
            }
            batch.push_str(&line);
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.queue(batch)
    }

    fn queue(&mut self, line: String) -> Result<(), Failure> {
        let Some(tx) = &self.lines else {
            return Ok(());
        };
        self.counts.queued.fetch_add(line.len(), Ordering::AcqRel);
        tx.send(line).map_err(|_| self.failed())
    }

    /// The stdout thread stopped: why.
    fn failed(&mut self) -> Failure {
        self.lines = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => crash(e),
            _ => crash(std::io::Error::other("stdout closed")),
        }
    }

    /// Writes out what is queued (and what was left out, counted) and waits for it.
    fn finish(mut self) -> Result<(), Failure> {
        drop(self.lines.take());
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result.map_err(crash),
            _ => Ok(()),
        }
    }
}

/// The line that says how many events were left out.
fn lagged(dropped: u64) -> String {
    let mut line = Notice::Lagged { dropped }.line(Utc::now());
    line.push('\n');
    line
}

/// The stdout thread: writes each line as it comes, flushing once the queue is empty
/// (synchronous writes: tokio's stdout would hand every write to its blocking pool),
/// then lets the next lines gather for [`GATHER`].
fn print(rx: Receiver<String>, counts: &Counts) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout());
    let write = |out: &mut BufWriter<_>, line: String| {
        let result = out.write_all(line.as_bytes());
        counts.queued.fetch_sub(line.len(), Ordering::AcqRel);
        result
    };
    let caught_up = |out: &mut BufWriter<_>| {
        let dropped = counts.dropped.swap(0, Ordering::AcqRel);
        if dropped > 0 {
            out.write_all(lagged(dropped).as_bytes())?;
        }
        out.flush()
    };
    while let Ok(line) = rx.recv() {
        write(&mut out, line)?;
        while let Ok(line) = rx.try_recv() {
            write(&mut out, line)?;
        }
        caught_up(&mut out)?;
        // Lines that come meanwhile queue up without waking this thread, and go out
        // together: under a flood of events one write and one wake-up per pause, not
        // per burst. An event after a quiet moment still goes out at once.
        std::thread::sleep(GATHER);
    }
    caught_up(&mut out)
}

pub async fn run(settings: Settings) -> Result<(), Failure> {
    let (Some(team), Some(port)) = (settings.name.clone(), settings.port) else {
        return Err(Failure::Usage(
            "headless mode needs --name and --port".into(),
        ));
    };
    let history = open_history(&settings, &team).map_err(Failure::Usage)?;
    let limits = Limits::with_sources(settings.source_rate, settings.source_quota_mib);
    let listener = bind_listener(settings.bind, port, limits.backlog)
        .map_err(|e| Failure::Usage(format!("{e} (--port)")))?;
    let setup = Setup::new(&settings, listener, team, limits, history, Some(QUIT_GRACE));
    let (mut session, shown) = Session::start(setup, |_| {}).await.map_err(crash)?;
    let mut out = Out::start();
    write(&mut out, shown)?;
    let result = main_loop(&mut session, &mut out).await;
    session.shutdown();
    out.finish()?;
    result
}

async fn main_loop(session: &mut Session, out: &mut Out) -> Result<(), Failure> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        let effects = tokio::select! {
            effects = session.next() => match effects {
                Some(effects) => effects,
                None => return Ok(()),
            },
            line = lines.next_line(), if !session.quitting() => match line {
                Ok(Some(line)) if line.trim().is_empty() => Vec::new(),
                Ok(Some(line)) => match Command::parse_line(&line) {
                    Ok(action) => session.act(action),
                    Err(text) => vec![Effect::Notify(Notice::Error { text })],
                },
                Ok(None) | Err(_) => session.act(Action::Quit),
            },
        };
        let quit = effects.contains(&Effect::Quit);
        write(out, effects)?;
        if quit {
            return Ok(());
        }
    }
}

/// Queues the notices for stdout, one JSON object per line; the lines of one burst go
/// to the stdout thread together.
fn write(out: &mut Out, effects: Vec<Effect>) -> Result<(), Failure> {
    let at = Utc::now();
    out.push(effects.into_iter().filter_map(|effect| match effect {
        Effect::Notify(notice) => {
            let mut line = notice.line(at);
            line.push('\n');
            Some(line)
        }
        _ => None,
    }))
}
