//! Shared pieces of the end-to-end tests, the crash worker and the demo.

/// The reference data every test and the demo use: Shanghai stores (Chinese names), three reps,
/// two supervisors, the standard store check and the supervisor inspection.
pub const REFERENCE_JSON: &str = include_str!("../fixtures/reference.json");

/// The date the fixture's plans are for.
pub const FIXTURE_DAY: &str = "2026-11-23";

/// Path of a file in the shared test data folder (`../shared/testdata` beside the repository).
pub fn testdata(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/testdata")
        .join(name)
}
