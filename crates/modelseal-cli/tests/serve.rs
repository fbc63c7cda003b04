//! `modelseal serve` end to end on the committed tiny segmentation model with the tract backend
//! (no ONNX Runtime, no Python): start-up refusals and their exit codes, health, metadata of both
//! views, inference with JSON and binary tensors, protocol errors, metrics and SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use modelseal::{Key, SealOptions};
use serde_json::{json, Value};

mod support;

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

struct Server {
    child: Child,
    port: u16,
    events: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

/// `modelseal serve` on loopback with system-chosen ports and JSON logs, on `backend`, with no
/// key in its environment but what `envs` adds.
fn serve_command(backend: &str, args: &[&str], envs: &[(&str, &str)]) -> Command {
    serve_command_with(&[], backend, args, envs)
}

/// [`serve_command`] with `modelseal`'s global flags (`-v`, `-q`) before `serve`.
fn serve_command_with(
    global: &[&str],
    backend: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_modelseal"));
    cmd.args(global)
        .args([
            "serve",
            "--backend",
            backend,
            "--http-port",
            "0",
            "--grpc-port",
            "0",
            "--log-format",
            "json",
        ])
        .args(args)
        .env_remove("MODELSEAL_KEY")
        .env_remove("MODELSEAL_KEY_FILE")
        .env_remove("MODELSEAL_SEAL_ID")
        .env_remove("MODELSEAL_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

impl Server {
    /// A server on the tract backend.
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Result<Server, (i32, String)> {
        Server::launch(serve_command("tract", args, envs))
    }

    /// Starts `cmd` (a [`serve_command`]) and waits for its `listening` event; on failure, the
    /// exit code and the log.
    fn launch(mut cmd: Command) -> Result<Server, (i32, String)> {
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let v = serde_json::from_str(&line).unwrap_or(Value::String(line));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(v) => {
                    let listening = v["message"] == "listening";
                    seen.push(v);
                    if listening {
                        let port = seen.last().unwrap()["http_port"].as_u64().unwrap() as u16;
                        return Ok(Server {
                            child,
                            port,
                            events: rx,
                            seen,
                        });
                    }
                }
                Err(_) => {
                    let status = child.wait().unwrap();
                    let text: Vec<String> = seen.iter().map(|v| v.to_string()).collect();
                    return Err((status.code().unwrap_or(-1), text.join("\n")));
                }
            }
        }
    }

    fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        // A refused body may close the connection before it is all sent: that is fine here.
        let _ = s.write_all(body);
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header block");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let hdrs = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        (status, hdrs, raw[split + 4..].to_vec())
    }

    fn json(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let b = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let (status, _, out) = self.http(
            method,
            path,
            &[("content-type", "application/json".into())],
            &b,
        );
        (status, serde_json::from_slice(&out).unwrap_or(Value::Null))
    }

    /// The first log event (seen already or arriving within `timeout`) for which `pred` holds.
    fn wait_for(&mut self, pred: impl Fn(&Value) -> bool, timeout: Duration) -> Option<Value> {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return Some(v.clone());
        }
        let deadline = std::time::Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            let Ok(v) = self.events.recv_timeout(left) else {
                break;
            };
            self.seen.push(v.clone());
            if pred(&v) {
                return Some(v);
            }
        }
        None
    }

    /// SIGTERM, then the exit code and the `stopped` event.
    fn stop(self) -> (i32, Value) {
        let (code, log) = self.stop_with_log();
        let stopped = log
            .into_iter()
            .rfind(|v| v["message"] == "stopped")
            .unwrap_or(Value::Null);
        (code, stopped)
    }

    /// SIGTERM, then the exit code and every log event of the server, to its end.
    fn stop_with_log(mut self) -> (i32, Vec<Value>) {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        let mut log = std::mem::take(&mut self.seen);
        // The reader ends at the end of the server's stderr.
        while let Ok(v) = self.events.recv_timeout(Duration::from_secs(10)) {
            log.push(v);
        }
        (code, log)
    }
}

fn image_request(images: &[Vec<u8>]) -> Value {
    use base64::Engine;
    let data: Vec<String> = images
        .iter()
        .map(|i| base64::engine::general_purpose::STANDARD.encode(i))
        .collect();
    json!({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [images.len()], "data": data}]})
}

