//! The contract every `Store` adapter passes, one function per property. Public so each
//! adapter's tests (embedded file, in-memory, DynamoDB) run the very same checks, each as a test
//! of its own (`store_contract_tests!`). The clock given must be the one the store reads, so
//! expiry can be driven without sleeping.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test suite: a failed assumption is a failed test (public so the DynamoDB test in tests/ runs it too)"
)]

use super::{Condition, Count, Item, Key, Lifetime, Page, Query, Store, StoreError, Write};
use crate::clock::{Clock, ManualClock};
use futures::future::join_all;
use serde_json::{json, Map, Value};

fn attrs(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// One named test per property of the contract, each on a fresh store: `$clock` makes the clock
/// the store reads (an `Arc<ManualClock>`), `$store` an async closure taking it and answering
/// the store and whatever must live as long as it (a temporary directory, say). Keys are
/// prefixed with a fresh id, so the tests can share a table with other runs.
#[macro_export]
macro_rules! store_contract_tests {
    ($clock:expr, $store:expr) => {
        $crate::store_contract_tests!(@each $clock, $store;
            conditional_writes atomic_batches counters counted_writes expiry pagination
            concurrent_uniqueness batch_reads ranges);
    };
    (@each $clock:expr, $store:expr; $($property:ident)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $property() {
                let clock = $clock;
                let (store, _lives_with_store) = ($store)(clock.clone()).await;
                $crate::store::contract::$property(&store, &$crate::random::id(), &clock).await;
            }
        )*
    };
}

pub async fn batch_reads<S: Store>(s: &S, ns: &str, clock: &ManualClock) {
    let (a, b, gone, missing) = (
        Key::new(format!("{ns}#M"), "A"),
        Key::new(format!("{ns}#M"), "B"),
        Key::new(format!("{ns}#N"), "GONE"),
        Key::new(format!("{ns}#N"), "MISSING"),
    );
    let now = clock.now();
    s.write(vec![
        Write::put(Item::new(a.clone(), attrs(json!({"v": "a"})), None)),
        Write::put(Item::new(b.clone(), attrs(json!({"v": "b"})), None)),
        Write::put(Item::new(gone.clone(), attrs(json!({})), Some(now + 5))),
    ])
    .await
    .expect("items written");
    clock.advance(5);
    let read = s
        .get_many(&[b.clone(), missing, a.clone(), gone])
        .await
        .expect("batch read");
    let values: Vec<Option<Value>> = read
        .iter()
        .map(|i| i.as_ref().map(|i| i.attrs["v"].clone()))
        .collect();
    assert_eq!(
        values,
        vec![Some(json!("b")), None, Some(json!("a")), None],
        "in the order asked, missing and expired items absent"
    );
}

pub async fn conditional_writes<S: Store>(s: &S, ns: &str, _: &ManualClock) {
    let k = Key::new(format!("{ns}#C"), "X");
    let item = Item::new(k.clone(), attrs(json!({"v": 1})), None);
    s.write(vec![Write::put_new(item.clone())])
        .await
        .expect("first put");
    assert_eq!(
        s.write(vec![Write::put_new(item.clone())]).await,
        Err(StoreError::ConditionFailed(0)),
        "put-if-absent must fail on an existing item"
    );
    let newer = Item::new(k.clone(), attrs(json!({"v": 2})), None);
    assert_eq!(
        s.write(vec![Write::Put {
            item: newer.clone(),
            cond: Condition::equals("v", 5)
        }])
        .await,
        Err(StoreError::ConditionFailed(0))
    );
    s.write(vec![Write::Put {
        item: newer.clone(),
        cond: Condition::equals("v", 1),
    }])
    .await
    .expect("put with a holding condition");
    assert_eq!(s.get(&k).await.unwrap().unwrap().attrs["v"], json!(2));
    s.write(vec![Write::Delete {
        key: k.clone(),
        cond: Condition::Exists,
    }])
    .await
    .unwrap();
    assert_eq!(s.get(&k).await.unwrap(), None);
    assert_eq!(
        s.write(vec![Write::Delete {
            key: k.clone(),
            cond: Condition::Exists
        }])
        .await,
        Err(StoreError::ConditionFailed(0))
    );
}

