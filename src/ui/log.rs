//! The message log: time, sender, text wrapped to the width with continuation lines
//! under the text; own messages carry their delivery mark; system lines are dim and
//! centred. Only the entries that fit are laid out, from the bottom up, so the cost of
//! a frame does not grow with the history.

use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::peers::status_label;
use super::theme::Theme;
use super::wrap::{pad, truncate, width, wrap};
use crate::event::{Action, Delivery};
use crate::keymap::{key_for, screen_key};
use crate::store::{Body, Direction, Focus, LogEntry, ScreenAction, Selection, State};

const TIME: usize = 8;
const GAP: usize = 2;
const MARK: usize = 2;

pub fn render(frame: &mut Frame, state: &State, area: Rect, theme: Theme) {
    let focused = state.view.focus == Focus::Log;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(title(state, theme));
    frame.render_widget(block, area);
    let inner = area.inner(Margin::new(1, 1));
    if inner.height == 0 || inner.width < 20 {
        return;
    }
    let total = state.view_len();
    if total == 0 {
        frame.render_widget(empty_hint(state, theme), inner);
        return;
    }
    let height = inner.height as usize;
    let last = total - 1 - state.view.scroll.min(total - 1);
    let mut chunks = Vec::new();
    let mut count = 0;
    for i in (0..=last).rev() {
        let lines = entry_lines(state, state.view_entry(i), inner.width as usize, theme);
        count += lines.len();
        chunks.push(lines);
        if count >= height {
            break;
        }
    }
    let lines: Vec<Line> = chunks.into_iter().rev().flatten().collect();
    let skip = lines.len().saturating_sub(height);
    frame.render_widget(Paragraph::new(lines[skip..].to_vec()), inner);
    below_marker(frame, state, inner, theme);
}

fn title(state: &State, theme: Theme) -> Line<'static> {
    match state.view.selection {
        Selection::All => {
            let n = state.listed().count();
            Line::from(vec![
                Span::styled(" All peers ", theme.bold()),
                Span::styled(
                    format!("· {n} peer{} ", if n == 1 { "" } else { "s" }),
                    theme.dim(),
                ),
            ])
        }
        Selection::Peer(id) => {
            let peer = state.peer(id);
            Line::from(vec![
                Span::styled(format!(" #{} ", peer.key.team_label()), theme.bold()),
                Span::styled(format!(" {} · ", peer.key.addr()), theme.dim()),
                Span::styled(format!("{} ", status_label(peer.status)), theme.dim()),
            ])
        }
    }
}

fn empty_hint(state: &State, theme: Theme) -> Paragraph<'static> {
    let me = state
        .me
        .listen
        .map(|a| format!("{}:{}", state.me.advertise_ip, a.port()))
        .unwrap_or_default();
    let text = match state.view.selection {
        Selection::All => format!(
            "No messages yet.\nPeers reach you at {me}.\n{} writes to a new peer; {} shows every key.",
            screen_key(ScreenAction::OpenNewRecipient),
            screen_key(ScreenAction::OpenHelp)
        ),
        Selection::Peer(_) => format!(
            "No messages with this peer yet. Type and press {}.",
            screen_key(ScreenAction::Submit)
        ),
    };
    Paragraph::new(text)
        .style(theme.dim())
        .alignment(ratatui::layout::Alignment::Center)
        .wrap(ratatui::widgets::Wrap { trim: true })
}

fn below_marker(frame: &mut Frame, state: &State, inner: Rect, theme: Theme) {
    let (text, style) = match (state.view.new_below, state.view.scroll) {
        (0, 0) => return,
        (0, _) => ("↓ more below (End)".to_string(), theme.dim()),
        (n, _) => (
            format!("↓ {n} new message{} (End)", if n == 1 { "" } else { "s" }),
            theme.badge(),
        ),
    };
    let w = (width(&text) as u16).min(inner.width);
    let at = Rect::new(inner.right() - w, inner.bottom() - 1, w, 1);
    frame.render_widget(Paragraph::new(Span::styled(text, style)), at);
}

