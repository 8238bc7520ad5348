//! The one place where remote text is made safe for the screen, the history and the logs.
//!
//! What goes: C0 and C1 controls (except `\n`), DEL, whole escape sequences (CSI, OSC,
//! DCS, SOS, PM, APC and two-byte escapes, in 7-bit and 8-bit form), bidi controls,
//! zero-width and other invisible format characters, Unicode tag characters.
//! What changes: `\r\n` and lone `\r` become `\n`; tabs expand to spaces (tab stop 4);
//! line and paragraph separators become `\n`; runs of zero-width (combining) characters
//! are capped at [`MAX_COMBINING_RUN`] per base character.
//! The result is idempotent: sanitizing sanitized text changes nothing.

use unicode_width::UnicodeWidthChar;

/// Longest run of zero-width characters (combining marks, variation selectors) kept after
/// one base character. Enough for any real script; a "zalgo" flood is cut to this.
pub const MAX_COMBINING_RUN: usize = 4;
/// Tab stop used when expanding tabs.
pub const TAB_STOP: usize = 4;

/// Sanitizes a remote message text. Newlines are kept (a message may have several lines;
/// the UI indents continuation lines so they cannot pass for a new sender).
pub fn sanitize_text(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut col = 0usize; // chars since the last newline, for tab expansion
    let mut combining_run = 0usize;
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                out.push('\n');
                col = 0;
                combining_run = 0;
            }
            '\r' => {
                // "\r\n" and a lone "\r" both become one newline.
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
                col = 0;
                combining_run = 0;
            }
            '\u{2028}' | '\u{2029}' => {
                out.push('\n');
                col = 0;
                combining_run = 0;
            }
            '\t' => {
                let n = TAB_STOP - (col % TAB_STOP);
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
                combining_run = 0;
            }
            '\u{1b}' => skip_escape_sequence(&mut chars),
            // 8-bit CSI, DCS, OSC, SOS, PM, APC introduce a sequence like their ESC forms.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{9d}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                skip_string_sequence(&mut chars)
            }
            c if is_removed(c) => {}
            c if c.width() == Some(0) => {
                // Combining marks and other zero-width characters attach to the previous
                // character; a run at the start of a line has nothing to attach to.
                if col > 0 && combining_run < MAX_COMBINING_RUN {
                    out.push(c);
                    combining_run += 1;
                }
            }
            c => {
                out.push(c);
                col += 1;
                combining_run = 0;
            }
        }
    }
    out
}

/// Sanitizes a remote single-token field (a team name): the same rules, then every
/// whitespace run becomes `_` so it stays one token, and it is cut to `max_chars`.
pub fn sanitize_token(input: &str, max_chars: usize) -> String {
    let clean = sanitize_text(input);
    let mut out = String::with_capacity(clean.len());
    let mut count = 0;
    let mut last_was_space = false;
    for c in clean.chars() {
        if count >= max_chars {
            break;
        }
        if c.is_whitespace() {
            if !last_was_space && !out.is_empty() {
                out.push('_');
                count += 1;
            }
            last_was_space = true;
            continue;
        }
        last_was_space = false;
        out.push(c);
        count += 1;
    }
    out
}

/// A short one-line preview of arbitrary bytes for "rejected input" reports.
pub fn preview(raw: &[u8], max_chars: usize) -> String {
    let take = raw.len().min(max_chars * 4);
    let text = String::from_utf8_lossy(&raw[..take]);
    let clean = sanitize_text(&text).replace('\n', " ⏎ ");
    let mut out: String = clean.chars().take(max_chars).collect();
    if clean.chars().count() > max_chars || raw.len() > take {
        out.push('…');
    }
    out
}

/// Characters dropped outright: controls, bidi controls, invisible format characters.
fn is_removed(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'          // C0 (\n, \r, \t, ESC handled before)
        | '\u{7f}'..='\u{9f}'       // DEL and C1
        | '\u{61c}'                 // Arabic letter mark
        | '\u{200b}'               // zero-width space (ZWNJ and ZWJ stay: emoji, Indic)
        | '\u{200e}'..='\u{200f}'   // LRM, RLM
        | '\u{202a}'..='\u{202e}'   // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}'   // bidi isolates
        | '\u{206a}'..='\u{206f}'   // deprecated format characters
        | '\u{180e}'                // Mongolian vowel separator
        | '\u{feff}'                // BOM / zero-width no-break space
        | '\u{fff9}'..='\u{fffb}'   // interlinear annotations
        | '\u{e0000}'..='\u{e007f}' // tag characters
    )
}

fn skip_escape_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string_sequence(chars);
        }
        // Two-byte escapes (ESC 7, ESC c, ESC ( B ...): drop the intermediates and final.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while let Some(&c) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&c) {
                    break;
                }
            }
        }
        Some(c) if ('\u{30}'..='\u{7e}').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

/// CSI: parameter and intermediate bytes, then one final byte in 0x40..=0x7e.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(&c) = chars.peek() {
        if ('\u{20}'..='\u{3f}').contains(&c) {
            chars.next();
        } else {
            if ('\u{40}'..='\u{7e}').contains(&c) {
                chars.next();
            }
            return;
        }
    }
}

