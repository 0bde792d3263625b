//! The KM quarterly return's outcome lines, KPIs 3.1–3.8 (KM 6.7; docs/kpis.md §3,
//! "3. Outcomes"). One function per line, beside its definition.

use crate::clinical::{BbvStep, Virus};
use crate::custody::ReleaseKind;
use crate::events::{EventKind, RecordedEvent};
use crate::outcomes::TopStage;
use crate::release::{ExitReason, FollowUpOutcome};
use crate::returns::KpiFn;
use crate::returns::cut::{Cut, PersonRecord, event_date};
use crate::returns::figure::{Figure, Item, LineFigure, Measure};
use crate::returns::period::Period;
use crate::returns::shared::{Leaving, releases, window_ends};

/// The outcome lines, in the return's order.
pub const LINES: &[KpiFn] = &[
    kpi_3_1, kpi_3_2, kpi_3_3, kpi_3_4, kpi_3_5, kpi_3_6, kpi_3_7, kpi_3_8,
];

/// A people line: each person counted once per row and once in all.
fn people(code: &str, label: &str, items: Vec<Item>) -> LineFigure {
    LineFigure::new(
        code,
        label,
        "people",
        Figure::Count {
            measure: Measure::People,
            items,
        },
    )
}

/// Every `treatment_exited` with `reason` whose `exited_on` is in the period, at the
/// event's establishment (docs/kpis.md 3.1–3.2).
fn completions(cut: &Cut<'_>, period: &Period, reason: ExitReason) -> Vec<Item> {
    cut.people
        .values()
        .flat_map(|p| {
            p.of(move |k| match k {
                EventKind::TreatmentExited(x) if x.reason == reason => Some(x.exited_on),
                _ => None,
            })
            .filter(|(_, on)| period.contains(*on))
            .map(|(e, on)| Item::event(&e.establishment, p.person, e.id, on))
        })
        .collect()
}

/// KPI 3.1: "Number of people completing drug treatment successfully (free from
/// dependence on drugs)" — people with a `treatment_exited` with `reason:
/// completed_drug_free`, by `exited_on`, at the event's establishment (docs/kpis.md
/// 3.1).
pub fn kpi_3_1(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    vec![people(
        "3.1",
        "Number of people completing drug treatment successfully (free from dependence on drugs)",
        completions(cut, period, ExitReason::CompletedDrugFree),
    )]
}

/// KPI 3.2: "Number of people completing alcohol treatment successfully (free from
/// dependence on alcohol)" — as 3.1, with `reason: completed_alcohol_free`
/// (docs/kpis.md 3.2).
pub fn kpi_3_2(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    vec![people(
        "3.2",
        "Number of people completing alcohol treatment successfully (free from dependence on alcohol)",
        completions(cut, period, ExitReason::CompletedAlcoholFree),
    )]
}

/// KPI 3.3: "Number of individuals completing a Hepatitis B vaccination course" —
/// people with a `blood_borne_virus_recorded` with `virus: hepatitis_b` and `step:
/// vaccination_completed`, by `on`, at the event's establishment (docs/kpis.md 3.3).
pub fn kpi_3_3(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = cut
        .people
        .values()
        .flat_map(|p| {
            p.of(|k| match k {
                EventKind::BloodBorneVirusRecorded(b)
                    if b.virus == Virus::HepatitisB && b.step == BbvStep::VaccinationCompleted =>
                {
                    Some(b.on)
                }
                _ => None,
            })
            .filter(|(_, on)| period.contains(*on))
            .map(|(e, on)| Item::event(&e.establishment, p.person, e.id, on))
        })
        .collect();
    vec![people(
        "3.3",
        "Number of individuals completing a Hepatitis B vaccination course",
        items,
    )]
}

/// The 3.4–3.5 cohort judged (docs/kpis.md 3.4–3.5): the items of those who
/// reoffended within a window, and of those who did not. Each item is a release of
/// the cohort, at the releasing establishment, on the window's last day.
struct Reoffending {
    /// 3.4: a reoffence within the window, as known at the as-at instant.
    reoffended: Vec<Item>,
    /// 3.5: the window closed `not_reoffended`, with no reoffence within it.
    not_reoffended: Vec<Item>,
}

