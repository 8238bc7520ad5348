//! brigade: a full-screen terminal chat for the classic campus peer-to-peer protocol.
//!
//! The module map and how a message flows from a socket to the screen and to disk are
//! in docs/ARCHITECTURE.md; the wire facts in docs/PROTOCOL.md. In short: [`protocol`]
//! (pure bytes), [`event`] (the vocabulary), [`store`] (pure update), [`net`] (the node),
//! [`history`] (SQLite), [`app`] (the session, the effect sink and the terminal front
//! end), [`headless`] (the JSON-lines front end), [`keymap`], [`input`], [`ui`].

pub mod app;
pub mod config;
pub mod discovery;
pub mod event;
pub mod headless;
pub mod history;
pub mod input;
pub mod keymap;
pub mod logging;
pub mod net;
pub mod protocol;
pub mod secure;
pub mod slash;
pub mod store;
pub mod terminal;
pub mod ui;
