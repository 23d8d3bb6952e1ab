//! `polyauth admin import` through the real binary, on the embedded store and on DynamoDB:
//! users of each original keep their passwords (hashed as that original did) and their ids,
//! every dialect shows those ids, the first login upgrades the hash to argon2id, and a second
//! run, clashes, bad lines and `--dry-run` are reported without half-writes.

use crate::support::*;
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use serde_json::{json, Value};
use std::{io::Write as _, process::Output};

const OBJECT_ID: &str = "5d3f0c1e9b1e8a0001a1b2c3";

fn jsonl(lines: &[Value]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    for l in lines {
        writeln!(f, "{l}").expect("written");
    }
    f
}

fn import(d: &Deployment, file: &tempfile::NamedTempFile, flags: &[&str]) -> (i32, Value) {
    let path = file.path().to_str().expect("utf-8 path");
    let mut args = vec!["import", path];
    args.extend_from_slice(flags);
    let out: Output = d.admin(&args);
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "import printed no JSON: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), summary)
}

/// Each original's own hash of each user's password, made with that original's algorithm and
/// parameters.
fn originals() -> Vec<Value> {
    let pauli = bcrypt::hash_with_result("pauli-pass-1", 12)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoB);
    let mut dk = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"nocode-pass-1", b"nocodesalt123", 260_000, &mut dk);
    let django = format!("pbkdf2_sha256$260000$nocodesalt123${}", STANDARD.encode(dk));
    let alnitak = bcrypt::hash_with_result("alnitak-pass-1", 10)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA);
    let flame: String = {
        use md5::Digest;
        md5::Md5::digest(b"flame-pass-1")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let params = sha_crypt::Sha512Params::new(656_000).unwrap();
    let biji = sha_crypt::sha512_simple("biji-pass-1", &params).unwrap();
    vec![
        json!({"id": OBJECT_ID, "email": "pauli@example.com", "name": "Pauli Admin",
               "password_hash": pauli, "permissions": ["pauli:user:audit"],
               "created_at": "2020-01-02T03:04:05Z"}),
        json!({"id": 11, "username": "nocode", "email": "nocode@example.com", "password_hash": django}),
        json!({"id": 22, "email": "alnitak@example.com", "password_hash": alnitak}),
        json!({"id": 33, "mobile": "13312340033", "email": "flame@example.com", "password_hash": flame}),
        json!({"id": 44, "username": "bijiuser", "password_hash": biji}),
    ]
}

