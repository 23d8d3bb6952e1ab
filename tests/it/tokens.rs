//! Tokens the rest of each app accepts: polyauth's tokens verified by the originals' own
//! libraries (PyJWT 1.7.1, itsdangerous 1.1.0, run as the apps call them) and RS256 tokens by
//! the published JWKS alone; a signing-key rotation that voids nothing in flight.

use crate::support::{self, moto::legacy_verifiers, Deployment, Server};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};
use std::{io::Write, process::Stdio};

/// Runs each check with the original's library: `pyjwt` as `jwt.decode(token, key,
/// algorithms=...)` (with the JWK's RSA key when one is given), `itsdangerous` as
/// `TimedJSONWebSignatureSerializer(secret_key=...).loads(token)`. Answers `{"ok": payload}` or
/// `{"refused": "<exception>"}` per check.
const VERIFY: &str = r#"
import json, sys
import jwt
from itsdangerous import TimedJSONWebSignatureSerializer
assert jwt.__version__ == "1.7.1", jwt.__version__
out = []
for c in json.load(sys.stdin):
    try:
        if c["with"] == "pyjwt":
            key = c.get("secret")
            if "jwk" in c:
                key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(c["jwk"]))
            extra = {"audience": c["audience"]} if "audience" in c else {}
            payload = jwt.decode(c["token"], key, algorithms=c["algorithms"], **extra)
        else:
            payload = TimedJSONWebSignatureSerializer(secret_key=c["secret"]).loads(c["token"])
        out.append({"ok": payload})
    except Exception as e:
        out.append({"refused": type(e).__name__})
print(json.dumps(out))
"#;

fn verify_in_python(checks: &[Value]) -> Vec<Value> {
    let (python, verifiers) = legacy_verifiers();
    let mut child = std::process::Command::new(python)
        .args(["-c", VERIFY])
        .env("PYTHONPATH", verifiers)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::from(checks.to_vec()).to_string().as_bytes())
        .expect("checks written");
    let out = child.wait_with_output().expect("python ends");
    assert!(
        out.status.success(),
        "verifier failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("verifier prints JSON")
}

const DJANGO: &str = "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz";
const ALNITAK: &str = "4921375084625193";
const FLAME: &str = "shared-secret";
const BIJI: &str = "7f2c5a8e-1b3d-4e6f-9a0b-c1d2e3f4a5b6";

async fn json_post(s: &Server, path: &str, body: Value) -> Value {
    let res = reqwest::Client::new()
        .post(s.url(path))
        .json(&body)
        .send()
        .await
        .expect("answered");
    res.json().await.expect("JSON")
}

