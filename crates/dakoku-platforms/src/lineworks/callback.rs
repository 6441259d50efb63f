//! What LINE WORKS posts to the bot's callback URL: the signature check and the event decoder.
//!
//! `X-WORKS-Signature` is Base64(HMAC-SHA256(key = Bot Secret, message = the raw body)). It is
//! checked over the exact bytes received, in constant time, before anything is parsed.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The signature LINE WORKS puts on `body` for a bot with this secret.
pub fn sign(bot_secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(bot_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    B64.encode(mac.finalize().into_bytes())
}

/// Whether `signature` (the header value) is the bot's signature of `body`.
pub fn verify(bot_secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(claimed) = B64.decode(signature.trim()) else { return false };
    let mut mac = HmacSha256::new_from_slice(bot_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&claimed).is_ok()
}

/// A stable key for a callback body: LINE WORKS sends no event id, and an identical body
/// (same user, room, content and millisecond `issuedTime`) can only be a redelivery.
pub fn event_key(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

/// Where an event came from. `channel_id` is absent in the one-to-one room with the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub user_id: Option<String>,
    pub channel_id: Option<String>,
    pub domain_id: Option<String>,
}

/// One callback, by its `type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A text message; `postback` is set when a message action button sent it.
    Text { source: Source, text: String, postback: Option<String> },
    /// Any other message content (sticker, image, file, location, audio, video).
    OtherMessage { source: Source, content_type: String },
    /// A postback action (quick reply, rich menu, carousel) was pressed.
    Postback { source: Source, data: String },
    /// A one-to-one room with the bot began.
    Begin { source: Source },
    /// The bot joined or left a room, members came or went, or the user left the 1:1 room.
    Membership { kind: String, source: Source },
    /// A type this version does not know; acknowledged and logged.
    Unknown { kind: String },
}

