use super::ParseError;

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

/// A login name. It never contains `@` and is never all digits, so an identifier a client
/// types is unambiguously an email, a mobile number or a username.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str, policy: UsernamePolicy) -> Result<Self, ParseError> {
        let s = raw.trim();
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
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
            return Err(ParseError::new("must not be only digits"));
        }
        Ok(Username(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
    }
}
