//! Styles: one accent colour, status colours, dim for secondary text. With `NO_COLOR`
//! set, only bold, dim and reverse are used, so it reads on any terminal and background.
//! The config file's `[theme]` table may colour each role ([`Palette`]); `NO_COLOR`
//! still wins.

use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Deserializer};

/// A colour from the config file: a basic ANSI name (`red`, `lightblue`, `darkgray`,
/// `default`...) or `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub Color);

/// The colour names the config file accepts, besides `#rrggbb`.
pub const COLOUR_NAMES: &[(&str, Color)] = &[
    ("default", Color::Reset),
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
];

impl Colour {
    /// `"Light Blue"`, `"light-blue"`, `"grey"` and `"#1e90ff"` all read.
    pub fn parse(text: &str) -> Result<Colour, String> {
        let t = text.trim();
        if let Some(hex) = t.strip_prefix('#') {
            let ok = hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit());
            let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
            return if ok {
                Ok(Colour(Color::Rgb(byte(0), byte(2), byte(4))))
            } else {
                Err(format!(
                    "{text:?} is not a colour: write #rrggbb, e.g. #1e90ff"
                ))
            };
        }
        let name: String = t
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .collect::<String>()
            .to_ascii_lowercase()
            .replace("grey", "gray");
        COLOUR_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| Colour(*c))
            .ok_or_else(|| {
                let names: Vec<&str> = COLOUR_NAMES.iter().map(|(n, _)| *n).collect();
                format!(
                    "{text:?} is not a colour: use #rrggbb or one of {}",
                    names.join(", ")
                )
            })
    }
}

impl<'de> Deserialize<'de> for Colour {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Colour::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The `[theme]` table: a colour per role; a role not given keeps brigade's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Palette {
    /// Titles, the focused pane's border, hints (default cyan, bold).
    pub accent: Option<Colour>,
    /// The focused pane's border (default: the accent).
    pub border: Option<Colour>,
    /// The selected peer's background (default: reverse video).
    pub selected: Option<Colour>,
    /// Timestamps in the log (default: dim).
    pub time: Option<Colour>,
    /// `you`, the sender of your own messages (default: the accent).
    pub own: Option<Colour>,
    /// Secondary text: addresses, system lines (default: dim).
    pub dim: Option<Colour>,
    /// Errors and failed messages (default red, bold).
    pub error: Option<Colour>,
    /// Connected peers and delivered marks (default green).
    pub connected: Option<Colour>,
    /// Active peers and warnings (default yellow).
    pub active: Option<Colour>,
    /// Unread counts (default magenta, bold).
    pub badge: Option<Colour>,
    /// The search match's background (default: reverse video).
    pub found: Option<Colour>,
}

/// The roles `[theme]` accepts, in the order the README lists them.
pub const ROLES: &[&str] = &[
    "accent",
    "border",
    "selected",
    "time",
    "own",
    "dim",
    "error",
    "connected",
    "active",
    "badge",
    "found",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    color: bool,
    palette: Palette,
}

impl Theme {
    pub const COLOR: Theme = Theme {
        color: true,
        palette: Palette {
            accent: None,
            border: None,
            selected: None,
            time: None,
            own: None,
            dim: None,
            error: None,
            connected: None,
            active: None,
            badge: None,
            found: None,
        },
    };
    pub const MONO: Theme = Theme {
        color: false,
        ..Theme::COLOR
    };

    /// Colour unless the `NO_COLOR` convention asks for none.
    pub fn from_env() -> Theme {
        match std::env::var_os("NO_COLOR") {
            Some(v) if !v.is_empty() => Theme::MONO,
            _ => Theme::COLOR,
        }
    }

