//! Punching by chat, the same for every platform. An adapter verifies and decodes what its
//! platform sent, then hands a [`ChatEvent`] here; this module works out what the employee
//! meant, records the punch, and queues the reply in the same transaction, as a job the
//! adapter's sender delivers. Redelivered events are recognised by their key and do nothing.

use crate::integrations::OpenIntegration;
use crate::punches::{insert_punch, NewPunch, Recorded};
use crate::timesheets::{day_begins, month_figures, YearMonth};
use crate::work_rules::rule_for;
use crate::{Ctx, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Duration, Utc};
use dakoku_domain::{
    Actor, Employee, EmployeeId, EmployeeStatus, IntegrationId, OrgId, Platform, PunchKind, Recorder, Role, UserId,
};
use dakoku_rules::work_date;
use dakoku_store::integrations::{self, Link};
use dakoku_store::jobs::{self, NewJob};
use dakoku_store::{chat as store, employees, orgs, punches, timesheets as sheets, Conn, StoreError};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What a platform user did, as the adapter understood it.
#[derive(Clone, Debug)]
pub struct ChatEvent {
    /// Unique per event within the integration: the platform's id, or a digest of the body.
    pub event_key: String,
    pub user_id: String,
    pub room: Room,
    pub input: ChatInput,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Room {
    /// The one-to-one room of the user and the bot.
    Direct,
    /// A group room, by the platform's id for it.
    Group(String),
}

#[derive(Clone, Debug)]
pub enum ChatInput {
    /// Text the user typed (or a message button sent for them).
    Text(String),
    /// The data of a button, quick reply or menu area the user pressed.
    Action(String),
}

/// A reply in platform-neutral form: text, and buttons offering what makes sense next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatReply {
    pub text: String,
    pub choices: Vec<Choice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub label: String,
    /// Comes back as [`ChatInput::Action`] when pressed.
    pub data: String,
}

/// The payload of a `{platform}.message` job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutgoingMessage {
    pub integration_id: IntegrationId,
    pub user_id: String,
    pub room: Room,
    pub reply: ChatReply,
}

/// The job kind that sends messages on a platform.
pub fn message_job(platform: Platform) -> String {
    format!("{}.message", platform.as_str())
}

#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// A reply was queued (and a punch stored, if one was asked for).
    Replied,
    /// Not meant for the bot (chatter in a group room, a kind of event with nothing to do).
    Ignored,
    /// This event was handled before.
    Duplicate,
}

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

const DEFAULT_KEYWORDS: [(PunchKind, &[&str]); 4] = [
    (PunchKind::ClockIn, &["出勤", "上班", "签到", "clock in", "clock-in", "🏢"]),
    (PunchKind::ClockOut, &["退勤", "下班", "签退", "clock out", "clock-out", "🏠"]),
    (PunchKind::BreakStart, &["休憩開始", "休憩", "休息开始", "休息", "break start", "break", "☕"]),
    (PunchKind::BreakEnd, &["休憩終了", "休憩戻り", "休息结束", "break end", "back from break", "🔙"]),
];
const TODAY_WORDS: &[&str] = &["今日", "本日", "今天", "today"];
const MONTH_WORDS: &[&str] = &["今月", "本月", "month", "this month"];
const HELP_WORDS: &[&str] = &["help", "ヘルプ", "使い方", "帮助", "?", "？"];
const LINK_WORDS: &[&str] = &["link", "連携", "绑定"];
const LINK_CODE_DIGITS: usize = 8;
const ACTION_PREFIX: &str = "dakoku:";

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

