use super::ParseError;
use unicode_normalization::UnicodeNormalization;

/// Length bounds are per dialect (seed 004 says 5..=30); the character rules are everyone's.
#[derive(Debug, Clone, Copy)]
pub struct UsernamePolicy {
    pub min: usize,
    pub max: usize,
}

impl Default for UsernamePolicy {
    fn default() -> Self {
        UsernamePolicy { min: 1, max: 64 }
    }
}

/// A login name. It never contains `@` and never looks like a phone number, so an identifier a
/// client types is unambiguously an email, a mobile number or a username. Kept in NFKC (so a
/// full-width `ａｄｍｉｎ` is `admin`) and compared case-insensitively (`folded`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str, policy: UsernamePolicy) -> Result<Self, ParseError> {
        let normalised: String = raw.trim().nfkc().collect();
        let s = normalised.as_str();
        let n = s.chars().count();
        if n < policy.min || n > policy.max {
            return Err(ParseError::new(format!(
                "must be {} to {} characters",
                policy.min, policy.max
            )));
        }
        if !s.chars().all(|c| c.is_alphanumeric() || "_.-".contains(c)) {
            return Err(ParseError::new(
                "only letters, digits, '_', '.' and '-' are allowed",
            ));
        }
        // What `Account::parse` would take for a mobile number (`133-1234-1234`) is not a name.
        if s.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
            return Err(ParseError::new("must not look like a phone number"));
        }
        Ok(Username(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form names are compared in: `Alice` and `alice` are one account.
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_policy_and_characters() {
        let p = UsernamePolicy { min: 5, max: 30 };
        assert!(Username::parse("aoihosizora", p).is_ok());
        assert!(Username::parse("abcd", p).is_err());
        assert!(Username::parse(&"a".repeat(31), p).is_err());
        assert!(Username::parse("a@b.com", UsernamePolicy::default()).is_err());
        assert!(Username::parse("12345678", UsernamePolicy::default()).is_err());
        assert!(Username::parse("has space", UsernamePolicy::default()).is_err());
        assert!(Username::parse("133-1234-1234", UsernamePolicy::default()).is_err());
        assert!(Username::parse("+86-133", UsernamePolicy::default()).is_err());
    }

    #[test]
    fn full_width_and_case_are_one_name() {
        let full = Username::parse("ＡｄＭｉｎ", UsernamePolicy::default()).unwrap();
        assert_eq!(full.as_str(), "AdMin");
        let plain = Username::parse("admin", UsernamePolicy::default()).unwrap();
        assert_eq!(full.folded(), plain.folded());
    }
}
