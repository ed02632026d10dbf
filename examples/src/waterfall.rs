//! A terminal trace view: each finished trace printed as a waterfall, one line per span,
//! indented by depth, with service, kind, name, duration, a proportional time bar, status and
//! key attributes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_semantic_conventions::attribute;

/// Attributes shown after the status, in this order, when present.
pub const KEY_ATTRIBUTES: &[&str] = &[
    attribute::HTTP_ROUTE,
    attribute::HTTP_RESPONSE_STATUS_CODE,
    attribute::RPC_METHOD,
    attribute::RPC_RESPONSE_STATUS_CODE,
    attribute::DB_QUERY_TEXT,
    attribute::ERROR_TYPE,
];

const BAR_WIDTH: usize = 24;
const NAME_WIDTH: usize = 34;
const MAX_PENDING_TRACES: usize = 1024;

/// One span as the waterfall needs it.
#[derive(Debug, Clone)]
pub struct WaterfallSpan {
    /// `service.name` of the process that produced it.
    pub service: String,
    /// Trace it belongs to.
    pub trace_id: TraceId,
    /// Its id.
    pub span_id: SpanId,
    /// Parent id (`SpanId::INVALID` for a root).
    pub parent_id: SpanId,
    /// Span kind.
    pub kind: SpanKind,
    /// Span name.
    pub name: String,
    /// Start time.
    pub start: SystemTime,
    /// End time.
    pub end: SystemTime,
    /// Status.
    pub status: Status,
    /// The key attributes present, in [`KEY_ATTRIBUTES`] order.
    pub attributes: Vec<(String, String)>,
}

impl WaterfallSpan {
    /// From exported span data.
    pub fn from_span_data(service: &str, s: &SpanData) -> Self {
        let attributes = KEY_ATTRIBUTES
            .iter()
            .filter_map(|k| {
                s.attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == *k)
                    .map(|kv| (k.to_string(), kv.value.to_string()))
            })
            .collect();
        WaterfallSpan {
            service: service.to_string(),
            trace_id: s.span_context.trace_id(),
            span_id: s.span_context.span_id(),
            parent_id: s.parent_span_id,
            kind: s.span_kind.clone(),
            name: s.name.to_string(),
            start: s.start_time,
            end: s.end_time,
            status: s.status.clone(),
            attributes,
        }
    }
}

