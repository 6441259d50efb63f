//! WeCom (企业微信) self-built app: callback crypto, the callback routes, the API client.

pub mod api;
pub mod checkins;
pub mod directory;
pub(crate) mod hook;
pub mod port;

pub use api::{Credentials, WeCom};
