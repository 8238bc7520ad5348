//! The confirms that guard an irreversible key: Ctrl+D's "Disconnect?", the trust
//! key's "Trust the new key?" (issue 16), quitting with undelivered messages and
//! `/forget`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::layout::centered;
use super::theme::Theme;
use crate::event::PublicKey;
use crate::keymap::screen_key;
use crate::store::{PeerId, ScreenAction, State};

/// "Disconnect B?" before Ctrl+D sends `exit`.
pub fn render_confirm(frame: &mut Frame, state: &State, id: PeerId, area: Rect, theme: Theme) {
    let peer = state.peer(id);
    let lines = vec![
        Line::from(vec![
            Span::raw("Disconnect "),
            Span::styled(peer.name().to_string(), theme.bold()),
            Span::raw(format!(" at {}?", peer.key.addr())),
        ]),
        Line::from(Span::styled(
            "It is sent exit and leaves your list.",
            theme.dim(),
        )),
        Line::raw(""),
        Line::from(Span::styled(
            format!(
                "y or {}: disconnect · {}: keep",
                screen_key(ScreenAction::Submit),
                screen_key(ScreenAction::Close)
            ),
            theme.accent(),
        )),
    ];
    question(frame, area, theme, (" Disconnect? ", 56), lines);
}

/// The confirm's first line: its key changed, or (a downgrade) it stopped encrypting.
fn what_happened(peer: &crate::store::Peer, name: &str, theme: Theme) -> Line<'static> {
    let name = Span::styled(name.to_string(), theme.bold());
    let at = peer.key.addr();
    Line::from(match peer.trust.changed {
        Some(_) => vec![
            Span::raw("The key of "),
            name,
            Span::raw(format!(" at {at} changed.")),
        ],
        None => vec![name, Span::raw(format!(" at {at} stopped encrypting."))],
    })
}

/// "Trust the new key?" before the trust key accepts a changed key (or a downgrade):
/// the old and the new safety number, and what accepting means.
pub fn render_confirm_trust(
    frame: &mut Frame,
    state: &State,
    id: PeerId,
    area: Rect,
    theme: Theme,
) {
    let peer = state.peer(id);
    let name = peer.key.team_label().to_string();
    let number = |key: Option<PublicKey>| {
        key.map_or("(none)".to_string(), |k| k.safety_number().to_string())
    };
    let mut lines = vec![what_happened(peer, &name, theme)];
    let (title, accept, means) = match peer.trust.changed {
        Some(new) => {
            lines.push(Line::raw(""));
            lines.push(Line::from(Span::styled("Old safety number:", theme.dim())));
            lines.push(Line::raw(number(peer.trust.key)));
            lines.push(Line::from(Span::styled("New safety number:", theme.dim())));
            lines.push(Line::from(Span::styled(number(Some(new)), theme.bold())));
            (
                " Trust the new key? ",
                "trust the new key",
                format!(
                    "Accepting pins the new key: the held messages go to whoever holds it, \
                     and {name} is no longer verified. Compare the new number with {name} \
                     (in person or by phone) first: if you cannot, someone else may speak \
                     in its name."
                ),
            )
        }
        None => (
            " Accept plaintext? ",
            "accept plaintext",
            format!(
                "It sent in plaintext although its key is pinned. Accepting forgets the key: \
                 {name} becomes a classic peer, and the held messages go unencrypted, \
                 readable by anyone on the network."
            ),
        ),
    };
    lines.push(Line::raw(""));
    lines.push(Line::raw(means));
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        format!(
            "y or {}: {accept} · {}: keep holding",
            screen_key(ScreenAction::Submit),
            screen_key(ScreenAction::Close)
        ),
        theme.accent(),
    )));
    let width = 76u16.min(area.width);
    // The explanation wraps: room for it at this width.
    let inner = usize::from(width.saturating_sub(2).max(1));
    let wrapped = lines
        .iter()
        .map(|l| match l.width() {
            w if w <= inner => 1,
            // Wrapping at words wastes some of each row: one row of slack.
            w => w.div_ceil(inner) + 1,
        })
        .sum::<usize>();
    let rect = centered(area, width, wrapped as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.error())
        .title(Span::styled(title, theme.bold()));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: true }),
        rect,
    );
}

/// Quitting with undelivered messages: "N messages not delivered yet: quit anyway?"
pub fn render_confirm_quit(
    frame: &mut Frame,
    (waiting, held): (usize, usize),
    area: Rect,
    theme: Theme,
) {
    let undelivered = waiting + held;
    let then = match (waiting, held) {
        (_, 0) => "brigade then waits for them; quitting again stops waiting.".to_string(),
        (0, _) => "They are held for a changed key: they stay in the history and go once \
                   you trust the key."
            .to_string(),
        (w, h) => format!(
            "brigade then waits for the {w} being delivered; the {h} held for a changed \
             key stay in the history until you trust it."
        ),
    };
    let lines = vec![
        Line::from(Span::raw(format!(
            "{undelivered} message{} not delivered yet: quit anyway?",
            if undelivered == 1 { "" } else { "s" }
        ))),
        Line::from(Span::styled(then, theme.dim())),
        Line::raw(""),
        Line::from(Span::styled(
            format!(
                "y or {}: quit · {}: stay",
                screen_key(ScreenAction::Submit),
                screen_key(ScreenAction::Close)
            ),
            theme.accent(),
        )),
    ];
    question(frame, area, theme, (" Quit? ", 62), lines);
}

/// "Forget B?" before `/forget`: keep or delete its history.
pub fn render_forget(frame: &mut Frame, state: &State, id: PeerId, area: Rect, theme: Theme) {
    let peer = state.peer(id);
    let lines = vec![
        Line::from(vec![
            Span::raw("Forget "),
            Span::styled(peer.name().to_string(), theme.bold()),
            Span::raw(format!(" at {}?", peer.key.addr())),
        ]),
        Line::from(Span::styled(
            "It leaves your list; should it write again, it comes back as new. \
             Its undelivered messages fail.",
            theme.dim(),
        )),
        Line::raw(""),
        Line::from(Span::styled(
            format!(
                "k: keep its history · d: delete its history · {}: cancel",
                screen_key(ScreenAction::Close)
            ),
            theme.accent(),
        )),
    ];
    question(frame, area, theme, (" Forget? ", 56), lines);
}

/// A question in a centred box with a warning border.
fn question(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    (title, width): (&str, u16),
    lines: Vec<Line>,
) {
    let width = width.min(area.width);
    // Wrapped lines take more rows than there are lines: count them at this width.
    let inner = width.saturating_sub(2).max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let rect = centered(area, width, rows as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.error())
        .title(Span::styled(title.to_string(), theme.bold()));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: true }),
        rect,
    );
}
