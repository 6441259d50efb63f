//! Cursor pagination: clients get an opaque cursor and hand it back unchanged.

use crate::{ServiceError, ServiceResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    /// The decoded position after which the page starts.
    pub after: Option<String>,
    pub limit: i64,
}

impl PageRequest {
    pub fn first(limit: i64) -> Self {
        Self { after: None, limit }
    }

    pub fn parse(cursor: Option<&str>, limit: Option<i64>) -> ServiceResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ServiceError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                B64.decode(c)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    // Positions are ids: anything else (a NUL, say) was not issued here.
                    .filter(|p| {
                        (1..=100).contains(&p.len())
                            && p.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_:.".contains(ch))
                    })
                    .ok_or_else(|| ServiceError::BadRequest("cursor is not one this server issued".into()))?,
            ),
        };
        Ok(Self { after, limit })
    }

    pub fn after(&self) -> Option<&str> {
        self.after.as_deref()
    }
}

pub fn encode_cursor(position: &str) -> String {
    B64.encode(position)
}

/// A page ready to send: items and the opaque cursor of the next page.
#[derive(Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> From<dakoku_store::Page<T>> for Listed<T> {
    fn from(page: dakoku_store::Page<T>) -> Self {
        Listed { items: page.items, next_cursor: page.next.as_deref().map(encode_cursor) }
    }
}
