//! Logging to a file (never to stdout, which belongs to the UI or the JSON stream).
//! The level comes from `BRIGADE_LOG` (e.g. `BRIGADE_LOG=debug`), default `info`.

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Starts logging to `path` (or the default log path). Returns the guard that flushes
/// the log on drop; `None` when no log file can be opened (brigade runs on without).
pub fn init(path: Option<PathBuf>) -> Option<WorkerGuard> {
    let path = path.or_else(crate::config::default_log_path)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    std::fs::create_dir_all(dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = EnvFilter::try_from_env("BRIGADE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "brigade started");
    Some(guard)
}
