//! Values that look like secrets but are not: placeholders, templates, documented examples.
//!
//! Applied to every secrets candidate after its rule matched, before entropy checks.

/// True when `value` is obviously a placeholder, template variable or documentation example.
pub fn is_placeholder(value: &[u8]) -> bool {
    let v = value;
    if v.is_empty() {
        return true;
    }
    // Template and variable references: ${X}, $X, {{x}}, <your-key>, %(x)s, %s
    let first = v[0];
    let last = v[v.len() - 1];
    if first == b'$'
        || (first == b'<' && last == b'>')
        || v.starts_with(b"{{")
        || v.starts_with(b"%(")
    {
        return true;
    }
    if v.windows(2).any(|w| w == b"${" || w == b"{{") {
        return true;
    }
    // All one character (xxxxxxxx, ********, 00000000) or mostly masking characters.
    if v.iter().all(|&b| b == v[0]) {
        return true;
    }
    let masked = v
        .iter()
        .filter(|&&b| matches!(b, b'*' | b'x' | b'X' | b'.' | b'#' | b'?'))
        .count();
    if masked * 2 >= v.len() {
        return true;
    }
    let lower: Vec<u8> = v.iter().map(u8::to_ascii_lowercase).collect();
    const WORDS: &[&[u8]] = &[
        b"example",
        b"placeholder",
        b"your_",
        b"your-",
        b"yourkey",
        b"your key",
        b"changeme",
        b"redacted",
        b"dummy",
        b"sample",
        b"insert",
        b"replace",
        b"xxxx",
        b"todo",
        b"fake",
        b"notreal",
        b"not_real",
        b"not-a-real",
        b"abcdefgh",
        b"12345678",
        b"0123456789",
        b"secret_here",
        b"key_here",
        b"token_here",
        b"password_here",
        b"process.env",
        b"os.environ",
        b"getenv",
    ];
    WORDS.iter().any(|w| contains(&lower, w))
}

/// True when `value` looks like a code expression rather than a literal (e.g. `self.token`, `get_key()`).
pub fn looks_like_code(value: &[u8]) -> bool {
    if value
        .iter()
        .any(|&b| matches!(b, b'(' | b')' | b'[' | b']'))
    {
        return true;
    }
    // Dotted lowercase identifiers: config.api_key, settings.SECRET
    let ident = value
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    let has_dot = value.contains(&b'.');
    let has_digit = value.iter().any(u8::is_ascii_digit);
    ident
        && (has_dot || !has_digit)
        && value.iter().any(|b| b.is_ascii_lowercase())
        && !value.iter().any(|b| b.is_ascii_uppercase() && has_digit)
}

/// Byte-substring test.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            "${API_KEY}",
            "<your-key>",
            "xxxxxxxxxxxxxxxx",
            "********",
            "{{ token }}",
            "your_api_key_here",
            "AKIAIOSFODNN7EXAMPLE",
            "changeme",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for real in ["ghp_R4nd0mT0k3nV4lu3Qz9xYw8vU7tS6rQ5pO4n", "hunter2!Q"] {
            assert!(!is_placeholder(real.as_bytes()), "{real}");
        }
    }

    #[test]
    fn code_expressions() {
        assert!(looks_like_code(b"self.token"));
        assert!(looks_like_code(b"get_token()"));
        assert!(looks_like_code(b"password_field"));
        assert!(!looks_like_code(b"s3cr3tV4lu3Xy"));
    }
}
