//! Throughcare's server: HTTP pages and JSON API, authentication, authorisation,
//! access audit, imports, the demo data set and the command-line interface.
//!
//! Architecture invariant: this crate holds no rules of the service. It parses,
//! authorises, calls the domain through [`recording`], and renders.

pub mod assets;
pub mod chrome;
pub mod recording;
