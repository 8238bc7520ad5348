//! After a search jump: where the log pane puts a found message taller than the pane,
//! so that the matched line, not just the message's end, is in view.

use ratatui::style::Style;
use ratatui::text::Line;

use crate::store::State;

/// Right after a search jump (`View::reveal`), the found message is the bottom entry:
/// the lines of it to hide below the pane's edge so that its first highlighted line is
/// in view, mid-pane, when the message is taller than the pane (0 when it fits).
/// `entry_lines` lays out the i-th entry of the view; `found` is the highlight's style.
pub(super) fn found_line(
    state: &State,
    height: usize,
    found: Style,
    entry_lines: impl FnOnce(usize) -> Vec<Line<'static>>,
) -> Option<isize> {
    let (index, query) = state.view.found.as_ref().filter(|_| state.view.reveal)?;
    let total = state.view_len();
    let i = total.checked_sub(1 + state.view.scroll)?;
    if !std::ptr::eq(state.view_entry(i), state.log.get(*index)?) {
        return None;
    }
    let lines = entry_lines(i);
    if lines.len() < height {
        return Some(0);
    }
    let query = query.to_lowercase();
    let line = lines.iter().position(|l| {
        l.spans
            .iter()
            .any(|s| s.style == found && s.content.to_lowercase() == query)
    })?;
    let below = lines.len() - 1 - line;
    Some(below.saturating_sub(height / 2) as isize)
}