/// Judges the cohort of 3.4–3.5: effective releases with `kind: released` whose
/// 12-month window (D9) ends in the period, from establishments where reoffending is
/// an outcome (not IRC Dover, §1.9). A person with several releases in the cohort is
/// in 3.4 if any window qualifies for it, otherwise in 3.5 if any window qualifies
/// for that.
fn reoffending(cut: &Cut<'_>, period: &Period) -> Reoffending {
    let mut out = Reoffending {
        reoffended: Vec::new(),
        not_reoffended: Vec::new(),
    };
    for p in cut.people.values() {
        let reoffences: Vec<_> = p
            .of(|k| match k {
                EventKind::ReoffenceRecorded(r) => Some(r.offended_on),
                _ => None,
            })
            .map(|(_, on)| on)
            .collect();
        let closes: Vec<_> = p
            .of(|k| match k {
                EventKind::FollowUpClosed(f) => Some(f),
                _ => None,
            })
            .map(|(_, f)| f)
            .collect();
        let (mut yes, mut no) = (Vec::new(), Vec::new());
        for r in releases(p) {
            let ends = window_ends(r.on);
            let counts_here = cut
                .profile
                .establishment(&r.event.establishment)
                .is_none_or(|e| e.reoffending_is_outcome);
            if r.kind != ReleaseKind::Released || !period.contains(ends) || !counts_here {
                continue;
            }
            let item = Item::event(&r.event.establishment, p.person, r.event.id, ends);
            let release = p.case.identity(r.event.id);
            let outcome = closes
                .iter()
                .filter(|f| p.case.identity(f.release) == release)
                .max_by_key(|f| f.closed_on)
                .map(|f| f.outcome);
            if reoffences.iter().any(|o| r.on <= *o && *o <= ends) {
                yes.push(item);
            } else if outcome == Some(FollowUpOutcome::NotReoffended) {
                no.push(item);
            }
        }
        if yes.is_empty() {
            out.not_reoffended.extend(no);
        } else {
            out.reoffended.extend(yes);
        }
    }
    out
}

/// The establishments where reoffending is not an outcome (IRC Dover): 3.4 and 3.5
/// show "not applicable" there, and leave them out of all (KM 2.1.1 note 1; §1.9).
fn not_applicable_at_the_irc(cut: &Cut<'_>, mut line: LineFigure) -> LineFigure {
    for e in &cut.profile.establishments {
        if !e.reoffending_is_outcome {
            line.not_applicable
                .insert(e.code.clone(), "KM 2.1.1 note 1".into());
        }
    }
    line
}

/// KPI 3.4: "Number of individuals (by prison) re-offending within 12 months of
/// leaving prison" — people in the cohort (releases with `kind: released` whose
/// 12-month window ends in the period) with a `reoffence_recorded` whose
/// `offended_on` is within the window, as known at the as-at instant; at the
/// releasing establishment; not applicable at IRC Dover (docs/kpis.md 3.4, §1.9).
pub fn kpi_3_4(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let line = people(
        "3.4",
        "Number of individuals (by prison) re-offending within 12 months of leaving prison",
        reoffending(cut, period).reoffended,
    );
    vec![not_applicable_at_the_irc(cut, line)]
}

/// KPI 3.5: "Number of individuals (by prison) not re-offending within 12 months of
/// leaving prison" — people in the cohort of 3.4 whose window's outcome (D9) is
/// `not_reoffended` and who have no reoffence within it (silence is never "not
/// reoffended"); at the releasing establishment; not applicable at IRC Dover
/// (docs/kpis.md 3.5, §1.9).
pub fn kpi_3_5(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let line = people(
        "3.5",
        "Number of individuals (by prison) not re-offending within 12 months of leaving prison",
        reoffending(cut, period).not_reoffended,
    );
    vec![not_applicable_at_the_irc(cut, line)]
}

/// The three ratings of the Treatment Outcomes Profile, in the order of 3.6's
/// sub-rows.
const RATINGS: [&str; 3] = ["psychological_health", "physical_health", "quality_of_life"];

/// KPI 3.6: "Average changes in self-reported ratings of health and wellbeing" — one
/// sub-row per rating; for each person, their later TOP (stage review, exit or
/// post-exit, `completed_on` in the period) minus their latest start TOP on or before
/// it; attributed to the later TOP's establishment, each row using the person's
/// latest later TOP recorded there and all their latest overall (docs/kpis.md 3.6).
pub fn kpi_3_6(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut values: [Vec<(Item, i64)>; 3] = Default::default();
    for p in cut.people.values() {
        let tops: Vec<_> = p
            .of(|k| match k {
                EventKind::TopCompleted(t) => Some(t),
                _ => None,
            })
            .collect();
        let mut later: Vec<_> = tops
            .iter()
            .filter(|(_, t)| t.stage != TopStage::Start && period.contains(t.completed_on))
            .collect();
        // Chronological, so the figure keeps each person's latest value per row.
        later.sort_by_key(|(e, t)| (t.completed_on, e.occurred_at, e.seq));
        for (e, t) in later {
            let start = tops
                .iter()
                .filter(|(_, s)| s.stage == TopStage::Start && s.completed_on <= t.completed_on)
                .max_by_key(|(e, s)| (s.completed_on, e.occurred_at, e.seq));
            let Some((_, s)) = start else { continue };
            let item = Item::event(&e.establishment, p.person, e.id, t.completed_on);
            for (i, ((_, now), (_, then))) in t.ratings().iter().zip(s.ratings()).enumerate() {
                values[i].push((item.clone(), i64::from(*now) - i64::from(then)));
            }
        }
    }
    RATINGS
        .iter()
        .zip(values)
        .map(|(rating, values)| {
            LineFigure::new(
                &format!("3.6 {rating}"),
                "Average changes in self-reported ratings of health and wellbeing",
                "points",
                Figure::Mean {
                    values,
                    latest_per_person: true,
                },
            )
        })
        .collect()
}

