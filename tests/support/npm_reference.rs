//! Installing the IAB reference libraries for the differential tests
//! (`tests/tcf_reference.rs`, `tests/gpp_reference.rs`): `npm ci` of the
//! committed `tests/reference/package.json` + lock file into a cache
//! directory, once per lock file.

use std::path::Path;
use std::process::Command;

/// Whether `tool --version` runs.
pub fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Installs the packages of `reference` (the directory holding
/// `package.json` and `package-lock.json`) into `cache`, unless the cache
/// already holds the install of this very lock file with `marker` (a
/// path under `node_modules`) present.
pub fn install(reference: &Path, cache: &Path, marker: &str) {
    std::fs::create_dir_all(cache).expect("create cache dir");
    let lock = std::fs::read(reference.join("package-lock.json")).expect("lock file");
    let stamp = cache.join("installed-lock.json");
    let installed = cache.join("node_modules").join(marker);
    if installed.exists() && std::fs::read(&stamp).ok().as_deref() == Some(&lock[..]) {
        return;
    }
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(reference.join(file), cache.join(file)).expect("copy package files");
    }
    let out = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(cache)
        .output()
        .expect("run npm ci");
    assert!(
        out.status.success(),
        "npm ci failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&stamp, &lock).expect("write install stamp");
}
