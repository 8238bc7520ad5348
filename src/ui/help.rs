//! The help overlay, drawn from the keymap and the slash-command table themselves, at
//! any width from the full box down to a 40-column window (nothing cut: text wraps).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::layout::centered;
use super::theme::Theme;
use super::wrap::{pad, truncate, wrap};
use crate::event::PublicKey;
use crate::keymap::{keymap, screen_key};
use crate::store::ScreenAction;

/// The help's section on slash commands, from the one table in `crate::slash`, within
/// `inner` columns (what a command does wraps under it when the window is narrow).
fn slash_lines(inner: usize, theme: Theme) -> Vec<Line<'static>> {
    let title = "Slash commands in the compose box (//text sends /text; Tab completes):";
    let mut lines = wrapped(title, inner, theme);
    for (name, args, does) in crate::slash::COMMANDS {
        let command = format!("/{name} {args}");
        lines.extend(two_columns(&command, 28, does, inner, theme));
    }
    lines
}

/// Dim text wrapped to `inner` columns.
fn wrapped(text: &str, inner: usize, theme: Theme) -> Vec<Line<'static>> {
    wrap(text, inner.max(1))
        .into_iter()
        .map(|l| Line::from(Span::styled(l, theme.dim())))
        .collect()
}

/// A name in a column of `left` cells and what it does beside it, wrapped to the rest
/// of `inner` with its continuation lines under the second column; when that would
/// leave the text too narrow a column, the name gets a line of its own and the text
/// follows, indented.
fn two_columns(
    name: &str,
    left: usize,
    does: &str,
    inner: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    const NARROWEST: usize = 24;
    let (left, mut lines) = if inner >= left + NARROWEST {
        (left, Vec::new())
    } else {
        let name = Line::from(Span::styled(truncate(name, inner), theme.accent()));
        (2, vec![name])
    };
    let rest = inner.saturating_sub(left).max(1);
    for (i, part) in wrap(does, rest).into_iter().enumerate() {
        let head = if i == 0 && lines.is_empty() {
            pad(&truncate(name, left - 1), left)
        } else {
            " ".repeat(left)
        };
        lines.push(Line::from(vec![
            Span::styled(head, theme.accent()),
            Span::raw(part),
        ]));
    }
    lines
}

/// The help box's width, borders included (narrower windows get all they have).
const HELP_WIDTH: u16 = 76;

/// The key table: its header line, then each binding. In the full width a third
/// column names the original menu option; narrower, it follows what the key does, in
/// brackets, and that text wraps under its column.
fn key_table(inner: usize, theme: Theme) -> Vec<Line<'static>> {
    let full = inner >= usize::from(HELP_WIDTH) - 2;
    let mut header = vec![Span::styled(pad("key", 18), theme.dim())];
    header.push(Span::styled(
        if full { pad("does", 46) } else { "does".into() },
        theme.dim(),
    ));
    if full {
        header.push(Span::styled("original", theme.dim()));
    }
    let mut lines = vec![Line::from(header)];
    let rows = keymap()
        .iter()
        .filter(|b| !b.help.is_empty())
        .map(|b| (b.keys_label(), b.help, b.menu))
        .chain([(
            "(always on)".to_string(),
            "the peer list: Active / Connected",
            "2",
        )]);
    for (keys, does, menu) in rows {
        if full {
            lines.push(Line::from(vec![
                Span::styled(pad(&truncate(&keys, 17), 18), theme.accent()),
                Span::raw(pad(does, 46)),
                Span::styled(menu, theme.bold()),
            ]));
        } else {
            let does = match menu {
                "" => does.to_string(),
                menu => format!("{does} [{menu}]"),
            };
            lines.extend(two_columns(&keys, 18, &does, inner, theme));
        }
    }
    lines
}

/// This brigade's safety number and what it is for, within `inner` columns: the
/// number is never cut, it takes two lines of six groups when one is too narrow.
fn safety_number_lines(key: PublicKey, inner: u16, theme: Theme) -> Vec<Line<'static>> {
    let inner = inner as usize;
    let label = "Your safety number (read it aloud with a peer to verify each other):";
    let label = if label.len() <= inner {
        label
    } else {
        "Your safety number:"
    };
    let number = key.safety_number().to_string();
    let groups: Vec<&str> = number.split(' ').collect();
    let rows = if number.len() <= inner {
        vec![number.clone()]
    } else {
        groups
            .chunks(groups.len().div_ceil(2))
            .map(|g| g.join(" "))
            .collect()
    };
    let mut lines = vec![Line::from(Span::styled(label, theme.dim()))];
    lines.extend(
        rows.into_iter()
            .map(|row| Line::from(Span::styled(row, theme.bold()))),
    );
    lines
}

/// The help's lines at `area`'s width, and how many of them stay while the rest
/// scrolls (the safety number, when known, and the table's header).
fn help_lines(area: Rect, theme: Theme, me: Option<PublicKey>) -> (Vec<Line<'static>>, usize) {
    let inner = area.width.min(HELP_WIDTH).saturating_sub(2);
    let mut lines = me.map_or_else(Vec::new, |key| safety_number_lines(key, inner, theme));
    let fixed = lines.len() + 1;
    let inner = inner as usize;
    lines.extend(key_table(inner, theme));
    lines.extend(wrapped(
        "Before a name: - plain · + encrypted · = verified · ! key changed",
        inner,
        theme,
    ));
    lines.extend(slash_lines(inner, theme));
    lines.push(Line::raw(""));
    let close = format!(
        "Click a peer to write to it; the wheel scrolls the log. {} closes.",
        screen_key(ScreenAction::Close)
    );
    lines.extend(wrapped(&close, inner, theme));
    (lines, fixed)
}

/// Where the help's scrolling part starts at `area`, for the asked `scroll`: past the
/// end it stops at the last page (the front end keeps the store's scroll there, so
/// scrolling back up starts at once).
pub fn help_first(area: Rect, scroll: usize, me: Option<PublicKey>) -> usize {
    let (lines, fixed) = help_lines(area, Theme::MONO, me);
    let room = area.height.saturating_sub(2) as usize;
    if lines.len() > room && room > fixed {
        scroll.min(lines.len() - fixed - (room - fixed - 1))
    } else {
        0
    }
}

pub fn render_help(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    scroll: usize,
    me: Option<PublicKey>,
) {
    let (mut lines, fixed) = help_lines(area, theme, me);
    // Too short a window: it scrolls, and says so rather than cut the list silently.
    let room = area.height.saturating_sub(2) as usize;
    if lines.len() > room && room > fixed {
        let mut page: Vec<Line> = lines.drain(..fixed).collect();
        let shown = room - fixed - 1;
        let first = scroll.min(lines.len() - shown);
        let more = first + shown < lines.len();
        page.extend(lines.drain(first..first + shown));
        page.push(Line::from(Span::styled(
            match (first > 0, more) {
                (_, true) => "↓ more: ↑ ↓ PgUp PgDn scroll",
                (true, false) => "↑ more above: ↑ PgUp scroll",
                (false, false) => "",
            },
            theme.dim(),
        )));
        lines = page;
    }
    let rect = centered(area, HELP_WIDTH, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(Span::styled(
            " Help: every menu option is one key ",
            theme.bold(),
        ));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
