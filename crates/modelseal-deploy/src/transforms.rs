//! Pre-processing operators with the exact semantics of their origin (PaddleX C++ 1.x,
//! PaddleClas, PaddleDetection, PaddleSeg deploy code), run on a decoded RGB image.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::image::{self, cv_round, Interp, Mat, Pixels};

/// How a resize op picks the output size.
#[derive(Debug, Clone, PartialEq)]
pub enum SizeRule {
    /// Exact `w x h` (PaddleX `Resize`, PaddleClas `ResizeImage{size}`, PaddleSeg `Resize`).
    Fixed {
        /// Width.
        w: usize,
        /// Height.
        h: usize,
    },
    /// PaddleDetection `Resize`: `target = [h, w]`; with `keep_ratio` one scale from the short
    /// side (capped by the long side), applied as `cv2.resize(fx, fy)`.
    DetScale {
        /// Target height.
        h: usize,
        /// Target width.
        w: usize,
        /// Keep the aspect ratio.
        keep_ratio: bool,
    },
    /// Short side to `short`, optionally capping the long side at `max_size`.
    /// `half_even` selects Python's `round` (PaddleClas/PaddleSeg) over C++ `round` (PaddleX).
    Short {
        /// Target short side.
        short: usize,
        /// Cap on the long side, if any.
        max_size: Option<usize>,
        /// Python rounding (half to even) instead of C rounding (half away from zero).
        half_even: bool,
    },
    /// PaddleSeg `Resize`: `w x h`, or with `keep_ratio` the image scaled by
    /// `min(max(w, h) / long side, min(w, h) / short side)` (Python rounding); then each side
    /// rounded up to a multiple of `size_divisor`.
    SegFit {
        /// Target width.
        w: usize,
        /// Target height.
        h: usize,
        /// Keep the aspect ratio.
        keep_ratio: bool,
        /// Round each side up to a multiple of this.
        size_divisor: Option<usize>,
    },
    /// Long side to `long`. `by_factor` is PaddleX C++ (`cv::resize(fx = fy = s)`), otherwise
    /// PaddleSeg (`dsize = round(side * s)`, Python rounding).
    Long {
        /// Target long side.
        long: usize,
        /// Use the scale factor form of `cv::resize`.
        by_factor: bool,
    },
}

/// Normalisation arithmetic of each origin.
#[derive(Debug, Clone, PartialEq)]
pub enum Norm {
    /// PaddleX C++: `((x - min) / (max - min) - mean) / std` in `f32` (min/max step only when
    /// `is_scale`).
    PaddleX {
        /// Per-channel mean.
        mean: [f32; 3],
        /// Per-channel std.
        std: [f32; 3],
        /// Per-channel min.
        min: [f32; 3],
        /// Per-channel max.
        max: [f32; 3],
        /// Apply the min/max rescaling.
        is_scale: bool,
    },
    /// PaddleClas `NormalizeImage`: `(x * scale - mean) / std`, all `f32`.
    Clas {
        /// Scale (e.g. 1/255).
        scale: f32,
        /// Per-channel mean.
        mean: [f32; 3],
        /// Per-channel std.
        std: [f32; 3],
    },
    /// PaddleDetection `NormalizeImage` (`x *= 1/255` in `f32`, then `-= mean`, `/= std` with
    /// `f64` mean/std) and PaddleSeg `Normalize` (`x / 255.0` in `f32`, same `f64` steps).
    MeanStd64 {
        /// `Some(true)`: multiply by 1/255; `Some(false)`: divide by 255; `None`: no scaling.
        scale_mul: Option<bool>,
        /// Per-channel mean (`f64`).
        mean: [f64; 3],
        /// Per-channel std (`f64`).
        std: [f64; 3],
    },
}

/// One pre-processing operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Resize.
    Resize {
        /// The op's name in the config.
        name: String,
        /// The size rule.
        rule: SizeRule,
        /// Interpolation.
        interp: Interp,
    },
    /// Centre crop `w x h` (PaddleX `CenterCrop`, PaddleClas `CropImage`).
    CenterCrop {
        /// The op's name.
        name: String,
        /// Crop width.
        w: usize,
        /// Crop height.
        h: usize,
    },
    /// Pad at the right and bottom to a fixed size and/or to a multiple of `stride`.
    Pad {
        /// The op's name.
        name: String,
        /// Target `(w, h)`.
        target: Option<(usize, usize)>,
        /// Pad to a multiple of this stride (when no target).
        stride: Option<usize>,
        /// Fill value per channel (in the colour order of the image).
        value: [f32; 3],
        /// Whether the output is float (PaddleDetection `Pad` builds a float canvas).
        to_f32: bool,
    },
    /// Normalisation (turns the image into `f32`).
    Normalize {
        /// The op's name.
        name: String,
        /// Arithmetic.
        norm: Norm,
    },
    /// Per-channel clamp (PaddleX `Clip`).
    Clip {
        /// The op's name.
        name: String,
        /// Per-channel minimum.
        min: [f32; 3],
        /// Per-channel maximum.
        max: [f32; 3],
    },
}

