use super::{Email, ParseError, Phone, Username, UsernamePolicy};

/// Whatever a client signs in with. Classified by shape: `@` means email, a phone-like string
/// means mobile, anything else is a username (which can be neither, by its own rules).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Account {
    Email(Email),
    Mobile(Phone),
    Username(Username),
}

impl Account {
    pub fn parse(raw: &str, default_cc: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ParseError::new("is required"));
        }
        if s.contains('@') {
            return Email::parse(s).map(Account::Email);
        }
        if phone_like(s) {
            return Phone::parse(s, default_cc).map(Account::Mobile);
        }
        Username::parse(s, UsernamePolicy::default()).map(Account::Username)
    }

    /// What a sign-in names where the original looked up whatever it was given: `None` for a
    /// string no account can have (empty, or no email, mobile or username by their rules), an
    /// error only past every identifier's length (API-NOTES "Sizes": bad input).
    pub fn named(raw: &str, default_cc: &str) -> Result<Option<Self>, ParseError> {
        let limit = if raw.contains('@') {
            Email::MAX_LEN
        } else if phone_like(raw.trim()) {
            Phone::MAX_LEN
        } else {
            UsernamePolicy::default().max
        };
        if raw.trim().chars().count() > limit {
            return Err(ParseError::too_long("longer than any identifier"));
        }
        Ok(Self::parse(raw, default_cc).ok())
    }

    /// An email or a mobile number, nothing else (seed 003's `account`, where codes are sent):
    /// a number that cannot be a mobile is refused before a text is spent on it.
    pub fn parse_contact(raw: &str, default_cc: &str) -> Result<Self, ParseError> {
        match Self::parse(raw, default_cc)? {
            Account::Mobile(p) if !p.can_be_mobile() => {
                Err(ParseError::new("must be a mobile number or an email"))
            }
            Account::Username(_) => Err(ParseError::new("must be a mobile number or an email")),
            other => Ok(other),
        }
    }

    /// A stable text form for keys of codes and throttles.
    pub fn key(&self) -> String {
        match self {
            Account::Email(e) => e.as_str().to_string(),
            Account::Mobile(p) => p.e164().to_string(),
            Account::Username(u) => format!("u:{}", u.folded()),
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            Account::Email(_) => "email",
            Account::Mobile(_) => "mobile",
            Account::Username(_) => "username",
        }
    }
}

/// Shaped like a phone number: digits, and the `+`, spaces, dashes and brackets people write.
fn phone_like(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_shape() {
        assert!(matches!(
            Account::parse("a@b.com", "86"),
            Ok(Account::Email(_))
        ));
        assert!(matches!(
            Account::parse("13312341234", "86"),
            Ok(Account::Mobile(_))
        ));
        assert!(matches!(
            Account::parse("alice", "86"),
            Ok(Account::Username(_))
        ));
        assert!(Account::parse_contact("alice", "86").is_err());
        for landline_or_short in ["1234567", "023-12345678", "133123412345", "12312341234"] {
            assert!(
                Account::parse_contact(landline_or_short, "86").is_err(),
                "{landline_or_short}"
            );
        }
        assert!(Account::parse_contact("+14155550123", "86").is_ok());
        assert!(Account::parse("", "86").is_err());
        assert_eq!(Account::named("", "86"), Ok(None));
        assert_eq!(Account::named("first.last+tag", "86"), Ok(None));
        assert!(matches!(
            Account::named("alice", "86"),
            Ok(Some(Account::Username(_)))
        ));
        assert!(Account::named(&"a".repeat(65), "86").is_err());
        assert!(Account::named("+86133123400011234567", "86").is_err());
        assert!(Account::named(&format!("{}@x.com", "a".repeat(100)), "86").is_ok());
    }
}
