//! The S4 six-monthly anonymised report's minimum items, S4.5.1–S4.5.7 (S4 §5;
//! docs/kpis.md §4). One function per item, beside its definition.

use crate::custody::ReleaseKind;
use crate::events::{EventKind, RecordedEvent};
use crate::identifiers::EstablishmentCode;
use crate::interventions::InterventionStatus;
use crate::record_ids::PersonId;
use crate::referrals::ReferralClosureReason;
use crate::release::{EngagementOutcome, ReleasePlan, engaged_within_window};
use crate::returns::KpiFn;
use crate::returns::cut::{Cut, PersonRecord, event_date};
use crate::returns::figure::{Figure, Item, LineFigure, Measure};
use crate::returns::period::Period;
use crate::returns::shared::{Leaving, in_treatment_at, releases};
use crate::surveys::{SurveyKind, SurveyResponse};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// The report's items, in order.
pub const LINES: &[KpiFn] = &[s4_5_1, s4_5_2, s4_5_3, s4_5_4, s4_5_5, s4_5_6, s4_5_7];

/// S4.5.1: "The number of referrals into the service." — each `referral_made` by
/// `referred_on`, from every source, except those closed as duplicates (docs/kpis.md
/// S4.5.1).
pub fn s4_5_1(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        for r in &p.case.referrals {
            let duplicate = matches!(r.closed, Some((_, ReferralClosureReason::Duplicate)));
            if !duplicate && period.contains(r.referral.referred_on) {
                items.push(Item::event(
                    &r.establishment,
                    p.person,
                    r.id,
                    r.referral.referred_on,
                ));
            }
        }
    }
    vec![LineFigure::new(
        "S4.5.1",
        "The number of referrals into the service.",
        "events",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

/// Every offer of the service in the period (docs/kpis.md S4.5.2): an
/// `appointment_offered` (on the date the offer was recorded), the first step of an
/// intervention course (any `status`), or a `referral_closed` with `reason:
/// declined`; at the event's establishment.
fn offers(cut: &Cut<'_>, period: &Period) -> Vec<Item> {
    cut.people
        .values()
        .flat_map(|p| {
            p.of(|k| match k {
                EventKind::AppointmentOffered(_) => Some(()),
                EventKind::InterventionUpdated(u) if u.course.is_none() => Some(()),
                EventKind::ReferralClosed(c) if c.reason == ReferralClosureReason::Declined => {
                    Some(())
                }
                _ => None,
            })
            .map(|(e, ())| (e, event_date(e)))
            .filter(|(_, on)| period.contains(*on))
            .map(|(e, on)| Item::event(&e.establishment, p.person, e.id, on))
        })
        .collect()
}

/// S4.5.2: "The number offered the service." — people offered an appointment or an
/// intervention, or recorded as declining, in the period (docs/kpis.md S4.5.2).
pub fn s4_5_2(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    vec![LineFigure::new(
        "S4.5.2",
        "The number offered the service.",
        "people",
        Figure::Count {
            measure: Measure::People,
            items: offers(cut, period),
        },
    )]
}

/// Whether an effective event is engagement in an intervention (docs/kpis.md
/// S4.5.3): a course step `started`, a structured start on the clinical pathway, or a
/// session of any kind attended. Attending an appointment is not.
fn is_engagement(kind: &EventKind) -> bool {
    match kind {
        EventKind::InterventionUpdated(u) => u.status == InterventionStatus::Started,
        EventKind::ClinicalEventRecorded(c) => c.step.starts_treatment(),
        EventKind::SessionAttended(_) => true,
        _ => false,
    }
}

/// S4.5.3: "The number and % who are offered the service who engage in an
/// intervention." — of the people of S4.5.2, those who engaged in an intervention on
/// or after their first offer in the period and on or before the period's last day;
/// counted at each establishment where they were offered (docs/kpis.md S4.5.3).
pub fn s4_5_3(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let denominator = offers(cut, period);
    let mut first_offer: BTreeMap<PersonId, (NaiveDate, BTreeSet<&EstablishmentCode>)> =
        BTreeMap::new();
    for i in &denominator {
        let (Some(person), Some(on)) = (i.person, i.on) else {
            continue;
        };
        let entry = first_offer
            .entry(person)
            .or_insert_with(|| (on, BTreeSet::new()));
        entry.0 = entry.0.min(on);
        entry.1.insert(&i.establishment);
    }
    let mut numerator = Vec::new();
    for (person, (first, at)) in &first_offer {
        let Some(p) = cut.people.get(person) else {
            continue;
        };
        let engaged = p.events.iter().find(|e| {
            let on = event_date(e);
            is_engagement(&e.kind) && *first <= on && on <= period.last
        });
        if let Some(e) = engaged {
            for establishment in at {
                numerator.push(Item::event(establishment, *person, e.id, event_date(e)));
            }
        }
    }
    vec![LineFigure::new(
        "S4.5.3",
        "The number and % who are offered the service who engage in an intervention.",
        "%",
        Figure::Proportion {
            measure: Measure::People,
            numerator,
            denominator,
        },
    )]
}

/// The person's latest release with `kind: released` in the period (D9).
fn released_in<'a>(p: &'a PersonRecord, period: &Period) -> Option<Leaving<'a>> {
    releases(p)
        .into_iter()
        .filter(|r| r.kind == ReleaseKind::Released)
        .rfind(|r| period.contains(r.on))
}