/// The whole pre-processing of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// Feed BGR instead of RGB to the model.
    pub bgr: bool,
    /// Convert to `f32` before the first op (PaddleX C++ and PaddleSeg work on float images).
    pub float_first: bool,
    /// The operators, in order.
    pub ops: Vec<Op>,
}

/// A geometric step, recorded to map outputs back to the original image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// A resize from `(h, w)`.
    Resize {
        /// Height before.
        h: usize,
        /// Width before.
        w: usize,
    },
    /// A right/bottom padding from `(h, w)`.
    Pad {
        /// Height before.
        h: usize,
        /// Width before.
        w: usize,
    },
    /// A crop from `(h, w)` at `(x, y)` (segmentation cannot be mapped back through it).
    Crop {
        /// Height before.
        h: usize,
        /// Width before.
        w: usize,
    },
}

/// The model input made from one image, with what the model and post-processing need.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// CHW `f32` data.
    pub chw: Vec<f32>,
    /// Tensor height.
    pub height: usize,
    /// Tensor width.
    pub width: usize,
    /// Original `(h, w)`.
    pub orig: (usize, usize),
    /// `(h, w)` after the last resize (PaddleDetection `im_shape`).
    pub resized: (usize, usize),
    /// `(scale_y, scale_x)` of the resizes (PaddleDetection `scale_factor`).
    pub scale: (f32, f32),
    /// Geometric steps in order.
    pub steps: Vec<Step>,
}

fn terr(name: &str, message: impl Into<String>) -> Error {
    Error::Transform {
        transform: name.to_string(),
        message: message.into(),
    }
}

fn round_c(v: f64) -> usize {
    v.round().max(0.0) as usize
}

fn round_py(v: f64) -> usize {
    v.round_ties_even().max(0.0) as usize
}