#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        // domainId is a number in most examples and a string in one; both are accepted.
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Decodes a callback body. Fields the docs do not promise are optional; a body that is not a
/// JSON object with a string `type`, or that misses what its type needs, is an error.
pub fn decode(body: &[u8]) -> Result<Event, DecodeError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| DecodeError(format!("body is not JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| DecodeError("body is not a JSON object".into()))?;
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| DecodeError("the event has no string \"type\"".into()))?
        .to_owned();
    let source = object.get("source").and_then(Value::as_object);
    let source = Source {
        user_id: text_of(source.and_then(|s| s.get("userId"))),
        channel_id: text_of(source.and_then(|s| s.get("channelId"))),
        domain_id: text_of(source.and_then(|s| s.get("domainId"))),
    };
    let need_user = |source: &Source| {
        if source.user_id.as_deref().is_none_or(str::is_empty) {
            Err(DecodeError(format!("a {kind} event needs source.userId")))
        } else {
            Ok(())
        }
    };
    match kind.as_str() {
        "message" => {
            need_user(&source)?;
            let content = object
                .get("content")
                .and_then(Value::as_object)
                .ok_or_else(|| DecodeError("a message event needs a content object".into()))?;
            let content_type = content
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| DecodeError("message content has no type".into()))?;
            if content_type == "text" {
                let text = content
                    .get("text")
                    .and_then(Value::as_str)
                    .ok_or_else(|| DecodeError("a text message has no text".into()))?;
                let postback = content.get("postback").and_then(Value::as_str).map(str::to_owned);
                Ok(Event::Text { source, text: text.to_owned(), postback })
            } else {
                Ok(Event::OtherMessage { source, content_type: content_type.to_owned() })
            }
        }
        "postback" => {
            need_user(&source)?;
            let data = object
                .get("data")
                .and_then(Value::as_str)
                .ok_or_else(|| DecodeError("a postback event has no data".into()))?;
            Ok(Event::Postback { source, data: data.to_owned() })
        }
        "begin" => {
            need_user(&source)?;
            Ok(Event::Begin { source })
        }
        "join" | "leave" | "joined" | "left" | "end" => Ok(Event::Membership { kind, source }),
        _ => Ok(Event::Unknown { kind }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The self-computed vectors of the protocol notes (Python hmac, cross-checked with openssl).
    const VECTORS: [(&str, &str, &str); 4] = [
        (
            "abcdefghij",
            r#"{"type":"message","source":{"userId":"c72af563-0f21-4736-11e4-045237113344","channelId":"12345a12-b12c-12d3-e123fghijkl","domainId":40029600},"issuedTime":"2022-01-04T05:16:05.716Z","content":{"type":"text","text":"hello"}}"#,
            "bkJsoBMGMANJBC/tRoSX+ss+Sv6p+YTJQ6Z0zbwgkjM=",
        ),
        (
            "abcdefghij",
            r#"{"type":"postback","source":{"userId":"c72af563-0f21-4736-11e4-045237113344","channelId":"12345","domainId":40029600},"issuedTime":"2022-01-04T05:16:05.716Z","data":"action=buy"}"#,
            "wibcSG5noZSIji2adD1PNMRDVxqXB5EnPuV3+Ak9vdg=",
        ),
        (
            "test-bot-secret",
            r#"{"type":"message","source":{"userId":"user0001-e3e9-4063-1d22-04978003f354","domainId":40029600},"issuedTime":"2024-04-01T00:00:00.000Z","content":{"type":"text","text":"出勤"}}"#,
            "AEWvxLo9eBnrV7PbruDgLZTZWNqOQa1QTN/WIn9xp7I=",
        ),
        ("abcdefghij", "", "e+Q/9NIFScg4ikx1avrQ/qAFPWs5cqxChAdyYeu3dmQ="),
    ];

    #[test]
    fn signature_vectors() {
        assert_eq!(VECTORS[0].1.len(), 223);
        assert_eq!(VECTORS[2].1.len(), 179);
        for (secret, body, expected) in VECTORS {
            assert_eq!(sign(secret, body.as_bytes()), expected);
            assert!(verify(secret, body.as_bytes(), expected));
            assert!(!verify("wrong", body.as_bytes(), expected));
            let mut tampered = body.as_bytes().to_vec();
            tampered.push(b' ');
            assert!(!verify(secret, &tampered, expected));
        }
        assert!(!verify("abcdefghij", b"", "not base64!"));
        assert!(!verify("abcdefghij", b"", ""));
    }

    #[test]
    fn decodes_every_documented_event() {
        let text = decode(VECTORS[2].1.as_bytes()).expect("text");
        assert_eq!(
            text,
            Event::Text {
                source: Source {
                    user_id: Some("user0001-e3e9-4063-1d22-04978003f354".into()),
                    channel_id: None,
                    domain_id: Some("40029600".into())
                },
                text: "出勤".into(),
                postback: None
            }
        );
        match decode(VECTORS[1].1.as_bytes()).expect("postback") {
            Event::Postback { data, source } => {
                assert_eq!(data, "action=buy");
                assert_eq!(source.channel_id.as_deref(), Some("12345"));
            }
            other => panic!("{other:?}"),
        }
        let sticker = br#"{"type":"message","source":{"userId":"u","domainId":"1"},"content":{"type":"sticker","packageId":"1","stickerId":"2"}}"#;
        assert!(matches!(decode(sticker), Ok(Event::OtherMessage { content_type, .. }) if content_type == "sticker"));
        let button = r#"{"type":"message","source":{"userId":"u"},"content":{"type":"text","text":"出勤","postback":"dakoku:punch:clock_in"}}"#;
        assert!(
            matches!(decode(button.as_bytes()), Ok(Event::Text { postback: Some(p), .. }) if p == "dakoku:punch:clock_in")
        );
        for kind in ["join", "leave", "joined", "left", "end"] {
            let body = format!(r#"{{"type":"{kind}","source":{{"channelId":"c","domainId":1}},"members":["a"]}}"#);
            assert!(matches!(decode(body.as_bytes()), Ok(Event::Membership { .. })), "{kind}");
        }
        let begin = br#"{"type":"begin","source":{"userId":"u","channelId":"c","domainId":1},"issuedTime":"2022-01-04T05:16:05Z"}"#;
        assert!(matches!(decode(begin), Ok(Event::Begin { .. })));
        assert_eq!(decode(br#"{"type":"reaction"}"#), Ok(Event::Unknown { kind: "reaction".into() }));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"{\"type\":1}",
            b"{\"type\":\"message\"}",
            b"{\"type\":\"message\",\"source\":{\"userId\":\"u\"}}",
            b"{\"type\":\"message\",\"source\":{\"userId\":\"u\"},\"content\":{\"type\":\"text\"}}",
            b"{\"type\":\"postback\",\"source\":{\"userId\":\"u\"}}",
            b"{\"type\":\"postback\",\"source\":{},\"data\":\"x\"}",
            b"{\"type\":\"message\",\"source\":{\"userId\":\"\"},\"content\":{\"type\":\"text\",\"text\":\"x\"}}",
        ] {
            assert!(decode(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }
}