/// Whether a `received` follows `release` in the person's record, dated on or
/// before `by`: the person was back in custody.
fn received_after(p: &PersonRecord, release: &RecordedEvent, by: chrono::NaiveDate) -> bool {
    p.events.iter().any(|e| {
        matches!(e.kind, EventKind::Received(_))
            && (e.occurred_at, e.seq) > (release.occurred_at, release.seq)
            && event_date(e) <= by
    })
}

/// KPI 3.7: "Number of prisoners dying from drug and/or alcohol related causes within
/// 12 months of release from prison" — people with a `death_recorded` of a related
/// cause, by `died_on`, within the 12-month window (D9) of their latest release (of
/// either kind) on or before it, with no `received` after that release dated on or
/// before the death; at the establishment of that release (docs/kpis.md 3.7).
pub fn kpi_3_7(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        let deaths = p
            .of(|k| match k {
                EventKind::DeathRecorded(d) if d.cause.is_related() => Some(d.died_on),
                _ => None,
            })
            .filter(|(_, on)| period.contains(*on));
        for (death, died_on) in deaths {
            let release: Option<Leaving<'_>> = releases(p).into_iter().rfind(|r| r.on <= died_on);
            if let Some(r) = release
                && died_on <= window_ends(r.on)
                && !received_after(p, r.event, died_on)
            {
                items.push(Item::event(
                    &r.event.establishment,
                    p.person,
                    death.id,
                    died_on,
                ));
            }
        }
    }
    vec![people(
        "3.7",
        "Number of prisoners dying from drug and/or alcohol related causes within 12 months of release from prison",
        items,
    )]
}

