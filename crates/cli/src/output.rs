//! Printing records as aligned tables or as JSON.

use serde_json::Value;

/// Prints `value` as JSON, or as a table of `columns`: one row per element of a list, of its
/// `items`, or the value itself.
pub fn print(value: &Value, columns: &[&str], json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
        return;
    }
    let rows: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        _ => match value.get("items").and_then(Value::as_array) {
            Some(items) => items.iter().collect(),
            None => vec![value],
        },
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|c| cell(&row[*c])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<String>| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(columns.iter().map(|c| c.to_uppercase()).collect());
    for row in cells {
        line(row);
    }
    if let Some(cursor) = value.get("next_cursor").and_then(Value::as_str) {
        eprintln!("(more: --cursor {cursor})");
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Array(a) if a.is_empty() => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(","),
        Value::Object(o) if o.is_empty() => "-".into(),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}
