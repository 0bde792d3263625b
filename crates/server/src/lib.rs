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
pub mod break_glass;
pub mod care_forms;
pub mod care_pages;
pub mod care_summary;
pub mod care_transfer;
pub mod chrome;
pub mod data_quality_pages;
pub mod demo;
pub mod demo_care;
pub mod demo_governance;
pub mod demo_information_requests;
pub mod demo_release;
pub mod demo_service_records;
pub mod demo_submissions;
pub mod demo_surveys;
pub mod demo_workforce;
pub mod events_import;
pub mod form_data;
pub mod forms;
pub mod generate;
pub mod governance_pages;
pub mod imports;
pub mod information_request_pages;
pub mod kiosk;
pub mod ndtms_export;
pub mod operations;
pub mod outcomes_import;
pub mod policy;
pub mod recording;
pub mod registration;
pub mod release_forms;
pub mod release_pages;
pub mod report_export;
pub mod return_charts;
pub mod return_pages;
pub mod self_referral;
pub mod service_record_forms;
pub mod service_record_panels;
pub mod submission_pages;
pub mod survey_pages;
pub mod timeline;
pub mod transfer_requests;
pub mod web;
pub mod workforce_forms;
pub mod workforce_panels;
