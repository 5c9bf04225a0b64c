//! Walking JSON values: every string (and every object key) is scanned on its own and findings
//! carry the JSON path of the string, e.g. `$.arguments.token` or `$.messages[2].content`.
//!
//! A finding in an object *key* has the path of the object followed by `.~key[i]`, where `i` is
//! the key's position in the object's iteration order.

use serde_json::Value;

/// Append `.name` (or `["name"]` when `name` is not a plain identifier) to `path`.
pub fn child(path: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !name.as_bytes()[0].is_ascii_digit();
    if plain {
        format!("{path}.{name}")
    } else {
        let quoted = serde_json::to_string(name).unwrap_or_default();
        format!("{path}[{quoted}]")
    }
}

/// Append `[i]` to `path`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Path of the `i`th key of the object at `path`.
pub fn key(path: &str, i: usize) -> String {
    format!("{path}.~key[{i}]")
}

/// Visit every string in `value` with its path; object keys are visited with [`key`] paths.
pub fn walk(value: &Value, path: &str, f: &mut dyn FnMut(&str, &str)) {
    match value {
        Value::String(s) => f(path, s),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, &index(path, i), f);
            }
        }
        Value::Object(map) => {
            for (i, (k, v)) in map.iter().enumerate() {
                f(&key(path, i), k);
                walk(v, &child(path, k), f);
            }
        }
        _ => {}
    }
}

/// Rewrite every string (and key) of `value` through `f(path, s) -> Option<new>`.
pub fn rewrite(value: &mut Value, path: &str, f: &mut dyn FnMut(&str, &str) -> Option<String>) {
    match value {
        Value::String(s) => {
            if let Some(n) = f(path, s) {
                *s = n;
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                rewrite(v, &index(path, i), f);
            }
        }
        Value::Object(map) => {
            let old = std::mem::take(map);
            for (i, (k, mut v)) in old.into_iter().enumerate() {
                rewrite(&mut v, &child(path, &k), f);
                let k = f(&key(path, i), &k).unwrap_or(k);
                map.insert(k, v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(child("$", "token"), "$.token");
        assert_eq!(child("$", "a b"), "$[\"a b\"]");
        assert_eq!(index("$.messages", 2), "$.messages[2]");
        let v = serde_json::json!({"messages": [{"content": "hi"}], "k": "v"});
        let mut seen = Vec::new();
        walk(&v, "$", &mut |p, s| seen.push(format!("{p}={s}")));
        assert!(seen.contains(&"$.messages[0].content=hi".to_string()));
        assert!(seen.contains(&"$.k=v".to_string()));
        assert!(seen.contains(&"$.~key[1]=messages".to_string()));
    }
}