/// The date of the reception that began the stay a release ends: the latest
/// effective `received` before it.
fn stay_began(p: &PersonRecord, release: &RecordedEvent) -> Option<NaiveDate> {
    p.events
        .iter()
        .filter(|e| {
            matches!(e.kind, EventKind::Received(_))
                && (e.occurred_at, e.seq) < (release.occurred_at, release.seq)
        })
        .map(event_date)
        .next_back()
}

/// The release plans agreed in the stay a release ends: `agreed_on` on or after the
/// stay's reception and on or before the release date, in (`occurred_at`, `seq`)
/// order.
fn plans_in_stay<'a>(p: &'a PersonRecord, release: &Leaving<'_>) -> Vec<&'a ReleasePlan> {
    let began = stay_began(p, release.event);
    p.of(|k| match k {
        EventKind::ReleasePlanAgreed(plan) => Some(plan),
        _ => None,
    })
    .map(|(_, plan)| plan)
    .filter(|plan| plan.agreed_on <= release.on && began.is_none_or(|b| plan.agreed_on >= b))
    .collect()
}

/// S4.5.4: "The number who have arrangements in place for community-based treatment
/// on release." — people released (`kind: released`) in the period, on their latest
/// such release, whose current release plan at that release names a community
/// provider and a first appointment; at the releasing establishment (docs/kpis.md
/// S4.5.4).
pub fn s4_5_4(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        let Some(r) = released_in(p, period) else {
            continue;
        };
        // The current plan: the latest `agreed_on` (the later of a tie).
        let current = plans_in_stay(p, &r)
            .into_iter()
            .max_by_key(|plan| plan.agreed_on);
        let arranged = current.is_some_and(|plan| {
            plan.community_provider
                .as_deref()
                .is_some_and(|c| !c.trim().is_empty())
                && plan.first_appointment.is_some()
        });
        if arranged {
            items.push(Item::event(
                &r.event.establishment,
                p.person,
                r.event.id,
                r.on,
            ));
        }
    }
    vec![LineFigure::new(
        "S4.5.4",
        "The number who have arrangements in place for community-based treatment on release.",
        "people",
        Figure::Count {
            measure: Measure::People,
            items,
        },
    )]
}

