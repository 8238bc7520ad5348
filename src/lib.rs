//! brigade: a full-screen terminal chat for the classic campus peer-to-peer protocol.
//!
//! Layers (see DESIGN.md): [`protocol`] (pure), [`store`] (pure update), [`net`] (the
//! node), [`app`] (the loop that joins them), [`headless`] (JSON lines front end),
//! [`config`] (flags and config file).

pub mod app;
pub mod config;
pub mod event;
pub mod headless;
pub mod history;
pub mod input;
pub mod keymap;
pub mod logging;
pub mod net;
pub mod protocol;
pub mod store;
pub mod terminal;
pub mod ui;
