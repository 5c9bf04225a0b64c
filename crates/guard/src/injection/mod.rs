//! Prompt-injection detector: instructions aimed at the model inside untrusted content.
//!
//! Phrase rules (see [`phrases`] and [`jailbreak`]) are woken by the shared prefilter; hidden
//! characters are found through their UTF-8 prefixes; encoded runs are decoded and rescanned up
//! to a depth limit. Every finding says why it fired. An optional [`InjectionClassifier`] adds
//! a model score.

pub mod encoded;
pub mod hidden;
pub mod jailbreak;
pub mod phrases;

use std::fmt;
use std::sync::Arc;

use crate::pattern::{PatternSet, PatternSpec};
use crate::prefilter::{Hit, KeywordIndex, KeywordIndexBuilder, Target};
use crate::{Detector, Direction, Finding, Severity};

/// A hook for a model-based injection classifier (e.g. a small fine-tuned encoder).
///
/// Returns a probability in `0.0..=1.0` that `text` contains an injection, or `None` when the
/// classifier declines (too long, unavailable). Must be cheap enough to call per scan.
pub trait InjectionClassifier: Send + Sync {
    /// Score `text`.
    fn classify(&self, text: &str) -> Option<f32>;
}

/// Shared handle to a classifier, as stored in [`crate::GuardConfig`].
#[derive(Clone)]
pub struct ClassifierHandle(pub Arc<dyn InjectionClassifier>);

impl fmt::Debug for ClassifierHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InjectionClassifier")
    }
}

/// Classifier scores at or above this become findings.
const CLASSIFIER_THRESHOLD: f32 = 0.5;

/// The injection detector.
#[derive(Debug, Clone)]
pub struct InjectionScanner {
    phrases: PatternSet,
    classifier: Option<ClassifierHandle>,
    max_depth: usize,
}

impl InjectionScanner {
    /// Build with an optional classifier and a decode depth limit.
    pub fn new(classifier: Option<ClassifierHandle>, max_depth: usize) -> Self {
        InjectionScanner {
            phrases: PatternSet::compile_tables(&[phrases::RULES, jailbreak::RULES]),
            classifier,
            max_depth,
        }
    }

    /// Register phrase keywords and hidden-character prefixes.
    pub fn register(&self, b: &mut KeywordIndexBuilder) {
        self.phrases.register(b, Target::Injection);
        hidden::register(b);
    }

    /// Scan `text`. `hits` holds the `Injection` and `Hidden` hits (sorted); `index` is the shared
    /// prefilter, used again on decoded payloads.
    pub fn scan(
        &self,
        text: &str,
        hits: &[Hit],
        index: &KeywordIndex,
        direction: Direction,
        out: &mut Vec<Finding>,
    ) {
        self.scan_depth(text, hits, index, direction, 0, out);
        if let Some(c) = &self.classifier {
            if let Some(p) = c.0.classify(text) {
                if p >= CLASSIFIER_THRESHOLD {
                    out.push(Finding::new(
                        Detector::Injection,
                        "classifier",
                        (0, text.len()),
                        p,
                        Severity::High,
                        format!("injection classifier scored the text {p:.2}"),
                    ));
                }
            }
        }
    }

    fn scan_depth(
        &self,
        text: &str,
        hits: &[Hit],
        index: &KeywordIndex,
        direction: Direction,
        depth: usize,
        out: &mut Vec<Finding>,
    ) {
        let bytes = text.as_bytes();
        let check = match direction {
            Direction::Output => adjust_output,
            _ => adjust_input,
        };
        self.phrases.scan(
            bytes,
            hits,
            |t| match t {
                Target::Injection(i) => Some(i),
                _ => None,
            },
            Detector::Injection,
            check,
            out,
        );
        let hidden_hits: Vec<usize> = hits
            .iter()
            .filter(|h| h.target == Target::Hidden)
            .map(|h| h.start)
            .collect();
        let clusters = hidden::scan(text, &hidden_hits, out);
        for c in clusters {
            self.nested(
                &c.decoded,
                (c.start, c.end),
                "Unicode tag characters",
                index,
                direction,
                depth,
                out,
            );
        }
        if depth < self.max_depth {
            for d in encoded::decode_runs(bytes) {
                self.nested(
                    &d.text,
                    (d.start, d.end),
                    d.encoding.name(),
                    index,
                    direction,
                    depth,
                    out,
                );
            }
        }
    }

    /// Rescan decoded text and report what it hides as one finding over the encoded span.
    #[allow(clippy::too_many_arguments)]
    fn nested(
        &self,
        decoded: &str,
        span: (usize, usize),
        how: &str,
        index: &KeywordIndex,
        direction: Direction,
        depth: usize,
        out: &mut Vec<Finding>,
    ) {
        let hits = index.hits(decoded.as_bytes(), |t| {
            matches!(t, Target::Injection(_) | Target::Hidden)
        });
        let mut inner = Vec::new();
        self.scan_depth(decoded, &hits, index, direction, depth + 1, &mut inner);
        let Some(best) = inner.iter().max_by(|a, b| a.score.total_cmp(&b.score)) else {
            return;
        };
        out.push(Finding::new(
            Detector::Injection,
            "encoded-payload",
            span,
            (best.score + 0.05).min(1.0),
            best.severity.max(Severity::High),
            format!(
                "{how}-encoded text hides an injection: {}",
                best.explanation
            ),
        ));
    }
}

/// Images that carry data in their URL. Plain image links are not findings.
fn url_carries_data(url: &[u8]) -> bool {
    let query = url.iter().position(|&b| b == b'?').map(|q| &url[q + 1..]);
    let templated = url.windows(3).any(|w| w == b"%7B" || w == b"%7b")
        || url.iter().any(|&b| b == b'{' || b == b'$');
    let long_segment = url
        .split(|&b| b == b'/' || b == b'?' || b == b'&' || b == b'=')
        .skip(3)
        .any(|seg| {
            seg.len() >= 32
                && seg
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'_' | b'%'))
        });
    let query_data = query.is_some_and(|q| q.contains(&b'=') && q.len() >= 8);
    templated || long_segment || query_data
}

fn adjust(spec: &PatternSpec, text: &[u8], m: std::ops::Range<usize>, output: bool) -> Option<f32> {
    let v = &text[m];
    match spec.id {
        "markdown-image-exfiltration" | "html-image-exfiltration" => {
            if !url_carries_data(v) {
                return None;
            }
            Some(if output { spec.score } else { spec.score - 0.2 })
        }
        "fake-system-header" if spec.score <= 0.5 => {
            // "System: Ubuntu 22.04" is a log line; "System: you must now…" is an injection.
            let lower = v.to_ascii_lowercase();
            let imperative = [
                &b"you "[..],
                b"ignore",
                b"must",
                b"always",
                b"never",
                b"assistant",
                b"instruction",
            ]
            .iter()
            .any(|w| lower.windows(w.len()).any(|x| x == *w));
            imperative.then_some(spec.score + 0.25)
        }
        _ => Some(if output {
            (spec.score + 0.05).min(1.0)
        } else {
            spec.score
        }),
    }
}

fn adjust_output(spec: &PatternSpec, text: &[u8], m: std::ops::Range<usize>) -> Option<f32> {
    adjust(spec, text, m, true)
}

fn adjust_input(spec: &PatternSpec, text: &[u8], m: std::ops::Range<usize>) -> Option<f32> {
    adjust(spec, text, m, false)
}
