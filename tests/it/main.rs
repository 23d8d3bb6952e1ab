//! The one integration-test binary: every black-box test of the system, linked once (the AWS
//! SDKs are large) and sharing one moto server. Each module is one area under test.

mod support;

mod abuse;
mod aws_senders;
mod aws_store;
mod clients;
mod cors;
mod events;
mod fuzz;
mod import;
mod journey_api_v1;
mod journey_auth;
mod journey_pauli;
mod journey_v1;
mod lambda_runtime;
mod local_binary;
mod metrics;
mod security_log;
mod template;
mod tokens;