    /// This theme with the config file's colours (ignored under `NO_COLOR`).
    pub fn with_palette(self, palette: Palette) -> Theme {
        Theme { palette, ..self }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// The role's configured colour over `base`, or `base` itself.
    fn role(self, colour: Option<Colour>, base: Style) -> Style {
        match colour {
            Some(Colour(c)) if self.color => base.fg(c),
            _ => base,
        }
    }

    /// A background role: the configured colour, else reverse video.
    fn background(self, colour: Option<Colour>, base: Style) -> Style {
        match colour {
            Some(Colour(c)) if self.color => base.bg(c),
            _ => base.add_modifier(Modifier::REVERSED),
        }
    }

    /// Basic ANSI colours only: they follow the user's palette, light or dark.
    pub fn accent(self) -> Style {
        let base = self.fg(Color::Cyan).add_modifier(Modifier::BOLD);
        self.role(self.palette.accent, base)
    }
    pub fn connected(self) -> Style {
        self.role(self.palette.connected, self.fg(Color::Green))
    }
    pub fn active(self) -> Style {
        self.role(self.palette.active, self.fg(Color::Yellow))
    }
    pub fn error(self) -> Style {
        let base = self.fg(Color::Red).add_modifier(Modifier::BOLD);
        self.role(self.palette.error, base)
    }
    pub fn dim(self) -> Style {
        match self.palette.dim {
            Some(Colour(c)) if self.color => Style::new().fg(c),
            _ => Style::new().add_modifier(Modifier::DIM),
        }
    }
    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn selected(self) -> Style {
        self.background(self.palette.selected, Style::new())
    }
    pub fn badge(self) -> Style {
        let base = self.fg(Color::Magenta).add_modifier(Modifier::BOLD);
        self.role(self.palette.badge, base)
    }
    /// A timestamp in the log.
    pub fn time(self) -> Style {
        match self.palette.time {
            Some(Colour(c)) if self.color => Style::new().fg(c),
            _ => self.dim(),
        }
    }
    /// `you`, the sender of your own messages.
    pub fn own(self) -> Style {
        self.role(self.palette.own, self.accent())
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
        self.background(
            self.palette.found,
            Style::new().add_modifier(Modifier::BOLD),
        )
    }
    pub fn border(self, focused: bool) -> Style {
        match (focused, self.palette.border) {
            (true, Some(Colour(c))) if self.color => Style::new().fg(c),
            (true, _) => self.accent(),
            (false, _) => self.dim(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_read_by_name_and_hex() {
        assert_eq!(Colour::parse("red").unwrap().0, Color::Red);
        assert_eq!(Colour::parse(" Light-Blue ").unwrap().0, Color::LightBlue);
        assert_eq!(Colour::parse("dark grey").unwrap().0, Color::DarkGray);
        assert_eq!(
            Colour::parse("#1E90ff").unwrap().0,
            Color::Rgb(0x1e, 0x90, 0xff)
        );
        assert!(Colour::parse("#12345").unwrap_err().contains("#rrggbb"));
        assert!(Colour::parse("#12345g").is_err());
        assert!(Colour::parse("mauve").unwrap_err().contains("lightcyan"));
    }

    #[test]
    fn the_palette_colours_its_roles_and_no_color_wins() {
        let palette = Palette {
            error: Some(Colour(Color::LightRed)),
            selected: Some(Colour(Color::Blue)),
            time: Some(Colour(Color::Rgb(1, 2, 3))),
            own: Some(Colour(Color::Green)),
            ..Palette::default()
        };
        let theme = Theme::COLOR.with_palette(palette);
        assert_eq!(theme.error().fg, Some(Color::LightRed));
        assert!(theme.error().add_modifier.contains(Modifier::BOLD));
        assert_eq!(theme.selected().bg, Some(Color::Blue));
        assert_eq!(theme.time().fg, Some(Color::Rgb(1, 2, 3)));
        assert_eq!(theme.own().fg, Some(Color::Green));
        // Roles not given keep the defaults.
        assert_eq!(theme.accent(), Theme::COLOR.accent());
        assert_eq!(theme.connected().fg, Some(Color::Green));
        let mono = Theme::MONO.with_palette(palette);
        for style in [mono.error(), mono.selected(), mono.time(), mono.own()] {
            assert_eq!((style.fg, style.bg), (None, None), "{style:?}");
        }
        assert!(mono.selected().add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn every_role_is_a_key_of_the_table() {
        for role in ROLES {
            let text = format!("{role} = \"red\"");
            let palette: Palette = toml::from_str(&text).unwrap();
            assert_ne!(palette, Palette::default(), "{role}");
        }
        assert!(toml::from_str::<Palette>("borders = \"red\"").is_err());
    }
}
