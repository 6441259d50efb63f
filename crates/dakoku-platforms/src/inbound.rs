//! What every platform's callback does once it has verified and decoded a chat message.

use dakoku_http::ApiError;
use dakoku_service::chat::ChatEvent;
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::{Service, ServiceError};

/// Hands a verified chat event to the core. A refusal (an unlinked user, a locked month, an
/// unknown word) is the bot's answer, not the platform's fault, so the platform still gets
/// its 200; only an internal failure is passed on, so that the platform delivers again.
pub(crate) async fn hand_to_core(
    service: &Service,
    integration: &OpenIntegration,
    event: ChatEvent,
) -> Result<(), ApiError> {
    match service.handle_chat(integration, event).await {
        Ok(_) => Ok(()),
        Err(e @ ServiceError::Internal(_)) => Err(e.into()),
        Err(e) => {
            let platform = integration.stored.platform.as_str();
            tracing::warn!(integration = %integration.stored.id, platform, error = %e, "chat event not handled");
            Ok(())
        }
    }
}