#[test]
fn a_plain_model_is_served_over_rest_with_json_and_binary_tensors() {
    let dir = tiny_model();
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

#[test]
fn a_sealed_model_needs_its_key_and_a_key_needs_a_sealed_model() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let key_file = tmp.path().join("key");
    std::fs::write(&key_file, key.to_base64().as_bytes()).unwrap();
    let wrong_file = tmp.path().join("wrong");
    std::fs::write(&wrong_file, Key::generate().unwrap().to_base64().as_bytes()).unwrap();
    let sealed = tmp.path().join("sealed");
    let src = modelseal::OpenOptions::new().open(&tiny_model()).unwrap();
    modelseal::seal_dir(&key, &src, &sealed, &SealOptions::default(), &|_| {}).unwrap();
    let model = format!("seg={}", sealed.display());
    let kf = key_file.display().to_string();

    let err =
        |args: &[&str], envs: &[(&str, &str)]| Server::start(args, envs).err().expect("refused");
    let (code, log) = err(
        &[
            "--model",
            &model,
            "--key-file",
            &wrong_file.display().to_string(),
        ],
        &[],
    );
    assert_eq!(code, 4, "{log}");
    let (code, log) = err(&["--model", &model], &[]);
    assert_eq!(code, 2, "{log}");
    let (code, log) = err(
        &[
            "--model",
            &format!("seg={}", tiny_model().display()),
            "--key-file",
            &kf,
        ],
        &[],
    );
    assert_eq!(code, 6, "{log}");
    // Another sealing pinned: integrity failure; a malformed pin: usage error.
    let (code, log) = err(
        &[
            "--model",
            &model,
            "--key-file",
            &kf,
            "--seal-id",
            &"ab".repeat(16),
        ],
        &[],
    );
    assert_eq!(code, 5, "{log}");
    let (code, log) = err(
        &["--model", &model, "--key-file", &kf, "--seal-id", "abc"],
        &[],
    );
    assert_eq!(code, 2, "{log}");
    let (code, _) = err(
        &[
            "--model",
            &model,
            "--key-file",
            &kf,
            "--max-batch-size",
            "0",
        ],
        &[],
    );
    assert_eq!(code, 2);

    // Tampered member: integrity failure.
    let tampered = tmp.path().join("tampered");
    std::fs::create_dir(&tampered).unwrap();
    for e in std::fs::read_dir(&sealed).unwrap() {
        let e = e.unwrap();
        let mut b = std::fs::read(e.path()).unwrap();
        if e.file_name() != modelseal::MANIFEST_NAME && b.len() > 200 {
            let i = b.len() - 20;
            b[i] ^= 1;
        }
        std::fs::write(tampered.join(e.file_name()), b).unwrap();
    }
    let (code, log) = err(
        &[
            "--model",
            &format!("seg={}", tampered.display()),
            "--key-file",
            &kf,
        ],
        &[],
    );
    assert_eq!(code, 5, "{log}");

    // The right key, from MODELSEAL_KEY_FILE; the key never reaches the log.
    let s = Server::start(&["--model", &model], &[("MODELSEAL_KEY_FILE", &kf)]).unwrap();
    let (st, out) = s.json("POST", "/v2/models/seg/infer", &image_request(&[bmp(8, 6)]));
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["outputs"][0]["shape"], json!([1, 6, 8]));
    let opened = s
        .seen
        .iter()
        .find(|v| v["message"] == "model opened and verified")
        .unwrap()
        .clone();
    assert_eq!(opened["sealed"], true);
    let key_text: String = (*key.to_base64()).clone();
    assert!(s.seen.iter().all(|v| !v.to_string().contains(&key_text)));
    let (code, stopped) = s.stop();
    assert_eq!(code, 0);
    assert_eq!(stopped["succeeded"], 1);
}

/// A deterministic FP32 tensor of `shape` with values in [-1, 1], as a raw-view JSON input.
fn fp32_input(name: &str, shape: &[usize]) -> (Value, Vec<f32>) {
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    (
        json!({"name": name, "datatype": "FP32", "shape": shape, "data": data}),
        data,
    )
}

