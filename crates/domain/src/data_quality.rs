//! Data quality before submission (KM 4.28–4.29, 6.5): for one establishment, what
//! would make a return or the NDTMS extract wrong, each with the person (and the
//! event, where there is one) to fix. KM 4.28.5 asks for 100% load and data quality;
//! KM 6.5 counts late or inaccurate returns as unsatisfactory performance.
//!
//! Four kinds (docs/data-quality.md):
//! - a field the NDTMS extract needs is missing for someone in structured treatment
//!   (KM 4.28, 4.28.2; KM 3.3.6 consent);
//! - a treatment start recorded more than 24 hours after the triage date (KM 4.29):
//!   the start's `recorded_at` compared with the end of the day after the triage,
//!   the same deadline as the treatment-start work queue;
//! - an open treatment episode with no activity for 12 weeks: the record has gone
//!   quiet, so the episode is probably over and its exit not recorded;
//! - a Treatment Outcomes Profile overdue (KM 3.7, 4.28.4), as the work queue has it.

use crate::consent::ConsentPurpose;
use crate::events::{EventKind, RecordedEvent};
use crate::identifiers::EstablishmentCode;
use crate::labelled_enum;
use crate::people::{Ethnicity, Sex};
use crate::record_ids::{EventId, PersonId};
use crate::returns::cut::{Cut, PersonRecord, event_date};
use crate::returns::period::Period;
use crate::returns::shared::{episodes, structured_starts};
use crate::screening::InjectingStatus;
use crate::time::local_date;
use crate::work_queues::{QueueKind, end_of_day, work_items};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

/// Weeks without any recorded activity after which an open episode is flagged.
pub const INACTIVE_WEEKS: i64 = 12;

labelled_enum! {
    /// What kind of problem a data-quality issue is.
    pub enum IssueKind {
        /// A field the NDTMS extract needs is missing (KM 4.28, 4.28.2, 3.3.6).
        MissingExtractField = ("missing_extract_field", "Missing a field the NDTMS extract needs (KM 4.28)"),
        /// A treatment start recorded more than 24 hours after the triage date (KM 4.29).
        LateTreatmentStart = ("late_treatment_start", "Treatment start recorded more than 24 hours after triage (KM 4.29)"),
        /// An open episode with no activity for 12 weeks.
        InactiveEpisode = ("inactive_episode", "Open episode with no activity for 12 weeks"),
        /// A Treatment Outcomes Profile overdue (KM 3.7, 4.28.4).
        TopOverdue = ("top_overdue", "Treatment Outcomes Profile overdue (KM 3.7, 4.28.4)"),
    }
}

/// One thing to fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// What kind of problem.
    pub kind: IssueKind,
    /// Whose record.
    pub person: PersonId,
    /// The event to correct, where one is at fault.
    pub event: Option<EventId>,
    /// What is wrong, in words.
    pub detail: String,
}

