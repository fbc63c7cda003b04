//! Recurrent layers: Paddle's `rnn` operator (LSTM, GRU, simple RNN; stacked, bidirectional,
//! time-major, cudnn weight layout) as one ONNX LSTM/GRU/RNN per layer, gates reordered.

use super::{bad, unsupported, Ctx};
use crate::error::Result;
use crate::graph::{a_int, a_ints, a_str};
use crate::ir::Op;

pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    if op.ty != "rnn" {
        return Ok(false);
    }
    let x = op
        .input("Input")
        .ok_or_else(|| bad(op, "no Input"))?
        .to_string();
    let out = op
        .output("Out")
        .ok_or_else(|| bad(op, "no Out"))?
        .to_string();
    if !op.ins("SequenceLength").is_empty() {
        return Err(unsupported("rnn(SequenceLength)"));
    }
    let used_state = op.outs("State").iter().any(|s| {
        ctx.prog
            .ops
            .iter()
            .any(|o| o.inputs.iter().any(|(_, a)| a.contains(s)))
            || ctx.prog.fetches.iter().any(|(v, _)| v == s)
    });
    if used_state {
        return Err(unsupported("rnn(final states used)"));
    }
    let mode = op.str("mode").unwrap_or("LSTM").to_string();
    let (onnx_op, gates, order): (&str, usize, &[usize]) = match mode.as_str() {
        // Paddle (cudnn) gate blocks -> ONNX order.
        "LSTM" => ("LSTM", 4, &[0, 3, 1, 2]), // i f g o -> i o f c
        "GRU" => ("GRU", 3, &[1, 0, 2]),      // r z c -> z r h
        "RNN_TANH" | "RNN_RELU" => ("RNN", 1, &[0]),
        m => return Err(unsupported(format!("rnn(mode={m})"))),
    };
    let dirs: usize = if op.bool("is_bidirec").unwrap_or(false) {
        2
    } else {
        1
    };
    let layers = op.i64("num_layers").unwrap_or(1).max(1) as usize;
    let hidden = op
        .i64("hidden_size")
        .ok_or_else(|| bad(op, "no hidden_size"))?;
    let weights = op.ins("WeightList").to_vec();
    let pairs = layers * dirs;
    let has_bias = weights.len() == 4 * pairs;
    if weights.len() != 4 * pairs && weights.len() != 2 * pairs {
        return Err(bad(
            op,
            format!(
                "{} weights for {layers} layers x {dirs} directions",
                weights.len()
            ),
        ));
    }
    let states = op.ins("PreState").to_vec();
    let want_states = if mode == "LSTM" { 2 } else { 1 };
    if !states.is_empty() && states.len() != want_states {
        return Err(bad(op, format!("{} initial states", states.len())));
    }
    let reorder = |ctx: &mut Ctx, w: &str| -> String {
        if gates == 1 {
            return w.to_string();
        }
        let parts: Vec<String> = (0..gates)
            .map(|i| ctx.g.fresh(&format!("gate{i}")))
            .collect();
        let prefs: Vec<&str> = parts.iter().map(String::as_str).collect();
        ctx.g.add("Split", &[w], &prefs, vec![a_int("axis", 0)]);
        let ordered: Vec<&str> = order.iter().map(|&i| parts[i].as_str()).collect();
        ctx.g.op("Concat", &ordered, vec![a_int("axis", 0)])
    };
    let zero = ctx.g.i64s(&[0]);
    let mut v = x;
    for l in 0..layers {
        let (mut ws, mut rs, mut bs) = (Vec::new(), Vec::new(), Vec::new());
        for d in 0..dirs {
            let k = l * dirs + d;
            let w = reorder(ctx, &weights[2 * k]);
            let r = reorder(ctx, &weights[2 * k + 1]);
            ws.push(ctx.g.op("Unsqueeze", &[&w, &zero], vec![]));
            rs.push(ctx.g.op("Unsqueeze", &[&r, &zero], vec![]));
            if has_bias {
                let bi = reorder(ctx, &weights[2 * pairs + 2 * k]);
                let bh = reorder(ctx, &weights[2 * pairs + 2 * k + 1]);
                let b = ctx.g.op("Concat", &[&bi, &bh], vec![a_int("axis", 0)]);
                bs.push(ctx.g.op("Unsqueeze", &[&b, &zero], vec![]));
            }
        }
        let cat = |ctx: &mut Ctx, v: &[String]| -> String {
            let r: Vec<&str> = v.iter().map(String::as_str).collect();
            if r.len() == 1 {
                r[0].to_string()
            } else {
                ctx.g.op("Concat", &r, vec![a_int("axis", 0)])
            }
        };
        let w = cat(ctx, &ws);
        let r = cat(ctx, &rs);
        let b = if has_bias {
            cat(ctx, &bs)
        } else {
            String::new()
        };
        let slice_state = |ctx: &mut Ctx, s: &str| -> String {
            let st = ctx.g.i64s(&[(l * dirs) as i64]);
            let en = ctx.g.i64s(&[((l + 1) * dirs) as i64]);
            ctx.g.op("Slice", &[s, &st, &en, &zero], vec![])
        };
        let h0 = states
            .first()
            .map(|s| slice_state(ctx, s))
            .unwrap_or_default();
        let c0 = states
            .get(1)
            .map(|s| slice_state(ctx, s))
            .unwrap_or_default();
        let mut attrs = vec![
            a_int("hidden_size", hidden),
            a_str(
                "direction",
                if dirs == 2 {
                    "bidirectional"
                } else {
                    "forward"
                },
            ),
        ];
        match mode.as_str() {
            "GRU" => attrs.push(a_int("linear_before_reset", 1)),
            "RNN_RELU" => attrs.push(crate::graph::a_strs("activations", &vec!["Relu"; dirs])),
            _ => {}
        }
        let y = ctx.g.fresh("rnn_y");
        let mut inputs: Vec<&str> = vec![&v, &w, &r, &b, "", &h0];
        if mode == "LSTM" {
            inputs.push(&c0);
        }
        while inputs.last() == Some(&"") {
            inputs.pop();
        }
        ctx.g.add(onnx_op, &inputs, &[&y], attrs);
        // [T, D, N, H] -> [T, N, D*H]
        let t = ctx
            .g
            .op("Transpose", &[&y], vec![a_ints("perm", &[0, 2, 1, 3])]);
        let shape = ctx.g.i64s(&[0, 0, -1]);
        v = ctx.g.op("Reshape", &[&t, &shape], vec![]);
    }
    ctx.alias(&v, &out);
    Ok(true)
}
