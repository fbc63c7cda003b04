//! The YAML reading shared by every suite's config: typed accessors that name the file and the key
//! in their errors, numeric expressions (`1./255.`), interpolation names.

use serde_yaml_ng::{Mapping, Value};

use crate::error::{config_err, Result};
use crate::image::Interp;

pub(super) struct Ctx<'a> {
    pub(super) file: &'a str,
}

impl Ctx<'_> {
    pub(super) fn err(&self, msg: impl Into<String>) -> crate::error::Error {
        config_err(self.file, msg)
    }

    pub(super) fn map<'v>(&self, v: &'v Value, key: &str) -> Result<&'v Mapping> {
        v.as_mapping()
            .ok_or_else(|| self.err(format!("`{key}` must be a mapping")))
    }

    pub(super) fn f64(&self, v: &Value, key: &str) -> Result<f64> {
        match v {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| self.err(format!("`{key}` is not a number"))),
            Value::String(s) => parse_num_expr(s)
                .ok_or_else(|| self.err(format!("`{key}` = {s:?} is not a number"))),
            _ => Err(self.err(format!("`{key}` must be a number"))),
        }
    }

    pub(super) fn usize(&self, v: &Value, key: &str) -> Result<usize> {
        let f = self.f64(v, key)?;
        if f < 0.0 || f.fract() != 0.0 {
            return Err(self.err(format!("`{key}` must be a non-negative integer, got {f}")));
        }
        Ok(f as usize)
    }

    pub(super) fn bool(&self, v: &Value, key: &str) -> Result<bool> {
        v.as_bool()
            .ok_or_else(|| self.err(format!("`{key}` must be true or false")))
    }

    pub(super) fn str<'v>(&self, v: &'v Value, key: &str) -> Result<&'v str> {
        v.as_str()
            .ok_or_else(|| self.err(format!("`{key}` must be a string")))
    }

    pub(super) fn f64s(&self, v: &Value, key: &str) -> Result<Vec<f64>> {
        let seq = v
            .as_sequence()
            .ok_or_else(|| self.err(format!("`{key}` must be a list of numbers")))?;
        seq.iter().map(|x| self.f64(x, key)).collect()
    }

    pub(super) fn three(&self, v: &Value, key: &str) -> Result<[f64; 3]> {
        let xs = self.f64s(v, key)?;
        match xs.len() {
            1 => Ok([xs[0]; 3]),
            3 => Ok([xs[0], xs[1], xs[2]]),
            n => Err(self.err(format!("`{key}` must have 3 values, got {n}"))),
        }
    }

    /// An int or a 2-list.
    pub(super) fn pair(&self, v: &Value, key: &str) -> Result<(usize, usize)> {
        if v.is_sequence() {
            let xs = self.f64s(v, key)?;
            if xs.len() != 2 || xs.iter().any(|x| *x <= 0.0 || x.fract() != 0.0) {
                return Err(self.err(format!(
                    "`{key}` must be a positive integer or a list of two"
                )));
            }
            Ok((xs[0] as usize, xs[1] as usize))
        } else {
            let n = self.usize(v, key)?;
            if n == 0 {
                return Err(self.err(format!("`{key}` must be positive")));
            }
            Ok((n, n))
        }
    }

    pub(super) fn strings(&self, v: &Value, key: &str) -> Result<Vec<String>> {
        let seq = v
            .as_sequence()
            .ok_or_else(|| self.err(format!("`{key}` must be a list")))?;
        seq.iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                _ => Err(self.err(format!("`{key}` must be a list of strings"))),
            })
            .collect()
    }

    /// Checks that every key of `m` is in `known`.
    pub(super) fn only(&self, m: &Mapping, known: &[&str], what: &str) -> Result<()> {
        for k in m.keys() {
            let k = k.as_str().unwrap_or("<non-string key>");
            if !known.contains(&k) {
                return Err(self.err(format!(
                    "unknown key `{k}` in {what}; accepted: {}",
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

pub(super) fn get<'v>(m: &'v Mapping, key: &str) -> Option<&'v Value> {
    m.get(key).filter(|v| !v.is_null())
}

/// Parses `"1./255."`-style numeric expressions (PaddleClas `scale`).
pub(super) fn parse_num_expr(s: &str) -> Option<f64> {
    let mut parts = s.split('/');
    let first: f64 = parts.next()?.trim().parse().ok()?;
    let mut v = first;
    for p in parts {
        let d: f64 = p.trim().parse().ok()?;
        v /= d;
    }
    Some(v)
}

pub(super) fn f32s3(a: [f64; 3]) -> [f32; 3] {
    [a[0] as f32, a[1] as f32, a[2] as f32]
}

pub(super) fn interp_name(ctx: &Ctx, v: &Value, key: &str) -> Result<Interp> {
    let accepted = "NEAREST, LINEAR, CUBIC, AREA, LANCZOS4 (or 0-4)";
    match v {
        Value::Number(_) => match ctx.usize(v, key)? {
            0 => Ok(Interp::Nearest),
            1 => Ok(Interp::Linear),
            2 => Ok(Interp::Cubic),
            3 => Ok(Interp::Area),
            4 => Ok(Interp::Lanczos4),
            n => Err(ctx.err(format!(
                "`{key}` = {n} is not an interpolation; accepted: {accepted}"
            ))),
        },
        Value::String(s) => match s.to_ascii_uppercase().as_str() {
            "NEAREST" | "INTER_NEAREST" => Ok(Interp::Nearest),
            "LINEAR" | "BILINEAR" | "INTER_LINEAR" => Ok(Interp::Linear),
            "CUBIC" | "BICUBIC" | "INTER_CUBIC" => Ok(Interp::Cubic),
            "AREA" | "INTER_AREA" => Ok(Interp::Area),
            "LANCZOS4" | "LANCZOS" | "INTER_LANCZOS4" => Ok(Interp::Lanczos4),
            _ => Err(ctx.err(format!(
                "`{key}` = {s:?} is not an interpolation; accepted: {accepted}"
            ))),
        },
        _ => Err(ctx.err(format!(
            "`{key}` must be an interpolation name; accepted: {accepted}"
        ))),
    }
}
