//! The sealing commands of `modelseal`: keygen, encrypt, verify, inspect, decrypt, rekey, man.

use super::{Cli, Command};
use anyhow::{Context, Result};
use clap::CommandFactory;
use modelseal::{Key, ModelDir, OpenOptions, OutputFormat, SealOptions, Storage};
use modelseal_cli::{note, progress_bar, UsageError};
use std::path::Path;

/// Uses the key given, or generates one and hands it out once (stdout, or `key_out`).
fn key_or_generate(given: Option<Key>, key_out: Option<&Path>) -> Result<(Key, bool)> {
    if let Some(k) = given {
        if key_out.is_some() {
            return Err(
                UsageError("--key-out only applies when a new key is generated".into()).into(),
            );
        }
        return Ok((k, false));
    }
    let k = Key::generate()?;
    if let Some(p) = key_out {
        modelseal::write_key_file(p, &k)?;
    }
    Ok((k, true))
}

fn announce_key(key: &Key, generated: bool, key_out: Option<&Path>) {
    if !generated {
        return;
    }
    match key_out {
        Some(p) => note!("generated a new key and wrote it to {}", p.display()),
        None => {
            eprintln!("generated a new key; it is printed once below on stdout; keep it secret:");
            let _ = modelseal_cli::print_secret_line("", &key.to_base64());
        }
    }
}

fn seal_with_progress(
    key: &Key,
    src: &ModelDir,
    dst: &Path,
    opts: &SealOptions,
) -> Result<Vec<modelseal::SealedMember>> {
    let total: u64 = src.names().iter().filter_map(|n| src.size(n)).sum();
    let bar = progress_bar(total, "sealing");
    let members = modelseal::seal_dir(key, src, dst, opts, &|n| bar.inc(n));
    bar.finish_and_clear();
    members.with_context(|| format!("sealing {} into {}", src.root().display(), dst.display()))
}

/// Seals `src` into `dst` under the given key (or a new one, handed out once) and lists what was written.
fn seal_and_report(
    src: &ModelDir,
    dst: &Path,
    key: Option<Key>,
    key_out: Option<&Path>,
    opts: &SealOptions,
) -> Result<()> {
    let (k, generated) = key_or_generate(key, key_out)?;
    let members = seal_with_progress(&k, src, dst, opts)?;
    for m in &members {
        let how = if m.encrypted { "sealed" } else { "copied" };
        note!(
            "  {how:<6} {:<8} {:>12} bytes  {} -> {}",
            m.role.as_str(),
            m.size,
            m.name,
            m.file
        );
    }
    note!("{} members written to {}", members.len(), dst.display());
    if opts.format == OutputFormat::V2 {
        let id = OpenOptions::new().key(k.clone()).open(dst)?.seal_id();
        if let Some(id) = id {
            note!("sealing id: {id}");
        }
    }
    announce_key(&k, generated, key_out);
    Ok(())
}

/// `modelseal convert`: a plain input opens without a key; a sealed one through the open policy
/// with its key, and is then only written sealed.
fn convert(
    model_dir: &Path,
    save_dir: &Path,
    seal: bool,
    key_out: Option<&Path>,
    key: &modelseal_cli::KeyArgs,
    policy: &modelseal_cli::PolicyArgs,
) -> Result<()> {
    let given = key.resolve()?;
    let src = match OpenOptions::new().open(model_dir) {
        Err(modelseal::Error::KeyRequired { .. }) => {
            let k = given.clone().ok_or_else(|| {
                UsageError(format!(
                    "{} is sealed: give its key ({})",
                    model_dir.display(),
                    modelseal_cli::keys::KEY_SOURCES
                ))
            })?;
            policy.options(Some(k)).open(model_dir)?
        }
        other => other?,
    };
    modelseal_cli::warn_if_paddlex_v1("modelseal", src.storage());
    if src.is_sealed() && !seal {
        return Err(UsageError(format!(
            "{} is sealed: its ONNX translation is only written sealed; add --seal",
            model_dir.display()
        ))
        .into());
    }
    if !seal && (given.is_some() || key_out.is_some()) {
        return Err(UsageError(
            "a key (or --key-out) only applies with --seal; without it the output is plain".into(),
        )
        .into());
    }
    let source = modelseal_deploy::ModelSource::from_dir(src);
    let converted = modelseal_deploy::model::convert_to_onnx(&source)
        .with_context(|| format!("converting {}", model_dir.display()))?;
    drop(source);
    if seal {
        seal_and_report(
            &converted,
            save_dir,
            given,
            key_out,
            &SealOptions::default(),
        )
    } else {
        let names = modelseal::write_plain_dir(&converted, save_dir)?;
        note!(
            "wrote {} plain members ({}) to {}",
            names.len(),
            names.join(", "),
            save_dir.display()
        );
        Ok(())
    }
}

