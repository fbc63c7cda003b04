//! Images in memory (HWC, 3 channels, `u8` or `f32`), decoding, and OpenCV-exact geometric ops.
//! Resize reproduces OpenCV's own `cv::resize` code (fixed-point for `u8`, float for `f32`) bit
//! for bit on `u8`.

mod area;
mod decode;
mod geometry;
mod kernel;
mod resize;

pub use decode::{decode, decode_with_limits, read_image, DecodeLimits};
pub use geometry::{crop, pad_right_bottom};
pub use resize::{cv_round, resize, resize_plane_nearest};

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
