//! The terminal guard: raw mode, the alternate screen, mouse capture and bracketed
//! paste (not on Windows) on entry; all undone on drop, on panic (before the panic
//! report is printed, so it is readable) and on suspend. Signals end the app loop,
//! which drops it.
//!
//! Portable; what is not lives in a `cfg` module of its own: `unix` (job control and
//! the unix signals of [`Signals`]), `windows` (the console events) and `linux` (the
//! watcher for a terminal that went away without a SIGHUP).

use std::io::{self, IsTerminal, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::DisableMouseCapture;
#[cfg(windows)]
use crossterm::event::EnableMouseCapture;
#[cfg(not(windows))]
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;

use crate::config::Notify;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

/// Whether the terminal is currently in brigade's mode (so restoring twice is harmless).
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();
/// Told by the hangup watcher that the terminal is gone: the app loop ends as on a
/// quit signal, so the draft on screen is saved and the history flushed.
static GONE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Whether the terminal went away: the app loop may have ended on a failed read or
/// write to it first, which is then no crash. Linux only (see `watch_for_hangup`).
pub fn gone() -> bool {
    #[cfg(target_os = "linux")]
    let gone = linux::hung_up();
    #[cfg(not(target_os = "linux"))]
    let gone = false;
    gone
}

pub struct TerminalGuard(());

impl TerminalGuard {
    /// Takes over the terminal. Fails with a clear message when there is none.
    pub fn enter() -> io::Result<TerminalGuard> {
        if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
            return Err(io::Error::other(
                "the chat screen needs a terminal; for pipes and scripts use --headless",
            ));
        }
        HOOK.call_once(|| {
            #[cfg(target_os = "linux")]
            linux::watch_for_hangup();
            restore_on_panic();
        });
        enable()?;
        Ok(TerminalGuard(()))
    }

    /// Ctrl+Z or SIGTSTP: give the terminal back, stop (as the shell expects), take it
    /// again when resumed with `fg`. Windows consoles have no job control: nothing to do.
    pub fn suspend(&mut self) -> io::Result<()> {
        #[cfg(unix)]
        {
            restore()?;
            unix::stop();
            enable()
        }
        #[cfg(not(unix))]
        Ok(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = restore();
    }
}

fn enable() -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), EnterAlternateScreen)?;
    enable_mouse()?;
    // Not on Windows: crossterm reads the console's key records there and never makes
    // a paste event (crossterm-rs/crossterm#737), legacy consoles refuse the mode
    // outright, and with it on some terminals add Ctrl to every pasted Enter
    // (crossterm-rs/crossterm#962). A paste arrives as plain keys instead.
    #[cfg(not(windows))]
    execute!(io::stdout(), EnableBracketedPaste)?;
    Ok(())
}

/// Button-event tracking (1002: clicks, drags with a button held, the wheel) in SGR
/// form (1006), not crossterm's any-motion tracking (1003), which makes most terminals
/// need a modifier for plain text selection. `DisableMouseCapture` undoes either.
#[cfg(not(windows))]
fn enable_mouse() -> io::Result<()> {
    let mut out = io::stdout();
    out.write_all(MOUSE_ON)?;
    out.flush()
}

#[cfg(not(windows))]
pub const MOUSE_ON: &[u8] = b"\x1b[?1000h\x1b[?1002h\x1b[?1006h";

/// The console API has no tracking modes; crossterm's capture is the only one.
#[cfg(windows)]
fn enable_mouse() -> io::Result<()> {
    execute!(io::stdout(), EnableMouseCapture)
}

/// Chains a panic hook that gives the terminal back before the panic is reported.
fn restore_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = restore();
        previous(info);
    }));
}

/// Undoes everything `enable` did. Safe to call any number of times.
pub fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let raw = disable_raw_mode();
    let mut out = io::stdout();
    #[cfg(not(windows))]
    let paste = execute!(out, DisableBracketedPaste);
    #[cfg(windows)]
    let paste = Ok(());
    let modes = execute!(
        out,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
    raw.and(paste).and(modes)
}

