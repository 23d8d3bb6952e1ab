//! The DynamoDB adapter: every item in one table, keyed by the strings `pk` / `sk`, with the
//! TTL attribute `expires_at` (epoch seconds). An item's attributes are top-level DynamoDB
//! attributes (so a condition names them directly); `pk`, `sk` and `expires_at` are reserved.
//!
//! DynamoDB's TTL sweeper deletes late, so every read and every condition treats
//! `expires_at <= now` as absent, with `now` from the injected clock (tests move it).
//!
//! One write is one request: a single put or delete is a conditional `PutItem` / `DeleteItem`,
//! anything else (several writes, or a bare check) one `TransactWriteItems`.

mod codec;
mod expression;
mod table;

pub use codec::TTL_ATTRIBUTE;
pub use table::create_table;

use super::{Item, Key, Lifetime, Page, Query, Store, StoreError, Write, COUNT};
use crate::clock::Clock;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::{
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::transact_write_items::TransactWriteItemsError,
    types::{
        AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue,
        ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
    },
    Client,
};
use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{context::BeforeTransmitInterceptorContextRef, Intercept},
        runtime_components::RuntimeComponents,
    },
};
use codec::{decode, encode, Attrs};
use expression::{condition, conditional, counted, Expr, LIVE};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

/// Retries of a write that lost to a concurrent transaction on one of its items.
const CONFLICT_RETRIES: u32 = 3;
/// DynamoDB's limit on the items of one transaction.
const MAX_TRANSACTION: usize = 100;

#[derive(Clone)]
pub struct Dynamo {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
    requests: Arc<AtomicU64>,
}