fn kind_label(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

fn since(a: SystemTime, b: SystemTime) -> Duration {
    b.duration_since(a).unwrap_or(Duration::ZERO)
}

fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        format!("{text:<width$}")
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Renders one trace. Spans whose parent is not in `spans` are drawn as roots; siblings are
/// ordered by start time.
pub fn render(spans: &[WaterfallSpan]) -> String {
    let mut out = String::new();
    let Some(first) = spans.first() else {
        return out;
    };
    let t0 = spans.iter().map(|s| s.start).min().unwrap_or(first.start);
    let t1 = spans.iter().map(|s| s.end).max().unwrap_or(first.end);
    let total = since(t0, t1);
    let _ = writeln!(
        out,
        "trace {} · {} span{} · {:.3} ms",
        first.trace_id,
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        total.as_secs_f64() * 1e3
    );
    let ids: std::collections::HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
    let mut children: HashMap<SpanId, Vec<&WaterfallSpan>> = HashMap::new();
    let mut roots = Vec::new();
    for s in spans {
        if s.parent_id != SpanId::INVALID && ids.contains(&s.parent_id) {
            children.entry(s.parent_id).or_default().push(s);
        } else {
            roots.push(s);
        }
    }
    let by_start = |a: &&WaterfallSpan, b: &&WaterfallSpan| a.start.cmp(&b.start);
    roots.sort_by(by_start);
    for list in children.values_mut() {
        list.sort_by(by_start);
    }
    let mut stack: Vec<(&WaterfallSpan, usize)> = roots.into_iter().rev().map(|s| (s, 0)).collect();
    while let Some((span, depth)) = stack.pop() {
        line(&mut out, span, depth, t0, total);
        if let Some(kids) = children.get(&span.span_id) {
            for kid in kids.iter().rev() {
                stack.push((kid, depth + 1));
            }
        }
    }
    out
}

fn line(out: &mut String, s: &WaterfallSpan, depth: usize, t0: SystemTime, total: Duration) {
    let total_ns = total.as_nanos().max(1);
    let offset = (since(t0, s.start).as_nanos() * BAR_WIDTH as u128 / total_ns) as usize;
    let dur = since(s.start, s.end);
    let len = ((dur.as_nanos() * BAR_WIDTH as u128).div_ceil(total_ns) as usize).max(1);
    let offset = offset.min(BAR_WIDTH - 1);
    let len = len.min(BAR_WIDTH - offset);
    let bar = format!(
        "{}{}{}",
        " ".repeat(offset),
        "█".repeat(len),
        " ".repeat(BAR_WIDTH - offset - len)
    );
    let status = match &s.status {
        Status::Error { .. } => "ERROR",
        Status::Ok => "ok",
        Status::Unset => "-",
    };
    let name = format!("{}{}", "  ".repeat(depth), s.name);
    let _ = write!(
        out,
        "{} {} {} {:>9.3} ms |{}| {:<5}",
        fit(&s.service, 8),
        fit(kind_label(&s.kind), 8),
        fit(&name, NAME_WIDTH),
        dur.as_secs_f64() * 1e3,
        bar,
        status
    );
    for (k, v) in &s.attributes {
        let _ = write!(out, " {k}={}", fit(v, 80).trim_end());
    }
    out.push('\n');
}

/// Collects spans from one or more services and prints each trace when its local root ends.
pub struct WaterfallSink {
    pending: Mutex<Pending>,
    out: Mutex<Box<dyn Write + Send>>,
}

#[derive(Default)]
struct Pending {
    traces: HashMap<TraceId, Vec<WaterfallSpan>>,
    order: std::collections::VecDeque<TraceId>,
}

impl std::fmt::Debug for WaterfallSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WaterfallSink")
    }
}

impl WaterfallSink {
    /// A sink printing to stdout.
    pub fn stdout() -> Arc<Self> {
        Self::new(Box::new(std::io::stdout()))
    }

    /// A sink printing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Arc<Self> {
        Arc::new(WaterfallSink {
            pending: Mutex::new(Pending::default()),
            out: Mutex::new(out),
        })
    }

    /// An exporter for one service feeding this sink.
    pub fn exporter(self: &Arc<Self>, service: impl Into<String>) -> WaterfallExporter {
        WaterfallExporter {
            service: service.into(),
            sink: Arc::clone(self),
        }
    }

    /// Prints the traces whose local root never arrived (e.g. a span that ended after its
    /// root), so nothing is lost at exit.
    pub fn flush_pending(&self) {
        let leftovers: Vec<Vec<WaterfallSpan>> = match self.pending.lock() {
            Ok(mut p) => {
                p.order.clear();
                p.traces.drain().map(|(_, v)| v).collect()
            }
            Err(_) => return,
        };
        self.print(leftovers);
    }

    fn print(&self, traces: Vec<Vec<WaterfallSpan>>) {
        if traces.is_empty() {
            return;
        }
        if let Ok(mut out) = self.out.lock() {
            for t in traces {
                let _ = writeln!(out, "{}", render(&t));
            }
            let _ = out.flush();
        }
    }

    fn accept(&self, spans: Vec<WaterfallSpan>) {
        let mut done = Vec::new();
        if let Ok(mut p) = self.pending.lock() {
            for s in spans {
                let root = s.parent_id == SpanId::INVALID;
                let id = s.trace_id;
                if !p.traces.contains_key(&id) {
                    p.order.push_back(id);
                }
                p.traces.entry(id).or_default().push(s);
                if root {
                    if let Some(t) = p.traces.remove(&id) {
                        done.push(t);
                    }
                    p.order.retain(|x| *x != id);
                }
            }
            while p.order.len() > MAX_PENDING_TRACES {
                if let Some(old) = p.order.pop_front() {
                    p.traces.remove(&old);
                }
            }
        }
        self.print(done);
    }
}

/// Span exporter of one service into a [`WaterfallSink`].
#[derive(Debug)]
pub struct WaterfallExporter {
    service: String,
    sink: Arc<WaterfallSink>,
}

