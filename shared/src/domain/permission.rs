use super::ParseError;

/// A permission name such as `pauli:user:audit`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Permission(String);

impl Permission {
    pub const USER_AUDIT: &'static str = "pauli:user:audit";
    pub const USER_CREATE: &'static str = "pauli:user:create";

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.split(':').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-*".contains(c))
            });
        if !ok {
            return Err(ParseError::new("must look like 'scope:resource:action'"));
        }
        Ok(Permission(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scoped_names() {
        assert!(Permission::parse(Permission::USER_AUDIT).is_ok());
        assert!(Permission::parse("Pauli:User").is_err());
        assert!(Permission::parse("a::b").is_err());
    }
}
