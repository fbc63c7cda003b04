//! Detection operators lowered into the ONNX graph (yolo_box, prior_box, box_coder).

use super::Ctx;
use crate::error::Result;
use crate::ir::Op;

pub(crate) fn emit(_ctx: &mut Ctx, _op: &Op) -> Result<bool> {
    Ok(false)
}
