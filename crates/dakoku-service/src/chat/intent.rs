//! What an employee meant: keywords in three languages, buttons and rich-menu actions, link
//! codes. Pure: text in, an [`Intent`] out.

use super::*;

/// The languages replies are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Ja,
    Zh,
    En,
}

/// The chat options of an integration, from its (non-secret) settings.
#[derive(Clone, Debug)]
pub struct ChatSettings {
    pub punching: bool,
    pub allow_groups: bool,
    pub keywords: Vec<(PunchKind, Vec<String>)>,
    pub trigger_words: Vec<String>,
    pub language: Language,
}

pub(super) const DEFAULT_KEYWORDS: [(PunchKind, &[&str]); 4] = [
    (PunchKind::ClockIn, &["出勤", "上班", "签到", "clock in", "clock-in", "🏢"]),
    (PunchKind::ClockOut, &["退勤", "下班", "签退", "clock out", "clock-out", "🏠"]),
    (PunchKind::BreakStart, &["休憩開始", "休憩", "休息开始", "休息", "break start", "break", "☕"]),
    (PunchKind::BreakEnd, &["休憩終了", "休憩戻り", "休息结束", "break end", "back from break", "🔙"]),
];
pub(super) const TODAY_WORDS: &[&str] = &["今日", "本日", "今天", "today"];
pub(super) const MONTH_WORDS: &[&str] = &["今月", "本月", "month", "this month"];
pub(super) const HELP_WORDS: &[&str] = &["help", "ヘルプ", "使い方", "帮助", "?", "？"];
pub(super) const LINK_WORDS: &[&str] = &["link", "連携", "绑定"];
pub(super) const LINK_CODE_DIGITS: usize = 8;
pub(super) const ACTION_PREFIX: &str = "dakoku:";

impl ChatSettings {
    /// Reads the options, falling back to the defaults where a setting is absent or unusable.
    pub fn from_settings(platform: Platform, settings: &Map<String, Value>) -> Self {
        let flag = |name: &str, default: bool| settings.get(name).and_then(Value::as_bool).unwrap_or(default);
        let words = |value: Option<&Value>| -> Option<Vec<String>> {
            let list: Vec<String> = match value? {
                Value::String(s) => s.split([',', '、', '，']).map(normalize).collect(),
                Value::Array(items) => items.iter().filter_map(Value::as_str).map(normalize).collect(),
                _ => return None,
            };
            Some(list.into_iter().filter(|w| !w.is_empty()).collect())
        };
        let custom = settings.get("keywords").and_then(Value::as_object);
        let keywords = DEFAULT_KEYWORDS
            .iter()
            .map(|(kind, defaults)| {
                let chosen = custom
                    .and_then(|c| words(c.get(kind.as_str())))
                    .unwrap_or_else(|| defaults.iter().map(|w| normalize(w)).collect());
                (*kind, chosen)
            })
            .collect();
        let language = match settings.get("language").and_then(Value::as_str) {
            Some("ja") => Language::Ja,
            Some("zh") => Language::Zh,
            Some("en") => Language::En,
            _ if platform == Platform::LineWorks => Language::Ja,
            _ => Language::Zh,
        };
        Self {
            punching: flag("punching", true),
            allow_groups: flag("allow_groups", true),
            keywords,
            trigger_words: words(settings.get("trigger_words")).unwrap_or_default(),
            language,
        }
    }
}

/// What the user asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    Punch(PunchKind),
    Today,
    Month,
    Help,
    Link(String),
    /// Several punch keywords at once, or a punch without the trigger word.
    Unclear,
    Unknown,
}

/// Lower case, full-width ASCII folded to half-width, spaces collapsed, so 「ＣＬＯＣＫ　ＩＮ」
/// matches "clock in".
pub fn normalize(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            other => other,
        })
        .collect::<String>()
        .to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Works out the intent of a text or an action.
pub fn interpret(settings: &ChatSettings, input: &ChatInput) -> Intent {
    match input {
        ChatInput::Action(data) => interpret_action(data),
        ChatInput::Text(text) => interpret_text(settings, text),
    }
}

pub(super) fn interpret_action(data: &str) -> Intent {
    let Some(action) = data.strip_prefix(ACTION_PREFIX) else { return Intent::Unknown };
    match action {
        "today" => Intent::Today,
        "month" => Intent::Month,
        "help" => Intent::Help,
        other => match other.strip_prefix("punch:").and_then(PunchKind::parse) {
            Some(kind) => Intent::Punch(kind),
            None => Intent::Unknown,
        },
    }
}

pub(super) fn interpret_text(settings: &ChatSettings, text: &str) -> Intent {
    let text = normalize(text);
    if text.is_empty() {
        return Intent::Unknown;
    }
    let is = |words: &[&str]| words.iter().any(|w| normalize(w) == text);
    if is(TODAY_WORDS) {
        return Intent::Today;
    }
    if is(MONTH_WORDS) {
        return Intent::Month;
    }
    if is(HELP_WORDS) {
        return Intent::Help;
    }
    if let Some(code) = link_code(&text) {
        return Intent::Link(code);
    }
    // The longest keyword found decides, so 休憩終了 is not read as 休憩.
    let mut best: Option<(usize, PunchKind)> = None;
    let mut tie = false;
    for (kind, words) in &settings.keywords {
        for word in words.iter().filter(|w| text.contains(w.as_str())) {
            let len = word.chars().count();
            match best {
                Some((best_len, best_kind)) if len == best_len && best_kind != *kind => tie = true,
                Some((best_len, _)) if len <= best_len => {}
                _ => {
                    best = Some((len, *kind));
                    tie = false;
                }
            }
        }
    }
    match best {
        Some(_) if tie => Intent::Unclear,
        Some((_, kind)) => {
            let triggered =
                settings.trigger_words.is_empty() || settings.trigger_words.iter().any(|t| text.contains(t.as_str()));
            if triggered {
                Intent::Punch(kind)
            } else {
                Intent::Unclear
            }
        }
        None => Intent::Unknown,
    }
}

/// A link code: the digits alone, or after a link word ("連携 1234 5678").
pub(super) fn link_code(text: &str) -> Option<String> {
    let rest = LINK_WORDS.iter().find_map(|w| text.strip_prefix(w)).unwrap_or(text);
    let digits: String = rest.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == LINK_CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

pub(super) fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// A new link code and when it stops working.
#[derive(Clone, Debug, Serialize)]
pub struct LinkCode {
    pub employee_id: EmployeeId,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}
