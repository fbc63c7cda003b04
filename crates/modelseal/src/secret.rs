//! Zeroize-on-drop byte buffers for decrypted model data and keys.
//! A [`Secret`] derefs to `[u8]`, never prints its contents, and wipes its whole allocation when dropped.
//! On Linux every non-empty buffer lives in its own anonymous mapping marked `MADV_DONTDUMP`, so
//! that a core dump of the process leaves it out; large ones are backed by transparent huge pages
//! where the kernel allows it, so that filling a fresh multi-hundred-MiB buffer is not dominated by
//! page faults. Elsewhere (or if the mapping fails) the buffer is on the heap.

use std::fmt;
use std::ops::{Deref, DerefMut};
use zeroize::{Zeroize, Zeroizing};

/// Buffers at least this large ask for transparent huge pages.
const HUGE_PAGE_THRESHOLD: usize = 4 << 20;

enum Buf {
    Heap(Zeroizing<Vec<u8>>),
    Map(memmap2::MmapMut),
}

/// Plaintext bytes that are wiped (whole allocation) when dropped.
pub struct Secret(Buf);

impl Secret {
    /// Moves `bytes` into a secret buffer and wipes the vector it came in.
    pub fn new(bytes: Vec<u8>) -> Secret {
        let bytes = Zeroizing::new(bytes);
        Secret::from_slice(&bytes)
    }

    /// A secret copy of `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Secret {
        let mut s = Secret::zeroed(bytes.len());
        s.copy_from_slice(bytes);
        s
    }

    /// A zero-filled buffer of `len` bytes.
    pub fn zeroed(len: usize) -> Secret {
        #[cfg(target_os = "linux")]
        if len > 0 {
            if let Ok(map) = memmap2::MmapMut::map_anon(len) {
                // Left out of core dumps; a kernel that refuses the advice still gets the buffer.
                let _ = map.advise(memmap2::Advice::DontDump);
                if len >= HUGE_PAGE_THRESHOLD {
                    let _ = map.advise(memmap2::Advice::HugePage);
                }
                return Secret(Buf::Map(map));
            }
        }
        Secret(Buf::Heap(Zeroizing::new(vec![0u8; len])))
    }

    /// Whether the buffer lives in its own mapping excluded from core dumps.
    pub fn is_excluded_from_core_dumps(&self) -> bool {
        matches!(self.0, Buf::Map(_))
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
        Secret(Buf::Heap(Zeroizing::new(Vec::new())))
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
        for len in [0, 10, HUGE_PAGE_THRESHOLD, HUGE_PAGE_THRESHOLD + 7] {
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

    /// The kernel's view of the mapping: its VmFlags line in /proc/self/smaps carries `dd`.
    #[cfg(target_os = "linux")]
    #[test]
    fn mappings_are_left_out_of_core_dumps() {
        let s = Secret::from_slice(b"plaintext weights");
        assert!(s.is_excluded_from_core_dumps());
        let addr = s.as_ptr() as usize;
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut in_range = false;
        let mut flags = None;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ') {
                if let Some((a, b)) = range.split_once('-') {
                    if let (Ok(a), Ok(b)) =
                        (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                    {
                        in_range = a <= addr && addr < b;
                        continue;
                    }
                }
            }
            if in_range && line.starts_with("VmFlags:") {
                flags = Some(line.to_string());
                break;
            }
        }
        let flags = flags.expect("the secret's mapping is listed in /proc/self/smaps");
        assert!(
            flags.split_whitespace().any(|f| f == "dd"),
            "no dd flag: {flags}"
        );
    }
}