async fn post(c: &reqwest::Client, s: &Server, path: &str, body: Value) -> (u16, Value) {
    let res = c.post(s.url(path)).json(&body).send().await.unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

async fn form(c: &reqwest::Client, s: &Server, username: &str, password: &str) -> (u16, Value) {
    let res = c
        .post(s.url("/auth/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Signs a user in through one dialect; answers the id that dialect shows, or the refusal.
async fn sign_in(s: &Server, dialect: &str, who: &str, password: &str) -> Result<Value, Value> {
    let c = s.client();
    match dialect {
        "000" => {
            let res = c
                .put(s.url("/pauli/auth/api/pass/login"))
                .json(&json!({"username": who, "password": password}))
                .send()
                .await
                .unwrap();
            let b: Value = res.json().await.unwrap();
            (b["code"] == 0)
                .then(|| b["result"]["user_id"].clone())
                .ok_or(b)
        }
        "001" => {
            let (status, b) = post(
                &c,
                s,
                "/auth/",
                json!({"username": who, "password": password}),
            )
            .await;
            (status == 200)
                .then(|| jwt_claims(b["access_token"].as_str().unwrap())["user_id"].clone())
                .ok_or(b)
        }
        "002" => {
            let (_, b) = post(
                &c,
                s,
                "/api/v1/auth/login",
                json!({"email": who, "password": password}),
            )
            .await;
            (b["code"] == 200)
                .then(|| b["data"]["userId"].clone())
                .ok_or(b)
        }
        "003" => {
            let (status, b) = post(
                &c,
                s,
                "/v1/auth/login",
                json!({"account": who, "password": password}),
            )
            .await;
            (status == 200).then(|| b["user"]["id"].clone()).ok_or(b)
        }
        "004" => {
            let (status, b) = form(&c, s, who, password).await;
            (status == 200).then(|| b["data"]["id"].clone()).ok_or(b)
        }
        other => panic!("no dialect {other}"),
    }
}

#[tokio::test]
async fn originals_users_sign_in_with_their_passwords_and_ids_embedded() {
    originals_users_sign_in_with_their_passwords_and_ids(Deployment::local()).await;
}

#[tokio::test]
async fn originals_users_sign_in_with_their_passwords_and_ids_on_moto() {
    originals_users_sign_in_with_their_passwords_and_ids(Deployment::aws().await).await;
}

async fn originals_users_sign_in_with_their_passwords_and_ids(d: Deployment) {
    let file = jsonl(&originals());
    let (code, summary) = import(&d, &file, &["--md5"]);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["imported"], 5, "{summary}");
    let shown = d.admin_json(&["show", "flame@example.com"]);
    assert_eq!(
        shown["password_hash"], "md5 (wrapped in argon2id)",
        "{shown}"
    );
    let shown = d.admin_json(&["show", "pauli@example.com"]);
    assert_eq!(shown["legacy_id"], OBJECT_ID, "{shown}");
    let pauli_id = shown["id"].clone();

    // (who, password, the seed's own dialect, another dialect, the id each shows)
    let cases = [
        (
            "pauli@example.com",
            "pauli-pass-1",
            "000",
            json!(OBJECT_ID),
            "002",
            pauli_id,
        ),
        (
            "nocode",
            "nocode-pass-1",
            "001",
            json!(11),
            "004",
            json!(11),
        ),
        (
            "alnitak@example.com",
            "alnitak-pass-1",
            "002",
            json!(22),
            "003",
            json!(22),
        ),
        (
            "13312340033",
            "flame-pass-1",
            "003",
            json!(33),
            "001",
            json!(33),
        ),
        (
            "bijiuser",
            "biji-pass-1",
            "004",
            json!(44),
            "001",
            json!(44),
        ),
    ];
    let s = d.start().await;
    for (who, password, own, own_id, other, other_id) in &cases {
        let refused = sign_in(&s, own, who, "not-the-pass-9").await;
        assert!(refused.is_err(), "{who} through {own}: {refused:?}");
        assert_eq!(
            sign_in(&s, own, who, password).await,
            Ok(own_id.clone()),
            "{who} through {own}"
        );
        assert_eq!(
            sign_in(&s, other, who, password).await,
            Ok(other_id.clone()),
            "{who} through {other}"
        );
    }
    // The imported auditor reads the records of a user named by the original's ObjectId.
    let c = s.client();
    let res = c
        .put(s.url("/pauli/auth/api/pass/login"))
        .json(&json!({"username": "pauli@example.com", "password": "pauli-pass-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["code"], 0);
    let records: Value = c
        .get(s.url(&format!("/pauli/auth/api/record?user_id={OBJECT_ID}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(records["code"], 0, "{records}");
    let logs = records["result"]["logs"].as_array().unwrap();
    assert!(!logs.is_empty(), "{records}");
    assert!(logs.iter().all(|l| l["user_id"] == OBJECT_ID), "{records}");

    // A new registration gets an id above every imported one.
    let (status, made) = post(
        &c,
        &s,
        "/auth/create",
        json!({"username": "newcomer", "password": "arrival-pass-1", "email": "newcomer@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    assert!(made["id"].as_u64().unwrap() > 44, "{made}");

    // After the first login every hash is argon2id, and wrong passwords are still refused.
    for (who, password, own, own_id, _, _) in &cases {
        assert!(sign_in(&s, own, who, "not-the-pass-9").await.is_err());
        assert_eq!(sign_in(&s, own, who, password).await, Ok(own_id.clone()));
    }
    s.stop();
    for who in [
        "pauli@example.com",
        "nocode",
        "alnitak@example.com",
        "flame@example.com",
        "bijiuser",
    ] {
        let shown = d.admin_json(&["show", who]);
        assert_eq!(shown["password_hash"], "argon2id", "{who}: {shown}");
    }
}

#[tokio::test]
async fn reimport_conflicts_bad_lines_and_dry_run_embedded() {
    reimport_conflicts_bad_lines_and_dry_run(Deployment::local()).await;
}

#[tokio::test]
async fn reimport_conflicts_bad_lines_and_dry_run_on_moto() {
    reimport_conflicts_bad_lines_and_dry_run(Deployment::aws().await).await;
}

async fn reimport_conflicts_bad_lines_and_dry_run(d: Deployment) {
    let good = [
        json!({"id": 1, "email": "one@example.com"}),
        json!({"id": 2, "email": "two@example.com", "disabled": true}),
        json!({"id": "abc123", "username": "third"}),
    ];
    let mut lines = good.to_vec();
    lines.push(json!({"id": 4, "email": "four@example.com", "nickname": "x"}));
    lines.push(json!({"id": 1, "email": "again@example.com"}));
    lines.push(json!({"id": 5, "email": "one@example.com"}));
    let mut file = tempfile::NamedTempFile::new().unwrap();
    // A byte-order mark before the first line, as Excel's and PowerShell's exports write.
    write!(file, "\u{feff}").unwrap();
    for l in &lines {
        writeln!(file, "{l}").unwrap();
    }
    writeln!(file, "{{not json").unwrap();
    // Django's usernames are case-sensitive, polyauth's are not: the second is a clash, never
    // a user written over the first one's claim.
    writeln!(
        file,
        r#"{{"id": 10, "username": "Bobcase", "disabled": null, "permissions": null}}"#
    )
    .unwrap();
    writeln!(file, "{}", json!({"id": 11, "username": "bobcase"})).unwrap();
    writeln!(
        file,
        "{}",
        json!({"id": 9_007_199_254_740_992_u64, "email": "big@example.com"})
    )
    .unwrap();

    let (code, dry) = import(&d, &file, &["--dry-run"]);
    assert_eq!(code, 2, "{dry}");
    assert_eq!(
        (dry["dry_run"].clone(), dry["imported"].clone()),
        (json!(true), json!(4))
    );
    let invalid: Vec<(u64, String)> = dry["invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["line"].as_u64().unwrap(),
                i["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        invalid,
        [
            (4, "nickname".to_string()),
            (7, "line".to_string()),
            (10, "id".to_string())
        ]
    );
    let conflicts: Vec<u64> = dry["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["line"].as_u64().unwrap())
        .collect();
    assert_eq!(conflicts, [5, 6, 9]);
    assert!(
        !d.admin(&["show", "one@example.com"]).status.success(),
        "a dry run writes nothing"
    );

    let (code, first) = import(&d, &file, &[]);
    assert_eq!(code, 2, "{first}");
    assert_eq!(
        (first["imported"].clone(), first["skipped"].clone()),
        (json!(4), json!(0))
    );
    assert_eq!(d.admin_json(&["show", "bobcase"])["id"], 10);
    assert_ne!(
        d.admin_json(&["show", "11"])["username"],
        "bobcase",
        "the second of a case-only pair is not written"
    );
    assert_eq!(d.admin_json(&["show", "1"])["email"], "one@example.com");
    assert_eq!(
        d.admin_json(&["show", "two@example.com"])["status"],
        "disabled"
    );
    assert_eq!(d.admin_json(&["show", "third"])["legacy_id"], "abc123");

    let again = jsonl(&good);
    let (code, second) = import(&d, &again, &[]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(
        (second["imported"].clone(), second["skipped"].clone()),
        (json!(0), json!(3))
    );

    let clashing = jsonl(&[
        json!({"id": 2, "email": "other@example.com"}),
        json!({"id": 9, "email": "one@example.com"}),
    ]);
    let (code, third) = import(&d, &clashing, &[]);
    assert_eq!(code, 2, "{third}");
    assert_eq!(third["imported"], 0, "{third}");
    let reasons: Vec<&str> = third["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].contains("id is taken"), "{reasons:?}");
    assert!(reasons[1].contains("email"), "{reasons:?}");
    assert!(
        !d.admin(&["show", "9"]).status.success(),
        "nothing half-written"
    );
    assert!(!d.admin(&["show", "other@example.com"]).status.success());
}

/// A mobile texts may not go to is imported, and the operator is told which lines hold one:
/// seed 000's SMS step cannot reach those users until their country is enabled.
#[tokio::test]
async fn mobiles_texts_cannot_reach_are_reported() {
    let d = Deployment::local();
    let file = jsonl(&[
        json!({"id": 1, "email": "near@example.com", "mobile": "13312341234"}),
        json!({"id": 2, "email": "far@example.com", "mobile": "+14155550123"}),
    ]);
    let (code, summary) = import(&d, &file, &[]);
    assert_eq!(code, 0, "a warning is not a failure: {summary}");
    assert_eq!(summary["imported"], 2, "{summary}");
    assert_eq!(summary["unreachable_mobiles"], json!([2]), "{summary}");
}

/// A dry run against a store that does not exist yet checks the file and creates nothing: no
/// data directory, no store file.
#[tokio::test]
async fn a_dry_run_on_no_store_creates_none() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("never-made");
    let file = jsonl(&[json!({"id": 1, "email": "one@example.com"})]);
    let path = file.path().to_str().unwrap();
    let out = admin(&data_dir, &["import", path, "--dry-run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&summary["dry_run"], &summary["imported"]),
        (&json!(true), &json!(1))
    );
    assert!(!data_dir.exists(), "a dry run made {}", data_dir.display());
}
