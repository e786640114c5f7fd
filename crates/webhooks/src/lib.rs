#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::time::Duration;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::ports::{WebhookRequest, WebhookSender};
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use reqwest::redirect::Policy;

/// Why the webhook transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum WebhookSetupError {
    /// An endpoint is not an absolute `http` or `https` URL with a host.
    #[error("webhook endpoint {0:?} is not an http(s) URL")]
    InvalidEndpoint(String),
    /// The HTTP client could not be built.
    #[error("the webhook HTTP client cannot be built: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// The endpoints of a comma-separated list (`WEBHOOK_URLS`), each an absolute `http`
/// or `https` URL; blanks around commas and empty items are ignored.
///
/// # Errors
/// [`WebhookSetupError::InvalidEndpoint`] naming the first item that is not one.
pub fn parse_endpoints(list: &str) -> Result<Vec<String>, WebhookSetupError> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| match Url::parse(item) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Ok(url.to_string())
            }
            _ => Err(WebhookSetupError::InvalidEndpoint(item.to_owned())),
        })
        .collect()
}

/// A [`WebhookSender`] over reqwest: follows no redirects (a redirect could send the
/// event elsewhere) and gives up on a request after its time-out.
#[derive(Debug, Clone)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
}

impl HttpWebhookSender {
    /// A sender whose requests time out after `timeout` (connecting included).
    ///
    /// # Errors
    /// [`WebhookSetupError::HttpClient`] when the client cannot be built.
    pub fn new(timeout: Duration) -> Result<Self, WebhookSetupError> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("otp-auth-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(WebhookSetupError::HttpClient)?;
        Ok(Self { client })
    }
}

/// A request failure: unreachable or too slow is `Unavailable`, anything else `Failed`.
fn transport_error(error: reqwest::Error) -> PortError {
    if error.is_connect() || error.is_timeout() {
        PortError::unavailable(error)
    } else {
        PortError::failed(error)
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, request: &WebhookRequest) -> Result<(), PortError> {
        let response = self
            .client
            .post(&request.endpoint)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &request.id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", &request.signature)
            .body(request.body.clone())
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(PortError::failed(format!("the endpoint answered {status}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    fn request(endpoint: String) -> WebhookRequest {
        WebhookRequest {
            endpoint,
            id: "evt_1".into(),
            timestamp: 1_614_265_330,
            signature: "v1,c2ln".into(),
            body: r#"{"type":"user.created"}"#.into(),
        }
    }

    #[tokio::test]
    async fn posts_the_body_with_the_three_headers_and_accepts_2xx() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/hooks"))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        let sender = HttpWebhookSender::new(Duration::from_secs(5)).unwrap();
        sender.send(&request(format!("{}/hooks", server.uri()))).await.unwrap();
        let received = server.received_requests().await.unwrap();
        let header = |name: &str| received[0].headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(header("webhook-id"), "evt_1");
        assert_eq!(header("webhook-timestamp"), "1614265330");
        // (wiremock's header matcher splits values at commas, so this is read back.)
        assert_eq!(header("webhook-signature"), "v1,c2ln");
        assert_eq!(received[0].body, br#"{"type":"user.created"}"#);
    }

    #[tokio::test]
    async fn other_statuses_redirects_and_dead_endpoints_are_errors() {
        let server = MockServer::start().await;
        Mock::given(path("/fail")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
        Mock::given(path("/moved"))
            .respond_with(ResponseTemplate::new(307).insert_header("location", "/ok"))
            .mount(&server)
            .await;
        Mock::given(path("/ok")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
        let sender = HttpWebhookSender::new(Duration::from_secs(5)).unwrap();
        let failed = sender.send(&request(format!("{}/fail", server.uri()))).await;
        assert!(matches!(failed, Err(PortError::Failed(_))), "{failed:?}");
        let moved = sender.send(&request(format!("{}/moved", server.uri()))).await;
        assert!(matches!(moved, Err(PortError::Failed(_))), "{moved:?}");
        // A port nobody listens on (wiremock keeps its servers running in a pool).
        let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let dead = sender.send(&request(format!("http://{address}/ok"))).await;
        assert!(matches!(dead, Err(PortError::Unavailable(_))), "{dead:?}");
    }

    #[test]
    fn endpoints_are_http_urls() {
        let endpoints = parse_endpoints(" https://a.example/x , http://127.0.0.1:8080/hook,").unwrap();
        assert_eq!(endpoints, ["https://a.example/x", "http://127.0.0.1:8080/hook"]);
        assert!(parse_endpoints("").unwrap().is_empty());
        for bad in ["ftp://a.example/", "/relative", "https://", "not a url"] {
            assert!(parse_endpoints(bad).is_err(), "{bad}");
        }
    }
}
