//! `dakoku-sim lineworks`: a LINE WORKS sandbox on this machine. It prints the integration
//! settings to give dakoku, then plays the platform until stopped.

use clap::{Parser, Subcommand};
use dakoku_sim::lineworks::{LineWorksSim, TEST_PRIVATE_KEY};
use serde_json::json;
use std::net::SocketAddr;

#[derive(Parser)]
#[command(name = "dakoku-sim", about = "Chat platform simulators for trying and testing dakoku")]
struct Cli {
    #[command(subcommand)]
    platform: Platform,
}

#[derive(Subcommand)]
enum Platform {
    /// LINE WORKS: auth server, bot API and users who talk to the bot.
    Lineworks {
        #[arg(long, default_value = "127.0.0.1:9001")]
        listen: SocketAddr,
        #[arg(long, default_value = "2000001")]
        bot_id: String,
        #[arg(long, default_value = "sandbox-bot-secret")]
        bot_secret: String,
        /// Users of the sandbox domain as `userId:email:name`.
        #[arg(long = "user", default_values_t = ["taro:taro@example.com:山田太郎".to_owned(), "hanako:hanako@example.com:佐藤花子".to_owned()])]
        users: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().platform {
        Platform::Lineworks { listen, bot_id, bot_secret, users } => {
            let sim = LineWorksSim::start(listen).await?;
            sim.add_test_app("sandbox-client", "sandbox-client-secret", "sandbox.serviceaccount@example.com");
            sim.add_bot(&bot_id, &bot_secret, None);
            for user in &users {
                let mut parts = user.splitn(3, ':');
                let (Some(id), Some(email), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
                    anyhow::bail!("--user takes userId:email:name, not {user:?}");
                };
                sim.add_user(id, email, name);
            }
            let settings = json!({
                "platform": "lineworks",
                "name": "LINE WORKS sandbox",
                "settings": {
                    "client_id": "sandbox-client",
                    "client_secret": "sandbox-client-secret",
                    "service_account": "sandbox.serviceaccount@example.com",
                    "private_key": TEST_PRIVATE_KEY,
                    "bot_id": bot_id,
                    "bot_secret": bot_secret,
                    "auth_base_url": sim.auth_base_url(),
                    "api_base_url": sim.api_base_url(),
                }
            });
            println!("LINE WORKS simulator on {}", sim.base_url);
            println!("Create the integration in dakoku with this body (POST /api/v1/integrations):");
            println!("{}", serde_json::to_string_pretty(&settings)?);
            println!("Then tell the simulator the callback URL dakoku answered with:");
            println!(
                "  curl -X PATCH {}/_sim/lineworks/bots/{bot_id} -H 'content-type: application/json' -d '{{\"callback_url\": \"CALLBACK_URL\"}}'",
                sim.base_url
            );
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
    }
}
