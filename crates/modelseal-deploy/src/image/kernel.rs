//! `INTER_CUBIC` and `INTER_LANCZOS4`: separable 4- and 8-tap kernels with replicated borders,
//! 11-bit fixed-point weights on `u8` as in OpenCV.

use super::resize::{sat_short, src_pos, COEF_BITS, COEF_SCALE};
use super::{Mat, Pixels};

/// OpenCV's `interpolateCubic` (A = -0.75).
pub(super) fn cubic_coeffs(x: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let c0 = ((A * (x + 1.0) - 5.0 * A) * (x + 1.0) + 8.0 * A) * (x + 1.0) - 4.0 * A;
    let c1 = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let c2 = ((A + 2.0) * (1.0 - x) - (A + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
    [c0, c1, c2, 1.0 - c0 - c1 - c2]
}

/// OpenCV's `interpolateLanczos4`: an 8-tap Lanczos window (a = 4), normalised to sum 1.
pub(super) fn lanczos4_coeffs(x: f32) -> [f32; 8] {
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
    let y0 = -((x + 3.0) as f64) * std::f64::consts::PI * 0.25;
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

/// Per destination coordinate: the `K` clamped source indices and weights (replicated border).
fn kernel_taps<const K: usize>(
    dn: usize,
    sn: usize,
    scale: f64,
    coeffs: fn(f32) -> [f32; K],
) -> Vec<([usize; K], [f32; K])> {
    (0..dn)
        .map(|d| {
            let (s, f) = src_pos(d, scale, None);
            let first = s - (K as i64 / 2 - 1);
            let idx = std::array::from_fn(|k| (first + k as i64).clamp(0, sn as i64 - 1) as usize);
            (idx, coeffs(f))
        })
        .collect()
}

/// `INTER_CUBIC` (4x4 taps, A = -0.75) and `INTER_LANCZOS4` (8x8 taps), separable, with
/// replicated borders. On `u8` the weights are 11-bit fixed point and each row is filtered in
/// integers; the vertical pass is integer with OpenCV's rounding shift, except where OpenCV
/// vectorises cubic: there it runs in float in blocks of 8 values, and so does this.
#[allow(clippy::needless_range_loop)] // index form mirrors OpenCV's loops
pub(super) fn resize_kernel<const K: usize>(
    src: &Mat,
    dw: usize,
    dh: usize,
    (scale_x, scale_y): (f64, f64),
    coeffs: fn(f32) -> [f32; K],
) -> Mat {
    let sw = src.width;
    let xt = kernel_taps(dw, sw, scale_x, coeffs);
    let yt = kernel_taps(dh, src.height, scale_y, coeffs);
    let pixels = match &src.pixels {
        Pixels::U8(s) => {
            let fixed = |c: &[f32; K]| c.map(|v| sat_short(v * COEF_SCALE) as i64);
            let xi: Vec<([usize; K], [i64; K])> = xt.iter().map(|(i, c)| (*i, fixed(c))).collect();
            let hrows: Vec<Vec<i64>> = (0..src.height)
                .map(|sy| {
                    let row = &s[sy * sw * 3..(sy + 1) * sw * 3];
                    let mut out = vec![0i64; dw * 3];
                    for (dx, (idx, a)) in xi.iter().enumerate() {
                        for c in 0..3 {
                            out[dx * 3 + c] =
                                (0..K).map(|k| row[idx[k] * 3 + c] as i64 * a[k]).sum();
                        }
                    }
                    out
                })
                .collect();
            const SHIFT: u32 = 2 * COEF_BITS as u32;
            let n = dw * 3;
            // OpenCV's 128-bit `VResizeCubicVec_32s8u` covers whole blocks of 8 values.
            let vec_end = if K == 4 { n / 8 * 8 } else { 0 };
            let scale = 1.0f32 / (COEF_SCALE * COEF_SCALE);
            let mut out = Vec::with_capacity(n * dh);
            for (idx, b) in &yt {
                let bi = fixed(b);
                let rows: [&[i64]; K] = std::array::from_fn(|k| hrows[idx[k]].as_slice());
                let bf = bi.map(|v| v as f32 * scale);
                for i in 0..vec_end {
                    // S0*b0 + (S1*b1 + (S2*b2 + S3*b3)), each product and sum rounded to f32.
                    let mut v = rows[K - 1][i] as f32 * bf[K - 1];
                    for k in (0..K - 1).rev() {
                        v += rows[k][i] as f32 * bf[k];
                    }
                    out.push(v.round_ties_even().clamp(0.0, 255.0) as u8);
                }
                for i in vec_end..n {
                    let v: i64 = (0..K).map(|k| rows[k][i] * bi[k]).sum();
                    out.push(((v + (1 << (SHIFT - 1))) >> SHIFT).clamp(0, 255) as u8);
                }
            }
            Pixels::U8(out)
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
            Pixels::F32(out)
        }
    };
    Mat {
        width: dw,
        height: dh,
        pixels,
    }
}
