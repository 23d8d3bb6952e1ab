//! Body extractors whose failures are the core's bad-input error naming the field, so each
//! dialect answers malformed input in its own envelope instead of axum's plain-text rejection.

use crate::Error;
use axum::response::IntoResponse;
use axum::{
    body::Bytes,
    extract::{FromRequest, Multipart, Request},
    http::header,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::marker::PhantomData;

/// A JSON body. An empty body reads as `{}`, so a missing field is named as missing. `R` is the
/// dialect's error reply, so a bad body is answered in the dialect's own envelope.
pub struct Json<T, R>(pub T, pub PhantomData<R>);

/// A form body, URL-encoded or multipart.
pub struct Form<T, R>(pub T, pub PhantomData<R>);

/// A JSON body, or a URL-encoded form when the content type says so: for an original that
/// parsed both (Express's `bodyParser.json()` beside `bodyParser.urlencoded()`).
pub struct JsonOrForm<T, R>(pub T, pub PhantomData<R>);

/// Parameters from the query string and the body (JSON, or form data by its content type), the
/// body winning: for APIs whose documents do not say where a parameter goes.
pub struct Params<T, R>(pub T, pub PhantomData<R>);

/// Set on a request whose body `bound_body` could not keep: over the limit, or broken off.
#[derive(Debug, Clone)]
pub struct BodyFault(pub String);

/// Reads a body to its end, keeping at most `BODY_LIMIT` bytes; a larger one is read on (up to
/// `DRAIN_LIMIT`) and thrown away, so a client still sending it gets an answer instead of a
/// reset connection. `Err` names what is wrong with it.
async fn drain(body: axum::body::Body) -> Result<Bytes, String> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("unreadable: {e}"))?;
        total = total.saturating_add(chunk.len());
        if total <= BODY_LIMIT {
            kept.extend_from_slice(&chunk);
        } else if total > DRAIN_LIMIT {
            break;
        }
    }
    if total > BODY_LIMIT {
        return Err(format!("larger than {} KiB", BODY_LIMIT / 1024));
    }
    Ok(Bytes::from(kept))
}

/// Middleware: every request's body is read (bounded) before its handler runs, also where the
/// handler never reads it, so the connection stays usable whatever a client sends.
pub async fn bound_body(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let (mut parts, body) = req.into_parts();
    let body = match drain(body).await {
        Ok(bytes) => axum::body::Body::from(bytes),
        Err(fault) => {
            parts.extensions.insert(BodyFault(fault));
            axum::body::Body::empty()
        }
    };
    next.run(Request::from_parts(parts, body)).await
}

/// The body of a request, or the bad-input error for one that could not be kept.
async fn read_body(
    parts: &axum::http::request::Parts,
    body: axum::body::Body,
) -> Result<Bytes, Error> {
    if let Some(BodyFault(fault)) = parts.extensions.get::<BodyFault>() {
        return Err(Error::malformed("body", fault.clone()));
    }
    drain(body)
        .await
        .map_err(|fault| Error::malformed("body", fault))
}

/// The largest body read (the contract's 64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;
/// How much of a too-large body is read and thrown away before the connection is given up.
const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

fn content_type(req: &Request) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The field a deserialisation error is about: the path where it failed, or the name serde
/// gives for a missing field.
fn field_of(path: &str, message: &str) -> String {
    if let Some(name) = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field"))
    {
        return name.to_string();
    }
    if path.is_empty() || path == "." {
        "body".into()
    } else {
        path.to_string()
    }
}

/// `T` read from a JSON value, a failure naming the field at fault.
pub(crate) fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let message = e.inner().to_string();
        Error::malformed(field_of(&e.path().to_string(), &message), message)
    })
}

/// Each extractor reads with its own `read`; a failure is the dialect's reply `R`, made from the
/// core's bad-input error.
macro_rules! extract_with_read {
    ($extractor:ident, |$req:ident, $state:ident| $read:expr) => {
        impl<T, R, S> FromRequest<S> for $extractor<T, R>
        where
            T: DeserializeOwned,
            R: From<Error> + IntoResponse,
            S: Send + Sync,
        {
            type Rejection = R;

            async fn from_request($req: Request, $state: &S) -> Result<Self, R> {
                $read.await.map_err(R::from)
            }
        }
    };
}

extract_with_read!(Json, |req, _state| Self::read(req));
extract_with_read!(Form, |req, state| Self::read(req, state));
extract_with_read!(Params, |req, state| Self::read(req, state));
extract_with_read!(JsonOrForm, |req, state| Self::read(req, state));

impl<T: DeserializeOwned, R> JsonOrForm<T, R> {
    async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Self, Error> {
        let value = if content_type(&req).starts_with("application/x-www-form-urlencoded") {
            Form::<T, ()>::read(req, state).await?.0
        } else {
            Json::<T, ()>::read(req).await?.0
        };
        Ok(JsonOrForm(value, PhantomData))
    }
}

impl<T: DeserializeOwned, R> Json<T, R> {
    async fn read(req: Request) -> Result<Self, Error> {
        let (parts, body) = req.into_parts();
        let bytes = read_body(&parts, body).await?;
        let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| Error::malformed("body", format!("not valid JSON: {e}")))?
        };
        if !value.is_object() {
            return Err(Error::malformed("body", "must be a JSON object"));
        }
        from_value(value).map(|v| Json(v, PhantomData))
    }
}

