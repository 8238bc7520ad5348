//! The confirms that guard an irreversible key: Ctrl+D's "Disconnect?" and the trust
//! key's "Trust the new key?" (issue 16).

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
            Span::styled(peer.key.team_label().to_string(), theme.bold()),
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
    let rect = centered(area, 56, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.error())
        .title(Span::styled(" Disconnect? ", theme.bold()));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: true }),
        rect,
    );
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
    let mut lines = vec![Line::from(vec![
        Span::raw("The key of "),
        Span::styled(name.clone(), theme.bold()),
        Span::raw(format!(" at {} changed.", peer.key.addr())),
    ])];
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
