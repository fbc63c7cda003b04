//! Images in memory (HWC, 3 channels, `u8` or `f32`), decoding, and OpenCV-exact geometric ops.
//! Resize reproduces OpenCV's `cv::resize` (fixed-point for `u8`, float for `f32`) bit for bit.

use crate::error::{Error, Result};

/// Interpolation methods, named as in OpenCV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interp {
    /// `INTER_NEAREST` (0).
    Nearest,
    /// `INTER_LINEAR` (1).
    Linear,
    /// `INTER_CUBIC` (2).
    Cubic,
    /// `INTER_AREA` (3).
    Area,
    /// `INTER_LANCZOS4` (4).
    Lanczos4,
}

impl Interp {
    /// The OpenCV name.
    pub fn name(self) -> &'static str {
        match self {
            Interp::Nearest => "NEAREST",
            Interp::Linear => "LINEAR",
            Interp::Cubic => "CUBIC",
            Interp::Area => "AREA",
            Interp::Lanczos4 => "LANCZOS4",
        }
    }
}

/// Pixel storage of a [`Mat`].
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// 8-bit pixels, as decoded.
    U8(Vec<u8>),
    /// 32-bit float pixels.
    F32(Vec<f32>),
}

/// An interleaved (HWC) 3-channel image.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Pixel data, `width * height * 3` values, row-major, channels interleaved.
    pub pixels: Pixels,
}

/// Channels per pixel (every image is converted to 3 channels at decode).
pub const CHANNELS: usize = 3;

impl Mat {
    /// A `u8` image from RGB (or BGR) interleaved bytes.
    pub fn from_u8(width: usize, height: usize, data: Vec<u8>) -> Mat {
        debug_assert_eq!(data.len(), width * height * CHANNELS);
        Mat {
            width,
            height,
            pixels: Pixels::U8(data),
        }
    }

    /// Converts to `f32` pixels (exact).
    pub fn to_f32(&self) -> Mat {
        match &self.pixels {
            Pixels::F32(_) => self.clone(),
            Pixels::U8(d) => Mat {
                width: self.width,
                height: self.height,
                pixels: Pixels::F32(d.iter().map(|&v| v as f32).collect()),
            },
        }
    }

    /// `f32` pixels, converting when needed.
    pub fn into_f32_vec(self) -> Vec<f32> {
        match self.pixels {
            Pixels::F32(d) => d,
            Pixels::U8(d) => d.into_iter().map(|v| v as f32).collect(),
        }
    }

    /// Swaps the first and third channel (RGB <-> BGR).
    pub fn swap_rb(&mut self) {
        match &mut self.pixels {
            Pixels::U8(d) => d.chunks_exact_mut(3).for_each(|p| p.swap(0, 2)),
            Pixels::F32(d) => d.chunks_exact_mut(3).for_each(|p| p.swap(0, 2)),
        }
    }
}

/// Decodes an encoded image (JPEG, PNG, BMP) to 3-channel RGB `u8`, the way OpenCV's
/// `imread(IMREAD_COLOR)` does for the channel count: grey is replicated, alpha is dropped.
/// `origin` names the image in errors.
pub fn decode(bytes: &[u8], origin: &str) -> Result<Mat> {
    if bytes.is_empty() {
        return Err(Error::Image {
            path: origin.to_string(),
            message: "file is empty".into(),
        });
    }
    let img = image::load_from_memory(bytes).map_err(|e| Error::Image {
        path: origin.to_string(),
        message: format!("cannot decode: {e}"),
    })?;
    let rgb = img.into_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    if w == 0 || h == 0 {
        return Err(Error::Image {
            path: origin.to_string(),
            message: "image has no pixels".into(),
        });
    }
    Ok(Mat::from_u8(w, h, rgb.into_raw()))
}

/// Reads and decodes an image file.
pub fn read_image(path: &std::path::Path) -> Result<Mat> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::Image {
        path: origin.clone(),
        message: format!("cannot read: {e}"),
    })?;
    decode(&bytes, &origin)
}

/// OpenCV's `saturate_cast<int>(double)` / `cvRound`: round half to even.
pub fn cv_round(v: f64) -> i64 {
    v.round_ties_even() as i64
}

