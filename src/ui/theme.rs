//! Styles: one accent colour, status colours, dim for secondary text. With `NO_COLOR`
//! set, only bold, dim and reverse are used, so it reads on any terminal and background.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    color: bool,
}

impl Theme {
    pub const COLOR: Theme = Theme { color: true };
    pub const MONO: Theme = Theme { color: false };

    /// Colour unless the `NO_COLOR` convention asks for none.
    pub fn from_env() -> Theme {
        match std::env::var_os("NO_COLOR") {
            Some(v) if !v.is_empty() => Theme::MONO,
            _ => Theme::COLOR,
        }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// Basic ANSI colours only: they follow the user's palette, light or dark.
    pub fn accent(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn connected(self) -> Style {
        self.fg(Color::Green)
    }
    pub fn active(self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }
    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn badge(self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
    /// A team name in its own stable colour (a hash of the name picks one of the basic
    /// colours that read on dark and light backgrounds alike; red and yellow are left
    /// to errors and status). Bold, and only bold under `NO_COLOR`.
    pub fn peer(self, team: &str) -> Style {
        const PALETTE: [Color; 4] = [Color::Green, Color::Blue, Color::Magenta, Color::Cyan];
        // FNV-1a: stable across runs and builds, unlike the std hasher.
        let hash = team.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        self.fg(PALETTE[hash as usize % PALETTE.len()])
            .add_modifier(Modifier::BOLD)
    }
    /// A search match.
    pub fn found(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
    pub fn border(self, focused: bool) -> Style {
        if focused { self.accent() } else { self.dim() }
    }
}
