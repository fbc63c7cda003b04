//! Visualisation: detection boxes in the VOC colour map with `label NN%` captions drawn in a
//! real TrueType font, segmentation label maps in colour (optionally blended over the image).

use std::path::{Path, PathBuf};

pub use ab_glyph::FontVec;
use ab_glyph::{Font, PxScale, ScaleFont};

use crate::error::{Error, Result};
use crate::image::{Mat, Pixels};
use crate::postprocess::{DetBox, SegMap};

/// PaddleX's `GenerateColorMap`: VOC-style bit interleave; returns RGB triples.
pub fn color_map(n: usize) -> Vec<[u8; 3]> {
    (0..n.max(1))
        .map(|i| {
            let mut c = [0u8; 3];
            let mut lab = i;
            let mut j = 0;
            while lab > 0 && j < 8 {
                c[0] |= ((lab & 1) << (7 - j)) as u8;
                c[1] |= (((lab >> 1) & 1) << (7 - j)) as u8;
                c[2] |= (((lab >> 2) & 1) << (7 - j)) as u8;
                j += 1;
                lab >>= 3;
            }
            // PaddleX uses the triple as a BGR cv::Scalar: as RGB it is reversed.
            [c[2], c[1], c[0]]
        })
        .collect()
}

/// The font of box captions: the TrueType file named by `MODELSEAL_FONT` when it is set and
/// loads, else DejaVu Sans, embedded in the library (so captions look the same everywhere).
pub fn load_font() -> FontVec {
    std::env::var_os("MODELSEAL_FONT")
        .and_then(|p| std::fs::read(PathBuf::from(p)).ok())
        .and_then(|b| FontVec::try_from_vec(b).ok())
        .unwrap_or_else(|| {
            FontVec::try_from_vec(dejavu::sans::regular().to_vec())
                .expect("the embedded DejaVu Sans parses")
        })
}

/// An RGB canvas.
pub struct Canvas {
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
    /// RGB bytes.
    pub rgb: Vec<u8>,
}

impl Canvas {
    /// From a decoded RGB `u8` image.
    pub fn from_mat(m: &Mat) -> Canvas {
        let rgb = match &m.pixels {
            Pixels::U8(d) => d.clone(),
            Pixels::F32(d) => d.iter().map(|v| v.clamp(0.0, 255.0) as u8).collect(),
        };
        Canvas {
            width: m.width,
            height: m.height,
            rgb,
        }
    }

    fn blend(&mut self, x: i64, y: i64, c: [u8; 3], a: f32) {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return;
        }
        let i = (y as usize * self.width + x as usize) * 3;
        for (dst, &src) in self.rgb[i..i + 3].iter_mut().zip(c.iter()) {
            let v = *dst as f32 * (1.0 - a) + src as f32 * a;
            *dst = v.round().clamp(0.0, 255.0) as u8;
        }
    }

    fn fill(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
        for y in y0.max(0)..y1.min(self.height as i64) {
            for x in x0.max(0)..x1.min(self.width as i64) {
                self.blend(x, y, c, 1.0);
            }
        }
    }

    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3], t: i64) {
        self.fill(x0, y0, x1 + 1, y0 + t, c);
        self.fill(x0, y1 - t + 1, x1 + 1, y1 + 1, c);
        self.fill(x0, y0, x0 + t, y1 + 1, c);
        self.fill(x1 - t + 1, y0, x1 + 1, y1 + 1, c);
    }

    /// Text size in pixels.
    fn text_size(font: &FontVec, px: f32, text: &str) -> (i64, i64) {
        let f = font.as_scaled(PxScale::from(px));
        let w: f32 = text.chars().map(|ch| f.h_advance(f.glyph_id(ch))).sum();
        (w.ceil() as i64, (f.ascent() - f.descent()).ceil() as i64)
    }

    fn text(&mut self, font: &FontVec, px: f32, x: i64, y: i64, text: &str, c: [u8; 3]) {
        let scale = PxScale::from(px);
        let f = font.as_scaled(scale);
        let mut pen = x as f32;
        let base = y as f32 + f.ascent();
        for ch in text.chars() {
            let id = f.glyph_id(ch);
            let g = id.with_scale_and_position(scale, ab_glyph::point(pen, base));
            pen += f.h_advance(id);
            if let Some(o) = font.outline_glyph(g) {
                let b = o.px_bounds();
                o.draw(|gx, gy, cov| {
                    self.blend(
                        b.min.x as i64 + gx as i64,
                        b.min.y as i64 + gy as i64,
                        c,
                        cov.clamp(0.0, 1.0),
                    );
                });
            }
        }
    }

    /// Writes the canvas to `path` (format from the extension) atomically: a temporary file in
    /// the same directory, then a rename.
    pub fn save(&self, path: &Path) -> Result<()> {
        let img =
            image::RgbImage::from_raw(self.width as u32, self.height as u32, self.rgb.clone())
                .expect("canvas size matches");
        save_atomic(path, |p| match format_of(path) {
            // JPEG pictures at quality 95 (the image crate's default is 75).
            image::ImageFormat::Jpeg => {
                let f = std::fs::File::create(p).map_err(|e| e.to_string())?;
                let mut w = std::io::BufWriter::new(f);
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut w, JPEG_QUALITY)
                    .encode_image(&img)
                    .map_err(|e| e.to_string())?;
                std::io::Write::flush(&mut w).map_err(|e| e.to_string())
            }
            format => image::DynamicImage::ImageRgb8(img)
                .save_with_format(p, format)
                .map_err(|e| e.to_string()),
        })
    }
}

