//! Decoding encoded images (JPEG, PNG, BMP, WebP, TIFF) to RGB, upright by EXIF, under limits.

use super::Mat;
use crate::error::{Error, Result};

/// Limits on what a decoded image may cost, checked before its pixels are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most pixels (width x height) an image may have.
    pub max_pixels: u64,
    /// Most bytes the decoder may allocate at once.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    /// 2^26 pixels (a 67-megapixel image, e.g. 8192 x 8192) and 1 GiB of decoder memory.
    fn default() -> Self {
        DecodeLimits {
            max_pixels: 1 << 26,
            max_alloc: 1 << 30,
        }
    }
}

/// Decodes an encoded image (JPEG, PNG, BMP, WebP, TIFF) to 3-channel RGB `u8`, the way OpenCV's
/// `imread(IMREAD_COLOR)` does: grey is replicated, alpha is dropped, and the picture is turned
/// upright by its EXIF orientation tag. `origin` names the image in errors. Images over the
/// default [`DecodeLimits`] are refused before their pixels are decoded.
pub fn decode(bytes: &[u8], origin: &str) -> Result<Mat> {
    decode_with_limits(bytes, origin, &DecodeLimits::default())
}

/// [`decode`] with explicit limits.
pub fn decode_with_limits(bytes: &[u8], origin: &str, limits: &DecodeLimits) -> Result<Mat> {
    use image::ImageDecoder;
    let fail = |message: String| Error::Image {
        path: origin.to_string(),
        message,
    };
    if bytes.is_empty() {
        return Err(fail("file is empty".into()));
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let mut lim = image::Limits::default();
    lim.max_alloc = Some(limits.max_alloc);
    reader.limits(lim);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| fail(format!("cannot decode: {e}")))?;
    let (w, h) = decoder.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels {
        return Err(fail(format!(
            "{w} x {h} = {pixels} pixels is over the limit of {} pixels",
            limits.max_pixels
        )));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder)
        .map_err(|e| fail(format!("cannot decode: {e}")))?;
    img.apply_orientation(orientation);
    let rgb = img.into_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    if w == 0 || h == 0 {
        return Err(fail("image has no pixels".into()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_rejects_garbage_and_empty() {
        let e = decode(b"not an image", "x.jpg").unwrap_err().to_string();
        assert!(e.contains("x.jpg") && e.contains("cannot decode"), "{e}");
        let e = decode(b"", "y.png").unwrap_err().to_string();
        assert!(e.contains("y.png") && e.contains("empty"), "{e}");
    }
}
