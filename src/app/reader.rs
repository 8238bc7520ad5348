//! Terminal input on a thread of its own. crossterm's async `EventStream` (over mio,
//! edge-triggered) reads at most 1 KiB per wake-up: a typed burst longer than that
//! (a paste without bracketed paste, an input method, a fast macro) left the rest in
//! the tty until the next key. Here a thread makes blocking `read` calls (crossterm's
//! `use-dev-tty` source on unix, which polls level-triggered), so every byte that
//! arrives is read; the app loop takes what has queued and draws once.

use std::io;

use crossterm::event::Event;
use tokio::sync::mpsc;

/// Events read ahead of the app loop, at most (the thread waits when it is full).
const QUEUE: usize = 4096;

/// The receiving end of the input thread.
pub struct TermInput {
    rx: mpsc::Receiver<io::Result<Event>>,
}

impl TermInput {
    /// Starts the thread. It ends with the process (it is blocked in a read), or on a
    /// read error, which it passes on.
    pub fn start() -> io::Result<TermInput> {
        let (tx, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("terminal-input".into())
            .spawn(move || {
                loop {
                    let event = crossterm::event::read();
                    let failed = event.is_err();
                    if tx.blocking_send(event).is_err() || failed {
                        break;
                    }
                }
            })?;
        Ok(TermInput { rx })
    }

    /// The next event; `None` once the thread has ended.
    pub async fn next(&mut self) -> Option<io::Result<Event>> {
        self.rx.recv().await
    }

    /// An event that is already waiting, without waiting.
    pub fn ready_now(&mut self) -> Option<io::Result<Event>> {
        self.rx.try_recv().ok()
    }
}
