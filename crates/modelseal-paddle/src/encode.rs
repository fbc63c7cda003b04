//! Serializes the ONNX model with each weight copied once: the model and graph are encoded by
//! prost without their initializers, which are appended as protobuf fields of their own, the
//! weights stored as the model takes them written straight from the parameters file.

use prost::encoding::{encode_varint, encoded_len_varint};
use prost::Message;
use zeroize::Zeroizing;

use crate::graph::Init;
use crate::proto::onnx::{GraphProto, ModelProto};

/// Wire keys (field number << 3 | length-delimited) of the three fields written by hand.
const MODEL_GRAPH: u8 = (7 << 3) | 2;
const GRAPH_INITIALIZER: u8 = (5 << 3) | 2;
const TENSOR_RAW_DATA: u8 = (9 << 3) | 2;

/// `model` (without a graph) with `graph` (without initializers) and `inits`, whose borrowed
/// bytes are ranges of `params`, as one serialized `ModelProto` in a zeroizing buffer. Protobuf
/// readers accept fields in any order and concatenate repeated ones, so the result is the model
/// prost would encode with the graph and its initializers in place.
pub(crate) fn model(
    model: &ModelProto,
    graph: &GraphProto,
    inits: &[Init],
    params: &[u8],
) -> Zeroizing<Vec<u8>> {
    debug_assert!(model.graph.is_none() && graph.initializer.is_empty());
    let metas: Vec<Zeroizing<Vec<u8>>> = inits
        .iter()
        .map(|i| Zeroizing::new(i.proto.encode_to_vec()))
        .collect();
    let raw = |i: &Init| -> &[u8] {
        i.from_params
            .as_ref()
            .map_or(&[][..], |r| &params[r.clone()])
    };
    let field_len = |len: usize| 1 + encoded_len_varint(len as u64) + len;
    let init_lens: Vec<usize> = inits
        .iter()
        .zip(&metas)
        .map(|(i, m)| {
            let r = raw(i).len();
            m.len() + if r > 0 { field_len(r) } else { 0 }
        })
        .collect();
    let graph_len = graph.encoded_len() + init_lens.iter().map(|&l| field_len(l)).sum::<usize>();
    let total = model.encoded_len() + field_len(graph_len);
    let mut buf = Zeroizing::new(Vec::with_capacity(total));
    let out: &mut Vec<u8> = &mut buf;
    model.encode_raw(out);
    out.push(MODEL_GRAPH);
    encode_varint(graph_len as u64, out);
    graph.encode_raw(out);
    for ((init, meta), len) in inits.iter().zip(&metas).zip(&init_lens) {
        out.push(GRAPH_INITIALIZER);
        encode_varint(*len as u64, out);
        out.extend_from_slice(meta);
        let r = raw(init);
        if !r.is_empty() {
            out.push(TENSOR_RAW_DATA);
            encode_varint(r.len() as u64, out);
            out.extend_from_slice(r);
        }
    }
    debug_assert_eq!(out.len(), total);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::onnx::{NodeProto, OperatorSetIdProto, TensorProto};

    fn init(name: &str, raw: Vec<u8>, from: Option<std::ops::Range<usize>>) -> Init {
        Init {
            proto: TensorProto {
                name: name.into(),
                data_type: 1,
                dims: vec![2],
                raw_data: raw,
                ..Default::default()
            },
            from_params: from,
        }
    }

    #[test]
    fn decodes_as_the_model_prost_would_write() {
        let params: Vec<u8> = (0u8..=255).cycle().take(70_000).collect();
        let model = ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: 17,
            }],
            producer_name: "p".into(),
            ..Default::default()
        };
        let graph = GraphProto {
            name: "g".into(),
            node: vec![NodeProto {
                op_type: "Add".into(),
                input: vec!["a".into(), "b".into()],
                output: vec!["c".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let inits = vec![
            init("a", vec![], Some(8..8 + 66_000)),
            init("b", vec![1, 2, 3, 4, 5, 6, 7, 8], None),
            init("empty", vec![], Some(3..3)),
            init("c", vec![], Some(0..8)),
        ];
        let bytes = super::model(&model, &graph, &inits, &params);
        let mut want = model.clone();
        let mut g = graph.clone();
        g.initializer = inits
            .iter()
            .map(|i| {
                let mut t = i.proto.clone();
                if let Some(r) = &i.from_params {
                    t.raw_data = params[r.clone()].to_vec();
                }
                t
            })
            .collect();
        want.graph = Some(g);
        assert_eq!(ModelProto::decode(&bytes[..]).unwrap(), want);
        assert_eq!(bytes.len(), want.encoded_len());
    }
}
