//! What the screen shows and where the keyboard goes: plain data, changed by `update`
//! (the terminal front end also sets the bell and the time zone once, at start-up). The
//! terminal front end draws it; the headless one ignores it.

use std::collections::HashMap;

use chrono::{FixedOffset, NaiveDate};
use tui_input::{Input, InputRequest};

pub use crate::event::screen::{Focus, PAGE, ScreenAction, Scroll, Selection};

/// Sent lines kept for recall with Up/Down in the compose box.
pub const RECALL_LINES: usize = 100;

/// One labelled text field of a form.
#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub hint: &'static str,
    pub input: Input,
    pub error: Option<String>,
}

impl Field {
    pub fn new(label: &'static str, hint: &'static str, value: &str) -> Self {
        Self {
            label,
            hint,
            input: Input::new(value.to_string()),
            error: None,
        }
    }

    pub fn value(&self) -> &str {
        self.input.value().trim()
    }
}

/// A small form: fields in order, Enter moves on and submits on the last one.
#[derive(Debug, Clone)]
pub struct Form {
    pub title: &'static str,
    pub fields: Vec<Field>,
    pub focus: usize,
}

impl Form {
    /// The original's option 1 prompts: the recipient's IP and port, plus its team
    /// (optional) and the message (optional: empty just opens the conversation).
    pub fn new_recipient() -> Form {
        Form {
            title: "New recipient",
            fields: vec![
                Field::new("IP", "e.g. 10.213.8.143", ""),
                Field::new("Port", "e.g. 8080", ""),
                Field::new("Team", "optional, one word", ""),
                Field::new("Message", "optional", ""),
            ],
            focus: 0,
        }
    }

    /// The original's start-up prompts.
    pub fn startup(name: Option<&str>, port: Option<u16>) -> Form {
        let port = port.map(|p| p.to_string()).unwrap_or_default();
        Form {
            title: "Start brigade",
            fields: vec![
                Field::new("Team name", "one word, what peers see", name.unwrap_or("")),
                Field::new("Port", "where peers reach you, e.g. 9991", &port),
            ],
            focus: 0,
        }
    }

    pub fn edit(&mut self, request: InputRequest) {
        if let Some(field) = self.fields.get_mut(self.focus) {
            field.input.handle(request);
            field.error = None;
        }
    }

    pub fn paste(&mut self, text: &str) {
        for c in single_line(text).chars() {
            self.edit(InputRequest::InsertChar(c));
        }
    }

    pub fn on_last(&self) -> bool {
        self.focus + 1 >= self.fields.len()
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1).min(self.fields.len().saturating_sub(1));
    }

    pub fn prev(&mut self) {
        self.focus = self.focus.saturating_sub(1);
    }

    /// The start-up form's values: a valid team name and a port (0 picks a free one).
    /// On error, the field index and what to do.
    pub fn startup_values(&self) -> Result<(String, u16), (usize, String)> {
        let team = self.fields[0].value();
        crate::protocol::check_team_name(team).map_err(|e| (0, e))?;
        let port = self.fields[1].value().parse::<u16>().map_err(|_| {
            (
                1,
                "a port is a number from 1 to 65535 (0 picks a free one)".to_string(),
            )
        })?;
        Ok((team.to_string(), port))
    }

    /// Puts an error on a field and moves there.
    pub fn fail(&mut self, field: usize, error: String) {
        if let Some(f) = self.fields.get_mut(field) {
            f.error = Some(error);
            self.focus = field;
        }
    }
}

#[derive(Debug, Clone, Default)]
pub enum Overlay {
    #[default]
    None,
    Help,
    NewRecipient(Form),
    Search(SearchView),
    /// "Disconnect this peer?": y or Enter confirms, Esc (or anything else) cancels.
    Confirm(crate::event::screen::PeerId),
    /// "N messages not delivered yet: quit anyway?": the same answers. `waiting` are
    /// being delivered (a quit waits for them), `held` wait for a changed key's trust
    /// (a quit leaves them in the history).
    ConfirmQuit {
        waiting: usize,
        held: usize,
    },
    /// "Forget this peer?": k keeps its history, d deletes it, Esc cancels.
    Forget(crate::event::screen::PeerId),
    /// "Trust this peer's new key?" (or, after a downgrade, "accept plaintext?"): y or
    /// Enter accepts, Esc (or anything else) cancels and the messages stay held.
    ConfirmTrust(crate::event::screen::PeerId),
    /// F2, `/doctor`: the running discovery's report, scrolled like the help.
    Doctor(DoctorView),
}

/// The doctor view: the report's lines and how many are scrolled off its top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoctorView {
    pub lines: Vec<String>,
    pub scroll: usize,
}

/// Ctrl+F: a query over the whole history and its hits, newest first.
#[derive(Debug, Clone, Default)]
pub struct SearchView {
    pub input: Input,
    /// The query the hits answer (they may lag behind the input while typing).
    pub answered: String,
    pub hits: Vec<crate::event::Record>,
    pub selected: usize,
    /// Going through the hits in their conversations (after Enter): the query box is
    /// put away, n/N and ↑/↓ jump from hit to hit, Esc goes back.
    pub browsing: bool,
    /// The chosen hit is older than the loaded log: older history is being loaded to
    /// show it.
    pub waiting: bool,
    /// Where the view was when the search opened: Esc returns there.
    pub back: Option<Back>,
}

