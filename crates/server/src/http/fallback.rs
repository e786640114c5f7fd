//! The answer for requests no route takes.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::openapi::{allowed_methods, openapi_path};
use super::problem::{ApiError, ProblemCode};

/// 405 `method_not_allowed` with the `Allow` header (RFC 9110 §15.5.6) when a route
/// has the path but not the method, else 404 `not_found`.
pub async fn no_route(request: HttpRequest) -> HttpResponse {
    let Some(pattern) = request.resource_map().match_pattern(request.path()) else {
        return ApiError::new(ProblemCode::NotFound, "no such route").error_response();
    };
    let mut response =
        ApiError::new(ProblemCode::MethodNotAllowed, "method not allowed on this route").error_response();
    if let Some(allow) = allowed_methods().get(&openapi_path(&pattern))
        && let Ok(allow) = HeaderValue::from_str(allow)
    {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

#[cfg(test)]
mod tests {
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, web};

    use super::*;
    use crate::http::routes;

    async fn answer(method: &str, path: &str) -> actix_web::dev::ServiceResponse {
        let (state, _) = crate::http::testing::memory_state("", None);
        let app = init_service(
            App::new().app_data(state).configure(routes::configure).default_service(web::to(no_route)),
        )
        .await;
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        call_service(&app, TestRequest::default().method(method).uri(path).to_request()).await
    }

    #[actix_web::test]
    async fn a_wrong_method_is_told_which_methods_the_path_takes() {
        for (method, path, allow) in [
            ("TRACE", "/auth/send-otp", "POST"),
            ("GET", "/api/auth/verify-otp", "POST"),
            ("DELETE", "/health", "GET, HEAD"),
            ("PUT", "/docs/swagger-ui.css", "GET"),
        ] {
            let response = answer(method, path).await;
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(response.headers().get(header::ALLOW).unwrap(), allow, "{method} {path}");
        }
    }

    #[actix_web::test]
    async fn an_unknown_path_is_not_found_without_allow() {
        let response = answer("GET", "/no/such/route").await;
        assert_eq!(response.status(), 404);
        assert!(response.headers().get(header::ALLOW).is_none());
    }
}
