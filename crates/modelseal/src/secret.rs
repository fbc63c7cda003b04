//! Zeroize-on-drop byte buffers for decrypted model data.
//! A [`Secret`] derefs to `[u8]`, never prints its contents, and wipes its whole allocation when dropped.

use std::fmt;
use std::ops::{Deref, DerefMut};
use zeroize::Zeroizing;

/// Plaintext bytes that are wiped (whole capacity) when dropped.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps a buffer; it is wiped on drop from now on.
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret(Zeroizing::new(bytes))
    }

    /// A zero-filled buffer of `len` bytes.
    pub fn zeroed(len: usize) -> Secret {
        Secret(Zeroizing::new(vec![0u8; len]))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for Secret {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl DerefMut for Secret {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl AsRef<[u8]> for Secret {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}
