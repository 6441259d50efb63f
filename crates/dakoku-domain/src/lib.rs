//! The vocabulary of dakoku: identifiers, punches, employees, roles and the rules of who may
//! see or change what. Nothing here does IO; everything is parsed at the edge into these types.

pub mod access;
pub mod clock;
pub mod ids;
#[macro_use]
pub mod model;
pub mod net;
pub mod plausible;
pub mod validate;
pub mod workflow;

pub use access::{Actor, Reach, Role};
pub use clock::Clock;
pub use ids::*;
pub use model::*;
pub use validate::{Invalid, ValidationErrors};
pub use workflow::{CorrectionStatus, MonthAction, MonthStatus};