impl Pipeline {
    /// Runs the pipeline on an RGB `u8` image.
    pub fn run(&self, rgb: &Mat) -> Result<Prepared> {
        // Resizes and crops act on each channel alike, so the BGR swap (and the copy it needs)
        // waits until the first channel-dependent op, usually after the image got smaller.
        let mut pending_swap = self.bgr;
        let mut m: Cow<'_, Mat> = if self.float_first {
            Cow::Owned(rgb.to_f32())
        } else {
            Cow::Borrowed(rgb)
        };
        let orig = (m.height, m.width);
        let mut resized = orig;
        let mut scale = (1.0f32, 1.0f32);
        let mut steps = Vec::new();
        for op in &self.ops {
            match op {
                Op::Resize { name, rule, interp } => {
                    let (h0, w0) = (m.height, m.width);
                    let (w, h, fxy) = match rule {
                        SizeRule::Fixed { w, h } => (*w, *h, None),
                        SizeRule::DetScale { h, w, keep_ratio } => {
                            let (sy, sx) = if *keep_ratio {
                                let smin = h0.min(w0) as f64;
                                let smax = h0.max(w0) as f64;
                                let tmin = (*h).min(*w) as f64;
                                let tmax = (*h).max(*w) as f64;
                                let mut s = tmin / smin;
                                if (s * smax).round_ties_even() > tmax {
                                    s = tmax / smax;
                                }
                                (s, s)
                            } else {
                                (*h as f64 / h0 as f64, *w as f64 / w0 as f64)
                            };
                            let dw = cv_round(w0 as f64 * sx).max(0) as usize;
                            let dh = cv_round(h0 as f64 * sy).max(0) as usize;
                            (dw, dh, Some((sx, sy)))
                        }
                        SizeRule::Short {
                            short,
                            max_size,
                            half_even,
                        } => {
                            let r = if *half_even { round_py } else { round_c };
                            let mut s = *short as f64 / h0.min(w0) as f64;
                            if let Some(ms) = max_size {
                                if r(s * h0.max(w0) as f64) > *ms {
                                    s = *ms as f64 / h0.max(w0) as f64;
                                }
                            }
                            (r(s * w0 as f64), r(s * h0 as f64), None)
                        }
                        SizeRule::SegFit {
                            w,
                            h,
                            keep_ratio,
                            size_divisor,
                        } => {
                            let (mut tw, mut th) = (*w, *h);
                            if *keep_ratio {
                                let s = f64::min(
                                    tw.max(th) as f64 / w0.max(h0) as f64,
                                    tw.min(th) as f64 / w0.min(h0) as f64,
                                );
                                (tw, th) = (round_py(w0 as f64 * s), round_py(h0 as f64 * s));
                            }
                            if let Some(d) = size_divisor {
                                (tw, th) = (tw.div_ceil(*d) * d, th.div_ceil(*d) * d);
                            }
                            (tw, th, None)
                        }
                        SizeRule::Long { long, by_factor } => {
                            let s = *long as f64 / h0.max(w0) as f64;
                            if *by_factor {
                                (
                                    cv_round(w0 as f64 * s) as usize,
                                    cv_round(h0 as f64 * s) as usize,
                                    Some((s, s)),
                                )
                            } else {
                                (round_py(w0 as f64 * s), round_py(h0 as f64 * s), None)
                            }
                        }
                    };
                    m = Cow::Owned(
                        image::resize(&m, w, h, fxy, *interp).map_err(|e| terr(name, e))?,
                    );
                    steps.push(Step::Resize { h: h0, w: w0 });
                    let (sx, sy) = fxy.unwrap_or((w as f64 / w0 as f64, h as f64 / h0 as f64));
                    scale = (scale.0 * sy as f32, scale.1 * sx as f32);
                    resized = (m.height, m.width);
                }
                Op::CenterCrop { name, w, h } => {
                    if m.width < *w || m.height < *h {
                        return Err(terr(
                            name,
                            format!(
                                "image of {}x{} is smaller than the {}x{} crop",
                                m.width, m.height, w, h
                            ),
                        ));
                    }
                    let x = (m.width - w) / 2;
                    let y = (m.height - h) / 2;
                    steps.push(Step::Crop {
                        h: m.height,
                        w: m.width,
                    });
                    m = Cow::Owned(image::crop(&m, x, y, *w, *h));
                }
                Op::Pad {
                    name,
                    target,
                    stride,
                    value,
                    to_f32,
                } => {
                    let (tw, th) = match (target, stride) {
                        (Some((tw, th)), _) => (*tw, *th),
                        (None, Some(s)) if *s > 0 => {
                            (m.width.div_ceil(*s) * s, m.height.div_ceil(*s) * s)
                        }
                        _ => (m.width, m.height),
                    };
                    if tw < m.width || th < m.height {
                        return Err(terr(
                            name,
                            format!(
                                "image of {}x{} is larger than the {}x{} padding target",
                                m.width, m.height, tw, th
                            ),
                        ));
                    }
                    if std::mem::take(&mut pending_swap) {
                        m.to_mut().swap_rb();
                    }
                    steps.push(Step::Pad {
                        h: m.height,
                        w: m.width,
                    });
                    m = Cow::Owned(image::pad_right_bottom(&m, tw, th, *value, *to_f32));
                }
                Op::Normalize { norm, .. } => {
                    if std::mem::take(&mut pending_swap) {
                        m.to_mut().swap_rb();
                    }
                    m = Cow::Owned(normalize(m.into_owned(), norm));
                }
                Op::Clip { min, max, .. } => {
                    if std::mem::take(&mut pending_swap) {
                        m.to_mut().swap_rb();
                    }
                    let (w, h) = (m.width, m.height);
                    let mut f = m.into_owned().into_f32_vec();
                    for p in f.chunks_exact_mut(3) {
                        for c in 0..3 {
                            p[c] = p[c].clamp(min[c], max[c]);
                        }
                    }
                    m = Cow::Owned(Mat {
                        width: w,
                        height: h,
                        pixels: Pixels::F32(f),
                    });
                }
            }
        }
        if pending_swap {
            m.to_mut().swap_rb();
        }
        let (w, h) = (m.width, m.height);
        let hwc = m.into_owned().into_f32_vec();
        let plane = w * h;
        let mut chw = vec![0f32; plane * 3];
        for (i, p) in hwc.chunks_exact(3).enumerate() {
            chw[i] = p[0];
            chw[plane + i] = p[1];
            chw[2 * plane + i] = p[2];
        }
        Ok(Prepared {
            chw,
            height: h,
            width: w,
            orig,
            resized,
            scale,
            steps,
        })
    }
}

fn normalize(m: Mat, norm: &Norm) -> Mat {
    let (w, h) = (m.width, m.height);
    let mut f = m.into_f32_vec();
    match norm {
        Norm::PaddleX {
            mean,
            std,
            min,
            max,
            is_scale,
        } => {
            for p in f.chunks_exact_mut(3) {
                for c in 0..3 {
                    let mut v = p[c];
                    if *is_scale {
                        v = (v - min[c]) / (max[c] - min[c]);
                    }
                    p[c] = (v - mean[c]) / std[c];
                }
            }
        }
        Norm::Clas { scale, mean, std } => {
            for p in f.chunks_exact_mut(3) {
                for c in 0..3 {
                    p[c] = (p[c] * scale - mean[c]) / std[c];
                }
            }
        }
        Norm::MeanStd64 {
            scale_mul,
            mean,
            std,
        } => {
            let inv = (1.0f64 / 255.0) as f32;
            for p in f.chunks_exact_mut(3) {
                for c in 0..3 {
                    let mut v = p[c];
                    match scale_mul {
                        Some(true) => v *= inv,
                        Some(false) => v /= 255.0f32,
                        None => {}
                    }
                    let v = (v as f64 - mean[c]) as f32;
                    p[c] = (v as f64 / std[c]) as f32;
                }
            }
        }
    }
    Mat {
        width: w,
        height: h,
        pixels: Pixels::F32(f),
    }
}
