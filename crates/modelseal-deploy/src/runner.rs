//! Pipelined image processing: decoding and pre-processing on worker threads, inference on its
//! own thread, post-processing on the caller's thread, all overlapped; results come back in
//! input order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::error::{Error, Result};
use crate::image::{read_image, Mat};
use crate::postprocess::Prediction;
use crate::predictor::{PostProcessor, Predictor, RawOutput};
use crate::transforms::Prepared;

/// What the callback wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next image.
    Continue,
    /// Stop (e.g. the output pipe closed).
    Stop,
}

/// Default number of decode workers: the available cores, at most 4.
pub fn default_decode_threads() -> usize {
    available_cores().clamp(1, 4)
}

/// [`run_pipelined_with`] with [`default_decode_threads`] workers.
pub fn run_pipelined(
    pred: &mut Predictor,
    paths: &[PathBuf],
    batch_size: usize,
    on_result: impl FnMut(&Path, Result<(Mat, Prediction)>) -> Flow,
) {
    run_pipelined_with(pred, paths, batch_size, default_decode_threads(), on_result)
}

type Decoded = (usize, PathBuf, Result<(Mat, Prepared)>);

fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Decoded images waiting for inference, and whether inference has finished.
#[derive(Default)]
struct Queue {
    ready: AtomicUsize,
    done: AtomicBool,
}

impl Queue {
    /// Blocks while inference has images waiting; false once inference has finished.
    fn wait_until_starved(&self) -> bool {
        while self.ready.load(Ordering::SeqCst) > 0 {
            if self.done.load(Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        !self.done.load(Ordering::SeqCst)
    }
}

/// What the inference thread hands to the caller's thread, in input order.
enum Event {
    /// An image that failed before inference (read, decode, transform).
    Failed(PathBuf, Error),
    /// A batch after inference: per image, its path, image and pre-processing record, with the
    /// raw outputs, or the inference error shared by the batch.
    Inferred {
        items: Vec<(PathBuf, Mat)>,
        preps: Vec<Prepared>,
        raw: std::result::Result<Vec<RawOutput>, String>,
    },
}

/// Runs `pred` over `paths` in three overlapped stages: `decode_threads` workers decode and
/// pre-process, one thread infers in batches of `batch_size`, and the caller's thread
/// post-processes and calls `on_result`. `on_result` gets, in input order, each image's path
/// with the decoded image and its prediction, or the error for that image (decode, transform,
/// inference or post-processing). Each stage runs at most a few images ahead (bounded queues);
/// [`Flow::Stop`] stops all of them.
pub fn run_pipelined_with(
    pred: &mut Predictor,
    paths: &[PathBuf],
    batch_size: usize,
    decode_threads: usize,
    mut on_result: impl FnMut(&Path, Result<(Mat, Prediction)>) -> Flow,
) {
    let batch_size = batch_size.max(1);
    let workers_n = decode_threads.max(1).min(paths.len().max(1));
    // Workers beyond the cores the backend leaves free only decode while inference would
    // otherwise wait: with cheap images they would just take the backend's cores.
    let cores = available_cores();
    let always_on = cores
        .saturating_sub(pred.intra_threads().unwrap_or(cores))
        .clamp(1, workers_n);
    let (tx, rx) = mpsc::sync_channel::<Decoded>(2 * batch_size + workers_n);
    let (etx, erx) = mpsc::sync_channel::<Event>(2);
    let next = AtomicUsize::new(0);
    let queue = Queue::default();
    let post = pred.postprocessor();
    let pipeline = pred.config().pipeline.clone();
    let backend = pred.backend_name();
    std::thread::scope(|s| {
        for w in 0..workers_n {
            let (tx, next, pipeline, queue) = (tx.clone(), &next, &pipeline, &queue);
            s.spawn(move || loop {
                if w >= always_on && !queue.wait_until_starved() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = paths.get(i) else { break };
                let r = read_image(p).and_then(|m| pipeline.run(&m).map(|prep| (m, prep)));
                queue.ready.fetch_add(1, Ordering::SeqCst);
                if tx.send((i, p.clone(), r)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let queue = &queue;
        s.spawn(move || {
            infer_stage(pred, paths.len(), batch_size, rx, etx, &queue.ready);
            queue.done.store(true, Ordering::SeqCst);
        });
        for event in erx {
            if deliver(event, &post, backend, &mut on_result) == Flow::Stop {
                break; // dropping `erx` stops the inference thread, which stops the workers
            }
        }
    });
}

/// The inference thread: takes decoded images in input order, infers them in batches, and
/// passes everything on in input order. Returns when done or when the caller stopped.
fn infer_stage(
    pred: &mut Predictor,
    total: usize,
    batch_size: usize,
    rx: mpsc::Receiver<Decoded>,
    etx: mpsc::SyncSender<Event>,
    ready: &AtomicUsize,
) {
    let mut reorder: BTreeMap<usize, (PathBuf, Result<(Mat, Prepared)>)> = BTreeMap::new();
    let mut batch: Vec<(PathBuf, Mat, Prepared)> = Vec::with_capacity(batch_size);
    let flush = |pred: &mut Predictor, batch: &mut Vec<(PathBuf, Mat, Prepared)>| {
        let (items, preps): (Vec<(PathBuf, Mat)>, Vec<Prepared>) =
            batch.drain(..).map(|(p, m, prep)| ((p, m), prep)).unzip();
        let raw = pred.infer_raw(&preps).map_err(|e| e.to_string());
        etx.send(Event::Inferred { items, preps, raw }).is_ok()
    };
    for want in 0..total {
        let (p, r) = loop {
            if let Some(item) = reorder.remove(&want) {
                ready.fetch_sub(1, Ordering::SeqCst);
                break item;
            }
            match rx.recv() {
                Ok((i, p, r)) => {
                    reorder.insert(i, (p, r));
                }
                Err(_) => return,
            }
        };
        let go_on = match r {
            Ok((m, prep)) => {
                batch.push((p, m, prep));
                batch.len() < batch_size || flush(pred, &mut batch)
            }
            // Keep input order: the images before this one are inferred and reported first.
            Err(e) => {
                (batch.is_empty() || flush(pred, &mut batch))
                    && etx.send(Event::Failed(p, e)).is_ok()
            }
        };
        if !go_on {
            return;
        }
    }
    if !batch.is_empty() {
        flush(pred, &mut batch);
    }
}

/// Post-processes one event on the caller's thread and hands out its results.
fn deliver(
    event: Event,
    post: &PostProcessor,
    backend: &'static str,
    on_result: &mut impl FnMut(&Path, Result<(Mat, Prediction)>) -> Flow,
) -> Flow {
    match event {
        Event::Failed(p, e) => on_result(&p, Err(e)),
        Event::Inferred {
            items,
            preps,
            raw: Ok(raw),
        } => {
            for (((p, m), prep), r) in items.into_iter().zip(&preps).zip(raw) {
                let res = post.run(&r, prep).map(|pr| (m, pr));
                if on_result(&p, res) == Flow::Stop {
                    return Flow::Stop;
                }
            }
            Flow::Continue
        }
        Event::Inferred {
            items,
            raw: Err(msg),
            ..
        } => {
            for (p, _) in items {
                let err = Error::Backend {
                    backend,
                    message: msg.clone(),
                };
                if on_result(&p, Err(err)) == Flow::Stop {
                    return Flow::Stop;
                }
            }
            Flow::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_decode_threads_is_bounded() {
        let n = super::default_decode_threads();
        assert!((1..=4).contains(&n));
    }
}
