//! Waiting times from referral to the start of treatment, per family of
//! intervention: clinical, psychosocial, programme (REQUIREMENTS §7; the waits the
//! returns report). Waits are in calendar days.

use crate::case::Case;
use crate::interventions::{InterventionFamily, InterventionStatus};
use crate::profile::Profile;
use crate::time::local_date;
use chrono::NaiveDate;
use serde::Serialize;

/// The wait for one family: from the referral that led to it to its first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Wait {
    /// The family.
    pub family: InterventionFamily,
    /// The referral date (the latest referral on or before the start).
    pub referred_on: NaiveDate,
    /// The first start in the family.
    pub started_on: NaiveDate,
    /// Calendar days between them.
    pub days: i64,
}

/// The families whose waits are reported.
pub const WAITED_FAMILIES: [InterventionFamily; 3] = [
    InterventionFamily::Clinical,
    InterventionFamily::Psychosocial,
    InterventionFamily::Programme,
];

/// Each family's wait, for the families the person has started. Clinical starts
/// recorded on the clinical pathway (prescribing, detoxification) count as clinical.
pub fn waits(case: &Case, profile: &Profile) -> Vec<Wait> {
    WAITED_FAMILIES
        .iter()
        .filter_map(|family| {
            let courses = case.courses.iter().filter_map(|c| {
                let def = profile.intervention(&c.intervention)?;
                (def.family == *family)
                    .then(|| c.date_of(InterventionStatus::Started))
                    .flatten()
            });
            let clinical = case
                .clinical
                .iter()
                .filter(|(_, c)| {
                    *family == InterventionFamily::Clinical && c.step.starts_treatment()
                })
                .map(|(_, c)| local_date(c.at));
            let started_on = courses.chain(clinical).min()?;
            let referred_on = case
                .referrals
                .iter()
                .map(|r| r.referral.referred_on)
                .filter(|d| *d <= started_on)
                .max()?;
            Some(Wait {
                family: *family,
                referred_on,
                started_on,
                days: (started_on - referred_on).num_days(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clinical::{ClinicalEvent, ClinicalStep, Medication};
    use crate::events::EventKind;
    use crate::interventions::{InterventionTarget, InterventionUpdate};
    use crate::testkit::{Log, at, d};

    fn start(code: &str, on: &str) -> EventKind {
        EventKind::InterventionUpdated(InterventionUpdate {
            intervention: code.into(),
            target: InterventionTarget::Opiates,
            status: InterventionStatus::Started,
            on: d(on),
            course: None,
            language: None,
            note: None,
        })
    }

    #[test]
    fn each_family_waits_from_the_latest_referral_before_its_first_start() {
        let mut log = Log::new();
        let p = log.person("A1234BC");
        log.refer(p, "2026-10-01");
        log.refer(p, "2026-10-05");
        // Clinical: prescribing on 8 October, 3 days after the 5 October referral.
        log.record(
            p,
            EventKind::ClinicalEventRecorded(ClinicalEvent {
                step: ClinicalStep::PrescribingStarted {
                    medication: Medication::Buprenorphine,
                },
                at: at("2026-10-08T09:30:00Z"),
                note: None,
            }),
        )
        .unwrap();
        // Psychosocial: keyworking on 19 October (14 days); a later keyworking start
        // does not move it.
        log.record(p, start("keyworking", "2026-10-19")).unwrap();
        log.record(p, start("relapse-prevention", "2026-11-02"))
            .unwrap();
        // Programme: 35 days.
        log.record(p, start("programme-abstinence", "2026-11-09"))
            .unwrap();
        let w = waits(&log.case(p), &log.profile);
        let days: Vec<(InterventionFamily, i64)> = w.iter().map(|w| (w.family, w.days)).collect();
        assert_eq!(
            days,
            [
                (InterventionFamily::Clinical, 3),
                (InterventionFamily::Psychosocial, 14),
                (InterventionFamily::Programme, 35)
            ]
        );
        assert!(w.iter().all(|w| w.referred_on == d("2026-10-05")));
    }

    #[test]
    fn no_wait_without_a_start_or_without_a_referral_before_it() {
        let mut log = Log::new();
        let p = log.person("A1234BC");
        log.record(p, start("keyworking", "2026-10-19")).unwrap();
        log.refer(p, "2026-10-20");
        assert!(waits(&log.case(p), &log.profile).is_empty());
    }
}
