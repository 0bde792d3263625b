//! `throughcare backup FILE`, `restore FILE` and `migrate --from URL --to URL`
//! (docs/operations.md). Each moves the whole record through the store's portable
//! log (or, for a SQLite database backed up to a `.sqlite` file, SQLite's online
//! backup), then walks the target's hash chain and insists that its head is the
//! source's. Every failure is an error (exit status 1); a failed restore or
//! migration leaves the target empty, and a failed backup leaves no file behind.

use anyhow::{Context as _, Result, anyhow, bail};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use throughcare_domain::profile::Profile;
use throughcare_store::{
    ExportSummary, ImportSummary, SqliteStore, Store, StoreError, VerifyReport, check_log,
    sqlite_path,
};

/// A progress line goes to standard error every this many lines moved.
const PROGRESS_EVERY: u64 = 10_000;
/// Buffer size for the files and the pipe between export and import.
const BUFFER: usize = 1 << 16;
/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// `throughcare backup FILE`: a SQLite copy (online backup, consistent while the
/// server runs) when FILE ends in `.sqlite`, otherwise a JSON Lines export; the
/// written file is then checked. FILE must not exist; it is written under a
/// temporary name, readable by its owner only, and renamed when complete.
pub fn backup(database: &str, profile: &Profile, file: &Path) -> Result<()> {
    if file.exists() {
        bail!(
            "{} already exists: a backup never overwrites a file; choose a new name",
            file.display()
        );
    }
    let partial = Partial::create(file)?;
    let started = Instant::now();
    let as_sqlite = file.extension().is_some_and(|e| e == "sqlite");
    match (sqlite_path(database), as_sqlite) {
        (Some(path), true) => {
            let source = SqliteStore::open(existing(path)?, profile)?;
            source.backup_to(partial.path_str()?)?;
            drop(source);
            partial.finish()?;
            println!(
                "Copied the database to {} with SQLite's online backup in {:.2} s.",
                file.display(),
                started.elapsed().as_secs_f64()
            );
            let copy = SqliteStore::open_read_only(path_str(file)?, profile)?;
            intact("The backup", &copy.verify()?, None)?;
        }
        (None, true) => {
            // PostgreSQL into a new SQLite file: a logical copy through the portable log.
            let source = throughcare_store::open(database, profile)?;
            let target = SqliteStore::open(partial.path_str()?, profile)?;
            let (exported, _) = transfer(source.as_ref(), &target)?;
            let report = target.verify()?;
            drop(target);
            partial.finish()?;
            moved("Copied", &exported, "into", file, started);
            intact("The backup", &report, Some(&exported.head_hash))?;
        }
        (_, false) => {
            let source = open_existing(database, profile)?;
            let mut out = BufWriter::with_capacity(
                BUFFER,
                Progress::new(partial.file.try_clone()?, "backup", "written"),
            );
            let exported = source.export_log(&mut out)?;
            let f = out
                .into_inner()
                .map_err(|e| anyhow!("could not write {}: {}", file.display(), e.error()))?;
            f.inner.sync_all()?;
            partial.finish()?;
            moved("Backed up", &exported, "to", file, started);
            let mut input = BufReader::with_capacity(BUFFER, File::open(file)?);
            let check = check_log(&mut input)
                .with_context(|| format!("the backup {} does not read back", file.display()))?;
            let report = VerifyReport {
                verified: check.events,
                head_hash: check.head_hash,
                broken: None,
            };
            intact("The backup", &report, Some(&exported.head_hash))?;
        }
    }
    Ok(())
}

/// `throughcare restore FILE`: a `.sqlite` copy (opened read-only) or a JSON Lines
/// export into the database, which must be empty; then verify.
pub fn restore(database: &str, profile: &Profile, file: &Path) -> Result<()> {
    let mut f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut magic = [0u8; 16];
    let is_sqlite = f.read_exact(&mut magic).is_ok() && &magic == SQLITE_MAGIC;
    drop(f);
    let started = Instant::now();
    let target = throughcare_store::open(database, profile)?;
    let imported = if is_sqlite {
        let source = SqliteStore::open_read_only(path_str(file)?, profile)?;
        transfer(&source, target.as_ref())?.1
    } else {
        let f = File::open(file)?;
        let mut input = BufReader::with_capacity(BUFFER, Progress::new(f, "restore", "read"));
        target
            .import_log(&mut input)
            .with_context(|| format!("nothing was restored from {}", file.display()))?
    };
    moved("Restored", &as_export(&imported), "from", file, started);
    intact("The log", &target.verify()?, Some(&imported.head_hash))
}

/// `throughcare migrate --from URL --to URL`: the source's portable log streamed
/// into the target (which must be empty) through a pipe; then verify the target.
pub fn migrate(from: &str, to: &str, profile: &Profile) -> Result<()> {
    if from == to {
        bail!("--from and --to name the same database");
    }
    let started = Instant::now();
    let source = open_existing(from, profile)?;
    let target = throughcare_store::open(to, profile)?;
    let (exported, _) = transfer(source.as_ref(), target.as_ref())?;
    println!(
        "Moved {} in {:.2} s; head {}.",
        counts(&exported),
        started.elapsed().as_secs_f64(),
        exported.head_hash
    );
    intact("The log", &target.verify()?, Some(&exported.head_hash))
}

