//! DingTalk end to end: dakoku over real HTTP against the DingTalk simulator, which signs
//! robot messages, seals events for the AppKey, checks dakoku's sealed answers, and enforces
//! DingTalk's paging and rate limits, on both backends.

use crate::backend_test;
use crate::helpers::{TestApp, TestDb};
use chrono::{Datelike, TimeZone};
use dakoku_sim::dingtalk::{robot_sign, CallbackSetup, DingTalkSim};
use dakoku_sim::wecom::{encrypt, signature};
use serde_json::{json, Value};

const APP_KEY: &str = "dingappkey0001";
const APP_SECRET: &str = "dingtalk-app-secret";
const AGENT: i64 = 3000001;
const TOKEN: &str = "dtToken123";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

struct Ding {
    app: TestApp,
    sim: DingTalkSim,
    integration: String,
}

async fn ding(db: TestDb, extra: Value) -> Ding {
    let app = db.spawn().await;
    let sim = DingTalkSim::start("127.0.0.1:0".parse().expect("address"), APP_KEY, APP_SECRET, AGENT)
        .await
        .expect("simulator");
    let mut settings = json!({
        "app_key": APP_KEY, "app_secret": APP_SECRET, "agent_id": AGENT.to_string(),
        "token": TOKEN, "aes_key": AES_KEY, "oapi_base_url": sim.base_url, "language": "zh",
    });
    if let (Some(settings), Value::Object(extra)) = (settings.as_object_mut(), extra) {
        settings.extend(extra);
    }
    let created = app
        .post(
            &app.admin_token,
            "/api/v1/integrations",
            json!({"platform": "dingtalk", "name": "钉钉", "settings": settings}),
        )
        .await
        .expect(201);
    let url = created.body["callback_url"].as_str().expect("callback_url");
    let event_url = format!("{}{}", app.base, &url[url.find("/hooks/dingtalk/").expect("hook path")..]);
    sim.set_callback(CallbackSetup {
        robot_url: event_url.clone(),
        event_url,
        token: TOKEN.into(),
        aes_key: AES_KEY.into(),
    });
    Ding { integration: created.id(), app, sim }
}

impl Ding {
    async fn link(&self, code: &str, name: &str, user: &str, mobile: &str) -> String {
        let t = &self.app.admin_token;
        let body = json!({"code": code, "name": name, "mobile": mobile});
        let id = self.app.post(t, "/api/v1/employees", body).await.expect(201).id();
        let path = format!("/api/v1/integrations/{}/links", self.integration);
        self.app.post(t, &path, json!({"employee_id": id, "external_user_id": user})).await.expect(201);
        id
    }
}

fn ms(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    chrono_tz::Asia::Shanghai.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("time").timestamp_millis()
}

