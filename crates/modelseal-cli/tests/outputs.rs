//! What the deploy commands write: nothing but stdout with `--json` unless `--save_dir` is given
//! (while PaddleX's text mode writes pictures to `output/`), PaddleX 3's result layout with
//! `--output-format paddlex`, JPEG pictures at quality 95, and WebP and TIFF inputs read like PNG.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::{files_under, models, need, run, stderr, stdout, MODELSEAL};

#[test]
fn json_writes_nothing_without_save_dir_and_text_mode_writes_output() {
    let Some(m) = models() else { return };
    let img = m.join("images/page.png");
    for (task, model) in [("detect", "layout"), ("segment", "det_db")] {
        let cwd = tempfile::tempdir().unwrap();
        let dir = m.join(model);
        let args = [
            task,
            "--model_dir",
            dir.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
        ];
        for extra in [&["--json"][..], &["--output-format", "paddlex"][..]] {
            let mut a = args.to_vec();
            a.extend_from_slice(extra);
            let o = run(MODELSEAL, &a, cwd.path());
            assert!(o.status.success(), "{a:?}: {}", stderr(&o));
            assert!(!stdout(&o).is_empty());
            assert_eq!(
                files_under(cwd.path()),
                Vec::<PathBuf>::new(),
                "{a:?} wrote files"
            );
        }
        // PaddleX's text mode: pictures under output/ by default.
        let o = run(MODELSEAL, &args, cwd.path());
        assert!(o.status.success(), "{}", stderr(&o));
        let written = files_under(cwd.path());
        assert!(!written.is_empty(), "{task}: text mode wrote no picture");
        assert!(
            written
                .iter()
                .all(|p| p.starts_with(cwd.path().join("output"))),
            "{written:?}"
        );
        // --json with --save_dir writes the pictures there and names them in the JSON.
        let save = cwd.path().join("pictures");
        let mut a = args.to_vec();
        a.extend(["--json", "--save_dir", save.to_str().unwrap()]);
        let o = run(MODELSEAL, &a, cwd.path());
        assert!(o.status.success(), "{}", stderr(&o));
        let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        let vis = line["visualization"].as_str().expect("visualization path");
        assert!(
            Path::new(vis).starts_with(&save) && Path::new(vis).is_file(),
            "{line}"
        );
    }
}

#[test]
fn paddlex_layout_has_paddlex_3_keys() {
    let Some(m) = models() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let img = m.join("images/page.png");
    let one = |task: &str, model: &str| -> serde_json::Value {
        let dir = m.join(model);
        let o = run(
            MODELSEAL,
            &[
                task,
                "--model_dir",
                dir.to_str().unwrap(),
                "--image",
                img.to_str().unwrap(),
                "--output-format",
                "paddlex",
            ],
            cwd.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(stdout(&o).trim()).unwrap()
    };
    let cls = one("classify", "cls");
    let res = &cls["res"];
    assert_eq!(res["input_path"], img.to_str().unwrap());
    for k in ["class_ids", "scores", "label_names"] {
        assert!(res[k].is_array(), "{k} in {cls}");
    }
    assert_eq!(
        res["class_ids"].as_array().unwrap().len(),
        res["scores"].as_array().unwrap().len()
    );
    let det = one("detect", "layout");
    let boxes = det["res"]["boxes"].as_array().expect("boxes");
    assert!(!boxes.is_empty(), "the page has layout regions: {det}");
    for b in boxes {
        assert!(
            b["cls_id"].is_i64() && b["label"].is_string() && b["score"].is_f64(),
            "{b}"
        );
        let c = b["coordinate"].as_array().unwrap();
        assert_eq!(c.len(), 4);
        assert!(c[0].as_f64().unwrap() < c[2].as_f64().unwrap(), "{b}");
    }
    // The same boxes as the JSON schema, in the same order.
    let dir = m.join("layout");
    let o = run(
        MODELSEAL,
        &[
            "detect",
            "--model_dir",
            dir.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
            "--json",
        ],
        cwd.path(),
    );
    let ours: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let ours = ours["boxes"].as_array().unwrap();
    assert_eq!(ours.len(), boxes.len());
    for (a, b) in ours.iter().zip(boxes) {
        assert_eq!(a["class_id"], b["cls_id"]);
        assert_eq!(a["bbox"], b["coordinate"]);
    }
}

/// The JPEG quantisation tables in a file's DQT segments (8-bit precision), in zig-zag order.
fn jpeg_tables(bytes: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&bytes[..2], b"\xff\xd8", "not a JPEG");
    let mut tables = Vec::new();
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xff {
        let marker = bytes[i + 1];
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if marker == 0xdb {
            let mut j = i + 4;
            while j < i + 2 + len {
                assert_eq!(bytes[j] >> 4, 0, "8-bit tables");
                tables.push(bytes[j + 1..j + 65].to_vec());
                j += 65;
            }
        }
        if marker == 0xda {
            break;
        }
        i += 2 + len;
    }
    tables
}

