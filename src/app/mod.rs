//! Running brigade: settings in, the chosen front end out.

mod core;
mod tui;

pub use core::Core;

use crate::config::{Args, Settings};

/// How a run can fail.
#[derive(Debug)]
pub enum Failure {
    /// Bad local input: one line that says what to do, no backtrace.
    Usage(String),
    /// Anything else, reported by color-eyre.
    Crash(color_eyre::Report),
}

impl From<color_eyre::Report> for Failure {
    fn from(e: color_eyre::Report) -> Self {
        Failure::Crash(e)
    }
}

/// Runs brigade with parsed flags.
pub fn run(args: Args) -> Result<(), Failure> {
    let settings = Settings::resolve(args).map_err(Failure::Usage)?;
    let _log = crate::logging::init(settings.log_file.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Crash(e.into()))?;
    if settings.headless {
        runtime.block_on(crate::headless::run(settings))
    } else {
        runtime.block_on(tui::run(settings))
    }
}