fn interpret_action(data: &str) -> Intent {
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

fn interpret_text(settings: &ChatSettings, text: &str) -> Intent {
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
fn link_code(text: &str) -> Option<String> {
    let rest = LINK_WORDS.iter().find_map(|w| text.strip_prefix(w)).unwrap_or(text);
    let digits: String = rest.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == LINK_CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

fn hash_code(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// A new link code and when it stops working.
#[derive(Clone, Debug, Serialize)]
pub struct LinkCode {
    pub employee_id: EmployeeId,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

impl Service {
    /// Issues a one-time code an employee sends to a bot to link their chat account. An
    /// employee's own code lasts 30 minutes; one issued by HR lasts a week (it may be handed
    /// over on paper).
    pub async fn issue_link_code(&self, ctx: &Ctx, employee: &EmployeeId) -> ServiceResult<LinkCode> {
        let own = ctx.actor.is_self(employee);
        if !own && !ctx.actor.manages_people() {
            return Err(ServiceError::Forbidden("only admin and HR issue link codes for others".into()));
        }
        let mut tx = self.db.begin().await?;
        let found = crate::employees::visible_employee(&mut tx, ctx, employee).await?;
        if found.status == EmployeeStatus::Retired {
            return Err(ServiceError::Unprocessable(format!("employee {} is retired", found.code)));
        }
        let code: String = {
            let mut rng = rand::thread_rng();
            (0..LINK_CODE_DIGITS).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
        };
        let expires_at = self.clock.now() + if own { Duration::minutes(30) } else { Duration::days(7) };
        store::put_link_code(&mut tx, ctx.org(), employee, &hash_code(&code), expires_at).await?;
        crate::audit::record(
            &mut tx,
            ctx,
            "employee.link_code",
            "employee",
            employee.as_str(),
            crate::audit::NOTHING,
            Some(&serde_json::json!({ "expires_at": expires_at })),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(LinkCode { employee_id: employee.clone(), code, expires_at })
    }

    /// Handles one chat event from a verified callback. Everything it decides (the punch, the
    /// link, the reply) is committed together before the callback is answered.
    pub async fn handle_chat(&self, integration: &OpenIntegration, event: ChatEvent) -> ServiceResult<Handled> {
        let stored = &integration.stored;
        let settings = ChatSettings::from_settings(stored.platform, &stored.settings);
        let phrases = Phrases::of(settings.language);
        let intent = interpret(&settings, &event.input);
        let in_group = matches!(event.room, Room::Group(_));
        if in_group && (!settings.allow_groups || matches!(intent, Intent::Unknown)) {
            // People talk to each other in group rooms; only words for the bot get an answer.
            return Ok(Handled::Ignored);
        }

        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        if !store::claim_event(&mut tx, &stored.id, &event.event_key).await? {
            return Ok(Handled::Duplicate);
        }
        let employee = match integrations::linked_employee(&mut tx, &stored.id, &event.user_id).await {
            Ok(id) => Some(employees::get(&mut tx, &stored.org_id, &id).await?),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let reply = match (intent, employee) {
            (Intent::Link(code), employee) => {
                self.link_by_code(&mut tx, integration, &event.user_id, employee.as_ref(), &code, &phrases).await?
            }
            (_, None) => ChatReply { text: phrases.not_linked.to_owned(), choices: vec![] },
            (_, Some(e)) if e.status == EmployeeStatus::Retired => {
                ChatReply { text: phrases.retired.to_owned(), choices: vec![] }
            }
            (Intent::Punch(kind), Some(employee)) if settings.punching => {
                match self.punch_by_chat(&mut tx, integration, &event, &employee, kind, now, &phrases).await? {
                    Ok(reply) => reply,
                    Err(refusal) => {
                        // The punch was refused: undo what the attempt wrote, keep the event
                        // claim and the refusal.
                        drop(tx);
                        tx = self.db.begin().await?;
                        if !store::claim_event(&mut tx, &stored.id, &event.event_key).await? {
                            return Ok(Handled::Duplicate);
                        }
                        refusal
                    }
                }
            }
            (Intent::Punch(_), Some(_)) => ChatReply { text: phrases.punching_off.to_owned(), choices: vec![] },
            (Intent::Today, Some(employee)) => self.today_reply(&mut tx, &employee, now, &phrases).await?,
            (Intent::Month, Some(employee)) => self.month_reply(&mut tx, &employee, now, &phrases).await?,
            (Intent::Help, Some(_)) => help_reply(&settings, &phrases),
            (Intent::Unclear, Some(_)) => {
                let mut help = help_reply(&settings, &phrases);
                help.text = format!("{}\n\n{}", phrases.unclear, help.text);
                help
            }
            (Intent::Unknown, Some(_)) => {
                let mut help = help_reply(&settings, &phrases);
                help.text = format!("{}\n\n{}", phrases.unknown, help.text);
                help
            }
        };
        let message = OutgoingMessage {
            integration_id: stored.id.clone(),
            user_id: event.user_id.clone(),
            room: event.room,
            reply,
        };
        let payload = serde_json::to_value(&message).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        jobs::enqueue(&mut tx, &NewJob::now(&message_job(stored.platform), Some(stored.org_id.clone()), payload))
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(Handled::Replied)
    }

    /// Records the punch; `Ok(Err(reply))` is a refusal to answer after rolling back.
    #[allow(clippy::too_many_arguments)]
    async fn punch_by_chat(
        &self,
        tx: &mut Conn,
        integration: &OpenIntegration,
        event: &ChatEvent,
        employee: &Employee,
        kind: PunchKind,
        now: DateTime<Utc>,
        phrases: &Phrases,
    ) -> ServiceResult<Result<ChatReply, ChatReply>> {
        let stored = &integration.stored;
        let org = orgs::get(tx, &stored.org_id).await?;
        let rule = rule_for(tx, &org, employee, now).await?;
        let today = work_date(&rule, now);
        // The month lock is checked by `insert_punch`; its refusal becomes the reply below.
        let month = YearMonth::of(today);
        let earlier = punches::effective(tx, &org.id, &employee.id, day_begins(&rule, today), now).await?;
        let last = earlier.last().map(|p| p.kind);
        let ctx = chat_ctx(&stored.org_id, &stored.id, &employee.id);
        let input = NewPunch {
            employee_id: employee.id.clone(),
            kind,
            at: Some(now),
            note: None,
            location: None,
            source: stored.platform.punch_source(),
            integration_id: Some(stored.id.clone()),
            external_event_id: Some(event.event_key.clone()),
        };
        let punch = match insert_punch(tx, &ctx, input, now).await {
            Ok(Recorded::Created(p)) => {
                self.enqueue_pushes(tx, &p).await?;
                p
            }
            Ok(Recorded::AlreadyStored(p)) => p,
            Ok(Recorded::Replay { .. }) => return Err(ServiceError::Conflict("unexpected replay".into())),
            Err(ServiceError::Conflict(_)) => {
                let text = phrases.month_locked.replace("{month}", &month.text());
                return Ok(Err(ChatReply { text, choices: vec![] }));
            }
            Err(e) => return Err(e),
        };
        let zone = employee.timezone.as_ref().map(|z| z.0).unwrap_or(org.timezone.0);
        let time = punch.at.with_timezone(&zone).format("%H:%M").to_string();
        let mut text = phrases
            .recorded
            .replace("{name}", &employee.name)
            .replace("{kind}", phrases.kind(kind))
            .replace("{time}", &time);
        if let Some(warning) = out_of_sequence(last, kind, phrases) {
            text = format!("{text}\n⚠ {warning}");
        }
        Ok(Ok(ChatReply { text, choices: next_choices(kind, phrases) }))
    }

    async fn link_by_code(
        &self,
        tx: &mut Conn,
        integration: &OpenIntegration,
        user_id: &str,
        already: Option<&Employee>,
        code: &str,
        phrases: &Phrases,
    ) -> ServiceResult<ChatReply> {
        let stored = &integration.stored;
        let plain = |text: &str| ChatReply { text: text.to_owned(), choices: vec![] };
        if let Some(employee) = already {
            return Ok(plain(&phrases.already_linked.replace("{name}", &employee.name)));
        }
        let Some(employee_id) = store::take_link_code(tx, &stored.org_id, &hash_code(code)).await? else {
            return Ok(plain(phrases.bad_code));
        };
        let employee = employees::get(tx, &stored.org_id, &employee_id).await?;
        let link = Link {
            integration_id: stored.id.clone(),
            employee_id: employee.id.clone(),
            external_user_id: user_id.to_owned(),
            created_at: self.clock.now(),
        };
        let ctx = chat_ctx(&stored.org_id, &stored.id, &employee.id);
        match crate::integrations::insert_link(tx, &ctx, &link).await {
            Ok(()) => {}
            Err(ServiceError::Conflict(_)) => return Ok(plain(phrases.employee_taken)),
            Err(e) => return Err(e),
        }
        Ok(ChatReply {
            text: phrases.linked.replace("{name}", &employee.name),
            choices: next_choices(PunchKind::ClockOut, phrases),
        })
    }

    async fn today_reply(
        &self,
        tx: &mut Conn,
        employee: &Employee,
        now: DateTime<Utc>,
        phrases: &Phrases,
    ) -> ServiceResult<ChatReply> {
        let org = orgs::get(tx, &employee.org_id).await?;
        let rule = rule_for(tx, &org, employee, now).await?;
        let today = work_date(&rule, now);
        let (days, _) = month_figures(tx, &org, employee, &rule, YearMonth::of(today), now).await?;
        let zone = employee.timezone.as_ref().map(|z| z.0).unwrap_or(org.timezone.0);
        let punches = punches::effective(tx, &org.id, &employee.id, day_begins(&rule, today), now).await?;
        let mut lines = vec![phrases.today_title.replace("{date}", &today.to_string())];
        if punches.is_empty() {
            lines.push(phrases.no_punches.to_owned());
        }
        for p in &punches {
            lines.push(format!("{} {}", p.at.with_timezone(&zone).format("%H:%M"), phrases.kind(p.kind)));
        }
        if let Some(day) = days.iter().find(|d| d.date == today) {
            lines.push(format!(
                "{} {} / {} {} / {} {}",
                phrases.worked,
                hours(day.worked_minutes),
                phrases.breaks,
                hours(day.break_minutes),
                phrases.overtime,
                hours(day.overtime_minutes)
            ));
            if !day.anomalies.is_empty() {
                let names: Vec<String> = day.anomalies.iter().map(anomaly_code).collect();
                lines.push(format!("⚠ {}", names.join(", ")));
            }
        }
        let next = punches.last().map(|p| p.kind).unwrap_or(PunchKind::ClockOut);
        Ok(ChatReply { text: lines.join("\n"), choices: next_choices(next, phrases) })
    }

    async fn month_reply(
        &self,
        tx: &mut Conn,
        employee: &Employee,
        now: DateTime<Utc>,
        phrases: &Phrases,
    ) -> ServiceResult<ChatReply> {
        let org = orgs::get(tx, &employee.org_id).await?;
        let rule = rule_for(tx, &org, employee, now).await?;
        let month = YearMonth::of(work_date(&rule, now));
        let (_, summary) = month_figures(tx, &org, employee, &rule, month, now).await?;
        let state = sheets::month_state(tx, &org.id, &employee.id, &month.text()).await?;
        let t = &summary.totals;
        let lines = [
            phrases.month_title.replace("{month}", &month.text()).replace("{status}", state.status.as_str()),
            format!("{} {}", phrases.days_worked, t.days_worked),
            format!("{} {}", phrases.worked, hours(t.worked_minutes)),
            format!("{} {}", phrases.overtime, hours(t.overtime_minutes)),
            format!("{} {}", phrases.late_night, hours(t.late_night_minutes)),
            format!("{} {}", phrases.holiday, hours(t.holiday_minutes)),
            format!("{} {}", phrases.anomaly_days, t.anomaly_days),
        ];
        Ok(ChatReply { text: lines.join("\n"), choices: vec![] })
    }
}

/// Who a chat punch is made by: the linked employee, acting for themselves through the
/// integration.
fn chat_ctx(org: &OrgId, integration: &IntegrationId, employee: &EmployeeId) -> Ctx {
    Ctx {
        actor: Actor {
            org_id: org.clone(),
            user_id: UserId::from_db(format!("integration:{integration}")),
            role: Role::Employee,
            employee_id: Some(employee.clone()),
            managed_root: None,
            managed_departments: Default::default(),
        },
        recorder: Recorder::Integration(integration.clone()),
        request_id: None,
    }
}

fn hours(minutes: i64) -> String {
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

fn anomaly_code(anomaly: &dakoku_rules::Anomaly) -> String {
    serde_json::to_value(anomaly).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Says what is odd about punching `kind` after `last` today, if anything. The punch is
/// recorded all the same; the day record shows the anomaly until it is corrected.
fn out_of_sequence(last: Option<PunchKind>, kind: PunchKind, phrases: &Phrases) -> Option<&'static str> {
    use PunchKind::*;
    let working = matches!(last, Some(ClockIn) | Some(BreakEnd));
    match kind {
        ClockOut if matches!(last, None | Some(ClockOut)) => Some(phrases.out_without_in),
        ClockOut if last == Some(BreakStart) => Some(phrases.out_during_break),
        BreakStart if !working => Some(phrases.break_without_in),
        BreakEnd if last != Some(BreakStart) => Some(phrases.break_end_without_start),
        ClockIn if working || last == Some(BreakStart) => Some(phrases.in_twice),
        _ => None,
    }
}

/// The punches that make sense after `kind`.
fn next_choices(kind: PunchKind, phrases: &Phrases) -> Vec<Choice> {
    use PunchKind::*;
    let kinds: &[PunchKind] = match kind {
        ClockIn | BreakEnd => &[BreakStart, ClockOut],
        BreakStart => &[BreakEnd],
        ClockOut => &[ClockIn],
    };
    let mut choices: Vec<Choice> = kinds
        .iter()
        .map(|k| Choice { label: phrases.kind(*k).to_owned(), data: format!("{ACTION_PREFIX}punch:{}", k.as_str()) })
        .collect();
    choices.push(Choice { label: phrases.today_label.to_owned(), data: format!("{ACTION_PREFIX}today") });
    choices
}

fn help_reply(settings: &ChatSettings, phrases: &Phrases) -> ChatReply {
    let mut lines = vec![phrases.help_title.to_owned()];
    for (kind, words) in &settings.keywords {
        lines.push(format!("・{}: {}", phrases.kind(*kind), words.join(" / ")));
    }
    if !settings.trigger_words.is_empty() {
        lines.push(phrases.trigger_hint.replace("{words}", &settings.trigger_words.join(" / ")));
    }
    lines.push(phrases.help_commands.to_owned());
    let choices = [PunchKind::ClockIn, PunchKind::ClockOut]
        .iter()
        .map(|k| Choice { label: phrases.kind(*k).to_owned(), data: format!("{ACTION_PREFIX}punch:{}", k.as_str()) })
        .chain([
            Choice { label: phrases.today_label.to_owned(), data: format!("{ACTION_PREFIX}today") },
            Choice { label: phrases.month_label.to_owned(), data: format!("{ACTION_PREFIX}month") },
        ])
        .collect();
    ChatReply { text: lines.join("\n"), choices }
}

/// The action data a rich menu or button uses to punch `kind`.
pub fn punch_action(kind: PunchKind) -> String {
    format!("{ACTION_PREFIX}punch:{}", kind.as_str())
}

/// Every sentence the bot says, in one language.
pub struct Phrases {
    pub kinds: [&'static str; 4],
    recorded: &'static str,
    out_without_in: &'static str,
    out_during_break: &'static str,
    break_without_in: &'static str,
    break_end_without_start: &'static str,
    in_twice: &'static str,
    not_linked: &'static str,
    retired: &'static str,
    month_locked: &'static str,
    punching_off: &'static str,
    unknown: &'static str,
    unclear: &'static str,
    help_title: &'static str,
    help_commands: &'static str,
    trigger_hint: &'static str,
    linked: &'static str,
    already_linked: &'static str,
    bad_code: &'static str,
    employee_taken: &'static str,
    today_title: &'static str,
    today_label: &'static str,
    month_label: &'static str,
    no_punches: &'static str,
    month_title: &'static str,
    worked: &'static str,
    breaks: &'static str,
    overtime: &'static str,
    late_night: &'static str,
    holiday: &'static str,
    days_worked: &'static str,
    anomaly_days: &'static str,
}

impl Phrases {
    pub fn kind(&self, kind: PunchKind) -> &'static str {
        match kind {
            PunchKind::ClockIn => self.kinds[0],
            PunchKind::ClockOut => self.kinds[1],
            PunchKind::BreakStart => self.kinds[2],
            PunchKind::BreakEnd => self.kinds[3],
        }
    }

    pub fn of(language: Language) -> Self {
        match language {
            Language::Ja => Self {
                kinds: ["出勤", "退勤", "休憩開始", "休憩終了"],
                recorded: "{name}さんの{kind}を {time} で記録しました。",
                out_without_in: "今日の出勤の打刻がありません。退勤は記録しましたが、出勤漏れとして勤怠に表示されます。修正を申請してください。",
                out_during_break: "休憩が終了していません。休憩終了の打刻漏れとして表示されます。",
                break_without_in: "出勤の打刻がないまま休憩を開始しました。勤怠に異常として表示されます。",
                break_end_without_start: "休憩開始の打刻がありません。勤怠に異常として表示されます。",
                in_twice: "すでに出勤しています。二重の出勤として勤怠に表示されます。",
                not_linked: "このアカウントは dakoku の従業員と連携されていません。dakoku の画面で「チャット連携」のコード（8桁）を表示してこのトークに送信するか、人事担当者に連携を依頼してください。",
                retired: "このアカウントの従業員は退職済みのため打刻できません。",
                month_locked: "{month} の勤怠は申請済み（または承認済み）のため打刻できません。上長または人事に差し戻してもらってから打刻してください。",
                punching_off: "このボットでの打刻は管理者により無効にされています。",
                unknown: "メッセージを理解できませんでした。",
                unclear: "どの打刻か判断できませんでした。キーワードを一つだけ送ってください。",
                help_title: "打刻するには次のキーワードを送ってください。",
                help_commands: "「今日」で今日の記録、「今月」で今月の集計、「ヘルプ」でこの案内を表示します。",
                trigger_hint: "打刻のメッセージには {words} を含めてください。",
                linked: "{name}さんとして連携しました。これからこのトークで打刻できます。",
                already_linked: "このアカウントはすでに {name}さんとして連携されています。",
                bad_code: "連携コードが正しくないか、有効期限が切れています。新しいコードを発行してください。",
                employee_taken: "この従業員はすでに別のアカウントと連携されています。人事担当者に確認してください。",
                today_title: "{date} の記録",
                today_label: "今日の記録",
                month_label: "今月の集計",
                no_punches: "打刻はまだありません。",
                month_title: "{month} の集計（状態: {status}）",
                worked: "労働",
                breaks: "休憩",
                overtime: "時間外",
                late_night: "深夜",
                holiday: "休日労働",
                days_worked: "出勤日数",
                anomaly_days: "要確認の日",
            },
            Language::Zh => Self {
                kinds: ["上班", "下班", "休息开始", "休息结束"],
                recorded: "{name}：{kind}打卡成功，时间 {time}。",
                out_without_in: "今天没有上班打卡记录。下班已记录，但考勤会显示缺少上班打卡，请提交补卡申请。",
                out_during_break: "休息尚未结束，考勤会显示缺少休息结束打卡。",
                break_without_in: "没有上班打卡就开始了休息，考勤会显示异常。",
                break_end_without_start: "没有休息开始的打卡，考勤会显示异常。",
                in_twice: "您已经上班打卡了，考勤会显示重复上班打卡。",
                not_linked: "此账号尚未与 dakoku 员工绑定。请在 dakoku 页面的「聊天绑定」中获取 8 位绑定码并发送到此会话，或请人事为您绑定。",
                retired: "该员工已离职，无法打卡。",
                month_locked: "{month} 的考勤已提交（或已审批），暂时无法打卡。请主管或人事驳回后再打卡。",
                punching_off: "管理员已关闭通过此应用打卡。",
                unknown: "无法理解这条消息。",
                unclear: "无法判断要打哪一种卡，请只发送一个关键词。",
                help_title: "发送以下关键词即可打卡：",
                help_commands: "发送「今天」查看今日记录，「本月」查看本月汇总，「帮助」查看本说明。",
                trigger_hint: "打卡消息中请包含 {words}。",
                linked: "已绑定为 {name}，现在可以在此会话中打卡。",
                already_linked: "此账号已绑定为 {name}。",
                bad_code: "绑定码不正确或已过期，请重新获取。",
                employee_taken: "该员工已绑定其他账号，请联系人事确认。",
                today_title: "{date} 的记录",
                today_label: "今日记录",
                month_label: "本月汇总",
                no_punches: "今天还没有打卡。",
                month_title: "{month} 汇总（状态：{status}）",
                worked: "工作",
                breaks: "休息",
                overtime: "加班",
                late_night: "深夜",
                holiday: "休息日/节假日工作",
                days_worked: "出勤天数",
                anomaly_days: "异常天数",
            },
            Language::En => Self {
                kinds: ["Clock in", "Clock out", "Break start", "Break end"],
                recorded: "{name}: {kind} recorded at {time}.",
                out_without_in: "There is no clock-in today. The clock-out is recorded, and the day shows a missing clock-in until it is corrected.",
                out_during_break: "Your break was still open; the day shows a missing break end.",
                break_without_in: "You started a break without clocking in; the day shows an anomaly.",
                break_end_without_start: "There is no break start; the day shows an anomaly.",
                in_twice: "You were already clocked in; the day shows a double clock-in.",
                not_linked: "This account is not linked to a dakoku employee yet. Open \"Chat link\" in dakoku to get an 8-digit code and send it here, or ask HR to link you.",
                retired: "The employee of this account has left the company and cannot punch.",
                month_locked: "{month} has been submitted (or approved), so punches are refused until your manager or HR sends it back.",
                punching_off: "Punching through this bot has been turned off by an administrator.",
                unknown: "Sorry, I did not understand that.",
                unclear: "I could not tell which punch you meant; please send one keyword.",
                help_title: "Send one of these keywords to punch:",
                help_commands: "Send \"today\" for today's record, \"month\" for this month's totals, \"help\" for this message.",
                trigger_hint: "Punch messages must contain {words}.",
                linked: "Linked as {name}. You can punch in this chat now.",
                already_linked: "This account is already linked as {name}.",
                bad_code: "That link code is wrong or has expired; please get a new one.",
                employee_taken: "That employee is already linked to another account; please ask HR.",
                today_title: "Record of {date}",
                today_label: "Today",
                month_label: "This month",
                no_punches: "No punches yet.",
                month_title: "{month} totals (status: {status})",
                worked: "Worked",
                breaks: "Breaks",
                overtime: "Overtime",
                late_night: "Late night",
                holiday: "Holiday work",
                days_worked: "Days worked",
                anomaly_days: "Days to check",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ChatSettings {
        ChatSettings::from_settings(Platform::LineWorks, &Map::new())
    }

    fn text(t: &str) -> ChatInput {
        ChatInput::Text(t.to_owned())
    }

    #[test]
    fn keywords_in_three_languages_and_the_longest_wins() {
        let s = settings();
        assert_eq!(interpret(&s, &text("出勤")), Intent::Punch(PunchKind::ClockIn));
        assert_eq!(interpret(&s, &text("おはようございます、出勤します")), Intent::Punch(PunchKind::ClockIn));
        assert_eq!(interpret(&s, &text("下班了")), Intent::Punch(PunchKind::ClockOut));
        assert_eq!(interpret(&s, &text("ＣＬＯＣＫ　ＩＮ")), Intent::Punch(PunchKind::ClockIn));
        assert_eq!(interpret(&s, &text("休憩")), Intent::Punch(PunchKind::BreakStart));
        assert_eq!(interpret(&s, &text("休憩終了")), Intent::Punch(PunchKind::BreakEnd));
        assert_eq!(interpret(&s, &text("🏢")), Intent::Punch(PunchKind::ClockIn));
        assert_eq!(interpret(&s, &text("出勤 退勤")), Intent::Unclear);
        assert_eq!(interpret(&s, &text("こんにちは")), Intent::Unknown);
        assert_eq!(interpret(&s, &text("今日")), Intent::Today);
        assert_eq!(interpret(&s, &text("Help")), Intent::Help);
        assert_eq!(interpret(&s, &text("連携 1234-5678")), Intent::Link("12345678".into()));
        assert_eq!(interpret(&s, &text("12345678")), Intent::Link("12345678".into()));
        assert_eq!(interpret(&s, &text("1234567")), Intent::Unknown);
    }

    #[test]
    fn actions_carry_the_punch_kind() {
        let s = settings();
        for &kind in PunchKind::ALL {
            assert_eq!(interpret(&s, &ChatInput::Action(punch_action(kind))), Intent::Punch(kind));
        }
        assert_eq!(interpret(&s, &ChatInput::Action("action=buy".into())), Intent::Unknown);
        assert_eq!(interpret(&s, &ChatInput::Action("dakoku:punch:nap".into())), Intent::Unknown);
    }

    #[test]
    fn custom_keywords_and_trigger_words() {
        let mut map = Map::new();
        map.insert("keywords".into(), serde_json::json!({"clock_in": "おは, 🌞", "clock_out": ["おつ"]}));
        map.insert("trigger_words".into(), serde_json::json!(["#打刻"]));
        let s = ChatSettings::from_settings(Platform::LineWorks, &map);
        assert_eq!(interpret(&s, &text("#打刻 おは")), Intent::Punch(PunchKind::ClockIn));
        assert_eq!(interpret(&s, &text("#打刻 🌞")), Intent::Punch(PunchKind::ClockIn));
        assert_eq!(interpret(&s, &text("おつ")), Intent::Unclear, "a keyword without the trigger does not punch");
        assert_eq!(interpret(&s, &text("#打刻 出勤")), Intent::Unknown, "defaults are replaced");
        assert_eq!(
            interpret(&s, &text("#打刻 休憩")),
            Intent::Punch(PunchKind::BreakStart),
            "untouched kinds keep defaults"
        );
    }

    #[test]
    fn sequence_warnings() {
        let p = Phrases::of(Language::En);
        use PunchKind::*;
        assert!(out_of_sequence(None, ClockOut, &p).is_some());
        assert!(out_of_sequence(Some(ClockIn), ClockOut, &p).is_none());
        assert!(out_of_sequence(Some(BreakStart), BreakEnd, &p).is_none());
        assert!(out_of_sequence(Some(ClockIn), BreakEnd, &p).is_some());
        assert!(out_of_sequence(Some(ClockOut), ClockIn, &p).is_none());
        assert!(out_of_sequence(Some(ClockIn), ClockIn, &p).is_some());
    }
}
