//! PIR operators in legacy form: the legacy operator name, which legacy input slot each
//! positional operand fills, output slot names, and renamed attributes. Operands that PIR passes
//! as tensors where legacy programs used attributes (kernel sizes, axes, shapes...) go to tensor
//! slots; the translator folds them when they are constants.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::ir::{Attr, Op};

struct Form {
    legacy: String,
    ins: &'static [&'static str],
    outs: &'static [&'static str],
    renames: &'static [(&'static str, &'static str)],
}

const X: &[&str] = &["X"];
const XY: &[&str] = &["X", "Y"];
const OUT: &[&str] = &["Out"];
const NONE: &[(&str, &str)] = &[];

fn form(name: &str) -> Option<Form> {
    fn f(
        legacy: &str,
        ins: &'static [&'static str],
        outs: &'static [&'static str],
        renames: &'static [(&'static str, &'static str)],
    ) -> Option<Form> {
        Some(Form {
            legacy: legacy.to_string(),
            ins,
            outs,
            renames,
        })
    }
    let unary = |legacy: &str| f(legacy, X, OUT, NONE);
    let binary = |legacy: &str| f(legacy, XY, OUT, NONE);
    match name {
        "abs" | "ceil" | "cos" | "erf" | "exp" | "floor" | "log" | "reciprocal" | "relu"
        | "relu6" | "rsqrt" | "sigmoid" | "sign" | "silu" | "sin" | "softsign" | "sqrt"
        | "square" | "swish" | "tanh" | "logsigmoid" | "gelu" | "elu" | "selu" | "softplus"
        | "round" | "logical_not" | "assign" | "log_softmax" | "softmax" | "log2" | "log10"
        | "log1p" | "tan" | "asin" | "acos" | "atan" | "sinh" | "cosh" | "expm1" | "celu"
        | "thresholded_relu" | "isnan" | "isinf" | "bitwise_not" | "tanh_shrink" | "softshrink"
        | "hardshrink" | "stanh" | "numel" | "increment" | "isfinite" => unary(name),
        "hardswish" => unary("hard_swish"),
        "hardsigmoid" => unary("hard_sigmoid"),
        "hardtanh" => unary("brelu"),
        "mish" => f("mish", X, OUT, &[("lambda", "threshold")]),
        "leaky_relu" => f("leaky_relu", X, OUT, &[("negative_slope", "alpha")]),
        "cast" => f("cast", X, OUT, &[("dtype", "out_dtype")]),
        "pow" => f("pow", X, OUT, &[("y", "factor")]),
        "add" => binary("elementwise_add"),
        "subtract" => binary("elementwise_sub"),
        "multiply" => binary("elementwise_mul"),
        "divide" => binary("elementwise_div"),
        "maximum" => binary("elementwise_max"),
        "minimum" => binary("elementwise_min"),
        "elementwise_pow" => binary("elementwise_pow"),
        "floor_divide" => binary("elementwise_floordiv"),
        "remainder" => binary("elementwise_mod"),
        "equal" | "not_equal" | "greater_than" | "greater_equal" | "less_than" | "less_equal"
        | "logical_and" | "logical_or" | "logical_xor" => binary(name),
        "arange" => f("range", &["Start", "End", "Step"], OUT, NONE),
        "argmax" => f("arg_max", &["X", "AxisTensor"], OUT, NONE),
        "argmin" => f("arg_min", &["X", "AxisTensor"], OUT, NONE),
        "assign_value" => f("assign_value", &["Output"], OUT, NONE),
        "batch_norm" => f(
            "batch_norm",
            &["X", "Mean", "Variance", "Scale", "Bias"],
            &[
                "Y",
                "MeanOut",
                "VarianceOut",
                "SavedMean",
                "SavedVariance",
                "ReserveSpace",
            ],
            &[("data_format", "data_layout")],
        ),
        "bicubic_interp" | "bilinear_interp" | "nearest_interp" | "linear_interp"
        | "trilinear_interp" => f(
            &format!("{name}_v2"),
            &["X", "OutSize", "SizeTensor", "Scale"],
            OUT,
            &[("data_format", "data_layout")],
        ),
        "clip" => f("clip", &["X", "Min", "Max"], OUT, NONE),
        "concat" => f("concat", &["X", "AxisTensor"], OUT, NONE),
        "conv2d" | "depthwise_conv2d" => f(name, &["Input", "Filter"], &["Output"], NONE),
        "conv2d_transpose" | "depthwise_conv2d_transpose" => f(
            name,
            &["Input", "Filter", "OutputSizeTensor"],
            &["Output"],
            NONE,
        ),
        "cumsum" => f("cumsum", &["X", "AxisTensor"], OUT, NONE),
        "dropout" => f(
            "dropout",
            &["X", "Seed", "DropoutProbTensor"],
            &["Out", "Mask"],
            &[("mode", "dropout_implementation"), ("p", "dropout_prob")],
        ),
        "embedding" => f("lookup_table_v2", &["Ids", "W"], OUT, NONE),
        "expand" => f("expand_v2", &["X", "Shape"], OUT, NONE),
        "expand_as" => f("expand_as_v2", XY, OUT, NONE),
        "flatten" => f("flatten_contiguous_range", X, OUT, NONE),
        "full" => f("fill_constant", &[], OUT, NONE),
        "full_int_array" => f("full_int_array", &[], OUT, NONE),
        "full_like" => f("fill_any_like", &["X", "ValueTensor"], OUT, NONE),
        "full_with_tensor" => f(
            "full_with_tensor",
            &["ValueTensor", "ShapeTensor"],
            OUT,
            NONE,
        ),
        "gather" => f("gather", &["X", "Index", "Axis"], OUT, NONE),
        "gather_nd" => f("gather_nd", &["X", "Index"], OUT, NONE),
        "group_norm" => f(
            "group_norm",
            &["X", "Scale", "Bias"],
            &["Y", "Mean", "Variance"],
            &[("data_format", "data_layout")],
        ),
        "instance_norm" => f(
            "instance_norm",
            &["X", "Scale", "Bias"],
            &["Y", "SavedMean", "SavedVariance"],
            NONE,
        ),
        "layer_norm" => f(
            "layer_norm",
            &["X", "Scale", "Bias"],
            &["Y", "Mean", "Variance"],
            NONE,
        ),
        "logsumexp" => f("logsumexp", X, OUT, NONE),
        "matmul" => f(
            "matmul_v2",
            XY,
            OUT,
            &[("transpose_x", "trans_x"), ("transpose_y", "trans_y")],
        ),
        "max" | "min" | "mean" | "sum" | "prod" | "all" | "any" => f(
            match name {
                "max" => "reduce_max",
                "min" => "reduce_min",
                "mean" => "reduce_mean",
                "sum" => "reduce_sum",
                "prod" => "reduce_prod",
                "all" => "reduce_all",
                _ => "reduce_any",
            },
            &["X", "DimTensor"],
            OUT,
            &[("keepdim", "keep_dim"), ("dtype", "out_dtype")],
        ),
        // amax/amin take their axes as an attribute.
        "amax" | "amin" => f(
            if name == "amax" {
                "reduce_amax"
            } else {
                "reduce_amin"
            },
            X,
            OUT,
            &[("keepdim", "keep_dim"), ("axis", "dim")],
        ),
        "max_pool2d_with_index" => f(
            "max_pool2d_with_index",
            X,
            &["Out", "Mask"],
            &[("kernel_size", "ksize")],
        ),
        "p_norm" => f("p_norm", X, OUT, NONE),
        "pad" => f("pad", &["X", "PadValueTensor"], OUT, NONE),
        "pad3d" => f("pad3d", &["X", "Paddings"], OUT, &[("pad_value", "value")]),
        "pool2d" => f("pool2d", &["X", "KsizeTensor"], OUT, NONE),
        "prelu" => f("prelu", &["X", "Alpha"], OUT, NONE),
        "reshape" => f("reshape2", &["X", "Shape"], &["Out", "XShape"], NONE),
        "scale" => f("scale", &["X", "ScaleTensor"], OUT, NONE),
        "shape" => f("shape", &["Input"], OUT, NONE),
        "shape64" => f("shape64", &["Input"], OUT, NONE),
        "slice" => f("slice", &["Input", "StartsTensor", "EndsTensor"], OUT, NONE),
        "split" => f("split", &["X", "SectionsTensor", "AxisTensor"], OUT, NONE),
        "split_with_num" => f("split", &["X", "AxisTensor"], OUT, NONE),
        "squeeze" => f("squeeze2", &["X", "AxesTensor"], &["Out", "XShape"], NONE),
        "unsqueeze" => f("unsqueeze2", &["X", "AxesTensor"], &["Out", "XShape"], NONE),
        "stack" => f("stack", X, &["Y"], NONE),
        "strided_slice" => f(
            "strided_slice",
            &["Input", "StartsTensor", "EndsTensor", "StridesTensor"],
            OUT,
            NONE,
        ),
        "tile" => f("tile", &["X", "RepeatTimes"], OUT, NONE),
        "topk" => f("top_k_v2", &["X", "K"], &["Out", "Indices"], NONE),
        "transpose" => f("transpose2", X, &["Out", "XShape"], &[("perm", "axis")]),
        "unbind" => f("unbind", X, OUT, NONE),
        "where" => f("where", &["Condition", "X", "Y"], OUT, NONE),
        "argsort" => f("argsort", X, &["Out", "Indices"], NONE),
        "rnn" => f(
            "rnn",
            &[
                "Input",
                "PreState",
                "WeightList",
                "SequenceLength",
                "DropoutStateIn",
            ],
            &["Out", "DropoutState", "State", "Reserve"],
            NONE,
        ),
        "meshgrid" => f("meshgrid", X, OUT, NONE),
        "linspace" => f("linspace", &["Start", "Stop", "Num"], OUT, NONE),
        "one_hot" => f("one_hot_v2", &["X", "depth_tensor"], OUT, NONE),
        "index_select" => f("index_select", &["X", "Index"], OUT, &[("axis", "dim")]),
        "bmm" => f("bmm", XY, OUT, NONE),
        "masked_select" => f("masked_select", &["X", "Mask"], &["Y"], NONE),
        "nonzero" => f("where_index", &["Condition"], OUT, NONE),
        "multiclass_nms3" => f(
            "multiclass_nms3",
            &["BBoxes", "Scores", "RoisNum"],
            &["Out", "Index", "NmsRoisNum"],
            NONE,
        ),
        "matrix_nms" => f(
            "matrix_nms",
            &["BBoxes", "Scores"],
            &["Out", "Index", "RoisNum"],
            NONE,
        ),
        "yolo_box" => f("yolo_box", &["X", "ImgSize"], &["Boxes", "Scores"], NONE),
        "prior_box" => f(
            "prior_box",
            &["Input", "Image"],
            &["Boxes", "Variances"],
            NONE,
        ),
        "box_coder" => f(
            "box_coder",
            &["PriorBox", "PriorBoxVar", "TargetBox"],
            &["OutputBox"],
            NONE,
        ),
        "distribute_fpn_proposals" | "generate_proposals" | "roi_align" => None,
        _ => None,
    }
}

