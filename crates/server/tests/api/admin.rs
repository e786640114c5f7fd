//! The admin API: who may use it, what each route does, and the audit log.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_problem, spawn_app_with, token, unique_email};

/// A server whose `ADMIN_EMAIL` account is signed in.
struct AdminApp {
    app: TestApp,
    admin_email: String,
    admin_token: String,
    admin_id: String,
}

async fn admin_app() -> AdminApp {
    let admin_email = format!("root-{}@example.com", uuid::Uuid::new_v4().simple());
    // Given in another case and with spaces: the configured address is normalised.
    let configured = format!("  {}  ", admin_email.to_uppercase());
    let app = spawn_app_with(|settings| settings.admin_email = Some(configured)).await;
    let signed_in = app.sign_in(&admin_email).await;
    let admin_id = signed_in["user"]["id"].as_str().unwrap().to_owned();
    AdminApp { admin_token: token(&signed_in, "access_token"), admin_email, admin_id, app }
}

impl AdminApp {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        call(&self.app, &self.admin_token, method, path, body).await
    }

    async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str) -> Response {
        self.call(Method::POST, path, None).await
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let response = self.call(method, path, body).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        response.json().await.unwrap()
    }

    async fn audit_log(&self, query: &str) -> Value {
        self.ok(Method::GET, &format!("/admin/audit-log{query}"), None).await
    }
}

