//! Throughcare's server: HTTP pages and JSON API, authentication, authorisation,
//! access audit, imports, the demo data set and the command-line interface.
//!
//! Architecture invariant: this crate holds no rules of the service. It parses,
//! authorises (in [`policy`], deny by default), calls the domain through
//! [`recording`], and renders.

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod care_forms;
pub mod care_pages;
pub mod care_summary;
pub mod care_transfer;
pub mod chrome;
pub mod demo;
pub mod demo_care;
pub mod demo_governance;
pub mod demo_release;
pub mod demo_workforce;
pub mod events_import;
pub mod form_data;
pub mod forms;
pub mod governance_pages;
pub mod imports;
pub mod ndtms_export;
pub mod operations;
pub mod outcomes_import;
pub mod policy;
pub mod recording;
pub mod registration;
pub mod release_forms;
pub mod release_pages;
pub mod report_export;
pub mod timeline;
pub mod web;
pub mod workforce_forms;
pub mod workforce_panels;
