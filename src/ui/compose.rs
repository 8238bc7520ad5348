//! The compose box (its title says exactly who receives) and the status line.

use ratatui::Frame;
use ratatui::layout::{Margin, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use tui_input::Input;

use super::theme::Theme;
use super::wrap::{truncate, width};
use crate::keymap::screen_key;
use crate::store::{Focus, Overlay, ScreenAction, Selection, State};

pub fn render(frame: &mut Frame, state: &State, area: Rect, theme: Theme) {
    let focused = state.view.focus == Focus::Compose;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            format!(" {} ", recipient(state)),
            theme.bold(),
        ));
    frame.render_widget(block, area);
    let inner = area.inner(Margin::new(1, 0)).inner(Margin::new(0, 1));
    let show_cursor = focused && matches!(state.view.overlay, Overlay::None);
    if state.view.compose.value().contains('\n') {
        return input_lines(frame, &state.view.compose, inner, theme, show_cursor);
    }
    input_line(
        frame,
        &state.view.compose,
        inner,
        theme,
        &format!(
            "Type a message · {} sends · {} help",
            screen_key(ScreenAction::Submit),
            screen_key(ScreenAction::OpenHelp)
        ),
        show_cursor,
    );
}

/// Who Enter sends to, in words.
pub fn recipient(state: &State) -> String {
    match state.view.selection {
        Selection::All => {
            let n = state.listed().filter(|(_, p)| p.key.reachable()).count();
            match n {
                0 => format!(
                    "To nobody yet: choose a peer, or {}",
                    screen_key(ScreenAction::OpenNewRecipient)
                ),
                1 => "To all peers (1)".into(),
                n => format!("To all peers ({n})"),
            }
        }
        Selection::Peer(id) => {
            let peer = state.peer(id);
            let key = &peer.key;
            if peer.trust.held() {
                format!("To {} ({}): KEY CHANGED, held", peer.name(), key.addr())
            } else if key.reachable() {
                let how = if peer.trust.key.is_some() {
                    "encrypted"
                } else {
                    "plaintext"
                };
                format!("To {} ({}), {how}", peer.name(), key.addr())
            } else {
                format!("To {} ({}): no reply port", peer.name(), key.ip)
            }
        }
    }
}

