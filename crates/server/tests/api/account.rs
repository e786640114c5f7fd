//! Account self-service over HTTP: change password, change email (with its undo
//! link), delete my account, sign out everywhere else, linked identities, my data.

use otp_core::domain::MailKind;
use otp_oauth::testing::FakePerson;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_problem, email, spawn_app, token, unique_email};

const NEW_PASSWORD: &str = "violet tractor umbrella 93";

impl TestApp {
    async fn post_json_with_token(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).bearer_auth(token).json(body).send().await.unwrap()
    }

    async fn delete_json_with_token(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client.delete(self.url(path)).bearer_auth(token).json(body).send().await.unwrap()
    }

    /// Asks for a code confirming `action` and returns it.
    async fn account_code(&self, access: &str, address: &str, action: &str) -> String {
        let response = self.post_json_with_token("/auth/me/code", access, &json!({ "action": action })).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        self.last_code(address)
    }

    fn last_kind_to(&self, address: &str) -> MailKind {
        self.mailer.last_to(&email(address)).expect("a message was mailed").kind
    }
}

/// Two sessions of one registered account: (first access token, second access token).
async fn two_sessions(app: &TestApp, address: &str) -> (String, String) {
    let first = app.register_verified(address).await;
    app.clock.advance(std::time::Duration::from_secs(1));
    let second = app.login(address, PASSWORD).await;
    assert_eq!(second.status(), StatusCode::OK);
    let second: Value = second.json().await.unwrap();
    (token(&first, "access_token"), token(&second, "access_token"))
}