pub async fn atomic_batches<S: Store>(s: &S, ns: &str, _: &ManualClock) {
    let a = Key::new(format!("{ns}#A"), "1");
    let b = Key::new(format!("{ns}#B"), "1");
    s.write(vec![Write::put(Item::new(
        b.clone(),
        attrs(json!({"x": true})),
        None,
    ))])
    .await
    .unwrap();
    let batch = vec![
        Write::put_new(Item::new(a.clone(), Map::new(), None)),
        Write::put_new(Item::new(b.clone(), Map::new(), None)),
    ];
    assert_eq!(s.write(batch).await, Err(StoreError::ConditionFailed(1)));
    assert_eq!(
        s.get(&a).await.unwrap(),
        None,
        "a failed batch must write nothing"
    );
    assert_eq!(s.get(&b).await.unwrap().unwrap().attrs["x"], json!(true));
    let check_fails = vec![
        Write::put(Item::new(a.clone(), Map::new(), None)),
        Write::Check {
            key: Key::new(format!("{ns}#none"), "1"),
            cond: Condition::Exists,
        },
    ];
    assert_eq!(
        s.write(check_fails).await,
        Err(StoreError::ConditionFailed(1))
    );
    assert_eq!(s.get(&a).await.unwrap(), None);
    s.write(vec![
        Write::put(Item::new(a.clone(), Map::new(), None)),
        Write::Delete {
            key: b.clone(),
            cond: Condition::equals("x", true),
        },
    ])
    .await
    .unwrap();
    assert!(s.get(&a).await.unwrap().is_some());
    assert_eq!(s.get(&b).await.unwrap(), None);
    // DynamoDB refuses a transaction naming one item twice; so must every store, or two
    // "must be new" writes to one key would both pass and the second overwrite the first.
    let c = Key::new(format!("{ns}#C"), "1");
    let twice = vec![
        Write::put_new(Item::new(c.clone(), Map::new(), None)),
        Write::put_new(Item::new(b.clone(), attrs(json!({"first": true})), None)),
        Write::put_new(Item::new(b.clone(), attrs(json!({"second": true})), None)),
    ];
    assert!(s.write(twice).await.is_err(), "one key twice in a batch");
    assert_eq!(
        s.get(&c).await.unwrap(),
        None,
        "a refused batch writes nothing"
    );
    assert_eq!(s.get(&b).await.unwrap(), None);
}

pub async fn counters<S: Store>(s: &S, ns: &str, clock: &ManualClock) {
    let k = Key::new(format!("{ns}#N"), "COUNT");
    assert_eq!(s.increment(&k, 1, Lifetime::Forever).await.unwrap(), 1);
    assert_eq!(s.increment(&k, 2, Lifetime::Forever).await.unwrap(), 3);
    let w = Key::new(format!("{ns}#W"), "COUNT");
    let t = clock.now();
    assert_eq!(
        s.increment(&w, 1, Lifetime::Window(t + 60)).await.unwrap(),
        1
    );
    clock.advance(30);
    assert_eq!(
        s.increment(&w, 1, Lifetime::Window(t + 90)).await.unwrap(),
        2
    );
    clock.advance(31);
    assert_eq!(
        s.increment(&w, 1, Lifetime::Window(t + 200)).await.unwrap(),
        1,
        "a fixed window lapses"
    );
    let r = Key::new(format!("{ns}#R"), "COUNT");
    let t = clock.now();
    s.increment(&r, 1, Lifetime::Sliding(t + 60)).await.unwrap();
    clock.advance(50);
    s.increment(&r, 1, Lifetime::Sliding(t + 110))
        .await
        .unwrap();
    clock.advance(50);
    assert_eq!(
        s.increment(&r, 1, Lifetime::Sliding(t + 200))
            .await
            .unwrap(),
        3,
        "a renewed window holds"
    );
    let keys: Vec<_> = (0..20)
        .map(|_| Key::new(format!("{ns}#P"), "COUNT"))
        .collect();
    let results = join_all(keys.iter().map(|k| s.increment(k, 1, Lifetime::Forever))).await;
    let mut got: Vec<i64> = results.into_iter().map(|r| r.unwrap()).collect();
    got.sort();
    assert_eq!(got, (1..=20).collect::<Vec<_>>(), "increments are atomic");
}

/// Counters inside a batch: counted with the batch's other writes, refused past their limit
/// (nothing of the batch written), and restarted once expired, as `increment` does.
pub async fn counted_writes<S: Store>(s: &S, ns: &str, clock: &ManualClock) {
    let k = Key::new(format!("{ns}#C"), "COUNT");
    let t = clock.now();
    let marker = |i: usize| Key::new(format!("{ns}#M{i}"), "1");
    for i in 0..3 {
        s.write(vec![
            Write::count_within(k.clone(), Lifetime::Window(t + 60), 3),
            Write::put(Item::new(marker(i), Map::new(), None)),
        ])
        .await
        .unwrap();
    }
    let refused = s
        .write(vec![
            Write::put(Item::new(marker(3), Map::new(), None)),
            Write::count_within(k.clone(), Lifetime::Window(t + 60), 3),
        ])
        .await;
    assert_eq!(
        refused,
        Err(StoreError::ConditionFailed(1)),
        "past its limit"
    );
    assert_eq!(
        s.get(&marker(3)).await.unwrap(),
        None,
        "nothing of it written"
    );
    let stored = s.get(&k).await.unwrap().unwrap();
    assert_eq!((stored.count(), stored.expires_at), (3, Some(t + 60)));
    assert_eq!(
        s.increment(&k, 1, Lifetime::Window(t + 999)).await.unwrap(),
        4,
        "the same counter as increment's"
    );
    clock.advance(60);
    s.write(vec![Write::count_within(
        k.clone(),
        Lifetime::Sliding(t + 200),
        3,
    )])
    .await
    .unwrap();
    let restarted = s.get(&k).await.unwrap().unwrap();
    assert_eq!(
        (restarted.count(), restarted.expires_at),
        (1, Some(t + 200)),
        "an expired counter starts again"
    );
    s.write(vec![Write::Count(Count {
        key: k.clone(),
        by: 5,
        lifetime: Lifetime::Sliding(t + 300),
        at_most: None,
    })])
    .await
    .unwrap();
    let slid = s.get(&k).await.unwrap().unwrap();
    assert_eq!((slid.count(), slid.expires_at), (6, Some(t + 300)));
}

