//! Translate Go RE2 regex syntax (as used in gitleaks rule files) into `regex` crate syntax.
//!
//! RE2's `\w \d \s \b` (and their negations) are ASCII-only, while the `regex` crate's are
//! Unicode-aware. Compiling a gitleaks rule as-is would let `\w` match `é`, widening matches and
//! shifting secret boundaries. We rewrite them to explicit ASCII classes.

/// Rewrite RE2-only-ASCII shorthand classes into explicit ASCII classes.
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut class_depth = 0usize;
    // True right after '[' or '[^' (a ']' there is a literal).
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let inside = class_depth > 0;
                let rep = match (n, inside) {
                    ('w', false) => Some("[0-9A-Za-z_]"),
                    ('W', false) => Some("[^0-9A-Za-z_]"),
                    ('d', false) => Some("[0-9]"),
                    ('D', false) => Some("[^0-9]"),
                    ('s', false) => Some("[\\t\\n\\f\\r ]"),
                    ('S', false) => Some("[^\\t\\n\\f\\r ]"),
                    ('b', false) => Some("(?-u:\\b)"),
                    ('B', false) => Some("(?-u:\\B)"),
                    ('w', true) => Some("0-9A-Za-z_"),
                    ('W', true) => Some("[^0-9A-Za-z_]"),
                    ('d', true) => Some("0-9"),
                    ('D', true) => Some("[^0-9]"),
                    ('s', true) => Some("\\t\\n\\f\\r "),
                    ('S', true) => Some("[^\\t\\n\\f\\r ]"),
                    _ => None,
                };
                match rep {
                    Some(r) => out.push_str(r),
                    None => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '[' => {
                if class_depth > 0 && chars.peek() == Some(&':') {
                    // POSIX class like [:alpha:] inside a bracket: copy verbatim.
                    out.push('[');
                    for p in chars.by_ref() {
                        out.push(p);
                        if p == ']' {
                            break;
                        }
                    }
                    continue;
                }
                class_depth += 1;
                out.push('[');
                class_start = true;
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                continue;
            }
            ']' if class_depth > 0 && !class_start => {
                class_depth -= 1;
                out.push(']');
            }
            _ => out.push(c),
        }
        class_start = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn rewrites_outside_and_inside_classes() {
        assert_eq!(translate(r"\w+"), "[0-9A-Za-z_]+");
        assert_eq!(translate(r"[\w.-]+"), "[0-9A-Za-z_.-]+");
        assert_eq!(translate(r"\bfoo\b"), r"(?-u:\b)foo(?-u:\b)");
        assert_eq!(translate(r"\\w"), r"\\w");
        assert_eq!(translate(r"[]\d]"), "[]0-9]");
        assert_eq!(translate(r"[[:alpha:]\d]"), "[[:alpha:]0-9]");
    }

    #[test]
    fn ascii_semantics_hold_after_compiling() {
        let re = regex::Regex::new(&translate(r"^\w+$")).unwrap();
        assert!(re.is_match("abc_1"));
        assert!(!re.is_match("caf\u{e9}"));
        let re = regex::Regex::new(&translate(r"\bkey\b")).unwrap();
        assert!(re.is_match("a key here"));
    }
}
