//! The KM quarterly return's quality lines, KPIs 2.1–2.19 (KM 6.7; docs/kpis.md §3,
//! "2. Quality"). One function per line, beside its definition.

use crate::clinical::{BbvStep, BloodBorneVirusRecord, ClinicalEvent, ClinicalStep, Virus};
use crate::custody::ReleaseKind;
use crate::events::{EventKind, RecordedEvent};
use crate::first_night::first_night_due;
use crate::identifiers::EstablishmentCode;
use crate::interventions::InterventionFamily;
use crate::referrals::ReferralClosureReason;
use crate::release::{EngagementOutcome, ExitReason};
use crate::returns::KpiFn;
use crate::returns::cut::{Cut, PersonRecord, event_date};
use crate::returns::figure::{Figure, Item, LineFigure, Measure};
use crate::returns::period::Period;
use crate::returns::shared::{episodes, releases, structured_starts};
use crate::screening::InjectingStatus;
use crate::surveys::SurveyKind;
use crate::time::local_date;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};

/// The quality lines, in the return's order.
pub const LINES: &[KpiFn] = &[
    kpi_2_1, kpi_2_2, kpi_2_3, kpi_2_4, kpi_2_5, kpi_2_6, kpi_2_7, kpi_2_8, kpi_2_9, kpi_2_10,
    kpi_2_11, kpi_2_12, kpi_2_13, kpi_2_14, kpi_2_15, kpi_2_16, kpi_2_17, kpi_2_18, kpi_2_19,
];

/// The days of the period counted for clinical cover: up to and including the as-at
/// date (docs/kpis.md 2.1).
fn cover_days(cut: &Cut<'_>, period: &Period) -> impl Iterator<Item = chrono::NaiveDate> {
    let last = period.last.min(cut.today());
    period.first.iter_days().take_while(move |d| *d <= last)
}

