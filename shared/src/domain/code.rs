use super::ParseError;

/// A verification code as typed by a user: 4 to 8 digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    pub const LEN: usize = 6;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if !(4..=8).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new("must be 4 to 8 digits"));
        }
        Ok(Code(s.to_string()))
    }

    /// Whatever a client typed where its original compared strings and checked no shape: a
    /// code of another shape is a wrong one (checked, counted), not bad input. Longer than any
    /// code, it is cut; it cannot match either way.
    pub fn offered(raw: &str) -> Self {
        Code(raw.trim().chars().take(16).collect())
    }

    pub fn generate() -> Self {
        Code(crate::random::digits(Self::LEN))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_only() {
        assert!(Code::parse("4729").is_ok());
        assert!(Code::parse("225154").is_ok());
        assert!(Code::parse("12a4").is_err());
        assert!(Code::parse("123").is_err());
        assert_eq!(Code::generate().as_str().len(), 6);
        assert_eq!(Code::offered(" 12 ").as_str(), "12");
        assert_eq!(Code::offered(&"9".repeat(100)).as_str().len(), 16);
    }
}
