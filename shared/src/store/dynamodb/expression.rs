//! Condition expressions: an expired item (its `expires_at` at or before `:now`) counts as
//! absent, whatever DynamoDB's late TTL sweeper has not yet deleted.

use super::codec::{to_attr, Attrs};
use crate::store::{Condition, Lifetime, COUNT};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// An item is live when it has no expiry or its expiry is after `:now`.
pub(super) const LIVE: &str = "(attribute_not_exists(expires_at) OR expires_at > :now)";

/// A condition expression with its placeholders; `text` is `None` for an unconditional write.
#[derive(Default)]
pub(super) struct Expr {
    pub(super) text: Option<String>,
    pub(super) names: Option<HashMap<String, String>>,
    pub(super) values: Option<Attrs>,
}

/// A write request on `table` under the condition `expr`, from any of the SDK's write builders
/// (`Put`, `Delete`, `ConditionCheck`, `PutItem`, `DeleteItem`): they share these setters'
/// names, not a trait.
macro_rules! conditional {
    ($builder:expr, $table:expr, $expr:expr) => {{
        let expr: $crate::store::dynamodb::expression::Expr = $expr;
        $builder
            .table_name($table)
            .set_condition_expression(expr.text)
            .set_expression_attribute_names(expr.names)
            .set_expression_attribute_values(expr.values)
    }};
}
pub(super) use conditional;

pub(super) fn condition(cond: &Condition, now: i64) -> Expr {
    let now_value = || HashMap::from([(":now".to_string(), AttributeValue::N(now.to_string()))]);
    match cond {
        Condition::None => Expr::default(),
        Condition::NotExists => Expr {
            text: Some("attribute_not_exists(pk) OR expires_at <= :now".into()),
            names: None,
            values: Some(now_value()),
        },
        Condition::Exists => Expr {
            text: Some(format!("attribute_exists(pk) AND {LIVE}")),
            names: None,
            values: Some(now_value()),
        },
        Condition::Equals(attr, v) => {
            let mut values = now_value();
            values.insert(":v".into(), to_attr(v));
            Expr {
                text: Some(format!("#a = :v AND {LIVE}")),
                names: Some(HashMap::from([("#a".to_string(), attr.clone())])),
                values: Some(values),
            }
        }
    }
}

/// A counter's update: add `:by` to its count (absent: from zero), set its expiry as the
/// lifetime says, on condition that it is absent or live (an expired one is replaced apart)
/// and, with `at_most`, that the new count stays within it.
pub(super) struct Counted {
    pub(super) update: String,
    pub(super) condition: String,
    pub(super) values: Attrs,
}

pub(super) fn counted(by: i64, lifetime: Lifetime, at_most: Option<i64>, now: i64) -> Counted {
    let number = |n: i64| AttributeValue::N(n.to_string());
    let mut values = HashMap::from([
        (":zero".to_string(), number(0)),
        (":by".to_string(), number(by)),
        (":now".to_string(), number(now)),
    ]);
    let mut update = format!("SET {COUNT} = if_not_exists({COUNT}, :zero) + :by");
    match lifetime.expiry() {
        (Some(t), true) => {
            update.push_str(", expires_at = :exp");
            values.insert(":exp".into(), number(t));
        }
        (Some(t), false) => {
            update.push_str(", expires_at = if_not_exists(expires_at, :exp)");
            values.insert(":exp".into(), number(t));
        }
        (None, true) => update.push_str(" REMOVE expires_at"),
        (None, false) => {}
    }
    let condition = match at_most {
        None => format!("attribute_not_exists(pk) OR {LIVE}"),
        Some(max) => {
            values.insert(":before".into(), number(max - by));
            format!("attribute_not_exists(pk) OR ({LIVE} AND {COUNT} <= :before)")
        }
    };
    Counted {
        update,
        condition,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_treat_expired_items_as_absent() {
        let e = condition(&Condition::NotExists, 5);
        assert_eq!(
            e.text.as_deref(),
            Some("attribute_not_exists(pk) OR expires_at <= :now")
        );
        let e = condition(&Condition::equals("version", 3), 5);
        assert_eq!(e.names.unwrap()["#a"], "version");
        assert_eq!(e.values.unwrap()[":v"], AttributeValue::N("3".into()));
        assert!(condition(&Condition::None, 5).text.is_none());
    }
}
