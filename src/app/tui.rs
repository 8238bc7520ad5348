//! The terminal front end. It waits on terminal input, the session and signals; turns
//! keys and the mouse into actions; draws once if anything changed. Nothing ticks: an
//! idle brigade sleeps.

use std::io;

use chrono::Local;
use crossterm::event::Event as TermEvent;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use tokio::net::TcpListener;

use super::reader::TermInput;
use super::{Failure, HistoryOpen, Session, Setup, crash, open_history};
use crate::config::Notify;
use crate::config::Settings;
use crate::event::{Action, Effect};
use crate::input::{Context, action_for, key_action_in};
use crate::net::{Limits, Stats, bind_listener};
use crate::store::{Form, ScreenAction};
use crate::terminal::{Interrupt, Signals, TerminalGuard, copy_to_clipboard, notify};
use crate::ui::{self, Theme};

/// Most queued events handled before drawing again (a burst is drawn once).
const DRAIN: usize = 1024;

type Term = Terminal<CrosstermBackend<io::Stdout>>;

pub async fn run(settings: Settings) -> Result<(), Failure> {
    let theme = Theme::from_env().with_palette(settings.theme);
    crate::keymap::install(settings.keys.keymap());
    let mut guard = TerminalGuard::enter().map_err(|e| Failure::Usage(e.to_string()))?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout())).map_err(crash)?;
    let mut input = TermInput::start().map_err(crash)?;

    let limits = Limits::with_sources(settings.source_rate, settings.source_quota_mib);
    let Some((listener, team, history)) =
        startup(&mut terminal, &mut input, &settings, &limits, theme).await?
    else {
        return Ok(());
    };
    // No grace period: the user is there, and a second quit does not wait.
    let setup = Setup::new(&settings, listener, team, limits, history, None);
    let (mut session, effects) = Session::start(setup, |state| {
        state.view.bell = settings.notify != Notify::Off;
        state.view.ask_before_quit = true;
        state.view.utc_offset = *Local::now().offset();
    })
    .await
    .map_err(crash)?;
    let result = main_loop(
        &mut session,
        &mut terminal,
        &mut guard,
        &mut input,
        effects,
        theme,
        settings.notify,
    )
    .await;
    // The terminal went away: a failed read or draw of it on the way is no crash.
    let result = match result {
        Err(Failure::Crash(_)) if crate::terminal::gone() => Err(Failure::TerminalGone),
        result => result,
    };
    let quitting = session.state.quitting;
    let failed = session.state.failed_count();
    let held = session.state.held_count();
    session.keep_drafts();
    session.shutdown();
    // Said on stderr once the terminal is back, so it stays readable after exit.
    drop(guard);
    if quitting && failed > held {
        eprintln!(
            "brigade: {} message(s) were not delivered; they are kept in the history \
             and {} retries them next time",
            failed - held,
            crate::keymap::key_for(&Action::Retry { id: None })
        );
    }
    if quitting && held > 0 {
        eprintln!(
            "brigade: {held} message(s) are held because a peer's key changed; they are \
             kept in the history and go once you trust the new key ({})",
            crate::keymap::key_for(&Action::Screen(crate::event::ScreenAction::TrustSelected))
        );
    }
    result
}

