//! `sentinel audit`: fetch the tamper-evident log, verify it offline, and check inclusion and
//! consistency proofs locally against a signed checkpoint.
//!
//! Nothing the server says is taken on trust here: every proof is checked with
//! `sentinel-audit` against a checkpoint whose signature verifies with the log's key (fetched,
//! or pinned with `--key`). `verify` needs no server at all.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use clap::{Args, Subcommand};
use reqwest::StatusCode;
use sentinel_audit::canonical::canonical_json;
use sentinel_audit::checkpoint::Checkpoint;
use sentinel_audit::merkle::{self, Hash};
use sentinel_audit::note::NoteVerifier;
use sentinel_audit::verify::{parse_leaf_hashes, verify_ndjson};
use sentinel_audit::AuditError;
use serde_json::{json, Value};

use crate::client::{enc, ClientArgs};
use crate::output::print;

/// The files `fetch` writes and `verify --dir` reads.
const EXPORT: &str = "export.ndjson";
const LEAF_HASHES: &str = "leaf-hashes.txt";
const CHECKPOINT: &str = "checkpoint.txt";
const VERIFIER_KEY: &str = "verifier-key.txt";

const ENTRY_COLUMNS: &[&str] = &["index", "time", "kind", "actor", "agent", "tool", "outcome"];

const AUDIT_HELP: &str = "\
Examples:
  sentinel audit fetch --out audit-2025-06-01          # admin key: the whole log, for an auditor
  sentinel audit verify --dir audit-2025-06-01 --key sentinel.local/audit+1a2b3c4d+AQ…
  sentinel audit proof 42 --key pinned-verifier-key.txt
  sentinel audit consistency --old audit-2025-06-01/checkpoint.txt
  sentinel audit entries --kind decision --outcome deny --since 2025-06-01T00:00:00Z";

/// Fetch, verify and prove the tamper-evident audit log.
///
/// Every decision, approval, kill, restore, policy activation and key change is an entry in an
/// RFC 6962 Merkle tree whose head is a signed C2SP checkpoint. These commands check the
/// signatures and proofs here, on your machine.
#[derive(Subcommand, Debug)]
#[command(after_help = AUDIT_HELP)]
pub enum AuditCommand {
    Fetch(FetchArgs),
    Verify(VerifyArgs),
    Proof(ProofArgs),
    Consistency(ConsistencyArgs),
    Entries(EntriesArgs),
}

/// Download the whole log for offline verification (admin key).
///
/// Writes export.ndjson (one canonical entry per line), leaf-hashes.txt, checkpoint.txt
/// (the signed note) and verifier-key.txt into DIR; the export is cut at the checkpoint's size.
#[derive(Args, Debug)]
pub struct FetchArgs {
    /// Directory to write into (created if missing)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    client: ClientArgs,
}

/// Verify an exported log offline: no server is contacted.
///
/// Checks the checkpoint's signature with the key, then recomputes the tree from the export and
/// compares it with the signed root. With leaf hashes, a changed entry is named exactly. Exits 1
/// naming the first bad index when anything does not verify.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  sentinel audit verify --dir audit-2025-06-01
  sentinel audit verify --export export.ndjson --checkpoint checkpoint.txt \\
      --key sentinel.local/audit+1a2b3c4d+AQ… --leaf-hashes leaf-hashes.txt

Pin the key: pass --key with a verifier key you obtained out of band. --dir alone uses the
verifier-key.txt fetched from the same server as the log.")]
pub struct VerifyArgs {
    /// A directory written by `sentinel audit fetch` (the flags below override its files)
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The NDJSON export
    #[arg(long, value_name = "FILE", required_unless_present = "dir")]
    export: Option<PathBuf>,
    /// The signed checkpoint (a C2SP signed note)
    #[arg(long, value_name = "FILE", required_unless_present = "dir")]
    checkpoint: Option<PathBuf>,
    /// The verifier key (`<name>+<hex id>+<base64>`) or a file holding it
    #[arg(long, value_name = "KEY_OR_FILE", required_unless_present = "dir")]
    key: Option<String>,
    /// The exported leaf hashes: lets a changed entry be named exactly
    #[arg(long, value_name = "FILE")]
    leaf_hashes: Option<PathBuf>,
}

