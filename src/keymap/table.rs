//! The table itself: every binding, in the order the help lists them.

use crossterm::event::KeyCode;
use tui_input::InputRequest;

use super::binding::{ALT, Binding, CTRL, NONE, SHIFT, When, also, bind, edit, screen};
use crate::event::screen::{Focus, Scroll};
use crate::event::{Action, ScreenAction};

use KeyCode::*;
use When::*;

/// Every binding, in the order the help lists them.
pub static KEYMAP: &[Binding] = &[
    bind(
        &[(Enter, NONE)],
        Main,
        screen(ScreenAction::Submit),
        "send to the selected peer (or to all)",
        "1",
    )
    .hint(3, "send"),
    bind(
        &[(Enter, ALT)],
        Main,
        edit(InputRequest::InsertChar('\n')),
        "a new line in the message (each line goes on its own)",
        "",
    ),
    bind(
        &[(Char('n'), CTRL)],
        Main,
        screen(ScreenAction::OpenNewRecipient),
        "write to a new IP and port",
        "1",
    )
    .hint(4, "new"),
    bind(
        &[(Char('k'), CTRL)],
        Main,
        Action::ConnectAll,
        "connect to every Active peer",
        "3",
    )
    .hint(5, "connect"),
    bind(
        &[(Char('d'), CTRL)],
        Main,
        screen(ScreenAction::DisconnectSelected),
        "disconnect the selected peer (sends exit)",
        "exit",
    )
    .hint(6, "disconnect"),
    bind(
        &[(Char('t'), CTRL)],
        Main,
        screen(ScreenAction::TrustSelected),
        "trust the selected peer's changed key (asks first)",
        "",
    ),
    bind(
        &[(Char('y'), CTRL)],
        Main,
        screen(ScreenAction::VerifySelected),
        "mark the selected peer verified (safety numbers match)",
        "",
    ),
    bind(
        &[(Char('r'), CTRL)],
        Main,
        Action::Retry { id: None },
        "retry the failed messages on screen",
        "",
    ),
    bind(
        &[(Char('x'), CTRL)],
        Main,
        Action::Drop { id: None },
        "give up on the failed messages on screen",
        "",
    ),
    bind(
        &[(Char('f'), CTRL)],
        Main,
        screen(ScreenAction::OpenSearch),
        "search all history; Enter jumps to the hit",
        "",
    ),
    bind(
        &[(Char('c'), CTRL), (Char('q'), CTRL)],
        Always,
        Action::Quit,
        "quit (asks if any are pending; twice: now)",
        "0",
    )
    .hint(2, "quit"),
    bind(
        &[(F(1), NONE)],
        Always,
        screen(ScreenAction::OpenHelp),
        "this help",
        "",
    )
    .hint(1, "help"),
    bind(
        &[(F(2), NONE)],
        Main,
        screen(ScreenAction::OpenDoctor),
        "why can't I see a peer? discovery's live report",
        "",
    ),
    bind(
        &[(Esc, NONE)],
        Always,
        screen(ScreenAction::Close),
        "close a form or this help; leave a search where you were",
        "",
    ),
    bind(
        &[(Up, ALT)],
        Main,
        screen(ScreenAction::SelectPrev),
        "previous / next peer, from anywhere",
        "",
    )
    .labelled("Alt+↑ Alt+↓"),
    also(&[(Down, ALT)], Main, screen(ScreenAction::SelectNext)),
    bind(
        &[(Tab, NONE)],
        Main,
        screen(ScreenAction::FocusNext),
        "next / previous pane",
        "",
    )
    .labelled("Tab Shift+Tab"),
    also(
        &[(BackTab, SHIFT), (BackTab, NONE)],
        Main,
        screen(ScreenAction::FocusPrev),
    ),
    bind(
        &[(Up, NONE)],
        Focused(Focus::Peers),
        screen(ScreenAction::SelectPrev),
        "peer list: choose; log: scroll",
        "",
    )
    .labelled("↑ ↓"),
    bind(
        &[(Down, NONE)],
        Focused(Focus::Peers),
        screen(ScreenAction::SelectNext),
        "",
        "",
    ),
    bind(
        &[(Up, NONE)],
        Focused(Focus::Log),
        screen(ScreenAction::Scroll(Scroll::Up(1))),
        "",
        "",
    ),
    bind(
        &[(Down, NONE)],
        Focused(Focus::Log),
        screen(ScreenAction::Scroll(Scroll::Down(1))),
        "",
        "",
    ),
    bind(
        &[(Up, NONE)],
        Focused(Focus::Compose),
        screen(ScreenAction::RecallOlder),
        "compose box: recall sent lines",
        "",
    )
    .labelled("↑ ↓"),
    bind(
        &[(Down, NONE)],
        Focused(Focus::Compose),
        screen(ScreenAction::RecallNewer),
        "",
        "",
    ),
    bind(
        &[(PageUp, NONE)],
        Main,
        screen(ScreenAction::Scroll(Scroll::PageUp)),
        "scroll the log a page",
        "",
    )
    .labelled("PgUp PgDn"),
    also(
        &[(PageDown, NONE)],
        Main,
        screen(ScreenAction::Scroll(Scroll::PageDown)),
    ),
    bind(
        &[(Home, NONE)],
        Main,
        screen(ScreenAction::Scroll(Scroll::Top)),
        "oldest / newest line",
        "",
    )
    .labelled("Home End"),
    also(
        &[(End, NONE)],
        Main,
        screen(ScreenAction::Scroll(Scroll::Bottom)),
    ),
    bind(
        &[(Char('l'), CTRL)],
        Always,
        screen(ScreenAction::Repaint),
        "repaint the whole screen",
        "",
    ),
    bind(
        &[(Char('z'), CTRL)],
        Main,
        screen(ScreenAction::Suspend),
        "suspend to the shell (fg resumes)",
        "",
    ),
    bind(
        &[(Char('w'), ALT)],
        Main,
        screen(ScreenAction::CopyMessage),
        "copy the newest message on screen (OSC 52 clipboard)",
        "",
    ),
    bind(
        &[(Up, NONE)],
        Help,
        screen(ScreenAction::Scroll(Scroll::Up(1))),
        "help: scroll it (also PgUp PgDn Home End)",
        "",
    )
    .labelled("↑ ↓"),
    also(
        &[(Down, NONE)],
        Help,
        screen(ScreenAction::Scroll(Scroll::Down(1))),
    ),
    also(
        &[(PageUp, NONE)],
        Help,
        screen(ScreenAction::Scroll(Scroll::PageUp)),
    ),
    also(
        &[(PageDown, NONE)],
        Help,
        screen(ScreenAction::Scroll(Scroll::PageDown)),
    ),
    also(
        &[(Home, NONE)],
        Help,
        screen(ScreenAction::Scroll(Scroll::Top)),
    ),
    also(
        &[(End, NONE)],
        Help,
        screen(ScreenAction::Scroll(Scroll::Bottom)),
    ),
    bind(
        &[(Char('n'), NONE), (Down, NONE)],
        Search,
        screen(ScreenAction::NextField),
        "after a search's Enter: next / previous hit",
        "",
    )
    .labelled("n Shift+N ↓ ↑"),
    also(
        &[(Char('n'), SHIFT), (Up, NONE)],
        Search,
        screen(ScreenAction::PrevField),
    ),
    bind(
        &[(Enter, NONE)],
        Search,
        screen(ScreenAction::Submit),
        "stay at this hit (Esc: back where you were)",
        "",
    ),
    bind(
        &[(Char('f'), CTRL)],
        Search,
        screen(ScreenAction::OpenSearch),
        "change the query",
        "",
    ),
    bind(
        &[(Enter, NONE)],
        Form,
        screen(ScreenAction::Submit),
        "form: next field; on the last, submit",
        "",
    ),
    also(
        &[(Tab, NONE), (Down, NONE)],
        Form,
        screen(ScreenAction::NextField),
    ),
    also(
        &[(BackTab, SHIFT), (BackTab, NONE), (Up, NONE)],
        Form,
        screen(ScreenAction::PrevField),
    ),
    also(&[(Left, NONE)], Editing, edit(InputRequest::GoToPrevChar)),
    also(&[(Right, NONE)], Editing, edit(InputRequest::GoToNextChar)),
    also(
        &[(Left, CTRL), (Left, ALT), (Char('b'), ALT)],
        Editing,
        edit(InputRequest::GoToPrevWord),
    ),
    also(
        &[(Right, CTRL), (Right, ALT), (Char('f'), ALT)],
        Editing,
        edit(InputRequest::GoToNextWord),
    ),
    bind(
        &[(Char('a'), CTRL)],
        Editing,
        edit(InputRequest::GoToStart),
        "start / end of the line being typed",
        "",
    )
    .labelled("Ctrl+A Ctrl+E"),
    also(&[(Char('e'), CTRL)], Editing, edit(InputRequest::GoToEnd)),
    also(
        &[(Backspace, NONE), (Char('h'), CTRL)],
        Editing,
        edit(InputRequest::DeletePrevChar),
    ),
    also(
        &[(Delete, NONE)],
        Editing,
        edit(InputRequest::DeleteNextChar),
    ),
    bind(
        &[(Char('w'), CTRL), (Backspace, ALT), (Backspace, CTRL)],
        Editing,
        edit(InputRequest::DeletePrevWord),
        "delete a word / the whole line",
        "",
    )
    .labelled("Ctrl+W Ctrl+U"),
    also(
        &[(Char('u'), CTRL)],
        Editing,
        edit(InputRequest::DeleteLine),
    ),
];
