//! A throwaway PostgreSQL server for the tests of one test binary
//! (issue 14): `initdb` and `pg_ctl` from the installed PostgreSQL (Debian's
//! `postgresql` package: /usr/lib/postgresql/N/bin, or `pg_config
//! --bindir`, or `SCRUPLE_PG_BIN`), in a temporary directory, listening on a
//! free loopback port. A watchdog process stops the server and deletes the
//! directory as soon as the test process is gone, however it ends (a failed
//! test, a panic, a kill).
//!
//! When PostgreSQL is not installed, [`shared`] returns `None` after
//! printing why, and the tests skip; with `CI` set it panics instead: CI
//! installs it (`.ci/run`).
//!
//! Include with `#[path = "support/postgres.rs"] mod pg;`.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// A running server.
pub struct Server {
    bin: PathBuf,
    dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// As whom its commands run (`postgres` when the tests run as root:
    /// PostgreSQL refuses to run as root).
    run_as: Option<String>,
}

static SHARED: OnceLock<Option<Server>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The server shared by the tests of this binary, started on first use;
/// `None` (after a message) when PostgreSQL is not installed and `CI` is
/// unset.
pub fn shared() -> Option<&'static Server> {
    SHARED
        .get_or_init(|| match bin_dir() {
            Some(bin) => Some(Server::start(&bin)),
            None => {
                let why = "PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin, \
                           pg_config --bindir or SCRUPLE_PG_BIN)";
                if std::env::var_os("CI").is_some() {
                    panic!("{why}; CI must install the `postgresql` package (.ci/run does)");
                }
                eprintln!("SKIPPED: {why}: the PostgreSQL ledger tests did not run");
                None
            }
        })
        .as_ref()
}

/// A server of its own (for a test that stops and restarts it).
pub fn private() -> Option<Server> {
    shared()?;
    bin_dir().map(|bin| Server::start(&bin))
}

fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SCRUPLE_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Some(bin);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    bin.join("initdb").is_file().then_some(bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Server {
    fn start(bin: &Path) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("scruple-pg-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        let run_as = is_root().then(|| "postgres".to_string());
        if let Some(user) = &run_as {
            let ok = Command::new("chown")
                .arg("-R")
                .arg(user)
                .arg(&dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "cannot give {} to the `{user}` user", dir.display());
        }
        let mut server = Server {
            bin: bin.to_path_buf(),
            dir,
            port: free_port(),
            run_as,
        };
        server.watchdog();
        let data = server.dir.join("data");
        server.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "scruple",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        // A port can be taken between choosing and binding it: try again.
        for _ in 0..5 {
            if server.try_start() {
                return server;
            }
            server.port = free_port();
        }
        panic!(
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(server.dir.join("log")).unwrap_or_default()
        );
    }

    /// Stops the server when this process is gone, and deletes its files.
    fn watchdog(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.dir.join("data");
        let stop = self.command_line(&format!(
            "{} stop -D {} -m immediate",
            pg_ctl.display(),
            data.display()
        ));
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.3; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = self.dir.display(),
        );
        // Deliberately not waited for: it outlives this process.
        #[allow(clippy::zombie_processes)]
        let _watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the watchdog starts");
    }

    fn command_line(&self, line: &str) -> String {
        match &self.run_as {
            Some(user) => format!("runuser -u {user} -- {line}"),
            None => line.to_string(),
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> bool {
        let exe = self.bin.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{} does not run: {e}", exe.display()));
        if !out.status.success() && tool == "initdb" {
            panic!(
                "initdb failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status.success()
    }

    fn try_start(&self) -> bool {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                &self.dir.join("data").to_string_lossy(),
                "-l",
                &self.dir.join("log").to_string_lossy(),
                "-o",
                &options,
            ],
        )
    }

    /// Stops the server (fast shutdown: connections are cut).
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &[
                "stop",
                "-w",
                "-m",
                "fast",
                "-D",
                &self.dir.join("data").to_string_lossy(),
            ],
        );
    }

    /// Starts it again after [`Server::stop`], on the same port.
    pub fn restart(&self) {
        assert!(self.try_start(), "PostgreSQL did not start again");
    }

    /// The URL of the server's `postgres` database.
    pub fn admin_url(&self) -> String {
        format!("postgres://scruple@127.0.0.1:{}/postgres", self.port)
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> String {
        let n = DATABASES.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{}_{n}", std::process::id());
        let mut client = postgres::Client::connect(&self.admin_url(), postgres::NoTls)
            .expect("connected to the test server");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("a test database");
        format!("postgres://scruple@127.0.0.1:{}/{name}", self.port)
    }
}