/// Streams `source`'s portable log into `target`: the export runs on a thread of
/// its own, writing into a pipe the import reads. If the import stops (a bad line,
/// a non-empty target), the pipe closes and the export stops too; if the export
/// stops, the import sees an incomplete file and stores nothing.
fn transfer(source: &dyn Store, target: &dyn Store) -> Result<(ExportSummary, ImportSummary)> {
    let (reader, writer) = std::io::pipe()?;
    let (exported, imported) = std::thread::scope(|s| {
        let exporter = s.spawn(move || {
            let mut out = BufWriter::with_capacity(BUFFER, writer);
            let summary = source.export_log(&mut out)?;
            out.flush().map_err(|e| StoreError::Io(e.to_string()))?;
            Ok::<_, StoreError>(summary)
        });
        let mut input =
            BufReader::with_capacity(BUFFER, Progress::new(reader, "transfer", "moved"));
        let imported = target.import_log(&mut input);
        drop(input);
        let exported = exporter
            .join()
            .unwrap_or_else(|_| Err(StoreError::Io("the export thread failed".into())));
        (exported, imported)
    });
    match (exported, imported) {
        (Ok(e), Ok(i)) => Ok((e, i)),
        // The export failed first: the import only saw the file stop.
        (Err(e), Err(StoreError::BadBackup(_))) | (Err(e), Ok(_)) => {
            Err(anyhow::Error::new(e).context("reading the source failed; nothing was stored"))
        }
        (_, Err(i)) => Err(anyhow::Error::new(i).context("nothing was stored in the target")),
    }
}

/// Prints a verify report and insists on an intact chain whose head is `expected`.
fn intact(what: &str, report: &VerifyReport, expected: Option<&str>) -> Result<()> {
    if let Some(b) = &report.broken {
        bail!(
            "{what} is broken: {b}. {} events before it are intact.",
            report.verified
        );
    }
    println!(
        "{what} is intact: {} events verified; head {}.",
        report.verified, report.head_hash
    );
    if let Some(head) = expected
        && report.head_hash != head
    {
        bail!(
            "{what}'s head {} is not the source's head {head}",
            report.head_hash
        );
    }
    Ok(())
}

/// An import's counts in the form the messages print.
fn as_export(i: &ImportSummary) -> ExportSummary {
    ExportSummary {
        events: i.events,
        head_hash: i.head_hash.clone(),
        accounts: i.accounts,
        access_entries: i.access_entries,
        feed_records: i.feed_records,
    }
}

fn counts(s: &ExportSummary) -> String {
    format!(
        "{} events, {} staff accounts, {} access-audit entries and {} feed records",
        s.events, s.accounts, s.access_entries, s.feed_records
    )
}

fn moved(verb: &str, s: &ExportSummary, preposition: &str, file: &Path, started: Instant) {
    println!(
        "{verb} {} {preposition} {} in {:.2} s; head {}.",
        counts(s),
        file.display(),
        started.elapsed().as_secs_f64(),
        s.head_hash
    );
}

/// Opens a store that must already exist (a SQLite path is not created).
fn open_existing(url: &str, profile: &Profile) -> Result<Box<dyn Store>> {
    if let Some(path) = sqlite_path(url) {
        existing(path)?;
    }
    Ok(throughcare_store::open(url, profile)?)
}

fn existing(path: &str) -> Result<&str> {
    if !Path::new(path).is_file() {
        bail!("the database {path} does not exist");
    }
    Ok(path)
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not a UTF-8 path", path.display()))
}

/// A backup being written under a temporary name (`FILE.partial`), removed unless
/// [`Partial::finish`] renames it to FILE.
struct Partial {
    path: PathBuf,
    target: PathBuf,
    file: File,
    done: bool,
}

impl Partial {
    fn create(target: &Path) -> Result<Partial> {
        let mut name = target.as_os_str().to_owned();
        name.push(".partial");
        let path = PathBuf::from(name);
        let _ = std::fs::remove_file(&path);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Partial {
            path,
            target: target.to_path_buf(),
            file,
            done: false,
        })
    }

    fn path_str(&self) -> Result<&str> {
        path_str(&self.path)
    }

    fn finish(mut self) -> Result<()> {
        self.file.sync_all()?;
        std::fs::rename(&self.path, &self.target).with_context(|| {
            format!(
                "cannot rename {} to {}",
                self.path.display(),
                self.target.display()
            )
        })?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Counts the lines passing through a reader or writer and says so on standard
/// error every [`PROGRESS_EVERY`] lines.
struct Progress<T> {
    inner: T,
    lines: u64,
    what: &'static str,
    verb: &'static str,
}

impl<T> Progress<T> {
    fn new(inner: T, what: &'static str, verb: &'static str) -> Progress<T> {
        Progress {
            inner,
            lines: 0,
            what,
            verb,
        }
    }

    fn count(&mut self, bytes: &[u8]) {
        let before = self.lines / PROGRESS_EVERY;
        self.lines += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        if self.lines / PROGRESS_EVERY > before {
            eprintln!(
                "{}: {} lines {}",
                self.what,
                self.lines / PROGRESS_EVERY * PROGRESS_EVERY,
                self.verb
            );
        }
    }
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count(&buf[..n]);
        Ok(n)
    }
}

impl<W: Write> Write for Progress<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
