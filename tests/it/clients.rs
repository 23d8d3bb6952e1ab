//! Each original's real client, end to end over HTTP, asserting the wire contract
//! (`API-NOTES.md`), not the current code: one scenario per dialect doing what that original's
//! client does, and a sweep of bad bodies over every route of the two dialects whose originals
//! always answered HTTP 200 (000 and 002).
//!
//! Every scenario runs on the embedded store with the dev outbox (`_embedded`) and on the AWS
//! adapters against moto (`_on_moto`); 002's expired-access-token case needs a one-second access
//! lifetime (`POLYAUTH_ACCESS_TTL=1`), which only the local harness can pass, so it runs embedded
//! only.

use crate::support::*;
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// Sends a request with a raw body (and an optional content type and Authorization header):
/// status, headers and the body as text.
async fn send_raw(
    c: &reqwest::Client,
    s: &Server,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    auth: Option<&str>,
    body: Vec<u8>,
) -> (u16, HeaderMap, String) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut req = c.request(m, s.url(path));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let res = req
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: the request is answered: {e}"));
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("a body");
    (status, headers, text)
}

fn parse(method: &str, path: &str, text: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{method} {path}: the answer is JSON ({e}): {text:?}"))
}

/// The payload (middle part) of a JWT.
fn jwt_payload(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {token}");
    let bytes = URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .expect("a base64url payload");
    serde_json::from_slice(&bytes).expect("a JSON payload")
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// An id printed by the admin command, as the decimal string seed 000 uses.
fn id_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("an id: {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 002 — `/api/v1/auth` and `/api/v1/verify` (alnitak's Nuxt / Flutter clients)
// ---------------------------------------------------------------------------------------------

/// One 002 call as the axios client makes it: JSON body, bare token in `Authorization`.
/// Every answer is HTTP 200 with the `{code, data, msg}` envelope.
async fn v1(
    c: &reqwest::Client,
    s: &Server,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> Value {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut req = c.request(m, s.url(path));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: the request is answered: {e}"));
    let status = res.status().as_u16();
    let text = res.text().await.expect("a body");
    assert_eq!(
        status, 200,
        "{method} {path}: every 002 answer is HTTP 200: {text}"
    );
    let v = parse(method, path, &text);
    assert!(
        v["code"].is_i64() && v["msg"].is_string() && v.get("data").is_some(),
        "{method} {path}: the {{code, data, msg}} envelope: {v}"
    );
    v
}

fn assert_code_msg(r: &Value, code: i64, msg: &str) {
    assert_eq!(
        (&r["code"], &r["msg"]),
        (&json!(code), &json!(msg)),
        "expected {code} {msg}: {r}"
    );
}

/// The captcha id of a -1 answer.
fn captcha_id(r: &Value) -> String {
    assert_code_msg(r, -1, "需要人机验证");
    r["data"]["captchaId"]
        .as_str()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| panic!("data.captchaId: {r}"))
        .to_string()
}

/// A decoded image's size (the page draws it as it comes).
struct Img {
    w: usize,
    h: usize,
}

fn decode_png(b64: &str) -> Img {
    assert!(
        !b64.starts_with("data:"),
        "base64 without a data: prefix (the client adds it)"
    );
    let bytes = STANDARD.decode(b64).expect("standard base64");
    let mut reader = png::Decoder::new(bytes.as_slice())
        .read_info()
        .expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    Img {
        w: info.width as usize,
        h: info.height as usize,
    }
}

/// Where the piece's left edge goes: what the person at the page sees (a bot cannot read it
/// off the images: the gap is noised and has decoys), read from the deployment.
async fn slider_answer(s: &Server, id: &str) -> i64 {
    s.captcha_answer(id).await
}

fn captcha_get_path(id: &str) -> String {
    let q = serde_urlencoded::to_string([("captchaId", id)]).expect("a query");
    format!("/api/v1/verify/captcha/get?{q}")
}

/// `GET /api/v1/verify/captcha/get`: the rendering, checked against the contract's shape.
async fn fetch_slider(c: &reqwest::Client, s: &Server, id: &str) -> (Img, Img, usize) {
    let r = v1(c, s, "GET", &captcha_get_path(id), None, None).await;
    assert_code_msg(&r, 200, "ok");
    let sc = &r["data"]["slider_captcha"];
    let keys: Vec<&String> = sc
        .as_object()
        .expect("data.slider_captcha")
        .keys()
        .collect();
    assert_eq!(keys.len(), 3, "slider_img, bg_img, y: {keys:?}");
    let bg = decode_png(sc["bg_img"].as_str().expect("bg_img"));
    let piece = decode_png(sc["slider_img"].as_str().expect("slider_img"));
    let y = sc["y"].as_u64().expect("an integer y") as usize;
    assert_eq!((bg.w, bg.h), (310, 160), "background 310x160");
    assert_eq!((piece.w, piece.h), (50, 50), "piece 50x50");
    assert!(y + 50 <= 160, "the piece fits vertically: y={y}");
    (bg, piece, y)
}

/// What the page does: fetch the slider, drag it, validate; a miss asks for a new rendering.
async fn solve_captcha(c: &reqwest::Client, s: &Server, id: &str) {
    let mut last = Value::Null;
    for _ in 0..3 {
        fetch_slider(c, s, id).await;
        let x = slider_answer(s, id).await;
        last = v1(
            c,
            s,
            "POST",
            "/api/v1/verify/captcha/validate",
            None,
            Some(json!({"captchaId": id, "x": x})),
        )
        .await;
        if last["code"] == 200 {
            assert_eq!(last["msg"], "ok", "{last}");
            return;
        }
    }
    panic!("captcha {id} not solved: {last}");
}

/// The `{token, refreshToken, userId}` of a login, login/email or updateToken answer.
fn token_pair(r: &Value) -> (String, String, u64) {
    assert_code_msg(r, 200, "ok");
    let d = r["data"].as_object().unwrap_or_else(|| panic!("data: {r}"));
    let mut keys: Vec<&str> = d.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["refreshToken", "token", "userId"], "{r}");
    let token = d["token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .expect("token");
    let refresh = d["refreshToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .expect("refreshToken");
    let user_id = d["userId"].as_u64().expect("an unsigned userId");
    (token.to_string(), refresh.to_string(), user_id)
}

#[tokio::test]
async fn api_v1_web_client_embedded() {
    api_v1_web_client(Server::start().await).await;
}

#[tokio::test]
async fn api_v1_web_client_on_moto() {
    api_v1_web_client(Server::start_aws().await).await;
}

async fn api_v1_web_client(s: Server) {
    // The Flutter and server-side clients keep no cookies; the body carries the refresh token.
    let c = reqwest::Client::new();
    let email = "web-client@example.com";
    let password = "web-secret-1";

    // The register page asks for a code: first a human check.
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/verify/getEmailCode",
        None,
        Some(json!({"email": email})),
    )
    .await;
    let id = captcha_id(&r);

    // An id polyauth never issued renders nothing.
    let r = v1(
        &c,
        &s,
        "GET",
        &captcha_get_path("no-such-captcha"),
        None,
        None,
    )
    .await;
    assert_code_msg(&r, 500, "获取失败");

    // A miss is refused and spends the rendering; the page asks for a new one and solves it.
    fetch_slider(&c, &s, &id).await;
    let guess = slider_answer(&s, &id).await;
    let miss = if guess >= 130 {
        guess - 100
    } else {
        guess + 100
    };
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/verify/captcha/validate",
        None,
        Some(json!({"captchaId": id, "x": miss})),
    )
    .await;
    assert_code_msg(&r, 500, "滑块验证失败");
    solve_captcha(&c, &s, &id).await;
    // A solved id renders no more.
    let r = v1(&c, &s, "GET", &captcha_get_path(&id), None, None).await;
    assert_code_msg(&r, 500, "获取失败");

    // With the solved id the code is mailed.
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/verify/getEmailCode",
        None,
        Some(json!({"email": email, "captchaId": id})),
    )
    .await;
    assert_code_msg(&r, 200, "ok");
    // The page starts its countdown from `res.data.data.countdown || 60`: `data` must be an
    // object (the original's `resp.Ok` `{}`), or the page throws before the countdown.
    assert_eq!(r["data"], json!({}), "{r}");
    let code = s.last_code(email).await;
    assert_eq!(code.len(), 6, "{code}");

    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/register",
        None,
        Some(json!({"email": email, "password": password, "code": code})),
    )
    .await;
    assert_eq!(r, json!({"code": 200, "data": null, "msg": "ok"}));

    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await;
    let (access, refresh, user_id) = token_pair(&r);
    let claims = jwt_payload(&access);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600,
        "access token valid 1 h (seed): {claims}"
    );

    // Logout checks a token it is sent: garbage is 2000 (the client logs the user out), HTTP
    // 200 (a refresh token sent with it would be void all the same). Without any
    // `Authorization`, the refresh token alone decides (the original's logout needed none):
    // none is bad parameters.
    let r = v1(&c, &s, "POST", "/api/v1/auth/logout", None, Some(json!({}))).await;
    assert_code_msg(&r, 500, "请求参数有误");
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/logout",
        Some("not-a-token"),
        Some(json!({"refreshToken": "not-a-refresh-token"})),
    )
    .await;
    assert_code_msg(&r, 2000, "token验证失败");

    // updateToken rotates: a new pair for the same user.
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/updateToken",
        None,
        Some(json!({"refreshToken": refresh})),
    )
    .await;
    let (access2, refresh2, user_id2) = token_pair(&r);
    assert_eq!(user_id2, user_id);
    assert_ne!(refresh2, refresh, "the refresh token rotates");

    // Logout without any refresh token (no body field, no cookie): bad parameters, ends nothing.
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/logout",
        Some(access2.as_str()),
        Some(json!({})),
    )
    .await;
    assert_code_msg(&r, 500, "请求参数有误");

    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/logout",
        Some(access2.as_str()),
        Some(json!({"refreshToken": refresh2})),
    )
    .await;
    assert_eq!(r, json!({"code": 200, "data": null, "msg": "ok"}));
    // The client retries (e.g. after a network hiccup): the refresh token is unknown now.
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/logout",
        Some(access2.as_str()),
        Some(json!({"refreshToken": refresh2})),
    )
    .await;
    assert_eq!(r["code"], 2000, "{r}");
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/updateToken",
        None,
        Some(json!({"refreshToken": refresh2})),
    )
    .await;
    assert_eq!(r["code"], 2000, "a logged-out refresh token: {r}");

    // A body that is not JSON.
    let (status, _, text) = send_raw(
        &c,
        &s,
        "POST",
        "/api/v1/auth/login",
        Some("application/json"),
        None,
        b"not json".to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_code_msg(
        &parse("POST", "/api/v1/auth/login", &text),
        500,
        "请求参数有误",
    );

    // Three wrong passwords each answer their refusal; the fourth attempt needs a human.
    for _ in 0..3 {
        let r = v1(
            &c,
            &s,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": "wrong-secret"})),
        )
        .await;
        assert_code_msg(&r, 500, "用户名密码不匹配");
    }
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await;
    let id = captcha_id(&r);
    solve_captcha(&c, &s, &id).await;
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password, "captchaId": id})),
    )
    .await;
    let (_, _, again) = token_pair(&r);
    assert_eq!(again, user_id);
}