/// S4.5.5: "The number and % of Individuals who successfully engage in
/// community-based treatment with the Service Provider following release." — of the
/// people released (`kind: released`) in the period who, at their latest such
/// release, were in treatment (D4) or had a release plan agreed in that stay, those
/// with a `community_engagement_recorded` `engaged` dated on or after the release and
/// before any later reception; one row for engagement at any time and one within 21
/// days; at the releasing establishment (docs/kpis.md S4.5.5).
pub fn s4_5_5(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let (mut denominator, mut any_time, mut within) = (Vec::new(), Vec::new(), Vec::new());
    for p in cut.people.values() {
        let Some(r) = released_in(p, period) else {
            continue;
        };
        let in_treatment = in_treatment_at(cut.profile, p, r.on);
        if !in_treatment && plans_in_stay(p, &r).is_empty() {
            continue;
        }
        denominator.push(Item::event(
            &r.event.establishment,
            p.person,
            r.event.id,
            r.on,
        ));
        let back_in = p
            .events
            .iter()
            .find(|e| {
                matches!(e.kind, EventKind::Received(_))
                    && (e.occurred_at, e.seq) > (r.event.occurred_at, r.event.seq)
            })
            .map(event_date);
        let engagements: Vec<_> = p
            .of(|k| match k {
                EventKind::CommunityEngagementRecorded(c)
                    if c.outcome == EngagementOutcome::Engaged =>
                {
                    Some(c.on)
                }
                _ => None,
            })
            .filter(|(_, on)| *on >= r.on && back_in.is_none_or(|b| *on < b))
            .collect();
        if let Some((e, on)) = engagements.first() {
            any_time.push(Item::event(&r.event.establishment, p.person, e.id, *on));
        }
        if let Some((e, on)) = engagements
            .iter()
            .find(|(_, on)| engaged_within_window(r.on, *on))
        {
            within.push(Item::event(&r.event.establishment, p.person, e.id, *on));
        }
    }
    let label = "The number and % of Individuals who successfully engage in community-based treatment with the Service Provider following release.";
    vec![
        LineFigure::new(
            "S4.5.5",
            label,
            "%",
            Figure::Proportion {
                measure: Measure::People,
                numerator: any_time,
                denominator: denominator.clone(),
            },
        ),
        LineFigure::new(
            "S4.5.5 within 21 days",
            label,
            "%",
            Figure::Proportion {
                measure: Measure::People,
                numerator: within,
                denominator,
            },
        ),
    ]
}

/// S4.5.6: "Recovery work outcomes to be developed between the Service Provider and
/// the Prison Offender Management" — not yet defined: the specification leaves these
/// outcomes to be agreed, so nothing is reported (docs/kpis.md S4.5.6).
pub fn s4_5_6(_: &Cut<'_>, _: &Period) -> Vec<LineFigure> {
    vec![LineFigure::new(
        "S4.5.6",
        "Recovery work outcomes to be developed between the Service Provider and the Prison Offender Management",
        "",
        Figure::NotDefined,
    )]
}

/// One survey response of the experience questionnaire, as S4.5.7 reads it.
struct Response<'a> {
    /// Its event.
    event: &'a RecordedEvent,
    /// The response.
    response: &'a SurveyResponse,
    /// Where it counts: its code's issuing establishment, or its own for paper.
    at: &'a EstablishmentCode,
    /// Its code's pairing key, if it came by a code that carries one.
    pair: Option<&'a str>,
}

impl Response<'_> {
    /// The item for this response.
    fn item(&self) -> Item {
        Item {
            establishment: self.at.clone(),
            person: None,
            event: Some(self.event.id),
            on: Some(self.response.received_on),
        }
    }
}

