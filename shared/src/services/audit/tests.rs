//! Use-case tests of login records, driven by a manual clock (no sleeps).

use crate::services::testing::*;

#[tokio::test]
async fn login_records_page_newest_first_without_gaps() {
    let t = harness();
    let s = signed_in(&t, "l@x.com").await;
    for _ in 0..24 {
        signed_in_as(&t, "l@x.com", "secret1").await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = t
            .auth
            .login_records(s.user.id, cursor.as_deref(), 10)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        cursor = page.last().map(|r| r.record_id.clone());
        seen.extend(page);
    }
    assert_eq!(seen.len(), 25);
    let ids: Vec<_> = seen.iter().map(|r| r.record_id.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(ids, sorted, "newest first");
    sorted.dedup();
    assert_eq!(sorted.len(), 25, "no repeats");
}
