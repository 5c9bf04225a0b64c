//! The audit journal's files: where an embedded (SQLite) store makes audit batches durable.
//!
//! An audit commit on SQLite writes some thirteen pages into the WAL and fsyncs it, and every
//! thousandth page the commit that crosses SQLite's checkpoint threshold also copies the WAL into
//! the database and fsyncs that: ~0.45 ms on average and 2–3 ms at the tail, on the path of every
//! action waiting for its entry. A batch appended here is one write into space written before
//! (so `fdatasync` has no metadata to flush) and one `fdatasync`; the tables catch up behind it
//! (see [`crate::journaled`]) and recovery replays what they lack.
//!
//! Two files, used in turn, so that starting over never overwrites a batch the tables may still
//! need: the writer moves to the other file once the current one passes [`SWITCH_AT`] and every
//! batch in the other is durable in the database. A frame:
//!
//! ```text
//! "SNTJ" | payload length: u32 LE | first seq: u64 LE | end seq: u64 LE | SHA-256(seqs ‖ payload) | payload
//! ```
//!
//! Reading stops at the first frame that does not check out (a write torn by a crash, or the
//! zeros and stale frames past the end); stale frames from an earlier turn are recognised by
//! their sequence numbers, which are all below the database's size.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"SNTJ";
const HEADER: usize = 4 + 4 + 8 + 8 + 32;
/// A file is left for the other once it holds this much.
pub(crate) const SWITCH_AT: u64 = 4 << 20;
/// Written with zeros when a file is made, so appends overwrite allocated blocks.
const PREALLOCATE: u64 = SWITCH_AT + (1 << 20);
/// The largest payload a frame can hold (its length is a `u32`).
const MAX_PAYLOAD: usize = u32::MAX as usize;

/// One batch as read back from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// The batch's first entry's sequence number, and one past its last.
    pub first: u64,
    pub end: u64,
    pub payload: Vec<u8>,
}

/// The two files, locked against a second writer, and where the next frame goes.
pub(crate) struct JournalFiles {
    files: [File; 2],
    paths: [PathBuf; 2],
    current: usize,
    offset: u64,
    /// One past the last sequence number written into each file this run: the other file may be
    /// written over once the database holds everything up to this durably.
    written_to: [u64; 2],
    /// Set when a write or an `fdatasync` failed: the kernel may have dropped pages it could
    /// not write, so no later sync proves anything about them, and a frame may be half there.
    /// Every append is refused after it, until a restart replays what is durable.
    broken: Option<String>,
}

/// Why the journal could not be opened for writing.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// Another store (in this or another process) holds the lock.
    Locked(PathBuf),
    Io(PathBuf, io::Error),
}

impl JournalFiles {
    /// Paths of the two files that journal the database at `db`.
    pub(crate) fn paths_for(db: &Path) -> [PathBuf; 2] {
        let name = |i: usize| {
            let mut s = db.as_os_str().to_os_string();
            s.push(format!(".audit-journal-{i}"));
            PathBuf::from(s)
        };
        [name(0), name(1)]
    }

