//! The errors a use case can end in; the HTTP layer maps each to one problem+json status.

use dakoku_domain::ValidationErrors;
use dakoku_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no or invalid credentials")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    /// Also used for another organisation's objects, so their existence does not leak.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The request is well-formed but cannot be done now (for example a retired employee).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    BadRequest(String),
    /// A platform the request needed could not be reached or refused to answer now.
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Internal(#[from] StoreError),
    #[error("stored secret cannot be read: {0}")]
    Secret(#[from] dakoku_config::SecretError),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl From<ValidationErrors> for ServiceError {
    fn from(errors: ValidationErrors) -> Self {
        ServiceError::Invalid(errors)
    }
}

impl ServiceError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut errors = ValidationErrors::default();
        errors.add(field, message);
        ServiceError::Invalid(errors)
    }
}

/// Turns the store's "not found" into a sentence naming what was looked for.
pub(crate) trait OrNotFound<T> {
    fn or_not_found(self, what: impl FnOnce() -> String) -> ServiceResult<T>;
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, what: impl FnOnce() -> String) -> ServiceResult<T> {
        match self {
            Err(StoreError::NotFound) => Err(ServiceError::NotFound(what())),
            other => other.map_err(ServiceError::from),
        }
    }
}
