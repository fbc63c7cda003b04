//! `cv::resize` as OpenCV's own code computes it: nearest, bilinear (fixed point on `u8`), and the
//! dispatch to the area and kernel (cubic, Lanczos4) paths.

use super::area::{area, area_fast};
use super::kernel::{cubic_coeffs, lanczos4_coeffs, resize_kernel};
use super::{Interp, Mat, Pixels, CHANNELS};

/// OpenCV's `saturate_cast<int>(double)` / `cvRound`: round half to even.
pub fn cv_round(v: f64) -> i64 {
    v.round_ties_even() as i64
}

pub(super) const COEF_BITS: i32 = 11;
pub(super) const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

pub(super) fn sat_short(v: f32) -> i32 {
    let r = (v as f64).round_ties_even();
    r.clamp(i16::MIN as f64, i16::MAX as f64) as i32
}

/// Resizes to `dst_w x dst_h`, with OpenCV's scale convention: when `fx`/`fy` are given (the
/// `cv::resize(src, dst, Size(), fx, fy)` form) they set the sampling scale; otherwise the scale
/// is `dst/src`.
///
/// Every method follows OpenCV's own code (`imgproc/src/resize.cpp`) step for step, including
/// its fixed-point arithmetic on `u8` and its order of float operations, so `u8` results are
/// bit-exact with OpenCV. One caveat: OpenCV builds that include Intel IPP (the PyPI wheels do)
/// hand `u8` `INTER_CUBIC` to IPP, whose results differ from OpenCV's own code by one level in
/// a few pixels in a hundred; modelseal matches OpenCV's own code (`cv2.ipp.setUseIPP(False)`).
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
    let inv = fxy.unwrap_or((
        dst_w as f64 / src.width as f64,
        dst_h as f64 / src.height as f64,
    ));
    if dst_w == src.width && dst_h == src.height {
        return Ok(src.clone());
    }
    let scale = (1.0 / inv.0, 1.0 / inv.1);
    let mut interp = interp;
    // OpenCV: an exact 2x downscale with INTER_LINEAR is done by INTER_AREA's fast path.
    let iscale_x = scale.0.round_ties_even();
    let iscale_y = scale.1.round_ties_even();
    let is_area_fast =
        (scale.0 - iscale_x).abs() < f64::EPSILON && (scale.1 - iscale_y).abs() < f64::EPSILON;
    if interp == Interp::Linear && is_area_fast && iscale_x == 2.0 && iscale_y == 2.0 {
        interp = Interp::Area;
    }
    let (sw, sh) = (src.width, src.height);
    let pixels = match interp {
        Interp::Nearest => return Ok(resize_nearest(src, dst_w, dst_h, scale.0, scale.1)),
        Interp::Linear => return Ok(resize_linear(src, dst_w, dst_h, scale, None)),
        // True area averaging exists only for downscaling on both axes; OpenCV emulates the
        // other cases with a bilinear variant.
        Interp::Area if scale.0 < 1.0 || scale.1 < 1.0 => {
            return Ok(resize_linear(src, dst_w, dst_h, scale, Some(inv)))
        }
        Interp::Area if is_area_fast => {
            let k = (iscale_x as usize, iscale_y as usize);
            match &src.pixels {
                Pixels::U8(s) => Pixels::U8(area_fast(s, (sw, sh), (dst_w, dst_h), k)),
                Pixels::F32(s) => Pixels::F32(area_fast(s, (sw, sh), (dst_w, dst_h), k)),
            }
        }
        Interp::Area => match &src.pixels {
            Pixels::U8(s) => Pixels::U8(area(s, (sw, sh), (dst_w, dst_h), scale)),
            Pixels::F32(s) => Pixels::F32(area(s, (sw, sh), (dst_w, dst_h), scale)),
        },
        Interp::Cubic => return Ok(resize_kernel(src, dst_w, dst_h, scale, cubic_coeffs)),
        Interp::Lanczos4 => return Ok(resize_kernel(src, dst_w, dst_h, scale, lanczos4_coeffs)),
    };
    Ok(Mat {
        width: dst_w,
        height: dst_h,
        pixels,
    })
}

fn resize_nearest(src: &Mat, dw: usize, dh: usize, scale_x: f64, scale_y: f64) -> Mat {
    let pixels = match &src.pixels {
        Pixels::U8(d) => Pixels::U8(nearest(
            d,
            (src.width, src.height),
            CHANNELS,
            (dw, dh),
            (scale_x, scale_y),
        )),
        Pixels::F32(d) => Pixels::F32(nearest(
            d,
            (src.width, src.height),
            CHANNELS,
            (dw, dh),
            (scale_x, scale_y),
        )),
    };
    Mat {
        width: dw,
        height: dh,
        pixels,
    }
}

/// OpenCV's `INTER_NEAREST` sampling of `channels` interleaved values per pixel: destination
/// `(x, y)` takes source `(floor(x * scale_x), floor(y * scale_y))`, clamped.
fn nearest<T: Copy>(
    s: &[T],
    (sw, sh): (usize, usize),
    channels: usize,
    (dw, dh): (usize, usize),
    (scale_x, scale_y): (f64, f64),
) -> Vec<T> {
    let xofs: Vec<usize> = (0..dw)
        .map(|x| (((x as f64) * scale_x).floor() as usize).min(sw - 1))
        .collect();
    let mut out = Vec::with_capacity(dw * dh * channels);
    for y in 0..dh {
        let sy = (((y as f64) * scale_y).floor() as usize).min(sh - 1);
        let row = &s[sy * sw * channels..(sy + 1) * sw * channels];
        for &sx in &xofs {
            out.extend_from_slice(&row[sx * channels..(sx + 1) * channels]);
        }
    }
    out
}

