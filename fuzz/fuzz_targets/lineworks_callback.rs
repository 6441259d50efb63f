//! Feeds arbitrary bytes to the LINE WORKS callback path after the signature check: the
//! signature verifier, the event decoder and the chat interpreter must never panic.
#![no_main]

use dakoku_domain::Platform;
use dakoku_platforms::lineworks::callback::{decode, event_key, verify, Event};
use dakoku_service::chat::{interpret, ChatInput, ChatSettings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = verify("fuzz-secret", data, std::str::from_utf8(data).unwrap_or_default());
    let _ = event_key(data);
    let settings = ChatSettings::from_settings(Platform::LineWorks, &serde_json::Map::new());
    match decode(data) {
        Ok(Event::Text { text, postback, .. }) => {
            let _ = interpret(&settings, &ChatInput::Text(text));
            if let Some(p) = postback {
                let _ = interpret(&settings, &ChatInput::Action(p));
            }
        }
        Ok(Event::Postback { data, .. }) => {
            let _ = interpret(&settings, &ChatInput::Action(data));
        }
        _ => {}
    }
});
