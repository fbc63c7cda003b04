//! Bad inputs give clear errors naming the file and the problem: configs, missing members,
//! unreadable or truncated images, images smaller than a crop, unknown backends and GPU flags.

mod common;

use std::path::Path;

use common::*;
use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::image::read_image;
use modelseal_deploy::{BackendOptions, Predictor};

fn copy_model(models: &Path, model: &str, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    std::fs::copy(
        models.join(model).join("model.onnx"),
        dst.join("model.onnx"),
    )
    .unwrap();
}

fn open_err(dir: &Path, o: &BackendOptions) -> String {
    let src = modelseal_deploy::ModelSource::open(dir, &modelseal::OpenOptions::new()).unwrap();
    match Predictor::open(&src, o) {
        Ok(_) => panic!("{} should not open", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_configs_name_the_file_and_key() {
    let Some(models) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        ("inference.yml", "PreProcess:\n  transform_ops:\n  - RandomFlip: {}\n", &["inference.yml", "RandomFlip", "accepted"]),
        ("inference.yml", "PreProcess:\n  transform_ops:\n  - ResizeImage: {size: [192, 48], interpolation: sinc}\n", &["inference.yml", "interpolation", "sinc"]),
        ("infer_cfg.yml", "arch: PicoDet\nPreprocess:\n- type: Resize\n  target_size: [800]\n", &["infer_cfg.yml", "target_size"]),
        ("deploy.yaml", "Deploy:\n  transforms:\n  - type: Normalize\n    mean: [0.5, 0.5]\n", &["deploy.yaml", "mean", "3 values"]),
        ("model.yml", "Model: X\n_Attributes: {model_type: classifier}\nTransformsMode: YUV\n", &["model.yml", "TransformsMode", "RGB, BGR"]),
        ("deploy.yaml", ": : :\n", &["deploy.yaml", "YAML"]),
        ("deploy.yaml", "Deploy:\n  transforms:\n  - {type: Resize, target_size: [512, 512], size_divisor: 0}\n", &["deploy.yaml", "Deploy.transforms.Resize.size_divisor", "positive"]),
        ("deploy.yaml", "Deploy:\n  transforms:\n  - {type: Resize, keep_ratio: maybe}\n", &["deploy.yaml", "Deploy.transforms.Resize.keep_ratio", "true or false"]),
    ];
    for (i, (file, text, needles)) in cases.iter().enumerate() {
        let d = tmp.path().join(format!("m{i}"));
        copy_model(&models, "cls", &d);
        std::fs::write(d.join(file), text).unwrap();
        let e = open_err(&d, &opts(BackendKind::Auto));
        for n in *needles {
            assert!(e.contains(n), "case {i}: {e:?} lacks {n:?}");
        }
    }
}

#[test]
fn missing_members_are_named() {
    let Some(models) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let no_cfg = tmp.path().join("nocfg");
    copy_model(&models, "cls", &no_cfg);
    let e = open_err(&no_cfg, &opts(BackendKind::Auto));
    assert!(
        e.contains("no config") && e.contains("inference.yml"),
        "{e}"
    );

    let no_model = tmp.path().join("nomodel");
    std::fs::create_dir_all(&no_model).unwrap();
    std::fs::copy(
        models.join("cls/inference.yml"),
        no_model.join("inference.yml"),
    )
    .unwrap();
    let e = open_err(&no_model, &opts(BackendKind::Auto));
    assert!(
        e.contains("no model") && e.contains("ONNX model") && e.contains("Paddle program"),
        "{e}"
    );

    let two = tmp.path().join("two");
    copy_model(&models, "cls", &two);
    std::fs::copy(models.join("cls/inference.yml"), two.join("inference.yml")).unwrap();
    std::fs::copy(
        models.join("layout/infer_cfg.yml"),
        two.join("infer_cfg.yml"),
    )
    .unwrap();
    let e = open_err(&two, &opts(BackendKind::Auto));
    assert!(e.contains("several configs"), "{e}");
}

#[test]
fn corrupt_model_bytes_are_a_model_error() {
    let Some(models) = models_and_ort() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("trunc");
    std::fs::create_dir_all(&d).unwrap();
    let bytes = std::fs::read(models.join("cls/model.onnx")).unwrap();
    std::fs::write(d.join("model.onnx"), &bytes[..bytes.len() / 3]).unwrap();
    std::fs::copy(models.join("cls/inference.yml"), d.join("inference.yml")).unwrap();
    for kind in [BackendKind::OnnxRuntime, BackendKind::Tract] {
        let e = open_err(&d, &opts(kind));
        assert!(
            e.contains("model.onnx") && e.contains("cannot load"),
            "{kind:?}: {e}"
        );
    }
}

#[test]
fn unreadable_and_truncated_images() {
    let Some(models) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.jpg");
    let e = read_image(&missing).unwrap_err().to_string();
    assert!(e.contains("nope.jpg") && e.contains("cannot read"), "{e}");

    for name in ["dog.jpg", "astronaut.png"] {
        let bytes = std::fs::read(models.join("images").join(name)).unwrap();
        let cut = tmp.path().join(format!("cut-{name}"));
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        match read_image(&cut) {
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.contains(&format!("cut-{name}")) && e.contains("decode"),
                    "{e}"
                );
            }
            // A truncated JPEG may decode with the missing part filled; it must still be sized right.
            Ok(m) => assert!(
                name.ends_with(".jpg") && m.width == 768 && m.height == 576,
                "{name}"
            ),
        }
    }
    let text = tmp.path().join("text.png");
    std::fs::write(&text, "hello").unwrap();
    assert!(read_image(&text)
        .unwrap_err()
        .to_string()
        .contains("text.png"));
}

