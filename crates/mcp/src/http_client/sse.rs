//! SSE response bodies as rmcp's event stream, with a bound on the size of one event so an
//! endless event cannot grow in memory before the parser sees its end.

use futures_util::stream::{BoxStream, StreamExt};
use rmcp::transport::streamable_http_client::SseError;
use sse_stream::{Sse, SseStream};

use super::HttpError;

pub(super) type SseEvents = BoxStream<'static, Result<Sse, SseError>>;

/// Why an SSE body stopped.
#[derive(Debug)]
enum SseBodyError {
    Read(HttpError),
    EventTooLarge(usize),
}

impl std::fmt::Display for SseBodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SseBodyError::Read(e) => write!(f, "{e}"),
            SseBodyError::EventTooLarge(max) => {
                write!(f, "an SSE event exceeded the maximum size of {max} bytes")
            }
        }
    }
}

impl std::error::Error for SseBodyError {}

/// Counts the bytes of the SSE event being received, so one endless event cannot grow
/// without bound before the parser sees its end (a blank line).
struct EventSize {
    max: usize,
    event: usize,
    line: usize,
    after_cr: bool,
}

impl EventSize {
    fn observe(&mut self, chunk: &[u8]) -> bool {
        for &b in chunk {
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => {
                    if self.line == 0 {
                        self.event = 0;
                    } else {
                        self.event += self.line + 1;
                    }
                    self.line = 0;
                }
                _ => self.line += 1,
            }
            if self.event + self.line > self.max {
                return false;
            }
        }
        true
    }
}

/// The SSE events of `response`, each at most `max_event` bytes.
pub(super) fn sse_events(response: reqwest::Response, max_event: usize) -> SseEvents {
    let mut size = EventSize {
        max: max_event,
        event: 0,
        line: 0,
        after_cr: false,
    };
    let mut failed = false;
    let bytes = response.bytes_stream().map(move |chunk| match chunk {
        Ok(chunk) if size.observe(&chunk) => Ok(chunk),
        Ok(_) => Err(SseBodyError::EventTooLarge(max_event)),
        Err(e) => Err(SseBodyError::Read(e.into())),
    });
    // Stop at the first error: the parser would otherwise go on after a gap in the stream.
    let bytes = bytes.take_while(move |item| {
        let go = !failed;
        failed |= item.is_err();
        std::future::ready(go)
    });
    SseStream::from_bytes_stream(bytes).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_size_counts_one_event_at_a_time() {
        let mut size = EventSize {
            max: 16,
            event: 0,
            line: 0,
            after_cr: false,
        };
        // 15 bytes and a line end: exactly the limit; each blank line starts a new event.
        assert!(size.observe(b"data: 123456789\n\n"));
        assert!(size.observe(b"data: 123456789\r\n\r\ndata: 1234\r"));
        assert!(size.observe(b"\n\r\ndata: 1\n\n"));
        assert!(!size.observe(b"data: 1234567890\n"));
    }
}
