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
    }
}
