//! The terminal guard: raw mode, the alternate screen, mouse capture and bracketed
//! paste on entry; all four undone on drop, on panic (before the panic report is
//! printed, so it is readable) and on suspend. Signals end the app loop, which drops it.

use std::io::{self, IsTerminal, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

/// Whether the terminal is currently in brigade's mode (so restoring twice is harmless).
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

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
            watch_for_hangup();
            restore_on_panic();
        });
        enable()?;
        Ok(TerminalGuard(()))
    }

    /// Ctrl+Z: give the terminal back, stop (as the shell expects), take it again
    /// when resumed with `fg`.
    pub fn suspend(&mut self) -> io::Result<()> {
        restore()?;
        // SAFETY: raising a signal on our own process has no memory-safety concerns.
        unsafe {
            libc::raise(libc::SIGTSTP);
        }
        enable()
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
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )
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
    let modes = execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
    raw.and(modes)
}

/// Ends the process if the terminal goes away without a SIGHUP (its pty closed under
/// us). crossterm 0.29 spins on a terminal that reads end-of-file, inside the poll the
/// app loop is waiting on, so nothing in the loop could react: a thread blocked in
/// `poll` with no events asked wakes only on hangup or error, costs nothing meanwhile,
/// and exits. (What brigade stores is committed as it arrives, so exiting loses nothing.)
fn watch_for_hangup() {
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
                    tracing::warn!("the terminal went away; exiting");
                    ACTIVE.store(false, Ordering::SeqCst);
                    std::process::exit(129);
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot watch the terminal for hangups");
    }
}

/// Rings the terminal bell.
pub fn bell() {
    let mut out = io::stdout();
    let _ = out.write_all(b"\x07");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

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
