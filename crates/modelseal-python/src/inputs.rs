//! What `Predictor.predict` accepts: a path (`str` or `os.PathLike`), a numpy `uint8` H x W x 3
//! BGR array (as `cv2.imread` returns it), or a list or tuple of these.

use std::path::PathBuf;

use modelseal_deploy::image::{read_image, Mat};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::errors::Failure;
use crate::keys::type_name;

/// What an array input is called in its result's `image` key (there is no path to show).
pub(crate) const ARRAY_NAME: &str = "<array>";

/// One input as taken from Python: a path and how it was written, or an array's BGR bytes.
pub(crate) enum Raw<'py> {
    Path(PathBuf, String),
    Array {
        bgr: Bound<'py, PyBytes>,
        height: usize,
        width: usize,
    },
}

/// One input, readable without the GIL.
pub(crate) enum Source<'a> {
    Path(PathBuf),
    Array {
        bgr: &'a [u8],
        height: usize,
        width: usize,
    },
}

impl Raw<'_> {
    /// The name shown in the result's `image` key.
    pub(crate) fn shown(&self) -> String {
        match self {
            Raw::Path(_, shown) => shown.clone(),
            Raw::Array { .. } => ARRAY_NAME.to_string(),
        }
    }

    /// A view usable without the GIL (`bytes` are immutable and kept alive by `self`).
    pub(crate) fn source(&self) -> Source<'_> {
        match self {
            Raw::Path(p, _) => Source::Path(p.clone()),
            Raw::Array { bgr, height, width } => Source::Array {
                bgr: bgr.as_bytes(),
                height: *height,
                width: *width,
            },
        }
    }
}

impl Source<'_> {
    /// The decoded RGB image: a file is read and decoded (EXIF orientation applied), an array's
    /// BGR pixels are copied with their channels swapped.
    pub(crate) fn image(&self) -> modelseal_deploy::Result<Mat> {
        match self {
            Source::Path(p) => read_image(p),
            Source::Array { bgr, height, width } => Ok(bgr_to_rgb(bgr, *height, *width)),
        }
    }
}

/// An RGB image from interleaved BGR bytes of `height` x `width` pixels.
pub(crate) fn bgr_to_rgb(bgr: &[u8], height: usize, width: usize) -> Mat {
    let mut rgb = bgr.to_vec();
    rgb.chunks_exact_mut(3).for_each(|p| p.swap(0, 2));
    Mat::from_u8(width, height, rgb)
}

/// Takes `x` apart: its inputs, and whether it was a single input (not a list or tuple).
pub(crate) fn parse<'py>(x: &Bound<'py, PyAny>) -> Result<(Vec<Raw<'py>>, bool), Failure> {
    if let Ok(list) = x.cast::<PyList>() {
        return Ok((
            list.iter().map(|i| one(&i)).collect::<Result<_, _>>()?,
            false,
        ));
    }
    if let Ok(tuple) = x.cast::<PyTuple>() {
        return Ok((
            tuple.iter().map(|i| one(&i)).collect::<Result<_, _>>()?,
            false,
        ));
    }
    Ok((vec![one(x)?], true))
}

fn py_failure(e: PyErr) -> Failure {
    Failure::Py(e)
}

fn one<'py>(x: &Bound<'py, PyAny>) -> Result<Raw<'py>, Failure> {
    let py = x.py();
    if let Ok(s) = x.cast::<PyString>() {
        let shown = s.to_cow().map_err(py_failure)?.into_owned();
        return Ok(Raw::Path(PathBuf::from(&shown), shown));
    }
    if x.get_type().hasattr("__fspath__").map_err(py_failure)? {
        let p = py
            .import("os")
            .and_then(|os| os.call_method1("fspath", (x,)))
            .map_err(py_failure)?;
        let s = p.cast::<PyString>().map_err(|_| {
            Failure::Type("a path must be a str or an os.PathLike giving a str, not bytes".into())
        })?;
        let shown = s.to_cow().map_err(py_failure)?.into_owned();
        return Ok(Raw::Path(PathBuf::from(&shown), shown));
    }
    let np = py.import("numpy").map_err(py_failure)?;
    let ndarray = np.getattr("ndarray").map_err(py_failure)?;
    if !x.is_instance(&ndarray).map_err(py_failure)? {
        return Err(Failure::Type(format!(
            "an image is a path (str or os.PathLike) or a numpy uint8 array of shape (H, W, 3), not {}",
            type_name(x)
        )));
    }
    array(&np, x)
}

fn array<'py>(np: &Bound<'py, PyModule>, x: &Bound<'py, PyAny>) -> Result<Raw<'py>, Failure> {
    let attr = |name: &str| x.getattr(name).map_err(py_failure);
    let dtype = attr("dtype")?;
    let uint8 = np.getattr("uint8").map_err(py_failure)?;
    if !dtype.eq(uint8).map_err(py_failure)? {
        return Err(Failure::Type(format!(
            "an image array must have dtype uint8 (as cv2.imread returns), not {}",
            dtype.str().map(|s| s.to_string()).unwrap_or_default()
        )));
    }
    let shape: Vec<usize> = attr("shape")?.extract().map_err(py_failure)?;
    let (height, width) = match shape[..] {
        [h, w, 3] if h > 0 && w > 0 => (h, w),
        _ => {
            return Err(Failure::Value(format!(
                "an image array is H x W x 3 (BGR, as cv2.imread returns) with H, W > 0; got shape {shape:?}"
            )))
        }
    };
    // `tobytes` copies in C order whatever the strides, so that views and slices work too.
    let bytes = x.call_method0("tobytes").map_err(py_failure)?;
    let bgr = bytes
        .cast_into::<PyBytes>()
        .map_err(|_| Failure::Type("ndarray.tobytes() did not return bytes".into()))?;
    Ok(Raw::Array { bgr, height, width })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgr_pixels_become_rgb() {
        let m = bgr_to_rgb(&[1, 2, 3, 4, 5, 6], 1, 2);
        assert_eq!((m.width, m.height), (2, 1));
        assert_eq!(
            m.pixels,
            modelseal_deploy::image::Pixels::U8(vec![3, 2, 1, 6, 5, 4])
        );
    }
}