/// The IJG luminance table for `quality`, in zig-zag order (libjpeg's jcparam.c scaling).
fn ijg_luma(quality: u32) -> Vec<u8> {
    const STD: [u32; 64] = [
        16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35,
        37, 29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80,
        109, 81, 87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
    ];
    let scale = if quality < 50 {
        5000 / quality
    } else {
        200 - 2 * quality
    };
    STD.iter()
        .map(|&v| ((v * scale + 50) / 100).clamp(1, 255) as u8)
        .collect()
}

#[test]
fn jpeg_pictures_are_written_at_quality_95() {
    let Some(m) = models() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let save = cwd.path().join("out");
    let dir = m.join("layout");
    let img = m.join("images/dog.jpg");
    let o = run(
        MODELSEAL,
        &[
            "detect",
            "--model_dir",
            dir.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
            "--save_dir",
            save.to_str().unwrap(),
        ],
        cwd.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let pics: Vec<PathBuf> = files_under(&save)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    assert_eq!(pics.len(), 1, "{pics:?}");
    let tables = jpeg_tables(&fs::read(&pics[0]).unwrap());
    assert!(!tables.is_empty(), "no DQT segment");
    assert_ne!(ijg_luma(95), ijg_luma(75));
    assert!(
        tables.iter().any(|t| *t == ijg_luma(95)),
        "no quality-95 luminance table among {tables:?}"
    );
}

#[test]
fn webp_and_tiff_inputs_classify_like_png() {
    let Some(m) = models() else { return };
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let cwd = tempfile::tempdir().unwrap();
    let png = m.join("images/chelsea.png");
    // Lossless WebP (quality above 100) and TIFF of the same pixels, written by OpenCV.
    let made = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys, cv2\nim = cv2.imread(sys.argv[1])\nassert cv2.imwrite(sys.argv[2] + '/chelsea.webp', im, [cv2.IMWRITE_WEBP_QUALITY, 101])\nassert cv2.imwrite(sys.argv[2] + '/chelsea.tiff', im)",
            png.to_str().unwrap(),
            cwd.path().to_str().unwrap(),
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !need(
        made,
        "Python with OpenCV (scripts/ci/requirements-test.txt)",
    ) {
        return;
    }
    let dir = m.join("cls");
    let classify = |img: &Path| -> serde_json::Value {
        let o = run(
            MODELSEAL,
            &[
                "classify",
                "--model_dir",
                dir.to_str().unwrap(),
                "--image",
                img.to_str().unwrap(),
                "--json",
                "--topk",
                "2",
            ],
            cwd.path(),
        );
        assert!(o.status.success(), "{}: {}", img.display(), stderr(&o));
        let mut v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        v.as_object_mut().unwrap().remove("image");
        v
    };
    let want = classify(&png);
    for ext in ["webp", "tiff"] {
        assert_eq!(
            classify(&cwd.path().join(format!("chelsea.{ext}"))),
            want,
            "{ext}"
        );
    }
}
