//! `template.yaml` rendered as CloudFormation would deploy it: SAM's own translator (from the
//! test venv), then the template's conditions evaluated for a parameter set (`render.py`), so
//! the test sees exactly the resources a stack with those parameters gets.

use crate::support::moto::python;
use serde_json::{json, Map, Value};

fn render(params: Value) -> Map<String, Value> {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(python())
        .arg(format!("{root}/tests/it/template/render.py"))
        .arg(format!("{root}/template.yaml"))
        .arg(params.to_string())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).expect("JSON") {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn of_type<'a>(resources: &'a Map<String, Value>, kind: &str) -> Vec<&'a Value> {
    resources
        .values()
        .filter(|r| r["Type"] == kind)
        .map(|r| &r["Properties"])
        .collect()
}

/// The polyauth functions (the SMS protect helper has no POLYAUTH_ variables).
fn functions(resources: &Map<String, Value>) -> Vec<&Value> {
    of_type(resources, "AWS::Lambda::Function")
        .into_iter()
        .filter(|f| !f["Environment"]["Variables"]["POLYAUTH_STORE"].is_null())
        .collect()
}

fn cors(resources: &Map<String, Value>) -> Value {
    let api = of_type(resources, "AWS::ApiGatewayV2::Api");
    assert_eq!(api.len(), 1);
    api[0]["Body"]["x-amazon-apigateway-cors"].clone()
}

#[test]
fn domains_origins_and_alarms_become_resources() {
    let r = render(json!({
        "Domain1": "api.app1.com",
        "Domain2": "auth.app2.com",
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "HostedZoneId": "Z123",
        "AllowedOrigins": "https://app.example.com,http://localhost:3000",
        "CookieSameSite": "none",
        "AlarmEmail": "ops@example.com",
    }));
    let mut domains: Vec<&str> = of_type(&r, "AWS::ApiGatewayV2::DomainName")
        .iter()
        .map(|d| d["DomainName"].as_str().expect("a name"))
        .collect();
    domains.sort_unstable();
    assert_eq!(domains, ["api.app1.com", "auth.app2.com"]);
    assert_eq!(of_type(&r, "AWS::ApiGatewayV2::ApiMapping").len(), 2);
    let records = of_type(&r, "AWS::Route53::RecordSet");
    assert_eq!(records.len(), 4, "A and AAAA per domain");
    assert!(records.iter().all(|x| x["HostedZoneId"] == "Z123"));

    let cors = cors(&r);
    assert_eq!(
        cors["allowOrigins"],
        json!(["https://app.example.com", "http://localhost:3000"])
    );
    assert_eq!(cors["allowCredentials"], true);

    let fns = functions(&r);
    assert_eq!(fns.len(), 4);
    for f in &fns {
        let env = &f["Environment"]["Variables"];
        assert_eq!(
            env["POLYAUTH_CORS_ORIGINS"],
            "https://app.example.com,http://localhost:3000"
        );
        assert_eq!(env["POLYAUTH_COOKIE_SAMESITE"], "none");
        assert_eq!(
            env["POLYAUTH_PUBLIC_URL"], "https://api.app1.com",
            "the first domain"
        );
        assert_eq!(f["TracingConfig"]["Mode"], "Active");
    }

    let alarms = of_type(&r, "AWS::CloudWatch::Alarm");
    // An alarm's metric: its own, or one inside its metric math.
    let watches = |a: &Value, name: &str| {
        a["MetricName"] == name
            || a["Metrics"].as_array().is_some_and(|m| {
                m.iter()
                    .any(|q| q["MetricStat"]["Metric"]["MetricName"] == name)
            })
    };
    let metric = |name: &str| alarms.iter().filter(|a| watches(a, name)).count();
    assert_eq!(metric("Errors"), 4, "one per function");
    assert_eq!(metric("Throttles"), 4);
    for name in [
        "5xx",
        "Latency",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
        "SMSMonthToDateSpentUSD",
        "Reputation.BounceRate",
        "Reputation.ComplaintRate",
        "StoreUnavailable",
        "RefreshReuse",
        "Lockout",
    ] {
        assert_eq!(metric(name), 1, "{name}");
    }
    let topic_alarms = alarms
        .iter()
        .filter(|a| !a["AlarmActions"].as_array().is_none_or(Vec::is_empty))
        .count();
    assert_eq!(topic_alarms, alarms.len(), "every alarm notifies");
    assert_eq!(of_type(&r, "AWS::SNS::Subscription").len(), 1);

    let table = of_type(&r, "AWS::DynamoDB::Table");
    assert_eq!(table[0]["DeletionProtectionEnabled"], true);
    assert_eq!(
        table[0]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}

#[test]
fn by_default_there_are_no_domains_and_no_cors() {
    let r = render(json!({}));
    assert!(of_type(&r, "AWS::ApiGatewayV2::DomainName").is_empty());
    assert!(of_type(&r, "AWS::Route53::RecordSet").is_empty());
    assert!(of_type(&r, "AWS::SNS::Subscription").is_empty());
    assert_eq!(cors(&r), Value::Null);
    for f in functions(&r) {
        assert_eq!(f["Environment"]["Variables"]["POLYAUTH_CORS_ORIGINS"], "");
    }
}
