//! The `brigade` binary: parse flags, run the chosen front end, report.

use std::process::ExitCode;

use brigade::app::{Failure, tui};
use brigade::config::{Args, Settings};
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
        Err(Failure::TerminalGone) => ExitCode::from(129),
    }
}

/// How long `--doctor` listens.
const DOCTOR_LISTEN: std::time::Duration = std::time::Duration::from_secs(4);

/// `--invite`: this brigade's addresses, port, team (and key) as one line, and on a
/// terminal as a QR code.
fn print_invite(settings: &Settings) -> Result<(), Failure> {
    use std::io::IsTerminal;
    let (Some(team), Some(port)) = (settings.name.clone(), settings.port) else {
        return Err(Failure::Usage("--invite needs --name and --port".into()));
    };
    if port == 0 {
        return Err(Failure::Usage(
            "--invite needs the fixed port you will listen on, not 0".into(),
        ));
    }
    let mut addresses = brigade::discovery::local_addresses(settings.bind);
    if !settings.bind.is_unspecified() && addresses.is_empty() {
        addresses.push(settings.bind);
    }
    if addresses.is_empty() {
        addresses.push(settings.advertise_ip);
    }
    let keys = brigade::app::load_identity(settings, &team).map_err(Failure::Usage)?;
    let invite = brigade::discovery::invite::Invite {
        team,
        addresses,
        port,
        key: Some(keys.public),
    };
    println!("{invite}");
    if std::io::stdout().is_terminal() {
        match invite.qr() {
            Ok(qr) => print!("{qr}"),
            Err(e) => eprintln!("brigade: no QR code: {e}"),
        }
    }
    Ok(())
}

/// `--fingerprint`: the safety number to read aloud, and the key it stands for.
fn print_fingerprint(settings: &Settings) -> Result<(), Failure> {
    if settings.data_dir.is_none() && settings.name.is_none() {
        return Err(Failure::Usage(
            "--fingerprint needs --name TEAM or --data-dir DIR (the key lives there)".into(),
        ));
    }
    let team = settings.name.clone().unwrap_or_default();
    let keys = brigade::app::load_identity(settings, &team).map_err(Failure::Usage)?;
    println!("{}", keys.public.safety_number());
    println!("key {}", keys.public.hex());
    Ok(())
}

/// Runs brigade with parsed flags.
fn run(args: Args) -> Result<(), Failure> {
    let fingerprint = args.fingerprint;
    let settings = Settings::resolve(args).map_err(Failure::Usage)?;
    if settings.invite {
        return print_invite(&settings);
    }
    if fingerprint {
        return print_fingerprint(&settings);
    }
    let _log = brigade::logging::init(settings.log_file.clone());
    // One thread for all the async work (the listener, every connection, the session,
    // the front end): a received message then passes between tasks without waking
    // another thread, which cost a fifth of the CPU per message on a multi-threaded
    // runtime (README, Performance). Blocking work has threads of its own: the history
    // writer, history queries (spawn_blocking), the terminal's input, headless stdout.
    // What still blocks this thread, and so every connection's acknowledgement, for its
    // duration: drawing the screen (a terminal that does not read stalls it), and
    // handing writes to a history writer whose queue is full (backpressure). A stall
    // past a receipt's 10 s ends in resets, never in a false clean close.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Crash(e.into()))?;
    if settings.doctor {
        let findings = runtime.block_on(brigade::discovery::doctor::examine(
            settings.bind,
            brigade::discovery::beacon::BEACON_PORT,
            DOCTOR_LISTEN,
        ));
        print!("{}", findings.text());
        return Ok(());
    }
    if settings.headless {
        runtime.block_on(brigade::headless::run(settings))
    } else {
        runtime.block_on(tui::run(settings))
    }
}
