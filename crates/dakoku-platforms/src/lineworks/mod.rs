//! LINE WORKS (API 2.0): the bot callback, the service-account client, the rich menu.

pub mod api;
pub mod callback;
pub(crate) mod hook;
pub mod port;
pub mod richmenu;

pub use api::{Credentials, LineWorks};