/// The OSC 52 sequence that puts `text` on the system clipboard: the terminal does
/// it, so it works over SSH too (where the terminal allows it).
pub fn osc52(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut seq = b"\x1b]52;c;".to_vec();
    seq.extend_from_slice(encoded.as_bytes());
    seq.extend_from_slice(b"\x1b\\");
    seq
}

/// Puts `text` on the clipboard through the terminal (OSC 52).
pub fn copy_to_clipboard(text: &str) {
    let mut out = io::stdout();
    let _ = out.write_all(&osc52(text));
    let _ = out.flush();
}

/// The most characters of a message a desktop notification shows.
const NOTIFY_TEXT: usize = 100;
/// The most characters of a team name in a notification.
const NOTIFY_TEAM: usize = 24;

/// Remote text made safe inside an OSC string: control characters (ESC, BEL, line
/// breaks, C1) become spaces, runs of spaces one, at most `max` characters (`…` when cut).
fn notify_text(text: &str, max: usize) -> String {
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let one_line = words.join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// What the terminal is sent for a message from `team` that is not on screen: the
/// bell, an OSC 9 or OSC 777 desktop notification, or nothing.
pub fn notification(mode: Notify, team: &str, text: &str) -> Vec<u8> {
    let body = notify_text(text, NOTIFY_TEXT);
    match mode {
        Notify::Off => Vec::new(),
        Notify::Bell => b"\x07".to_vec(),
        Notify::Osc9 => {
            let team = notify_text(team, NOTIFY_TEAM);
            format!("\x1b]9;brigade: {team}: {body}\x07").into_bytes()
        }
        Notify::Osc777 => {
            // `;` separates the fields: none in the title.
            let team = notify_text(team, NOTIFY_TEAM).replace(';', " ");
            format!("\x1b]777;notify;brigade: {team};{body}\x07").into_bytes()
        }
    }
}

/// Announces a message that is not on screen the way `--notify` says.
pub fn notify(mode: Notify, team: &str, text: &str) {
    let mut out = io::stdout();
    let _ = out.write_all(&notification(mode, team, text));
    let _ = out.flush();
}

/// Why the app loop was interrupted from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// End brigade (the caller's normal exit restores the terminal and flushes the
    /// history): Ctrl+C sent as a signal, SIGTERM, SIGHUP, or on Windows the console
    /// window closing, the user logging off, the system shutting down.
    Quit(&'static str),
    /// SIGTSTP from outside (`kill -TSTP`): suspend as Ctrl+Z does.
    Suspend,
    /// The terminal went away without a SIGHUP (its pty closed under us): end as
    /// `Quit` does, and exit with 129 as a hangup would.
    Gone,
}

/// The signals and console events the app loop listens to, per platform. In raw mode
/// Ctrl+C reaches brigade as a key, on unix and Windows alike; the signal is for
/// `kill -INT` and the like.
pub struct Signals {
    #[cfg(unix)]
    unix: unix::Signals,
    #[cfg(windows)]
    windows: windows::Signals,
}

impl Signals {
    /// Registers the handlers (needs a tokio runtime).
    pub fn new() -> io::Result<Signals> {
        Ok(Signals {
            #[cfg(unix)]
            unix: unix::Signals::new()?,
            #[cfg(windows)]
            windows: windows::Signals::new()?,
        })
    }

    /// The next interrupt.
    pub async fn recv(&mut self) -> Interrupt {
        let interrupt = tokio::select! {
            interrupt = self.signal() => interrupt,
            () = GONE.notified() => Interrupt::Gone,
        };
        tracing::info!(?interrupt, "interrupted");
        interrupt
    }

    async fn signal(&mut self) -> Interrupt {
        #[cfg(unix)]
        let interrupt = self.unix.recv().await;
        #[cfg(windows)]
        let interrupt = self.windows.recv().await;
        #[cfg(not(any(unix, windows)))]
        let interrupt = std::future::pending().await;
        interrupt
    }
}

#[cfg(unix)]
mod unix {
    use std::io;

    use tokio::signal::unix::{Signal, SignalKind, signal};

    use super::Interrupt;

    pub struct Signals {
        int: Signal,
        term: Signal,
        hup: Signal,
        tstp: Signal,
    }

    impl Signals {
        pub fn new() -> io::Result<Signals> {
            Ok(Signals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
                tstp: signal(SignalKind::from_raw(libc::SIGTSTP))?,
            })
        }

        pub async fn recv(&mut self) -> Interrupt {
            tokio::select! {
                _ = self.int.recv() => Interrupt::Quit("SIGINT"),
                _ = self.term.recv() => Interrupt::Quit("SIGTERM"),
                _ = self.hup.recv() => Interrupt::Quit("SIGHUP"),
                _ = self.tstp.recv() => Interrupt::Suspend,
            }
        }
    }

    /// Stops the process until SIGCONT. SIGSTOP, not SIGTSTP: once [`Signals`] listens
    /// for SIGTSTP its default action (stopping) is gone for good, and SIGSTOP cannot
    /// be caught. The shell reports the job as stopped either way.
    pub fn stop() {
        // SAFETY: raising a signal on our own process has no memory-safety concerns.
        unsafe {
            libc::raise(libc::SIGSTOP);
        }
    }
}

