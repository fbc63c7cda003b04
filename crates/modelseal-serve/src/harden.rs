//! Process hardening at start-up: no core dumps and no ptrace attach by other processes of the
//! same user (`PR_SET_DUMPABLE` 0), so decrypted models and the key do not leave the process.

/// Marks the process as not dumpable (Linux); elsewhere does nothing.
pub fn disable_core_dumps() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_process_is_no_longer_dumpable() {
        super::disable_core_dumps().unwrap();
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