const COEF_BITS: i32 = 11;
const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

fn sat_short(v: f32) -> i32 {
    let r = (v as f64).round_ties_even();
    r.clamp(i16::MIN as f64, i16::MAX as f64) as i32
}

/// Resizes to `dst_w x dst_h`, with OpenCV's scale convention: when `fx`/`fy` are given (the
/// `cv::resize(src, dst, Size(), fx, fy)` form) they set the sampling scale; otherwise the scale
/// is `dst/src`.
pub fn resize(
    src: &Mat,
    dst_w: usize,
    dst_h: usize,
    fxy: Option<(f64, f64)>,
    interp: Interp,
) -> std::result::Result<Mat, String> {
    if dst_w == 0 || dst_h == 0 {
        return Err(format!(
            "resize of a {}x{} image gives an empty {}x{} image",
            src.width, src.height, dst_w, dst_h
        ));
    }
    let (inv_sx, inv_sy) = fxy.unwrap_or((
        dst_w as f64 / src.width as f64,
        dst_h as f64 / src.height as f64,
    ));
    if dst_w == src.width && dst_h == src.height {
        return Ok(src.clone());
    }
    let scale_x = 1.0 / inv_sx;
    let scale_y = 1.0 / inv_sy;
    let mut interp = interp;
    // OpenCV: an exact 2x downscale with INTER_LINEAR is done by INTER_AREA's fast path.
    let iscale_x = scale_x.round_ties_even();
    let iscale_y = scale_y.round_ties_even();
    let is_area_fast =
        (scale_x - iscale_x).abs() < f64::EPSILON && (scale_y - iscale_y).abs() < f64::EPSILON;
    if interp == Interp::Linear && is_area_fast && iscale_x == 2.0 && iscale_y == 2.0 {
        interp = Interp::Area;
    }
    match interp {
        Interp::Nearest => Ok(resize_nearest(src, dst_w, dst_h, scale_x, scale_y)),
        Interp::Linear => Ok(resize_linear(src, dst_w, dst_h, scale_x, scale_y)),
        Interp::Area if is_area_fast => Ok(resize_area_fast(
            src,
            dst_w,
            dst_h,
            iscale_x as usize,
            iscale_y as usize,
        )),
        Interp::Cubic => Ok(resize_cubic(src, dst_w, dst_h, scale_x, scale_y)),
        Interp::Area => Err("INTER_AREA with a non-integer scale is not supported; accepted: NEAREST, LINEAR, CUBIC, LANCZOS4, or AREA at integer scales".into()),
        Interp::Lanczos4 => Ok(resize_lanczos4(src, dst_w, dst_h, scale_x, scale_y)),
    }
}

fn resize_nearest(src: &Mat, dw: usize, dh: usize, scale_x: f64, scale_y: f64) -> Mat {
    let xofs: Vec<usize> = (0..dw)
        .map(|x| (((x as f64) * scale_x).floor() as usize).min(src.width - 1))
        .collect();
    let yofs: Vec<usize> = (0..dh)
        .map(|y| (((y as f64) * scale_y).floor() as usize).min(src.height - 1))
        .collect();
    fn go<T: Copy>(s: &[T], sw: usize, xofs: &[usize], yofs: &[usize]) -> Vec<T> {
        let mut out = Vec::with_capacity(xofs.len() * yofs.len() * 3);
        for &sy in yofs {
            let row = &s[sy * sw * 3..(sy + 1) * sw * 3];
            for &sx in xofs {
                out.extend_from_slice(&row[sx * 3..sx * 3 + 3]);
            }
        }
        out
    }
    let pixels = match &src.pixels {
        Pixels::U8(d) => Pixels::U8(go(d, src.width, &xofs, &yofs)),
        Pixels::F32(d) => Pixels::F32(go(d, src.width, &xofs, &yofs)),
    };
    Mat {
        width: dw,
        height: dh,
        pixels,
    }
}

/// Per destination row: the two (clamped) source rows and weights. OpenCV does not clamp the
/// vertical weight at the borders; it clamps the row indices instead.
fn linear_coeffs_y(dn: usize, sn: usize, scale: f64) -> Vec<(usize, usize, f32, f32)> {
    (0..dn)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let s = f.floor() as i64;
            let f = f - s as f32;
            let r0 = s.clamp(0, sn as i64 - 1) as usize;
            let r1 = (s + 1).clamp(0, sn as i64 - 1) as usize;
            (r0, r1, 1.0 - f, f)
        })
        .collect()
}