fn storage_name(s: Storage) -> &'static str {
    match s {
        Storage::SealedV2 => "modelseal v2",
        Storage::PaddleV1 => "PaddleX v1",
        Storage::Plain => "plain copy",
    }
}

fn warn_v1_output(format: OutputFormat) {
    if format == OutputFormat::PaddleV1 {
        eprintln!("warning: {}", modelseal::PADDLEX_V1_WARNING);
    }
}

pub(super) fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Keygen { out } => {
            let key = Key::generate()?;
            match out {
                Some(p) => {
                    modelseal::write_key_file(&p, &key)?;
                    note!("wrote a new key to {} (mode 0600)", p.display());
                }
                None => announce_key(&key, true, None),
            }
            Ok(())
        }
        Command::Encrypt {
            model_dir,
            save_dir,
            input,
            output,
            force,
            follow_symlinks,
            format,
            chunk_log2,
            key_out,
            key,
        } => {
            let format = OutputFormat::from(format);
            warn_v1_output(format);
            let given = key.resolve()?;
            if let (Some(input), Some(output)) = (&input, &output) {
                let (k, generated) = key_or_generate(given, key_out.as_deref())?;
                modelseal::seal_file(&k, input, output, format, chunk_log2).with_context(|| {
                    format!("sealing {} into {}", input.display(), output.display())
                })?;
                note!("sealed {} -> {}", input.display(), output.display());
                announce_key(&k, generated, key_out.as_deref());
                return Ok(());
            }
            let (Some(model_dir), Some(save_dir)) = (model_dir, save_dir) else {
                return Err(UsageError(
                    "encrypt needs --model-dir DIR --save-dir DIR, or --in FILE --out FILE".into(),
                )
                .into());
            };
            let src = match OpenOptions::new()
                .follow_symlinks(follow_symlinks)
                .open(&model_dir)
            {
                Err(modelseal::Error::KeyRequired { .. }) => {
                    return Err(UsageError(format!(
                        "{} is already sealed; use `modelseal rekey` to change its key or format",
                        model_dir.display()
                    ))
                    .into())
                }
                other => other?,
            };
            tracing::info!(dir = %model_dir.display(), members = src.names().len(), "sealing");
            let opts = SealOptions {
                format,
                chunk_log2,
                force,
            };
            seal_and_report(&src, &save_dir, given, key_out.as_deref(), &opts)
        }
        Command::Verify {
            model_dir,
            key,
            policy,
        } => {
            let k = key.require()?;
            let report = modelseal::verify(&model_dir, &policy.options(Some(k)))?;
            modelseal_cli::warn_if_paddlex_v1("modelseal", report.storage);
            let seal_id = report.seal_id;
            let mut first_err: Option<modelseal::Error> = None;
            for (name, outcome) in report.members {
                match outcome {
                    Ok(m) => println!(
                        "OK    {name}  {} bytes  sha256:{}  ({})",
                        m.size,
                        m.sha256,
                        storage_name(m.storage)
                    ),
                    Err(e) => {
                        println!("FAIL  {name}  {e}");
                        first_err.get_or_insert(e);
                    }
                }
            }
            if let Some(id) = seal_id {
                println!("sealing id: {id}");
            }
            match first_err {
                Some(e) => Err(anyhow::Error::new(e)
                    .context(format!("{} did not verify", model_dir.display()))),
                None => Ok(()),
            }
        }
        Command::Inspect { path } => {
            for e in modelseal::inspect(&path)? {
                print_inspect(&e);
            }
            Ok(())
        }
        Command::Decrypt { input, output, key } => {
            let k = key.require()?;
            let n = modelseal::decrypt_file(&k, &input, &output)?;
            note!(
                "decrypted {} -> {} ({n} bytes of plaintext written to disk)",
                input.display(),
                output.display()
            );
            Ok(())
        }
        Command::Rekey {
            model_dir,
            save_dir,
            new_key_file,
            key_out,
            force,
            format,
            key,
        } => {
            let old = key.require()?;
            let format = OutputFormat::from(format);
            warn_v1_output(format);
            // Re-keying is the migration out of PaddleX v1: it reads v1 without an opt-in.
            let src = OpenOptions::new()
                .key(old)
                .allow_paddlex_v1(true)
                .open(&model_dir)?;
            let new = match new_key_file {
                Some(p) => Some(if p == Path::new("-") {
                    modelseal_cli::keys::KeySources {
                        key_file: Some(p),
                        ..Default::default()
                    }
                    .read()?
                    .expect("a key file yields a key")
                } else {
                    Key::read_file(&p)?
                }),
                None => None,
            };
            let opts = SealOptions {
                format,
                chunk_log2: modelseal::DEFAULT_CHUNK_LOG2,
                force,
            };
            seal_and_report(&src, &save_dir, new, key_out.as_deref(), &opts)
        }
        Command::Convert {
            model_dir,
            save_dir,
            seal,
            key_out,
            key,
            policy,
        } => convert(
            &model_dir,
            &save_dir,
            seal,
            key_out.as_deref(),
            &key,
            &policy,
        ),
        Command::ManPages { out_dir } => {
            std::fs::create_dir_all(&out_dir)
                .with_context(|| format!("cannot create {}", out_dir.display()))?;
            let cmd = Cli::command();
            write_man(&cmd, "modelseal", &out_dir)?;
            for sub in cmd.get_subcommands() {
                let name = format!("modelseal-{}", sub.get_name());
                write_man(&sub.clone().name(name.clone()), &name, &out_dir)?;
            }
            Ok(())
        }
        Command::Classify(_)
        | Command::Detect(_)
        | Command::Segment(_)
        | Command::Serve(_)
        | Command::Completions { .. } => unreachable!("handled in main"),
    }
}

