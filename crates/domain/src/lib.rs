//! Throughcare's domain: the rules of a prison substance use treatment service.
//!
//! Architecture invariant: this crate does no IO — no files, network, database,
//! clock or randomness. Everything it needs comes in as values (`now`, identifiers,
//! events) and goes out as values (events, case state, errors).
//!
//! Where to start reading: [`events`] (the vocabulary), [`case`] (state folded from
//! events), [`decide`] (commands checked into events), [`clocks`].

pub mod access;
pub mod assessment;
pub mod calendar;
mod care_rules;
pub mod case;
pub mod chain;
pub mod clinical;
pub mod clocks;
pub mod consent;
pub mod custody;
pub mod danos;
pub mod data_quality;
pub mod decide;
pub mod error;
pub mod events;
pub mod first_night;
pub mod governance;
pub mod identifiers;
pub mod information_requests;
pub mod instruments;
pub mod interventions;
pub mod narratives;
pub mod ndtms;
pub mod obligations;
pub mod outcomes;
pub mod people;
pub mod profile;
pub mod record_ids;
pub mod recovery;
pub mod referrals;
pub mod release;
mod release_rules;
pub mod returns;
pub mod screening;
pub mod self_referrals;
pub mod service_records;
pub mod sharing;
pub mod submissions;
pub mod surveys;
pub mod throughcare;
pub mod time;
pub mod vocab;
pub mod waits;
pub mod work_queues;
pub mod workforce;

#[cfg(test)]
mod care_scenarios;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod release_scenarios;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod workforce_scenarios;
