//! The KM quarterly return's activity lines, KPIs 1.1–1.32 (KM 6.7; docs/kpis.md §3,
//! "1. Activity"). One function per line, beside its definition. The spans that the
//! "in receipt" lines read (D2, D6, D7) are in `km_activity_spans`.

use crate::assessment::AssessmentKind;
use crate::clinical::{ClinicalStep, DetoxScope, DetoxSubstance, Medication};
use crate::events::{EventKind, RecordedEvent};
use crate::interventions::{InterventionStatus, InterventionTarget, SessionKind};
use crate::release::{ContactOutcome, ContactPurpose};
use crate::returns::KpiFn;
use crate::returns::cut::{Cut, PersonRecord};
use crate::returns::figure::{Figure, Item, LineFigure, Measure};
use crate::returns::km_activity_spans::{
    Custody, Prescribing, course_codes, course_spans, held_items, prescribing_spans,
};
use crate::returns::period::Period;
use crate::returns::shared::is_programme;
use crate::screening::ScreeningSetting;
use crate::time::{local_date, local_instant};
use chrono::{DateTime, Days, NaiveTime, Utc};
use std::collections::BTreeMap;

/// The activity lines, in the return's order.
pub const LINES: &[KpiFn] = &[
    kpi_1_1, kpi_1_2, kpi_1_3, kpi_1_4, kpi_1_5, kpi_1_6, kpi_1_7, kpi_1_8, kpi_1_9, kpi_1_10,
    kpi_1_11, kpi_1_12, kpi_1_13, kpi_1_14, kpi_1_15, kpi_1_16, kpi_1_17, kpi_1_18, kpi_1_19,
    kpi_1_20, kpi_1_21, kpi_1_22, kpi_1_23, kpi_1_24, kpi_1_25, kpi_1_26, kpi_1_27, kpi_1_28,
    kpi_1_29, kpi_1_30, kpi_1_31, kpi_1_32,
];

/// A line that counts `items` by `measure` (its unit follows: events or people).
fn counted(code: &str, label: &str, measure: Measure, items: Vec<Item>) -> Vec<LineFigure> {
    let unit = match measure {
        Measure::Events => "events",
        Measure::People => "people",
    };
    vec![LineFigure::new(
        code,
        label,
        unit,
        Figure::Count { measure, items },
    )]
}

/// Every effective person event that `pick` selects, dated in the period by the date
/// `pick` gives, as an item at the event's establishment (event attribution,
/// docs/kpis.md §1.6).
fn dated_items(
    cut: &Cut<'_>,
    period: &Period,
    pick: impl Fn(&EventKind) -> Option<chrono::NaiveDate>,
) -> Vec<Item> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        for e in &p.events {
            if let Some(on) = pick(&e.kind)
                && period.contains(on)
            {
                items.push(Item::event(&e.establishment, p.person, e.id, on));
            }
        }
    }
    items
}

/// Every effective `clinical_event_recorded` whose step `want` selects, dated by the
/// local date of its `at`, at the event's establishment.
fn clinical_items(
    cut: &Cut<'_>,
    period: &Period,
    want: impl Fn(&ClinicalStep) -> bool,
) -> Vec<Item> {
    dated_items(cut, period, |k| match k {
        EventKind::ClinicalEventRecorded(c) if want(&c.step) => Some(local_date(c.at)),
        _ => None,
    })
}

/// Every screening in the period, with whether it was at reception.
fn screenings<'a>(cut: &'a Cut<'_>, period: &'a Period) -> impl Iterator<Item = (Item, bool)> + 'a {
    cut.people.values().flat_map(move |p| {
        p.of(|k| match k {
            EventKind::ScreeningCompleted(s) => Some((s.screened_on, s.setting)),
            _ => None,
        })
        .filter(|(_, (on, _))| period.contains(*on))
        .map(|(e, (on, setting))| {
            (
                Item::event(&e.establishment, p.person, e.id, on),
                setting == ScreeningSetting::Reception,
            )
        })
    })
}

/// KPI 1.1: "Number of substance misuse screenings completed at reception" — each
/// `screening_completed` with `setting: reception`, by `screened_on`, at the event's
/// establishment (docs/kpis.md 1.1).
pub fn kpi_1_1(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = screenings(cut, period)
        .filter(|(_, reception)| *reception)
        .map(|(i, _)| i)
        .collect();
    vec![LineFigure::new(
        "1.1",
        "Number of substance misuse screenings completed at reception",
        "events",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

/// KPI 1.2: "Total number of substance misuse screenings completed" — every
/// `screening_completed`, by `screened_on` (docs/kpis.md 1.2).
pub fn kpi_1_2(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = screenings(cut, period).map(|(i, _)| i).collect();
    vec![LineFigure::new(
        "1.2",
        "Total number of substance misuse screenings completed",
        "events",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

/// KPI 1.3: "Number of advice, information or brief interventions delivered" — each
/// `intervention_updated` with `intervention: brief-advice` (the KM 3.9.1/4.5.1
/// catalogue entry) and `status: started`, by the step's `on`, at the step's
/// establishment; one course is one intervention delivered, counted at its start
/// (docs/kpis.md 1.3).
pub fn kpi_1_3(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = dated_items(cut, period, |k| match k {
        EventKind::InterventionUpdated(u)
            if u.intervention == "brief-advice" && u.status == InterventionStatus::Started =>
        {
            Some(u.on)
        }
        _ => None,
    });
    counted(
        "1.3",
        "Number of advice, information or brief interventions delivered",
        Measure::Events,
        items,
    )
}

/// KPI 1.4: "Number of comprehensive substance misuse assessments completed" — each
/// `assessment_completed` with `kind: comprehensive`, by `assessed_on` (docs/kpis.md
/// 1.4).
pub fn kpi_1_4(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = dated_items(cut, period, |k| match k {
        EventKind::AssessmentCompleted(a) if a.kind == AssessmentKind::Comprehensive => {
            Some(a.assessed_on)
        }
        _ => None,
    });
    counted(
        "1.4",
        "Number of comprehensive substance misuse assessments completed",
        Measure::Events,
        items,
    )
}

/// KPI 1.5: "Number of clients referred for clinical assessment" — people with a
/// `clinical_event_recorded` with step `clinical_referral`, by the local date of `at`
/// (not referrals into the service, nor ICATS onward referrals) (docs/kpis.md 1.5).
pub fn kpi_1_5(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = clinical_items(cut, period, |s| matches!(s, ClinicalStep::ClinicalReferral));
    counted(
        "1.5",
        "Number of clients referred for clinical assessment",
        Measure::People,
        items,
    )
}

/// KPI 1.6: "Number of clinical assessments completed" — each
/// `clinical_event_recorded` with step `clinical_assessment`, by the local date of
/// `at` (docs/kpis.md 1.6).
pub fn kpi_1_6(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = clinical_items(cut, period, |s| {
        matches!(s, ClinicalStep::ClinicalAssessment)
    });
    counted(
        "1.6",
        "Number of clinical assessments completed",
        Measure::Events,
        items,
    )
}

/// D5: the end of a first-night need's window: 00:00 local time two days after the
/// need's local date (the first night and the whole of the following day).
fn first_night_window_ends(need_at: DateTime<Utc>) -> DateTime<Utc> {
    let day = local_date(need_at);
    let after = day.checked_add_days(Days::new(2)).unwrap_or(day);
    local_instant(after, NaiveTime::MIN)
}

/// D5: the people with a first-night need dated in the period (the local date of its
/// `at`) whose first-night window holds a clinical step that `answers` selects: one
/// item per such need, at the need's establishment and dated on the need's date, even
/// when the answering step falls after the period (docs/kpis.md 1.7–1.11).
fn first_night_items(
    cut: &Cut<'_>,
    period: &Period,
    answers: impl Fn(&ClinicalStep) -> bool,
) -> Vec<Item> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        let clinical: Vec<(&RecordedEvent, &crate::clinical::ClinicalEvent)> = p
            .of(|k| match k {
                EventKind::ClinicalEventRecorded(c) => Some(c),
                _ => None,
            })
            .collect();
        for (need, n) in clinical
            .iter()
            .filter(|(_, c)| matches!(c.step, ClinicalStep::FirstNightNeed))
        {
            let on = local_date(n.at);
            let ends = first_night_window_ends(n.at);
            let answered = clinical
                .iter()
                .any(|(_, c)| answers(&c.step) && n.at <= c.at && c.at < ends);
            if period.contains(on) && answered {
                items.push(Item::event(&need.establishment, p.person, need.id, on));
            }
        }
    }
    items
}

/// KPI 1.7: "Number of clients requiring a prescription on first night" — people with
/// a first-night need (D5) dated in the period, at the need's establishment
/// (docs/kpis.md 1.7).
pub fn kpi_1_7(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = clinical_items(cut, period, |s| matches!(s, ClinicalStep::FirstNightNeed));
    counted(
        "1.7",
        "Number of clients requiring a prescription on first night",
        Measure::People,
        items,
    )
}

/// KPI 1.8: "Number of clients requiring prescription being seen by a Doctor on first
/// night" — the people of 1.7 with a `seen_by_doctor` in the first-night window (D5:
/// the night and the following day) of one of their needs dated in the period, at the
/// need's establishment and in the need's period (docs/kpis.md 1.8).
pub fn kpi_1_8(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = first_night_items(cut, period, |s| matches!(s, ClinicalStep::SeenByDoctor));
    counted(
        "1.8",
        "Number of clients requiring prescription being seen by a Doctor on first night",
        Measure::People,
        items,
    )
}

/// KPI 1.9: "Number of clients starting first night prescribing (methadone)" — people
/// with a `prescribing_started` with `medication: methadone` in the first-night window
/// (D5) of one of their needs dated in the period (docs/kpis.md 1.9).
pub fn kpi_1_9(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = first_night_items(cut, period, |s| {
        matches!(
            s,
            ClinicalStep::PrescribingStarted {
                medication: Medication::Methadone
            }
        )
    });
    counted(
        "1.9",
        "Number of clients starting first night prescribing (methadone)",
        Measure::People,
        items,
    )
}

/// KPI 1.10: "Number of clients starting first night prescribing (buprenorphine)" —
/// as 1.9, with `medication: buprenorphine` (docs/kpis.md 1.10).
pub fn kpi_1_10(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = first_night_items(cut, period, |s| {
        matches!(
            s,
            ClinicalStep::PrescribingStarted {
                medication: Medication::Buprenorphine
            }
        )
    });
    counted(
        "1.10",
        "Number of clients starting first night prescribing (buprenorphine)",
        Measure::People,
        items,
    )
}

/// KPI 1.11: "Number of clients starting first night benzodiazapine detox" — as 1.9,
/// with the step `benzodiazepine_detox_started` (docs/kpis.md 1.11).
pub fn kpi_1_11(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = first_night_items(cut, period, |s| {
        matches!(s, ClinicalStep::BenzodiazepineDetoxStarted)
    });
    counted(
        "1.11",
        "Number of clients starting first night benzodiazapine detox",
        Measure::People,
        items,
    )
}

/// The people with a course (D6) of a catalogue code targeting `target` in receipt
/// during the period, by held attribution (D2) on the days of the span within the
/// period (docs/kpis.md 1.12–1.13).
fn in_receipt(cut: &Cut<'_>, period: &Period, target: InterventionTarget) -> Vec<Item> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        let custody = Custody::of(p);
        for span in course_spans(p) {
            if span.course.target != target || cut.profile.intervention(span.course.code).is_none()
            {
                continue;
            }
            if let Some((first, last)) = span.days_in(period) {
                items.extend(held_items(p, &custody, first, last, span.started));
            }
        }
    }
    items
}

/// KPI 1.12: "Poly-substance (including crack) intervention" — read as "Number of
/// clients receiving a poly-substance (including crack) intervention": people with a
/// course (D6) of any catalogue code with `target: poly_substance` in receipt during
/// the period, at each establishment that held them (D2) on a day of it
/// (docs/kpis.md 1.12).
pub fn kpi_1_12(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    counted(
        "1.12",
        "Poly-substance (including crack) intervention",
        Measure::People,
        in_receipt(cut, period, InterventionTarget::PolySubstance),
    )
}

/// KPI 1.13: "Number of clients receiving crack only intervention" — as 1.12, with
/// `target: crack_only`: in receipt at any time in the period (D6), by held
/// attribution (D2) (docs/kpis.md 1.13).
pub fn kpi_1_13(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    counted(
        "1.13",
        "Number of clients receiving crack only intervention",
        Measure::People,
        in_receipt(cut, period, InterventionTarget::CrackOnly),
    )
}

/// KPI 1.14: "Number of clients starting alcohol detoxification" — people with a
/// `detox_started` with `substance: alcohol`, of either `scope`, by the local date of
/// `at` (docs/kpis.md 1.14).
pub fn kpi_1_14(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = clinical_items(cut, period, |s| {
        matches!(
            s,
            ClinicalStep::DetoxStarted {
                substance: DetoxSubstance::Alcohol,
                ..
            }
        )
    });
    counted(
        "1.14",
        "Number of clients starting alcohol detoxification",
        Measure::People,
        items,
    )
}

/// KPI 1.15: "Number of clients starting opiate detoxification" — as 1.14, with
/// `substance: opiates` (docs/kpis.md 1.15).
pub fn kpi_1_15(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = clinical_items(cut, period, |s| {
        matches!(
            s,
            ClinicalStep::DetoxStarted {
                substance: DetoxSubstance::Opiates,
                ..
            }
        )
    });
    counted(
        "1.15",
        "Number of clients starting opiate detoxification",
        Measure::People,
        items,
    )
}

/// KPI 1.16: "Number completing opiate detoxification" — people with a
/// `detox_completed` with `substance: opiates`, of either `scope`, by the local date
/// of `at` (docs/kpis.md 1.16).
pub fn kpi_1_16(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = clinical_items(cut, period, |s| {
        matches!(
            s,
            ClinicalStep::DetoxCompleted {
                substance: DetoxSubstance::Opiates,
                ..
            }
        )
    });
    counted(
        "1.16",
        "Number completing opiate detoxification",
        Measure::People,
        items,
    )
}

/// The people whose prescribing status (D7) is one that `want` selects at any time in
/// the period, by held attribution (D2) on the days the status holds (docs/kpis.md
/// 1.17–1.18).
fn on_status(cut: &Cut<'_>, period: &Period, want: impl Fn(Prescribing) -> bool) -> Vec<Item> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        let custody = Custody::of(p);
        for span in prescribing_spans(p) {
            if want(span.status)
                && let Some((first, last)) = span.days_in(period)
            {
                items.extend(held_items(p, &custody, first, last, span.set_by));
            }
        }
    }
    items
}

/// KPI 1.17: "Number of clients requiring maintenance prescribing" — people whose
/// prescribing status (D7) is *maintenance* at any time in the period ("requiring" read
/// as being on maintenance), by held attribution (D2) (docs/kpis.md 1.17).
pub fn kpi_1_17(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    counted(
        "1.17",
        "Number of clients requiring maintenance prescribing",
        Measure::People,
        on_status(cut, period, |s| s == Prescribing::Maintenance),
    )
}

/// KPI 1.18: "Number of clients stabilising/reducing" — people whose prescribing
/// status (D7) is *stabilising* or *reducing* at any time in the period, by held
/// attribution (D2); status *prescribed* alone is in neither 1.17 nor 1.18
/// (docs/kpis.md 1.18).
pub fn kpi_1_18(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    counted(
        "1.18",
        "Number of clients stabilising/reducing",
        Measure::People,
        on_status(cut, period, |s| {
            matches!(s, Prescribing::Stabilising | Prescribing::Reducing)
        }),
    )
}

/// KPI 1.19: "Number dropped out from prescribing intervention" — people with a
/// `dropped_out_of_prescribing`, by the local date of `at` (docs/kpis.md 1.19).
pub fn kpi_1_19(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = clinical_items(cut, period, |s| {
        matches!(s, ClinicalStep::DroppedOutOfPrescribing)
    });
    counted(
        "1.19",
        "Number dropped out from prescribing intervention",
        Measure::People,
        items,
    )
}

/// KPI 1.20: "Number completing alcohol-only detoxification" — people with a
/// `detox_completed` with `substance: alcohol` and `scope: single_substance`, by the
/// local date of `at` (docs/kpis.md 1.20).
pub fn kpi_1_20(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = clinical_items(cut, period, |s| {
        matches!(
            s,
            ClinicalStep::DetoxCompleted {
                substance: DetoxSubstance::Alcohol,
                scope: DetoxScope::SingleSubstance,
            }
        )
    });
    counted(
        "1.20",
        "Number completing alcohol-only detoxification",
        Measure::People,
        items,
    )
}

/// KPI 1.21: "Number completing alcohol detoxification (poly-substance)" — as 1.20,
/// with `scope: poly_substance` (docs/kpis.md 1.21).
pub fn kpi_1_21(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = clinical_items(cut, period, |s| {
        matches!(
            s,
            ClinicalStep::DetoxCompleted {
                substance: DetoxSubstance::Alcohol,
                scope: DetoxScope::PolySubstance,
            }
        )
    });
    counted(
        "1.21",
        "Number completing alcohol detoxification (poly-substance)",
        Measure::People,
        items,
    )
}

/// The 1-to-1 keyworking sessions in the period (docs/kpis.md 1.22): each
/// `session_attended` of kind `keyworking`, or of kind `course` naming a course whose
/// intervention is `keyworking`, by `on`, at the event's establishment.
fn keyworking_sessions(cut: &Cut<'_>, period: &Period) -> Vec<Item> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        let codes = course_codes(p);
        for (e, s) in p.of(|k| match k {
            EventKind::SessionAttended(s) => Some(s),
            _ => None,
        }) {
            let keyworking = match &s.session {
                SessionKind::Keyworking => true,
                SessionKind::Course { course } => {
                    codes.get(&p.case.identity(*course)) == Some(&"keyworking")
                }
                _ => false,
            };
            if keyworking && period.contains(s.on) {
                items.push(Item::event(&e.establishment, p.person, e.id, s.on));
            }
        }
    }
    items
}

/// KPI 1.22: "Number of 1 to 1 keyworking sessions delivered" — each
/// `session_attended` that is a keyworking session (kind `keyworking`, or a session of
/// a `keyworking` course), by `on`; appointments without a session and group sessions
/// do not count (docs/kpis.md 1.22).
pub fn kpi_1_22(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    counted(
        "1.22",
        "Number of 1 to 1 keyworking sessions delivered",
        Measure::Events,
        keyworking_sessions(cut, period),
    )
}

/// KPI 1.23: "Number of individuals receiving 1 to 1 keyworking" — people with at
/// least one session that 1.22 counts in the period (docs/kpis.md 1.23).
pub fn kpi_1_23(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    counted(
        "1.23",
        "Number of individuals receiving 1 to 1 keyworking",
        Measure::People,
        keyworking_sessions(cut, period),
    )
}

/// KPI 1.24: "Number of Groupwork sessions delivered" — the distinct `session.session`
/// ids among the `session_attended` events with `session.kind: group`; a session
/// counts once, on the date and at the establishment of its earliest attendee event by
/// (`occurred_at`, `seq`), and not at all when every attendee's event is in error;
/// programme sessions belong to 1.27 (docs/kpis.md 1.24).
pub fn kpi_1_24(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut earliest: BTreeMap<uuid::Uuid, (&RecordedEvent, &PersonRecord, chrono::NaiveDate)> =
        BTreeMap::new();
    for p in cut.people.values() {
        for (e, (session, on)) in p.of(|k| match k {
            EventKind::SessionAttended(s) => match &s.session {
                SessionKind::Group { session, .. } => Some((*session, s.on)),
                _ => None,
            },
            _ => None,
        }) {
            let first = earliest.entry(session).or_insert((e, p, on));
            if (e.occurred_at, e.seq) < (first.0.occurred_at, first.0.seq) {
                *first = (e, p, on);
            }
        }
    }
    let items = earliest
        .into_values()
        .filter(|(_, _, on)| period.contains(*on))
        .map(|(e, p, on)| Item::event(&e.establishment, p.person, e.id, on))
        .collect();
    counted(
        "1.24",
        "Number of Groupwork sessions delivered",
        Measure::Events,
        items,
    )
}

/// KPI 1.25: "Number of individuals attending group work sessions" — people with at
/// least one `session_attended` with `session.kind: group` in the period, by `on`
/// (docs/kpis.md 1.25).
pub fn kpi_1_25(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = dated_items(cut, period, |k| match k {
        EventKind::SessionAttended(s) if matches!(s.session, SessionKind::Group { .. }) => {
            Some(s.on)
        }
        _ => None,
    });
    counted(
        "1.25",
        "Number of individuals attending group work sessions",
        Measure::People,
        items,
    )
}

/// KPI 1.26: "1.26." — the line has no text in the specification, so the return
/// reports nothing for it (docs/kpis.md 1.26, §5).
pub fn kpi_1_26(_: &Cut<'_>, _: &Period) -> Vec<LineFigure> {
    vec![LineFigure::new("1.26", "", "", Figure::NotDefined)]
}

/// The programme codes of the profile's catalogue (D1), in catalogue order.
fn programme_codes<'a>(cut: &'a Cut<'_>) -> impl Iterator<Item = &'a str> + 'a {
    cut.profile
        .interventions
        .iter()
        .filter(|d| is_programme(cut.profile, &d.code))
        .map(|d| d.code.as_str())
}