/// The lines of one entry at this width.
fn entry_lines(
    state: &State,
    entry: &LogEntry,
    width_cells: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let time = entry
        .at
        .with_timezone(&state.view.utc_offset)
        .format("%H:%M:%S")
        .to_string();
    match &entry.body {
        Body::System { text, error, .. } => {
            let style = if *error { theme.error() } else { theme.dim() };
            system_lines(&time, text, width_cells, style)
        }
        Body::Message { peer, dir, text } => {
            let sender_w = if width_cells >= 60 { 10 } else { 6 };
            let team = state.peer(*peer).key.team_label();
            let (sender, sender_style) = match dir {
                Direction::In { .. } => (team.to_string(), theme.bold()),
                Direction::Out { .. } if state.view.selection == Selection::All => {
                    (format!("you→{team}"), theme.accent())
                }
                Direction::Out { .. } => ("you".to_string(), theme.accent()),
            };
            let indent = TIME + GAP + sender_w + GAP;
            let text_w = width_cells.saturating_sub(indent + MARK).max(4);
            let prefix = match dir {
                Direction::In {
                    claimed_ip: Some(ip),
                } => format!("(as {ip}) "),
                _ => String::new(),
            };
            let wrapped = wrap(&format!("{prefix}{text}"), text_w);
            let mut lines = Vec::with_capacity(wrapped.len() + 1);
            for (n, piece) in wrapped.into_iter().enumerate() {
                let mut spans = if n == 0 {
                    vec![
                        Span::styled(time.clone(), theme.dim()),
                        Span::raw(" ".repeat(GAP)),
                        Span::styled(pad(&truncate(&sender, sender_w), sender_w), sender_style),
                        Span::raw(" ".repeat(GAP)),
                    ]
                } else {
                    vec![Span::raw(" ".repeat(indent))]
                };
                let pad_to = text_w.saturating_sub(width(&piece));
                if n == 0 && !prefix.is_empty() && piece.starts_with(&prefix) {
                    spans.push(Span::styled(prefix.clone(), theme.dim()));
                    spans.push(Span::raw(piece[prefix.len()..].to_string()));
                } else {
                    spans.push(Span::raw(piece));
                }
                if n == 0
                    && let Direction::Out { delivery, .. } = dir
                {
                    spans.push(Span::raw(" ".repeat(pad_to + 1)));
                    spans.push(delivery_mark(delivery, theme));
                }
                lines.push(Line::from(spans));
            }
            if let Direction::Out { delivery, .. } = dir {
                lines.extend(undelivered_note(delivery, indent, text_w, theme));
            }
            lines
        }
    }
}

/// Under a message that will not be delivered: why, and what the user can do.
fn undelivered_note(
    delivery: &Delivery,
    indent: usize,
    text_w: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let (pieces, style) = match delivery {
        // Short: never wrapped.
        Delivery::Dropped => (vec!["not delivered: you gave up on it".into()], theme.dim()),
        Delivery::Failed { reason } => {
            let retry = key_for(&Action::Retry { id: None });
            let drop = key_for(&Action::Drop { id: None });
            let text = format!("not delivered: {reason} · {retry} retries, {drop} gives up");
            (wrap(&text, text_w), theme.error())
        }
        Delivery::Held { reason } => (wrap(&format!("held: {reason}"), text_w), theme.error()),
        _ => return Vec::new(),
    };
    pieces
        .into_iter()
        .map(|piece| {
            Line::from(vec![
                Span::raw(" ".repeat(indent)),
                Span::styled(piece, style),
            ])
        })
        .collect()
}

fn delivery_mark(delivery: &Delivery, theme: Theme) -> Span<'static> {
    match delivery {
        Delivery::Pending | Delivery::Retrying { .. } => Span::styled("…", theme.dim()),
        Delivery::Delivered => Span::styled("✓", theme.connected()),
        Delivery::Failed { .. } => Span::styled("✗", theme.error()),
        Delivery::Dropped => Span::styled("✗", theme.dim()),
        Delivery::Held { .. } => Span::styled("⏸", theme.error()),
    }
}

fn system_lines(time: &str, text: &str, width_cells: usize, style: Style) -> Vec<Line<'static>> {
    let room = width_cells.saturating_sub(6).max(4);
    wrap(&format!("{time}  {text}"), room)
        .into_iter()
        .map(|piece| {
            let body = format!("── {piece} ──");
            let left = width_cells.saturating_sub(width(&body)) / 2;
            Line::from(vec![Span::raw(" ".repeat(left)), Span::styled(body, style)])
        })
        .collect()
}
