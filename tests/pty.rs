//! The real binary in pseudo-terminals (portable-pty + vt100): two brigade TUIs talk
//! over loopback using only keys and the mouse; quitting restores the terminal. Waits
//! are on screen updates with a deadline, never fixed sleeps.
//!
//! Unix only: the harness opens ptys and signals the child with libc. (portable-pty
//! also drives Windows' ConPTY, but Windows binaries cannot run on the CI machine.)
#![cfg(unix)]

use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{ChildKiller, PtySize, native_pty_system};
use support::Sandbox;

mod support;

const WAIT: Duration = Duration::from_secs(15);
const COLS: u16 = 100;
const ROWS: u16 = 30;

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap()
}

const ENTER: &str = "\r";
const CTRL_C: &str = "\x03";
const CTRL_D: &str = "\x04";
const CTRL_K: &str = "\x0b";
const ALT_DOWN: &str = "\x1b[1;3B";

struct App {
    killer: Box<dyn ChildKiller + Send + Sync>,
    pid: i32,
    exited: Receiver<portable_pty::ExitStatus>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    updates: Receiver<()>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
    _sandbox: Sandbox,
}

impl App {
    fn start(args: &[&str]) -> App {
        Self::start_in(args, None)
    }

    /// Starts with a given data directory (to share one history between two).
    fn start_in(args: &[&str], data: Option<&std::path::Path>) -> App {
        let sandbox = Sandbox::new();
        let data = data.map_or_else(|| sandbox.data(), std::path::Path::to_path_buf);
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = sandbox.brigade_pty();
        cmd.args(args);
        cmd.arg("--log-file");
        cmd.arg(sandbox.log());
        cmd.arg("--data-dir");
        cmd.arg(&data);
        cmd.env("TERM", "xterm-256color");
        let mut child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let killer = child.clone_killer();
        let pid = child.process_id().unwrap() as i32;
        let (done, exited) = channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = done.send(status);
            }
        });
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(nz(ROWS), nz(COLS), 0)));
        let (tx, updates) = channel();
        let feed = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
                if tx.send(()).is_err() {
                    break;
                }
            }
        });
        App {
            killer,
            pid,
            exited,
            writer,
            screen,
            updates,
            _master: pair.master,
            _sandbox: sandbox,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen satisfies `pred`; fails with the screen if it never does.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            if pred(&self.contents()) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.updates.recv_timeout(left).is_err() && !pred(&self.contents())
            {
                panic!(
                    "timed out waiting for {what}; the screen:\n{}",
                    self.contents()
                );
            }
        }
    }

    /// Waits until the terminal's modes satisfy `pred` (as `wait_for` does the text).
    #[cfg(target_os = "linux")]
    fn wait_modes(&self, what: &str, pred: impl Fn(&vt100::Screen) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !pred(self.screen.lock().unwrap().screen()) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.updates.recv_timeout(left).is_err() {
                assert!(
                    pred(self.screen.lock().unwrap().screen()),
                    "timed out: {what}"
                );
                return;
            }
        }
    }

    /// Sends a signal to brigade.
    fn signal(&self, sig: i32) {
        // SAFETY: signalling our own child.
        assert_eq!(unsafe { libc::kill(self.pid, sig) }, 0);
    }

    /// Waits until brigade is stopped (job control): for the kernel's report to its
    /// parent (`waitid` with WSTOPPED), which WNOWAIT leaves in place, so the thread
    /// waiting for the exit still gets it.
    #[cfg(target_os = "linux")]
    fn wait_stopped(&self) {
        let pid = self.pid as libc::id_t;
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            // SAFETY: a zeroed siginfo_t is a valid value for waitid to fill in.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let flags = libc::WSTOPPED | libc::WNOWAIT;
            // SAFETY: `info` lives for the call; the pid is our own child.
            let result = unsafe { libc::waitid(libc::P_PID, pid, &mut info, flags) };
            let _ = tx.send((result, info.si_code));
        });
        match rx.recv_timeout(WAIT) {
            Ok((0, code)) if code == libc::CLD_STOPPED => {}
            other => panic!("brigade never stopped: {other:?}"),
        }
    }

    /// Ctrl+C with nothing pending: brigade quits at once, with success.
    fn quit(&mut self) {
        self.keys(CTRL_C);
        assert!(self.wait_exit().success());
    }

    fn wait_text(&self, text: &str) {
        self.wait_for(text, |s| s.contains(text));
    }

    fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// A left click (press and release, SGR mouse encoding) at a 0-based cell.
    fn click(&mut self, col: u16, row: u16) {
        let (x, y) = (col + 1, row + 1);
        self.keys(&format!("\x1b[<0;{x};{y}M\x1b[<0;{x};{y}m"));
    }

    /// Resizes the terminal (the pty, so brigade gets SIGWINCH) and our view of it.
    fn resize(&self, rows: u16, cols: u16) {
        self.screen.lock().unwrap().set_size(nz(rows), nz(cols));
        self._master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    /// The port this instance listens on, read from its status line.
    fn port(&self, team: &str) -> u16 {
        let marker = format!("{team} @ 127.0.0.1:");
        self.wait_text(&marker);
        let s = self.contents();
        let rest = &s[s.find(&marker).unwrap() + marker.len()..];
        rest.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    }

    /// The screen row where `text` first appears.
    fn row_of(&self, text: &str) -> u16 {
        self.contents()
            .lines()
            .position(|l| l.contains(text))
            .expect(text) as u16
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        match self.exited.recv_timeout(WAIT) {
            Ok(status) => {
                // Every byte written before the exit is read once the reader meets the
                // end of the terminal (its last writer is gone) and hangs up.
                let deadline = Instant::now() + WAIT;
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self.updates.recv_timeout(left) {
                        Ok(()) => {}
                        Err(RecvTimeoutError::Disconnected) => break status,
                        Err(RecvTimeoutError::Timeout) => {
                            panic!("the terminal stayed open after brigade exited")
                        }
                    }
                }
            }
            Err(_) => panic!("brigade did not exit:\n{}", self.contents()),
        }
    }

    /// The terminal modes brigade must give back: no alternate screen, no mouse
    /// reporting, no bracketed paste, a visible cursor.
    fn assert_restored(&self) {
        let parser = self.screen.lock().unwrap();
        let screen = parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert_eq!(screen.mouse_protocol_mode(), vt100::MouseProtocolMode::None);
        assert!(!screen.bracketed_paste(), "bracketed paste still on");
        assert!(!screen.hide_cursor(), "cursor still hidden");
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.killer.kill();
    }
}

