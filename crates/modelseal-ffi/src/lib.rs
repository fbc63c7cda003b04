//! modelseal-ffi: the C ABI of modelseal (`include/modelseal.h`) and a PaddleX-compatible layer
//! (`include/paddle_model_encrypt.h`, `include/paddle_model_decrypt.h`) for C and C++ inference services.
//!
//! Conventions of every exported function:
//! - NULL pointer arguments are checked and reported (`MODELSEAL_STATUS_NULL_ARGUMENT`, PaddleX code 101);
//! - a panic never crosses the boundary: it is caught and reported (`MODELSEAL_STATUS_PANIC`);
//! - out-parameters are written only on success;
//! - a failure leaves a UTF-8 message for `modelseal_last_error()` on the calling thread.
#![deny(missing_docs)]

mod api;
mod boundary;
mod paddle;

pub use api::*;
pub use boundary::ModelsealStatus;
pub use paddle::*;
