//! The authorization matrix: each role × each route × a target in reach, a target in the same
//! organisation out of reach, and a target in another organisation. Another organisation's
//! objects are always 404 (or an invalid reference in a body), never visible or writable.

use crate::backend_test;
use crate::helpers::{Reply, TestApp, TestDb};
use reqwest::Method;
use serde_json::{json, Value};

/// (label, method, path, body with `{n}` made unique per call, status per role)
type OrgWideRoute = (&'static str, Method, &'static str, Option<Value>, [u16; 4]);

const ROLES: [&str; 4] = ["admin", "hr", "manager", "employee"];

/// Objects of organisation A (the caller's) and B (another tenant).
struct World {
    /// Tokens in ROLES order.
    tokens: [String; 4],
    /// Employees: in every role's reach (alice: the employee herself, in the manager's
    /// subtree), in the organisation but out of a manager's reach (bob), and in B (carol).
    alice: String,
    bob: String,
    carol: String,
    sales_tokyo: String,
    dev: String,
    b_department: String,
    integration_a: String,
    integration_b: String,
    b_admin: String,
    user_ids: [String; 4],
}

async fn world(app: &TestApp) -> World {
    let t = app.admin_token.clone();
    let root = app.create_department(&t, "本社", None).await;
    let sales = app.create_department(&t, "営業部", Some(&root)).await;
    let sales_tokyo = app.create_department(&t, "東京営業所", Some(&sales)).await;
    let dev = app.create_department(&t, "開発部", Some(&root)).await;
    let manager_self = app.create_employee(&t, "M1", Some(&sales)).await;
    let hr_self = app.create_employee(&t, "H1", Some(&root)).await;
    let alice = app.create_employee(&t, "ALICE", Some(&sales_tokyo)).await;
    let bob = app.create_employee(&t, "BOB", Some(&dev)).await;
    let hr = app.user_token("hr", Some(&hr_self), None).await;
    let manager = app.user_token("manager", Some(&manager_self), Some(&sales)).await;
    let employee = app.user_token("employee", Some(&alice), None).await;
    let mut user_ids: Vec<String> = Vec::new();
    for token in [&t, &hr, &manager, &employee] {
        user_ids.push(app.get(token, "/api/v1/me").await.expect(200).body["user_id"].as_str().expect("id").to_owned());
    }
    let integration = |token: String| async move {
        app.post(
            &token,
            "/api/v1/integrations",
            json!({"platform": "dingtalk", "name": "钉钉", "settings": {"app_key": "k", "app_secret": "s"}}),
        )
        .await
        .expect(201)
        .id()
    };
    let integration_a = integration(t.clone()).await;
    let (_, b_admin) = app.other_org().await;
    let b_department = app.create_department(&b_admin, "销售部", None).await;
    let carol = app.create_employee(&b_admin, "CAROL", Some(&b_department)).await;
    let integration_b = integration(b_admin.clone()).await;
    // Some punches to read.
    for emp in [&alice, &bob] {
        app.post(&t, "/api/v1/punches", json!({"employee_id": emp, "kind": "clock_in"})).await.expect(201);
    }
    app.post(&b_admin, "/api/v1/punches", json!({"employee_id": carol, "kind": "clock_in"})).await.expect(201);
    World {
        tokens: [t, hr, manager, employee],
        alice,
        bob,
        carol,
        sales_tokyo,
        dev,
        b_department,
        integration_a,
        integration_b,
        b_admin,
        user_ids: user_ids.try_into().expect("four users"),
    }
}

#[derive(Clone, Copy)]
enum Target {
    InReach,
    OutOfReach,
    OtherOrg,
}

impl World {
    fn employee(&self, target: Target) -> &str {
        match target {
            Target::InReach => &self.alice,
            Target::OutOfReach => &self.bob,
            Target::OtherOrg => &self.carol,
        }
    }
    fn department(&self, target: Target) -> &str {
        match target {
            Target::InReach => &self.sales_tokyo,
            Target::OutOfReach => &self.dev,
            Target::OtherOrg => &self.b_department,
        }
    }
    /// The admin token of the organisation the target lives in (for setting up objects).
    fn owner_admin(&self, target: Target) -> &str {
        match target {
            Target::OtherOrg => &self.b_admin,
            _ => &self.tokens[0],
        }
    }
}

