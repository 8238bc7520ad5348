//! Centred overlays: forms, the doctor view, search, the too-small notice (the help
//! is in `help`).

use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::compose::input_line;
use super::layout::centered;
use super::theme::Theme;
use super::wrap::{pad, truncate, wrap};
use crate::event::Action;
use crate::keymap::{When, key_in, screen_key};
use crate::store::{DoctorView, Form, ScreenAction, SearchView, State};

/// F2, `/doctor`: the running discovery's report (the `brigade --doctor` text), one
/// line each, scrolled like the help in a short window.
pub fn render_doctor(frame: &mut Frame, area: Rect, theme: Theme, doctor: &DoctorView) {
    let width = 90u16.min(area.width);
    let inner = usize::from(width.saturating_sub(2));
    let style = |l: &str| {
        if l.contains("FAILED") {
            theme.error()
        } else if l.starts_with(' ') {
            ratatui::style::Style::default()
        } else {
            theme.bold()
        }
    };
    let footer = format!(
        "↑ ↓ PgUp PgDn scroll · {} closes · brigade --doctor listens afresh",
        screen_key(ScreenAction::Close)
    );
    // Long hints wrap, indented under their start.
    let rows: Vec<Line> = doctor
        .lines
        .iter()
        .flat_map(|l| {
            let indent = l.len() - l.trim_start_matches([' ', '-']).len();
            let rest = inner.saturating_sub(indent).max(8);
            wrap(&l[indent..], rest)
                .into_iter()
                .enumerate()
                .map(move |(i, part)| {
                    let lead = if i == 0 {
                        l[..indent].to_string()
                    } else {
                        " ".repeat(indent)
                    };
                    Line::from(Span::styled(lead + &part, style(l)))
                })
        })
        .collect();
    // The report scrolls; the footer (and a "more" line when needed) stays.
    let room = usize::from(area.height.saturating_sub(4)).max(1);
    let first = doctor.scroll.min(rows.len().saturating_sub(room));
    let more = first + room < rows.len();
    let mut lines: Vec<Line> = rows.into_iter().skip(first).take(room).collect();
    if more || first > 0 {
        let text = if more { "↓ more" } else { "↑ more above" };
        lines.push(Line::from(Span::styled(text, theme.dim())));
    }
    lines.push(Line::from(Span::styled(
        truncate(&footer, inner),
        theme.dim(),
    )));
    let rect = centered(area, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(Span::styled(
            " Doctor: why can't I see a peer? ",
            theme.bold(),
        ));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// A form: per field a label, the input line, and its error (or hint) under it.
pub fn render_form(frame: &mut Frame, form: &Form, area: Rect, theme: Theme, footer: &str) {
    let height = form.fields.len() as u16 * 3 + 3;
    let rect = centered(area, 72, height);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(Span::styled(format!(" {} ", form.title), theme.bold()));
    frame.render_widget(block, rect);
    let inner = rect.inner(Margin::new(2, 1));
    let mut y = inner.y;
    for (i, field) in form.fields.iter().enumerate() {
        if y + 3 > inner.bottom() {
            break;
        }
        let focused = i == form.focus;
        let label_style = if focused {
            theme.accent()
        } else {
            theme.bold()
        };
        frame.render_widget(
            Paragraph::new(Span::styled(field.label, label_style)),
            Rect::new(inner.x, y, inner.width, 1),
        );
        input_line(
            frame,
            &field.input,
            Rect::new(inner.x, y + 1, inner.width, 1),
            theme,
            "",
            focused,
        );
        let note = match &field.error {
            Some(e) => Span::styled(truncate(e, inner.width as usize), theme.error()),
            None => Span::styled(truncate(field.hint, inner.width as usize), theme.dim()),
        };
        frame.render_widget(
            Paragraph::new(note),
            Rect::new(inner.x, y + 2, inner.width, 1),
        );
        y += 3;
    }
    if y < inner.bottom() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                truncate(footer, inner.width as usize),
                theme.dim(),
            )),
            Rect::new(inner.x, inner.bottom() - 1, inner.width, 1),
        );
    }
}

