//! LINE WORKS end to end: dakoku over real HTTP, the LINE WORKS simulator playing the auth
//! server, the bot API and the users, on both backends.

use crate::backend_test;
use crate::helpers::{TestApp, TestDb};
use dakoku_sim::lineworks::{Fault, LineWorksSim, Sent, OTHER_PRIVATE_KEY, TEST_PRIVATE_KEY};
use serde_json::{json, Value};

pub const BOT: &str = "2000001";
pub const BOT_SECRET: &str = "bot-secret-for-tests";

pub struct Chat {
    pub app: TestApp,
    pub sim: LineWorksSim,
    pub integration: String,
    pub callback: String,
}

/// dakoku with a LINE WORKS integration wired to a fresh simulator; `extra` adds settings.
pub async fn chat(db: TestDb, extra: Value) -> Chat {
    let app = db.spawn().await;
    let sim = LineWorksSim::start("127.0.0.1:0".parse().expect("address")).await.expect("simulator starts");
    sim.add_test_app("client-1", "client-secret-1", "svc.serviceaccount@acme");
    for (id, email, name) in [
        ("u-taro", "taro@acme.example", "山田太郎"),
        ("u-hanako", "hanako@acme.example", "佐藤花子"),
        ("u-jiro", "jiro@acme.example", "鈴木次郎"),
        ("u-stranger", "stranger@acme.example", "通りすがり"),
    ] {
        sim.add_user(id, email, name);
    }
    let mut settings = json!({
        "client_id": "client-1",
        "client_secret": "client-secret-1",
        "service_account": "svc.serviceaccount@acme",
        "private_key": TEST_PRIVATE_KEY,
        "bot_id": BOT,
        "bot_secret": BOT_SECRET,
        "auth_base_url": sim.auth_base_url(),
        "api_base_url": sim.api_base_url(),
    });
    if let (Some(settings), Some(extra)) = (settings.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            settings.insert(k.clone(), v.clone());
        }
    }
    let created = app
        .post(
            &app.admin_token,
            "/api/v1/integrations",
            json!({"platform": "lineworks", "name": "LINE WORKS", "settings": settings}),
        )
        .await
        .expect(201);
    let url = created.body["callback_url"].as_str().expect("callback_url");
    let path = &url[url.find("/hooks/lineworks/").expect("hook path")..];
    let callback = format!("{}{path}", app.base);
    sim.add_bot(BOT, BOT_SECRET, Some(&callback));
    Chat { integration: created.id(), app, sim, callback }
}

impl Chat {
    /// Creates an employee and links them to a LINE WORKS user.
    pub async fn employee(&self, code: &str, name: &str, user: &str) -> String {
        let t = &self.app.admin_token;
        let id = self.app.post(t, "/api/v1/employees", json!({"code": code, "name": name})).await.expect(201).id();
        self.app
            .post(
                t,
                &format!("/api/v1/integrations/{}/links", self.integration),
                json!({"employee_id": id, "external_user_id": user}),
            )
            .await
            .expect(201);
        id
    }

    /// Runs queued jobs until none is due.
    pub async fn drain(&self) {
        self.app.drain().await
    }

    pub async fn say(&self, user: &str, text: &str) -> u16 {
        self.sim.say(BOT, user, None, text).await.expect("delivered")
    }

    /// What the bot sent to `to` (`users/{id}` or `channels/{id}`), oldest first.
    pub fn replies(&self, to: &str) -> Vec<Sent> {
        self.sim.sent().into_iter().filter(|s| s.to == to).collect()
    }

    #[track_caller]
    pub fn last_reply(&self, to: &str) -> Sent {
        self.replies(to).pop().unwrap_or_else(|| panic!("no reply to {to}; sent: {:?}", self.sim.sent()))
    }

    pub async fn punches(&self, employee: &str) -> Vec<Value> {
        self.app.list_all(&self.app.admin_token, &format!("/api/v1/punches?employee_id={employee}")).await
    }

    /// Rows that a refused callback must not have added.
    pub async fn footprint(&self) -> (i64, i64, i64) {
        (
            self.app.count("SELECT COUNT(*) FROM punches").await,
            self.app.count("SELECT COUNT(*) FROM jobs").await,
            self.app.count("SELECT COUNT(*) FROM inbound_events").await,
        )
    }
}