/// Counts every HTTP request the DynamoDB client sends (retries included).
#[derive(Debug)]
struct RequestCounter(Arc<AtomicU64>);

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "polyauth::RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Dynamo {
    /// An adapter on `table`, with its own client built from the shared SDK configuration.
    pub fn new(sdk: &SdkConfig, table: &str, clock: Arc<dyn Clock>) -> Self {
        let requests = Arc::new(AtomicU64::new(0));
        let config = aws_sdk_dynamodb::config::Builder::from(sdk)
            .interceptor(RequestCounter(requests.clone()))
            .build();
        Dynamo {
            client: Client::from_conf(config),
            table: table.to_string(),
            clock,
            requests,
        }
    }

    /// How many HTTP requests this adapter (and its clones) has sent to DynamoDB.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(&self, key: &Key) -> Attrs {
        HashMap::from([
            ("pk".to_string(), AttributeValue::S(key.pk.clone())),
            ("sk".to_string(), AttributeValue::S(key.sk.clone())),
        ])
    }

    fn live(&self, item: Item, now: i64) -> Option<Item> {
        item.is_live(now).then_some(item)
    }

    /// One write of a batch as a transaction item.
    fn transact_item(&self, write: &Write, now: i64) -> Result<TransactWriteItem, StoreError> {
        let expr = match write {
            Write::Put { cond, .. } | Write::Delete { cond, .. } | Write::Check { cond, .. } => {
                condition(cond, now)
            }
            Write::Count(_) => Default::default(),
        };
        let table = &self.table;
        let item = match write {
            Write::Count(c) => {
                let count = counted(c.by, c.lifetime, c.at_most, now);
                TransactWriteItem::builder().update(
                    Update::builder()
                        .table_name(table)
                        .set_key(Some(self.key(&c.key)))
                        .update_expression(count.update)
                        .condition_expression(count.condition)
                        .set_expression_attribute_values(Some(count.values))
                        // The refused counter comes back, telling a limit reached from an
                        // expired counter the sweeper has not yet deleted.
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .map_err(unavailable("update"))?,
                )
            }
            Write::Put { item, .. } => TransactWriteItem::builder().put(
                conditional!(Put::builder(), table, expr)
                    .set_item(Some(encode(item)?))
                    .build()
                    .map_err(unavailable("put"))?,
            ),
            Write::Delete { key, .. } => TransactWriteItem::builder().delete(
                conditional!(Delete::builder(), table, expr)
                    .set_key(Some(self.key(key)))
                    .build()
                    .map_err(unavailable("delete"))?,
            ),
            Write::Check { key, .. } => {
                // A check without a condition always holds; DynamoDB insists on one.
                let always = "attribute_exists(pk) OR attribute_not_exists(pk)";
                let expr = Expr {
                    text: expr.text.or_else(|| Some(always.into())),
                    ..expr
                };
                let check = conditional!(ConditionCheck::builder(), table, expr)
                    .set_key(Some(self.key(key)))
                    .build()
                    .map_err(unavailable("check"))?;
                TransactWriteItem::builder().condition_check(check)
            }
        };
        Ok(item.build())
    }

    /// One attempt at a batch: a single put or delete on its own, else one transaction.
    async fn write_once(&self, writes: &[Write]) -> Result<(), Fault> {
        let now = self.clock.now();
        match writes {
            [Write::Put { item, cond }] => {
                let put = conditional!(self.client.put_item(), &self.table, condition(cond, now));
                let result = put.set_item(Some(encode(item)?)).send().await;
                result.map(|_| ()).map_err(|e| single_fault("PutItem", e))
            }
            [Write::Delete { key, cond }] => {
                let delete =
                    conditional!(self.client.delete_item(), &self.table, condition(cond, now));
                let result = delete.set_key(Some(self.key(key))).send().await;
                result
                    .map(|_| ())
                    .map_err(|e| single_fault("DeleteItem", e))
            }
            _ => {
                let items = writes
                    .iter()
                    .map(|w| self.transact_item(w, now))
                    .collect::<Result<Vec<_>, _>>()?;
                let result = self
                    .client
                    .transact_write_items()
                    .set_transact_items(Some(items))
                    .send()
                    .await;
                result.map(|_| ()).map_err(|e| transaction_fault(e, now))
            }
        }
    }

    /// One attempt at an increment: an atomic update of a live or absent counter, or, when the
    /// counter has expired, its replacement by a fresh one (conditional on it still being
    /// expired, so a concurrent replacement wins once and the loser updates the new counter).
    async fn increment_once(&self, key: &Key, by: i64, lifetime: Lifetime) -> Result<i64, Fault> {
        let now = self.clock.now();
        let count = counted(by, lifetime, None, now);
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(key)))
            .update_expression(count.update)
            .condition_expression(count.condition)
            .set_expression_attribute_values(Some(count.values))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match updated.map_err(|e| single_fault("UpdateItem", e)) {
            Ok(out) => {
                let n = out.attributes().and_then(|a| a.get(COUNT));
                return match n {
                    Some(AttributeValue::N(n)) => {
                        n.parse().map_err(|_| Fault::Other(corrupt(key, COUNT)))
                    }
                    _ => Err(Fault::Other(corrupt(key, COUNT))),
                };
            }
            Err(Fault::Condition(_) | Fault::Expired(_)) => {}
            Err(other) => return Err(other),
        }
        let replaced = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(&Item::counter(
                key.clone(),
                by,
                lifetime.expiry().0,
            ))?))
            .condition_expression("expires_at <= :now")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match replaced.map_err(|e| single_fault("PutItem", e)) {
            Ok(_) => Ok(by),
            // Someone else replaced or renewed it first: go round again on the live counter.
            Err(Fault::Condition(_) | Fault::Expired(_)) => Err(Fault::Conflict),
            Err(other) => Err(other),
        }
    }

    /// Deletes the item at `key` if it has expired (and is still there): what the TTL sweeper
    /// will do anyway, done now so that a batch counting on it can go ahead.
    async fn sweep(&self, key: &Key) -> Result<(), StoreError> {
        let now = self.clock.now();
        let swept = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key(key)))
            .condition_expression("expires_at <= :now")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match swept.map_err(|e| single_fault("DeleteItem", e)) {
            Ok(_) | Err(Fault::Condition(_)) => Ok(()),
            Err(Fault::Other(e)) => Err(e),
            Err(Fault::Conflict | Fault::Expired(_)) => Ok(()),
        }
    }
}