fn start(team: &str, extra: &[&str]) -> App {
    let mut args = vec![
        "--name",
        team,
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
        "--advertise-ip",
        "127.0.0.1",
    ];
    args.extend_from_slice(extra);
    App::start(&args)
}

#[test]
fn two_tuis_chat_with_keys_and_the_mouse() {
    let mut a = start("A", &[]);
    let a_port = a.port("A");
    let peer = format!("127.0.0.1:{a_port}/A");
    let mut b = start("B", &["--peer", &peer]);
    let b_port = b.port("B");

    // B greeted A at start-up: B is Active at A.
    a.wait_text("B is active (first message)");
    a.wait_for("B Active in the list", |s| {
        s.lines().any(|l| l.contains("B") && l.contains("Active"))
    });

    // Ctrl+K: connect to active peers; B receives the connect text, A sees Connected.
    a.keys(CTRL_K);
    b.wait_for("the connection message at B", |s| {
        s.lines()
            .any(|l| l.contains(" A ") && l.contains("connection message"))
    });
    a.wait_for("B Connected at A", |s| {
        s.lines()
            .any(|l| l.contains("B") && l.contains("Connected"))
    });

    // A click on B's row selects it; the keyboard stays in the compose box.
    let row = a.row_of("127.0.0.1:") - 1; // B's team line is above its address line
    a.click(5, row);
    a.wait_text(&format!("To B (127.0.0.1:{b_port})"));
    a.keys("hello from A");
    a.keys(ENTER);
    b.wait_text("hello from A");
    a.wait_for("the delivered mark", |s| {
        s.lines()
            .any(|l| l.contains("hello from A") && l.contains('✓'))
    });

    // B answers by keys only: Alt+Down selects A, then type and Enter.
    b.keys(ALT_DOWN);
    b.wait_text(&format!("To A (127.0.0.1:{a_port})"));
    b.keys("hi back from B");
    b.keys(ENTER);
    a.wait_text("hi back from B");

    // Ctrl+D asks first; Esc keeps the peer, y disconnects: B sees exit, then A leave.
    a.keys(CTRL_D);
    a.wait_text("Disconnect B at");
    a.keys("\x1b");
    a.wait_for("the question gone", |s| !s.contains("Disconnect B at"));
    a.keys(CTRL_D);
    a.wait_text("Disconnect B at");
    a.keys("y");
    b.wait_text("A left");
    a.wait_text("you left B");
    a.wait_for("exit delivered", |s| {
        s.lines()
            .any(|l| l.contains("you→B") && l.contains("exit") && l.contains('✓'))
    });

    // Ctrl+C quits (nothing pending) and gives the terminal back.
    a.keys(CTRL_C);
    let status = a.wait_exit();
    assert!(status.success(), "{status:?}");
    a.assert_restored();
}

