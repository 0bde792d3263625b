//! Demo data for the service's registers: a meeting of every kind, complaints,
//! comments and compliments (one complaint open past its response date), involvement
//! of every kind, activities, two commissioner issues (one open, with agreed
//! actions), the access-audit and equality-impact-assessment action plans,
//! sub-contractors (one registration expiring soon, one expired), and the profile's
//! obligations: every ended period done except the latest one due, left overdue.
//! Deterministic for a given `now`; every date is on or before it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use throughcare_domain::events::EventKind;
use throughcare_domain::governance::{LearningAction, ServiceRecord};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::obligations::{ObligationCompleted, ObligationStatus, obligations_due};
use throughcare_domain::profile::{EstablishmentKind, Profile};
use throughcare_domain::record_ids::IdSource;
use throughcare_domain::service_records::{
    Activity, ActivityKind, CommissionerIssue, ComplaintFinding, Feedback, FeedbackFrom,
    FeedbackKind, Involvement, InvolvementKind, IssueKind, MeetingAttended, MeetingKind,
    Registration, RegistrationKind, Subcontractor,
};
use throughcare_domain::time::local_date;
use throughcare_store::Store;

use crate::recording::{RecordError, Recorder};

/// Who attends each kind of meeting for the service (roles, not people).
fn attendees(kind: MeetingKind) -> Vec<String> {
    let roles: &[&str] = match kind {
        MeetingKind::SecurityCommittee | MeetingKind::MedicinesManagement => {
            &["Lead pharmacist", "Healthcare manager"]
        }
        MeetingKind::ClinicalGovernance => &["Clinical lead", "Service manager"],
        MeetingKind::DrugAlcoholDeathsPanel
        | MeetingKind::SubstanceUseStrategy
        | MeetingKind::AnnualReview => &["Service manager"],
        MeetingKind::SentencePlanning | MeetingKind::RiskManagement => &["Substance misuse worker"],
        _ => &["Service manager", "Harm reduction lead"],
    };
    roles.iter().map(|r| r.to_string()).collect()
}

fn feedback(
    r: &str,
    kind: FeedbackKind,
    from: FeedbackFrom,
    received_on: NaiveDate,
    summary: &str,
) -> Feedback {
    Feedback {
        feedback_ref: r.into(),
        kind,
        from,
        received_on,
        summary: summary.into(),
        acknowledged_on: None,
        responded_on: None,
        outcome: None,
        finding: None,
    }
}

fn action(r: &str, source: &str, what: &str, owner: &str, due_on: NaiveDate) -> LearningAction {
    LearningAction {
        action_ref: r.into(),
        source_ref: Some(source.into()),
        action: what.into(),
        owner: owner.into(),
        due_on,
        completed_on: None,
    }
}

