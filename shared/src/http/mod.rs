//! What every dialect needs from HTTP and nothing decides: reading bodies into request types
//! with errors that name the field, credentials from headers and cookies, the caller's address.

mod body;
mod caller;
pub mod dev;
pub mod discovery;

pub(crate) use body::from_value;
pub use body::{bound_body, Form, Json, JsonOrForm, Params};
pub use caller::{identify, resolve};

use crate::{
    config::{Cookies, SameSite},
    Auth,
};
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap, HeaderValue},
};

/// The service is every dialect router's state: handlers take it as `auth: Auth`.
impl FromRequestParts<Auth> for Auth {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, auth: &Auth) -> Result<Self, Self::Rejection> {
        Ok(auth.clone())
    }
}

/// Every answer of an auth API carries tokens, personal data or codes, or says something about
/// an account: none may be kept by a browser or a proxy (RFC 6749 §5.1).
pub async fn no_store(mut res: axum::response::Response) -> axum::response::Response {
    res.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

/// The token of `Authorization: Bearer <t>`, or of a bare `Authorization: <t>` (seed 002).
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match v.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        // The scheme alone carries no token.
        None if v.eq_ignore_ascii_case("bearer") => return None,
        None => v,
    };
    (!token.is_empty()).then(|| token.to_string())
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// An HttpOnly cookie with the configured `Secure` (on in production) and `SameSite` (`Lax`
/// unless a cross-site front-end needs `None`).
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    policy: Cookies,
) -> HeaderValue {
    let same_site = match policy.same_site {
        SameSite::Lax => cookie::SameSite::Lax,
        SameSite::Strict => cookie::SameSite::Strict,
        SameSite::None => cookie::SameSite::None,
    };
    let c = cookie::Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .secure(policy.secure)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A cookie carrying a token, set to last as long as the token does (`expires_at`).
pub fn token_cookie(
    auth: &Auth,
    name: &str,
    token: &str,
    path: &str,
    expires_at: i64,
) -> HeaderValue {
    let max_age = expires_at - auth.now();
    set_cookie(name, token, path, max_age, auth.config().web.cookies)
}

pub fn clear_cookie(name: &str, path: &str, policy: Cookies) -> HeaderValue {
    set_cookie(name, "", path, 0, policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_and_bare_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("abc"));
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        // The scheme without a token is no token (not a bare token "Bearer").
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn reads_and_sets_cookies() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; sid=xyz"));
        assert_eq!(cookie(&h, "sid").as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "none"), None);
        let secure_lax = Cookies {
            secure: true,
            same_site: SameSite::Lax,
        };
        let c = set_cookie("sid", "v", "/pauli", 60, secure_lax);
        let c = c.to_str().unwrap();
        for part in [
            "sid=v",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/pauli",
            "Max-Age=60",
        ] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        let cross_site = Cookies {
            secure: true,
            same_site: SameSite::None,
        };
        let c = set_cookie("sid", "v", "/", 60, cross_site);
        assert!(c.to_str().unwrap().contains("SameSite=None"));
    }
}
