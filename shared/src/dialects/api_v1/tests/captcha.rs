use super::*;

/// A base64 PNG without a `data:` prefix: its RGB pixels, width and height.
fn decode_png(b64: &str) -> (Vec<u8>, usize, usize) {
    assert!(!b64.starts_with("data:"), "the client adds the prefix");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let mut reader = png::Decoder::new(bytes.as_slice()).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    (buf, info.width as usize, info.height as usize)
}

/// Whether the background shows a gap's light outline with its left edge at `x` (decoy gaps
/// have one too, so this tells only that the answer is one of the gaps drawn).
fn outlined_at(slider: &Value, x: i64) -> bool {
    let (bg, w, _) = decode_png(slider["bg_img"].as_str().unwrap());
    let y = slider["y"].as_u64().expect("y is an integer") as usize;
    let x = x as usize;
    let s = 50;
    let light = |px: usize, py: usize| (0..3).all(|k| bg[(py * w + px) * 3 + k] >= 205);
    (0..s).all(|i| {
        light(x + i, y) && light(x + i, y + s - 1) && light(x, y + i) && light(x + s - 1, y + i)
    })
}

#[tokio::test]
async fn captcha_endpoints_render_validate_once_and_void_after_wrong_guesses() {
    let t = test_app();
    let r = post(&t, "/captcha", json!({})).await;
    let d = assert_ok(&r).clone();
    let id = d["captchaId"]
        .as_str()
        .filter(|s| !s.is_empty())
        .expect("captchaId")
        .to_string();
    let slider = &d["slider_captcha"];
    let mut keys: Vec<&String> = slider.as_object().expect("slider_captcha").keys().collect();
    keys.sort();
    assert_eq!(keys, ["bg_img", "slider_img", "y"]);
    let (_, w, h) = decode_png(slider["bg_img"].as_str().unwrap());
    assert_eq!((w, h), (310, 160));
    let (_, pw, ph) = decode_png(slider["slider_img"].as_str().unwrap());
    assert_eq!((pw, ph), (50, 50));
    let x = outbox_answer(&t, &id);
    assert!((20..240).contains(&x), "{x}");
    assert!(
        outlined_at(slider, x),
        "the outbox has the rendering's answer"
    );
    // A miss (beyond ±3 px) spends the rendering: the right x needs a new one.
    let r = post(&t, "/captcha/verify", json!({"captchaId": id, "x": x + 4})).await;
    assert_refused(&r, "滑块验证失败");
    let r = verify(&t, "/captcha/validate", json!({"captchaId": id, "x": x})).await;
    assert_refused(&r, "滑块验证失败");
    let (slider, x) = render(&t, &id).await;
    assert!(outlined_at(&slider, x));
    let r = verify(
        &t,
        "/captcha/validate",
        json!({"captchaId": id, "x": x - 3}),
    )
    .await;
    assert_eq!(r.json, json!({"code": 200, "data": {}, "msg": "ok"}));
    let r = verify(&t, "/captcha/validate", json!({"captchaId": id, "x": x})).await;
    // Only once.
    assert_refused(&r, "滑块验证失败");
    // A solved one is not rendered.
    assert_refused(&captcha_get(&t, &id).await, "获取失败");
    // Three misses void the challenge.
    let r = post(&t, "/captcha", json!({})).await;
    let id = assert_ok(&r)["captchaId"].as_str().unwrap().to_string();
    let x = outbox_answer(&t, &id);
    let r = verify(
        &t,
        "/captcha/validate",
        json!({"captchaId": id, "x": x + 40}),
    )
    .await;
    assert_refused(&r, "滑块验证失败");
    for _ in 0..2 {
        let (_, x) = render(&t, &id).await;
        let r = verify(
            &t,
            "/captcha/validate",
            json!({"captchaId": id, "x": x + 40}),
        )
        .await;
        assert_refused(&r, "滑块验证失败");
    }
    assert_refused(&captcha_get(&t, &id).await, "获取失败");
    let r = verify(&t, "/captcha/validate", json!({"captchaId": id, "x": x})).await;
    assert_refused(&r, "滑块验证失败");
    // Ids polyauth never issued.
    assert_refused(&captcha_get(&t, "nope").await, "获取失败");
    let r = t.raw("GET", &format!("{V}/captcha/get"), "", "", &[]).await;
    assert_refused(&r, "获取失败");
}