/// Why one attempt failed.
enum Fault {
    /// The condition of the write at this index did not hold.
    Condition(usize),
    /// The counter of the write at this index has expired but is still stored: once it is
    /// gone, the batch may be tried again.
    Expired(usize),
    /// A concurrent transaction held one of the items: worth retrying.
    Conflict,
    Other(StoreError),
}

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Self {
        Fault::Other(e)
    }
}

fn unavailable<E: std::error::Error>(what: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::Unavailable(format!("dynamodb {what}: {e}"))
}

fn corrupt(key: &Key, attr: &str) -> StoreError {
    StoreError::Unavailable(format!("item {}/{} has no readable {attr}", key.pk, key.sk))
}

/// The message of an SDK error with its causes (no request data, so no secrets).
fn sdk_message<E, R>(op: &str, e: &SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(format!("dynamodb {op}: {}", DisplayErrorContext(e)))
}

fn single_fault<E, R>(op: &str, e: SdkError<E, R>) -> Fault
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    match e.code() {
        Some("ConditionalCheckFailedException") => Fault::Condition(0),
        Some("TransactionConflictException") => Fault::Conflict,
        _ => Fault::Other(sdk_message(op, &e)),
    }
}

fn transaction_fault<R: std::fmt::Debug>(
    e: SdkError<TransactWriteItemsError, R>,
    now: i64,
) -> Fault {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        e.as_service_error()
    {
        let reasons = cancelled.cancellation_reasons();
        let failed = reasons
            .iter()
            .position(|r| r.code() == Some("ConditionalCheckFailed"));
        if let Some(i) = failed {
            let expired = reasons[i]
                .item()
                .and_then(|old| old.get(TTL_ATTRIBUTE))
                .and_then(|t| t.as_n().ok())
                .and_then(|t| t.parse::<i64>().ok())
                .is_some_and(|t| t <= now);
            return if expired {
                Fault::Expired(i)
            } else {
                Fault::Condition(i)
            };
        }
        let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("None")).collect();
        if codes.contains(&"TransactionConflict") {
            return Fault::Conflict;
        }
    }
    match e.code() {
        Some("TransactionConflictException") => Fault::Conflict,
        _ => Fault::Other(sdk_message("TransactWriteItems", &e)),
    }
}

