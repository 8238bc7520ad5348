//! Wrapping text to a width in terminal cells: at spaces when it can, inside a word
//! when it must, on hard line breaks always. Wide characters never straddle the edge.

use unicode_width::UnicodeWidthChar;

/// Display width of a string in cells.
pub fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Cuts `s` to at most `max` cells, with `…` when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// Cuts `s` to at most `max` cells by eliding its middle, so that both its start and
/// its end still tell it apart: `Kimberly` in 6 cells is `Kim…ly`.
pub fn elide_middle(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max < 3 {
        return truncate(s, max);
    }
    let tail_room = (max - 1) / 2;
    let mut tail = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > tail_room {
            break;
        }
        tail.push(c);
        used += w;
    }
    let head_room = max - 1 - used;
    let mut out = String::new();
    let mut head = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if head + w > head_room {
            break;
        }
        out.push(c);
        head += w;
    }
    out.push('…');
    out.extend(tail.into_iter().rev());
    out
}

/// Pads `s` with spaces to `cells` wide.
pub fn pad(s: &str, cells: usize) -> String {
    let mut out = s.to_string();
    out.push_str(&" ".repeat(cells.saturating_sub(width(s))));
    out
}

/// Wraps `text` into lines of at most `max` cells (at least one line).
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(2);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        wrap_paragraph(paragraph, max, &mut lines);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

fn wrap_paragraph(text: &str, max: usize, lines: &mut Vec<String>) {
    let mut line = String::new();
    let mut used = 0;
    for word in split_keeping_spaces(text) {
        let w = width(word);
        if used + w <= max {
            line.push_str(word);
            used += w;
            continue;
        }
        if word.trim().is_empty() {
            // A space at the edge ends the line.
            lines.push(std::mem::take(&mut line));
            used = 0;
            continue;
        }
        if used > 0 && w <= max {
            lines.push(std::mem::take(&mut line));
            line.push_str(word);
            used = w;
            continue;
        }
        // A word longer than a line: break it by characters.
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > max {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    lines.push(line);
}

/// "a  b c" -> ["a", "  ", "b", " ", "c"]
fn split_keeping_spaces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let space = rest.starts_with(' ');
        let end = rest
            .find(|c: char| (c == ' ') != space)
            .unwrap_or(rest.len());
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(
            wrap("are you coming to the lab", 12),
            ["are you ", "coming to ", "the lab"]
        );
    }

    #[test]
    fn breaks_long_words() {
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn keeps_hard_breaks_and_empty_lines() {
        assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
        assert_eq!(wrap("", 10), [""]);
    }

    #[test]
    fn wide_characters_never_straddle_the_edge() {
        for line in wrap("日本語のテキストです", 5) {
            assert!(width(&line) <= 5, "{line}");
        }
    }

    #[test]
    fn every_line_fits() {
        let text = "x ".repeat(50) + &"y".repeat(30) + " 😀😀😀 z";
        for max in 2..20 {
            for line in wrap(&text, max) {
                assert!(width(&line) <= max, "{max}: {line:?}");
            }
        }
    }

    #[test]
    fn eliding_the_middle_keeps_both_ends() {
        assert_eq!(elide_middle("Kimberly", 6), "Kim…ly");
        assert_eq!(elide_middle("Kim", 6), "Kim");
        assert_ne!(elide_middle("Kimberly", 4), elide_middle("Kimball", 4));
        assert!(width(&elide_middle("日本語テキスト", 5)) <= 5);
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("Team_Subhra", 6), "Team_…");
        assert_eq!(truncate("B", 6), "B");
        assert_eq!(truncate("日本語", 4), "日…");
    }
}
