//! A policy bundle on disk: every `*.rego` file of a directory plus an optional `data.json`
//! (the layout `sentinel_policy::Bundle::from_dir` reads), and located errors printed as
//! `DIR/file:line:col: message` so editors and terminals can jump to them.

use std::path::Path;

use anyhow::{anyhow, bail, Context};
use sentinel_policy::Bundle;
use serde_json::{json, Value};

/// Reads the bundle in `dir`, with errors that say which file is at fault.
pub fn load(dir: &Path) -> anyhow::Result<Bundle> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let bundle = Bundle::from_dir(dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            anyhow!("{}: not valid JSON: {e}", dir.join("data.json").display())
        } else {
            anyhow!("cannot read the bundle in {}: {e}", dir.display())
        }
    })?;
    if bundle.modules.is_empty() {
        bail!("{} holds no *.rego files", dir.display());
    }
    Ok(bundle)
}

/// The bundle as the JSON body the policy endpoints take.
pub fn body(bundle: &Bundle) -> anyhow::Result<Value> {
    serde_json::to_value(bundle).context("cannot encode the bundle")
}

/// Formats one located error (a `SourceError` as JSON) against the bundle's directory.
pub fn format_error(dir: &Path, error: &Value) -> String {
    let file = error["file"].as_str().unwrap_or_default();
    let line = error["line"].as_u64().unwrap_or(0);
    let col = error["col"].as_u64().unwrap_or(0);
    let message = error["message"].as_str().unwrap_or("unknown error").trim();
    let place = match file {
        "" => dir.display().to_string(),
        // Errors in `data.quotas` are reported against the pseudo-file `data`.
        "data" => dir.join("data.json").display().to_string(),
        f => dir.join(f).display().to_string(),
    };
    let (headline, snippet) = split_message(message);
    let mut out = match (line, col) {
        (0, _) => format!("{place}: {headline}"),
        (l, 0) => format!("{place}:{l}: {headline}"),
        (l, c) => format!("{place}:{l}:{c}: {headline}"),
    };
    for l in snippet {
        out.push('\n');
        out.push_str(l);
    }
    out
}

/// Splits the compiler's message (` --> f:4:7`, a source snippet, `error: …`) into the `error:`
/// text, which goes on the located line, and the snippet, which is printed below it.
fn split_message(message: &str) -> (&str, Vec<&str>) {
    let Some(headline) = message
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
    else {
        return (message, vec![]);
    };
    let snippet = message
        .lines()
        .filter(|l| !l.trim().starts_with("-->") && !l.trim().starts_with("error: "))
        .collect();
    (headline, snippet)
}

/// Prints located errors on stdout, one per entry (a message may continue on further lines).
pub fn print_errors(dir: &Path, errors: &[Value]) {
    for e in errors {
        println!("{}", format_error(dir, e));
    }
}

/// Checks a bundle the way the server does before storing it, without a server: the quota
/// section of its data, then parse, compile and a dry evaluation. Returns located errors as
/// JSON, or the compiled policy.
pub fn compile_offline(
    bundle: &Bundle,
    limits: sentinel_policy::Limits,
) -> Result<sentinel_policy::CompiledPolicy, Vec<Value>> {
    if let Err(message) = sentinel_pipeline::Quotas::from_bundle_data(&bundle.data) {
        return Err(vec![
            json!({"file": "data", "line": 0, "col": 0, "message": message}),
        ]);
    }
    sentinel_policy::CompiledPolicy::compile(bundle, limits).map_err(|e| match e {
        sentinel_policy::PolicyError::Invalid(errors) => errors
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or_default())
            .collect(),
        other => vec![json!({"file": "", "line": 0, "col": 0, "message": other.to_string()})],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_located_against_the_directory() {
        let dir = Path::new("policies/acme");
        let e = json!({"file": "a.rego", "line": 4, "col": 3, "message": "unexpected }"});
        assert_eq!(
            format_error(dir, &e),
            "policies/acme/a.rego:4:3: unexpected }"
        );
        let e = json!({"file": "a.rego", "line": 4, "col": 7,
            "message": "--> a.rego:4:7\n  |\n4 |   msg := \n  |       ^\nerror: expecting `}`"});
        assert_eq!(
            format_error(dir, &e),
            "policies/acme/a.rego:4:7: expecting `}`\n  |\n4 |   msg := \n  |       ^"
        );
        let e = json!({"file": "data", "line": 0, "col": 0, "message": "data.quotas: bad"});
        assert_eq!(
            format_error(dir, &e),
            "policies/acme/data.json: data.quotas: bad"
        );
        let e = json!({"file": "", "line": 0, "col": 0, "message": "too big"});
        assert_eq!(format_error(dir, &e), "policies/acme: too big");
    }
}