/// Waits a little before retrying a conflicted write: 10-40 ms, growing with the attempt.
async fn back_off(attempt: u32) {
    let ms = 10 * u64::from(attempt + 1) + crate::random::u64() % 10;
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[async_trait::async_trait]
impl Store for Dynamo {
    #[tracing::instrument(
        name = "dynamodb.get",
        level = "debug",
        skip_all,
        err(level = "debug", Display)
    )]
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_message("GetItem", &e))?;
        match out.item() {
            Some(raw) => Ok(self.live(decode(raw)?, self.clock.now())),
            None => Ok(None),
        }
    }

    #[tracing::instrument(
        name = "dynamodb.batch_get",
        level = "debug",
        skip_all,
        err(level = "debug", Display)
    )]
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let mut found: HashMap<Key, Item> = HashMap::new();
        let mut pending: Vec<Attrs> = keys.iter().map(|k| self.key(k)).collect();
        pending.dedup();
        for attempt in 0..=CONFLICT_RETRIES {
            if pending.is_empty() {
                break;
            }
            if attempt > 0 {
                back_off(attempt - 1).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Unavailable(format!("dynamodb: BatchGetItem: {e}")))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| sdk_message("BatchGetItem", &e))?;
            let now = self.clock.now();
            for raw in out
                .responses()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                if let Some(item) = self.live(decode(raw)?, now) {
                    found.insert(item.key.clone(), item);
                }
            }
            // Keys DynamoDB did not get to (throttling): asked again after a pause.
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default();
        }
        if !pending.is_empty() {
            return Err(StoreError::Unavailable(
                "dynamodb: BatchGetItem left keys unprocessed".into(),
            ));
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    #[tracing::instrument(
        name = "dynamodb.query",
        level = "debug",
        skip_all,
        err(level = "debug", Display)
    )]
    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        let now = self.clock.now();
        let mut start = match &q.after {
            None => None,
            Some(after) if after.starts_with(&q.sk_prefix) => {
                Some(self.key(&Key::new(q.pk.clone(), after.clone())))
            }
            // A cursor outside the prefix range: before it (in the reading direction) means
            // the whole range is still ahead, past it means nothing is.
            Some(after) => {
                if (after.as_str() < q.sk_prefix.as_str()) != q.newest_first {
                    None
                } else {
                    return Ok(Page {
                        items: vec![],
                        next: None,
                    });
                }
            }
        };
        let mut values = HashMap::from([
            (":pk".to_string(), AttributeValue::S(q.pk.clone())),
            (":now".to_string(), AttributeValue::N(now.to_string())),
        ]);
        let key_condition = match (&q.sk_from, q.sk_prefix.is_empty()) {
            (None, true) => "pk = :pk",
            (None, false) => {
                values.insert(":prefix".into(), AttributeValue::S(q.sk_prefix.clone()));
                "pk = :pk AND begins_with(sk, :prefix)"
            }
            (Some(from), true) => {
                values.insert(":from".into(), AttributeValue::S(from.clone()));
                "pk = :pk AND sk >= :from"
            }
            (Some(from), false) => {
                values.insert(":from".into(), AttributeValue::S(from.clone()));
                let end = format!("{}{}", q.sk_prefix, char::MAX);
                values.insert(":end".into(), AttributeValue::S(end));
                "pk = :pk AND sk BETWEEN :from AND :end"
            }
        };
        // One live item more than asked tells whether another page follows.
        let want = q.limit.saturating_add(1);
        let mut items = Vec::new();
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(key_condition)
                .filter_expression(LIVE)
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!q.newest_first)
                .consistent_read(true)
                .limit(i32::try_from(want - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_message("Query", &e))?;
            for raw in out.items() {
                if let Some(item) = self.live(decode(raw)?, now) {
                    items.push(item);
                }
            }
            match out.last_evaluated_key() {
                // Expired items filtered out of a full page leave it short: read on.
                Some(last) if items.len() < want => start = Some(last.clone()),
                _ => break,
            }
        }
        let more = items.len() > q.limit;
        items.truncate(q.limit);
        let next = if more {
            items.last().map(|i| i.key.sk.clone())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    #[tracing::instrument(
        name = "dynamodb.write",
        level = "debug",
        skip_all,
        err(level = "debug", Display)
    )]
    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        if writes.len() > MAX_TRANSACTION {
            return Err(StoreError::Unavailable(format!(
                "{} writes in one batch; DynamoDB takes at most {MAX_TRANSACTION}",
                writes.len()
            )));
        }
        for attempt in 0..=CONFLICT_RETRIES {
            match self.write_once(&writes).await {
                Ok(()) => return Ok(()),
                Err(Fault::Condition(i)) => return Err(StoreError::ConditionFailed(i)),
                Err(Fault::Expired(i)) => self.sweep(writes[i].key()).await?,
                Err(Fault::Other(e)) => return Err(e),
                Err(Fault::Conflict) if attempt < CONFLICT_RETRIES => back_off(attempt).await,
                Err(Fault::Conflict) => {}
            }
        }
        Err(StoreError::Unavailable(
            "dynamodb: transaction conflict persisted after retries".into(),
        ))
    }

    #[tracing::instrument(
        name = "dynamodb.increment",
        level = "debug",
        skip_all,
        err(level = "debug", Display)
    )]
    async fn increment(&self, key: &Key, by: i64, lifetime: Lifetime) -> Result<i64, StoreError> {
        for attempt in 0..=CONFLICT_RETRIES {
            match self.increment_once(key, by, lifetime).await {
                Ok(n) => return Ok(n),
                Err(Fault::Other(e)) => return Err(e),
                Err(Fault::Condition(_) | Fault::Expired(_) | Fault::Conflict)
                    if attempt < CONFLICT_RETRIES =>
                {
                    back_off(attempt).await
                }
                Err(Fault::Condition(_) | Fault::Expired(_) | Fault::Conflict) => {}
            }
        }
        Err(StoreError::Unavailable(format!(
            "dynamodb: counter {}/{} stayed contended",
            key.pk, key.sk
        )))
    }
}
