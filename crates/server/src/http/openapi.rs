//! The OpenAPI 3.1 document, generated from the code.
//!
//! Every route is a handler with `#[utoipa::path]` above its actix-web method macro
//! (`#[post("/send-otp")]`), so its path and method are written once, and
//! [`routes::mount`] mounts it with `utoipa-actix-web`, which adds it to
//! the document under its scope's prefix as it registers it. A route registered any
//! other way would be missing here; a test compares the document with the routes the
//! server actually answers.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use actix_web::App;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, PathItem};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use super::problem::{Problem, ProblemCode};
use super::routes::{self, AUTH_PREFIXES};

/// The tag of the routes repeated under the compatibility prefix `/api/auth`.
pub const COMPATIBILITY_TAG: &str = "compatibility: /api/auth";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "otp-auth",
        description = "Email one-time-code authentication: passwordless sign-in, password accounts \
            confirmed by a code, sign-in with Google and GitHub, PASETO v4 access tokens and rotating \
            refresh tokens.\n\n\
            Every error is an RFC 9457 problem document (`application/problem+json`) with a stable \
            machine `code` (see the `Problem` and `ProblemCode` schemas). 429 answers carry \
            `Retry-After`.\n\n\
            Every `/auth/...` route also answers under `/api/auth/...` with identical behaviour, \
            for clients of the earlier Python services; those copies are listed under the tag \
            `compatibility: /api/auth`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    tags(
        (name = "passwordless", description = "Sign in with a code mailed to the address"),
        (name = "password", description = "Accounts with a password, confirmed by a code"),
        (name = "tokens", description = "Access and refresh tokens, the caller's account, the verifying keys"),
        (name = "sessions", description = "The caller's sessions"),
        (name = "account", description = "The signed-in owner's changes to their own account: password, address, linked identities, export, deletion"),
        (name = "oauth", description = "Sign in with Google or GitHub (authorization code with PKCE)"),
        (name = "health", description = "Probes for load balancers and orchestrators"),
        (name = "web page", description = "The sign-in page served by this server"),
        (name = "documentation", description = "This document and Swagger UI"),
        (name = "compatibility: /api/auth", description = "The `/auth` routes again, under the prefix of the earlier Python services"),
    ),
    components(schemas(Problem, ProblemCode)),
    modifiers(&BearerScheme),
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the Bearer routes name, and the
/// `service_credential` one of token introspection.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("PASETO v4.public")
                    .description(Some("An access token from `verify-otp`, `login` or `refresh`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "service_credential",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A back-end service's credential from `INTROSPECTION_TOKENS`."))
                    .build(),
            ),
        );
    }
}

/// Builds the document: the routes as [`routes::mount`] mounts them, plus the
/// description, tags, error schemas and security scheme above.
pub fn document() -> Document {
    let (_, mut document) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes::mount).split_for_parts();
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in &mut document.paths.paths {
        if let Some(canonical) = compatibility_copy_of(path) {
            tag_as_compatibility_copy(item, &canonical);
        }
        // A handler serving GET and HEAD is one operation under both methods: the HEAD
        // copy gets its own id, as ids must be unique in a document.
        for (method, operation) in operations(item) {
            if let Some(id) = operation.operation_id.as_mut()
                && !operation_ids.insert(id.clone())
            {
                id.push_str(&format!("_{method}"));
                operation_ids.insert(id.clone());
            }
        }
    }
    document
}

/// The operations of a path item, with their methods in lower case.
fn operations(
    item: &mut PathItem,
) -> impl Iterator<Item = (&'static str, &mut utoipa::openapi::path::Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
}

/// The path of an actix-web route pattern as OpenAPI writes it: `{file:.*}` becomes
/// `{file}`.
pub(crate) fn openapi_path(pattern: &str) -> String {
    let mut path = String::new();
    let mut in_regex = false;
    for c in pattern.chars() {
        match c {
            ':' if path.rfind('{') > path.rfind('}') => in_regex = true,
            '}' => {
                in_regex = false;
                path.push(c);
            }
            _ if in_regex => {}
            _ => path.push(c),
        }
    }
    path
}

/// The methods each documented path answers, upper case and comma-separated as the
/// `Allow` header lists them, keyed by the path as the document writes it.
pub(crate) fn allowed_methods() -> &'static HashMap<String, String> {
    static ALLOWED: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
        let mut document = document();
        document
            .paths
            .paths
            .iter_mut()
            .map(|(path, item)| {
                let methods: Vec<String> =
                    operations(item).map(|(method, _)| method.to_uppercase()).collect();
                (path.clone(), methods.join(", "))
            })
            .collect()
    });
    &ALLOWED
}

/// `/auth/...` for a path under one of the other auth prefixes.
fn compatibility_copy_of(path: &str) -> Option<String> {
    AUTH_PREFIXES[1..]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix).filter(|rest| rest.starts_with('/')))
        .map(|rest| format!("{}{rest}", AUTH_PREFIXES[0]))
}

