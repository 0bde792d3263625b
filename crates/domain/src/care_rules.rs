//! The checks on recovery care, interventions, the clinical pathway, harm reduction
//! and the diary (REQUIREMENTS §6–9, §12): called by `decide::validate` for those
//! kinds of fact. Every refusal names the field and, where the specifications
//! forbid something, the paragraph.

use crate::case::Case;
use crate::clinical::{BbvStep, ClinicalStep, NaloxoneRecipient, Virus};
use crate::consent::ConsentPurpose;
use crate::custody::CustodyStatus;
use crate::decide::Context;
use crate::error::{DomainError, Problems};
use crate::events::EventKind;
use crate::interventions::{InterventionStatus, SessionKind};
use crate::outcomes::{DAYS_IN_PERIOD, MAX_RATING, TopStage};
use crate::profile::EstablishmentKind;
use crate::record_ids::EventId;
use crate::time::local_date;
use chrono::NaiveDate;

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// Checks one fact of the recovery-care kinds; other kinds pass untouched.
pub(crate) fn validate(
    case: &Case,
    kind: &EventKind,
    correcting: Option<EventId>,
    ctx: &Context<'_>,
    p: &mut Problems,
) -> Result<(), DomainError> {
    let today = local_date(ctx.now);
    let not_future = |p: &mut Problems, field: &str, d: NaiveDate| {
        if d > today {
            p.add(field, "The date must be today or in the past");
        }
    };
    match kind {
        EventKind::CarePlanAgreed(plan) => {
            if plan.goals.iter().all(|g| blank(g)) {
                p.add(
                    "goals",
                    "Enter at least one goal, in the person's own words",
                );
            }
            if !plan.agreed_with_person {
                p.add(
                    "agreed_with_person",
                    "A recovery care plan is recorded once it is agreed with the person (S4 §4)",
                );
            }
            for (field, label, text) in plan.contingency.sections() {
                if blank(text) {
                    p.add(
                        field,
                        format!(
                            "Enter the contingency plan's {} section (S4 §4)",
                            label.to_lowercase()
                        ),
                    );
                }
            }
            if plan.review_on <= plan.agreed_on {
                p.add(
                    "review_on",
                    "The review date must be after the date the plan was agreed",
                );
            }
            for code in &plan.interventions {
                check_intervention_offered(case, ctx, code, "interventions", true, p);
            }
        }
        EventKind::CarePlanReviewed(r) => {
            match case.care_plan() {
                None => p.add(
                    "reviewed_on",
                    "There is no recovery care plan to review: agree one first",
                ),
                Some((_, plan)) if r.reviewed_on < plan.agreed_on => p.add(
                    "reviewed_on",
                    format!(
                        "The review date must be on or after the date the plan was agreed ({})",
                        long_date(plan.agreed_on)
                    ),
                ),
                Some(_) => {}
            }
            if blank(&r.summary) {
                p.add("summary", "Enter what the review found");
            }
            if let Some(goals) = &r.goals
                && goals.iter().all(|g| blank(g))
            {
                p.add("goals", "Enter the new goals, or leave the goals unchanged");
            }
            if r.next_review_on <= r.reviewed_on {
                p.add(
                    "next_review_on",
                    "The next review date must be after this review",
                );
            }
        }
        EventKind::InductionRecorded(i) => {
            if i.items.is_empty() {
                p.add("items", "Tick at least one induction item covered");
            }
            let mut seen = Vec::new();
            for t in &i.items {
                if seen.contains(&t.item) {
                    p.add(
                        "items",
                        "Each induction item can be ticked only once per entry",
                    );
                    break;
                }
                seen.push(t.item);
                not_future(p, t.item.code(), t.on);
            }
        }
        EventKind::TopCompleted(t) => {
            for (field, days) in t.day_counts() {
                if days > DAYS_IN_PERIOD {
                    p.add(field, "Enter a number of days from 0 to 28");
                }
            }
            for (field, rating) in t.ratings() {
                if rating > MAX_RATING {
                    p.add(field, "Enter a rating from 0 to 20");
                }
            }
            let mut seen = Vec::new();
            for u in &t.substance_use {
                if seen.contains(&u.substance) {
                    p.add("substance_use", "Each substance can be recorded only once");
                    break;
                }
                seen.push(u.substance);
            }
            let other_used = t
                .substance_use
                .iter()
                .any(|u| u.substance == crate::outcomes::TopSubstance::Other && u.days > 0);
            if other_used && t.other_substance.as_deref().is_none_or(blank) {
                p.add("other_substance", "Name the other substance used");
            }
            // One start profile per episode: a start TOP on or after the current
            // episode's start (an earlier episode's does not count).
            let episode = crate::work_queues::current_episode(case, ctx.profile)
                .filter(|e| e.exited_on.is_none());
            if t.stage == TopStage::Start
                && correcting.is_none()
                && let Some(e) = episode
                && case
                    .tops
                    .iter()
                    .any(|(_, x)| x.stage == TopStage::Start && x.completed_on >= e.started_on)
            {
                p.add(
                    "stage",
                    "A treatment-start profile is already recorded for this episode: record a review",
                );
            }
        }
        EventKind::InterventionUpdated(u) => {
            let starting = matches!(
                u.status,
                InterventionStatus::Offered | InterventionStatus::Started
            );
            // A new offer or start (or the first step of a course) must be one the
            // person can have where they are; a later step of a course begun
            // elsewhere (a drop-out after a transfer to the IRC) can always be recorded.
            check_intervention_offered(
                case,
                ctx,
                &u.intervention,
                "intervention",
                starting || u.course.is_none(),
                p,
            );
            not_future(p, "on", u.on);
            if starting && let Some(x) = case.exclusion_on(u.on) {
                return Err(DomainError::Refused(format!(
                    "The person is excluded from the service from {} (KM 4.9): nothing new can be offered or started",
                    long_date(x.excluded_on)
                )));
            }
            match u.course {
                None => {
                    if !matches!(
                        u.status,
                        InterventionStatus::Offered
                            | InterventionStatus::Started
                            | InterventionStatus::Declined
                    ) {
                        p.add(
                            "course",
                            "Select the course this step belongs to: only an offer, a start or a decline begins a course",
                        );
                    }
                }
                Some(id) => match case.courses.iter().find(|c| c.id == id) {
                    None => p.add(
                        "course",
                        "No such course of an intervention for this person",
                    ),
                    Some(c) => {
                        if c.intervention != u.intervention {
                            p.add(
                                "intervention",
                                "The step must be for the course's own intervention",
                            );
                        }
                        if correcting.is_none() {
                            let last = c.status();
                            let allowed = match u.status {
                                InterventionStatus::Offered => false,
                                InterventionStatus::Declined | InterventionStatus::Started => {
                                    last == Some(InterventionStatus::Offered)
                                }
                                InterventionStatus::Completed | InterventionStatus::DroppedOut => {
                                    last == Some(InterventionStatus::Started)
                                }
                            };
                            if !allowed {
                                p.add(
                                    "status",
                                    format!(
                                        "This course is {}: it cannot be marked {}",
                                        last.map(|s| s.label().to_lowercase()).unwrap_or_default(),
                                        u.status.label().to_lowercase()
                                    ),
                                );
                            }
                            if let Some((_, on)) = c.steps.last()
                                && u.on < *on
                            {
                                p.add(
                                    "on",
                                    format!(
                                        "The date must be on or after the course's last step ({})",
                                        long_date(*on)
                                    ),
                                );
                            }
                        }
                    }
                },
            }
            if u.language.as_deref().is_some_and(|l| l.len() > 60) {
                p.add("language", "Language must be 60 characters or fewer");
            }
        }
        EventKind::SessionAttended(s) => {
            not_future(p, "on", s.on);
            if blank(&s.summary) {
                p.add("summary", "Enter what the session covered");
            }
            match &s.session {
                SessionKind::Group { topic, .. } if blank(topic) => {
                    p.add("topic", "Enter the group session's topic")
                }
                SessionKind::Course { course } => {
                    match case.courses.iter().find(|c| c.id == *course) {
                        None => p.add("course", "No such course for this person"),
                        Some(c) if c.date_of(InterventionStatus::Started).is_none() => {
                            p.add("course", "The person has not started this course")
                        }
                        Some(_) => {}
                    }
                }
                _ => {}
            }
            if let Some(a) = s.appointment {
                match case.appointments.iter().find(|x| x.id == a) {
                    None => p.add("appointment", "No such appointment for this person"),
                    Some(x)
                        if !matches!(
                            x.outcome,
                            None | Some(crate::referrals::AppointmentOutcomeKind::Attended)
                        ) =>
                    {
                        p.add(
                            "appointment",
                            "This appointment is recorded as not attended or cancelled: correct its outcome first",
                        )
                    }
                    Some(_) => {}
                }
            }
            if s.minutes.is_some_and(|m| m == 0 || m > 600) {
                p.add(
                    "minutes",
                    "Enter the session's length in minutes, from 1 to 600",
                );
            }
        }
        EventKind::ClinicalEventRecorded(c) => {
            if let ClinicalStep::DetoxCompleted { substance, .. } = &c.step {
                let started = case.clinical.iter().any(|(_, x)| {
                    matches!(&x.step, ClinicalStep::DetoxStarted { substance: s, .. } if s == substance)
                        && x.at <= c.at
                });
                if !started {
                    p.add(
                        "step",
                        format!(
                            "No {} detoxification has been started to complete",
                            substance.label().to_lowercase()
                        ),
                    );
                }
            }
        }
        EventKind::BloodBorneVirusRecorded(b) => {
            not_future(p, "on", b.on);
            if b.step.is_vaccination() && !matches!(b.virus, Virus::HepatitisA | Virus::HepatitisB)
            {
                p.add(
                    "step",
                    format!("There is no vaccination against {}", b.virus.label()),
                );
            }
            match (b.step, b.dose) {
                (BbvStep::VaccineDose, None) => p.add("dose", "Enter which dose was given"),
                (BbvStep::VaccineDose, Some(d)) if !(1..=4).contains(&d) => {
                    p.add("dose", "Enter a dose number from 1 to 4")
                }
                (BbvStep::VaccineDose, Some(_)) | (_, None) => {}
                (_, Some(_)) => p.add("dose", "A dose number belongs only to a vaccine dose"),
            }
            if b.step == BbvStep::VaccinationCompleted
                && !case
                    .blood_borne_viruses
                    .iter()
                    .any(|(_, x)| x.virus == b.virus && x.step == BbvStep::VaccineDose)
            {
                p.add(
                    "step",
                    "Record the doses given before the course is completed",
                );
            }
            if b.result.is_some() && b.step != BbvStep::Tested {
                p.add("result", "A result belongs only to a test done");
            }
        }
        EventKind::NaloxoneSupplied(n) => {
            not_future(p, "on", n.on);
            if !n.training_given && !n.kit_supplied {
                p.add(
                    "kit_supplied",
                    "Record a kit supplied, training given, or both",
                );
            }
            if let NaloxoneRecipient::FamilyOrCarer { name, relationship } = &n.to {
                if blank(name) {
                    p.add("name", "Enter the family member's or carer's name");
                }
                if blank(relationship) {
                    p.add("relationship", "Enter their relationship to the person");
                }
                if !case
                    .consents
                    .is_live(ConsentPurpose::FamilyInvolvement, n.on)
                {
                    return Err(DomainError::Refused(
                        "Family members or carers are trained only with the person's consent to involve them (S4 §4): record that consent first".into(),
                    ));
                }
            }
        }
        EventKind::DrugIntelligenceRecorded(d) => {
            not_future(p, "received_on", d.received_on);
            if blank(&d.detail) {
                p.add("detail", "Enter what the intelligence says");
            }
        }
        EventKind::AppointmentOffered(a) if a.clinic.as_deref().is_some_and(|c| c.len() > 80) => {
            p.add("clinic", "Clinic must be 80 characters or fewer");
        }
        EventKind::AppointmentRescheduled(r) => {
            match case.appointments.iter().find(|a| a.id == r.appointment) {
                None => p.add("appointment", "No such appointment for this person"),
                Some(a) if a.outcome.is_some() && correcting.is_none() => p.add(
                    "appointment",
                    "This appointment already has an outcome: book a new one instead",
                ),
                Some(a) if a.offer.at == r.at => {
                    p.add("at", "Enter a time different from the current one")
                }
                Some(_) => {}
            }
        }
        EventKind::SentencePlanContributed(c) => {
            not_future(p, "contributed_on", c.contributed_on);
            if blank(&c.summary) {
                p.add("summary", "Enter what the service contributed");
            }
        }
        EventKind::KeyworkerAllocated(k) => {
            not_future(p, "allocated_on", k.allocated_on);
        }
        EventKind::ServiceExclusionRecorded(x) => {
            not_future(p, "excluded_on", x.excluded_on);
            if blank(&x.evidence) {
                p.add("evidence", "Enter the evidence for the grounds (KM 4.9)");
            }
            if blank(&x.commissioner_consent_ref) {
                p.add(
                    "commissioner_consent_ref",
                    "Enter the reference of the commissioner's prior written consent: without it the service may not refuse anyone (KM 4.9)",
                );
            }
            if x.until.is_some_and(|u| u < x.excluded_on) {
                p.add("until", "The end date must be on or after the start date");
            }
        }
        _ => {}
    }
    Ok(())
}

