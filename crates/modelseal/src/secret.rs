//! Zeroize-on-drop byte buffers for decrypted model data.
//! A [`Secret`] derefs to `[u8]`, never prints its contents, and wipes its whole allocation when dropped.
//! Large buffers live in their own anonymous mapping backed by transparent huge pages where the
//! kernel allows it, so that filling a fresh multi-hundred-MiB buffer is not dominated by page faults.

use std::fmt;
use std::ops::{Deref, DerefMut};
use zeroize::{Zeroize, Zeroizing};

/// Buffers at least this large get their own mapping.
const MAP_THRESHOLD: usize = 4 << 20;

enum Buf {
    Heap(Zeroizing<Vec<u8>>),
    Map(memmap2::MmapMut),
}

/// Plaintext bytes that are wiped (whole allocation) when dropped.
pub struct Secret(Buf);

impl Secret {
    /// Wraps a buffer; it is wiped on drop from now on.
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret(Buf::Heap(Zeroizing::new(bytes)))
    }

    /// A zero-filled buffer of `len` bytes.
    pub fn zeroed(len: usize) -> Secret {
        if len >= MAP_THRESHOLD {
            if let Ok(map) = memmap2::MmapMut::map_anon(len) {
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                return Secret(Buf::Map(map));
            }
        }
        Secret::new(vec![0u8; len])
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.deref().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for Secret {
    fn default() -> Self {
        Secret::new(Vec::new())
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        let mut copy = Secret::zeroed(self.len());
        copy.copy_from_slice(self);
        copy
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // The heap variant wipes itself (Zeroizing, whole capacity); the mapping is wiped here before it is unmapped.
        if let Buf::Map(map) = &mut self.0 {
            map[..].zeroize();
        }
    }
}

impl Deref for Secret {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Buf::Heap(v) => v,
            Buf::Map(m) => m,
        }
    }
}

impl DerefMut for Secret {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Buf::Heap(v) => v,
            Buf::Map(m) => m,
        }
    }
}

impl AsRef<[u8]> for Secret {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_and_small_buffers_behave_alike() {
        for len in [0, 10, MAP_THRESHOLD, MAP_THRESHOLD + 7] {
            let mut s = Secret::zeroed(len);
            assert_eq!(s.len(), len);
            assert!(s.iter().all(|&b| b == 0));
            if len > 0 {
                s[len - 1] = 9;
            }
            let c = s.clone();
            assert_eq!(&c[..], &s[..]);
            assert_eq!(format!("{c:?}"), format!("Secret({len} bytes)"));
        }
    }
}
