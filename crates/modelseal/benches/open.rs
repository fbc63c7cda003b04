//! Decryption throughput of a 256 MiB member (1 and 2 threads, from memory and from a file) next to
//! `openssl speed -evp aes-256-gcm` measured in the same run, and the peak memory of opening it.
//! Run: `cargo bench -p modelseal --bench open` (MODELSEAL_BENCH_MIB changes the size).

use modelseal::internal::{self as v2, SealParams};
use modelseal::Key;
use modelseal::Kind;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const CHILD_ENV: &str = "MODELSEAL_BENCH_CHILD_OPEN";

fn vm_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Best time of `runs` calls of `f`; what `f` returns is dropped (and wiped) outside the timing.
fn best_of<T, F: FnMut() -> T>(runs: usize, mut f: F) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let out = f();
        best = best.min(t.elapsed().as_secs_f64());
        drop(out);
    }
    best
}

/// openssl's AES-256-GCM rate (GB/s) at a given block size and process count.
fn openssl_speed(bytes: usize, multi: usize) -> Option<f64> {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "speed",
        "-evp",
        "aes-256-gcm",
        "-seconds",
        "3",
        "-bytes",
        &bytes.to_string(),
    ]);
    if multi > 1 {
        cmd.args(["-multi", &multi.to_string()]);
    }
    let out = cmd.output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Last line: "<name>  <rate>k" (kB/s in 1000-byte units).
    let line = text
        .lines()
        .rev()
        .find(|l| l.to_ascii_lowercase().contains("aes-256-gcm"))?;
    let rate = line
        .split_whitespace()
        .last()?
        .trim_end_matches('k')
        .parse::<f64>()
        .ok()?;
    Some(rate * 1000.0 / 1e9)
}

fn main() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        // Child mode: open one sealed file and report peak resident memory.
        let key = Key::from_base64(&std::env::var("MODELSEAL_KEY").unwrap()).unwrap();
        let before = vm_kib("VmRSS:");
        let (_, plain) = v2::open_path(&key, Path::new(&path)).unwrap();
        let peak = vm_kib("VmHWM:");
        println!("{before} {peak} {}", plain.len());
        return;
    }
    let mib: usize = std::env::var("MODELSEAL_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let n = mib << 20;
    let key = Key::generate().unwrap();
    let data: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(31)).collect();
    let params = SealParams {
        kind: Kind::Member,
        name: "model.pdiparams".into(),
        seal_id: [0; 16],
        chunk_log2: modelseal::DEFAULT_CHUNK_LOG2,
    };
    let sealed = v2::seal_image(&key, &params, &data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.pdiparams.sealed");
    std::fs::write(&file, &sealed).unwrap();
    drop(data);

    let chunk = 1usize << modelseal::DEFAULT_CHUNK_LOG2;
    println!(
        "modelseal open benchmark: {mib} MiB member, {} KiB chunks, {} CPUs",
        chunk >> 10,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let ossl1 = openssl_speed(chunk, 1);
    let ossl2 = openssl_speed(chunk, 2);
    let gbs = |secs: f64| n as f64 / secs / 1e9;
    let mut results = Vec::new();
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mem = pool.install(|| {
            best_of(5, || {
                let (_, p) = v2::open_image(&key, &sealed, Path::new("m")).unwrap();
                assert_eq!(p.len(), n);
            })
        });
        let disk = pool.install(|| {
            best_of(5, || {
                let (_, p) = v2::open_path(&key, &file).unwrap();
                assert_eq!(p.len(), n);
            })
        });
        results.push((threads, gbs(mem), gbs(disk)));
    }
    // The cipher alone, the way openssl speed measures it: one chunk-sized buffer, in cache, repeatedly.
    let ring_key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &[7u8; 32]).unwrap(),
    );
    let mut buf = vec![0u8; chunk];
    let reps = 4096;
    let secs = best_of(3, || {
        for i in 0..reps {
            let nonce = ring::aead::Nonce::assume_unique_for_key([i as u8; 12]);
            let tag = std::hint::black_box(
                ring_key
                    .seal_in_place_separate_tag(nonce, ring::aead::Aad::empty(), &mut buf)
                    .unwrap(),
            );
            std::hint::black_box(tag.as_ref());
        }
    });
    let ring_gbs = (reps * chunk) as f64 / secs / 1e9;
    let wipe = {
        let p = v2::open_image(&key, &sealed, Path::new("m")).unwrap().1;
        let t = Instant::now();
        drop(p);
        t.elapsed().as_secs_f64()
    };
    // Memory-system floor on this machine: faulting in a fresh buffer, and one copy into a warm one.
    let fault = best_of(3, || {
        let mut v = vec![0u8; n];
        for i in (0..n).step_by(4096) {
            v[i] = 1;
        }
        v
    });
    let mut warm = vec![1u8; n];
    let copy = best_of(3, || warm.copy_from_slice(&sealed[..n]));
    drop(warm);
    let fmt = |v: Option<f64>| {
        v.map(|x| format!("{x:.2} GB/s"))
            .unwrap_or_else(|| "n/a (openssl missing)".into())
    };
    println!(
        "openssl speed -evp aes-256-gcm -bytes {chunk}: 1 process {}, 2 processes {}",
        fmt(ossl1),
        fmt(ossl2)
    );
    println!(
        "ring AES-256-GCM alone, 1 thread, {} KiB in cache: {ring_gbs:.2} GB/s",
        chunk >> 10
    );
    println!(
        "wiping the {mib} MiB plaintext on drop: {:.1} ms (not included below)",
        wipe * 1e3
    );
    println!("memory floor: faulting in {mib} MiB fresh: {:.2} GB/s; copying {mib} MiB into a warm buffer: {:.2} GB/s", gbs(fault), gbs(copy));
    for (threads, mem, disk) in &results {
        println!("modelseal open, {threads} thread(s): from memory {mem:.2} GB/s, from file (page cache) {disk:.2} GB/s");
    }
    if let Some(o) = ossl1 {
        println!(
            "ratio 1 thread / openssl 1 process: {:.2} (target >= 1.0)",
            results[0].1 / o
        );
        println!(
            "ratio 2 threads / openssl 1 process: {:.2} (target >= 1.6)",
            results[1].1 / o
        );
    }

    // Peak memory of opening the file in a fresh process.
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, &file)
        .env("MODELSEAL_KEY", &*key.to_base64())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<u64> = text
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if let [before, peak, len] = v[..] {
        let extra_mib =
            (peak as f64 * 1024.0 - before as f64 * 1024.0 - len as f64) / (1 << 20) as f64;
        println!(
            "peak memory opening {len} bytes: RSS before {:.1} MiB, peak {:.1} MiB: {extra_mib:.2} MiB above N (target <= 16 MiB)",
            before as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    } else {
        println!(
            "peak memory: child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
