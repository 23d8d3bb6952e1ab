//! Core operations at the configured parameters: what each request pays before any I/O, and
//! the embedded store's own costs. `cargo bench -p polyauth-shared`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark harness: a setup that fails ends the run"
)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use polyauth::{
    app::App,
    clock::SystemClock,
    config::{Config, ProfileChoice, Secret},
    domain::{Email, Password, UserId},
    schema::SessionId,
    services::{
        tokens::{Grant, Keys, Keyset, Material, Profiles, StoredKey, StoredKeyset},
        Attempt, Client, Dialect, Hasher, NewUser, SessionSpec,
    },
    store::{Condition, Embedded, Item, Key, Store, Write},
};
use serde_json::{json, Map};
use std::sync::Arc;
use tokio::runtime::Runtime;

fn rt() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn passwords(c: &mut Criterion) {
    let rt = rt();
    let hasher = Hasher::new();
    let pw = Password::attempt("correct horse battery").expect("password");
    let hash = rt.block_on(hasher.hash(&pw)).expect("hash");
    let mut g = c.benchmark_group("argon2id");
    g.sample_size(20);
    g.bench_function("hash", |b| b.to_async(&rt).iter(|| hasher.hash(&pw)));
    g.bench_function("verify", |b| {
        b.to_async(&rt).iter(|| hasher.verify(&hash, &pw))
    });
    g.finish();
}

/// Signing and verifying per profile: polyauth's HS256 and RS256, and seed 004's itsdangerous
/// format (the legacy JWT profiles cost what HS256 does).
fn tokens(c: &mut Criterion) {
    let keys = Keys::derive(polyauth::config::DEV_SECRET);
    let seal = [1u8; 32];
    let material = Material::generate(true).expect("key material");
    let stored = StoredKeyset {
        version: 1,
        keys: vec![StoredKey::seal(&seal, "kid".into(), 0, 0, &material).expect("seal")],
    };
    let keyset = Keyset::open(&stored, &seal);
    let mut config = Config::for_tests();
    config.tokens.set(Dialect::V1, ProfileChoice::Rs256);
    config.tokens.set(
        Dialect::AuthForm,
        ProfileChoice::Legacy(Secret::new("biji-secret".into())),
    );
    let profiles = Profiles::new(&config.tokens, "polyauth");
    let sid = SessionId::parse("bench-session-0001").expect("a well-formed id");
    let grant = Grant {
        user: UserId(42),
        sid: &sid,
        iat: 1_700_000_000,
        exp: 1_700_003_600,
    };
    for (name, dialect) in [
        ("hs256", Dialect::ApiV1),
        ("rs256", Dialect::V1),
        ("itsdangerous", Dialect::AuthForm),
    ] {
        let token = profiles
            .sign(Some(dialect), &grant, &keyset, 1_700_000_000)
            .expect("sign");
        c.bench_function(&format!("jwt/sign/{name}"), |b| {
            b.iter(|| profiles.sign(Some(dialect), &grant, &keyset, 1_700_000_000))
        });
        c.bench_function(&format!("jwt/verify/{name}"), |b| {
            b.iter(|| profiles.verify(dialect, &token, &keyset, 1_700_000_100))
        });
    }
    let hash = keys.code_hash("login", "a@x.com", "123456");
    c.bench_function("code/hash", |b| {
        b.iter(|| keys.code_hash("login", "a@x.com", "123456"))
    });
    c.bench_function("code/check", |b| {
        b.iter(|| {
            polyauth::services::tokens::same_digest(
                &keys.code_hash("login", "a@x.com", "123456"),
                &hash,
            )
        })
    });
}

fn sessions(c: &mut Criterion) {
    let rt = rt();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::for_tests()
    };
    let store = Arc::new(Embedded::open(dir.path(), Arc::new(SystemClock)).expect("store"));
    let app = App::assemble(config, store, Arc::new(SystemClock));
    let auth = app.auth.clone();
    let email = Email::parse("bench@x.com").expect("email");
    let pw = Password::attempt("secret1").expect("password");
    let new = NewUser {
        email: Some(email.clone()),
        password: Some(pw.clone()),
        ..Default::default()
    };
    rt.block_on(auth.register(new, None, &polyauth::services::Client::default()))
        .expect("register");
    let account = auth.account("bench@x.com").expect("account");
    let login = || async {
        auth.password_login(
            Attempt::new(&account, &pw, &Client::default()),
            &SessionSpec {
                dialect: Some(Dialect::ApiV1),
                ..Default::default()
            },
        )
        .await
        .expect("login")
        .tokens
    };
    let tokens = rt.block_on(login());
    // Any dialect's token: verified and read every time (nothing is kept for it).
    c.bench_function("session/whoami (file store)", |b| {
        b.to_async(&rt).iter(|| auth.whoami(&tokens.access))
    });
    // The dialect's who-am-I, as its endpoints call it: the same token again is answered as
    // kept while the store vouches nothing changed.
    c.bench_function("session/whoami_in, kept (file store)", |b| {
        b.to_async(&rt)
            .iter(|| auth.whoami_in(&tokens.access, Dialect::ApiV1))
    });
    let mut current = rt.block_on(login()).refresh;
    c.bench_function("session/refresh rotation (file store)", |b| {
        b.iter(|| {
            current = rt
                .block_on(auth.refresh(&current, Dialect::ApiV1))
                .expect("refresh")
                .refresh;
        })
    });
}

fn store(c: &mut Criterion) {
    let rt = rt();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = Embedded::open(dir.path(), Arc::new(SystemClock)).expect("store");
    let memory = Embedded::in_memory(Arc::new(SystemClock));
    let attrs = |v: serde_json::Value| match v {
        serde_json::Value::Object(m) => m,
        _ => Map::new(),
    };
    for (name, s) in [("file", &file), ("memory", &memory)] {
        let key = Key::new("BENCH#1", "X");
        rt.block_on(s.write(vec![Write::put(Item::new(
            key.clone(),
            attrs(json!({"v": 1})),
            None,
        ))]))
        .expect("seed");
        c.bench_function(&format!("store/{name}/get"), |b| {
            b.to_async(&rt).iter(|| s.get(&key))
        });
        c.bench_function(&format!("store/{name}/conditional put"), |b| {
            b.iter_batched(
                || Item::new(Key::new("BENCH#N", ulid_like()), Map::new(), None),
                |item| {
                    rt.block_on(s.write(vec![Write::put_new(item)]))
                        .expect("put")
                },
                BatchSize::SmallInput,
            )
        });
        c.bench_function(&format!("store/{name}/transaction of 3"), |b| {
            b.iter_batched(
                || {
                    let id = ulid_like();
                    vec![
                        Write::put_new(Item::new(
                            Key::new(format!("T#{id}"), "A"),
                            Map::new(),
                            None,
                        )),
                        Write::put_new(Item::new(
                            Key::new(format!("T#{id}"), "B"),
                            Map::new(),
                            None,
                        )),
                        Write::Check {
                            key: key.clone(),
                            cond: Condition::Exists,
                        },
                    ]
                },
                |writes| rt.block_on(s.write(writes)).expect("transaction"),
                BatchSize::SmallInput,
            )
        });
    }
}

fn ulid_like() -> String {
    polyauth::random::id()
}

criterion_group!(benches, passwords, tokens, sessions, store);
criterion_main!(benches);
