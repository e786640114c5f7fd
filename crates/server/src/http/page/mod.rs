//! The web page at `/` (and at `/oauth/callback`, where OAuth providers send the
//! browser back), and its assets.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};

mod assets;

use otp_core::domain::Locale;

use self::assets::{PAGE, PageTexts};
use super::docs::FileProblems;
use super::extract::requested_locale;
use super::operations::types::Health;
use super::problem::{ApiError, ProblemCode};
use super::state::AppState;

/// The page's Content-Security-Policy: scripts, styles, images and API calls from this
/// server only; no inline code, no plugins, no framing, no `<base>`, forms post nowhere
/// else.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn matches_etag(request: &HttpRequest, etag: &str) -> bool {
    request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|candidate| candidate.trim() == etag || candidate.trim() == "*")
}

/// The page's language: `?lang=` when the message files serve it (the page asks for
/// the account's stored language this way), else the request's `Accept-Language`, else
/// `DEFAULT_LOCALE`.
fn page_texts(request: &HttpRequest, state: &AppState) -> PageTexts {
    let Some(renderer) = state.mail.as_ref() else { return PageTexts::default() };
    let asked = web::Query::<LangQuery>::from_query(request.query_string())
        .ok()
        .and_then(|query| query.into_inner().lang)
        .and_then(|lang| Locale::parse(&lang).ok())
        .filter(|locale| renderer.serves(locale.as_str()).is_some());
    let locale = asked.or_else(|| requested_locale(request, state));
    match renderer.page_texts(locale.as_ref()) {
        Ok((language, texts)) => PageTexts {
            language,
            product: renderer.product().to_owned(),
            texts,
            languages: renderer.languages(),
        },
        Err(error) => {
            tracing::error!(%error, "the page's texts do not render");
            PageTexts::default()
        }
    }
}

#[derive(serde::Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn html_page(request: &HttpRequest, state: &AppState) -> HttpResponse {
    let (html, etag) = PAGE.html(state.sign_in.code_length(), &page_texts(request, state));
    let unchanged = matches_etag(request, &etag);
    let mut response = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, etag))
        .insert_header((header::VARY, "Accept-Language"))
        .insert_header(("Cross-Origin-Opener-Policy", "same-origin"));
    if unchanged { response.finish() } else { response.content_type("text/html; charset=utf-8").body(html) }
}

/// Whether the request asks for JSON rather than a page: its `Accept` names
/// `application/json` and not `text/html` (a browser's names `text/html`).
fn wants_json(request: &HttpRequest) -> bool {
    let accept: Vec<&str> = request
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.split(';').next().unwrap_or_default().trim())
        .collect();
    accept.iter().any(|kind| kind.eq_ignore_ascii_case("application/json"))
        && !accept.iter().any(|kind| kind.eq_ignore_ascii_case("text/html"))
}

/// The web page: passwordless sign-in, registration, password log-in and reset, and
/// the signed-in view. Revalidated on every load (`no-cache` with an `ETag`). A request
/// that accepts `application/json` and not `text/html` gets the `/health` answer
/// instead, as the first Python service's health check expects.
#[utoipa::path(
    tag = "web page",
    responses(
        (status = 200, description = "The page; or, to `Accept: application/json`, the health answer.",
            content((String = "text/html"), (Health = "application/json"))),
        (status = 304, description = "The page has not changed since the `ETag` sent in `If-None-Match`."),
    )
)]
#[get("/")]
pub(crate) async fn index(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if wants_json(&request) {
        return HttpResponse::Ok().insert_header((header::VARY, "Accept")).json(Health { status: "ok" });
    }
    let mut response = html_page(&request, &state);
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept, Accept-Language"));
    response
}

/// The same page, where an OAuth provider sends the browser back; it completes the
/// sign-in with the `code` and `state` in its query string.
#[utoipa::path(
    tag = "web page",
    params(
        ("code" = Option<String>, Query, description = "The provider's authorization code"),
        ("state" = Option<String>, Query, description = "The state from `oauth/{provider}/start`"),
    ),
    responses(
        (status = 200, description = "The page.", content_type = "text/html", body = String),
        (status = 304, description = "The page has not changed since the `ETag` sent in `If-None-Match`."),
    )
)]
#[get("/oauth/callback")]
pub(crate) async fn oauth_callback(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    html_page(&request, &state)
}

/// The page's script, style sheet and icon, under names that carry a digest of their
/// content, so they are cached for a year.
#[utoipa::path(
    tag = "web page",
    params(("name" = String, Path, description = "A file name from the page, such as `app.1a2b3c4d5e6f.js`")),
    responses(
        (status = 200, description = "The file: JavaScript, CSS or SVG.", content(
            (String = "text/javascript"), (String = "text/css"), (String = "image/svg+xml"),
        )),
        (status = 304, description = "Unchanged since the `ETag` sent in `If-None-Match`."),
        FileProblems,
    )
)]
#[get("/assets/{name}")]
pub(crate) async fn asset(request: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let asset = PAGE.asset(&name).ok_or_else(|| ApiError::new(ProblemCode::NotFound, "no such asset"))?;
    let unchanged = matches_etag(&request, &asset.etag);
    let mut response = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, asset.etag.as_str()));
    if unchanged {
        return Ok(response.finish());
    }
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)));
    Ok(response.body(asset.body))
}