/// Where the log was before a search moved it: the conversation and the exact scroll
/// position in it (and its unread marker and highlight).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Back {
    pub selection: Selection,
    pub scroll: usize,
    pub scroll_lines: isize,
    pub at_top: bool,
    pub focus: Focus,
    pub unread_from: Option<usize>,
    pub found: Option<(usize, String)>,
}

/// A short line in the status bar: the last error or hint, until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

#[derive(Debug, Clone)]
pub struct View {
    pub selection: Selection,
    /// The first entry the peer list shows, as last drawn (settled by the front end):
    /// kept while the selection stays in view, so a click never scrolls the list
    /// under the mouse.
    pub peer_top: usize,
    pub focus: Focus,
    pub overlay: Overlay,
    pub compose: Input,
    /// Lines sent, newest last, for recall.
    pub sent: Vec<String>,
    /// While recalling: the index in `sent`, and the draft to return to.
    pub recall: Option<(usize, String)>,
    /// Log entries of the current view hidden below the entry at the bottom edge
    /// (0 and no `scroll_lines`: following the newest).
    pub scroll: usize,
    /// Lines of that bottom entry hidden below the pane's edge. Scrolling changes it by
    /// lines; the front end, which knows how tall entries are, settles it back into
    /// that entry's range and clamps it at the oldest line (`settle_scroll`).
    pub scroll_lines: isize,
    /// The oldest loaded line is on screen (as of the last settle).
    pub at_top: bool,
    /// A search just jumped to `found`: the front end's next placing brings its first
    /// highlighted line into view (a long message may be taller than the pane), and
    /// the settle that stores that position clears this.
    pub reveal: bool,
    /// Lines one PgUp/PgDn moves: the log pane's height less one (set on settle).
    pub page: usize,
    /// The local date today, for the day separators ("Today", "Yesterday"); the front
    /// end sets it, the store has no clock.
    pub today: Option<NaiveDate>,
    /// The compose drafts of the conversations not on screen.
    pub drafts: HashMap<Selection, Input>,
    /// Position in the current view of the first message unread when it was opened:
    /// a marker line sits above it until another conversation is selected.
    pub unread_from: Option<usize>,
    /// Lines of the help overlay scrolled off its top.
    pub help_scroll: usize,
    /// The search hit jumped to (its log index) and the query, highlighted in it.
    pub found: Option<(usize, String)>,
    /// Messages that arrived below while scrolled up.
    pub new_below: usize,
    pub flash: Option<Flash>,
    /// Ring the bell for messages that arrive off screen.
    pub bell: bool,
    /// Quitting with undelivered messages asks first (the terminal front end; the
    /// headless one quits as before).
    pub ask_before_quit: bool,
    /// Local time offset for timestamps (the store itself has no clock or zone).
    pub utc_offset: FixedOffset,
}

impl Default for View {
    fn default() -> Self {
        Self {
            selection: Selection::All,
            peer_top: 0,
            focus: Focus::Compose,
            overlay: Overlay::None,
            compose: Input::default(),
            sent: Vec::new(),
            recall: None,
            scroll: 0,
            scroll_lines: 0,
            at_top: false,
            reveal: false,
            page: PAGE,
            today: None,
            drafts: HashMap::new(),
            unread_from: None,
            found: None,
            help_scroll: 0,
            new_below: 0,
            flash: None,
            bell: false,
            ask_before_quit: false,
            utc_offset: FixedOffset::east_opt(0).expect("zero is a valid offset"),
        }
    }
}

impl View {
    /// Following the newest line: new messages scroll into view.
    pub fn following(&self) -> bool {
        self.scroll == 0 && self.scroll_lines <= 0
    }
}

/// Where the log pane really is, as the front end measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    pub scroll: usize,
    pub scroll_lines: isize,
    pub at_top: bool,
    pub page: usize,
}

/// Pasted or typed text for a one-line field: sanitized like remote text (escape
/// sequences go whole, not just their ESC, so no residue such as `[31m` is kept and
/// sent), then line breaks become spaces.
pub fn single_line(text: &str) -> String {
    crate::protocol::sanitize_text(text).replace('\n', " ")
}

/// The compose box less the line the cursor is on (and one line break): the cursor
/// goes to the start of the next line, or to the end of the one before on the last.
pub(super) fn without_cursor_line(input: &tui_input::Input) -> tui_input::Input {
    let value = input.value();
    let at = value
        .char_indices()
        .nth(input.cursor())
        .map_or(value.len(), |(i, _)| i);
    let start = value[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = value[at..].find('\n').map_or(value.len(), |i| at + i);
    let (cut, cursor) = if end < value.len() {
        (start..end + 1, start)
    } else {
        let from = start.saturating_sub(1);
        (from..end, from)
    };
    let mut text = value.to_string();
    text.replace_range(cut, "");
    let cursor = text[..cursor].chars().count();
    tui_input::Input::new(text).with_cursor(cursor)
}