/// Per destination column: source index and the two weights, as OpenCV computes them.
fn linear_coeffs(dn: usize, sn: usize, scale: f64) -> Vec<(usize, f32, f32)> {
    (0..dn)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let mut s = f.floor() as i64;
            let mut f = f - s as f32;
            if s < 0 {
                s = 0;
                f = 0.0;
            }
            if s >= sn as i64 - 1 {
                s = sn as i64 - 1;
                f = 0.0;
            }
            (s as usize, 1.0 - f, f)
        })
        .collect()
}

fn resize_linear(src: &Mat, dw: usize, dh: usize, scale_x: f64, scale_y: f64) -> Mat {
    let sw = src.width;
    let xc = linear_coeffs(dw, sw, scale_x);
    let yc = linear_coeffs_y(dh, src.height, scale_y);
    match &src.pixels {
        Pixels::U8(s) => {
            let xi: Vec<(usize, i32, i32)> = xc
                .iter()
                .map(|&(sx, a0, a1)| (sx, sat_short(a0 * COEF_SCALE), sat_short(a1 * COEF_SCALE)))
                .collect();
            let hrow = |sy: usize| -> Vec<i32> {
                let row = &s[sy * sw * 3..(sy + 1) * sw * 3];
                let mut out = vec![0i32; dw * 3];
                for (dx, &(sx, a0, a1)) in xi.iter().enumerate() {
                    for c in 0..3 {
                        let p0 = row[sx * 3 + c] as i32;
                        out[dx * 3 + c] = if sx + 1 < sw {
                            p0 * a0 + row[(sx + 1) * 3 + c] as i32 * a1
                        } else {
                            p0 * (1 << COEF_BITS)
                        };
                    }
                }
                out
            };
            let mut out = Vec::with_capacity(dw * dh * 3);
            let mut cache: Option<(usize, Vec<i32>)> = None;
            let mut cache2: Option<(usize, Vec<i32>)> = None;
            for &(sy, sy1, b0f, b1f) in &yc {
                let b0 = sat_short(b0f * COEF_SCALE);
                let b1 = sat_short(b1f * COEF_SCALE);
                let r0 = match &cache {
                    Some((y, r)) if *y == sy => r.clone(),
                    _ => match &cache2 {
                        Some((y, r)) if *y == sy => r.clone(),
                        _ => hrow(sy),
                    },
                };
                let r1 = match &cache2 {
                    Some((y, r)) if *y == sy1 => r.clone(),
                    _ => hrow(sy1),
                };
                for i in 0..dw * 3 {
                    let v = ((b0 * (r0[i] >> 4)) >> 16) + ((b1 * (r1[i] >> 4)) >> 16) + 2;
                    out.push((v >> 2).clamp(0, 255) as u8);
                }
                cache = Some((sy, r0));
                cache2 = Some((sy1, r1));
            }
            Mat {
                width: dw,
                height: dh,
                pixels: Pixels::U8(out),
            }
        }
        Pixels::F32(s) => {
            let hrow = |sy: usize| -> Vec<f32> {
                let row = &s[sy * sw * 3..(sy + 1) * sw * 3];
                let mut out = vec![0f32; dw * 3];
                for (dx, &(sx, a0, a1)) in xc.iter().enumerate() {
                    for c in 0..3 {
                        let p0 = row[sx * 3 + c];
                        out[dx * 3 + c] = if sx + 1 < sw {
                            p0 * a0 + row[(sx + 1) * 3 + c] * a1
                        } else {
                            p0
                        };
                    }
                }
                out
            };
            let mut out = Vec::with_capacity(dw * dh * 3);
            for &(sy, sy1, b0, b1) in &yc {
                let r0 = hrow(sy);
                let r1 = hrow(sy1);
                for i in 0..dw * 3 {
                    out.push(r0[i] * b0 + r1[i] * b1);
                }
            }
            Mat {
                width: dw,
                height: dh,
                pixels: Pixels::F32(out),
            }
        }
    }
}

