//! The `classifier`, `detector` and `segmenter` binaries: PaddleX flag spellings, JSON output,
//! list mode that keeps going past bad images, task mismatch, wrong key and GPU flag errors.

mod support;

use std::path::{Path, PathBuf};

use modelseal::{Key, OpenOptions, SealOptions};
use support::{models, run, stderr, stdout, CLASSIFIER, DETECTOR, SEGMENTER};

#[test]
fn flag_spellings_all_work() {
    let Some(m) = models() else { return };
    let cls = m.join("cls").display().to_string();
    let img = m.join("images/chelsea.png").display().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let bin = CLASSIFIER;
    let spellings: Vec<Vec<String>> = vec![
        vec![format!("--model_dir={cls}"), format!("--image={img}")],
        vec![
            "--model_dir".into(),
            cls.clone(),
            "--image".into(),
            img.clone(),
        ],
        vec![
            "-model_dir".into(),
            cls.clone(),
            "-image".into(),
            img.clone(),
        ],
        vec![
            format!("-model_dir={cls}"),
            format!("-image={img}"),
            "-use_ir_optim=false".into(),
            "--thread_num=1".into(),
        ],
    ];
    let mut first = None;
    for s in &spellings {
        let args: Vec<&str> = s.iter().map(String::as_str).collect();
        let o = run(bin, &args, tmp.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.starts_with("Predict label: "), "{out}");
        assert!(
            out.contains("label_id:") && out.contains("score: "),
            "{out}"
        );
        match &first {
            None => first = Some(out),
            Some(f) => assert_eq!(f, &out, "{args:?}"),
        }
    }
}

#[test]
fn json_lines_and_bad_images_in_a_list() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("broken.jpg");
    std::fs::write(&bad, b"\xff\xd8\xff not really").unwrap();
    let list = tmp.path().join("list.txt");
    std::fs::write(
        &list,
        format!(
            "{}\n{}\n{}\n",
            m.join("images/page.png").display(),
            bad.display(),
            m.join("images/dog.jpg").display()
        ),
    )
    .unwrap();
    let save = tmp.path().join("out");
    let o = run(
        DETECTOR,
        &[
            "--model_dir",
            &m.join("layout").display().to_string(),
            "--image_list",
            &list.display().to_string(),
            "--save_dir",
            &save.display().to_string(),
            "--json",
        ],
        tmp.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "one bad image gives a non-zero exit: {}",
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("broken.jpg") && err.contains("1 of 3 images failed"),
        "{err}"
    );
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "one line per image, the failed one included"
    );
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert!(
        lines.iter().all(|v| keys(v) == keys(&lines[0])),
        "same keys on every line"
    );
    assert!(lines
        .iter()
        .all(|v| v["schema"] == 1 && v["task"] == "detection"));
    let failed = &lines[1];
    assert!(failed["image"].as_str().unwrap().ends_with("broken.jpg"));
    assert_eq!(failed["error"]["kind"], "invalid_input", "{failed}");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("decode"),
        "{failed}"
    );
    assert!(failed["boxes"].is_null());
    for v in [&lines[0], &lines[2]] {
        assert!(v["error"].is_null());
        let boxes = v["boxes"].as_array().unwrap();
        assert!(!boxes.is_empty(), "{v}");
        for b in boxes {
            assert!(
                b["label"].is_string()
                    && b["score"].as_f64().unwrap() > 0.0
                    && b["bbox"].as_array().unwrap().len() == 4,
                "{b}"
            );
        }
    }
    assert!(save.join("page.png").is_file() && save.join("dog.jpg").is_file());
    image_size_matches(&save.join("dog.jpg"), &m.join("images/dog.jpg"));
}

fn image_size_matches(a: &Path, b: &Path) {
    let ra = modelseal_deploy::image::read_image(a).unwrap();
    let rb = modelseal_deploy::image::read_image(b).unwrap();
    assert_eq!((ra.width, ra.height), (rb.width, rb.height));
}