/// Fetch one entry with its inclusion proof and verify it locally.
///
/// The proof must lead from the entry's hash to the root of a checkpoint signed by the log's
/// key. Needs an auditor, operator or admin key (auditors and operators see their tenant's
/// entries).
#[derive(Args, Debug)]
pub struct ProofArgs {
    /// The entry's index (its sequence number)
    index: u64,
    /// Verify with this key (`<name>+<hex id>+<base64>` or a file) instead of the server's
    #[arg(long, value_name = "KEY_OR_FILE")]
    key: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

/// Prove that the log only grew: the newer tree extends the older one.
///
/// Fetches a consistency proof and checks it locally between two signed checkpoints. The older
/// one is a checkpoint you saved (--old), or the one the server signed at size --from.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  sentinel audit consistency --old audit-2025-06-01/checkpoint.txt   # what I hold -> now
  sentinel audit consistency --from 100 --to 250")]
pub struct ConsistencyArgs {
    /// The older tree size
    #[arg(long, required_unless_present = "old", conflicts_with = "old")]
    from: Option<u64>,
    /// A signed checkpoint you saved earlier: the older tree
    #[arg(long, value_name = "FILE")]
    old: Option<PathBuf>,
    /// The newer tree size [default: the newest checkpoint's]
    #[arg(long)]
    to: Option<u64>,
    /// Verify with this key (`<name>+<hex id>+<base64>` or a file) instead of the server's
    #[arg(long, value_name = "KEY_OR_FILE")]
    key: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

/// List audit entries, oldest first.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  sentinel audit entries --kind kill
  sentinel audit entries --agent sre-bot --outcome deny --limit 20
  sentinel audit entries -o json | jq '.items[].entry.details'")]
pub struct EntriesArgs {
    /// decision, approval, kill, restore, policy_activation, key_change, …
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    agent: Option<String>,
    #[arg(long)]
    tool: Option<String>,
    /// allow, deny, approval_required
    #[arg(long)]
    outcome: Option<String>,
    /// RFC 3339: entries at or after
    #[arg(long)]
    since: Option<String>,
    /// RFC 3339: entries before
    #[arg(long)]
    until: Option<String>,
    /// Page size (1-1000)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Continue after this index (the `--cursor` printed under a full page)
    #[arg(long)]
    cursor: Option<u64>,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn audit(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Fetch(a) => fetch(a).await,
        AuditCommand::Verify(a) => verify(a),
        AuditCommand::Proof(a) => proof(a).await,
        AuditCommand::Consistency(a) => consistency(a).await,
        AuditCommand::Entries(a) => entries(a).await,
    }
}

async fn fetch(args: FetchArgs) -> anyhow::Result<()> {
    let api = AuditApi::new(&args.client)?;
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The checkpoint first: the export and hashes are cut at its size, so the four files agree.
    let note = api.text("/v1/audit/checkpoint").await?;
    let size = unverified_size(&note)?;
    write_file(&dir.join(CHECKPOINT), note.as_bytes())?;
    let key = api.text("/v1/audit/verifier-key").await?;
    write_file(&dir.join(VERIFIER_KEY), key.as_bytes())?;
    eprintln!(
        "{CHECKPOINT}: {size} entries; {VERIFIER_KEY}: {}",
        key.trim()
    );
    let query = format!("?size={size}");
    api.download(&format!("/v1/audit/export{query}"), &dir.join(EXPORT))
        .await?;
    api.download(
        &format!("/v1/audit/leaf-hashes{query}"),
        &dir.join(LEAF_HASHES),
    )
    .await?;
    eprintln!(
        "fetched into {}; verify offline with `sentinel audit verify --dir {} --key KEY`",
        dir.display(),
        dir.display()
    );
    Ok(())
}

fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let from_dir = |name: &str| args.dir.as_ref().map(|d| d.join(name));
    let export = args.export.clone().or_else(|| from_dir(EXPORT));
    let checkpoint = args.checkpoint.clone().or_else(|| from_dir(CHECKPOINT));
    let key = args
        .key
        .clone()
        .or_else(|| from_dir(VERIFIER_KEY).map(|p| p.to_string_lossy().into_owned()));
    let leaf_hashes = args
        .leaf_hashes
        .clone()
        .or_else(|| from_dir(LEAF_HASHES).filter(|p| p.exists()));
    let (Some(export), Some(checkpoint), Some(key)) = (export, checkpoint, key) else {
        bail!("give --dir, or --export, --checkpoint and --key");
    };

