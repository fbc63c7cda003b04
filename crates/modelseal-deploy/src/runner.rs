//! Pipelined image processing: decoding and pre-processing on a worker thread, overlapped with
//! inference on the caller's thread; results come back in input order.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

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

/// Runs `pred` over `paths`: one worker thread decodes and pre-processes while the caller's
/// thread infers in batches of `batch_size`. `on_result` gets each image's path, the decoded
/// image and its prediction, or the error for that image (decode, transform or inference).
pub fn run_pipelined(
    pred: &mut Predictor,
    paths: &[PathBuf],
    batch_size: usize,
    mut on_result: impl FnMut(&Path, Result<(Mat, Prediction)>) -> Flow,
) {
    let batch_size = batch_size.max(1);
    let pipeline = pred.config().pipeline.clone();
    let (tx, rx) = mpsc::sync_channel::<(PathBuf, Result<(Mat, Prepared)>)>(2 * batch_size);
    let worker_paths = paths.to_vec();
    let worker = std::thread::spawn(move || {
        for p in worker_paths {
            let r = read_image(&p).and_then(|m| pipeline.run(&m).map(|prep| (m, prep)));
            if tx.send((p, r)).is_err() {
                break;
            }
        }
    });
    let mut batch: Vec<(PathBuf, Mat, Prepared)> = Vec::with_capacity(batch_size);
    let mut stopped = false;
    loop {
        let next = rx.recv().ok();
        let done = next.is_none();
        if let Some((p, r)) = next {
            match r {
                Ok((m, prep)) => batch.push((p, m, prep)),
                Err(e) => {
                    if on_result(&p, Err(e)) == Flow::Stop {
                        stopped = true;
                    }
                }
            }
        }
        if !stopped && (batch.len() >= batch_size || (done && !batch.is_empty())) {
            let (items, preps): (Vec<(PathBuf, Mat)>, Vec<Prepared>) =
                batch.drain(..).map(|(p, m, prep)| ((p, m), prep)).unzip();
            match pred.infer(&preps) {
                Ok(preds) => {
                    for ((p, m), pr) in items.into_iter().zip(preds) {
                        if on_result(&p, Ok((m, pr))) == Flow::Stop {
                            stopped = true;
                            break;
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
                            stopped = true;
                            break;
                        }
                    }
                }
            }
        }
        if done || stopped {
            break;
        }
    }
    drop(rx);
    let _ = worker.join();
}
