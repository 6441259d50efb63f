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

#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// A reply was queued (and a punch stored, if one was asked for).
    Replied,
    /// Not meant for the bot (chatter in a group room, a kind of event with nothing to do).
    Ignored,
    /// This event was handled before.
    Duplicate,
}
mod intent;
mod phrases;
pub use intent::*;
pub use phrases::*;

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
        jobs::enqueue(
            &mut tx,
            &NewJob::now(dakoku_domain::JobKind::message(stored.platform), Some(stored.org_id.clone()), payload),
        )
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