fn hhmm_now_tokyo() -> (String, String) {
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo);
    let before = now - chrono::Duration::minutes(1);
    (now.format("%H:%M").to_string(), before.format("%H:%M").to_string())
}

backend_test!(lineworks_conversation_punches_and_replies, |db: TestDb| async move {
    let c = chat(db, json!({})).await;
    let taro = c.employee("E1", "山田太郎", "u-taro").await;

    // An unlinked user is told how to link, and nothing is punched.
    assert_eq!(c.say("u-stranger", "出勤").await, 200);
    c.drain().await;
    assert!(c.last_reply("users/u-stranger").text().contains("連携されていません"));
    assert_eq!(c.app.count("SELECT COUNT(*) FROM punches").await, 0);

    // A keyword punches; the reply names the employee, the kind and the local time, and offers
    // the next sensible punches.
    assert_eq!(c.say("u-taro", "おはようございます、出勤します").await, 200);
    let punches = c.punches(&taro).await;
    assert_eq!(punches.len(), 1, "the punch is committed before the 200");
    assert_eq!(punches[0]["kind"], "clock_in");
    assert_eq!(punches[0]["source"], "lineworks");
    c.drain().await;
    let reply = c.last_reply("users/u-taro");
    let (now, before) = hhmm_now_tokyo();
    assert!(reply.text().contains("山田太郎") && reply.text().contains("出勤"), "{}", reply.text());
    assert!(reply.text().contains(&now) || reply.text().contains(&before), "{} at {now}", reply.text());
    assert_eq!(reply.quick_replies()[..2], ["dakoku:punch:break_start", "dakoku:punch:clock_out"]);

    // The quick reply (a postback event) punches.
    assert_eq!(c.sim.press(BOT, "u-taro", None, "dakoku:punch:break_start").await.expect("sent"), 200);
    // A message button: a text message whose content.postback carries the action.
    let button = c.sim.message_body(
        "u-taro",
        None,
        json!({"type": "text", "text": "休憩終了", "postback": "dakoku:punch:break_end"}),
    );
    assert_eq!(c.sim.deliver(BOT, &button).await.expect("sent"), 200);
    c.drain().await;
    let kinds: Vec<Value> = c.punches(&taro).await.iter().map(|p| p["kind"].clone()).collect();
    assert_eq!(kinds, [json!("clock_in"), json!("break_start"), json!("break_end")]);
    // Replies of two punches are separate jobs and may arrive in either order.
    let texts: Vec<String> = c.replies("users/u-taro").iter().map(|r| r.text().to_owned()).collect();
    assert!(texts.iter().any(|t| t.contains("休憩開始")) && texts.iter().any(|t| t.contains("休憩終了")), "{texts:?}");

    // Redelivery of the same body is stored once and answered once.
    let replies_before = c.replies("users/u-taro").len();
    assert_eq!(c.sim.deliver(BOT, &button).await.expect("sent"), 200);
    c.drain().await;
    assert_eq!(c.punches(&taro).await.len(), 3);
    assert_eq!(c.replies("users/u-taro").len(), replies_before);

    // Unknown words get the help text with the keywords; no punch.
    assert_eq!(c.say("u-taro", "こんにちは").await, 200);
    c.drain().await;
    let help = c.last_reply("users/u-taro");
    assert!(help.text().contains("理解できませんでした") && help.text().contains("休憩開始"), "{}", help.text());
    // Commands: today's record and this month's totals.
    c.say("u-taro", "今日").await;
    c.drain().await;
    let today = c.last_reply("users/u-taro");
    assert!(today.text().contains("の記録") && today.text().contains("休憩開始"), "{}", today.text());
    c.say("u-taro", "今月").await;
    c.drain().await;
    assert!(c.last_reply("users/u-taro").text().contains("集計"));
    c.say("u-taro", "help").await;
    c.drain().await;
    assert!(c.last_reply("users/u-taro").text().starts_with("打刻するには"));
    assert_eq!(c.punches(&taro).await.len(), 3);

    // Group rooms: a keyword punches and the reply goes to the room; chatter is ignored.
    assert_eq!(c.sim.say(BOT, "u-taro", Some("room-1"), "お疲れさまです").await.expect("sent"), 200);
    assert_eq!(c.sim.say(BOT, "u-taro", Some("room-1"), "退勤").await.expect("sent"), 200);
    c.drain().await;
    let room = c.replies("channels/room-1");
    assert_eq!(room.len(), 1, "only the punch is answered in a group: {room:?}");
    assert!(room[0].text().contains("退勤"));
    assert_eq!(c.punches(&taro).await.len(), 4);
    c.app.shutdown().await;
});

