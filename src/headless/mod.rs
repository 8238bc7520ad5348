//! The headless front end: the same store and node, JSON lines on stdin and stdout.
//! End of stdin means quit; quitting waits (a bounded time) for undelivered messages.

pub mod wire;

use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::time::Instant;

use crate::app::{Core, Failure};
use crate::config::Settings;
use crate::event::{Action, Effect};
use crate::net::{Limits, RetryPolicy, bind_listener};
use wire::{Command, Output};

/// Longest a quit waits for messages still being delivered.
pub const QUIT_GRACE: Duration = Duration::from_secs(30);

pub async fn run(settings: Settings) -> Result<(), Failure> {
    let (Some(team), Some(port)) = (settings.name.clone(), settings.port) else {
        return Err(Failure::Usage(
            "headless mode needs --name and --port".into(),
        ));
    };
    let limits = Limits::default();
    let listener = bind_listener(settings.bind, port, limits.backlog)
        .map_err(|e| Failure::Usage(format!("{e} (--port)")))?;
    let mut core = Core::start(
        listener,
        &team,
        settings.advertise_ip,
        limits,
        RetryPolicy::default(),
    )
    .map_err(|e| Failure::Crash(e.into()))?;
    let mut out = BufWriter::new(tokio::io::stdout());
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut quit_by: Option<Instant> = None;

    // The listening event comes first, then the greetings.
    if let Some(msg) = core.events.recv().await {
        let effects = core.on_net(msg);
        write(&mut out, effects).await?;
    }
    let effects = core.greet(&settings.peers);
    write(&mut out, effects).await?;

    loop {
        let effects = tokio::select! {
            msg = core.events.recv() => match msg {
                Some(msg) => core.on_net(msg),
                None => break,
            },
            line = lines.next_line(), if !core.state.quitting => match line {
                Ok(Some(line)) if line.trim().is_empty() => Vec::new(),
                Ok(Some(line)) => match Command::parse_line(&line) {
                    Ok(action) => core.act(action),
                    Err(text) => vec![Effect::Notify(crate::event::Notice::Error { text })],
                },
                Ok(None) | Err(_) => core.act(Action::Quit),
            },
            _ = tokio::time::sleep_until(quit_by.unwrap_or_else(Instant::now)), if quit_by.is_some() => {
                let n = core.state.undelivered();
                let text = format!("quitting with {n} messages still undelivered");
                write(&mut out, vec![Effect::Notify(crate::event::Notice::Error { text })]).await?;
                break;
            }
        };
        write(&mut out, effects).await?;
        if core.state.quitting {
            let n = core.state.undelivered();
            if n == 0 {
                break;
            }
            if quit_by.is_none() {
                quit_by = Some(Instant::now() + QUIT_GRACE);
                let text = format!("waiting for {n} messages to be delivered before quitting");
                let notice = crate::event::Notice::Info { text };
                write(&mut out, vec![Effect::Notify(notice)]).await?;
            }
        }
    }
    out.flush().await.map_err(|e| Failure::Crash(e.into()))
}

/// Prints the effects meant for the user, one JSON object per line.
async fn write(
    out: &mut BufWriter<tokio::io::Stdout>,
    effects: Vec<Effect>,
) -> Result<(), Failure> {
    let at = Utc::now();
    for effect in effects {
        if let Effect::Notify(notice) = effect {
            let mut line = Output::from_notice(at, notice).to_line();
            line.push('\n');
            out.write_all(line.as_bytes())
                .await
                .map_err(|e| Failure::Crash(e.into()))?;
        }
    }
    out.flush().await.map_err(|e| Failure::Crash(e.into()))
}