async fn punch_of(app: &TestApp, world: &World, target: Target) -> String {
    let listed = app
        .get(world.owner_admin(target), &format!("/api/v1/punches?employee_id={}", world.employee(target)))
        .await
        .expect(200);
    listed.body["items"][0]["id"].as_str().expect("punch").to_owned()
}

/// One row of the matrix: a request built for a role and a target, and the status each role
/// (admin, hr, manager, employee) must get for each target (in reach, out of reach, other org).
async fn check(
    app: &TestApp,
    world: &World,
    label: &str,
    expected: [[u16; 3]; 4],
    build: impl AsyncFn(&TestApp, &World, usize, Target) -> (Method, String, Option<Value>),
) -> Vec<String> {
    let mut failures = Vec::new();
    for (role_index, role) in ROLES.iter().enumerate() {
        for (target_index, target) in [Target::InReach, Target::OutOfReach, Target::OtherOrg].into_iter().enumerate() {
            let (method, path, body) = build(app, world, role_index, target).await;
            let reply: Reply = app.request(method.clone(), Some(&world.tokens[role_index]), &path, body).await;
            let want = expected[role_index][target_index];
            if reply.status.as_u16() != want {
                failures.push(format!(
                    "{label}: {role} on {:?}-target {method} {path}: got {} want {want}: {}",
                    target_index, reply.status, reply.text
                ));
            }
        }
    }
    failures
}