backend_test!(dingtalk_robot_punching_and_events_with_bad_signatures_refused, |db: TestDb| async move {
    let d = ding(db, json!({})).await;
    // DingTalk checks the URL when the admin saves it: the answer must be the sealed "success".
    assert_eq!(d.sim.send_event(&json!({"EventType": "check_url"})).await, Ok(200));

    d.sim.put_user("user001", "张三", "13800000001", &[1]);
    d.link("E1", "张三", "user001", "13800000001").await;
    assert_eq!(d.sim.say("user001", None, "上班").await, Ok(200));
    d.app.drain().await;
    let sent = d.sim.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].session.is_some() && sent[0].content.contains("张三") && sent[0].content.contains("上班"),
        "{sent:?}"
    );

    // A redelivered message is stored once.
    let (body, ts) = d.sim.robot_message("user001", None, "休息");
    let ts = ts.to_string();
    for _ in 0..2 {
        assert_eq!(d.sim.post_robot(&body, &ts, &robot_sign(&ts, APP_SECRET)).await, Ok(200));
    }
    d.app.drain().await;
    assert_eq!(d.app.count("SELECT COUNT(*) FROM punches").await, 2);

    // Robot messages with a wrong sign or an old timestamp change nothing.
    let before = d.app.footprint().await;
    let (body, ts) = d.sim.robot_message("user001", None, "下班");
    let ts = ts.to_string();
    assert_eq!(d.sim.post_robot(&body, &ts, &robot_sign(&ts, "another-secret")).await, Ok(401));
    let old = (chrono::Utc::now().timestamp_millis() - 2 * 3600 * 1000).to_string();
    assert_eq!(d.sim.post_robot(&body, &old, &robot_sign(&old, APP_SECRET)).await, Ok(401));
    // Events: a bad signature, sealed for another app, a changed ciphertext.
    let event = json!({"EventType": "attendance_check_record", "eventId": "evt-bad", "dataList": [{"userId": "user001", "checkTime": 1}]});
    let (mut query, body) = d.sim.seal(&event).expect("sealed");
    query[0].1 = "0".repeat(40);
    assert_eq!(d.sim.post_event(&query, &body).await, Ok(401));
    let foreign = encrypt(AES_KEY, event.to_string().as_bytes(), b"dingotherapp").expect("sealed");
    let now = chrono::Utc::now().timestamp_millis().to_string();
    let foreign_query = vec![
        ("msg_signature".to_owned(), signature(TOKEN, &now, "n1", &foreign)),
        ("timestamp".to_owned(), now.clone()),
        ("nonce".to_owned(), "n1".to_owned()),
    ];
    assert_eq!(d.sim.post_event(&foreign_query, &json!({"encrypt": foreign})).await, Ok(401));
    let (query, body) = d.sim.seal(&event).expect("sealed");
    let mut tampered = body["encrypt"].as_str().expect("encrypt").to_owned();
    tampered.replace_range(10..11, if &tampered[10..11] == "A" { "B" } else { "A" });
    assert_eq!(d.sim.post_event(&query, &json!({"encrypt": tampered})).await, Ok(401));
    assert_eq!(d.sim.post_event(&query, &json!({"not": "sealed"})).await, Ok(400));
    assert_eq!(d.app.footprint().await, before, "nothing stored, nothing queued");

    // A punch made in DingTalk's own app: the event queues one pull of that day.
    let at = chrono::Utc::now().timestamp_millis() - 60_000;
    d.sim.punch("user001", false, at, "Early", "Outside");
    for _ in 0..2 {
        assert_eq!(d.sim.announce_punch(&["user001"], at).await, Ok(200));
    }
    assert_eq!(d.app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'dingtalk.pull' AND status = 'queued'").await, 2);
    d.app.run_jobs().await;
    let pulled = d
        .app
        .count("SELECT COUNT(*) FROM punches WHERE source = 'dingtalk' AND note = 'DingTalk: Early, Outside'")
        .await;
    assert_eq!(pulled, 1, "DingTalk's verdicts are kept, the punch stored once");

    // Without a live session the reply goes out as a work notification.
    let (mut body, ts) = d.sim.robot_message("user001", None, "今天");
    body["sessionWebhookExpiredTime"] = json!(chrono::Utc::now().timestamp_millis() - 1000);
    let ts = ts.to_string();
    assert_eq!(d.sim.post_robot(&body, &ts, &robot_sign(&ts, APP_SECRET)).await, Ok(200));
    d.app.drain().await;
    let last = d.sim.sent().pop().expect("a reply");
    assert!(last.session.is_none() && last.to == "user001", "{last:?}");
    // The connection test names what is wrong: here the AppSecret.
    let settings = format!("/api/v1/integrations/{}", d.integration);
    let report = d.app.post(&d.app.admin_token, &format!("{settings}/test"), json!({})).await.expect(200).body;
    assert_eq!(report["ok"], true, "{report}");
    d.app.patch(&d.app.admin_token, &settings, json!({"settings": {"app_secret": "wrong"}})).await.expect(200);
    let report = d.app.post(&d.app.admin_token, &format!("{settings}/test"), json!({})).await.expect(200).body;
    let token = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "token")
        .expect("token check")
        .clone();
    assert!(token["ok"] == false && token["detail"].as_str().is_some_and(|d| d.contains("AppSecret")), "{report}");
    // Nothing in the operation log carries the secrets or the token.
    let log = d.app.list_all(&d.app.admin_token, &format!("/api/v1/integrations/{}/calls", d.integration)).await;
    let text = serde_json::to_string(&log).expect("json");
    assert!(!text.contains(APP_SECRET) && !text.contains("dingtalk-sim-token") && !text.contains("session-"), "{text}");
    d.app.shutdown().await;
});

