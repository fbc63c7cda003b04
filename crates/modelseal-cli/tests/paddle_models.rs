//! Paddle-format model directories (PaddleX 1.x `__model__`/`__params__`, Paddle 2.x
//! `*.pdmodel`/`*.pdiparams`, Paddle 3.x `inference.json`) run natively in the demos and
//! `modelseal classify|segment`: plain, sealed, and encrypted by PaddleX's own tool (on opt-in),
//! with the same results as the ONNX export of the same weights; unsupported programs are refused
//! with every unsupported operator named.

mod support;

use std::fs;
use std::path::Path;

use support::{
    files_under, json_lines, key_text, keygen, models, run, stderr, stdout, CLASSIFIER,
    ENCRYPT_TOOL, MODELSEAL,
};

#[test]
fn paddle_programs_classify_like_their_onnx_export_plain_and_sealed() {
    let Some(m) = models() else { return };
    let names = [
        "page.png",
        "text.png",
        "chelsea.png",
        "dog.jpg",
        "china.jpg",
    ];
    let imgs: Vec<_> = names.iter().map(|n| m.join("images").join(n)).collect();
    let imgs: Vec<&Path> = imgs.iter().map(|p| p.as_path()).collect();
    let onnx = json_lines("classify", &m.join("cls"), &imgs, &[]);
    let paddle = json_lines("classify", &m.join("cls_paddle"), &imgs, &[]);
    for (a, b) in onnx.iter().zip(&paddle) {
        assert_eq!(a["class_id"], b["class_id"], "{a} vs {b}");
        let (sa, sb) = (a["score"].as_f64().unwrap(), b["score"].as_f64().unwrap());
        assert!((sa - sb).abs() < 1e-4, "{a} vs {b}");
    }
    // Sealed (v2), the same directory gives the same lines.
    let tmp = tempfile::tempdir().unwrap();
    let key_file = keygen(tmp.path(), "model.key");
    let sealed = tmp.path().join("sealed");
    let o = run(
        MODELSEAL,
        &[
            "encrypt",
            "--model-dir",
            m.join("cls_paddle").to_str().unwrap(),
            "--save-dir",
            sealed.to_str().unwrap(),
            "--key-file",
            &key_file,
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sealed_lines = json_lines("classify", &sealed, &imgs, &["--key-file", &key_file]);
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("image");
        v
    };
    for (a, b) in paddle.iter().zip(&sealed_lines) {
        assert_eq!(strip(a), strip(b));
    }
}

#[test]
fn a_paddle_segmenter_gives_the_label_maps_of_its_onnx_export() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut maps = Vec::new();
    for dir in ["det_db", "det_db_paddle"] {
        let save = tmp.path().join(dir);
        let o = run(
            MODELSEAL,
            &[
                "segment",
                "--model_dir",
                m.join(dir).to_str().unwrap(),
                "--image",
                m.join("images/page.png").to_str().unwrap(),
                "--save_dir",
                save.to_str().unwrap(),
            ],
            tmp.path(),
        );
        assert!(o.status.success(), "{dir}: {}", stderr(&o));
        let png = fs::read_dir(&save)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("_label.png"))
            .unwrap_or_else(|| panic!("{dir}: no label map under {}", save.display()));
        maps.push(image_bytes(&png));
    }
    let (a, b) = (&maps[0], &maps[1]);
    assert_eq!(a.len(), b.len());
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    let text = a.iter().filter(|&&x| x != 0).count();
    assert!(text > 100, "the page has text pixels ({text})");
    assert!(
        same as f64 >= 0.999 * a.len() as f64,
        "{same} of {} pixels agree",
        a.len()
    );
}