/// Records the registers' demo; returns how many events it wrote.
pub fn seed(
    store: &dyn Store,
    profile: &Profile,
    now: DateTime<Utc>,
    ids: &mut dyn IdSource,
) -> Result<usize, RecordError> {
    let calendar = profile.calendar();
    let recorder = Recorder {
        store,
        profile,
        calendar: &calendar,
    };
    let today = local_date(now);
    let days = |n: i64| today - Duration::days(n);
    let manager = StaffUsername::parse("manager").map_err(|e| {
        RecordError::Domain(throughcare_domain::error::DomainError::invalid(
            "recorded_by",
            e.to_string(),
        ))
    })?;
    let home = profile.establishments[0].code.clone();
    let second = profile.establishments[1 % profile.establishments.len()]
        .code
        .clone();
    let irc = profile
        .establishments
        .iter()
        .find(|e| e.kind == EstablishmentKind::ImmigrationRemovalCentre)
        .map(|e| e.code.clone())
        .unwrap_or_else(|| home.clone());
    let mut facts: Vec<(EstablishmentCode, EventKind)> = Vec::new();

    // A meeting of every kind in the last 90 days.
    for (i, kind) in MeetingKind::ALL.iter().enumerate() {
        let other = *kind == MeetingKind::Other;
        facts.push((
            home.clone(),
            EventKind::MeetingAttended(MeetingAttended {
                kind: *kind,
                held_on: days(3 + 7 * i as i64),
                title: other.then(|| "Reducing reoffending board".to_string()),
                attended_by: attendees(*kind),
                notes: match kind {
                    MeetingKind::SecurityCommittee => Some(
                        "Pregabalin diversion on B wing: in-possession risk assessments reviewed"
                            .into(),
                    ),
                    MeetingKind::DrugAlcoholDeathsPanel => {
                        Some("Two deaths within a week of release reviewed".into())
                    }
                    _ => None,
                },
            }),
        ));
    }

    // Complaints, comments and compliments: one complaint open past its date.
    let mut overdue = feedback(
        "CF-DEMO-01",
        FeedbackKind::Complaint,
        FeedbackFrom::FamilyMember,
        days(45),
        "Family were not told of the release appointment as agreed",
    );
    overdue.acknowledged_on = Some(days(44));
    let mut answered = feedback(
        "CF-DEMO-03",
        FeedbackKind::Complaint,
        FeedbackFrom::Carer,
        days(60),
        "Carer could not reach the keyworker by telephone",
    );
    answered.acknowledged_on = Some(days(59));
    answered.responded_on = Some(days(40));
    answered.outcome = Some("Apology; the SPOC's number is now on every letter to carers".into());
    answered.finding = Some(ComplaintFinding::PartlyUpheld);
    let mut thanks = feedback(
        "CF-DEMO-05",
        FeedbackKind::Compliment,
        FeedbackFrom::FamilyMember,
        days(12),
        "Thanks for the naloxone training offered before release",
    );
    thanks.responded_on = Some(days(10));
    thanks.outcome = Some("Passed on to the harm reduction team".into());
    for f in [
        overdue,
        feedback(
            "CF-DEMO-02",
            FeedbackKind::Complaint,
            FeedbackFrom::ServiceUser,
            days(5),
            "Group session cancelled twice without notice",
        ),
        answered,
        feedback(
            "CF-DEMO-04",
            FeedbackKind::Comment,
            FeedbackFrom::ServiceUser,
            days(20),
            "Would like mutual aid meetings in the evening",
        ),
        thanks,
        feedback(
            "CF-DEMO-06",
            FeedbackKind::Comment,
            FeedbackFrom::Other,
            days(30),
            "Safer custody lead asks for earlier notice of detox starts",
        ),
    ] {
        facts.push((home.clone(), EventKind::FeedbackRecorded(f)));
    }

    // Involvement of every kind.
    for (i, kind) in InvolvementKind::ALL.iter().enumerate() {
        facts.push((
            home.clone(),
            EventKind::InvolvementRecorded(Involvement {
                kind: *kind,
                held_on: days(8 + 12 * i as i64),
                service_users: if *kind == InvolvementKind::CarersAgency {
                    0
                } else {
                    3 + i as u32
                },
                family_and_carers: if *kind == InvolvementKind::ServiceUserForum {
                    0
                } else {
                    2
                },
                summary: match kind {
                    InvolvementKind::ExpertPanel => "Panel heard views on the pre-release group",
                    InvolvementKind::ConsultationEvent => {
                        "Consultation on the new care plan leaflet"
                    }
                    InvolvementKind::ServiceUserForum => "Wing forum on waiting times for groups",
                    InvolvementKind::CarersAgency => "Carers' agency drop-in at family visits",
                    InvolvementKind::Other => "Peer mentors reviewed the induction booklet",
                }
                .into(),
                influence: (*kind == InvolvementKind::ExpertPanel).then(|| {
                    "Pre-release group moved to the afternoon so families can join by video"
                        .to_string()
                }),
            }),
        ));
    }

    // Activities: staff awareness at the IRC and here, campaigns, health promotion.
    for (at, kind, back, title, audience, reached) in [
        (
            irc.clone(),
            ActivityKind::StaffAwareness,
            15,
            "Spotting synthetic cannabinoid intoxication",
            Some("Detention custody officers"),
            Some(14),
        ),
        (
            home.clone(),
            ActivityKind::StaffAwareness,
            33,
            "Naloxone: recognising and responding to overdose",
            Some("Wing officers"),
            Some(22),
        ),
        (
            home.clone(),
            ActivityKind::NationalCampaign,
            22,
            "Alcohol Awareness Week stall in the library",
            None,
            Some(60),
        ),
        (
            home.clone(),
            ActivityKind::HealthPromotion,
            40,
            "Hepatitis C testing week",
            Some("All wings"),
            Some(85),
        ),
        (
            home.clone(),
            ActivityKind::PublicHealth,
            55,
            "Dry January sign-up with the local public health team",
            None,
            None,
        ),
    ] {
        facts.push((
            at,
            EventKind::ActivityRecorded(Activity {
                kind,
                on: days(back),
                title: title.into(),
                audience: audience.map(str::to_string),
                reached,
            }),
        ));
    }

    // Commissioner issues: one open with agreed actions, one resolved.
    facts.push((
        second.clone(),
        EventKind::CommissionerIssueRecorded(CommissionerIssue {
            issue_ref: "CI-DEMO-01".into(),
            kind: IssueKind::Capacity,
            urgent: true,
            raised_on: days(21),
            raised_with: "Commissioning manager".into(),
            summary: "Two nurse vacancies: the evening medication round is at risk".into(),
            solution: Some("Agency nurses for six weeks while posts are filled".into()),
            resolved_on: None,
        }),
    ));
    facts.push((
        home.clone(),
        EventKind::CommissionerIssueRecorded(CommissionerIssue {
            issue_ref: "CI-DEMO-02".into(),
            kind: IssueKind::ServiceDelivery,
            urgent: false,
            raised_on: days(80),
            raised_with: "Commissioning manager".into(),
            summary: "Group room lost to building works for a month".into(),
            solution: Some("Groups moved to the chapel on weekday mornings".into()),
            resolved_on: Some(days(50)),
        }),
    ));
    let mut booked = action(
        "CI-DEMO-01-A1",
        "CI-DEMO-01",
        "Book agency nurse cover for the evening round",
        "Clinical lead",
        days(14),
    );
    booked.completed_on = Some(days(16));
    for a in [
        booked,
        action(
            "CI-DEMO-01-A2",
            "CI-DEMO-01",
            "Recruit to both nurse posts",
            "Service manager",
            today + Duration::days(30),
        ),
        action(
            "EIA-DEMO-A1",
            "EIA-DEMO",
            "Information leaflets in the five most spoken languages (KM 4.24)",
            "Service manager",
            today + Duration::days(45),
        ),
        action(
            "AA-DEMO-A1",
            "ACCESS-AUDIT-DEMO",
            "Hearing loop in the group room (KM 4.23)",
            "Service manager",
            today + Duration::days(60),
        ),
    ] {
        facts.push((home.clone(), EventKind::LearningActionRecorded(a)));
    }

    // Sub-contractors: one registration expiring soon, one expired.
    for s in [
        Subcontractor {
            name: "Kent Acupuncture Partnership (demo)".into(),
            provides: "Auricular acupuncture for detox support".into(),
            registrations: vec![
                Registration {
                    kind: RegistrationKind::Professional,
                    reference: "BAAB-20417".into(),
                    expires_on: Some(today + Duration::days(30)),
                },
                Registration {
                    kind: RegistrationKind::Other,
                    reference: "Special treatment licence ST-0883".into(),
                    expires_on: Some(today + Duration::days(200)),
                },
            ],
            ended_on: None,
        },
        Subcontractor {
            name: "Community Pharmacy Services (demo)".into(),
            provides: "Dispensing of opioid substitution medication".into(),
            registrations: vec![Registration {
                kind: RegistrationKind::ControlledDrugsLicence,
                reference: "CDL-55120".into(),
                expires_on: Some(days(10)),
            }],
            ended_on: None,
        },
        Subcontractor {
            name: "Recovery Peer Mentors (demo)".into(),
            provides: "Peer mentoring and mutual aid introductions".into(),
            registrations: vec![Registration {
                kind: RegistrationKind::CareQualityCommission,
                reference: "1-998877665".into(),
                expires_on: None,
            }],
            ended_on: None,
        },
    ] {
        facts.push((home.clone(), EventKind::SubcontractorRecorded(s)));
    }

    let mut written = 0;
    for (at, kind) in facts {
        written += recorder
            .record_service(
                &throughcare_domain::access::Author::system(manager.clone()),
                &at,
                kind,
                now,
                ids,
                None,
            )?
            .len();
    }

    // Obligations: every period that has ended is done (by its meeting where a
    // meeting meets it), except the latest one due, left overdue.
    let record = ServiceRecord::fold(&store.service_events()?);
    let ended: Vec<_> = obligations_due(profile, &record, today)
        .into_iter()
        .filter(|o| o.status != ObligationStatus::Done && o.period_end < today)
        .collect();
    let keep_overdue = ended
        .iter()
        .filter(|o| o.status == ObligationStatus::Overdue)
        .max_by_key(|o| (o.due_on, o.obligation.clone()))
        .map(|o| (o.obligation.clone(), o.period));
    for o in ended {
        if Some((o.obligation.clone(), o.period)) == keep_overdue {
            continue;
        }
        let met_by = profile
            .obligations
            .get(&o.obligation)
            .and_then(|def| def.met_by);
        let kind = match met_by {
            Some(kind) => EventKind::MeetingAttended(MeetingAttended {
                kind,
                held_on: (o.period_end - Duration::days(10)).max(o.period),
                title: None,
                attended_by: attendees(kind),
                notes: None,
            }),
            None => EventKind::ObligationCompleted(ObligationCompleted {
                obligation: o.obligation.clone(),
                period: o.period,
                done_on: (o.due_on - Duration::days(1)).min(today).max(o.period),
                note: Some("Sent by secure email".into()),
            }),
        };
        written += recorder
            .record_service(
                &throughcare_domain::access::Author::system(manager.clone()),
                &home,
                kind,
                now,
                ids,
                None,
            )?
            .len();
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use throughcare_domain::record_ids::SequentialIds;
    use throughcare_domain::service_records::RegistrationStatus;
    use throughcare_domain::time::parse_instant;
    use throughcare_store::SqliteStore;

    fn seeded(profile_name: &str, now: &str) -> (ServiceRecord, Profile, NaiveDate) {
        let profile = Profile::builtin(profile_name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        let store = SqliteStore::open(path.to_str().unwrap(), &profile).unwrap();
        let now = parse_instant(now).unwrap();
        let written = seed(&store, &profile, now, &mut SequentialIds::new(9)).unwrap();
        assert!(written > 30, "{written} events");
        let record = ServiceRecord::fold(&store.service_events().unwrap());
        (record, profile, local_date(now))
    }

    #[test]
    fn the_demo_has_every_meeting_and_feedback_kind_and_one_overdue_complaint() {
        let (r, profile, today) = seeded("kent-medway", "2026-06-15T09:30:00Z");
        let regs = &r.registers;
        for kind in MeetingKind::ALL {
            assert!(
                regs.meetings.iter().any(|(_, _, m)| m.kind == *kind),
                "{kind:?}"
            );
        }
        for kind in FeedbackKind::ALL {
            assert!(
                regs.feedback.values().any(|(_, _, f)| f.kind == *kind),
                "{kind:?}"
            );
        }
        let calendar = profile.calendar();
        let late = regs.overdue_complaints(&profile, &calendar, today);
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].0.feedback_ref, "CF-DEMO-01");
        assert_eq!(regs.open_issues().len(), 1);
        assert_eq!(r.actions_for("CI-DEMO-01").len(), 2);
        assert!(
            r.overdue_actions(today).is_empty(),
            "the demo's agreed actions are not overdue"
        );
        let flagged: Vec<RegistrationStatus> = regs
            .registrations_needing_attention(today, 60)
            .into_iter()
            .map(|(_, _, s)| s)
            .collect();
        assert_eq!(
            flagged,
            [
                RegistrationStatus::Expired,
                RegistrationStatus::ExpiringSoon
            ]
        );
    }

    #[test]
    fn the_demo_leaves_exactly_one_obligation_overdue_and_some_done() {
        for (profile_name, now) in [
            ("kent-medway", "2026-06-15T09:30:00Z"),
            ("kent-medway", "2026-11-23T09:30:00Z"),
            ("single-prison", "2026-11-23T09:30:00Z"),
        ] {
            let (r, profile, today) = seeded(profile_name, now);
            let all = obligations_due(&profile, &r, today);
            let count = |s: ObligationStatus| all.iter().filter(|o| o.status == s).count();
            assert_eq!(count(ObligationStatus::Overdue), 1, "{profile_name} {now}");
            assert!(count(ObligationStatus::Done) >= 1, "{profile_name} {now}");
        }
    }
}