#[tokio::test]
async fn api_v1_expired_access_token_answers_3000_and_the_client_refreshes_embedded() {
    api_v1_expired_access_token_answers_3000_and_the_client_refreshes(Deployment::local()).await;
}

#[tokio::test]
async fn api_v1_expired_access_token_answers_3000_and_the_client_refreshes_on_moto() {
    api_v1_expired_access_token_answers_3000_and_the_client_refreshes(Deployment::aws().await)
        .await;
}

async fn api_v1_expired_access_token_answers_3000_and_the_client_refreshes(d: Deployment) {
    let email = "expiry@example.com";
    d.admin_json(&[
        "create-user",
        "--email",
        email,
        "--password",
        "lapse-pass-1",
        "--name",
        "Expiry",
    ]);
    let s = d.start_with(&[("POLYAUTH_ACCESS_TTL", "1")]).await;
    let c = reqwest::Client::new();
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": "lapse-pass-1"})),
    )
    .await;
    let (access, refresh, user_id) = token_pair(&r);
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/logout",
        Some(access.as_str()),
        Some(json!({"refreshToken": refresh})),
    )
    .await;
    assert_code_msg(&r, 3000, "TOKEN过期");
    let bearer = format!("Bearer {access}");
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/logout",
        Some(bearer.as_str()),
        Some(json!({"refreshToken": refresh})),
    )
    .await;
    assert_code_msg(&r, 3000, "TOKEN过期");

    // The client's reaction to 3000 is to refresh: the refresh token is void already (the
    // logout took effect whatever the access token's state), so 2000, and the client signs
    // the user out, which is what the user asked for.
    let r = v1(
        &c,
        &s,
        "POST",
        "/api/v1/auth/updateToken",
        None,
        Some(json!({"refreshToken": refresh})),
    )
    .await;
    assert_code_msg(&r, 2000, "token验证失败");
    assert!(user_id > 0);
}