#[test]
fn segmenter_writes_label_png_at_original_size() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let save = tmp.path().join("out");
    let img = m.join("images/text.png");
    let o = run(
        SEGMENTER,
        &[
            "-model_dir",
            &m.join("det_db").display().to_string(),
            "-image",
            &img.display().to_string(),
            "-save_dir",
            &save.display().to_string(),
            "--json",
            "--blend",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let label = PathBuf::from(v["label_map_png"].as_str().unwrap());
    assert_eq!(label, save.join("text_label.png"));
    image_size_matches(&label, &img);
    let l = modelseal_deploy::image::read_image(&label).unwrap();
    let modelseal_deploy::image::Pixels::U8(px) = &l.pixels else {
        panic!("u8 image")
    };
    let text_pixels = px.chunks(3).filter(|p| p[0] == 1).count();
    assert!(
        text_pixels > 100 && px.iter().all(|&v| v <= 1),
        "{text_pixels} text pixels"
    );
}

#[test]
fn task_mismatch_wrong_key_and_gpu_errors() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let img = m.join("images/chelsea.png").display().to_string();
    // A classifier model given to the detector.
    let o = run(
        DETECTOR,
        &[
            "--model_dir",
            &m.join("cls").display().to_string(),
            "--image",
            &img,
        ],
        tmp.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(6),
        "an unsupported model: {}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("is a classifier") && stderr(&o).contains("not a detector"),
        "{}",
        stderr(&o)
    );
    // Sealed model, wrong key: exit code 4.
    let key = Key::generate().unwrap();
    let sealed = tmp.path().join("sealed");
    modelseal::seal_dir(
        &key,
        &OpenOptions::new().open(&m.join("cls")).unwrap(),
        &sealed,
        &SealOptions::default(),
        &|_| {},
    )
    .unwrap();
    let wrong = tmp.path().join("wrong.key");
    std::fs::write(&wrong, Key::generate().unwrap().to_base64().as_bytes()).unwrap();
    let o = run(
        CLASSIFIER,
        &[
            "--model_dir",
            &sealed.display().to_string(),
            "--key-file",
            &wrong.display().to_string(),
            "--image",
            &img,
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    // The right key works and gives the plain result.
    let right = tmp.path().join("right.key");
    std::fs::write(&right, key.to_base64().as_bytes()).unwrap();
    let o = run(
        CLASSIFIER,
        &[
            "--model_dir",
            &sealed.display().to_string(),
            "--key-file",
            &right.display().to_string(),
            "--image",
            &img,
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let plain = run(
        CLASSIFIER,
        &[
            "--model_dir",
            &m.join("cls").display().to_string(),
            "--image",
            &img,
        ],
        tmp.path(),
    );
    assert_eq!(stdout(&o), stdout(&plain));
    // --use_gpu with tract is a usage error (2) naming the problem.
    let o = run(
        CLASSIFIER,
        &[
            "--model_dir",
            &m.join("cls").display().to_string(),
            "--image",
            &img,
            "--use_gpu",
            "--backend",
            "tract",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("GPU"), "{}", stderr(&o));
    // Missing image flags and a bad flag are usage errors.
    let o = run(
        CLASSIFIER,
        &["--model_dir", &m.join("cls").display().to_string()],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--image"), "{}", stderr(&o));
    let o = run(
        CLASSIFIER,
        &["--model_dir", "x", "--image", "y", "--bogus"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn detector_lines_follow_paddlex_box_convention_and_agree_with_json() {
    let Some(m) = models() else { return };
    let layout = m.join("layout").display().to_string();
    let img = m.join("images/page.png").display().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let bin = DETECTOR;
    let text = run(bin, &["--model_dir", &layout, "--image", &img], tmp.path());
    assert!(text.status.success(), "{}", stderr(&text));
    let json = run(
        bin,
        &["--model_dir", &layout, "--image", &img, "--json"],
        tmp.path(),
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let v: serde_json::Value = serde_json::from_str(stdout(&json).lines().next().unwrap()).unwrap();
    let boxes = v["boxes"].as_array().unwrap();
    let lines: Vec<String> = stdout(&text)
        .lines()
        .filter(|l| l.contains("box(xmin, ymin, w, h)"))
        .map(String::from)
        .collect();
    assert!(
        !boxes.is_empty(),
        "the layout model finds regions on a text page"
    );
    assert_eq!(lines.len(), boxes.len());
    for (line, b) in lines.iter().zip(boxes) {
        let nums: Vec<f64> = line
            .rsplit_once(":(")
            .unwrap()
            .1
            .trim_end_matches(')')
            .split(", ")
            .map(|x| x.parse().unwrap())
            .collect();
        let bb: Vec<f64> = b["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert!(
            (nums[0] - bb[0]).abs() < 1e-3 && (nums[1] - bb[1]).abs() < 1e-3,
            "{line} vs {bb:?}"
        );
        assert!(
            (nums[2] - (bb[2] - bb[0] + 1.0)).abs() < 1e-3,
            "w = xmax - xmin + 1: {line} vs {bb:?}"
        );
        assert!(
            (nums[3] - (bb[3] - bb[1] + 1.0)).abs() < 1e-3,
            "h = ymax - ymin + 1: {line} vs {bb:?}"
        );
        assert!(
            line.contains(&format!("predict label: {},", b["label"].as_str().unwrap())),
            "{line}"
        );
    }
}
