//! The AWS SDK configuration shared by every AWS adapter (DynamoDB, SES v2, SNS, SMS-voice v2),
//! loaded once per process. Region, credentials and endpoint come from the environment the SDK
//! way (`AWS_REGION`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` or the Lambda role,
//! `AWS_ENDPOINT_URL` for an emulator), so the same binary runs against AWS or moto.

pub use aws_config::SdkConfig;

use std::time::Duration;

use aws_config::{timeout::TimeoutConfig, BehaviorVersion, ConfigLoader, Region};
use aws_sdk_dynamodb::config::Credentials;
use aws_smithy_http_client::{
    tls::{self, rustls_provider::CryptoMode},
    Builder,
};

/// The SDK sets no timeout on a call by default, so a stalled endpoint (a frozen emulator, a
/// half-open connection) held every request that touched it until the client gave up, and on
/// Lambda until the function timed out with no answer. These bound each attempt and the whole
/// call, retries included, well inside the functions' 10 s, so the caller gets the dialect's
/// 503 instead. DynamoDB, SES and SNS answer in milliseconds; seconds are only ever a fault.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .read_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_millis(2500))
        .operation_timeout(Duration::from_secs(6))
        .build()
}

/// The configuration of the message senders (SES, SNS, SMS-voice): the same bound on the whole
/// call, but no per-attempt timeout. A send that was accepted and answered slowly must not be
/// retried as timed out: the message would go out twice (and cost twice). A refused or dropped
/// attempt is still retried by the SDK, as before.
pub fn for_sending(sdk: &SdkConfig) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_timeout(Duration::from_secs(6))
        .build();
    sdk.to_builder().timeout_config(timeouts).build()
}

/// The SDK defaults with one HTTPS client: rustls on ring (the crypto the rest of the binary
/// already links), shared by every client built from the configuration.
fn loader() -> ConfigLoader {
    let http = Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts())
}

/// Loads the SDK configuration from the environment.
pub async fn sdk_config() -> SdkConfig {
    loader().load().await
}

/// The SDK configuration for an explicit endpoint (an emulator such as moto) with fixed dummy
/// credentials and the given region: for tests and local tooling, never for AWS itself.
pub async fn endpoint_config(endpoint: &str, region: &str) -> SdkConfig {
    loader()
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "polyauth-static",
        ))
        .load()
        .await
}
