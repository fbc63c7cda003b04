//! gRPC `UNAVAILABLE`: the service over a real served model (the committed tiny segmentation
//! model on tract) answers `UNAVAILABLE` when the model's queue is full and when the server is
//! shutting down, counts it as `unavailable` under `grpc`, and serves again once a place frees.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use modelseal::OpenOptions;
use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::BackendOptions;
use modelseal_serve::app::App;
use modelseal_serve::batch::BatchPolicy;
use modelseal_serve::grpc::Service;
use modelseal_serve::metrics::Metrics;
use modelseal_serve::model::ServedModel;
use modelseal_serve::pb::inference as pb;
use modelseal_serve::pb::inference::grpc_inference_service_server::GrpcInferenceService;
use prost::bytes::Bytes;
use tonic::{Code, Request};

fn tiny_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../modelseal-deploy/tests/data/seg_argmax")
}

/// A 24-bit BMP of `w` x `h` pixels (a gradient), written by hand.
fn bmp(w: u32, h: u32) -> Vec<u8> {
    let row = (w * 3).div_ceil(4) * 4;
    let size = 54 + row * h;
    let mut b = Vec::with_capacity(size as usize);
    b.extend_from_slice(b"BM");
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&54u32.to_le_bytes());
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&(w as i32).to_le_bytes());
    b.extend_from_slice(&(h as i32).to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&24u16.to_le_bytes());
    b.extend_from_slice(&[0; 24]);
    for y in 0..h {
        for x in 0..w {
            b.extend_from_slice(&[(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8]);
        }
        b.resize(b.len() + (row - w * 3) as usize, 0);
    }
    b
}

/// The tiny model served as `seg` with at most `max_queue` requests held, decoded on one thread.
fn app(max_queue: usize) -> (Arc<App>, Arc<ServedModel>) {
    let opts = BackendOptions {
        kind: BackendKind::Tract,
        ..Default::default()
    };
    let pred = modelseal_serve::open_model(&tiny_model(), &OpenOptions::new(), &opts).unwrap();
    let metrics = Arc::new(Metrics::new(["seg"]));
    let policy = BatchPolicy {
        max_images: 4,
        delay: Duration::from_micros(100),
    };
    let model = ServedModel::start("seg", pred, policy, max_queue, metrics.clone()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let app = Arc::new(App::new(
        vec![model.clone()],
        Arc::new(pool),
        metrics,
        1 << 20,
    ));
    (app, model)
}

fn infer_request() -> pb::ModelInferRequest {
    pb::ModelInferRequest {
        model_name: "seg".into(),
        inputs: vec![pb::model_infer_request::InferInputTensor {
            name: "image".into(),
            datatype: "BYTES".into(),
            shape: vec![1],
            parameters: Default::default(),
            contents: Some(pb::InferTensorContents {
                bytes_contents: vec![Bytes::from(bmp(8, 6))],
                ..Default::default()
            }),
        }],
        ..Default::default()
    }
}

fn stop(model: &ServedModel) {
    model.close();
    model.join();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_unavailable_and_then_serves_again() {
    let (app, model) = app(1);
    // The only decoding thread waits: the first request is held while it is decoded.
    let (release, held) = std::sync::mpsc::channel::<()>();
    app.pool.spawn(move || {
        let _ = held.recv_timeout(Duration::from_secs(60));
    });
    let first = {
        let svc = Service::new(app.clone());
        tokio::spawn(async move { svc.model_infer(Request::new(infer_request())).await })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while model.in_flight() < 1 {
        assert!(
            Instant::now() < deadline,
            "the first request was not admitted"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let svc = Service::new(app.clone());
    let e = svc
        .model_infer(Request::new(infer_request()))
        .await
        .expect_err("the queue is full");
    assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    assert!(e.message().contains("too many requests"), "{e:?}");
    assert_eq!(app.metrics.requests("seg", "grpc", "unavailable"), 1);

    // The held request is answered; then there is room again.
    release.send(()).unwrap();
    let r = first.await.unwrap().expect("the held request is answered");
    assert_eq!(r.get_ref().outputs[0].name, "label_map");
    let r = svc
        .model_infer(Request::new(infer_request()))
        .await
        .expect("served again");
    assert_eq!(r.get_ref().outputs[0].shape, vec![1, 6, 8]);
    assert_eq!(app.metrics.requests("seg", "grpc", "success"), 2);
    stop(&model);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_shutting_down_answers_unavailable_and_is_not_ready() {
    let (app, model) = app(8);
    let svc = Service::new(app.clone());
    let ready = |name: &str| pb::ModelReadyRequest {
        name: name.into(),
        version: String::new(),
    };
    svc.model_infer(Request::new(infer_request()))
        .await
        .expect("served before the shutdown");
    assert!(
        svc.model_ready(Request::new(ready("seg")))
            .await
            .unwrap()
            .get_ref()
            .ready
    );

    app.begin_shutdown();
    for name in ["seg", "seg-raw"] {
        let mut req = infer_request();
        req.model_name = name.into();
        let e = svc
            .model_infer(Request::new(req))
            .await
            .expect_err("refused while shutting down");
        assert_eq!(e.code(), Code::Unavailable, "{name}: {e:?}");
        assert!(e.message().contains("shutting down"), "{e:?}");
    }
    assert_eq!(app.metrics.requests("seg", "grpc", "unavailable"), 1);
    assert_eq!(app.metrics.requests("seg-raw", "grpc", "unavailable"), 1);
    let r = svc
        .server_ready(Request::new(pb::ServerReadyRequest {}))
        .await
        .unwrap();
    assert!(!r.get_ref().ready);
    assert!(
        !svc.model_ready(Request::new(ready("seg")))
            .await
            .unwrap()
            .get_ref()
            .ready
    );
    // An unknown model is still NOT_FOUND.
    let mut req = infer_request();
    req.model_name = "nope".into();
    let e = svc.model_infer(Request::new(req)).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    stop(&model);
}
