//! Points sqlx's `query!` macros (used only by this crate's tests) at a checked-in SQLite
//! schema, so `cargo test` in a fresh clone needs no `DATABASE_URL`, no `.sqlx` data and no
//! sqlx-cli. The database is opened read-only by the macros at compile time.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_string());
    let db = std::path::Path::new(&dir).join("tests/fixtures/macros_schema.db");
    println!("cargo:rerun-if-changed=tests/fixtures/macros_schema.db");
    println!("cargo:rerun-if-changed=build.rs");
    println!(
        "cargo:rustc-env=DATABASE_URL=sqlite://{}?mode=ro",
        db.display()
    );
    println!("cargo:rustc-env=SQLX_OFFLINE=false");
}
