//! Problem responses for the OpenAPI document, made from the code table: a route names
//! the codes it can answer, and gets one response per status, each a `Problem`
//! document whose description lists those codes (with `Retry-After` on 429,
//! `WWW-Authenticate` on 401, `Allow` on 405).
//!
//! ```ignore
//! problem_responses!(SendCodeProblems = [ValidationFailed, OtpCooldown, RateLimited, Unavailable]);
//!
//! #[utoipa::path(responses((status = 202, body = CodeSent), SendCodeProblems))]
//! ```

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};

use super::PROBLEM_JSON;
use super::code::{ProblemCode, by_status};

/// The codes every route with a JSON body can answer before its handler runs.
pub const JSON_BODY: &[ProblemCode] =
    &[ProblemCode::ValidationFailed, ProblemCode::PayloadTooLarge, ProblemCode::UnsupportedMediaType];

/// The responses of `codes`, one per status, plus a 400 `validation_failed` when the
/// set includes JSON-body failures (a body that is not JSON at all).
pub fn responses(codes: &[ProblemCode]) -> BTreeMap<String, RefOr<Response>> {
    let mut responses: BTreeMap<String, RefOr<Response>> = by_status(codes)
        .into_iter()
        .map(|(status, codes)| {
            (status.as_u16().to_string(), problem_response(status.as_u16(), &codes, None).into())
        })
        .collect();
    if codes.contains(&ProblemCode::UnsupportedMediaType) {
        let note = "`validation_failed`: the body is not JSON at all.";
        let merged = match responses.remove("400") {
            Some(RefOr::T(existing)) => {
                let mut response = existing;
                response.description = format!("{}\n- {note}", response.description);
                response
            }
            _ => problem_response(400, &[], Some(note)),
        };
        responses.insert("400".to_owned(), merged.into());
    }
    responses
}

fn problem_response(status: u16, codes: &[ProblemCode], extra: Option<&str>) -> Response {
    let mut lines: Vec<String> =
        codes.iter().map(|code| format!("- `{}`: {}", code.as_str(), code.meaning())).collect();
    lines.extend(extra.map(|note| format!("- {note}")));
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let mut response = ResponseBuilder::new().description(lines.join("\n")).content(PROBLEM_JSON, content);
    let header = |description: &str| {
        HeaderBuilder::new()
            .schema(Some(Object::with_type(Type::String)))
            .description(Some(description))
            .build()
    };
    response = match status {
        429 => response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::Integer)))
                .description(Some("Seconds to wait before trying again."))
                .build(),
        ),
        401 => response
            .header("WWW-Authenticate", header(
                "`Bearer error=\"invalid_token\"` for `token_invalid`; `Bearer realm=\"introspection\"` for `service_credential_invalid`.",
            )),
        405 => response.header("Allow", header("The methods the path answers.")),
        _ => response,
    };
    response.build()
}

/// Declares a type whose OpenAPI responses are the problem responses of the codes
/// listed (by [`ProblemCode`] variant name), for `responses(...)` in `#[utoipa::path]`.
macro_rules! problem_responses {
    ($(#[$meta:meta])* $name:ident = [$($code:ident),+ $(,)?]) => {
        $(#[$meta])*
        pub(crate) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::http::problem::responses::responses(&[
                    $($crate::http::problem::ProblemCode::$code),+
                ])
            }
        }
    };
    ($(#[$meta:meta])* $name:ident = json_body + [$($code:ident),+ $(,)?]) => {
        $(#[$meta])*
        pub(crate) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                let mut codes = $crate::http::problem::responses::JSON_BODY.to_vec();
                codes.extend([$($crate::http::problem::ProblemCode::$code),+]);
                $crate::http::problem::responses::responses(&codes)
            }
        }
    };
}

pub(crate) use problem_responses;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_by_status_with_their_headers() {
        let responses = responses(&[
            ProblemCode::OtpCooldown,
            ProblemCode::RateLimited,
            ProblemCode::TokenInvalid,
            ProblemCode::UnsupportedMediaType,
            ProblemCode::ValidationFailed,
        ]);
        let json = serde_json::to_value(&responses).unwrap();
        let keys: Vec<&String> = responses.keys().collect();
        assert_eq!(keys, ["400", "401", "415", "422", "429"]);
        let limited = &json["429"];
        assert!(limited["description"].as_str().unwrap().contains("`otp_cooldown`"));
        assert!(limited["description"].as_str().unwrap().contains("`rate_limited`"));
        assert!(limited["headers"]["Retry-After"].is_object());
        assert!(json["401"]["headers"]["WWW-Authenticate"].is_object());
        assert_eq!(json["422"]["content"][PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem");
        assert!(json["400"]["description"].as_str().unwrap().contains("not JSON"));
    }
}
