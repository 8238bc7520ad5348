//! The doctor view (F2, `/doctor`): the running discovery's report, asked of the sink
//! (`Effect::Doctor`) and shown when it comes back; it scrolls like the help.

use super::state::State;
use super::view::{DoctorView, Overlay, ScreenAction, Scroll};

/// A key while the doctor view is open: scroll, or close.
pub(super) fn on_doctor(state: &mut State, mut doctor: DoctorView, action: ScreenAction) {
    match action {
        ScreenAction::Close | ScreenAction::Submit | ScreenAction::OpenDoctor => {}
        ScreenAction::Scroll(by) => {
            // The drawing wraps long lines and clamps it; at 40 columns or more a
            // line wraps to at most this many rows.
            let most = doctor.lines.iter().map(|l| l.len() / 30 + 1).sum();
            scroll_overlay(&mut doctor.scroll, by, state.view.page, most);
            state.view.overlay = Overlay::Doctor(doctor);
        }
        _ => state.view.overlay = Overlay::Doctor(doctor),
    }
}

/// Scrolls an overlay (the help, the doctor view) by `by`, at most to `most`.
pub(super) fn scroll_overlay(at: &mut usize, by: Scroll, page: usize, most: usize) {
    *at = match by {
        Scroll::Up(n) => at.saturating_sub(n),
        Scroll::Down(n) => at.saturating_add(n).min(most),
        Scroll::PageUp => at.saturating_sub(page),
        Scroll::PageDown => at.saturating_add(page).min(most),
        Scroll::Top => 0,
        Scroll::Bottom => most,
    };
}

/// The discovery report came back: shown in the doctor view (unless another overlay
/// opened meanwhile).
pub(super) fn show_doctor(state: &mut State, report: &str) {
    if matches!(state.view.overlay, Overlay::None | Overlay::Doctor(_)) {
        let lines = report.lines().map(str::to_string).collect();
        state.view.overlay = Overlay::Doctor(DoctorView { lines, scroll: 0 });
    }
}
