//! Lambda entry points. Each function is one endpoint group: configuration is read once at cold
//! start (the JWT key from Secrets Manager when `POLYAUTH_JWT_SECRET_ARN` is set, so it is never
//! a plain environment value), AWS clients are built once, then the group's router serves every
//! invocation. Logs are JSON with the request id (lambda_http's subscriber, `AWS_LAMBDA_LOG_FORMAT`).

use crate::{app::App, config::Config, dialects, http, Auth};
use axum::Router;

/// The endpoint groups, one function each (seeds 001 and 004 share `/auth`, so one function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    ApiV1,
    V1,
    Pauli,
    Auth,
}

impl Function {
    pub const ALL: [Function; 4] = [
        Function::ApiV1,
        Function::V1,
        Function::Pauli,
        Function::Auth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::ApiV1 => "api_v1",
            Function::V1 => "v1",
            Function::Pauli => "pauli",
            Function::Auth => "auth",
        }
    }

    /// The group's routes, hardened like the local server's.
    pub fn router(self, auth: Auth) -> Router {
        let config = auth.config().clone();
        let routes = match self {
            Function::ApiV1 => dialects::api_v1::router(auth).merge(http::dev::health()),
            Function::V1 => dialects::v1::router(auth),
            Function::Pauli => dialects::pauli::router(auth),
            Function::Auth => dialects::auth::router(auth),
        };
        crate::app::harden(routes, &config)
    }
}

pub async fn run(function: Function) -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let mut vars: std::collections::HashMap<String, String> = std::env::vars().collect();
    if let Some(arn) = vars
        .get("POLYAUTH_JWT_SECRET_ARN")
        .filter(|a| !a.is_empty())
        .cloned()
    {
        let sdk = crate::aws::sdk_config().await;
        let secret = aws_sdk_secretsmanager::Client::new(&sdk)
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "reading the JWT secret failed: {}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                )
            })?
            .secret_string
            .ok_or("the JWT secret has no string value")?;
        vars.insert("POLYAUTH_JWT_SECRET".into(), secret);
    }
    let mut config = Config::from_vars(vars)?;
    config.on_lambda = true;
    let app = App::build(config).await?;
    tracing::info!(function = function.name(), "cold start complete");
    lambda_http::run(function.router(app.auth)).await
}
