//! Crops and constant padding of images.

use super::{Mat, Pixels};

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
