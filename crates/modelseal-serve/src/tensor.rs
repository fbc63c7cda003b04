//! Protocol tensors: the Open Inference Protocol's data types, and tensor contents read from and
//! written to JSON, the binary tensor data extension (raw little-endian, BYTES length-prefixed)
//! and gRPC's typed contents.

use serde_json::Value;

use crate::error::ApiError;

/// A tensor data type of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// `BOOL`
    Bool,
    /// `UINT8`
    U8,
    /// `UINT16`
    U16,
    /// `UINT32`
    U32,
    /// `UINT64`
    U64,
    /// `INT8`
    I8,
    /// `INT16`
    I16,
    /// `INT32`
    I32,
    /// `INT64`
    I64,
    /// `FP32`
    F32,
    /// `FP64`
    F64,
    /// `BYTES`
    Bytes,
}

impl DataType {
    /// Parses a protocol data type name. `FP16` and `BF16` are named as unsupported.
    pub fn parse(s: &str) -> Result<DataType, ApiError> {
        Ok(match s {
            "BOOL" => DataType::Bool,
            "UINT8" => DataType::U8,
            "UINT16" => DataType::U16,
            "UINT32" => DataType::U32,
            "UINT64" => DataType::U64,
            "INT8" => DataType::I8,
            "INT16" => DataType::I16,
            "INT32" => DataType::I32,
            "INT64" => DataType::I64,
            "FP32" => DataType::F32,
            "FP64" => DataType::F64,
            "BYTES" => DataType::Bytes,
            "FP16" | "BF16" => {
                return Err(ApiError::bad_request(format!(
                    "datatype {s} is not supported by this server"
                )))
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown datatype {other:?}; expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP32, FP64, BYTES"
                )))
            }
        })
    }

    /// The protocol name.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Bool => "BOOL",
            DataType::U8 => "UINT8",
            DataType::U16 => "UINT16",
            DataType::U32 => "UINT32",
            DataType::U64 => "UINT64",
            DataType::I8 => "INT8",
            DataType::I16 => "INT16",
            DataType::I32 => "INT32",
            DataType::I64 => "INT64",
            DataType::F32 => "FP32",
            DataType::F64 => "FP64",
            DataType::Bytes => "BYTES",
        }
    }

    /// Bytes per element in raw form (`None` for `BYTES`).
    pub fn size(self) -> Option<usize> {
        match self {
            DataType::Bool | DataType::U8 | DataType::I8 => Some(1),
            DataType::U16 | DataType::I16 => Some(2),
            DataType::U32 | DataType::I32 | DataType::F32 => Some(4),
            DataType::U64 | DataType::I64 | DataType::F64 => Some(8),
            DataType::Bytes => None,
        }
    }
}

/// The elements of a tensor, flattened row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// `BOOL`
    Bool(Vec<bool>),
    /// `UINT8`
    U8(Vec<u8>),
    /// `UINT16`
    U16(Vec<u16>),
    /// `UINT32`
    U32(Vec<u32>),
    /// `UINT64`
    U64(Vec<u64>),
    /// `INT8`
    I8(Vec<i8>),
    /// `INT16`
    I16(Vec<i16>),
    /// `INT32`
    I32(Vec<i32>),
    /// `INT64`
    I64(Vec<i64>),
    /// `FP32`
    F32(Vec<f32>),
    /// `FP64`
    F64(Vec<f64>),
    /// `BYTES`
    Bytes(Vec<Vec<u8>>),
}

