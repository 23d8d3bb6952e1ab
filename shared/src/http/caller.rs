//! Who is calling: the one address every limit and login record uses. The peer is the socket's
//! address locally and API Gateway's `requestContext.http.sourceIp` on Lambda; an
//! `X-Forwarded-For` entry counts only when that many trusted proxies (configured) stand in
//! front, taken from the right, where those proxies appended it. Anything else in the header
//! is the client's own words and ignored.

use crate::services::{Client, Dialect};
use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{request::Parts, HeaderMap},
    middleware::Next,
    response::Response,
};
use std::net::{IpAddr, SocketAddr};

/// The longest `X-Forwarded-For` entry read (an IPv6 address with a zone fits).
const MAX_ENTRY: usize = 64;

/// The caller's address, from the peer and through `trusted` proxies.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: usize) -> Option<IpAddr> {
    if trusted == 0 {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let Some(index) = hops.len().checked_sub(trusted) else {
        return peer;
    };
    hops.get(index)
        .filter(|h| h.len() <= MAX_ENTRY)
        .and_then(|h| h.parse::<IpAddr>().ok())
        .or(peer)
}

fn peer(req: &Request) -> Option<IpAddr> {
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        return Some(addr.ip());
    }
    use lambda_http::{request::RequestContext, RequestExt};
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .http
            .source_ip
            .as_deref()
            .filter(|ip| ip.len() <= MAX_ENTRY)
            .and_then(|ip| ip.parse().ok()),
        _ => None,
    }
}

/// Middleware: resolves the caller once per request, for the `Client` extractor.
pub async fn identify(State(trusted): State<usize>, mut req: Request, next: Next) -> Response {
    let address = resolve(peer(&req), req.headers(), trusted);
    let user_agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .chars()
        .take(256)
        .collect();
    req.extensions_mut()
        .insert(Client::new(address, user_agent));
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut client = parts
            .extensions
            .get::<Client>()
            .cloned()
            .unwrap_or_default();
        client.dialect = parts.extensions.get::<Dialect>().copied();
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static(v));
        h
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_caller() {
        let peer = "203.0.113.9".parse().ok();
        assert_eq!(resolve(peer, &forwarded("1.2.3.4"), 0), peer);
    }

    #[test]
    fn trusted_proxies_are_counted_from_the_right() {
        let peer = "10.0.0.2".parse().ok();
        let h = forwarded("6.6.6.6, 198.51.100.7, 10.0.0.1");
        assert_eq!(resolve(peer, &h, 1), "10.0.0.1".parse().ok());
        assert_eq!(resolve(peer, &h, 2), "198.51.100.7".parse().ok());
        assert_eq!(
            resolve(peer, &forwarded("1.1.1.1"), 2),
            peer,
            "too few hops"
        );
        assert_eq!(resolve(peer, &forwarded("nonsense"), 1), peer);
        let long = format!("{}1", "0".repeat(80));
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(&long).unwrap());
        assert_eq!(resolve(peer, &h, 1), peer, "over-long entries are ignored");
    }
}
