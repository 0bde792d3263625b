//! `throughcare`: the server and command-line interface.

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use throughcare::app::{self, AppState};
use throughcare::auth;
use throughcare::recording::Recorder;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::RandomIds;
use throughcare_store::{Role, StaffAccount, Store};

/// Throughcare: case management and returns for prison substance use services.
#[derive(Parser)]
#[command(name = "throughcare", version, about)]
struct Cli {
    /// The database: a SQLite file path (the default) or `sqlite://PATH`.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "throughcare.sqlite"
    )]
    database: String,
    /// The contract profile: `kent-medway` or `single-prison`.
    #[arg(
        long,
        global = true,
        env = "THROUGHCARE_PROFILE",
        default_value = "kent-medway"
    )]
    profile: String,
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Serve the web pages and the JSON API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Seed demo data first when the database is empty, and print the demo sign-ins.
        #[arg(long)]
        demo: bool,
    },
    /// Seed an empty database with the deterministic synthetic demo data set.
    Demo,
    /// Import a feed or migrated history.
    Import {
        /// What the file holds.
        kind: ImportKind,
        /// The file.
        file: PathBuf,
        /// Apply the good rows and report every bad one (otherwise one bad row applies nothing).
        #[arg(long)]
        skip_bad_rows: bool,
        /// Who the import is recorded as (default `feed.import`; for outcomes,
        /// `feed.outcomes`).
        #[arg(long)]
        by: Option<String>,
    },
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Make a person-level extract for a national data set (docs/ndtms.md).
    ///
    /// `ndtms`: the people in structured treatment in the period who consented to
    /// NDTMS submission (KM 3.3.6), one row per modality or TOP, in the core data
    /// set's fields. FILE is pure CSV; `FILE.meta.json` beside it names the data set
    /// version, period, as-at instant and profile. Exit status 1, listing every
    /// missing mandatory field, when the completeness check fails (KM 4.28.5) —
    /// unless `--allow-incomplete`.
    Extract {
        /// Which extract.
        kind: ExtractKind,
        /// The period, like 2026Q3.
        #[arg(long)]
        period: String,
        /// As at: a date (the end of that day, UK time) or an RFC 3339 instant; now by
        /// default.
        #[arg(long)]
        as_at: Option<String>,
        /// Only this establishment's rows.
        #[arg(long)]
        establishment: Option<String>,
        /// The CSV file to write (holds personal data: keep it safe).
        #[arg(long)]
        output: PathBuf,
        /// Write the file even when mandatory fields are missing (still listed).
        #[arg(long)]
        allow_incomplete: bool,
    },
    /// Walk the hash chain and report the first broken link (exit status 1 if any).
    Verify,
    /// Generate a synthetic estate into an empty database, for measuring at scale:
    /// PEOPLE people over YEARS years ending on END, every fact decided by the
    /// domain (docs/benchmarks: BENCHMARKS.md). The same seed gives the same history.
    Generate {
        /// How many people.
        #[arg(long)]
        people: usize,
        /// Over how many years.
        #[arg(long, default_value_t = 3)]
        years: u32,
        /// The seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The last day of the history (YYYY-MM-DD; default 2026-11-30, so a seed
        /// means the same history whenever it is run).
        #[arg(long, default_value = "2026-11-30")]
        end: String,
    },
    /// Recompute every projection (the case index and the work queues) from the
    /// log, in one transaction. Opening a database made by an older version does
    /// this by itself; run it after restoring by hand or to check the projections.
    RebuildProjections,
    /// Back up the whole record to FILE, then check the copy.
    ///
    /// A SQLite database backed up to a FILE ending in `.sqlite` is copied with
    /// SQLite's online backup (consistent while the server runs); any other FILE
    /// gets a portable JSON Lines export of every event exactly as stored, the staff
    /// accounts, the access audit and the feed records (docs/operations.md). The
    /// file holds personal data and password hashes: keep it as safe as the
    /// database. FILE must not exist.
    Backup {
        /// The file to write: `NAME.sqlite` for a SQLite copy, otherwise JSON Lines.
        file: PathBuf,
    },
    /// Restore a backup into the `--database`, which must be new and empty.
    ///
    /// FILE is a `.sqlite` copy or a JSON Lines export; every event's chain link
    /// and hash is checked on the way in, and the projections are rebuilt. A bad or
    /// incomplete file is refused (naming the line) and nothing is stored. The
    /// restored log is verified: its head must be the backup's.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Produce a return as at an instant (docs/kpis.md): the same as-at gives the same
    /// file, whatever has been recorded since.
    Report {
        /// Which return.
        kind: ReportKind,
        /// The quarter, like 2025Q3 (the KM quarterly return).
        #[arg(long)]
        quarter: Option<String>,
        /// The period, like 2025H2, 2025Q3 or 2025 (other returns).
        #[arg(long)]
        period: Option<String>,
        /// The year the service's year starts in, like 2025 (the annual report): the
        /// calendar year for a profile whose year starts in January, April 2025 to
        /// March 2026 (2025-26) for one starting in April.
        #[arg(long)]
        year: Option<String>,
        /// Only this establishment's lines.
        #[arg(long)]
        establishment: Option<String>,
        /// As at: a date (the end of that day, UK time) or an RFC 3339 instant; now by
        /// default.
        #[arg(long)]
        as_at: Option<String>,
        /// The output format.
        #[arg(long, value_enum, default_value = "table")]
        format: ReportFormat,
        /// Write to this file (required for xlsx) instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Exact figures (the service's own internal view) even where the return is
        /// published with disclosure control.
        #[arg(long)]
        exact: bool,
    },
    /// Copy the whole record from one database to another (e.g. SQLite to PostgreSQL).
    ///
    /// The target must be new and empty; a failure stores nothing. The target is then
    /// verified: its chain head must be the source's. `--database` is not used.
    Migrate {
        /// The source database URL (a SQLite path, `sqlite://PATH` or `postgres://…`).
        #[arg(long)]
        from: String,
        /// The target database URL (created if a SQLite path; a PostgreSQL database
        /// must exist, empty).
        #[arg(long)]
        to: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExtractKind {
    /// The NDTMS adult core data set extract (KM 3.3.6, 4.28).
    Ndtms,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportKind {
    /// The quarterly KPI return by prison (KM 6.4–6.7); needs --quarter.
    KmQuarterly,
    /// The six-monthly anonymised report (S4 §5); needs --period (e.g. 2026H1).
    S4SixMonthly,
    /// The annual report (S4 §6, §9–10; KM 4.18–4.24); needs --year (e.g. 2025).
    Annual,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// A plain-text table.
    Table,
    /// CSV (the summary sheet).
    Csv,
    /// XLSX: a summary sheet and a sheet per prison (needs --output).
    Xlsx,
}

#[derive(Clone, Copy, ValueEnum)]
enum ImportKind {
    /// Custody movements CSV (docs/imports.md).
    Movements,
    /// Drug test results CSV (docs/imports.md).
    DrugTests,
    /// Outcomes after release CSV: reoffences and deaths (docs/imports.md).
    Outcomes,
    /// JSON Lines of events (docs/events.md).
    Events,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add or replace a staff account. The password is read from standard input.
    Add {
        /// Sign-in name.
        username: String,
        /// Role: worker, clinician, manager, admin, commissioner (aggregate returns
        /// as published, nothing else), or self_referral_service (the in-cell
        /// telephone system's account: it may post self-referrals and nothing else).
        #[arg(long)]
        role: String,
        /// Establishment codes, comma separated.
        #[arg(long, value_delimiter = ',')]
        establishments: Vec<String>,
        /// The name shown in the header.
        #[arg(long)]
        name: String,
    },
}

fn open(cli: &Cli) -> Result<(Profile, Arc<dyn Store>)> {
    let profile = Profile::builtin(&cli.profile)?;
    let store: Arc<dyn Store> = Arc::from(throughcare_store::open(&cli.database, &profile)?);
    Ok((profile, store))
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match &cli.command {
        Commands::Serve { listen, demo } => {
            let (profile, store) = open(&cli)?;
            if *demo {
                if store.events_after(0, 1)?.is_empty() {
                    let summary = throughcare::demo::seed(store.as_ref(), &profile, Utc::now())?;
                    println!(
                        "Demo data: {} people, {} events.",
                        summary.people, summary.events
                    );
                    print_accounts(&summary.accounts);
                    print_kiosk_codes();
                } else {
                    println!("The database already holds data; demo data was not added.");
                    println!("Demo sign-ins (if this database was seeded by the demo):");
                    print_accounts(&throughcare::demo::accounts(&profile));
                    print_kiosk_codes();
                }
            }
            let state = AppState::new(store, profile, *demo);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                println!(
                    "Throughcare is running at http://{}",
                    listener.local_addr()?
                );
                app::serve(listener, state).await?;
                Ok::<_, anyhow::Error>(())
            })?;
        }
        Commands::Demo => {
            let (profile, store) = open(&cli)?;
            if !store.events_after(0, 1)?.is_empty() {
                bail!(
                    "the database already holds data: demo data goes only into an empty database"
                );
            }
            let summary = throughcare::demo::seed(store.as_ref(), &profile, Utc::now())?;
            println!(
                "Demo data: {} people, {} events.",
                summary.people, summary.events
            );
            print_accounts(&summary.accounts);
            print_kiosk_codes();
        }
        Commands::Import {
            kind,
            file,
            skip_bad_rows,
            by,
        } => {
            let (profile, store) = open(&cli)?;
            let calendar = profile.calendar();
            let recorder = Recorder {
                store: store.as_ref(),
                profile: &profile,
                calendar: &calendar,
            };
            let by = StaffUsername::parse(by.as_deref().unwrap_or(match kind {
                ImportKind::Outcomes => throughcare::outcomes_import::FEED_USER,
                _ => "feed.import",
            }))?;
            let f = std::fs::File::open(file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            match kind {
                ImportKind::Events => {
                    match throughcare::events_import::import_events(
                        &recorder,
                        std::io::BufReader::new(f),
                        Utc::now(),
                        &mut RandomIds,
                        *skip_bad_rows,
                    ) {
                        Ok(r) => {
                            println!(
                                "{} lines read, {} events appended, {} lines skipped.",
                                r.lines,
                                r.appended,
                                r.skipped.len()
                            );
                            for p in &r.skipped {
                                println!("skipped {p}");
                            }
                        }
                        Err(throughcare::events_import::EventsImportError::Rejected(ps)) => {
                            for p in &ps {
                                eprintln!("{p}");
                            }
                            bail!(
                                "nothing was imported: {} problem(s); fix them or use --skip-bad-rows",
                                ps.len()
                            );
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                ImportKind::Movements | ImportKind::DrugTests | ImportKind::Outcomes => {
                    let feed = match kind {
                        ImportKind::Movements => throughcare::imports::Feed::Movements,
                        ImportKind::DrugTests => throughcare::imports::Feed::DrugTests,
                        _ => throughcare::imports::Feed::Outcomes,
                    };
                    match throughcare::imports::import(
                        &recorder,
                        feed,
                        f,
                        &by,
                        Utc::now(),
                        *skip_bad_rows,
                    ) {
                        Ok(r) => {
                            println!(
                                "{} rows read, {} applied, {} already applied, {} skipped.",
                                r.rows,
                                r.applied,
                                r.already_applied,
                                r.skipped_rows()
                            );
                            for p in &r.skipped {
                                println!("skipped line {}: {}: {}", p.line, p.field, p.problem);
                            }
                        }
                        Err(throughcare::imports::ImportError::Rejected(ps)) => {
                            for p in &ps {
                                eprintln!("line {}: {}: {}", p.line, p.field, p.problem);
                            }
                            bail!(
                                "nothing was imported: {} problem(s); fix them or use --skip-bad-rows",
                                ps.len()
                            );
                        }
                        Err(e) => bail!("{e}"),
                    }
                }
            }
        }
        Commands::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    establishments,
                    name,
                },
        } => {
            let (profile, store) = open(&cli)?;
            let role = Role::from_code(role).with_context(|| {
                format!("role must be worker, clinician, manager, admin, commissioner or self_referral_service (got {role:?})")
            })?;
            if throughcare::kiosk::is_reserved_username(username) {
                bail!(
                    "{username:?} is reserved: the kiosk records what people in prison enter under it"
                );
            }
            let mut codes = Vec::new();
            for e in establishments {
                codes.push(profile_establishment(&profile, e)?);
            }
            if codes.is_empty() {
                bail!("give at least one establishment with --establishments");
            }
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            if password.len() < 12 {
                bail!("the password (read from standard input) must be at least 12 characters");
            }
            let account = StaffAccount {
                username: StaffUsername::parse(username)?,
                display_name: name.clone(),
                role,
                password_hash: auth::hash_password(password).map_err(anyhow::Error::msg)?,
                establishments: codes,
                active: true,
                created_at: Utc::now(),
            };
            store.put_account(&account)?;
            println!("Account {} saved.", account.username);
        }
        Commands::Backup { file } => {
            let profile = Profile::builtin(&cli.profile)?;
            throughcare::backup::backup(&cli.database, &profile, file)?;
        }
        Commands::Restore { file } => {
            let profile = Profile::builtin(&cli.profile)?;
            throughcare::backup::restore(&cli.database, &profile, file)?;
        }
        Commands::Migrate { from, to } => {
            let profile = Profile::builtin(&cli.profile)?;
            throughcare::backup::migrate(from, to, &profile)?;
        }
        Commands::Report {
            kind,
            quarter,
            period,
            year,
            establishment,
            as_at,
            format,
            output,
            exact,
        } => {
            use throughcare::report_export as rx;
            use throughcare_domain::returns::ReturnKind;
            use throughcare_domain::returns::period::Period;
            let (kind, text) = match kind {
                ReportKind::KmQuarterly => (
                    ReturnKind::KmQuarterly,
                    quarter.as_ref().or(period.as_ref()),
                ),
                ReportKind::S4SixMonthly => (
                    ReturnKind::S4SixMonthly,
                    period.as_ref().or(quarter.as_ref()),
                ),
                ReportKind::Annual => (ReturnKind::Annual, year.as_ref().or(period.as_ref())),
            };
            let period = match (kind, text) {
                (ReturnKind::Annual, None) => bail!("--year: say which year, like 2025"),
                (ReturnKind::Annual, Some(text)) => {
                    let starts = Profile::builtin(&cli.profile)?
                        .obligations
                        .year_starts_month;
                    Period::parse_year(text, starts).map_err(|e| anyhow::anyhow!("--year: {e}"))?
                }
                (_, None) => bail!("--quarter (or --period): say which period, like 2025Q3"),
                (_, Some(text)) => {
                    Period::parse(text).map_err(|e| anyhow::anyhow!("--quarter: {e}"))?
                }
            };
            let as_at = match as_at {
                Some(t) => rx::parse_as_at(t).map_err(|e| anyhow::anyhow!("--as-at: {e}"))?,
                None => Utc::now(),
            };
            let (profile, store) = open(&cli)?;
            let only = establishment
                .as_deref()
                .map(|code| profile_establishment(&profile, code))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--establishment: {e}"))?;
            let r = rx::compute(store.as_ref(), &profile, kind, &period, as_at)?;
            let rule = if *exact {
                None
            } else {
                rx::published_rule(&profile, kind)
            };
            let sheets = rx::sheets(&r, &profile, only.as_ref(), rule.as_ref());
            let bytes = match format {
                ReportFormat::Table => rx::table(&sheets).into_bytes(),
                ReportFormat::Csv => rx::csv(&sheets)?,
                ReportFormat::Xlsx => {
                    if output.is_none() {
                        bail!("--output: an XLSX file needs a file to go to");
                    }
                    rx::to_xlsx(&r, &sheets)?
                }
            };
            match output {
                Some(path) => {
                    std::fs::write(path, &bytes)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("Wrote {} ({} bytes).", path.display(), bytes.len());
                }
                None => {
                    use std::io::Write as _;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
        }
        Commands::Extract {
            kind: ExtractKind::Ndtms,
            period,
            as_at,
            establishment,
            output,
            allow_incomplete,
        } => {
            use throughcare::ndtms_export as nx;
            use throughcare_domain::returns::period::Period;
            let period = Period::parse(period).map_err(|e| anyhow::anyhow!("--period: {e}"))?;
            let as_at = match as_at {
                Some(t) => throughcare::report_export::parse_as_at(t)
                    .map_err(|e| anyhow::anyhow!("--as-at: {e}"))?,
                None => Utc::now(),
            };
            let (profile, store) = open(&cli)?;
            let only = establishment
                .as_deref()
                .map(|code| profile_establishment(&profile, code))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--establishment: {e}"))?;
            let x = nx::compute(store.as_ref(), &profile, &period, as_at, only.as_ref())?;
            let lines = nx::problem_lines(&x);
            for line in &lines {
                eprintln!("{line}");
            }
            if !x.is_complete() && !*allow_incomplete {
                eprintln!(
                    "The extract is incomplete: {} mandatory fields are missing (KM 4.28.5). Nothing was written; complete them, or use --allow-incomplete.",
                    lines.len()
                );
                std::process::exit(1);
            }
            let bytes = nx::to_csv(&x)?;
            std::fs::write(output, &bytes)
                .with_context(|| format!("writing {}", output.display()))?;
            let mut meta_path = output.clone().into_os_string();
            meta_path.push(".meta.json");
            let meta = nx::metadata(&x, &profile, as_at, only.as_ref());
            std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta)?)
                .with_context(|| format!("writing {}", meta_path.to_string_lossy()))?;
            eprintln!(
                "Wrote {} ({} rows, data set {}) and {}.",
                output.display(),
                x.rows.len().saturating_sub(1),
                x.dataset_version,
                meta_path.to_string_lossy()
            );
        }
        Commands::Generate {
            people,
            years,
            seed,
            end,
        } => {
            let (profile, store) = open(&cli)?;
            if !store.events_after(0, 1)?.is_empty() {
                bail!("the database already holds data: generate into an empty database");
            }
            let end: chrono::NaiveDate = end
                .parse()
                .map_err(|e| anyhow::anyhow!("--end: {e} (expected YYYY-MM-DD)"))?;
            let started = std::time::Instant::now();
            let options = throughcare::generate::Options {
                people: *people,
                years: *years,
                seed: *seed,
                end,
            };
            let summary = throughcare::generate::generate(
                store.as_ref(),
                &profile,
                &options,
                &mut |done, events| {
                    eprintln!(
                        "generate: {done} of {people} people, {events} events, {:.0} events/s",
                        events as f64 / started.elapsed().as_secs_f64().max(0.001)
                    )
                },
            )?;
            println!(
                "Generated {} people, {} events ({} refused) in {:.1}s.",
                summary.people,
                summary.events,
                summary.refused,
                started.elapsed().as_secs_f64()
            );
        }
        Commands::RebuildProjections => {
            let (_, store) = open(&cli)?;
            let people = store.rebuild_projections()?;
            println!("Projections rebuilt from the log for {people} people.");
        }
        Commands::Verify => {
            let (_, store) = open(&cli)?;
            let report = store.verify()?;
            match report.broken {
                None => println!(
                    "The log is intact: {} events verified; head {}.",
                    report.verified, report.head_hash
                ),
                Some(b) => {
                    eprintln!(
                        "The log is broken: {b}. {} events before it are intact.",
                        report.verified
                    );
                    std::process::exit(1);
                }
            }
        }
    }
    Ok(())
}

fn print_kiosk_codes() {
    println!(
        "Satisfaction survey codes for the kiosk at /kiosk (demo only; each works once): {}",
        throughcare::demo_surveys::DEMO_KIOSK_CODES.join(", ")
    );
}

fn print_accounts(accounts: &[(String, String, String)]) {
    println!("Sign in with (demo only):");
    for (user, password, role) in accounts {
        println!("  {user:<12} password {password:<20} ({role})");
    }
}

/// The establishment `code` names, if it is one of the profile's; an error saying why
/// not otherwise.
fn profile_establishment(profile: &Profile, code: &str) -> anyhow::Result<EstablishmentCode> {
    let code = EstablishmentCode::parse(code)?;
    if profile.establishment(&code).is_none() {
        bail!(
            "{code} is not an establishment of the {} profile",
            profile.id
        );
    }
    Ok(code)
}