/// Quality of JPEG pictures.
pub const JPEG_QUALITY: u8 = 95;

fn format_of(path: &Path) -> image::ImageFormat {
    image::ImageFormat::from_path(path).unwrap_or(image::ImageFormat::Png)
}

/// Runs `write` on a temporary path next to `path`, then renames it into place.
pub fn save_atomic(
    path: &Path,
    write: impl FnOnce(&Path) -> std::result::Result<(), String>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("png");
    let tmp = dir.join(format!(".{name}.{}.tmp.{ext}", std::process::id()));
    let r = write(&tmp).and_then(|_| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Output {
            path: path.to_path_buf(),
            message: e,
        });
    }
    Ok(())
}

/// Draws boxes with score >= `threshold` on the image; captions use `font` when given.
pub fn draw_boxes(
    img: &Mat,
    boxes: &[DetBox],
    threshold: f32,
    num_classes: usize,
    font: Option<&FontVec>,
) -> Canvas {
    let mut cv = Canvas::from_mat(img);
    let cmap = color_map(num_classes.max(boxes.iter().map(|b| b.class_id + 1).max().unwrap_or(1)));
    let px = (img.width.min(img.height) as f32 / 40.0).clamp(12.0, 32.0);
    for b in boxes.iter().filter(|b| b.score >= threshold) {
        let c = cmap[b.class_id % cmap.len()];
        let (x0, y0, x1, y1) = (
            b.bbox[0] as i64,
            b.bbox[1] as i64,
            b.bbox[2] as i64,
            b.bbox[3] as i64,
        );
        cv.rect(x0, y0, x1, y1, c, 2);
        if let Some(font) = font {
            let caption = format!("{} {}%", b.label, (b.score * 100.0) as i32);
            let (tw, th) = Canvas::text_size(font, px, &caption);
            let ty = if y0 - th >= 0 { y0 - th } else { y0 };
            cv.fill(x0, ty, x0 + tw + 4, ty + th, c);
            cv.text(font, px, x0 + 2, ty, &caption, [255, 255, 255]);
        }
    }
    cv
}

/// Colours a label map; with `blend` it is laid over the image at 50%.
pub fn color_segmentation(img: Option<&Mat>, seg: &SegMap, num_classes: usize) -> Canvas {
    let max_label = seg.labels.iter().copied().max().unwrap_or(0) as usize;
    let cmap = color_map(num_classes.max(max_label + 1).max(2));
    let mut rgb = Vec::with_capacity(seg.labels.len() * 3);
    for &l in &seg.labels {
        rgb.extend_from_slice(&cmap[l as usize % cmap.len()]);
    }
    if let Some(m) = img {
        let base = Canvas::from_mat(m);
        for (o, b) in rgb.iter_mut().zip(base.rgb.iter()) {
            *o = ((*o as u16 + *b as u16) / 2) as u8;
        }
    }
    Canvas {
        width: seg.width,
        height: seg.height,
        rgb,
    }
}

/// Writes the label map as an 8-bit greyscale PNG (labels as values) atomically.
pub fn save_label_png(seg: &SegMap, path: &Path) -> Result<()> {
    let img = image::GrayImage::from_raw(seg.width as u32, seg.height as u32, seg.labels.clone())
        .expect("size matches");
    save_atomic(path, |p| {
        img.save_with_format(p, image::ImageFormat::Png)
            .map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_map_matches_paddlex_first_entries() {
        // PaddleX BGR scalars: 0 -> (0,0,0), 1 -> (128,0,0), 2 -> (0,128,0), 3 -> (128,128,0).
        let m = color_map(4);
        assert_eq!(m[0], [0, 0, 0]);
        assert_eq!(m[1], [0, 0, 128]);
        assert_eq!(m[2], [0, 128, 0]);
        assert_eq!(m[3], [0, 128, 128]);
    }

    #[test]
    fn boxes_are_drawn_in_class_colour() {
        let img = Mat::from_u8(20, 20, vec![255; 20 * 20 * 3]);
        let b = DetBox {
            class_id: 1,
            label: "x".into(),
            score: 0.9,
            bbox: [2.0, 2.0, 10.0, 10.0],
        };
        let cv = draw_boxes(&img, &[b], 0.5, 2, None);
        let px = |x: usize, y: usize| &cv.rgb[(y * 20 + x) * 3..(y * 20 + x) * 3 + 3];
        assert_eq!(px(2, 5), &[0, 0, 128]);
        assert_eq!(px(5, 5), &[255, 255, 255]);
    }
}