fn image_bytes(p: &Path) -> Vec<u8> {
    let img =
        modelseal_deploy::image::read_image(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    match img.pixels {
        modelseal_deploy::image::Pixels::U8(v) => v,
        modelseal_deploy::image::Pixels::F32(_) => panic!("{}: not 8-bit", p.display()),
    }
}

#[test]
fn a_paddlex_1x_directory_encrypted_by_paddlex_tool_runs_on_opt_in() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let key_file = keygen(tmp.path(), "model.key");
    let key = key_text(&key_file);
    let enc = tmp.path().join("encrypted");
    // PaddleX's own tool form: `paddle_encrypt_tool -key K -model_dir D -save_dir O`, v1 output.
    let o = run(
        ENCRYPT_TOOL,
        &[
            "-key",
            &key,
            "-model_dir",
            m.join("cls_paddlex1").to_str().unwrap(),
            "-save_dir",
            enc.to_str().unwrap(),
            "-format",
            "paddlex-v1",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    for f in [
        "__model__.encrypted",
        "__params__.encrypted",
        "model.yml.encrypted",
    ] {
        assert!(enc.join(f).is_file(), "{f} missing");
        assert!(fs::read(enc.join(f)).unwrap().starts_with(b"PADDLE1"));
    }
    let img = m.join("images/text.png");
    let base = [
        "--model_dir",
        enc.to_str().unwrap(),
        "--image",
        img.to_str().unwrap(),
        "--key-file",
        &key_file,
    ];
    let o = run(CLASSIFIER, &base, tmp.path());
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("--allow-paddlex-v1"), "{}", stderr(&o));
    let mut args = base.to_vec();
    args.push("--allow-paddlex-v1");
    let o = run(CLASSIFIER, &args, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let plain = run(
        CLASSIFIER,
        &[
            "--model_dir",
            m.join("cls_paddlex1").to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(stdout(&o).starts_with("Predict label: "), "{}", stdout(&o));
    assert_eq!(stdout(&o), stdout(&plain));
    // A plain program swapped into the encrypted directory is refused even on opt-in.
    fs::remove_file(enc.join("__model__.encrypted")).unwrap();
    fs::copy(m.join("cls_paddlex1/__model__"), enc.join("__model__")).unwrap();
    let o = run(CLASSIFIER, &args, tmp.path());
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("__model__"), "{}", stderr(&o));
}

#[test]
fn an_unsupported_program_is_refused_with_every_unsupported_operator() {
    let Some(m) = models() else { return };
    let data = support::root().join("crates/modelseal-paddle/tests/data/models/ocr_cls");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    fs::create_dir(&dir).unwrap();
    let program = fs::read_to_string(data.join("pir.json")).unwrap();
    assert!(program.contains("\"1.conv2d\"") && program.contains("\"1.hardswish\""));
    let program = program
        .replace("\"1.conv2d\"", "\"1.frobnicate\"")
        .replace("\"1.hardswish\"", "\"1.quux\"");
    fs::write(dir.join("inference.json"), program).unwrap();
    fs::copy(
        data.join("params.pdiparams"),
        dir.join("inference.pdiparams"),
    )
    .unwrap();
    fs::copy(m.join("cls/inference.yml"), dir.join("inference.yml")).unwrap();
    let o = run(
        MODELSEAL,
        &[
            "classify",
            "--model_dir",
            dir.to_str().unwrap(),
            "--image",
            m.join("images/text.png").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let err = stderr(&o);
    for needle in [
        "inference.json",
        "pd_op.frobnicate",
        "pd_op.quux",
        "paddle2onnx",
    ] {
        assert!(err.contains(needle), "{needle} not in: {err}");
    }
    // A program without its parameters file is a layout error naming both.
    fs::remove_file(dir.join("inference.json")).unwrap();
    fs::rename(dir.join("inference.pdiparams"), dir.join("model.pdiparams")).unwrap();
    fs::write(dir.join("model.pdmodel"), b"").unwrap();
    fs::remove_file(dir.join("model.pdiparams")).unwrap();
    let o = run(
        MODELSEAL,
        &[
            "classify",
            "--model_dir",
            dir.to_str().unwrap(),
            "--image",
            m.join("images/text.png").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("model.pdmodel") && stderr(&o).contains("model.pdiparams"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn convert_writes_an_onnx_directory_plain_or_sealed_and_refuses_what_it_cannot() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let key_file = keygen(tmp.path(), "model.key");
    let convert = |args: &[&str]| {
        let mut a = vec!["convert"];
        a.extend_from_slice(args);
        run(MODELSEAL, &a, tmp.path())
    };
    let img = m.join("images/page.png");
    // Plain: model.onnx plus the config; it classifies like the Paddle directory.
    let plain = tmp.path().join("plain");
    let o = convert(&[
        "--model-dir",
        m.join("cls_paddle").to_str().unwrap(),
        "--save-dir",
        plain.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> = fs::read_dir(&plain)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["inference.yml", "model.onnx"]);
    let onnx = fs::read(plain.join("model.onnx")).unwrap();
    for backend in ["onnxruntime", "tract"] {
        let a = json_lines("classify", &plain, &[&img], &["--backend", backend]);
        let b = json_lines(
            "classify",
            &m.join("cls_paddle"),
            &[&img],
            &["--backend", backend],
        );
        assert_eq!(a[0]["score"], b[0]["score"], "{backend}");
    }
    // Sealed: no plaintext ONNX in any output file; it runs with the key.
    let sealed = tmp.path().join("sealed");
    let o = convert(&[
        "--model-dir",
        m.join("det_db_paddle").to_str().unwrap(),
        "--save-dir",
        sealed.to_str().unwrap(),
        "--seal",
        "--key-file",
        &key_file,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let head = &onnx[..64];
    for f in files_under(&sealed) {
        let bytes = fs::read(&f).unwrap();
        assert!(
            !bytes.windows(head.len()).any(|w| w == head),
            "{} holds plaintext ONNX",
            f.display()
        );
    }
    let a = json_lines("segment", &sealed, &[&img], &["--key-file", &key_file]);
    let b = json_lines("segment", &m.join("det_db_paddle"), &[&img], &[]);
    assert_eq!(a[0]["classes"], b[0]["classes"]);
    // Refusals, each with nothing written: a sealed input without --seal (usage), an ONNX
    // directory and a program ending in NMS (unsupported), an existing output (usage).
    let det = support::root().join("crates/modelseal-paddle/tests/data/det/ppyoloe");
    let nms = tmp.path().join("nms");
    fs::create_dir(&nms).unwrap();
    fs::copy(det.join("legacy.pdmodel"), nms.join("model.pdmodel")).unwrap();
    fs::copy(det.join("params.pdiparams"), nms.join("model.pdiparams")).unwrap();
    fs::copy(m.join("layout/infer_cfg.yml"), nms.join("infer_cfg.yml")).unwrap();
    let out = tmp.path().join("out");
    for (args, code, needle) in [
        (
            vec![
                "--model-dir",
                sealed.to_str().unwrap(),
                "--key-file",
                &key_file,
            ],
            2,
            "--seal",
        ),
        (
            vec!["--model-dir", m.join("cls").to_str().unwrap()],
            6,
            "already holds an ONNX model",
        ),
        (vec!["--model-dir", nms.to_str().unwrap()], 6, "NMS"),
        (
            vec![
                "--model-dir",
                m.join("cls_paddle").to_str().unwrap(),
                "--key-file",
                &key_file,
            ],
            2,
            "only applies with --seal",
        ),
    ] {
        let mut a = args.clone();
        a.extend(["--save-dir", out.to_str().unwrap()]);
        let o = convert(&a);
        assert_eq!(o.status.code(), Some(code), "{a:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{a:?}: {}", stderr(&o));
        assert!(!out.exists(), "{a:?} wrote {}", out.display());
    }
    let o = convert(&[
        "--model-dir",
        m.join("cls_paddle").to_str().unwrap(),
        "--save-dir",
        plain.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(fs::read(plain.join("model.onnx")).unwrap(), onnx);
}
