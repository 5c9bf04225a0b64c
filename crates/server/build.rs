//! Embeds the admin console: writes a table of every file under `ui/dist` (the Vite build, which
//! is committed) as `include_bytes!`, so `cargo build` alone gives a binary that serves the UI.
//! When `ui/dist` is missing the table is empty and `/` says how to build it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let dist = manifest.join("../../ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if dist.is_dir() {
        collect(&dist, &dist, &mut files);
    }
    files.sort();
    let mut table = String::from("&[\n");
    for (url, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            table,
            "    ({url:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .expect("a String takes writes");
    }
    table.push_str("]\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("console_assets.rs"), table).expect("OUT_DIR is writable");
}

/// Every file below `dir`, as (URL path such as `/assets/index-3f2a.js`, absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).expect("ui/dist is readable");
    for entry in entries {
        let path = entry.expect("ui/dist is readable").path();
        // Directories are watched too, so that an added file triggers a rebuild.
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, files);
        } else {
            let rel = path.strip_prefix(root).expect("below root");
            let url = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
            let abs = path.canonicalize().expect("the file exists");
            files.push((url, abs));
        }
    }
}