/// Nearest-neighbour resize of a one-byte-per-pixel plane (a label map), as OpenCV's
/// `INTER_NEAREST` with the scale `src/dst`.
pub fn resize_plane_nearest(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<u8> {
    nearest(
        src,
        (sw, sh),
        1,
        (dw, dh),
        (sw as f64 / dw as f64, sh as f64 / dh as f64),
    )
}

/// Source position of destination index `d` as OpenCV computes it, split into the integer
/// index and the fraction: the half-pixel mapping, or, for `INTER_AREA` when enlarging (`area_inv`
/// is the inverse scale), the mapping that keeps whole source pixels where cells cover them.
pub(super) fn src_pos(d: usize, scale: f64, area_inv: Option<f64>) -> (i64, f32) {
    match area_inv {
        None => {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let s = f.floor();
            (s as i64, f - s)
        }
        Some(inv) => {
            let s = (d as f64 * scale).floor() as i64;
            let f = ((d + 1) as f64 - (s + 1) as f64 * inv) as f32;
            (s, if f <= 0.0 { 0.0 } else { f - f.floor() })
        }
    }
}

/// Per destination row: the two (clamped) source rows and weights. OpenCV does not clamp the
/// vertical weight at the borders; it clamps the row indices instead.
fn linear_coeffs_y(
    dn: usize,
    sn: usize,
    scale: f64,
    area_inv: Option<f64>,
) -> Vec<(usize, usize, f32, f32)> {
    (0..dn)
        .map(|d| {
            let (s, f) = src_pos(d, scale, area_inv);
            let r0 = s.clamp(0, sn as i64 - 1) as usize;
            let r1 = (s + 1).clamp(0, sn as i64 - 1) as usize;
            (r0, r1, 1.0 - f, f)
        })
        .collect()
}

/// Per destination column: source index and the two weights, as OpenCV computes them.
fn linear_coeffs(
    dn: usize,
    sn: usize,
    scale: f64,
    area_inv: Option<f64>,
) -> Vec<(usize, f32, f32)> {
    (0..dn)
        .map(|d| {
            let (mut s, mut f) = src_pos(d, scale, area_inv);
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

/// `INTER_LINEAR`, and `INTER_AREA` when enlarging (`area_inv` = the inverse scales).
fn resize_linear(
    src: &Mat,
    dw: usize,
    dh: usize,
    (scale_x, scale_y): (f64, f64),
    area_inv: Option<(f64, f64)>,
) -> Mat {
    let sw = src.width;
    let xc = linear_coeffs(dw, sw, scale_x, area_inv.map(|a| a.0));
    let yc = linear_coeffs_y(dh, src.height, scale_y, area_inv.map(|a| a.1));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{Mat, Pixels};

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

    fn channel0(m: &Mat) -> Vec<u8> {
        let Pixels::U8(d) = &m.pixels else { panic!() };
        d.chunks(3).map(|p| p[0]).collect()
    }

    fn gray(width: usize, values: &[u8]) -> Mat {
        let data = values.iter().flat_map(|&v| [v, v, v]).collect();
        Mat::from_u8(width, values.len() / width, data)
    }

    #[test]
    fn area_block_means_round_half_to_even() {
        // A 4x4 block: sum 8 -> mean 0.5 -> 0; sum 24 -> 1.5 -> 2 (OpenCV's saturate_cast).
        let mut v = vec![0u8; 16];
        v[0] = 8;
        assert_eq!(
            channel0(&resize(&gray(4, &v), 1, 1, None, Interp::Area).unwrap()),
            [0]
        );
        v[0] = 24;
        assert_eq!(
            channel0(&resize(&gray(4, &v), 1, 1, None, Interp::Area).unwrap()),
            [2]
        );
    }

    #[test]
    fn area_blocks_cut_by_the_edge_average_what_they_have() {
        // 7x3 at fx = fy = 0.5 gives 4x2 (rounded half to even): the last column and the last
        // row of blocks only have part of their pixels (values from cv2.resize).
        let row: Vec<u8> = (0..7).map(|x| x * 10).collect();
        let mut v = [row.clone(), row.clone()].concat();
        v.extend(row.iter().map(|x| x + 1));
        let r = resize(&gray(7, &v), 4, 2, Some((0.5, 0.5)), Interp::Area).unwrap();
        assert_eq!(channel0(&r), [5, 25, 45, 60, 6, 26, 46, 61]);
    }

    #[test]
    fn area_at_non_integer_scales_weights_partial_pixels() {
        // 3 -> 2: each output covers 1.5 input pixels (values from cv2.resize).
        let r = resize(&gray(3, &[0, 100, 200]), 2, 1, None, Interp::Area).unwrap();
        assert_eq!(channel0(&r), [33, 167]);
        // Enlarging with INTER_AREA keeps whole source pixels where a cell lies inside one.
        let r = resize(&gray(2, &[0, 255]), 5, 1, None, Interp::Area).unwrap();
        assert_eq!(channel0(&r), [0, 0, 128, 255, 255]);
    }

    #[test]
    fn empty_target_is_an_error() {
        let m = Mat::from_u8(2, 2, vec![0; 12]);
        assert!(resize(&m, 0, 2, None, Interp::Linear).is_err());
    }
}