/// `> text` with horizontal scrolling that keeps the cursor visible; a dim hint when
/// empty. Shared by the compose box and form fields.
pub fn input_line(
    frame: &mut Frame,
    input: &Input,
    area: Rect,
    theme: Theme,
    hint: &str,
    cursor: bool,
) {
    if area.width < 3 || area.height == 0 {
        return;
    }
    let room = (area.width - 2) as usize;
    let scroll = input.visual_scroll(room.saturating_sub(1));
    let mut spans = vec![Span::styled("> ", theme.accent())];
    if input.value().is_empty() {
        spans.push(Span::styled(truncate(hint, room), theme.dim()));
    } else {
        spans.push(Span::raw(visible_slice(input.value(), scroll, room)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    if cursor {
        let x = area.x + 2 + (input.visual_cursor().saturating_sub(scroll)).min(room) as u16;
        frame.set_cursor_position(Position::new(x.min(area.right() - 1), area.y));
    }
}

/// A message of several lines (Alt+Enter): as many lines as the box has rows, scrolled
/// to keep the cursor's line in view; each line scrolls sideways like `input_line`
/// when it is the cursor's, and is cut at the edge otherwise.
fn input_lines(frame: &mut Frame, input: &Input, area: Rect, theme: Theme, cursor: bool) {
    if area.width < 3 || area.height == 0 {
        return;
    }
    let room = (area.width - 2) as usize;
    let lines: Vec<&str> = input.value().split('\n').collect();
    // The cursor (a character index) as a line and the text before it on that line.
    let (mut line, mut left) = (0, input.cursor());
    while line + 1 < lines.len() && left > lines[line].chars().count() {
        left -= lines[line].chars().count() + 1;
        line += 1;
    }
    let before: String = lines[line].chars().take(left).collect();
    let column = width(&before);
    let rows = area.height as usize;
    let first = (line + 1).saturating_sub(rows);
    for (row, (i, text)) in lines.iter().enumerate().skip(first).take(rows).enumerate() {
        let prefix = match (i, row) {
            (0, _) => Span::styled("> ", theme.accent()),
            (_, 0) => Span::styled("↑ ", theme.dim()),
            _ => Span::raw("  "),
        };
        let skip = if i == line {
            column.saturating_sub(room.saturating_sub(1))
        } else {
            0
        };
        let spans = vec![prefix, Span::raw(visible_slice(text, skip, room))];
        let rect = Rect::new(area.x, area.y + row as u16, area.width, 1);
        frame.render_widget(Paragraph::new(Line::from(spans)), rect);
    }
    if cursor {
        let skip = column.saturating_sub(room.saturating_sub(1));
        let x = area.x + 2 + (column - skip).min(room) as u16;
        let y = area.y + (line - first) as u16;
        frame.set_cursor_position(Position::new(x.min(area.right() - 1), y));
    }
}

/// The part of `text` from display column `skip`, at most `room` columns wide.
fn visible_slice(text: &str, skip: usize, room: usize) -> String {
    let mut col = 0;
    let mut out = String::new();
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if col >= skip {
            if width(&out) + w > room {
                break;
            }
            out.push(c);
        }
        col += w;
    }
    out
}

/// Draws the status line. False when the flash did not fit in it whole (the caller
/// shows it in full above, `render_toast`).
pub fn render_status(
    frame: &mut Frame,
    state: &State,
    area: Rect,
    theme: Theme,
    extra: &str,
) -> bool {
    let mut whole = true;
    let me = match state.me.listen {
        Some(addr) => format!(
            " {} @ {}:{}",
            state.me.team,
            state.me.advertise_ip,
            addr.port()
        ),
        None => format!(" {}", state.me.team),
    };
    let peers = state.listed().count();
    let mut spans = vec![
        Span::styled(me, theme.accent()),
        Span::styled(
            format!(" · {peers} peer{}", if peers == 1 { "" } else { "s" }),
            theme.dim(),
        ),
    ];
    if state.storage_fault.is_some() {
        spans.push(Span::styled(" · history not saved", theme.error()));
    }
    if !extra.is_empty() {
        spans.push(Span::styled(format!(" · {extra}"), theme.active()));
    }
    let room = area.width as usize;
    let mut used: usize = spans.iter().map(|s| width(&s.content)).sum();
    match &state.view.flash {
        Some(flash) => {
            let style = if flash.error {
                theme.error()
            } else {
                theme.active()
            };
            let text = format!(" · {}", flash.text);
            whole = used + width(&text) <= room;
            spans.push(Span::styled(
                truncate(&text, room.saturating_sub(used)),
                style,
            ));
        }
        None => {
            // Whole hints only, most useful first; F1 lists everything else.
            for hint in crate::keymap::hints() {
                let text = format!(" · {hint}");
                let w = width(&text);
                if used + w > room {
                    break;
                }
                used += w;
                spans.push(Span::styled(text, theme.dim()));
            }
        }
    }
    let mut fitted = Vec::new();
    let mut used = 0;
    for span in spans {
        let w = width(&span.content);
        if used + w > room {
            fitted.push(Span::styled(
                truncate(&span.content, room - used),
                span.style,
            ));
            break;
        }
        used += w;
        fitted.push(span);
    }
    frame.render_widget(Paragraph::new(Line::from(fitted)), area);
    whole
}

/// The flash in full, wrapped in a box just above `above` (the compose box), when the
/// status line is too narrow for it.
pub fn render_toast(frame: &mut Frame, state: &State, above: Rect, theme: Theme) {
    let Some(flash) = &state.view.flash else {
        return;
    };
    let style = if flash.error {
        theme.error()
    } else {
        theme.active()
    };
    let pieces = super::wrap::wrap(&flash.text, usize::from(above.width.saturating_sub(4)));
    let height = (pieces.len() as u16 + 2).min(above.y);
    let rect = Rect::new(above.x, above.y - height, above.width, height);
    frame.render_widget(ratatui::widgets::Clear, rect);
    let lines: Vec<Line> = pieces
        .into_iter()
        .map(|p| Line::from(Span::styled(p, style)))
        .collect();
    let block = ratatui::widgets::Block::bordered()
        .border_style(style)
        .padding(ratatui::widgets::Padding::horizontal(1));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