/// The FP32 elements of an output in a JSON answer.
fn f32_data(v: &Value) -> Vec<f32> {
    v["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data in {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH`, else that of the `onnxruntime` package of
/// `$PYTHON` (default `python3`).
fn ort_library() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    let out = Command::new(python)
        .args([
            "-B",
            "-c",
            "import os, onnxruntime; print(os.path.dirname(onnxruntime.__file__))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let capi = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("capi");
    let mut libs: Vec<PathBuf> = std::fs::read_dir(capi)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    libs.sort();
    libs.pop()
}

/// Starts a server on ONNX Runtime, or `None` (a failure under CI) when its library is not found.
fn start_onnxruntime(args: &[&str]) -> Option<Server> {
    let lib = ort_library();
    if !support::need(
        lib.is_some(),
        "the ONNX Runtime library (ORT_DYLIB_PATH, or pip install onnxruntime==1.32.0)",
    ) {
        return None;
    }
    let lib = lib.unwrap().display().to_string();
    let s = Server::launch(serve_command(
        "onnxruntime",
        args,
        &[("ORT_DYLIB_PATH", &lib)],
    ));
    Some(s.unwrap_or_else(|(code, log)| panic!("onnxruntime server: exit {code}: {log}")))
}

#[test]
fn the_raw_view_on_tract_describes_the_models_tensors_and_runs_them_like_onnxruntime() {
    let Some(m) = support::models() else { return };
    let model = format!("cls={}", m.join("cls").display());
    let s = Server::start(&["--model", &model], &[]).unwrap();
    let (st, md) = s.json("GET", "/v2/models/cls-raw", &Value::Null);
    assert_eq!(st, 200, "{md}");
    assert_eq!(md["platform"], "tract_onnx");
    // Names, data types and shapes as the ONNX model declares them (free dimensions -1).
    assert_eq!(
        md["inputs"],
        json!([{"name": "x", "datatype": "FP32", "shape": [-1, 3, -1, -1]}])
    );
    assert_eq!(
        md["outputs"],
        json!([{"name": "save_infer_model/scale_0.tmp_1", "datatype": "FP32", "shape": [-1, 2]}])
    );
    // The same tensors run: two inputs of the configured size, and another size.
    let mut answers = Vec::new();
    for shape in [[2, 3, 48, 192], [1, 3, 32, 100]] {
        let (input, _) = fp32_input("x", &shape);
        let (st, out) = s.json(
            "POST",
            "/v2/models/cls-raw/infer",
            &json!({"inputs": [input]}),
        );
        assert_eq!(st, 200, "{out}");
        let o = &out["outputs"][0];
        assert_eq!(o["name"], "save_infer_model/scale_0.tmp_1");
        assert_eq!(o["datatype"], "FP32");
        assert_eq!(o["shape"], json!([shape[0], 2]));
        answers.push(f32_data(o));
    }
    // Requests that do not fit the declared tensors are refused, naming the problem.
    let (input, _) = fp32_input("x", &[1, 4, 48, 192]);
    let (st, out) = s.json(
        "POST",
        "/v2/models/cls-raw/infer",
        &json!({"inputs": [input]}),
    );
    assert_eq!(st, 400, "{out}");
    assert!(
        out["error"].as_str().unwrap().contains("[-1, 3, -1, -1]"),
        "{out}"
    );
    assert_eq!(s.stop().0, 0);

    // ONNX Runtime describes the same tensors and computes the same outputs.
    let Some(ort) = start_onnxruntime(&["--model", &model]) else {
        return;
    };
    let (st, ort_md) = ort.json("GET", "/v2/models/cls-raw", &Value::Null);
    assert_eq!(st, 200);
    assert_eq!(ort_md["platform"], "onnxruntime_onnx");
    assert_eq!(ort_md["inputs"], md["inputs"]);
    assert_eq!(ort_md["outputs"], md["outputs"]);
    for (shape, tract_out) in [[2, 3, 48, 192], [1, 3, 32, 100]].iter().zip(&answers) {
        let (input, _) = fp32_input("x", shape);
        let (st, out) = ort.json(
            "POST",
            "/v2/models/cls-raw/infer",
            &json!({"inputs": [input]}),
        );
        assert_eq!(st, 200, "{out}");
        let o = f32_data(&out["outputs"][0]);
        assert_eq!(o.len(), tract_out.len());
        for (a, b) in o.iter().zip(tract_out) {
            assert!(
                (a - b).abs() <= 1e-5,
                "onnxruntime {o:?} vs tract {tract_out:?}"
            );
        }
    }
    assert_eq!(ort.stop().0, 0);
}

#[test]
fn the_log_follows_rust_log_and_modelseal_log() {
    let model = format!("seg={}", tiny_model().display());
    let refused = |v: &Value| v["message"] == "request refused";
    let not_found = |s: &Server| {
        let (st, _) = s.json(
            "POST",
            "/v2/models/nope/infer",
            &image_request(&[bmp(4, 4)]),
        );
        assert_eq!(st, 404);
    };
    // RUST_LOG, and MODELSEAL_LOG as its alias: debug events (a refused request) are logged.
    for var in ["RUST_LOG", "MODELSEAL_LOG"] {
        let mut s = Server::start(&["--model", &model], &[(var, "modelseal_serve=debug")]).unwrap();
        not_found(&s);
        let ev = s.wait_for(refused, Duration::from_secs(20));
        assert!(
            ev.is_some_and(|e| e["status"] == 404),
            "{var}: {:?}",
            s.seen
        );
        assert_eq!(s.stop().0, 0);
    }
    // The global -vv of `modelseal` reaches the server (debug), unless RUST_LOG says otherwise.
    let mut s = Server::launch(serve_command_with(
        &["-vv"],
        "tract",
        &["--model", &model],
        &[],
    ))
    .unwrap();
    not_found(&s);
    let ev = s.wait_for(refused, Duration::from_secs(20));
    assert!(ev.is_some_and(|e| e["status"] == 404), "-vv: {:?}", s.seen);
    assert_eq!(s.stop().0, 0);
    let s = Server::launch(serve_command_with(
        &["-vv"],
        "tract",
        &["--model", &model],
        &[("RUST_LOG", "info")],
    ))
    .unwrap();
    not_found(&s);
    let (code, log) = s.stop_with_log();
    assert_eq!(code, 0);
    assert!(!log.iter().any(refused), "-vv under RUST_LOG=info: {log:?}");
    // By default, and when RUST_LOG (which comes first) says info: none, to the server's end.
    for envs in [
        vec![],
        vec![("RUST_LOG", "info"), ("MODELSEAL_LOG", "debug")],
    ] {
        let s = Server::start(&["--model", &model], &envs).unwrap();
        not_found(&s);
        let (code, log) = s.stop_with_log();
        assert_eq!(code, 0);
        let stopped = log.iter().find(|v| v["message"] == "stopped").unwrap();
        assert_eq!(stopped["accepted"], 1, "{envs:?}");
        assert!(!log.iter().any(refused), "{envs:?}: {log:?}");
    }
    // A filter that does not parse is named in a warning; the server runs at its default level.
    let mut s = Server::start(
        &["--model", &model],
        &[("RUST_LOG", "modelseal_serve=loud")],
    )
    .unwrap();
    let warned = s
        .wait_for(
            |v| v["message"] == "ignoring the log filter, which does not parse",
            Duration::from_secs(5),
        )
        .expect("a warning about RUST_LOG");
    assert_eq!(warned["variable"], "RUST_LOG");
    assert_eq!(warned["level"], "WARN");
    assert_eq!(s.stop().0, 0);
}

/// Runs `modelseal` with `args` (no key in its environment), asserting success; its stdout.
fn modelseal(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_modelseal"))
        .args(args)
        .env_remove("MODELSEAL_KEY")
        .env_remove("MODELSEAL_KEY_FILE")
        .env_remove("MODELSEAL_SEAL_ID")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "modelseal {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `modelseal classify --json --backend tract` on `images` with `dir` and `extra` flags: one
/// JSON object per image.
fn classify_json(dir: &Path, images: &[PathBuf], extra: &[&str]) -> Vec<Value> {
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("list.txt");
    let text: String = images
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect();
    std::fs::write(&list, text).unwrap();
    let save = tmp.path().join("out");
    let mut args = vec![
        "classify",
        "--model_dir",
        dir.to_str().unwrap(),
        "--image_list",
        list.to_str().unwrap(),
        "--json",
        "--backend",
        "tract",
        "--save_dir",
        save.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = modelseal(&args);
    let v: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v.len(), images.len(), "{out}");
    v
}

/// The server's classification of `images` (one request) equals the CLI's `cli` results.
fn assert_classifies_like_the_cli(s: &Server, model: &str, images: &[PathBuf], cli: &[Value]) {
    let files: Vec<Vec<u8>> = images.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let (st, out) = s.json(
        "POST",
        &format!("/v2/models/{model}/infer"),
        &image_request(&files),
    );
    assert_eq!(st, 200, "{model}: {out}");
    let by_name = |n: &str| {
        out["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == n)
            .unwrap_or_else(|| panic!("{model}: no output {n}: {out}"))["data"]
            .as_array()
            .unwrap()
            .clone()
    };
    let (ids, scores, labels) = (by_name("class_id"), by_name("score"), by_name("label"));
    assert_eq!(ids.len(), images.len());
    for (i, c) in cli.iter().enumerate() {
        assert_eq!(ids[i], c["class_id"], "{model}: image {i}: {out} vs {c}");
        assert_eq!(labels[i], c["label"], "{model}: image {i}");
        let (a, b) = (ids[i].as_i64(), c["class_id"].as_i64());
        assert!(a.is_some() && a == b);
        let (a, b) = (scores[i].as_f64().unwrap(), c["score"].as_f64().unwrap());
        assert!(
            (a - b).abs() <= 1e-5,
            "{model}: image {i}: score {a} vs {b}"
        );
    }
}

#[test]
fn paddle_format_directories_are_served_plain_sealed_and_as_paddlex_v1_on_opt_in() {
    let Some(m) = support::models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let key_file = tmp.path().join("key");
    std::fs::write(&key_file, Key::generate().unwrap().to_base64().as_bytes()).unwrap();
    let kf = key_file.to_str().unwrap();
    let plain = m.join("cls_paddle");
    // Sealed (v2) under a directory name of its own; PaddleX v1 as PaddleX's tool writes it.
    let sealed = tmp.path().join("textcls");
    modelseal(&[
        "encrypt",
        "--model-dir",
        plain.to_str().unwrap(),
        "--save-dir",
        sealed.to_str().unwrap(),
        "--key-file",
        kf,
    ]);
    let v1 = tmp.path().join("v1");
    modelseal(&[
        "encrypt",
        "--format",
        "paddlex-v1",
        "--model-dir",
        m.join("cls_paddlex1").to_str().unwrap(),
        "--save-dir",
        v1.to_str().unwrap(),
        "--key-file",
        kf,
    ]);
    assert!(v1.join("__model__.encrypted").is_file());
    let images: Vec<PathBuf> = ["text.png", "page.png", "dog.jpg", "chelsea.png"]
        .iter()
        .map(|n| m.join("images").join(n))
        .collect();
    let v1_model = format!("v1={}", v1.display());

    // PaddleX v1 only on opt-in: exit 6, naming the option.
    let (code, log) = Server::start(&["--model", &v1_model, "--key-file", kf], &[])
        .err()
        .expect("a PaddleX v1 directory is refused without --allow-paddlex-v1");
    assert_eq!(code, 6, "{log}");
    assert!(log.contains("--allow-paddlex-v1"), "{log}");

    // The plain Paddle directory, named after its directory (--model-dir).
    let s = Server::start(&["--model-dir", plain.to_str().unwrap()], &[]).unwrap();
    let (st, md) = s.json("GET", "/v2/models/cls_paddle", &Value::Null);
    assert_eq!(st, 200, "{md}");
    assert_eq!(md["platform"], "modelseal_classification");
    // Its raw view is the imported program's: the feed and fetch of the ONNX export.
    let (st, raw) = s.json("GET", "/v2/models/cls_paddle-raw", &Value::Null);
    assert_eq!(st, 200, "{raw}");
    assert_eq!(
        raw["inputs"],
        json!([{"name": "x", "datatype": "FP32", "shape": [-1, 3, -1, -1]}])
    );
    assert_eq!(raw["outputs"][0]["datatype"], "FP32");
    assert_eq!(raw["outputs"][0]["shape"], json!([-1, 2]));
    let cli = classify_json(&plain, &images, &[]);
    assert_classifies_like_the_cli(&s, "cls_paddle", &images, &cli);
    assert_eq!(s.stop().0, 0);

    // The sealed copy (--model-dir: named textcls) and the v1 directory, with the key.
    let s = Server::start(
        &[
            "--model-dir",
            sealed.to_str().unwrap(),
            "--model",
            &v1_model,
            "--allow-paddlex-v1",
            "--key-file",
            kf,
        ],
        &[],
    )
    .unwrap();
    let opened: Vec<&Value> = s
        .seen
        .iter()
        .filter(|v| v["message"] == "model opened and verified")
        .collect();
    assert_eq!(opened.len(), 2);
    assert!(opened.iter().all(|v| v["sealed"] == true), "{opened:?}");
    assert!(
        s.seen
            .iter()
            .any(|v| v["level"] == "WARN"
                && v["message"].as_str().unwrap_or("").contains("PaddleX v1")),
        "serving v1 is warned about: {:?}",
        s.seen
    );
    assert_eq!(
        s.json("GET", "/v2/models/textcls/ready", &Value::Null).0,
        200
    );
    assert_eq!(s.json("GET", "/v2/models/v1/ready", &Value::Null).0, 200);
    assert_eq!(s.json("GET", "/v2/models/cls_paddle", &Value::Null).0, 404);
    let cli_sealed = classify_json(&sealed, &images, &["--key-file", kf]);
    assert_classifies_like_the_cli(&s, "textcls", &images, &cli_sealed);
    let cli_v1 = classify_json(&v1, &images, &["--key-file", kf, "--allow-paddlex-v1"]);
    assert_classifies_like_the_cli(&s, "v1", &images, &cli_v1);
    // One model, three forms: the same classes.
    assert_eq!(cli, cli_sealed);
    let ids = |v: &[Value]| v.iter().map(|x| x["class_id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&cli), ids(&cli_v1));
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    let (code, log) = s.stop_with_log();
    assert_eq!(code, 0);
    assert!(log.iter().all(|v| !v.to_string().contains(key_text.trim())));
}

/// The owner of `/proc/PID/status`: the process's effective user while it is dumpable, root (of
/// its user namespace) once it is not. (The directory `/proc/PID` itself always shows the
/// effective user.)
#[cfg(target_os = "linux")]
fn status_owner(pid: u32) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/status"))
        .unwrap()
        .uid()
}

/// The kernel marks a non-dumpable process by giving its `/proc/PID` files to root instead of
/// the process's own user (`task_dump_owner`), which any process can see with `stat`. So the
/// server runs as a user other than root (nobody, when the test runs as root); a `sleep` run the
/// same way shows the user's own id (the check tells the two states apart). `execve` alone
/// leaves a process dumpable when its binary is readable by the user, carries no set-id bit and
/// its real and effective ids agree, which is checked too: what remains is the server's own
/// `prctl(PR_SET_DUMPABLE, 0)`.
#[cfg(target_os = "linux")]
#[test]
fn the_serving_process_is_not_dumpable() {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let euid = rustix::process::geteuid().as_raw();
    let user = if euid == 0 { 65534 } else { euid };
    let as_user = |mut c: Command| {
        if euid == 0 {
            c.uid(user).gid(user);
        }
        c
    };
    // Real, effective, saved and file-system ids of a process, as its status shows them.
    let ids = |pid: u32| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = |k: &str| -> Vec<u32> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .unwrap()
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect()
        };
        (line("Uid:"), line("Gid:"))
    };

    let mut control = as_user(Command::new("sleep"));
    control.arg("30").stdin(Stdio::null()).stdout(Stdio::null());
    let mut control = control.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let control_owner = status_owner(control.id());
    control.kill().unwrap();
    control.wait().unwrap();
    assert_eq!(
        control_owner, user,
        "a dumpable process of user {user} owns its /proc files"
    );

    let bin = std::fs::metadata(env!("CARGO_BIN_EXE_modelseal")).unwrap();
    let mode = bin.mode();
    assert_eq!(mode & 0o6000, 0, "the binary carries no set-id bit");
    let readable = if bin.uid() == user {
        mode & 0o400 != 0
    } else {
        mode & 0o004 != 0
    };
    assert!(readable, "the binary ({mode:o}) is readable by user {user}");
    let model = format!("seg={}", tiny_model().display());
    let s = Server::launch(as_user(serve_command("tract", &["--model", &model], &[]))).unwrap();
    let pid = s.child.id();
    let euid_of_server = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(format!("/proc/{pid}")).unwrap().uid()
    };
    assert_eq!(euid_of_server, user, "the server runs as user {user}");
    let (uids, gids) = ids(pid);
    assert!(uids.iter().all(|&u| u == user), "{uids:?}");
    assert!(gids.windows(2).all(|w| w[0] == w[1]), "{gids:?}");
    let owner = status_owner(pid);
    assert_ne!(
        owner, user,
        "the server's /proc entries belong to its user {user}: it is dumpable"
    );
    // And it serves as that user.
    let (st, out) = s.json("POST", "/v2/models/seg/infer", &image_request(&[bmp(8, 6)]));
    assert_eq!(st, 200, "{out}");
    assert_eq!(s.stop().0, 0);
}
