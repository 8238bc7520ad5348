//! The `brigade` binary: parse flags, run, report.

use std::process::ExitCode;

use brigade::app::{Failure, run};
use brigade::config::Args;
use clap::Parser;

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = color_eyre::install() {
        eprintln!("brigade: cannot install the error reporter: {e}");
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("brigade: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Crash(report)) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
