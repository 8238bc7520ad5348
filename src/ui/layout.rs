//! The one place that decides where everything is. Rendering and mouse hit-testing both
//! call these functions, so a click always lands on what was drawn there.

use ratatui::layout::{Margin, Rect};

use crate::store::{Selection, State};

/// Below this the panes are replaced by a notice asking for a larger window.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
/// Below this width the peer list collapses into a one-line selector.
pub const COMPACT_BELOW: u16 = 70;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    TooSmall,
    Panes(Panes),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    /// The bordered peer list (wide screens).
    pub peers: Option<Rect>,
    /// The one-line peer selector (narrow screens).
    pub selector: Option<Rect>,
    pub log: Rect,
    pub compose: Rect,
    pub status: Rect,
}

/// Rows the compose box grows to for a message of several lines (Alt+Enter); past
/// them it scrolls.
pub const COMPOSE_ROWS: u16 = 5;

/// The panes with a one-line compose box.
pub fn layout(area: Rect) -> Screen {
    layout_with(area, 1)
}

/// The panes for this state: the compose box as tall as its lines (at most
/// [`COMPOSE_ROWS`], and less in a short window).
pub fn layout_of(state: &State, area: Rect) -> Screen {
    let lines = state.view.compose.value().split('\n').count() as u16;
    let room = area.height.saturating_sub(MIN_HEIGHT) + 1;
    layout_with(area, lines.clamp(1, COMPOSE_ROWS).min(room))
}

fn layout_with(area: Rect, compose_rows: u16) -> Screen {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return Screen::TooSmall;
    }
    let status = Rect::new(area.x, area.bottom() - 1, area.width, 1);
    let compose = Rect::new(
        area.x,
        status.y - 2 - compose_rows,
        area.width,
        2 + compose_rows,
    );
    let main = Rect::new(area.x, area.y, area.width, compose.y - area.y);
    if area.width < COMPACT_BELOW {
        let selector = Rect::new(main.x, main.y, main.width, 1);
        let log = Rect::new(main.x, main.y + 1, main.width, main.height - 1);
        return Screen::Panes(Panes {
            peers: None,
            selector: Some(selector),
            log,
            compose,
            status,
        });
    }
    let peers_width = (area.width * 28 / 100).clamp(24, 34);
    let peers = Rect::new(main.x, main.y, peers_width, main.height);
    let log = Rect::new(
        main.x + peers_width,
        main.y,
        main.width - peers_width,
        main.height,
    );
    Screen::Panes(Panes {
        peers: Some(peers),
        selector: None,
        log,
        compose,
        status,
    })
}

/// Rows of one entry in the peer list.
fn entry_height(selection: Selection) -> u16 {
    match selection {
        Selection::All => 1,
        Selection::Peer(_) => 2,
    }
}

/// The first entry the peer list shows in `list`: the one shown last time
/// (`view.peer_top`) while the selected entry stays in view whole, else the nearest
/// that brings it into view.
pub fn peer_first(state: &State, list: Rect) -> usize {
    let inner = list.inner(Margin::new(1, 1));
    let entries = state.selections();
    let selected = entries
        .iter()
        .position(|s| *s == state.view.selection)
        .unwrap_or(0);
    let height_through = |from: usize| -> u16 {
        entries[from..=selected]
            .iter()
            .map(|s| entry_height(*s))
            .sum()
    };
    let mut first = state.view.peer_top.min(selected);
    while first < selected && height_through(first) > inner.height {
        first += 1;
    }
    first
}

/// The visible entries of the peer list (inside its border) and where each is, from
/// [`peer_first`] on.
pub fn peer_rows(state: &State, list: Rect) -> Vec<(Selection, Rect)> {
    let inner = list.inner(Margin::new(1, 1));
    let entries = state.selections();
    let first = peer_first(state, list);
    let mut rows = Vec::new();
    let mut y = inner.y;
    for selection in &entries[first..] {
        let h = entry_height(*selection);
        if y + h > inner.bottom() {
            break;
        }
        rows.push((*selection, Rect::new(inner.x, y, inner.width, h)));
        y += h;
    }
    rows
}

/// What is under a screen position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    Peer(Selection),
    /// The narrow screen's selector: its left or right half.
    SelectorPrev,
    SelectorNext,
    Log,
    Compose,
    Nothing,
}

pub fn hit(state: &State, area: Rect, column: u16, row: u16) -> Hit {
    let Screen::Panes(panes) = layout_of(state, area) else {
        return Hit::Nothing;
    };
    let at = ratatui::layout::Position::new(column, row);
    if let Some(list) = panes.peers.filter(|r| r.contains(at)) {
        return peer_rows(state, list)
            .into_iter()
            .find(|(_, r)| r.contains(at))
            .map_or(Hit::Nothing, |(s, _)| Hit::Peer(s));
    }
    if let Some(sel) = panes.selector.filter(|r| r.contains(at)) {
        return if column < sel.x + sel.width / 2 {
            Hit::SelectorPrev
        } else {
            Hit::SelectorNext
        };
    }
    if panes.log.contains(at) {
        return Hit::Log;
    }
    if panes.compose.contains(at) {
        return Hit::Compose;
    }
    Hit::Nothing
}

/// A centred rectangle of at most `width` x `height` inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_small_below_the_minimum() {
        assert_eq!(layout(Rect::new(0, 0, 39, 24)), Screen::TooSmall);
        assert_eq!(layout(Rect::new(0, 0, 80, 9)), Screen::TooSmall);
    }

    #[test]
    fn wide_screens_have_a_peer_list() {
        let Screen::Panes(p) = layout(Rect::new(0, 0, 100, 30)) else {
            panic!()
        };
        let peers = p.peers.unwrap();
        assert_eq!((peers.width, peers.height), (28, 26));
        assert_eq!(p.log.x, 28);
        assert_eq!(p.compose, Rect::new(0, 26, 100, 3));
        assert_eq!(p.status, Rect::new(0, 29, 100, 1));
    }

    #[test]
    fn narrow_screens_collapse_the_peer_list() {
        let Screen::Panes(p) = layout(Rect::new(0, 0, 50, 12)) else {
            panic!()
        };
        assert!(p.peers.is_none());
        assert_eq!(p.selector, Some(Rect::new(0, 0, 50, 1)));
        assert_eq!(p.log, Rect::new(0, 1, 50, 7));
    }
}