backend_test!(lineworks_odd_punches_locked_months_and_self_linking, |db: TestDb| async move {
    let c = chat(db, json!({})).await;
    let hanako = c.employee("E2", "佐藤花子", "u-hanako").await;

    // Clock-out without clock-in: recorded, flagged, and said so.
    c.say("u-hanako", "退勤").await;
    c.drain().await;
    assert_eq!(c.punches(&hanako).await.len(), 1);
    assert!(c.last_reply("users/u-hanako").text().contains("出勤の打刻がありません"));
    let month = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo) - chrono::Duration::hours(5);
    let month = month.format("%Y-%m").to_string();
    let sheet = c.app.get(&c.app.admin_token, &format!("/api/v1/timesheets/{hanako}?month={month}")).await.expect(200);
    let flagged = sheet.body["days"]
        .as_array()
        .expect("days")
        .iter()
        .any(|d| d["anomalies"].as_array().is_some_and(|a| a.contains(&json!("missing_clock_in"))));
    assert!(flagged, "the day shows missing_clock_in: {}", sheet.text);

    // A submitted month refuses chat punches until it is sent back.
    let t = c.app.admin_token.clone();
    c.app.post(&t, &format!("/api/v1/timesheets/{hanako}/{month}/submit"), json!({})).await.expect(200);
    c.say("u-hanako", "出勤").await;
    c.drain().await;
    assert!(c.last_reply("users/u-hanako").text().contains("申請済み"));
    assert_eq!(c.punches(&hanako).await.len(), 1);
    c.app
        .post(&t, &format!("/api/v1/timesheets/{hanako}/{month}/send-back"), json!({"comment": "打刻漏れ"}))
        .await
        .expect(200);
    c.say("u-hanako", "出勤").await;
    c.drain().await;
    assert_eq!(c.punches(&hanako).await.len(), 2);

    // Self-service linking: the employee asks for a code and sends it to the bot.
    let jiro = c.app.post(&t, "/api/v1/employees", json!({"code": "E3", "name": "鈴木次郎"})).await.expect(201).id();
    let jiro_token = c.app.user_token("employee", Some(&jiro), None).await;
    let code = c.app.post(&jiro_token, &format!("/api/v1/employees/{jiro}/link-code"), json!({})).await.expect(201);
    let code = code.body["code"].as_str().expect("code").to_owned();
    // Another employee's code cannot be issued by an employee.
    c.app.post(&jiro_token, &format!("/api/v1/employees/{hanako}/link-code"), json!({})).await.expect_problem(403);
    c.say("u-jiro", "連携 00000000").await;
    c.drain().await;
    assert!(c.last_reply("users/u-jiro").text().contains("正しくない"));
    c.say("u-jiro", &format!("連携 {code}")).await;
    c.drain().await;
    assert!(c.last_reply("users/u-jiro").text().contains("鈴木次郎さんとして連携しました"));
    c.say("u-jiro", &code).await;
    c.drain().await;
    assert!(c.last_reply("users/u-jiro").text().contains("すでに"), "a code works once and the user is linked");
    c.say("u-jiro", "出勤").await;
    assert_eq!(c.punches(&jiro).await.len(), 1);

    // Linking by login e-mail goes through the Users API.
    let e4 = c.app.post(&t, "/api/v1/employees", json!({"code": "E4", "name": "通りすがり"})).await.expect(201).id();
    let link = c
        .app
        .post(
            &t,
            &format!("/api/v1/integrations/{}/links", c.integration),
            json!({"employee_id": e4, "external_user_id": "stranger@acme.example"}),
        )
        .await
        .expect(201);
    assert_eq!(link.body["external_user_id"], "u-stranger");
    c.app
        .post(
            &t,
            &format!("/api/v1/integrations/{}/links", c.integration),
            json!({"employee_id": e4, "external_user_id": "nobody@acme.example"}),
        )
        .await
        .expect_problem(422);
    c.app.shutdown().await;
});

