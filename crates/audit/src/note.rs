//! C2SP signed notes with Ed25519 keys (<https://c2sp.org/signed-note>).
//!
//! A signed note is a UTF-8 text ending in a newline, a blank line, then
//! signature lines `— <key name> <base64(key id || signature)>`. The key id is the
//! first four bytes (big-endian) of `SHA-256(name || "\n" || 0x01 || public key)`.
//! Keys travel as the strings Go's `golang.org/x/mod/sumdb/note` reads:
//!
//! - verifier key: `<name>+<8 hex key id>+<base64(0x01 || public key)>`
//! - signer key:   `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || seed)>`
//!
//! so a note signed here opens with `note.Open`, and a Go-generated key loads here.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand_core::OsRng;

use crate::canonical::sha256;
use crate::error::{malformed, AuditError, Result};

/// Signature type byte for Ed25519 in C2SP signed notes.
const ALG_ED25519: u8 = 0x01;
/// Prefix of every signature line: U+2014 EM DASH and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// Go's `note.Open` gives up beyond this many signatures; so do we.
const MAX_SIGNATURES: usize = 100;

/// The C2SP key id of an Ed25519 key.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut input = Vec::with_capacity(name.len() + 2 + 32);
    input.extend_from_slice(name.as_bytes());
    input.push(b'\n');
    input.push(ALG_ED25519);
    input.extend_from_slice(public_key);
    let digest = sha256(&input);
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Key names are non-empty and contain neither Unicode spaces nor `+`.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(AuditError::InvalidInput(format!(
            "key name {name:?} must be non-empty, without spaces or '+'"
        )));
    }
    Ok(())
}

/// Splits `<name>+<hex id>+<base64 key>` and checks the algorithm byte.
fn parse_key_parts(what: &'static str, s: &str) -> Result<(String, u32, [u8; 32])> {
    // Names cannot contain '+', base64 can: split from the left.
    let mut parts = s.trim_end().splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed(what, "expected <name>+<key id>+<key>"));
    };
    check_name(name).map_err(|e| malformed(what, e.to_string()))?;
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed(what, "key id must be 8 hex digits"));
    }
    let id = u32::from_str_radix(id, 16).map_err(|e| malformed(what, e.to_string()))?;
    let raw = B64
        .decode(key)
        .map_err(|e| malformed(what, e.to_string()))?;
    match raw.split_first() {
        Some((&ALG_ED25519, rest)) if rest.len() == 32 => Ok((
            name.to_string(),
            id,
            rest.try_into().expect("length checked"),
        )),
        Some((&ALG_ED25519, _)) => Err(malformed(what, "Ed25519 key must be 32 bytes")),
        _ => Err(malformed(what, "unsupported key algorithm")),
    }
}

/// A named Ed25519 key that signs notes (checkpoints).
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// Wraps an existing key under `name` (typically the log origin).
    pub fn new(name: &str, key: SigningKey) -> Result<Self> {
        check_name(name)?;
        let key_id = key_id(name, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_string(),
            key,
            key_id,
        })
    }

    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate(name: &str) -> Result<Self> {
        Self::new(name, SigningKey::generate(&mut OsRng))
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    pub fn from_key_string(skey: &str) -> Result<Self> {
        const WHAT: &str = "signer key";
        let rest = skey
            .trim_end()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| malformed(WHAT, "missing PRIVATE+KEY+ prefix"))?;
        let (name, id, seed) = parse_key_parts(WHAT, rest)?;
        let signer = Self::new(&name, SigningKey::from_bytes(&seed))?;
        if signer.key_id != id {
            return Err(malformed(WHAT, "key id does not match the key"));
        }
        Ok(signer)
    }

    /// The signer key string (secret!), readable by Go's `note.NewSigner`.
    pub fn to_key_string(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            B64.encode(raw)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The C2SP key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 key, for callers that sign other formats (DSSE) with it.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The matching public verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (which must end in a newline) and returns the signed note.
    pub fn sign_note(&self, text: &str) -> Result<String> {
        check_text(text)?;
        let sig: Signature = self.key.sign(text.as_bytes());
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            B64.encode(raw)
        ))
    }

    /// Writes the signer key string to a new file with mode 0600. Refuses to
    /// overwrite an existing file, so a log's key is never replaced by accident.
    pub fn save(&self, path: &Path) -> Result<()> {
        use std::io::Write as _;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(path)?;
        f.write_all(self.to_key_string().as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        Ok(())
    }

    /// Reads a key written by [`NoteSigner::save`] (or by Go's `note.GenerateKey`).
    /// On Unix, refuses a file that group or others can read.
    pub fn load(path: &Path) -> Result<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(AuditError::InvalidInput(format!(
                    "signer key file {} has mode {:o}; it must be 0600",
                    path.display(),
                    mode & 0o777
                )));
            }
        }
        Self::from_key_string(&std::fs::read_to_string(path)?)
    }
}

