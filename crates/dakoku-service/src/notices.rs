//! Notices dakoku sends on its own through the chat apps, each an ordinary message job of the
//! integration (the outbox), so they are paced and retried like replies:
//! - punch reminders (`punch_reminders`): `remind_before_minutes` (default 10) before a
//!   planned start with no clock-in yet, and `remind_after_minutes` (default 30) after the
//!   planned end while still clocked in;
//! - anomaly notices (`anomaly_notices`): once a day at `anomaly_notice_hour` (default 9, the
//!   organisation's time), yesterday's anomalies, lateness and early leave go to the employee
//!   and to the managers of their department;
//! - approval requests (`approval_requests`): a submitted month goes to those managers.
//!
//! Each is switched on per integration and reaches the people linked in it. The job's dedupe
//! key names the person, the day and the notice, so several instances (or a scheduler tick run
//! twice) send it once.

use crate::chat::{punch_action, ChatReply, ChatSettings, Choice, Language, OutgoingMessage, Phrases, Room};
use crate::timesheets::{day_begins, day_plan, month_days, YearMonth};
use crate::work_rules::rule_for;
use crate::{Service, ServiceResult};
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use dakoku_domain::{DepartmentId, Employee, EmployeeId, EmployeeStatus, Organization, PunchKind};
use dakoku_rules::{work_date, Anomaly, DayRecord};
use dakoku_store::integrations::{self, StoredIntegration};
use dakoku_store::{departments, employees, jobs, orgs, punches, users, Conn, StoreError};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Where an integration notes the last day whose anomalies were announced.
const ANOMALIES_CHECKED: &str = "notices.anomalies_checked";
/// A reminder after the end is only sent within this long of its time (not hours late after
/// a long outage).
const LATE_REMINDER_WINDOW_MINUTES: i64 = 120;

/// Which notices an integration sends, from its settings.
#[derive(Clone, Debug)]
struct NoticeOptions {
    reminders: bool,
    before: Duration,
    after: Duration,
    anomalies: bool,
    anomaly_hour: u32,
    approvals: bool,
}

impl NoticeOptions {
    fn of(settings: &serde_json::Map<String, Value>) -> Self {
        let flag = |name: &str| settings.get(name).and_then(Value::as_bool).unwrap_or(false);
        let minutes = |name: &str, default: i64| {
            Duration::minutes(settings.get(name).and_then(Value::as_i64).unwrap_or(default).clamp(0, 24 * 60))
        };
        Self {
            reminders: flag("punch_reminders"),
            before: minutes("remind_before_minutes", 10),
            after: minutes("remind_after_minutes", 30),
            anomalies: flag("anomaly_notices"),
            anomaly_hour: settings.get("anomaly_notice_hour").and_then(Value::as_u64).unwrap_or(9).min(23) as u32,
            approvals: flag("approval_requests"),
        }
    }
}

/// The sentences of notices, in one language.
struct NoticeText {
    remind_in: &'static str,
    remind_out: &'static str,
    anomaly_own: &'static str,
    anomaly_other: &'static str,
    approval: &'static str,
    late: &'static str,
    early: &'static str,
    separator: &'static str,
}