/// OpenCV's `interpolateCubic` (A = -0.75).
fn cubic_coeffs(x: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let c0 = ((A * (x + 1.0) - 5.0 * A) * (x + 1.0) + 8.0 * A) * (x + 1.0) - 4.0 * A;
    let c1 = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let c2 = ((A + 2.0) * (1.0 - x) - (A + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
    [c0, c1, c2, 1.0 - c0 - c1 - c2]
}

/// OpenCV's `interpolateLanczos4`: an 8-tap Lanczos window (a = 4), normalised to sum 1.
fn lanczos4_coeffs(x: f32) -> [f32; 8] {
    const S45: f64 = std::f64::consts::FRAC_1_SQRT_2;
    const CS: [[f64; 2]; 8] = [
        [1.0, 0.0],
        [-S45, -S45],
        [0.0, 1.0],
        [S45, -S45],
        [-1.0, 0.0],
        [S45, S45],
        [0.0, -1.0],
        [-S45, S45],
    ];
    let y0 = -(x as f64 + 3.0) * std::f64::consts::PI * 0.25;
    let (s0, c0) = (y0.sin(), y0.cos());
    let mut c = [0f32; 8];
    let mut sum = 0f32;
    for i in 0..8 {
        let y0_ = x + 3.0 - i as f32;
        c[i] = if y0_.abs() >= 1e-6 {
            let y = -(y0_ as f64) * std::f64::consts::PI * 0.25;
            ((CS[i][0] * s0 + CS[i][1] * c0) / (y * y)) as f32
        } else {
            1e30
        };
        sum += c[i];
    }
    let inv = 1.0 / sum;
    c.map(|v| v * inv)
}

/// Kernel weights in 11-bit fixed point; with `correct_sum`, the largest one is corrected so that
/// they sum to exactly 2048 (a flat image stays flat). OpenCV 5 does this for cubic, not for
/// Lanczos4 (as the goldens show).
fn fixed_taps<const K: usize>(c: &[f32; K], correct_sum: bool) -> [i32; K] {
    let mut a = c.map(|v| sat_short(v * COEF_SCALE));
    if !correct_sum {
        return a;
    }
    let diff = (1 << COEF_BITS) - a.iter().sum::<i32>();
    let imax = (1..K).fold(0, |m, k| if a[k] > a[m] { k } else { m });
    a[imax] += diff;
    a
}

/// Per destination coordinate: the `K` clamped source indices and weights (replicated border).
fn kernel_taps<const K: usize>(
    dn: usize,
    sn: usize,
    scale: f64,
    coeffs: fn(f32) -> [f32; K],
) -> Vec<([usize; K], [f32; K])> {
    (0..dn)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let s = f.floor() as i64;
            let c = coeffs(f - s as f32);
            let first = s - (K as i64 / 2 - 1);
            let idx = std::array::from_fn(|k| (first + k as i64).clamp(0, sn as i64 - 1) as usize);
            (idx, c)
        })
        .collect()
}

/// `INTER_CUBIC`: 4x4 taps with OpenCV's coefficients (A = -0.75) and replicated borders;
/// `u8` in 11-bit fixed point. Not bit-exact on `u8`: a few values in a thousand differ from
/// OpenCV 5 by one level (`f32` agrees to float rounding).
fn resize_cubic(src: &Mat, dw: usize, dh: usize, scale_x: f64, scale_y: f64) -> Mat {
    resize_kernel(src, dw, dh, (scale_x, scale_y), cubic_coeffs, true)
}

/// `INTER_LANCZOS4`: 8x8 taps with OpenCV's coefficients and replicated borders; on `u8` within
/// one level of OpenCV, like cubic.
fn resize_lanczos4(src: &Mat, dw: usize, dh: usize, scale_x: f64, scale_y: f64) -> Mat {
    resize_kernel(src, dw, dh, (scale_x, scale_y), lanczos4_coeffs, false)
}

