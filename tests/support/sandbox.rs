//! Every brigade a test starts runs in a sandbox: its own HOME and XDG directories in a
//! temp dir, so it never reads the user's config nor writes the user's data, state or
//! log, whatever the environment of `cargo test` holds. `.ci/run` proves it by running
//! the suite under a HOME with a hostile config and a sentinel history.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The environment variables a sandbox sets (all inside its temp dir).
pub const HOME_VARS: [&str; 6] = [
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
    "XDG_RUNTIME_DIR",
];

/// Variables of the caller's environment that would change how brigade behaves.
pub const CLEARED_VARS: [&str; 2] = ["BRIGADE_LOG", "NO_COLOR"];

/// A private home for one brigade process; removed on drop.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("brigade-test-")
            .tempdir()
            .unwrap();
        for sub in ["home", "config", "data", "state", "cache", "run"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory tests pass with `--data-dir` (not created: brigade does).
    pub fn data(&self) -> PathBuf {
        self.path().join("brigade-data")
    }

    /// The log file tests pass with `--log-file`.
    pub fn log(&self) -> PathBuf {
        self.path().join("brigade.log")
    }

    /// Where brigade looks for its config file when `--config` is not given.
    pub fn config_file(&self) -> PathBuf {
        self.path().join("config/brigade/config.toml")
    }

    /// (variable, value) pairs for the environment of a sandboxed process.
    pub fn vars(&self) -> Vec<(&'static str, PathBuf)> {
        let p = self.path();
        let subs = ["home", "config", "data", "state", "cache", "run"];
        HOME_VARS
            .iter()
            .zip(subs)
            .map(|(var, sub)| (*var, p.join(sub)))
            .collect()
    }

    /// `program` (brigade, or a wrapper such as `prlimit` that runs it) in this sandbox.
    pub fn command(&self, program: impl AsRef<OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        for var in CLEARED_VARS {
            cmd.env_remove(var);
        }
        cmd.envs(self.vars());
        cmd
    }

    /// The brigade binary in this sandbox.
    pub fn brigade(&self) -> std::process::Command {
        self.command(env!("CARGO_BIN_EXE_brigade"))
    }

    /// The brigade binary in this sandbox, for tokio.
    pub fn brigade_async(&self) -> tokio::process::Command {
        tokio::process::Command::from(self.brigade())
    }

    /// The brigade binary in this sandbox, for a pseudo-terminal.
    pub fn brigade_pty(&self) -> portable_pty::CommandBuilder {
        let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_brigade"));
        for var in CLEARED_VARS {
            cmd.env_remove(var);
        }
        for (var, value) in self.vars() {
            cmd.env(var, value);
        }
        cmd
    }
}
