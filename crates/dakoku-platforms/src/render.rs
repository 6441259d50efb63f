//! Small text helpers shared by the platform renderers.

/// A reply as plain text for platforms without buttons: the suggested next steps are named on
/// a last line.
pub fn plain_text(reply: &dakoku_service::chat::ChatReply) -> String {
    if reply.choices.is_empty() {
        return reply.text.clone();
    }
    let labels: Vec<&str> = reply.choices.iter().map(|c| c.label.as_str()).collect();
    format!("{}\n→ {}", reply.text, labels.join(" / "))
}

/// At most `max` characters (not bytes), so multi-byte text is never cut mid-character.
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

/// At most `max` bytes of UTF-8, cut on a character boundary.
pub fn truncate_bytes(text: &str, max: usize) -> String {
    let mut cut = max.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn cuts_on_characters() {
        assert_eq!(super::truncate_chars("出勤しました", 2), "出勤");
        assert_eq!(super::truncate_chars("ok", 20), "ok");
        assert_eq!(super::truncate_bytes("出勤", 4), "出");
        assert_eq!(super::truncate_bytes("ok", 2048), "ok");
    }
}
