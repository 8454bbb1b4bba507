//! End-to-end tests of the real `fieldproof-server` binary over real HTTP, with real cores
//! producing the signed ops and photos. One test binary (link time), many modules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod customers;
mod enrol;
mod evidence;
mod evidence_bundle;
mod hardening;
mod lifecycle;
mod operations;
mod people;
mod photos;
mod pull;
mod push;
mod security;