/// A "(by programme type)" line: a total row over every programme (a person counts
/// once), then one sub-row per programme code (D1), coded `<line> <programme code>`
/// (docs/kpis.md §3, "Rehabilitation Programmes").
fn by_programme(
    cut: &Cut<'_>,
    code: &str,
    label: &str,
    items: Vec<(String, Item)>,
) -> Vec<LineFigure> {
    let mut out = counted(
        code,
        label,
        Measure::People,
        items.iter().map(|(_, i)| i.clone()).collect(),
    );
    for programme in programme_codes(cut) {
        let mine = items
            .iter()
            .filter(|(c, _)| c == programme)
            .map(|(_, i)| i.clone())
            .collect();
        out.extend(counted(
            &format!("{code} {programme}"),
            label,
            Measure::People,
            mine,
        ));
    }
    out
}

/// KPI 1.27: "Number of programme sessions delivered (by programme type)" — not
/// reported: a programme session is recorded per attendee, with no identity shared by
/// the people at one session, so the sessions delivered cannot be told from the
/// attendances (docs/kpis.md 1.27, §7 item 1). The total row and each programme's
/// sub-row report nothing.
pub fn kpi_1_27(cut: &Cut<'_>, _: &Period) -> Vec<LineFigure> {
    let label = "Number of programme sessions delivered (by programme type)";
    std::iter::once("1.27".to_string())
        .chain(programme_codes(cut).map(|c| format!("1.27 {c}")))
        .map(|code| {
            LineFigure::new(
                &code,
                label,
                "events",
                Figure::NotRecorded {
                    reason: "programme sessions carry no shared session id yet".into(),
                },
            )
        })
        .collect()
}

/// KPI 1.28: "Number of individuals attending programmes (by programme type)" — people
/// with a `session_attended` of kind `course` naming a course whose intervention is a
/// programme code (D1), by `on`; enrolment alone does not count (docs/kpis.md 1.28).
pub fn kpi_1_28(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        let codes = course_codes(p);
        for (e, s) in p.of(|k| match k {
            EventKind::SessionAttended(s) => Some(s),
            _ => None,
        }) {
            if let SessionKind::Course { course } = &s.session
                && let Some(code) = codes.get(&p.case.identity(*course))
                && is_programme(cut.profile, code)
                && period.contains(s.on)
            {
                items.push((
                    code.to_string(),
                    Item::event(&e.establishment, p.person, e.id, s.on),
                ));
            }
        }
    }
    by_programme(
        cut,
        "1.28",
        "Number of individuals attending programmes (by programme type)",
        items,
    )
}

/// The people with an `intervention_updated` of status `status` on a course of a
/// programme code (D1), by the step's `on`, at the step's establishment, each with
/// the programme's code (docs/kpis.md 1.29–1.30).
fn programme_steps(
    cut: &Cut<'_>,
    period: &Period,
    status: InterventionStatus,
) -> Vec<(String, Item)> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        let codes = course_codes(p);
        for (e, u) in p.of(|k| match k {
            EventKind::InterventionUpdated(u) => Some(u),
            _ => None,
        }) {
            let code = u
                .course
                .and_then(|c| codes.get(&p.case.identity(c)).copied())
                .unwrap_or(&u.intervention);
            if u.status == status && is_programme(cut.profile, code) && period.contains(u.on) {
                items.push((
                    code.to_string(),
                    Item::event(&e.establishment, p.person, e.id, u.on),
                ));
            }
        }
    }
    items
}

/// KPI 1.29: "Number of individuals completing programme successfully (by programme
/// type)" — people with an `intervention_updated` with `status: completed` on a course
/// of a programme code (D1), by the step's `on`, at the step's establishment; the
/// domain records only `completed`, so that counts as successful (docs/kpis.md 1.29).
pub fn kpi_1_29(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    by_programme(
        cut,
        "1.29",
        "Number of individuals completing programme successfully (by programme type)",
        programme_steps(cut, period, InterventionStatus::Completed),
    )
}

/// KPI 1.30: "Number of individuals dropping out of programmes (by programme type)" —
/// as 1.29, with `status: dropped_out` (docs/kpis.md 1.30).
pub fn kpi_1_30(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    by_programme(
        cut,
        "1.30",
        "Number of individuals dropping out of programmes (by programme type)",
        programme_steps(cut, period, InterventionStatus::DroppedOut),
    )
}

/// KPI 1.31: "Number of individuals engaged with peer recovery networks" — people with
/// a `session_attended` of kind `mutual_aid`, of any `aid`, by `on`; a mutual-aid or
/// peer-recovery course with no meeting attended does not count (docs/kpis.md 1.31).
pub fn kpi_1_31(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = dated_items(cut, period, |k| match k {
        EventKind::SessionAttended(s) if matches!(s.session, SessionKind::MutualAid { .. }) => {
            Some(s.on)
        }
        _ => None,
    });
    counted(
        "1.31",
        "Number of individuals engaged with peer recovery networks",
        Measure::People,
        items,
    )
}

