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

impl DecodeLimits {
    /// The largest image file [`read_image`] reads: 256 MiB, far above any real photograph. A
    /// larger file is refused before anything is read, like a path that is not a regular file
    /// (a device such as `/dev/zero`, a FIFO, a directory).
    pub const MAX_FILE_LEN: u64 = 256 << 20;
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

/// Reads and decodes an image file. Symbolic links are followed; what they lead to must be a
/// regular file of at most [`DecodeLimits::MAX_FILE_LEN`] bytes: a device (`/dev/zero` would
/// never end), a FIFO (it would wait for a writer), a directory or a larger file is refused, with
/// an error naming the path, before anything is read. The read itself is bounded too.
pub fn read_image(path: &std::path::Path) -> Result<Mat> {
    use std::io::Read;
    let origin = path.display().to_string();
    let fail = |message: String| Error::Image {
        path: origin.clone(),
        message,
    };
    let check = |meta: &std::fs::Metadata| -> Result<()> {
        if !meta.is_file() {
            return Err(fail(format!(
                "not a regular file ({}); an image must be a file",
                file_kind(meta)
            )));
        }
        if meta.len() > DecodeLimits::MAX_FILE_LEN {
            return Err(fail(format!(
                "{} bytes is over the limit of {} bytes for an image file",
                meta.len(),
                DecodeLimits::MAX_FILE_LEN
            )));
        }
        Ok(())
    };
    // Looked at before opening: opening a FIFO would already wait for a writer.
    check(&std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?)?;
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    // And again on what was opened, in case the path was replaced meanwhile.
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    check(&meta)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(DecodeLimits::MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > DecodeLimits::MAX_FILE_LEN {
        return Err(fail(format!(
            "grew over the limit of {} bytes for an image file while it was read",
            DecodeLimits::MAX_FILE_LEN
        )));
    }
    decode(&bytes, &origin)
}

/// What a file that is not a regular file is, for error messages.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
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