// ---------------------------------------------------------------------------------------------
// 004 — `/auth` form data (Biji's Android app: Retrofit multipart parts)
// ---------------------------------------------------------------------------------------------

const OKHTTP_BOUNDARY: &str = "3f1c9a52-8e0b-4d7e-9a61-5b2f0c4d7e11";

/// A multipart body as Retrofit + OkHttp write it for `@Multipart` with `@Part String`s
/// (scalars converter): every part with `Content-Transfer-Encoding: binary`, a `text/plain`
/// content type and its length.
fn retrofit_multipart(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{OKHTTP_BOUNDARY}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
        );
        body.extend_from_slice(b"Content-Transfer-Encoding: binary\r\n");
        body.extend_from_slice(b"Content-Type: text/plain; charset=UTF-8\r\n");
        body.extend_from_slice(format!("Content-Length: {}\r\n", value.len()).as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{OKHTTP_BOUNDARY}--\r\n").as_bytes());
    (
        format!("multipart/form-data; boundary={OKHTTP_BOUNDARY}"),
        body,
    )
}

/// One 004 call; the HTTP status always equals the body's `code`.
async fn form(
    c: &reqwest::Client,
    s: &Server,
    method: &str,
    path: &str,
    auth: Option<&str>,
    fields: &[(&str, &str)],
) -> (u16, HeaderMap, Value) {
    // The app's bodiless calls (`GET /auth/`, `POST /auth/logout`) send no body at all.
    let (ct, body) = if fields.is_empty() {
        (None, Vec::new())
    } else {
        let (ct, body) = retrofit_multipart(fields);
        (Some(ct), body)
    };
    let (status, headers, text) = send_raw(c, s, method, path, ct.as_deref(), auth, body).await;
    let v = parse(method, path, &text);
    assert_eq!(
        v["code"].as_u64(),
        Some(status as u64),
        "{method} {path}: HTTP status equals the body's code: {v}"
    );
    assert!(v["message"].is_string(), "{method} {path}: {v}");
    (status, headers, v)
}