fn long(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The first day from which treatment, starts and episodes count: the first day of
/// the previous quarter, so the return being prepared (the last complete quarter)
/// and the current quarter are both covered.
pub fn window_starts(today: NaiveDate) -> NaiveDate {
    Period::quarter_of(today).quarters_to(2)[0].first
}

/// Every data-quality issue at `establishment` in the cut, judged as at `now`
/// (normally the cut's own instant): people are judged where they are (or were last)
/// held; a late treatment start belongs to the establishment that recorded it.
/// Ordered by kind, then as found.
pub fn data_quality(
    cut: &Cut<'_>,
    establishment: &EstablishmentCode,
    now: DateTime<Utc>,
) -> Vec<Issue> {
    let today = local_date(now);
    let since = window_starts(today);
    let calendar = cut.profile.calendar();
    let mut out = Vec::new();
    for p in cut.people.values() {
        if !p.case.is_registered() {
            continue;
        }
        late_starts(cut, p, establishment, since, &mut out);
        if p.case.establishment() != Some(establishment) {
            continue;
        }
        let eps = episodes(cut.profile, p);
        if eps.iter().any(|e| e.exited_on.is_none_or(|x| x >= since)) {
            missing_fields(p, &mut out);
        }
        if let Some(open) = eps.iter().find(|e| e.exited_on.is_none())
            && let Some(last) = p.events.iter().map(|e| e.occurred_at).max()
        {
            let last_on = local_date(last);
            if last_on + Duration::weeks(INACTIVE_WEEKS) < today {
                out.push(Issue {
                    kind: IssueKind::InactiveEpisode,
                    person: p.person,
                    event: None,
                    detail: format!(
                        "Episode open since {}; nothing recorded since {} ({} weeks). Record the activity, or the treatment exit",
                        long(open.started_on),
                        long(last_on),
                        (today - last_on).num_weeks()
                    ),
                });
            }
        }
        for item in work_items(&p.case, cut.profile, &calendar, now) {
            if item.queue == QueueKind::Top && item.overdue {
                out.push(Issue {
                    kind: IssueKind::TopOverdue,
                    person: p.person,
                    event: None,
                    detail: format!(
                        "{}; due by {}",
                        item.detail,
                        long(local_date(item.due - Duration::seconds(1)))
                    ),
                });
            }
        }
    }
    out.sort_by_key(|i| i.kind);
    out
}

/// KM 4.28: the fields the NDTMS extract needs, for someone in structured
/// treatment. Date of birth and name are required at registration, so never missing.
fn missing_fields(p: &PersonRecord, out: &mut Vec<Issue>) {
    let Some(details) = &p.case.details else {
        return;
    };
    let registration = p
        .events
        .iter()
        .rfind(|e| matches!(e.kind, EventKind::PersonRegistered(_)) && e.person == Some(p.person))
        .map(|e| e.id);
    let mut missing = |event: Option<EventId>, what: &str| {
        out.push(Issue {
            kind: IssueKind::MissingExtractField,
            person: p.person,
            event,
            detail: what.to_string(),
        })
    };
    if details.home_postcode.is_none() {
        missing(registration, "Home postcode (KM 4.28.2)");
    }
    if details.equality.sex == Sex::NotStated {
        missing(registration, "Sex not stated");
    }
    if details.equality.ethnicity == Ethnicity::NotStated {
        missing(registration, "Ethnicity not stated");
    }
    let screening: Option<(&RecordedEvent, _)> = p
        .of(|k| match k {
            EventKind::ScreeningCompleted(s) => Some(s),
            _ => None,
        })
        .max_by_key(|(e, s)| (s.screened_on, e.seq));
    match screening {
        None => missing(
            None,
            "Problem substance and injecting status: no screening recorded",
        ),
        Some((e, s)) => {
            if s.problem_substances.is_empty() {
                missing(
                    Some(e.id),
                    "Problem substance (none at the latest screening)",
                );
            }
            if s.injecting == InjectingStatus::NotStated {
                missing(Some(e.id), "Injecting status not stated");
            }
        }
    }
    if p.case.consents.state(ConsentPurpose::Ndtms).is_none() {
        missing(None, "Consent to NDTMS submission not recorded (KM 3.3.6)");
    }
}

/// KM 4.29: each triage (an assessment that found a need for structured treatment)
/// is answered by the first structured start on or after it — unless the person had
/// already started earlier in the same stay in custody (first-night prescribing).
/// A start answering triages is late when it entered the record (the original
/// entry's `recorded_at`, not a later correction's) after the end of the day after
/// the latest triage it answers.
fn late_starts(
    cut: &Cut<'_>,
    p: &PersonRecord,
    establishment: &EstablishmentCode,
    since: NaiveDate,
    out: &mut Vec<Issue>,
) {
    let mut triages: Vec<NaiveDate> = p
        .of(|k| match k {
            EventKind::AssessmentCompleted(a) if a.structured_treatment_needed => {
                Some(a.assessed_on)
            }
            _ => None,
        })
        .map(|(_, on)| on)
        .collect();
    triages.sort();
    triages.dedup();
    if triages.is_empty() {
        return;
    }
    let receptions: Vec<NaiveDate> = p
        .of(|k| matches!(k, EventKind::Received(_)).then_some(()))
        .map(|(e, _)| event_date(e))
        .collect();
    let starts = structured_starts(cut.profile, p);
    // The latest triage each start answers, by the start's position.
    let mut answered: Vec<Option<NaiveDate>> = vec![None; starts.len()];
    for t in triages {
        let stay_began = receptions.iter().copied().filter(|r| *r <= t).max();
        let already = starts
            .iter()
            .any(|s| s.on < t && stay_began.is_some_and(|r| s.on >= r));
        if already {
            continue;
        }
        if let Some(i) = starts.iter().position(|s| s.on >= t) {
            answered[i] = Some(t);
        }
    }
    for (s, triage) in starts.iter().zip(answered) {
        let Some(triage) = triage else { continue };
        if &s.event.establishment != establishment || s.on < since {
            continue;
        }
        let original = p.case.identity(s.event.id);
        let recorded_at = p
            .case
            .event(original)
            .map_or(s.event.recorded_at, |e| e.recorded_at);
        let deadline = end_of_day(triage + Duration::days(1));
        if recorded_at >= deadline {
            let recorded = recorded_at
                .with_timezone(&chrono_tz::Europe::London)
                .format("%H:%M on %-d %B %Y");
            out.push(Issue {
                kind: IssueKind::LateTreatmentStart,
                person: p.person,
                event: Some(s.event.id),
                detail: format!(
                    "Triaged on {}; {} start on {} recorded at {recorded} (due by the end of {})",
                    long(triage),
                    s.family.label().to_lowercase(),
                    long(s.on),
                    long(triage + Duration::days(1))
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{Assessment, AssessmentKind};
    use crate::consent::{ConsentDecision, ConsentRecord};
    use crate::identifiers::Postcode;
    use crate::interventions::{InterventionStatus, InterventionTarget, InterventionUpdate};
    use crate::outcomes::TopStage;
    use crate::people::PersonDetails;
    use crate::screening::{Screening, ScreeningSetting, Substance};
    use crate::testkit::*;

    fn triage(on: &str) -> EventKind {
        EventKind::AssessmentCompleted(Assessment {
            kind: AssessmentKind::Initial,
            assessed_on: d(on),
            referral: None,
            summary: "Triage: structured treatment needed".into(),
            structured_treatment_needed: true,
            comprehensive: None,
        })
    }

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

    fn screening(on: &str, substances: Vec<Substance>, injecting: InjectingStatus) -> EventKind {
        EventKind::ScreeningCompleted(Screening {
            setting: ScreeningSetting::Reception,
            screened_on: d(on),
            audit: None,
            audit_c: None,
            problem_substances: substances,
            injecting,
            offending_linked: false,
            structured_treatment_needed: true,
        })
    }

    fn complete_details(prison_number: &str) -> PersonDetails {
        let mut details = details(prison_number);
        details.home_postcode = Some(Postcode::parse("ME14 1UZ").unwrap());
        details.equality.sex = Sex::Male;
        details.equality.ethnicity = Ethnicity::WhiteBritish;
        details
    }

    /// A prisoner with every extract field recorded, NDTMS consent given, a screening,
    /// and a structured start recorded on time on 2 November 2026.
    fn complete(log: &mut Log, n: &str) -> PersonId {
        let id = PersonId(uuid::Uuid::from_u64_pair(5, log.events.len() as u64 + 1));
        log.now = at("2026-11-02T09:00:00Z");
        log.record(id, EventKind::PersonRegistered(complete_details(n)))
            .unwrap();
        log.receive(id);
        log.record(
            id,
            screening(
                "2026-11-02",
                vec![Substance::Heroin],
                InjectingStatus::Never,
            ),
        )
        .unwrap();
        log.record(
            id,
            EventKind::ConsentRecorded(ConsentRecord {
                purpose: ConsentPurpose::Ndtms,
                decision: ConsentDecision::Given,
                decided_on: d("2026-11-02"),
            }),
        )
        .unwrap();
        log.record(id, triage("2026-11-02")).unwrap();
        log.now = at("2026-11-03T15:00:00Z");
        log.record(id, start("keyworking", "2026-11-02")).unwrap();
        log.record(
            id,
            EventKind::TopCompleted(crate::outcomes::TreatmentOutcomesProfile {
                completed_on: d("2026-11-03"),
                stage: TopStage::Start,
                ..sample_top()
            }),
        )
        .unwrap();
        id
    }

    fn sample_top() -> crate::outcomes::TreatmentOutcomesProfile {
        crate::outcomes::TreatmentOutcomesProfile {
            completed_on: d("2026-11-03"),
            stage: TopStage::Start,
            substance_use: vec![],
            other_substance: None,
            injecting_days: 0,
            shared_needles: false,
            shared_other_equipment: false,
            shoplifting_days: 0,
            drug_selling_days: 0,
            other_theft_days: 0,
            assault_days: 0,
            psychological_health: 10,
            physical_health: 10,
            quality_of_life: 10,
            paid_work_days: 0,
            education_days: 0,
            acute_housing_problem: false,
            risk_of_eviction: false,
        }
    }

    fn issues(log: &Log, now: &str) -> Vec<Issue> {
        let cut = Cut::new(&log.profile, &log.events, at(now));
        data_quality(&cut, &code("MDI"), at(now))
    }

    fn of_kind(all: &[Issue], kind: IssueKind) -> Vec<Issue> {
        all.iter().filter(|i| i.kind == kind).cloned().collect()
    }

    #[test]
    fn a_complete_record_has_no_issues() {
        let mut log = Log::new();
        complete(&mut log, "A1000AA");
        assert_eq!(issues(&log, "2026-11-20T10:00:00Z"), vec![]);
    }

    #[test]
    fn missing_extract_fields_are_named_for_someone_in_structured_treatment() {
        let mut log = Log::new();
        let ok = complete(&mut log, "A1000AA");
        log.now = at("2026-11-10T09:00:00Z");
        // Registered with nothing but the required fields; screened without saying
        // whether they inject; in treatment; never asked about NDTMS.
        let p = log.prisoner("A2000AA");
        log.record(
            p,
            screening("2026-11-10", vec![], InjectingStatus::NotStated),
        )
        .unwrap();
        log.record(p, start("substitute-prescribing", "2026-11-10"))
            .unwrap();
        // Someone with gaps but not in structured treatment is not flagged.
        let not_in_treatment = log.prisoner("A3000AA");
        let all = issues(&log, "2026-11-11T10:00:00Z");
        let missing = of_kind(&all, IssueKind::MissingExtractField);
        let details: Vec<&str> = missing.iter().map(|i| i.detail.as_str()).collect();
        assert_eq!(
            details,
            vec![
                "Home postcode (KM 4.28.2)",
                "Sex not stated",
                "Ethnicity not stated",
                "Problem substance (none at the latest screening)",
                "Injecting status not stated",
                "Consent to NDTMS submission not recorded (KM 3.3.6)",
            ]
        );
        assert!(missing.iter().all(|i| i.person == p));
        assert!(
            all.iter()
                .all(|i| i.person != ok && i.person != not_in_treatment)
        );
        // The registration and the screening are the events to correct.
        assert!(missing[0].event.is_some());
        assert_ne!(missing[0].event, missing[3].event);
    }

    #[test]
    fn a_treatment_start_recorded_more_than_a_day_after_triage_is_late() {
        let mut log = Log::new();
        log.now = at("2026-11-16T09:00:00Z");
        let late = log.prisoner("A2000AA");
        log.record(late, triage("2026-11-16")).unwrap(); // Monday
        let on_time = log.prisoner("A3000AA");
        log.record(on_time, triage("2026-11-16")).unwrap();
        // Recorded at 23:59 on Tuesday: in time (the end of the day after triage).
        log.now = at("2026-11-17T23:59:00Z");
        log.record(on_time, start("keyworking", "2026-11-16"))
            .unwrap();
        // Recorded at 00:00 on Wednesday: late.
        log.now = at("2026-11-18T00:00:00Z");
        let ids = log.record(late, start("keyworking", "2026-11-16")).unwrap();
        let all = issues(&log, "2026-11-20T10:00:00Z");
        let found = of_kind(&all, IssueKind::LateTreatmentStart);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].person, late);
        assert_eq!(found[0].event, Some(ids[0]));
        assert!(
            found[0]
                .detail
                .contains("recorded at 00:00 on 18 November 2026"),
            "{}",
            found[0].detail
        );
    }

    #[test]
    fn first_night_prescribing_before_the_triage_answers_it() {
        use crate::clinical::{ClinicalEvent, ClinicalStep, Medication};
        let mut log = Log::new();
        log.now = at("2026-11-02T09:00:00Z");
        let p = log.prisoner("A2000AA");
        log.record(
            p,
            EventKind::ClinicalEventRecorded(ClinicalEvent {
                step: ClinicalStep::PrescribingStarted {
                    medication: Medication::Methadone,
                },
                at: at("2026-11-02T08:30:00Z"),
                note: None,
            }),
        )
        .unwrap();
        log.now = at("2026-11-09T09:00:00Z");
        log.record(p, triage("2026-11-09")).unwrap();
        // A psychosocial start a week after the triage, recorded that day: the
        // triage was already answered by the prescribing, so nothing is late.
        log.now = at("2026-11-16T09:00:00Z");
        log.record(p, start("keyworking", "2026-11-16")).unwrap();
        let all = issues(&log, "2026-11-20T10:00:00Z");
        assert!(of_kind(&all, IssueKind::LateTreatmentStart).is_empty());
    }

    #[test]
    fn a_correction_of_a_start_is_judged_by_when_the_start_was_first_recorded() {
        let mut log = Log::new();
        log.now = at("2026-11-16T09:00:00Z");
        let p = log.prisoner("A2000AA");
        log.record(p, triage("2026-11-16")).unwrap();
        let first = log.record(p, start("keyworking", "2026-11-16")).unwrap()[0];
        log.now = at("2026-11-19T09:00:00Z");
        log.try_command(
            p,
            crate::decide::Command::Correct {
                target: first,
                kind: start("substitute-prescribing", "2026-11-16"),
                reason: "Wrong intervention".into(),
            },
        )
        .unwrap();
        let all = issues(&log, "2026-11-20T10:00:00Z");
        assert!(
            of_kind(&all, IssueKind::LateTreatmentStart).is_empty(),
            "{all:#?}"
        );
    }

    #[test]
    fn an_open_episode_with_nothing_recorded_for_12_weeks_is_flagged() {
        let mut log = Log::new();
        let quiet = complete(&mut log, "A1000AA");
        let busy = complete(&mut log, "A2000AA");
        // 12 weeks after 3 November is 26 January: flagged only after that day.
        log.now = at("2027-01-26T10:00:00Z");
        log.record(busy, triage("2027-01-26")).unwrap();
        assert!(
            of_kind(
                &issues(&log, "2027-01-26T10:00:00Z"),
                IssueKind::InactiveEpisode
            )
            .is_empty()
        );
        let all = issues(&log, "2027-01-27T10:00:00Z");
        let found = of_kind(&all, IssueKind::InactiveEpisode);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].person, quiet);
        assert!(
            found[0].detail.contains("3 November 2026"),
            "{}",
            found[0].detail
        );
    }

    #[test]
    fn an_overdue_top_is_flagged_and_a_done_one_is_not() {
        let mut log = Log::new();
        log.now = at("2026-11-10T09:00:00Z");
        let p = log.prisoner("A2000AA");
        log.record(p, start("keyworking", "2026-11-10")).unwrap();
        let done = complete(&mut log, "A3000AA");
        let all = issues(&log, "2026-11-11T10:00:00Z");
        let found = of_kind(&all, IssueKind::TopOverdue);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].person, p);
        assert!(
            found[0].detail.contains("due by 10 November 2026"),
            "{}",
            found[0].detail
        );
        assert!(all.iter().all(|i| i.person != done));
    }

    #[test]
    fn people_held_elsewhere_are_not_listed() {
        let mut log = Log::new();
        log.establishment = code("EYI");
        log.now = at("2026-11-10T09:00:00Z");
        let p = log.prisoner("A2000AA");
        log.record(p, start("keyworking", "2026-11-10")).unwrap();
        let now = at("2026-11-11T10:00:00Z");
        let cut = Cut::new(&log.profile, &log.events, now);
        assert!(data_quality(&cut, &code("MDI"), now).is_empty());
        assert!(!data_quality(&cut, &code("EYI"), now).is_empty());
    }
}