async fn call(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> Response {
    let request = app.client.request(method, app.url(path)).bearer_auth(token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

/// A signed-in account with a password; returns (id, token response).
async fn member(app: &TestApp, address: &str) -> (String, Value) {
    let tokens = app.register_verified(address).await;
    (tokens["user"]["id"].as_str().unwrap().to_owned(), tokens)
}

/// Every admin route, for a target account `id`.
fn every_route(id: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/admin/users".into(), None),
        (Method::GET, "/admin/users?q=example&limit=5".into(), None),
        (Method::GET, format!("/admin/users/{id}"), None),
        (Method::POST, format!("/admin/users/{id}/disable"), None),
        (Method::POST, format!("/admin/users/{id}/enable"), None),
        (Method::POST, format!("/admin/users/{id}/sessions/revoke"), None),
        (Method::PUT, format!("/admin/users/{id}/role"), Some(json!({ "role": "admin" }))),
        (Method::DELETE, format!("/admin/users/{id}"), None),
        (Method::GET, "/admin/audit-log".into(), None),
        // Whatever the path or input, the caller is checked first.
        (Method::GET, "/admin/users/not-a-uuid".into(), None),
        (Method::PUT, format!("/admin/users/{id}/role"), Some(json!({ "role": "superuser" }))),
        (Method::GET, "/admin/no-such-route".into(), None),
    ]
}

#[tokio::test]
async fn every_admin_route_needs_an_access_token() {
    let admin = admin_app().await;
    for (method, path, body) in every_route(&admin.admin_id) {
        let request = admin.app.client.request(method.clone(), admin.app.url(&path));
        let request = if let Some(body) = body { request.json(&body) } else { request };
        let response = request.send().await.unwrap();
        assert_problem(response, StatusCode::UNAUTHORIZED, "token_invalid").await;
        let forged = call(&admin.app, "v4.public.AAAA", method, &path, None).await;
        assert_problem(forged, StatusCode::UNAUTHORIZED, "token_invalid").await;
    }
}

#[tokio::test]
async fn a_non_admin_gets_403_on_every_admin_route_and_changes_nothing() {
    let admin = admin_app().await;
    let (_, outsider) = member(&admin.app, &unique_email()).await;
    let outsider_token = token(&outsider, "access_token");
    let (victim_id, victim) = member(&admin.app, &unique_email()).await;

    for (method, path, body) in every_route(&victim_id) {
        let response = call(&admin.app, &outsider_token, method, &path, body).await;
        let problem = assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(problem["detail"], "this needs an administrator", "{path}");
    }
    let response = admin.app.get_with_token("/auth/me", &token(&victim, "access_token")).await;
    assert_eq!(response.status(), StatusCode::OK, "the victim was not touched");
    let shown = admin.ok(Method::GET, &format!("/admin/users/{victim_id}"), None).await;
    assert_eq!((shown["disabled"].clone(), shown["role"].clone()), (json!(false), json!("user")));
    let log = admin.audit_log("").await;
    let actors: Vec<&Value> = log["entries"].as_array().unwrap().iter().map(|e| &e["actor_id"]).collect();
    assert!(actors.iter().all(|actor| **actor == json!(admin.admin_id)), "refusals are not audited: {log}");
}

#[tokio::test]
async fn the_admin_account_lists_and_searches_users_page_by_page() {
    let admin = admin_app().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cyd"] {
        ids.push(member(&admin.app, &format!("{name}.{tag}@example.com")).await.0);
    }

    let everyone = admin.ok(Method::GET, "/admin/users", None).await;
    let users = everyone["users"].as_array().unwrap();
    assert_eq!(users.len(), 4, "{everyone}");
    assert_eq!(everyone["next_cursor"], Value::Null);
    let root = users.iter().find(|user| user["email"] == json!(admin.admin_email)).unwrap();
    assert_eq!((root["role"].clone(), root["email_verified"].clone()), (json!("admin"), json!(true)));
    let listed_ids: Vec<&Value> = users.iter().map(|user| &user["id"]).collect();
    assert_eq!(listed_ids[..3], [&json!(ids[2]), &json!(ids[1]), &json!(ids[0])], "newest first");

    let first = admin.ok(Method::GET, &format!("/admin/users?q={}&limit=2", tag.to_uppercase()), None).await;
    let page: Vec<&Value> = first["users"].as_array().unwrap().iter().map(|user| &user["id"]).collect();
    assert_eq!(page, [&json!(ids[2]), &json!(ids[1])]);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = admin.ok(Method::GET, &format!("/admin/users?q={tag}&limit=2&cursor={cursor}"), None).await;
    let page: Vec<&Value> = second["users"].as_array().unwrap().iter().map(|user| &user["id"]).collect();
    assert_eq!(page, [&json!(ids[0])]);
    assert_eq!(second["next_cursor"], Value::Null);

    let bob = admin.ok(Method::GET, &format!("/admin/users?q=bob.{tag}"), None).await;
    let bob = &bob["users"][0];
    assert_eq!(bob["id"], json!(ids[1]));
    for field in ["email_verified_at", "created_at", "updated_at", "last_code_verified_at"] {
        assert!(bob[field].is_string(), "{field} in {bob}");
    }
    assert_eq!((bob["has_password"].clone(), bob["disabled"].clone()), (json!(true), json!(false)));
    assert!(bob.get("password_hash").is_none());
    let none = admin.ok(Method::GET, "/admin/users?q=%25", None).await;
    assert_eq!(none["users"], json!([]), "% is a plain character, not a wildcard");
}

#[tokio::test]
async fn bad_listing_parameters_are_422() {
    let admin = admin_app().await;
    let long = "a".repeat(255);
    for query in [
        "limit=0".to_owned(),
        "limit=-1".to_owned(),
        "limit=many".to_owned(),
        "cursor=not-a-cursor".to_owned(),
        "cursor=".to_owned(),
        format!("q={long}"),
        "q=a%00b".to_owned(),
        "q=a%0Ab".to_owned(),
        "page=2".to_owned(),
    ] {
        let response = admin.get(&format!("/admin/users?{query}")).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let response = admin.get("/admin/audit-log?q=anything").await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let capped = admin.ok(Method::GET, "/admin/users?limit=100000", None).await;
    assert_eq!(capped["users"].as_array().unwrap().len(), 1, "a large limit is cut, not refused");
}

#[tokio::test]
async fn one_user_is_shown_and_unknown_ones_are_404() {
    let admin = admin_app().await;
    let address = unique_email();
    let (id, _) = member(&admin.app, &address).await;
    let shown = admin.ok(Method::GET, &format!("/admin/users/{id}"), None).await;
    assert_eq!((shown["id"].clone(), shown["email"].clone()), (json!(id), json!(address)));
    let unknown = uuid::Uuid::now_v7();
    for (method, path) in [
        (Method::GET, format!("/admin/users/{unknown}")),
        (Method::GET, "/admin/users/not-a-uuid".to_owned()),
        (Method::POST, format!("/admin/users/{unknown}/disable")),
        (Method::POST, format!("/admin/users/{unknown}/enable")),
        (Method::POST, format!("/admin/users/{unknown}/sessions/revoke")),
        (Method::DELETE, format!("/admin/users/{unknown}")),
    ] {
        assert_problem(admin.call(method, &path, None).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let role = format!("/admin/users/{unknown}/role");
    let response = admin.call(Method::PUT, &role, Some(json!({ "role": "user" }))).await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    let wrong_method = admin.call(Method::PATCH, &format!("/admin/users/{id}"), None).await;
    assert_problem(wrong_method, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn a_disabled_user_is_signed_out_and_refused_until_enabled() {
    let admin = admin_app().await;
    let address = unique_email();
    let (id, tokens) = member(&admin.app, &address).await;
    let (access, refresh) = (token(&tokens, "access_token"), token(&tokens, "refresh_token"));
    // A second session, left alone until the account is enabled again: it must have
    // ended with the disabling itself, not with a later refusal.
    let other: Value = admin.app.login(&address, PASSWORD).await.json().await.unwrap();

    let disabled = admin.ok(Method::POST, &format!("/admin/users/{id}/disable"), None).await;
    assert_eq!(disabled["disabled"], true);
    let me = admin.app.get_with_token("/auth/me", &access).await;
    assert_problem(me, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let refreshed = admin.app.refresh(refresh).await;
    assert_problem(refreshed, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let login = admin.app.login(&address, PASSWORD).await;
    assert_problem(login, StatusCode::FORBIDDEN, "account_disabled").await;
    admin.app.wait_out_cooldown();
    assert_eq!(admin.app.send_otp(&address).await.status(), StatusCode::ACCEPTED);
    let code = admin.app.last_code(&address);
    let verified = admin.app.verify_otp(&address, &code).await;
    assert_problem(verified, StatusCode::FORBIDDEN, "account_disabled").await;

    let enabled = admin.ok(Method::POST, &format!("/admin/users/{id}/enable"), None).await;
    assert_eq!(enabled["disabled"], false);
    for ended in [access, token(&other, "access_token")] {
        let me = admin.app.get_with_token("/auth/me", &ended).await;
        assert_problem(me, StatusCode::UNAUTHORIZED, "token_invalid").await;
    }
    let refreshed = admin.app.refresh(token(&other, "refresh_token")).await;
    assert_problem(refreshed, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let login = admin.app.login(&address, PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK, "signs in again");
    let tokens: Value = login.json().await.unwrap();
    let me = admin.app.get_with_token("/auth/me", &token(&tokens, "access_token")).await;
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_deleted_user_loses_their_tokens_and_their_address_is_free_again() {
    let admin = admin_app().await;
    let address = unique_email();
    let (id, tokens) = member(&admin.app, &address).await;

    let deleted = admin.call(Method::DELETE, &format!("/admin/users/{id}"), None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let me = admin.app.get_with_token("/auth/me", &token(&tokens, "access_token")).await;
    assert_problem(me, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let refreshed = admin.app.refresh(token(&tokens, "refresh_token")).await;
    assert_problem(refreshed, StatusCode::UNAUTHORIZED, "token_invalid").await;
    assert_problem(admin.get(&format!("/admin/users/{id}")).await, StatusCode::NOT_FOUND, "not_found").await;
    let login = admin.app.login(&address, PASSWORD).await;
    assert_problem(login, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    admin.app.wait_out_cooldown();
    let again = admin.app.sign_in(&address).await;
    assert_ne!(again["user"]["id"], json!(id), "a new account");
}

#[tokio::test]
async fn revoking_sessions_ends_every_session_of_the_user_only() {
    let admin = admin_app().await;
    let address = unique_email();
    let (id, first) = member(&admin.app, &address).await;
    let second: Value = admin.app.login(&address, PASSWORD).await.json().await.unwrap();
    let (_, bystander) = member(&admin.app, &unique_email()).await;

    let revoked = admin.ok(Method::POST, &format!("/admin/users/{id}/sessions/revoke"), None).await;
    assert_eq!(revoked, json!({ "sessions_ended": 2 }));
    for tokens in [&first, &second] {
        let me = admin.app.get_with_token("/auth/me", &token(tokens, "access_token")).await;
        assert_problem(me, StatusCode::UNAUTHORIZED, "token_invalid").await;
    }
    let me = admin.app.get_with_token("/auth/me", &token(&bystander, "access_token")).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(admin.app.login(&address, PASSWORD).await.status(), StatusCode::OK, "not disabled");
    let again = admin.ok(Method::POST, &format!("/admin/users/{id}/sessions/revoke"), None).await;
    assert_eq!(again, json!({ "sessions_ended": 1 }));
}

#[tokio::test]
async fn admins_grant_and_revoke_the_role_but_the_admin_email_account_stays_admin() {
    let admin = admin_app().await;
    let (deputy_id, deputy) = member(&admin.app, &unique_email()).await;
    let deputy_token = token(&deputy, "access_token");
    let role = |id: &str| format!("/admin/users/{id}/role");
    assert_problem(
        admin.app.get_with_token("/admin/users", &deputy_token).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let granted = admin.ok(Method::PUT, &role(&deputy_id), Some(json!({ "role": "admin" }))).await;
    assert_eq!(granted["role"], "admin");
    let listed = admin.app.get_with_token("/admin/users", &deputy_token).await;
    assert_eq!(listed.status(), StatusCode::OK, "the same token now passes");

    let deputy_calls = [
        (Method::PUT, role(&admin.admin_id), Some(json!({ "role": "user" }))),
        (Method::POST, format!("/admin/users/{}/disable", admin.admin_id), None),
        (Method::DELETE, format!("/admin/users/{}", admin.admin_id), None),
        (Method::PUT, role(&deputy_id), Some(json!({ "role": "user" }))),
        (Method::POST, format!("/admin/users/{deputy_id}/disable"), None),
        (Method::DELETE, format!("/admin/users/{deputy_id}"), None),
    ];
    for (method, path, body) in deputy_calls {
        let response = call(&admin.app, &deputy_token, method, &path, body).await;
        assert_problem(response, StatusCode::CONFLICT, "action_refused").await;
    }
    let root = admin.ok(Method::GET, &format!("/admin/users/{}", admin.admin_id), None).await;
    assert_eq!((root["role"].clone(), root["disabled"].clone()), (json!("admin"), json!(false)));

    let revoked = admin.ok(Method::PUT, &role(&deputy_id), Some(json!({ "role": "user" }))).await;
    assert_eq!(revoked["role"], "user");
    let refused = admin.app.get_with_token("/admin/users", &deputy_token).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn an_admin_cannot_lock_themself_out_or_promote_an_unverified_account() {
    let admin = admin_app().await;
    let own = |path: &str| format!("/admin/users/{}{path}", admin.admin_id);
    for (method, path, body) in [
        (Method::POST, own("/disable"), None),
        (Method::DELETE, own(""), None),
        (Method::PUT, own("/role"), Some(json!({ "role": "user" }))),
    ] {
        assert_problem(admin.call(method, &path, body).await, StatusCode::CONFLICT, "action_refused").await;
    }

    let pending = unique_email();
    let registered =
        admin.app.post("/auth/register", &json!({ "email": pending, "password": PASSWORD })).await;
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    let found = admin.ok(Method::GET, &format!("/admin/users?q={pending}"), None).await;
    let pending_id = found["users"][0]["id"].as_str().unwrap().to_owned();
    let role = format!("/admin/users/{pending_id}/role");
    let promoted = admin.call(Method::PUT, &role, Some(json!({ "role": "admin" }))).await;
    let problem = assert_problem(promoted, StatusCode::CONFLICT, "action_refused").await;
    assert!(problem["detail"].as_str().unwrap().contains("verified"));

    for body in [json!({ "role": "root" }), json!({ "role": "Admin" }), json!({ "role": 1 }), json!({})] {
        let response = admin.call(Method::PUT, &own("/role"), Some(body)).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
}

#[tokio::test]
async fn an_unverified_registration_of_the_admin_address_gets_no_power() {
    let admin_email = unique_email();
    let app = spawn_app_with(|settings| settings.admin_email = Some(admin_email.clone())).await;
    let registered = app.post("/auth/register", &json!({ "email": admin_email, "password": PASSWORD })).await;
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    let login = app.login(&admin_email, PASSWORD).await;
    assert_problem(login, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // Once the owner proves the address, the account is the administrator.
    let code = app.last_code(&admin_email);
    let tokens: Value = app.verify_otp(&admin_email, &code).await.json().await.unwrap();
    let listed = app.get_with_token("/admin/users", &token(&tokens, "access_token")).await;
    assert_eq!(listed.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_admin_email_nobody_is_an_admin() {
    let app = spawn_app_with(|_| {}).await;
    let tokens = app.sign_in(&unique_email()).await;
    let response = app.get_with_token("/admin/users", &token(&tokens, "access_token")).await;
    assert_problem(response, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn every_admin_action_is_in_the_audit_log_newest_first() {
    let admin = admin_app().await;
    let target_email = unique_email();
    let (target, tokens) = member(&admin.app, &target_email).await;
    let user = |path: &str| format!("/admin/users/{target}{path}");

    admin.ok(Method::GET, "/admin/users?q=example", None).await;
    admin.ok(Method::GET, &user(""), None).await;
    admin.ok(Method::POST, &user("/disable"), None).await;
    admin.ok(Method::POST, &user("/enable"), None).await;
    admin.ok(Method::POST, &user("/sessions/revoke"), None).await;
    admin.ok(Method::PUT, &user("/role"), Some(json!({ "role": "admin" }))).await;
    admin.ok(Method::PUT, &user("/role"), Some(json!({ "role": "user" }))).await;
    assert_eq!(admin.call(Method::DELETE, &user(""), None).await.status(), StatusCode::NO_CONTENT);
    // Refused and failed requests are not actions taken.
    assert_eq!(
        admin.post(&format!("/admin/users/{}/disable", admin.admin_id)).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(admin.get(&user("")).await.status(), StatusCode::NOT_FOUND);

    let log = admin.audit_log("").await;
    let entries = log["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|entry| entry["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "delete_user",
            "revoke_admin",
            "grant_admin",
            "revoke_sessions",
            "enable_user",
            "disable_user",
            "view_user",
            "list_users"
        ]
    );
    for entry in entries {
        assert_eq!(entry["actor_id"], json!(admin.admin_id));
        assert_eq!(entry["actor_email"], json!(admin.admin_email));
        assert_eq!(entry["ip"], "127.0.0.1");
        assert!(entry["id"].is_string() && entry["at"].is_string(), "{entry}");
    }
    for entry in &entries[..7] {
        assert_eq!(
            (entry["target_id"].clone(), entry["target_email"].clone()),
            (json!(target), json!(target_email))
        );
    }
    assert_eq!(
        (entries[7]["target_id"].clone(), entries[7]["target_email"].clone()),
        (Value::Null, Value::Null)
    );
    let text = log.to_string();
    for secret in [token(&tokens, "access_token"), token(&tokens, "refresh_token"), admin.admin_token.clone()]
    {
        assert!(!text.contains(&secret), "no token in the audit log");
    }

    // Reading the log is recorded too; pages follow the cursor.
    let first = admin.audit_log("?limit=4").await;
    let page: Vec<&str> =
        first["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(page, ["view_audit_log", "delete_user", "revoke_admin", "grant_admin"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = admin.audit_log(&format!("?limit=4&cursor={cursor}")).await;
    let page: Vec<&str> =
        second["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(page, ["revoke_sessions", "enable_user", "disable_user", "view_user"]);
    let cursor = second["next_cursor"].as_str().unwrap();
    let last = admin.audit_log(&format!("?limit=4&cursor={cursor}")).await;
    let page: Vec<&str> =
        last["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(page, ["list_users"]);
    assert_eq!(last["next_cursor"], Value::Null);
}
