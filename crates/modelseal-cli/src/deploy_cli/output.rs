//! Writing each image's result: its pictures under the save directory (never over the input),
//! then PaddleX's demo lines, a JSON object or PaddleX 3's result layout on stdout.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use modelseal_deploy::image::Mat;
use modelseal_deploy::json::{self, Written};
use modelseal_deploy::{vis, Prediction};

use super::{DeployArgs, OutputFormat, Task};

/// Output path for an image's visualisation, refusing to overwrite the input itself.
fn save_path(save_dir: &Path, image: &Path, suffix: Option<&str>) -> anyhow::Result<PathBuf> {
    let name = image
        .file_name()
        .ok_or_else(|| anyhow!("image path {} has no file name", image.display()))?;
    let out = match suffix {
        None => save_dir.join(name),
        Some(s) => {
            let stem = image
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("image");
            save_dir.join(format!("{stem}{s}"))
        }
    };
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(&out), std::fs::canonicalize(image)) {
        if a == b {
            bail!(
                "refusing to overwrite the input image {} (choose another --save_dir)",
                image.display()
            );
        }
    }
    Ok(out)
}

/// What every image's output needs.
pub(super) struct Emit<'a> {
    pub(super) task: Task,
    pub(super) args: &'a DeployArgs,
    pub(super) format: OutputFormat,
    pub(super) save_dir: Option<PathBuf>,
    pub(super) num_labels: usize,
    pub(super) threshold: f32,
    pub(super) topk: usize,
    pub(super) font: Option<vis::FontVec>,
    pub(super) list_mode: bool,
}

impl Emit<'_> {
    /// Writes the pictures asked for, then the result in the chosen format.
    pub(super) fn result(
        &self,
        path: &Path,
        img: &Mat,
        pred: Prediction,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let shown = path.display().to_string();
        let written = self.pictures(path, img, &pred)?;
        match self.format {
            OutputFormat::Json => {
                let v = json::prediction(&shown, self.task, &pred, self.topk, &written);
                writeln!(out, "{v}")?;
            }
            OutputFormat::Paddlex => {
                writeln!(out, "{}", json::paddlex(&shown, &pred, self.topk, &written))?;
            }
            OutputFormat::Text => self.text(&shown, &pred, &written, out)?,
        }
        Ok(())
    }

    fn pictures(&self, path: &Path, img: &Mat, pred: &Prediction) -> anyhow::Result<Written> {
        let mut w = Written::default();
        let Some(dir) = &self.save_dir else {
            return Ok(w);
        };
        match (self.task, pred) {
            (Task::Detect, Prediction::Boxes(boxes)) => {
                let vis_path = save_path(dir, path, None)?;
                let canvas = vis::draw_boxes(
                    img,
                    boxes,
                    self.threshold,
                    self.num_labels,
                    self.font.as_ref(),
                );
                canvas.save(&vis_path)?;
                w.visualization = Some(vis_path.display().to_string());
            }
            (Task::Segment, Prediction::Segmentation(seg)) => {
                let label_path = save_path(dir, path, Some("_label.png"))?;
                vis::save_label_png(seg, &label_path)?;
                let vis_path = save_path(dir, path, None)?;
                let canvas =
                    vis::color_segmentation(self.args.blend.then_some(img), seg, self.num_labels);
                canvas.save(&vis_path)?;
                w.label_map_png = Some(label_path.display().to_string());
                w.visualization = Some(vis_path.display().to_string());
            }
            (Task::Classify, Prediction::Classes(_)) => {}
            _ => bail!(
                "the model's output does not match the {} task",
                self.task.paddlex_name()
            ),
        }
        Ok(w)
    }

    fn text(
        &self,
        shown: &str,
        pred: &Prediction,
        written: &Written,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        match pred {
            Prediction::Classes(classes) => {
                for c in classes.iter().take(self.topk) {
                    if self.list_mode {
                        writeln!(
                            out,
                            "Path:{shown}, predict label: {}, label_id:{}, score: {:.6}",
                            c.label, c.class_id, c.score
                        )?;
                    } else {
                        writeln!(
                            out,
                            "Predict label: {}, label_id:{}, score: {:.6}",
                            c.label, c.class_id, c.score
                        )?;
                    }
                }
            }
            Prediction::Boxes(boxes) => {
                if boxes.is_empty() {
                    writeln!(out, "[WARNING] There's no object detected.")?;
                }
                // PaddleX reports boxes as [xmin, ymin, xmax - xmin + 1, ymax - ymin + 1].
                for b in boxes {
                    writeln!(
                        out,
                        "image file: {shown}, predict label: {}, label_id:{}, score: {:.6}, box(xmin, ymin, w, h):({:.6}, {:.6}, {:.6}, {:.6})",
                        b.label,
                        b.class_id,
                        b.score,
                        b.bbox[0],
                        b.bbox[1],
                        b.bbox[2] - b.bbox[0] + 1.0,
                        b.bbox[3] - b.bbox[1] + 1.0
                    )?;
                }
            }
            Prediction::Segmentation(_) => {}
        }
        if let Some(v) = &written.visualization {
            writeln!(out, "Visualized output saved as {v}")?;
        }
        Ok(())
    }
}
