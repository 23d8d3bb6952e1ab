//! Seed 000 (`/pauli/auth/api`) against the real local binary over HTTP: an administrator made
//! by the admin command creates a user, the user sets a password through the reset mail, signs
//! in with the SMS second factor, the administrator audits the logins, the user logs out.

use crate::support::*;
use serde_json::{json, Value};

const P: &str = "/pauli/auth/api";

async fn answer(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON body"))
}

async fn call(
    client: &reqwest::Client,
    server: &Server,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut req = client.request(method, server.url(&format!("{P}{path}")));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let (status, body) = answer(req.send().await.expect("request is answered")).await;
    assert!(
        body["code"].is_i64() && body["msg"].is_string() && body["result"].is_object(),
        "envelope: {body}"
    );
    (status, body)
}

#[tokio::test]
async fn seed_000_journey_embedded() {
    seed_000_admin_creates_user_who_resets_signs_in_with_sms_and_is_audited(Deployment::local())
        .await;
}

#[tokio::test]
async fn seed_000_journey_on_moto() {
    seed_000_admin_creates_user_who_resets_signs_in_with_sms_and_is_audited(
        Deployment::aws().await,
    )
    .await;
}

async fn seed_000_admin_creates_user_who_resets_signs_in_with_sms_and_is_audited(d: Deployment) {
    let admin_user = d.admin_json(&[
        "create-user",
        "--email",
        "admin@example.com",
        "--password",
        "overseer-pass-1",
        "--name",
        "Admin",
    ]);
    d.admin_json(&["grant", "admin@example.com", "pauli:user:create"]);
    let granted = d.admin_json(&["grant", "admin@example.com", "pauli:user:audit"]);
    assert_eq!(
        granted["permissions"],
        json!(["pauli:user:audit", "pauli:user:create"])
    );

    let server = d.start().await;
    let admin = server.client();
    let user = server.client();

    // Nobody is logged in yet; the audit needs a session.
    let (status, body) = call(&admin, &server, "GET", "/logined", None).await;
    assert_eq!(
        (status, &body["code"], &body["result"]),
        (200, &json!(0), &json!({"logined": false}))
    );
    let (status, body) = call(&admin, &server, "GET", "/record", None).await;
    assert_eq!((status, &body["code"]), (200, &json!(1004)), "{body}");

    // The administrator has no mobile: the password alone signs in.
    let login = json!({"username": "admin@example.com", "password": "overseer-pass-1"});
    let (status, body) = call(&admin, &server, "PUT", "/pass/login", Some(login)).await;
    assert_eq!((status, &body["code"]), (200, &json!(0)), "{body}");
    let admin_id = admin_user["id"].as_u64().unwrap().to_string();
    assert_eq!(body["result"]["user_id"], admin_id);
    let (_, body) = call(&admin, &server, "GET", "/logined", None).await;
    assert_eq!(body["result"]["logined"], true, "{body}");
    assert_eq!(body["result"]["name"], "Admin");

    // A user with a mobile and no password: a reset mail goes out.
    let create =
        json!({"username": "new@example.com", "name": "New User", "mobile": "13312340000"});
    // A number no other test texts: moto keeps one list of texts for every test running at once.
    let (status, body) = call(
        &admin,
        &server,
        "POST",
        "/pass/create",
        Some(create.clone()),
    )
    .await;
    assert_eq!((status, &body["code"]), (200, &json!(0)), "{body}");
    let user_id = body["result"]["user_id"]
        .as_str()
        .expect("user_id is a string")
        .to_string();
    let (status, body) = call(&admin, &server, "POST", "/pass/create", Some(create)).await;
    assert_eq!((status, &body["code"]), (200, &json!(1)), "{body}");
    // Creating users needs a session (and the permission).
    let stranger = json!({"username": "x@example.com", "name": "X"});
    let (status, body) = call(&user, &server, "POST", "/pass/create", Some(stranger)).await;
    assert_eq!((status, &body["code"]), (200, &json!(1004)), "{body}");

    let token = server.last_reset_token("new@example.com").await;
    let (status, body) = call(
        &user,
        &server,
        "PUT",
        "/pass/reset",
        Some(json!({"code": token})),
    )
    .await;
    assert_eq!((status, &body["code"]), (200, &json!(0)), "{body}");
    let (status, body) = call(
        &user,
        &server,
        "PUT",
        "/pass/reset",
        Some(json!({"code": "made-up"})),
    )
    .await;
    assert_eq!((status, &body["code"]), (200, &json!(1)), "{body}");
    assert_eq!(body["msg"], "重置记录不存在或者已失效");
    let redeem = json!({"code": token, "password": "userpass1"});
    let (status, body) = call(&user, &server, "POST", "/pass/reset", Some(redeem.clone())).await;
    assert_eq!((status, &body["code"]), (200, &json!(0)), "{body}");
    let (_, body) = call(&user, &server, "POST", "/pass/reset", Some(redeem)).await;
    assert_eq!(body["code"], 1, "a reset code works once: {body}");

    // Unknown user and wrong password look alike.
    let (s1, wrong) = call(
        &user,
        &server,
        "PUT",
        "/pass/login",
        Some(json!({"username": "new@example.com", "password": "nope-nope"})),
    )
    .await;
    let (s2, unknown) = call(
        &user,
        &server,
        "PUT",
        "/pass/login",
        Some(json!({"username": "ghost@example.com", "password": "userpass1"})),
    )
    .await;
    assert_eq!((s1, &wrong), (s2, &unknown));
    assert_eq!(s1, 200);
    assert_eq!(wrong["code"], 1005);
    assert_eq!(wrong["msg"], "手机号码与密码不匹配");

    // The password step answers 1032 and texts a code.
    let login = json!({"username": "new@example.com", "password": "userpass1"});
    let (status, body) = call(&user, &server, "PUT", "/pass/login", Some(login)).await;
    assert_eq!((status, &body["code"]), (200, &json!(1032)), "{body}");
    let (_, body) = call(&user, &server, "GET", "/logined", None).await;
    assert_eq!(
        body["result"]["logined"], false,
        "not logged in before the code: {body}"
    );
    let first = server.last_code("+8613312340000").await;
    // A second code within the minute is refused; the first one is still good.
    for resend in ["/pass/code?method=sms", "/pass/code"] {
        let (status, body) = call(&user, &server, "GET", resend, None).await;
        assert_eq!(
            (status, &body["code"]),
            (200, &json!(1)),
            "{resend}: {body}"
        );
        assert_eq!(body["msg"], "验证码发送间隔时间太短");
    }
    assert_eq!(server.last_code("+8613312340000").await, first);
    let wrong_code = if first == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, body) = call(
        &user,
        &server,
        "POST",
        "/pass/code",
        Some(json!({"code": wrong_code})),
    )
    .await;
    assert_eq!((status, &body["code"]), (200, &json!(1007)), "{body}");
    let (status, body) = call(
        &user,
        &server,
        "POST",
        "/pass/code",
        Some(json!({"code": first})),
    )
    .await;
    assert_eq!((status, &body["code"]), (200, &json!(0)), "{body}");
    assert_eq!(body["result"]["user_id"], user_id);

    let (_, mut body) = call(&user, &server, "GET", "/logined", None).await;
    let created = body["result"]
        .as_object_mut()
        .and_then(|r| r.remove("created"));
    assert!(created.is_some_and(|c| c.as_str().is_some_and(|c| c.ends_with('Z'))));
    assert_eq!(
        body["result"],
        json!({
            "logined": true,
            "user_id": user_id,
            "name": "New User",
            "email": "new@example.com",
            "mobile": "13312340000",
            "position_id": "",
            // The rest of the original's answer, empty where polyauth keeps no such thing.
            "soft_del": false,
            "position_name": "",
            "creator_id": "",
            "creator_name": "",
            "role_names": [],
            "dingtalk_id": "",
            "jobnumber": "",
        })
    );
    // The user may not audit.
    let (status, body) = call(
        &user,
        &server,
        "GET",
        &format!("/record?user_id={admin_id}"),
        None,
    )
    .await;
    assert_eq!((status, &body["code"]), (200, &json!(7)), "{body}");

    // One store under every dialect: the same user signs in through seed 002 too, which has
    // no second step, so the audit shows two kinds of login.
    let res = reqwest::Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"email": "new@example.com", "password": "userpass1"}))
        .send()
        .await
        .unwrap();
    let (_, body) = answer(res).await;
    assert_eq!(body["code"], 200, "{body}");

    // The administrator pages through the user's logins, newest first.
    let mut seen: Vec<Value> = vec![];
    let mut cursor = String::new();
    loop {
        let path = format!("/record?user_id={user_id}&limit=1&cursor_id={cursor}");
        let (status, body) = call(&admin, &server, "GET", &path, None).await;
        assert_eq!((status, &body["code"]), (200, &json!(0)), "{body}");
        let logs = body["result"]["logs"].as_array().unwrap().clone();
        let Some(last) = logs.last() else { break };
        assert_eq!(logs.len(), 1);
        cursor = last["record_id"].as_str().unwrap().to_string();
        seen.extend(logs);
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen[0]["record_id"].as_str() > seen[1]["record_id"].as_str()
            && seen[1]["record_id"].as_str() > seen[2]["record_id"].as_str(),
        "newest first"
    );
    // The original's values: the password step that sent an SMS, the SMS step, and the
    // password-only login (through seed 002 here).
    assert_eq!(seen[0]["login_type"], "password-succ");
    assert_eq!(seen[1]["login_type"], "sms-succ");
    assert_eq!(seen[2]["login_type"], "password-sms");
    for log in &seen {
        assert_eq!(log["user_id"], user_id);
        assert!(log["time"].as_str().unwrap().ends_with('Z'), "{log}");
    }

    // Logging out ends the session and clears the cookie.
    let (status, body) = call(&user, &server, "GET", "/logout", None).await;
    assert_eq!((status, &body["code"]), (200, &json!(0)), "{body}");
    let (_, body) = call(&user, &server, "GET", "/logined", None).await;
    assert_eq!(body["result"], json!({"logined": false}));
    // Other sessions are untouched.
    let (_, body) = call(&admin, &server, "GET", "/logined", None).await;
    assert_eq!(body["result"]["logined"], true);

    server.stop();
    let records = d.admin_json(&["records", &user_id]);
    assert_eq!(records.as_array().map(Vec::len), Some(3), "{records}");
}