async fn main_loop(
    session: &mut Session,
    terminal: &mut Term,
    guard: &mut TerminalGuard,
    input: &mut TermInput,
    mut effects: Vec<Effect>,
    theme: Theme,
    mode: Notify,
) -> Result<(), Failure> {
    let mut signals = Signals::new().map_err(crash)?;
    let size = terminal.size().map_err(crash)?;
    let mut area = Rect::new(0, 0, size.width, size.height);
    let mut dirty = true;
    // Rows with graphemes the terminal may measure otherwise (`ui::residue`).
    let mut uncertain = Vec::new();

    loop {
        if terminal_effects(&mut effects, terminal, guard, &mut area, &mut dirty, mode)? {
            return Ok(());
        }
        if dirty {
            draw(session, terminal, area, theme, &mut uncertain)?;
            dirty = false;
        }
        tokio::select! {
            event = input.next() => {
                let Some(event) = event else { return Ok(()) };
                let mut next = Some(event.map_err(crash)?);
                let mut n = 0;
                // Handle this event and whatever else is already waiting, then draw once.
                // Mouse motion and unbound keys change nothing and draw nothing.
                while let Some(event) = next.take() {
                    if let TermEvent::Resize(w, h) = event {
                        area = Rect::new(0, 0, w, h);
                        dirty = true;
                    }
                    tracing::trace!(?event, "terminal event");
                    match action_for(&event, &session.state, area) {
                        Some(Action::Screen(ScreenAction::Repaint)) => {
                            repaint(terminal, &mut area)?;
                            dirty = true;
                        }
                        Some(action) => {
                            effects.extend(session.act(action));
                            dirty = true;
                        }
                        None => {}
                    }
                    n += 1;
                    if n < DRAIN && let Some(Ok(e)) = input.ready_now() {
                        next = Some(e);
                    }
                }
            }
            shown = session.next() => {
                let Some(shown) = shown else { return Ok(()) };
                effects.extend(shown);
                dirty = true;
            }
            // Returning restores the terminal and flushes the history, as quitting does.
            interrupt = signals.recv() => match interrupt {
                Interrupt::Quit(_) => return Ok(()),
                Interrupt::Gone => return Err(Failure::TerminalGone),
                Interrupt::Suspend => effects.push(Effect::Suspend),
            },
        }
    }
}

/// Runs the effects that are the terminal's; `true` when one of them is `Quit`.
fn terminal_effects(
    effects: &mut Vec<Effect>,
    terminal: &mut Term,
    guard: &mut TerminalGuard,
    area: &mut Rect,
    dirty: &mut bool,
    mode: Notify,
) -> Result<bool, Failure> {
    for effect in effects.drain(..) {
        match effect {
            Effect::Quit => return Ok(true),
            Effect::Bell { team, text } => notify(mode, &team, &text),
            Effect::Copy(text) => copy_to_clipboard(&text),
            Effect::Suspend => {
                guard.suspend().map_err(crash)?;
                repaint(terminal, area)?;
                *dirty = true;
            }
            // Notices are for the headless front end; the rest the sink has run.
            Effect::Notify(_)
            | Effect::Send { .. }
            | Effect::Transport { .. }
            | Effect::Persist(_)
            | Effect::Search { .. }
            | Effect::LoadOlder { .. }
            | Effect::Ask(_)
            | Effect::Doctor => {}
        }
    }
    Ok(false)
}

/// One frame: today's date and the log's settled scroll position go to the store
/// first, so that what is drawn and what the keys act on agree.
/// Draws a frame; then writes whole the rows with graphemes the terminal may measure
/// otherwise, in this frame or the one before (`uncertain`), so none keeps residue.
fn draw(
    session: &mut Session,
    terminal: &mut Term,
    area: Rect,
    theme: Theme,
    uncertain: &mut Vec<u16>,
) -> Result<(), Failure> {
    session.state.view.today = Some(Local::now().date_naive());
    if let Some(settled) = ui::settle(&session.state, area) {
        crate::store::settle_scroll(&mut session.state, settled);
    }
    if let Some(top) = ui::settle_peers(&session.state, area) {
        session.state.view.peer_top = top;
    }
    if let Some(first) = ui::settle_help(&session.state, area) {
        session.state.view.help_scroll = first;
    }
    let extra = node_note(session.stats());
    let frame = terminal
        .draw(|frame| ui::render(frame, &session.state, theme, &extra))
        .map_err(crash)?;
    let now = ui::residue::uncertain_rows(frame.buffer);
    let mut rows: Vec<u16> = now.iter().chain(uncertain.iter()).copied().collect();
    rows.retain(|&y| y < frame.area.bottom());
    rows.sort_unstable();
    rows.dedup();
    *uncertain = now;
    if rows.is_empty() {
        return Ok(());
    }
    let buffer = frame.buffer.clone();
    ui::residue::rewrite(terminal.backend_mut(), &buffer, &rows).map_err(crash)
}