fn write_man(cmd: &clap::Command, name: &str, dir: &Path) -> Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    std::fs::write(&path, buf).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn print_inspect(e: &modelseal::InspectEntry) {
    match (&e.header, e.storage) {
        (Some(h), _) => println!(
            "{}: modelseal v2 {}, member '{}', {} plaintext bytes, {} chunks of {} bytes, sealing {}, file {} bytes{}",
            e.file,
            if h.kind == modelseal::Kind::Manifest { "manifest" } else { "member" },
            h.name,
            h.plaintext_len,
            h.chunk_count(),
            h.chunk_size(),
            hex::encode(h.seal_id),
            e.file_size,
            e.problem.as_ref().map(|p| format!(" (PROBLEM: {p})")).unwrap_or_default()
        ),
        (None, Storage::SealedV2) => println!(
            "{}: modelseal header, unreadable: {}",
            e.file,
            e.problem.clone().unwrap_or_default()
        ),
        (None, Storage::PaddleV1) => println!(
            "{}: PaddleX v1 (PADDLE1, one nonce per key), file {} bytes{}",
            e.file,
            e.file_size,
            if e.file_size >= 151 {
                format!(", {} plaintext bytes if not base64-wrapped", e.file_size - 151)
            } else {
                String::new()
            }
        ),
        (None, Storage::Plain) => println!("{}: not sealed, {} bytes", e.file, e.file_size),
    }
}