/// KPI 3.8: "Number of drug or alcohol related serious incidents within the prison" —
/// distinct incident references whose latest version in the cut is drug or alcohol
/// related and occurred in the period, at that version's establishment (docs/kpis.md
/// 3.8).
pub fn kpi_3_8(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = cut
        .service
        .incidents
        .values()
        .filter(|(_, _, i)| i.drug_or_alcohol_related && period.contains(i.occurred_on))
        .map(|(id, at, i)| Item {
            establishment: at.clone(),
            person: None,
            event: Some(*id),
            on: Some(i.occurred_on),
        })
        .collect();
    vec![LineFigure::new(
        "3.8",
        "Number of drug or alcohol related serious incidents within the prison",
        "events",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

#[cfg(test)]
mod tests {
    use crate::clinical::{BbvStep, BloodBorneVirusRecord, Virus};
    use crate::custody::{Reception, ReceptionType, ReleaseKind};
    use crate::decide::Command;
    use crate::events::EventKind;
    use crate::interventions::{InterventionStatus, InterventionTarget, InterventionUpdate};
    use crate::outcomes::{TopStage, TreatmentOutcomesProfile};
    use crate::record_ids::{EventId, PersonId};
    use crate::release::{
        Death, DeathCause, ExitReason, FollowUpClosed, FollowUpOutcome, Reoffence, TreatmentExit,
    };
    use crate::returns::figure::{RowKey, Value};
    use crate::returns::testkit::{count, km, row, value};
    use crate::returns::testkit::{leave, record_at, transfer};
    use crate::testkit::{Log, at, code, d, midday};

    /// Receives the person at the log's establishment at midday on `on`.
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

    /// Registers a synthetic person and receives them at midday on `on`.
    fn held(log: &mut Log, number: &str, on: &str) -> PersonId {
        let p = log.person(number);
        receive(log, p, on);
        p
    }

    fn release(log: &mut Log, p: PersonId, on: &str) -> EventId {
        leave(log, p, on, ReleaseKind::Released)
    }

    /// A course of keyworking started (structured treatment: it opens an episode).
    fn start(on: &str) -> EventKind {
        EventKind::InterventionUpdated(InterventionUpdate {
            intervention: "keyworking".into(),
            target: InterventionTarget::Opiates,
            status: InterventionStatus::Started,
            on: d(on),
            course: None,
            language: None,
            note: None,
        })
    }

    fn exit(on: &str, reason: ExitReason) -> EventKind {
        EventKind::TreatmentExited(TreatmentExit {
            exited_on: d(on),
            reason,
            note: None,
        })
    }

    /// A TOP with the ratings psychological health, physical health and quality of
    /// life.
    fn top(on: &str, stage: TopStage, [psychological, physical, quality]: [u8; 3]) -> EventKind {
        EventKind::TopCompleted(TreatmentOutcomesProfile {
            completed_on: d(on),
            stage,
            substance_use: vec![],
            other_substance: None,
            injecting_days: 0,
            shared_needles: false,
            shared_other_equipment: false,
            shoplifting_days: 0,
            drug_selling_days: 0,
            other_theft_days: 0,
            assault_days: 0,
            psychological_health: psychological,
            physical_health: physical,
            quality_of_life: quality,
            paid_work_days: 0,
            education_days: 0,
            acute_housing_problem: false,
            risk_of_eviction: false,
        })
    }

    fn vaccine(virus: Virus, step: BbvStep, on: &str) -> EventKind {
        EventKind::BloodBorneVirusRecorded(BloodBorneVirusRecord {
            virus,
            step,
            on: d(on),
            dose: (step == BbvStep::VaccineDose).then_some(1),
            result: None,
        })
    }

    fn death(on: &str, cause: DeathCause) -> EventKind {
        EventKind::DeathRecorded(Death {
            died_on: d(on),
            cause,
            source: Some("Coroner's office".into()),
        })
    }

    fn reoffence(on: &str) -> EventKind {
        EventKind::ReoffenceRecorded(Reoffence {
            offended_on: d(on),
            source: Some("Probation".into()),
        })
    }

    fn close(release: EventId, on: &str, outcome: FollowUpOutcome) -> EventKind {
        EventKind::FollowUpClosed(FollowUpClosed {
            release,
            closed_on: d(on),
            outcome,
            note: None,
        })
    }

    fn correct(log: &mut Log, p: PersonId, target: EventId, kind: EventKind) {
        log.try_command(
            p,
            Command::Correct {
                target,
                reason: "Recorded wrongly".into(),
                kind,
            },
        )
        .unwrap();
    }

    fn in_error(log: &mut Log, p: PersonId, target: EventId) {
        log.try_command(
            p,
            Command::EnterInError {
                target,
                reason: "Wrong person".into(),
            },
        )
        .unwrap();
    }

    #[test]
    fn people_completing_drug_or_alcohol_treatment_3_1_and_3_2() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        use ExitReason::*;
        // MDI. A completes drug free on 20 July, starts again and completes drug free
        // again on 10 September: two qualifying exits, one person.
        let a = held(&mut log, "A0001AA", "2026-06-01");
        log.record(a, start("2026-06-10")).unwrap();
        log.record(a, exit("2026-07-20", CompletedDrugFree))
            .unwrap();
        log.record(a, start("2026-08-01")).unwrap();
        log.record(a, exit("2026-09-10", CompletedDrugFree))
            .unwrap();
        // B completes alcohol free on the quarter's last day.
        let b = held(&mut log, "A0002AA", "2026-06-01");
        log.record(b, start("2026-06-10")).unwrap();
        log.record(b, exit("2026-09-30", CompletedAlcoholFree))
            .unwrap();
        // C completed drug free on 30 June: the quarter before.
        let c = held(&mut log, "A0003AA", "2026-06-01");
        log.record(c, start("2026-06-10")).unwrap();
        log.record(c, exit("2026-06-30", CompletedDrugFree))
            .unwrap();
        // D dropped out: neither line.
        let dd = held(&mut log, "A0004AA", "2026-06-01");
        log.record(dd, start("2026-06-10")).unwrap();
        log.record(dd, exit("2026-08-01", DroppedOut)).unwrap();
        // EYI. E completes drug free on 15 August.
        log.establishment = code("EYI");
        let e = held(&mut log, "A0005AA", "2026-06-01");
        log.record(e, start("2026-06-10")).unwrap();
        log.record(e, exit("2026-08-15", CompletedDrugFree))
            .unwrap();
        // F's "completed drug free" is corrected to a drop-out: superseded.
        let f = held(&mut log, "A0006AA", "2026-06-01");
        log.record(f, start("2026-06-10")).unwrap();
        let wrong = log
            .record(f, exit("2026-08-20", CompletedDrugFree))
            .unwrap();
        correct(&mut log, f, wrong[0], exit("2026-08-20", DroppedOut));
        // G's "completed alcohol free" is entered in error.
        let g = held(&mut log, "A0007AA", "2026-06-01");
        log.record(g, start("2026-06-10")).unwrap();
        let wrong = log
            .record(g, exit("2026-08-20", CompletedAlcoholFree))
            .unwrap();
        in_error(&mut log, g, wrong[0]);

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        // 3.1: MDI {A} = 1; EYI {E} = 1 (F corrected away); all {A, E} = 2.
        assert_eq!(count(&r, "3.1", &row("MDI")), 1);
        assert_eq!(count(&r, "3.1", &row("EYI")), 1);
        assert_eq!(count(&r, "3.1", &RowKey::All), 2);
        // 3.2: MDI {B} = 1; EYI {} = 0 (G in error); all = 1.
        assert_eq!(count(&r, "3.2", &row("MDI")), 1);
        assert_eq!(count(&r, "3.2", &row("EYI")), 0);
        assert_eq!(count(&r, "3.2", &RowKey::All), 1);
        assert_eq!(r.figure("3.1").unwrap().unit, "people");
    }

    #[test]
    fn two_prison_numbers_count_twice_before_their_merge_and_once_after() {
        let mut log = Log::new();
        log.now = at("2026-10-01T10:00:00Z");
        // One man known by two prison numbers, each completing treatment drug free at
        // MDI in the quarter.
        let x = held(&mut log, "A1111AA", "2026-06-01");
        log.record(x, start("2026-06-10")).unwrap();
        log.record(x, exit("2026-07-20", ExitReason::CompletedDrugFree))
            .unwrap();
        let y = held(&mut log, "B2222BB", "2026-06-02");
        log.record(y, start("2026-06-12")).unwrap();
        log.record(y, exit("2026-08-20", ExitReason::CompletedDrugFree))
            .unwrap();
        let before = "2026-10-02T10:00:00Z";
        let r = km(&log, "2026Q3", before);
        assert_eq!(
            count(&r, "3.1", &row("MDI")),
            2,
            "two people as at 2 October"
        );
        assert_eq!(count(&r, "3.1", &RowKey::All), 2);

        // Found to be one person on 3 October.
        log.now = at("2026-10-03T10:00:00Z");
        log.merge(x, y).unwrap();
        let after = km(&log, "2026Q3", "2026-10-04T10:00:00Z");
        assert_eq!(count(&after, "3.1", &row("MDI")), 1, "one person after");
        assert_eq!(count(&after, "3.1", &RowKey::All), 1);
        // The return as at 2 October is unchanged by the later merge.
        assert_eq!(km(&log, "2026Q3", before), r);
    }

    #[test]
    fn a_person_transferred_mid_quarter_counts_at_both_establishments_and_once_in_all() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        // P completes drug free at MDI on 20 July, starts again, is transferred to
        // EYI on 10 August and completes drug free there on 15 September.
        let p = held(&mut log, "A0001AA", "2026-06-01");
        log.record(p, start("2026-06-05")).unwrap();
        log.record(p, exit("2026-07-20", ExitReason::CompletedDrugFree))
            .unwrap();
        log.record(p, start("2026-07-25")).unwrap();
        transfer(&mut log, p, "MDI", "EYI", "2026-08-10");
        log.record(p, exit("2026-09-15", ExitReason::CompletedDrugFree))
            .unwrap();
        // Q, at EYI throughout, completes alcohol free: not in 3.1.
        let q = held(&mut log, "A0002AA", "2026-06-01");
        log.record(q, start("2026-06-05")).unwrap();
        log.record(q, exit("2026-08-01", ExitReason::CompletedAlcoholFree))
            .unwrap();

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        // P at MDI (20 July) and at EYI (15 September); once in all.
        assert_eq!(count(&r, "3.1", &row("MDI")), 1);
        assert_eq!(count(&r, "3.1", &row("EYI")), 1);
        assert_eq!(count(&r, "3.1", &RowKey::All), 1);
        assert_eq!(count(&r, "3.2", &row("EYI")), 1);
        assert_eq!(count(&r, "3.2", &row("MDI")), 0);
    }

    #[test]
    fn people_completing_a_hepatitis_b_vaccination_course_3_3() {
        use BbvStep::*;
        use Virus::*;
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        // A completes the course on 1 August and (recorded again) on 1 September:
        // one person.
        let a = held(&mut log, "A0001AA", "2026-05-01");
        log.record(a, vaccine(HepatitisB, VaccineDose, "2026-06-01"))
            .unwrap();
        log.record(a, vaccine(HepatitisB, VaccinationCompleted, "2026-08-01"))
            .unwrap();
        log.record(a, vaccine(HepatitisB, VaccinationCompleted, "2026-09-01"))
            .unwrap();
        // B completes hepatitis A vaccination: another virus.
        let b = held(&mut log, "A0002AA", "2026-05-01");
        log.record(b, vaccine(HepatitisA, VaccineDose, "2026-06-01"))
            .unwrap();
        log.record(b, vaccine(HepatitisA, VaccinationCompleted, "2026-08-01"))
            .unwrap();
        // C has only a dose in the quarter.
        let c = held(&mut log, "A0003AA", "2026-05-01");
        log.record(c, vaccine(HepatitisB, VaccineDose, "2026-08-01"))
            .unwrap();
        // E completed on 30 June: the quarter before.
        let e = held(&mut log, "A0005AA", "2026-05-01");
        log.record(e, vaccine(HepatitisB, VaccineDose, "2026-05-02"))
            .unwrap();
        log.record(e, vaccine(HepatitisB, VaccinationCompleted, "2026-06-30"))
            .unwrap();
        // F's completion is entered in error.
        let f = held(&mut log, "A0006AA", "2026-05-01");
        log.record(f, vaccine(HepatitisB, VaccineDose, "2026-06-01"))
            .unwrap();
        let wrong = log
            .record(f, vaccine(HepatitisB, VaccinationCompleted, "2026-08-05"))
            .unwrap();
        in_error(&mut log, f, wrong[0]);
        // D completes at EYI on the quarter's last day.
        log.establishment = code("EYI");
        let dd = held(&mut log, "A0004AA", "2026-05-01");
        log.record(dd, vaccine(HepatitisB, VaccineDose, "2026-06-01"))
            .unwrap();
        log.record(dd, vaccine(HepatitisB, VaccinationCompleted, "2026-09-30"))
            .unwrap();

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        // MDI {A} = 1; EYI {D} = 1; all {A, D} = 2.
        assert_eq!(count(&r, "3.3", &row("MDI")), 1);
        assert_eq!(count(&r, "3.3", &row("EYI")), 1);
        assert_eq!(count(&r, "3.3", &RowKey::All), 2);
    }

    #[test]
    fn reoffending_and_not_reoffending_within_12_months_3_4_and_3_5() {
        use FollowUpOutcome::*;
        let mut log = Log::new();
        // The 2027 Q3 return: the cohort is releases from 1 July to 30 September
        // 2026, whose windows end from 1 July to 30 September 2027.
        log.now = at("2027-10-05T10:00:00Z");
        // A (MDI): released 1 July 2026, reoffends 1 July 2027, the window's last
        // day: 3.4.
        let a = held(&mut log, "A0001AA", "2026-01-05");
        release(&mut log, a, "2026-07-01");
        log.record(a, reoffence("2027-07-01")).unwrap();
        // B (MDI): released 10 August 2026, closed "not reoffended" on 11 August
        // 2027: 3.5.
        let b = held(&mut log, "A0002AA", "2026-01-05");
        let rb = release(&mut log, b, "2026-08-10");
        log.record(b, close(rb, "2027-08-11", NotReoffended))
            .unwrap();
        // C (MDI): released 30 September 2026, window not yet closed: neither.
        let c = held(&mut log, "A0003AA", "2026-01-05");
        release(&mut log, c, "2026-09-30");
        // D (MDI): released 30 June 2026 (window ends in Q2 2027), reoffended: not
        // in this cohort.
        let dd = held(&mut log, "A0004AA", "2026-01-05");
        release(&mut log, dd, "2026-06-30");
        log.record(dd, reoffence("2026-12-01")).unwrap();
        // H (MDI): released 10 July 2026; a reoffence entered in error; closed "not
        // reoffended" on 11 July 2027: 3.5.
        let h = held(&mut log, "A0008AA", "2026-01-05");
        let rh = release(&mut log, h, "2026-07-10");
        let wrong = log.record(h, reoffence("2027-01-10")).unwrap();
        in_error(&mut log, h, wrong[0]);
        log.record(h, close(rh, "2027-07-11", NotReoffended))
            .unwrap();
        // J (MDI): released 2 July 2026, window closed "not reoffended"; received
        // again and released 20 September 2026; reoffends 10 July 2027, within the
        // second window only. A window qualifying for 3.4 puts J in 3.4 alone.
        let j = held(&mut log, "A0010AA", "2026-01-05");
        let rj = release(&mut log, j, "2026-07-02");
        receive(&mut log, j, "2026-08-01");
        release(&mut log, j, "2026-09-20");
        log.record(j, reoffence("2027-07-10")).unwrap();
        log.record(j, close(rj, "2027-07-11", NotReoffended))
            .unwrap();
        // I: released from MDI on 5 July 2026, received at EYI on 20 July and
        // released from there on 1 September; reoffends 10 September 2026, within
        // both windows: counted at MDI and EYI, once in all.
        let i = held(&mut log, "A0009AA", "2026-01-05");
        release(&mut log, i, "2026-07-05");
        log.establishment = code("EYI");
        receive(&mut log, i, "2026-07-20");
        release(&mut log, i, "2026-09-01");
        log.record(i, reoffence("2026-09-10")).unwrap();
        // E (EYI): released 15 July 2026, reoffends on 16 July 2027, the day after
        // the window: closed "not reoffended": 3.5.
        let e = held(&mut log, "A0005AA", "2026-01-05");
        let re = release(&mut log, e, "2026-07-15");
        log.record(e, reoffence("2027-07-16")).unwrap();
        log.record(e, close(re, "2027-07-16", NotReoffended))
            .unwrap();
        // F (EYI): released 1 August 2026, lost to follow-up: neither.
        let f = held(&mut log, "A0006AA", "2026-01-05");
        let rf = release(&mut log, f, "2026-08-01");
        log.record(f, close(rf, "2027-08-02", LostToFollowUp))
            .unwrap();
        // G (DVI): released 20 July 2026: reoffending is not an outcome there.
        log.establishment = code("DVI");
        let g = held(&mut log, "A0007AA", "2026-01-05");
        release(&mut log, g, "2026-07-20");

        let r = km(&log, "2027Q3", "2027-10-05T10:00:00Z");
        // 3.4: MDI {A, I, J} = 3; EYI {I} = 1; all {A, I, J} = 3.
        assert_eq!(count(&r, "3.4", &row("MDI")), 3);
        assert_eq!(count(&r, "3.4", &row("EYI")), 1);
        assert_eq!(count(&r, "3.4", &RowKey::All), 3);
        // 3.5: MDI {B, H} = 2 (not J); EYI {E} = 1; all = 3.
        assert_eq!(count(&r, "3.5", &row("MDI")), 2);
        assert_eq!(count(&r, "3.5", &row("EYI")), 1);
        assert_eq!(count(&r, "3.5", &RowKey::All), 3);
        for line in ["3.4", "3.5"] {
            assert_eq!(
                value(&r, line, &row("DVI")),
                Value::NotApplicable("KM 2.1.1 note 1".into())
            );
            assert_eq!(
                value(&r, line, &row("DVI")).display(),
                "Not applicable (KM 2.1.1 note 1)"
            );
        }
        // A year earlier (2026 Q3) nobody's window had ended.
        let early = km(&log, "2026Q3", "2027-10-05T10:00:00Z");
        assert_eq!(count(&early, "3.4", &RowKey::All), 0);
    }

    #[test]
    fn average_change_in_wellbeing_ratings_3_6() {
        use TopStage::*;
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        // A: start TOP 1 June (8, 10, 7); review at MDI 15 July (10, 12, 7);
        // transferred to EYI 1 August; review there 1 September (14, 11, 9).
        let a = held(&mut log, "A0001AA", "2026-05-01");
        log.record(a, top("2026-06-01", Start, [8, 10, 7])).unwrap();
        log.record(a, top("2026-07-15", Review, [10, 12, 7]))
            .unwrap();
        transfer(&mut log, a, "MDI", "EYI", "2026-08-01");
        log.record(a, top("2026-09-01", Review, [14, 11, 9]))
            .unwrap();
        log.establishment = code("MDI");
        // B: start 1 July (5, 5, 5), exit 20 August (9, 4, 10); a review on 1 October
        // is after the quarter.
        let b = held(&mut log, "A0002AA", "2026-05-01");
        log.record(b, top("2026-07-01", Start, [5, 5, 5])).unwrap();
        log.record(b, top("2026-08-20", Exit, [9, 4, 10])).unwrap();
        log.record(b, top("2026-10-01", PostExit, [20, 20, 20]))
            .unwrap();
        // C: a review with no start TOP: left out.
        let c = held(&mut log, "A0003AA", "2026-05-01");
        log.record(c, top("2026-08-01", Review, [20, 20, 20]))
            .unwrap();
        // E: start 1 June (6, 6, 6); a review of 1 September (16, 16, 16) corrected
        // to (7, 7, 7).
        let e = held(&mut log, "A0005AA", "2026-05-01");
        log.record(e, top("2026-06-01", Start, [6, 6, 6])).unwrap();
        let wrong = log
            .record(e, top("2026-09-01", Review, [16, 16, 16]))
            .unwrap();
        correct(&mut log, e, wrong[0], top("2026-09-01", Review, [7, 7, 7]));
        // F: a first episode (start 1 March (2, 2, 2), exit 1 April (4, 4, 4)); a
        // second episode's start 1 July (10, 10, 10); review 15 September (12, 9,
        // 10): measured from the second start.
        let f = held(&mut log, "A0006AA", "2026-02-01");
        log.record(f, top("2026-03-01", Start, [2, 2, 2])).unwrap();
        log.record(f, top("2026-04-01", Exit, [4, 4, 4])).unwrap();
        log.record(f, top("2026-07-01", Start, [10, 10, 10]))
            .unwrap();
        log.record(f, top("2026-09-15", Review, [12, 9, 10]))
            .unwrap();

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        let mean = |code: &str, row: &RowKey| value(&r, code, row);
        let m = |sum, count| Value::Mean { sum, count };
        // MDI uses A's MDI review (15 July): A (+2, +2, 0), B (+4, -1, +5), E (+1,
        // +1, +1), F (+2, -1, 0).
        // Psychological: 2 + 4 + 1 + 2 = 9 over 4 = 2.25, shown 2.3.
        assert_eq!(mean("3.6 psychological_health", &row("MDI")), m(9, 4));
        assert_eq!(
            mean("3.6 psychological_health", &row("MDI")).display(),
            "2.3"
        );
        // Physical: 2 - 1 + 1 - 1 = 1 over 4 = 0.25, shown 0.3.
        assert_eq!(mean("3.6 physical_health", &row("MDI")), m(1, 4));
        assert_eq!(mean("3.6 physical_health", &row("MDI")).display(), "0.3");
        // Quality of life: 0 + 5 + 1 + 0 = 6 over 4 = 1.5.
        assert_eq!(mean("3.6 quality_of_life", &row("MDI")), m(6, 4));
        // EYI: A's EYI review (1 September) only: (+6, +1, +2).
        assert_eq!(mean("3.6 psychological_health", &row("EYI")), m(6, 1));
        assert_eq!(mean("3.6 physical_health", &row("EYI")), m(1, 1));
        assert_eq!(mean("3.6 quality_of_life", &row("EYI")), m(2, 1));
        // All uses A's latest overall (1 September): psychological 6 + 4 + 1 + 2 =
        // 13 over 4 = 3.25, shown 3.3; physical 1 - 1 + 1 - 1 = 0; quality of life
        // 2 + 5 + 1 + 0 = 8 over 4 = 2.0.
        assert_eq!(mean("3.6 psychological_health", &RowKey::All), m(13, 4));
        assert_eq!(
            mean("3.6 psychological_health", &RowKey::All).display(),
            "3.3"
        );
        assert_eq!(mean("3.6 physical_health", &RowKey::All), m(0, 4));
        assert_eq!(mean("3.6 quality_of_life", &RowKey::All), m(8, 4));
        assert_eq!(mean("3.6 quality_of_life", &row("BHI")).display(), "");
        assert_eq!(r.figure("3.6 quality_of_life").unwrap().unit, "points");
    }

    #[test]
    fn drug_or_alcohol_related_deaths_within_12_months_of_release_3_7() {
        use DeathCause::*;
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        // A (MDI): released 2 March 2026, drug-related death 1 August: MDI.
        let a = held(&mut log, "A0001AA", "2026-01-05");
        release(&mut log, a, "2026-03-02");
        log.record(a, death("2026-08-01", DrugRelated)).unwrap();
        // C (MDI): released 1 July 2025; died 2 July 2026, the day after the window
        // (which ends 1 July 2026).
        let c = held(&mut log, "A0003AA", "2025-01-05");
        release(&mut log, c, "2025-07-01");
        log.record(c, death("2026-07-02", DrugRelated)).unwrap();
        // D (MDI): released 1 February, received again 1 May, died in custody 1
        // August.
        let dd = held(&mut log, "A0004AA", "2026-01-05");
        release(&mut log, dd, "2026-02-01");
        receive(&mut log, dd, "2026-05-01");
        log.record(dd, death("2026-08-01", DrugRelated)).unwrap();
        // E (MDI): released 1 April, died 1 August of an unrelated cause.
        let e = held(&mut log, "A0005AA", "2026-01-05");
        release(&mut log, e, "2026-04-01");
        log.record(e, death("2026-08-01", NotRelated)).unwrap();
        // F (MDI): released 1 April, died 5 August, cause not known, corrected to
        // drug and alcohol related: counts.
        let f = held(&mut log, "A0006AA", "2026-01-05");
        release(&mut log, f, "2026-04-01");
        let unknown = log.record(f, death("2026-08-05", NotKnown)).unwrap();
        correct(
            &mut log,
            f,
            unknown[0],
            death("2026-08-05", DrugAndAlcoholRelated),
        );
        // G (MDI): released 1 April, drug-related death on 30 June: the quarter
        // before.
        let g = held(&mut log, "A0007AA", "2026-01-05");
        release(&mut log, g, "2026-04-01");
        log.record(g, death("2026-06-30", DrugRelated)).unwrap();
        // I (MDI): released 1 April, drug-related death 1 September, corrected to
        // unrelated only after the as-at instant.
        let i = held(&mut log, "A0009AA", "2026-01-05");
        release(&mut log, i, "2026-04-01");
        let later = log.record(i, death("2026-09-01", DrugRelated)).unwrap();
        // B: received at MDI, transferred to EYI, released from EYI 10 July; died of
        // an alcohol-related cause 30 September: EYI.
        let b = held(&mut log, "A0002AA", "2026-01-05");
        transfer(&mut log, b, "MDI", "EYI", "2026-03-01");
        release(&mut log, b, "2026-07-10");
        log.record(b, death("2026-09-30", AlcoholRelated)).unwrap();
        // H (DVI): deported 1 May, drug-related death 20 July: DVI (both kinds of
        // leaving count, and 3.7 applies at the IRC).
        log.establishment = code("DVI");
        let h = held(&mut log, "A0008AA", "2026-01-05");
        leave(&mut log, h, "2026-05-01", ReleaseKind::Deported);
        log.record(h, death("2026-07-20", DrugRelated)).unwrap();

        let as_at = "2026-10-05T10:00:00Z";
        log.now = at("2026-10-06T10:00:00Z");
        log.establishment = code("MDI");
        correct(&mut log, i, later[0], death("2026-09-01", NotRelated));

        let r = km(&log, "2026Q3", as_at);
        // MDI {A, F, I} = 3; EYI {B} = 1; DVI {H} = 1; all = 5.
        assert_eq!(count(&r, "3.7", &row("MDI")), 3);
        assert_eq!(count(&r, "3.7", &row("EYI")), 1);
        assert_eq!(count(&r, "3.7", &row("DVI")), 1);
        assert_eq!(count(&r, "3.7", &RowKey::All), 5);
        // As at after the correction, I no longer counts: MDI {A, F} = 2.
        let now = km(&log, "2026Q3", "2026-10-06T10:00:00Z");
        assert_eq!(count(&now, "3.7", &row("MDI")), 2);
        assert_eq!(count(&now, "3.7", &RowKey::All), 4);
    }
}