fn refusal(code: u16, message: &str) -> Value {
    json!({"code": code, "message": message})
}

#[tokio::test]
async fn auth_form_android_client_embedded() {
    auth_form_android_client(Server::start().await).await;
}

#[tokio::test]
async fn auth_form_android_client_on_moto() {
    auth_form_android_client(Server::start_aws().await).await;
}

async fn auth_form_android_client(s: Server) {
    let c = reqwest::Client::new();
    let username = "hoshizora";
    let password = "biji-pass-1";
    let post = "POST";

    let (_, _, b) = form(
        &c,
        &s,
        post,
        "/auth/register",
        None,
        &[("username", username), ("password", password)],
    )
    .await;
    assert_eq!(b["code"], 200, "{b}");
    assert_eq!(b["message"], "Success");
    let id = b["data"]["id"].as_u64().expect("an integer id");
    assert_eq!(b["data"]["username"], username);

    // Refusals, each without `data`.
    let credentials = [("username", username), ("password", password)];
    let (_, _, b) = form(&c, &s, post, "/auth/register", None, &credentials).await;
    assert_eq!(b, refusal(401, "User Existed"));
    let short = [("username", "newcomer"), ("password", "short")];
    let (_, _, b) = form(&c, &s, post, "/auth/register", None, &short).await;
    assert_eq!(b, refusal(400, "Format Error"));
    let no_username = [("password", password)];
    let (_, _, b) = form(&c, &s, post, "/auth/register", None, &no_username).await;
    assert_eq!(b, refusal(400, "Request Form Data Param Error"));
    let no_password = [("username", username)];
    let (_, _, b) = form(&c, &s, post, "/auth/login", None, &no_password).await;
    assert_eq!(b, refusal(400, "Request Form Data Param Error"));
    let unknown = [
        ("username", "nobodyhere"),
        ("password", password),
        ("expiration", "86400"),
    ];
    let (_, _, b) = form(&c, &s, post, "/auth/login", None, &unknown).await;
    assert_eq!(b, refusal(401, "User Not Found"));
    let wrong = [
        ("username", username),
        ("password", "not-the-pass"),
        ("expiration", "86400"),
    ];
    let (_, _, b) = form(&c, &s, post, "/auth/login", None, &wrong).await;
    assert_eq!(b, refusal(401, "Password Error"));

    // Two devices sign in: two sessions. The app reads the token from data.token; the
    // response header carries it too.
    let mut tokens = Vec::new();
    for expiration in ["86400", "3600"] {
        let login = [
            ("username", username),
            ("password", password),
            ("expiration", expiration),
        ];
        let (_, headers, b) = form(&c, &s, post, "/auth/login", None, &login).await;
        assert_eq!(
            (&b["code"], &b["message"]),
            (&json!(200), &json!("Success")),
            "{b}"
        );
        assert_eq!(b["data"]["id"], id, "{b}");
        assert_eq!(b["data"]["username"], username, "{b}");
        let token = b["data"]["token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| panic!("data.token: {b}"))
            .to_string();
        let header = headers
            .get("authorization")
            .expect("an Authorization response header")
            .to_str()
            .expect("ASCII header");
        assert_eq!(header, format!("Bearer {token}"));
        tokens.push(token);
    }
    assert_ne!(tokens[0], tokens[1], "two sessions");
    let bearers: Vec<String> = tokens.iter().map(|t| format!("Bearer {t}")).collect();

    for bearer in &bearers {
        let (_, _, b) = form(&c, &s, "GET", "/auth/", Some(bearer.as_str()), &[]).await;
        assert_eq!(
            b,
            json!({"code": 200, "message": "Success", "data": {"id": id, "username": username}})
        );
    }
    let (_, _, b) = form(&c, &s, "GET", "/auth/", None, &[]).await;
    assert_eq!(b, refusal(401, "Unauthorized"));

    // Logout ends every session of the user opened here.
    let (_, _, b) = form(&c, &s, post, "/auth/logout", Some(bearers[0].as_str()), &[]).await;
    assert_eq!(
        b,
        json!({"code": 200, "message": "Success", "data": {"count": 2}})
    );
    for bearer in &bearers {
        let (_, _, b) = form(&c, &s, "GET", "/auth/", Some(bearer.as_str()), &[]).await;
        assert_eq!(b, refusal(401, "Unauthorized"));
    }
}

// ---------------------------------------------------------------------------------------------
// 001 — `/auth` JSON (nocode's Flutter app)
// ---------------------------------------------------------------------------------------------

/// One 001 call with a JSON body and an optional `Bearer` token.
async fn nocode(s: &Server, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(s.url(path)).json(&body);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: the request is answered: {e}"));
    let status = res.status().as_u16();
    let text = res.text().await.expect("a body");
    (status, parse("POST", path, &text))
}

/// An error answer: exactly the three fields the Flutter client decodes, status == code.
fn assert_nocode_error(answer: &(u16, Value), code: u16, detailed: u32, error_msg: &str) {
    assert_eq!(
        (answer.0, &answer.1),
        (
            code,
            &json!({"code": code, "detailed_error_code": detailed, "error_msg": error_msg})
        )
    );
}

const BAD_LOGIN: &str =
    "StatusCode.INVALID_USERNAME_OR_PASSWORD: The username or password is incorrect";
const INVALID_TOKEN: &str = "StatusCode.INVALID_TOKEN: Invalid token";
const NOT_FOUND: &str = "StatusCode.ITEM_NOT_FOUND: User does not exist";

#[tokio::test]
async fn auth_json_flutter_client_embedded() {
    auth_json_flutter_client(Server::start().await).await;
}

#[tokio::test]
async fn auth_json_flutter_client_on_moto() {
    auth_json_flutter_client(Server::start_aws().await).await;
}

async fn auth_json_flutter_client(s: Server) {
    let alice =
        json!({"username": "alice", "password": "amber-pass-1", "email": "alice@example.com"});
    let (status, b) = nocode(&s, "/auth/create", None, alice).await;
    assert_eq!(status, 200, "{b}");
    let alice_id = b["id"].as_u64().expect("an integer id");
    let bob = json!({"username": "bob", "password": "bob-pass-1", "email": "bob@example.com"});
    let (status, b) = nocode(&s, "/auth/create", None, bob).await;
    assert_eq!(status, 200, "{b}");

    let taken =
        json!({"username": "alice", "password": "amber-pass-1", "email": "alice2@example.com"});
    assert_nocode_error(
        &nocode(&s, "/auth/create", None, taken).await,
        409,
        40900,
        "StatusCode.ITEM_ALREADY_EXISTS: Username conflicted",
    );
    let (status, _, text) = send_raw(
        &reqwest::Client::new(),
        &s,
        "POST",
        "/auth/create",
        Some("application/json"),
        None,
        b"not json".to_vec(),
    )
    .await;
    assert_nocode_error(
        &(status, parse("POST", "/auth/create", &text)),
        400,
        40000,
        "StatusCode.BAD_REQUEST: Bad request",
    );

    // Login: the access token is the original's JWT, valid 24 h.
    let (status, b) = nocode(
        &s,
        "/auth/",
        None,
        json!({"username": "alice", "password": "amber-pass-1"}),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    let alice_token = b["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    let claims = jwt_payload(&alice_token);
    assert_eq!(claims["user_id"], alice_id, "{claims}");
    assert_eq!(claims["type"], "access_token", "{claims}");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        86400,
        "{claims}"
    );
    let (status, b) = nocode(
        &s,
        "/auth/",
        None,
        json!({"username": "bob", "password": "bob-pass-1"}),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    let bob_token = b["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();

    assert_nocode_error(
        &nocode(
            &s,
            "/auth/",
            None,
            json!({"username": "alice", "password": "wrong-pass-1"}),
        )
        .await,
        401,
        40101,
        BAD_LOGIN,
    );
    assert_nocode_error(
        &nocode(&s, "/auth/", None, json!({"username": "alice"})).await,
        400,
        40001,
        "StatusCode.INVALID_REQUEST_ARGUMENT: Bad login info",
    );

    let alice_creds = json!({"username": "alice", "password": "amber-pass-1"});
    assert_nocode_error(
        &nocode(&s, "/auth/disable", None, alice_creds.clone()).await,
        401,
        40102,
        INVALID_TOKEN,
    );
    assert_nocode_error(
        &nocode(&s, "/auth/disable", Some("garbage"), alice_creds.clone()).await,
        401,
        40102,
        INVALID_TOKEN,
    );

    let ghost =
        json!({"username": "ghost", "password": "spook-pass-1", "new_password": "spook-pass-2"});
    assert_nocode_error(
        &nocode(&s, "/auth/reset", None, ghost.clone()).await,
        404,
        40400,
        NOT_FOUND,
    );
    assert_nocode_error(
        &nocode(&s, "/auth/reset", Some(alice_token.as_str()), ghost).await,
        404,
        40400,
        NOT_FOUND,
    );

    // Bob's token may not disable Alice, even with her password.
    assert_nocode_error(
        &nocode(&s, "/auth/disable", Some(bob_token.as_str()), alice_creds).await,
        403,
        40301,
        "StatusCode.PERMISSION_DENIED: Permission denied",
    );

    // Alice changes her password, signs in with it, and closes her account.
    let (status, b) = nocode(
        &s,
        "/auth/reset",
        None,
        json!({"username": "alice", "password": "amber-pass-1", "new_password": "amber-pass-2"}),
    )
    .await;
    assert_eq!(
        (status, b),
        (200, json!({"result": "Ok, password has been updated."}))
    );
    let new_creds = json!({"username": "alice", "password": "amber-pass-2"});
    let (status, b) = nocode(&s, "/auth/", None, new_creds.clone()).await;
    assert_eq!(status, 200, "{b}");
    let token = b["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    let (status, b) = nocode(&s, "/auth/disable", Some(token.as_str()), new_creds.clone()).await;
    assert_eq!(
        (status, b),
        (200, json!({"result": "Ok, user has been diabled."}))
    );
    assert_nocode_error(
        &nocode(&s, "/auth/", None, new_creds.clone()).await,
        401,
        40101,
        BAD_LOGIN,
    );
    assert_nocode_error(
        &nocode(&s, "/auth/disable", Some(token.as_str()), new_creds).await,
        401,
        40104,
        "StatusCode.ACCOUNT_DISABLED: Sorry, your account has been disabled",
    );
}

// ---------------------------------------------------------------------------------------------
// 003 — `/v1/auth` (boarcms admin pages)
// ---------------------------------------------------------------------------------------------

async fn flame(s: &Server, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(s.url(path))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: the request is answered: {e}"));
    let status = res.status().as_u16();
    let text = res.text().await.expect("a body");
    (status, parse("POST", path, &text))
}

/// What the admin page sends for a code (`length: 6` included); the dev answer shows it.
async fn flame_register_code(s: &Server, account: &str) -> String {
    let (status, b) = flame(
        s,
        "/v1/auth/send-code",
        json!({"account": account, "flag": "register", "length": 6}),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["message"], "开发模式，验证码发送成功", "{b}");
    let code = s.last_code(account).await;
    assert_eq!(
        b["code"].as_u64(),
        code.parse::<u64>().ok(),
        "the dev answer's code is the mailed one: {b}"
    );
    code
}

/// The token's payload: `{exp, iat, data: {id}}` for `user_id`, 3 h from now.
fn assert_flame_token(token: &str, user_id: &Value) {
    let claims = jwt_payload(token);
    assert_eq!(&claims["data"]["id"], user_id, "{claims}");
    let (exp, iat) = (
        claims["exp"].as_i64().expect("exp"),
        claims["iat"].as_i64().expect("iat"),
    );
    let left = exp - now_secs();
    assert!(
        (10800 - 120..=10800 + 5).contains(&left),
        "valid 3 h from now: {left} s left, {claims}"
    );
    assert!(
        exp - iat == 10800 || exp - iat == 10830,
        "3 h (the original sets iat 30 s back): {claims}"
    );
}

#[tokio::test]
async fn v1_admin_page_client_embedded() {
    v1_admin_page_client(Server::start().await).await;
}

#[tokio::test]
async fn v1_admin_page_client_on_moto() {
    v1_admin_page_client(Server::start_aws().await).await;
}

async fn v1_admin_page_client(s: Server) {
    let account = "flame-admin@example.com";
    let password = "flame-pass-1";

    let answer = flame(&s, "/v1/auth/login", json!({})).await;
    assert_eq!(answer, (400, json!({"error": "account is required"})));

    let code = flame_register_code(&s, account).await;
    let (status, reg) = flame(
        &s,
        "/v1/auth/register",
        json!({"account": account, "password": password, "nickname": "", "code": code}),
    )
    .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["isNewUser"], true, "{reg}");
    let user_id = reg["user"]["id"].clone();
    assert!(user_id.is_u64(), "{reg}");
    assert_eq!(reg["user"]["email"], account, "{reg}");
    assert_flame_token(reg["token"].as_str().expect("token"), &user_id);

    let answer = flame(
        &s,
        "/v1/auth/login",
        json!({"account": account, "password": "wrong-pass-1"}),
    )
    .await;
    assert_eq!(
        answer,
        (400, json!({"error": "incorrect username or password"}))
    );
    let (status, login) = flame(
        &s,
        "/v1/auth/login",
        json!({"account": account, "password": password}),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["user"]["id"], user_id, "{login}");
    assert_flame_token(login["token"].as_str().expect("token"), &user_id);

    // Registering an account that already exists (here made through seed 001) with a valid
    // code signs it in, as the original did.
    let existing = "flame-existing@example.com";
    let made: Value = s
        .client()
        .post(s.url("/auth/create"))
        .json(&json!({"username": "flameexisting", "password": "first-pass-1", "email": existing}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let existing_id = made["id"].clone();
    assert!(existing_id.is_u64(), "{made}");
    let code = flame_register_code(&s, existing).await;
    let (status, again) = flame(
        &s,
        "/v1/auth/register",
        json!({"account": existing, "password": password, "nickname": "", "code": code}),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["isNewUser"], false, "{again}");
    assert_eq!(again["user"]["id"], existing_id, "{again}");
    assert_flame_token(again["token"].as_str().expect("token"), &existing_id);
}

// ---------------------------------------------------------------------------------------------
// 000 — `/pauli/auth/api` (pauli's front-end: session cookies)
// ---------------------------------------------------------------------------------------------

const PAULI: &str = "/pauli/auth/api";
const MEMBER_MOBILE: &str = "13698765432";
const MEMBER_E164: &str = "+8613698765432";

/// One 000 call from a browser-like client (cookie jar): always HTTP 200 with
/// `{code, msg, result}`.
async fn pauli(
    c: &reqwest::Client,
    s: &Server,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut req = c.request(m, s.url(&format!("{PAULI}{path}")));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: the request is answered: {e}"));
    let status = res.status().as_u16();
    let text = res.text().await.expect("a body");
    assert_eq!(
        status, 200,
        "{method} {path}: every 000 answer is HTTP 200: {text}"
    );
    let v = parse(method, path, &text);
    assert!(
        v["code"].is_i64() && v["msg"].is_string() && v["result"].is_object(),
        "{method} {path}: the {{code, msg, result}} envelope: {v}"
    );
    v
}

fn login_types(r: &Value) -> Vec<String> {
    r["result"]["logs"]
        .as_array()
        .unwrap_or_else(|| panic!("result.logs: {r}"))
        .iter()
        .map(|l| {
            assert!(
                l["time"].as_str().is_some_and(|t| t.ends_with('Z')),
                "RFC 3339 UTC: {l}"
            );
            l["login_type"].as_str().expect("login_type").to_string()
        })
        .collect()
}

#[tokio::test]
async fn pauli_front_end_client_embedded() {
    pauli_front_end_client(Deployment::local()).await;
}

#[tokio::test]
async fn pauli_front_end_client_on_moto() {
    pauli_front_end_client(Deployment::aws().await).await;
}

async fn pauli_front_end_client(d: Deployment) {
    let boss = d.admin_json(&[
        "create-user",
        "--email",
        "boss@example.com",
        "--name",
        "Boss",
        "--password",
        "chief-pass-1",
    ]);
    d.admin_json(&["grant", "boss@example.com", "pauli:user:audit"]);
    let member = d.admin_json(&[
        "create-user",
        "--email",
        "member@example.com",
        "--mobile",
        MEMBER_MOBILE,
        "--name",
        "Member",
        "--password",
        "fellow-pass-1",
    ]);
    let (boss_id, member_id) = (id_string(&boss["id"]), id_string(&member["id"]));
    let s = d.start().await;

    // The administrator (no mobile) signs in with the password alone.
    let admin = s.client();
    let boss_login = json!({"username": "boss@example.com", "password": "chief-pass-1"});
    let r = pauli(&admin, &s, "PUT", "/pass/login", Some(boss_login.clone())).await;
    assert_eq!(r["code"], 0, "{r}");
    let r = pauli(&admin, &s, "PUT", "/pass/login", Some(boss_login.clone())).await;
    assert_code_msg(&r, 1003, "用户已登录");
    let r = pauli(
        &admin,
        &s,
        "POST",
        "/pass/code",
        Some(json!({"code": "123456"})),
    )
    .await;
    assert_code_msg(&r, 1003, "用户已登录");

    let r = pauli(&admin, &s, "GET", "/logout", None).await;
    assert_eq!(r["code"], 0, "{r}");
    let r = pauli(
        &admin,
        &s,
        "GET",
        &format!("/record?user_id={boss_id}"),
        None,
    )
    .await;
    assert_code_msg(&r, 1004, "用户未登录");

    // Wrong password and unknown user look alike.
    let wrong = pauli(
        &admin,
        &s,
        "PUT",
        "/pass/login",
        Some(json!({"username": "boss@example.com", "password": "not-the-pass"})),
    )
    .await;
    assert_code_msg(&wrong, 1005, "手机号码与密码不匹配");
    let unknown = pauli(
        &admin,
        &s,
        "PUT",
        "/pass/login",
        Some(json!({"username": "ghost@example.com", "password": "chief-pass-1"})),
    )
    .await;
    assert_eq!(unknown, wrong);

    // A user with a mobile: the password step texts a code.
    let m = s.client();
    let member_login = json!({"username": "member@example.com", "password": "fellow-pass-1"});
    let r = pauli(&m, &s, "PUT", "/pass/login", Some(member_login)).await;
    assert_eq!(r["code"], 1032, "{r}");
    let code = s.last_code(MEMBER_E164).await;
    let r = pauli(&m, &s, "GET", "/logined", None).await;
    assert_eq!(r["result"]["logined"], false, "not before the code: {r}");

    let r = pauli(&m, &s, "GET", "/pass/code?method=fax", None).await;
    assert_eq!(r["code"], 1, "an unsupported method (or too soon): {r}");

    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let r = pauli(
        &m,
        &s,
        "POST",
        "/pass/code",
        Some(json!({"code": wrong_code})),
    )
    .await;
    assert_code_msg(&r, 1007, "验证码错误，请输入正确的验证码");
    let r = pauli(&m, &s, "POST", "/pass/code", Some(json!({"code": code}))).await;
    assert_eq!(r["code"], 0, "{r}");
    let r = pauli(&m, &s, "GET", "/logined", None).await;
    assert_eq!(r["result"]["logined"], true, "{r}");
    assert_eq!(r["result"]["user_id"], member_id, "{r}");

    // The member may not audit.
    let r = pauli(&m, &s, "GET", &format!("/record?user_id={member_id}"), None).await;
    assert_eq!(r["code"], 7, "{r}");
    let msg = r["msg"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("缺少权限") && msg.contains("pauli:user:audit"),
        "{r}"
    );

    // The administrator signs in again and audits.
    let r = pauli(&admin, &s, "PUT", "/pass/login", Some(boss_login)).await;
    assert_eq!(r["code"], 0, "{r}");
    let r = pauli(
        &admin,
        &s,
        "GET",
        &format!("/record?user_id={member_id}"),
        None,
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(
        login_types(&r),
        ["sms-succ", "password-sms"],
        "newest first: {r}"
    );
    let r = pauli(
        &admin,
        &s,
        "GET",
        &format!("/record?user_id={boss_id}"),
        None,
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(login_types(&r), ["password-succ", "password-succ"], "{r}");
}

// ---------------------------------------------------------------------------------------------
// The sweep: bad bodies on every route of 000 and 002 never leave HTTP 200
// ---------------------------------------------------------------------------------------------

const PAULI_ROUTES: &[(&str, &str)] = &[
    ("GET", "/pauli/auth/api/logined"),
    ("GET", "/pauli/auth/api/record"),
    ("POST", "/pauli/auth/api/pass/create"),
    ("POST", "/pauli/auth/api/pass/change"),
    ("PUT", "/pauli/auth/api/pass/login"),
    ("GET", "/pauli/auth/api/pass/code"),
    ("POST", "/pauli/auth/api/pass/code"),
    ("GET", "/pauli/auth/api/logout"),
    ("GET", "/pauli/auth/api/pass/reset"),
    ("PUT", "/pauli/auth/api/pass/reset"),
    ("POST", "/pauli/auth/api/pass/reset"),
];

const API_V1_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/login/email"),
    ("POST", "/api/v1/auth/updateToken"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/resetpwdCheck"),
    ("GET", "/api/v1/auth/resetpwdCheck"),
    ("POST", "/api/v1/auth/modifyPwd"),
    ("POST", "/api/v1/auth/sendEmailCode"),
    ("POST", "/api/v1/auth/captcha"),
    ("POST", "/api/v1/auth/captcha/verify"),
    ("POST", "/api/v1/verify/getEmailCode"),
    ("GET", "/api/v1/verify/captcha/get"),
    ("POST", "/api/v1/verify/captcha/validate"),
];

#[tokio::test]
async fn bad_bodies_always_answer_http_200_embedded() {
    bad_bodies_always_answer_http_200(Server::start().await).await;
}

#[tokio::test]
async fn bad_bodies_always_answer_http_200_on_moto() {
    bad_bodies_always_answer_http_200(Server::start_aws().await).await;
}

async fn bad_bodies_always_answer_http_200(s: Server) {
    let c = s.client();
    let oversized = format!("{{\"email\":\"{}@example.com\"}}", "a".repeat(70 * 1024));
    let bodies: Vec<(Option<&str>, Vec<u8>)> = vec![
        (Some("application/json"), b"not json".to_vec()),
        (Some("application/json"), Vec::new()),
        (None, Vec::new()),
        (Some("application/json"), b"[1, 2, 3]".to_vec()),
        (
            Some("application/json"),
            br#"{"email": 5, "password": [], "code": {}, "username": 1, "refreshToken": 7, "captchaId": false, "x": "left", "name": null, "mobile": 13}"#
                .to_vec(),
        ),
        (
            Some("application/x-www-form-urlencoded"),
            b"email=&password".to_vec(),
        ),
        (Some("application/json"), oversized.into_bytes()),
    ];
    for (routes, pauli_dialect) in [(PAULI_ROUTES, true), (API_V1_ROUTES, false)] {
        for (method, path) in routes.iter() {
            for (ct, body) in &bodies {
                let (status, _, text) =
                    send_raw(&c, &s, method, path, *ct, None, body.clone()).await;
                let what = format!(
                    "{method} {path} with {ct:?} body {:?}",
                    String::from_utf8_lossy(&body[..body.len().min(40)])
                );
                assert_eq!(status, 200, "{what}: HTTP 200, got {status}: {text}");
                let v: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{what}: a JSON answer ({e}): {text:?}"));
                let envelope = if pauli_dialect {
                    v["result"].is_object()
                } else {
                    v.get("data").is_some()
                };
                assert!(
                    v["code"].is_i64() && v["msg"].is_string() && envelope,
                    "{what}: the dialect's envelope: {v}"
                );
            }
        }
    }
}
