//! The message log: time, sender, text wrapped to the width with continuation lines
//! under the text; own messages carry their delivery mark; system lines are dim and
//! centred. Only the entries that fit are laid out, from the bottom up, so the cost of
//! a frame does not grow with the history.

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::tags::message_prefix;
use super::theme::Theme;
use super::wrap::{elide_middle, truncate, width, wrap};
use crate::event::{Action, Delivery};
use crate::keymap::{key_for, screen_key};
use crate::store::{
    Body, Direction, FORGOTTEN, Focus, LogEntry, ScreenAction, Selection, Settled, State,
};

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
    if state.view_len() == 0 {
        frame.render_widget(empty_hint(state, theme), inner);
        return;
    }
    let placed = place(state, inner, theme);
    frame.render_widget(Paragraph::new(placed.lines), inner);
    if placed.below && inner.height >= 2 {
        below_marker(frame, state, inner, theme);
    }
}

/// The visible lines of the log pane and where it settled.
pub struct Placed {
    pub lines: Vec<Line<'static>>,
    pub settled: Settled,
    /// Lines are hidden below: the bottom row holds the marker, not text.
    pub below: bool,
}

/// Lays out the view from the newest entry up, only as far as the scroll position and
/// the pane's height need: the cost of a frame does not grow with the history. The
/// position is clamped so that the pane never scrolls past the oldest or the newest
/// line.
pub fn place(state: &State, inner: Rect, theme: Theme) -> Placed {
    let total = state.view_len();
    let height = usize::from(inner.height).max(1);
    let width = usize::from(inner.width);
    // Lines newest first; `starts[k]` is where the k-th entry from the bottom begins.
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    // Loads entries until `entries` are in or `until` lines are.
    let load =
        |lines: &mut Vec<Line<'static>>, starts: &mut Vec<usize>, entries: usize, until: usize| {
            while lines.len() < until && starts.len() < entries.min(total) {
                starts.push(lines.len());
                let i = total - starts.len();
                lines.extend(entry_lines(state, i, width, theme).into_iter().rev());
            }
        };
    load(
        &mut lines,
        &mut starts,
        state.view.scroll.min(total - 1),
        usize::MAX,
    );
    let below_anchor = lines.len() as isize;
    let reveal = super::reveal::found_line(state, height, theme.found(), |i| {
        entry_lines(state, i, width, theme)
    });
    let scroll_lines = reveal.unwrap_or(state.view.scroll_lines);
    let mut hidden = usize::try_from(below_anchor.saturating_add(scroll_lines)).unwrap_or(0);
    let rows = |hidden: usize| {
        if hidden > 0 {
            (height - 1).max(1)
        } else {
            height
        }
    };
    load(
        &mut lines,
        &mut starts,
        total,
        hidden.saturating_add(rows(hidden)),
    );
    let available = lines.len();
    if available < hidden + rows(hidden) {
        hidden = available.saturating_sub(rows(hidden));
    }
    let shown = rows(hidden);
    let at_top = starts.len() == total && available <= hidden + shown;
    let k = starts
        .partition_point(|&start| start <= hidden)
        .saturating_sub(1);
    let settled = Settled {
        scroll: k,
        scroll_lines: (hidden - starts[k]) as isize,
        at_top,
        page: height.saturating_sub(1).max(1),
    };
    let end = (hidden + shown).min(available);
    let mut visible: Vec<Line<'static>> = lines.drain(hidden..end).collect();
    visible.reverse();
    Placed {
        lines: visible,
        settled,
        below: hidden > 0,
    }
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
        Selection::Peer(id) => super::peers::title(state, id, theme),
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

/// The marker for lines hidden below, on the bottom row (kept free of text for it).
fn below_marker(frame: &mut Frame, state: &State, inner: Rect, theme: Theme) {
    let (text, style) = match state.view.new_below {
        0 => ("↓ more below (End)".to_string(), theme.dim()),
        n => (
            format!("↓ {n} new message{} (End)", if n == 1 { "" } else { "s" }),
            theme.badge(),
        ),
    };
    let w = (width(&text) as u16).min(inner.width);
    let at = Rect::new(inner.right() - w, inner.bottom() - 1, w, 1);
    frame.render_widget(Paragraph::new(Span::styled(text, style)), at);
}

/// The lines of the `i`-th entry of the view at this width: a date line above the
/// first entry of a day, the unread marker above the first unread message, then the
/// entry with the search match highlighted.
fn entry_lines(state: &State, i: usize, width_cells: usize, theme: Theme) -> Vec<Line<'static>> {
    let entry = state.view_entry(i);
    let day = |e: &LogEntry| e.at.with_timezone(&state.view.utc_offset).date_naive();
    let mut lines = Vec::new();
    if i == 0 || day(state.view_entry(i - 1)) != day(entry) {
        let label = day_label(day(entry), state.view.today);
        lines.push(rule(&label, width_cells, theme.bold(), theme.dim()));
    }
    if state.view.unread_from == Some(i) {
        lines.push(rule("new", width_cells, theme.badge(), theme.badge()));
    }
    let query = match &state.view.found {
        Some((index, query))
            if state
                .log
                .get(*index)
                .is_some_and(|e| std::ptr::eq(e, entry)) =>
        {
            Some(query.as_str())
        }
        _ => None,
    };
    lines.extend(body_lines(state, entry, width_cells, theme, query));
    lines
}