backend_test!(dingtalk_month_of_attendance_for_300_users_is_paged_throttled_and_idempotent, |db: TestDb| async move {
    let d = ding(db, json!({"calls_per_minute": 3000, "pull_every_minutes": 0})).await;
    let t = d.app.admin_token.clone();
    // A larger app's limits, so the pull is quick; pacing keeps it under them.
    d.sim.set_limits(100, 6000);
    let users = 300;
    let org = d.app.get(&t, "/api/v1/me").await.expect(200).body["organization_id"].as_str().expect("org").to_owned();
    let ctx = dakoku_service::Ctx::cli(dakoku_domain::OrgId::parse(&org).expect("org id"));
    let employees: Vec<dakoku_service::employees::ImportRow> = (0..users)
        .map(|i| dakoku_service::employees::ImportRow {
            line: i as u64 + 2,
            code: format!("D{i:03}"),
            name: format!("员工{i}"),
            timezone: "Asia/Shanghai".into(),
            ..Default::default()
        })
        .collect();
    d.app.service.import_employees(&ctx, &employees, false, &|_| {}).await.expect("employees");
    let rows: Vec<(u64, String, String)> =
        (0..users).map(|i| (i as u64 + 1, format!("D{i:03}"), format!("ding{i:03}"))).collect();
    for (i, (_, code, user)) in rows.iter().enumerate() {
        d.sim.put_user(user, code, &format!("139{i:08}"), &[1]);
    }
    let integration = dakoku_domain::IntegrationId::parse(&d.integration).expect("id");
    d.app.service.import_links(&ctx, &integration, &rows, false, &|_| {}).await.expect("links");
    let mut expected = 0;
    for day in 1..=31 {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 10, day).expect("date");
        if date.weekday().num_days_from_monday() >= 5 {
            continue;
        }
        for i in 0..users {
            let user = format!("ding{i:03}");
            if i == 7 && day == 6 {
                d.sim.missed(&user, true, ms(2026, 10, day, 9, 0));
            } else {
                let late = if i == 3 && day == 5 { "Late" } else { "Normal" };
                d.sim.punch(&user, true, ms(2026, 10, day, 8, 50) + i as i64 * 1000, late, "Normal");
                expected += 1;
            }
            d.sim.punch(&user, false, ms(2026, 10, day, 18, 5) + i as i64 * 1000, "Normal", "Normal");
            expected += 1;
        }
    }
    // The token ends in the middle of the pull, and DingTalk throttles it twice (per second,
    // then per minute).
    d.sim.at_call("/attendance/list", 5, 0);
    d.sim.at_call("/attendance/list", 9, 90018);
    d.sim.at_call("/attendance/list", 30, 90006);
    let path = format!("/api/v1/integrations/{}/pull", d.integration);
    let range = json!({"from": "2026-10-01T00:00:00+08:00", "to": "2026-11-01T00:00:00+08:00"});
    d.app.post(&t, &path, range.clone()).await.expect(202);
    d.app.drain().await;
    let stored = d.app.count("SELECT COUNT(*) FROM punches WHERE source = 'dingtalk'").await;
    assert_eq!(stored, expected, "every punch once, none lost to the token expiry or the throttling");
    assert_eq!(d.sim.throttled(), 2, "the pull was throttled and waited");
    assert_eq!(d.app.count("SELECT COUNT(*) FROM jobs WHERE status <> 'done'").await, 0);
    let late = d.app.count("SELECT COUNT(*) FROM punches WHERE note = 'DingTalk: Late'").await;
    assert_eq!(late, 1, "DingTalk's verdict is kept on the punch");
    // Paging: 6 groups of 50 users × 5 spans of at most 7 days, each span's rows 50 a page.
    let mut minimum = 0;
    for (first, last) in [(1, 7), (8, 14), (15, 21), (22, 28), (29, 31)] {
        let workdays = (first..=last)
            .filter(|day| {
                chrono::NaiveDate::from_ymd_opt(2026, 10, *day).expect("d").weekday().num_days_from_monday() < 5
            })
            .count() as u64;
        minimum += 6 * (workdays * 2 * 50).div_ceil(50).max(1);
    }
    assert_eq!(d.sim.calls("/attendance/list"), minimum, "each page asked once (throttled calls are not counted)");

    // Pulling the month again stores nothing new.
    d.app.post(&t, &path, range).await.expect(202);
    d.app.drain().await;
    assert_eq!(d.app.count("SELECT COUNT(*) FROM punches WHERE source = 'dingtalk'").await, expected);
    d.app.shutdown().await;
});