    /// Opens (creating and preallocating) the files beside `db` and takes the lock. With
    /// `discard`, what they hold is forgotten: for a database made just now, which old files
    /// must not be replayed into.
    pub(crate) fn open(db: &Path, discard: bool) -> Result<JournalFiles, OpenError> {
        let paths = Self::paths_for(db);
        let open = |p: &PathBuf| -> Result<File, OpenError> {
            let mut options = OpenOptions::new();
            options.read(true).write(true).create(true);
            options.open(p).map_err(|e| OpenError::Io(p.clone(), e))
        };
        let first = open(&paths[0])?;
        match first.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(OpenError::Locked(paths[0].clone()))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(OpenError::Io(paths[0].clone(), e)),
        }
        let files = [first, open(&paths[1])?];
        for (file, path) in files.iter().zip(&paths) {
            let io = |e| OpenError::Io(path.clone(), e);
            if discard && file.metadata().map_err(io)?.len() > 0 {
                tracing::warn!(journal = %path.display(), "a new database: the audit journal left beside it is discarded");
                file.set_len(0).map_err(io)?;
            }
            preallocate(file).map_err(io)?;
        }
        // The files' names must survive a crash too.
        let dir = match db.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| OpenError::Io(dir.to_path_buf(), e))?;
        Ok(JournalFiles {
            files,
            paths,
            current: 0,
            offset: 0,
            written_to: [0, 0],
            broken: None,
        })
    }

    /// Every frame that checks out in either file, ordered by sequence number.
    pub(crate) fn read_all(&self) -> io::Result<Vec<Frame>> {
        let mut frames = Vec::new();
        for file in &self.files {
            let len = file.metadata()?.len() as usize;
            let mut bytes = vec![0u8; len];
            file.read_exact_at(&mut bytes, 0)?;
            frames.extend(parse_frames(&bytes));
        }
        frames.sort_by_key(|f| f.first);
        Ok(frames)
    }

    /// Makes `payload`, the batch of entries `first..end`, durable. `durable_in_db` is how far
    /// the database holds the log durably: a file may be written over only below it.
    pub(crate) fn append(
        &mut self,
        first: u64,
        end: u64,
        payload: &[u8],
        durable_in_db: u64,
    ) -> io::Result<()> {
        if let Some(why) = &self.broken {
            return Err(io::Error::other(format!(
                "a sync failed earlier ({why}); restart Sentinel to replay the journal"
            )));
        }
        if payload.len() > MAX_PAYLOAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "an audit batch of {} bytes is larger than a journal frame holds",
                    payload.len()
                ),
            ));
        }
        let frame = encode_frame(first, end, payload);
        let other = 1 - self.current;
        if self.offset + frame.len() as u64 > SWITCH_AT && self.written_to[other] <= durable_in_db {
            self.current = other;
            self.offset = 0;
        }
        let file = &self.files[self.current];
        if let Err(e) = file
            .write_all_at(&frame, self.offset)
            .and_then(|()| file.sync_data())
        {
            self.broken = Some(e.to_string());
            return Err(e);
        }
        self.offset += frame.len() as u64;
        self.written_to[self.current] = end;
        Ok(())
    }

    /// Bytes written into the current file: how far it is from [`SWITCH_AT`].
    #[cfg(test)]
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn path(&self) -> &Path {
        &self.paths[self.current]
    }
}

fn preallocate(file: &File) -> io::Result<()> {
    let len = file.metadata()?.len();
    if len >= PREALLOCATE {
        return Ok(());
    }
    let zeros = vec![0u8; 1 << 20];
    let mut at = len;
    while at < PREALLOCATE {
        let n = zeros.len().min((PREALLOCATE - at) as usize);
        file.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    (&*file).flush()?;
    file.sync_all()
}

fn digest(first: u64, end: u64, payload: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(first.to_le_bytes());
    h.update(end.to_le_bytes());
    h.update(payload);
    h.finalize().into()
}

fn encode_frame(first: u64, end: u64, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(HEADER + payload.len());
    frame.extend_from_slice(MAGIC);
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&first.to_le_bytes());
    frame.extend_from_slice(&end.to_le_bytes());
    frame.extend_from_slice(&digest(first, end, payload));
    frame.extend_from_slice(payload);
    frame
}

