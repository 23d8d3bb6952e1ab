use super::ParseError;

/// A new password refused by `Password::vet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeakPassword;

/// Length bounds of a new password. Per dialect, since seed 004 fixes 8..=20.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min: usize,
    pub max: usize,
}

impl Default for PasswordPolicy {
    /// Every dialect's new passwords: at least 8 characters (ASVS 6.2.1), at most 128.
    fn default() -> Self {
        PasswordPolicy { min: 8, max: 128 }
    }
}

/// A password. Never printed: its `Debug` hides it so it cannot reach a log by accident.
/// `fresh` marks one a user is choosing now (the core then vets its strength); a password
/// offered at login or set at random is not.
#[derive(Clone)]
pub struct Password {
    raw: String,
    fresh: bool,
}

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
        Ok(Password {
            raw: raw.to_string(),
            fresh: true,
        })
    }

    /// A password offered at login: only bounded, since older accounts may predate a policy.
    pub fn attempt(raw: &str) -> Result<Self, ParseError> {
        if raw.is_empty() {
            return Err(ParseError::new("is required"));
        }
        Self::offered(raw)
    }

    /// A password offered where the original checked an empty one like any other (seeds 001
    /// and 004): it matches no account, so it is a wrong password, not bad input.
    pub fn offered(raw: &str) -> Result<Self, ParseError> {
        if raw.len() > 1024 {
            return Err(ParseError::new("too long"));
        }
        Ok(Password {
            raw: raw.to_string(),
            fresh: false,
        })
    }

    /// A random password for accounts created without one; never shown to anyone.
    pub fn random() -> Self {
        Password {
            raw: crate::random::token(),
            fresh: false,
        }
    }

    pub fn expose(&self) -> &[u8] {
        self.raw.as_bytes()
    }

    /// Refuses a freshly chosen password that `zxcvbn` scores below 2 ("too guessable") or
    /// that holds one of `identifiers` (the account's email name, mobile digits, username).
    pub fn vet(&self, identifiers: &[String]) -> Result<(), WeakPassword> {
        if !self.fresh {
            return Ok(());
        }
        let lower = self.raw.to_lowercase();
        let own = identifiers
            .iter()
            .map(|i| i.to_lowercase())
            .any(|i| i.chars().count() >= 4 && lower.contains(&i));
        let hints: Vec<&str> = identifiers.iter().map(String::as_str).collect();
        let score = u8::from(zxcvbn::zxcvbn(&self.raw, &hints).score());
        if own || score < 2 {
            return Err(WeakPassword);
        }
        Ok(())
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
        assert!(Password::new("1234567", PasswordPolicy::default()).is_err());
        assert!(Password::new("12345678", PasswordPolicy::default()).is_ok());
        assert!(Password::new(&"x".repeat(129), PasswordPolicy::default()).is_err());
        assert!(Password::new("        ", PasswordPolicy::default()).is_err());
        let p = PasswordPolicy { min: 8, max: 20 };
        assert!(Password::new(&"x".repeat(21), p).is_err());
        assert_eq!(
            format!("{:?}", Password::attempt("secret").unwrap()),
            "Password(***)"
        );
        assert!(Password::attempt("").is_err());
    }

    #[test]
    fn weak_or_personal_new_passwords_are_refused_old_ones_are_not_vetted() {
        let policy = PasswordPolicy::default();
        let none: Vec<String> = vec![];
        for weak in ["12345678", "password", "password123", "qwertyuiop"] {
            assert_eq!(
                Password::new(weak, policy).unwrap().vet(&none),
                Err(WeakPassword),
                "{weak}"
            );
        }
        assert!(Password::new("brand-new-1", policy)
            .unwrap()
            .vet(&none)
            .is_ok());
        let mine = vec!["alice".to_string(), "13312341234".to_string()];
        assert_eq!(
            Password::new("Alice-horse-battery", policy)
                .unwrap()
                .vet(&mine),
            Err(WeakPassword)
        );
        assert!(Password::attempt("123456").unwrap().vet(&none).is_ok());
    }
}