/// OSC, DCS, SOS, PM, APC: everything up to BEL, ST (ESC \ or U+9C), or the end.
fn skip_string_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: &str) {
        assert_eq!(sanitize_text(input), expected, "input {input:?}");
    }

    #[test]
    fn escape_sequences_are_removed_whole() {
        check("\x1b[31mred\x1b[0m", "red");
        check("\x1b[2J\x1b[Hclear", "clear");
        check("\x1b]0;evil title\x07after", "after");
        check("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link");
        check("\x1bPq#0;2;0;0;0\x1b\\img", "img");
        check("\u{9b}31mred", "red");
        check("\x1b(Bok", "ok");
        check("\x1bcreset", "reset");
        check("trailing\x1b", "trailing");
        check("\x1b[", "");
    }

    #[test]
    fn controls_are_removed_or_mapped() {
        check("a\x00b\x07c\x08d\x7fe\u{85}f", "abcdef");
        check("one\r\ntwo\rthree\n", "one\ntwo\nthree\n");
        check("a\tb", "a   b");
        check("abcd\te", "abcd    e");
        check("x\u{2028}y", "x\ny");
    }

    #[test]
    fn bidi_and_invisible_characters_are_removed() {
        check("\u{202e}evil\u{202c}", "evil");
        check(
            "a\u{200b}bc\u{feff}d\u{2066}e\u{2069}\u{61c}\u{200e}",
            "abcde",
        );
        check("tag\u{e0041}\u{e007f}", "tag");
    }

    #[test]
    fn combining_runs_are_capped() {
        let zalgo = format!("a{}b", "\u{301}".repeat(500));
        let clean = sanitize_text(&zalgo);
        assert_eq!(clean, format!("a{}b", "\u{301}".repeat(MAX_COMBINING_RUN)));
        // Nothing to attach to at the start of a line.
        check("\u{301}x", "x");
        // Real text keeps its marks.
        check("cafe\u{301}", "cafe\u{301}");
    }

    #[test]
    fn joiners_and_variation_selectors_stay_for_emoji_and_indic_scripts() {
        // Family emoji (ZWJ sequence), a heart with VS16, Hindi with a virama + ZWJ,
        // Persian with ZWNJ.
        for text in [
            "👨\u{200d}👩\u{200d}👧",
            "❤\u{fe0f}",
            "क्\u{200d}ष",
            "می\u{200c}خواهم",
        ] {
            check(text, text);
        }
    }

    #[test]
    fn wide_characters_pass() {
        check("日本語 😀", "日本語 😀");
    }

    #[test]
    fn tokens_are_single_words() {
        assert_eq!(sanitize_token("Team\x1b[31m Red\tX", 32), "Team_Red_X");
        assert_eq!(sanitize_token("abcdefgh", 4), "abcd");
        assert_eq!(sanitize_token("  lead", 8), "lead");
    }

    #[test]
    fn preview_is_one_short_line() {
        assert_eq!(preview(b"a\nb\x1b[1mc", 20), "a ⏎ bc");
        assert_eq!(preview(&[b'x'; 100], 5), "xxxxx…");
        assert_eq!(preview(&[0xff, 0xfe], 5), "\u{fffd}\u{fffd}");
    }
}

/// Cases found by mutation testing (`docs/TESTING.md`, "Mutation testing"): each one fails
/// on a mutant of the code above that the other tests let through.
#[cfg(test)]
mod mutation_tests {
    use super::*;

    #[test]
    fn a_second_tab_on_a_line_stops_at_the_next_tab_stop() {
        // The column must advance by the spaces a tab expanded to, not be scaled by them.
        assert_eq!(sanitize_text("a\tb\tc"), "a   b   c");
    }

    #[test]
    fn an_escape_right_after_an_escape_still_starts_a_sequence() {
        // ESC followed by a character that is neither an intermediate nor a final byte
        // drops only the ESC; the next ESC must still swallow its whole sequence.
        assert_eq!(sanitize_text("\x1b\x1b[31mred"), "red");
        assert_eq!(sanitize_text("\x1b\u{e9}t\u{e9}"), "\u{e9}t\u{e9}");
    }

    #[test]
    fn a_token_counts_the_underscores_it_inserts() {
        assert_eq!(sanitize_token("ab cd", 3), "ab_");
    }

    #[test]
    fn preview_marks_a_cut_only_when_something_was_cut() {
        // Exactly at the limit: nothing cut.
        assert_eq!(preview(b"abcde", 5), "abcde");
        // One char over, raw bytes well within the byte budget: cut.
        assert_eq!(preview(b"abcdef", 5), "abcde…");
        // Many bytes that sanitize to nothing: the bytes were cut, so say so.
        assert_eq!(preview(&[1u8; 100], 5), "…");
    }

    #[test]
    fn preview_reads_up_to_four_bytes_per_char() {
        // Five two-byte chars fit the budget of 5 * 4 bytes whole.
        assert_eq!(preview("ééééé".as_bytes(), 5), "ééééé");
    }
}