backend_test!(dingtalk_org_sync_both_ways_with_a_mobile_change, |db: TestDb| async move {
    let d = ding(db, json!({"org_sync": "read"})).await;
    let t = d.app.admin_token.clone();
    d.sim.put_department(2, "研发部", 1);
    d.sim.put_user("u1", "张三", "13800000001", &[2]);
    d.sim.put_user("u2", "李四", "13800000002", &[1]);
    // 张三 is already in dakoku under another code: DingTalk's key, the mobile, pairs them.
    let zhang = d
        .app
        .post(&t, "/api/v1/employees", json!({"code": "E1", "name": "张三", "mobile": "+86 138-0000-0001"}))
        .await
        .expect(201)
        .id();
    let path = format!("/api/v1/integrations/{}/org-sync", d.integration);
    let preview = d.app.post(&t, &path, json!({"dry_run": true})).await.expect(200).body;
    let summary: Vec<String> = preview["plan"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["action"].as_str().unwrap_or(""),
                c["kind"].as_str().unwrap_or(""),
                c["shape"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        summary,
        ["create department 研发部", "link member 张三", "update member 张三", "create member 李四"],
        "{preview}"
    );
    d.app.post(&t, &path, json!({})).await.expect(202);
    d.app.drain().await;
    let report = d.app.get(&t, &path).await.expect(200).body;
    assert_eq!((report["applied"].as_u64(), report["failed"].as_array().map(Vec::len)), (Some(4), Some(0)), "{report}");
    let li = d.app.list_all(&t, "/api/v1/employees?limit=100").await;
    assert!(li.iter().any(|e| e["code"] == "u2" && e["mobile"] == "13800000002"), "{li:?}");

    // Now dakoku leads: 张三 has a new mobile. DingTalk cannot change it in place: a new
    // member is created under the new number, then the old one goes; the pairing follows.
    d.app.patch(&t, &format!("/api/v1/employees/{zhang}"), json!({"mobile": "13900000009"})).await.expect(200);
    let preview = d.app.post(&t, &path, json!({"dry_run": true, "direction": "write"})).await.expect(200).body;
    let change = &preview["plan"]["changes"][0];
    assert_eq!(
        (change["action"].as_str(), change["was"]["mobile"].as_str(), change["shape"]["mobile"].as_str()),
        (Some("update"), Some("13800000001"), Some("13900000009")),
        "{preview}"
    );
    d.app.post(&t, &path, json!({"direction": "write"})).await.expect(202);
    d.app.drain().await;
    let users = d.sim.users();
    assert!(!users.contains_key("u1"), "the old member is gone: {users:?}");
    let (new_id, moved) = users.iter().find(|(_, u)| u.mobile == "13900000009").expect("re-created");
    assert_eq!((moved.name.as_str(), moved.departments.as_slice()), ("张三", &[2][..]));
    let link = d
        .app
        .count(&format!(
            "SELECT COUNT(*) FROM integration_links WHERE external_user_id = '{new_id}' AND employee_id = '{zhang}'"
        ))
        .await;
    assert_eq!(link, 1, "the pairing follows the new member");
    // A second write finds nothing to do.
    let again = d.app.post(&t, &path, json!({"dry_run": true, "direction": "write"})).await.expect(200).body;
    assert_eq!(again["plan"]["changes"].as_array().map(Vec::len), Some(0), "{again}");
    // A mobile already taken by someone else is refused by DingTalk and reported.
    d.app.patch(&t, &format!("/api/v1/employees/{zhang}"), json!({"mobile": "13800000002"})).await.expect(200);
    d.app.post(&t, &path, json!({"direction": "write"})).await.expect(202);
    d.app.drain().await;
    let report = d.app.get(&t, &path).await.expect(200).body;
    assert!(report["failed"][0]["error"].as_str().is_some_and(|e| e.contains("60104")), "{report}");
    assert!(d.sim.users().contains_key(new_id.as_str()), "a failed re-create leaves the member as it was");
    d.app.shutdown().await;
});

backend_test!(dingtalk_punches_made_elsewhere_are_uploaded_once_and_not_read_back, |db: TestDb| async move {
    let d = ding(db, json!({"push_punches": true, "pull_every_minutes": 0})).await;
    let t = d.app.admin_token.clone();
    d.sim.put_user("user001", "张三", "13800000001", &[1]);
    let e = d.link("E1", "张三", "user001", "13800000001").await;
    let punch = json!({"employee_id": e, "kind": "clock_in"});
    d.app.post(&t, "/api/v1/punches", punch).await.expect(201);
    // The first upload's answer is lost (DingTalk stored the record, then answered "busy"):
    // the retry finds the record and does not upload it again.
    d.sim.lose_upload_answers(1);
    d.app.drain().await;
    assert_eq!(d.sim.uploads(), 1);
    assert_eq!(d.app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'dingtalk.push' AND status = 'queued'").await, 1);
    d.app.run_jobs().await;
    assert_eq!(d.sim.uploads(), 1, "once");
    assert_eq!(d.sim.calls("/attendance/listRecord"), 1, "the retry looked first");
    assert_eq!(d.app.count("SELECT COUNT(*) FROM jobs WHERE status <> 'done'").await, 0);
    // Pulling today back finds the uploaded record and stores no second punch.
    let now = chrono::Utc::now();
    let range = json!({"from": (now - chrono::Duration::days(1)).to_rfc3339(), "to": (now + chrono::Duration::minutes(1)).to_rfc3339()});
    d.app.post(&t, &format!("/api/v1/integrations/{}/pull", d.integration), range).await.expect(202);
    d.app.drain().await;
    assert_eq!(d.app.count("SELECT COUNT(*) FROM punches").await, 1);
    d.app.shutdown().await;
});

backend_test!(finding_07_dingtalk_robot_signatures_bind_to_one_message_and_robot, |db: TestDb| async move {
    let d = ding(db, json!({})).await;
    d.link("E1", "张三", "user001", "13800000001").await;
    // Finding 7 of the hardening review: the sign covers only the timestamp, so a captured
    // (timestamp, sign) pair must not carry another message, nor may another robot's message.
    let (first, ts) = d.sim.robot_message("user001", None, "今天");
    let ts = ts.to_string();
    let sign = robot_sign(&ts, APP_SECRET);
    assert_eq!(d.sim.post_robot(&first, &ts, &sign).await, Ok(200));
    let punches = d.app.footprint().await.0;
    let (forged, _) = d.sim.robot_message("user001", None, "下班");
    assert_eq!(d.sim.post_robot(&forged, &ts, &sign).await, Ok(401), "a reused signature with another body");
    assert_eq!(d.sim.post_robot(&first, &ts, &sign).await, Ok(200), "the same message again is a redelivery");
    let (mut other_robot, ts) = d.sim.robot_message("user001", None, "下班");
    other_robot["robotCode"] = json!("dingotherrobot");
    let ts = ts.to_string();
    assert_eq!(d.sim.post_robot(&other_robot, &ts, &robot_sign(&ts, APP_SECRET)).await, Ok(401));
    other_robot.as_object_mut().expect("object").remove("robotCode");
    assert_eq!(d.sim.post_robot(&other_robot, &ts, &robot_sign(&ts, APP_SECRET)).await, Ok(401));
    d.app.drain().await;
    assert_eq!(d.app.footprint().await.0, punches, "no punch from the forged messages");
    d.app.shutdown().await;
});
