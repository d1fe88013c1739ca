//! The `chitieu` command: the API server and its maintenance tasks.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use chitieu::config::Config;
use chitieu::{db, seed, Application};

#[derive(Parser)]
#[command(
    name = "chitieu",
    version,
    about = "REST API for economic indicators of Vietnamese business-bloc party committees"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, seed and serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load seed-data/ (idempotent) and exit.
    Seed,
    /// Print the OpenAPI document and exit.
    Openapi,
    /// Import figures from a CSV, JSON or XLSX file, with a progress bar.
    Import(ImportArgs),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the web app's accounts.
    #[command(subcommand)]
    User(chitieu::web::cli::UserCommand),
    /// Group totals kept current on write (rollups).
    #[command(subcommand)]
    Rollups(RollupsCommand),
}

#[derive(Subcommand)]
enum RollupsCommand {
    /// Rebuild every group's totals from the stored figures (migrates first).
    Rebuild,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token and print it (it is shown this once only).
    Create {
        /// Who or what uses it; recorded in every revision it makes.
        #[arg(long)]
        name: String,
        /// admin, editor or viewer.
        #[arg(long)]
        role: String,
        /// For an editor: a committee it may write for (with its sub-committees); repeatable.
        #[arg(long = "committee")]
        committees: Vec<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The file; its format comes from the extension unless --format says otherwise.
    file: std::path::PathBuf,
    /// csv, json or xlsx.
    #[arg(long)]
    format: Option<String>,
    /// create, update, create_and_update (default) or delete.
    #[arg(long, default_value = "create_and_update")]
    strategy: String,
    /// Check everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the good rows even if some are rejected.
    #[arg(long)]
    no_atomic: bool,
    /// Reject rows more than CHITIEU_PLAUSIBILITY_FACTOR (default 100) times
    /// above or below the committee's previous figure, instead of warning.
    #[arg(long)]
    strict: bool,
    /// vi for Vietnamese numbers, units and words; standard by default.
    #[arg(long, default_value = "standard")]
    locale: String,
    /// Who imports (kept in the revisions).
    #[arg(long, default_value = "cli")]
    user: String,
    /// Why (kept in the revisions).
    #[arg(long)]
    reason: Option<String>,
    /// List rows one by one after the summary: none (default), changes (all
    /// but unchanged rows) or all; the first 1000.
    #[arg(long, default_value = "none")]
    rows: String,
}

/// Exit code of an import that rejected rows (1 is any other failure).
const EXIT_REJECTED: u8 = 2;

/// Runs the command. A failure is one line on stderr and a non-zero exit
/// code, never a stack trace (whatever RUST_BACKTRACE says): the command is
/// for people.
fn main() -> ExitCode {
    chitieu::init_tracing();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            // `{:#}` is the error and its causes on one line.
            let _ = writeln!(io::stderr(), "chitieu: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes to stdout; a reader that went away (`chitieu openapi | head`) is
/// not an error.
fn print_out(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print_out(&chitieu::openapi::document_json())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let config = Config::from_env()?;
            let pool = db::build_pool(&config.database_url, 1)?;
            let mut conn = pool.get()?;
            let applied = db::with_startup_lock(&mut conn, db::run_migrations)?;
            println!(
                "{applied} migration(s) applied to {}",
                config.database_url.redacted()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed => {
            let config = Config::from_env()?;
            let pool = db::build_pool(&config.database_url, 1)?;
            let mut conn = pool.get()?;
            let report = db::with_startup_lock(&mut conn, |conn| {
                db::run_migrations(conn)?;
                seed::load_dir(conn, &config.seed_dir)
            })?;
            println!("{report:?}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Rollups(RollupsCommand::Rebuild) => {
            let config = Config::from_env()?;
            let pool = db::build_pool(&config.database_url, 1)?;
            let mut conn = pool.get()?;
            let groups = db::with_startup_lock(&mut conn, |conn| {
                db::run_migrations(conn)?;
                Ok(db::rollups::rebuild_all(conn)?)
            })?;
            println!("rollups of {groups} group(s) rebuilt");
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve => serve().map(|()| ExitCode::SUCCESS),
        Command::Import(args) => import_file(args),
        Command::Token(command) => token(command).map(|()| ExitCode::SUCCESS),
        Command::User(command) => chitieu::web::cli::run(command).map(|()| ExitCode::SUCCESS),
    }
}

fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    actix_web::rt::System::new().block_on(async move {
        let url = config.database_url.redacted();
        let app = Application::build(config)?;
        tracing::info!(port = app.port(), database = %url, "chitieu is listening; API docs at /docs");
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// A file read through a progress bar that shows where in the file the
/// reader is, not how many bytes it has read: XLSX is a zip archive, read
/// by seeking back and forth, so counting reads would overshoot its size.
struct ProgressReader<R> {
    inner: R,
    bar: indicatif::ProgressBar,
}

impl<R: Seek> ProgressReader<R> {
    fn show(&mut self) -> io::Result<()> {
        let at = self.inner.stream_position()?;
        self.bar
            .set_position(at.min(self.bar.length().unwrap_or(at)));
        Ok(())
    }
}

impl<R: Read + Seek> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.show()?;
        Ok(read)
    }
}

impl<R: Read + Seek> Seek for ProgressReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(to)?;
        self.show()?;
        Ok(at)
    }
}

/// The summary of an import as a table for people, then its rejected rows.
fn summary_table(summary: &chitieu::import::ImportSummary) -> String {
    let mut table = String::new();
    let outcome = if summary.committed {
        "written"
    } else if summary.dry_run {
        "dry run: nothing written"
    } else {
        "nothing written"
    };
    table.push_str(&format!("{:<10} {:>10}\n", "rows", summary.rows));
    for (label, count) in [
        ("created", summary.created),
        ("updated", summary.updated),
        ("unchanged", summary.unchanged),
        ("deleted", summary.deleted),
        ("rejected", summary.rejected),
    ] {
        table.push_str(&format!("{label:<10} {count:>10}\n"));
    }
    table.push_str(&format!("{outcome}\n"));
    if !summary.errors.is_empty() {
        table.push_str("\nrow\tcolumn\tcode\tmessage\n");
        for error in &summary.errors {
            table.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                error.row,
                error.column.as_deref().unwrap_or("-"),
                error.code,
                error.message
            ));
        }
        let unlisted = summary.rejected - summary.errors.len() as i64;
        if unlisted > 0 {
            table.push_str(&format!("… and {unlisted} more rejected row(s)\n"));
        }
    }
    if !summary.listed_rows.is_empty() {
        table.push_str(
            "\nrow\taction\tcommittee\tindicator\tperiod\tbreakdown\tvalue\tunit\tscale\tstatus\tqualifier\told value\tnote\n",
        );
        let text = |value: Option<String>| value.unwrap_or_else(|| "-".into());
        for row in &summary.listed_rows {
            let notes: Vec<String> = row
                .errors
                .iter()
                .map(|e| e.code.clone())
                .chain(row.warnings.iter().map(|w| w.warning.message.clone()))
                .collect();
            table.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                row.row,
                row.action.as_str(),
                text(row.committee.clone()),
                text(row.indicator.clone()),
                text(row.period.clone()),
                text(row.breakdown.clone().filter(|b| !b.is_empty())),
                text(row.value.map(|v| v.to_string())),
                text(row.unit.map(|u| u.as_str().to_owned())),
                text(row.scale.map(|s| s.to_string())),
                text(row.status.map(|s| s.as_str().to_owned())),
                text(row.qualifier.map(|q| q.as_str().to_owned())),
                text(row.old_value.map(|v| v.to_string())),
                if notes.is_empty() {
                    "-".into()
                } else {
                    notes.join("; ")
                },
            ));
        }
        if summary.rows_truncated {
            table.push_str(&format!(
                "… only the first {} row(s) are listed\n",
                summary.listed_rows.len()
            ));
        }
    }
    table
}

