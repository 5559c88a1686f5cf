//! `sg-faultproxy`: one fault-injecting proxy in front of one node, for benchmarks.
//!
//! ```text
//! sg-faultproxy --listen 127.0.0.1:9301 --target 127.0.0.1:9201 --latency-ms 50
//! ```
//!
//! It prints `listening on ADDR` once it accepts connections and runs until it is
//! killed (SIGTERM/SIGINT). Tests that need to switch modes mid-run use the library.

use clap::{Parser, ValueEnum};
use sg_faultproxy::{FaultProxy, Mode};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Fault {
    /// Forward bytes both ways (with --latency-ms: late by that much).
    Pass,
    /// Reset every connection.
    Reset,
    /// Accept, read, never answer.
    BlackHole,
    /// Answer every request with a 503 ES error body.
    Status503,
}

#[derive(Debug, Parser)]
#[command(version, about = "A fault-injecting TCP proxy in front of one node")]
struct Cli {
    /// Address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The node to forward to.
    #[arg(long)]
    target: SocketAddr,
    /// What to do with the connections.
    #[arg(long, value_enum, default_value = "pass")]
    fault: Fault,
    /// Delay every byte from the client by this many milliseconds (with --fault pass).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let mode = match cli.fault {
        Fault::Pass if cli.latency_ms > 0 => Mode::Latency(Duration::from_millis(cli.latency_ms)),
        Fault::Pass => Mode::Pass,
        Fault::Reset => Mode::Reset,
        Fault::BlackHole => Mode::BlackHole,
        Fault::Status503 => Mode::Status503,
    };
    let listener = match tokio::net::TcpListener::bind(cli.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sg-faultproxy: cannot listen on {}: {e}", cli.listen);
            std::process::exit(1);
        }
    };
    let proxy = FaultProxy::with_listener(listener, cli.target, mode);
    println!("listening on {} -> {} ({mode:?})", proxy.addr(), cli.target);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
