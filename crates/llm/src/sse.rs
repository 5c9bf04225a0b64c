//! Splitting a server-sent-event byte stream into events, whatever the chunking of the bytes.

/// One event: its `event:` name (if any) and its `data:` lines joined.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

#[derive(Default)]
pub struct SseSplitter {
    buf: Vec<u8>,
}

impl SseSplitter {
    /// Adds bytes and returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some((end, sep)) = find_boundary(&self.buf) {
            let raw: Vec<u8> = self.buf.drain(..end + sep).collect();
            if let Some(e) = parse(&String::from_utf8_lossy(&raw[..end])) {
                out.push(e);
            }
        }
        out
    }
}

/// The first blank line: its offset and the length of the separator.
fn find_boundary(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn parse(block: &str) -> Option<SseEvent> {
    let mut event = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        } else if let Some(v) = line.strip_prefix("event:") {
            event = Some(v.trim().to_string());
        }
    }
    (!data.is_empty()).then(|| SseEvent {
        event,
        data: data.join("\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let text =
            "data: {\"a\":1}\n\nevent: message_stop\ndata: {}\n\n: comment\n\ndata: [DONE]\n\n";
        for cut in 0..text.len() {
            let mut s = SseSplitter::default();
            let mut events = s.push(&text.as_bytes()[..cut]);
            events.extend(s.push(&text.as_bytes()[cut..]));
            assert_eq!(events.len(), 3, "cut at {cut}");
            assert_eq!(events[1].event.as_deref(), Some("message_stop"));
            assert_eq!(events[2].data, "[DONE]");
        }
    }
}