/// KPI 1.32: "Number of individuals receiving post-treatment support and advice" —
/// people with a `contact_recorded` with `purpose: post_treatment_support` and
/// `outcome` `reached` or `re_engaged`, by `on` (docs/kpis.md 1.32).
pub fn kpi_1_32(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = dated_items(cut, period, |k| match k {
        EventKind::ContactRecorded(c)
            if c.purpose == ContactPurpose::PostTreatmentSupport
                && matches!(
                    c.outcome,
                    ContactOutcome::Reached | ContactOutcome::ReEngaged
                ) =>
        {
            Some(c.on)
        }
        _ => None,
    });
    counted(
        "1.32",
        "Number of individuals receiving post-treatment support and advice",
        Measure::People,
        items,
    )
}

#[cfg(test)]
mod tests {
    use crate::assessment::{
        Assessment, AssessmentKind, ComprehensiveItems, FamilyIssues, RiskLevel,
    };
    use crate::clinical::{ClinicalEvent, ClinicalStep, DetoxScope, DetoxSubstance, Medication};
    use crate::custody::{Release, ReleaseKind, Transfer};
    use crate::decide::Command;
    use crate::events::EventKind;
    use crate::interventions::{
        InterventionStatus, InterventionTarget, InterventionUpdate, MutualAidKind, SessionAttended,
        SessionKind,
    };
    use crate::record_ids::{EventId, PersonId};
    use crate::referrals::{
        AppointmentOffer, AppointmentOutcome, AppointmentOutcomeKind, OnwardReferral, OnwardService,
    };
    use crate::release::{
        Contact, ContactOutcome, ContactPurpose, Death, DeathCause, ExitReason, TreatmentExit,
    };
    use crate::returns::figure::{RowKey, Value};
    use crate::returns::testkit::{count, km, row, value};
    use crate::screening::{InjectingStatus, Screening, ScreeningSetting};
    use crate::testkit::{Log, at, code, d, local};
    use chrono::{DateTime, Utc};

    // -----------------------------------------------------------------------
    // Builders. Every log below is built by hand in the third quarter of 2026
    // (1 July – 30 September, British Summer Time throughout). People are received
    // on 1 April 2026; movements are stamped when they happen; every other fact is
    // appended on 5 October (`NOW`), and every return is as at 6 October (`AS_AT`).
    // -----------------------------------------------------------------------

    const NOW: &str = "2026-10-05T10:00:00Z";
    const AS_AT: &str = "2026-10-06T09:00:00Z";

    /// A log whose "now" is `NOW`.
    fn log() -> Log {
        let mut log = Log::new();
        log.now = at(NOW);
        log
    }

    /// A synthetic prison number for the nth person of a test.
    fn number(n: usize) -> String {
        format!("A{n:04}BC")
    }

    /// Registers the nth person and receives them at `est` on 1 April 2026.
    fn prisoner(log: &mut Log, n: usize, est: &str) -> PersonId {
        log.now = at("2026-04-01T09:00:00Z");
        log.establishment = code(est);
        let p = log.prisoner(&number(n));
        log.now = at(NOW);
        p
    }

    /// Registers the nth person at `est` on 1 April 2026 without receiving them: no
    /// custody movement covers any of their days.
    fn registered(log: &mut Log, n: usize, est: &str) -> PersonId {
        log.now = at("2026-04-01T09:00:00Z");
        log.establishment = code(est);
        let p = log.person(&number(n));
        log.now = at(NOW);
        p
    }

    /// A transfer recorded by the receiving establishment at instant `when`.
    fn transfer(log: &mut Log, p: PersonId, from: &str, to: &str, when: &str) {
        log.now = at(when);
        log.establishment = code(to);
        log.record(
            p,
            EventKind::Transferred(Transfer {
                from: code(from),
                to: code(to),
                source_ref: None,
                break_glass: None,
            }),
        )
        .unwrap();
        log.now = at(NOW);
    }

    /// A release into the community from `est` at instant `when`.
    fn release(log: &mut Log, p: PersonId, est: &str, when: &str) {
        log.now = at(when);
        log.establishment = code(est);
        log.record(
            p,
            EventKind::Released(Release {
                kind: ReleaseKind::Released,
                source_ref: None,
            }),
        )
        .unwrap();
        log.now = at(NOW);
    }

    /// Records `kind` for `p` at establishment `est`; returns the fact's event.
    fn rec(log: &mut Log, p: PersonId, est: &str, kind: EventKind) -> EventId {
        log.establishment = code(est);
        log.record(p, kind).unwrap()[0]
    }

    /// Marks an event entered in error.
    fn wrong(log: &mut Log, p: PersonId, target: EventId) {
        log.try_command(
            p,
            Command::EnterInError {
                target,
                reason: "Recorded for the wrong person".into(),
            },
        )
        .unwrap();
    }

    /// Corrects an event; the original is superseded.
    fn correct(log: &mut Log, p: PersonId, target: EventId, kind: EventKind) {
        log.try_command(
            p,
            Command::Correct {
                target,
                reason: "Wrong date".into(),
                kind,
            },
        )
        .unwrap();
    }

    fn clinical(step: ClinicalStep, when: DateTime<Utc>) -> EventKind {
        EventKind::ClinicalEventRecorded(ClinicalEvent {
            step,
            at: when,
            note: None,
        })
    }

    fn step(
        intervention: &str,
        target: InterventionTarget,
        status: InterventionStatus,
        on: &str,
        course: Option<EventId>,
    ) -> EventKind {
        EventKind::InterventionUpdated(InterventionUpdate {
            intervention: intervention.into(),
            target,
            status,
            on: d(on),
            course,
            language: None,
            note: None,
        })
    }

    /// The first step of a course, started directly.
    fn start(intervention: &str, target: InterventionTarget, on: &str) -> EventKind {
        step(intervention, target, InterventionStatus::Started, on, None)
    }

    fn session(session: SessionKind, on: &str) -> EventKind {
        EventKind::SessionAttended(SessionAttended {
            session,
            on: d(on),
            minutes: Some(60),
            summary: "Worked through the plan".into(),
            appointment: None,
        })
    }

    fn group(n: u64) -> SessionKind {
        SessionKind::Group {
            session: uuid::Uuid::from_u64_pair(77, n),
            topic: "Relapse prevention".into(),
        }
    }

    fn course(id: EventId) -> SessionKind {
        SessionKind::Course { course: id }
    }

    fn detox_started(substance: DetoxSubstance, scope: DetoxScope) -> ClinicalStep {
        ClinicalStep::DetoxStarted { substance, scope }
    }

    fn detox_completed(substance: DetoxSubstance, scope: DetoxScope) -> ClinicalStep {
        ClinicalStep::DetoxCompleted { substance, scope }
    }

    fn all() -> RowKey {
        RowKey::All
    }

    fn screening(on: &str, setting: ScreeningSetting) -> EventKind {
        EventKind::ScreeningCompleted(Screening {
            setting,
            screened_on: d(on),
            audit: None,
            audit_c: None,
            problem_substances: vec![],
            injecting: InjectingStatus::Never,
            offending_linked: false,
            structured_treatment_needed: false,
        })
    }