async fn form_login(s: &Server, username: &str, password: &str) -> String {
    let b: Value = reqwest::Client::new()
        .post(s.url("/auth/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    b["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token: {b}"))
        .to_string()
}

async fn form_whoami(s: &Server, token: &str) -> u16 {
    reqwest::Client::new()
        .get(s.url("/auth"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16()
}

fn header(token: &str) -> Value {
    let head = token.split('.').next().expect("a header");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).expect("base64url")).expect("JSON")
}

/// A user every dialect can sign in, made by the admin command beside the running server.
fn create_user(s: &Server, username: &str, email: &str, password: &str) -> u64 {
    let made = support::admin_json(
        &s.data_dir,
        &[
            "create-user",
            "--username",
            username,
            "--email",
            email,
            "--password",
            password,
        ],
    );
    made["id"].as_u64().expect("an id")
}

#[tokio::test]
async fn legacy_tokens_verify_with_the_originals_own_libraries() {
    let d = Deployment::local();
    let s = d
        .start_with(&[
            ("POLYAUTH_LEGACY_SECRET_AUTH_JSON", DJANGO),
            ("POLYAUTH_LEGACY_SECRET_API_V1", ALNITAK),
            ("POLYAUTH_LEGACY_SECRET_V1", FLAME),
            ("POLYAUTH_LEGACY_SECRET_AUTH_FORM", BIJI),
        ])
        .await;
    let (email, password) = ("legacy@example.com", "tulip-river-93");
    let id = create_user(&s, "legacyuser", email, password);

    let b = json_post(
        &s,
        "/auth",
        json!({"username": "legacyuser", "password": password}),
    )
    .await;
    let django = b["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    let b = json_post(
        &s,
        "/api/v1/auth/login",
        json!({"email": email, "password": password}),
    )
    .await;
    let alnitak = b["data"]["token"].as_str().expect("token").to_string();
    let b = json_post(
        &s,
        "/v1/auth/login",
        json!({"account": email, "password": password}),
    )
    .await;
    let flame = b["token"].as_str().expect("token").to_string();
    let biji = form_login(&s, "legacyuser", password).await;

    let pyjwt = |token: &str, secret: &str| {
        // Seed 001's app passes `algorithms="HS256"`, a string; the others a list.
        json!({"with": "pyjwt", "token": token, "secret": secret, "algorithms": "HS256"})
    };
    let itsdangerous = |token: &str, secret: &str| json!({"with": "itsdangerous", "token": token, "secret": secret});
    let originals = [
        pyjwt(&django, DJANGO),
        pyjwt(&alnitak, ALNITAK),
        pyjwt(&flame, FLAME),
        itsdangerous(&biji, BIJI),
    ];
    let got = verify_in_python(&originals);
    let payloads: Vec<&Value> = got
        .iter()
        .map(|g| g.get("ok").unwrap_or_else(|| panic!("refused: {got:?}")))
        .collect();
    assert_eq!(payloads[0]["type"], "access_token");
    assert_eq!(payloads[0]["user_id"], id);
    assert_eq!(payloads[1]["UserId"], id);
    assert_eq!(payloads[1]["TokenType"], 0);
    assert_eq!(payloads[1]["iss"], "alnitak");
    assert_eq!(payloads[2]["data"]["id"], id);
    assert_eq!(payloads[3]["uid"], id);
    assert_eq!(header(&biji)["alg"], "HS512");

    // Each original's verifier refuses every other profile's token (and a forged one).
    let mut crossed = Vec::new();
    let tokens = [&django, &alnitak, &flame, &biji];
    for (i, token) in tokens.iter().enumerate() {
        for (j, secret) in [DJANGO, ALNITAK, FLAME].iter().enumerate() {
            if i != j {
                crossed.push(pyjwt(token, secret));
            }
        }
        if i != 3 {
            crossed.push(itsdangerous(token, BIJI));
        }
    }
    // The signature's first character carries six whole bits; its last carries padding bits
    // a lenient base64 decoder ignores, so that one is no place to tamper.
    let cut = django.rfind('.').expect("a signature") + 1;
    let swapped = if django[cut..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let forged = format!("{}{swapped}{}", &django[..cut], &django[cut + 1..]);
    crossed.push(pyjwt(&forged, DJANGO));
    for (check, verdict) in crossed.iter().zip(verify_in_python(&crossed)) {
        assert!(
            verdict.get("refused").is_some(),
            "{check} was taken: {verdict}"
        );
    }

    // polyauth takes them too, and still ends a session at once (the app's own verifier,
    // checking signature and expiry only, would not notice: the README says so).
    assert_eq!(form_whoami(&s, &biji).await, 200);
    let out = reqwest::Client::new()
        .post(s.url("/auth/logout"))
        .bearer_auth(&biji)
        .send()
        .await
        .expect("answered");
    assert_eq!(out.status().as_u16(), 200);
    assert_eq!(form_whoami(&s, &biji).await, 401);
}

#[tokio::test]
async fn rs256_tokens_verify_by_the_jwks_and_a_rotation_voids_nothing_in_flight() {
    let d = Deployment::local();
    let s = d
        .start_with(&[("POLYAUTH_TOKEN_PROFILE_AUTH_FORM", "rs256")])
        .await;
    let c = reqwest::Client::new();
    let get = |path: &str| {
        let c = c.clone();
        let url = s.url(path);
        async move {
            let res = c.get(url).send().await.expect("answered");
            assert_eq!(res.status().as_u16(), 200);
            res.json::<Value>().await.expect("JSON")
        }
    };
    let discovery = get("/.well-known/openid-configuration").await;
    assert_eq!(discovery["issuer"], "polyauth");
    assert_eq!(
        discovery["jwks_uri"],
        s.url("/.well-known/jwks.json"),
        "{discovery}"
    );

    let (email, password) = ("rotate@example.com", "amber-canyon-57");
    let id = create_user(&s, "rotator", email, password);
    let before = form_login(&s, "rotator", password).await;
    let old_kid = header(&before)["kid"].as_str().expect("a kid").to_string();
    assert_eq!(header(&before)["alg"], "RS256");
    let b = json_post(
        &s,
        "/api/v1/auth/login",
        json!({"email": email, "password": password}),
    )
    .await;
    let refresh = b["data"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_string();
    let newcomer = "newcomer@example.com";
    let b = json_post(
        &s,
        "/v1/auth/send-code",
        json!({"account": newcomer, "flag": "register"}),
    )
    .await;
    let code = b["code"].to_string();

    let rotation = support::admin_json(&s.data_dir, &["rotate-signing-key", "--activate-in", "0"]);
    let new_kid = rotation["kid"].as_str().expect("kid").to_string();
    assert_ne!(new_kid, old_kid);
    let jwks = get("/.well-known/jwks.json").await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);

    // In flight before the rotation: the access token, the refresh token, the mailed code.
    assert_eq!(form_whoami(&s, &before).await, 200);
    let b = json_post(
        &s,
        "/api/v1/auth/updateToken",
        json!({"refreshToken": refresh}),
    )
    .await;
    assert_eq!(b["code"], 200, "{b}");
    let renewed = b["data"]["token"].as_str().expect("token");
    assert_eq!(header(renewed)["kid"], new_kid.as_str());
    let b = json_post(
        &s,
        "/v1/auth/check-code",
        json!({"account": newcomer, "code": code}),
    )
    .await;
    assert!(b.get("error").is_none(), "{b}");
    let after = form_login(&s, "rotator", password).await;
    assert_eq!(header(&after)["kid"], new_kid.as_str());

    // Both verify with PyJWT given only the published key of their kid and the audience.
    let jwk = |kid: &str| {
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["kid"] == kid)
            .cloned()
            .expect("published")
    };
    let checks = [
        json!({"with": "pyjwt", "token": before, "jwk": jwk(&old_kid), "algorithms": ["RS256"], "audience": "polyauth"}),
        json!({"with": "pyjwt", "token": after, "jwk": jwk(&new_kid), "algorithms": ["RS256"], "audience": "polyauth"}),
        json!({"with": "pyjwt", "token": after, "jwk": jwk(&old_kid), "algorithms": ["RS256"], "audience": "polyauth"}),
        json!({"with": "pyjwt", "token": after, "jwk": jwk(&new_kid), "algorithms": ["RS256"], "audience": "another-api"}),
    ];
    let got = verify_in_python(&checks);
    assert_eq!(got[0]["ok"]["user_id"], id, "{got:?}");
    assert_eq!(got[1]["ok"]["user_id"], id, "{got:?}");
    assert_eq!(got[2]["refused"], "InvalidSignatureError", "{got:?}");
    assert_eq!(got[3]["refused"], "InvalidAudienceError", "{got:?}");
}
