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
        tracing_actix_web::DefaultRootSpanBuilder::on_request_start(request)
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