pub fn render_too_small(frame: &mut Frame, area: Rect, theme: Theme) {
    let text = format!(
        "brigade needs at least {}×{}\n(now {}×{})",
        super::layout::MIN_WIDTH,
        super::layout::MIN_HEIGHT,
        area.width,
        area.height
    );
    let rect = centered(area, area.width, 2.min(area.height));
    frame.render_widget(
        Paragraph::new(text)
            .style(theme.bold())
            .alignment(ratatui::layout::Alignment::Center),
        rect,
    );
}

/// Going through a search's hits: the query box is put away and a bar over the
/// compose box says which hit is shown and which keys move on.
pub fn render_search_bar(frame: &mut Frame, search: &SearchView, area: Rect, theme: Theme) {
    frame.render_widget(Clear, area);
    let key = |action| key_in(When::Search, &Action::Screen(action));
    let title = format!(" Search: {} ", truncate(&search.answered, 40));
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(Span::styled(title, theme.bold()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text = format!(
        "hit {} of {} · n/N next/previous · {} stay · {} go back · {} new query",
        search.selected + 1,
        search.hits.len(),
        key(ScreenAction::Submit),
        key(ScreenAction::Close),
        key(ScreenAction::OpenSearch),
    );
    let text = truncate(&text, inner.width as usize);
    frame.render_widget(Paragraph::new(Span::styled(text, theme.dim())), inner);
}

/// Ctrl+F: the query, then one line per hit (newest first), the chosen one marked.
pub fn render_search(
    frame: &mut Frame,
    search: &SearchView,
    state: &State,
    area: Rect,
    theme: Theme,
) {
    let rect = centered(area, 90, area.height.saturating_sub(4).max(8));
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(Span::styled(" Search history ", theme.bold()));
    frame.render_widget(block, rect);
    let inner = rect.inner(Margin::new(2, 1));
    if inner.height < 3 {
        return;
    }
    input_line(
        frame,
        &search.input,
        Rect::new(inner.x, inner.y, inner.width, 1),
        theme,
        "words to find",
        true,
    );
    let list = Rect::new(inner.x, inner.y + 2, inner.width, inner.height - 3);
    let width = list.width as usize;
    let typed = search.input.value().trim();
    let mut lines = Vec::new();
    if !typed.is_empty() && search.answered == typed && search.hits.is_empty() {
        lines.push(Line::from(Span::styled("no matches", theme.dim())));
    }
    // Keep the chosen hit in view.
    let first = search
        .selected
        .saturating_sub(list.height.saturating_sub(1) as usize);
    for (i, hit) in search
        .hits
        .iter()
        .enumerate()
        .skip(first)
        .take(list.height as usize)
    {
        let when = hit
            .at
            .with_timezone(&state.view.utc_offset)
            .format("%d %b %H:%M")
            .to_string();
        let who = if hit.outgoing {
            format!("you→{}", hit.peer.team_label())
        } else {
            hit.peer.team_label().to_string()
        };
        let head = format!("{when}  {}  ", pad(&truncate(&who, 12), 12));
        let text = truncate(
            &hit.text.replace('\n', " ⏎ "),
            width.saturating_sub(head.chars().count()),
        );
        let mut line = Line::from(vec![Span::styled(head, theme.dim()), Span::raw(text)]);
        if i == search.selected {
            line = line.style(theme.selected());
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), list);
    let footer = format!(
        "↑↓ choose · {}: show it, then n / Shift+N for the others · {}: back where you were",
        screen_key(ScreenAction::Submit),
        screen_key(ScreenAction::Close)
    );
    frame.render_widget(
        Paragraph::new(Span::styled(truncate(&footer, width), theme.dim())),
        Rect::new(inner.x, inner.bottom() - 1, inner.width, 1),
    );
}
