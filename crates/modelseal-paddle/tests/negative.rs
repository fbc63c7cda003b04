//! Malformed, hostile and unsupported inputs: typed errors, never panics or huge allocations.

mod common;

use modelseal_paddle::params::{read_tensors, write_tensor};
use modelseal_paddle::proto::paddle::ProgramDesc;
use modelseal_paddle::{detect, import, DType, Error, ImportOptions, ProgramFormat};
use prost::Message;

fn case_files(name: &str, fmt: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = common::data_dir().join("ops").join(name);
    let ext = if fmt == "pir" { "json" } else { "pdmodel" };
    (
        std::fs::read(dir.join(format!("{fmt}.{ext}"))).unwrap(),
        std::fs::read(dir.join(format!("{fmt}.pdiparams")))
            .or_else(|_| std::fs::read(dir.join("params.pdiparams")))
            .unwrap(),
    )
}

fn opts() -> ImportOptions {
    ImportOptions::default()
}

#[test]
fn detect_tells_the_formats_apart() {
    let (legacy, _) = case_files("conv_basic", "legacy");
    let (pir, _) = case_files("conv_basic", "pir");
    assert_eq!(detect(&legacy), Some(ProgramFormat::Legacy));
    assert_eq!(detect(&pir), Some(ProgramFormat::Pir));
    assert_eq!(detect(b""), None);
    assert_eq!(detect(b"{\"not\": \"pir\"}"), None);
    assert_eq!(detect(b"\xff\xfe garbage \x00\x01"), None);
    assert_eq!(detect(&[0u8; 64]), None);
}

#[test]
fn empty_and_garbage_programs_are_malformed() {
    for bytes in [
        &b""[..],
        b"\x00",
        b"garbage bytes that are not a protobuf \xff\xff\xff",
        b"{",
        b"{}",
        b"[1,2,3]",
    ] {
        match import(bytes, &[], &opts()) {
            Err(Error::MalformedProgram { .. }) => {}
            other => panic!("{bytes:?}: expected MalformedProgram, got {other:?}"),
        }
    }
}

#[test]
fn truncated_programs_are_errors_not_panics() {
    for fmt in ["legacy", "pir"] {
        let (prog, params) = case_files("conv_basic", fmt);
        // Cutting anywhere in the first half leaves a block (legacy) or the JSON unfinished.
        let step = (prog.len() / 200).max(1);
        let mut n = 0;
        for len in (0..prog.len() / 2).step_by(step) {
            let r = import(&prog[..len], &params, &opts());
            assert!(r.is_err(), "{fmt}: a {len}-byte prefix was accepted");
            n += 1;
        }
        assert!(n > 50);
        // Every prefix, first half or not, returns (no panic).
        for len in (prog.len() / 2..prog.len()).step_by(step) {
            let _ = import(&prog[..len], &params, &opts());
        }
    }
}

#[test]
fn params_truncated_extended_or_missing_name_the_tensor() {
    for fmt in ["legacy", "pir"] {
        let (prog, params) = case_files("conv_basic", fmt);
        assert!(import(&prog, &params, &opts()).is_ok());
        match import(&prog, &params[..params.len() - 3], &opts()) {
            Err(Error::MalformedParams {
                tensor: Some(t),
                message,
                ..
            }) => {
                assert!(message.contains("truncated"), "{message}");
                assert!(!t.is_empty());
            }
            other => panic!("{fmt}: expected MalformedParams, got {other:?}"),
        }
        let mut longer = params.clone();
        longer.extend_from_slice(&[0, 0, 0, 0]);
        match import(&prog, &longer, &opts()) {
            Err(Error::MalformedParams { message, .. }) => {
                assert!(message.contains("bytes left"), "{message}")
            }
            other => panic!("{fmt}: expected MalformedParams, got {other:?}"),
        }
        match import(&prog, &[], &opts()) {
            Err(Error::MalformedParams { offset: 0, .. }) => {}
            other => panic!("{fmt}: expected MalformedParams at 0, got {other:?}"),
        }
    }
}

/// Rewrites the stored tensors of a parameters file.
fn rewrite(params: &[u8], f: impl Fn(usize, DType, &[i64], &[u8], &mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, t) in read_tensors(params).unwrap().iter().enumerate() {
        f(i, t.dtype, &t.dims, t.data, &mut out);
    }
    out
}