backend_test!(role_route_target_matrix, |db: TestDb| async move {
    let app = db.spawn().await;
    let w = world(&app).await;
    let mut failures = Vec::new();

    failures.extend(
        check(
            &app,
            &w,
            "read employee",
            [[200, 200, 404], [200, 200, 404], [200, 404, 404], [200, 404, 404]],
            async |_, w, _, t| (Method::GET, format!("/api/v1/employees/{}", w.employee(t)), None),
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "update employee",
            [[200, 200, 404], [200, 200, 404], [403, 403, 403], [403, 403, 403]],
            async |_, w, _, t| {
                (
                    Method::PATCH,
                    format!("/api/v1/employees/{}", w.employee(t)),
                    Some(json!({"email": "x@acme.example"})),
                )
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "retire employee",
            [[200, 200, 404], [200, 200, 404], [403, 403, 403], [403, 403, 403]],
            async |app, w, r, t| {
                let fresh = app
                    .create_employee(
                        w.owner_admin(t),
                        &format!("RET{r}{}", uuid::Uuid::new_v4().simple()),
                        Some(w.department(t)),
                    )
                    .await;
                (Method::POST, format!("/api/v1/employees/{fresh}/retire"), Some(json!({})))
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "punch for",
            [[201, 201, 422], [201, 201, 422], [403, 422, 422], [201, 422, 422]],
            async |_, w, _, t| {
                (
                    Method::POST,
                    "/api/v1/punches".to_owned(),
                    Some(json!({"employee_id": w.employee(t), "kind": "break_start"})),
                )
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "list punches of",
            [[200, 200, 404], [200, 200, 404], [200, 404, 404], [200, 404, 404]],
            async |_, w, _, t| (Method::GET, format!("/api/v1/punches?employee_id={}", w.employee(t)), None),
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "read punch",
            [[200, 200, 404], [200, 200, 404], [200, 404, 404], [200, 404, 404]],
            async |app, w, _, t| (Method::GET, format!("/api/v1/punches/{}", punch_of(app, w, t).await), None),
        )
        .await,
    );
    failures.extend(check(&app, &w, "link employee", [[201, 201, 422], [201, 201, 422], [403, 403, 403], [403, 403, 403]],
        async |app, w, _, t| {
            // A fresh integration each time: an employee is linked once per integration.
            let integration = app
                .post(&w.tokens[0], "/api/v1/integrations", json!({"platform": "dingtalk", "name": "钉钉", "settings": {"app_key": "k", "app_secret": "s"}}))
                .await
                .expect(201)
                .id();
            (Method::POST, format!("/api/v1/integrations/{integration}/links"), Some(json!({"employee_id": w.employee(t), "external_user_id": "user-1"})))
        }).await);
    failures.extend(
        check(
            &app,
            &w,
            "link in another organisation's integration",
            [[404, 404, 404], [404, 404, 404], [403, 403, 403], [403, 403, 403]],
            async |_, w, _, t| {
                (
                    Method::POST,
                    format!("/api/v1/integrations/{}/links", w.integration_b),
                    Some(json!({"employee_id": w.employee(t), "external_user_id": "x"})),
                )
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "issue chat link code for",
            [[201, 201, 404], [201, 201, 404], [403, 403, 403], [201, 403, 403]],
            async |_, w, _, t| (Method::POST, format!("/api/v1/employees/{}/link-code", w.employee(t)), None),
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "update integration",
            [[200, 200, 404], [403, 403, 403], [403, 403, 403], [403, 403, 403]],
            async |_, w, _, t| {
                let id = if matches!(t, Target::OtherOrg) { &w.integration_b } else { &w.integration_a };
                (Method::PATCH, format!("/api/v1/integrations/{id}"), Some(json!({"name": "改名"})))
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "preview org sync",
            // The integration has no directory (422) for the one who may ask at all.
            [[422, 422, 404], [403, 403, 403], [403, 403, 403], [403, 403, 403]],
            async |_, w, _, t| {
                let id = if matches!(t, Target::OtherOrg) { &w.integration_b } else { &w.integration_a };
                (Method::POST, format!("/api/v1/integrations/{id}/org-sync"), Some(json!({"dry_run": true})))
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "read department",
            [[200, 200, 404], [200, 200, 404], [200, 200, 404], [200, 200, 404]],
            async |_, w, _, t| (Method::GET, format!("/api/v1/departments/{}", w.department(t)), None),
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "update department",
            [[200, 200, 404], [200, 200, 404], [403, 403, 403], [403, 403, 403]],
            async |_, w, _, t| {
                (Method::PATCH, format!("/api/v1/departments/{}", w.department(t)), Some(json!({"code": null})))
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "delete department",
            [[204, 204, 404], [204, 204, 404], [403, 403, 403], [403, 403, 403]],
            async |app, w, _, t| {
                let fresh = app.create_department(w.owner_admin(t), "一時", Some(w.department(t))).await;
                (Method::DELETE, format!("/api/v1/departments/{fresh}"), None)
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "read integration",
            [[200, 200, 404], [403, 403, 403], [403, 403, 403], [403, 403, 403]],
            async |_, w, _, t| {
                (
                    Method::GET,
                    format!(
                        "/api/v1/integrations/{}",
                        if matches!(t, Target::OtherOrg) { &w.integration_b } else { &w.integration_a }
                    ),
                    None,
                )
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "issue token for another user",
            [[201, 201, 404], [403, 403, 403], [403, 403, 403], [403, 403, 403]],
            async |_, w, r, t| {
                let other = match t {
                    Target::OtherOrg => "00000000-0000-7000-8000-000000000000".to_owned(),
                    _ => w.user_ids[(r + 1) % 4].clone(),
                };
                (Method::POST, "/api/v1/tokens".to_owned(), Some(json!({"name": "for someone", "user_id": other})))
            },
        )
        .await,
    );
    failures.extend(
        check(
            &app,
            &w,
            "revoke token",
            [[200, 200, 404], [200, 404, 404], [200, 404, 404], [200, 404, 404]],
            async |app, w, r, t| {
                // In reach: one's own token; out of reach: another user's; other org: B's admin's.
                let (owner_token, user) = match t {
                    Target::InReach => (w.tokens[r].clone(), None),
                    Target::OutOfReach => (w.tokens[0].clone(), Some(w.user_ids[(r + 1) % 4].clone())),
                    Target::OtherOrg => (w.b_admin.clone(), None),
                };
                let id = app
                    .post(&owner_token, "/api/v1/tokens", json!({"name": "to revoke", "user_id": user}))
                    .await
                    .expect(201)
                    .id();
                (Method::DELETE, format!("/api/v1/tokens/{id}"), None)
            },
        )
        .await,
    );

    // Routes without a target object: [status for admin, hr, manager, employee] (same for each target).
    let org_wide: [OrgWideRoute; 13] = [
        (
            "create employee",
            Method::POST,
            "/api/v1/employees",
            Some(json!({"code": "NEW-{n}", "name": "新人"})),
            [201, 201, 403, 403],
        ),
        ("list employees", Method::GET, "/api/v1/employees", None, [200, 200, 200, 200]),
        (
            "create department",
            Method::POST,
            "/api/v1/departments",
            Some(json!({"name": "新部署"})),
            [201, 201, 403, 403],
        ),
        ("list departments", Method::GET, "/api/v1/departments", None, [200, 200, 200, 200]),
        (
            "create user",
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "new-{n}@acme.example", "role": "hr"})),
            [201, 403, 403, 403],
        ),
        ("list users", Method::GET, "/api/v1/users", None, [200, 403, 403, 403]),
        ("issue own token", Method::POST, "/api/v1/tokens", Some(json!({"name": "mine"})), [201, 201, 201, 201]),
        ("list tokens", Method::GET, "/api/v1/tokens", None, [200, 200, 200, 200]),
        (
            "create integration",
            Method::POST,
            "/api/v1/integrations",
            Some(json!({"platform": "dingtalk", "name": "x", "settings": {"app_key": "k", "app_secret": "s"}})),
            [201, 403, 403, 403],
        ),
        ("list integrations", Method::GET, "/api/v1/integrations", None, [200, 403, 403, 403]),
        ("read audit", Method::GET, "/api/v1/audit", None, [200, 403, 403, 403]),
        (
            "create webhook",
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["punch.created"]})),
            [201, 403, 403, 403],
        ),
        ("list dead jobs", Method::GET, "/api/v1/jobs", None, [200, 403, 403, 403]),
    ];
    for (label, method, path, body, expected) in org_wide {
        failures.extend(
            check(&app, &w, label, expected.map(|s| [s; 3]), async |_, _, r, t| {
                let n = format!("{r}-{}", t as u8);
                let body =
                    body.as_ref().map(|b| serde_json::from_str(&b.to_string().replace("{n}", &n)).expect("json"));
                (method.clone(), path.to_owned(), body)
            })
            .await,
        );
    }
    assert!(failures.is_empty(), "authorization matrix failures:\n{}", failures.join("\n"));

    // What each role sees in lists: only its reach, never another organisation.
    let codes = |items: Vec<Value>| {
        let mut c: Vec<String> = items
            .iter()
            .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
            .filter(|c| !c.starts_with("RET") && !c.starts_with("NEW"))
            .collect();
        c.sort();
        c
    };
    assert_eq!(codes(app.list_all(&w.tokens[0], "/api/v1/employees").await), ["ALICE", "BOB", "H1", "M1"]);
    assert_eq!(codes(app.list_all(&w.tokens[1], "/api/v1/employees").await), ["ALICE", "BOB", "H1", "M1"]);
    assert_eq!(codes(app.list_all(&w.tokens[2], "/api/v1/employees").await), ["ALICE", "M1"]);
    assert_eq!(codes(app.list_all(&w.tokens[3], "/api/v1/employees").await), ["ALICE"]);
    let punch_owners = |items: Vec<Value>| {
        let mut o: Vec<String> =
            items.iter().map(|p| p["employee_id"].as_str().unwrap_or_default().to_owned()).collect();
        o.sort();
        o.dedup();
        o
    };
    assert!(!punch_owners(app.list_all(&w.tokens[0], "/api/v1/punches").await).contains(&w.carol));
    assert_eq!(punch_owners(app.list_all(&w.tokens[2], "/api/v1/punches").await), std::slice::from_ref(&w.alice));
    assert_eq!(punch_owners(app.list_all(&w.tokens[3], "/api/v1/punches").await), std::slice::from_ref(&w.alice));
    for token in &w.tokens {
        let departments = app.list_all(token, "/api/v1/departments").await;
        assert!(departments.iter().all(|d| d["id"] != json!(w.b_department)));
    }

    // Nothing of organisation B was changed by A's callers.
    let carol = app.get(&w.b_admin, &format!("/api/v1/employees/{}", w.carol)).await.expect(200);
    assert_eq!(carol.body["email"], json!(null));
    assert_eq!(carol.body["status"], "active");
    assert_eq!(app.list_all(&w.b_admin, &format!("/api/v1/punches?employee_id={}", w.carol)).await.len(), 1);
    assert!(app.list_all(&w.b_admin, &format!("/api/v1/integrations/{}/links", w.integration_b)).await.is_empty());
    let b_department = app.get(&w.b_admin, &format!("/api/v1/departments/{}", w.b_department)).await.expect(200);
    assert_eq!(b_department.body["name"], "销售部");
    app.shutdown().await;
});
