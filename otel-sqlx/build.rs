//! Points sqlx's `query!` macros (used only by this crate's tests) at a checked-in SQLite
//! schema, so `cargo test` in a fresh clone needs no `DATABASE_URL`, no `.sqlx` data and no
//! sqlx-cli. The macros open a copy in `OUT_DIR` (sqlx-sqlite 0.9 cannot describe through a
//! `mode=ro` connection, and the checked-in file must never be written); a packaged crate
//! without its tests sets nothing.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=tests/fixtures/macros_schema.db");
    println!("cargo:rerun-if-changed=build.rs");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_string());
    let schema = Path::new(&dir).join("tests/fixtures/macros_schema.db");
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return;
    };
    let copy = out.join("macros_schema.db");
    if std::fs::copy(&schema, &copy).is_err() {
        return;
    }
    println!("cargo:rustc-env=DATABASE_URL=sqlite://{}", copy.display());
    println!("cargo:rustc-env=SQLX_OFFLINE=false");
}
