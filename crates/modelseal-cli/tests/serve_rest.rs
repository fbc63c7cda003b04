//! `modelseal serve` over REST on the committed tiny segmentation model with the tract backend
//! (no ONNX Runtime, no Python): health, metadata, inference with JSON and binary tensors,
//! protocol errors, metrics and SIGTERM.

mod support;

use serde_json::{json, Value};
use support::serve::{bmp, image_request, seg_model, Server};

#[test]
fn a_plain_model_is_served_over_rest_with_json_and_binary_tensors() {
    let dir = seg_model();
    let s = Server::start(
        &[
            "--model",
            &format!("seg={}", dir.display()),
            "--max-body-bytes",
            "200000",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(
        s.json("GET", "/v2/health/live", &Value::Null),
        (200, json!({"live": true}))
    );
    assert_eq!(
        s.json("GET", "/v2/health/ready", &Value::Null),
        (200, json!({"ready": true}))
    );
    let (st, md) = s.json("GET", "/v2", &Value::Null);
    assert_eq!(st, 200);
    assert_eq!(md["name"], "modelseal");
    let (st, md) = s.json("GET", "/v2/models/seg", &Value::Null);
    assert_eq!(st, 200);
    assert_eq!(
        md["inputs"],
        json!([{"name": "image", "datatype": "BYTES", "shape": [-1]}])
    );
    assert_eq!(md["outputs"][0]["name"], "label_map");
    assert_eq!(md["versions"], json!(["1"]));
    let (st, raw) = s.json("GET", "/v2/models/seg-raw/versions/1", &Value::Null);
    assert_eq!(st, 200);
    assert!(raw["platform"].as_str().unwrap().starts_with("tract"));
    assert_eq!(s.json("GET", "/v2/models/seg/ready", &Value::Null).0, 200);
    assert_eq!(
        s.json("GET", "/v2/models/seg/versions/2/ready", &Value::Null)
            .0,
        404
    );

    // JSON: images as base64 text; the label map comes back at the original size.
    let (w, h) = (30u32, 20u32);
    let img = bmp(w, h);
    let (st, out) = s.json(
        "POST",
        "/v2/models/seg/infer",
        &image_request(&[img.clone(), img.clone()]),
    );
    assert_eq!(st, 200, "{out}");
    let o = &out["outputs"][0];
    assert_eq!(o["name"], "label_map");
    assert_eq!(o["datatype"], "UINT8");
    assert_eq!(o["shape"], json!([2, h, w]));
    let labels: Vec<u64> = o["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(labels.len(), (2 * w * h) as usize);
    assert_eq!(labels[..(w * h) as usize], labels[(w * h) as usize..]);

    // Binary: the same image as raw bytes, the answer as binary too.
    let header = json!({
        "parameters": {"binary_data_output": true},
        "inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": img.len() + 4}}]
    })
    .to_string();
    let mut body = header.clone().into_bytes();
    body.extend_from_slice(&(img.len() as u32).to_le_bytes());
    body.extend_from_slice(&img);
    let (st, hdrs, out) = s.http(
        "POST",
        "/v2/models/seg/infer",
        &[("inference-header-content-length", header.len().to_string())],
        &body,
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&out));
    let n: usize = hdrs
        .iter()
        .find(|(k, _)| k == "inference-header-content-length")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let head: Value = serde_json::from_slice(&out[..n]).unwrap();
    assert_eq!(head["outputs"][0]["parameters"]["binary_data_size"], w * h);
    let bin: Vec<u64> = out[n..].iter().map(|&b| b as u64).collect();
    assert_eq!(bin, labels[..(w * h) as usize]);

    // Errors in the protocol's form, and the server keeps serving.
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("/v2/models/seg/infer", b"{oops".to_vec(), 400),
        ("/v2/models/seg/infer", json!({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1], "data": [1.0]}]}).to_string().into_bytes(), 400),
        ("/v2/models/seg/infer", json!({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1, 1], "data": ["aGk="]}]}).to_string().into_bytes(), 400),
        ("/v2/models/seg/infer", image_request(&[b"not an image".to_vec()]).to_string().into_bytes(), 400),
        ("/v2/models/seg/infer", image_request(&[bmp(4, 4), bmp(5, 4)]).to_string().into_bytes(), 400),
        ("/v2/models/nope/infer", image_request(std::slice::from_ref(&img)).to_string().into_bytes(), 404),
        ("/v2/models/seg/versions/9/infer", image_request(std::slice::from_ref(&img)).to_string().into_bytes(), 404),
        ("/v2/models/seg/infer", vec![b' '; 300_000], 413),
    ];
    for (path, body, want) in cases {
        let (st, _, out) = s.http(
            "POST",
            path,
            &[("content-type", "application/json".into())],
            &body,
        );
        assert_eq!(st, want, "{path}: {}", String::from_utf8_lossy(&out));
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
        assert_eq!(
            s.json(
                "POST",
                "/v2/models/seg/infer",
                &image_request(std::slice::from_ref(&img))
            )
            .0,
            200
        );
    }
    let (st, _, m) = s.http("GET", "/metrics", &[], b"");
    assert_eq!(st, 200);
    let m = String::from_utf8(m).unwrap();
    assert!(
        m.contains("modelseal_requests_total{model=\"seg\",protocol=\"rest\",outcome=\"success\"}"),
        "{m}"
    );
    assert!(m.contains("outcome=\"too_large\""), "{m}");
    assert!(m.contains("modelseal_batch_size_count{model=\"seg\"}"));

    let (code, stopped) = s.stop();
    assert_eq!(code, 0);
    assert_eq!(stopped["accepted"], stopped["answered"], "{stopped}");
}
