//! The API description: the OpenAPI document and Swagger UI, served from the binary.

#[cfg(feature = "swagger-ui")]
use std::sync::{Arc, LazyLock};

#[cfg(feature = "swagger-ui")]
use actix_web::http::header::HeaderValue;
use actix_web::http::header::{self};
use actix_web::{HttpResponse, ResponseError, get, web};
#[cfg(feature = "swagger-ui")]
use utoipa_swagger_ui::Config;

use super::openapi::document_json;
use super::problem::responses::problem_responses;
use super::problem::{ApiError, ProblemCode};
use super::state::AppState;

problem_responses!(
    /// A file this server does not have.
    FileProblems = [NotFound]
);

/// Swagger UI's Content-Security-Policy. It renders with inline `style` attributes
/// (React) and `data:` images, so those are allowed; scripts and requests stay on this
/// server.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Swagger UI's settings: the document from this server, and no online validator
/// badge (it would call a third-party service).
#[cfg(feature = "swagger-ui")]
static SWAGGER: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(Config::new(["/openapi.json"]).validator_url("none").try_it_out_enabled(false))
});

/// The OpenAPI 3.1 document of every route, generated from the code.
#[utoipa::path(
    tag = "documentation",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
pub(crate) async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    match document_json(state.sign_in.code_length()) {
        Ok(json) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .content_type("application/json")
            .body(json.to_string()),
        Err(error) => {
            tracing::error!(%error, "the OpenAPI document could not be serialised");
            ApiError::new(ProblemCode::Internal, "an unexpected error occurred").error_response()
        }
    }
}

/// Sends `/docs` to `/docs/`, where Swagger UI's relative links work.
#[utoipa::path(
    tag = "documentation",
    responses((status = 308, description = "Redirect to `/docs/`.", headers(("Location" = String))))
)]
#[get("/docs")]
pub(crate) async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
}

/// Swagger UI (vendored in the binary; it loads nothing from elsewhere). A build
/// without the `swagger-ui` feature answers 404 here.
#[utoipa::path(
    tag = "documentation",
    params(("file" = String, Path, description = "A Swagger UI file; empty for its page")),
    responses(
        (status = 200, description = "Swagger UI's page or one of its files.", content(
            (String = "text/html"), (String = "text/css"), (String = "text/javascript"),
            (String = "application/javascript"), (String = "image/png"),
        )),
        FileProblems,
    )
)]
#[get("/docs/{file:.*}")]
pub(crate) async fn swagger_ui(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve_swagger_ui(&file)
}

#[cfg(not(feature = "swagger-ui"))]
fn serve_swagger_ui(_file: &str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ProblemCode::NotFound, "Swagger UI is not in this build (feature `swagger-ui`)"))
}

#[cfg(feature = "swagger-ui")]
fn serve_swagger_ui(file: &str) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::new(ProblemCode::NotFound, "no such file");
    let served = utoipa_swagger_ui::serve(file, SWAGGER.clone()).map_err(|error| {
        tracing::error!(%error, "Swagger UI could not be served");
        ApiError::new(ProblemCode::Internal, "an unexpected error occurred")
    })?;
    let swagger_file = served.ok_or_else(not_found)?;
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_CSP))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"));
    if swagger_file.gzpipped {
        response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
    }
    Ok(response.content_type(swagger_file.content_type).body(swagger_file.bytes.into_owned()))
}
