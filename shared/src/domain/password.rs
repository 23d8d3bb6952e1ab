use super::ParseError;

/// Length bounds of a new password. Per dialect, since seed 004 fixes 8..=20.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min: usize,
    pub max: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy { min: 6, max: 128 }
    }
}

/// A password. Never printed: its `Debug` hides it so it cannot reach a log by accident.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// A new password, checked against the policy.
    pub fn new(raw: &str, policy: PasswordPolicy) -> Result<Self, ParseError> {
        let n = raw.chars().count();
        if n < policy.min || n > policy.max {
            return Err(ParseError::new(format!(
                "must be {} to {} characters",
                policy.min, policy.max
            )));
        }
        if raw.trim().is_empty() {
            return Err(ParseError::new("must not be blank"));
        }
        Ok(Password(raw.to_string()))
    }

    /// A password offered at login: only bounded, since older accounts may predate a policy.
    pub fn attempt(raw: &str) -> Result<Self, ParseError> {
        if raw.is_empty() {
            return Err(ParseError::new("is required"));
        }
        if raw.len() > 1024 {
            return Err(ParseError::new("too long"));
        }
        Ok(Password(raw.to_string()))
    }

    /// A random password for accounts created without one; never shown to anyone.
    pub fn random() -> Self {
        Password(crate::random::token())
    }

    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_bounds_and_hidden_debug() {
        assert!(Password::new("12345", PasswordPolicy::default()).is_err());
        assert!(Password::new("123456", PasswordPolicy::default()).is_ok());
        assert!(Password::new("      ", PasswordPolicy::default()).is_err());
        let p = PasswordPolicy { min: 8, max: 20 };
        assert!(Password::new(&"x".repeat(21), p).is_err());
        assert_eq!(
            format!("{:?}", Password::attempt("secret").unwrap()),
            "Password(***)"
        );
        assert!(Password::attempt("").is_err());
    }
}
