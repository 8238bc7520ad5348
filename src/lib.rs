//! brigade: a full-screen terminal chat for the classic campus peer-to-peer protocol.
//!
//! Layers (see DESIGN.md): [`protocol`] (pure), [`store`] (pure update), [`net`] (the
//! node), [`headless`] (JSON lines front end), [`config`] (flags and config file).

pub mod event;
pub mod net;
pub mod protocol;
pub mod store;
