//! Operational metrics as CloudWatch embedded-metric-format lines: one JSON line on stdout per
//! event, which CloudWatch Logs turns into metrics of namespace `Polyauth` without an agent or
//! an API call on the request path. Each metric is published by its dimensions (the dialect, a
//! code's channel and country) and as a deployment-wide total, which the template's alarms use.
//!
//! Off unless enabled at start (on Lambda, or `POLYAUTH_METRICS=emf`): a local server's stdout
//! stays quiet.

use std::{
    io::Write,
    sync::atomic::{AtomicBool, Ordering},
};

pub const NAMESPACE: &str = "Polyauth";

static ON: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    LoginSucceeded,
    LoginFailed,
    Lockout,
    CaptchaAsked,
    CodeSent,
    RefreshReuse,
    LegacyHashUpgraded,
    StoreUnavailable,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::LoginSucceeded => "LoginSucceeded",
            Metric::LoginFailed => "LoginFailed",
            Metric::Lockout => "Lockout",
            Metric::CaptchaAsked => "CaptchaAsked",
            Metric::CodeSent => "CodeSent",
            Metric::RefreshReuse => "RefreshReuse",
            Metric::LegacyHashUpgraded => "LegacyHashUpgraded",
            Metric::StoreUnavailable => "StoreUnavailable",
        }
    }
}

/// Turns the lines on for this process; called once at start from the configuration.
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Counts one `metric` with its `dimensions` (empty values are left out).
pub fn count(metric: Metric, dimensions: &[(&'static str, &str)]) {
    if !ON.load(Ordering::Relaxed) {
        return;
    }
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let line = line(metric, dimensions, ms);
    // A lost metric line must never fail a request.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

fn line(metric: Metric, dimensions: &[(&'static str, &str)], timestamp_ms: u128) -> String {
    let dims: Vec<(&str, &str)> = dimensions
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, *v))
        .collect();
    let names: Vec<&str> = dims.iter().map(|(k, _)| *k).collect();
    let sets = if names.is_empty() {
        serde_json::json!([[]])
    } else {
        serde_json::json!([names, []])
    };
    let mut root = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms as u64,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": [{"Name": metric.name(), "Unit": "Count"}],
            }],
        },
        metric.name(): 1,
    });
    for (k, v) in dims {
        root[k] = serde_json::Value::from(v);
    }
    root.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn a_line_names_its_metric_dimensions_and_total() {
        let v: Value = serde_json::from_str(&line(
            Metric::CodeSent,
            &[("Channel", "sms"), ("Country", "86")],
            1_700_000_000_000,
        ))
        .unwrap();
        assert_eq!(
            v,
            json!({
                "_aws": {
                    "Timestamp": 1_700_000_000_000u64,
                    "CloudWatchMetrics": [{
                        "Namespace": "Polyauth",
                        "Dimensions": [["Channel", "Country"], []],
                        "Metrics": [{"Name": "CodeSent", "Unit": "Count"}],
                    }],
                },
                "CodeSent": 1,
                "Channel": "sms",
                "Country": "86",
            })
        );
        let v: Value =
            serde_json::from_str(&line(Metric::StoreUnavailable, &[("Dialect", "")], 1)).unwrap();
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]));
        assert!(v.get("Dialect").is_none());
    }
}
