//! What browsers need of the HTTP edge: cookie attributes and the origins allowed to call with
//! credentials.
//!
//! - `POLYAUTH_COOKIE_SECURE` (on in production) and `POLYAUTH_COOKIE_SAMESITE` (`lax`,
//!   `strict`, or `none` for a front-end on another site, which browsers only accept with
//!   `Secure`).
//! - `POLYAUTH_CORS_ORIGINS`: exact origins (`https://app.example.com,http://localhost:3000`)
//!   allowed to call with credentials; none by default, and never `*`, since credentials and a
//!   wildcard together would hand every site the user's session.

use super::{bad, flag, ConfigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookies {
    pub secure: bool,
    pub same_site: SameSite,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Web {
    pub cookies: Cookies,
    pub cors_origins: Vec<String>,
}

impl Web {
    pub fn read(
        get: &impl Fn(&str) -> Option<String>,
        secure_by_default: bool,
    ) -> Result<Self, ConfigError> {
        let secure = flag(get, "POLYAUTH_COOKIE_SECURE", secure_by_default)?;
        let same_site = match get("POLYAUTH_COOKIE_SAMESITE").as_deref() {
            None | Some("lax") => SameSite::Lax,
            Some("strict") => SameSite::Strict,
            Some("none") if secure => SameSite::None,
            Some("none") => {
                return Err(bad(
                    "POLYAUTH_COOKIE_SAMESITE",
                    "none needs POLYAUTH_COOKIE_SECURE (browsers refuse it otherwise)".into(),
                ))
            }
            Some(other) => {
                return Err(bad(
                    "POLYAUTH_COOKIE_SAMESITE",
                    format!("{other:?} is not lax, strict or none"),
                ))
            }
        };
        let cors_origins = get("POLYAUTH_CORS_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(origin)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Web {
            cookies: Cookies { secure, same_site },
            cors_origins,
        })
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing after.
fn origin(raw: &str) -> Result<String, ConfigError> {
    let refuse = |why: &str| {
        bad(
            "POLYAUTH_CORS_ORIGINS",
            format!("{raw:?} {why} (exact origins like https://app.example.com)"),
        )
    };
    if raw == "*" {
        return Err(refuse("is a wildcard, which credentials forbid"));
    }
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| refuse("is not http(s)"))?;
    let host_ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !host_ok {
        return Err(refuse("is not scheme://host[:port]"));
    }
    Ok(raw.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)], secure: bool) -> Result<Web, ConfigError> {
        Web::read(&crate::config::env(pairs), secure)
    }

    #[test]
    fn origins_are_exact_and_never_a_wildcard() {
        let w = read(
            &[(
                "POLYAUTH_CORS_ORIGINS",
                "https://App.example.com, http://localhost:3000",
            )],
            false,
        )
        .unwrap();
        assert_eq!(
            w.cors_origins,
            ["https://app.example.com", "http://localhost:3000"]
        );
        for bad in ["*", "app.example.com", "https://a.com/path", "https://"] {
            assert!(
                read(&[("POLYAUTH_CORS_ORIGINS", bad)], false).is_err(),
                "{bad}"
            );
        }
        assert!(read(&[], false).unwrap().cors_origins.is_empty());
    }

    #[test]
    fn same_site_none_needs_secure_cookies() {
        assert!(read(&[("POLYAUTH_COOKIE_SAMESITE", "none")], false).is_err());
        let w = read(&[("POLYAUTH_COOKIE_SAMESITE", "none")], true).unwrap();
        assert_eq!(
            w.cookies,
            Cookies {
                secure: true,
                same_site: SameSite::None
            }
        );
        assert_eq!(read(&[], false).unwrap().cookies.same_site, SameSite::Lax);
    }
}