fn import_file(args: ImportArgs) -> anyhow::Result<ExitCode> {
    use chitieu::import::{import, ImportOptions};
    use chitieu::tabular::Format;

    let format = match &args.format {
        Some(name) => Format::from_name(name)
            .ok_or_else(|| anyhow::anyhow!("--format is csv, json or xlsx"))?,
        None => Format::from_path(&args.file).ok_or_else(|| {
            anyhow::anyhow!(
                "cannot tell the format of {}: use --format",
                args.file.display()
            )
        })?,
    };
    let strategy = serde_json::from_value(serde_json::Value::String(args.strategy.clone()))
        .map_err(|_| {
            anyhow::anyhow!("--strategy is create, update, create_and_update or delete")
        })?;
    let locale = args
        .locale
        .parse()
        .map_err(|e| anyhow::anyhow!("--locale: {e}"))?;
    let rows = serde_json::from_value(serde_json::Value::String(args.rows.clone()))
        .map_err(|_| anyhow::anyhow!("--rows is none, changes or all"))?;
    let config = Config::from_env()?;
    let pool = db::build_pool(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    db::with_startup_lock(&mut conn, db::run_migrations)?;

    let file = std::fs::File::open(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", args.file.display()))?;
    let bar = indicatif::ProgressBar::new(file.metadata()?.len());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )?
        .progress_chars("=> "),
    );
    let options = ImportOptions {
        format,
        strategy,
        dry_run: args.dry_run,
        atomic: !args.no_atomic,
        locale,
        plausibility: chitieu::db::imports::Plausibility {
            factor: config.plausibility_factor,
            strict: args.strict,
        },
        rows,
    };
    let rows_bar = bar.clone();
    let caller = chitieu::auth::Caller::system(&args.user);
    let input = ProgressReader {
        inner: file,
        bar: bar.clone(),
    };
    let result = import(
        &mut conn,
        input,
        options,
        &caller,
        args.reason.as_deref(),
        move |rows| {
            rows_bar.set_message(format!("{rows} rows"));
        },
    );
    bar.finish_and_clear();
    let summary = result.map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    print_out(&summary_table(&summary))?;
    if summary.rejected > 0 {
        let _ = writeln!(
            io::stderr(),
            "chitieu: {} row(s) of {} rejected{}",
            summary.rejected,
            args.file.display(),
            if summary.committed {
                "; the other rows were written"
            } else {
                "; nothing was written"
            }
        );
        return Ok(ExitCode::from(EXIT_REJECTED));
    }
    Ok(ExitCode::SUCCESS)
}

