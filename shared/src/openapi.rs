//! OpenAPI 3.1 documents of the five dialects, built from the very route lists that serve them:
//! a dialect's `routes()` is a `utoipa-axum` router, so a route cannot be added without its
//! entry. The local binary serves each at `GET /openapi/<dialect>.json`; `polyauth openapi`
//! writes them to `openapi/` in the repository, and a test keeps that copy current.

use crate::{dialects, services::Dialect, Auth};
use axum::{extract::Path, http::StatusCode, response::IntoResponse, routing::get, Router};
use utoipa::{
    openapi::{
        header::HeaderBuilder,
        path::{Operation, ParameterIn},
        response::{Response, ResponseBuilder},
        schema::{ObjectBuilder, Type},
        security::{
            ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
        },
        ContentBuilder, Info, OpenApi, PathItem, Ref, RefOr, Required,
    },
    PartialSchema, ToSchema,
};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

/// A dialect's routes with their documentation.
pub type Routes = OpenApiRouter<Auth>;

/// A route list: each entry a `routes!` of a dialect's handlers, or an `alias` of one.
pub fn list(routes: impl IntoIterator<Item = UtoipaMethodRouter<Auth>>) -> Routes {
    routes.into_iter().fold(Routes::new(), Routes::routes)
}

/// A dialect's routes: every request marked as `dialect`'s (its sessions, its security events),
/// and `refusals`, with body `T`, documented on every route as `anywhere` does.
pub fn dialect<T: ToSchema>(routes: Routes, dialect: Dialect, refusals: &[Anywhere]) -> Routes {
    anywhere::<T>(routes.layer(axum::Extension(dialect)), refusals)
}

/// An answer any operation of a dialect may give: its one `Failure` mapping makes it wherever
/// the failure happens (an outage, a limit), so it is documented once per dialect.
pub struct Anywhere {
    pub status: u16,
    pub description: &'static str,
}

/// Adds each of `answers`, with body `T`, to every operation that does not document that
/// status itself. A 429 says when to come back in `Retry-After`.
pub fn anywhere<T: ToSchema>(mut routes: Routes, answers: &[Anywhere]) -> Routes {
    let api = routes.get_openapi_mut();
    let name = T::name();
    let mut schemas = Vec::new();
    T::schemas(&mut schemas);
    let components = api.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
    components.schemas.insert(name.to_string(), T::schema());
    for item in api.paths.paths.values_mut() {
        for op in operations(item) {
            for answer in answers {
                op.responses
                    .responses
                    .entry(answer.status.to_string())
                    .or_insert_with(|| response::<T>(answer).into());
            }
        }
    }
    routes
}

/// A refusal that says when to come back, as routes name it in the description of their HTTP 200
/// answer, and what that answer's `Retry-After` header says with it.
pub struct Wait {
    pub refusal: &'static str,
    pub header: &'static str,
}

/// Documents `Retry-After` on every HTTP 200 answer whose description names one of `waits`'
/// refusals: for dialects that refuse with HTTP 200, whose `Failure` sets the header on every
/// refusal that says when to come back, so a route documents it by naming the refusal.
pub fn waits(mut routes: Routes, waits: &[Wait]) -> Routes {
    for item in routes.get_openapi_mut().paths.paths.values_mut() {
        for op in operations(item) {
            let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") else {
                continue;
            };
            for wait in waits.iter().filter(|w| ok.description.contains(w.refusal)) {
                let header = HeaderBuilder::new()
                    .schema(u64::schema())
                    .description(Some(wait.header))
                    .build();
                ok.headers.insert("Retry-After".to_string(), header);
            }
        }
    }
    routes
}

fn response<T: ToSchema>(answer: &Anywhere) -> Response {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(T::name())))
        .build();
    let mut res = ResponseBuilder::new()
        .description(answer.description)
        .content("application/json", content);
    if answer.status == 429 {
        let seconds = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1));
        res = res.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(seconds)
                .description(Some("Seconds to wait"))
                .build(),
        );
    }
    res.build()
}

