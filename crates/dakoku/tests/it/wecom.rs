//! WeCom end to end: dakoku over real HTTP against the WeCom simulator, which seals members'
//! messages with the WXBizMsgCrypt scheme and checks what dakoku sends back, on both backends.

use crate::backend_test;
use crate::helpers::{TestApp, TestDb};
use dakoku_sim::wecom::{encrypt, signature, CallbackSetup, WeComSim};
use serde_json::json;
use std::collections::HashMap;

const CORP: &str = "ww-test-corp";
const AGENT: i64 = 1000002;
const SECRET: &str = "wecom-app-secret";
const TOKEN: &str = "cbToken123";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

struct Chat {
    app: TestApp,
    sim: WeComSim,
    integration: String,
}

async fn chat(db: TestDb, secret: &str) -> Chat {
    let app = db.spawn().await;
    let sim = WeComSim::start("127.0.0.1:0".parse().expect("address"), CORP, AGENT, SECRET).await.expect("simulator");
    sim.add_member("zhangsan");
    let settings = json!({
        "corp_id": CORP, "agent_id": AGENT.to_string(), "secret": secret,
        "token": TOKEN, "encoding_aes_key": AES_KEY, "api_base_url": sim.api_base_url(), "language": "zh",
    });
    let created = app
        .post(
            &app.admin_token,
            "/api/v1/integrations",
            json!({"platform": "wecom", "name": "企业微信", "settings": settings}),
        )
        .await
        .expect(201);
    let url = created.body["callback_url"].as_str().expect("callback_url");
    let callback = format!("{}{}", app.base, &url[url.find("/hooks/wecom/").expect("hook path")..]);
    sim.set_callback(CallbackSetup { url: callback, token: TOKEN.into(), encoding_aes_key: AES_KEY.into() });
    Chat { integration: created.id(), app, sim }
}

impl Chat {
    async fn link(&self, code: &str, name: &str, user: &str) -> String {
        let t = &self.app.admin_token;
        let id = self.app.post(t, "/api/v1/employees", json!({"code": code, "name": name})).await.expect(201).id();
        let path = format!("/api/v1/integrations/{}/links", self.integration);
        self.app.post(t, &path, json!({"employee_id": id, "external_user_id": user})).await.expect(201);
        id
    }
}

backend_test!(wecom_message_punching_with_replies, |db: TestDb| async move {
    let c = chat(db, SECRET).await;
    // WeCom checks the URL when the admin saves the callback settings.
    assert_eq!(
        c.sim.verify_url("echo-1616140317555161061").await.expect("sent"),
        (200, "echo-1616140317555161061".into())
    );

    let e = c.link("E1", "张三", "zhangsan").await;
    assert_eq!(c.sim.say("zhangsan", "上班").await.expect("sent"), 200);
    let punches = c.app.list_all(&c.app.admin_token, &format!("/api/v1/punches?employee_id={e}")).await;
    assert_eq!(punches.len(), 1, "committed before the 200");
    assert_eq!(punches[0]["source"], "wecom");
    c.app.drain().await;
    let sent = c.sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].touser, "zhangsan");
    assert!(sent[0].content.contains("张三") && sent[0].content.contains("上班打卡成功"), "{}", sent[0].content);
    assert!(sent[0].content.contains("→ 休息开始 / 下班"), "the next punches are named: {}", sent[0].content);

    // A retried callback (WeCom tries again when the answer is slow) is handled once.
    let (query, body) = c.sim.seal(&c.sim.text_xml("zhangsan", "下班")).expect("sealed");
    assert_eq!(c.sim.post(&query, &body).await.expect("sent"), 200);
    assert_eq!(c.sim.post(&query, &body).await.expect("sent"), 200);
    c.app.drain().await;
    let punches = c.app.list_all(&c.app.admin_token, &format!("/api/v1/punches?employee_id={e}")).await;
    assert_eq!(punches.len(), 2);
    assert_eq!(c.sim.sent().len(), 2);

    // A menu item of the app punches too.
    let (query, body) = c.sim.seal(&c.sim.click_xml("zhangsan", "dakoku:punch:clock_in")).expect("sealed");
    assert_eq!(c.sim.post(&query, &body).await.expect("sent"), 200);
    // An unlinked member is told how to link.
    c.sim.add_member("lisi");
    c.sim.say("lisi", "上班").await.expect("sent");
    c.app.drain().await;
    let sent = c.sim.sent();
    assert!(sent.iter().any(|s| s.touser == "lisi" && s.content.contains("尚未与 dakoku 员工绑定")));
    assert_eq!(c.app.list_all(&c.app.admin_token, &format!("/api/v1/punches?employee_id={e}")).await.len(), 3);
    c.app.shutdown().await;
});

