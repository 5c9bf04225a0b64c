//! C2SP tlog checkpoints (<https://c2sp.org/tlog-checkpoint>): the signed tree head
//! an auditor trusts.
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <base64 RFC 6962 root hash>
//! [extension lines…]
//! ```
//!
//! signed as a C2SP signed note ([`crate::note`]). The log must never sign two
//! checkpoints that are inconsistent with each other: the store persists the tree
//! before signing, and the hashes it signs come from [`crate::merkle::tree_hash`].

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::error::{malformed, AuditError, Result};
use crate::merkle::Hash;
pub use crate::note::{NoteSigner, NoteVerifier};

const WHAT: &str = "checkpoint";

/// A tree head: which log, how many entries, and the root hash over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique name of the log, e.g. `sentinel.example.com/audit/acme`.
    pub origin: String,
    /// Number of entries in the tree.
    pub size: u64,
    /// RFC 6962 root hash of the first `size` entries.
    pub root_hash: Hash,
    /// Optional extension lines (non-empty; discouraged by the spec).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint with no extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root_hash: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root_hash,
            extensions: Vec::new(),
        }
    }

    /// The note text (each line ends in a newline). Fails on an empty or
    /// multi-line origin, or an empty or multi-line extension.
    pub fn to_note_text(&self) -> Result<String> {
        let bad_line = |s: &str| s.is_empty() || s.contains('\n');
        if bad_line(&self.origin) {
            return Err(AuditError::InvalidInput(
                "checkpoint origin must be one non-empty line".into(),
            ));
        }
        if self.extensions.iter().any(|e| bad_line(e)) {
            return Err(AuditError::InvalidInput(
                "checkpoint extension lines must be non-empty single lines".into(),
            ));
        }
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root_hash)
        );
        for e in &self.extensions {
            text.push_str(e);
            text.push('\n');
        }
        Ok(text)
    }

    /// Parses a checkpoint note text (not the signatures; see [`Self::verify_signed`]).
    pub fn parse(text: &str) -> Result<Self> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed(WHAT, "must end in a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(malformed(WHAT, "needs origin, size and root hash lines"));
        };
        if origin.is_empty() {
            return Err(malformed(WHAT, "empty origin"));
        }
        let size_ok = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        if !size_ok {
            return Err(malformed(WHAT, format!("bad tree size {size:?}")));
        }
        let size = size
            .parse::<u64>()
            .map_err(|e| malformed(WHAT, format!("tree size: {e}")))?;
        let raw = B64
            .decode(root)
            .map_err(|e| malformed(WHAT, format!("root hash: {e}")))?;
        let root_hash: Hash = raw
            .try_into()
            .map_err(|_| malformed(WHAT, "root hash must be 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(malformed(WHAT, "empty extension line"));
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root_hash,
            extensions,
        })
    }

    /// The signed note text for this checkpoint.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String> {
        signer.sign_note(&self.to_note_text()?)
    }

    /// Verifies a signed checkpoint with `verifier` and parses it.
    pub fn verify_signed(signed_note: &str, verifier: &NoteVerifier) -> Result<Self> {
        Self::parse(&verifier.open(signed_note)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn text_round_trip() {
        let mut c = Checkpoint::new("sentinel.test/log", 20852163, [0xab; 32]);
        c.extensions.push("ext one".into());
        let text = c.to_note_text().unwrap();
        assert_eq!(
            text,
            format!(
                "sentinel.test/log\n20852163\n{}\next one\n",
                B64.encode([0xab; 32])
            )
        );
        assert_eq!(Checkpoint::parse(&text).unwrap(), c);
    }

    #[test]
    fn parse_rejects_malformed() {
        let root = B64.encode([1u8; 32]);
        for bad in [
            format!("o\n01\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            format!("o\n1\n{}\n", B64.encode([1u8; 31])),
            format!("o\n1\n{root}\n\n"),
            "o\n1\n".to_string(),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Checkpoint::parse(&format!("o\n0\n{root}\n")).unwrap().size,
            0
        );
    }

    #[test]
    fn sign_and_verify() {
        let s = NoteSigner::new("sentinel.test/log", SigningKey::from_bytes(&[3; 32])).unwrap();
        let c = Checkpoint::new("sentinel.test/log", 5, [9; 32]);
        let note = c.sign(&s).unwrap();
        assert_eq!(Checkpoint::verify_signed(&note, &s.verifier()).unwrap(), c);
        let forged = note.replacen("\n5\n", "\n6\n", 1);
        assert!(Checkpoint::verify_signed(&forged, &s.verifier()).is_err());
    }
}
