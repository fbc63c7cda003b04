//! `INTER_AREA` downscaling: block means at integer scales (`resizeAreaFast_`) and OpenCV's area
//! tables at non-integer ones (`resizeArea_`), with its rounding and order of operations.

/// A pixel type for the area paths: OpenCV accumulates `u8` in `int` and `f32` in `float`, and
/// stores with `saturate_cast` (round half to even for `u8`).
pub(super) trait AreaPixel: Copy + Default {
    type Sum: Copy + Default + std::ops::Add<Output = Self::Sum>;
    fn sum(self) -> Self::Sum;
    fn sum_f32(s: Self::Sum) -> f32;
    fn to_f32(self) -> f32;
    fn store(v: f32) -> Self;
    /// OpenCV's dedicated 2x2 kernel for 3-channel images, where it has one.
    fn mean4(_: [Self; 4]) -> Option<Self> {
        None
    }
}

impl AreaPixel for u8 {
    type Sum = i32;
    fn sum(self) -> i32 {
        self as i32
    }
    fn sum_f32(s: i32) -> f32 {
        s as f32
    }
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn store(v: f32) -> u8 {
        v.round_ties_even().clamp(0.0, 255.0) as u8
    }
    fn mean4(p: [u8; 4]) -> Option<u8> {
        Some(((p.iter().map(|&v| v as u32).sum::<u32>() + 2) >> 2) as u8)
    }
}

impl AreaPixel for f32 {
    type Sum = f32;
    fn sum(self) -> f32 {
        self
    }
    fn sum_f32(s: f32) -> f32 {
        s
    }
    fn to_f32(self) -> f32 {
        self
    }
    fn store(v: f32) -> f32 {
        v
    }
}

/// `INTER_AREA` at integer scales `kx x ky` (OpenCV's `resizeAreaFast_`): the mean of each
/// block; blocks cut by the image edge (possible with the `fx`/`fy` form) average the pixels
/// they have.
pub(super) fn area_fast<T: AreaPixel>(
    s: &[T],
    (sw, sh): (usize, usize),
    (dw, dh): (usize, usize),
    (kx, ky): (usize, usize),
) -> Vec<T> {
    let n = kx * ky;
    let scale = 1.0f32 / n as f32;
    let full_w = (sw / kx) * 3;
    // Offsets of a block's pixels from its top-left element, row by row.
    let ofs: Vec<usize> = (0..ky)
        .flat_map(|y| (0..kx).map(move |x| (y * sw + x) * 3))
        .collect();
    let mut out = vec![T::default(); dw * dh * 3];
    for (dy, drow) in out.chunks_exact_mut(dw * 3).enumerate() {
        let sy0 = dy * ky;
        if sy0 >= sh {
            continue; // stays 0, as in OpenCV
        }
        let w = if sy0 + ky <= sh {
            full_w.min(dw * 3)
        } else {
            0
        };
        for (i, d) in drow.iter_mut().enumerate().take(w) {
            let base = sy0 * sw * 3 + (i / 3) * kx * 3 + i % 3;
            let px = |k: usize| s[base + ofs[k]];
            if n == 4 && kx == 2 {
                if let Some(v) = T::mean4([px(0), px(1), px(2), px(3)]) {
                    *d = v;
                    continue;
                }
            }
            let mut sum = T::Sum::default();
            let mut k = 0;
            while k + 4 <= n {
                sum = sum + (px(k).sum() + px(k + 1).sum() + px(k + 2).sum() + px(k + 3).sum());
                k += 4;
            }
            for k in k..n {
                sum = sum + px(k).sum();
            }
            *d = T::store(T::sum_f32(sum) * scale);
        }
        for (i, d) in drow.iter_mut().enumerate().skip(w) {
            let (sx0, c) = ((i / 3) * kx, i % 3);
            let mut sum = T::Sum::default();
            let mut count = 0;
            for y in (sy0..sy0 + ky).take_while(|&y| y < sh) {
                for x in (sx0..sx0 + kx).take_while(|&x| x < sw) {
                    sum = sum + s[(y * sw + x) * 3 + c].sum();
                    count += 1;
                }
            }
            if count > 0 {
                *d = T::store(T::sum_f32(sum) / count as f32);
            }
        }
    }
    out
}

/// One term of OpenCV's area tables (`computeResizeAreaTab`): source index `si` contributes to
/// destination index `di` with weight `alpha`.
struct AreaTap {
    si: usize,
    di: usize,
    alpha: f32,
}

fn area_taps(sn: usize, dn: usize, scale: f64) -> Vec<AreaTap> {
    let mut tab = Vec::with_capacity(sn * 2);
    for di in 0..dn {
        let fs1 = di as f64 * scale;
        let fs2 = fs1 + scale;
        let cell = scale.min(sn as f64 - fs1);
        let s2 = (fs2.floor() as i64).min(sn as i64 - 1);
        let s1 = (fs1.ceil() as i64).min(s2);
        if s1 as f64 - fs1 > 1e-3 {
            let alpha = ((s1 as f64 - fs1) / cell) as f32;
            tab.push(AreaTap {
                si: (s1 - 1) as usize,
                di,
                alpha,
            });
        }
        for si in s1..s2 {
            let alpha = (1.0 / cell) as f32;
            tab.push(AreaTap {
                si: si as usize,
                di,
                alpha,
            });
        }
        if fs2 - s2 as f64 > 1e-3 {
            let alpha = ((fs2 - s2 as f64).min(1.0).min(cell) / cell) as f32;
            tab.push(AreaTap {
                si: s2 as usize,
                di,
                alpha,
            });
        }
    }
    tab
}

/// `INTER_AREA` downscaling at non-integer scales (OpenCV's `resizeArea_`): each destination
/// pixel is the area-weighted mean of the source pixels its cell covers, in float, with
/// OpenCV's order of operations.
pub(super) fn area<T: AreaPixel>(
    s: &[T],
    (sw, sh): (usize, usize),
    (dw, dh): (usize, usize),
    (scale_x, scale_y): (f64, f64),
) -> Vec<T> {
    let xt = area_taps(sw, dw, scale_x);
    let yt = area_taps(sh, dh, scale_y);
    let n = dw * 3;
    let mut out = vec![T::default(); n * dh];
    let mut buf = vec![0f32; n];
    let mut sum = vec![0f32; n];
    let store = |sum: &[f32], out: &mut [T], dy: usize| {
        for (d, &v) in out[dy * n..(dy + 1) * n].iter_mut().zip(sum) {
            *d = T::store(v);
        }
    };
    let mut prev_dy = 0;
    for t in &yt {
        let row = &s[t.si * sw * 3..(t.si + 1) * sw * 3];
        buf.fill(0.0);
        for x in &xt {
            for c in 0..3 {
                let i = x.di * 3 + c;
                buf[i] += row[x.si * 3 + c].to_f32() * x.alpha;
            }
        }
        if t.di != prev_dy {
            store(&sum, &mut out, prev_dy);
            for (s, &b) in sum.iter_mut().zip(&buf) {
                *s = t.alpha * b;
            }
            prev_dy = t.di;
        } else {
            for (s, &b) in sum.iter_mut().zip(&buf) {
                *s += t.alpha * b;
            }
        }
    }
    store(&sum, &mut out, prev_dy);
    out
}