#[tokio::test]
async fn changing_the_password_needs_the_old_one_ends_other_sessions_and_mails_a_notice() {
    let app = spawn_app().await;
    let address = unique_email();
    let (other, current) = two_sessions(&app, &address).await;

    let bare = json!({ "new_password": NEW_PASSWORD });
    let bare = app.post_json_with_token("/auth/password/change", &current, &bare).await;
    assert_problem(bare, StatusCode::FORBIDDEN, "confirmation_required").await;
    let wrong = json!({ "current_password": "not the password", "new_password": NEW_PASSWORD });
    let wrong = app.post_json_with_token("/auth/password/change", &current, &wrong).await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let weak = json!({ "current_password": PASSWORD, "new_password": "password1" });
    let weak = app.post_json_with_token("/auth/password/change", &current, &weak).await;
    assert_problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "password_too_weak").await;
    let code_instead = json!({ "code": "123456", "new_password": NEW_PASSWORD });
    let code_instead = app.post_json_with_token("/auth/password/change", &current, &code_instead).await;
    assert_problem(code_instead, StatusCode::FORBIDDEN, "confirmation_required").await;
    assert_eq!(app.get_with_token("/auth/me", &other).await.status(), StatusCode::OK, "nothing changed yet");

    let body = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let changed = app.post_json_with_token("/auth/password/change", &current, &body).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["sessions_ended"], 1);

    assert_problem(app.get_with_token("/auth/me", &other).await, StatusCode::UNAUTHORIZED, "token_invalid")
        .await;
    assert_eq!(app.get_with_token("/auth/me", &current).await.status(), StatusCode::OK);
    assert_eq!(app.last_kind_to(&address), MailKind::PasswordChanged);
    assert_problem(app.login(&address, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials")
        .await;
    assert!(app.login(&address, NEW_PASSWORD).await.status().is_success());
}

#[tokio::test]
async fn an_account_without_a_password_sets_one_with_a_change_password_code() {
    let app = spawn_app().await;
    let address = unique_email();
    let access = token(&app.sign_in(&address).await, "access_token");

    let with_password = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let refused = app.post_json_with_token("/auth/password/change", &access, &with_password).await;
    assert_problem(refused, StatusCode::FORBIDDEN, "confirmation_required").await;

    // A code for another change does not confirm this one.
    app.wait_out_cooldown();
    let delete_code = app.account_code(&access, &address, "delete_account").await;
    let body = json!({ "code": delete_code, "new_password": NEW_PASSWORD });
    let refused = app.post_json_with_token("/auth/password/change", &access, &body).await;
    assert_problem(refused, StatusCode::BAD_REQUEST, "otp_invalid").await;

    let code = app.account_code(&access, &address, "change_password").await;
    assert!(matches!(app.last_kind_to(&address), MailKind::AccountActionCode { .. }));
    let body = json!({ "code": code, "new_password": NEW_PASSWORD });
    let changed = app.post_json_with_token("/auth/password/change", &access, &body).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let again = app.post_json_with_token("/auth/password/change", &access, &body).await;
    assert_problem(again, StatusCode::FORBIDDEN, "confirmation_required").await;
    assert!(app.login(&address, NEW_PASSWORD).await.status().is_success());
}

/// Starts an address change, confirmed with the password.
async fn start_email_change(app: &TestApp, access: &str, new_address: &str) -> Response {
    let body = json!({ "new_email": new_address, "password": PASSWORD });
    app.post_json_with_token("/auth/email/change", access, &body).await
}

#[tokio::test]
async fn changing_the_address_moves_sign_in_to_the_new_one_and_mails_the_old_an_undo_link() {
    let app = spawn_app().await;
    let (old, new) = (unique_email(), unique_email());
    let registered = app.register_verified(&old).await;
    let access = token(&registered, "access_token");

    let bare = app.post_json_with_token("/auth/email/change", &access, &json!({ "new_email": new })).await;
    assert_problem(bare, StatusCode::FORBIDDEN, "confirmation_required").await;
    let started = start_email_change(&app, &access, &new).await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    assert!(matches!(app.last_kind_to(&new), MailKind::NewEmailCode { .. }));
    let code = app.last_code(&new);

    let wrong = json!({ "new_email": new, "code": if code == "000000" { "111111" } else { "000000" } });
    let wrong = app.post_json_with_token("/auth/email/change/confirm", &access, &wrong).await;
    assert_problem(wrong, StatusCode::BAD_REQUEST, "otp_invalid").await;
    let confirm = json!({ "new_email": new, "code": code });
    let confirmed = app.post_json_with_token("/auth/email/change/confirm", &access, &confirm).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let confirmed: Value = confirmed.json().await.unwrap();
    assert_eq!(confirmed["user"]["email"], new.as_str());

    let MailKind::EmailChanged { new_email_masked, undo_link } = app.last_kind_to(&old) else {
        panic!("the old address gets the change notice");
    };
    assert!(!new_email_masked.contains(new.split('@').next().unwrap()), "{new_email_masked}");
    assert!(new_email_masked.ends_with(".com") && new_email_masked.contains("***"));
    assert!(undo_link.expose().contains("#undo-email="));

    // The new address signs in to the same account; the old one no longer does.
    let by_new = app.sign_in(&new).await;
    assert_eq!(by_new["user"]["id"], registered["user"]["id"]);
    assert_problem(app.login(&old, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert!(app.login(&new, PASSWORD).await.status().is_success());
    app.wait_out_cooldown();
    let by_old = app.sign_in(&old).await;
    assert_ne!(by_old["user"]["id"], registered["user"]["id"], "a code to the old address is a new account");
}

#[tokio::test]
async fn the_undo_link_moves_the_account_back_once_and_ends_its_sessions() {
    let app = spawn_app().await;
    let (old, new) = (unique_email(), unique_email());
    let registered = app.register_verified(&old).await;
    let access = token(&registered, "access_token");
    assert_eq!(start_email_change(&app, &access, &new).await.status(), StatusCode::ACCEPTED);
    let confirm = json!({ "new_email": new, "code": app.last_code(&new) });
    assert_eq!(
        app.post_json_with_token("/auth/email/change/confirm", &access, &confirm).await.status(),
        StatusCode::OK
    );
    let MailKind::EmailChanged { undo_link, .. } = app.last_kind_to(&old) else { panic!("no notice") };
    let undo_token = undo_link.expose().split("#undo-email=").nth(1).unwrap().to_owned();

    let forged = format!("{}x", &undo_token[..undo_token.len() - 1]);
    let forged = app.post("/auth/email/undo", &json!({ "token": forged })).await;
    assert_problem(forged, StatusCode::BAD_REQUEST, "undo_invalid").await;
    // Whoever holds the session (and knows the account id) cannot spend the owner's
    // link with wrong secrets, nor replace it with a second change.
    let (id, rest) = undo_token.split_once('.').unwrap();
    let flipped = if rest.starts_with('A') { 'B' } else { 'A' };
    let wrong_secret = format!("{id}.{flipped}{}", &rest[1..]);
    for _ in 0..8 {
        let refused = app.post("/auth/email/undo", &json!({ "token": wrong_secret })).await;
        assert_problem(refused, StatusCode::BAD_REQUEST, "undo_invalid").await;
    }
    let third = unique_email();
    let started = start_email_change(&app, &access, &third).await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let confirm = json!({ "new_email": third, "code": app.last_code(&third) });
    assert_eq!(
        app.post_json_with_token("/auth/email/change/confirm", &access, &confirm).await.status(),
        StatusCode::OK
    );

    let undone = app.post("/auth/email/undo", &json!({ "token": undo_token })).await;
    assert_eq!(undone.status(), StatusCode::OK);
    assert_problem(app.get_with_token("/auth/me", &access).await, StatusCode::UNAUTHORIZED, "token_invalid")
        .await;
    app.wait_out_cooldown();
    let back = app.sign_in(&old).await;
    assert_eq!(back["user"]["id"], registered["user"]["id"]);
    let again = app.post("/auth/email/undo", &json!({ "token": undo_token })).await;
    assert_problem(again, StatusCode::BAD_REQUEST, "undo_invalid").await;
}

#[tokio::test]
async fn an_address_of_another_account_gets_a_notice_and_the_answer_does_not_tell() {
    let app = spawn_app().await;
    let (ann, bob, free) = (unique_email(), unique_email(), unique_email());
    let access = token(&app.register_verified(&ann).await, "access_token");
    app.sign_in(&bob).await;

    let taken = start_email_change(&app, &access, &bob).await;
    let (taken_status, taken_body) = (taken.status(), taken.text().await.unwrap());
    assert_eq!(app.last_kind_to(&bob), MailKind::NewEmailTaken);
    let open = start_email_change(&app, &access, &free).await;
    assert_eq!((taken_status, taken_body), (open.status(), open.text().await.unwrap()));
    assert!(matches!(app.last_kind_to(&free), MailKind::NewEmailCode { .. }));

    // No code went to bob for the change, so none confirms it.
    let confirm = json!({ "new_email": bob, "code": app.last_code(&bob) });
    let refused = app.post_json_with_token("/auth/email/change/confirm", &access, &confirm).await;
    assert_problem(refused, StatusCode::BAD_REQUEST, "otp_invalid").await;
}

#[tokio::test]
async fn signing_out_everywhere_else_keeps_only_the_callers_session() {
    let app = spawn_app().await;
    let address = unique_email();
    let (other, current) = two_sessions(&app, &address).await;
    let response = app.post_with_token("/auth/sessions/revoke-others", &current).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["sessions_ended"], 1);
    assert_problem(app.get_with_token("/auth/me", &other).await, StatusCode::UNAUTHORIZED, "token_invalid")
        .await;
    let listed: Value = app.get_with_token("/auth/sessions", &current).await.json().await.unwrap();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(listed["sessions"][0]["current"], true);
}

#[tokio::test]
async fn deleting_the_account_needs_a_confirmation_ends_sessions_at_once_and_frees_the_address() {
    let app = spawn_app().await;
    let address = unique_email();
    let (other, current) = two_sessions(&app, &address).await;

    let export = app.get_with_token("/auth/me/export", &current).await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(export.headers()["cache-control"], "no-store");
    let export: Value = export.json().await.unwrap();
    assert_eq!(export["account"]["email"], address.as_str());
    assert_eq!(export["sessions"].as_array().unwrap().len(), 2);
    assert!(!export["devices"].as_array().unwrap().is_empty());
    assert!(export["identities"].as_array().unwrap().is_empty());
    assert!(export["audit_entries"].as_array().is_some());

    let bare = app.delete_json_with_token("/auth/me", &current, &json!({})).await;
    assert_problem(bare, StatusCode::FORBIDDEN, "confirmation_required").await;
    let wrong = app.delete_json_with_token("/auth/me", &current, &json!({ "password": "nope nope" })).await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let deleted = app.delete_json_with_token("/auth/me", &current, &json!({ "password": PASSWORD })).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.last_kind_to(&address), MailKind::AccountDeleted);

    for access in [&current, &other] {
        assert_problem(
            app.get_with_token("/auth/me", access).await,
            StatusCode::UNAUTHORIZED,
            "token_invalid",
        )
        .await;
    }
    assert_problem(app.login(&address, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials")
        .await;
    app.wait_out_cooldown();
    let again = app.register_verified(&address).await;
    assert_ne!(again["user"]["id"], export["account"]["id"]);
}

#[tokio::test]
async fn an_account_without_a_password_is_deleted_with_a_delete_account_code() {
    let app = spawn_app().await;
    let address = unique_email();
    let access = token(&app.sign_in(&address).await, "access_token");
    app.wait_out_cooldown();
    let code = app.account_code(&access, &address, "delete_account").await;
    let deleted = app.delete_json_with_token("/auth/me", &access, &json!({ "code": code })).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get_with_token("/auth/me", &access).await, StatusCode::UNAUTHORIZED, "token_invalid")
        .await;
}

#[tokio::test]
async fn unlinking_is_refused_for_the_last_way_to_sign_in_and_allowed_otherwise() {
    let oauth = crate::oauth::spawn().await;
    let address = unique_email();
    let person = FakePerson::random(&address);
    let created = oauth.signed_in("google", &person).await;
    let access = token(&created, "access_token");

    let listed = oauth.app.get_with_token("/auth/identities", &access).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["identities"][0]["provider"], "google");
    assert_eq!(listed["identities"][0]["email"], address.as_str());

    // Provider-only, no password, never a code: google is its only way in.
    let refused = oauth.app.delete_with_token("/auth/identities/google", &access).await;
    assert_problem(refused, StatusCode::CONFLICT, "last_sign_in_method").await;
    let unknown = oauth.app.delete_with_token("/auth/identities/github", &access).await;
    assert_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;

    // With a second provider linked, the first may go.
    let github = oauth.signed_in("github", &FakePerson::random(&address)).await;
    assert_eq!(github["user"]["id"], created["user"]["id"]);
    let unlinked = oauth.app.delete_with_token("/auth/identities/google", &access).await;
    assert_eq!(unlinked.status(), StatusCode::NO_CONTENT);
    let listed: Value = oauth.app.get_with_token("/auth/identities", &access).await.json().await.unwrap();
    assert_eq!(listed["identities"].as_array().unwrap().len(), 1);
    assert_eq!(listed["identities"][0]["provider"], "github");
    let export: Value = oauth.app.get_with_token("/auth/me/export", &access).await.json().await.unwrap();
    assert_eq!(export["identities"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn account_codes_are_rate_limited_and_need_a_session() {
    let app = spawn_app().await;
    let address = unique_email();
    let access = token(&app.sign_in(&address).await, "access_token");
    let anonymous = app.post("/auth/me/code", &json!({ "action": "delete_account" })).await;
    assert_problem(anonymous, StatusCode::UNAUTHORIZED, "token_invalid").await;
    app.wait_out_cooldown();
    let first =
        app.post_json_with_token("/auth/me/code", &access, &json!({ "action": "delete_account" })).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let second =
        app.post_json_with_token("/auth/me/code", &access, &json!({ "action": "delete_account" })).await;
    assert_problem(second, StatusCode::TOO_MANY_REQUESTS, "otp_cooldown").await;
    let compat = app
        .client
        .post(app.url("/api/auth/sessions/revoke-others"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(compat.status(), StatusCode::OK, "the compatibility prefix serves the routes too");
}

#[tokio::test]
async fn a_sign_in_from_a_device_not_used_before_mails_a_notice_with_how_to_end_that_session() {
    let app = spawn_app().await;
    let address = unique_email();
    let notices = |app: &TestApp| {
        app.mailer
            .messages()
            .into_iter()
            .filter(|m| matches!(m.kind, MailKind::NewSignIn { .. }))
            .collect::<Vec<_>>()
    };
    app.sign_in(&address).await;
    app.wait_out_cooldown();
    app.sign_in(&address).await;
    assert!(notices(&app).is_empty(), "neither the first sign-in nor the same browser again");

    app.wait_out_cooldown();
    let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
    let post = |path: &str, body: Value| {
        app.client.post(app.url(path)).header("User-Agent", browser).json(&body).send()
    };
    assert_eq!(
        post("/auth/send-otp", json!({ "email": address })).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let code = app.last_code(&address);
    let signed_in = post("/auth/verify-otp", json!({ "email": address, "code": code })).await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);

    let notices = notices(&app);
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].to, email(&address));
    let MailKind::NewSignIn { device } = &notices[0].kind else { unreachable!() };
    assert!(device.contains("Firefox/140.0") && device.contains("127.0.0.1"), "{device}");
    let renderer = otp_mail::MailRenderer::new(otp_mail::RendererConfig {
        product: "Acme".to_owned(),
        public_url: None,
        default_locale: otp_core::domain::Locale::parse("en").unwrap(),
        template_dir: None,
    })
    .unwrap();
    let text = renderer.render(&notices[0]).unwrap().text;
    assert!(text.contains("end that session") && text.contains("Firefox/140.0"), "{text}");
}