#[test]
fn sigterm_restores_the_terminal() {
    let mut a = start("A", &[]);
    a.wait_text("A @ 127.0.0.1:");
    a.signal(libc::SIGTERM);
    a.wait_exit();
    a.assert_restored();
}

/// Ctrl+C as a signal (`kill -INT`; in raw mode the key is a key) quits cleanly too.
#[test]
fn sigint_restores_the_terminal() {
    let mut a = start("A", &[]);
    a.wait_text("A @ 127.0.0.1:");
    a.signal(libc::SIGINT);
    a.wait_exit();
    a.assert_restored();
}

/// Ctrl+Z and a SIGTSTP from outside both give the terminal back and stop brigade;
/// SIGCONT (what `fg` sends) takes the terminal again, and brigade still answers keys.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_z_and_sigtstp_suspend_and_resume() {
    let mut a = start("A", &[]);
    a.wait_text("A @ 127.0.0.1:");
    for how in ["key", "signal"] {
        if how == "key" {
            a.keys("\x1a");
        } else {
            a.signal(libc::SIGTSTP);
        }
        a.wait_modes(&format!("{how}: terminal given back"), |s| {
            !s.alternate_screen() && s.mouse_protocol_mode() == vt100::MouseProtocolMode::None
        });
        a.wait_stopped();
        a.signal(libc::SIGCONT);
        a.wait_modes(&format!("{how}: terminal taken again"), |s| {
            s.alternate_screen() && s.contents().contains("A @ 127.0.0.1:")
        });
    }
    a.keys(CTRL_C);
    a.wait_exit();
    a.assert_restored();
}

/// Ctrl+C with a message still undelivered asks, then waits for it (saying so); the peer comes
/// up during the wait, gets it, and only then does brigade exit.
#[test]
fn quitting_waits_for_undelivered_messages() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let later = support::Refusing::new();
    let peer = format!("{}/C", later.addr);
    // The start-up greeting to C cannot be delivered yet.
    let mut a = start("A", &["--peer", &peer]);
    a.wait_text("A @ 127.0.0.1:");
    // It asks first; Esc stays, y quits once the message is delivered.
    a.keys(CTRL_C);
    a.wait_text("1 message not delivered yet: quit anyway?");
    a.keys("\x1b");
    a.wait_for("the question gone", |s| !s.contains("quit anyway?"));
    a.keys(CTRL_C);
    a.wait_text("1 message not delivered yet: quit anyway?");
    a.keys("y");
    a.wait_text("quitting once 1 message(s) are delivered");
    let mut c = runtime.block_on(async { later.listen(None) });
    let greeting = runtime.block_on(c.next_text());
    assert!(greeting.contains(" A "), "{greeting}");
    let status = a.wait_exit();
    assert!(status.success(), "{status:?}");
    a.assert_restored();
}

