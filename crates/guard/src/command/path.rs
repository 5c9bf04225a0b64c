//! Path checks for file-touching tools: traversal (`../`, encoded or not), NUL bytes, and
//! sensitive system or credential locations.

use crate::{Detector, Finding, Severity};

/// Sensitive locations: (prefix or fragment, explanation, severity, is_fragment).
const SENSITIVE: &[(&str, &str, Severity, bool)] = &[
    (
        "/etc/shadow",
        "system password hashes",
        Severity::Critical,
        false,
    ),
    (
        "/etc/gshadow",
        "group password hashes",
        Severity::Critical,
        false,
    ),
    (
        "/etc/sudoers",
        "sudo configuration",
        Severity::Critical,
        false,
    ),
    ("/etc/passwd", "system account list", Severity::High, false),
    (
        "/etc/ssh/",
        "SSH host keys and daemon config",
        Severity::High,
        false,
    ),
    (
        "/etc/ssl/private",
        "TLS private keys",
        Severity::Critical,
        false,
    ),
    ("/root", "root's home directory", Severity::High, false),
    (
        "/proc/",
        "process information (environment, memory)",
        Severity::High,
        false,
    ),
    ("/sys/", "kernel interfaces", Severity::High, false),
    ("/dev/", "device files", Severity::High, false),
    ("/boot/", "boot loader and kernel", Severity::High, false),
    (
        "/var/run/docker.sock",
        "Docker daemon socket (root equivalent)",
        Severity::Critical,
        false,
    ),
    (
        "/run/docker.sock",
        "Docker daemon socket (root equivalent)",
        Severity::Critical,
        false,
    ),
    (
        "/var/run/secrets/",
        "mounted service-account secrets",
        Severity::Critical,
        false,
    ),
    ("/.ssh/", "SSH keys", Severity::Critical, true),
    ("/.aws/", "AWS credentials", Severity::Critical, true),
    ("/.azure/", "Azure credentials", Severity::Critical, true),
    (
        "/.config/gcloud/",
        "Google Cloud credentials",
        Severity::Critical,
        true,
    ),
    (
        "/.kube/",
        "Kubernetes credentials",
        Severity::Critical,
        true,
    ),
    (
        "/.docker/config.json",
        "registry credentials",
        Severity::High,
        true,
    ),
    ("/.gnupg/", "GPG keys", Severity::Critical, true),
    ("/.netrc", "stored passwords", Severity::Critical, true),
    (
        "/.git-credentials",
        "stored git passwords",
        Severity::Critical,
        true,
    ),
    ("/.pgpass", "PostgreSQL passwords", Severity::Critical, true),
    ("/.npmrc", "npm tokens", Severity::High, true),
    ("/.pypirc", "PyPI tokens", Severity::High, true),
    ("/.vault-token", "Vault token", Severity::Critical, true),
    ("/.bash_history", "shell history", Severity::High, true),
    ("/.zsh_history", "shell history", Severity::High, true),
    ("/.env", "environment secrets file", Severity::High, true),
    (
        "/.git/config",
        "repository config (may hold credentials)",
        Severity::Medium,
        true,
    ),
    ("/id_rsa", "SSH private key", Severity::Critical, true),
    ("/id_ed25519", "SSH private key", Severity::Critical, true),
    ("/id_ecdsa", "SSH private key", Severity::Critical, true),
    (
        "c:/windows/system32",
        "Windows system directory",
        Severity::High,
        false,
    ),
    (
        "/windows/system32/config/sam",
        "Windows password database",
        Severity::Critical,
        true,
    ),
];

/// Check one path. Offsets in findings are into `path`.
pub fn validate(path: &str, out: &mut Vec<Finding>) {
    let bytes = path.as_bytes();
    let len = bytes.len();
    if let Some(p) = bytes.iter().position(|&b| b == 0) {
        out.push(Finding::new(
            Detector::Command,
            "path-nul-byte",
            (p, p + 1),
            0.9,
            Severity::High,
            "path contains a NUL byte (truncation attack)",
        ));
    }
    // Normalise: decode %2e %2f %5c (once and twice), backslashes to slashes, lowercase.
    let mut norm = path.to_ascii_lowercase();
    for _ in 0..2 {
        norm = norm
            .replace("%25", "%")
            .replace("%2e", ".")
            .replace("%2f", "/")
            .replace("%5c", "/")
            .replace("%c0%af", "/")
            .replace("..%c1%9c", "../");
    }
    let norm = norm.replace('\\', "/");
    let segments: Vec<&str> = norm.split('/').collect();
    let ups = segments.iter().filter(|s| **s == "..").count();
    if ups > 0 {
        let encoded = norm.len() != path.len() || path.contains('%');
        // Does the path climb above its starting directory?
        let mut depth: i64 = 0;
        let mut escapes = false;
        for s in &segments {
            match *s {
                ".." => {
                    depth -= 1;
                    escapes |= depth < 0;
                }
                "" | "." => {}
                _ => depth += 1,
            }
        }
        let score = if escapes { 0.9 } else { 0.5 };
        let why = match (escapes, encoded) {
            (true, true) => "encoded '..' segments climb out of the base directory",
            (true, false) => "'..' segments climb out of the base directory",
            (false, true) => "encoded '..' segments in path",
            (false, false) => "'..' segments in path (stay inside the base directory)",
        };
        out.push(Finding::new(
            Detector::Command,
            "path-traversal",
            (0, len),
            score + if encoded { 0.05 } else { 0.0 },
            if escapes {
                Severity::High
            } else {
                Severity::Low
            },
            why,
        ));
    }
    let slash = if norm.starts_with('/') || norm.starts_with('~') || norm.contains(":/") {
        norm.clone()
    } else {
        format!("/{norm}")
    };
    // Resolve '..' (clamped at the root) so "../../etc/shadow" is checked as "/etc/shadow".
    let mut stack: Vec<&str> = Vec::new();
    for s in slash.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                stack.pop();
            }
            s => stack.push(s),
        }
    }
    let resolved = format!("/{}", stack.join("/"));
    for (frag, why, sev, anywhere) in SENSITIVE {
        let found = |p: &str| -> Option<usize> {
            if *anywhere {
                p.find(frag)
            } else {
                p.starts_with(frag).then_some(0)
            }
        };
        let (slash, at) = match (found(&slash), found(&resolved)) {
            (Some(at), _) => (&slash, Some(at)),
            (None, Some(at)) => (&resolved, Some(at)),
            _ => (&slash, None),
        };
        let Some(at) = at else { continue };
        let rest = &slash[at + frag.len()..];
        let bounded = frag.ends_with('/')
            || rest.is_empty()
            || rest.starts_with('/')
            || (*anywhere && rest.starts_with(['.', '_', '-']));
        if bounded {
            out.push(Finding::new(
                Detector::Command,
                "sensitive-path",
                (0, len),
                if *sev == Severity::Critical {
                    0.9
                } else {
                    0.75
                },
                *sev,
                format!("path points at {why}"),
            ));
            break;
        }
    }
}
