//! An incremental Server-Sent Events parser: feed it the bytes as they arrive, get back the
//! complete events (the WHATWG `text/event-stream` rules, minus `retry:`).

/// One dispatched event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<String>,
    /// The `event:` field; `message` when absent.
    pub event: String,
    pub data: String,
}

#[derive(Default)]
pub struct SseParser {
    /// Bytes of a line not yet complete (a chunk can end anywhere, even inside a character).
    partial: Vec<u8>,
    current: Option<SseEvent>,
}

impl SseParser {
    /// Adds `bytes` and returns the events they complete. Comments (heartbeats) are dropped.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.partial.extend_from_slice(bytes);
        let mut done = vec![];
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                done.extend(self.current.take());
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            let event = self.current.get_or_insert_with(|| SseEvent {
                event: "message".into(),
                ..Default::default()
            });
            match field {
                "id" => event.id = Some(value.to_string()),
                "event" => event.event = value.to_string(),
                "data" => {
                    if !event.data.is_empty() {
                        event.data.push('\n');
                    }
                    event.data.push_str(value);
                }
                _ => {}
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_heartbeats_between() {
        let mut p = SseParser::default();
        assert!(p.push(b": heartbeat\n\ndata: {\"a\"").is_empty());
        let got = p.push(b":1}\nid: b-2\nevent: kill.activated\n\n: heartbeat\n\n");
        assert_eq!(
            got,
            vec![SseEvent {
                id: Some("b-2".into()),
                event: "kill.activated".into(),
                data: "{\"a\":1}".into(),
            }]
        );
        let got = p.push(b"event: stream.gap\r\ndata: x\r\ndata: y\r\n\r\n");
        assert_eq!((got[0].id.clone(), got[0].data.as_str()), (None, "x\ny"));
    }
}