/// "Today", "Yesterday", else the date.
fn day_label(day: NaiveDate, today: Option<NaiveDate>) -> String {
    match today {
        Some(t) if t == day => "Today".into(),
        Some(t) if t.pred_opt() == Some(day) => "Yesterday".into(),
        _ => day.format("%a %-d %b %Y").to_string(),
    }
}

/// A full-width rule with a label in the middle: `───── Today ─────`.
fn rule(label: &str, width_cells: usize, label_style: Style, rule_style: Style) -> Line<'static> {
    let label = format!(" {} ", truncate(label, width_cells.saturating_sub(4)));
    let rest = width_cells.saturating_sub(width(&label));
    let left = rest / 2;
    Line::from(vec![
        Span::styled("─".repeat(left), rule_style),
        Span::styled(label, label_style),
        Span::styled("─".repeat(rest - left), rule_style),
    ])
}

/// The lines of one entry at this width.
fn body_lines(
    state: &State,
    entry: &LogEntry,
    width_cells: usize,
    theme: Theme,
    query: Option<&str>,
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
            let sender_w = match width_cells {
                60.. => 10,
                44.. => 8,
                _ => 6,
            };
            let sender = sender_spans(state, *peer, dir, sender_w, theme);
            let sender_pad =
                sender_w.saturating_sub(sender.iter().map(|s| width(&s.content)).sum());
            let indent = TIME + GAP + sender_w + GAP;
            let text_w = width_cells.saturating_sub(indent + MARK).max(4);
            let (prefix, prefix_style) = message_prefix(dir, theme);
            let wrapped = wrap(&format!("{prefix}{text}"), text_w);
            let mut lines = Vec::with_capacity(wrapped.len() + 1);
            for (n, piece) in wrapped.into_iter().enumerate() {
                let mut spans = if n == 0 {
                    vec![
                        Span::styled(time.clone(), theme.time()),
                        Span::raw(" ".repeat(GAP)),
                    ]
                    .into_iter()
                    .chain(sender.iter().cloned())
                    .chain([Span::raw(" ".repeat(sender_pad + GAP))])
                    .collect()
                } else {
                    vec![Span::raw(" ".repeat(indent))]
                };
                let pad_to = text_w.saturating_sub(width(&piece));
                if n == 0 && !prefix.is_empty() && piece.starts_with(&prefix) {
                    spans.push(Span::styled(prefix.clone(), prefix_style));
                    spans.extend(highlight(&piece[prefix.len()..], query, theme));
                } else {
                    spans.extend(highlight(&piece, query, theme));
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

/// The sender column: the team in its colour, `you`, or `you→team` in "All peers";
/// names too long are elided in the middle so that similar ones stay apart.
fn sender_spans(
    state: &State,
    peer: crate::store::PeerId,
    dir: &Direction,
    sender_w: usize,
    theme: Theme,
) -> Vec<Span<'static>> {
    let peer = state.peer(peer);
    // The colour follows the team (stable whatever the alias); the text, the alias.
    let (name, team) = (peer.name(), peer.key.team_label());
    match dir {
        Direction::In { .. } => {
            vec![Span::styled(elide_middle(name, sender_w), theme.peer(team))]
        }
        Direction::Out { .. } if state.view.selection == Selection::All => vec![
            Span::styled("you→", theme.own()),
            Span::styled(elide_middle(name, sender_w - 4), theme.peer(team)),
        ],
        Direction::Out { .. } => vec![Span::styled("you", theme.own())],
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
        // Nothing to retry: the peer is no longer listed.
        Delivery::Failed { reason } if reason == FORGOTTEN => (
            wrap(&format!("not delivered: {reason}"), text_w),
            theme.error(),
        ),
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

/// A centred system line; a long one wraps, with the dashes only at its two ends.
fn system_lines(time: &str, text: &str, width_cells: usize, style: Style) -> Vec<Line<'static>> {
    let room = width_cells.saturating_sub(6).max(4);
    let pieces = wrap(&format!("{time}  {text}"), room);
    let last = pieces.len() - 1;
    pieces
        .into_iter()
        .enumerate()
        .map(|(n, piece)| {
            let body = format!(
                "{}{piece}{}",
                if n == 0 { "── " } else { "   " },
                if n == last { " ──" } else { "" }
            );
            let left = width_cells.saturating_sub(width(&body)) / 2;
            Line::from(vec![Span::raw(" ".repeat(left)), Span::styled(body, style)])
        })
        .collect()
}

/// `text` with each occurrence of `query` (ignoring case where that keeps byte
/// offsets) highlighted.
fn highlight(text: &str, query: Option<&str>, theme: Theme) -> Vec<Span<'static>> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return vec![Span::raw(text.to_string())];
    };
    let (hay, needle) = (text.to_lowercase(), query.to_lowercase());
    let (hay, needle) = if hay.len() == text.len() && needle.len() == query.len() {
        (hay, needle)
    } else {
        (text.to_string(), query.to_string())
    };
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(found) = hay[at..].find(&needle) {
        let start = at + found;
        let end = start + needle.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            break;
        }
        spans.push(Span::raw(text[at..start].to_string()));
        spans.push(Span::styled(text[start..end].to_string(), theme.found()));
        at = end;
    }
    spans.push(Span::raw(text[at..].to_string()));
    spans.retain(|s| !s.content.is_empty());
    spans
}
