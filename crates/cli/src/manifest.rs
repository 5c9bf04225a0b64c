//! `sentinel manifest verify`: checks a provenance manifest offline — the DSSE signature, the
//! in-toto statement, the signed checkpoint it cites and the inclusion proof of the decision
//! in that checkpoint — with the audit log's verifier key (manifests and checkpoints are signed
//! by the same Ed25519 key). Optionally checks that a result file is the one it attests.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use clap::{Args, Subcommand};
use sentinel_audit::canonical::{canonical_json, sha256};
use sentinel_audit::checkpoint::Checkpoint;
use sentinel_audit::dsse::{DsseVerifier, Envelope};
use sentinel_audit::intoto::Statement;
use sentinel_audit::merkle::{self, Hash};

use crate::audit::load_verifier;

#[derive(Subcommand, Debug)]
pub enum ManifestCommand {
    /// Verify a manifest offline.
    ///
    /// Example: sentinel manifest verify manifest.json --key audit/verifier-key.txt --result out.json
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The DSSE envelope (from POST /v1/provenance/sign or GET /v1/provenance/{decision_id})
    envelope: PathBuf,
    /// The audit verifier key (`<name>+<hex id>+<base64>`), or a file holding it
    /// (`GET /v1/audit/verifier-key`, or `verifier-key.txt` from `sentinel audit fetch`)
    #[arg(long)]
    key: String,
    /// The execution result (JSON) the manifest should attest
    #[arg(long)]
    result: Option<PathBuf>,
}

pub fn manifest(command: ManifestCommand) -> anyhow::Result<()> {
    match command {
        ManifestCommand::Verify(args) => verify(args),
    }
}

fn hash_of(b64: &str) -> anyhow::Result<Hash> {
    B64.decode(b64)?
        .try_into()
        .map_err(|_| anyhow!("a hash is not 32 bytes"))
}

fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let note_verifier = load_verifier(&args.key)?;
    let text = std::fs::read_to_string(&args.envelope)
        .with_context(|| format!("reading {}", args.envelope.display()))?;
    let envelope: Envelope =
        serde_json::from_str(&text).context("the file is not a DSSE envelope")?;
    let dsse = DsseVerifier::new(*note_verifier.verifying_key());
    let statement = Statement::verify_envelope(&envelope, &[dsse])
        .map_err(|e| anyhow!("signature or statement: {e}"))?;
    let p = statement
        .provenance_predicate()
        .map_err(|e| anyhow!("predicate: {e}"))?;
    let cp = Checkpoint::verify_signed(&p.audit.checkpoint, &note_verifier)
        .map_err(|e| anyhow!("the cited checkpoint: {e}"))?;
    if cp.origin != p.audit.origin {
        bail!(
            "the manifest names log {:?} but its checkpoint is from {:?}",
            p.audit.origin,
            cp.origin
        );
    }
    let proof = p
        .audit
        .inclusion_proof
        .iter()
        .map(|h| hash_of(h))
        .collect::<anyhow::Result<Vec<_>>>()?;
    merkle::check_record(
        &proof,
        cp.size,
        &cp.root_hash,
        p.audit.index,
        &hash_of(&p.audit.leaf_hash)?,
    )
    .map_err(|e| anyhow!("the decision is not in the cited checkpoint: {e}"))?;
    if let Some(path) = &args.result {
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)
            .context("--result is not JSON")?;
        let digest = hex::encode(sha256(canonical_json(&value)));
        let attested = statement
            .subject
            .iter()
            .find(|s| s.name.starts_with("result:"))
            .and_then(|s| s.digest.get("sha256"));
        if attested != Some(&digest) {
            bail!(
                "the result in {} is not the one the manifest attests",
                path.display()
            );
        }
    }
    println!("VERIFIED");
    for s in &statement.subject {
        println!(
            "subject:     {} sha256:{}",
            s.name,
            s.digest.get("sha256").map(String::as_str).unwrap_or("-")
        );
    }
    println!("action:      {}", p.action_type);
    println!("policy:      {}", p.policy_revision);
    println!(
        "audit:       {} index {} (in checkpoint of size {})",
        p.audit.origin, p.audit.index, cp.size
    );
    Ok(())
}
