//! The `engram` command line.

mod render;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// engram: physics-backed RL environments and recurrent agents.
#[derive(Debug, Parser)]
#[command(name = "engram", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Draw the centre-out hand paths of a policy on a reaching env.
    Render(render::RenderArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Render(args) => render::run(&args),
    }
}
