//! The web app's words in Japanese, simplified Chinese and English. Every page gets the whole
//! table of its language as `t`, so a template writes `{{ t.punch_in }}`.

use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Ja,
    Zh,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Ja, Lang::Zh, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ja" => Some(Lang::Ja),
            "zh" | "zh-cn" | "zh-hans" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header dakoku speaks, by the header's order
    /// of preference.
    pub fn from_accept(header: &str) -> Option<Lang> {
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim().to_ascii_lowercase();
                let quality =
                    pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                let primary = tag.split('-').next().unwrap_or_default().to_owned();
                Lang::parse(&primary).map(|lang| (quality, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, lang)| *lang)
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn html_tag(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::Zh => "zh-Hans",
            Lang::En => "en",
        }
    }
}

/// (key, Japanese, Chinese, English).
const WORDS: &[(&str, &str, &str, &str)] = &[
    ("app", "dakoku 勤怠", "dakoku 考勤", "dakoku attendance"),
    ("language", "言語", "语言", "Language"),
    ("sign_in", "ログイン", "登录", "Sign in"),
    ("sign_out", "ログアウト", "退出", "Sign out"),
    ("email", "メールアドレス", "邮箱", "E-mail"),
    ("password", "パスワード", "密码", "Password"),
    ("password_again", "パスワード（確認）", "再次输入密码", "Password again"),
    ("set_password", "パスワードを設定", "设置密码", "Set password"),
    ("password_rule", "10文字以上", "至少 10 个字符", "At least 10 characters"),
    (
        "password_set",
        "パスワードを設定しました。ログインしてください。",
        "密码已设置，请登录。",
        "Your password is set. Please sign in.",
    ),
    ("passwords_differ", "パスワードが一致しません。", "两次输入的密码不一致。", "The passwords differ."),
    (
        "bad_link",
        "このリンクは無効か期限切れです。管理者に再発行を依頼してください。",
        "此链接无效或已过期，请联系管理员重新发放。",
        "This link is unknown, used or expired. Ask an admin for a new one.",
    ),
    ("bad_sign_in", "メールアドレスまたはパスワードが違います。", "邮箱或密码错误。", "Wrong e-mail or password."),
    (
        "throttled",
        "失敗が続いたため、しばらくログインできません。{until} 以降にお試しください。",
        "失败次数过多，请于 {until} 之后再试。",
        "Too many failed attempts. Try again after {until}.",
    ),
    (
        "expired_form",
        "画面の有効期限が切れました。もう一度お試しください。",
        "页面已过期，请重试。",
        "This form has expired. Please try again.",
    ),
    ("nav_punch", "打刻", "打卡", "Punch"),
    ("nav_timesheet", "勤務表", "考勤表", "Timesheet"),
    ("nav_corrections", "修正申請", "补卡申请", "Corrections"),
    ("nav_team", "チーム", "团队", "Team"),
    ("nav_approvals", "承認", "审批", "Approvals"),
    ("nav_exports", "給与データ", "薪资数据", "Payroll export"),
    ("clock_in", "出勤", "上班", "Clock in"),
    ("clock_out", "退勤", "下班", "Clock out"),
    ("break_start", "休憩開始", "休息开始", "Start break"),
    ("break_end", "休憩終了", "休息结束", "End break"),
    ("state_now", "現在の状態", "当前状态", "Right now"),
    ("state_out", "勤務外", "未上班", "Not working"),
    ("state_in", "勤務中", "工作中", "Working"),
    ("state_break", "休憩中", "休息中", "On a break"),
    ("state_missing", "未出勤", "未到岗", "Not in yet"),
    ("today_punches", "今日の打刻", "今天的打卡", "Today's punches"),
    ("no_punches", "まだ打刻がありません。", "还没有打卡记录。", "No punches yet."),
    ("recorded", "{kind}を {time} に記録しました。", "已记录{kind}：{time}。", "{kind} recorded at {time}."),
    (
        "no_employee",
        "このアカウントには従業員が紐づいていないため打刻できません。",
        "此账号未关联员工，无法打卡。",
        "This account has no employee record, so it cannot punch.",
    ),
    ("month", "月", "月份", "Month"),
    ("previous", "前月", "上个月", "Previous"),
    ("next", "翌月", "下个月", "Next"),
    ("status", "状態", "状态", "Status"),
    ("status_open", "未申請", "未提交", "Open"),
    ("status_submitted", "申請中", "已提交", "Submitted"),
    ("status_approved", "承認済み", "已批准", "Approved"),
    ("status_pending", "承認待ち", "待审批", "Pending"),
    ("status_rejected", "却下", "已驳回", "Rejected"),
    ("date", "日付", "日期", "Date"),
    ("first_in", "出勤", "上班", "In"),
    ("last_out", "退勤", "下班", "Out"),
    ("worked", "労働時間", "工作时长", "Worked"),
    ("overtime", "時間外", "加班", "Overtime"),
    ("late_night", "深夜", "夜班", "Late night"),
    ("holiday_work", "休日労働", "节假日工作", "Holiday work"),
    ("anomalies", "要確認", "异常", "Needs a look"),
    ("totals", "合計", "合计", "Totals"),
    ("submit_month", "この月を申請する", "提交本月考勤", "Submit this month"),
    ("submitted_ok", "{month} を申請しました。", "已提交 {month}。", "{month} submitted."),
    ("comment", "コメント", "备注", "Comment"),
    ("request_correction", "打刻の修正を申請", "申请补卡", "Request a correction"),
    ("kind", "種別", "类型", "Kind"),
    ("time", "日時", "时间", "Time"),
    ("reason", "理由", "原因", "Reason"),
    ("send", "送信", "提交", "Send"),
    ("requested_ok", "修正を申請しました。", "补卡申请已提交。", "Correction requested."),
    ("my_requests", "申請の一覧", "我的申请", "My requests"),
    ("none", "ありません。", "无。", "None."),
    ("employee", "従業員", "员工", "Employee"),
    ("department", "部署", "部门", "Department"),
    ("today", "今日", "今天", "Today"),
    ("pending_corrections", "承認待ちの修正申請", "待审批的补卡申请", "Corrections to decide"),
    ("submitted_months", "申請された月", "已提交的月份", "Submitted months"),
    ("approve", "承認", "批准", "Approve"),
    ("reject", "却下", "驳回", "Reject"),
    ("send_back", "差戻し", "退回", "Send back"),
    ("decided_ok", "処理しました。", "已处理。", "Done."),
    ("export_title", "給与データの出力", "导出薪资数据", "Export payroll data"),
    ("format", "形式", "格式", "Format"),
    ("detail", "明細", "明细", "Detail"),
    ("per_employee", "従業員ごと", "按员工", "Per employee"),
    ("per_day", "日ごと", "按天", "Per day"),
    ("download", "ダウンロード", "下载", "Download"),
    ("forbidden", "この画面を開く権限がありません。", "您没有权限打开此页面。", "You may not open this page."),
    ("not_found", "見つかりません。", "未找到。", "Not found."),
    ("error", "エラー", "错误", "Error"),
    ("link_chat", "チャットアプリと連携", "绑定聊天应用", "Link a chat app"),
    (
        "link_chat_help",
        "LINE WORKS・WeCom・DingTalk のボットにコードを送ると、そのアカウントから打刻できます。",
        "把代码发给 LINE WORKS、企业微信或钉钉的机器人，即可用该账号打卡。",
        "Send the code to the LINE WORKS, WeCom or DingTalk bot to punch from that account.",
    ),
    ("link_chat_button", "連携コードを発行", "生成绑定码", "Get a link code"),
    (
        "link_code_issued",
        "このコードをボットに送ってください（{until} まで有効、1 回限り）。",
        "请把此代码发给机器人（{until} 前有效，仅可使用一次）。",
        "Send this code to the bot (valid until {until}, once).",
    ),
    ("timeline", "今日の勤務（時刻）", "今日出勤时间线", "Today's timeline (hours)"),
    ("nav_employees", "従業員", "员工", "Employees"),
    ("nav_departments", "部署", "部门", "Departments"),
    ("nav_close", "月次締め", "月度结算", "Month close"),
    ("nav_rules", "就業規則", "考勤规则", "Work rules"),
    ("nav_integrations", "連携", "集成", "Integrations"),
    ("nav_audit", "監査ログ", "审计日志", "Audit log"),
    ("saved", "保存しました。", "已保存。", "Saved."),
    ("add", "追加", "添加", "Add"),
    ("save", "保存", "保存", "Save"),
    ("code", "コード", "编号", "Code"),
    ("name", "名前", "名称", "Name"),
    ("mobile", "携帯電話", "手机号", "Mobile"),
    ("parent", "上位部署", "上级部门", "Parent"),
    ("import_csv", "CSV 取り込み", "CSV 导入", "CSV import"),
    ("file", "ファイル", "文件", "File"),
    ("skip_invalid", "誤りのある行を飛ばして取り込む", "跳过有错误的行", "Import the good rows, skip the rest"),
    ("imported", "取り込んだ件数", "已导入", "Imported"),
    ("rejected", "取り込めなかった行", "未导入的行", "Rows refused"),
    ("line", "行", "行", "Line"),
    ("why", "理由", "原因", "Why"),
    ("chart_people", "時間外労働（個人別、上位 30 名）", "加班时长（按人，前 30 名）", "Overtime per person (top 30)"),
    (
        "chart_departments",
        "時間外労働（部署別、1 人平均）",
        "加班时长（按部门人均）",
        "Overtime per department (average per person)",
    ),
    ("line_45h", "45時間", "45小时", "45 h"),
    ("alerts", "36協定アラート", "加班预警", "Overtime alerts"),
    ("alert_45h", "月45時間超", "月超45小时", "over 45 h this month"),
    ("alert_100h", "休日込み月100時間以上", "含节假日月100小时以上", "100 h or more with holiday work"),
    ("alert_80h", "2〜6か月平均80時間超", "2至6个月平均超80小时", "over 80 h on average over 2–6 months"),
    ("alert_360h", "年360時間超", "年超360小时", "over 360 h this agreement year"),
    ("alert_other", "上限超過", "超限", "over a limit"),
    (
        "rule_layer",
        "組織の就業規則（JSON、既定値からの差分）",
        "组织考勤规则（JSON，相对默认值的差异）",
        "Organisation rule (JSON, the differences from the default)",
    ),
    ("calendar", "カレンダー", "日历", "Calendar"),
    ("cal_statutory", "祝日", "法定节假日", "Public holiday"),
    ("cal_company", "会社休日", "公司假日", "Company holiday"),
    ("cal_workday", "出勤日（振替）", "调休工作日", "Working day (make-up)"),
    ("cal_legal_holiday", "法定休日（振替先）", "休息日（调休）", "Legal holiday (swapped to)"),
    ("cal_clear", "指定を外す", "清除", "Clear"),
    (
        "callback_url",
        "コールバック URL（管理画面に貼り付け）",
        "回调 URL（粘贴到管理后台）",
        "Callback URL (paste into the console)",
    ),
    (
        "generated_once",
        "生成した値です。今だけ表示されます。管理画面に入力してください。",
        "以下为生成的值，仅显示这一次，请填入管理后台。",
        "Generated values, shown only now: enter them in the console.",
    ),
    ("test_connection", "接続テスト", "测试连接", "Test connection"),
    ("last_call", "最終呼び出し", "最近调用", "Last call"),
    ("sync", "組織同期", "组织同步", "Org sync"),
    ("conflicts", "競合", "冲突", "conflicts"),
    ("failures", "失敗", "失败", "Failures"),
    ("actor", "操作者", "操作人", "Who"),
    ("action", "操作", "操作", "Action"),
    ("object", "対象", "对象", "Object"),
    ("missing_clock_in", "出勤打刻なし", "缺上班卡", "no clock-in"),
    ("missing_clock_out", "退勤打刻なし", "缺下班卡", "no clock-out"),
    ("unclosed_break", "休憩終了なし", "休息未结束", "break not ended"),
    ("missing_break_start", "休憩開始なし", "缺休息开始", "break end without start"),
    ("overlapping", "打刻の重複", "打卡重复", "overlapping punches"),
    ("punch_on_holiday", "休日の打刻", "休息日打卡", "punch on a day off"),
    ("absent", "欠勤", "缺勤", "absent"),
];

/// An entry's word in one language.
fn pick(lang: Lang, (_, ja, zh, en): &(&str, &'static str, &'static str, &'static str)) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// Every word of one language.
pub fn table(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    WORDS.iter().map(|entry| (entry.0, pick(lang, entry))).collect()
}

/// One word ("?" if the key is missing, so a gap shows instead of breaking the page).
pub fn word(lang: Lang, key: &str) -> &'static str {
    WORDS.iter().find(|entry| entry.0 == key).map(|entry| pick(lang, entry)).unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(Lang::from_accept("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::Zh));
        assert_eq!(Lang::from_accept("fr-FR, en;q=0.5, ja;q=0.7"), Some(Lang::Ja));
        assert_eq!(Lang::from_accept("de"), None);
    }

    #[test]
    fn every_language_has_every_word() {
        for lang in Lang::ALL {
            assert_eq!(table(lang).len(), WORDS.len());
            assert!(table(lang).values().all(|w| !w.is_empty()));
        }
    }
}