backend_test!(wecom_callbacks_that_do_not_verify_change_nothing, |db: TestDb| async move {
    let c = chat(db, SECRET).await;
    c.link("E1", "张三", "zhangsan").await;
    let before = c.app.footprint().await;
    let plain = c.sim.text_xml("zhangsan", "上班");
    let (query, body) = c.sim.seal(&plain).expect("sealed");

    let mut forged = query.clone();
    forged[0].1 = "0".repeat(40);
    assert_eq!(c.sim.post(&forged, &body).await.expect("sent"), 401, "bad signature");
    assert_eq!(c.sim.post(&query[1..], &body).await.expect("sent"), 401, "no signature");
    let at = body.find("<Encrypt><![CDATA[").expect("Encrypt") + "<Encrypt><![CDATA[".len() + 10;
    let mut tampered = body.clone().into_bytes();
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    assert_eq!(c.sim.post(&query, &tampered).await.expect("sent"), 401, "changed ciphertext");
    // Sealed correctly, but for another CorpID.
    let other = encrypt(AES_KEY, plain.as_bytes(), b"ww-someone-else").expect("sealed");
    let ts = chrono::Utc::now().timestamp().to_string();
    let signed = |ts: &str, encrypted: &str| {
        vec![
            ("msg_signature".to_owned(), signature(TOKEN, ts, "42", encrypted)),
            ("timestamp".to_owned(), ts.to_owned()),
            ("nonce".to_owned(), "42".to_owned()),
        ]
    };
    let wrap = |encrypted: &str| {
        format!("<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    };
    assert_eq!(c.sim.post(&signed(&ts, &other), &wrap(&other)).await.expect("sent"), 401, "another CorpID");
    // A stale timestamp (a replay from long ago) with a valid signature.
    let mine = encrypt(AES_KEY, plain.as_bytes(), CORP.as_bytes()).expect("sealed");
    let old = (chrono::Utc::now().timestamp() - 3600).to_string();
    assert_eq!(c.sim.post(&signed(&old, &mine), &wrap(&mine)).await.expect("sent"), 401, "stale");
    // Not XML at all, and XML with a document type.
    assert_eq!(c.sim.post(&query, "{\"json\": true}").await.expect("sent"), 400);
    assert_eq!(
        c.sim.post(&query, "<!DOCTYPE x [<!ENTITY e \"x\">]><xml><Encrypt>&e;</Encrypt></xml>").await.expect("sent"),
        400
    );
    assert_eq!(c.app.footprint().await, before, "nothing was stored");
    // The URL check with a wrong signature fails too.
    let url_check = c.app.client.get(format!("{}/hooks/wecom/not-a-token", c.app.base)).send().await.expect("sent");
    assert_eq!(url_check.status().as_u16(), 404);
    // The genuine message still works afterwards.
    assert_eq!(c.sim.post(&query, &body).await.expect("sent"), 200);
    assert_eq!(c.app.footprint().await.0, before.0 + 1);
    c.app.shutdown().await;
});

backend_test!(wecom_replies_survive_token_expiry_and_throttling, |db: TestDb| async move {
    let c = chat(db, SECRET).await;
    c.link("E1", "张三", "zhangsan").await;
    c.sim.say("zhangsan", "上班").await.expect("sent");
    c.app.drain().await;
    assert_eq!((c.sim.sent().len(), c.sim.token_requests()), (1, 1));

    // WeCom ends the token early: 42001, one new token, the reply goes out.
    c.sim.expire_tokens();
    c.sim.say("zhangsan", "休息").await.expect("sent");
    c.app.drain().await;
    assert_eq!((c.sim.sent().len(), c.sim.token_requests()), (2, 2));

    // 45009 (frequency limit): the reply waits a minute, then is sent once.
    c.sim.inject(45009, 1);
    c.sim.say("zhangsan", "休息结束").await.expect("sent");
    c.app.drain().await;
    assert_eq!(c.sim.sent().len(), 2);
    assert_eq!(c.app.count("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND last_error LIKE '%429%'").await, 1);
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE status = 'queued'")
        .execute(&c.app.service.db.pool)
        .await
        .expect("due");
    c.app.drain().await;
    assert_eq!(c.sim.sent().len(), 3);
    // 81013 (nobody to send to) is not retried: it is a dead letter with WeCom's reason.
    c.sim.inject(81013, 1);
    c.sim.say("zhangsan", "今天").await.expect("sent");
    c.app.drain().await;
    assert_eq!(c.app.count("SELECT COUNT(*) FROM jobs WHERE status = 'dead' AND last_error LIKE '%81013%'").await, 1);
    // Every call is in the operation log, with WeCom's code where it failed; no secret in it.
    let log = c.app.list_all(&c.app.admin_token, &format!("/api/v1/integrations/{}/calls", c.integration)).await;
    let text = serde_json::to_string(&log).expect("json");
    assert!(log.iter().any(|e| e["operation"] == "token" && e["ok"] == true), "{text}");
    assert!(
        log.iter()
            .any(|e| e["operation"] == "/message/send" && e["detail"].as_str().is_some_and(|d| d.contains("42001"))),
        "{text}"
    );
    assert!(log.iter().any(|e| e["detail"].as_str().is_some_and(|d| d.contains("45009"))), "{text}");
    assert!(!text.contains(SECRET) && !text.contains("wecom-sim-token"), "{text}");
    let other = c.app.user_token("hr", None, None).await;
    c.app.get(&other, &format!("/api/v1/integrations/{}/calls", c.integration)).await.expect_problem(403);
    c.app.shutdown().await;
});

backend_test!(wecom_connection_test_names_the_wrong_credential, |db: TestDb| async move {
    let good = chat(db, SECRET).await;
    let t = good.app.admin_token.clone();
    let report =
        good.app.post(&t, &format!("/api/v1/integrations/{}/test", good.integration), json!({})).await.expect(200);
    assert_eq!(report.body["ok"], true, "{}", report.text);
    let settings =
        json!({"corp_id": CORP, "agent_id": "1000002", "secret": "wrong", "api_base_url": good.sim.api_base_url()});
    let bad = good
        .app
        .post(&t, "/api/v1/integrations", json!({"platform": "wecom", "name": "x", "settings": settings}))
        .await
        .expect(201)
        .id();
    let report = good.app.post(&t, &format!("/api/v1/integrations/{bad}/test"), json!({})).await.expect(200);
    assert_eq!(report.body["ok"], false);
    let text = report.text.clone();
    assert!(text.contains("40001") && text.contains("Secret"), "{text}");
    assert!(text.contains("encoding_aes_key"), "the missing callback settings are named: {text}");
    assert!(!text.contains("wrong"), "the secret is not echoed: {text}");

    // dakoku makes the callback Token and EncodingAESKey on request and shows them once.
    let settings =
        json!({"corp_id": CORP, "agent_id": "1000002", "secret": SECRET, "api_base_url": good.sim.api_base_url()});
    let made = good
        .app
        .post(&t, "/api/v1/integrations", json!({"platform": "wecom", "name": "y", "settings": settings}))
        .await
        .expect(201)
        .id();
    let changed = good
        .app
        .patch(
            &t,
            &format!("/api/v1/integrations/{made}"),
            json!({"settings": {"token": "generate", "encoding_aes_key": "generate"}}),
        )
        .await
        .expect(200);
    let key = changed.body["generated"]["encoding_aes_key"].as_str().expect("generated key").to_owned();
    let token = changed.body["generated"]["token"].as_str().expect("generated token").to_owned();
    assert_eq!(key.len(), 43);
    assert!(!token.is_empty() && token.chars().all(|ch| ch.is_ascii_alphanumeric()));
    let again = good.app.get(&t, &format!("/api/v1/integrations/{made}")).await.expect(200);
    assert!(again.body.get("generated").is_none() && !again.text.contains(&key), "shown once only");
    let url = changed.body["callback_url"].as_str().expect("url");
    let callback = format!("{}{}", good.app.base, &url[url.find("/hooks/").expect("hooks")..]);
    good.sim.set_callback(CallbackSetup { url: callback, token, encoding_aes_key: key });
    assert_eq!(good.sim.verify_url("hello").await.expect("sent"), (200, "hello".into()));
    good.app.shutdown().await;
});

backend_test!(wecom_month_of_checkins_for_300_members_is_pulled_once, |db: TestDb| async move {
    use chrono::{Datelike, TimeZone};
    let c = chat(db, SECRET).await;
    let t = c.app.admin_token.clone();
    let org = c.app.get(&t, "/api/v1/me").await.expect(200).body["organization_id"].as_str().expect("org").to_owned();
    let ctx = dakoku_service::Ctx::cli(dakoku_domain::OrgId::parse(&org).expect("org id"));
    let members = 300;
    let rows: Vec<dakoku_service::employees::ImportRow> = (0..members)
        .map(|i| dakoku_service::employees::ImportRow {
            line: i as u64 + 2,
            code: format!("W{i:03}"),
            name: format!("员工{i}"),
            email: String::new(),
            timezone: "Asia/Shanghai".into(),
            department_code: String::new(),
        })
        .collect();
    c.app.service.import_employees(&ctx, &rows, false, &|_| {}).await.expect("employees");
    let links: Vec<(u64, String, String)> =
        (0..members).map(|i| (i as u64, format!("W{i:03}"), format!("user{i:03}"))).collect();
    let integration = dakoku_domain::IntegrationId::parse(&c.integration).expect("id");
    let linked = c.app.service.import_links(&ctx, &integration, &links, false, &|_| {}).await.expect("links");
    assert_eq!(linked.imported, members as u64);

    // October 2026 in WeCom: on and off duty every weekday, plus records that are no punch.
    let mut expected = 0;
    for day in 1..=31 {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 10, day).expect("date");
        if date.weekday().num_days_from_monday() >= 5 {
            continue;
        }
        for i in 0..members {
            let on =
                chrono::Utc.with_ymd_and_hms(2026, 10, day, 1, 0, 0).single().expect("time").timestamp() + i as i64;
            let exception = if i == 7 && day == 5 { "地点异常" } else { "" };
            c.sim.add_checkin(json!({"userid": format!("user{i:03}"), "checkin_type": "上班打卡", "exception_type": exception, "checkin_time": on, "location_title": "总部", "lat": 31_230_416, "lng": 121_473_701}));
            c.sim.add_checkin(json!({"userid": format!("user{i:03}"), "checkin_type": "下班打卡", "exception_type": "", "checkin_time": on + 9 * 3600}));
            expected += 2;
        }
    }
    c.sim.add_checkin(json!({"userid": "user001", "checkin_type": "上班打卡", "exception_type": "未打卡", "checkin_time": 1_791_500_000}));
    c.sim.add_checkin(
        json!({"userid": "user002", "checkin_type": "外出打卡", "exception_type": "", "checkin_time": 1_791_500_000}),
    );
    c.sim.add_checkin(
        json!({"userid": "stranger", "checkin_type": "上班打卡", "exception_type": "", "checkin_time": 1_791_500_000}),
    );

    // The token ends before the second call and WeCom throttles the fourth.
    c.sim.at_checkin_call(2, 0);
    c.sim.at_checkin_call(4, 45009);
    let range = json!({"from": "2026-10-01T00:00:00+08:00", "to": "2026-11-01T00:00:00+08:00"});
    let path = format!("/api/v1/integrations/{}/pull", c.integration);
    c.app.post(&t, &path, range.clone()).await.expect(202);
    c.app.drain().await;
    assert_eq!(c.sim.checkin_calls(), 4, "stopped at the throttled call");
    assert_eq!(c.app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'wecom.pull' AND status = 'queued'").await, 1);
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE status = 'queued'")
        .execute(&c.app.service.db.pool)
        .await
        .expect("due");
    c.app.drain().await;
    let punches = c.app.count("SELECT COUNT(*) FROM punches WHERE source = 'wecom'").await;
    assert_eq!(punches, expected, "every record once, none lost to the token expiry or the throttling");
    assert_eq!(c.sim.checkin_calls(), 4 + 6, "the retry made the minimum: ceil(300/100) x ceil(31/30)");
    let noted = c.app.count("SELECT COUNT(*) FROM punches WHERE note LIKE '%地点异常%'").await;
    assert_eq!(noted, 1, "WeCom's exception is kept on the punch");
    assert_eq!(c.app.count("SELECT COUNT(*) FROM jobs WHERE status = 'dead'").await, 0);

    // Pulling the same month again stores nothing new.
    c.app.post(&t, &path, range).await.expect(202);
    c.app.drain().await;
    assert_eq!(c.app.count("SELECT COUNT(*) FROM punches WHERE source = 'wecom'").await, expected);
    assert_eq!(c.sim.checkin_calls(), 16);
    // An employee's pull request is refused.
    let e = c.app.list_all(&t, "/api/v1/employees?limit=1").await[0]["id"].as_str().expect("id").to_owned();
    let employee_token = c.app.user_token("employee", Some(&e), None).await;
    c.app
        .post(&employee_token, &path, json!({"from": "2026-10-01T00:00:00Z", "to": "2026-10-02T00:00:00Z"}))
        .await
        .expect_problem(403);
    c.app.shutdown().await;
});

backend_test!(wecom_pulls_are_scheduled_once_per_period, |db: TestDb| async move {
    let c = chat(db, SECRET).await;
    let now = chrono::Utc::now();
    assert_eq!(c.app.service.schedule_pulls(now).await.expect("scheduled"), 1);
    assert_eq!(
        c.app.service.schedule_pulls(now).await.expect("scheduled"),
        0,
        "once per period, whichever instance asks"
    );
    let path = format!("/api/v1/integrations/{}", c.integration);
    c.app.patch(&c.app.admin_token, &path, json!({"settings": {"pull_every_minutes": 0}})).await.expect(200);
    assert_eq!(
        c.app.service.schedule_pulls(now + chrono::Duration::hours(2)).await.expect("scheduled"),
        0,
        "turned off"
    );
    c.app.drain().await;
    assert_eq!(c.app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'wecom.pull' AND status = 'done'").await, 1);
    c.app.shutdown().await;
});

backend_test!(wecom_punches_made_elsewhere_are_written_into_wecom_once, |db: TestDb| async move {
    let c = chat(db, SECRET).await;
    let t = c.app.admin_token.clone();
    let path = format!("/api/v1/integrations/{}", c.integration);
    c.app.patch(&t, &path, json!({"settings": {"push_punches": true}})).await.expect(200);
    let e = c.link("E1", "张三", "zhangsan").await;
    let unlinked = c.app.post(&t, "/api/v1/employees", json!({"code": "E2", "name": "李四"})).await.expect(201).id();

    c.app.post(&t, "/api/v1/punches", json!({"employee_id": e, "kind": "clock_in"})).await.expect(201);
    c.app.post(&t, "/api/v1/punches", json!({"employee_id": unlinked, "kind": "clock_in"})).await.expect(201);
    // A punch made through this WeCom app is WeCom's already: not written back.
    c.sim.say("zhangsan", "休息").await.expect("sent");
    c.app.drain().await;
    let written: Vec<_> = c.sim.checkins();
    assert_eq!(written.len(), 1, "only the linked employee's punch made elsewhere: {written:?}");
    assert_eq!(written[0]["userid"], "zhangsan");
    assert!(written[0]["notes"].as_str().is_some_and(|n| n.starts_with("dakoku: clock_in (api)")));
    assert_eq!(c.app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'wecom.push'").await, 1);

    // Pulling today's records does not bring the written punch back as a second punch.
    let now = chrono::Utc::now();
    let range = json!({"from": (now - chrono::Duration::hours(1)).to_rfc3339(), "to": (now + chrono::Duration::minutes(1)).to_rfc3339()});
    c.app.post(&t, &format!("{path}/pull"), range).await.expect(202);
    c.app.drain().await;
    assert_eq!(c.app.list_all(&t, &format!("/api/v1/punches?employee_id={e}")).await.len(), 2);
    c.app.shutdown().await;
});

fn changes(report: &serde_json::Value) -> Vec<String> {
    report["plan"]["changes"]
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
        .collect()
}

backend_test!(wecom_org_sync_reads_the_directory_with_dry_run_conflicts_and_events, |db: TestDb| async move {
    let c = chat(db, SECRET).await;
    let t = c.app.admin_token.clone();
    c.sim.put_department(2, "研发部", 1);
    c.sim.put_department(3, "研发一组", 2);
    c.sim.put_member("zhangsan", "张三", &[3]);
    c.sim.put_member("lisi", "李四", &[2]);
    c.sim.put_member("wang@corp", "王五", &[1]);
    // 李四 is already in dakoku under the same code: paired, not created twice.
    let lisi = c.app.create_employee(&t, "lisi", None).await;
    let path = format!("/api/v1/integrations/{}/org-sync", c.integration);
    let settings = format!("/api/v1/integrations/{}", c.integration);
    c.app.post(&t, &path, json!({})).await.expect_problem(422);
    c.app.patch(&t, &settings, json!({"settings": {"org_sync": "read"}})).await.expect(200);

    // The dry run shows the plan and writes nothing.
    let before =
        (c.app.count("SELECT COUNT(*) FROM departments").await, c.app.count("SELECT COUNT(*) FROM employees").await);
    let preview = c.app.post(&t, &path, json!({"dry_run": true})).await.expect(200).body;
    assert_eq!(
        changes(&preview),
        [
            "create department 研发部",
            "create department 研发一组",
            "link member 社員 lisi",
            "update member 李四",
            "create member 张三"
        ]
    );
    let conflicts = preview["plan"]["conflicts"].as_array().expect("conflicts");
    assert_eq!(conflicts.len(), 1, "{preview}");
    assert!(conflicts[0]["reason"].as_str().expect("reason").contains("employee code"), "{preview}");
    assert_eq!(
        before,
        (c.app.count("SELECT COUNT(*) FROM departments").await, c.app.count("SELECT COUNT(*) FROM employees").await)
    );
    c.app.get(&t, &path).await.expect_problem(404);

    // WeCom ends the token in the middle of the sync: a new one is fetched, nothing is lost.
    c.sim.at_directory_call(c.sim.directory_calls() + 3, 0);
    let tokens = c.sim.token_requests();
    c.app.post(&t, &path, json!({})).await.expect(202);
    c.app.drain().await;
    assert_eq!(c.sim.token_requests(), tokens + 1);
    let report = c.app.get(&t, &path).await.expect(200).body;
    assert_eq!((report["applied"].as_u64(), report["failed"].as_array().map(Vec::len)), (Some(5), Some(0)), "{report}");
    let zhang = c.app.count("SELECT COUNT(*) FROM employees e JOIN departments d ON d.id = e.department_id WHERE e.code = 'zhangsan' AND d.name = '研发一组'").await;
    assert_eq!(zhang, 1);
    let renamed = c.app.get(&t, &format!("/api/v1/employees/{lisi}")).await.expect(200).body;
    assert_eq!(renamed["name"], "李四");
    assert_eq!(c.app.count("SELECT COUNT(*) FROM integration_links").await, 2);
    // A second run finds nothing to do.
    let again = c.app.post(&t, &path, json!({"dry_run": true})).await.expect(200).body;
    assert_eq!(changes(&again), Vec::<String>::new());

    // HR renames 研发部 in dakoku while WeCom renames 研发一组 and 李四 leaves the company.
    let rd = c.app.list_all(&t, "/api/v1/departments").await;
    let rd = rd.iter().find(|d| d["name"] == "研发部").expect("研发部")["id"].as_str().expect("id").to_owned();
    c.app.patch(&t, &format!("/api/v1/departments/{rd}"), json!({"name": "R&D"})).await.expect(200);
    c.sim.put_department(3, "研发1组", 2);
    c.sim.put_department(2, "研发中心", 1);
    c.sim.remove_member("lisi");
    // WeCom announces the changes; a burst of events makes one sync.
    c.app.patch(&t, &settings, json!({"settings": {"org_sync_event_delay_seconds": 600}})).await.expect(200);
    for _ in 0..2 {
        assert_eq!(c.sim.announce_contact_change("delete_user", Some("lisi"), None).await.expect("sent"), 200);
    }
    assert_eq!(c.sim.announce_contact_change("update_party", None, Some(3)).await.expect("sent"), 200);
    assert_eq!(c.app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'org.sync' AND status = 'queued'").await, 1);
    // It runs at the end of the window; then WeCom throttles it once: it is retried, not lost.
    c.sim.at_directory_call(c.sim.directory_calls() + 2, 45009);
    c.app.run_jobs().await;
    let report = c.app.get(&t, &path).await.expect(200).body;
    assert_eq!(report["trigger"], "event");
    assert_eq!(changes(&report), ["update department 研发1组", "retire member 李四"], "{report}");
    let conflicts = report["plan"]["conflicts"].as_array().expect("conflicts");
    assert_eq!(conflicts.len(), 2, "{report}");
    assert!(conflicts.iter().any(|c| c["dakoku"]["name"] == "R&D" && c["platform"]["name"] == "研发中心"), "{report}");
    assert_eq!(c.app.count("SELECT COUNT(*) FROM departments WHERE name = 'R&D'").await, 1, "HR's edit stays");
    assert_eq!(c.app.count("SELECT COUNT(*) FROM employees WHERE code = 'lisi' AND status = 'retired'").await, 1);
    assert_eq!(c.app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'org.sync' AND status <> 'done'").await, 0);
    let log = c.app.list_all(&t, &format!("/api/v1/integrations/{}/calls", c.integration)).await;
    assert!(log.iter().any(|e| e["detail"].as_str().is_some_and(|d| d.contains("45009"))));
    // Only admins sync.
    let hr = c.app.user_token("hr", None, None).await;
    c.app.post(&hr, &path, json!({"dry_run": true})).await.expect_problem(403);
    c.app.get(&hr, &path).await.expect_problem(403);
    c.app.shutdown().await;
});

backend_test!(wecom_org_sync_writes_dakoku_into_wecom_with_the_contact_secret, |db: TestDb| async move {
    const CONTACT: &str = "wecom-contact-sync-secret";
    let c = chat(db, SECRET).await;
    let t = c.app.admin_token.clone();
    let sales = c.app.create_department(&t, "Sales", None).await;
    let east = c.app.create_department(&t, "East", Some(&sales)).await;
    let alice = c
        .app
        .post(
            &t,
            "/api/v1/employees",
            json!({"code": "E1", "name": "Alice", "email": "alice@example.jp", "department_id": east}),
        )
        .await
        .expect(201)
        .id();
    c.app.post(&t, "/api/v1/employees", json!({"code": "E2", "name": "Bob", "department_id": sales})).await.expect(201);
    let path = format!("/api/v1/integrations/{}/org-sync", c.integration);
    let settings = format!("/api/v1/integrations/{}", c.integration);
    c.app.patch(&t, &settings, json!({"settings": {"org_sync": "write"}})).await.expect(200);

    let preview = c.app.post(&t, &path, json!({"dry_run": true})).await.expect(200).body;
    assert_eq!(
        changes(&preview),
        ["create department Sales", "create department East", "create member Alice", "create member Bob"]
    );
    assert_eq!(preview["plan"]["untouched"], 1, "zhangsan is WeCom's own: left alone");
    assert_eq!(c.sim.departments().len(), 1, "a dry run writes nothing");

    // Without the contact-sync secret WeCom refuses the writes (48002): each is reported.
    c.app.post(&t, &path, json!({})).await.expect(202);
    c.app.drain().await;
    let report = c.app.get(&t, &path).await.expect(200).body;
    assert_eq!(report["applied"], 0);
    assert!(report["failed"][0]["error"].as_str().expect("error").contains("48002"), "{report}");
    // With it (a token from the new secret, not the cached one), they are made.
    c.sim.enable_contact_sync(CONTACT);
    c.app.patch(&t, &settings, json!({"settings": {"secret": CONTACT}})).await.expect(200);
    c.app.post(&t, &path, json!({})).await.expect(202);
    c.app.drain().await;
    let report = c.app.get(&t, &path).await.expect(200).body;
    let departments = c.sim.departments();
    let sales_id = departments.iter().find(|(_, d)| d.name == "Sales" && d.parent == 1).expect("Sales in WeCom").0;
    let east_id = departments.iter().find(|(_, d)| d.name == "East").expect("East").0;
    assert_eq!(departments.iter().find(|(id, _)| *id == east_id).expect("East").1.parent, sales_id);
    let member = c.sim.member("E1").expect("Alice in WeCom");
    assert_eq!(
        (member.name.as_str(), member.department.as_slice(), member.email.as_deref()),
        ("Alice", &[east_id][..], Some("alice@example.jp"))
    );
    // Bob has no e-mail and WeCom needs one (or a mobile): reported, the rest done.
    assert_eq!(report["applied"], 3, "{report}");
    assert!(report["failed"][0]["error"].as_str().expect("error").contains("60129"), "{report}");

    // HR renames Sales; someone renames East in WeCom's console: not overwritten, reported.
    c.app.patch(&t, &format!("/api/v1/departments/{sales}"), json!({"name": "Sales Dept"})).await.expect(200);
    c.sim.put_department(east_id, "East Team", sales_id);
    c.app.post(&t, &format!("/api/v1/employees/{alice}/retire"), json!({})).await.expect(200);
    c.app.post(&t, &path, json!({})).await.expect(202);
    c.app.drain().await;
    let report = c.app.get(&t, &path).await.expect(200).body;
    assert_eq!(
        changes(&report),
        ["update department Sales Dept", "create member Bob", "delete member Alice"],
        "{report}"
    );
    assert_eq!(report["plan"]["conflicts"][0]["platform"]["name"], "East Team", "{report}");
    let departments = c.sim.departments();
    assert!(departments.iter().any(|(id, d)| *id == sales_id && d.name == "Sales Dept"));
    assert!(departments.iter().any(|(id, d)| *id == east_id && d.name == "East Team"), "WeCom's edit stays");
    assert!(c.sim.member("E1").is_none(), "the retired employee left WeCom");
    assert_eq!(c.app.count("SELECT COUNT(*) FROM integration_links").await, 0);
    c.app.shutdown().await;
});

/// Texts the simulator delivered to one member.
fn texts_to(sim: &WeComSim, user: &str) -> Vec<String> {
    sim.sent().into_iter().filter(|m| m.touser == user).map(|m| m.content).collect()
}

backend_test!(wecom_notices_remind_report_anomalies_and_ask_managers_within_member_limits, |db: TestDb| async move {
    let c = chat(db, SECRET).await;
    let t = c.app.admin_token.clone();
    let sales = c.app.create_department(&t, "営業部", None).await;
    let mut ids = HashMap::new();
    for (code, name, user) in [("A", "王一", "a"), ("B", "李二", "b"), ("M", "张经理", "boss")] {
        c.sim.add_member(user);
        let id = c.link(code, name, user).await;
        c.app.patch(&t, &format!("/api/v1/employees/{id}"), json!({"department_id": sales})).await.expect(200);
        ids.insert(code, id);
    }
    c.app.user_token("manager", Some(&ids["M"]), Some(&sales)).await;
    let settings = format!("/api/v1/integrations/{}", c.integration);
    let on = json!({"settings": {"punch_reminders": true, "approval_requests": true}});
    c.app.patch(&t, &settings, on).await.expect(200);
    let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).expect("time").with_timezone(&chrono::Utc);
    // Tuesday 24 November: B clocks in at 08:30; the day runs 09:00–18:00 (Tokyo).
    let punch = json!({"employee_id": ids["B"], "kind": "clock_in", "at": "2026-11-24T08:30:00+09:00"});
    c.app.post(&t, "/api/v1/punches", punch).await.expect(201);

    let schedule = |now: &str| c.app.service.schedule_notices(at(now));
    assert_eq!(schedule("2026-11-24T08:40:00+09:00").await.expect("scheduled"), 0, "too early");
    assert_eq!(schedule("2026-11-24T08:55:00+09:00").await.expect("scheduled"), 2, "A and M have not clocked in");
    assert_eq!(schedule("2026-11-24T08:56:00+09:00").await.expect("scheduled"), 0, "each reminder once");
    assert_eq!(schedule("2026-11-24T18:20:00+09:00").await.expect("scheduled"), 0);
    assert_eq!(schedule("2026-11-24T18:31:00+09:00").await.expect("scheduled"), 1, "B is still clocked in");
    c.app.drain().await;
    assert_eq!(texts_to(&c.sim, "a"), ["即将上班（09:00），别忘了上班打卡。\n→ 上班"]);
    assert_eq!(texts_to(&c.sim, "b"), ["已过下班时间（18:00），您还没有下班打卡。\n→ 下班"]);

    // The next morning at 09:00: yesterday's anomalies, to each employee and their manager.
    c.app.patch(&t, &settings, json!({"settings": {"anomaly_notices": true}})).await.expect(200);
    assert_eq!(schedule("2026-11-25T08:45:00+09:00").await.expect("scheduled"), 0);
    assert_eq!(schedule("2026-11-25T09:01:00+09:00").await.expect("scheduled"), 5);
    assert_eq!(schedule("2026-11-25T09:30:00+09:00").await.expect("scheduled"), 0, "once a day");
    c.app.drain().await;
    assert!(texts_to(&c.sim, "b").iter().any(|t| t.contains("2026-11-24") && t.contains("缺下班卡")));
    let boss = texts_to(&c.sim, "boss");
    assert!(boss.iter().any(|t| t.starts_with("王一 2026-11-24") && t.contains("缺勤")), "{boss:?}");
    assert!(boss.iter().any(|t| t.starts_with("李二 2026-11-24") && t.contains("缺下班卡")), "{boss:?}");
    assert!(!boss.iter().any(|t| t.starts_with("张经理")), "a manager is not told about themselves: {boss:?}");

    // Submitting a month asks the manager for approval. Eight submissions at once stay within
    // the member's message limit (here 5 a second) by pacing, so none is dropped.
    c.sim.set_member_message_limit(5, std::time::Duration::from_secs(1));
    c.app.patch(&t, &settings, json!({"settings": {"member_messages_per_minute": 240}})).await.expect(200);
    let before = texts_to(&c.sim, "boss").len();
    for n in 0..8 {
        let e = c
            .app
            .post(
                &t,
                "/api/v1/employees",
                json!({"code": format!("S{n}"), "name": format!("社员{n}"), "department_id": sales}),
            )
            .await
            .expect(201)
            .id();
        c.app.post(&t, &format!("/api/v1/timesheets/{e}/2026-11/submit"), json!({})).await.expect(200);
    }
    c.app.drain().await;
    let boss = texts_to(&c.sim, "boss");
    assert_eq!(boss.len() - before, 8, "{boss:?}");
    assert!(boss.iter().any(|t| t == "社员3 提交了 2026-11 的考勤，请审批。"), "{boss:?}");
    assert_eq!(c.sim.dropped(), 0, "nothing was dropped by WeCom's per-member limit");
    c.app.shutdown().await;
});
