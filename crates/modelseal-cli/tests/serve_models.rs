//! Which model directories `modelseal serve` opens: a sealed model only with its key (start-up
//! refusals and their exit codes), Paddle-format directories plain, sealed and as PaddleX v1 on
//! opt-in, classifying like `modelseal classify --json`; the key never reaches the log.

mod support;

use std::path::PathBuf;

use modelseal::{Key, SealOptions};
use serde_json::{json, Value};
use support::serve::{bmp, image_request, seg_model, Server};
use support::{json_lines, key_text, keygen, seal};

#[test]
fn a_sealed_model_needs_its_key_and_a_key_needs_a_sealed_model() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Key::generate().unwrap();
    let key_file = tmp.path().join("key");
    std::fs::write(&key_file, key.to_base64().as_bytes()).unwrap();
    let wrong_file = tmp.path().join("wrong");
    std::fs::write(&wrong_file, Key::generate().unwrap().to_base64().as_bytes()).unwrap();
    let sealed = tmp.path().join("sealed");
    let src = modelseal::OpenOptions::new().open(&seg_model()).unwrap();
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
            &format!("seg={}", seg_model().display()),
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
    let kf = &keygen(tmp.path(), "key");
    let plain = m.join("cls_paddle");
    // Sealed (v2) under a directory name of its own; PaddleX v1 as PaddleX's tool writes it.
    let sealed = tmp.path().join("textcls");
    seal(&plain, &sealed, kf, &[]);
    let v1 = tmp.path().join("v1");
    seal(
        &m.join("cls_paddlex1"),
        &v1,
        kf,
        &["--format", "paddlex-v1"],
    );
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
    let cli = json_lines("classify", &plain, &images, &["--backend", "tract"]);
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
    let cli_sealed = json_lines(
        "classify",
        &sealed,
        &images,
        &["--backend", "tract", "--key-file", kf],
    );
    assert_classifies_like_the_cli(&s, "textcls", &images, &cli_sealed);
    let cli_v1 = json_lines(
        "classify",
        &v1,
        &images,
        &["--backend", "tract", "--key-file", kf, "--allow-paddlex-v1"],
    );
    assert_classifies_like_the_cli(&s, "v1", &images, &cli_v1);
    // One model, three forms: the same classes.
    assert_eq!(cli, cli_sealed);
    let ids = |v: &[Value]| v.iter().map(|x| x["class_id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&cli), ids(&cli_v1));
    let key_text = key_text(kf);
    let (code, log) = s.stop_with_log();
    assert_eq!(code, 0);
    assert!(log.iter().all(|v| !v.to_string().contains(&key_text)));
}