    #[test]
    fn screenings_at_reception_and_in_total_by_establishment_and_quarter() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        // MDI: two at reception and one on referral in Q3 2026; one at reception in Q2.
        let a = log.prisoner("A1111AA");
        log.record(a, screening("2026-07-01", ScreeningSetting::Reception))
            .unwrap();
        log.record(a, screening("2026-09-30", ScreeningSetting::OnReferral))
            .unwrap();
        log.record(a, screening("2026-06-30", ScreeningSetting::Reception))
            .unwrap();
        let b = log.prisoner("A2222BB");
        log.record(b, screening("2026-08-12", ScreeningSetting::Reception))
            .unwrap();
        // EYI: one at reception in Q3.
        log.establishment = code("EYI");
        let c = log.prisoner("A3333CC");
        log.record(c, screening("2026-09-01", ScreeningSetting::Reception))
            .unwrap();

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        assert_eq!(count(&r, "1.1", &row("MDI")), 2);
        assert_eq!(count(&r, "1.2", &row("MDI")), 3);
        assert_eq!(count(&r, "1.1", &row("EYI")), 1);
        assert_eq!(count(&r, "1.1", &RowKey::All), 3);
        assert_eq!(count(&r, "1.2", &RowKey::All), 4);
        assert_eq!(count(&r, "1.1", &row("DVI")), 0);
    }

    #[test]
    fn a_correction_after_the_as_at_instant_leaves_that_return_unchanged() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        let a = log.prisoner("A1111AA");
        let ids = log
            .record(a, screening("2026-07-01", ScreeningSetting::Reception))
            .unwrap();
        let as_at = "2026-10-06T09:00:00Z";
        let before = km(&log, "2026Q3", as_at);
        // On 7 October the screening is corrected: it was on referral.
        log.now = at("2026-10-07T10:00:00Z");
        log.try_command(
            a,
            Command::Correct {
                target: ids[0],
                reason: "Screened after a referral, not at reception".into(),
                kind: screening("2026-07-01", ScreeningSetting::OnReferral),
            },
        )
        .unwrap();
        let again = km(&log, "2026Q3", as_at);
        assert_eq!(before, again, "the same return, byte for byte");
        assert_eq!(count(&again, "1.1", &row("MDI")), 1);
        let now = km(&log, "2026Q3", "2026-10-08T09:00:00Z");
        assert_eq!(count(&now, "1.1", &row("MDI")), 0);
        assert_eq!(count(&now, "1.2", &row("MDI")), 1);
    }

    // -----------------------------------------------------------------------
    // 1.3–1.4: brief interventions and comprehensive assessments (events)
    // -----------------------------------------------------------------------

    #[test]
    fn kpi_1_3_counts_each_brief_advice_course_once_at_its_start() {
        use InterventionStatus::*;
        let t = InterventionTarget::Alcohol;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "EYI");
        let c = prisoner(&mut log, 3, "MDI");
        // a at MDI: started on 3 July (counts); its completion on 10 July does not.
        let first = rec(&mut log, a, "MDI", start("brief-advice", t, "2026-07-03"));
        rec(
            &mut log,
            a,
            "MDI",
            step("brief-advice", t, Completed, "2026-07-10", Some(first)),
        );
        // a at MDI: offered on 1 August (no), started on 2 August (counts).
        let offer = rec(
            &mut log,
            a,
            "MDI",
            step("brief-advice", t, Offered, "2026-08-01", None),
        );
        rec(
            &mut log,
            a,
            "MDI",
            step("brief-advice", t, Started, "2026-08-02", Some(offer)),
        );
        // b at EYI: offered and declined (no); started on 30 June (Q2: no); relapse
        // prevention started (another KM 3.9 intervention: no); started on 30 September
        // (counts).
        let offer = rec(
            &mut log,
            b,
            "EYI",
            step("brief-advice", t, Offered, "2026-08-05", None),
        );
        rec(
            &mut log,
            b,
            "EYI",
            step("brief-advice", t, Declined, "2026-08-06", Some(offer)),
        );
        rec(&mut log, b, "EYI", start("brief-advice", t, "2026-06-30"));
        rec(
            &mut log,
            b,
            "EYI",
            start("relapse-prevention", t, "2026-07-15"),
        );
        rec(&mut log, b, "EYI", start("brief-advice", t, "2026-09-30"));
        // c at MDI: a start on 20 July corrected to 29 June (the original is superseded,
        // the correction is in Q2), and a start on 20 August entered in error.
        let superseded = rec(&mut log, c, "MDI", start("brief-advice", t, "2026-07-20"));
        correct(
            &mut log,
            c,
            superseded,
            start("brief-advice", t, "2026-06-29"),
        );
        let mistaken = rec(&mut log, c, "MDI", start("brief-advice", t, "2026-08-20"));
        wrong(&mut log, c, mistaken);

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a's starts on 3 July and 2 August = 2. EYI: b's on 30 September = 1.
        // All (events): 2 + 1 = 3.
        assert_eq!(count(&r, "1.3", &row("MDI")), 2);
        assert_eq!(count(&r, "1.3", &row("EYI")), 1);
        assert_eq!(count(&r, "1.3", &all()), 3);
        // Q2: b's start on 30 June and c's corrected start on 29 June = 2 (MDI 1, EYI 1).
        let q2 = km(&log, "2026Q2", AS_AT);
        assert_eq!(count(&q2, "1.3", &row("MDI")), 1);
        assert_eq!(count(&q2, "1.3", &all()), 2);
    }

    fn comprehensive(on: &str) -> EventKind {
        EventKind::AssessmentCompleted(Assessment {
            kind: AssessmentKind::Comprehensive,
            assessed_on: d(on),
            referral: None,
            summary: "Comprehensive assessment".into(),
            structured_treatment_needed: true,
            comprehensive: Some(ComprehensiveItems {
                needs_and_goals: "Stay off heroin; somewhere to live on release".into(),
                family: FamilyIssues::default(),
                other_agencies: vec![],
                onward_referrals: vec![],
                information_handling_explained: true,
                ndtms_consent: true,
                risk_of_self_harm: RiskLevel::Low,
                risk_to_others: RiskLevel::None,
                existing_risk_management_plans: false,
                risk_management_plan: "None needed".into(),
                complex_needs: false,
            }),
        })
    }

    fn initial(on: &str) -> EventKind {
        EventKind::AssessmentCompleted(Assessment {
            kind: AssessmentKind::Initial,
            assessed_on: d(on),
            referral: None,
            summary: "Triage".into(),
            structured_treatment_needed: true,
            comprehensive: None,
        })
    }

    #[test]
    fn kpi_1_4_counts_comprehensive_assessments_only() {
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "EYI");
        let c = prisoner(&mut log, 3, "MDI");
        // a at MDI: comprehensive on 10 July (counts), initial on 12 July (no),
        // comprehensive on 1 October (Q4: no).
        rec(&mut log, a, "MDI", comprehensive("2026-07-10"));
        rec(&mut log, a, "MDI", initial("2026-07-12"));
        rec(&mut log, a, "MDI", comprehensive("2026-10-01"));
        // b at EYI: two comprehensive assessments in Q3 (both count: events).
        rec(&mut log, b, "EYI", comprehensive("2026-09-01"));
        rec(&mut log, b, "EYI", comprehensive("2026-09-20"));
        // c at MDI: one entered in error (no).
        let mistaken = rec(&mut log, c, "MDI", comprehensive("2026-08-01"));
        wrong(&mut log, c, mistaken);

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a's 10 July = 1. EYI: b's two = 2. All: 1 + 2 = 3.
        assert_eq!(count(&r, "1.4", &row("MDI")), 1);
        assert_eq!(count(&r, "1.4", &row("EYI")), 2);
        assert_eq!(count(&r, "1.4", &all()), 3);
    }

    // -----------------------------------------------------------------------
    // 1.5–1.11: clinical referrals, assessments and the first night
    // -----------------------------------------------------------------------

    #[test]
    fn kpi_1_5_counts_people_referred_on_the_clinical_pathway() {
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "MDI");
        let e = prisoner(&mut log, 4, "MDI");
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        // a: two clinical referrals at MDI (counts once there), one at EYI after the
        // transfer (counts there too).
        let referral = |when: &str| clinical(ClinicalStep::ClinicalReferral, local(when));
        rec(&mut log, a, "MDI", referral("2026-07-02 10:00"));
        rec(&mut log, a, "MDI", referral("2026-08-10 10:00"));
        rec(&mut log, a, "EYI", referral("2026-09-01 10:00"));
        // b: a referral into the service and an ICATS onward referral (neither counts).
        log.refer(b, "2026-07-05");
        rec(
            &mut log,
            b,
            "MDI",
            EventKind::OnwardReferralMade(OnwardReferral {
                to: OnwardService::Icats,
                referred_on: d("2026-07-06"),
                reason: None,
            }),
        );
        // c: 23:30 UTC on 30 June is 00:30 on 1 July in London (counts in Q3).
        rec(
            &mut log,
            c,
            "MDI",
            clinical(ClinicalStep::ClinicalReferral, at("2026-06-30T23:30:00Z")),
        );
        // e: 23:30 UTC on 30 September is 1 October in London (Q4: no).
        rec(
            &mut log,
            e,
            "MDI",
            clinical(ClinicalStep::ClinicalReferral, at("2026-09-30T23:30:00Z")),
        );

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a, c = 2. EYI: a = 1. All: a, c = 2 (a once).
        assert_eq!(count(&r, "1.5", &row("MDI")), 2);
        assert_eq!(count(&r, "1.5", &row("EYI")), 1);
        assert_eq!(count(&r, "1.5", &all()), 2);
    }

    #[test]
    fn kpi_1_6_counts_clinical_assessments() {
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "EYI");
        let c = prisoner(&mut log, 3, "MDI");
        let assessment = |when: &str| clinical(ClinicalStep::ClinicalAssessment, local(when));
        // a at MDI: two assessments (2 events) and a clinical referral (another step).
        rec(&mut log, a, "MDI", assessment("2026-07-03 10:00"));
        rec(&mut log, a, "MDI", assessment("2026-09-03 10:00"));
        rec(
            &mut log,
            a,
            "MDI",
            clinical(ClinicalStep::ClinicalReferral, local("2026-07-02 10:00")),
        );
        // b at EYI: one in Q3, one on 30 June (Q2).
        rec(&mut log, b, "EYI", assessment("2026-08-03 10:00"));
        rec(&mut log, b, "EYI", assessment("2026-06-30 16:00"));
        // c at MDI: entered in error.
        let mistaken = rec(&mut log, c, "MDI", assessment("2026-08-04 10:00"));
        wrong(&mut log, c, mistaken);

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a's two = 2. EYI: b's August one = 1. All: 2 + 1 = 3.
        assert_eq!(count(&r, "1.6", &row("MDI")), 2);
        assert_eq!(count(&r, "1.6", &row("EYI")), 1);
        assert_eq!(count(&r, "1.6", &all()), 3);
    }

    fn need(when: &str) -> EventKind {
        clinical(ClinicalStep::FirstNightNeed, local(when))
    }

    #[test]
    fn kpi_1_7_counts_people_with_a_first_night_need_once_merged_records_as_one() {
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "SWI");
        let e = prisoner(&mut log, 4, "MDI");
        let x = prisoner(&mut log, 5, "RCI");
        let y = prisoner(&mut log, 6, "RCI");
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        // a: two needs at MDI (once there) and one at EYI after the transfer.
        rec(&mut log, a, "MDI", need("2026-07-05 10:00"));
        rec(&mut log, a, "MDI", need("2026-08-01 10:00"));
        rec(&mut log, a, "EYI", need("2026-09-10 10:00"));
        // b: a need at 20:00 on 30 June (Q2: no).
        rec(&mut log, b, "MDI", need("2026-06-30 20:00"));
        // c: a need entered in error (no).
        let mistaken = rec(&mut log, c, "SWI", need("2026-07-15 10:00"));
        wrong(&mut log, c, mistaken);
        // e: seen by a doctor with no need recorded (no).
        rec(
            &mut log,
            e,
            "MDI",
            clinical(ClinicalStep::SeenByDoctor, local("2026-07-15 10:00")),
        );
        // x and y at RCI, each with a need, appended in August; y is merged into x on
        // 1 September.
        log.now = at("2026-08-20T10:00:00Z");
        rec(&mut log, x, "RCI", need("2026-07-10 10:00"));
        rec(&mut log, y, "RCI", need("2026-08-10 10:00"));
        log.now = at("2026-09-01T10:00:00Z");
        log.merge(x, y).unwrap();

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a = 1. EYI: a = 1. SWI: 0. RCI: x (with y merged) = 1. All: a, x = 2.
        assert_eq!(count(&r, "1.7", &row("MDI")), 1);
        assert_eq!(count(&r, "1.7", &row("EYI")), 1);
        assert_eq!(count(&r, "1.7", &row("SWI")), 0);
        assert_eq!(count(&r, "1.7", &row("RCI")), 1);
        assert_eq!(count(&r, "1.7", &all()), 2);
        // As at 25 August, before the merge, x and y are two people at RCI.
        let before = km(&log, "2026Q3", "2026-08-25T09:00:00Z");
        assert_eq!(count(&before, "1.7", &row("RCI")), 2);
    }

    #[test]
    fn kpi_1_8_counts_a_doctor_seeing_the_person_by_the_end_of_the_next_day() {
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "EYI");
        let e = prisoner(&mut log, 4, "MDI");
        transfer(&mut log, a, "MDI", "EYI", "2026-09-01T08:00:00Z");
        let seen = |when: &str| clinical(ClinicalStep::SeenByDoctor, local(when));
        // a at MDI: need at 21:00 on 5 July, seen at 09:00 the next day (in the window,
        // which ends at 00:00 on 7 July); a second need on 2 August seen the same day
        // (a counts once at MDI). At EYI after the transfer: need and doctor on
        // 2 September (a counts at EYI too).
        rec(&mut log, a, "MDI", need("2026-07-05 21:00"));
        rec(&mut log, a, "MDI", seen("2026-07-06 09:00"));
        rec(&mut log, a, "MDI", need("2026-08-02 10:00"));
        rec(&mut log, a, "MDI", seen("2026-08-02 13:00"));
        rec(&mut log, a, "EYI", need("2026-09-02 10:00"));
        rec(&mut log, a, "EYI", seen("2026-09-02 11:00"));
        // b at MDI: need on 10 July, prescribed methadone that day without a doctor,
        // seen at 00:00 on 12 July, when the window has closed (no).
        rec(&mut log, b, "MDI", need("2026-07-10 10:00"));
        rec(
            &mut log,
            b,
            "MDI",
            clinical(
                ClinicalStep::PrescribingStarted {
                    medication: Medication::Methadone,
                },
                local("2026-07-10 11:00"),
            ),
        );
        rec(&mut log, b, "MDI", seen("2026-07-12 00:00"));
        // c at EYI: need at 23:00 on 30 September, seen on 1 October: counts in Q3, the
        // need's quarter.
        rec(&mut log, c, "EYI", need("2026-09-30 23:00"));
        rec(&mut log, c, "EYI", seen("2026-10-01 09:00"));
        // e at MDI: need on 30 June (Q2), seen on 1 July (no: the need is not in Q3).
        rec(&mut log, e, "MDI", need("2026-06-30 22:00"));
        rec(&mut log, e, "MDI", seen("2026-07-01 08:30"));

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a = 1. EYI: a, c = 2. All: a, c = 2.
        assert_eq!(count(&r, "1.8", &row("MDI")), 1);
        assert_eq!(count(&r, "1.8", &row("EYI")), 2);
        assert_eq!(count(&r, "1.8", &all()), 2);
        // e counts in Q2, where the need is.
        let q2 = km(&log, "2026Q2", AS_AT);
        assert_eq!(count(&q2, "1.8", &all()), 1);
    }

    fn prescribed(medication: Medication, when: &str) -> EventKind {
        clinical(ClinicalStep::PrescribingStarted { medication }, local(when))
    }

    #[test]
    fn kpi_1_9_counts_people_starting_methadone_in_a_first_night_window() {
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "MDI");
        let e = prisoner(&mut log, 4, "MDI");
        let f = prisoner(&mut log, 5, "EYI");
        transfer(&mut log, a, "MDI", "EYI", "2026-09-01T08:00:00Z");
        // a at MDI: need at 21:00 on 5 July, methadone at 10:00 on 6 July (counts); a
        // second need and methadone on 10 August (once). At EYI: need and methadone on
        // 3 September (a counts there too).
        rec(&mut log, a, "MDI", need("2026-07-05 21:00"));
        rec(
            &mut log,
            a,
            "MDI",
            prescribed(Medication::Methadone, "2026-07-06 10:00"),
        );
        rec(&mut log, a, "MDI", need("2026-08-10 10:00"));
        rec(
            &mut log,
            a,
            "MDI",
            prescribed(Medication::Methadone, "2026-08-10 11:00"),
        );
        rec(&mut log, a, "EYI", need("2026-09-03 10:00"));
        rec(
            &mut log,
            a,
            "EYI",
            prescribed(Medication::Methadone, "2026-09-03 12:00"),
        );
        // b: buprenorphine, not methadone (no).
        rec(&mut log, b, "MDI", need("2026-07-10 10:00"));
        rec(
            &mut log,
            b,
            "MDI",
            prescribed(Medication::Buprenorphine, "2026-07-10 12:00"),
        );
        // c: need on 20 July, methadone at 10:00 on 22 July, after the window (no).
        rec(&mut log, c, "MDI", need("2026-07-20 10:00"));
        rec(
            &mut log,
            c,
            "MDI",
            prescribed(Medication::Methadone, "2026-07-22 10:00"),
        );
        // e: methadone with no need (no).
        rec(
            &mut log,
            e,
            "MDI",
            prescribed(Medication::Methadone, "2026-08-01 10:00"),
        );
        // f at EYI: need at 22:30 on 30 September, methadone on 1 October (counts in Q3).
        rec(&mut log, f, "EYI", need("2026-09-30 22:30"));
        rec(
            &mut log,
            f,
            "EYI",
            prescribed(Medication::Methadone, "2026-10-01 09:00"),
        );

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a = 1. EYI: a, f = 2. All: a, f = 2.
        assert_eq!(count(&r, "1.9", &row("MDI")), 1);
        assert_eq!(count(&r, "1.9", &row("EYI")), 2);
        assert_eq!(count(&r, "1.9", &all()), 2);
    }

    #[test]
    fn kpi_1_10_counts_people_starting_buprenorphine_in_a_first_night_window() {
        let mut log = log();
        let b = prisoner(&mut log, 1, "MDI");
        let a = prisoner(&mut log, 2, "MDI");
        let g = prisoner(&mut log, 3, "SWI");
        let h = prisoner(&mut log, 4, "SWI");
        transfer(&mut log, b, "MDI", "CBI", "2026-09-01T08:00:00Z");
        // b at MDI: two needs each answered with buprenorphine (once); at CBI after the
        // transfer, another (b counts there too).
        rec(&mut log, b, "MDI", need("2026-07-10 10:00"));
        rec(
            &mut log,
            b,
            "MDI",
            prescribed(Medication::Buprenorphine, "2026-07-10 12:00"),
        );
        rec(&mut log, b, "MDI", need("2026-08-15 10:00"));
        rec(
            &mut log,
            b,
            "MDI",
            prescribed(Medication::Buprenorphine, "2026-08-15 12:00"),
        );
        rec(&mut log, b, "CBI", need("2026-09-05 10:00"));
        rec(
            &mut log,
            b,
            "CBI",
            prescribed(Medication::Buprenorphine, "2026-09-05 11:00"),
        );
        // a: methadone (no).
        rec(&mut log, a, "MDI", need("2026-07-05 10:00"));
        rec(
            &mut log,
            a,
            "MDI",
            prescribed(Medication::Methadone, "2026-07-05 11:00"),
        );
        // g: buprenorphine entered in error (no).
        rec(&mut log, g, "SWI", need("2026-07-15 10:00"));
        let mistaken = rec(
            &mut log,
            g,
            "SWI",
            prescribed(Medication::Buprenorphine, "2026-07-15 11:00"),
        );
        wrong(&mut log, g, mistaken);
        // h: need at 23:00 on 30 June (Q2), buprenorphine on 1 July (no).
        rec(&mut log, h, "SWI", need("2026-06-30 23:00"));
        rec(
            &mut log,
            h,
            "SWI",
            prescribed(Medication::Buprenorphine, "2026-07-01 09:00"),
        );

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: b = 1. CBI: b = 1. SWI: 0. All: b = 1.
        assert_eq!(count(&r, "1.10", &row("MDI")), 1);
        assert_eq!(count(&r, "1.10", &row("CBI")), 1);
        assert_eq!(count(&r, "1.10", &row("SWI")), 0);
        assert_eq!(count(&r, "1.10", &all()), 1);
    }

    #[test]
    fn kpi_1_11_counts_people_starting_a_benzodiazepine_detox_in_a_first_night_window() {
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "EYI");
        let e = prisoner(&mut log, 4, "EYI");
        let f = prisoner(&mut log, 5, "SWI");
        let benzo = |when: &str| clinical(ClinicalStep::BenzodiazepineDetoxStarted, local(when));
        // a at MDI: need on 5 July, benzodiazepine detox at 15:00 the next day (counts);
        // again on 20 August (once).
        rec(&mut log, a, "MDI", need("2026-07-05 10:00"));
        rec(&mut log, a, "MDI", benzo("2026-07-06 15:00"));
        rec(&mut log, a, "MDI", need("2026-08-20 10:00"));
        rec(&mut log, a, "MDI", benzo("2026-08-20 12:00"));
        // b: an opiate detox, not benzodiazepine (no).
        rec(&mut log, b, "MDI", need("2026-07-10 10:00"));
        rec(
            &mut log,
            b,
            "MDI",
            clinical(
                detox_started(DetoxSubstance::Opiates, DetoxScope::SingleSubstance),
                local("2026-07-10 12:00"),
            ),
        );
        // c: benzodiazepine detox with no need (no).
        rec(&mut log, c, "EYI", benzo("2026-07-10 12:00"));
        // e: need on 12 July, detox at 09:00 on 14 July, after the window (no).
        rec(&mut log, e, "EYI", need("2026-07-12 10:00"));
        rec(&mut log, e, "EYI", benzo("2026-07-14 09:00"));
        // f at SWI: counts.
        rec(&mut log, f, "SWI", need("2026-08-01 10:00"));
        rec(&mut log, f, "SWI", benzo("2026-08-01 12:00"));

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a = 1. EYI: 0. SWI: f = 1. All: a, f = 2.
        assert_eq!(count(&r, "1.11", &row("MDI")), 1);
        assert_eq!(count(&r, "1.11", &row("EYI")), 0);
        assert_eq!(count(&r, "1.11", &row("SWI")), 1);
        assert_eq!(count(&r, "1.11", &all()), 2);
    }

    // -----------------------------------------------------------------------
    // 1.12–1.13: in receipt of a course (D6), by where the person was held (D2)
    // -----------------------------------------------------------------------

    #[test]
    fn kpi_1_12_counts_poly_substance_courses_in_receipt_where_the_person_was_held() {
        use InterventionTarget::{CrackOnly, PolySubstance};
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "SWI");
        let e = prisoner(&mut log, 4, "MDI");
        let f = prisoner(&mut log, 5, "MDI");
        let g = prisoner(&mut log, 6, "EYI");
        let h = prisoner(&mut log, 7, "CBI");
        let i = registered(&mut log, 8, "BHI");
        let k = prisoner(&mut log, 9, "RCI");
        let m = prisoner(&mut log, 10, "MDI");
        // a: keyworking started on 10 June (Q2), never ended, so in receipt all of Q3;
        // held at MDI to 14 August and at EYI from the transfer on 15 August: a counts
        // at both. A second poly-substance course (detox from 20 July) changes nothing.
        rec(
            &mut log,
            a,
            "MDI",
            start("keyworking", PolySubstance, "2026-06-10"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            start("detox", PolySubstance, "2026-07-20"),
        );
        transfer(&mut log, a, "MDI", "EYI", "2026-08-15T10:00:00Z");
        // b: SPI from 1 May, completed on 30 June: ended before Q3 (no).
        let spi = rec(
            &mut log,
            b,
            "MDI",
            start("spi", PolySubstance, "2026-05-01"),
        );
        rec(
            &mut log,
            b,
            "MDI",
            step(
                "spi",
                PolySubstance,
                InterventionStatus::Completed,
                "2026-06-30",
                Some(spi),
            ),
        );
        // c: started on 1 June, released on 20 June (the release ends it: no).
        rec(
            &mut log,
            c,
            "SWI",
            start("keyworking", PolySubstance, "2026-06-01"),
        );
        release(&mut log, c, "SWI", "2026-06-20T10:00:00Z");
        // e: crack only, which is 1.13 (no).
        rec(
            &mut log,
            e,
            "MDI",
            start("keyworking", CrackOnly, "2026-07-10"),
        );
        // f: offered only, never started (no); a poly-substance detox on the clinical
        // pathway only (no).
        rec(
            &mut log,
            f,
            "MDI",
            step(
                "keyworking",
                PolySubstance,
                InterventionStatus::Offered,
                "2026-07-10",
                None,
            ),
        );
        rec(
            &mut log,
            m,
            "MDI",
            clinical(
                detox_started(DetoxSubstance::Opiates, DetoxScope::PolySubstance),
                local("2026-07-10 10:00"),
            ),
        );
        // g at EYI: a start entered in error (no).
        let mistaken = rec(
            &mut log,
            g,
            "EYI",
            start("keyworking", PolySubstance, "2026-07-05"),
        );
        wrong(&mut log, g, mistaken);
        // h at CBI: started on the last day of the quarter (counts).
        rec(
            &mut log,
            h,
            "CBI",
            start("keyworking", PolySubstance, "2026-09-30"),
        );
        // i: never received, so no movement covers any day: counts where the start was
        // recorded, BHI.
        rec(
            &mut log,
            i,
            "BHI",
            start("keyworking", PolySubstance, "2026-07-15"),
        );
        // k at RCI: started on 1 June, released on 10 July: in receipt 1–10 July (counts).
        rec(
            &mut log,
            k,
            "RCI",
            start("keyworking", PolySubstance, "2026-06-01"),
        );
        release(&mut log, k, "RCI", "2026-07-10T10:00:00Z");

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a. EYI: a. CBI: h. BHI: i. RCI: k. SWI: none. All: a, h, i, k = 4.
        assert_eq!(count(&r, "1.12", &row("MDI")), 1);
        assert_eq!(count(&r, "1.12", &row("EYI")), 1);
        assert_eq!(count(&r, "1.12", &row("CBI")), 1);
        assert_eq!(count(&r, "1.12", &row("BHI")), 1);
        assert_eq!(count(&r, "1.12", &row("RCI")), 1);
        assert_eq!(count(&r, "1.12", &row("SWI")), 0);
        assert_eq!(count(&r, "1.12", &all()), 4);
        // In Q4 (as at 6 October) a, h and i are still in receipt; k was released.
        let q4 = km(&log, "2026Q4", AS_AT);
        assert_eq!(count(&q4, "1.12", &all()), 3);
        assert_eq!(count(&q4, "1.12", &row("MDI")), 0, "a is held at EYI now");
    }

    #[test]
    fn kpi_1_13_counts_crack_only_courses_in_receipt_at_the_receiving_establishment() {
        use InterventionTarget::{CrackOnly, PolySubstance};
        let mut log = log();
        let e = prisoner(&mut log, 1, "MDI");
        let m = prisoner(&mut log, 2, "MDI");
        let o = prisoner(&mut log, 3, "ESI");
        let q = prisoner(&mut log, 4, "MDI");
        let n = prisoner(&mut log, 5, "EYI");
        let s = prisoner(&mut log, 6, "MDI");
        // e at MDI: started on 10 July (counts); a second crack course from 1 August
        // (once).
        rec(
            &mut log,
            e,
            "MDI",
            start("keyworking", CrackOnly, "2026-07-10"),
        );
        rec(&mut log, e, "MDI", start("detox", CrackOnly, "2026-08-01"));
        // m: started on 1 May, treatment exited on 25 June (ended before Q3: no).
        rec(
            &mut log,
            m,
            "MDI",
            start("keyworking", CrackOnly, "2026-05-01"),
        );
        rec(
            &mut log,
            m,
            "MDI",
            EventKind::TreatmentExited(TreatmentExit {
                exited_on: d("2026-06-25"),
                reason: ExitReason::DroppedOut,
                note: None,
            }),
        );
        // o: started on 1 May, died on 28 June (no).
        rec(
            &mut log,
            o,
            "ESI",
            start("keyworking", CrackOnly, "2026-05-01"),
        );
        rec(
            &mut log,
            o,
            "ESI",
            EventKind::DeathRecorded(Death {
                died_on: d("2026-06-28"),
                cause: DeathCause::NotRelated,
                source: None,
            }),
        );
        // q: started on 1 October (Q4: no).
        rec(
            &mut log,
            q,
            "MDI",
            start("keyworking", CrackOnly, "2026-10-01"),
        );
        // n: started at EYI on 31 August and transferred to SWI that afternoon. On the
        // day of a transfer the person is held at the receiving establishment, so n
        // counts at SWI only.
        rec(
            &mut log,
            n,
            "EYI",
            start("keyworking", CrackOnly, "2026-08-31"),
        );
        transfer(&mut log, n, "EYI", "SWI", "2026-08-31T15:00:00Z");
        // s: poly-substance, which is 1.12 (no).
        rec(
            &mut log,
            s,
            "MDI",
            start("keyworking", PolySubstance, "2026-07-10"),
        );

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: e = 1. SWI: n = 1. EYI: 0. ESI: 0. All: e, n = 2.
        assert_eq!(count(&r, "1.13", &row("MDI")), 1);
        assert_eq!(count(&r, "1.13", &row("SWI")), 1);
        assert_eq!(count(&r, "1.13", &row("EYI")), 0);
        assert_eq!(count(&r, "1.13", &row("ESI")), 0);
        assert_eq!(count(&r, "1.13", &all()), 2);
    }

    // -----------------------------------------------------------------------
    // 1.14–1.16, 1.19–1.21: detoxification and dropping out (people, by `at`)
    // -----------------------------------------------------------------------

    fn detox(step: ClinicalStep, when: &str) -> EventKind {
        clinical(step, local(when))
    }

    #[test]
    fn kpi_1_14_counts_people_starting_an_alcohol_detox_of_either_scope() {
        use DetoxScope::*;
        use DetoxSubstance::*;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "MDI");
        let e = prisoner(&mut log, 4, "SWI");
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        // a at MDI: alcohol-only on 3 July and poly-substance on 10 August (once); at
        // EYI after the transfer on 5 September (counts there too).
        rec(
            &mut log,
            a,
            "MDI",
            detox(detox_started(Alcohol, SingleSubstance), "2026-07-03 10:00"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            detox(detox_started(Alcohol, PolySubstance), "2026-08-10 10:00"),
        );
        rec(
            &mut log,
            a,
            "EYI",
            detox(detox_started(Alcohol, SingleSubstance), "2026-09-05 10:00"),
        );
        // b: opiates (no). c: at 22:00 on 30 June (Q2: no). e: entered in error (no).
        rec(
            &mut log,
            b,
            "MDI",
            detox(detox_started(Opiates, SingleSubstance), "2026-07-10 10:00"),
        );
        rec(
            &mut log,
            c,
            "MDI",
            detox(detox_started(Alcohol, SingleSubstance), "2026-06-30 22:00"),
        );
        let mistaken = rec(
            &mut log,
            e,
            "SWI",
            detox(detox_started(Alcohol, SingleSubstance), "2026-09-01 10:00"),
        );
        wrong(&mut log, e, mistaken);

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a. EYI: a. SWI: none. All: a = 1.
        assert_eq!(count(&r, "1.14", &row("MDI")), 1);
        assert_eq!(count(&r, "1.14", &row("EYI")), 1);
        assert_eq!(count(&r, "1.14", &row("SWI")), 0);
        assert_eq!(count(&r, "1.14", &all()), 1);
    }

    #[test]
    fn kpi_1_15_counts_people_starting_an_opiate_detox_by_local_date() {
        use DetoxScope::*;
        use DetoxSubstance::*;
        let mut log = log();
        let b = prisoner(&mut log, 1, "MDI");
        let e = prisoner(&mut log, 2, "EYI");
        let f = prisoner(&mut log, 3, "EYI");
        let g = prisoner(&mut log, 4, "MDI");
        // b at MDI: two opiate detoxes (once).
        rec(
            &mut log,
            b,
            "MDI",
            detox(detox_started(Opiates, SingleSubstance), "2026-07-10 10:00"),
        );
        rec(
            &mut log,
            b,
            "MDI",
            detox(detox_started(Opiates, PolySubstance), "2026-08-10 10:00"),
        );
        // e at EYI: at 23:30 on 30 September, London time (counts).
        rec(
            &mut log,
            e,
            "EYI",
            detox(detox_started(Opiates, PolySubstance), "2026-09-30 23:30"),
        );
        // f at EYI: 23:30 UTC on 30 September is 1 October in London (no).
        rec(
            &mut log,
            f,
            "EYI",
            clinical(
                detox_started(Opiates, SingleSubstance),
                at("2026-09-30T23:30:00Z"),
            ),
        );
        // g: alcohol (no).
        rec(
            &mut log,
            g,
            "MDI",
            detox(detox_started(Alcohol, SingleSubstance), "2026-07-10 10:00"),
        );

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: b = 1. EYI: e = 1. All: b, e = 2.
        assert_eq!(count(&r, "1.15", &row("MDI")), 1);
        assert_eq!(count(&r, "1.15", &row("EYI")), 1);
        assert_eq!(count(&r, "1.15", &all()), 2);
    }

    #[test]
    fn kpi_1_16_counts_people_completing_an_opiate_detox() {
        use DetoxScope::*;
        use DetoxSubstance::*;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "MDI");
        let e = prisoner(&mut log, 4, "SWI");
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        // a: started on 1 June; completed at MDI on 10 July and 1 August (once there);
        // completed again at EYI on 1 September (counts there too).
        rec(
            &mut log,
            a,
            "MDI",
            detox(detox_started(Opiates, SingleSubstance), "2026-06-01 10:00"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            detox(
                detox_completed(Opiates, SingleSubstance),
                "2026-07-10 10:00",
            ),
        );
        rec(
            &mut log,
            a,
            "MDI",
            detox(detox_completed(Opiates, PolySubstance), "2026-08-01 10:00"),
        );
        rec(
            &mut log,
            a,
            "EYI",
            detox(
                detox_completed(Opiates, SingleSubstance),
                "2026-09-01 10:00",
            ),
        );
        // b: an alcohol detox completed (no).
        rec(
            &mut log,
            b,
            "MDI",
            detox(detox_started(Alcohol, SingleSubstance), "2026-07-01 10:00"),
        );
        rec(
            &mut log,
            b,
            "MDI",
            detox(
                detox_completed(Alcohol, SingleSubstance),
                "2026-07-20 10:00",
            ),
        );
        // c: completed on 2 October (Q4: no).
        rec(
            &mut log,
            c,
            "MDI",
            detox(detox_started(Opiates, SingleSubstance), "2026-09-01 10:00"),
        );
        rec(
            &mut log,
            c,
            "MDI",
            detox(
                detox_completed(Opiates, SingleSubstance),
                "2026-10-02 10:00",
            ),
        );
        // e at SWI: counts.
        rec(
            &mut log,
            e,
            "SWI",
            detox(detox_started(Opiates, PolySubstance), "2026-07-01 10:00"),
        );
        rec(
            &mut log,
            e,
            "SWI",
            detox(detox_completed(Opiates, PolySubstance), "2026-07-25 10:00"),
        );

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a. EYI: a. SWI: e. All: a, e = 2.
        assert_eq!(count(&r, "1.16", &row("MDI")), 1);
        assert_eq!(count(&r, "1.16", &row("EYI")), 1);
        assert_eq!(count(&r, "1.16", &row("SWI")), 1);
        assert_eq!(count(&r, "1.16", &all()), 2);
    }

    // -----------------------------------------------------------------------
    // 1.17–1.18: the prescribing status (D7), by where the person was held (D2)
    // -----------------------------------------------------------------------

    fn status(step: ClinicalStep, when: &str) -> EventKind {
        clinical(step, local(when))
    }

    #[test]
    fn kpi_1_17_counts_people_on_maintenance_at_any_time_in_the_period() {
        use ClinicalStep::*;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "MDI");
        let e = prisoner(&mut log, 4, "SWI");
        let f = prisoner(&mut log, 5, "RCI");
        let g = prisoner(&mut log, 6, "CBI");
        let h = prisoner(&mut log, 7, "ESI");
        // a: prescribed on 2 April, on maintenance from 1 May and still on it: held at
        // MDI, then at EYI from 15 August. a counts at both, once in All.
        rec(
            &mut log,
            a,
            "MDI",
            prescribed(Medication::Methadone, "2026-04-02 10:00"),
        );
        rec(&mut log, a, "MDI", status(Maintenance, "2026-05-01 10:00"));
        transfer(&mut log, a, "MDI", "EYI", "2026-08-15T10:00:00Z");
        // b: maintenance from 1 May, reducing from 15 June (maintenance ended: no).
        rec(&mut log, b, "MDI", status(Maintenance, "2026-05-01 10:00"));
        rec(&mut log, b, "MDI", status(Reducing, "2026-06-15 10:00"));
        // c: maintenance from 10 June until dropping out at 00:00 on 1 July, London
        // time: the status ends as Q3 begins (no).
        rec(&mut log, c, "MDI", status(Maintenance, "2026-06-10 10:00"));
        rec(
            &mut log,
            c,
            "MDI",
            clinical(DroppedOutOfPrescribing, at("2026-06-30T23:00:00Z")),
        );
        // e at SWI: maintenance from 23:59 on 30 September (counts).
        rec(&mut log, e, "SWI", status(Maintenance, "2026-09-30 23:59"));
        // f at RCI: prescribed only (no).
        rec(
            &mut log,
            f,
            "RCI",
            prescribed(Medication::Buprenorphine, "2026-07-10 10:00"),
        );
        // g at CBI: maintenance from 5 July, released on 20 July (counts at CBI).
        rec(&mut log, g, "CBI", status(Maintenance, "2026-07-05 10:00"));
        release(&mut log, g, "CBI", "2026-07-20T10:00:00Z");
        // h at ESI: entered in error (no).
        let mistaken = rec(&mut log, h, "ESI", status(Maintenance, "2026-07-05 10:00"));
        wrong(&mut log, h, mistaken);

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a. EYI: a. SWI: e. CBI: g. RCI, ESI: none. All: a, e, g = 3.
        assert_eq!(count(&r, "1.17", &row("MDI")), 1);
        assert_eq!(count(&r, "1.17", &row("EYI")), 1);
        assert_eq!(count(&r, "1.17", &row("SWI")), 1);
        assert_eq!(count(&r, "1.17", &row("CBI")), 1);
        assert_eq!(count(&r, "1.17", &row("RCI")), 0);
        assert_eq!(count(&r, "1.17", &row("ESI")), 0);
        assert_eq!(count(&r, "1.17", &all()), 3);
        // In Q2, c's maintenance (10 June to 1 July) and b's (1 May to 15 June) count,
        // and a's: MDI a, b, c = 3.
        let q2 = km(&log, "2026Q2", AS_AT);
        assert_eq!(count(&q2, "1.17", &row("MDI")), 3);
    }

    #[test]
    fn kpi_1_18_counts_people_stabilising_or_reducing_in_the_period() {
        use ClinicalStep::*;
        use DetoxScope::SingleSubstance;
        use DetoxSubstance::Opiates;
        let mut log = log();
        let b = prisoner(&mut log, 1, "MDI");
        let h = prisoner(&mut log, 2, "EYI");
        let i = prisoner(&mut log, 3, "MDI");
        let j = prisoner(&mut log, 4, "MDI");
        let k = prisoner(&mut log, 5, "SWI");
        let e = prisoner(&mut log, 6, "RCI");
        let l = registered(&mut log, 7, "BHI");
        // b: reducing since 15 June and still (counts at MDI).
        rec(&mut log, b, "MDI", status(Maintenance, "2026-05-01 10:00"));
        rec(&mut log, b, "MDI", status(Reducing, "2026-06-15 10:00"));
        // h at EYI: stabilising from 5 July, maintenance from 20 July (counts).
        rec(&mut log, h, "EYI", status(Stabilising, "2026-07-05 10:00"));
        rec(&mut log, h, "EYI", status(Maintenance, "2026-07-20 10:00"));
        // i: reducing from 1 June, cleared by an opiate detox completed on 20 June (no).
        rec(
            &mut log,
            i,
            "MDI",
            detox(detox_started(Opiates, SingleSubstance), "2026-05-20 10:00"),
        );
        rec(&mut log, i, "MDI", status(Reducing, "2026-06-01 10:00"));
        rec(
            &mut log,
            i,
            "MDI",
            detox(
                detox_completed(Opiates, SingleSubstance),
                "2026-06-20 10:00",
            ),
        );
        // j: stabilising from 1 August, reducing from 20 August (once), transferred to
        // EYI on 10 September (counts at both).
        rec(&mut log, j, "MDI", status(Stabilising, "2026-08-01 10:00"));
        rec(&mut log, j, "MDI", status(Reducing, "2026-08-20 10:00"));
        transfer(&mut log, j, "MDI", "EYI", "2026-09-10T10:00:00Z");
        // k at SWI: reducing from 10 May, cleared by a treatment exit on 30 June (no).
        rec(
            &mut log,
            k,
            "SWI",
            prescribed(Medication::Methadone, "2026-05-01 10:00"),
        );
        rec(&mut log, k, "SWI", status(Reducing, "2026-05-10 10:00"));
        rec(
            &mut log,
            k,
            "SWI",
            EventKind::TreatmentExited(TreatmentExit {
                exited_on: d("2026-06-30"),
                reason: ExitReason::DroppedOut,
                note: None,
            }),
        );
        // e at RCI: prescribed only (no).
        rec(
            &mut log,
            e,
            "RCI",
            prescribed(Medication::Methadone, "2026-07-10 10:00"),
        );
        // l: never received; stabilising recorded at BHI (counts there).
        rec(&mut log, l, "BHI", status(Stabilising, "2026-07-15 10:00"));

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: b, j = 2. EYI: h, j = 2. BHI: l = 1. SWI, RCI: 0. All: b, h, j, l = 4.
        assert_eq!(count(&r, "1.18", &row("MDI")), 2);
        assert_eq!(count(&r, "1.18", &row("EYI")), 2);
        assert_eq!(count(&r, "1.18", &row("BHI")), 1);
        assert_eq!(count(&r, "1.18", &row("SWI")), 0);
        assert_eq!(count(&r, "1.18", &row("RCI")), 0);
        assert_eq!(count(&r, "1.18", &all()), 4);
    }

    #[test]
    fn kpi_1_19_counts_people_dropping_out_of_prescribing() {
        use ClinicalStep::*;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "MDI");
        let e = prisoner(&mut log, 4, "SWI");
        let f = prisoner(&mut log, 5, "SWI");
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        // a: two drop-outs at MDI (once), one at EYI (counts there too).
        rec(
            &mut log,
            a,
            "MDI",
            status(DroppedOutOfPrescribing, "2026-07-10 10:00"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            status(DroppedOutOfPrescribing, "2026-08-05 10:00"),
        );
        rec(
            &mut log,
            a,
            "EYI",
            status(DroppedOutOfPrescribing, "2026-09-01 10:00"),
        );
        // b: on 30 June (no). c: maintenance only (no). e: entered in error (no).
        rec(
            &mut log,
            b,
            "MDI",
            status(DroppedOutOfPrescribing, "2026-06-30 10:00"),
        );
        rec(&mut log, c, "MDI", status(Maintenance, "2026-07-10 10:00"));
        let mistaken = rec(
            &mut log,
            e,
            "SWI",
            status(DroppedOutOfPrescribing, "2026-07-10 10:00"),
        );
        wrong(&mut log, e, mistaken);
        // f at SWI: counts.
        rec(
            &mut log,
            f,
            "SWI",
            status(DroppedOutOfPrescribing, "2026-09-09 10:00"),
        );

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a. EYI: a. SWI: f. All: a, f = 2.
        assert_eq!(count(&r, "1.19", &row("MDI")), 1);
        assert_eq!(count(&r, "1.19", &row("EYI")), 1);
        assert_eq!(count(&r, "1.19", &row("SWI")), 1);
        assert_eq!(count(&r, "1.19", &all()), 2);
    }

    #[test]
    fn kpi_1_20_counts_people_completing_an_alcohol_only_detox() {
        use DetoxScope::*;
        use DetoxSubstance::*;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "EYI");
        let e = prisoner(&mut log, 4, "SWI");
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        // a: alcohol-only completed at MDI on 10 July and 10 August (once), and at EYI
        // on 1 September (counts there too).
        rec(
            &mut log,
            a,
            "MDI",
            detox(detox_started(Alcohol, SingleSubstance), "2026-06-01 10:00"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            detox(
                detox_completed(Alcohol, SingleSubstance),
                "2026-07-10 10:00",
            ),
        );
        rec(
            &mut log,
            a,
            "MDI",
            detox(
                detox_completed(Alcohol, SingleSubstance),
                "2026-08-10 10:00",
            ),
        );
        rec(
            &mut log,
            a,
            "EYI",
            detox(
                detox_completed(Alcohol, SingleSubstance),
                "2026-09-01 10:00",
            ),
        );
        // b: poly-substance, which is 1.21 (no).
        rec(
            &mut log,
            b,
            "MDI",
            detox(detox_started(Alcohol, PolySubstance), "2026-07-01 10:00"),
        );
        rec(
            &mut log,
            b,
            "MDI",
            detox(detox_completed(Alcohol, PolySubstance), "2026-07-15 10:00"),
        );
        // c: opiates (no).
        rec(
            &mut log,
            c,
            "EYI",
            detox(detox_started(Opiates, SingleSubstance), "2026-07-01 10:00"),
        );
        rec(
            &mut log,
            c,
            "EYI",
            detox(
                detox_completed(Opiates, SingleSubstance),
                "2026-07-15 10:00",
            ),
        );
        // e: completed on 15 June (Q2: no).
        rec(
            &mut log,
            e,
            "SWI",
            detox(detox_started(Alcohol, SingleSubstance), "2026-05-01 10:00"),
        );
        rec(
            &mut log,
            e,
            "SWI",
            detox(
                detox_completed(Alcohol, SingleSubstance),
                "2026-06-15 10:00",
            ),
        );

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a. EYI: a (c's is opiates). SWI: none. All: a = 1.
        assert_eq!(count(&r, "1.20", &row("MDI")), 1);
        assert_eq!(count(&r, "1.20", &row("EYI")), 1);
        assert_eq!(count(&r, "1.20", &row("SWI")), 0);
        assert_eq!(count(&r, "1.20", &all()), 1);
    }

    #[test]
    fn kpi_1_21_counts_people_completing_a_poly_substance_alcohol_detox() {
        use DetoxScope::*;
        use DetoxSubstance::*;
        let mut log = log();
        let b = prisoner(&mut log, 1, "MDI");
        let e = prisoner(&mut log, 2, "EYI");
        let f = prisoner(&mut log, 3, "EYI");
        let a = prisoner(&mut log, 4, "MDI");
        // b: completed on 15 July and 15 August (once).
        rec(
            &mut log,
            b,
            "MDI",
            detox(detox_started(Alcohol, PolySubstance), "2026-07-01 10:00"),
        );
        rec(
            &mut log,
            b,
            "MDI",
            detox(detox_completed(Alcohol, PolySubstance), "2026-07-15 10:00"),
        );
        rec(
            &mut log,
            b,
            "MDI",
            detox(detox_completed(Alcohol, PolySubstance), "2026-08-15 10:00"),
        );
        // e at EYI: counts.
        rec(
            &mut log,
            e,
            "EYI",
            detox(detox_started(Alcohol, PolySubstance), "2026-08-01 10:00"),
        );
        rec(
            &mut log,
            e,
            "EYI",
            detox(detox_completed(Alcohol, PolySubstance), "2026-09-01 10:00"),
        );
        // f at EYI: the completion entered in error (no).
        rec(
            &mut log,
            f,
            "EYI",
            detox(detox_started(Alcohol, PolySubstance), "2026-07-20 10:00"),
        );
        let mistaken = rec(
            &mut log,
            f,
            "EYI",
            detox(detox_completed(Alcohol, PolySubstance), "2026-08-01 10:00"),
        );
        wrong(&mut log, f, mistaken);
        // a: alcohol-only, which is 1.20 (no).
        rec(
            &mut log,
            a,
            "MDI",
            detox(detox_started(Alcohol, SingleSubstance), "2026-07-01 10:00"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            detox(
                detox_completed(Alcohol, SingleSubstance),
                "2026-07-15 10:00",
            ),
        );

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: b. EYI: e. All: b, e = 2.
        assert_eq!(count(&r, "1.21", &row("MDI")), 1);
        assert_eq!(count(&r, "1.21", &row("EYI")), 1);
        assert_eq!(count(&r, "1.21", &all()), 2);
    }

    // -----------------------------------------------------------------------
    // 1.22–1.25: keyworking and group sessions
    // -----------------------------------------------------------------------

    /// a: three keyworking sessions at MDI (two 1-to-1, one of a keyworking course),
    /// a group session and an attended appointment (neither counts), then one at EYI
    /// after a transfer; b: one on 30 June, a session of an SPI course and one entered
    /// in error (none counts); c: one at EYI on 30 September.
    fn keyworking_log() -> Log {
        let t = InterventionTarget::Opiates;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "EYI");
        rec(
            &mut log,
            a,
            "MDI",
            session(SessionKind::Keyworking, "2026-07-02"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            session(SessionKind::Keyworking, "2026-07-09"),
        );
        let kw = rec(&mut log, a, "MDI", start("keyworking", t, "2026-07-01"));
        rec(&mut log, a, "MDI", session(course(kw), "2026-07-16"));
        rec(&mut log, a, "MDI", session(group(1), "2026-07-20"));
        let offer = rec(
            &mut log,
            a,
            "MDI",
            EventKind::AppointmentOffered(AppointmentOffer {
                referral: None,
                at: local("2026-07-22 10:00"),
                worker: None,
                clinic: None,
                purpose: Some("Keyworking".into()),
            }),
        );
        rec(
            &mut log,
            a,
            "MDI",
            EventKind::AppointmentOutcomeRecorded(AppointmentOutcome {
                appointment: offer,
                outcome: AppointmentOutcomeKind::Attended,
                note: None,
            }),
        );
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        rec(
            &mut log,
            a,
            "EYI",
            session(SessionKind::Keyworking, "2026-09-01"),
        );
        rec(
            &mut log,
            b,
            "MDI",
            session(SessionKind::Keyworking, "2026-06-30"),
        );
        let spi = rec(&mut log, b, "MDI", start("spi", t, "2026-07-01"));
        rec(&mut log, b, "MDI", session(course(spi), "2026-07-10"));
        let mistaken = rec(
            &mut log,
            b,
            "MDI",
            session(SessionKind::Keyworking, "2026-08-01"),
        );
        wrong(&mut log, b, mistaken);
        rec(
            &mut log,
            c,
            "EYI",
            session(SessionKind::Keyworking, "2026-09-30"),
        );
        log
    }

    #[test]
    fn kpi_1_22_counts_keyworking_sessions_including_those_of_a_keyworking_course() {
        let r = km(&keyworking_log(), "2026Q3", AS_AT);
        // MDI: a's 2 July, 9 July and 16 July (course) = 3. EYI: a's 1 September and c's
        // 30 September = 2. All (events): 3 + 2 = 5.
        assert_eq!(count(&r, "1.22", &row("MDI")), 3);
        assert_eq!(count(&r, "1.22", &row("EYI")), 2);
        assert_eq!(count(&r, "1.22", &all()), 5);
    }

    #[test]
    fn kpi_1_23_counts_each_person_receiving_keyworking_once_per_row() {
        let r = km(&keyworking_log(), "2026Q3", AS_AT);
        // MDI: a (three sessions) = 1. EYI: a, c = 2. All: a, c = 2.
        assert_eq!(count(&r, "1.23", &row("MDI")), 1);
        assert_eq!(count(&r, "1.23", &row("EYI")), 2);
        assert_eq!(count(&r, "1.23", &all()), 2);
    }

    /// Group sessions: S1 (a and b at MDI, 7 July); S2 (c at EYI, recorded first, and
    /// a at MDI, both 5 August); S3 (e at EYI on 30 June, f at EYI on 1 July); S4 (g at
    /// SWI, entered in error); S5 (a at EYI after a transfer, 2 September). a also has
    /// a programme session and a keyworking session.
    fn group_log() -> Log {
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "EYI");
        let e = prisoner(&mut log, 4, "EYI");
        let f = prisoner(&mut log, 5, "EYI");
        let g = prisoner(&mut log, 6, "SWI");
        rec(&mut log, a, "MDI", session(group(1), "2026-07-07"));
        rec(&mut log, b, "MDI", session(group(1), "2026-07-07"));
        rec(&mut log, c, "EYI", session(group(2), "2026-08-05"));
        rec(&mut log, a, "MDI", session(group(2), "2026-08-05"));
        rec(&mut log, e, "EYI", session(group(3), "2026-06-30"));
        rec(&mut log, f, "EYI", session(group(3), "2026-07-01"));
        let mistaken = rec(&mut log, g, "SWI", session(group(4), "2026-09-01"));
        wrong(&mut log, g, mistaken);
        let programme = rec(
            &mut log,
            a,
            "MDI",
            start(
                "programme-abstinence",
                InterventionTarget::Alcohol,
                "2026-07-01",
            ),
        );
        rec(&mut log, a, "MDI", session(course(programme), "2026-07-15"));
        rec(
            &mut log,
            a,
            "MDI",
            session(SessionKind::Keyworking, "2026-07-16"),
        );
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        rec(&mut log, a, "EYI", session(group(5), "2026-09-02"));
        log
    }

    #[test]
    fn kpi_1_24_counts_each_group_session_once_where_its_first_attendee_was() {
        let log = group_log();
        let r = km(&log, "2026Q3", AS_AT);
        // S1 at MDI. S2: both events on 5 August, so the earlier by sequence (c's, at
        // EYI) places it at EYI. S3: its earliest event is on 30 June, so it is a Q2
        // session. S4: in error. S5 at EYI. MDI: S1 = 1. EYI: S2, S5 = 2. SWI: 0.
        // All (events): 1 + 2 = 3.
        assert_eq!(count(&r, "1.24", &row("MDI")), 1);
        assert_eq!(count(&r, "1.24", &row("EYI")), 2);
        assert_eq!(count(&r, "1.24", &row("SWI")), 0);
        assert_eq!(count(&r, "1.24", &all()), 3);
        // Q2: S3 = 1 at EYI.
        let q2 = km(&log, "2026Q2", AS_AT);
        assert_eq!(count(&q2, "1.24", &row("EYI")), 1);
        assert_eq!(count(&q2, "1.24", &all()), 1);
    }

    #[test]
    fn kpi_1_25_counts_people_attending_group_sessions() {
        let r = km(&group_log(), "2026Q3", AS_AT);
        // MDI: a (S1, S2), b (S1) = 2. EYI: c (S2), f (S3 on 1 July), a (S5) = 3; e
        // attended only on 30 June. SWI: g's is in error = 0. All: a, b, c, f = 4.
        assert_eq!(count(&r, "1.25", &row("MDI")), 2);
        assert_eq!(count(&r, "1.25", &row("EYI")), 3);
        assert_eq!(count(&r, "1.25", &row("SWI")), 0);
        assert_eq!(count(&r, "1.25", &all()), 4);
    }

    #[test]
    fn kpi_1_26_is_not_defined_by_the_specification() {
        let log = group_log();
        let r = km(&log, "2026Q3", AS_AT);
        // Whatever is recorded, the line reports nothing.
        assert_eq!(value(&r, "1.26", &row("MDI")), Value::NotDefined);
        assert_eq!(value(&r, "1.26", &all()), Value::NotDefined);
        assert_eq!(
            value(&r, "1.26", &all()).display(),
            "Not defined by the specification"
        );
    }

    // -----------------------------------------------------------------------
    // 1.27–1.30: rehabilitation programmes, by programme type
    // -----------------------------------------------------------------------

    const PROGRAMMES: [&str; 4] = [
        "rolling-programme",
        "programme-abstinence",
        "programme-offending",
        "programme-recovery-capital",
    ];

    #[test]
    fn kpi_1_27_reports_nothing_for_programme_sessions_delivered() {
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let programme = rec(
            &mut log,
            a,
            "MDI",
            start(
                "programme-abstinence",
                InterventionTarget::Alcohol,
                "2026-07-01",
            ),
        );
        rec(&mut log, a, "MDI", session(course(programme), "2026-07-15"));
        let r = km(&log, "2026Q3", AS_AT);
        // An attendance is not a session delivered: the line and each programme's
        // sub-row report nothing (docs/kpis.md §7 item 1).
        let not_recorded =
            Value::NotRecorded("programme sessions carry no shared session id yet".into());
        assert_eq!(value(&r, "1.27", &row("MDI")), not_recorded);
        assert_eq!(value(&r, "1.27", &all()), not_recorded);
        for p in PROGRAMMES {
            let code = format!("1.27 {p}");
            assert_eq!(value(&r, &code, &row("MDI")), not_recorded, "{code}");
        }
    }

    #[test]
    fn kpi_1_28_counts_people_attending_programme_sessions_by_programme() {
        let t = InterventionTarget::Alcohol;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "EYI");
        let e = prisoner(&mut log, 4, "MDI");
        let f = prisoner(&mut log, 5, "SWI");
        // a: abstinence (enrolled in June) sessions on 2 and 9 July at MDI (once), a
        // rolling programme session on 15 July at MDI, and an abstinence session at EYI
        // on 1 September after the transfer.
        let abstinence = rec(
            &mut log,
            a,
            "MDI",
            start("programme-abstinence", t, "2026-06-20"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            session(course(abstinence), "2026-07-02"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            session(course(abstinence), "2026-07-09"),
        );
        let rolling = rec(
            &mut log,
            a,
            "MDI",
            start("rolling-programme", t, "2026-07-01"),
        );
        rec(&mut log, a, "MDI", session(course(rolling), "2026-07-15"));
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        rec(
            &mut log,
            a,
            "EYI",
            session(course(abstinence), "2026-09-01"),
        );
        // b: enrolled on the offending programme, no session attended (no).
        rec(
            &mut log,
            b,
            "MDI",
            start("programme-offending", t, "2026-07-01"),
        );
        // c at EYI: recovery capital sessions on 29 June (Q2) and 30 September (counts).
        let capital = rec(
            &mut log,
            c,
            "EYI",
            start("programme-recovery-capital", t, "2026-06-01"),
        );
        rec(&mut log, c, "EYI", session(course(capital), "2026-06-29"));
        rec(&mut log, c, "EYI", session(course(capital), "2026-09-30"));
        // e: a session of a keyworking course, not a programme (no).
        let kw = rec(&mut log, e, "MDI", start("keyworking", t, "2026-07-01"));
        rec(&mut log, e, "MDI", session(course(kw), "2026-07-05"));
        // f at SWI: a programme session entered in error (no).
        let own = rec(
            &mut log,
            f,
            "SWI",
            start("programme-abstinence", t, "2026-07-01"),
        );
        let mistaken = rec(&mut log, f, "SWI", session(course(own), "2026-08-01"));
        wrong(&mut log, f, mistaken);

        let r = km(&log, "2026Q3", AS_AT);
        // Total: MDI a = 1; EYI a, c = 2; SWI 0; All a, c = 2.
        assert_eq!(count(&r, "1.28", &row("MDI")), 1);
        assert_eq!(count(&r, "1.28", &row("EYI")), 2);
        assert_eq!(count(&r, "1.28", &row("SWI")), 0);
        assert_eq!(count(&r, "1.28", &all()), 2);
        // Abstinence: MDI a, EYI a, All a = 1.
        let abst = "1.28 programme-abstinence";
        assert_eq!(count(&r, abst, &row("MDI")), 1);
        assert_eq!(count(&r, abst, &row("EYI")), 1);
        assert_eq!(count(&r, abst, &all()), 1);
        // Rolling: MDI a = 1, EYI 0.
        assert_eq!(count(&r, "1.28 rolling-programme", &row("MDI")), 1);
        assert_eq!(count(&r, "1.28 rolling-programme", &row("EYI")), 0);
        // Offending: b only enrolled = 0.
        assert_eq!(count(&r, "1.28 programme-offending", &all()), 0);
        // Recovery capital: EYI c = 1.
        assert_eq!(count(&r, "1.28 programme-recovery-capital", &row("EYI")), 1);
        assert_eq!(count(&r, "1.28 programme-recovery-capital", &all()), 1);
    }

    /// a: abstinence completed at MDI on 20 July; rolling programme started at MDI,
    /// completed at EYI on 10 September after a transfer. b: offending dropped out at
    /// MDI on 1 August. c: keyworking completed (not a programme). e: recovery capital
    /// completed on 30 June (Q2). g: abstinence completed, entered in error. f at SWI:
    /// dropped out of abstinence and of recovery capital.
    fn programme_log() -> Log {
        use InterventionStatus::{Completed, DroppedOut};
        let t = InterventionTarget::Alcohol;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "MDI");
        let e = prisoner(&mut log, 4, "EYI");
        let g = prisoner(&mut log, 5, "SWI");
        let f = prisoner(&mut log, 6, "SWI");
        let end = |code: &str, status, on: &str, course| step(code, t, status, on, Some(course));
        let x = rec(
            &mut log,
            a,
            "MDI",
            start("programme-abstinence", t, "2026-05-01"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            end("programme-abstinence", Completed, "2026-07-20", x),
        );
        let x = rec(
            &mut log,
            a,
            "MDI",
            start("rolling-programme", t, "2026-07-01"),
        );
        transfer(&mut log, a, "MDI", "EYI", "2026-08-10T10:00:00Z");
        rec(
            &mut log,
            a,
            "EYI",
            end("rolling-programme", Completed, "2026-09-10", x),
        );
        let x = rec(
            &mut log,
            b,
            "MDI",
            start("programme-offending", t, "2026-07-01"),
        );
        rec(
            &mut log,
            b,
            "MDI",
            end("programme-offending", DroppedOut, "2026-08-01", x),
        );
        let x = rec(&mut log, c, "MDI", start("keyworking", t, "2026-07-01"));
        rec(
            &mut log,
            c,
            "MDI",
            end("keyworking", Completed, "2026-08-01", x),
        );
        let x = rec(
            &mut log,
            e,
            "EYI",
            start("programme-recovery-capital", t, "2026-05-01"),
        );
        rec(
            &mut log,
            e,
            "EYI",
            end("programme-recovery-capital", Completed, "2026-06-30", x),
        );
        let x = rec(
            &mut log,
            g,
            "SWI",
            start("programme-abstinence", t, "2026-07-01"),
        );
        let mistaken = rec(
            &mut log,
            g,
            "SWI",
            end("programme-abstinence", Completed, "2026-09-01", x),
        );
        wrong(&mut log, g, mistaken);
        let x = rec(
            &mut log,
            f,
            "SWI",
            start("programme-abstinence", t, "2026-07-01"),
        );
        rec(
            &mut log,
            f,
            "SWI",
            end("programme-abstinence", DroppedOut, "2026-07-20", x),
        );
        let x = rec(
            &mut log,
            f,
            "SWI",
            start("programme-recovery-capital", t, "2026-07-01"),
        );
        rec(
            &mut log,
            f,
            "SWI",
            end("programme-recovery-capital", DroppedOut, "2026-08-20", x),
        );
        log
    }

    #[test]
    fn kpi_1_29_counts_people_completing_programmes_where_the_step_was_recorded() {
        let r = km(&programme_log(), "2026Q3", AS_AT);
        // Total: MDI a (abstinence) = 1; EYI a (rolling) = 1; SWI g's is in error = 0;
        // All a = 1. c's keyworking and e's Q2 completion do not count.
        assert_eq!(count(&r, "1.29", &row("MDI")), 1);
        assert_eq!(count(&r, "1.29", &row("EYI")), 1);
        assert_eq!(count(&r, "1.29", &row("SWI")), 0);
        assert_eq!(count(&r, "1.29", &all()), 1);
        assert_eq!(count(&r, "1.29 programme-abstinence", &row("MDI")), 1);
        assert_eq!(count(&r, "1.29 programme-abstinence", &all()), 1);
        assert_eq!(count(&r, "1.29 rolling-programme", &row("MDI")), 0);
        assert_eq!(count(&r, "1.29 rolling-programme", &row("EYI")), 1);
        assert_eq!(count(&r, "1.29 programme-offending", &all()), 0);
        assert_eq!(count(&r, "1.29 programme-recovery-capital", &all()), 0);
        // e's completion counts in Q2, at EYI.
        let q2 = km(&programme_log(), "2026Q2", AS_AT);
        assert_eq!(
            count(&q2, "1.29 programme-recovery-capital", &row("EYI")),
            1
        );
    }

    #[test]
    fn kpi_1_30_counts_people_dropping_out_of_programmes() {
        let r = km(&programme_log(), "2026Q3", AS_AT);
        // Total: MDI b = 1; SWI f (two programmes, once) = 1; All b, f = 2.
        assert_eq!(count(&r, "1.30", &row("MDI")), 1);
        assert_eq!(count(&r, "1.30", &row("SWI")), 1);
        assert_eq!(count(&r, "1.30", &row("EYI")), 0);
        assert_eq!(count(&r, "1.30", &all()), 2);
        // Offending: MDI b. Abstinence: SWI f. Recovery capital: SWI f. Rolling: none.
        assert_eq!(count(&r, "1.30 programme-offending", &row("MDI")), 1);
        assert_eq!(count(&r, "1.30 programme-abstinence", &row("SWI")), 1);
        assert_eq!(count(&r, "1.30 programme-abstinence", &all()), 1);
        assert_eq!(count(&r, "1.30 programme-recovery-capital", &row("SWI")), 1);
        assert_eq!(count(&r, "1.30 rolling-programme", &all()), 0);
    }

    // -----------------------------------------------------------------------
    // 1.31–1.32: peer recovery networks and post-treatment support
    // -----------------------------------------------------------------------

    fn mutual_aid(aid: MutualAidKind, on: &str) -> EventKind {
        session(SessionKind::MutualAid { aid }, on)
    }

    #[test]
    fn kpi_1_31_counts_people_attending_any_mutual_aid_meeting() {
        use MutualAidKind::*;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "MDI");
        let e = prisoner(&mut log, 4, "SWI");
        let f = prisoner(&mut log, 5, "SWI");
        // a: 12-step and SMART at MDI (once), NA at EYI after the transfer.
        rec(&mut log, a, "MDI", mutual_aid(TwelveStep, "2026-07-03"));
        rec(&mut log, a, "MDI", mutual_aid(Smart, "2026-07-10"));
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        rec(
            &mut log,
            a,
            "EYI",
            mutual_aid(NarcoticsAnonymous, "2026-09-01"),
        );
        // b: a peer-recovery course started, no meeting attended (no).
        rec(
            &mut log,
            b,
            "MDI",
            start("peer-recovery", InterventionTarget::Other, "2026-07-01"),
        );
        // c: on 30 June (no). f: entered in error (no). e at SWI: counts.
        rec(
            &mut log,
            c,
            "MDI",
            mutual_aid(RecoveryChampion, "2026-06-30"),
        );
        rec(&mut log, e, "SWI", mutual_aid(PeerNetwork, "2026-08-01"));
        let mistaken = rec(&mut log, f, "SWI", mutual_aid(Smart, "2026-08-05"));
        wrong(&mut log, f, mistaken);

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a. EYI: a. SWI: e. All: a, e = 2.
        assert_eq!(count(&r, "1.31", &row("MDI")), 1);
        assert_eq!(count(&r, "1.31", &row("EYI")), 1);
        assert_eq!(count(&r, "1.31", &row("SWI")), 1);
        assert_eq!(count(&r, "1.31", &all()), 2);
    }

    fn contact(purpose: ContactPurpose, outcome: ContactOutcome, on: &str) -> EventKind {
        EventKind::ContactRecorded(Contact {
            on: d(on),
            purpose,
            outcome,
            method: None,
            next_due: None,
            note: None,
        })
    }

    #[test]
    fn kpi_1_32_counts_people_reached_for_post_treatment_support() {
        use ContactOutcome::*;
        use ContactPurpose::*;
        let mut log = log();
        let a = prisoner(&mut log, 1, "MDI");
        let b = prisoner(&mut log, 2, "MDI");
        let c = prisoner(&mut log, 3, "MDI");
        let e = prisoner(&mut log, 4, "SWI");
        let f = prisoner(&mut log, 5, "SWI");
        // a: reached and re-engaged at MDI (once), reached at EYI after the transfer.
        rec(
            &mut log,
            a,
            "MDI",
            contact(PostTreatmentSupport, Reached, "2026-07-05"),
        );
        rec(
            &mut log,
            a,
            "MDI",
            contact(PostTreatmentSupport, ReEngaged, "2026-08-01"),
        );
        transfer(&mut log, a, "MDI", "EYI", "2026-08-20T10:00:00Z");
        rec(
            &mut log,
            a,
            "EYI",
            contact(PostTreatmentSupport, Reached, "2026-09-01"),
        );
        // b: no response and declined (attempts: no). c: a re-engagement attempt (no).
        rec(
            &mut log,
            b,
            "MDI",
            contact(PostTreatmentSupport, NoResponse, "2026-07-10"),
        );
        rec(
            &mut log,
            b,
            "MDI",
            contact(PostTreatmentSupport, Declined, "2026-07-20"),
        );
        rec(
            &mut log,
            c,
            "MDI",
            contact(ReEngagement, Reached, "2026-07-15"),
        );
        // e at SWI: reached on 30 June (no) and on 15 September (counts). f: entered in
        // error (no).
        rec(
            &mut log,
            e,
            "SWI",
            contact(PostTreatmentSupport, Reached, "2026-06-30"),
        );
        rec(
            &mut log,
            e,
            "SWI",
            contact(PostTreatmentSupport, Reached, "2026-09-15"),
        );
        let mistaken = rec(
            &mut log,
            f,
            "SWI",
            contact(PostTreatmentSupport, Reached, "2026-08-15"),
        );
        wrong(&mut log, f, mistaken);

        let r = km(&log, "2026Q3", AS_AT);
        // MDI: a. EYI: a. SWI: e. All: a, e = 2.
        assert_eq!(count(&r, "1.32", &row("MDI")), 1);
        assert_eq!(count(&r, "1.32", &row("EYI")), 1);
        assert_eq!(count(&r, "1.32", &row("SWI")), 1);
        assert_eq!(count(&r, "1.32", &all()), 2);
    }

    #[test]
    fn every_activity_line_is_in_the_return_in_order() {
        let r = km(&log(), "2026Q3", AS_AT);
        let codes: Vec<&str> = r
            .figures
            .iter()
            .map(|f| f.code.as_str())
            .filter(|c| c.starts_with("1."))
            .filter(|c| !c.contains(' '))
            .collect();
        let expected: Vec<String> = (1..=32).map(|n| format!("1.{n}")).collect();
        assert_eq!(codes, expected);
        for line in ["1.27", "1.28", "1.29", "1.30"] {
            for p in PROGRAMMES {
                assert!(r.figure(&format!("{line} {p}")).is_some(), "{line} {p}");
            }
        }
    }
}