backend_test!(lineworks_callbacks_that_do_not_verify_change_nothing, |db: TestDb| async move {
    let c = chat(db, json!({})).await;
    c.employee("E1", "山田太郎", "u-taro").await;
    let body = c.sim.message_body("u-taro", None, json!({"type": "text", "text": "出勤"}));
    let good = dakoku_sim::lineworks::sign(BOT_SECRET, body.as_bytes());
    let before = c.footprint().await;
    let post = |headers: Vec<(&'static str, String)>, body: String, url: String| {
        let client = c.app.client.clone();
        async move {
            let mut request = client.post(url).header("content-type", "application/json; charset=UTF-8").body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request.send().await.expect("sent").status().as_u16()
        }
    };
    let cb = c.callback.clone();
    let wrong = dakoku_sim::lineworks::sign("another-secret", body.as_bytes());
    assert_eq!(
        post(vec![("X-WORKS-BotId", BOT.into()), ("X-WORKS-Signature", wrong)], body.clone(), cb.clone()).await,
        401
    );
    assert_eq!(post(vec![("X-WORKS-BotId", BOT.into())], body.clone(), cb.clone()).await, 401);
    assert_eq!(
        post(vec![("X-WORKS-BotId", BOT.into()), ("X-WORKS-Signature", "garbage".into())], body.clone(), cb.clone())
            .await,
        401
    );
    // Signed, then changed on the way.
    let tampered = body.replace("出勤", "退勤");
    assert_eq!(
        post(vec![("X-WORKS-BotId", BOT.into()), ("X-WORKS-Signature", good.clone())], tampered, cb.clone()).await,
        401
    );
    // Another bot's callback.
    assert_eq!(
        post(vec![("X-WORKS-BotId", "9999".into()), ("X-WORKS-Signature", good.clone())], body.clone(), cb.clone())
            .await,
        401
    );
    // Signed but not an event.
    let junk = "{\"type\": \"message\", \"content\": 3}".to_owned();
    let junk_sig = dakoku_sim::lineworks::sign(BOT_SECRET, junk.as_bytes());
    assert_eq!(
        post(vec![("X-WORKS-BotId", BOT.into()), ("X-WORKS-Signature", junk_sig.clone())], junk.clone(), cb.clone())
            .await,
        400
    );
    // Finding 7 of the hardening review: without X-WORKS-BotId, refused like another bot's.
    assert_eq!(post(vec![("X-WORKS-Signature", junk_sig)], junk, cb.clone()).await, 401);
    // An unknown callback token.
    let unknown = format!("{}/hooks/lineworks/not-a-token", c.app.base);
    assert_eq!(post(vec![("X-WORKS-Signature", good.clone())], body.clone(), unknown).await, 404);
    // The WeCom route does not answer for a LINE WORKS token.
    let wrong_platform = cb.replace("/hooks/lineworks/", "/hooks/wecom/");
    assert_ne!(post(vec![("X-WORKS-Signature", good.clone())], body.clone(), wrong_platform).await, 200);
    assert_eq!(c.footprint().await, before, "nothing was stored");

    // Header names in any case.
    assert_eq!(
        post(vec![("x-works-botid", BOT.into()), ("X-WORKS-SIGNATURE", good)], body.clone(), cb.clone()).await,
        200
    );
    assert_eq!(c.app.count("SELECT COUNT(*) FROM punches").await, 1);
    // Events with nothing to do are acknowledged.
    for event in [
        json!({"type": "join", "source": {"channelId": "room-9", "domainId": 40029600}, "issuedTime": "2026-11-23T00:00:00Z"}),
        json!({"type": "joined", "source": {"channelId": "room-9", "domainId": 40029600}, "members": ["u-taro"]}),
        json!({"type": "reaction_added", "source": {"userId": "u-taro"}}),
    ] {
        assert_eq!(c.sim.deliver(BOT, &event.to_string()).await.expect("sent"), 200);
    }
    c.app.shutdown().await;
});

