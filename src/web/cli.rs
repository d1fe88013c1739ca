//! `chitieu user create/list/disable`: accounts of the web app.

use std::io::BufRead;

use clap::Subcommand;

use super::accounts;
use crate::config::Config;
use crate::db;
use crate::error::ApiError;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from CHITIEU_PASSWORD or, if it
    /// is unset, from the first line of standard input (never from the command
    /// line, where other users of the machine could read it).
    Create {
        /// What the person types to sign in: letters, digits, '.', '_', '-'.
        #[arg(long)]
        username: String,
        /// The name shown in the app, e.g. "Nguyễn Thị Lan".
        #[arg(long)]
        name: String,
        /// admin, editor or viewer.
        #[arg(long)]
        role: String,
        /// For an editor: a committee they may write for (with its sub-committees); repeatable.
        #[arg(long = "committee")]
        committees: Vec<String>,
    },
    /// List accounts (never their passwords).
    List,
    /// Disable an account and end its sessions.
    Disable { username: String },
}

fn password_from_env_or_stdin() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("CHITIEU_PASSWORD") {
        return Ok(password);
    }
    eprintln!("password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Runs a `user` subcommand.
pub fn run(command: UserCommand) -> anyhow::Result<()> {
    use crate::routes::tokens::{resolve_scope, TokenInput};

    let config = Config::from_env()?;
    let pool = db::build_pool(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    db::with_startup_lock(&mut conn, db::run_migrations)?;
    let problem = |e: ApiError| {
        anyhow::anyhow!(
            "{}",
            serde_json::to_string(&e.problem()).unwrap_or_default()
        )
    };
    match command {
        UserCommand::Create {
            username,
            name,
            role,
            committees,
        } => {
            let role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            // The same rules as a token's scope: an editor names committees,
            // which must exist; others name none.
            let input = TokenInput {
                name: username.clone(),
                role,
                committees,
            };
            let ids = resolve_scope(&mut conn, &input).map_err(problem)?;
            let password = password_from_env_or_stdin()?;
            let id =
                accounts::create_user(&mut conn, &username, &name, &password, role, &ids, "cli")
                    .map_err(problem)?;
            println!("user {id} ({username}, {role}) created");
        }
        UserCommand::List => {
            for (row, committees) in db::users::list(&mut conn)? {
                let state = if row.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    row.id,
                    row.username,
                    row.display_name,
                    row.role,
                    committees.join(","),
                    state
                );
            }
        }
        UserCommand::Disable { username } => {
            if db::users::disable(&mut conn, &username)? {
                println!("user {username} disabled; their sessions are ended");
            } else {
                anyhow::bail!("no active account is named {username:?}");
            }
        }
    }
    Ok(())
}