/// A range from a sort key on: the items at and after it, in order, within the prefix.
pub async fn ranges<S: Store>(s: &S, ns: &str, _: &ManualClock) {
    let pk = format!("{ns}#R");
    let writes = ["A", "B#1", "B#2", "C", "D#1"]
        .iter()
        .map(|sk| Write::put(Item::new(Key::new(pk.clone(), *sk), Map::new(), None)))
        .collect();
    s.write(writes).await.unwrap();
    let read = |prefix: &str, from: &str| Query {
        pk: pk.clone(),
        sk_prefix: prefix.into(),
        sk_from: Some(from.into()),
        after: None,
        limit: 10,
        newest_first: false,
    };
    let sks = |page: Page| page.items.into_iter().map(|i| i.key.sk).collect::<Vec<_>>();
    assert_eq!(
        sks(s.query(read("", "B#2")).await.unwrap()),
        ["B#2", "C", "D#1"]
    );
    assert_eq!(sks(s.query(read("B#", "B#2")).await.unwrap()), ["B#2"]);
    let mut first = read("", "B");
    first.limit = 2;
    let page = s.query(first.clone()).await.unwrap();
    assert_eq!(sks(page.clone()), ["B#1", "B#2"]);
    first.after = page.next;
    assert_eq!(sks(s.query(first).await.unwrap()), ["C", "D#1"]);
}

pub async fn expiry<S: Store>(s: &S, ns: &str, clock: &ManualClock) {
    let k = Key::new(format!("{ns}#E"), "1");
    let now = clock.now();
    s.write(vec![Write::put_new(Item::new(
        k.clone(),
        Map::new(),
        Some(now + 10),
    ))])
    .await
    .unwrap();
    assert!(s.get(&k).await.unwrap().is_some());
    clock.advance(10);
    assert_eq!(
        s.get(&k).await.unwrap(),
        None,
        "expired items are absent on read"
    );
    s.write(vec![Write::put_new(Item::new(k.clone(), Map::new(), None))])
        .await
        .expect("an expired item does not block put-if-absent");
    let q = Key::new(format!("{ns}#EQ"), "a");
    s.write(vec![Write::put(Item::new(
        q.clone(),
        Map::new(),
        Some(clock.now() + 1),
    ))])
    .await
    .unwrap();
    clock.advance(1);
    let page = s
        .query(Query {
            pk: q.pk.clone(),
            sk_prefix: String::new(),
            sk_from: None,
            after: None,
            limit: 10,
            newest_first: false,
        })
        .await
        .unwrap();
    assert!(
        page.items.is_empty(),
        "expired items are absent from queries"
    );
}

pub async fn pagination<S: Store>(s: &S, ns: &str, _: &ManualClock) {
    let pk = format!("{ns}#Q");
    let writes = (0..25)
        .map(|i| {
            Write::put(Item::new(
                Key::new(pk.clone(), format!("LOG#{i:03}")),
                Map::new(),
                None,
            ))
        })
        .chain([Write::put(Item::new(
            Key::new(pk.clone(), "OTHER"),
            Map::new(),
            None,
        ))])
        .collect();
    s.write(writes).await.unwrap();
    for newest_first in [true, false] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .query(Query {
                    pk: pk.clone(),
                    sk_prefix: "LOG#".into(),
                    sk_from: None,
                    after: after.clone(),
                    limit: 10,
                    newest_first,
                })
                .await
                .unwrap();
            assert!(page.items.len() <= 10);
            seen.extend(page.items.iter().map(|i| i.key.sk.clone()));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let mut expected: Vec<String> = (0..25).map(|i| format!("LOG#{i:03}")).collect();
        if newest_first {
            expected.reverse();
        }
        assert_eq!(
            seen, expected,
            "pages have no gaps or repeats (newest_first={newest_first})"
        );
    }
}

pub async fn concurrent_uniqueness<S: Store>(s: &S, ns: &str, _: &ManualClock) {
    let unique = Key::new(format!("{ns}#EMAIL#a@b.c"), "USER");
    let attempts = (0..50).map(|i| {
        let user = Item::new(
            Key::new(format!("{ns}#USER#{i}"), "PROFILE"),
            Map::new(),
            None,
        );
        let claim = Item::new(unique.clone(), attrs(json!({"user_id": i})), None);
        s.write(vec![Write::put_new(user), Write::put_new(claim)])
    });
    let results = join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "exactly one concurrent claim of a unique key wins");
    for r in results.iter().filter(|r| r.is_err()) {
        assert_eq!(r, &Err(StoreError::ConditionFailed(1)));
    }
}