/// The operations of `routes` served again at `path`: an alias that the originals' clients
/// call. Each aliased operation keeps its documentation under an operation id of its own.
pub fn alias(routes: UtoipaMethodRouter<Auth>, path: &str) -> UtoipaMethodRouter<Auth> {
    let (schemas, mut paths, method_router) = routes;
    let items: Vec<PathItem> = std::mem::take(&mut paths.paths).into_values().collect();
    for mut item in items {
        for op in operations(&mut item) {
            op.operation_id = op
                .operation_id
                .take()
                .map(|id| format!("{id}_at_{}", slug(path)));
        }
        paths.paths.insert(path.to_string(), item);
    }
    (schemas, paths, method_router)
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

fn slug(path: &str) -> String {
    path.trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// What a document is called and what it covers.
struct About {
    title: &'static str,
    description: &'static str,
}

fn about(dialect: Dialect) -> About {
    match dialect {
        Dialect::Pauli => About {
            title: "polyauth: seed 000 (pauli, /pauli/auth/api)",
            description: "Envelope `{code, msg, result}`, HTTP 200 for every answer but an \
                outage (503, code 1099). A 200 is therefore not success: read `code` (0 \
                success; 1 bad parameter or a folded refusal, `result.field` naming the \
                parameter; 7 missing permission; 1003 already signed in; 1004 not signed in; \
                1005 wrong user or password; 1007 wrong SMS code; 1032 SMS step of `PUT \
                pass/login`). The session is the HttpOnly cookie `pauli_session` (or \
                `Authorization: Bearer`, which wins); the pending second factor the cookie \
                `pauli_pending` (20 minutes). Every parameter may also be given in the query \
                string, the body winning, except on `pass/login` and `pass/create`, which take \
                JSON bodies only.",
        },
        Dialect::AuthJson => About {
            title: "polyauth: seed 001 (/auth, JSON)",
            description: "JSON bodies (read whatever the `Content-Type`); errors are `{code, \
                detailed_error_code, error_msg}` with HTTP status = `code`, \
                `detailed_error_code` the original's five-digit code (clients branch on it) and \
                `error_msg` `StatusCode.<NAME>: <text>`. The access token (a JWT valid 24 \
                hours; no refresh: log in again on 40103) is sent as `Authorization: Bearer \
                <token>`, exactly that scheme. Seed 004 serves `GET /auth/` and `/auth/login`, \
                `/auth/register`, `/auth/logout` under the same prefix.",
        },
        Dialect::ApiV1 => About {
            title: "polyauth: seed 002 (/api/v1/auth and /api/v1/verify)",
            description: "Envelope `{code, data, msg}`, HTTP 200 for every answer but an outage \
                (503); `code` 200 is success, 500 a refusal, -1 a captcha to solve, 3000 a \
                missing or expired access token (refresh and retry), 2000 any other token \
                failure (sign out). A 2xx status is therefore not success: read `code`. Invalid \
                requests are refused in the envelope too (code 500 `请求参数有误`), never with a \
                4xx. `Authorization` carries the bare access token, as the seed shows, or \
                `Bearer <token>`. The refresh token is also the HttpOnly cookie `refresh_token` \
                on `/api` (the older `refreshToken` is still read).",
        },
        Dialect::V1 => About {
            title: "polyauth: seed 003 (/v1/auth)",
            description: "JSON bodies; a signed-in answer is `{token, isNewUser, user}`; errors \
                are `{error}` with the original's statuses.",
        },
        Dialect::AuthForm => About {
            title: "polyauth: seed 004 (/auth, forms)",
            description: "Form bodies (`application/x-www-form-urlencoded` or \
                `multipart/form-data`); answers are JSON `{code, message, data}` with HTTP \
                status = `code`; errors `{code, message}` without `data`, with the original's \
                exact messages (the Android app switches on them); `Logout Failed` is status \
                600 (documented as `default`: OpenAPI has no 6XX). Login answers the token in \
                the `Authorization: Bearer <token>` response header and in `data.token`; \
                requests send it back as `Authorization: Bearer <token>` (a bare token is \
                accepted too). Seed 001 serves `POST /auth/` and `/auth/create`, \
                `/auth/disable`, `/auth/reset` under the same prefix.",
        },
    }
}

fn routes(dialect: Dialect) -> Routes {
    match dialect {
        Dialect::Pauli => dialects::pauli::routes(),
        Dialect::AuthJson => dialects::auth::json::routes(),
        Dialect::ApiV1 => dialects::api_v1::routes(),
        Dialect::V1 => dialects::v1::routes(),
        Dialect::AuthForm => dialects::auth::form::routes(),
    }
}

/// The document of one dialect.
pub fn document(dialect: Dialect) -> OpenApi {
    let About { title, description } = about(dialect);
    let mut api = routes(dialect).into_openapi();
    let mut info = Info::new(title, env!("CARGO_PKG_VERSION"));
    info.description = Some(description.to_string());
    api.info = info;
    token_as_security_scheme(&mut api, dialect);
    api
}

/// The name of each document's access-token security scheme.
const TOKEN_SCHEME: &str = "accessToken";

/// OpenAPI tools ignore a header parameter named `Authorization`, so the handlers' documented
/// `Authorization` parameter becomes the operation's security requirement (optional where the
/// parameter was) on a scheme of the dialect's own form: seed 002 sends the bare token.
fn token_as_security_scheme(api: &mut OpenApi, dialect: Dialect) {
    let mut uses_token = false;
    for item in api.paths.paths.values_mut() {
        for op in operations(item) {
            let Some(params) = op.parameters.as_mut() else {
                continue;
            };
            let Some(at) = params.iter().position(|p| {
                p.parameter_in == ParameterIn::Header
                    && p.name.eq_ignore_ascii_case("authorization")
            }) else {
                continue;
            };
            let param = params.remove(at);
            if params.is_empty() {
                op.parameters = None;
            }
            let mut either = vec![SecurityRequirement::new(TOKEN_SCHEME, Vec::<String>::new())];
            if param.required != Required::True {
                either.push(SecurityRequirement::default());
            }
            op.security = Some(either);
            uses_token = true;
        }
    }
    if !uses_token {
        return;
    }
    let scheme = match dialect {
        Dialect::ApiV1 => SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "The access token, bare as the seed shows, or `Bearer <token>`",
        ))),
        _ => SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    };
    api.components
        .get_or_insert_with(Default::default)
        .security_schemes
        .insert(TOKEN_SCHEME.to_string(), scheme);
}

/// The file name of a dialect's document: `api-v1.json`.
pub fn file_name(dialect: Dialect) -> String {
    format!("{}.json", dialect.name())
}

/// A document as written to `openapi/` and served: pretty JSON with a final newline.
pub fn render(dialect: Dialect) -> String {
    let mut text = serde_json::to_string_pretty(&document(dialect)).unwrap_or_default();
    text.push('\n');
    text
}

/// `GET /openapi/<dialect>.json`.
pub fn router() -> Router {
    Router::new().route("/openapi/{file}", get(serve))
}

async fn serve(Path(file): Path<String>) -> axum::response::Response {
    match Dialect::ALL.into_iter().find(|d| file_name(*d) == file) {
        Some(dialect) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            render(dialect),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": "not found"})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests;