/// Operation ids must be unique in a document: the copies get a `compat_` prefix and
/// their own tag.
fn tag_as_compatibility_copy(item: &mut PathItem, canonical: &str) {
    for (_, operation) in operations(item) {
        operation.operation_id = operation.operation_id.take().map(|id| format!("compat_{id}"));
        operation.tags = Some(vec![COMPATIBILITY_TAG.to_owned()]);
        operation.summary = Some(format!("Same as {canonical}"));
    }
}

/// The pattern the code fields are declared with in the types (any length the
/// settings allow); the document served names the configured length instead.
const ANY_CODE_LENGTH: &str = r"^\s*[0-9]{4,10}\s*$";

/// The document as JSON for a server whose codes have `code_length` digits, so the
/// code fields' pattern says exactly how many. Built once per length per process.
pub fn document_json(code_length: usize) -> Result<Arc<str>, String> {
    static BUILT: LazyLock<Mutex<HashMap<usize, Arc<str>>>> = LazyLock::new(Default::default);
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(json) = built.get(&code_length) {
        return Ok(json.clone());
    }
    let mut value = serde_json::to_value(document()).map_err(|error| error.to_string())?;
    declare_code_length(&mut value, code_length);
    let json: Arc<str> = serde_json::to_string(&value).map_err(|error| error.to_string())?.into();
    built.insert(code_length, json.clone());
    Ok(json)
}