impl NoticeText {
    fn of(language: Language) -> Self {
        match language {
            Language::Ja => Self {
                remind_in: "まもなく始業（{time}）です。出勤の打刻をお忘れなく。",
                remind_out: "終業（{time}）を過ぎましたが、退勤の打刻がまだです。",
                anomaly_own: "{date} の勤怠に確認が必要です: {items}。打刻漏れは修正を申請してください。",
                anomaly_other: "{name} さんの {date} の勤怠に確認が必要です: {items}",
                approval: "{name} さんが {month} の勤怠を提出しました。承認をお願いします。",
                late: "遅刻 {n}分",
                early: "早退 {n}分",
                separator: "、",
            },
            Language::Zh => Self {
                remind_in: "即将上班（{time}），别忘了上班打卡。",
                remind_out: "已过下班时间（{time}），您还没有下班打卡。",
                anomaly_own: "您 {date} 的考勤需要确认：{items}。漏打卡请提交补卡申请。",
                anomaly_other: "{name} {date} 的考勤需要确认：{items}",
                approval: "{name} 提交了 {month} 的考勤，请审批。",
                late: "迟到{n}分钟",
                early: "早退{n}分钟",
                separator: "、",
            },
            Language::En => Self {
                remind_in: "Your shift starts at {time}. Don't forget to clock in.",
                remind_out: "Your shift ended at {time} and you have not clocked out yet.",
                anomaly_own:
                    "Your attendance on {date} needs a look: {items}. Request a correction for a missed punch.",
                anomaly_other: "{name}'s attendance on {date} needs a look: {items}",
                approval: "{name} submitted the timesheet for {month} for your approval.",
                late: "late {n} min",
                early: "left {n} min early",
                separator: ", ",
            },
        }
    }

    fn anomaly(&self, language: Language, anomaly: Anomaly) -> &'static str {
        use Anomaly::*;
        let [ja, zh, en] = match anomaly {
            MissingClockIn => ["出勤打刻なし", "缺上班卡", "no clock-in"],
            MissingClockOut => ["退勤打刻なし", "缺下班卡", "no clock-out"],
            UnclosedBreak => ["休憩終了の打刻なし", "休息未结束", "break never ended"],
            MissingBreakStart => ["休憩開始の打刻なし", "缺休息开始", "break end without a start"],
            Overlapping => ["打刻の重複", "打卡重复", "overlapping punches"],
            PunchOnHoliday => ["休日の打刻", "休息日打卡", "punches on a day off"],
            Absent => ["欠勤（打刻なし）", "缺勤（无打卡）", "absent (no punches)"],
        };
        match language {
            Language::Ja => ja,
            Language::Zh => zh,
            Language::En => en,
        }
    }

    /// What needs a look in a day record, or `None` when nothing does.
    fn issues(&self, language: Language, day: &DayRecord) -> Option<String> {
        let mut items: Vec<String> = day.anomalies.iter().map(|a| self.anomaly(language, *a).to_owned()).collect();
        if day.late_minutes > 0 {
            items.push(self.late.replace("{n}", &day.late_minutes.to_string()));
        }
        if day.early_leave_minutes > 0 {
            items.push(self.early.replace("{n}", &day.early_leave_minutes.to_string()));
        }
        (!items.is_empty()).then(|| items.join(self.separator))
    }
}

/// One integration's view of who gets notices: linked employees, and the managers (as chat
/// users) above each department.
struct Audience {
    stored: StoredIntegration,
    options: NoticeOptions,
    language: Language,
    /// Employee → their user in the integration.
    users: HashMap<EmployeeId, String>,
    /// (departments a manager covers, the manager's employee id, their chat user).
    managers: Vec<(HashSet<DepartmentId>, EmployeeId, String)>,
}

impl Audience {
    async fn load(conn: &mut Conn, stored: StoredIntegration, options: NoticeOptions) -> ServiceResult<Self> {
        let links = integrations::list_links(conn, &stored.org_id, &stored.id).await?;
        let users: HashMap<EmployeeId, String> =
            links.into_iter().map(|l| (l.employee_id, l.external_user_id)).collect();
        let mut managers = Vec::new();
        for manager in users::managers(conn, &stored.org_id).await? {
            let (Some(employee), Some(root)) = (manager.employee_id, manager.manages_department_id) else { continue };
            let Some(user) = users.get(&employee) else { continue };
            let covered = departments::subtree(conn, &stored.org_id, &root).await?.into_iter().collect();
            managers.push((covered, employee, user.clone()));
        }
        let language = ChatSettings::from_settings(stored.platform, &stored.settings).language;
        Ok(Self { stored, options, language, users, managers })
    }

