//! Rows a terminal may draw otherwise than ratatui thinks. ratatui measures a grapheme
//! (`❤️`, `👍🏽`, an emoji ZWJ sequence, a Devanagari conjunct) as one cell of its
//! width and redraws only the cells that changed; a terminal that measures code
//! points (tmux 3.3, many others) draws it wider or narrower, so a later frame leaves
//! pieces of old glyphs in cells ratatui believes are current. The front end writes
//! every row that holds such a grapheme, now or in the frame before, whole: erased,
//! then each run of cells at its own position ([`rewrite`]).

use std::io::Write;

use crossterm::cursor::{MoveTo, RestorePosition, SavePosition};
use crossterm::style::{Attribute, ResetColor, SetAttribute};
use crossterm::terminal::{Clear, ClearType};
use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Whether terminals may disagree about this cell's width: more than one code point
/// whose widths do not add up to the grapheme's, or (a conjunct, a modified emoji)
/// several that draw.
pub fn uncertain(symbol: &str) -> bool {
    let mut chars = symbol.chars();
    if chars.next().is_none() || chars.next().is_none() {
        return false;
    }
    let drawn: Vec<usize> = symbol.chars().filter_map(UnicodeWidthChar::width).collect();
    drawn.iter().sum::<usize>() != symbol.width() || drawn.iter().filter(|&&w| w > 0).count() > 1
}

/// The rows of `buffer` holding an uncertain cell, top first.
pub fn uncertain_rows(buffer: &Buffer) -> Vec<u16> {
    let area = buffer.area;
    (area.top()..area.bottom())
        .filter(|&y| (area.left()..area.right()).any(|x| uncertain(buffer[(x, y)].symbol())))
        .collect()
}

/// The cells of row `y` that draw (not those a wide cell before them covers), in
/// runs: a run ends after an uncertain cell, so the next one starts at its own
/// position whatever width the terminal gave that cell.
pub fn runs(buffer: &Buffer, y: u16) -> Vec<Vec<(u16, u16, Cell)>> {
    let area = buffer.area;
    let mut runs = vec![Vec::new()];
    let mut covered = 0;
    for x in area.left()..area.right() {
        let cell = &buffer[(x, y)];
        if covered > 0 {
            covered -= 1;
            continue;
        }
        if cell.diff_option == CellDiffOption::Skip {
            continue;
        }
        covered = cell.symbol().width().saturating_sub(1);
        runs.last_mut()
            .expect("never empty")
            .push((x, y, cell.clone()));
        if uncertain(cell.symbol()) {
            runs.push(Vec::new());
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// Writes `rows` of `buffer` again whole: each erased, then its runs of cells, each
/// placed by position; the cursor is put back where it was.
pub fn rewrite<B: Backend + Write>(
    backend: &mut B,
    buffer: &Buffer,
    rows: &[u16],
) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    crossterm::queue!(backend, SavePosition)?;
    for &y in rows {
        crossterm::queue!(
            backend,
            ResetColor,
            SetAttribute(Attribute::Reset),
            MoveTo(buffer.area.left(), y),
            Clear(ClearType::UntilNewLine)
        )?;
        for run in runs(buffer, y) {
            backend
                .draw(run.iter().map(|(x, y, cell)| (*x, *y, cell)))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
    }
    crossterm::queue!(backend, RestorePosition)?;
    Write::flush(backend)
}

#[cfg(test)]
mod tests {
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    use super::*;

    #[test]
    fn graphemes_terminals_may_measure_otherwise_are_found() {
        for sure in ["a", "日", "", " ", "e\u{301}"] {
            assert!(!uncertain(sure), "{sure:?}");
        }
        for unsure in [
            "\u{2764}\u{FE0F}",
            "👍🏽",
            "👩\u{200D}👩\u{200D}👧",
            "\u{0915}\u{094D}\u{0937}",
            "🇮🇳",
        ] {
            assert!(uncertain(unsure), "{unsure:?}");
        }
    }

    #[test]
    fn a_row_with_such_a_grapheme_is_erased_and_drawn_in_placed_runs() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 12, 3));
        buffer.set_string(0, 0, "plain", Style::default());
        buffer.set_string(0, 1, "a\u{2764}\u{FE0F}bc日d", Style::default());
        assert_eq!(uncertain_rows(&buffer), [1]);
        let runs = runs(&buffer, 1);
        let starts: Vec<u16> = runs.iter().map(|r| r[0].0).collect();
        // "a❤️" then, placed after the heart's two cells, "bc日d" and the blanks.
        assert_eq!(starts, [0, 3]);
        assert_eq!(
            runs[1].iter().map(|c| c.0).take(4).collect::<Vec<_>>(),
            [3, 4, 5, 7]
        );

        let mut written = Vec::new();
        rewrite(&mut CrosstermBackend::new(&mut written), &buffer, &[1]).unwrap();
        let out = String::from_utf8(written).unwrap();
        let erase = out
            .find("\x1b[2;1H\x1b[K")
            .expect("row 2 erased from its start");
        let heart = out.find('\u{2764}').unwrap();
        let after = out
            .find("\x1b[2;4H")
            .expect("the run after the heart placed");
        assert!(erase < heart && heart < after, "{out:?}");
        assert!(
            out.starts_with("\x1b7") && out.ends_with("\x1b8"),
            "{out:?}"
        );
        assert!(!out.contains("plain"), "only the uncertain row");
    }
}