#[test]
fn wrong_dims_or_dtype_is_a_parameter_mismatch() {
    for fmt in ["legacy", "pir"] {
        let (prog, params) = case_files("conv_basic", fmt);
        // Same bytes, dims transposed: [6, 4, 3, 3] -> [4, 6, 3, 3].
        let swapped = rewrite(&params, |_, d, dims, data, out| {
            let mut dims = dims.to_vec();
            if dims.len() == 4 {
                dims.swap(0, 1);
            }
            write_tensor(out, d, &dims, data)
        });
        match import(&prog, &swapped, &opts()) {
            Err(Error::ParamMismatch {
                name,
                expected,
                found,
            }) => {
                assert!(name.contains("w_0"), "{name}");
                assert!(expected.starts_with("[6, 4, 3, 3]"), "{expected}");
                assert!(found.starts_with("[4, 6, 3, 3]"), "{found}");
            }
            other => panic!("{fmt}: expected ParamMismatch, got {other:?}"),
        }
        // Same bytes as int32.
        let retyped = rewrite(&params, |_, _, dims, data, out| {
            write_tensor(out, DType::I32, dims, data)
        });
        match import(&prog, &retyped, &opts()) {
            Err(Error::ParamMismatch {
                expected, found, ..
            }) => {
                assert!(
                    expected.ends_with("float32") && found.ends_with("int32"),
                    "{expected} / {found}"
                );
            }
            other => panic!("{fmt}: expected ParamMismatch, got {other:?}"),
        }
    }
}

#[test]
fn unknown_dtype_and_huge_sizes_in_params_are_malformed() {
    let (prog, params) = case_files("conv_basic", "legacy");
    // An unknown data type number in the first TensorDesc.
    let mut bad = params.clone();
    let at = 4 + 8 + 4 + 4; // version, lod count, tensor version, desc size
    assert_eq!(bad[at], 0x08);
    bad[at + 1] = 0x63;
    match import(&prog, &bad, &opts()) {
        Err(Error::MalformedParams { message, .. }) => {
            assert!(message.contains("unknown data type 99"), "{message}")
        }
        other => panic!("expected MalformedParams, got {other:?}"),
    }
    // A tensor declaring 2^62 elements: refused before any allocation.
    let mut huge = Vec::new();
    write_tensor(&mut huge, DType::F32, &[1 << 31, 1 << 31], &[]);
    match import(&prog, &huge, &opts()) {
        Err(Error::MalformedParams { message, .. }) => assert!(
            message.contains("truncated") || message.contains("overflow"),
            "{message}"
        ),
        other => panic!("expected MalformedParams, got {other:?}"),
    }
    let mut overflow = Vec::new();
    write_tensor(&mut overflow, DType::F64, &[i64::MAX, 3], &[]);
    assert!(read_tensors(&overflow)
        .unwrap_err()
        .to_string()
        .contains("overflow"));
    // A hostile TensorDesc length.
    let mut desc_len = vec![0u8; 20];
    desc_len[16..20].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    assert!(read_tensors(&desc_len)
        .unwrap_err()
        .to_string()
        .contains("truncated"));
}

