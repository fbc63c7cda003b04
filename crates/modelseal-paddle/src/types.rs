//! Element types and tensor descriptions shared by the parsers, the translator and the API:
//! Paddle's `VarType.Type` numbers, PIR type tags and dtype names, and ONNX's type numbers.

/// The element type of a Paddle tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// `bool` (one byte).
    Bool,
    /// `int8`.
    I8,
    /// `uint8`.
    U8,
    /// `int16`.
    I16,
    /// `uint16`.
    U16,
    /// `int32`.
    I32,
    /// `uint32`.
    U32,
    /// `int64`.
    I64,
    /// `uint64` (also Paddle's `SIZE_T`).
    U64,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// `float32`.
    F32,
    /// `float64`.
    F64,
    /// `complex64`.
    C64,
    /// `complex128`.
    C128,
    /// 8-bit float, e4m3fn.
    F8E4M3,
    /// 8-bit float, e5m2.
    F8E5M2,
}

impl DType {
    /// From Paddle's `VarType.Type` number (parameters file, legacy programs, legacy `dtype` attrs).
    pub fn from_var_type(v: i64) -> Option<Self> {
        Some(match v {
            0 => DType::Bool,
            1 => DType::I16,
            2 => DType::I32,
            3 => DType::I64,
            4 => DType::F16,
            5 => DType::F32,
            6 => DType::F64,
            19 => DType::U64,
            20 => DType::U8,
            21 => DType::I8,
            22 => DType::BF16,
            23 => DType::C64,
            24 => DType::C128,
            32 => DType::F8E4M3,
            33 => DType::F8E5M2,
            36 => DType::U16,
            37 => DType::U32,
            38 => DType::U64,
            _ => return None,
        })
    }

    /// Paddle's `VarType.Type` number.
    pub fn var_type(self) -> i64 {
        match self {
            DType::Bool => 0,
            DType::I16 => 1,
            DType::I32 => 2,
            DType::I64 => 3,
            DType::F16 => 4,
            DType::F32 => 5,
            DType::F64 => 6,
            DType::U8 => 20,
            DType::I8 => 21,
            DType::BF16 => 22,
            DType::C64 => 23,
            DType::C128 => 24,
            DType::F8E4M3 => 32,
            DType::F8E5M2 => 33,
            DType::U16 => 36,
            DType::U32 => 37,
            DType::U64 => 38,
        }
    }

    /// From a PIR type tag without its dialect prefix (`t_f32`, `t_i64`, ...).
    pub fn from_pir_tag(tag: &str) -> Option<Self> {
        Some(match tag {
            "t_bool" => DType::Bool,
            "t_i8" => DType::I8,
            "t_u8" | "t_ui8" => DType::U8,
            "t_i16" => DType::I16,
            "t_u16" | "t_ui16" => DType::U16,
            "t_i32" => DType::I32,
            "t_u32" | "t_ui32" => DType::U32,
            "t_i64" => DType::I64,
            "t_u64" | "t_ui64" | "t_index" => DType::U64,
            "t_f16" => DType::F16,
            "t_bf16" => DType::BF16,
            "t_f32" => DType::F32,
            "t_f64" => DType::F64,
            "t_c64" => DType::C64,
            "t_c128" => DType::C128,
            "t_f8e4m3fn" => DType::F8E4M3,
            "t_f8e5m2" => DType::F8E5M2,
            _ => return None,
        })
    }

    /// From a dtype name (`float32`, `int64`, ... as PIR `a_dtype` attributes write them).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "bool" => DType::Bool,
            "int8" => DType::I8,
            "uint8" => DType::U8,
            "int16" => DType::I16,
            "uint16" => DType::U16,
            "int32" => DType::I32,
            "uint32" => DType::U32,
            "int64" => DType::I64,
            "uint64" => DType::U64,
            "float16" => DType::F16,
            "bfloat16" => DType::BF16,
            "float32" => DType::F32,
            "float64" => DType::F64,
            "complex64" => DType::C64,
            "complex128" => DType::C128,
            "float8_e4m3fn" => DType::F8E4M3,
            "float8_e5m2" => DType::F8E5M2,
            _ => return None,
        })
    }

    /// The dtype's name as Paddle writes it (`float32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::I16 => "int16",
            DType::U16 => "uint16",
            DType::I32 => "int32",
            DType::U32 => "uint32",
            DType::I64 => "int64",
            DType::U64 => "uint64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::C64 => "complex64",
            DType::C128 => "complex128",
            DType::F8E4M3 => "float8_e4m3fn",
            DType::F8E5M2 => "float8_e5m2",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 | DType::F8E4M3 | DType::F8E5M2 => 1,
            DType::I16 | DType::U16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 | DType::C64 => 8,
            DType::C128 => 16,
        }
    }

    /// Whether this is a floating-point type.
    pub fn is_float(self) -> bool {
        matches!(
            self,
            DType::F16 | DType::BF16 | DType::F32 | DType::F64 | DType::F8E4M3 | DType::F8E5M2
        )
    }

    /// The type a value of this Paddle type has in the ONNX graph. Half-precision types are
    /// widened to `float32` (see the crate docs), everything else is kept.
    pub fn in_onnx(self) -> DType {
        match self {
            DType::F16 | DType::BF16 => DType::F32,
            d => d,
        }
    }

    /// ONNX `TensorProto.DataType` number, or `None` for types ONNX has no equivalent of here.
    pub(crate) fn onnx_type(self) -> Option<i32> {
        Some(match self.in_onnx() {
            DType::F32 => 1,
            DType::U8 => 2,
            DType::I8 => 3,
            DType::U16 => 4,
            DType::I16 => 5,
            DType::I32 => 6,
            DType::I64 => 7,
            DType::Bool => 9,
            DType::F64 => 11,
            DType::U32 => 12,
            DType::U64 => 13,
            DType::C64 => 14,
            DType::C128 => 15,
            DType::F8E4M3 => 17,
            DType::F8E5M2 => 19,
            DType::F16 => 10,
            DType::BF16 => 16,
        })
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A model input or output: name, element type and shape (-1 for a dimension only known at
/// run time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The name to feed or fetch it by.
    pub name: String,
    /// Element type, as the ONNX model takes or gives it.
    pub dtype: DType,
    /// Dimensions; -1 where dynamic, empty for a scalar.
    pub shape: Vec<i64>,
}

/// Formats dims and a dtype as `[8, 3, 3, 3] float32` (error messages).
pub(crate) fn describe(dims: &[i64], dtype: Option<DType>) -> String {
    let d: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    match dtype {
        Some(t) => format!("[{}] {}", d.join(", "), t),
        None => format!("[{}]", d.join(", ")),
    }
}
