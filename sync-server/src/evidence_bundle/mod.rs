//! Evidence bundles (docs/evidence-bundle.md): one ZIP file holding a selection's photos, the
//! exact signed entries around them in each phone's receive order, the phones' keys with their
//! enrolment and revocation times, and a summary, which a third party verifies offline
//! ([`verify`]; `fieldproof-server verify BUNDLE`).
//!
//! A leaf below the web pages and the command line: it reads the store ([`export`]) or a file
//! ([`verify`]) and says what it found as codes with parameters, in zh-CN and en ([`words`]).

pub mod export;
pub mod format;
pub mod verify;
pub mod words;

pub use export::{Exporter, Plan, Request, plan};
pub use verify::{BundleReadError, Finding, FindingCode, PhotoOutcome, Report, verify_file, verify_zip};

/// Which bound an over-large selection passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeLimit {
    Visits,
    Photos,
    PhotoBytes,
    EntryBytes,
}

impl SizeLimit {
    pub fn as_str(self) -> &'static str {
        match self {
            SizeLimit::Visits => "visits",
            SizeLimit::Photos => "photos",
            SizeLimit::PhotoBytes => "photo_bytes",
            SizeLimit::EntryBytes => "entry_bytes",
        }
    }
}

/// Why a bundle was not exported. Nothing is written for any of these but
/// [`BundleError::Write`] and [`BundleError::PhotoGone`], which stop a bundle being written
/// (the command line removes its partial file; a download breaks off).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("choose what to export: a visit, a store, a rep or dates")]
    NothingAsked,
    #[error("no store {0:?} (give its id or its code)")]
    UnknownStore(String),
    #[error("no rep {0:?} (give their id or their name)")]
    UnknownRep(String),
    #[error("{1} people are called {0:?}: give the rep's id")]
    AmbiguousRep(String, usize),
    #[error("{0:?} is not a date YYYY-MM-DD")]
    BadDate(String),
    #[error("the first date is after the last")]
    FromAfterTo,
    #[error("no visit {0:?} that you may export")]
    VisitNotFound(String),
    #[error("no visit matches the selection")]
    NothingSelected,
    #[error("too large for one bundle: {count} {} (at most {max})", limit.as_str())]
    TooLarge { limit: SizeLimit, count: u64, max: u64 },
    #[error("the photo {0} is not in the photo store; the bundle was not finished")]
    PhotoGone(String),
    #[error("database: {0}")]
    Storage(String),
    #[error("cannot write the bundle: {0}")]
    Write(String),
}

impl BundleError {
    /// The code of its sentence ([`words`]).
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::NothingAsked => "export.nothing_asked",
            BundleError::UnknownStore(_) => "export.unknown_store",
            BundleError::UnknownRep(_) => "export.unknown_rep",
            BundleError::AmbiguousRep(..) => "export.ambiguous_rep",
            BundleError::BadDate(_) => "export.bad_date",
            BundleError::FromAfterTo => "export.from_after_to",
            BundleError::VisitNotFound(_) => "export.visit_not_found",
            BundleError::NothingSelected => "export.nothing_selected",
            BundleError::TooLarge { .. } => "export.too_large",
            BundleError::PhotoGone(_) => "export.photo_gone",
            BundleError::Storage(_) => "export.storage",
            BundleError::Write(_) => "export.write",
        }
    }

    /// The asker got the selection wrong (a 4xx), as against the server failing (a 5xx).
    pub fn is_askers(&self) -> bool {
        !matches!(
            self,
            BundleError::PhotoGone(_) | BundleError::Storage(_) | BundleError::Write(_)
        )
    }

    /// In words, in `lang`.
    pub fn words(&self, lang: crate::i18n::Lang) -> String {
        words::export_error(lang, self)
    }
}

/// `README.txt`: how to verify, in Chinese and English.
pub fn readme() -> String {
    format!(
        "{zh}\n\n----\n\n{en}\n",
        zh = words::README_ZH,
        en = words::README_EN
    )
}
