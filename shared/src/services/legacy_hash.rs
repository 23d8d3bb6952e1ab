//! Password hashes as the originals stored them, so imported users sign in with the passwords
//! they have: bcrypt (`$2a$`, `$2b$`, `$2y$`: pauli, alnitak), sha256/512-crypt (`$5$`, `$6$`:
//! passlib), Django PBKDF2 (`pbkdf2_sha256$`, `pbkdf2_sha1$`), Werkzeug PBKDF2
//! (`pbkdf2:sha256:<iterations>$`), and unsalted MD5 (flame). An MD5 is never stored as it
//! came: it is wrapped at import as argon2id of the hex digest (`md5+$argon2id$...`), so a
//! leaked table yields no MD5. Every comparison is constant-time. The first successful login
//! replaces any of these with a plain argon2id hash.

use crate::domain::ParseError;
use base64::{engine::general_purpose::STANDARD, Engine};
use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq;

/// The most work an imported hash may ask of a login. Each login attempt on an account runs its
/// hash's own work on the shared hashing pool, so one hash of absurd cost (bcrypt 31,
/// a billion sha-crypt rounds) would let anyone who knows the name stall every sign-in. The
/// caps sit well above what the originals and their libraries' defaults used (bcrypt 10 to 12,
/// passlib's 656,000 sha512_crypt rounds, Django's and Werkzeug's 1,000,000 PBKDF2 iterations,
/// argon2-cffi's 64 MiB and passlib's 100 MiB): an import refuses what is over them, and a
/// stored hash over them matches no password.
const MAX_BCRYPT_COST: u32 = 15;
const MAX_SHA_CRYPT_ROUNDS: u32 = 1_000_000;
const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
const MAX_ARGON2_MEMORY_KIB: u32 = 131_072;
const MAX_ARGON2_PASSES: u32 = 16;
const MAX_ARGON2_LANES: u32 = 16;

/// The prefix of a wrapped MD5: argon2id of the lower-case hex MD5 of the password.
pub const WRAPPED_MD5: &str = "md5+";

/// What an imported hash becomes in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// Stored as it came (argon2, bcrypt, sha-crypt, PBKDF2).
    AsIs(String),
    /// An unsalted MD5 (lower-case hex), to be wrapped in argon2id before it is stored.
    Md5(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

/// The kind of a stored hash, for operators (`admin show`): never the hash itself.
pub fn kind(stored: &str) -> &'static str {
    match stored {
        s if s.starts_with("$argon2id$") => "argon2id",
        s if s.starts_with("$argon2") => "argon2",
        s if s.starts_with(WRAPPED_MD5) => "md5 (wrapped in argon2id)",
        s if s.starts_with("$2") => "bcrypt",
        s if s.starts_with("$5$") => "sha256_crypt",
        s if s.starts_with("$6$") => "sha512_crypt",
        s if s.starts_with("pbkdf2_") => "django pbkdf2",
        s if s.starts_with("pbkdf2:") => "werkzeug pbkdf2",
        _ => "none",
    }
}

/// Whether `stored` is polyauth's own kind of hash (argon2), which a login keeps.
pub fn is_current(stored: &str) -> bool {
    stored.starts_with("$argon2")
}

/// Whether `stored` is a hash of a kind this module or argon2 verifies (anything else, such as
/// the empty hash of a user imported without one, matches no password).
pub fn is_known(stored: &str) -> bool {
    stored.starts_with(WRAPPED_MD5)
        || matches!(
            parse_imported(stored, BareHex::Undeclared),
            Ok(Imported::AsIs(_))
        )
}

/// What a bare 32-hex-digit hash in an import is taken for: unsalted MD5 only when the
/// operator declares it (`--md5`), never guessed, since 32 hex characters could be anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareHex {
    Md5,
    Undeclared,
}

