//! Lambda entry points. Each function is one endpoint group: configuration is read once at cold
//! start (the root secret from Secrets Manager when `POLYAUTH_JWT_SECRET_ARN` is set, the original
//! apps' token secrets when `POLYAUTH_LEGACY_SECRETS_ARN` is, so neither is a plain environment
//! value), AWS clients are built once, then the group's router serves every
//! invocation. Logs are JSON with the request id (lambda_http's subscriber, `AWS_LAMBDA_LOG_FORMAT`).

use crate::{
    app::App,
    config::Config,
    dialects, http,
    sender::{self, TextsOf},
    Auth,
};
use axum::Router;

/// An endpoint group: the routes one Lambda function serves (seeds 001 and 004 share `/auth`,
/// so one function). The local server serves every group (`App::router`). A function's `main`
/// names its group's constant, so its binary links that group's dialect and no other.
/// It also names the text channels its endpoints send (seed 002 and the `/auth` seeds mail
/// only, seed 003 texts codes, seed 000 texts and calls), so it links those AWS clients only.
#[derive(Clone, Copy)]
pub struct Function {
    name: &'static str,
    routes: fn(Auth) -> Router,
    texts: TextsOf,
}

impl Function {
    pub const API_V1: Function = Function {
        name: "api_v1",
        routes: api_v1_group,
        texts: sender::no_texts,
    };
    pub const V1: Function = Function {
        name: "v1",
        routes: dialects::v1::router,
        texts: sender::sms,
    };
    pub const PAULI: Function = Function {
        name: "pauli",
        routes: dialects::pauli::router,
        texts: sender::sms_and_voice,
    };
    pub const AUTH: Function = Function {
        name: "auth",
        routes: dialects::auth::router,
        texts: sender::no_texts,
    };
    pub const ALL: [Function; 4] = [
        Function::API_V1,
        Function::V1,
        Function::PAULI,
        Function::AUTH,
    ];

    pub fn name(self) -> &'static str {
        self.name
    }

    /// The group's routes, before hardening.
    pub fn routes(self, auth: Auth) -> Router {
        (self.routes)(auth)
    }

    /// The group's routes, hardened like the local server's.
    pub fn router(self, auth: Auth) -> Router {
        let config = auth.config().clone();
        crate::app::harden(self.routes(auth), &config)
    }
}

/// Seed 002's routes, with the health check and token discovery beside them.
fn api_v1_group(auth: Auth) -> Router {
    dialects::api_v1::router(auth.clone())
        .merge(http::dev::health())
        .merge(http::discovery::router(auth))
}

pub async fn run(function: Function) -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let mut vars: std::collections::HashMap<String, String> = std::env::vars().collect();
    let arn = |name: &str| vars.get(name).filter(|a| !a.is_empty()).cloned();
    let (root, legacy) = (
        arn("POLYAUTH_JWT_SECRET_ARN"),
        arn("POLYAUTH_LEGACY_SECRETS_ARN"),
    );
    if root.is_some() || legacy.is_some() {
        let sdk = crate::aws::sdk_config().await;
        let client = aws_sdk_secretsmanager::Client::new(&sdk);
        let (root, legacy) = tokio::join!(
            secret_string(&client, root, "the root secret"),
            secret_string(&client, legacy, "the legacy token secrets"),
        );
        if let Some(root) = root? {
            vars.insert("POLYAUTH_JWT_SECRET".into(), root);
        }
        if let Some(legacy) = legacy? {
            vars.extend(legacy_secret_vars(&legacy)?);
        }
    }
    let mut config = Config::from_vars(vars)?;
    config.on_lambda = true;
    let app = App::build_on_aws(config, function.texts).await?;
    tracing::info!(function = function.name(), "cold start complete");
    lambda_http::run(function.router(app.auth)).await
}

async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    arn: Option<String>,
    what: &str,
) -> Result<Option<String>, lambda_http::Error> {
    let Some(arn) = arn else { return Ok(None) };
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading {what} failed: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    Ok(Some(
        out.secret_string
            .ok_or(format!("{what} has no string value"))?,
    ))
}

/// The legacy secrets are one JSON object keyed by dialect (`{"AUTH_FORM": "..."}`), each
/// becoming `POLYAUTH_LEGACY_SECRET_<DIALECT>` as it would be locally; `V1_SESSION`, seed 003's
/// app's cookie-session key, becomes `POLYAUTH_LEGACY_SESSION_KEY_V1`.
fn legacy_secret_vars(json: &str) -> Result<Vec<(String, String)>, String> {
    let map: std::collections::BTreeMap<String, String> = serde_json::from_str(json)
        .map_err(|_| "the legacy token secrets are not a JSON object of strings".to_string())?;
    map.into_iter()
        .map(|(dialect, secret)| {
            if dialect == "V1_SESSION" {
                return Ok(("POLYAUTH_LEGACY_SESSION_KEY_V1".to_string(), secret));
            }
            crate::domain::Dialect::ALL
                .iter()
                .any(|d| d.env_name() == dialect)
                .then(|| (format!("POLYAUTH_LEGACY_SECRET_{dialect}"), secret))
                .ok_or(format!(
                    "the legacy token secrets name no dialect {dialect:?}"
                ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Function;
    use crate::sender::{AwsSender, AwsSenderSettings, Channel, Message, Sender};

    fn offline_sdk() -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build()
    }

    /// Each function builds the text channels its endpoints send and no other (what its
    /// binary links follows from that).
    #[test]
    fn each_function_texts_only_as_its_endpoints_do() {
        let sdk = offline_sdk();
        let texts = |f: Function| (f.texts)(&sdk).map(|t| t.calls());
        assert_eq!(texts(Function::API_V1), None, "seed 002 mails only");
        assert_eq!(texts(Function::AUTH), None, "seeds 001 and 004 mail only");
        assert_eq!(texts(Function::V1), Some(false), "seed 003 texts codes");
        assert_eq!(
            texts(Function::PAULI),
            Some(true),
            "seed 000 texts and calls"
        );
    }

    #[tokio::test]
    async fn a_mail_only_function_refuses_a_text_and_offers_no_voice() {
        let settings = AwsSenderSettings {
            email_from: "no-reply@example.com".into(),
            sms_sender_id: None,
            voice_origination: Some("+15550100".into()),
        };
        let sender = AwsSender::with_texts(&offline_sdk(), settings, Function::API_V1.texts);
        assert!(!sender.supports_voice());
        let sms = Message {
            channel: Channel::Sms,
            to: "+8613312341234".into(),
            subject: String::new(),
            body: "123456".into(),
        };
        let refused = sender.send(&sms).await.unwrap_err();
        assert!(refused.0.contains("no text messages"), "{refused}");
    }
    #[test]
    fn legacy_secrets_become_the_local_variables() {
        let vars = super::legacy_secret_vars(r#"{"AUTH_FORM": "a", "API_V1": "b"}"#).unwrap();
        assert_eq!(
            vars,
            [
                ("POLYAUTH_LEGACY_SECRET_API_V1".to_string(), "b".to_string()),
                (
                    "POLYAUTH_LEGACY_SECRET_AUTH_FORM".to_string(),
                    "a".to_string()
                ),
            ]
        );
        assert_eq!(
            super::legacy_secret_vars(r#"{"V1_SESSION": "boar"}"#).unwrap(),
            [(
                "POLYAUTH_LEGACY_SESSION_KEY_V1".to_string(),
                "boar".to_string()
            )]
        );
        assert!(super::legacy_secret_vars(r#"{"auth_form": "a"}"#).is_err());
        assert!(super::legacy_secret_vars("secret").is_err());
    }
}
