//! Items to DynamoDB attributes and back: an item's attributes are top-level attributes, and
//! `pk`, `sk` and the TTL attribute are the table's own.

use super::corrupt;
use crate::store::{Item, Key, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// The TTL attribute, configured on the table by [`super::create_table`].
pub const TTL_ATTRIBUTE: &str = "expires_at";
const RESERVED: [&str; 3] = ["pk", "sk", TTL_ATTRIBUTE];

pub(super) type Attrs = HashMap<String, AttributeValue>;

pub(super) fn to_attr(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attr).collect()),
        Value::Object(m) => {
            AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect())
        }
    }
}

fn number(n: &str) -> Option<Value> {
    if let Ok(i) = n.parse::<i64>() {
        return Some(i.into());
    }
    if let Ok(u) = n.parse::<u64>() {
        return Some(u.into());
    }
    n.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

fn from_attr(a: &AttributeValue) -> Option<Value> {
    Some(match a {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => number(n)?,
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attr).collect::<Option<_>>()?),
        AttributeValue::M(m) => Value::Object(
            m.iter()
                .map(|(k, v)| Some((k.clone(), from_attr(v)?)))
                .collect::<Option<_>>()?,
        ),
        AttributeValue::Ss(ss) => Value::Array(ss.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(ns) => {
            Value::Array(ns.iter().map(|n| number(n)).collect::<Option<_>>()?)
        }
        // Binary attributes and types newer than this adapter are never written by polyauth.
        _ => return None,
    })
}

pub(super) fn encode(item: &Item) -> Result<Attrs, StoreError> {
    let mut out = HashMap::with_capacity(item.attrs.len() + 3);
    for (k, v) in &item.attrs {
        if RESERVED.contains(&k.as_str()) {
            return Err(StoreError::Unavailable(format!(
                "item {}/{}: attribute {k:?} is reserved by the table layout",
                item.key.pk, item.key.sk
            )));
        }
        out.insert(k.clone(), to_attr(v));
    }
    out.insert("pk".into(), AttributeValue::S(item.key.pk.clone()));
    out.insert("sk".into(), AttributeValue::S(item.key.sk.clone()));
    if let Some(t) = item.expires_at {
        out.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(t.to_string()));
    }
    Ok(out)
}

pub(super) fn decode(raw: &Attrs) -> Result<Item, StoreError> {
    let text = |name: &str| match raw.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(StoreError::Unavailable(format!(
            "an item without a string {name}"
        ))),
    };
    let key = Key::new(text("pk")?, text("sk")?);
    let expires_at = match raw.get(TTL_ATTRIBUTE) {
        None => None,
        Some(AttributeValue::N(n)) => Some(
            n.parse::<i64>()
                .or_else(|_| n.parse::<f64>().map(|f| f as i64))
                .map_err(|_| corrupt(&key, TTL_ATTRIBUTE))?,
        ),
        Some(_) => return Err(corrupt(&key, TTL_ATTRIBUTE)),
    };
    let mut attrs = Map::new();
    for (k, v) in raw.iter().filter(|(k, _)| !RESERVED.contains(&k.as_str())) {
        attrs.insert(k.clone(), from_attr(v).ok_or_else(|| corrupt(&key, k))?);
    }
    Ok(Item::new(key, attrs, expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_round_trip() {
        let v = json!({"s": "x", "n": 42, "neg": -7, "big": u64::MAX, "f": 0.5, "b": true, "z": null,
            "l": [1, "a", []], "m": {"k": {"deep": "v"}}, "empty": ""});
        let Value::Object(attrs) = v else {
            unreachable!()
        };
        let item = Item::new(Key::new("P", "S"), attrs, Some(1_700_000_000));
        let raw = encode(&item).unwrap();
        assert_eq!(raw["pk"], AttributeValue::S("P".into()));
        assert_eq!(raw[TTL_ATTRIBUTE], AttributeValue::N("1700000000".into()));
        assert_eq!(decode(&raw).unwrap(), item);
    }

    #[test]
    fn reserved_attribute_names_are_refused() {
        let mut attrs = Map::new();
        attrs.insert(TTL_ATTRIBUTE.into(), json!(1));
        assert!(encode(&Item::new(Key::new("P", "S"), attrs, None)).is_err());
    }
}
