//! Seed 002 over real HTTP against the local binary, codes read from the dev outbox.

use crate::support::*;
use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};

async fn post(c: &reqwest::Client, s: &Server, path: &str, body: Value) -> Value {
    c.post(s.url(&format!("/api/v1/auth{path}")))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn png_rgb(b64: &str) -> Vec<u8> {
    let bytes = STANDARD.decode(b64).unwrap();
    let mut reader = png::Decoder::new(bytes.as_slice()).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut buf).unwrap();
    buf
}

/// Fetches the challenge's images and slides the piece to where the gap is.
async fn solve_captcha(c: &reqwest::Client, s: &Server, id: &str) {
    let ch = post(c, s, "/captcha", json!({"captchaId": id})).await;
    assert_eq!(ch["data"]["captchaId"], id);
    let d = &ch["data"]["slider_captcha"];
    let (bg, piece) = (
        png_rgb(d["bg_img"].as_str().unwrap()),
        png_rgb(d["slider_img"].as_str().unwrap()),
    );
    // The original's sizes: a 310×160 background and a 50×50 piece.
    let (w, size) = (310, 50);
    let y = d["y"].as_u64().unwrap() as usize;
    assert!(y + size <= 160 && bg.len() == w * 160 * 3 && piece.len() == size * size * 3);
    let x = s.captcha_answer(id).await;
    let r = post(c, s, "/captcha/verify", json!({"captchaId": id, "x": x})).await;
    assert_eq!(r["code"], 200, "{r}");
}

#[tokio::test]
async fn the_whole_journey_embedded() {
    the_whole_journey(Server::start().await).await;
}

#[tokio::test]
async fn the_whole_journey_on_moto() {
    the_whole_journey(Server::start_aws().await).await;
}

async fn the_whole_journey(s: Server) {
    let c = s.client();
    let email = "journey@example.com";

    let r = post(
        &c,
        &s,
        "/sendEmailCode",
        json!({"email": email, "type": "register"}),
    )
    .await;
    assert_eq!(r, json!({"code": 200, "data": {}, "msg": "ok"}));
    let code = s.last_code(email).await;
    let r = post(
        &c,
        &s,
        "/register",
        json!({"email": email, "password": "secret-pass-1", "code": code}),
    )
    .await;
    assert_eq!(r["code"], 200, "{r}");

    let res = c
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": "secret-pass-1"}))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.starts_with("refresh_token=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["code"], 200);
    let user_id = r["data"]["userId"].clone();
    let first = r["data"]["refreshToken"].as_str().unwrap().to_string();

    let r = post(&c, &s, "/updateToken", json!({"refreshToken": first})).await;
    assert_eq!(r["code"], 200);
    assert_eq!(r["data"]["userId"], user_id);
    let second = r["data"]["refreshToken"].as_str().unwrap().to_string();
    let access = r["data"]["token"].as_str().unwrap().to_string();

    // Reuse detection needs the grace (10 s) to pass; a fresh plain client carries no cookie.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    let plain = reqwest::Client::new();
    let r = post(&plain, &s, "/updateToken", json!({"refreshToken": first})).await;
    assert_eq!(r["code"], 2000, "reused token refused");
    let r = post(&plain, &s, "/updateToken", json!({"refreshToken": second})).await;
    assert_eq!(r["code"], 2000, "its family is revoked");

    let r = post(
        &plain,
        &s,
        "/login",
        json!({"email": email, "password": "secret-pass-1"}),
    )
    .await;
    let access2 = r["data"]["token"].as_str().unwrap().to_string();
    let refresh2 = r["data"]["refreshToken"].as_str().unwrap().to_string();
    let r: Value = plain
        .post(s.url("/api/v1/auth/logout"))
        .header("Authorization", &access2)
        .json(&json!({"refreshToken": refresh2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["code"], 200);
    let r = post(
        &plain,
        &s,
        "/updateToken",
        json!({"refreshToken": refresh2}),
    )
    .await;
    assert_eq!(r["code"], 2000);
    let _ = access;

    for _ in 0..3 {
        let r = post(
            &plain,
            &s,
            "/login",
            json!({"email": email, "password": "wrong-one"}),
        )
        .await;
        assert_eq!(
            (r["code"].clone(), r["msg"].clone()),
            (json!(500), json!("用户名密码不匹配"))
        );
    }
    let r = post(
        &plain,
        &s,
        "/login",
        json!({"email": email, "password": "secret-pass-1"}),
    )
    .await;
    assert_eq!(r["code"], -1);
    assert_eq!(r["msg"], "需要人机验证");
    let id = r["data"]["captchaId"].as_str().unwrap().to_string();
    solve_captcha(&plain, &s, &id).await;
    let r = post(
        &plain,
        &s,
        "/login",
        json!({"email": email, "password": "secret-pass-1", "captchaId": id}),
    )
    .await;
    assert_eq!(r["code"], 200, "{r}");

    let r = post(&plain, &s, "/resetpwdCheck", json!({"email": email})).await;
    assert_eq!(r["code"], -1);
    let id = r["data"]["captchaId"].as_str().unwrap().to_string();
    solve_captcha(&plain, &s, &id).await;
    let r = post(
        &plain,
        &s,
        "/resetpwdCheck",
        json!({"email": email, "captchaId": id}),
    )
    .await;
    assert_eq!(r["code"], 200, "{r}");
    let code = s.last_code(email).await;
    let r = post(
        &plain,
        &s,
        "/modifyPwd",
        json!({"email": email, "password": "brand-new-1", "code": code}),
    )
    .await;
    assert_eq!(r["code"], 200, "{r}");
    let r = post(
        &plain,
        &s,
        "/login",
        json!({"email": email, "password": "secret-pass-1"}),
    )
    .await;
    assert_eq!(
        (r["code"].clone(), r["msg"].clone()),
        (json!(500), json!("用户名密码不匹配"))
    );
    let r = post(
        &plain,
        &s,
        "/login",
        json!({"email": email, "password": "brand-new-1"}),
    )
    .await;
    assert_eq!(r["code"], 200);
    assert_eq!(r["data"]["userId"], user_id);
}

#[tokio::test]
async fn hashing_leaves_other_requests_served() {
    let s = Server::start().await;
    let c = reqwest::Client::new();
    let logins: Vec<_> = (0..16)
        .map(|i| {
            let (c, url) = (c.clone(), s.url("/api/v1/auth/login"));
            tokio::spawn(async move {
                c.post(url)
                    .json(&json!({"email": format!("u{i}@example.com"), "password": "whatever-pass-1"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let health = c.get(s.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let still_hashing = logins.iter().filter(|l| !l.is_finished()).count();
    assert!(
        still_hashing > 0,
        "health was answered while logins were still hashing"
    );
    // Refusals are HTTP 200 in this dialect, as the original's.
    for l in logins {
        assert_eq!(l.await.unwrap(), 200);
    }
}
