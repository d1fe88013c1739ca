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
