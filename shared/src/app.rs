//! Wiring: configuration in, a ready `Auth` and the HTTP router out. The local binary and every
//! Lambda function build their app here, so they cannot drift apart.

use crate::{
    clock::{Clock, SystemClock},
    config::{Config, SenderKind, StoreKind},
    http,
    sender::{self, AwsSender, AwsSenderSettings, Outbox, Sender},
    store::{Dynamo, Embedded, Store, StoreError},
    Auth,
};
use axum::{http::StatusCode, response::IntoResponse, Router};
use std::sync::Arc;

#[derive(Clone)]
pub struct App {
    pub auth: Auth,
    /// The development outbox, when that is the sender.
    pub outbox: Option<Outbox>,
}

impl App {
    /// Builds the adapters the configuration names. The AWS SDK configuration is loaded once,
    /// and only when an AWS adapter is chosen; its clients live as long as the app.
    pub async fn build(config: Config) -> Result<App, StoreError> {
        if config.store == StoreKind::DynamoDb {
            return Self::build_on_aws(config, sender::sms_and_voice).await;
        }
        if config.metrics {
            crate::metrics::enable();
        }
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store: Arc<dyn Store> = match config.store {
            StoreKind::Embedded => Arc::new(Embedded::open(&config.data_dir, clock.clone())?),
            _ => Arc::new(Embedded::memory(clock.clone())?),
        };
        let sdk = match config.sender {
            SenderKind::Aws => Some(crate::aws::sdk_config().await),
            SenderKind::Outbox => None,
        };
        let sender = aws_sender(&config, sdk.as_ref(), sender::sms_and_voice);
        Ok(Self::assemble_with(config, store, sender, clock))
    }

    /// The app of a Lambda function: DynamoDB, and SES with the text channels `texts` builds
    /// (or, in development, the outbox). It names no embedded store, so a function's binary
    /// does not link one, nor a text channel its endpoints do not send.
    pub async fn build_on_aws(config: Config, texts: sender::TextsOf) -> Result<App, StoreError> {
        if config.store != StoreKind::DynamoDb {
            return Err(StoreError::Unavailable(
                "a Lambda function stores in DynamoDB: set POLYAUTH_STORE=dynamodb".into(),
            ));
        }
        if config.metrics {
            crate::metrics::enable();
        }
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let sdk = crate::aws::sdk_config().await;
        let store: Arc<dyn Store> = Arc::new(Dynamo::new(&sdk, &config.table, clock.clone()));
        let sender = aws_sender(&config, Some(&sdk), texts);
        Ok(Self::assemble_with(config, store, sender, clock))
    }

    /// An app over `store` with the development outbox as its sender (tests, benchmarks).
    pub fn assemble(config: Config, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> App {
        Self::assemble_with(config, store, None, clock)
    }

    /// An app over `store` and `sender`; without a sender, the development outbox.
    pub fn assemble_with(
        config: Config,
        store: Arc<dyn Store>,
        sender: Option<Arc<dyn Sender>>,
        clock: Arc<dyn Clock>,
    ) -> App {
        let (sender, outbox): (Arc<dyn Sender>, _) = match sender {
            Some(sender) => (sender, None),
            None => {
                let outbox = Outbox::new(clock.clone());
                (Arc::new(outbox.clone()), Some(outbox))
            }
        };
        App {
            auth: Auth::new(config, store, sender, clock),
            outbox,
        }
    }

    /// Every endpoint group on one router (every dialect, health, token discovery), the OpenAPI
    /// documents, plus the outbox in development mode.
    pub fn router(&self) -> Router {
        let mut router = crate::lambda::Function::ALL
            .into_iter()
            .fold(Router::new(), |r, f| r.merge(f.routes(self.auth.clone())));
        router = router.merge(crate::openapi::router());
        if let (true, Some(outbox)) = (self.auth.config().is_dev(), &self.outbox) {
            router = router.merge(http::dev::outbox(outbox.clone()));
        }
        harden(router, self.auth.config())
    }
}

/// SES v2, SNS and SMS-voice, when the configuration names them and the SDK is loaded.
fn aws_sender(
    config: &Config,
    sdk: Option<&aws_config::SdkConfig>,
    texts: sender::TextsOf,
) -> Option<Arc<dyn Sender>> {
    match (config.sender, sdk) {
        (SenderKind::Aws, Some(sdk)) => {
            let settings = AwsSenderSettings {
                email_from: config.email_from.clone(),
                sms_sender_id: config.sms_sender_id.clone(),
                voice_origination: config.voice_origination.clone(),
            };
            Some(Arc::new(AwsSender::with_texts(sdk, settings, texts)))
        }
        _ => None,
    }
}

/// A panic anywhere becomes a plain 500 without a trace (and is logged), never a dropped
/// connection; unknown paths get their dialect's catch-all answer (`dialects::unrouted`). Every body is read within its bound first
/// (`http::bound_body`); the dialect's extractors answer a too-large one in its envelope. The
/// caller's address is resolved once (`http::identify`) for every limit and record. Every
/// request runs in a span naming its method, its route and, on Lambda, its request id, so each
/// log line of a request can be found from any other.
pub fn harden(router: Router, config: &Config) -> Router {
    let router = router
        .fallback(crate::dialects::unrouted)
        .layer(axum::middleware::from_fn(http::bound_body))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::map_response(http::no_store))
        .layer(axum::middleware::from_fn_with_state(
            config.limits.trusted_proxies,
            http::identify,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({"error": "internal error"})),
            )
                .into_response()
        }));
    let router = match cors(&config.web.cors_origins) {
        Some(layer) => router.layer(layer),
        None => router,
    };
    // A dialect whose original matched paths loosely (seed 003's Express) sees its request's
    // path made canonical before routing, which layers on `router` itself run after.
    let routed = tower::ServiceBuilder::new()
        .map_request(crate::dialects::canonical_path)
        .service(router);
    Router::new().fallback_service(routed)
}

fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string());
    let request_id = req
        .extensions()
        .get::<lambda_http::Context>()
        .map(|c| c.request_id.clone());
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = %route.as_deref().unwrap_or("unmatched"),
        request_id = request_id.as_deref(),
    )
}

/// Cross-origin calls with credentials from the configured origins only (the same answer API
/// Gateway gives from the template's `AllowedOrigins`); without origins, no CORS headers at all.
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderName, HeaderValue, Method};
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        tower_http::cors::CorsLayer::new()
            .allow_origin(origins)
            .allow_credentials(true)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::COOKIE,
                HeaderName::from_static("x-requested-with"),
                HeaderName::from_static("x-captcha-id"),
            ])
            .expose_headers([header::AUTHORIZATION, header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

#[cfg(test)]
pub(crate) mod testing {
    use super::App;
    use crate::{clock::ManualClock, services::testing::Harness};
    use axum::{body::Body, http::Request, Router};
    use http_body_util::BodyExt;
    use std::sync::Arc;
    use tower::ServiceExt;

    pub struct TestApp {
        pub app: App,
        pub router: Router,
        pub clock: Arc<ManualClock>,
    }

    /// The whole app over the default harness (`Harness::builder().app()` for another).
    pub fn test_app() -> TestApp {
        Harness::builder().app()
    }

    pub struct Reply {
        pub status: u16,
        pub headers: axum::http::HeaderMap,
        /// The body as JSON; `Null` when it is not JSON (`text` has it then).
        pub json: serde_json::Value,
        pub text: String,
    }

    impl TestApp {
        /// The app over `harness`'s core, with its outbox as the development outbox.
        pub(crate) fn over(harness: Harness) -> TestApp {
            let app = App {
                auth: harness.auth,
                outbox: Some(harness.outbox),
            };
            TestApp {
                router: app.router(),
                app,
                clock: harness.clock,
            }
        }

        pub async fn send(&self, req: Request<Body>) -> Reply {
            let res = self
                .router
                .clone()
                .oneshot(req)
                .await
                .expect("router is infallible");
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let bytes = res
                .into_body()
                .collect()
                .await
                .expect("body reads")
                .to_bytes();
            let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            Reply {
                status,
                headers,
                json,
                text: String::from_utf8_lossy(&bytes).into_owned(),
            }
        }

        /// A JSON request; `headers` are extra (name, value) pairs.
        pub async fn json(
            &self,
            method: &str,
            uri: &str,
            body: serde_json::Value,
            headers: &[(&str, &str)],
        ) -> Reply {
            let mut req = Request::builder()
                .method(method)
                .uri(uri)
                .header("content-type", "application/json");
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            self.send(req.body(Body::from(body.to_string())).unwrap())
                .await
        }

        /// A request with a raw body and content type.
        pub async fn raw(
            &self,
            method: &str,
            uri: &str,
            content_type: &str,
            body: &str,
            headers: &[(&str, &str)],
        ) -> Reply {
            let mut req = Request::builder().method(method).uri(uri);
            if !content_type.is_empty() {
                req = req.header("content-type", content_type);
            }
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            self.send(req.body(Body::from(body.to_string())).unwrap())
                .await
        }

        /// The code in the newest outbox message to `to`.
        pub fn last_code(&self, to: &str) -> String {
            self.app.outbox.as_ref().expect("outbox").last_code(to)
        }

        /// The reset token in the newest outbox message to `to`.
        pub fn last_reset_token(&self, to: &str) -> String {
            self.app
                .outbox
                .as_ref()
                .expect("outbox")
                .last_reset_token(to)
        }

        /// Registers a user directly through the core.
        pub async fn user(&self, new: crate::services::NewUser) -> crate::domain::User {
            self.app
                .auth
                .register(new, None, &crate::services::Client::default())
                .await
                .expect("registers")
        }
    }

    /// The value of a `Set-Cookie` named `name`, if set.
    pub fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
        reply
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.strip_prefix(&format!("{name}="))
                    .map(|rest| rest.split(';').next().unwrap_or("").to_string())
            })
    }

    /// The attributes of the `Set-Cookie` named `name` (`Path=/`, `HttpOnly`, ...); none
    /// when it is not set.
    pub fn cookie_attributes(reply: &Reply, name: &str) -> Vec<String> {
        reply
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').skip(1).map(|a| a.trim().to_string()).collect())
            .unwrap_or_default()
    }
}