fn token(command: TokenCommand) -> anyhow::Result<()> {
    use chitieu::routes::tokens::{resolve_scope, TokenInput};

    let config = Config::from_env()?;
    let pool = db::build_pool(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    db::with_startup_lock(&mut conn, db::run_migrations)?;
    let problem = |e: chitieu::error::ApiError| {
        anyhow::anyhow!(
            "{}",
            serde_json::to_string(&e.problem()).unwrap_or_default()
        )
    };
    match command {
        TokenCommand::Create {
            name,
            role,
            committees,
        } => {
            let role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let input = TokenInput {
                name,
                role,
                committees,
            };
            let ids = resolve_scope(&mut conn, &input).map_err(problem)?;
            let (id, secret) =
                chitieu::auth::create_token(&mut conn, input.name.trim(), role, &ids, "cli")
                    .map_err(problem)?;
            eprintln!("token {id} ({role}) created; it is shown this once:");
            println!("{secret}");
        }
        TokenCommand::List => {
            for (row, committees) in db::tokens::list(&mut conn)? {
                let state = if row.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}…\t{}\t{}",
                    row.id,
                    row.name,
                    row.role,
                    row.token_prefix,
                    committees.join(","),
                    state
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if db::tokens::revoke(&mut conn, id)? {
                println!("token {id} revoked");
            } else {
                anyhow::bail!("no active token has id {id}");
            }
        }
    }
    Ok(())
}
