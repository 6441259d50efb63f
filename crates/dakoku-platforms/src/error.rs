//! How a platform call failed, in terms the caller can act on, and what the job queue does
//! about it.

use dakoku_worker::Outcome;
use std::time::Duration;

/// Why a call did not succeed, in terms the caller can act on.
#[derive(Debug)]
pub enum ApiError {
    /// The integration's settings cannot work (missing value, unreadable key).
    Setup(String),
    /// The auth server refused the credentials.
    Auth { status: u16, error: String, description: String },
    /// The API refused the token even after a fresh one was fetched.
    Unauthorized(String),
    /// 429: try again after the given delay.
    RateLimited { after: Duration },
    /// 5xx or no answer: try again later.
    Unavailable(String),
    /// Any other refusal (bad request, forbidden, not found): trying again will not help.
    Refused { status: u16, code: String, description: String },
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Setup(m) => write!(f, "setup: {m}"),
            ApiError::Auth { status, error, description } => {
                write!(f, "token request refused ({status} {error}): {description}")
            }
            ApiError::Unauthorized(m) => write!(f, "401 UNAUTHORIZED: {m}"),
            ApiError::RateLimited { after } => write!(f, "429 TOO_MANY_REQUESTS, retry in {}s", after.as_secs()),
            ApiError::Unavailable(m) => write!(f, "unavailable: {m}"),
            ApiError::Refused { status, code, description } => write!(f, "{status} {code}: {description}"),
        }
    }
}

/// How a failed call is retried.
pub fn outcome_of(error: ApiError) -> Outcome {
    match error {
        ApiError::RateLimited { after } => Outcome::Retry { error: error.to_string(), after: Some(after) },
        ApiError::Unavailable(_) | ApiError::Unauthorized(_) => {
            Outcome::Retry { error: error.to_string(), after: None }
        }
        ApiError::Setup(_) | ApiError::Auth { .. } | ApiError::Refused { .. } => {
            Outcome::Fail { error: error.to_string() }
        }
    }
}

/// The same split, for the core's platform port: retry what may pass later, report the rest.
impl From<ApiError> for dakoku_service::platform::PortError {
    fn from(error: ApiError) -> Self {
        use dakoku_service::platform::PortError;
        match error {
            ApiError::RateLimited { after } => PortError::Retry { error: error.to_string(), after: Some(after) },
            ApiError::Unavailable(_) | ApiError::Unauthorized(_) => {
                PortError::Retry { error: error.to_string(), after: None }
            }
            ApiError::Setup(_) | ApiError::Auth { .. } | ApiError::Refused { .. } => {
                PortError::Refused(error.to_string())
            }
        }
    }
}