/// Windows: the console's close, log-off and shutdown events end brigade like SIGHUP
/// and SIGTERM do. tokio's handler for them never returns (tokio 1.54,
/// `signal/windows/sys.rs`: returning would let Windows terminate the process at
/// once), so the app loop gets to restore the console and flush the history until
/// Windows' own timeout (5 s for a closed window, per Microsoft's `HandlerRoutine`
/// documentation). This is also all Windows needs in place of the Linux hangup
/// watcher: a closed console window or pseudo console sends CTRL_CLOSE_EVENT to the
/// processes attached to it, where a closed pty on Linux may send nothing.
#[cfg(windows)]
mod windows {
    use std::io;

    use tokio::signal::windows::{
        CtrlBreak, CtrlC, CtrlClose, CtrlLogoff, CtrlShutdown, ctrl_break, ctrl_c, ctrl_close,
        ctrl_logoff, ctrl_shutdown,
    };

    use super::Interrupt;

    pub struct Signals {
        ctrl_c: CtrlC,
        close: CtrlClose,
        shutdown: CtrlShutdown,
        logoff: CtrlLogoff,
        ctrl_break: CtrlBreak,
    }

    impl Signals {
        pub fn new() -> io::Result<Signals> {
            Ok(Signals {
                ctrl_c: ctrl_c()?,
                close: ctrl_close()?,
                shutdown: ctrl_shutdown()?,
                logoff: ctrl_logoff()?,
                ctrl_break: ctrl_break()?,
            })
        }

