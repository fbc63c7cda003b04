//! Prometheus metrics in the text exposition format: requests by model, protocol and outcome,
//! latency histograms (whole request, queue wait, compute) and batch sizes per model.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Latency buckets in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Batch size buckets (images).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// A cumulative histogram with fixed buckets.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    count: AtomicU64,
    /// Sum in millionths of the unit.
    sum_micro: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micro: AtomicU64::new(0),
        }
    }

    /// Records one value.
    pub fn observe(&self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|&b| v <= b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micro
            .fetch_add((v.max(0.0) * 1e6) as u64, Ordering::Relaxed);
    }

    /// Records a duration in seconds.
    pub fn observe_duration(&self, d: Duration) {
        self.observe(d.as_secs_f64());
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cum = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cum += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{b}\"}} {cum}");
        }
        let count = self.count();
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let sum = self.sum_micro.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

/// Metrics of one model.
#[derive(Debug)]
pub struct ModelMetrics {
    /// Whole request, from arrival to the answer being ready.
    pub request: Histogram,
    /// Time a job waited in the batching queue.
    pub queue: Histogram,
    /// Time of one inference call (a batch).
    pub compute: Histogram,
    /// Images per inference call.
    pub batch: Histogram,
}

impl ModelMetrics {
    fn new() -> ModelMetrics {
        ModelMetrics {
            request: Histogram::new(LATENCY_BUCKETS),
            queue: Histogram::new(LATENCY_BUCKETS),
            compute: Histogram::new(LATENCY_BUCKETS),
            batch: Histogram::new(BATCH_BUCKETS),
        }
    }
}

/// All metrics of the server.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, &'static str, &'static str), u64>>,
    models: BTreeMap<String, ModelMetrics>,
}

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Metrics for the given model names.
    pub fn new<'a>(models: impl IntoIterator<Item = &'a str>) -> Metrics {
        Metrics {
            requests: Mutex::new(BTreeMap::new()),
            models: models
                .into_iter()
                .map(|m| (m.to_string(), ModelMetrics::new()))
                .collect(),
        }
    }

    /// Counts one request to `model` (`""` when no model was named) over `protocol` (`rest` or
    /// `grpc`) with `outcome` (`success`, `bad_request`, `not_found`, ...).
    pub fn count_request(&self, model: &str, protocol: &'static str, outcome: &'static str) {
        let mut m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry((model.to_string(), protocol, outcome)).or_insert(0) += 1;
    }

    /// The count of requests for (`model`, `protocol`, `outcome`).
    pub fn requests(&self, model: &str, protocol: &'static str, outcome: &'static str) -> u64 {
        let m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&(model.to_string(), protocol, outcome))
            .copied()
            .unwrap_or(0)
    }

    /// Metrics of one model.
    pub fn model(&self, name: &str) -> Option<&ModelMetrics> {
        self.models.get(name)
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP modelseal_requests_total Inference requests by model, protocol and outcome.\n",
        );
        out.push_str("# TYPE modelseal_requests_total counter\n");
        {
            let m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            for ((model, protocol, outcome), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "modelseal_requests_total{{model=\"{}\",protocol=\"{protocol}\",outcome=\"{outcome}\"}} {n}",
                    label(model)
                );
            }
        }
        type Family = (&'static str, &'static str, fn(&ModelMetrics) -> &Histogram);
        let families: [Family; 4] = [
            (
                "modelseal_request_duration_seconds",
                "Time from a request's arrival to its answer.",
                |m| &m.request,
            ),
            (
                "modelseal_queue_duration_seconds",
                "Time a request waited in the batching queue.",
                |m| &m.queue,
            ),
            (
                "modelseal_compute_duration_seconds",
                "Time of one inference call (one batch).",
                |m| &m.compute,
            ),
            ("modelseal_batch_size", "Images per inference call.", |m| {
                &m.batch
            }),
        ];
        for (name, help, get) in families {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} histogram");
            for (model, m) in &self.models {
                get(m).render(&mut out, name, &format!("model=\"{}\"", label(model)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn histograms_are_cumulative_with_inf_sum_and_count() {
        let m = Metrics::new(["cls"]);
        let h = &m.model("cls").unwrap().batch;
        for v in [1.0, 3.0, 3.0, 500.0] {
            h.observe(v);
        }
        let text = m.render();
        assert!(
            text.contains("modelseal_batch_size_bucket{model=\"cls\",le=\"1\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("modelseal_batch_size_bucket{model=\"cls\",le=\"2\"} 1\n"));
        assert!(text.contains("modelseal_batch_size_bucket{model=\"cls\",le=\"4\"} 3\n"));
        assert!(text.contains("modelseal_batch_size_bucket{model=\"cls\",le=\"128\"} 3\n"));
        assert!(text.contains("modelseal_batch_size_bucket{model=\"cls\",le=\"+Inf\"} 4\n"));
        assert!(text.contains("modelseal_batch_size_sum{model=\"cls\"} 507\n"));
        assert!(text.contains("modelseal_batch_size_count{model=\"cls\"} 4\n"));
    }

    #[test]
    fn requests_are_counted_by_model_protocol_and_outcome() {
        let m = Metrics::new(["cls"]);
        m.count_request("cls", "rest", "success");
        m.count_request("cls", "rest", "success");
        m.count_request("cls", "grpc", "bad_request");
        m.count_request("nope", "rest", "not_found");
        assert_eq!(m.requests("cls", "rest", "success"), 2);
        assert_eq!(m.requests("cls", "rest", "bad_request"), 0);
        let text = m.render();
        assert!(text.contains(
            "modelseal_requests_total{model=\"cls\",protocol=\"rest\",outcome=\"success\"} 2\n"
        ));
        assert!(text.contains(
            "modelseal_requests_total{model=\"cls\",protocol=\"grpc\",outcome=\"bad_request\"} 1\n"
        ));
        assert!(text.contains("# TYPE modelseal_queue_duration_seconds histogram\n"));
        // Every sample line is `name{labels} value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, v) = line.rsplit_once(' ').unwrap();
            v.parse::<f64>().unwrap();
        }
    }
}
