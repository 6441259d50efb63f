//! DingTalk (钉钉) internal app: the `oapi` client, event subscription and robot callbacks,
//! attendance pull and push, the org directory, replies and notices.

pub mod api;
pub mod attendance;
pub mod directory;
pub(crate) mod hook;
pub mod port;
pub mod sender;

pub use api::{Credentials, DingTalk};
pub use hook::robot_sign;
