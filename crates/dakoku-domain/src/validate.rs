//! Field checks shared by the API, the CLI import and the chat adapters, so one input is judged
//! the same way wherever it arrives.

use serde::Serialize;

/// One field that failed a check, with a sentence a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

/// Every problem found in one input, so a client can fix them all at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ValidationErrors(pub Vec<Invalid>);

impl ValidationErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(Invalid { field: field.to_owned(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// One line naming every bad field, for logs and CLI output.
    pub fn summary(&self) -> String {
        self.0.iter().map(|i| format!("{}: {}", i.field, i.message)).collect::<Vec<_>>().join("; ")
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

impl std::error::Error for ValidationErrors {}

/// Characters that change how text is shown without being seen: bidi overrides and
/// isolates, zero-width characters, the soft hyphen. In a name they let a list show one person
/// and mean another.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}')
}

/// A control character other than the line breaks and tabs free text may hold. No text field
/// accepts these, on either backend (PostgreSQL cannot store a NUL at all).
pub fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t' | '\r')
}

/// A text as people paste it: a leading byte-order mark (Excel's UTF-8 files) dropped.
pub fn without_bom(value: &str) -> &str {
    value.strip_prefix('\u{FEFF}').unwrap_or(value)
}

/// Trims and checks a required short text such as a name or a code.
pub fn required_text(errors: &mut ValidationErrors, field: &str, value: &str, max_chars: usize) -> String {
    let value = without_bom(value).trim();
    if value.is_empty() {
        errors.add(field, "must not be empty");
    } else if value.chars().count() > max_chars {
        errors.add(field, format!("must be at most {max_chars} characters"));
    } else if value.chars().any(char::is_control) {
        errors.add(field, "must not contain control characters");
    } else if value.chars().any(is_invisible) {
        errors.add(field, "must not contain invisible or text-direction characters");
    }
    value.to_owned()
}

/// An employee or department code: letters, digits and `-_.`, as payroll systems expect.
pub fn code(errors: &mut ValidationErrors, field: &str, value: &str) -> String {
    let value = required_text(errors, field, value, 64);
    if !value.is_empty() && !value.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c)) {
        errors.add(field, "may contain only letters, digits, '-', '_' and '.'");
    }
    value
}

/// A mobile number as people write it: digits with an optional leading '+' and spaces or
/// dashes between groups; kept as written, at most 20 characters.
pub fn mobile(errors: &mut ValidationErrors, field: &str, value: &str) -> String {
    let value = value.trim().to_owned();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let shaped = value.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || " -".contains(c) || (i == 0 && c == '+'));
    if !shaped || !(5..=15).contains(&digits) || value.len() > 20 {
        errors.add(field, "must be a phone number: digits, an optional leading '+', spaces or dashes");
    }
    value
}

/// A plausible e-mail address; it is never sent to, only matched, so the check is structural.
pub fn email(errors: &mut ValidationErrors, field: &str, value: &str) -> String {
    let value = value.trim().to_owned();
    let valid = value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        errors.add(field, format!("'{value}' is not an e-mail address"));
    }
    value
}

pub fn timezone(errors: &mut ValidationErrors, field: &str, value: &str) -> Option<crate::TimeZone> {
    match value.trim().parse() {
        Ok(tz) => Some(tz),
        Err(message) => {
            errors.add(field, message);
            None
        }
    }
}

/// Optional free text (notes): bounded so one request cannot bloat the ledger.
pub fn optional_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> Option<String> {
    let value = value.map(|v| without_bom(v).trim()).filter(|v| !v.is_empty())?;
    if value.chars().count() > max_chars {
        errors.add(field, format!("must be at most {max_chars} characters"));
    } else if value.chars().any(is_forbidden_control) {
        errors.add(field, "must not contain control characters (line breaks and tabs are fine)");
    }
    Some(value.to_owned())
}

/// A request's only free text (a decision's comment), checked on its own.
pub fn comment(value: Option<&str>) -> Result<Option<String>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let value = optional_text(&mut errors, "comment", value, 1000);
    errors.into_result().map(|()| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_emails() {
        let mut e = ValidationErrors::default();
        assert_eq!(code(&mut e, "code", " E-001 "), "E-001");
        assert!(e.is_empty());
        code(&mut e, "code", "a b");
        code(&mut e, "code", "");
        email(&mut e, "email", "taro@example.jp");
        assert_eq!(e.0.len(), 2);
        email(&mut e, "email", "taro@localhost");
        email(&mut e, "email", "@x.jp");
        assert_eq!(e.0.len(), 4);
        assert!(timezone(&mut e, "tz", "Asia/Shanghai").is_some());
        assert!(timezone(&mut e, "tz", "Mars/Base").is_none());
    }

    /// Finding 4 of the hardening review: NUL, other controls and bidi overrides in names.
    #[test]
    fn names_refuse_controls_and_invisible_characters_notes_keep_line_breaks() {
        for bad in ["a\u{0}b", "a\u{7}b", "\u{202E}gnp.exe", "Ta\u{200B}ro", "a\u{2066}b", "x\u{85}y"] {
            let mut e = ValidationErrors::default();
            required_text(&mut e, "name", bad, 100);
            assert_eq!(e.0.len(), 1, "{bad:?}");
        }
        let mut e = ValidationErrors::default();
        assert_eq!(required_text(&mut e, "name", "\u{FEFF}山田 太郎", 100), "山田 太郎");
        assert_eq!(optional_text(&mut e, "note", Some("line 1\n\tline 2"), 100).as_deref(), Some("line 1\n\tline 2"));
        assert!(e.is_empty());
        optional_text(&mut e, "note", Some("a\u{0}"), 100);
        assert_eq!(e.0.len(), 1);
    }
}
