//! The peer list: team first, address under it, status right-aligned, unread badge.
//! On narrow screens, a one-line selector instead.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::layout::peer_rows;
use super::theme::Theme;
use super::wrap::{truncate, width};
use crate::event::Via;
use crate::keymap::screen_key;
use crate::store::{Focus, Peer, PeerId, PeerStatus, ScreenAction, Selection, State};

pub fn render_list(frame: &mut Frame, state: &State, area: Rect, theme: Theme) {
    let focused = state.view.focus == Focus::Peers;
    let count = state.listed().count();
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(format!(" Peers ({count}) "), theme.bold()));
    frame.render_widget(block, area);
    for (selection, rect) in peer_rows(state, area) {
        let selected = selection == state.view.selection;
        let lines = match selection {
            Selection::All => vec![all_line(state, rect.width, theme)],
            Selection::Peer(id) => {
                let heard = heard(state.peer(id), state);
                peer_lines(state.peer(id), selected, rect.width, theme, heard)
            }
        };
        let mut paragraph = Paragraph::new(lines);
        if selected {
            paragraph = paragraph.style(theme.selected());
        }
        frame.render_widget(paragraph, rect);
    }
    if count == 0 && area.height > 6 {
        let hint = Rect::new(area.x + 2, area.y + 3, area.width.saturating_sub(4), 3);
        let text = format!(
            "No peers yet.\n{} writes to one.",
            screen_key(ScreenAction::OpenNewRecipient)
        );
        let text = Paragraph::new(text)
            .style(theme.dim())
            .wrap(ratatui::widgets::Wrap { trim: true });
        frame.render_widget(text, hint);
    }
}

fn marker(selected: bool) -> &'static str {
    if selected { "▶ " } else { "  " }
}

fn all_line(state: &State, width_cells: u16, theme: Theme) -> Line<'static> {
    let selected = state.view.selection == Selection::All;
    let unread = state.total_unread();
    let left = format!("{}All peers", marker(selected));
    let right = if unread > 0 {
        unread.to_string()
    } else {
        String::new()
    };
    justify(left, theme.bold(), right, theme.badge(), width_cells)
}

fn status_style(status: PeerStatus, theme: Theme) -> ratatui::style::Style {
    match status {
        PeerStatus::Connected => theme.connected(),
        PeerStatus::Active => theme.active(),
        PeerStatus::Contact => theme.dim(),
    }
}

/// The label shown for a status; a contact not yet reached is "New".
pub fn status_label(status: PeerStatus) -> &'static str {
    match status {
        PeerStatus::Contact => "New",
        other => other.label(),
    }
}

/// How a peer was found, compactly, after its address (nothing for a typed one).
pub fn via_tag(via: Via) -> &'static str {
    match via {
        Via::Manual => "",
        Via::Mdns => " · mdns",
        Via::Beacon => " · bcast",
        Via::Invite => " · invite",
    }
}

/// How a peer's messages travel, one ASCII character before its name: `-` plaintext
/// (a classic peer), `+` encrypted, `=` encrypted and verified, `!` its key changed.
pub fn transport_symbol(peer: &Peer) -> &'static str {
    match (&peer.trust.key, peer.trust.held(), peer.trust.verified) {
        (_, true, _) => "!",
        (None, _, _) => "-",
        (Some(_), _, true) => "=",
        (Some(_), _, false) => "+",
    }
}

/// The log's title for one peer's conversation: its name, address (and team under an
/// alias), status (a changed key first, as in the list) and when it was last heard.
pub fn title(state: &State, id: PeerId, theme: Theme) -> Line<'static> {
    let peer = state.peer(id);
    let heard = heard(peer, state).map_or_else(String::new, |h| format!("· heard {h} "));
    let (status, style) = peer_status(peer, theme);
    let style = if peer.trust.held() || peer.trust.announced.is_some() {
        style
    } else {
        theme.dim()
    };
    Line::from(vec![
        Span::styled(format!(" #{} ", peer.name()), theme.bold()),
        Span::styled(format!(" {} · ", peer.place()), theme.dim()),
        Span::styled(format!("{status} "), style),
        Span::styled(heard, theme.dim()),
    ])
}

/// A peer's status wherever it is shown (list, log title, selector): a changed key
/// or an announcement naming another one before anything else, then gone, then its
/// connection status; with its style.
fn peer_status(peer: &Peer, theme: Theme) -> (&'static str, ratatui::style::Style) {
    if peer.trust.held() {
        ("KEY CHANGED", theme.error())
    } else if peer.trust.announced.is_some() {
        ("KEY DIFFERS?", theme.error())
    } else if peer.gone {
        ("Gone", theme.dim())
    } else {
        (status_label(peer.status), status_style(peer.status, theme))
    }
}