impl SpanExporter for WaterfallExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch
            .iter()
            .map(|s| WaterfallSpan::from_span_data(&self.service, s))
            .collect();
        self.sink.accept(spans);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(
        service: &str,
        (id, parent): (u64, u64),
        kind: SpanKind,
        name: &str,
        (start_ms, end_ms): (u64, u64),
        status: Status,
        attrs: &[(&str, &str)],
    ) -> WaterfallSpan {
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        WaterfallSpan {
            service: service.into(),
            trace_id: TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736u128),
            span_id: SpanId::from(id),
            parent_id: if parent == 0 {
                SpanId::INVALID
            } else {
                SpanId::from(parent)
            },
            kind,
            name: name.into(),
            start: base + Duration::from_millis(start_ms),
            end: base + Duration::from_millis(end_ms),
            status,
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn renders_a_fixed_trace_exactly() {
        let spans = vec![
            span(
                "message",
                (4, 3),
                SpanKind::Server,
                "message.v1.Message/Post",
                (6, 22),
                Status::Unset,
                &[
                    ("rpc.method", "message.v1.Message/Post"),
                    ("rpc.response.status_code", "OK"),
                ],
            ),
            span(
                "user",
                (1, 0),
                SpanKind::Server,
                "POST /users/{id}/messages",
                (0, 24),
                Status::Unset,
                &[
                    ("http.route", "/users/{id}/messages"),
                    ("http.response.status_code", "201"),
                ],
            ),
            span(
                "user",
                (2, 1),
                SpanKind::Client,
                "SELECT users",
                (1, 4),
                Status::Unset,
                &[("db.query.text", "SELECT id, name FROM users WHERE id = ?")],
            ),
            span(
                "user",
                (3, 1),
                SpanKind::Client,
                "message.v1.Message/Post",
                (5, 23),
                Status::Unset,
                &[],
            ),
            span(
                "message",
                (5, 4),
                SpanKind::Client,
                "insert messages",
                (8, 20),
                Status::error("E11000"),
                &[
                    (
                        "db.query.text",
                        "{\"insert\":\"messages\",\"documents\":[?]}",
                    ),
                    ("error.type", "11000"),
                ],
            ),
        ];
        let expected = "\
trace 4bf92f3577b34da6a3ce929d0e0e4736 · 5 spans · 24.000 ms
user     server   POST /users/{id}/messages             24.000 ms |████████████████████████| -     http.route=/users/{id}/messages http.response.status_code=201
user     client     SELECT users                         3.000 ms | ███                    | -     db.query.text=SELECT id, name FROM users WHERE id = ?
user     client     message.v1.Message/Post             18.000 ms |     ██████████████████ | -    
message  server       message.v1.Message/Post           16.000 ms |      ████████████████  | -     rpc.method=message.v1.Message/Post rpc.response.status_code=OK
message  client         insert messages                 12.000 ms |        ████████████    | ERROR db.query.text={\"insert\":\"messages\",\"documents\":[?]} error.type=11000
";
        assert_eq!(render(&spans), expected);
    }

    #[test]
    fn long_names_are_cut_and_orphans_become_roots() {
        let long = "x".repeat(60);
        let spans = vec![span(
            "svc",
            (7, 99),
            SpanKind::Internal,
            &long,
            (0, 1),
            Status::Unset,
            &[],
        )];
        let out = render(&spans);
        assert!(
            out.contains(&format!("{}…", "x".repeat(NAME_WIDTH - 1))),
            "{out}"
        );
        assert_eq!(out.lines().count(), 2);
    }

    #[test]
    fn sink_prints_when_the_root_arrives() {
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let sink = WaterfallSink::new(Box::new(buf.clone()));
        sink.accept(vec![span(
            "a",
            (2, 1),
            SpanKind::Client,
            "child",
            (1, 2),
            Status::Unset,
            &[],
        )]);
        assert!(buf.0.lock().unwrap().is_empty());
        sink.accept(vec![span(
            "a",
            (1, 0),
            SpanKind::Server,
            "root",
            (0, 3),
            Status::Unset,
            &[],
        )]);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("root") && text.contains("  child"), "{text}");
    }
}
