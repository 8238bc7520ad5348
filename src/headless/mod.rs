//! The headless front end: the same session as the terminal's, JSON lines on stdin and
//! stdout. Each command line becomes an action; each notice the session tells becomes
//! a line. End of stdin means quit; quitting waits (a bounded time) for undelivered
//! messages.

pub mod wire;

use std::io::{BufWriter, Stdout, Write};
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

/// Written synchronously, one flush per burst: tokio's stdout would hand every write to
/// its blocking thread pool, a thread switch per write (seen in a profile under load).
type Out = BufWriter<Stdout>;

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
    let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout());
    write(&mut out, shown)?;
    let result = main_loop(&mut session, &mut out).await;
    session.shutdown();
    out.flush().map_err(crash)?;
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

/// Prints the notices, one JSON object per line, and flushes once.
fn write(out: &mut Out, effects: Vec<Effect>) -> Result<(), Failure> {
    let at = Utc::now();
    for effect in effects {
        if let Effect::Notify(notice) = effect {
            let mut line = notice.line(at);
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(crash)?;
        }
    }
    out.flush().map_err(crash)
}