backend_test!(lineworks_outbox_survives_token_expiry_and_platform_errors, |db: TestDb| async move {
    let c = chat(db, json!({})).await;
    c.employee("E1", "山田太郎", "u-taro").await;

    c.say("u-taro", "出勤").await;
    c.drain().await;
    assert_eq!(c.replies("users/u-taro").len(), 1);
    assert_eq!(c.sim.token_requests(), 1);

    // The platform ends the token early: the next send gets 401, a new token is fetched once,
    // and the reply goes out.
    c.sim.expire_tokens();
    c.say("u-taro", "休憩").await;
    c.drain().await;
    assert_eq!(c.replies("users/u-taro").len(), 2);
    assert_eq!(c.sim.token_requests(), 2);
    // The token is shared: further sends reuse it.
    c.say("u-taro", "休憩終了").await;
    c.drain().await;
    assert_eq!(c.sim.token_requests(), 2);

    // 429: the job waits for rateLimit-reset, then sends once.
    c.sim.inject(Fault { path_contains: "/messages".into(), status: 429, times: 1 });
    c.say("u-taro", "今日").await;
    c.drain().await;
    assert_eq!(c.replies("users/u-taro").len(), 3, "nothing was sent while throttled");
    let waiting = c.app.count("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND last_error LIKE '%429%'").await;
    assert_eq!(waiting, 1, "the reply waits for the rate limit to reset");
    let wait_micros = c.app.count("SELECT MAX(run_at) FROM jobs WHERE status = 'queued'").await
        - chrono::Utc::now().timestamp_micros();
    assert!(wait_micros > 50_000_000, "waits about the 60 s of rateLimit-reset, not {wait_micros} µs");
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE status = 'queued'")
        .execute(&c.app.service.db.pool)
        .await
        .expect("due now");
    c.drain().await;
    assert_eq!(c.replies("users/u-taro").len(), 4);

    // 500: retried with backoff, sent once.
    c.sim.inject(Fault { path_contains: "/messages".into(), status: 500, times: 2 });
    c.say("u-taro", "今月").await;
    for _ in 0..2 {
        c.drain().await;
        sqlx::query("UPDATE jobs SET run_at = 0 WHERE status = 'queued'")
            .execute(&c.app.service.db.pool)
            .await
            .expect("due");
    }
    c.drain().await;
    let replies = c.replies("users/u-taro");
    assert_eq!(replies.len(), 5);
    assert!(replies[4].text().contains("集計"));
    assert_eq!(c.app.count("SELECT COUNT(*) FROM jobs WHERE status <> 'done'").await, 0);
    c.app.shutdown().await;
});