#[test]
fn image_smaller_than_crop_is_a_transform_error() {
    let Some(models) = models_and_ort() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("crop");
    copy_model(&models, "cls", &d);
    std::fs::write(
        d.join("inference.yml"),
        "PreProcess:\n  transform_ops:\n  - CropImage: {size: [192, 48]}\n  - NormalizeImage: {scale: 1./255., mean: [0.5,0.5,0.5], std: [0.5,0.5,0.5], order: hwc}\n  - ToCHWImage: null\nPostProcess:\n  Topk: {topk: 1, label_list: ['0', '180']}\n",
    )
    .unwrap();
    let src = modelseal_deploy::ModelSource::open(&d, &modelseal::OpenOptions::new()).unwrap();
    let mut p = Predictor::open(&src, &opts(BackendKind::OnnxRuntime)).unwrap();
    let small = modelseal_deploy::image::Mat::from_u8(100, 40, vec![128; 100 * 40 * 3]);
    let e = p.predict(&small).unwrap_err().to_string();
    assert!(
        e.contains("CropImage") && e.contains("100x40") && e.contains("192x48"),
        "{e}"
    );
    // A large enough image goes through the same config.
    let big = read_image(&models.join("images/chelsea.png")).unwrap();
    assert!(p.predict(&big).is_ok());
}

#[test]
fn gpu_flags_without_a_gpu_runtime_are_clear_errors() {
    let Some(models) = models_and_ort() else {
        return;
    };
    let src =
        modelseal_deploy::ModelSource::open(&models.join("cls"), &modelseal::OpenOptions::new())
            .unwrap();
    for (gpu, trt) in [(true, false), (true, true)] {
        let o = BackendOptions {
            kind: BackendKind::OnnxRuntime,
            use_gpu: gpu,
            use_trt: trt,
            ir_optim: true,
            ..Default::default()
        };
        match Predictor::open(&src, &o) {
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.contains(if trt { "TensorRT" } else { "CUDA" })
                        && e.contains("not available"),
                    "{e}"
                );
            }
            // With onnxruntime-gpu and a GPU present the session must build and run.
            Ok(mut p) => {
                let img = read_image(&models.join("images/chelsea.png")).unwrap();
                p.predict(&img).unwrap();
            }
        }
        let o = BackendOptions {
            kind: BackendKind::Tract,
            use_gpu: gpu,
            use_trt: trt,
            ..Default::default()
        };
        let e = Predictor::open(&src, &o)
            .err()
            .expect("tract has no GPU")
            .to_string();
        assert!(e.contains("CPU only"), "{e}");
    }
}

#[test]
fn backend_names_parse() {
    assert_eq!("auto".parse::<BackendKind>().unwrap(), BackendKind::Auto);
    assert_eq!(
        "onnxruntime".parse::<BackendKind>().unwrap(),
        BackendKind::OnnxRuntime
    );
    assert_eq!("tract".parse::<BackendKind>().unwrap(), BackendKind::Tract);
    let e = "tensorflow".parse::<BackendKind>().unwrap_err();
    assert!(
        e.contains("tensorflow") && e.contains("auto, onnxruntime, tract"),
        "{e}"
    );
}
