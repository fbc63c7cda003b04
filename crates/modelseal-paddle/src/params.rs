//! Paddle's combined parameters file (`*.pdiparams`, `__params__`): one tensor after another,
//! read without copying and without allocating more than the input's own size could justify.
//!
//! Each tensor: `u32` version (0); `u64` LoD level count, then per level a `u64` byte length and
//! that many bytes; `u32` tensor version (0); `i32` length of a `VarType.TensorDesc` protobuf and
//! the protobuf (data type, dims); then the raw little-endian elements, row-major. The file holds
//! no names: tensors belong to the program's persistable variables sorted by name.

use prost::Message;

use crate::error::{Error, Result};
use crate::proto::paddle::var_type::TensorDesc;
use crate::types::DType;

/// One tensor of a parameters file, borrowing its bytes from the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTensor<'a> {
    /// Element type from the tensor's `TensorDesc`.
    pub dtype: DType,
    /// Dimensions from the tensor's `TensorDesc` (never negative).
    pub dims: Vec<i64>,
    /// The raw little-endian elements (`dims` product x element size bytes).
    pub data: &'a [u8],
    /// Offset of the tensor's header in the file.
    pub offset: usize,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    index: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, message: impl Into<String>) -> Error {
        Error::MalformedParams {
            offset: self.pos,
            tensor: Some(format!("#{}", self.index)),
            message: message.into(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let left = self.bytes.len() - self.pos;
        if n > left {
            return Err(self.err(format!("truncated: {what} needs {n} bytes, {left} left")));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn tensor(&mut self) -> Result<StoredTensor<'a>> {
        let offset = self.pos;
        let version = self.u32("version")?;
        if version != 0 {
            self.pos = offset;
            return Err(self.err(format!("unsupported tensor stream version {version}")));
        }
        let levels = self.u64("LoD level count")?;
        for _ in 0..levels {
            // Each level costs at least 8 bytes, so a hostile count ends at the input's end.
            let len = self.u64("LoD level size")?;
            let len = usize::try_from(len).map_err(|_| self.err("LoD level size too large"))?;
            self.take(len, "LoD level")?;
        }
        let tversion = self.u32("tensor version")?;
        if tversion != 0 {
            return Err(self.err(format!("unsupported tensor version {tversion}")));
        }
        let desc_len = self.u32("TensorDesc size")? as i32;
        if desc_len < 0 {
            return Err(self.err(format!("negative TensorDesc size {desc_len}")));
        }
        let desc_at = self.pos;
        let desc_bytes = self.take(desc_len as usize, "TensorDesc")?;
        let desc = TensorDesc::decode(desc_bytes).map_err(|e| Error::MalformedParams {
            offset: desc_at,
            tensor: Some(format!("#{}", self.index)),
            message: format!("TensorDesc: {e}"),
        })?;
        let dtype =
            DType::from_var_type(desc.data_type as i64).ok_or_else(|| Error::MalformedParams {
                offset: desc_at,
                tensor: Some(format!("#{}", self.index)),
                message: format!("unknown data type {}", desc.data_type),
            })?;
        let mut numel: usize = 1;
        for &d in &desc.dims {
            let d = usize::try_from(d).map_err(|_| Error::MalformedParams {
                offset: desc_at,
                tensor: Some(format!("#{}", self.index)),
                message: format!("negative dimension in {:?}", desc.dims),
            })?;
            numel = numel.checked_mul(d).ok_or_else(|| Error::MalformedParams {
                offset: desc_at,
                tensor: Some(format!("#{}", self.index)),
                message: format!("dims {:?} overflow", desc.dims),
            })?;
        }
        let nbytes = numel
            .checked_mul(dtype.size())
            .ok_or_else(|| Error::MalformedParams {
                offset: desc_at,
                tensor: Some(format!("#{}", self.index)),
                message: format!("dims {:?} overflow", desc.dims),
            })?;
        let data = self.take(nbytes, "tensor data")?;
        Ok(StoredTensor {
            dtype,
            dims: desc.dims,
            data,
            offset,
        })
    }
}

/// Reads every tensor of a parameters file, in file order. The data is borrowed from `bytes`;
/// the only allocations are the dims lists, bounded by the input size.
pub fn read_tensors(bytes: &[u8]) -> Result<Vec<StoredTensor<'_>>> {
    let mut r = Reader {
        bytes,
        pos: 0,
        index: 0,
    };
    let mut out = Vec::new();
    while r.pos < bytes.len() {
        out.push(r.tensor()?);
        r.index += 1;
    }
    Ok(out)
}

/// Reads a parameters file for the given parameter names (already in the file's order): exactly
/// one tensor per name, no bytes left over. Errors name the tensor.
pub(crate) fn read_named<'a, 'n>(
    bytes: &'a [u8],
    names: &'n [String],
) -> Result<Vec<(&'n str, StoredTensor<'a>)>> {
    let mut r = Reader {
        bytes,
        pos: 0,
        index: 0,
    };
    let mut out = Vec::with_capacity(names.len().min(bytes.len() / 16 + 1));
    for name in names {
        let t = r.tensor().map_err(|e| match e {
            Error::MalformedParams {
                offset, message, ..
            } => Error::MalformedParams {
                offset,
                tensor: Some(name.clone()),
                message,
            },
            e => e,
        })?;
        out.push((name.as_str(), t));
        r.index += 1;
    }
    if r.pos != bytes.len() {
        return Err(Error::MalformedParams {
            offset: r.pos,
            tensor: None,
            message: format!(
                "{} bytes left after the program's {} parameters",
                bytes.len() - r.pos,
                names.len()
            ),
        });
    }
    Ok(out)
}

/// Writes one tensor in the parameters format (tests and fuzzing seeds).
pub fn write_tensor(out: &mut Vec<u8>, dtype: DType, dims: &[i64], data: &[u8]) {
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let desc = TensorDesc {
        data_type: dtype.var_type() as i32,
        dims: dims.to_vec(),
    };
    let d = desc.encode_to_vec();
    out.extend_from_slice(&(d.len() as u32).to_le_bytes());
    out.extend_from_slice(&d);
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(dtype: DType, dims: &[i64], data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        write_tensor(&mut v, dtype, dims, data);
        v
    }

    #[test]
    fn reads_what_it_writes() {
        let mut f = one(DType::F32, &[2, 1], &[0, 0, 128, 63, 0, 0, 0, 64]);
        f.extend(one(DType::I64, &[], &7i64.to_le_bytes()));
        let t = read_tensors(&f).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].dims, vec![2, 1]);
        assert_eq!(t[0].data.len(), 8);
        assert_eq!(t[1].dtype, DType::I64);
        assert_eq!(t[1].dims, Vec::<i64>::new());
        assert_eq!(t[1].data, &7i64.to_le_bytes());
    }

    #[test]
    fn lod_levels_are_skipped() {
        let mut f = Vec::new();
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&1u64.to_le_bytes());
        f.extend_from_slice(&16u64.to_le_bytes());
        f.extend_from_slice(&[0u8; 16]);
        let rest = one(DType::U8, &[3], &[1, 2, 3]);
        f.extend_from_slice(&rest[12..]);
        let t = read_tensors(&f).unwrap();
        assert_eq!(t[0].data, &[1, 2, 3]);
    }

    #[test]
    fn huge_dims_are_an_error_not_an_allocation() {
        let f = one(DType::F32, &[1 << 40, 1 << 40], &[]);
        let e = read_tensors(&f).unwrap_err().to_string();
        assert!(e.contains("overflow"), "{e}");
        let f = one(DType::F32, &[1 << 30, 1 << 20], &[]);
        let e = read_tensors(&f).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn hostile_lod_count_ends_at_the_input() {
        let mut f = Vec::new();
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&u64::MAX.to_le_bytes());
        f.extend_from_slice(&u64::MAX.to_le_bytes());
        let e = read_tensors(&f).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn negative_dims_unknown_types_and_versions_are_errors() {
        let e = read_tensors(&one(DType::F32, &[-1], &[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("negative dimension"), "{e}");
        let mut f = one(DType::F32, &[1], &[0; 4]);
        // data_type field: the byte after tag 0x08 inside the TensorDesc
        let at = f.iter().position(|&b| b == 0x08).unwrap();
        f[at + 1] = 99;
        let e = read_tensors(&f).unwrap_err().to_string();
        assert!(e.contains("unknown data type 99"), "{e}");
        let mut f = one(DType::F32, &[1], &[0; 4]);
        f[0] = 1;
        let e = read_tensors(&f).unwrap_err().to_string();
        assert!(e.contains("version 1"), "{e}");
    }

    #[test]
    fn named_reading_checks_count_and_trailing_bytes() {
        let f = one(DType::F32, &[1], &[0; 4]);
        let names = vec!["a".to_string(), "b".to_string()];
        let e = read_named(&f, &names).unwrap_err().to_string();
        assert!(e.contains("tensor b"), "{e}");
        let mut g = f.clone();
        g.push(0);
        let e = read_named(&g, &names[..1]).unwrap_err().to_string();
        assert!(e.contains("1 bytes left"), "{e}");
        assert_eq!(read_named(&f, &names[..1]).unwrap().len(), 1);
    }
}