        pub async fn recv(&mut self) -> Interrupt {
            tokio::select! {
                _ = self.ctrl_c.recv() => Interrupt::Quit("Ctrl+C"),
                _ = self.close.recv() => Interrupt::Quit("console closed"),
                _ = self.shutdown.recv() => Interrupt::Quit("system shutdown"),
                _ = self.logoff.recv() => Interrupt::Quit("user logoff"),
                _ = self.ctrl_break.recv() => Interrupt::Quit("Ctrl+Break"),
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::sync::atomic::Ordering;

    use super::ACTIVE;

    /// Whether the terminal has hung up, asked now without waiting.
    pub fn hung_up() -> bool {
        let mut fd = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: 0,
            revents: 0,
        };
        // SAFETY: one valid pollfd, count 1, no waiting.
        let n = unsafe { libc::poll(&mut fd, 1, 0) };
        n > 0 && fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
    }

    /// How long the app loop has to end by itself once the terminal is gone: more
    /// than the history's bounded flush on exit (5 s).
    const GRACE: std::time::Duration = std::time::Duration::from_secs(10);

    /// Ends brigade if the terminal goes away without a SIGHUP (its pty closed under
    /// us). crossterm 0.29 spins on a terminal that reads end-of-file, inside the read
    /// of the input thread, so no input ever says so: a thread blocked in `poll` with
    /// no events asked wakes only on hangup or error and costs nothing meanwhile. It
    /// tells the app loop ([`GONE`](super::GONE)), which ends as on SIGHUP and saves
    /// the draft on screen; should the loop not end within [`GRACE`] (it is not
    /// running yet, or is stuck), the watcher exits the process itself. Linux only: Darwin's poll(2) does not support
    /// terminal devices (https://nathancraddock.com/blog/macos-dev-tty-polling; gnulib's
    /// poll notes list ttys on Mac OS X), so there the watcher could fire at once or
    /// never; on macOS, as on the BSDs, the SIGHUP a closing terminal sends ends brigade.
    pub fn watch_for_hangup() {
        let spawned = std::thread::Builder::new()
            .name("hangup-watch".into())
            .spawn(|| {
                let mut fd = libc::pollfd {
                    fd: libc::STDIN_FILENO,
                    events: 0,
                    revents: 0,
                };
                loop {
                    // SAFETY: one valid pollfd, count 1; blocks until hangup or error.
                    let n = unsafe { libc::poll(&mut fd, 1, -1) };
                    if n < 0 {
                        if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                            continue;
                        }
                        return;
                    }
                    if fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                        tracing::warn!("the terminal went away; saving and exiting");
                        // Nothing to give back: restoring would write to a dead pty.
                        ACTIVE.store(false, Ordering::SeqCst);
                        super::GONE.notify_one();
                        std::thread::sleep(GRACE);
                        tracing::warn!("brigade did not end in {GRACE:?}; exiting");
                        std::process::exit(129);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot watch the terminal for hangups");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notify_mode_writes_its_exact_sequence() {
        assert_eq!(notification(Notify::Off, "B", "hi"), b"");
        assert_eq!(notification(Notify::Bell, "B", "hi"), b"\x07");
        assert_eq!(
            notification(Notify::Osc9, "B", "hi there"),
            b"\x1b]9;brigade: B: hi there\x07"
        );
        assert_eq!(
            notification(Notify::Osc777, "B", "hi; there"),
            b"\x1b]777;notify;brigade: B;hi; there\x07"
        );
    }

    #[test]
    fn notifications_carry_no_control_characters_and_are_bounded() {
        let hostile = "a\x1b]52;c;AAAA\x07b\nc\u{9b}2J";
        let seq = notification(Notify::Osc9, "T\x07;x", hostile);
        let inner = &seq[2..seq.len() - 1];
        assert!(!inner.iter().any(|b| *b < 0x20 || *b == 0x7f), "{seq:?}");
        let text = String::from_utf8(seq).unwrap();
        assert!(!text.contains('\u{9b}'), "{text:?}");
        assert_eq!(text, "\x1b]9;brigade: T ;x: a ]52;c;AAAA b c 2J\x07");
        // OSC 777: no `;` in the title, which would shift the fields.
        let seq = notification(Notify::Osc777, "T;x", "hi");
        assert_eq!(seq, b"\x1b]777;notify;brigade: T x;hi\x07");
        let long = "word ".repeat(100);
        let text = String::from_utf8(notification(Notify::Osc9, "B", &long)).unwrap();
        let body = text.strip_prefix("\x1b]9;brigade: B: ").unwrap();
        assert_eq!(body.chars().count(), NOTIFY_TEXT + 1, "{body:?}");
        assert!(body.ends_with("…\x07"));
    }

    #[test]
    fn osc52_is_base64_between_the_introducer_and_the_string_terminator() {
        assert_eq!(osc52("hi"), b"\x1b]52;c;aGk=\x1b\\".to_vec());
        assert_eq!(osc52("é\n"), b"\x1b]52;c;w6kK\x1b\\".to_vec());
        assert_eq!(osc52(""), b"\x1b]52;c;\x1b\\".to_vec());
    }

    /// The hook restores (and so marks the terminal given back) before the report.
    #[test]
    fn a_panic_gives_the_terminal_back() {
        restore_on_panic();
        ACTIVE.store(true, Ordering::SeqCst);
        let result = std::panic::catch_unwind(|| panic!("on purpose, in a test"));
        assert!(result.is_err());
        assert!(
            !ACTIVE.load(Ordering::SeqCst),
            "the panic hook left the terminal in brigade's mode"
        );
    }
}