#[test]
fn every_unsupported_operator_is_listed_at_once() {
    // Legacy: rename two operators of a program.
    let (prog, params) = case_files("conv_basic", "legacy");
    let mut p = ProgramDesc::decode(prog.as_slice()).unwrap();
    let ops = &mut p.blocks[0].ops;
    let conv = ops.iter().position(|o| o.r#type == "conv2d").unwrap();
    ops[conv].r#type = "zz_custom_conv".into();
    let mut extra = ops[conv].clone();
    extra.r#type = "aa_custom".into();
    ops.insert(conv, extra.clone());
    ops.insert(conv, extra);
    let bytes = p.encode_to_vec();
    match import(&bytes, &params, &opts()) {
        Err(e @ Error::Unsupported { .. }) => {
            let Error::Unsupported { ops } = &e else {
                unreachable!()
            };
            assert_eq!(
                ops,
                &vec!["aa_custom".to_string(), "zz_custom_conv".to_string()]
            );
            assert!(e.to_string().contains("paddle2onnx"), "{e}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    // PIR: the same with pd_op names.
    let (prog, params) = case_files("conv_basic", "pir");
    let text = String::from_utf8(prog)
        .unwrap()
        .replace("\"1.conv2d\"", "\"1.frobnicate\"");
    match import(text.as_bytes(), &params, &opts()) {
        Err(Error::Unsupported { ops }) => assert_eq!(ops, vec!["pd_op.frobnicate".to_string()]),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn malformed_pir_structures_are_errors() {
    let (prog, params) = case_files("act_relu", "pir");
    let text = String::from_utf8(prog).unwrap();
    let variants = [
        text.replace("\"pir\"", "\"rip\""),
        text.replace("\"regions\"", "\"regionz\""),
        text.replace("{\"%\":", "{\"%%\":"),
        text.replace("\"1.fetch\"", "\"1.fetchx\""),
        text.replace("\"0.t_f32\"", "\"0.t_f99\""),
        text.replace("\"D\":", "\"D\":{\"deep\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},\"X\":"),
    ];
    for (i, v) in variants.iter().enumerate() {
        assert!(
            import(v.as_bytes(), &params, &opts()).is_err(),
            "variant {i} was accepted"
        );
    }
    // Deep nesting is refused by the JSON reader, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(import(deep.as_bytes(), &[], &opts()).is_err());
}

#[test]
fn legacy_structural_errors_are_reported() {
    let (prog, params) = case_files("act_relu", "legacy");
    let p = ProgramDesc::decode(prog.as_slice()).unwrap();
    // No fetch.
    let mut q = p.clone();
    q.blocks[0].ops.retain(|o| o.r#type != "fetch");
    match import(&q.encode_to_vec(), &params, &opts()) {
        Err(Error::MalformedProgram { message, .. }) => {
            assert!(message.contains("fetch"), "{message}")
        }
        other => panic!("expected MalformedProgram, got {other:?}"),
    }
    // No blocks.
    let q = ProgramDesc {
        blocks: vec![],
        ..p.clone()
    };
    assert!(matches!(
        import(&q.encode_to_vec(), &params, &opts()),
        Err(Error::MalformedProgram { .. })
    ));
    // An operator reading a value nothing defines (not a feed, param or op output).
    let mut q = p.clone();
    for op in q.blocks[0].ops.iter_mut().filter(|o| o.r#type == "relu") {
        op.inputs[0].arguments = vec!["nowhere".into()];
    }
    assert!(import(&q.encode_to_vec(), &params, &opts()).is_err());
}

#[test]
fn refusing_the_tail_reports_nms_as_unsupported() {
    let dir = common::data_dir().join("det").join("nms_multiclass_pixel");
    let prog = std::fs::read(dir.join("legacy.pdmodel")).unwrap();
    let params = std::fs::read(dir.join("legacy.pdiparams"))
        .or_else(|_| std::fs::read(dir.join("params.pdiparams")))
        .unwrap();
    let cut = import(&prog, &params, &opts()).unwrap();
    assert!(cut.tail.is_some());
    let o = ImportOptions::default().with_tail(modelseal_paddle::TailMode::Refuse);
    match import(&prog, &params, &o) {
        Err(Error::Unsupported { ops }) => assert_eq!(ops, vec!["multiclass_nms3".to_string()]),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn tail_inputs_are_checked() {
    use modelseal_paddle::Tensor;
    let dir = common::data_dir().join("det").join("nms_multiclass_pixel");
    let prog = std::fs::read(dir.join("legacy.pdmodel")).unwrap();
    let params = std::fs::read(dir.join("params.pdiparams"))
        .or_else(|_| std::fs::read(dir.join("legacy.pdiparams")))
        .unwrap();
    let imported = import(&prog, &params, &opts()).unwrap();
    let tail = imported.tail.unwrap();
    let names: Vec<String> = tail.inputs().iter().map(|i| i.name.clone()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // Missing input.
    let boxes = Tensor::f32(vec![1, 2, 4], vec![0.0, 0.0, 4.0, 4.0, 1.0, 1.0, 5.0, 5.0]);
    assert!(matches!(
        tail.run(&[(names[0].clone(), boxes.clone())]),
        Err(Error::Tail(_))
    ));
    // Wrong element type and mismatched shapes.
    let ints = Tensor::i64(vec![1, 3, 2], vec![0; 6]);
    assert!(matches!(
        tail.run(&[(names[0].clone(), boxes.clone()), (names[1].clone(), ints)]),
        Err(Error::Tail(_))
    ));
    let scores = Tensor::f32(vec![1, 3, 5], vec![0.5; 15]);
    assert!(matches!(
        tail.run(&[
            (names[0].clone(), boxes.clone()),
            (names[1].clone(), scores)
        ]),
        Err(Error::Tail(_))
    ));
    // An unknown name.
    assert!(matches!(
        tail.run(&[("nope".into(), boxes)]),
        Err(Error::Tail(_))
    ));
    // Well-formed: two overlapping boxes of one class, pixel IoU (+1) 25/49 > 0.45: one kept per class.
    let boxes = Tensor::f32(vec![1, 2, 4], vec![0.0, 0.0, 4.0, 4.0, 1.0, 1.0, 5.0, 5.0]);
    let scores = Tensor::f32(vec![1, 3, 2], vec![0.9, 0.8, 0.1, 0.2, 0.7, 0.95]);
    let out = tail
        .run(&[(names[0].clone(), boxes), (names[1].clone(), scores)])
        .unwrap();
    assert_eq!(out[0].shape, vec![2, 6]);
    assert_eq!(
        out[0].to_f32(),
        vec![0.0, 0.9, 0.0, 0.0, 4.0, 4.0, 2.0, 0.95, 1.0, 1.0, 5.0, 5.0]
    );
    assert_eq!(out[1].to_i64(), vec![2]);
}

/// Sets an integer-list attribute of every operator of a type in a legacy program.
fn set_ints(prog: &[u8], ty: &str, name: &str, v: &[i32]) -> Vec<u8> {
    let mut p = ProgramDesc::decode(prog).unwrap();
    for op in p.blocks[0].ops.iter_mut().filter(|o| o.r#type == ty) {
        let a = op.attrs.iter_mut().find(|a| a.name == name).unwrap();
        a.ints = v.to_vec();
    }
    p.encode_to_vec()
}

#[test]
fn hostile_attributes_are_errors_not_panics_or_huge_allocations() {
    let (prog, params) = case_files("conv_basic", "legacy");
    for bad in [&[0, 0][..], &[-3, 1], &[1 << 30, 1], &[1]] {
        let p = set_ints(&prog, "conv2d", "strides", bad);
        assert!(
            import(&p, &params, &opts()).is_err(),
            "strides {bad:?} accepted"
        );
        let p = set_ints(&prog, "conv2d", "dilations", bad);
        assert!(
            import(&p, &params, &opts()).is_err(),
            "dilations {bad:?} accepted"
        );
    }
    let p = set_ints(
        &prog,
        "conv2d",
        "paddings",
        &[i32::MAX, i32::MAX, i32::MIN, 7, 1],
    );
    assert!(import(&p, &params, &opts()).is_err());

    let (prog, params) = case_files("pool_max_k3_p1", "legacy");
    for bad in [&[0, 0][..], &[3, -1], &[i32::MAX, 1]] {
        let p = set_ints(&prog, "pool2d", "ksize", bad);
        assert!(
            import(&p, &params, &opts()).is_err(),
            "ksize {bad:?} accepted"
        );
        let p = set_ints(&prog, "pool2d", "strides", bad);
        assert!(
            import(&p, &params, &opts()).is_err(),
            "pool strides {bad:?} accepted"
        );
    }

    // A constant of 2^60 elements: refused, not allocated.
    let (prog, params) = case_files("full", "legacy");
    let mut p = ProgramDesc::decode(prog.as_slice()).unwrap();
    for op in p.blocks[0]
        .ops
        .iter_mut()
        .filter(|o| o.r#type == "fill_constant")
    {
        let a = op.attrs.iter_mut().find(|a| a.name == "shape").unwrap();
        a.longs = vec![1 << 30, 1 << 30];
        a.ints = vec![1 << 30, 1 << 30];
    }
    match import(&p.encode_to_vec(), &params, &opts()) {
        Err(Error::Unsupported { ops }) => assert!(ops[0].contains("too large"), "{ops:?}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }

    // Adaptive pooling to a million bins per axis: refused before building the graph.
    let (prog, params) = case_files("pool_adaptive_avg_nondiv", "legacy");
    let p = set_ints(&prog, "pool2d", "ksize", &[1 << 20, 3]);
    assert!(import(&p, &params, &opts()).is_err());
}