/// The frames at the start of `bytes`, up to the first that does not check out.
fn parse_frames(bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= HEADER && &bytes[at..at + 4] == MAGIC {
        let word = |from: usize, n: usize| &bytes[at + from..at + from + n];
        let len = u32::from_le_bytes(word(4, 4).try_into().expect("4 bytes")) as usize;
        let first = u64::from_le_bytes(word(8, 8).try_into().expect("8 bytes"));
        let end = u64::from_le_bytes(word(16, 8).try_into().expect("8 bytes"));
        if len > MAX_PAYLOAD || bytes.len() - at - HEADER < len || end <= first {
            break;
        }
        let payload = &bytes[at + HEADER..at + HEADER + len];
        if word(24, 32) != digest(first, end, payload) {
            break;
        }
        frames.push(Frame {
            first,
            end,
            payload: payload.to_vec(),
        });
        at += HEADER + len;
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(dir: &tempfile::TempDir) -> JournalFiles {
        JournalFiles::open(&dir.path().join("s.db"), false).unwrap()
    }

    #[test]
    fn appended_frames_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = journal(&dir);
        j.append(0, 2, b"first", 0).unwrap();
        j.append(2, 3, b"second", 0).unwrap();
        let frames = j.read_all().unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!((frames[0].first, frames[0].end), (0, 2));
        assert_eq!(frames[1].payload, b"second");
        assert!(std::fs::metadata(j.path()).unwrap().len() >= PREALLOCATE);
    }

    #[test]
    fn a_second_opener_is_refused_while_the_first_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = journal(&dir);
        let again = JournalFiles::open(&dir.path().join("s.db"), false);
        assert!(matches!(again, Err(OpenError::Locked(_))));
        drop(first);
        assert!(JournalFiles::open(&dir.path().join("s.db"), false).is_ok());
    }

    #[test]
    fn reading_stops_at_a_torn_or_altered_frame() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = journal(&dir);
        j.append(0, 1, b"kept", 0).unwrap();
        j.append(1, 2, b"torn", 0).unwrap();
        j.append(2, 3, b"after", 0).unwrap();
        // Flip one payload byte of the second frame: it and everything after it are ignored.
        let at = (HEADER + 4 + HEADER) as u64;
        j.files[0].write_all_at(b"X", at).unwrap();
        let frames = j.read_all().unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].payload, b"kept");
        // A header claiming more bytes than the file has is no frame either.
        assert!(parse_frames(&encode_frame(0, 1, b"abc")[..HEADER + 2]).is_empty());
    }

    #[test]
    fn files_switch_only_when_the_other_is_durable_in_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = journal(&dir);
        let big = vec![7u8; (SWITCH_AT / 4) as usize];
        let mut seq = 0;
        for _ in 0..3 {
            j.append(seq, seq + 1, &big, 0).unwrap();
            seq += 1;
        }
        // The first file is full: the second is free (nothing written to it yet).
        j.append(seq, seq + 1, &big, 0).unwrap();
        seq += 1;
        assert!(j.path().ends_with("s.db.audit-journal-1"));
        for _ in 0..3 {
            j.append(seq, seq + 1, &big, 0).unwrap();
            seq += 1;
        }
        // The second is full, but the database holds nothing durably yet: the first file is
        // kept, and the second grows.
        assert!(j.path().ends_with("s.db.audit-journal-1"));
        assert!(j.offset() > SWITCH_AT);
        // Once the database holds the first file's batches, writing goes back to it.
        j.append(seq, seq + 1, &big, 3).unwrap();
        assert!(j.path().ends_with("s.db.audit-journal-0"));
        let firsts: Vec<u64> = j.read_all().unwrap().iter().map(|f| f.first).collect();
        // The overwritten first frame is gone; stale ones after it remain, below the database.
        assert_eq!(firsts, vec![1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn a_failed_write_refuses_every_later_append() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = journal(&dir);
        j.append(0, 1, b"kept", 0).unwrap();
        // A read-only handle in place of the file: the next write fails.
        j.files[j.current] = File::open(j.path()).unwrap();
        assert!(j.append(1, 2, b"lost", 0).is_err());
        j.files[j.current] = OpenOptions::new().write(true).open(j.path()).unwrap();
        let again = j.append(1, 2, b"again", 0).unwrap_err().to_string();
        assert!(again.contains("restart Sentinel"), "{again}");
    }

    #[test]
    fn discarding_forgets_old_frames() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = journal(&dir);
        j.append(0, 1, b"old", 0).unwrap();
        drop(j);
        let j = JournalFiles::open(&dir.path().join("s.db"), true).unwrap();
        assert!(j.read_all().unwrap().is_empty());
    }
}