impl Data {
    /// The data type of these elements.
    pub fn datatype(&self) -> DataType {
        match self {
            Data::Bool(_) => DataType::Bool,
            Data::U8(_) => DataType::U8,
            Data::U16(_) => DataType::U16,
            Data::U32(_) => DataType::U32,
            Data::U64(_) => DataType::U64,
            Data::I8(_) => DataType::I8,
            Data::I16(_) => DataType::I16,
            Data::I32(_) => DataType::I32,
            Data::I64(_) => DataType::I64,
            Data::F32(_) => DataType::F32,
            Data::F64(_) => DataType::F64,
            Data::Bytes(_) => DataType::Bytes,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Data::Bool(v) => v.len(),
            Data::U8(v) => v.len(),
            Data::U16(v) => v.len(),
            Data::U32(v) => v.len(),
            Data::U64(v) => v.len(),
            Data::I8(v) => v.len(),
            Data::I16(v) => v.len(),
            Data::I32(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::F32(v) => v.len(),
            Data::F64(v) => v.len(),
            Data::Bytes(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A named tensor of a request or a response.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Tensor name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Elements (their variant is the data type).
    pub data: Data,
}

impl Tensor {
    /// A tensor whose element count is checked against its shape.
    pub fn new(name: impl Into<String>, shape: Vec<usize>, data: Data) -> Tensor {
        let t = Tensor {
            name: name.into(),
            shape,
            data,
        };
        debug_assert_eq!(t.shape.iter().product::<usize>(), t.data.len());
        t
    }
}

/// The element count of a request shape: every dimension must be >= 0 and the product must fit.
pub fn shape_from_request(name: &str, shape: &[i64]) -> Result<(Vec<usize>, usize), ApiError> {
    let mut dims = Vec::with_capacity(shape.len());
    let mut count: usize = 1;
    for &d in shape {
        if d < 0 {
            return Err(ApiError::bad_request(format!(
                "input {name}: shape {shape:?} has a negative dimension"
            )));
        }
        let d = usize::try_from(d).map_err(|_| {
            ApiError::bad_request(format!("input {name}: dimension {d} is too large"))
        })?;
        count = count.checked_mul(d).ok_or_else(|| {
            ApiError::bad_request(format!("input {name}: shape {shape:?} is too large"))
        })?;
        dims.push(d);
    }
    Ok((dims, count))
}

fn count_mismatch(name: &str, shape: &[usize], got: usize) -> ApiError {
    ApiError::bad_request(format!(
        "input {name}: shape {shape:?} needs {} elements, the data has {got}",
        shape.iter().product::<usize>()
    ))
}

/// Flattens a JSON `data` value (flat or nested arrays, row-major) into its leaves.
fn flatten<'a>(name: &str, v: &'a Value, out: &mut Vec<&'a Value>) -> Result<(), ApiError> {
    match v {
        Value::Array(items) => {
            for i in items {
                flatten(name, i, out)?;
            }
            Ok(())
        }
        Value::Object(_) => Err(ApiError::bad_request(format!(
            "input {name}: data must be an array of values, not an object"
        ))),
        leaf => {
            out.push(leaf);
            Ok(())
        }
    }
}

fn json_int<T: TryFrom<i64> + TryFrom<u64>>(
    name: &str,
    dt: DataType,
    v: &Value,
) -> Result<T, ApiError> {
    let bad = || ApiError::bad_request(format!("input {name}: {v} is not a {} value", dt.name()));
    if let Some(i) = v.as_i64() {
        return T::try_from(i).map_err(|_| bad());
    }
    if let Some(u) = v.as_u64() {
        return T::try_from(u).map_err(|_| bad());
    }
    Err(bad())
}

fn json_float(name: &str, dt: DataType, v: &Value) -> Result<f64, ApiError> {
    v.as_f64().ok_or_else(|| {
        ApiError::bad_request(format!("input {name}: {v} is not a {} value", dt.name()))
    })
}

/// Reads the JSON `data` of a tensor. BYTES elements are JSON strings, taken as their UTF-8 bytes.
pub fn data_from_json(
    name: &str,
    dt: DataType,
    shape: &[usize],
    data: &Value,
) -> Result<Data, ApiError> {
    let mut leaves = Vec::new();
    flatten(name, data, &mut leaves)?;
    let want: usize = shape.iter().product();
    if leaves.len() != want {
        return Err(count_mismatch(name, shape, leaves.len()));
    }
    macro_rules! ints {
        ($variant:ident) => {
            Data::$variant(
                leaves
                    .iter()
                    .map(|v| json_int(name, dt, v))
                    .collect::<Result<_, _>>()?,
            )
        };
    }
    Ok(match dt {
        DataType::Bool => Data::Bool(
            leaves
                .iter()
                .map(|v| {
                    v.as_bool().ok_or_else(|| {
                        ApiError::bad_request(format!("input {name}: {v} is not a BOOL value"))
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        DataType::U8 => ints!(U8),
        DataType::U16 => ints!(U16),
        DataType::U32 => ints!(U32),
        DataType::U64 => ints!(U64),
        DataType::I8 => ints!(I8),
        DataType::I16 => ints!(I16),
        DataType::I32 => ints!(I32),
        DataType::I64 => ints!(I64),
        DataType::F32 => Data::F32(
            leaves
                .iter()
                .map(|v| json_float(name, dt, v).map(|x| x as f32))
                .collect::<Result<_, _>>()?,
        ),
        DataType::F64 => Data::F64(
            leaves
                .iter()
                .map(|v| json_float(name, dt, v))
                .collect::<Result<_, _>>()?,
        ),
        DataType::Bytes => Data::Bytes(
            leaves
                .iter()
                .map(|v| {
                    v.as_str().map(|s| s.as_bytes().to_vec()).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "input {name}: {v} is not a BYTES value (a JSON string)"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// Splits BYTES elements in raw form: each is a 4-byte little-endian length, then that many bytes.
pub fn split_bytes_elements(name: &str, mut raw: &[u8]) -> Result<Vec<Vec<u8>>, ApiError> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        if raw.len() < 4 {
            return Err(ApiError::bad_request(format!(
                "input {name}: BYTES data ends inside a 4-byte length prefix"
            )));
        }
        let len = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
        raw = &raw[4..];
        if raw.len() < len {
            return Err(ApiError::bad_request(format!(
                "input {name}: BYTES element of {len} bytes, only {} left",
                raw.len()
            )));
        }
        out.push(raw[..len].to_vec());
        raw = &raw[len..];
    }
    Ok(out)
}

/// Reads raw (binary extension or gRPC raw contents) tensor data: little-endian elements, or
/// length-prefixed BYTES elements.
pub fn data_from_raw(
    name: &str,
    dt: DataType,
    shape: &[usize],
    raw: &[u8],
) -> Result<Data, ApiError> {
    let want: usize = shape.iter().product();
    let Some(size) = dt.size() else {
        let items = split_bytes_elements(name, raw)?;
        if items.len() != want {
            return Err(count_mismatch(name, shape, items.len()));
        }
        return Ok(Data::Bytes(items));
    };
    if raw.len() != want.saturating_mul(size) {
        return Err(ApiError::bad_request(format!(
            "input {name}: shape {shape:?} of {} needs {} bytes, the data has {}",
            dt.name(),
            want.saturating_mul(size),
            raw.len()
        )));
    }
    macro_rules! le {
        ($variant:ident, $t:ty, $n:expr) => {
            Data::$variant(
                raw.chunks_exact($n)
                    .map(|c| <$t>::from_le_bytes(c.try_into().expect("chunk size")))
                    .collect(),
            )
        };
    }
    Ok(match dt {
        DataType::Bool => Data::Bool(raw.iter().map(|&b| b != 0).collect()),
        DataType::U8 => Data::U8(raw.to_vec()),
        DataType::I8 => Data::I8(raw.iter().map(|&b| b as i8).collect()),
        DataType::U16 => le!(U16, u16, 2),
        DataType::I16 => le!(I16, i16, 2),
        DataType::U32 => le!(U32, u32, 4),
        DataType::I32 => le!(I32, i32, 4),
        DataType::F32 => le!(F32, f32, 4),
        DataType::U64 => le!(U64, u64, 8),
        DataType::I64 => le!(I64, i64, 8),
        DataType::F64 => le!(F64, f64, 8),
        DataType::Bytes => unreachable!("handled above"),
    })
}

/// Encodes BYTES elements in raw form (4-byte little-endian length + bytes each).
pub fn encode_bytes_elements(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(|i| i.len() + 4).sum());
    for i in items {
        out.extend_from_slice(&(i.len() as u32).to_le_bytes());
        out.extend_from_slice(i);
    }
    out
}

/// The raw form of tensor data.
pub fn data_to_raw(d: &Data) -> Vec<u8> {
    macro_rules! le {
        ($v:expr) => {
            $v.iter().flat_map(|x| x.to_le_bytes()).collect()
        };
    }
    match d {
        Data::Bool(v) => v.iter().map(|&b| u8::from(b)).collect(),
        Data::U8(v) => v.clone(),
        Data::I8(v) => v.iter().map(|&x| x as u8).collect(),
        Data::U16(v) => le!(v),
        Data::I16(v) => le!(v),
        Data::U32(v) => le!(v),
        Data::I32(v) => le!(v),
        Data::U64(v) => le!(v),
        Data::I64(v) => le!(v),
        Data::F32(v) => le!(v),
        Data::F64(v) => le!(v),
        Data::Bytes(v) => encode_bytes_elements(v),
    }
}

/// The JSON form of tensor data: a flat array; BYTES elements as strings (invalid UTF-8 replaced).
pub fn data_to_json(d: &Data) -> Value {
    fn arr<T: Into<Value> + Copy>(v: &[T]) -> Value {
        Value::Array(v.iter().map(|&x| x.into()).collect())
    }
    match d {
        Data::Bool(v) => arr(v),
        Data::U8(v) => arr(v),
        Data::U16(v) => arr(v),
        Data::U32(v) => arr(v),
        Data::U64(v) => arr(v),
        Data::I8(v) => arr(v),
        Data::I16(v) => arr(v),
        Data::I32(v) => arr(v),
        Data::I64(v) => arr(v),
        // NaN and infinities have no JSON form: they become null.
        Data::F32(v) => Value::Array(
            v.iter()
                .map(|&x| serde_json::Number::from_f64(x as f64).map_or(Value::Null, Value::Number))
                .collect(),
        ),
        Data::F64(v) => Value::Array(
            v.iter()
                .map(|&x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number))
                .collect(),
        ),
        Data::Bytes(v) => Value::Array(
            v.iter()
                .map(|b| Value::String(String::from_utf8_lossy(b).into_owned()))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_and_half_precision_datatypes_are_refused() {
        for bad in ["FLOAT", "fp32", "", "FP16", "BF16", "STRING"] {
            let e = DataType::parse(bad).unwrap_err();
            assert_eq!(e.http_status(), 400, "{bad}");
        }
        assert!(DataType::parse("FP16")
            .unwrap_err()
            .message()
            .contains("not supported"));
    }

    #[test]
    fn negative_or_overflowing_shapes_are_refused() {
        assert!(shape_from_request("x", &[-1, 3]).is_err());
        assert!(shape_from_request("x", &[i64::MAX, i64::MAX]).is_err());
        assert_eq!(shape_from_request("x", &[2, 0]).unwrap(), (vec![2, 0], 0));
        assert_eq!(shape_from_request("x", &[]).unwrap(), (vec![], 1));
    }

    #[test]
    fn json_data_of_the_wrong_type_or_count_is_refused() {
        let f = DataType::F32;
        assert!(data_from_json("x", f, &[2], &json!([1.0])).is_err());
        assert!(data_from_json("x", f, &[2], &json!([1.0, 2.0, 3.0])).is_err());
        assert!(data_from_json("x", f, &[2], &json!([1.0, "a"])).is_err());
        assert!(data_from_json("x", f, &[1], &json!({"a": 1})).is_err());
        assert!(data_from_json("x", DataType::U8, &[1], &json!([256])).is_err());
        assert!(data_from_json("x", DataType::U8, &[1], &json!([-1])).is_err());
        assert!(data_from_json("x", DataType::I32, &[1], &json!([1.5])).is_err());
        assert!(data_from_json("x", DataType::Bool, &[1], &json!([1])).is_err());
        assert!(data_from_json("x", DataType::Bytes, &[1], &json!([1])).is_err());
    }

    #[test]
    fn json_data_nested_or_flat_is_read_row_major() {
        let d = data_from_json("x", DataType::I64, &[2, 2], &json!([[1, 2], [3, 4]])).unwrap();
        assert_eq!(d, Data::I64(vec![1, 2, 3, 4]));
        let d = data_from_json("x", DataType::F32, &[2, 2], &json!([1, 2.5, 3, 4])).unwrap();
        assert_eq!(d, Data::F32(vec![1.0, 2.5, 3.0, 4.0]));
        let d = data_from_json("x", DataType::Bytes, &[2], &json!(["ab", ""])).unwrap();
        assert_eq!(d, Data::Bytes(vec![b"ab".to_vec(), vec![]]));
        let d = data_from_json("x", DataType::U64, &[1], &json!([u64::MAX])).unwrap();
        assert_eq!(d, Data::U64(vec![u64::MAX]));
    }

    #[test]
    fn truncated_or_overlong_bytes_elements_are_refused() {
        assert!(split_bytes_elements("x", &[1, 0, 0]).is_err());
        assert!(split_bytes_elements("x", &[5, 0, 0, 0, b'a']).is_err());
        // Two elements where the shape says one.
        let two = encode_bytes_elements(&[b"a".to_vec(), b"b".to_vec()]);
        assert!(data_from_raw("x", DataType::Bytes, &[1], &two).is_err());
        assert!(data_from_raw("x", DataType::Bytes, &[3], &two).is_err());
    }

    #[test]
    fn raw_numeric_data_of_the_wrong_size_is_refused() {
        assert!(data_from_raw("x", DataType::F32, &[2], &[0; 7]).is_err());
        assert!(data_from_raw("x", DataType::F32, &[2], &[0; 9]).is_err());
        assert!(data_from_raw("x", DataType::I64, &[1], &[0; 4]).is_err());
    }

    #[test]
    fn bytes_elements_round_trip_with_little_endian_lengths() {
        let items = vec![b"hello".to_vec(), vec![], vec![0xff; 300]];
        let raw = encode_bytes_elements(&items);
        assert_eq!(&raw[..9], &[5, 0, 0, 0, b'h', b'e', b'l', b'l', b'o']);
        assert_eq!(&raw[9..13], &[0, 0, 0, 0]);
        assert_eq!(&raw[13..17], &[44, 1, 0, 0]);
        assert_eq!(split_bytes_elements("x", &raw).unwrap(), items);
        assert_eq!(
            data_from_raw("x", DataType::Bytes, &[3], &raw).unwrap(),
            Data::Bytes(items)
        );
    }

    #[test]
    fn raw_numeric_data_round_trips_for_every_type() {
        let cases = [
            Data::Bool(vec![true, false]),
            Data::U8(vec![0, 255]),
            Data::U16(vec![1, 65535]),
            Data::U32(vec![7, u32::MAX]),
            Data::U64(vec![9, u64::MAX]),
            Data::I8(vec![-128, 127]),
            Data::I16(vec![-2, 300]),
            Data::I32(vec![-1, i32::MAX]),
            Data::I64(vec![-1, i64::MIN]),
            Data::F32(vec![1.5, -0.25]),
            Data::F64(vec![1e300, -2.0]),
        ];
        for d in cases {
            let raw = data_to_raw(&d);
            assert_eq!(raw.len(), 2 * d.datatype().size().unwrap());
            assert_eq!(data_from_raw("x", d.datatype(), &[2], &raw).unwrap(), d);
        }
        assert_eq!(data_to_raw(&Data::F32(vec![1.0])), 1.0f32.to_le_bytes());
    }

    #[test]
    fn json_output_is_flat_and_bytes_are_strings() {
        assert_eq!(data_to_json(&Data::I64(vec![-1, 2])), json!([-1, 2]));
        assert_eq!(
            data_to_json(&Data::Bytes(vec![b"dog".to_vec(), vec![]])),
            json!(["dog", ""])
        );
        assert_eq!(data_to_json(&Data::F32(vec![f32::NAN])), json!([null]));
        assert_eq!(data_to_json(&Data::U8(vec![3])), json!([3]));
    }
}
