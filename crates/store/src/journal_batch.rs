//! An audit batch as the journal keeps it: the SQL statements that write it into the tables,
//! with their bound values, in a plain length-prefixed encoding.
//!
//! The statements are made once, on the append: the journal stores their bytes, the applier
//! runs them, and replay decodes and runs them. Nothing is serialised twice (a decision
//! record's input document becomes text once, as the value bound to its column).
//!
//! ```text
//! batch     = last seq: u64 | entries: list | decisions: list
//! list      = count: u32 | statement*
//! statement = sql: bytes | count: u32 | value*
//! value     = 0 bytes (text) | 1 (null) | 2 i64
//! bytes     = length: u32 | UTF-8
//! ```
//! Integers are little-endian.

use crate::filters::Bind;
use crate::sql_audit::{is_audit_batch_statement, Statement};
use crate::{Result, StoreError};

/// One batch's statements: the entries and tree hashes, and apart from them the decision
/// records, which the tables may refuse on their own.
#[derive(Debug, Default)]
pub(crate) struct JournalBatch {
    /// The sequence number of the batch's last entry.
    pub last: u64,
    pub entries: Vec<Statement>,
    pub decisions: Vec<Statement>,
}

impl JournalBatch {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_hint());
        out.extend_from_slice(&self.last.to_le_bytes());
        for list in [&self.entries, &self.decisions] {
            put_u32(&mut out, list.len());
            for (sql, binds) in list {
                put_bytes(&mut out, sql.as_bytes());
                put_u32(&mut out, binds.len());
                for bind in binds {
                    match bind {
                        Bind::Text(s) | Bind::OptText(Some(s)) => {
                            out.push(0);
                            put_bytes(&mut out, s.as_bytes());
                        }
                        Bind::OptText(None) => out.push(1),
                        Bind::Int(i) => {
                            out.push(2);
                            out.extend_from_slice(&i.to_le_bytes());
                        }
                    }
                }
            }
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<JournalBatch> {
        let mut r = Reader { bytes, at: 0 };
        let last = r.u64()?;
        let mut lists = [Vec::new(), Vec::new()];
        for list in &mut lists {
            let count = r.u32()?;
            for _ in 0..count {
                let sql = r.text()?;
                let values = r.u32()?;
                let mut binds = Vec::with_capacity(values.min(4096));
                for _ in 0..values {
                    binds.push(match r.u8()? {
                        0 => Bind::OptText(Some(r.text()?)),
                        1 => Bind::OptText(None),
                        2 => Bind::Int(r.u64()? as i64),
                        tag => return Err(corrupt(&format!("value tag {tag}"))),
                    });
                }
                if !is_audit_batch_statement(&sql, binds.len()) {
                    return Err(corrupt(
                        "a statement that is not one of an audit batch's inserts",
                    ));
                }
                list.push((sql, binds));
            }
        }
        if r.at != bytes.len() {
            return Err(corrupt("bytes after the batch"));
        }
        let [entries, decisions] = lists;
        Ok(JournalBatch {
            last,
            entries,
            decisions,
        })
    }

    fn size_hint(&self) -> usize {
        let text = |b: &Bind| match b {
            Bind::Text(s) | Bind::OptText(Some(s)) => s.len() + 5,
            Bind::OptText(None) => 1,
            Bind::Int(_) => 9,
        };
        16 + self
            .entries
            .iter()
            .chain(&self.decisions)
            .map(|(sql, binds)| sql.len() + 8 + binds.iter().map(text).sum::<usize>())
            .sum::<usize>()
    }
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u32(out, b.len());
    out.extend_from_slice(b);
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("an audit journal batch does not decode: {what}"))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| corrupt("it ends early"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<usize> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")) as usize)
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn text(&mut self) -> Result<String> {
        let n = self.u32()?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| corrupt("text is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql_audit::audit_inserts;
    use crate::{AuditRecord, Dialect};

    fn sample() -> JournalBatch {
        let record = AuditRecord {
            seq: 41,
            tenant_id: None,
            kind: "decision".into(),
            agent: Some("snow \u{2603} \"quoted\"".into()),
            tool: None,
            outcome: Some("allow".into()),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            entry: "{}".into(),
            leaf_hash: [7; 32],
        };
        JournalBatch {
            last: 41,
            entries: audit_inserts(Dialect::Sqlite, &[record], &[(3, [1; 32])], &[]),
            decisions: vec![],
        }
    }

    /// The batch with text and present optional text as one kind: they are one kind on the
    /// wire, and bound alike.
    fn shown(b: &JournalBatch) -> String {
        let lists = [&b.entries, &b.decisions].map(|list| {
            list.iter()
                .map(|(sql, binds)| {
                    let values: Vec<String> = binds
                        .iter()
                        .map(|v| match v {
                            Bind::Text(s) | Bind::OptText(Some(s)) => format!("text {s:?}"),
                            Bind::OptText(None) => "null".into(),
                            Bind::Int(i) => format!("int {i}"),
                        })
                        .collect();
                    format!("{sql} {values:?}")
                })
                .collect::<Vec<_>>()
        });
        format!("{} {lists:?}", b.last)
    }

    #[test]
    fn a_batch_decodes_to_the_same_statements_and_values() {
        let batch = sample();
        let back = JournalBatch::decode(&batch.encode()).unwrap();
        assert_eq!(shown(&back), shown(&batch));
        assert!(shown(&back).contains("int 41") && shown(&back).contains("null"));
    }

    #[test]
    fn only_an_audit_batch_s_own_inserts_are_read_back() {
        let mut batch = sample();
        batch
            .entries
            .push(("DROP TABLE tenants".into(), vec![Bind::Int(1)]));
        let err = JournalBatch::decode(&batch.encode())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not one of an audit batch's inserts"), "{err}");
        // The right statement with a value missing is refused too.
        let mut batch = sample();
        batch.entries[0].1.pop();
        assert!(JournalBatch::decode(&batch.encode()).is_err());
    }

    #[test]
    fn truncated_or_padded_bytes_are_refused_not_misread() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(JournalBatch::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(JournalBatch::decode(&padded).is_err());
    }
}