/// A hangup (the terminal window closed) ends brigade and gives the terminal back;
/// the draft on screen is saved, as on a quit.
#[test]
fn sighup_restores_the_terminal() {
    let shared = tempfile::tempdir().unwrap();
    let args = ["--name", "A", "--port", "0", "--bind", "127.0.0.1"];
    let mut a = App::start_in(&args, Some(shared.path()));
    a.wait_text("A @ 127.0.0.1:");
    a.keys("said before the hangup");
    a.wait_text("> said before the hangup");
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(a.pid, libc::SIGHUP);
    }
    a.wait_exit();
    a.assert_restored();
    let again = App::start_in(&args, Some(shared.path()));
    again.wait_text("> said before the hangup");
}

#[test]
fn the_startup_form_asks_and_validates_in_place() {
    let mut a = App::start(&["--bind", "127.0.0.1", "--advertise-ip", "127.0.0.1"]);
    a.wait_text("Start brigade");
    a.keys("my team");
    a.keys(ENTER);
    a.keys(ENTER);
    a.wait_text("has spaces");
    // Back to the name, fix it, then give a port.
    a.keys("\x15"); // Ctrl+U: clear the field
    a.keys("Lab7");
    a.keys(ENTER);
    a.keys("0");
    a.keys(ENTER);
    a.wait_text("Lab7 @ 127.0.0.1:");
    a.quit();
    a.assert_restored();
}

#[test]
fn a_taken_port_is_reported_in_the_form() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut a = App::start(&["--name", "A", "--port", &port, "--bind", "127.0.0.1"]);
    a.wait_text(&format!("port {port} is taken"));
    // The port field is focused: choose another port in place (0, a free one). Not the
    // same port after freeing it: a concurrent test's connection may take it meanwhile.
    a.keys(&"\x7f".repeat(port.len()));
    a.keys("0");
    a.keys(ENTER);
    a.wait_text("A @ ");
    assert!(!a.contents().contains(&format!("A @ 127.0.0.1:{port}")));
    a.quit();
    drop(taken);
}

#[test]
fn resizing_redraws_and_tiny_windows_get_a_notice() {
    let a = start("A", &[]);
    a.wait_text("A @ 127.0.0.1:");
    a.resize(8, 30);
    a.wait_text("brigade needs at least");
    a.resize(ROWS, COLS);
    a.wait_text("A @ 127.0.0.1:");
}

/// A terminal that vanishes without a SIGHUP (its pty closed under us, and it was not
/// our controlling terminal) must end brigade, not leave it spinning. Linux: the
/// watcher that ensures it is Linux-only (see `terminal.rs`). The draft on screen is
/// saved on the way out, as on any other exit.
#[cfg(target_os = "linux")]
#[test]
fn a_vanished_terminal_ends_brigade() {
    use std::os::fd::FromRawFd;
    use std::os::unix::process::CommandExt;

    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: ROWS,
        ws_col: COLS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty fills two fds; the null pointers ask for no name and no termios.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0);
    // The child must not inherit the master, or the pty never closes.
    // SAFETY: setting a flag on an fd we own.
    unsafe {
        libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    let sandbox = Sandbox::new();
    // SAFETY: the fds were just created and are owned here.
    let (stdin, stdout) = unsafe {
        (
            std::fs::File::from_raw_fd(slave),
            std::fs::File::from_raw_fd(libc::dup(slave)),
        )
    };
    let data = sandbox.data();
    let mut cmd = sandbox.brigade();
    cmd.args(["--name", "A", "--port", "0", "--bind", "127.0.0.1"])
        .arg("--data-dir")
        .arg(&data)
        .arg("--log-file")
        .arg(sandbox.log())
        .env("TERM", "xterm-256color")
        .stdin(stdin)
        .stdout(stdout)
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid is async-signal-safe.
    let mut child = unsafe {
        cmd
            // A new session with no controlling terminal: closing the pty sends no SIGHUP.
            .pre_exec(|| {
                libc::setsid();
                Ok(())
            })
            .spawn()
            .unwrap()
    };
    // SAFETY: master is ours; reading it (each read awaited under the deadline) until
    // the UI is drawn.
    let mut master_file = unsafe { std::fs::File::from_raw_fd(master) };
    let mut screen = vt100::Parser::new(nz(ROWS), nz(COLS), 0);
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + WAIT;
    let mut typed = false;
    while !screen
        .screen()
        .contents()
        .contains("> kept when the window closed")
    {
        if !typed && screen.screen().contents().contains("A @") {
            master_file
                .write_all(b"kept when the window closed")
                .unwrap();
            typed = true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let mut poll = libc::pollfd {
            fd: master,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, left.as_millis() as libc::c_int) };
        if ready == 0 {
            let _ = child.kill();
            panic!(
                "brigade drew nothing in {WAIT:?}:\n{}",
                screen.screen().contents()
            );
        }
        let n = master_file.read(&mut buf).unwrap();
        assert!(n > 0, "brigade closed its terminal before drawing");
        screen.process(&buf[..n]);
    }
    drop(master_file);
    let (done, exited) = channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    let status = exited
        .recv_timeout(WAIT)
        .expect("brigade kept running without its terminal")
        .unwrap();
    assert_eq!(status.code(), Some(129));
    let again = App::start_in(
        &["--name", "A", "--port", "0", "--bind", "127.0.0.1"],
        Some(&data),
    );
    again.wait_text("> kept when the window closed");
}

