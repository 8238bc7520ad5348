//! What keys and the mouse ask of the terminal screen: plain data the input layer makes
//! and the store applies.

use tui_input::InputRequest;

/// Lines one PgUp/PgDn moves before the front end has told the store the log's height.
pub const PAGE: usize = 10;

/// Index of a peer in the store's peer table; stable for the life of the state, so log
/// entries keep pointing at the right peer when its team becomes known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub usize);

/// Whose conversation is on screen, and who Enter sends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Selection {
    /// Every conversation in one stream; Enter sends to every listed peer.
    #[default]
    All,
    Peer(PeerId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    Peers,
    Log,
    #[default]
    Compose,
}

impl Focus {
    pub fn next(self) -> Focus {
        match self {
            Focus::Peers => Focus::Log,
            Focus::Log => Focus::Compose,
            Focus::Compose => Focus::Peers,
        }
    }

    pub fn prev(self) -> Focus {
        self.next().next()
    }
}

/// Screen actions: what keys and the mouse ask of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreenAction {
    /// Edit the compose box, or the focused field of an open form.
    Edit(InputRequest),
    Paste(String),
    /// Enter: send, or next field / submit in a form.
    Submit,
    NextField,
    PrevField,
    SelectNext,
    SelectPrev,
    Select(Selection),
    FocusNext,
    FocusPrev,
    Focus(Focus),
    Scroll(Scroll),
    /// Up/Down in the compose box: older or newer sent line.
    RecallOlder,
    RecallNewer,
    OpenHelp,
    OpenNewRecipient,
    /// Ctrl+F: search the history.
    OpenSearch,
    /// Esc: close the overlay.
    Close,
    /// Ctrl+D: send `exit` to the selected peer.
    DisconnectSelected,
    /// Ctrl+T: trust the new key of the selected peer (after a key change).
    TrustSelected,
    /// Ctrl+Y: mark the selected peer's key verified (safety numbers compared).
    VerifySelected,
    /// Ctrl+Z: hand the terminal back to the shell.
    Suspend,
    /// Ctrl+L: clear and draw the whole screen again (the terminal front end does it).
    Repaint,
    /// Alt+W: copy the newest message on screen to the clipboard (OSC 52).
    CopyMessage,
    /// F2: the doctor view, the running discovery's report (why can't I see them?).
    OpenDoctor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// Log scrolling, in lines.
pub enum Scroll {
    Up(usize),
    Down(usize),
    /// A page: the log pane's height less one line of context.
    PageUp,
    PageDown,
    Top,
    Bottom,
}