    let verifier = load_verifier(&key)?;
    let note = read(&checkpoint)?;
    let leaves = match &leaf_hashes {
        Some(p) => {
            Some(parse_leaf_hashes(&read(p)?).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let file = File::open(&export).with_context(|| format!("cannot open {}", export.display()))?;
    let log = verify_ndjson(BufReader::new(file), leaves.as_deref(), &note, &verifier)
        .map_err(|e| verification_failed(e, &verifier))?;

    let cp = &log.checkpoint;
    println!("VERIFIED  {} entries", log.verified_entries);
    println!("origin    {}", cp.origin);
    println!("size      {}", cp.size);
    println!("root      {}", B64.encode(cp.root_hash));
    println!("key       {}", verifier.to_key_string());
    if log.unverified_tail > 0 {
        eprintln!(
            "note: {} entries after the checkpoint are not covered by it",
            log.unverified_tail
        );
    }
    match (&leaf_hashes, log.leaf_hashes_authenticated) {
        (Some(_), true) => {}
        (Some(p), false) => eprintln!(
            "warning: {} does not reproduce the signed root and was ignored; \
             the entries themselves verify",
            p.display()
        ),
        (None, _) => eprintln!(
            "note: no leaf hashes given; a changed entry would be reported without its index"
        ),
    }
    Ok(())
}

/// Turns a verification failure into the message an auditor reads.
fn verification_failed(e: AuditError, verifier: &NoteVerifier) -> anyhow::Error {
    match e {
        AuditError::BadEntry { index, reason } => {
            anyhow!("verification FAILED: the first bad entry is index {index}: {reason}")
        }
        AuditError::Signature(_) | AuditError::Malformed { .. } => anyhow!(
            "verification FAILED: the checkpoint is not validly signed by {}: {e}",
            verifier.to_key_string()
        ),
        other => anyhow!("verification FAILED: {other}"),
    }
}

async fn proof(args: ProofArgs) -> anyhow::Result<()> {
    let api = AuditApi::new(&args.client)?;
    let verifier = api.verifier(args.key.as_deref()).await?;
    let e = api
        .json(&format!("/v1/audit/entries/{}", args.index))
        .await?;
    let note = e["checkpoint"]
        .as_str()
        .context("no checkpoint in the answer")?;
    let cp = Checkpoint::verify_signed(note, &verifier).map_err(|err| {
        anyhow!(
            "NOT VERIFIED: the checkpoint is not validly signed by {}: {err}",
            verifier.to_key_string()
        )
    })?;
    if e["tree_size"].as_u64() != Some(cp.size) {
        bail!("NOT VERIFIED: the proof is for a tree size other than the checkpoint's");
    }
    // The leaf hash is recomputed from the entry, not taken from the answer.
    let leaf = merkle::record_hash(&canonical_json(&e["entry"]));
    let proof = hashes(&e["inclusion_proof"])?;
    merkle::check_record(&proof, cp.size, &cp.root_hash, args.index, &leaf)
        .map_err(|err| anyhow!("NOT VERIFIED: entry {}: {err}", args.index))?;
    if e["leaf_hash"].as_str() != Some(B64.encode(leaf).as_str()) {
        bail!("NOT VERIFIED: the server's leaf hash is not the entry's hash");
    }

    if api.json_output {
        let out = json!({
            "index": args.index, "entry": e["entry"], "leaf_hash": e["leaf_hash"],
            "tree_size": cp.size, "origin": cp.origin, "root": B64.encode(cp.root_hash),
            "inclusion_proof": e["inclusion_proof"], "checkpoint": note, "verified": true,
        });
        print(&out, &[], true);
        return Ok(());
    }
    println!("entry     {}", e["entry"]);
    println!("index     {}", args.index);
    println!("leaf      {}", B64.encode(leaf));
    println!(
        "tree      {} entries, root {}",
        cp.size,
        B64.encode(cp.root_hash)
    );
    println!("origin    {}", cp.origin);
    print_hashes("proof", &e["inclusion_proof"]);
    println!(
        "VERIFIED  entry {} is in the log signed by {}",
        args.index,
        verifier.to_key_string()
    );
    Ok(())
}

async fn consistency(args: ConsistencyArgs) -> anyhow::Result<()> {
    let api = AuditApi::new(&args.client)?;
    let verifier = api.verifier(args.key.as_deref()).await?;
    let signed = |note: &str, what: &str| {
        Checkpoint::verify_signed(note, &verifier).map_err(|err| {
            anyhow!(
                "NOT VERIFIED: the {what} checkpoint is not validly signed by {}: {err}",
                verifier.to_key_string()
            )
        })
    };
    let old = match (&args.old, args.from) {
        (Some(path), _) => signed(&read(path)?, "older")?,
        (None, Some(from)) => {
            let c = api
                .json(&format!("/v1/audit/consistency?from={from}&to={from}"))
                .await?;
            let note = c["checkpoint"].as_str().with_context(|| {
                format!(
                    "the server signed no checkpoint at size {from}; \
                     pass a checkpoint you hold with --old FILE"
                )
            })?;
            signed(note, "older")?
        }
        (None, None) => bail!("give --from SIZE or --old FILE"),
    };
    let mut path = format!("/v1/audit/consistency?from={}", old.size);
    if let Some(to) = args.to {
        path.push_str(&format!("&to={to}"));
    }
    let c = api.json(&path).await?;
    let note = c["checkpoint"].as_str().with_context(|| {
        format!(
            "the server signed no checkpoint at size {}; omit --to for the newest",
            c["to"]
        )
    })?;
    let new = signed(note, "newer")?;
    if new.origin != old.origin {
        bail!(
            "NOT VERIFIED: the checkpoints are of different logs ({} and {})",
            old.origin,
            new.origin
        );
    }
    let proof = hashes(&c["proof"])?;
    merkle::check_tree(&proof, new.size, &new.root_hash, old.size, &old.root_hash)
        .map_err(|err| anyhow!("NOT VERIFIED: {err}"))?;

    if api.json_output {
        let out = json!({
            "origin": new.origin, "from": old.size, "to": new.size,
            "old_root": B64.encode(old.root_hash), "new_root": B64.encode(new.root_hash),
            "proof": c["proof"], "checkpoint": note, "verified": true,
        });
        print(&out, &[], true);
        return Ok(());
    }
    println!("origin    {}", new.origin);
    println!(
        "from      {} entries, root {}",
        old.size,
        B64.encode(old.root_hash)
    );
    println!(
        "to        {} entries, root {}",
        new.size,
        B64.encode(new.root_hash)
    );
    print_hashes("proof", &c["proof"]);
    println!(
        "VERIFIED  the log of {} entries extends the log of {} (signed by {})",
        new.size,
        old.size,
        verifier.to_key_string()
    );
    Ok(())
}

async fn entries(args: EntriesArgs) -> anyhow::Result<()> {
    let api = AuditApi::new(&args.client)?;
    let mut query = vec![format!("limit={}", args.limit)];
    let filters = [
        ("kind", &args.kind),
        ("agent", &args.agent),
        ("tool", &args.tool),
        ("outcome", &args.outcome),
        ("since", &args.since),
        ("until", &args.until),
    ];
    for (name, value) in filters {
        if let Some(v) = value {
            query.push(format!("{name}={}", enc(v)));
        }
    }
    if let Some(c) = args.cursor {
        query.push(format!("cursor={c}"));
    }
    let page = api
        .json(&format!("/v1/audit/entries?{}", query.join("&")))
        .await?;
    if api.json_output {
        print(&page, &[], true);
        return Ok(());
    }
    let items = page["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        eprintln!("no audit entries match");
        return Ok(());
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|e| {
            json!({
                "index": e["index"], "time": e["entry"]["time"], "kind": e["kind"],
                "actor": e["entry"]["actor"], "agent": e["agent"], "tool": e["tool"],
                "outcome": e["outcome"],
            })
        })
        .collect();
    let mut table = json!({ "items": rows });
    table["next_cursor"] = page["next_cursor"].as_u64().map(|c| c.to_string()).into();
    print(&table, ENTRY_COLUMNS, false);
    Ok(())
}

/// The audit endpoints over HTTP, including the text ones (checkpoint, key, export) that the
/// shared JSON client does not read. Waits out "no checkpoint yet" answers for a few seconds.
struct AuditApi {
    http: reqwest::Client,
    base: String,
    key: String,
    json_output: bool,
}

/// How long to wait for a first checkpoint, or for one that covers a new entry.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(3);

impl AuditApi {
    fn new(args: &ClientArgs) -> anyhow::Result<AuditApi> {
        let key = args.key()?;
        Ok(AuditApi {
            http: reqwest::Client::new(),
            base: args.url.trim_end_matches('/').to_string(),
            key,
            json_output: args.output == "json",
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        let deadline = Instant::now() + CHECKPOINT_WAIT;
        loop {
            let resp = self
                .http
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.key)
                .send()
                .await
                .with_context(|| {
                    format!(
                        "cannot reach Sentinel at {}: is `sentinel serve` running?",
                        self.base
                    )
                })?;
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            let checkpoint_pending = matches!(
                status,
                StatusCode::CONFLICT | StatusCode::SERVICE_UNAVAILABLE
            );
            if !checkpoint_pending || Instant::now() >= deadline {
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                let detail = body["detail"].as_str().unwrap_or("no details");
                bail!("{} {detail}", status.as_u16());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn json(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self.get(path).await?.json().await?)
    }

    async fn text(&self, path: &str) -> anyhow::Result<String> {
        Ok(self.get(path).await?.text().await?)
    }

    /// Streams a response into `dest` (via a `.partial` file), counting lines on stderr.
    async fn download(&self, path: &str, dest: &Path) -> anyhow::Result<()> {
        let mut resp = self.get(path).await?;
        let partial = dest.with_extension("partial");
        let mut file = std::io::BufWriter::new(
            File::create(&partial)
                .with_context(|| format!("cannot write {}", partial.display()))?,
        );
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let live = std::io::stderr().is_terminal();
        let (mut lines, mut bytes) = (0u64, 0u64);
        while let Some(chunk) = resp.chunk().await? {
            file.write_all(&chunk)?;
            lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            bytes += chunk.len() as u64;
            if live {
                eprint!("\r{name}: {lines} lines");
            }
        }
        file.flush()?;
        drop(file);
        std::fs::rename(&partial, dest)?;
        let clear = if live { "\r" } else { "" };
        eprintln!("{clear}{name}: {lines} lines, {bytes} bytes");
        Ok(())
    }

    /// The pinned key, or the one the server publishes.
    async fn verifier(&self, pinned: Option<&str>) -> anyhow::Result<NoteVerifier> {
        match pinned {
            Some(k) => load_verifier(k),
            None => {
                let k = self.text("/v1/audit/verifier-key").await?;
                NoteVerifier::from_key_string(k.trim())
                    .map_err(|e| anyhow!("the server's verifier key: {e}"))
            }
        }
    }
}

/// A verifier key given inline (`<name>+<hex id>+<base64>`) or as a file holding one.
pub(crate) fn load_verifier(key_or_file: &str) -> anyhow::Result<NoteVerifier> {
    let path = Path::new(key_or_file);
    let text = if path.is_file() {
        read(path)?
    } else {
        key_or_file.to_string()
    };
    NoteVerifier::from_key_string(text.trim()).map_err(|e| {
        anyhow!("--key {key_or_file:?} is neither a readable key file nor a verifier key: {e}")
    })
}

/// The size line of a signed checkpoint, before its signature is checked (to cut the export).
fn unverified_size(note: &str) -> anyhow::Result<u64> {
    let text = note
        .split_once("\n\n")
        .map(|(t, _)| format!("{t}\n"))
        .context("the server's checkpoint is not a signed note")?;
    Ok(Checkpoint::parse(&text)?.size)
}

fn hashes(list: &Value) -> anyhow::Result<Vec<Hash>> {
    list.as_array()
        .context("no proof in the answer")?
        .iter()
        .map(|h| {
            let raw = B64.decode(h.as_str().unwrap_or_default())?;
            raw.try_into()
                .map_err(|_| anyhow!("a proof hash is not 32 bytes"))
        })
        .collect()
}

fn print_hashes(label: &str, list: &Value) {
    let hashes: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if hashes.is_empty() {
        println!("{label:<10}- (none needed)");
    }
    for (i, h) in hashes.iter().enumerate() {
        let label = if i == 0 { label } else { "" };
        println!("{label:<10}{h}");
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_is_read_from_a_signed_note() {
        let note =
            "sentinel.local/audit\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— sig\n";
        assert_eq!(unverified_size(note).unwrap(), 12);
        assert!(unverified_size("no blank line\n").is_err());
    }

    #[test]
    fn a_key_is_given_inline_or_as_a_file() {
        let signer = sentinel_audit::note::NoteSigner::generate("sentinel.test/audit").unwrap();
        let key = signer.verifier().to_key_string();
        assert_eq!(load_verifier(&key).unwrap(), signer.verifier());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key.txt");
        std::fs::write(&file, format!("{key}\n")).unwrap();
        assert_eq!(
            load_verifier(file.to_str().unwrap()).unwrap(),
            signer.verifier()
        );
        assert!(load_verifier("not-a-key").is_err());
    }
}