/// A second brigade on a history another one has open is told so in the start-up form,
/// on the team field, and starts once it picks a history of its own.
#[test]
fn a_history_in_use_is_reported_in_the_form() {
    let shared = tempfile::tempdir().unwrap();
    let a = App::start_in(
        &[
            "--name",
            "A",
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--advertise-ip",
            "127.0.0.1",
        ],
        Some(shared.path()),
    );
    a.wait_text("A @ 127.0.0.1:");
    let mut b = App::start_in(
        &[
            "--name",
            "A",
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--advertise-ip",
            "127.0.0.1",
        ],
        Some(shared.path()),
    );
    b.wait_text("already runs with this history");
    b.quit();
    b.assert_restored();
}

/// A paste well over 1 024 bytes goes into the compose box whole, and the keys typed
/// after it are not stalled. The mouse is reported on button events
/// (1002) in SGR form, not on every motion (1003), so plain drags select text.
#[test]
fn a_paste_over_1024_bytes_does_not_stall_input() {
    let mut a = start("A", &[]);
    a.wait_text("A @ 127.0.0.1:");
    {
        let screen = a.screen.lock().unwrap();
        let screen = screen.screen();
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::ButtonMotion
        );
        assert_eq!(
            screen.mouse_protocol_encoding(),
            vt100::MouseProtocolEncoding::Sgr
        );
    }
    a.keys(&format!("\x1b[200~{}\x1b[201~", "p".repeat(3000)));
    a.keys("QRS");
    a.wait_text("pQRS");
    a.quit();
    a.assert_restored();
}

/// Typed input (no bracketed paste: an input method, a macro, a terminal without the
/// mode) over 1 024 bytes in one burst is read whole at once: the last characters show
/// without another key to wake the reader (crossterm's edge-triggered source left
/// them in the tty until the next key).
#[test]
fn a_typed_burst_over_1024_bytes_is_read_whole() {
    let mut a = start("A", &[]);
    a.wait_text("A @ 127.0.0.1:");
    a.keys(&format!("{}XYZ", "t".repeat(3000)));
    a.wait_text("tXYZ");
    a.quit();
    a.assert_restored();
}

/// Ctrl+F, Enter shows the newest hit in its conversation; n and Shift+N go from hit to
/// hit; Esc returns to the conversation the search started from.
#[test]
fn search_hits_are_gone_through_with_n_and_esc_returns() {
    let mut a = start("A", &[]);
    let a_port = a.port("A");
    let peer = format!("127.0.0.1:{a_port}/A");
    let mut b = start("B", &["--peer", &peer]);
    a.wait_text("B is active (first message)");
    b.keys(ALT_DOWN);
    b.wait_text(&format!("To A (127.0.0.1:{a_port})"));
    for text in ["the lab at five", "filler", "lab moved to six"] {
        b.keys(text);
        b.keys(ENTER);
        a.wait_text(text);
    }
    // Searching from "All peers".
    a.wait_text("All peers · 1 peer");
    a.keys("\x06lab");
    a.wait_text("lab moved to six");
    // A hit's sender is padded to 12 cells (then 2 spaces), unlike the log's column.
    let hit = |text: &str| format!("B{}{text}", " ".repeat(13));
    a.wait_for("both hits listed", |s| {
        s.contains(&hit("the lab at five")) && s.contains(&hit("lab moved to six"))
    });
    a.keys(ENTER);
    a.wait_text("hit 1 of 2");
    a.wait_for("B's conversation", |s| !s.contains("All peers · 1 peer"));
    a.keys("n");
    a.wait_text("hit 2 of 2");
    a.keys("N");
    a.wait_text("hit 1 of 2");
    a.keys("\x1b");
    a.wait_for("back in All peers", |s| {
        s.contains("All peers · 1 peer") && !s.contains("hit 1 of 2")
    });
    a.quit();
}

