//! The session both front ends drive ([`Session`]), the one place effects run
//! (`sink`), and the terminal front end ([`tui`]). The headless front end is
//! `crate::headless`.

mod reader;
mod session;
mod sink;
pub mod tui;

pub use session::{Session, Setup};

use crate::config::Settings;

/// How a run can fail.
#[derive(Debug)]
pub enum Failure {
    /// Bad local input: one line that says what to do, no backtrace.
    Usage(String),
    /// Anything else, reported by color-eyre.
    Crash(color_eyre::Report),
    /// The terminal went away (drafts saved, history flushed): exit 129, as a hangup.
    TerminalGone,
}

/// Anything unexpected: a crash, reported with its cause (after the terminal is given
/// back, by the front end's guard).
pub fn crash(e: impl Into<color_eyre::Report>) -> Failure {
    Failure::Crash(e.into())
}

impl From<color_eyre::Report> for Failure {
    fn from(e: color_eyre::Report) -> Self {
        Failure::Crash(e)
    }
}

/// The data directory of this team: `--data-dir`, or one per team name.
pub fn data_dir(settings: &Settings, team: &str) -> Option<std::path::PathBuf> {
    settings
        .data_dir
        .clone()
        .or_else(|| crate::history::default_dir(team))
}

/// This brigade's long-term key. With a history it lives in the data directory
/// (created at first start, mode 0600). With `--no-history` nothing is written: an
/// existing key there is used (so peers keep recognizing us), else a key for this run
/// only (peers who pinned an earlier one see a changed key, which is what a user who
/// asked to leave nothing on disk expects).
pub fn load_identity(settings: &Settings, team: &str) -> Result<crate::secure::Keypair, String> {
    let dir = data_dir(settings, team);
    if !settings.history {
        let kept = dir.and_then(|d| crate::secure::load_or_create_in(&d, false).ok());
        return Ok(kept
            .flatten()
            .unwrap_or_else(crate::secure::Keypair::generate));
    }
    let Some(dir) = dir else {
        return Ok(crate::secure::Keypair::generate());
    };
    crate::secure::load_or_create(&dir).map_err(|e| {
        format!(
            "cannot read or create the identity key in {}: {e}",
            dir.display()
        )
    })
}

/// The history opened for a run, or why there is none this time (shown to the user).
pub type HistoryOpen = (Option<crate::history::Opened>, Option<String>);

/// Opens the history for this team. By default each team name has its own directory,
/// so two brigades with different names can run on one machine; a second brigade on
/// the same directory is refused (`Err`, a message that says what to do). Any other
/// problem means no history this run, never a replaced file.
pub fn open_history(settings: &Settings, team: &str) -> Result<HistoryOpen, String> {
    if !settings.history {
        return Ok((None, None));
    }
    let dir = match &settings.data_dir {
        Some(dir) => dir.clone(),
        None => match crate::history::default_dir(team) {
            Some(dir) => dir,
            None => {
                return Ok((
                    None,
                    Some("no data directory: give one with --data-dir".into()),
                ));
            }
        },
    };
    match crate::history::open(&dir) {
        Ok(opened) => Ok((Some(opened), None)),
        Err(crate::history::OpenError::Locked(msg)) => Err(msg),
        Err(crate::history::OpenError::Unavailable(msg)) => Ok((None, Some(msg))),
    }
}