/// S4.5.7: "Client experience pre and post questionnaire at the end of their
/// treatment journey." — four rows: the pre and the post responses received in the
/// period; the post responses in the period paired (by their codes' `pair` key) with
/// the latest pre response received on or before them; and the average change over
/// those pairs, post score minus pre score (5 very satisfied to 1). A response by code
/// counts at its code's issuing establishment, a paper one at its own (docs/kpis.md
/// S4.5.7, §1.6).
pub fn s4_5_7(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut codes: BTreeMap<&str, (&EstablishmentCode, Option<&str>)> = BTreeMap::new();
    for e in &cut.service_events {
        if let EventKind::SurveyCodeIssued(c) = &e.kind {
            codes.insert(&c.code_hash, (&e.establishment, c.pair.as_deref()));
        }
    }
    let responses: Vec<Response<'_>> = cut
        .service_events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SurveyResponseRecorded(x)
                if matches!(
                    x.survey,
                    SurveyKind::ExperiencePre | SurveyKind::ExperiencePost
                ) =>
            {
                let code = x.code_hash.as_deref().and_then(|h| codes.get(h));
                Some(Response {
                    event: e,
                    response: x,
                    at: code.map_or(&e.establishment, |(at, _)| *at),
                    pair: code.and_then(|(_, pair)| *pair),
                })
            }
            _ => None,
        })
        .collect();
    let of = |survey: SurveyKind| {
        responses
            .iter()
            .filter(move |r| r.response.survey == survey && period.contains(r.response.received_on))
    };
    let pre: Vec<Item> = of(SurveyKind::ExperiencePre).map(Response::item).collect();
    let post: Vec<Item> = of(SurveyKind::ExperiencePost).map(Response::item).collect();
    let mut pairs = Vec::new();
    let mut changes = Vec::new();
    for after in of(SurveyKind::ExperiencePost) {
        let Some(key) = after.pair else { continue };
        // The latest pre response with the same key received on or before it (the
        // later in the log of two on one day).
        let before = responses
            .iter()
            .filter(|r| {
                r.response.survey == SurveyKind::ExperiencePre
                    && r.pair == Some(key)
                    && r.response.received_on <= after.response.received_on
            })
            .max_by_key(|r| (r.response.received_on, r.event.seq));
        if let Some(before) = before {
            pairs.push(after.item());
            changes.push((
                after.item(),
                i64::from(after.response.rating.score())
                    - i64::from(before.response.rating.score()),
            ));
        }
    }
    let label =
        "Client experience pre and post questionnaire at the end of their treatment journey.";
    let responses = |code: &str, items: Vec<Item>| {
        LineFigure::new(
            code,
            label,
            "responses",
            Figure::Count {
                measure: Measure::Events,
                items,
            },
        )
    };
    vec![
        responses("S4.5.7 pre", pre),
        responses("S4.5.7 post", post),
        responses("S4.5.7 pairs", pairs),
        LineFigure::new(
            "S4.5.7 change",
            label,
            "points",
            Figure::Mean {
                values: changes,
                latest_per_person: false,
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::clinical::{ClinicalEvent, ClinicalStep, Medication};
    use crate::custody::{Reception, ReceptionType, ReleaseKind};
    use crate::decide::Command;
    use crate::events::EventKind;
    use crate::interventions::{
        InterventionStatus, InterventionTarget, InterventionUpdate, SessionAttended, SessionKind,
    };
    use crate::profile::Profile;
    use crate::record_ids::{EventId, PersonId};
    use crate::referrals::{
        AppointmentOffer, AppointmentOutcome, AppointmentOutcomeKind, ReferralClosure,
        ReferralClosureReason,
    };
    use crate::release::{
        CommunityEngagement, EngagementOutcome, ExitReason, ReleasePlan, TreatmentExit,
    };
    use crate::returns::figure::{RowKey, Value};
    use crate::returns::testkit::{count, period, value};
    use crate::returns::testkit::{leave, record_at};
    use crate::returns::{Return, ReturnKind};
    use crate::surveys::{Rating, SurveyCodeIssued, SurveyKind, SurveyResponse};
    use crate::testkit::{Log, at, d, local, midday};
    use chrono::{DateTime, Utc};

    /// A log for the single-prison profile, recording at its one establishment, on 5
    /// January 2027 (after the second half of 2026).
    fn prison_log() -> Log {
        let mut log = Log::new();
        log.profile = Profile::builtin("single-prison").unwrap();
        log.calendar = log.profile.calendar();
        log.establishment = log.profile.establishments[0].code.clone();
        log.now = at("2027-01-05T10:00:00Z");
        log
    }

    /// The S4 report for the half-year `half` as at `as_at`.
    fn s4(log: &Log, half: &str, as_at: &str) -> Return {
        Return::compute(
            ReturnKind::S4SixMonthly,
            &log.profile,
            &log.events,
            at(as_at),
            &period(half),
        )
    }

    /// The report's one row.
    fn prison(log: &Log) -> RowKey {
        RowKey::Establishment(log.establishment.clone())
    }

    fn receive(log: &mut Log, p: PersonId, on: &str) {
        record_at(
            log,
            p,
            midday(on),
            EventKind::Received(Reception {
                reception_type: ReceptionType::Sentenced,
                source_ref: None,
            }),
        );
    }

    fn held(log: &mut Log, number: &str, on: &str) -> PersonId {
        let p = log.person(number);
        receive(log, p, on);
        p
    }

    fn release(log: &mut Log, p: PersonId, on: &str) -> EventId {
        leave(log, p, on, ReleaseKind::Released)
    }

    /// An appointment offered, recorded at midday on `on` (the offer's date).
    fn offer(log: &mut Log, p: PersonId, on: &str) -> EventId {
        record_at(
            log,
            p,
            midday(on),
            EventKind::AppointmentOffered(AppointmentOffer {
                referral: None,
                at: local(&format!("{on} 15:00")),
                worker: None,
                clinic: None,
                purpose: Some("Assessment".into()),
            }),
        )[0]
    }

    fn step(status: InterventionStatus, on: &str, course: Option<EventId>) -> EventKind {
        EventKind::InterventionUpdated(InterventionUpdate {
            intervention: "keyworking".into(),
            target: InterventionTarget::Opiates,
            status,
            on: d(on),
            course,
            language: None,
            note: None,
        })
    }

    fn session(on: &str) -> EventKind {
        EventKind::SessionAttended(SessionAttended {
            session: SessionKind::Keyworking,
            on: d(on),
            minutes: Some(45),
            summary: "Cravings and the week ahead".into(),
            appointment: None,
        })
    }

    fn prescribing(at: DateTime<Utc>) -> EventKind {
        EventKind::ClinicalEventRecorded(ClinicalEvent {
            step: ClinicalStep::PrescribingStarted {
                medication: Medication::Methadone,
            },
            at,
            note: None,
        })
    }

    /// A release plan agreed on `agreed`, naming `provider` and a first appointment
    /// (`first`, a date) if given.
    fn plan(agreed: &str, provider: Option<&str>, first: Option<&str>) -> EventKind {
        EventKind::ReleasePlanAgreed(ReleasePlan {
            agreed_on: d(agreed),
            community_provider: provider.map(str::to_string),
            first_appointment: first.map(|f| local(&format!("{f} 10:00"))),
            unexpected_release_contact: None,
            housing_need: false,
            housing_referral: None,
            mutual_aid: None,
            naloxone_supplied: false,
            release_medication: vec![],
            bridging_medication: None,
            aftercare_referrals: vec![],
            agreed_with_person: true,
        })
    }

    fn engagement(outcome: EngagementOutcome, on: &str) -> EventKind {
        EventKind::CommunityEngagementRecorded(CommunityEngagement {
            outcome,
            on: d(on),
            provider: Some("Forward Trust, Newport".into()),
            note: None,
        })
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
    fn offered_the_service_and_engaging_in_an_intervention_s4_5_2_and_s4_5_3() {
        let mut log = prison_log();
        // A: offered an appointment 10 July and again 1 August (one person); a
        // keyworking session 12 July: engaged.
        let a = held(&mut log, "A0001AA", "2026-06-01");
        offer(&mut log, a, "2026-07-10");
        offer(&mut log, a, "2026-08-01");
        log.record(a, session("2026-07-12")).unwrap();
        // B: keyworking offered 1 August, declined 2 August: offered, not engaged.
        let b = held(&mut log, "A0002AA", "2026-06-01");
        let course = log
            .record(b, step(InterventionStatus::Offered, "2026-08-01", None))
            .unwrap()[0];
        log.record(
            b,
            step(InterventionStatus::Declined, "2026-08-02", Some(course)),
        )
        .unwrap();
        // C: referred 1 September, declined the service 2 September: offered.
        let c = held(&mut log, "A0003AA", "2026-06-01");
        let referral = log.refer(c, "2026-09-01");
        log.record(
            c,
            EventKind::ReferralClosed(ReferralClosure {
                referral,
                reason: ReferralClosureReason::Declined,
                closed_on: d("2026-09-02"),
                note: None,
            }),
        )
        .unwrap();
        // D: offered 20 June (before the half-year), a session 5 July: not offered in
        // the period, so in neither.
        let dd = held(&mut log, "A0004AA", "2026-06-01");
        offer(&mut log, dd, "2026-06-20");
        log.record(dd, session("2026-07-05")).unwrap();
        // E: offered 20 December, prescribing started 2 January 2027, after the
        // period: offered, not engaged.
        let e = held(&mut log, "A0005AA", "2026-06-01");
        offer(&mut log, e, "2026-12-20");
        log.record(e, prescribing(local("2027-01-02 09:00")))
            .unwrap();
        // F: keyworking started 1 October (the course's first step): offered and
        // engaged by the one event.
        let f = held(&mut log, "A0006AA", "2026-06-01");
        log.record(f, step(InterventionStatus::Started, "2026-10-01", None))
            .unwrap();
        // G: offered 1 November and attended the appointment: an attended
        // appointment is not engagement in an intervention.
        let g = held(&mut log, "A0007AA", "2026-06-01");
        let appointment = offer(&mut log, g, "2026-11-01");
        log.record(
            g,
            EventKind::AppointmentOutcomeRecorded(AppointmentOutcome {
                appointment,
                outcome: AppointmentOutcomeKind::Attended,
                note: None,
            }),
        )
        .unwrap();
        // H: an offer of 10 September entered in error, a session 12 September: in
        // neither.
        let h = held(&mut log, "A0008AA", "2026-06-01");
        let wrong = offer(&mut log, h, "2026-09-10");
        in_error(&mut log, h, wrong);
        log.record(h, session("2026-09-12")).unwrap();
        // I: a session 5 July, then offered 20 July: engagement before the first
        // offer does not count.
        let i = held(&mut log, "A0009AA", "2026-06-01");
        log.record(i, session("2026-07-05")).unwrap();
        offer(&mut log, i, "2026-07-20");
        // J: offered 10 August, prescribing started 11 August: engaged.
        let j = held(&mut log, "A0010AA", "2026-06-01");
        offer(&mut log, j, "2026-08-10");
        log.record(j, prescribing(local("2026-08-11 09:00")))
            .unwrap();

        let r = s4(&log, "2026H2", "2027-01-05T10:00:00Z");
        let row = prison(&log);
        // Offered: {A, B, C, E, F, G, I, J} = 8.
        assert_eq!(count(&r, "S4.5.2", &row), 8);
        // Engaged: {A, F, J} = 3 of 8 = 37.5 %.
        let engaged = value(&r, "S4.5.3", &row);
        assert_eq!(engaged.parts(), Some((3, 8)));
        assert_eq!(engaged.display(), "37.5");
        assert_eq!(r.figure("S4.5.3").unwrap().unit, "%");
        // The report has the one row.
        assert_eq!(r.rows, vec![row]);
    }

    #[test]
    fn arrangements_for_community_treatment_on_release_s4_5_4() {
        let mut log = prison_log();
        let provider = Some("Forward Trust, Newport");
        // A: a plan naming a provider and a first appointment; released 15 July.
        let a = held(&mut log, "A0001AA", "2026-01-05");
        log.record(a, plan("2026-06-01", provider, Some("2026-07-20")))
            .unwrap();
        release(&mut log, a, "2026-07-15");
        // B: that plan, then a later one with no first appointment (current).
        let b = held(&mut log, "A0002AA", "2026-01-05");
        log.record(b, plan("2026-06-01", provider, Some("2026-08-05")))
            .unwrap();
        log.record(b, plan("2026-06-20", provider, None)).unwrap();
        release(&mut log, b, "2026-08-01");
        // C: a blank provider.
        let c = held(&mut log, "A0003AA", "2026-01-05");
        log.record(c, plan("2026-06-01", Some("  "), Some("2026-09-05")))
            .unwrap();
        release(&mut log, c, "2026-09-01");
        // D: arranged, but released 30 June, before the half-year.
        let dd = held(&mut log, "A0004AA", "2026-01-05");
        log.record(dd, plan("2026-06-01", provider, Some("2026-07-02")))
            .unwrap();
        release(&mut log, dd, "2026-06-30");
        // E: arranged in an earlier stay (2025); nothing in this one.
        let e = held(&mut log, "A0005AA", "2025-01-01");
        log.record(e, plan("2025-03-01", provider, Some("2025-04-02")))
            .unwrap();
        release(&mut log, e, "2025-04-01");
        receive(&mut log, e, "2026-05-01");
        release(&mut log, e, "2026-10-01");
        // F: arranged, but deported.
        let f = held(&mut log, "A0006AA", "2026-01-05");
        log.record(f, plan("2026-09-01", provider, Some("2026-11-02")))
            .unwrap();
        leave(&mut log, f, "2026-11-01", ReleaseKind::Deported);
        // G: arranged, then corrected: no first appointment after all.
        let g = held(&mut log, "A0007AA", "2026-01-05");
        let first = log
            .record(g, plan("2026-09-01", provider, Some("2026-12-02")))
            .unwrap()[0];
        log.try_command(
            g,
            Command::Correct {
                target: first,
                reason: "The appointment was not booked".into(),
                kind: plan("2026-09-01", provider, None),
            },
        )
        .unwrap();
        release(&mut log, g, "2026-12-01");
        // H: arranged and released 10 July; received again 1 August and released 15
        // December with no plan: judged on the latest release in the period.
        let h = held(&mut log, "A0008AA", "2026-01-05");
        log.record(h, plan("2026-06-01", provider, Some("2026-07-12")))
            .unwrap();
        release(&mut log, h, "2026-07-10");
        receive(&mut log, h, "2026-08-01");
        release(&mut log, h, "2026-12-15");

        let r = s4(&log, "2026H2", "2027-01-05T10:00:00Z");
        // {A} = 1.
        assert_eq!(count(&r, "S4.5.4", &prison(&log)), 1);
        // In the first half of 2026 D was released with arrangements: {D} = 1.
        let first_half = s4(&log, "2026H1", "2027-01-05T10:00:00Z");
        assert_eq!(count(&first_half, "S4.5.4", &prison(&log)), 1);
    }

    #[test]
    fn engagement_in_community_treatment_after_release_s4_5_5() {
        use EngagementOutcome::*;
        let mut log = prison_log();
        let keyworking = || step(InterventionStatus::Started, "2026-06-01", None);
        // A: in treatment, released 1 July, engaged 22 July (day 21): both rows.
        let a = held(&mut log, "A0001AA", "2026-01-05");
        log.record(a, keyworking()).unwrap();
        release(&mut log, a, "2026-07-01");
        log.record(a, engagement(Engaged, "2026-07-22")).unwrap();
        // B: a release plan in the stay (no treatment), released 1 August, engaged
        // 23 August (day 22): any time only.
        let b = held(&mut log, "A0002AA", "2026-01-05");
        log.record(b, plan("2026-07-01", None, None)).unwrap();
        release(&mut log, b, "2026-08-01");
        log.record(b, engagement(Engaged, "2026-08-23")).unwrap();
        // C: in treatment, released 1 September, did not engage.
        let c = held(&mut log, "A0003AA", "2026-01-05");
        log.record(c, keyworking()).unwrap();
        release(&mut log, c, "2026-09-01");
        log.record(c, engagement(NotEngaged, "2026-09-30")).unwrap();
        // D: neither in treatment nor with a plan: not in the denominator, though
        // engaged.
        let dd = held(&mut log, "A0004AA", "2026-01-05");
        release(&mut log, dd, "2026-09-05");
        log.record(dd, engagement(Engaged, "2026-09-10")).unwrap();
        // E: in treatment, released 20 June, before the half-year.
        let e = held(&mut log, "A0005AA", "2026-01-05");
        log.record(e, keyworking()).unwrap();
        release(&mut log, e, "2026-06-20");
        log.record(e, engagement(Engaged, "2026-07-01")).unwrap();
        // F: in treatment, released 1 October, received again 10 October; the
        // engagement of 15 October is after that reception.
        let f = held(&mut log, "A0006AA", "2026-01-05");
        log.record(f, keyworking()).unwrap();
        release(&mut log, f, "2026-10-01");
        receive(&mut log, f, "2026-10-10");
        log.record(f, engagement(Engaged, "2026-10-15")).unwrap();
        // G: treatment ended 1 July (dropped out), released 10 July with no plan:
        // not in treatment at release.
        let g = held(&mut log, "A0007AA", "2026-01-05");
        log.record(g, keyworking()).unwrap();
        log.record(
            g,
            EventKind::TreatmentExited(TreatmentExit {
                exited_on: d("2026-07-01"),
                reason: ExitReason::DroppedOut,
                note: None,
            }),
        )
        .unwrap();
        release(&mut log, g, "2026-07-10");
        log.record(g, engagement(Engaged, "2026-07-15")).unwrap();
        // H: in treatment, released 1 November; the engagement of 5 November is
        // entered in error.
        let h = held(&mut log, "A0008AA", "2026-01-05");
        log.record(h, keyworking()).unwrap();
        release(&mut log, h, "2026-11-01");
        let wrong = log.record(h, engagement(Engaged, "2026-11-05")).unwrap();
        in_error(&mut log, h, wrong[0]);

        let r = s4(&log, "2026H2", "2027-01-05T10:00:00Z");
        let row = prison(&log);
        // Denominator {A, B, C, F, H} = 5; engaged at any time {A, B} = 2: 40.0 %.
        let any = value(&r, "S4.5.5", &row);
        assert_eq!(any.parts(), Some((2, 5)));
        assert_eq!(any.display(), "40.0");
        // Within 21 days {A} = 1 of 5: 20.0 %.
        let within = value(&r, "S4.5.5 within 21 days", &row);
        assert_eq!(within.parts(), Some((1, 5)));
        assert_eq!(within.display(), "20.0");
    }

    #[test]
    fn client_experience_before_and_after_treatment_s4_5_7() {
        use Rating::*;
        use SurveyKind::*;
        let mut log = prison_log();
        let hash = |n: u32| format!("{n:064x}");
        let issue = |log: &mut Log, n: u32, survey: SurveyKind, pair: &str| {
            log.record_service(EventKind::SurveyCodeIssued(SurveyCodeIssued {
                code_hash: hash(n),
                survey,
                issued_on: d("2026-06-01"),
                pair: Some({
                    use sha2::Digest;
                    hex::encode(sha2::Sha256::digest(pair.as_bytes()))
                }),
            }))
            .unwrap();
        };
        let respond = |log: &mut Log, code: Option<u32>, survey, on: &str, rating| {
            log.record_service(EventKind::SurveyResponseRecorded(SurveyResponse {
                code_hash: code.map(hash),
                survey,
                received_on: d(on),
                rating,
                comments: None,
            }))
            .unwrap();
        };
        // Pair p1: pre 5 June (dissatisfied, 2; before the period), post 10 July
        // (very satisfied, 5): +3.
        issue(&mut log, 1, ExperiencePre, "p1");
        issue(&mut log, 2, ExperiencePost, "p1");
        respond(&mut log, Some(1), ExperiencePre, "2026-06-05", Dissatisfied);
        respond(
            &mut log,
            Some(2),
            ExperiencePost,
            "2026-07-10",
            VerySatisfied,
        );
        // Pair p2: pre 2 July (neither, 3), post 5 August (satisfied, 4): +1.
        issue(&mut log, 3, ExperiencePre, "p2");
        issue(&mut log, 4, ExperiencePost, "p2");
        respond(&mut log, Some(3), ExperiencePre, "2026-07-02", Neither);
        respond(&mut log, Some(4), ExperiencePost, "2026-08-05", Satisfied);
        // Pair p3: the post (20 August) came before the pre (1 September): no pair.
        issue(&mut log, 5, ExperiencePre, "p3");
        issue(&mut log, 6, ExperiencePost, "p3");
        respond(&mut log, Some(6), ExperiencePost, "2026-08-20", Neither);
        respond(&mut log, Some(5), ExperiencePre, "2026-09-01", Satisfied);
        // Pair p5: pres on 1 July (1) and 1 September (3), post 1 November (5):
        // paired with the later pre, +2.
        issue(&mut log, 9, ExperiencePre, "p5");
        issue(&mut log, 10, ExperiencePre, "p5");
        issue(&mut log, 11, ExperiencePost, "p5");
        respond(
            &mut log,
            Some(9),
            ExperiencePre,
            "2026-07-01",
            VeryDissatisfied,
        );
        respond(&mut log, Some(10), ExperiencePre, "2026-09-01", Neither);
        respond(
            &mut log,
            Some(11),
            ExperiencePost,
            "2026-11-01",
            VerySatisfied,
        );
        // Paper responses: counted, never paired.
        respond(
            &mut log,
            None,
            ExperiencePre,
            "2026-10-01",
            VeryDissatisfied,
        );
        respond(&mut log, None, ExperiencePost, "2026-10-02", Satisfied);
        // Pair p4: pre 1 December, post 2 January 2027 (after the period).
        issue(&mut log, 7, ExperiencePre, "p4");
        issue(&mut log, 8, ExperiencePost, "p4");
        respond(
            &mut log,
            Some(7),
            ExperiencePre,
            "2026-12-01",
            VeryDissatisfied,
        );
        respond(
            &mut log,
            Some(8),
            ExperiencePost,
            "2027-01-02",
            VerySatisfied,
        );
        // The annual satisfaction survey is not this questionnaire.
        respond(&mut log, None, Satisfaction, "2026-09-15", Satisfied);

        let r = s4(&log, "2026H2", "2027-01-05T10:00:00Z");
        let row = prison(&log);
        // Pre in the period: codes 3, 5, 7, 9, 10 and one paper = 6.
        assert_eq!(count(&r, "S4.5.7 pre", &row), 6);
        // Post in the period: codes 2, 4, 6, 11 and one paper = 5.
        assert_eq!(count(&r, "S4.5.7 post", &row), 5);
        // Pairs: codes 2, 4, 11 = 3; change (3 + 1 + 2) / 3 = 2.0.
        assert_eq!(count(&r, "S4.5.7 pairs", &row), 3);
        let change = value(&r, "S4.5.7 change", &row);
        assert_eq!(change, Value::Mean { sum: 6, count: 3 });
        assert_eq!(change.display(), "2.0");
        assert_eq!(r.figure("S4.5.7 change").unwrap().unit, "points");
    }
}
