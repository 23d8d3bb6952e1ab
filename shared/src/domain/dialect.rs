//! The five HTTP dialects, as the core knows them: a session records the one that opened it,
//! and each has its own token profile.

/// The dialect a session was opened through. Seed 004's logout ends every session its own
/// clients opened, and only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    Pauli,
    AuthJson,
    ApiV1,
    V1,
    AuthForm,
}

impl Dialect {
    pub const ALL: [Dialect; 5] = [
        Dialect::Pauli,
        Dialect::AuthJson,
        Dialect::ApiV1,
        Dialect::V1,
        Dialect::AuthForm,
    ];

    /// The name in configuration variables: `AUTH_JSON` in `POLYAUTH_TOKEN_PROFILE_AUTH_JSON`.
    pub fn env_name(self) -> &'static str {
        match self {
            Dialect::Pauli => "PAULI",
            Dialect::AuthJson => "AUTH_JSON",
            Dialect::ApiV1 => "API_V1",
            Dialect::V1 => "V1",
            Dialect::AuthForm => "AUTH_FORM",
        }
    }
}

impl Dialect {
    /// The seed's route prefix, as logs name the dialect.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Pauli => "pauli",
            Dialect::AuthJson => "auth-json",
            Dialect::ApiV1 => "api-v1",
            Dialect::V1 => "v1",
            Dialect::AuthForm => "auth-form",
        }
    }
}
