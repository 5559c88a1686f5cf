//! The `searchgate` binary: installs jemalloc and hands over to the CLI.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    searchgate_server::cli::main()
}
