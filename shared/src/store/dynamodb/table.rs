//! Creating the table for local and emulated use (on AWS the SAM template creates it).

use super::{sdk_message, unavailable, TTL_ATTRIBUTE};
use crate::store::StoreError;
use aws_sdk_dynamodb::{
    error::ProvideErrorMetadata,
    types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TableStatus, TimeToLiveSpecification,
    },
    Client,
};
use std::time::Duration;

/// Creates the table polyauth expects (for local or emulated use; on AWS the SAM template
/// creates it): `pk`/`sk` string keys, on-demand billing, TTL on `expires_at`. Answers whether
/// it was created (`false`: it already existed, and its TTL is made sure of).
pub async fn create_table(client: &Client, name: &str) -> Result<bool, StoreError> {
    let key = |attr: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(attr)
            .key_type(kind)
            .build()
            .map_err(unavailable("key schema"))
    };
    let string = |attr: &str| {
        AttributeDefinition::builder()
            .attribute_name(attr)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(unavailable("attribute definition"))
    };
    let created = client
        .create_table()
        .table_name(name)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .attribute_definitions(string("pk")?)
        .attribute_definitions(string("sk")?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    let created = match created {
        Ok(_) => true,
        Err(e) if e.code() == Some("ResourceInUseException") => false,
        Err(e) => return Err(sdk_message("CreateTable", &e)),
    };
    // A new table takes a moment to become active on AWS (at once on an emulator).
    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| sdk_message("DescribeTable", &e))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ttl = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| sdk_message("DescribeTimeToLive", &e))?;
    let enabled = ttl
        .time_to_live_description()
        .and_then(|d| d.attribute_name())
        .is_some_and(|a| a == TTL_ATTRIBUTE);
    if !enabled {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(unavailable("TTL specification"))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| sdk_message("UpdateTimeToLive", &e))?;
    }
    Ok(created)
}
