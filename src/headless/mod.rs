//! The headless front end: the same store, node and history, JSON lines on stdin and
//! stdout. End of stdin means quit; quitting waits (a bounded time) for undelivered
//! messages.

pub mod wire;

use std::time::Duration;

use chrono::Utc;
use std::io::{BufWriter, Stdout, Write};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::Instant;

use crate::app::{Core, Failure, open_history};
use crate::config::Settings;
use crate::event::{Action, Effect, Notice};
use crate::net::{Limits, RetryPolicy, bind_listener};
use wire::{Command, MessageOut, Output, Request};

/// Most queued network events handled before writing out.
const DRAIN: usize = 1024;

/// Longest a quit waits for messages still being delivered.
pub const QUIT_GRACE: Duration = Duration::from_secs(30);

/// Written synchronously, one flush per burst: tokio's stdout would hand every write to
/// its blocking thread pool, a thread switch per write (seen in a profile under load).
type Out = BufWriter<Stdout>;

fn crash(e: impl Into<color_eyre::Report>) -> Failure {
    Failure::Crash(e.into())
}

pub async fn run(settings: Settings) -> Result<(), Failure> {
    let (Some(team), Some(port)) = (settings.name.clone(), settings.port) else {
        return Err(Failure::Usage(
            "headless mode needs --name and --port".into(),
        ));
    };
    let (history, unavailable) = open_history(&settings, &team).map_err(Failure::Usage)?;
    let limits = Limits::default();
    let listener = bind_listener(settings.bind, port, limits.backlog)
        .map_err(|e| Failure::Usage(format!("{e} (--port)")))?;
    let mut core = Core::start(
        listener,
        &team,
        settings.advertise_ip,
        limits,
        RetryPolicy::default(),
        history,
    )
    .map_err(crash)?;
    let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout());
    // The listening event comes first, then anything about the history, the greetings.
    if let Some(msg) = core.events.recv().await {
        let effects = core.on_net(msg);
        write(&mut out, effects).await?;
    }
    if let Some(why) = unavailable {
        let effects = core.history_unavailable(&why);
        write(&mut out, effects).await?;
    }
    let effects = core.greet(&settings.peers);
    write(&mut out, effects).await?;
    let result = main_loop(&mut core, &mut out).await;
    core.shutdown();
    out.flush().map_err(crash)?;
    result
}

async fn main_loop(core: &mut Core, out: &mut Out) -> Result<(), Failure> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut quit_by: Option<Instant> = None;
    loop {
        let effects = tokio::select! {
            msg = core.events.recv() => match msg {
                // Take the whole burst before writing: one flush of stdout, and larger
                // groups for the history writer to commit.
                Some(msg) => {
                    let mut effects = core.on_net(msg);
                    for _ in 1..DRAIN {
                        match core.events.try_recv() {
                            Ok(msg) => effects.extend(core.on_net(msg)),
                            Err(_) => break,
                        }
                    }
                    effects
                }
                None => return Ok(()),
            },
            note = core.notes.recv() => match note {
                Some(note) => core.on_note(note),
                None => Vec::new(),
            },
            line = lines.next_line(), if !core.state.quitting => match line {
                Ok(Some(line)) if line.trim().is_empty() => Vec::new(),
                Ok(Some(line)) => match Command::parse_line(&line) {
                    Ok(Request::Act(action)) => core.act(action),
                    Ok(query) => {
                        let output = answer(core, query).await;
                        write_line(out, output.to_line()).await?;
                        Vec::new()
                    }
                    Err(text) => vec![Effect::Notify(Notice::Error { text })],
                },
                Ok(None) | Err(_) => core.act(Action::Quit),
            },
            _ = tokio::time::sleep_until(quit_by.unwrap_or_else(Instant::now)), if quit_by.is_some() => {
                let n = core.state.undelivered();
                let text = format!("quitting with {n} messages still undelivered");
                write(out, vec![Effect::Notify(Notice::Error { text })]).await?;
                return Ok(());
            }
        };
        let quit = effects.contains(&Effect::Quit);
        write(out, effects).await?;
        if quit || (core.state.quitting && core.state.undelivered() == 0) {
            return Ok(());
        }
        if core.state.quitting && quit_by.is_none() {
            quit_by = Some(Instant::now() + QUIT_GRACE);
            let n = core.state.undelivered();
            let text = format!("waiting for {n} messages to be delivered before quitting");
            write(out, vec![Effect::Notify(Notice::Info { text })]).await?;
        }
    }
}

/// Answers a history query from the database (off the async threads).
async fn answer(core: &Core, query: Request) -> Output {
    let failed = |text: String| Output::Error {
        at: wire::timestamp(Utc::now()),
        text,
    };
    let Some(history) = &core.history else {
        return failed(
            "there is no history this run (--no-history, or it could not be opened)".into(),
        );
    };
    let reader = history.reader.clone();
    let result = tokio::task::spawn_blocking(move || {
        let at = wire::timestamp(Utc::now());
        let messages = |records: Vec<crate::event::Record>| {
            records.into_iter().map(MessageOut::from_record).collect()
        };
        match query {
            Request::History { peer, limit } => reader
                .conversation(peer.ip(), peer.port(), limit)
                .map(|r| Output::History {
                    at,
                    peer: peer.to_string(),
                    messages: messages(r),
                }),
            Request::Search { query, limit } => {
                reader.search(&query, limit).map(|r| Output::Search {
                    at,
                    query,
                    hits: messages(r),
                })
            }
            Request::Act(_) => Err("not a query".into()),
        }
    })
    .await;
    match result {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => failed(format!("history query failed: {e}")),
        Err(e) => failed(format!("history query failed: {e}")),
    }
}

async fn write_line(out: &mut Out, mut line: String) -> Result<(), Failure> {
    line.push('\n');
    out.write_all(line.as_bytes()).map_err(crash)?;
    out.flush().map_err(crash)
}

/// Prints the effects meant for the user, one JSON object per line.
async fn write(out: &mut Out, effects: Vec<Effect>) -> Result<(), Failure> {
    let at = Utc::now();
    for effect in effects {
        if let Effect::Notify(notice) = effect {
            let mut line = Output::from_notice(at, notice).to_line();
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(crash)?;
        }
    }
    out.flush().map_err(crash)
}