/// Separable resize with a `K`-tap kernel: horizontal pass per source row, then vertical.
#[allow(clippy::needless_range_loop)] // index form mirrors OpenCV's loops
fn resize_kernel<const K: usize>(
    src: &Mat,
    dw: usize,
    dh: usize,
    (scale_x, scale_y): (f64, f64),
    coeffs: fn(f32) -> [f32; K],
    correct_sum: bool,
) -> Mat {
    let sw = src.width;
    let xt = kernel_taps(dw, sw, scale_x, coeffs);
    let yt = kernel_taps(dh, src.height, scale_y, coeffs);
    match &src.pixels {
        Pixels::U8(s) => {
            let xi: Vec<([usize; K], [i32; K])> = xt
                .iter()
                .map(|(i, c)| (*i, fixed_taps(c, correct_sum)))
                .collect();
            let hrows: Vec<Vec<i32>> = (0..src.height)
                .map(|sy| {
                    let row = &s[sy * sw * 3..(sy + 1) * sw * 3];
                    let mut out = vec![0i32; dw * 3];
                    for (dx, (idx, a)) in xi.iter().enumerate() {
                        for c in 0..3 {
                            let mut v = 0i32;
                            for k in 0..K {
                                v += row[idx[k] * 3 + c] as i32 * a[k];
                            }
                            out[dx * 3 + c] = v;
                        }
                    }
                    out
                })
                .collect();
            let scale = 1.0f32 / (COEF_SCALE * COEF_SCALE);
            let mut out = Vec::with_capacity(dw * dh * 3);
            for (idx, b) in &yt {
                let bi = fixed_taps(b, correct_sum).map(|v| v as f32 * scale);
                for i in 0..dw * 3 {
                    let mut v = 0f32;
                    for k in 0..K {
                        v += hrows[idx[k]][i] as f32 * bi[k];
                    }
                    out.push((v.round_ties_even()).clamp(0.0, 255.0) as u8);
                }
            }
            Mat {
                width: dw,
                height: dh,
                pixels: Pixels::U8(out),
            }
        }
        Pixels::F32(s) => {
            let hrows: Vec<Vec<f32>> = (0..src.height)
                .map(|sy| {
                    let row = &s[sy * sw * 3..(sy + 1) * sw * 3];
                    let mut out = vec![0f32; dw * 3];
                    for (dx, (idx, a)) in xt.iter().enumerate() {
                        for c in 0..3 {
                            let mut v = 0f32;
                            for k in 0..K {
                                v += row[idx[k] * 3 + c] * a[k];
                            }
                            out[dx * 3 + c] = v;
                        }
                    }
                    out
                })
                .collect();
            let mut out = Vec::with_capacity(dw * dh * 3);
            for (idx, b) in &yt {
                for i in 0..dw * 3 {
                    let mut v = 0f32;
                    for k in 0..K {
                        v += hrows[idx[k]][i] * b[k];
                    }
                    out.push(v);
                }
            }
            Mat {
                width: dw,
                height: dh,
                pixels: Pixels::F32(out),
            }
        }
    }
}

fn resize_area_fast(src: &Mat, dw: usize, dh: usize, kx: usize, ky: usize) -> Mat {
    let sw = src.width;
    let sh = src.height;
    let area = (kx * ky) as f32;
    let mut acc = vec![0f64; dw * dh * 3];
    let get = |x: usize, y: usize, c: usize| -> f64 {
        let x = x.min(sw - 1);
        let y = y.min(sh - 1);
        match &src.pixels {
            Pixels::U8(d) => d[(y * sw + x) * 3 + c] as f64,
            Pixels::F32(d) => d[(y * sw + x) * 3 + c] as f64,
        }
    };
    for dy in 0..dh {
        for dx in 0..dw {
            for c in 0..3 {
                let mut s = 0f64;
                for j in 0..ky {
                    for i in 0..kx {
                        s += get(dx * kx + i, dy * ky + j, c);
                    }
                }
                acc[(dy * dw + dx) * 3 + c] = s;
            }
        }
    }
    let pixels = match &src.pixels {
        Pixels::U8(_) => {
            let n = (kx * ky) as u32;
            Pixels::U8(
                acc.iter()
                    .map(|&s| ((s as u32 + n / 2) / n).min(255) as u8)
                    .collect(),
            )
        }
        Pixels::F32(_) => Pixels::F32(acc.iter().map(|&s| (s as f32) / area).collect()),
    };
    Mat {
        width: dw,
        height: dh,
        pixels,
    }
}

