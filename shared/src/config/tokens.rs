//! Token profiles: how each dialect's access tokens look, so the rest of each app keeps
//! verifying them as it did.
//!
//! - `POLYAUTH_TOKEN_PROFILE_<DIALECT>`: `hs256` (default: polyauth's claims, signed with
//!   polyauth's keyset), `rs256` (the same claims plus `aud`, verifiable with the JWKS), or
//!   `legacy` (the original app's exact format, signed with its secret).
//! - `POLYAUTH_LEGACY_SECRET_<DIALECT>`: the original app's secret (Django's `SECRET_KEY`,
//!   alnitak's `AccessJwtSecret`, flame's `jwt.secret`, Biji's `SECRET_KEY`); setting it selects
//!   `legacy` unless the profile says otherwise.
//! - `POLYAUTH_LEGACY_SESSION_KEY_V1`: the first of `keys` in the `cookie-session` of seed
//!   003's app (`boar` in flame's and boarcms's `main.js`). Set, seed 003's `login` also sets
//!   that app's session cookie (`boar-session` and `boar-session.sig`), which its admin pages
//!   sign in with; unset (the default), it sets none. Changing it revokes the cookies issued.
//! - `POLYAUTH_TOKEN_AUDIENCE`: the `aud` of RS256 tokens (`polyauth`), what an API Gateway JWT
//!   authorizer is configured with.
//!
//! `<DIALECT>` is `PAULI`, `AUTH_JSON` (seed 001), `API_V1` (002), `V1` (003), `AUTH_FORM` (004).

use super::{bad, ConfigError};
use crate::domain::Dialect;

/// A secret that never prints: `Debug` and logs show `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileChoice {
    Hs256,
    Rs256,
    Legacy(Secret),
}

#[derive(Debug, Clone)]
pub struct TokenConfig {
    profiles: [ProfileChoice; 5],
    pub audience: String,
    pub v1_session_key: Option<Secret>,
}

impl TokenConfig {
    pub fn read(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let [p, j, a, v, f] = Dialect::ALL.map(|d| choice(get, d));
        Ok(TokenConfig {
            profiles: [p?, j?, a?, v?, f?],
            audience: get("POLYAUTH_TOKEN_AUDIENCE").unwrap_or_else(|| "polyauth".into()),
            v1_session_key: get("POLYAUTH_LEGACY_SESSION_KEY_V1").map(Secret::new),
        })
    }

    pub fn profile(&self, dialect: Dialect) -> &ProfileChoice {
        &self.profiles[index(dialect)]
    }

    /// Whether any dialect signs RS256, so the keyset needs RSA keys.
    pub fn any_rs256(&self) -> bool {
        self.profiles.contains(&ProfileChoice::Rs256)
    }

    pub fn set(&mut self, dialect: Dialect, choice: ProfileChoice) {
        self.profiles[index(dialect)] = choice;
    }
}

fn index(dialect: Dialect) -> usize {
    Dialect::ALL.iter().position(|d| *d == dialect).unwrap_or(0)
}

fn choice(
    get: &impl Fn(&str) -> Option<String>,
    dialect: Dialect,
) -> Result<ProfileChoice, ConfigError> {
    let name = dialect.env_name();
    let profile = get(&format!("POLYAUTH_TOKEN_PROFILE_{name}"));
    let secret = get(&format!("POLYAUTH_LEGACY_SECRET_{name}")).map(Secret::new);
    let var = "POLYAUTH_TOKEN_PROFILE_<DIALECT>";
    match (profile.as_deref(), secret) {
        (Some("legacy") | None, Some(_)) if dialect == Dialect::Pauli => Err(bad(
            var,
            "pauli has no legacy token format (its original kept server-side sessions)".into(),
        )),
        (Some("legacy") | None, Some(secret)) => Ok(ProfileChoice::Legacy(secret)),
        (Some("legacy"), None) => Err(bad(
            var,
            format!("{name} is legacy but POLYAUTH_LEGACY_SECRET_{name} is not set"),
        )),
        (Some(p @ ("hs256" | "rs256")), Some(_)) => Err(bad(
            var,
            format!("{name} is {p} but POLYAUTH_LEGACY_SECRET_{name} is set: drop one"),
        )),
        (None | Some("hs256"), None) => Ok(ProfileChoice::Hs256),
        (Some("rs256"), None) => Ok(ProfileChoice::Rs256),
        (Some(other), _) => Err(bad(
            var,
            format!("{name}: {other:?} is not hs256, rs256 or legacy"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<TokenConfig, ConfigError> {
        TokenConfig::read(&crate::config::env(pairs))
    }

    #[test]
    fn the_v1_session_key_is_off_unless_set() {
        assert_eq!(read(&[]).unwrap().v1_session_key, None);
        let c = read(&[("POLYAUTH_LEGACY_SESSION_KEY_V1", "boar")]).unwrap();
        assert_eq!(c.v1_session_key, Some(Secret::new("boar".into())));
    }

    #[test]
    fn a_legacy_secret_selects_the_legacy_profile() {
        let c = read(&[
            ("POLYAUTH_LEGACY_SECRET_AUTH_FORM", "biji-secret"),
            ("POLYAUTH_TOKEN_PROFILE_V1", "rs256"),
        ])
        .unwrap();
        assert_eq!(
            c.profile(Dialect::AuthForm),
            &ProfileChoice::Legacy(Secret::new("biji-secret".into()))
        );
        assert_eq!(c.profile(Dialect::V1), &ProfileChoice::Rs256);
        assert_eq!(c.profile(Dialect::ApiV1), &ProfileChoice::Hs256);
        assert!(c.any_rs256());
        assert!(!format!("{c:?}").contains("biji-secret"));
    }

    #[test]
    fn contradictions_are_refused_by_name() {
        for pairs in [
            &[("POLYAUTH_TOKEN_PROFILE_API_V1", "legacy")][..],
            &[("POLYAUTH_LEGACY_SECRET_PAULI", "x")][..],
            &[
                ("POLYAUTH_TOKEN_PROFILE_V1", "hs256"),
                ("POLYAUTH_LEGACY_SECRET_V1", "x"),
            ][..],
            &[("POLYAUTH_TOKEN_PROFILE_V1", "HS512")][..],
        ] {
            assert!(
                matches!(read(pairs), Err(ConfigError::Bad { var, .. }) if var.starts_with("POLYAUTH_TOKEN_PROFILE")),
                "{pairs:?}"
            );
        }
    }
}
