//! Seed 003's original session cookie: express `cookie-session` as flame and boarcms configure
//! it (`name: 'boar-session'`), which their admin pages sign in with (`req.session.userId`),
//! alongside the JWT. The value is the session as base64 JSON; `boar-session.sig` is keygrip's
//! signature of `boar-session=<value>`: HMAC-SHA1 under the app's first key, URL-safe base64
//! without padding. The value carries no expiry and is the same at every sign-in: the app
//! accepts it until its key changes, whatever polyauth ends (logout, a reset, disabling). So
//! polyauth issues it only where an operator sets the app's key, and changing that key (here
//! and in the app) is what revokes the cookies issued.

use crate::{config::Secret, domain::UserId};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The cookie's name in both originals' `main.js`.
pub const NAME: &str = "boar-session";
/// The signature cookie `cookie-session` reads beside it.
pub const SIG_NAME: &str = "boar-session.sig";

/// The value and signature of the session `{"userId": user}`.
pub fn issue(key: &Secret, user: UserId) -> (String, String) {
    let value = STANDARD.encode(format!("{{\"userId\":{}}}", user.0));
    let sig = sign(key, &format!("{NAME}={value}"));
    (value, sig)
}

#[allow(clippy::expect_used, reason = "HMAC takes a key of any length")]
fn sign(key: &Secret, data: &str) -> String {
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(key.expose()).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cookie a boarcms server with `keys: ['boar']` sets for user 1, computed with Node's
    /// `crypto.createHmac('sha1', 'boar').update('boar-session=eyJ1c2VySWQiOjF9')
    /// .digest('base64')` and keygrip's URL-safe replacements.
    #[test]
    fn matches_cookie_session_for_the_originals_key() {
        let (value, sig) = issue(&Secret::new("boar".into()), UserId(1));
        assert_eq!(value, "eyJ1c2VySWQiOjF9");
        assert_eq!(sig, "9ZnLQRoO35K9bDkBwrhzuAuTMRU");
    }
}