/// Replaces [`ANY_CODE_LENGTH`] with the pattern of exactly `code_length` digits.
fn declare_code_length(value: &mut Value, code_length: usize) {
    match value {
        Value::Object(fields) => {
            if fields.get("pattern").and_then(Value::as_str) == Some(ANY_CODE_LENGTH) {
                let exact = format!(r"^\s*[0-9]{{{code_length}}}\s*$");
                fields.insert("pattern".to_owned(), Value::String(exact));
            }
            fields.values_mut().for_each(|field| declare_code_length(field, code_length));
        }
        Value::Array(items) => items.iter_mut().for_each(|item| declare_code_length(item, code_length)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use actix_web::http::Method;
    use actix_web::test::{TestRequest, call_and_read_body_json, call_service, init_service};
    use actix_web::{HttpRequest, HttpResponse, web};
    use serde_json::Value;

    use super::*;
    use crate::http::fallback;

    /// State with one administrator, and that administrator's access token: the admin
    /// scope answers 401 to every method before routing, so it is probed signed in.
    async fn state_with_an_admin() -> (web::Data<crate::http::state::AppState>, String) {
        use otp_core::{ClientContext, EmailAddress, OtpCode};

        let (state, mailer) = crate::http::testing::memory_state("", Some("root@example.com"));
        let root = EmailAddress::parse("root@example.com").unwrap();
        let client = ClientContext::new(None, None);
        state.sign_in.send_code(&root, &client).await.unwrap();
        let code = OtpCode::parse(&mailer.last_code_for(&root).unwrap(), 6).unwrap();
        let signed_in = state.sign_in.verify_code(&root, &code, &client).await.unwrap();
        (web::Data::new(state), signed_in.access_token)
    }

    /// The string literals of every `patterns: Single("...")` in the router's debug
    /// output: the paths of resources and the prefixes of scopes, unjoined.
    fn pattern_literals(dump: &str) -> Vec<String> {
        const MARK: &str = "patterns: Single(\"";
        dump.match_indices(MARK)
            .map(|(at, _)| {
                let rest = &dump[at + MARK.len()..];
                let mut literal = String::new();
                let mut chars = rest.chars();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => literal.extend(chars.next()),
                        other => literal.push(other),
                    }
                }
                literal
            })
            .collect()
    }

    /// A concrete path for a pattern: every `{name}` or `{name:regex}` becomes a UUID.
    fn example_path(pattern: &str) -> String {
        let mut path = String::new();
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            path.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |end| open + end + 1);
            path.push_str("0190a3c2-6a1e-7cc0-8f00-3f1e2d4c5b6a");
            rest = &rest[close..];
        }
        path.push_str(rest);
        path
    }

    /// Answers with the full pattern of every resource the router holds: each
    /// combination of literals that the router itself resolves back to that pattern.
    async fn registered_patterns(request: HttpRequest) -> HttpResponse {
        let map = request.resource_map();
        let literals = pattern_literals(&format!("{map:?}"));
        let mut registered = BTreeSet::new();
        for prefix in std::iter::once("").chain(literals.iter().map(String::as_str)) {
            for path in &literals {
                let candidate = format!("{prefix}{path}");
                if map.match_pattern(&example_path(&candidate)).as_deref() == Some(candidate.as_str()) {
                    registered.insert(candidate);
                }
            }
        }
        HttpResponse::Ok().json(registered)
    }

    const METHODS: [Method; 8] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
    ];

    fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
        let mut operations = BTreeSet::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in &METHODS {
                let name = method.as_str().to_lowercase();
                if item.get(&name).is_some() {
                    operations.insert((path.clone(), name));
                }
            }
        }
        operations
    }

    #[actix_web::test]
    async fn every_route_the_server_registers_is_in_the_document_and_nothing_else() {
        // The router as routes::configure builds it for the server, asked for its routes.
        let router = init_service(
            App::new().configure(routes::configure).default_service(web::to(registered_patterns)),
        )
        .await;
        let request = TestRequest::get().uri("/a/path/no/route/takes").to_request();
        let patterns: Vec<String> = call_and_read_body_json(&router, request).await;
        for expected in
            ["/", "/health", "/auth/send-otp", "/api/auth/sessions/revoke-others", "/docs/{file:.*}"]
        {
            assert!(patterns.iter().any(|p| p == expected), "{expected} not found in {patterns:?}");
        }

        // Which methods each path answers: anything but the fallback's 404 / 405.
        let (state, admin_token) = state_with_an_admin().await;
        let server = init_service(
            App::new()
                .app_data(state)
                .configure(routes::configure)
                .default_service(web::to(fallback::no_route)),
        )
        .await;
        let mut served = BTreeSet::new();
        for pattern in &patterns {
            for method in &METHODS {
                let mut request = TestRequest::default().method(method.clone()).uri(&example_path(pattern));
                if pattern.starts_with("/admin/") {
                    request = request.insert_header(("Authorization", format!("Bearer {admin_token}")));
                }
                let request = request.to_request();
                let response = call_service(&server, request).await;
                let status = response.status().as_u16();
                let body: Value =
                    serde_json::from_slice(&actix_web::test::read_body(response).await).unwrap_or_default();
                let fallback = status == 405 && body["code"] == "method_not_allowed"
                    || status == 404 && body["detail"] == "no such route";
                if !fallback {
                    served.insert((openapi_path(pattern), method.as_str().to_lowercase()));
                }
            }
        }

        let document = serde_json::to_value(document()).unwrap();
        let documented = documented_operations(&document);
        let undocumented: Vec<_> = served.difference(&documented).collect();
        assert!(undocumented.is_empty(), "served but not in the OpenAPI document: {undocumented:?}");
        let unserved: Vec<_> = documented.difference(&served).collect();
        assert!(unserved.is_empty(), "in the OpenAPI document but not served: {unserved:?}");
    }

    #[test]
    fn the_served_document_gives_the_configured_code_length() {
        for length in [6, 8] {
            let json = document_json(length).unwrap();
            assert!(!json.contains("{4,10}"), "a code pattern still allows any length");
            let document: Value = serde_json::from_str(&json).unwrap();
            let exact = format!(r"^\s*[0-9]{{{length}}}\s*$");
            for schema in ["VerifyRequest", "ResetRequest"] {
                let code = &document["components"]["schemas"][schema]["properties"]["code"];
                assert_eq!(code["pattern"], exact.as_str(), "{schema}.code for {length} digits");
            }
        }
    }

    #[test]
    fn both_auth_prefixes_are_documented_with_unique_operation_ids() {
        let document = serde_json::to_value(document()).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        let paths = document["paths"].as_object().unwrap();
        let mut ids = BTreeSet::new();
        for (path, item) in paths {
            for (_, operation) in item.as_object().unwrap().iter().filter(|(_, value)| value.is_object()) {
                if let Some(id) = operation["operationId"].as_str() {
                    assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
                }
            }
            if let Some(rest) = path.strip_prefix("/auth/") {
                assert!(paths.contains_key(&format!("/api/auth/{rest}")), "/api/auth/{rest} missing");
            }
        }
        assert!(paths.keys().any(|path| path.starts_with("/api/auth/")));
    }

    #[test]
    fn errors_are_described_as_problem_documents_with_their_codes() {
        let document = serde_json::to_value(document()).unwrap();
        let codes = &document["components"]["schemas"]["ProblemCode"]["enum"];
        for code in ["otp_invalid", "rate_limited", "validation_failed", "method_not_allowed"] {
            assert!(codes.as_array().unwrap().iter().any(|known| known == code), "{code} missing");
        }
        let documented: Vec<&str> =
            codes.as_array().unwrap().iter().map(|code| code.as_str().unwrap()).collect();
        let declared: Vec<&str> = ProblemCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(documented, declared, "the document's codes are the declared ones");
        let login = &document["paths"]["/auth/login"]["post"]["responses"];
        assert!(
            login["401"]["content"]["application/problem+json"]["schema"]["$ref"]
                .as_str()
                .is_some_and(|reference| reference.ends_with("/Problem"))
        );
        assert!(login["202"]["content"]["application/json"].is_object(), "the code-required outcome");
        let me = &document["paths"]["/auth/me"]["get"];
        assert_eq!(me["security"][0]["bearer"], serde_json::json!([]));
        assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    }
}