/// Checks the shape of a hash an import brings.
pub fn parse_imported(raw: &str, bare: BareHex) -> Result<Imported, ParseError> {
    let s = raw.trim();
    if s.len() > 1024 {
        return Err(ParseError::new("longer than 1024 characters"));
    }
    if s.starts_with("$argon2") {
        let Ok(parsed) = argon2::password_hash::PasswordHash::new(s) else {
            return Err(ParseError::new("not a valid argon2 hash"));
        };
        let params = argon2::Params::try_from(&parsed);
        let (Ok(params), Some(_), Some(_)) = (params, parsed.salt, parsed.hash) else {
            return Err(ParseError::new("not a valid argon2 hash"));
        };
        if params.m_cost() > MAX_ARGON2_MEMORY_KIB
            || params.t_cost() > MAX_ARGON2_PASSES
            || params.p_cost() > MAX_ARGON2_LANES
        {
            return Err(ParseError::new(format!(
                "argon2 parameters over the most a login may cost (m={MAX_ARGON2_MEMORY_KIB}, \
                 t={MAX_ARGON2_PASSES}, p={MAX_ARGON2_LANES})"
            )));
        }
        return Ok(Imported::AsIs(s.to_string()));
    }
    if ["$2a$", "$2b$", "$2y$"].iter().any(|p| s.starts_with(p)) {
        let cost = s.get(4..6).and_then(|c| c.parse::<u32>().ok());
        let cost_ok = cost.is_some_and(|c| (4..=31).contains(&c));
        if s.len() != 60 || !cost_ok || s.as_bytes().get(6) != Some(&b'$') {
            return Err(ParseError::new("not a valid bcrypt hash"));
        }
        if cost.is_some_and(|c| c > MAX_BCRYPT_COST) {
            return Err(ParseError::new(format!(
                "bcrypt cost over {MAX_BCRYPT_COST}, the most a login may cost"
            )));
        }
        return Ok(Imported::AsIs(s.to_string()));
    }
    if s.starts_with("$5$") || s.starts_with("$6$") {
        return sha_crypt_shape(s).map(|()| Imported::AsIs(s.to_string()));
    }
    if s.starts_with("pbkdf2_") {
        return django(s)
            .ok_or_else(|| ParseError::new("not a valid Django PBKDF2 hash"))
            .and_then(|(_, iterations, ..)| pbkdf2_within_cap(iterations))
            .map(|()| Imported::AsIs(s.to_string()));
    }
    if s.starts_with("pbkdf2:") {
        return werkzeug(s)
            .ok_or_else(|| {
                ParseError::new("not a valid Werkzeug hash (pbkdf2:<sha1|sha256|sha512>:<iterations>$<salt>$<hex>)")
            })
            .and_then(|(_, iterations, ..)| pbkdf2_within_cap(iterations))
            .map(|()| Imported::AsIs(s.to_string()));
    }
    if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return if bare == BareHex::Md5 {
            Ok(Imported::Md5(s.to_ascii_lowercase()))
        } else {
            Err(ParseError::new(
                "a bare 32-hex hash is taken as unsalted MD5 only with --md5",
            ))
        };
    }
    Err(ParseError::new("unknown password hash format"))
}

fn pbkdf2_within_cap(iterations: u32) -> Result<(), ParseError> {
    if iterations > MAX_PBKDF2_ITERATIONS {
        return Err(ParseError::new(format!(
            "PBKDF2 iterations over {MAX_PBKDF2_ITERATIONS}, the most a login may cost"
        )));
    }
    Ok(())
}

fn sha_crypt_shape(s: &str) -> Result<(), ParseError> {
    let bad = || ParseError::new("not a valid sha256_crypt / sha512_crypt hash");
    let (checksum_len, rest) = match (s.strip_prefix("$5$"), s.strip_prefix("$6$")) {
        (Some(rest), _) => (43, rest),
        (_, Some(rest)) => (86, rest),
        _ => return Err(bad()),
    };
    let rest = match rest.strip_prefix("rounds=") {
        Some(r) => {
            let (n, after) = r.split_once('$').ok_or_else(bad)?;
            if n.parse::<u64>().map_err(|_| bad())? > u64::from(MAX_SHA_CRYPT_ROUNDS) {
                return Err(ParseError::new(format!(
                    "sha-crypt rounds over {MAX_SHA_CRYPT_ROUNDS}, the most a login may cost"
                )));
            }
            after
        }
        None => rest,
    };
    let (salt, checksum) = rest.split_once('$').ok_or_else(bad)?;
    if salt.len() > 16 || checksum.len() != checksum_len {
        return Err(bad());
    }
    Ok(())
}

/// Django: `pbkdf2_<sha256|sha1>$<iterations>$<salt>$<base64 digest>`.
fn django(s: &str) -> Option<(Prf, u32, &str, Vec<u8>)> {
    let mut parts = s.split('$');
    let prf = match parts.next()? {
        "pbkdf2_sha256" => Prf::Sha256,
        "pbkdf2_sha1" => Prf::Sha1,
        _ => return None,
    };
    let iterations = parts.next()?.parse::<u32>().ok().filter(|n| *n > 0)?;
    let salt = parts.next()?;
    let expected = STANDARD.decode(parts.next()?).ok()?;
    (parts.next().is_none() && !expected.is_empty()).then_some((prf, iterations, salt, expected))
}