/// When a peer was last heard (this run or, restored, from the history), for its
/// address line: the time if today, "yesterday", else the date (with the year when
/// not this one). Nothing until the front end has said what day it is.
pub fn heard(peer: &Peer, state: &State) -> Option<String> {
    use chrono::Datelike;
    let at = peer.last_heard?.with_timezone(&state.view.utc_offset);
    let (day, today) = (at.date_naive(), state.view.today?);
    Some(match day {
        d if d == today => at.format("%H:%M").to_string(),
        d if today.pred_opt() == Some(d) => "yesterday".into(),
        d if d.year() == today.year() => at.format("%-d %b").to_string(),
        _ => at.format("%-d %b %Y").to_string(),
    })
}

/// A peer's unread count, capped so the row keeps its room: past 999, `999+`.
fn badge(unread: usize) -> String {
    match unread {
        0 => String::new(),
        1..=999 => format!(" {unread}"),
        _ => " 999+".into(),
    }
}

fn peer_lines(
    peer: &Peer,
    selected: bool,
    width_cells: u16,
    theme: Theme,
    heard: Option<String>,
) -> Vec<Line<'static>> {
    let (status, status_style) = peer_status(peer, theme);
    let badge = badge(peer.unread);
    let right_width = width(status) + width(&badge);
    let name_room = (width_cells as usize).saturating_sub(right_width + 5);
    let name = truncate(peer.name(), name_room);
    let left = format!("{}{} {name}", marker(selected), transport_symbol(peer));
    let pad = (width_cells as usize).saturating_sub(width(&left) + right_width);
    let first = Line::from(vec![
        Span::styled(left, theme.bold()),
        Span::raw(" ".repeat(pad)),
        Span::styled(status, status_style),
        Span::styled(badge, theme.badge()),
    ]);
    let mut address = if peer.key.reachable() {
        peer.place()
    } else {
        format!("{} (no port)", peer.key.ip)
    };
    address.push_str(via_tag(peer.via));
    let address = format!(
        "  {}",
        truncate(&address, (width_cells as usize).saturating_sub(2))
    );
    // Right-aligned when it fits: "heard 14:02", else just "14:02".
    let room = (width_cells as usize).saturating_sub(width(&address) + 1);
    let heard = heard
        .into_iter()
        .flat_map(|h| [format!("heard {h}"), h])
        .find(|h| width(h) <= room)
        .unwrap_or_default();
    let second = justify(address, theme.dim(), heard, theme.dim(), width_cells);
    vec![first, second]
}

fn justify(
    left: String,
    left_style: ratatui::style::Style,
    right: String,
    right_style: ratatui::style::Style,
    width_cells: u16,
) -> Line<'static> {
    let pad = (width_cells as usize).saturating_sub(width(&left) + width(&right));
    Line::from(vec![
        Span::styled(left, left_style),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, right_style),
    ])
}

/// Narrow screens: `◀ + B 10.0.0.2:8080 Connected ▶  2/3`.
pub fn render_selector(frame: &mut Frame, state: &State, area: Rect, theme: Theme) {
    let entries = state.selections();
    let here = entries
        .iter()
        .position(|s| *s == state.view.selection)
        .unwrap_or(0);
    let mut spans = vec![Span::styled("◀ ", theme.accent())];
    match state.view.selection {
        Selection::All => {
            spans.push(Span::styled("All peers", theme.bold()));
            let unread = state.total_unread();
            if unread > 0 {
                spans.push(Span::styled(format!(" {unread}"), theme.badge()));
            }
        }
        Selection::Peer(id) => {
            let peer = state.peer(id);
            spans.push(Span::styled(
                format!("{} {}", transport_symbol(peer), peer.name()),
                theme.bold(),
            ));
            spans.push(Span::styled(format!(" {} ", peer.key.addr()), theme.dim()));
            let (status, style) = peer_status(peer, theme);
            spans.push(Span::styled(status, style));
        }
    }
    spans.push(Span::styled(" ▶", theme.accent()));
    spans.push(Span::styled(
        format!("  {}/{}", here + 1, entries.len()),
        theme.dim(),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

#[cfg(test)]
mod tests {
    use super::badge;

    #[test]
    fn the_unread_badge_says_when_it_is_capped() {
        assert_eq!(badge(0), "");
        assert_eq!(badge(7), " 7");
        assert_eq!(badge(999), " 999");
        assert_eq!(badge(1000), " 999+");
        assert_eq!(badge(123_456), " 999+");
    }
}
