//! Pipelined image processing: decoding and pre-processing on worker threads, overlapped with
//! inference on the caller's thread; results come back in input order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use crate::error::Result;
use crate::image::{read_image, Mat};
use crate::postprocess::Prediction;
use crate::predictor::Predictor;
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
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
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

/// Runs `pred` over `paths`: `decode_threads` workers decode and pre-process while the
/// caller's thread infers in batches of `batch_size`. `on_result` gets, in input order, each
/// image's path with the decoded image and its prediction, or the error for that image (decode,
/// transform or inference). Workers run at most a few images ahead (bounded queue).
pub fn run_pipelined_with(
    pred: &mut Predictor,
    paths: &[PathBuf],
    batch_size: usize,
    decode_threads: usize,
    mut on_result: impl FnMut(&Path, Result<(Mat, Prediction)>) -> Flow,
) {
    let batch_size = batch_size.max(1);
    let workers_n = decode_threads.max(1).min(paths.len().max(1));
    let (tx, rx) = mpsc::sync_channel::<Decoded>(2 * batch_size + workers_n);
    let next = Arc::new(AtomicUsize::new(0));
    let shared_paths: Arc<Vec<PathBuf>> = Arc::new(paths.to_vec());
    let mut workers = Vec::with_capacity(workers_n);
    for _ in 0..workers_n {
        let (tx, next, paths, pipeline) = (
            tx.clone(),
            next.clone(),
            shared_paths.clone(),
            pred.config().pipeline.clone(),
        );
        workers.push(std::thread::spawn(move || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(p) = paths.get(i) else { break };
            let r = read_image(p).and_then(|m| pipeline.run(&m).map(|prep| (m, prep)));
            if tx.send((i, p.clone(), r)).is_err() {
                break;
            }
        }));
    }
    drop(tx);
    let mut reorder: BTreeMap<usize, (PathBuf, Result<(Mat, Prepared)>)> = BTreeMap::new();
    let mut want = 0usize;
    let mut batch: Vec<(PathBuf, Mat, Prepared)> = Vec::with_capacity(batch_size);
    let mut stopped = false;
    'outer: while want < paths.len() && !stopped {
        // Collect the next image in input order.
        let (p, r) = loop {
            if let Some(item) = reorder.remove(&want) {
                break item;
            }
            match rx.recv() {
                Ok((i, p, r)) => {
                    reorder.insert(i, (p, r));
                }
                Err(_) => break 'outer,
            }
        };
        want += 1;
        match r {
            Ok((m, prep)) => batch.push((p, m, prep)),
            Err(e) => {
                // Keep input order: the images before this one are inferred and reported first.
                let flushed_stop =
                    !batch.is_empty() && infer_batch(pred, &mut batch, &mut on_result);
                stopped = flushed_stop || on_result(&p, Err(e)) == Flow::Stop;
            }
        }
        let last = want == paths.len();
        if !stopped && (batch.len() >= batch_size || (last && !batch.is_empty())) {
            stopped = infer_batch(pred, &mut batch, &mut on_result);
        }
    }
    if !stopped && !batch.is_empty() {
        infer_batch(pred, &mut batch, &mut on_result);
    }
    drop(rx);
    for w in workers {
        let _ = w.join();
    }
}

/// Infers one batch and hands out its results; returns whether the callback asked to stop.
fn infer_batch(
    pred: &mut Predictor,
    batch: &mut Vec<(PathBuf, Mat, Prepared)>,
    on_result: &mut impl FnMut(&Path, Result<(Mat, Prediction)>) -> Flow,
) -> bool {
    let (items, preps): (Vec<(PathBuf, Mat)>, Vec<Prepared>) =
        batch.drain(..).map(|(p, m, prep)| ((p, m), prep)).unzip();
    match pred.infer(&preps) {
        Ok(preds) => {
            for ((p, m), pr) in items.into_iter().zip(preds) {
                if on_result(&p, Ok((m, pr))) == Flow::Stop {
                    return true;
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for (p, _) in items {
                let err = crate::error::Error::Backend {
                    backend: pred.backend_name(),
                    message: msg.clone(),
                };
                if on_result(&p, Err(err)) == Flow::Stop {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_decode_threads_is_bounded() {
        let n = super::default_decode_threads();
        assert!((1..=4).contains(&n));
    }
}