/// Werkzeug: `pbkdf2:<sha1|sha256|sha512>:<iterations>$<salt>$<hex digest>`.
fn werkzeug(s: &str) -> Option<(Prf, u32, &str, Vec<u8>)> {
    let mut parts = s.split('$');
    let method = parts.next()?;
    let salt = parts.next()?;
    let hex = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let mut m = method.split(':');
    let (_, digest, iterations) = (m.next()?, m.next()?, m.next()?);
    let prf = match digest {
        "sha1" => Prf::Sha1,
        "sha256" => Prf::Sha256,
        "sha512" => Prf::Sha512,
        _ => return None,
    };
    let iterations = iterations.parse::<u32>().ok().filter(|n| *n > 0)?;
    let expected = decode_hex(hex)?;
    (m.next().is_none() && !expected.is_empty()).then_some((prf, iterations, salt, expected))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn pbkdf2(prf: Prf, password: &[u8], salt: &[u8], iterations: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    match prf {
        Prf::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, &mut out),
        Prf::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out),
        Prf::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, &mut out),
    }
    out
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The lower-case hex MD5 of a password: what a wrapped MD5's argon2id was computed over.
pub fn md5_hex(password: &[u8]) -> String {
    Md5::digest(password)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Verifies a password against a legacy (not argon2) hash. Blocking: run it on the hashing
/// pool. A wrapped MD5 is verified by the caller (it is argon2id underneath).
pub fn verify_legacy(stored: &str, password: &[u8]) -> bool {
    if ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| stored.starts_with(p))
    {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    if stored.starts_with("$5$") || stored.starts_with("$6$") {
        let Ok(pw) = std::str::from_utf8(password) else {
            return false;
        };
        let normalised = with_explicit_rounds(stored);
        return if stored.starts_with("$5$") {
            sha_crypt::sha256_check(pw, &normalised).is_ok()
        } else {
            sha_crypt::sha512_check(pw, &normalised).is_ok()
        };
    }
    if let Some((prf, iterations, salt, expected)) = django(stored).or_else(|| werkzeug(stored)) {
        let out = pbkdf2(prf, password, salt.as_bytes(), iterations, expected.len());
        return same(&out, &expected);
    }
    false
}

/// sha-crypt hashes may leave out `rounds=` when it is the default 5000; the crate reads the
/// explicit form, which computes the same digest.
fn with_explicit_rounds(stored: &str) -> String {
    let (head, rest) = stored.split_at(3);
    if rest.starts_with("rounds=") {
        stored.to_string()
    } else {
        format!("{head}rounds=5000${rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_of_pauli_and_alnitak_verifies() {
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let made = bcrypt::hash_with_result("s3cret-pw", 4)
                .unwrap()
                .format_for_version(match prefix {
                    "$2a$" => bcrypt::Version::TwoA,
                    "$2b$" => bcrypt::Version::TwoB,
                    _ => bcrypt::Version::TwoY,
                });
            assert!(made.starts_with(prefix), "{made}");
            assert_eq!(
                parse_imported(&made, BareHex::Undeclared),
                Ok(Imported::AsIs(made.clone()))
            );
            assert!(verify_legacy(&made, b"s3cret-pw"));
            assert!(!verify_legacy(&made, b"s3cret-px"));
        }
    }

    #[test]
    fn sha_crypt_of_passlib_verifies_with_and_without_rounds() {
        // passlib's documented example (sha256_crypt, 80000 rounds) and glibc-style default
        // rounds (sha512_crypt without `rounds=`).
        let h5 = "$5$rounds=80000$wnsT7Yr92oJoP28r$cKhJImk5mfuSKV9b3mumNzlbstFUplKtQXXMo4G6Ep5";
        assert!(parse_imported(h5, BareHex::Undeclared).is_ok());
        assert!(verify_legacy(h5, b"password"));
        assert!(!verify_legacy(h5, b"Password"));
        let h6 = "$6$G/gkPn17kHYo0gTF$xhDFU0QYExdMH2ghOWKrrVtu1BuTpNMSJURCXk43.EYekmK8iwV6RNqftUUC8mqDel1J7m3JEbUkbu4YyqSyv/";
        assert!(parse_imported(h6, BareHex::Undeclared).is_ok());
        assert!(verify_legacy(h6, b"test"));
        assert!(!verify_legacy(h6, b"tess"));
        let params = sha_crypt::Sha512Params::new(10_000).unwrap();
        let made = sha_crypt::sha512_simple("biji-pass", &params).unwrap();
        assert!(verify_legacy(&made, b"biji-pass"));
    }

    #[test]
    fn django_and_werkzeug_pbkdf2_verify() {
        let salt = "seasalt";
        let digest = pbkdf2(Prf::Sha256, b"nocode-pw", salt.as_bytes(), 1000, 32);
        let django = format!("pbkdf2_sha256$1000${salt}${}", STANDARD.encode(&digest));
        assert!(parse_imported(&django, BareHex::Undeclared).is_ok());
        assert!(verify_legacy(&django, b"nocode-pw"));
        assert!(!verify_legacy(&django, b"nocode-px"));
        let sha1 = pbkdf2(Prf::Sha1, b"nocode-pw", salt.as_bytes(), 1000, 20);
        let django1 = format!("pbkdf2_sha1$1000${salt}${}", STANDARD.encode(&sha1));
        assert!(verify_legacy(&django1, b"nocode-pw"));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let werkzeug = format!("pbkdf2:sha256:1000${salt}${hex}");
        assert!(parse_imported(&werkzeug, BareHex::Undeclared).is_ok());
        assert!(verify_legacy(&werkzeug, b"nocode-pw"));
        assert!(!verify_legacy(&werkzeug, b"other"));
    }

    #[test]
    fn rfc6070_pbkdf2_sha1_vector() {
        // RFC 6070, test vector 2: "password" / "salt", 2 iterations.
        let out = pbkdf2(Prf::Sha1, b"password", b"salt", 2, 20);
        assert_eq!(
            out,
            decode_hex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957").unwrap()
        );
    }

    #[test]
    fn md5_is_declared_never_guessed() {
        let hex = md5_hex(b"flame-pw");
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert!(parse_imported(&hex, BareHex::Undeclared).is_err());
        assert_eq!(
            parse_imported(&hex.to_uppercase(), BareHex::Md5),
            Ok(Imported::Md5(hex))
        );
    }

    #[test]
    fn refuses_unknown_and_malformed_hashes() {
        for bad in [
            "",
            "plaintext",
            "$2b$12$short",
            "$6$salt$tooshort",
            "pbkdf2_sha256$x$salt$AAAA",
            "pbkdf2:sha256$salt$abcd",
            "$argon2id$nonsense",
        ] {
            assert!(parse_imported(bad, BareHex::Md5).is_err(), "{bad}");
        }
    }

    /// A hash asking more work than any original used is refused at import, and one already
    /// stored matches no password (`is_known` is false, so a login spends only a normal
    /// verify): an attacker who knows its name cannot make every login wait on it.
    #[test]
    fn hashes_over_the_work_caps_are_refused_and_never_run() {
        let b64 = |n: usize| "a".repeat(n);
        let over = [
            format!("$2b$31${}", b64(53)),
            format!("$2a$16${}", b64(53)),
            format!("$6$rounds=999999999$saltsalt${}", b64(86)),
            format!("$6$rounds=999999999999$saltsalt${}", b64(86)),
            format!("$5$rounds=1000001$saltsalt${}", b64(43)),
            "pbkdf2_sha256$2000001$salt$c2FsdHNhbHQ=".to_string(),
            format!("pbkdf2:sha1:99999999$salt${}", "ab".repeat(20)),
            "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA".to_string(),
            "$argon2i$v=19$m=19456,t=100,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA".to_string(),
        ];
        for hash in &over {
            let refused = parse_imported(hash, BareHex::Undeclared).unwrap_err();
            assert!(
                refused.to_string().contains("the most a login may cost"),
                "{hash}: {refused}"
            );
            assert!(!is_known(hash), "{hash}");
        }
        // At the caps, and at the originals' own settings, they are taken.
        for hash in [
            format!("$2b$15${}", b64(53)),
            format!("$6$rounds=656000$saltsalt${}", b64(86)),
            "pbkdf2_sha256$1000000$salt$c2FsdHNhbHQ=".to_string(),
            "$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA".to_string(),
        ] {
            assert!(parse_imported(&hash, BareHex::Undeclared).is_ok(), "{hash}");
        }
    }
}
