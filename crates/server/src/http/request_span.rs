//! The span every request is logged in.

/// The request span of [`tracing_actix_web::TracingLogger`]: the default fields
/// (method, route, status, client, `request_id`), but only server errors (5xx) are
/// logged as errors. A 4xx is the client's answer, not the server's trouble: logging each
/// at WARN with its details would flood the log under a password-guessing attack, and
/// the problem detail is already in the response.
#[derive(Debug)]
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let span = tracing_actix_web::DefaultRootSpanBuilder::on_request_start(request);
        if let Some(target) = without_session_ids(request.uri().path()) {
            span.record("http.target", target);
        }
        span
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        match outcome {
            Ok(response) if !response.status().is_server_error() => {
                span.record("http.status_code", i32::from(response.status().as_u16()));
                span.record("otel.status_code", "OK");
            }
            _ => tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome),
        }
    }
}

/// The path with the session id of `.../sessions/{id}` replaced, or `None` when it names
/// none. A session id is what a forged refresh token would name, so it stays out of the
/// request log (the route, `http.route`, still says which endpoint was called).
fn without_session_ids(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let named = segments.windows(2).any(|pair| pair[0] == "sessions" && !pair[1].is_empty());
    named.then(|| {
        let mut previous = "";
        let kept: Vec<&str> = segments
            .iter()
            .map(|segment| {
                let shown = if previous == "sessions" && !segment.is_empty() { "{id}" } else { segment };
                previous = segment;
                shown
            })
            .collect();
        kept.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::without_session_ids;

    #[test]
    fn session_ids_stay_out_of_the_logged_path() {
        let id = "0192f7d2c1a87b3e9f00aa11bb22cc33";
        assert_eq!(without_session_ids(&format!("/auth/sessions/{id}")).unwrap(), "/auth/sessions/{id}");
        assert_eq!(
            without_session_ids(&format!("/api/auth/sessions/{id}")).unwrap(),
            "/api/auth/sessions/{id}"
        );
        assert_eq!(without_session_ids("/auth/sessions"), None);
        assert_eq!(without_session_ids("/auth/me"), None);
    }
}