/// A named Ed25519 public key that opens signed notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Wraps a public key under `name`.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self> {
        check_name(name)?;
        Ok(Self {
            name: name.to_string(),
            key_id: key_id(name, key.as_bytes()),
            key,
        })
    }

    /// Parses `<name>+<hex id>+<base64(0x01 || public key)>`.
    pub fn from_key_string(vkey: &str) -> Result<Self> {
        const WHAT: &str = "verifier key";
        let (name, id, public) = parse_key_parts(WHAT, vkey)?;
        let key = VerifyingKey::from_bytes(&public).map_err(|e| malformed(WHAT, e.to_string()))?;
        let v = Self::new(&name, key)?;
        if v.key_id != id {
            return Err(malformed(WHAT, "key id does not match the key"));
        }
        Ok(v)
    }

    /// The published verifier key string (`note.NewVerifier` reads it).
    pub fn to_key_string(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The C2SP key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Verifies a signed note and returns its text (with the final newline).
    ///
    /// Signatures by other keys are ignored; a signature that claims to be by this
    /// key (same name and key id) but does not verify rejects the note, and so does
    /// a note that this key did not sign.
    pub fn open(&self, signed_note: &str) -> Result<String> {
        const WHAT: &str = "signed note";
        if signed_note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(malformed(WHAT, "control character"));
        }
        let split = signed_note
            .rfind("\n\n")
            .ok_or_else(|| malformed(WHAT, "no blank line before the signatures"))?;
        let text = &signed_note[..split + 1];
        let sigs = &signed_note[split + 2..];
        if !sigs.ends_with('\n') {
            return Err(malformed(WHAT, "signature block must end in a newline"));
        }
        let lines: Vec<&str> = sigs[..sigs.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(malformed(WHAT, "too many signatures"));
        }
        let mut verified = false;
        for line in lines {
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or_else(|| malformed(WHAT, format!("bad signature line {line:?}")))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| malformed(WHAT, format!("bad signature line {line:?}")))?;
            let raw = B64
                .decode(b64)
                .map_err(|e| malformed(WHAT, format!("signature base64: {e}")))?;
            if name.is_empty() || raw.len() < 5 {
                return Err(malformed(WHAT, format!("bad signature line {line:?}")));
            }
            let id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
            if name != self.name || id != self.key_id {
                continue;
            }
            let sig = Signature::from_slice(&raw[4..])
                .map_err(|_| AuditError::Signature(format!("{name}: bad signature length")))?;
            self.key
                .verify_strict(text.as_bytes(), &sig)
                .map_err(|_| AuditError::Signature(format!("{name}: signature does not verify")))?;
            verified = true;
        }
        if !verified {
            return Err(AuditError::Signature(format!(
                "note has no signature by {}+{:08x}",
                self.name, self.key_id
            )));
        }
        Ok(text.to_string())
    }
}

