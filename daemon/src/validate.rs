//! Input rules shared by GraphQL and the CLI. Pure functions: each returns the
//! cleaned value or a message naming the field.

/// A trimmed, non-empty text of at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if v.chars().count() > max {
        return Err(format!("{field} must be at most {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(v.to_string())
}

/// A plausible email address, lower-cased.
pub fn email(value: &str) -> Result<String, String> {
    let v = value.trim().to_lowercase();
    let ok = v.len() <= 254
        && !v.chars().any(char::is_whitespace)
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && v.matches('@').count() == 1;
    if ok {
        Ok(v)
    } else {
        Err(format!("`{}` is not a valid email address", value.trim()))
    }
}

/// An IANA-style time zone name (`UTC`, `Europe/Berlin`, `America/Argentina/Salta`).
pub fn time_zone(value: &str) -> Result<String, String> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
        })
        && v.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!("`{v}` is not a time zone name like Europe/Berlin"))
    }
}

/// A Meta numeric id (phone number id, WABA id).
pub fn meta_id(field: &str, value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 32 || !v.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{field} must be Meta's numeric id"));
    }
    Ok(v.to_string())
}

/// A phone number as displayed (`+1 555-0100`).
pub fn display_phone(value: &str) -> Result<String, String> {
    let v = value.trim();
    let digits = v.chars().filter(char::is_ascii_digit).count();
    if !(5..=20).contains(&digits) || !v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
    {
        return Err("displayPhoneNumber must be a phone number like +1 555-0100".into());
    }
    Ok(v.to_string())
}

/// A secret token: non-empty, no whitespace, bounded.
pub fn token(field: &str, value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || v.len() > max || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{field} must be 1 to {max} characters without spaces"
        ));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email(" Ann@Example.COM ").as_deref(), Ok("ann@example.com"));
        for bad in [
            "", "ann", "ann@", "@x.io", "a b@x.io", "a@x", "a@@x.io", "a@x.io.",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones() {
        for ok in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Salta",
            "Etc/GMT+3",
        ] {
            assert!(time_zone(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "europe/berlin",
            "Europe//Berlin",
            "Europe/Ber lin",
            "Europe/Berlin;DROP",
        ] {
            assert!(time_zone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_phones_tokens_texts() {
        assert!(meta_id("phoneNumberId", "106540352242922").is_ok());
        assert!(meta_id("phoneNumberId", "10654x").is_err());
        assert!(display_phone("+1 555-0100").is_ok());
        assert!(display_phone("call me").is_err());
        assert!(token("verifyToken", "abc", 10).is_ok());
        assert!(token("verifyToken", "a b", 10).is_err());
        assert!(text("name", "  ", 10).is_err());
        assert!(text("name", "Support", 10).is_ok());
        assert!(text("name", "x\u{0}", 10).is_err());
    }
}
