//! Result objects for Python: the SDK's JSON values (`modelseal_deploy::json`, the schema the CLI
//! prints) as dicts, lists, ints, floats and strings, and label maps as numpy `uint8` arrays.

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyList};
use serde_json::Value;

/// A JSON value as the Python object `json.loads` would make of its text.
pub(crate) fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A label map as a writable numpy `uint8` array of shape `(height, width)`.
pub(crate) fn label_map<'py>(
    py: Python<'py>,
    labels: &[u8],
    height: usize,
    width: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let np = py.import("numpy")?;
    let buf = PyByteArray::new(py, labels);
    let flat = np.call_method1("frombuffer", (buf, np.getattr("uint8")?))?;
    flat.call_method1("reshape", ((height, width),))
}