impl<T: DeserializeOwned, R> Form<T, R> {
    async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Self, Error> {
        let mut fields = Map::new();
        if content_type(&req).starts_with("multipart/form-data") {
            // Read within the limit first, then parse the parts from memory.
            let (parts, body) = req.into_parts();
            let bytes = read_body(&parts, body).await?;
            let req = Request::from_parts(parts, axum::body::Body::from(bytes));
            let mut multipart = Multipart::from_request(req, state)
                .await
                .map_err(|e| Error::malformed("body", e.body_text()))?;
            while let Some(field) = multipart.next_field().await.map_err(|e| {
                Error::malformed(
                    "body",
                    format!("malformed multipart body: {}", e.body_text()),
                )
            })? {
                let name = field.name().unwrap_or_default().to_string();
                let text = field.text().await.map_err(|e| {
                    Error::malformed(name.clone(), format!("unreadable: {}", e.body_text()))
                })?;
                fields.insert(name, Value::String(text));
            }
        } else {
            let (parts, body) = req.into_parts();
            fields = url_encoded(&read_body(&parts, body).await?)?;
        }
        from_value(Value::Object(fields)).map(|v| Form(v, PhantomData))
    }
}

fn url_encoded(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| Error::malformed("body", format!("not a form body: {e}")))?;
    Ok(pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}

impl<T: DeserializeOwned, R> Params<T, R> {
    async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Self, Error> {
        let mut fields = Map::new();
        if let Some(query) = req.uri().query() {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
                .map_err(|e| Error::malformed("query", format!("malformed query string: {e}")))?;
            for (k, v) in pairs {
                fields.insert(k, Value::String(v));
            }
        }
        let ct = content_type(&req);
        let body = if ct.starts_with("multipart/form-data") {
            Form::<Map<String, Value>, ()>::read(req, state).await?.0
        } else if ct.starts_with("application/x-www-form-urlencoded") {
            // A JSON object under a form's label (jQuery's default content type) is read as
            // JSON, as pauli's original read every body (`get_json(force=True)`).
            let (parts, body) = req.into_parts();
            let bytes = read_body(&parts, body).await?;
            match serde_json::from_slice::<Map<String, Value>>(&bytes) {
                Ok(object) => object,
                Err(_) => url_encoded(&bytes)?,
            }
        } else {
            Json::<Map<String, Value>, ()>::read(req).await?.0
        };
        fields.extend(body);
        from_value(Value::Object(fields)).map(|v| Params(v, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[derive(serde::Deserialize, Debug)]
    struct Login {
        email: String,
        #[allow(dead_code)]
        password: String,
    }

    async fn json(body: &str) -> Result<Json<Login, ()>, Error> {
        let req = Request::builder()
            .body(Body::from(body.to_string()))
            .unwrap();
        Json::<Login, ()>::read(req).await
    }

    fn field(r: Result<Json<Login, ()>, Error>) -> String {
        match r {
            Err(Error::Malformed { field, .. }) => field,
            other => panic!("expected invalid, got {:?}", other.map(|j| j.0)),
        }
    }

    #[tokio::test]
    async fn names_the_bad_field() {
        assert_eq!(field(json(r#"{"email":"a"}"#).await), "password");
        assert_eq!(field(json("").await), "email");
        assert_eq!(field(json(r#"{"email":1,"password":"x"}"#).await), "email");
        assert_eq!(field(json("{not json").await), "body");
        assert_eq!(field(json("[1]").await), "body");
        assert!(json(r#"{"email":"a","password":"b"}"#).await.is_ok());
    }

    #[tokio::test]
    async fn a_body_over_64_kib_is_bad_input_and_is_read_to_its_end() {
        let big = format!(r#"{{"email":"a","password":"{}"}}"#, "x".repeat(BODY_LIMIT));
        assert_eq!(field(json(&big).await), "body");
        let fits = format!(
            r#"{{"email":"a","password":"{}"}}"#,
            "x".repeat(BODY_LIMIT - 40)
        );
        assert!(json(&fits).await.is_ok());
    }

    #[tokio::test]
    async fn reads_both_form_encodings() {
        let req = Request::builder()
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("email=a%40b.c&password=x"))
            .unwrap();
        assert!(Form::<Login, ()>::read(req, &()).await.is_ok());
        let body = "--X\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.c\r\n--X\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npw\r\n--X--\r\n";
        let req = Request::builder()
            .header("content-type", "multipart/form-data; boundary=X")
            .body(Body::from(body))
            .unwrap();
        assert!(Form::<Login, ()>::read(req, &()).await.is_ok());
        let req = Request::builder()
            .header("content-type", "multipart/form-data; boundary=X")
            .body(Body::from("--X\r\ngarbage"))
            .unwrap();
        assert!(matches!(
            Form::<Login, ()>::read(req, &()).await,
            Err(Error::Malformed { .. })
        ));
    }

    #[tokio::test]
    async fn params_read_a_json_object_labelled_as_a_form() {
        for body in [
            r#"{"email":"a@b.c","password":"x"}"#,
            "email=a%40b.c&password=x",
        ] {
            let req = Request::builder()
                .uri("/")
                .header(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=UTF-8",
                )
                .body(Body::from(body))
                .unwrap();
            let Params(login, _) = Params::<Login, ()>::read(req, &()).await.unwrap();
            assert_eq!(login.email, "a@b.c", "{body}");
        }
    }
}