/// Converts one PIR operator (full name `pd_op.x`) into the legacy form. Operators without a
/// known form keep their PIR name, so the translator reports them as unsupported by that name.
pub(crate) fn convert(
    full: &str,
    operands: Vec<Vec<String>>,
    results: Vec<Vec<String>>,
    mut attrs: BTreeMap<String, Attr>,
) -> Result<Op> {
    let short = full.strip_prefix("pd_op.").unwrap_or(full);
    let base = short.strip_suffix('_').unwrap_or(short);
    let form = if full.starts_with("pd_op.") {
        form(base)
    } else {
        None
    };
    let Some(form) = form else {
        let name = |i: usize, prefix: &str| format!("{prefix}{i}");
        return Ok(Op {
            ty: full.to_string(),
            inputs: operands
                .into_iter()
                .enumerate()
                .map(|(i, a)| (name(i, "in"), a))
                .collect(),
            outputs: results
                .into_iter()
                .enumerate()
                .map(|(i, a)| (name(i, "out"), a))
                .collect(),
            attrs,
        });
    };
    for (from, to) in form.renames {
        if let Some(v) = attrs.remove(*from) {
            attrs.insert((*to).to_string(), v);
        }
    }
    let inputs = operands
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let slot = form
                .ins
                .get(i)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("in{i}"));
            (slot, a)
        })
        .collect();
    let outputs = results
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let slot = form
                .outs
                .get(i)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("out{i}"));
            (slot, a)
        })
        .collect();
    Ok(Op {
        ty: form.legacy,
        inputs,
        outputs,
        attrs,
    })
}