/// A draft outlives brigade: typed, not sent, quit; the next start on the same history
/// has it back in the compose box. A run with --no-history keeps its drafts in memory.
#[test]
fn a_draft_is_kept_across_a_restart() {
    let shared = tempfile::tempdir().unwrap();
    let args = [
        "--name",
        "A",
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
        "--advertise-ip",
        "127.0.0.1",
    ];
    let mut a = App::start_in(&args, Some(shared.path()));
    a.wait_text("A @ 127.0.0.1:");
    a.keys("half a thought");
    a.wait_text("half a thought");
    a.quit();
    let mut again = App::start_in(&args, Some(shared.path()));
    again.wait_text("A @ 127.0.0.1:");
    again.wait_text("> half a thought");
    again.quit();

    // --no-history neither reads nor writes drafts.
    let mut memory_only = args.to_vec();
    memory_only.push("--no-history");
    let mut memory = App::start_in(&memory_only, Some(shared.path()));
    memory.wait_text("Type a message");
    memory.keys("not kept");
    memory.wait_text("> not kept");
    memory.quit();
    let mut last = App::start_in(&args, Some(shared.path()));
    last.wait_text("> half a thought");
    last.quit();
}

/// Alt+Enter starts a new line in the compose box; Enter sends the message, one line
/// per message. A line that looks like a header arrives as text from its real sender.
#[test]
fn a_message_of_several_lines_arrives_line_by_line_from_its_sender() {
    let mut a = start("A", &[]);
    let a_port = a.port("A");
    let peer = format!("127.0.0.1:{a_port}/A");
    let b = start("B", &["--peer", &peer]);
    a.wait_text("B is active (first message)");
    a.keys(ALT_DOWN);
    a.wait_text("To B (127.0.0.1:");
    a.keys("first line");
    a.keys("\x1b\r");
    a.keys("127.0.0.1:9 Mallory forged");
    // The compose box grew a row for the second line.
    a.wait_for("both lines in the compose box", |s| {
        s.lines().any(|l| l.contains("> first line"))
            && s.lines()
                .any(|l| l.contains("  127.0.0.1:9 Mallory forged"))
    });
    a.keys(ENTER);
    b.wait_text("127.0.0.1:9 Mallory forged");
    b.wait_text("first line");
    let screen = b.contents();
    let forged = screen
        .lines()
        .find(|l| l.contains("Mallory forged"))
        .unwrap();
    assert!(forged.contains(" A "), "from A, not Mallory: {screen}");
    assert!(screen.contains("Peers (1)"), "no peer Mallory: {screen}");
    a.wait_for("both lines delivered", |s| {
        s.lines()
            .filter(|l| l.contains("line") || l.contains("forged"))
            .all(|l| l.contains('✓'))
    });
    a.quit();
}

/// Issue 16: F2 opens the doctor view in the real TUI, written from the running
/// session (here discovery is off: a loopback bind reaches nobody), and Esc closes it.
#[test]
fn f2_shows_the_doctor_view_and_esc_closes_it() {
    let mut a = start("A", &[]);
    a.port("A");
    a.keys("\x1bOQ"); // F2
    a.wait_text("Doctor: why can't I see a peer?");
    a.wait_text("mDNS socket: off");
    a.wait_text("discovery is off");
    a.keys("\x1b");
    a.wait_for("the doctor view closed", |s| !s.contains("Doctor:"));
}
