//! The two program formats' parsers, each producing the internal graph (`crate::ir`).

pub(crate) mod legacy;
pub(crate) mod pir;
mod pir_ops;
