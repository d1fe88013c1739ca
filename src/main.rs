//! The `chitieu` command: the API server and its maintenance tasks.

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
    /// vi for Vietnamese numbers, units and words; standard by default.
    #[arg(long, default_value = "standard")]
    locale: String,
    /// Who imports (kept in the revisions).
    #[arg(long, default_value = "cli")]
    user: String,
    /// Why (kept in the revisions).
    #[arg(long)]
    reason: Option<String>,
}

fn main() -> anyhow::Result<()> {
    chitieu::init_tracing();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", chitieu::openapi::document_json());
            Ok(())
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
            Ok(())
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
            Ok(())
        }
        Command::Serve => serve(),
        Command::Import(args) => import_file(args),
        Command::Token(command) => token(command),
        Command::User(command) => chitieu::web::cli::run(command),
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

fn import_file(args: ImportArgs) -> anyhow::Result<()> {
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
    };
    let rows_bar = bar.clone();
    let caller = chitieu::auth::Caller::system(&args.user);
    let summary = import(
        &mut conn,
        bar.wrap_read(file),
        options,
        &caller,
        args.reason.as_deref(),
        move |rows| {
            rows_bar.set_message(format!("{rows} rows"));
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    println!("{}", serde_json::to_string_pretty(&summary)?);
    if summary.rejected > 0 && summary.atomic {
        anyhow::bail!("{} row(s) rejected; nothing was written", summary.rejected);
    }
    Ok(())
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