backend_test!(lineworks_connection_test_names_the_wrong_credential, |db: TestDb| async move {
    let c = chat(db, json!({})).await;
    let t = c.app.admin_token.clone();
    let report = c.app.post(&t, &format!("/api/v1/integrations/{}/test", c.integration), json!({})).await.expect(200);
    assert_eq!(report.body["ok"], true, "{}", report.text);

    let make = |settings: Value| {
        let app = &c.app;
        let sim = &c.sim;
        let t = t.clone();
        async move {
            let mut base = json!({
                "client_id": "client-1", "client_secret": "client-secret-1",
                "service_account": "svc.serviceaccount@acme", "private_key": TEST_PRIVATE_KEY,
                "bot_id": BOT, "bot_secret": BOT_SECRET,
                "auth_base_url": sim.auth_base_url(), "api_base_url": sim.api_base_url(),
            });
            for (k, v) in settings.as_object().expect("object") {
                base[k] = v.clone();
            }
            let id = app
                .post(&t, "/api/v1/integrations", json!({"platform": "lineworks", "name": "x", "settings": base}))
                .await
                .expect(201)
                .id();
            app.post(&t, &format!("/api/v1/integrations/{id}/test"), json!({})).await.expect(200).body
        }
    };
    let failing = |report: &Value| -> (String, String) {
        let check = report["checks"].as_array().expect("checks").iter().find(|c| c["ok"] == false).cloned();
        let check = check.unwrap_or_else(|| panic!("no failing check in {report}"));
        (check["name"].as_str().unwrap_or_default().to_owned(), check["detail"].as_str().unwrap_or_default().to_owned())
    };
    let (name, detail) = failing(&make(json!({"private_key": "not a key"})).await);
    assert_eq!(name, "private_key");
    assert!(detail.contains("Private Key"), "{detail}");
    let (name, detail) = failing(&make(json!({"client_secret": "wrong"})).await);
    assert_eq!(name, "token");
    assert!(detail.contains("Client Secret"), "{detail}");
    let (name, detail) = failing(&make(json!({"private_key": OTHER_PRIVATE_KEY})).await);
    assert_eq!(name, "token");
    assert!(detail.contains("Private Key"), "{detail}");
    let (name, detail) = failing(&make(json!({"scopes": "bot user.read calendar"})).await);
    assert_eq!(name, "token");
    assert!(detail.contains("OAuth Scopes"), "{detail}");
    let (name, detail) = failing(&make(json!({"bot_id": "4040404"})).await);
    assert_eq!(name, "bot");
    assert!(detail.contains("4040404"), "{detail}");
    // Secrets never come back in a report.
    let report = make(json!({"client_secret": "wrong"})).await.to_string();
    assert!(!report.contains("BEGIN PRIVATE KEY") && !report.contains(BOT_SECRET));
    c.app.shutdown().await;
});

backend_test!(lineworks_rich_menu_is_made_used_and_removed, |db: TestDb| async move {
    let c = chat(db, json!({"rich_menu": true, "language": "zh"})).await;
    let taro = c.employee("E1", "山田太郎", "u-taro").await;
    c.drain().await;
    let menus = c.sim.richmenus();
    assert_eq!(menus.len(), 1, "one menu is made");
    assert_eq!(menus[0].image, Some((2500, 1686)), "with its image uploaded");
    let labels: Vec<&str> = menus[0].body["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .filter_map(|a| a["action"]["label"].as_str())
        .collect();
    assert_eq!(labels, ["上班", "下班", "休息开始", "休息结束"], "labels in the integration's language");
    assert_eq!(c.sim.bot(BOT).and_then(|b| b.default_richmenu_id), Some(menus[0].id.clone()), "set as the default");

    // Pressing an area is a postback that punches.
    let data = menus[0].body["areas"][0]["action"]["data"].as_str().expect("data").to_owned();
    assert_eq!(c.sim.press(BOT, "u-taro", None, &data).await.expect("sent"), 200);
    c.drain().await;
    assert_eq!(c.punches(&taro).await[0]["kind"], "clock_in");
    assert!(c.last_reply("users/u-taro").text().contains("上班打卡成功"));

    // Changing other settings leaves the menu alone; turning the option off removes it.
    let path = format!("/api/v1/integrations/{}", c.integration);
    c.app.patch(&c.app.admin_token, &path, json!({"name": "LINE WORKS 本社"})).await.expect(200);
    c.drain().await;
    assert_eq!(c.sim.richmenus().len(), 1);
    let changed = c.app.patch(&c.app.admin_token, &path, json!({"settings": {"rich_menu": false}})).await.expect(200);
    assert_eq!(changed.body["name"], "LINE WORKS 本社");
    assert!(!changed.text.contains(BOT_SECRET) && !changed.text.contains("PRIVATE KEY"), "secrets stay hidden");
    c.drain().await;
    assert!(c.sim.richmenus().is_empty());
    assert_eq!(c.sim.bot(BOT).and_then(|b| b.default_richmenu_id), None);
    // Secrets survive a settings change: punching and replying still work.
    c.sim.say(BOT, "u-taro", None, "下班").await.expect("sent");
    c.drain().await;
    assert!(c.last_reply("users/u-taro").text().contains("下班打卡成功"));
    // A required setting cannot be removed.
    c.app.patch(&c.app.admin_token, &path, json!({"settings": {"bot_secret": null}})).await.expect_problem(422);
    c.app.shutdown().await;
});
