//! The security scenarios of issue 13, over real HTTP. The server sits behind a
//! trusted proxy (`TRUSTED_PROXIES=127.0.0.1`) and each client is told apart as in
//! production: its own forwarded address, user agent and device token.

mod devices;
mod enumeration;
mod guessing;
mod takeover;
mod timing;

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

/// A server that trusts the test's loopback connection as its proxy.
pub async fn spawn_behind_proxy() -> TestApp {
    spawn_behind_proxy_with(|_| {}).await
}

/// As [`spawn_behind_proxy`], with settings changed by `configure`.
pub async fn spawn_behind_proxy_with(configure: impl FnOnce(&mut otp_server::Settings)) -> TestApp {
    spawn_app_with(|settings| {
        settings.trusted_proxies = "127.0.0.1".to_owned();
        configure(settings);
    })
    .await
}

/// One client: a network address, a user agent, and the tokens it keeps.
pub struct Browser<'a> {
    app: &'a TestApp,
    ip: String,
    agent: String,
    /// The device token of its last sign-in, sent as `X-Device-Token`.
    pub device_token: Option<String>,
}

impl<'a> Browser<'a> {
    /// Client number `n`: at `198.51.100.n` (IPv4, 1..=254) with agent `Browser n`.
    pub fn new(app: &'a TestApp, n: u8) -> Self {
        Self { app, ip: format!("198.51.100.{n}"), agent: format!("Browser {n}"), device_token: None }
    }

    /// The same client seen from another network (a phone leaving Wi-Fi).
    pub fn moved_to(&self, ip: &str) -> Self {
        Self {
            app: self.app,
            ip: ip.to_owned(),
            agent: self.agent.clone(),
            device_token: self.device_token.clone(),
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        let mut request = self
            .app
            .client
            .post(self.app.url(path))
            .header("x-forwarded-for", &self.ip)
            .header("user-agent", &self.agent)
            .json(body);
        if let Some(token) = &self.device_token {
            request = request.header("x-device-token", token);
        }
        request.send().await.unwrap()
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post("/auth/register", &json!({ "email": email, "password": password })).await
    }

    pub async fn send_otp(&self, email: &str) -> Response {
        self.post("/auth/send-otp", &json!({ "email": email })).await
    }

    pub async fn resend_otp(&self, email: &str) -> Response {
        self.post("/auth/resend-otp", &json!({ "email": email })).await
    }

    pub async fn verify_otp(&self, email: &str, code: &str) -> Response {
        self.post("/auth/verify-otp", &json!({ "email": email, "code": code })).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/auth/login", &json!({ "email": email, "password": password })).await
    }

    /// Enters `code` and keeps the device token of the answer; returns the body.
    pub async fn signed_in_with(&mut self, email: &str, code: &str) -> Value {
        let response = self.verify_otp(email, code).await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        if let Some(token) = body["device_token"].as_str() {
            self.device_token = Some(token.to_owned());
        }
        body
    }
}