    /// The chat users of the managers over an employee (never the employee themselves).
    fn managers_of(&self, employee: &Employee) -> Vec<&str> {
        let Some(department) = &employee.department_id else { return Vec::new() };
        let mut found: Vec<&str> = self
            .managers
            .iter()
            .filter(|(covered, who, _)| covered.contains(department) && *who != employee.id)
            .map(|(_, _, user)| user.as_str())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Queues one notice; `false` if the same one was queued before.
    async fn send(&self, conn: &mut Conn, user: &str, reply: ChatReply, key: &str) -> ServiceResult<bool> {
        let message = OutgoingMessage {
            integration_id: self.stored.id.clone(),
            user_id: user.to_owned(),
            room: Room::Direct,
            reply,
        };
        let payload = serde_json::to_value(&message).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut job = jobs::NewJob::now(
            dakoku_domain::JobKind::message(self.stored.platform),
            Some(self.stored.org_id.clone()),
            payload,
        );
        job.dedupe_key = Some(format!("notice:{}:{user}:{key}", self.stored.id));
        Ok(jobs::enqueue(conn, &job).await?)
    }
}

fn text(body: impl Into<String>) -> ChatReply {
    ChatReply { text: body.into(), choices: Vec::new() }
}

impl Service {
    /// Queues the punch reminders and anomaly notices that are due at `now` (the worker calls
    /// this every minute). Returns how many were queued.
    pub async fn schedule_notices(&self, now: DateTime<Utc>) -> ServiceResult<u64> {
        let mut conn = self.db.conn().await?;
        let mut queued = 0;
        for stored in integrations::all(&mut conn).await? {
            let options = NoticeOptions::of(&stored.settings);
            if !(options.reminders || options.anomalies) || self.port(stored.platform).is_none() {
                continue;
            }
            let org = orgs::get(&mut conn, &stored.org_id).await?;
            let audience = Audience::load(&mut conn, stored, options).await?;
            if audience.options.reminders {
                queued += self.queue_reminders(&mut conn, &org, &audience, now).await?;
            }
            if audience.options.anomalies {
                queued += self.queue_anomaly_notices(&mut conn, &org, &audience, now).await?;
            }
        }
        Ok(queued)
    }

    async fn linked_employees(
        &self,
        conn: &mut Conn,
        org: &Organization,
        audience: &Audience,
    ) -> ServiceResult<Vec<Employee>> {
        let mut linked: Vec<Employee> = employees::all(conn, &org.id)
            .await?
            .into_iter()
            .filter(|e| e.status == EmployeeStatus::Active && audience.users.contains_key(&e.id))
            .collect();
        linked.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(linked)
    }

    async fn queue_reminders(
        &self,
        conn: &mut Conn,
        org: &Organization,
        audience: &Audience,
        now: DateTime<Utc>,
    ) -> ServiceResult<u64> {
        let words = NoticeText::of(audience.language);
        let phrases = Phrases::of(audience.language);
        let options = &audience.options;
        let mut queued = 0;
        for employee in self.linked_employees(conn, org, audience).await? {
            let Some(user) = audience.users.get(&employee.id) else { continue };
            let rule = rule_for(conn, org, &employee, now).await?;
            let today = work_date(&rule, now);
            let Some(plan) = day_plan(conn, org, &employee, &rule, today).await? else { continue };
            if plan.flex {
                continue;
            }
            let from = day_begins(&rule, today);
            let to = day_begins(&rule, today + Duration::days(1));
            let day = punches::effective(conn, &org.id, &employee.id, from, to).await?;
            let last = |kind: PunchKind| day.iter().filter(|p| p.kind == kind).map(|p| p.at).max();
            let local = |at: DateTime<Utc>| at.with_timezone(&rule.timezone).format("%H:%M").to_string();
            let button = |kind: PunchKind| Choice { label: phrases.kind(kind).to_owned(), data: punch_action(kind) };
            if now >= plan.start - options.before && now < plan.start && last(PunchKind::ClockIn).is_none() {
                let reply = ChatReply {
                    text: words.remind_in.replace("{time}", &local(plan.start)),
                    choices: vec![button(PunchKind::ClockIn)],
                };
                queued += u64::from(audience.send(conn, user, reply, &format!("{today}:remind-in")).await?);
            }
            let due = plan.end + options.after;
            let still_in = last(PunchKind::ClockIn).is_some_and(|i| last(PunchKind::ClockOut).is_none_or(|o| o < i));
            if now >= due && now < due + Duration::minutes(LATE_REMINDER_WINDOW_MINUTES) && still_in {
                let reply = ChatReply {
                    text: words.remind_out.replace("{time}", &local(plan.end)),
                    choices: vec![button(PunchKind::ClockOut)],
                };
                queued += u64::from(audience.send(conn, user, reply, &format!("{today}:remind-out")).await?);
            }
        }
        Ok(queued)
    }

