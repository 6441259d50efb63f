//! `/api/v1` handlers, one module per resource, each named by its verb.

mod admin;
mod departments;
mod employees;
mod punches;
mod timesheets;
mod users;

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(employees::router())
        .merge(departments::router())
        .merge(punches::router())
        .merge(users::router())
        .merge(admin::router())
        .merge(timesheets::router())
}
