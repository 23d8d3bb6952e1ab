use super::ParseError;

/// A mobile number in E.164 (`+8613312341234`). Numbers written without a country code get
/// the configured default, so `13312341234` and `+86 133 1234 1234` are the same account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Phone {
    e164: String,
    /// Length of the country code, to show the national form back to clients that sent it.
    cc_len: u8,
}

impl Phone {
    /// The longest mobile a client may send, separators included (the contract's limit).
    pub const MAX_LEN: usize = 20;

    pub fn parse(raw: &str, default_cc: &str) -> Result<Self, ParseError> {
        if raw.trim().chars().count() > Self::MAX_LEN {
            return Err(ParseError::too_long("longer than 20 characters"));
        }
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let (international, digits) = match compact.strip_prefix('+') {
            Some(rest) => (true, rest.to_string()),
            None => match compact.strip_prefix("00") {
                Some(rest) => (true, rest.to_string()),
                None => (false, compact),
            },
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new("not a mobile number"));
        }
        let (e164, cc_len) = if international {
            (format!("+{digits}"), guess_cc_len(&digits))
        } else {
            let national = digits.trim_start_matches('0');
            (format!("+{default_cc}{national}"), default_cc.len())
        };
        let total = e164.len() - 1;
        if !(8..=15).contains(&total) || total <= cc_len + 5 {
            return Err(ParseError::new("not a mobile number"));
        }
        Ok(Phone {
            e164,
            cc_len: cc_len as u8,
        })
    }

    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The number as a local client shows it: national form when it is in the default
    /// country, E.164 otherwise.
    pub fn display(&self, default_cc: &str) -> String {
        match self.e164[1..].strip_prefix(default_cc) {
            Some(national) if self.cc_len as usize == default_cc.len() => national.to_string(),
            _ => self.e164.clone(),
        }
    }

    /// Whether texts can reach it. Mainland China's mobiles are `1[3-9]` and nine more digits
    /// (the pattern of seeds 000's and 003's originals); elsewhere any number may be one.
    pub fn can_be_mobile(&self) -> bool {
        match self.e164.strip_prefix("+86") {
            Some(national) if self.cc_len == 2 => {
                let b = national.as_bytes();
                b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
            }
            _ => true,
        }
    }

    /// `133****1234`, seed 003's default nickname.
    pub fn masked(&self, default_cc: &str) -> String {
        let shown = self.display(default_cc);
        let n = shown.chars().count();
        if n <= 7 {
            return format!("{}****", &shown[..n.min(3)]);
        }
        format!("{}****{}", &shown[..3], &shown[n - 4..])
    }
}

/// Country codes are prefix-free; the few one- and two-digit ones are listed, the rest are three.
fn guess_cc_len(digits: &str) -> usize {
    const ONE: [&str; 2] = ["1", "7"];
    const TWO: [&str; 43] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95",
    ];
    if ONE.iter().any(|p| digits.starts_with(p)) {
        1
    } else if TWO.iter().any(|p| digits.starts_with(p)) || digits.starts_with("98") {
        2
    } else {
        3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_numbers_get_the_default_country_code() {
        let p = Phone::parse("13312341234", "86").unwrap();
        assert_eq!(p.e164(), "+8613312341234");
        assert_eq!(p.display("86"), "13312341234");
        assert_eq!(p.masked("86"), "133****1234");
        assert_eq!(Phone::parse("+86 133-1234-1234", "86").unwrap(), p);
    }

    #[test]
    fn foreign_numbers_stay_international() {
        let p = Phone::parse("+14155550123", "86").unwrap();
        assert_eq!(p.e164(), "+14155550123");
        assert_eq!(p.display("86"), "+14155550123");
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "12", "+", "1331234123412341234", "133x1234"] {
            assert!(Phone::parse(bad, "86").is_err(), "{bad} should not parse");
        }
    }
}