    async fn queue_anomaly_notices(
        &self,
        conn: &mut Conn,
        org: &Organization,
        audience: &Audience,
        now: DateTime<Utc>,
    ) -> ServiceResult<u64> {
        let local = now.with_timezone(&org.timezone.0);
        let yesterday: NaiveDate = local.date_naive() - Duration::days(1);
        if local.hour() < audience.options.anomaly_hour {
            return Ok(0);
        }
        let id = &audience.stored.id;
        let checked = dakoku_store::chat::state(conn, id, ANOMALIES_CHECKED).await?;
        if checked.as_deref() == Some(yesterday.to_string().as_str()) {
            return Ok(0);
        }
        let words = NoticeText::of(audience.language);
        let mut queued = 0;
        for employee in self.linked_employees(conn, org, audience).await? {
            let Some(user) = audience.users.get(&employee.id) else { continue };
            let rule = rule_for(conn, org, &employee, now).await?;
            let days = month_days(conn, org, &employee, &rule, YearMonth::of(yesterday), now).await?;
            let Some(items) =
                days.iter().find(|d| d.date == yesterday).and_then(|d| words.issues(audience.language, d))
            else {
                continue;
            };
            let date = yesterday.format("%Y-%m-%d").to_string();
            let own = words.anomaly_own.replace("{date}", &date).replace("{items}", &items);
            let key = format!("{yesterday}:anomaly:{}", employee.id);
            queued += u64::from(audience.send(conn, user, text(own), &key).await?);
            let other = words
                .anomaly_other
                .replace("{name}", &employee.name)
                .replace("{date}", &date)
                .replace("{items}", &items);
            for manager in audience.managers_of(&employee) {
                queued += u64::from(audience.send(conn, manager, text(other.clone()), &key).await?);
            }
        }
        dakoku_store::chat::put_state(conn, id, ANOMALIES_CHECKED, Some(&yesterday.to_string())).await?;
        Ok(queued)
    }

    /// In the submission's transaction: asks the employee's managers to approve the month, on
    /// every integration of the organisation with `approval_requests` on.
    pub(crate) async fn queue_approval_requests(
        &self,
        conn: &mut Conn,
        employee: &Employee,
        month: &str,
    ) -> ServiceResult<()> {
        for stored in integrations::of_org(conn, &employee.org_id).await? {
            let options = NoticeOptions::of(&stored.settings);
            if !options.approvals || self.port(stored.platform).is_none() {
                continue;
            }
            let audience = Audience::load(conn, stored, options).await?;
            let words = NoticeText::of(audience.language);
            let body = words.approval.replace("{name}", &employee.name).replace("{month}", month);
            // A month sent back and submitted again asks again.
            let key = format!("{month}:approval:{}:{}", employee.id, self.clock.now().timestamp_micros());
            for manager in audience.managers_of(employee) {
                audience.send(conn, manager, text(body.clone()), &key).await?;
            }
        }
        Ok(())
    }
}
