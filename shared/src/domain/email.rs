use super::ParseError;

/// An email address, lower-cased so uniqueness does not depend on how a client typed it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// The longest address SMTP carries (RFC 5321's path limit less its brackets).
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim().to_lowercase();
        if s.len() > Self::MAX_LEN {
            return Err(ParseError::too_long("longer than 254 characters"));
        }
        let (local, domain) = s
            .split_once('@')
            .ok_or_else(|| ParseError::new("not an email address"))?;
        // An internationalised domain is kept, compared and mailed in its ASCII form.
        let ascii = if domain.is_ascii() {
            domain.to_string()
        } else {
            idna::domain_to_ascii(domain).map_err(|_| ParseError::new("not an email address"))?
        };
        let domain = ascii.as_str();
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if !domain_ok || !local_ok {
            return Err(ParseError::new("not an email address"));
        }
        let email = format!("{local}@{domain}");
        if email.len() > Self::MAX_LEN {
            return Err(ParseError::too_long("longer than 254 characters"));
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `use****.com` for `user1@example.com`: seed 003's default nickname, as its original made
    /// it (`createFakeNickname`: the first three characters, `****`, the last four).
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let head: String = chars.iter().take(3).collect();
        let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        format!("{head}****{tail}")
    }
}

impl TryFrom<String> for Email {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Email::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_rejects() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@x.com",
            "a@b",
            "a b@x.com",
            "a@x..com",
            "a@.x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn stores_internationalised_domains_in_punycode() {
        assert_eq!(
            Email::parse("user@例子.中国").unwrap().as_str(),
            "user@xn--fsqu00a.xn--fiqs8s"
        );
        assert_eq!(
            Email::parse("user@例子.中国").unwrap(),
            Email::parse("user@xn--fsqu00a.xn--fiqs8s").unwrap()
        );
    }

    #[test]
    fn masks_the_local_part() {
        assert_eq!(
            Email::parse("user1@example.com").unwrap().masked(),
            "use****.com"
        );
        assert_eq!(Email::parse("a@x.com").unwrap().masked(), "a@x****.com");
    }
}