/// KPI 2.1: "24/7 Clinical Cover - Number of days in each Quarter" — the calendar
/// days of the period up to the as-at date, per establishment; the all-establishments
/// row sums establishment-days (docs/kpis.md 2.1).
pub fn kpi_2_1(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = cut
        .profile
        .establishments
        .iter()
        .flat_map(|e| {
            cover_days(cut, period).map(|on| Item {
                establishment: e.code.clone(),
                person: None,
                event: None,
                on: Some(on),
            })
        })
        .collect();
    vec![LineFigure::new(
        "2.1",
        "24/7 Clinical Cover - Number of days in each Quarter",
        "days",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

/// KPI 2.2: "24/7 Clinical Cover - Number of days in each quarter where cover was
/// provided" — the days of 2.1 whose latest `clinical_cover_recorded` says provided; a
/// day with no record counts as without cover (docs/kpis.md 2.2).
pub fn kpi_2_2(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut items = Vec::new();
    for e in &cut.profile.establishments {
        for on in cover_days(cut, period) {
            if cut.service.cover.get(&(e.code.clone(), on)) == Some(&true) {
                items.push(Item {
                    establishment: e.code.clone(),
                    person: None,
                    event: None,
                    on: Some(on),
                });
            }
        }
    }
    vec![LineFigure::new(
        "2.2",
        "24/7 Clinical Cover - Number of days in each quarter where cover was provided",
        "days",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

/// D5: one first-night need, judged as at the cut.
struct Need<'a> {
    /// The `first_night_need` event.
    event: &'a RecordedEvent,
    /// The local date of its `at`.
    on: NaiveDate,
    /// Answered in time: a step that stops the clock has an `at` in [need `at`, due].
    met: bool,
    /// Whether it can be judged as at the cut: answered in time, or due by the as-at
    /// instant.
    judged: bool,
}

/// D5: the person's first-night needs (effective `clinical_event_recorded` with step
/// `first_night_need`), each with whether it was answered in time
/// (`first_night::first_night_due`, `ClinicalStep::stops_first_night_clock`).
fn first_night_needs<'a>(cut: &Cut<'_>, p: &'a PersonRecord) -> Vec<Need<'a>> {
    let clinical: Vec<(&RecordedEvent, &ClinicalEvent)> = p
        .of(|k| match k {
            EventKind::ClinicalEventRecorded(c) => Some(c),
            _ => None,
        })
        .collect();
    clinical
        .iter()
        .filter(|(_, c)| c.step == ClinicalStep::FirstNightNeed)
        .map(|(e, need)| {
            let due = first_night_due(need.at);
            let met = clinical
                .iter()
                .any(|(_, c)| c.step.stops_first_night_clock() && c.at >= need.at && c.at <= due);
            Need {
                event: e,
                on: local_date(need.at),
                met,
                judged: met || due <= cut.as_at,
            }
        })
        .collect()
}

/// KPI 2.3: "Proportion of individuals requiring first night clinical intervention
/// receiving required intervention" — of the people with a first-night need (D5)
/// dated in the period, those whose every need dated in the period was answered in
/// time (D5); a need not yet answered whose due time is after the as-at instant is
/// left out of both. Each row takes only the needs recorded there (docs/kpis.md 2.3).
pub fn kpi_2_3(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let (mut numerator, mut denominator) = (Vec::new(), Vec::new());
    for p in cut.people.values() {
        let mut at: BTreeMap<&EstablishmentCode, Vec<Need<'_>>> = BTreeMap::new();
        for n in first_night_needs(cut, p) {
            if n.judged && period.contains(n.on) {
                at.entry(&n.event.establishment).or_default().push(n);
            }
        }
        for (establishment, needs) in at {
            let every_need_met = needs.iter().all(|n| n.met);
            for n in needs {
                let item = Item::event(establishment, p.person, n.event.id, n.on);
                if every_need_met {
                    numerator.push(item.clone());
                }
                denominator.push(item);
            }
        }
    }
    vec![LineFigure::new(
        "2.3",
        "Proportion of individuals requiring first night clinical intervention receiving required intervention",
        "%",
        Figure::Proportion {
            measure: Measure::People,
            numerator,
            denominator,
        },
    )]
}

/// D8: every wait of `family` falling in the period, as an item at the start's
/// establishment with its days. A structured start (D3) answers the latest eligible
/// referral (not closed as a duplicate) dated on or before it with no release of the
/// person dated on or after the referral and before the start; it gives a wait when it
/// is the first start of its family, by (`occurred_at`, `seq`), dated on or after that
/// referral. The wait is the start's date less `referred_on`, in days.
fn waits(cut: &Cut<'_>, period: &Period, family: InterventionFamily) -> Vec<(Item, i64)> {
    let mut out = Vec::new();
    for p in cut.people.values() {
        let referred: Vec<NaiveDate> = p
            .case
            .referrals
            .iter()
            .filter(|r| !matches!(r.closed, Some((_, ReferralClosureReason::Duplicate))))
            .map(|r| r.referral.referred_on)
            .collect();
        let released: Vec<NaiveDate> = releases(p).iter().map(|r| r.on).collect();
        let starts = structured_starts(cut.profile, p);
        for s in starts.iter().filter(|s| s.family == family) {
            let answers = referred
                .iter()
                .copied()
                .filter(|r| *r <= s.on && !released.iter().any(|x| *x >= *r && *x < s.on))
                .max();
            let Some(referred_on) = answers else {
                continue;
            };
            let first = starts
                .iter()
                .find(|t| t.family == family && t.on >= referred_on);
            if first.is_some_and(|f| f.event.id == s.event.id) && period.contains(s.on) {
                out.push((
                    Item::event(&s.event.establishment, p.person, s.event.id, s.on),
                    (s.on - referred_on).num_days(),
                ));
            }
        }
    }
    out
}

/// An average wait line (2.4, 2.6, 2.8).
fn average_wait(
    cut: &Cut<'_>,
    period: &Period,
    family: InterventionFamily,
    code: &str,
    label: &str,
) -> Vec<LineFigure> {
    vec![LineFigure::new(
        code,
        label,
        "days",
        Figure::Mean {
            values: waits(cut, period, family),
            latest_per_person: false,
        },
    )]
}

/// A longest wait line (2.5, 2.7, 2.9).
fn longest_wait(
    cut: &Cut<'_>,
    period: &Period,
    family: InterventionFamily,
    code: &str,
    label: &str,
) -> Vec<LineFigure> {
    vec![LineFigure::new(
        code,
        label,
        "days",
        Figure::Longest {
            values: waits(cut, period, family),
        },
    )]
}

/// KPI 2.4: "Average waiting time for clinical intervention" — the mean of the waits
/// (D8) of family `clinical` whose start is dated in the period, at the start's
/// establishment (docs/kpis.md 2.4).
pub fn kpi_2_4(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    average_wait(
        cut,
        period,
        InterventionFamily::Clinical,
        "2.4",
        "Average waiting time for clinical intervention",
    )
}

/// KPI 2.5: "Longest waiting time for clinical intervention" — the largest wait
/// counted in 2.4 (docs/kpis.md 2.5).
pub fn kpi_2_5(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    longest_wait(
        cut,
        period,
        InterventionFamily::Clinical,
        "2.5",
        "Longest waiting time for clinical intervention",
    )
}

/// KPI 2.6: "Average waiting time for psychosocial intervention" — as 2.4, for family
/// `psychosocial` (structured: `keyworking`, `spi`, `alcohol-mocam`) (docs/kpis.md
/// 2.6).
pub fn kpi_2_6(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    average_wait(
        cut,
        period,
        InterventionFamily::Psychosocial,
        "2.6",
        "Average waiting time for psychosocial intervention",
    )
}

/// KPI 2.7: "Longest waiting time for psychosocial intervention" — the largest wait
/// counted in 2.6 (docs/kpis.md 2.7).
pub fn kpi_2_7(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    longest_wait(
        cut,
        period,
        InterventionFamily::Psychosocial,
        "2.7",
        "Longest waiting time for psychosocial intervention",
    )
}

/// KPI 2.8: "Average waiting time for rehabilitation programme" — as 2.4, for family
/// `programme` (the four programme codes, D1), where `started` means enrolled
/// (docs/kpis.md 2.8).
pub fn kpi_2_8(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    average_wait(
        cut,
        period,
        InterventionFamily::Programme,
        "2.8",
        "Average waiting time for rehabilitation programme",
    )
}

/// KPI 2.9: "Longest waiting time for rehabilitation programme" — the largest wait
/// counted in 2.8 (docs/kpis.md 2.9).
pub fn kpi_2_9(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    longest_wait(
        cut,
        period,
        InterventionFamily::Programme,
        "2.9",
        "Longest waiting time for rehabilitation programme",
    )
}

/// The people with a `blood_borne_virus_recorded` that `pick` selects, dated (`on`) in
/// the period: one item per such event, at the event's establishment.
fn bbv_people(
    cut: &Cut<'_>,
    period: &Period,
    pick: fn(&BloodBorneVirusRecord) -> bool,
) -> Vec<Item> {
    cut.people
        .values()
        .flat_map(|p| {
            p.of(|k| match k {
                EventKind::BloodBorneVirusRecorded(b) => Some(b),
                _ => None,
            })
            .filter(|(_, b)| pick(b) && period.contains(b.on))
            .map(|(e, b)| Item::event(&e.establishment, p.person, e.id, b.on))
        })
        .collect()
}

/// A people count over blood-borne virus records (2.10–2.13).
fn bbv_line(
    cut: &Cut<'_>,
    period: &Period,
    code: &str,
    label: &str,
    pick: fn(&BloodBorneVirusRecord) -> bool,
) -> Vec<LineFigure> {
    vec![LineFigure::new(
        code,
        label,
        "people",
        Figure::Count {
            measure: Measure::People,
            items: bbv_people(cut, period, pick),
        },
    )]
}

/// KPI 2.10: "Number of individuals screened for blood borne viruses (Hep A, B & C,
/// HIV)" — people with a `blood_borne_virus_recorded` with `step: tested`, for any
/// virus and any result, by `on` (docs/kpis.md 2.10).
pub fn kpi_2_10(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    bbv_line(
        cut,
        period,
        "2.10",
        "Number of individuals screened for blood borne viruses (Hep A, B & C, HIV)",
        |b| b.step == BbvStep::Tested,
    )
}

/// KPI 2.11: "Number of individuals accepting offer of Hepatitis B vaccination" —
/// people with a `blood_borne_virus_recorded` with `virus: hepatitis_b` and `step:
/// vaccination_accepted`, by `on` (docs/kpis.md 2.11).
pub fn kpi_2_11(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    bbv_line(
        cut,
        period,
        "2.11",
        "Number of individuals accepting offer of Hepatitis B vaccination",
        |b| b.virus == Virus::HepatitisB && b.step == BbvStep::VaccinationAccepted,
    )
}

/// KPI 2.12: "Number of individuals starting a Hepatitis B vaccination course" —
/// people with a `blood_borne_virus_recorded` with `virus: hepatitis_b`, `step:
/// vaccine_dose` and `dose: 1`, by `on` (docs/kpis.md 2.12).
pub fn kpi_2_12(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    bbv_line(
        cut,
        period,
        "2.12",
        "Number of individuals starting a Hepatitis B vaccination course",
        |b| b.virus == Virus::HepatitisB && b.step == BbvStep::VaccineDose && b.dose == Some(1),
    )
}

/// KPI 2.13: "Number of individuals accepting offer of Hepatitis C test" — people
/// with a `blood_borne_virus_recorded` with `virus: hepatitis_c` and `step: accepted`,
/// by `on` (docs/kpis.md 2.13).
pub fn kpi_2_13(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    bbv_line(
        cut,
        period,
        "2.13",
        "Number of individuals accepting offer of Hepatitis C test",
        |b| b.virus == Virus::HepatitisC && b.step == BbvStep::Accepted,
    )
}

/// KPI 2.14: "2.14." — the line has no text: not defined by the specification, so
/// nothing is reported (docs/kpis.md 2.14, §5).
pub fn kpi_2_14(_: &Cut<'_>, _: &Period) -> Vec<LineFigure> {
    vec![LineFigure::new("2.14", "", "", Figure::NotDefined)]
}

/// KPI 2.15: "Proportion of individuals recorded as previous or current injecting drug
/// users with a Hepatitis C test" — of the people with a `screening_completed` in the
/// period with `injecting` `current` or `previous` (at the screening's
/// establishment), those with a `blood_borne_virus_recorded` with `virus: hepatitis_c`
/// and `step: tested` dated on or before the period's last day, anywhere
/// (docs/kpis.md 2.15).
pub fn kpi_2_15(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let (mut numerator, mut denominator) = (Vec::new(), Vec::new());
    for p in cut.people.values() {
        let tested = p
            .of(|k| match k {
                EventKind::BloodBorneVirusRecorded(b) => Some(b),
                _ => None,
            })
            .any(|(_, b)| {
                b.virus == Virus::HepatitisC && b.step == BbvStep::Tested && b.on <= period.last
            });
        let injectors = p
            .of(|k| match k {
                EventKind::ScreeningCompleted(s) => Some(s),
                _ => None,
            })
            .filter(|(_, s)| {
                matches!(
                    s.injecting,
                    InjectingStatus::Current | InjectingStatus::Previous
                ) && period.contains(s.screened_on)
            });
        for (e, s) in injectors {
            let item = Item::event(&e.establishment, p.person, e.id, s.screened_on);
            if tested {
                numerator.push(item.clone());
            }
            denominator.push(item);
        }
    }
    vec![LineFigure::new(
        "2.15",
        "Proportion of individuals recorded as previous or current injecting drug users with a Hepatitis C test",
        "%",
        Figure::Proportion {
            measure: Measure::People,
            numerator,
            denominator,
        },
    )]
}

/// KPI 2.16: "Number" — the line is cut off: not defined by the specification, so
/// nothing is reported (docs/kpis.md 2.16, §5).
pub fn kpi_2_16(_: &Cut<'_>, _: &Period) -> Vec<LineFigure> {
    vec![LineFigure::new("2.16", "Number", "", Figure::NotDefined)]
}

/// The cohort of 2.17–2.18: each person with a release of `kind: released` in the
/// period at which they were in treatment (D4), judged on their latest such release
/// (D9), as an item at the releasing establishment, with whether they were transferred
/// to community services: the exit closing the episode they were in at release has
/// `reason: released_referred_on`, or a `community_engagement_recorded` with `outcome:
/// engaged` is dated on or after the release and before any later `received`.
fn released_in_treatment(cut: &Cut<'_>, period: &Period) -> Vec<(Item, bool)> {
    let mut out = Vec::new();
    for p in cut.people.values() {
        let episodes = episodes(cut.profile, p);
        let episode_at = |on: NaiveDate| {
            episodes
                .iter()
                .find(|e| e.started_on <= on && e.exited_on.is_none_or(|x| x >= on))
        };
        let Some((release, episode)) = releases(p)
            .into_iter()
            .filter(|r| r.kind == ReleaseKind::Released && period.contains(r.on))
            .filter_map(|r| episode_at(r.on).map(|e| (r, e)))
            .next_back()
        else {
            continue;
        };
        let referred_on = episode.exited_on.is_some_and(|x| {
            p.of(|k| match k {
                EventKind::TreatmentExited(t) => Some(t),
                _ => None,
            })
            .filter(|(_, t)| t.exited_on == x)
            .last()
            .is_some_and(|(_, t)| t.reason == ExitReason::ReleasedReferredOn)
        });
        let after_release = |e: &RecordedEvent| {
            (e.occurred_at, e.seq) > (release.event.occurred_at, release.event.seq)
        };
        let received_again = p
            .of(|k| matches!(k, EventKind::Received(_)).then_some(()))
            .find(|(e, _)| after_release(e))
            .map(|(e, _)| event_date(e));
        let engaged = p
            .of(|k| match k {
                EventKind::CommunityEngagementRecorded(c) => Some(c),
                _ => None,
            })
            .any(|(_, c)| {
                c.outcome == EngagementOutcome::Engaged
                    && c.on >= release.on
                    && received_again.is_none_or(|r| c.on < r)
            });
        out.push((
            Item::event(
                &release.event.establishment,
                p.person,
                release.event.id,
                release.on,
            ),
            referred_on || engaged,
        ));
    }
    out
}

/// KPI 2.17: "Number of individuals with on-going substance misuse needs released and
/// transferred to community substance misuse services" — the people of the cohort
/// (released into the community in the period while in treatment, D4, on their latest
/// such release) whose closing exit is `released_referred_on` or who engaged with
/// community treatment after that release, at the releasing establishment
/// (docs/kpis.md 2.17).
pub fn kpi_2_17(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = released_in_treatment(cut, period)
        .into_iter()
        .filter(|(_, transferred)| *transferred)
        .map(|(i, _)| i)
        .collect();
    vec![LineFigure::new(
        "2.17",
        "Number of individuals with on-going substance misuse needs released and transferred to community substance misuse services",
        "people",
        Figure::Count {
            measure: Measure::People,
            items,
        },
    )]
}

/// KPI 2.18: "Number of individuals released with on-going substance misuse needs not
/// transferred to community substance misuse services" — the cohort of 2.17 less
/// those counted in 2.17 (an exit `released_not_referred`, any other exit, or no exit
/// recorded by the as-at instant), at the releasing establishment (docs/kpis.md 2.18).
pub fn kpi_2_18(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = released_in_treatment(cut, period)
        .into_iter()
        .filter(|(_, transferred)| !*transferred)
        .map(|(i, _)| i)
        .collect();
    vec![LineFigure::new(
        "2.18",
        "Number of individuals released with on-going substance misuse needs not transferred to community substance misuse services",
        "people",
        Figure::Count {
            measure: Measure::People,
            items,
        },
    )]
}

/// KPI 2.19: "Percentage of service users satisfied or very satisfied with Kent and
/// Medway Prison Substance Misuse Service" — of the `survey_response_recorded` events
/// with `survey: satisfaction` received in the period, those rated `very_satisfied` or
/// `satisfied`. A response made with a code counts at the establishment of that code's
/// `survey_code_issued`; a paper response at its own establishment (docs/kpis.md
/// 2.19).
pub fn kpi_2_19(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    // Where each code was issued (the latest issue of a hash, as `ServiceRecord::fold`).
    let issued_at: HashMap<&str, &EstablishmentCode> = cut
        .service_events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SurveyCodeIssued(c) => Some((c.code_hash.as_str(), &e.establishment)),
            _ => None,
        })
        .collect();
    let (mut numerator, mut denominator) = (Vec::new(), Vec::new());
    for e in &cut.service_events {
        let EventKind::SurveyResponseRecorded(r) = &e.kind else {
            continue;
        };
        if r.survey != SurveyKind::Satisfaction || !period.contains(r.received_on) {
            continue;
        }
        let establishment = r
            .code_hash
            .as_deref()
            .and_then(|h| issued_at.get(h).copied())
            .unwrap_or(&e.establishment);
        let item = Item {
            establishment: establishment.clone(),
            person: None,
            event: Some(e.id),
            on: Some(r.received_on),
        };
        if r.rating.is_satisfied() {
            numerator.push(item.clone());
        }
        denominator.push(item);
    }
    vec![LineFigure::new(
        "2.19",
        "Percentage of service users satisfied or very satisfied with Kent and Medway Prison Substance Misuse Service",
        "%",
        Figure::Proportion {
            measure: Measure::Events,
            numerator,
            denominator,
        },
    )]
}

#[cfg(test)]
mod tests {
    use crate::clinical::{
        BbvStep, BloodBorneVirusRecord, ClinicalEvent, ClinicalStep, DetoxScope, DetoxSubstance,
        Medication, TestResult, Virus,
    };
    use crate::custody::{Reception, ReceptionType, ReleaseKind};
    use crate::decide::Command;
    use crate::events::EventKind;
    use crate::governance::ClinicalCoverDay;
    use crate::interventions::{InterventionStatus, InterventionTarget, InterventionUpdate};
    use crate::record_ids::{EventId, PersonId};
    use crate::referrals::{ReferralClosure, ReferralClosureReason};
    use crate::release::{CommunityEngagement, EngagementOutcome, ExitReason, TreatmentExit};
    use crate::returns::figure::{RowKey, Value};
    use crate::returns::testkit::{count, km, row, value};
    use crate::returns::testkit::{leave, transfer};
    use crate::screening::{InjectingStatus, Screening, ScreeningSetting};
    use crate::surveys::{Rating, SurveyCodeIssued, SurveyKind, SurveyResponse};
    use crate::testkit::{Log, at, code, d, local, midday};
    use chrono::{DateTime, Utc};

    fn cover(on: &str, provided: bool) -> EventKind {
        EventKind::ClinicalCoverRecorded(ClinicalCoverDay {
            on: d(on),
            provided,
            note: (!provided).then(|| "No GP overnight".to_string()),
        })
    }

    #[test]
    fn cover_days_count_the_quarter_and_the_days_recorded_as_covered() {
        let mut log = Log::new();
        log.now = at("2026-10-02T10:00:00Z");
        log.record_service(cover("2026-07-01", true)).unwrap();
        log.record_service(cover("2026-07-02", false)).unwrap();
        log.record_service(cover("2026-09-30", true)).unwrap();
        // Recorded again: the latest record of a day counts.
        log.record_service(cover("2026-07-02", true)).unwrap();
        // Outside the quarter, and at another establishment.
        log.record_service(cover("2026-06-30", true)).unwrap();
        log.establishment = code("EYI");
        log.record_service(cover("2026-07-01", true)).unwrap();

        let r = km(&log, "2026Q3", "2026-10-02T10:00:00Z");
        assert_eq!(count(&r, "2.1", &row("MDI")), 92);
        assert_eq!(count(&r, "2.2", &row("MDI")), 3);
        assert_eq!(count(&r, "2.2", &row("EYI")), 1);
        assert_eq!(count(&r, "2.2", &row("BHI")), 0, "no record is no cover");
        let establishments = log.profile.establishments.len() as i64;
        assert_eq!(count(&r, "2.1", &RowKey::All), 92 * establishments);
        assert_eq!(count(&r, "2.2", &RowKey::All), 4);
        // As at mid-quarter, only the days so far count.
        let mid = km(&log, "2026Q3", "2026-07-10T12:00:00Z");
        assert_eq!(count(&mid, "2.1", &row("MDI")), 10);
        assert_eq!(
            count(&mid, "2.2", &row("MDI")),
            0,
            "nothing appended by then"
        );
    }

    /// Records a fact as having happened at `when` (movements carry no date).
    fn record_at(log: &mut Log, p: PersonId, when: DateTime<Utc>, kind: EventKind) -> EventId {
        crate::returns::testkit::record_at(log, p, when, kind)[0]
    }

    /// Registers a synthetic person and receives them at the log's establishment at
    /// midday on `on`.
    fn held(log: &mut Log, prison_number: &str, on: &str) -> PersonId {
        let p = log.person(prison_number);
        receive(log, p, on);
        p
    }

    fn receive(log: &mut Log, p: PersonId, on: &str) {
        let reception_type = if log.establishment == code("DVI") {
            ReceptionType::ImmigrationDetainee
        } else {
            ReceptionType::Sentenced
        };
        record_at(
            log,
            p,
            midday(on),
            EventKind::Received(Reception {
                reception_type,
                source_ref: None,
            }),
        );
    }

    fn clinical(step: ClinicalStep, when: &str) -> EventKind {
        EventKind::ClinicalEventRecorded(ClinicalEvent {
            step,
            at: local(when),
            note: None,
        })
    }

    fn methadone() -> ClinicalStep {
        ClinicalStep::PrescribingStarted {
            medication: Medication::Methadone,
        }
    }

    fn alcohol_detox() -> ClinicalStep {
        ClinicalStep::DetoxStarted {
            substance: DetoxSubstance::Alcohol,
            scope: DetoxScope::SingleSubstance,
        }
    }

    /// The first step of a course: `code` started on `on`.
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

    fn bbv(virus: Virus, step: BbvStep, on: &str) -> EventKind {
        EventKind::BloodBorneVirusRecorded(BloodBorneVirusRecord {
            virus,
            step,
            on: d(on),
            dose: None,
            result: (step == BbvStep::Tested).then_some(TestResult::Negative),
        })
    }

    fn dose(n: u8, on: &str) -> EventKind {
        EventKind::BloodBorneVirusRecorded(BloodBorneVirusRecord {
            virus: Virus::HepatitisB,
            step: BbvStep::VaccineDose,
            on: d(on),
            dose: Some(n),
            result: None,
        })
    }

    fn screened(on: &str, injecting: InjectingStatus) -> EventKind {
        EventKind::ScreeningCompleted(Screening {
            setting: ScreeningSetting::Reception,
            screened_on: d(on),
            audit: None,
            audit_c: None,
            problem_substances: vec![],
            injecting,
            offending_linked: false,
            structured_treatment_needed: false,
        })
    }

    fn exit(on: &str, reason: ExitReason) -> EventKind {
        EventKind::TreatmentExited(TreatmentExit {
            exited_on: d(on),
            reason,
            note: None,
        })
    }

    fn engaged(on: &str) -> EventKind {
        EventKind::CommunityEngagementRecorded(CommunityEngagement {
            outcome: EngagementOutcome::Engaged,
            on: d(on),
            provider: Some("Forward Recovery, Maidstone".into()),
            note: None,
        })
    }

    fn percent(r: &crate::returns::Return, code: &str, row: &RowKey) -> (i64, i64) {
        match value(r, code, row) {
            Value::Percent {
                numerator,
                denominator,
            } => (numerator, denominator),
            other => panic!("{code} is not a percentage: {other:?}"),
        }
    }

    fn mean(r: &crate::returns::Return, code: &str, row: &RowKey) -> (i64, i64) {
        match value(r, code, row) {
            Value::Mean { sum, count } => (sum, count),
            other => panic!("{code} is not a mean: {other:?}"),
        }
    }

    fn longest(r: &crate::returns::Return, code: &str, row: &RowKey) -> Option<i64> {
        match value(r, code, row) {
            Value::Longest(v) => v,
            other => panic!("{code} is not a longest: {other:?}"),
        }
    }

    #[test]
    fn first_night_needs_answered_by_the_four_hour_clock_per_person_and_establishment() {
        let mut log = Log::new();
        // Everything is appended by 09:00 on 1 October (BST).
        log.now = at("2026-10-01T08:00:00Z");
        let need = || ClinicalStep::FirstNightNeed;
        // A (MDI): two needs, both answered in time: counted once.
        //   1 Jul 10:00, due 14:00, seen 12:00; 10 Aug 21:00, due 11 Aug 11:00 (one
        //   hour before 22:00, three from 08:00), prescribed 10:30.
        let a = held(&mut log, "A1111AA", "2026-07-01");
        log.record(a, clinical(need(), "2026-07-01 10:00")).unwrap();
        log.record(a, clinical(ClinicalStep::SeenByDoctor, "2026-07-01 12:00"))
            .unwrap();
        log.record(a, clinical(need(), "2026-08-10 21:00")).unwrap();
        log.record(a, clinical(methadone(), "2026-08-11 10:30"))
            .unwrap();
        // B (MDI): due 14:00; symptomatic relief does not answer it; seen at 15:00 is late.
        let b = held(&mut log, "A2222BB", "2026-07-05");
        log.record(b, clinical(need(), "2026-07-05 10:00")).unwrap();
        log.record(
            b,
            clinical(ClinicalStep::SymptomaticRelief, "2026-07-05 11:00"),
        )
        .unwrap();
        log.record(b, clinical(ClinicalStep::SeenByDoctor, "2026-07-05 15:00"))
            .unwrap();
        // C: at MDI 20 Jul 09:00, due 13:00, detox 12:00; transferred to EYI on 1 Aug;
        // there 19:00, due 2 Aug 09:00 (three hours to 22:00, one from 08:00), seen
        // 08:30. Met in both rows.
        let c = held(&mut log, "A3333CC", "2026-07-20");
        log.record(c, clinical(need(), "2026-07-20 09:00")).unwrap();
        log.record(c, clinical(alcohol_detox(), "2026-07-20 12:00"))
            .unwrap();
        transfer(&mut log, c, "MDI", "EYI", "2026-08-01");
        log.record(c, clinical(need(), "2026-08-01 19:00")).unwrap();
        log.record(c, clinical(ClinicalStep::SeenByDoctor, "2026-08-02 08:30"))
            .unwrap();
        log.establishment = code("MDI");
        // D (MDI): an unanswered need on 30 June (Q2) does not count; 15 Sep 10:00
        // seen 11:00 is met.
        let dd = held(&mut log, "A4444DD", "2026-06-30");
        log.record(dd, clinical(need(), "2026-06-30 10:00"))
            .unwrap();
        log.record(dd, clinical(need(), "2026-09-15 10:00"))
            .unwrap();
        log.record(dd, clinical(ClinicalStep::SeenByDoctor, "2026-09-15 11:00"))
            .unwrap();
        // E (MDI): an unanswered need entered in error: nobody.
        let e = held(&mut log, "A5555EE", "2026-07-10");
        let ids = log.record(e, clinical(need(), "2026-07-10 10:00")).unwrap();
        log.try_command(
            e,
            Command::EnterInError {
                target: ids[0],
                reason: "Recorded against the wrong person".into(),
            },
        )
        .unwrap();
        // F (MDI): 30 Sep 21:00, due 1 Oct 11:00 BST (10:00 UTC), never answered.
        let f = held(&mut log, "A6666FF", "2026-09-30");
        log.record(f, clinical(need(), "2026-09-30 21:00")).unwrap();

        // As at 5 October F's need is overdue: MDI has A, B, C, D, F (5) in the
        // denominator and A, C, D (3) met: 3/5. EYI: C, 1/1. All: {A, B, C, D, F} = 5,
        // {A, C, D} = 3 (C once).
        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        assert_eq!(percent(&r, "2.3", &row("MDI")), (3, 5));
        assert_eq!(percent(&r, "2.3", &row("EYI")), (1, 1));
        assert_eq!(percent(&r, "2.3", &RowKey::All), (3, 5));
        assert_eq!(value(&r, "2.3", &RowKey::All).display(), "60.0");
        assert_eq!(percent(&r, "2.3", &row("DVI")), (0, 0));
        // As at 09:00 UTC on 1 October F's need is not yet due: left out of both.
        // MDI: A, C, D of A, B, C, D = 3/4.
        let early = km(&log, "2026Q3", "2026-10-01T09:00:00Z");
        assert_eq!(percent(&early, "2.3", &row("MDI")), (3, 4));
        assert_eq!(percent(&early, "2.3", &RowKey::All), (3, 4));
    }

    #[test]
    fn waits_run_from_the_referral_to_the_first_structured_start_of_each_family() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        // P1 (MDI): referred 1 Jul; a 4 Jul referral closed as a duplicate is not one.
        let p1 = held(&mut log, "A1111AA", "2026-06-25");
        log.refer(p1, "2026-07-01");
        let dup = log.refer(p1, "2026-07-04");
        log.record(
            p1,
            EventKind::ReferralClosed(ReferralClosure {
                referral: dup,
                reason: ReferralClosureReason::Duplicate,
                closed_on: d("2026-07-04"),
                note: None,
            }),
        )
        .unwrap();
        // Relapse prevention (not structured) on 6 Jul is not waited for.
        log.record(p1, start("relapse-prevention", "2026-07-06"))
            .unwrap();
        // Clinical: methadone 8 Jul: 8 − 1 = 7 days. A detox on 20 Jul is not the first
        // clinical start after 1 Jul: no second wait.
        log.record(p1, clinical(methadone(), "2026-07-08 10:00"))
            .unwrap();
        log.record(p1, clinical(alcohol_detox(), "2026-07-20 10:00"))
            .unwrap();
        // Psychosocial: keyworking 15 Jul: 14 days. Programme: 1 Sep: 31 + 31 = 62 days.
        log.record(p1, start("keyworking", "2026-07-15")).unwrap();
        log.record(p1, start("programme-offending", "2026-09-01"))
            .unwrap();
        // P2 (MDI): referred 20 Jun; substitute prescribing started 2 Jul: 12 days
        // (in Q3: the start's date counts). Referred again 1 Aug: keyworking 21 Aug,
        // 20 days; a programme on 10 Sep, 40 days.
        let p2 = held(&mut log, "A2222BB", "2026-06-15");
        log.refer(p2, "2026-06-20");
        log.record(p2, start("substitute-prescribing", "2026-07-02"))
            .unwrap();
        log.refer(p2, "2026-08-01");
        log.record(p2, start("keyworking", "2026-08-21")).unwrap();
        log.record(p2, start("programme-abstinence", "2026-09-10"))
            .unwrap();
        // P3: referred at MDI 10 Jul, transferred to EYI 20 Jul, prescribed there 24
        // Jul: 14 days, at EYI.
        let p3 = held(&mut log, "A3333CC", "2026-07-01");
        log.refer(p3, "2026-07-10");
        transfer(&mut log, p3, "MDI", "EYI", "2026-07-20");
        log.record(p3, clinical(methadone(), "2026-07-24 10:00"))
            .unwrap();
        log.establishment = code("MDI");
        // P4 (MDI): referred 1 Jun, released 15 Jun, back 1 Jul: keyworking on 5 Jul
        // answers no referral (another stay). Referred 6 Jul: alcohol MOCAM 9 Jul, 3 days.
        let p4 = held(&mut log, "A4444DD", "2026-05-20");
        log.refer(p4, "2026-06-01");
        leave(&mut log, p4, "2026-06-15", ReleaseKind::Released);
        receive(&mut log, p4, "2026-07-01");
        log.record(p4, start("keyworking", "2026-07-05")).unwrap();
        log.refer(p4, "2026-07-06");
        log.record(p4, start("alcohol-mocam", "2026-07-09"))
            .unwrap();
        // P5 (MDI): referred 1 May, prescribed 10 Jun: a Q2 wait, not in Q3.
        let p5 = held(&mut log, "A5555EE", "2026-04-20");
        log.refer(p5, "2026-05-01");
        log.record(p5, clinical(methadone(), "2026-06-10 10:00"))
            .unwrap();
        // P6 (MDI): the referral of 1 Jul is corrected to 21 Jul; keyworking 31 Jul:
        // 10 days (not 30).
        let p6 = held(&mut log, "A6666FF", "2026-06-28");
        let referral = log.refer(p6, "2026-07-01");
        log.try_command(
            p6,
            Command::Correct {
                target: referral,
                reason: "Referral date mistyped".into(),
                kind: EventKind::ReferralMade(crate::referrals::Referral {
                    source: crate::referrals::ReferralSource::SelfReferralApplication,
                    referred_on: d("2026-07-21"),
                    note: None,
                }),
            },
        )
        .unwrap();
        log.record(p6, start("keyworking", "2026-07-31")).unwrap();

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        // Clinical: MDI 7 (P1) + 12 (P2) = 19 over 2 = 9.5, longest 12; EYI 14 (P3).
        // All: 33 over 3 = 11.0, longest 14.
        assert_eq!(mean(&r, "2.4", &row("MDI")), (19, 2));
        assert_eq!(value(&r, "2.4", &row("MDI")).display(), "9.5");
        assert_eq!(mean(&r, "2.4", &row("EYI")), (14, 1));
        assert_eq!(mean(&r, "2.4", &RowKey::All), (33, 3));
        assert_eq!(longest(&r, "2.5", &row("MDI")), Some(12));
        assert_eq!(longest(&r, "2.5", &row("EYI")), Some(14));
        assert_eq!(longest(&r, "2.5", &RowKey::All), Some(14));
        // Psychosocial (all at MDI): 14 (P1) + 20 (P2) + 3 (P4) + 10 (P6) = 47 over 4 =
        // 11.75, shown 11.8; longest 20. None at EYI.
        assert_eq!(mean(&r, "2.6", &row("MDI")), (47, 4));
        assert_eq!(value(&r, "2.6", &row("MDI")).display(), "11.8");
        assert_eq!(mean(&r, "2.6", &row("EYI")), (0, 0));
        assert_eq!(mean(&r, "2.6", &RowKey::All), (47, 4));
        assert_eq!(longest(&r, "2.7", &row("MDI")), Some(20));
        assert_eq!(longest(&r, "2.7", &row("EYI")), None);
        // Programme: 62 (P1) + 40 (P2) = 102 over 2 = 51.0; longest 62.
        assert_eq!(mean(&r, "2.8", &row("MDI")), (102, 2));
        assert_eq!(mean(&r, "2.8", &RowKey::All), (102, 2));
        assert_eq!(longest(&r, "2.9", &row("MDI")), Some(62));
        assert_eq!(longest(&r, "2.9", &RowKey::All), Some(62));
        // P5's 40-day clinical wait falls in Q2.
        let q2 = km(&log, "2026Q2", "2026-10-05T10:00:00Z");
        assert_eq!(mean(&q2, "2.4", &row("MDI")), (40, 1));
    }

    #[test]
    fn blood_borne_virus_lines_count_people_by_step_virus_and_date() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        // A (MDI): tested for hepatitis C and HIV (2.10 once); hepatitis B vaccination
        // accepted (2.11); first dose (2.12); hepatitis C test accepted (2.13).
        let a = held(&mut log, "A1111AA", "2026-07-01");
        log.record(a, bbv(Virus::HepatitisC, BbvStep::Accepted, "2026-07-05"))
            .unwrap();
        log.record(a, bbv(Virus::HepatitisC, BbvStep::Tested, "2026-07-05"))
            .unwrap();
        log.record(a, bbv(Virus::Hiv, BbvStep::Tested, "2026-07-05"))
            .unwrap();
        log.record(
            a,
            bbv(
                Virus::HepatitisB,
                BbvStep::VaccinationAccepted,
                "2026-07-06",
            ),
        )
        .unwrap();
        log.record(a, dose(1, "2026-07-10")).unwrap();
        // B (MDI): first dose in Q2, second in Q3 (not a start); hepatitis B offered,
        // hepatitis C offered and declined (no line); hepatitis A tested, result
        // awaited (2.10).
        let b = held(&mut log, "A2222BB", "2026-06-15");
        log.record(b, dose(1, "2026-06-20")).unwrap();
        log.record(b, dose(2, "2026-08-01")).unwrap();
        log.record(
            b,
            bbv(Virus::HepatitisB, BbvStep::VaccinationOffered, "2026-07-01"),
        )
        .unwrap();
        log.record(b, bbv(Virus::HepatitisC, BbvStep::Offered, "2026-07-01"))
            .unwrap();
        log.record(b, bbv(Virus::HepatitisC, BbvStep::Declined, "2026-07-01"))
            .unwrap();
        log.record(
            b,
            EventKind::BloodBorneVirusRecorded(BloodBorneVirusRecord {
                virus: Virus::HepatitisA,
                step: BbvStep::Tested,
                on: d("2026-07-02"),
                dose: None,
                result: Some(TestResult::Awaited),
            }),
        )
        .unwrap();
        // C: tested for HIV at MDI, transferred to EYI, tested for hepatitis B there
        // and accepted a hepatitis C test there.
        let c = held(&mut log, "A3333CC", "2026-07-01");
        log.record(c, bbv(Virus::Hiv, BbvStep::Tested, "2026-07-03"))
            .unwrap();
        transfer(&mut log, c, "MDI", "EYI", "2026-07-15");
        log.record(c, bbv(Virus::HepatitisB, BbvStep::Tested, "2026-08-01"))
            .unwrap();
        log.record(c, bbv(Virus::HepatitisC, BbvStep::Accepted, "2026-08-01"))
            .unwrap();
        // D (EYI): a hepatitis C acceptance entered in error; vaccination accepted in
        // Q2; tested in Q4.
        let dd = held(&mut log, "A4444DD", "2026-06-01");
        let ids = log
            .record(dd, bbv(Virus::HepatitisC, BbvStep::Accepted, "2026-07-07"))
            .unwrap();
        log.try_command(
            dd,
            Command::EnterInError {
                target: ids[0],
                reason: "Another person's record".into(),
            },
        )
        .unwrap();
        log.record(
            dd,
            bbv(
                Virus::HepatitisB,
                BbvStep::VaccinationAccepted,
                "2026-06-30",
            ),
        )
        .unwrap();
        log.record(dd, bbv(Virus::HepatitisC, BbvStep::Tested, "2026-10-01"))
            .unwrap();

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        // 2.10: MDI {A, B, C} = 3; EYI {C} = 1; All {A, B, C} = 3 (C once).
        assert_eq!(count(&r, "2.10", &row("MDI")), 3);
        assert_eq!(count(&r, "2.10", &row("EYI")), 1);
        assert_eq!(count(&r, "2.10", &RowKey::All), 3);
        // 2.11: A only (D's is in Q2).
        assert_eq!(count(&r, "2.11", &row("MDI")), 1);
        assert_eq!(count(&r, "2.11", &row("EYI")), 0);
        assert_eq!(count(&r, "2.11", &RowKey::All), 1);
        // 2.12: A's first dose; B's second dose is not a start.
        assert_eq!(count(&r, "2.12", &row("MDI")), 1);
        assert_eq!(count(&r, "2.12", &RowKey::All), 1);
        // 2.13: A at MDI, C at EYI (D's is in error): All 2.
        assert_eq!(count(&r, "2.13", &row("MDI")), 1);
        assert_eq!(count(&r, "2.13", &row("EYI")), 1);
        assert_eq!(count(&r, "2.13", &RowKey::All), 2);
        // B's first dose counts in Q2.
        let q2 = km(&log, "2026Q2", "2026-10-05T10:00:00Z");
        assert_eq!(count(&q2, "2.12", &row("MDI")), 1);
    }

    #[test]
    fn lines_the_specification_leaves_blank_report_nothing() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        let a = held(&mut log, "A1111AA", "2026-07-01");
        log.record(a, bbv(Virus::HepatitisC, BbvStep::Tested, "2026-07-05"))
            .unwrap();
        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        for code in ["2.14", "2.16"] {
            assert_eq!(value(&r, code, &row("MDI")), Value::NotDefined);
            assert_eq!(value(&r, code, &RowKey::All), Value::NotDefined);
        }
        assert_eq!(
            value(&r, "2.14", &RowKey::All).display(),
            "Not defined by the specification"
        );
        let codes: Vec<&str> = r
            .figures
            .iter()
            .map(|f| f.code.as_str())
            .filter(|c| c.starts_with("2."))
            .collect();
        let expected: Vec<String> = (1..=19).map(|n| format!("2.{n}")).collect();
        assert_eq!(codes, expected, "every quality line, in order");
    }

    #[test]
    fn injectors_screened_in_the_period_with_a_hepatitis_c_test_by_its_end() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        // A (MDI): current 2 Jul, previous 1 Aug (counted once); tested 1 Jun (Q2, but
        // on or before the quarter's end): in the numerator.
        let a = held(&mut log, "A1111AA", "2026-05-25");
        log.record(a, bbv(Virus::HepatitisC, BbvStep::Tested, "2026-06-01"))
            .unwrap();
        log.record(a, screened("2026-07-02", InjectingStatus::Current))
            .unwrap();
        log.record(a, screened("2026-08-01", InjectingStatus::Previous))
            .unwrap();
        // B (MDI): previous 10 Jul; a hepatitis B test and a hepatitis C test on 2 Oct,
        // after the quarter, do not count.
        let b = held(&mut log, "A2222BB", "2026-07-10");
        log.record(b, screened("2026-07-10", InjectingStatus::Previous))
            .unwrap();
        log.record(b, bbv(Virus::HepatitisB, BbvStep::Tested, "2026-07-11"))
            .unwrap();
        log.record(b, bbv(Virus::HepatitisC, BbvStep::Tested, "2026-10-02"))
            .unwrap();
        // C: current at MDI 5 Jul; transferred to EYI; previous there 1 Aug; tested at
        // EYI 3 Aug: in both rows, and once in All.
        let c = held(&mut log, "A3333CC", "2026-07-05");
        log.record(c, screened("2026-07-05", InjectingStatus::Current))
            .unwrap();
        transfer(&mut log, c, "MDI", "EYI", "2026-07-20");
        log.record(c, screened("2026-08-01", InjectingStatus::Previous))
            .unwrap();
        log.record(c, bbv(Virus::HepatitisC, BbvStep::Tested, "2026-08-03"))
            .unwrap();
        // G (EYI): injecting not stated: not in the cohort.
        let g = held(&mut log, "A7777GG", "2026-09-01");
        log.record(g, screened("2026-09-01", InjectingStatus::NotStated))
            .unwrap();
        log.establishment = code("MDI");
        // D (MDI): never injected, though tested: not in the cohort.
        let dd = held(&mut log, "A4444DD", "2026-07-06");
        log.record(dd, screened("2026-07-06", InjectingStatus::Never))
            .unwrap();
        log.record(dd, bbv(Virus::HepatitisC, BbvStep::Tested, "2026-07-07"))
            .unwrap();
        // E (MDI): "current", corrected to "never": not in the cohort.
        let e = held(&mut log, "A5555EE", "2026-07-08");
        let ids = log
            .record(e, screened("2026-07-08", InjectingStatus::Current))
            .unwrap();
        log.try_command(
            e,
            Command::Correct {
                target: ids[0],
                reason: "Answer recorded against the wrong question".into(),
                kind: screened("2026-07-08", InjectingStatus::Never),
            },
        )
        .unwrap();
        // F (MDI): screened as current in Q2 only.
        let f = held(&mut log, "A6666FF", "2026-06-28");
        log.record(f, screened("2026-06-28", InjectingStatus::Current))
            .unwrap();

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        // MDI: {A, B, C} screened, {A, C} tested: 2/3 = 66.7. EYI: {C}, 1/1.
        // All: {A, B, C}, {A, C}: 2/3.
        assert_eq!(percent(&r, "2.15", &row("MDI")), (2, 3));
        assert_eq!(value(&r, "2.15", &row("MDI")).display(), "66.7");
        assert_eq!(percent(&r, "2.15", &row("EYI")), (1, 1));
        assert_eq!(percent(&r, "2.15", &RowKey::All), (2, 3));
    }

    #[test]
    fn people_released_in_treatment_split_by_transfer_to_community_services() {
        let mut log = Log::new();
        log.now = at("2026-10-20T10:00:00Z");
        // A (MDI): prescribed 5 Jun, released 10 Aug, exit "released, referred on": 2.17.
        let a = held(&mut log, "A1111AA", "2026-06-01");
        log.record(a, clinical(methadone(), "2026-06-05 10:00"))
            .unwrap();
        leave(&mut log, a, "2026-08-10", ReleaseKind::Released);
        log.record(a, exit("2026-08-10", ExitReason::ReleasedReferredOn))
            .unwrap();
        // B (MDI): keyworking from 10 Jun, released 12 Aug; the exit was recorded as
        // referred on and corrected to "not referred": 2.18.
        let b = held(&mut log, "A2222BB", "2026-06-01");
        log.record(b, start("keyworking", "2026-06-10")).unwrap();
        leave(&mut log, b, "2026-08-12", ReleaseKind::Released);
        let ids = log
            .record(b, exit("2026-08-12", ExitReason::ReleasedReferredOn))
            .unwrap();
        log.try_command(
            b,
            Command::Correct {
                target: ids[0],
                reason: "No community referral was made".into(),
                kind: exit("2026-08-12", ExitReason::ReleasedNotReferred),
            },
        )
        .unwrap();
        // C (MDI): prescribed 1 Jul, released 1 Sep, no exit, engaged in the
        // community 10 Sep: 2.17.
        let c = held(&mut log, "A3333CC", "2026-06-20");
        log.record(c, clinical(methadone(), "2026-07-01 10:00"))
            .unwrap();
        leave(&mut log, c, "2026-09-01", ReleaseKind::Released);
        log.record(c, engaged("2026-09-10")).unwrap();
        // D (MDI): prescribed 1 Jul, released 2 Sep, nothing since: 2.18.
        let dd = held(&mut log, "A4444DD", "2026-06-20");
        log.record(dd, clinical(methadone(), "2026-07-01 10:00"))
            .unwrap();
        leave(&mut log, dd, "2026-09-02", ReleaseKind::Released);
        // E (MDI): released 1 Aug, never in treatment: not in the cohort.
        let e = held(&mut log, "A5555EE", "2026-06-20");
        leave(&mut log, e, "2026-08-01", ReleaseKind::Released);
        // F (MDI): dropped out 20 Jul, released 1 Aug: not in treatment at release.
        let f = held(&mut log, "A6666FF", "2026-06-20");
        log.record(f, clinical(methadone(), "2026-07-01 10:00"))
            .unwrap();
        log.record(f, exit("2026-07-20", ExitReason::DroppedOut))
            .unwrap();
        leave(&mut log, f, "2026-08-01", ReleaseKind::Released);
        // I (MDI): in treatment, released 20 Jun (Q2): not in Q3's cohort.
        let i = held(&mut log, "A9999II", "2026-06-01");
        log.record(i, clinical(methadone(), "2026-06-02 10:00"))
            .unwrap();
        leave(&mut log, i, "2026-06-20", ReleaseKind::Released);
        // J (MDI): released 5 Jul not referred; back 20 Jul, prescribed 21 Jul,
        // released 10 Sep referred on: judged on 10 Sep only: 2.17, not 2.18.
        let j = held(&mut log, "A1010JJ", "2026-06-01");
        log.record(j, clinical(methadone(), "2026-06-02 10:00"))
            .unwrap();
        leave(&mut log, j, "2026-07-05", ReleaseKind::Released);
        log.record(j, exit("2026-07-05", ExitReason::ReleasedNotReferred))
            .unwrap();
        receive(&mut log, j, "2026-07-20");
        log.record(j, clinical(methadone(), "2026-07-21 10:00"))
            .unwrap();
        leave(&mut log, j, "2026-09-10", ReleaseKind::Released);
        log.record(j, exit("2026-09-10", ExitReason::ReleasedReferredOn))
            .unwrap();
        // K (MDI): prescribed, released 3 Jul, back 10 Jul; an engagement dated 15 Jul
        // is after that reception, so no evidence: 2.18.
        let k = held(&mut log, "A1212KK", "2026-06-01");
        log.record(k, clinical(methadone(), "2026-06-02 10:00"))
            .unwrap();
        leave(&mut log, k, "2026-07-03", ReleaseKind::Released);
        receive(&mut log, k, "2026-07-10");
        log.record(k, engaged("2026-07-15")).unwrap();
        // H: prescribed at MDI, transferred to EYI 1 Jul, released from EYI 20 Aug
        // referred on: 2.17 at EYI (the releasing establishment), not MDI.
        let h = held(&mut log, "A8888HH", "2026-06-01");
        log.record(h, clinical(methadone(), "2026-06-02 10:00"))
            .unwrap();
        transfer(&mut log, h, "MDI", "EYI", "2026-07-01");
        leave(&mut log, h, "2026-08-20", ReleaseKind::Released);
        log.record(h, exit("2026-08-20", ExitReason::ReleasedReferredOn))
            .unwrap();
        // G (DVI): prescribed, deported 5 Aug: deportations are not in the cohort.
        log.establishment = code("DVI");
        let g = held(&mut log, "A7777GG", "2026-06-01");
        log.record(g, clinical(methadone(), "2026-06-02 10:00"))
            .unwrap();
        leave(&mut log, g, "2026-08-05", ReleaseKind::Deported);

        let r = km(&log, "2026Q3", "2026-10-20T10:00:00Z");
        // 2.17: MDI {A, C, J} = 3; EYI {H} = 1; All 4.
        assert_eq!(count(&r, "2.17", &row("MDI")), 3);
        assert_eq!(count(&r, "2.17", &row("EYI")), 1);
        assert_eq!(count(&r, "2.17", &RowKey::All), 4);
        // 2.18: MDI {B, D, K} = 3; EYI 0; All 3. DVI: nobody in either.
        assert_eq!(count(&r, "2.18", &row("MDI")), 3);
        assert_eq!(count(&r, "2.18", &row("EYI")), 0);
        assert_eq!(count(&r, "2.18", &RowKey::All), 3);
        assert_eq!(count(&r, "2.17", &row("DVI")), 0);
        assert_eq!(count(&r, "2.18", &row("DVI")), 0);
        // Q2: I released 20 Jun in treatment, no exit: 2.18.
        let q2 = km(&log, "2026Q2", "2026-10-20T10:00:00Z");
        assert_eq!(count(&q2, "2.18", &row("MDI")), 1);
        assert_eq!(count(&q2, "2.17", &row("MDI")), 0);
    }

    fn hash(code: &str) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(code.as_bytes()))
    }

    fn issue(code: &str, on: &str) -> EventKind {
        EventKind::SurveyCodeIssued(SurveyCodeIssued {
            code_hash: hash(code),
            survey: SurveyKind::Satisfaction,
            issued_on: d(on),
            pair: None,
        })
    }

    fn response(code: Option<&str>, survey: SurveyKind, on: &str, rating: Rating) -> EventKind {
        EventKind::SurveyResponseRecorded(SurveyResponse {
            code_hash: code.map(hash),
            survey,
            received_on: d(on),
            rating,
            comments: None,
        })
    }

    #[test]
    fn satisfaction_responses_count_where_their_code_was_issued() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        let sat = SurveyKind::Satisfaction;
        // K1 issued at MDI and answered (satisfied) through a kiosk at EYI: counts at MDI.
        log.record_service(issue("K1P-000-001", "2026-07-01"))
            .unwrap();
        // MDI paper: neither, dissatisfied; one in Q2; a pre-treatment questionnaire.
        log.record_service(response(None, sat, "2026-08-01", Rating::Neither))
            .unwrap();
        log.record_service(response(None, sat, "2026-08-02", Rating::Dissatisfied))
            .unwrap();
        log.record_service(response(None, sat, "2026-06-30", Rating::Satisfied))
            .unwrap();
        log.record_service(response(
            None,
            SurveyKind::ExperiencePre,
            "2026-07-05",
            Rating::VerySatisfied,
        ))
        .unwrap();
        // K3 issued at MDI, answered in Q4.
        log.record_service(issue("K3P-000-003", "2026-09-30"))
            .unwrap();
        log.establishment = code("EYI");
        log.record_service(response(
            Some("K1P-000-001"),
            sat,
            "2026-07-02",
            Rating::Satisfied,
        ))
        .unwrap();
        // K2 issued and answered (very satisfied) at EYI; an EYI paper response.
        log.record_service(issue("K2P-000-002", "2026-07-02"))
            .unwrap();
        log.record_service(response(
            Some("K2P-000-002"),
            sat,
            "2026-07-03",
            Rating::VerySatisfied,
        ))
        .unwrap();
        log.record_service(response(None, sat, "2026-09-30", Rating::Satisfied))
            .unwrap();
        log.record_service(response(
            Some("K3P-000-003"),
            sat,
            "2026-10-01",
            Rating::VerySatisfied,
        ))
        .unwrap();

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        // MDI: K1 (satisfied), paper neither, paper dissatisfied: 1/3 = 33.3.
        // EYI: K2 (very satisfied), paper satisfied: 2/2. All: 3/5 = 60.0.
        assert_eq!(percent(&r, "2.19", &row("MDI")), (1, 3));
        assert_eq!(value(&r, "2.19", &row("MDI")).display(), "33.3");
        assert_eq!(percent(&r, "2.19", &row("EYI")), (2, 2));
        assert_eq!(percent(&r, "2.19", &RowKey::All), (3, 5));
        assert_eq!(value(&r, "2.19", &RowKey::All).display(), "60.0");
        // No responses at DVI: no value.
        assert_eq!(percent(&r, "2.19", &row("DVI")), (0, 0));
        assert_eq!(value(&r, "2.19", &row("DVI")).display(), "");
    }
}