/// Clears the screen and forgets what was drawn, at the (maybe new) size, so that the
/// next frame draws every cell: after a suspend, or on Ctrl+L when something else wrote
/// over the screen. Not `clear()`: it asks the terminal for the cursor position, which
/// can time out here.
fn repaint(terminal: &mut Term, area: &mut Rect) -> Result<(), Failure> {
    let size = terminal.size().map_err(crash)?;
    *area = Rect::new(0, 0, size.width, size.height);
    terminal.resize(*area).map_err(crash)
}

/// What the node refused or dropped, for the status line; empty when nothing.
fn node_note(stats: &Stats) -> String {
    let refused = Stats::get(&stats.refused_connections);
    let cut = Stats::get(&stats.cut_connections);
    let dropped = Stats::get(&stats.dropped_events);
    let mut parts = Vec::new();
    if refused > 0 {
        parts.push(format!("{refused} refused"));
    }
    if cut > 0 {
        parts.push(format!("{cut} cut"));
    }
    if dropped > 0 {
        parts.push(format!("{dropped} notices dropped"));
    }
    parts.join(", ")
}

/// The original's prompts, team name and port, as a form; skipped when both came as
/// flags and all is well. A taken port, or a team whose history another brigade has
/// open, is reported in the form, not by exiting. `None` when the user quits.
async fn startup(
    terminal: &mut Term,
    input: &mut TermInput,
    settings: &Settings,
    limits: &Limits,
    theme: Theme,
) -> Result<Option<(TcpListener, String, HistoryOpen)>, Failure> {
    let mut form = Form::startup(settings.name.as_deref(), settings.port);
    // The history first (its lock says whether this team already runs here), then the
    // port; on a failed bind the history is dropped again, and so is its lock.
    let try_start = |team: String, port: u16| {
        let history = open_history(settings, &team).map_err(|_| {
            (
                0,
                format!(
                    "a brigade named {team} already runs with this history: choose another name"
                ),
            )
        })?;
        let listener =
            bind_listener(settings.bind, port, limits.backlog).map_err(|e| (1, e.message))?;
        Ok::<_, (usize, String)>((listener, team, history))
    };
    if let (Some(team), Some(port)) = (&settings.name, settings.port) {
        match try_start(team.clone(), port) {
            Ok(started) => return Ok(Some(started)),
            Err((field, message)) => form.fail(field, message),
        }
    } else if settings.name.is_some() {
        form.focus = 1;
    }
    loop {
        terminal
            .draw(|frame| ui::render_startup(frame, &form, theme))
            .map_err(crash)?;
        let Some(event) = input.next().await else {
            return Ok(None);
        };
        let event = event.map_err(crash)?;
        let action = match &event {
            TermEvent::Key(key) => key_action_in(key, Context::Form),
            TermEvent::Paste(text) => {
                form.paste(text);
                None
            }
            _ => None,
        };
        match action {
            Some(Action::Quit) | Some(Action::Screen(ScreenAction::Close)) => return Ok(None),
            Some(Action::Screen(ScreenAction::Edit(request))) => form.edit(request),
            Some(Action::Screen(ScreenAction::NextField)) => form.next(),
            Some(Action::Screen(ScreenAction::PrevField)) => form.prev(),
            Some(Action::Screen(ScreenAction::Submit)) if !form.on_last() => form.next(),
            Some(Action::Screen(ScreenAction::Submit)) => match form.startup_values() {
                Err((field, message)) => form.fail(field, message),
                Ok((team, port)) => match try_start(team, port) {
                    Ok(started) => return Ok(Some(started)),
                    Err((field, message)) => form.fail(field, message),
                },
            },
            _ => {}
        }
    }
}