/// Note text must end in a newline and hold no control characters but newlines.
fn check_text(text: &str) -> Result<()> {
    if !text.ends_with('\n') {
        return Err(malformed("note text", "must end in a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(malformed("note text", "control character"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> NoteSigner {
        NoteSigner::new("sentinel.test/log", SigningKey::from_bytes(&[7; 32])).unwrap()
    }

    #[test]
    fn sign_and_open() {
        let s = signer();
        let note = s.sign_note("hello\nworld\n").unwrap();
        assert!(note.starts_with("hello\nworld\n\n\u{2014} sentinel.test/log "));
        assert_eq!(s.verifier().open(&note).unwrap(), "hello\nworld\n");
    }

    #[test]
    fn key_strings_round_trip() {
        let s = signer();
        let s2 = NoteSigner::from_key_string(&s.to_key_string()).unwrap();
        assert_eq!(s2.to_key_string(), s.to_key_string());
        let v = NoteVerifier::from_key_string(&s.verifier().to_key_string()).unwrap();
        assert_eq!(v, s.verifier());
        assert!(s
            .verifier()
            .to_key_string()
            .starts_with("sentinel.test/log+"));
    }

    #[test]
    fn keys_whose_base64_contains_plus_parse() {
        // Base64 uses '+', which also separates the fields: find such keys.
        let mut seen = 0;
        for seed in 0..=255u8 {
            let s = NoteSigner::new("n.test/log", SigningKey::from_bytes(&[seed; 32])).unwrap();
            let (skey, vkey) = (s.to_key_string(), s.verifier().to_key_string());
            if vkey.matches('+').count() > 2 || skey.matches('+').count() > 4 {
                seen += 1;
                assert_eq!(
                    NoteSigner::from_key_string(&skey).unwrap().to_key_string(),
                    skey
                );
                assert_eq!(NoteVerifier::from_key_string(&vkey).unwrap(), s.verifier());
            }
        }
        assert!(seen > 0);
    }

    #[test]
    fn wrong_key_id_in_key_string_is_rejected() {
        let vkey = signer().verifier().to_key_string();
        let mut parts: Vec<&str> = vkey.split('+').collect();
        parts[1] = "00000000";
        assert!(NoteVerifier::from_key_string(&parts.join("+")).is_err());
    }

    #[test]
    fn tampered_text_or_other_key_fails() {
        let s = signer();
        let note = s.sign_note("size 5\n").unwrap();
        let v = s.verifier();
        assert!(v.open(&note.replace("size 5", "size 6")).is_err());
        let other = NoteSigner::new("sentinel.test/log", SigningKey::from_bytes(&[8; 32])).unwrap();
        assert!(other.verifier().open(&note).is_err());
    }

    #[test]
    fn unknown_signatures_are_ignored_but_bad_known_ones_reject() {
        let a = signer();
        let b = NoteSigner::new("witness.test", SigningKey::from_bytes(&[9; 32])).unwrap();
        let text = "t\n";
        let note_a = a.sign_note(text).unwrap();
        let note_b = b.sign_note(text).unwrap();
        let both = format!("{}{}", note_a, note_b.strip_prefix("t\n\n").unwrap());
        assert_eq!(a.verifier().open(&both).unwrap(), text);
        assert_eq!(b.verifier().open(&both).unwrap(), text);
        // Corrupt a's signature bytes while keeping its key id: the note is rejected.
        let line = note_a.lines().last().unwrap().to_string();
        let (prefix, sig) = line.rsplit_once(' ').unwrap();
        let mut raw = B64.decode(sig).unwrap();
        raw[10] ^= 1;
        let bad = both.replace(&line, &format!("{prefix} {}", B64.encode(raw)));
        assert!(a.verifier().open(&bad).is_err());
    }

    #[test]
    fn text_must_end_in_newline() {
        assert!(signer().sign_note("no newline").is_err());
        assert!(signer().sign_note("tab\there\n").is_err());
    }

    #[test]
    fn save_is_0600_and_refuses_overwrite() {
        let dir = std::env::temp_dir().join(format!("sentinel-note-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("checkpoint.key");
        let _ = std::fs::remove_file(&path);
        let s = signer();
        s.save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(s.save(&path).is_err(), "must not overwrite");
        assert_eq!(
            NoteSigner::load(&path).unwrap().to_key_string(),
            s.to_key_string()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(
                NoteSigner::load(&path).is_err(),
                "world-readable key must be refused"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