/// Refuses an intervention the profile's catalogue does not list and, when it is
/// offered or started anew (`new_offer`), a structured psychosocial intervention
/// where it is recorded or where the person is held, if that establishment does not
/// offer them (KM 4.14).
fn check_intervention_offered(
    case: &Case,
    ctx: &Context<'_>,
    code: &str,
    field: &str,
    new_offer: bool,
    p: &mut Problems,
) {
    let Some(def) = ctx.profile.intervention(code) else {
        p.add(
            field,
            format!("{code} is not an intervention this service offers"),
        );
        return;
    };
    if !new_offer || !def.structured_psychosocial {
        return;
    }
    let held = match &case.custody {
        CustodyStatus::InCustody { establishment, .. } => Some(establishment),
        _ => None,
    };
    let refusing = [Some(&ctx.establishment), held]
        .into_iter()
        .flatten()
        .filter_map(|code| ctx.profile.establishment(code))
        .find(|e| {
            !e.offers_structured_psychosocial
                || e.kind == EstablishmentKind::ImmigrationRemovalCentre
        });
    if let Some(e) = refusing {
        p.add(
            field,
            format!(
                "{} is a structured psychosocial intervention, which is not offered at {} (KM 4.14)",
                def.name, e.name
            ),
        );
    }
}