/// Crops `w x h` at `(x, y)`; the caller checks the bounds.
pub fn crop(src: &Mat, x: usize, y: usize, w: usize, h: usize) -> Mat {
    fn go<T: Copy>(s: &[T], sw: usize, x: usize, y: usize, w: usize, h: usize) -> Vec<T> {
        let mut out = Vec::with_capacity(w * h * 3);
        for r in y..y + h {
            out.extend_from_slice(&s[(r * sw + x) * 3..(r * sw + x + w) * 3]);
        }
        out
    }
    let pixels = match &src.pixels {
        Pixels::U8(d) => Pixels::U8(go(d, src.width, x, y, w, h)),
        Pixels::F32(d) => Pixels::F32(go(d, src.width, x, y, w, h)),
    };
    Mat {
        width: w,
        height: h,
        pixels,
    }
}

/// Pads at the right and bottom to `w x h` with a constant per channel; the result is `f32`
/// unless the value fits `u8` exactly and the image is `u8` (OpenCV `copyMakeBorder`).
pub fn pad_right_bottom(src: &Mat, w: usize, h: usize, value: [f32; 3], force_f32: bool) -> Mat {
    let int_value = value
        .iter()
        .all(|v| v.fract() == 0.0 && (0.0..=255.0).contains(v));
    let pixels = match (&src.pixels, int_value && !force_f32) {
        (Pixels::U8(d), true) => {
            let fill = [value[0] as u8, value[1] as u8, value[2] as u8];
            Pixels::U8(pad_pixels(d, src.width, src.height, w, h, fill))
        }
        _ => {
            let f = src.to_f32();
            let Pixels::F32(d) = &f.pixels else {
                unreachable!("to_f32 returns f32 pixels")
            };
            Pixels::F32(pad_pixels(d, src.width, src.height, w, h, value))
        }
    };
    Mat {
        width: w,
        height: h,
        pixels,
    }
}

/// Copies `sw x sh` interleaved 3-channel pixels into a `w x h` image filled with `fill` elsewhere.
fn pad_pixels<T: Copy>(d: &[T], sw: usize, sh: usize, w: usize, h: usize, fill: [T; 3]) -> Vec<T> {
    let mut out = Vec::with_capacity(w * h * 3);
    for r in 0..h {
        for c in 0..w {
            if r < sh && c < sw {
                let i = (r * sw + c) * 3;
                out.extend_from_slice(&d[i..i + 3]);
            } else {
                out.extend_from_slice(&fill);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_upscale_u8_interpolates_between_neighbours() {
        // 2x1 -> 4x1: OpenCV gives [0, 64, 191, 255] for [0, 255] (half-pixel centres, clamped ends).
        let m = Mat::from_u8(2, 1, vec![0, 0, 0, 255, 255, 255]);
        let r = resize(&m, 4, 1, None, Interp::Linear).unwrap();
        let Pixels::U8(d) = r.pixels else { panic!() };
        let ch0: Vec<u8> = d.chunks(3).map(|p| p[0]).collect();
        assert_eq!(ch0, vec![0, 64, 191, 255]);
    }

    #[test]
    fn two_x_downscale_averages_blocks() {
        let m = Mat::from_u8(2, 2, vec![0, 0, 0, 10, 10, 10, 20, 20, 20, 31, 31, 31]);
        let r = resize(&m, 1, 1, None, Interp::Linear).unwrap();
        let Pixels::U8(d) = r.pixels else { panic!() };
        assert_eq!(d, vec![15, 15, 15]);
    }

    #[test]
    fn empty_target_is_an_error() {
        let m = Mat::from_u8(2, 2, vec![0; 12]);
        assert!(resize(&m, 0, 2, None, Interp::Linear).is_err());
    }

    #[test]
    fn decode_rejects_garbage_and_empty() {
        let e = decode(b"not an image", "x.jpg").unwrap_err().to_string();
        assert!(e.contains("x.jpg") && e.contains("cannot decode"), "{e}");
        let e = decode(b"", "y.png").unwrap_err().to_string();
        assert!(e.contains("y.png") && e.contains("empty"), "{e}");
    }
}
