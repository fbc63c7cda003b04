//! Minimal `.npy` reader for the committed reference tensors (little-endian, C order).

use std::path::Path;

use modelseal_paddle::Tensor;

pub fn read(path: &Path) -> Tensor {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&b[..6], b"\x93NUMPY", "{}: not an npy file", path.display());
    let (hlen, start) = if b[6] == 1 {
        (u16::from_le_bytes([b[8], b[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(&b[start..start + hlen]).unwrap();
    let data = &b[start + hlen..];
    let descr = header
        .split("'descr':")
        .nth(1)
        .unwrap()
        .split('\'')
        .nth(1)
        .unwrap();
    assert!(
        header.contains("'fortran_order': False"),
        "{}: fortran order",
        path.display()
    );
    let shape_txt = header.split("'shape':").nth(1).unwrap();
    let shape_txt = &shape_txt[shape_txt.find('(').unwrap() + 1..shape_txt.find(')').unwrap()];
    let shape: Vec<usize> = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let n: usize = shape.iter().product();
    macro_rules! le {
        ($t:ty, $k:expr) => {
            data.chunks_exact($k)
                .take(n)
                .map(|c| <$t>::from_le_bytes(c.try_into().unwrap()))
                .collect::<Vec<$t>>()
        };
    }
    match descr {
        "<f4" => Tensor::f32(shape, le!(f32, 4)),
        "<f8" => Tensor::f32(shape, le!(f64, 8).into_iter().map(|x| x as f32).collect()),
        "<i4" => Tensor::i32(shape, le!(i32, 4)),
        "<i8" => Tensor::i64(shape, le!(i64, 8)),
        "|b1" | "|u1" => Tensor::i64(shape, data[..n].iter().map(|&x| x as i64).collect()),
        d => panic!("{}: unsupported dtype {d}", path.display()),
    }
}
