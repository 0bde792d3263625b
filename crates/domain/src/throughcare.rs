//! The throughcare lists: the release queue (everyone due for release in the next 12
//! weeks with what their plan still lacks), continuity of care after release, the
//! re-engagement list (S4 §1) and the 12-month follow-up of each release.

use crate::case::Case;
use crate::clinical::ClinicalStep;
use crate::custody::{CustodyStatus, ReleaseKind};
use crate::interventions::InterventionStatus;
use crate::people::PriorityGroups;
use crate::profile::Profile;
use crate::record_ids::EventId;
use crate::referrals::ReferralClosureReason;
use crate::release::{
    CONTINUITY_DAYS, ContactOutcome, ContactPurpose, EngagementOutcome, FollowUpOutcome, PlanGap,
    ReleasePlan, engaged_within_window, follow_up_ends,
};
use crate::screening::InjectingStatus;
use crate::time::local_date;
use chrono::{Duration, NaiveDate};
use serde::Serialize;

/// How far ahead the release queue looks (REQUIREMENTS §10: 12 weeks).
pub const RELEASE_HORIZON_WEEKS: i64 = 12;

/// The current release plan (the latest agreed version) with its event.
pub fn release_plan(case: &Case) -> Option<&(EventId, ReleasePlan)> {
    case.release_plans.iter().max_by_key(|(_, p)| p.agreed_on)
}

/// Whether the person is at risk of overdose on release (KM 3.9.17): opiates among
/// the problem substances at the latest screening, injecting now or before, or on
/// substitute prescribing.
pub fn at_risk_of_overdose(case: &Case) -> bool {
    let screened = case
        .screenings
        .iter()
        .max_by_key(|(_, s)| s.screened_on)
        .is_some_and(|(_, s)| {
            s.problem_substances.iter().any(|x| x.is_opiate())
                || matches!(
                    s.injecting,
                    InjectingStatus::Current | InjectingStatus::Previous
                )
        });
    screened || on_substitute_medication(case)
}

/// Whether the person is on substitute prescribing now: prescribing started (or
/// maintenance) with no drop-out since (KM 3.9.19).
pub fn on_substitute_medication(case: &Case) -> bool {
    let mut on = false;
    let mut steps: Vec<_> = case.clinical.iter().map(|(_, c)| c).collect();
    steps.sort_by_key(|c| c.at);
    for c in steps {
        match c.step {
            ClinicalStep::PrescribingStarted { .. } | ClinicalStep::Maintenance => on = true,
            ClinicalStep::DroppedOutOfPrescribing => on = false,
            _ => {}
        }
    }
    on
}

/// What the person's release plan still lacks; `[NoPlan]` without one.
pub fn plan_gaps(case: &Case) -> Vec<PlanGap> {
    let Some((_, plan)) = release_plan(case) else {
        return vec![PlanGap::NoPlan];
    };
    let blank = |x: &Option<String>| x.as_deref().is_none_or(|s| s.trim().is_empty());
    let mut gaps = Vec::new();
    if !plan.agreed_with_person {
        gaps.push(PlanGap::NotAgreed);
    }
    if blank(&plan.community_provider) {
        gaps.push(PlanGap::NoCommunityProvider);
    }
    if plan.first_appointment.is_none() {
        gaps.push(PlanGap::NoFirstAppointment);
    }
    if blank(&plan.unexpected_release_contact) {
        gaps.push(PlanGap::NoUnexpectedReleaseContact);
    }
    if plan.housing_need && blank(&plan.housing_referral) {
        gaps.push(PlanGap::NoHousingReferral);
    }
    let naloxone = plan.naloxone_supplied
        || case.naloxone.iter().any(|(_, n)| {
            n.kit_supplied && matches!(n.to, crate::clinical::NaloxoneRecipient::Person)
        });
    if at_risk_of_overdose(case) && !naloxone {
        gaps.push(PlanGap::NoNaloxone);
    }
    if on_substitute_medication(case) && blank(&plan.bridging_medication) {
        gaps.push(PlanGap::NoBridgingMedication);
    }
    gaps
}

/// One person in the release queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseItem {
    /// The expected release date.
    pub expected_release: NaiveDate,
    /// Days from today (negative when the date has passed and the person is still held).
    pub days_left: i64,
    /// What the plan still lacks.
    pub gaps: Vec<PlanGap>,
    /// Serving under six months (KM 4.10.6): little time to plan.
    pub short_sentence: bool,
}

/// The person's place in the release queue: in custody with an expected release
/// date no more than 12 weeks from `today` (or past and still held).
pub fn release_item(case: &Case, today: NaiveDate) -> Option<ReleaseItem> {
    let CustodyStatus::InCustody { received_on, .. } = &case.custody else {
        return None;
    };
    // A person who has died is not released: a death stops every list.
    if !case.deaths.is_empty() {
        return None;
    }
    let expected = case.expected_release?;
    let days_left = (expected - today).num_days();
    if days_left > RELEASE_HORIZON_WEEKS * 7 {
        return None;
    }
    let short_sentence = case.details.as_ref().is_some_and(|d| {
        PriorityGroups::of(d, today, Some(*received_on), Some(expected)).short_sentence
    });
    Some(ReleaseItem {
        expected_release: expected,
        days_left,
        gaps: plan_gaps(case),
        short_sentence,
    })
}

/// The release queue's order: the earliest release first, then the plan lacking
/// most (no plan at all lacks everything), then short sentences. Sort ascending by
/// this key.
pub fn release_key(item: &ReleaseItem) -> (NaiveDate, std::cmp::Reverse<usize>, bool) {
    let lacking = if item.gaps.contains(&PlanGap::NoPlan) {
        usize::MAX
    } else {
        item.gaps.len()
    };
    (
        item.expected_release,
        std::cmp::Reverse(lacking),
        !item.short_sentence,
    )
}

/// Continuity of care after the latest release (S4 §5; the national indicator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Continuity {
    /// The release.
    pub released_on: NaiveDate,
    /// When the person engaged with community treatment, if they did.
    pub engaged_on: Option<NaiveDate>,
    /// With whom.
    pub provider: Option<String>,
    /// Whether the engagement was within 21 days of release; `None` until known.
    pub within_21_days: Option<bool>,
    /// When non-engagement was recorded, if it was and nothing later says otherwise.
    pub not_engaged_on: Option<NaiveDate>,
}

/// Continuity after the person's latest release, if they have been released.
pub fn continuity(case: &Case) -> Option<Continuity> {
    let released_on = case.releases.last()?.on;
    let after: Vec<_> = case
        .engagements
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e.on >= released_on)
        .collect();
    let engaged = after
        .iter()
        .filter(|e| e.outcome == EngagementOutcome::Engaged)
        .min_by_key(|e| e.on);
    let not_engaged = after
        .iter()
        .filter(|e| e.outcome == EngagementOutcome::NotEngaged)
        .max_by_key(|e| e.on)
        .map(|e| e.on);
    Some(Continuity {
        released_on,
        engaged_on: engaged.map(|e| e.on),
        provider: engaged.and_then(|e| e.provider.clone()),
        within_21_days: match engaged {
            Some(e) => Some(engaged_within_window(released_on, e.on)),
            None if not_engaged.is_some() => Some(false),
            None => None,
        },
        not_engaged_on: if engaged.is_some() { None } else { not_engaged },
    })
}

/// The 12-month follow-up window of one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// The release event.
    pub release: EventId,
    /// The release date.
    pub released_on: NaiveDate,
    /// The window's last day.
    pub ends_on: NaiveDate,
    /// The outcome, once closed.
    pub outcome: Option<FollowUpOutcome>,
    /// Whether reoffending is an outcome where the person was released from (not at
    /// the IRC, KM 2.1 note 1).
    pub reoffending_is_outcome: bool,
}

/// Every release's follow-up window, oldest first.
pub fn follow_ups(case: &Case, profile: &Profile) -> Vec<FollowUp> {
    case.releases
        .iter()
        .map(|r| FollowUp {
            release: r.id,
            released_on: r.on,
            ends_on: follow_up_ends(r.on),
            outcome: case
                .follow_ups
                .iter()
                .filter(|(_, f)| f.release == r.id)
                .max_by_key(|(_, f)| f.closed_on)
                .map(|(_, f)| f.outcome),
            reoffending_is_outcome: profile
                .establishment(&r.establishment)
                .is_none_or(|e| e.reoffending_is_outcome),
        })
        .collect()
}

/// A person on the re-engagement list (S4 §1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReEngagement {
    /// When they disengaged.
    pub since: NaiveDate,
    /// How, in words.
    pub why: String,
    /// Attempts to re-engage since.
    pub attempts: usize,
    /// When the next attempt is due.
    pub next_due: NaiveDate,
}

/// The person's place on the re-engagement list on `today`: they declined, dropped
/// out, or never engaged after release (nothing recorded by day 21, so from day 22;
/// not after a deportation), and have not re-engaged since. The next attempt is
/// due on the latest attempt's `next_due`, or at once when none is recorded.
pub fn re_engagement(case: &Case, today: NaiveDate) -> Option<ReEngagement> {
    let mut events: Vec<(NaiveDate, String)> = Vec::new();
    for r in &case.referrals {
        if let Some((on, ReferralClosureReason::Declined)) = r.closed {
            events.push((on, "Declined the referral".into()));
        }
    }
    for c in &case.courses {
        for (status, on) in &c.steps {
            match status {
                InterventionStatus::Declined => {
                    events.push((*on, format!("Declined {}", c.intervention)))
                }
                InterventionStatus::DroppedOut => {
                    events.push((*on, format!("Dropped out of {}", c.intervention)))
                }
                _ => {}
            }
        }
    }
    for (_, c) in &case.clinical {
        if c.step == ClinicalStep::DroppedOutOfPrescribing {
            events.push((local_date(c.at), "Dropped out of prescribing".into()));
        }
    }
    for (_, x) in &case.exits {
        if x.reason.is_disengagement() {
            events.push((x.exited_on, format!("Treatment exit: {}", x.reason.label())));
        }
    }
    let released_into_community = case
        .releases
        .last()
        .is_some_and(|r| r.kind == ReleaseKind::Released);
    if let Some(c) = continuity(case)
        && c.engaged_on.is_none()
    {
        let never_engaged_from = c.released_on + Duration::days(CONTINUITY_DAYS + 1);
        if let Some(on) = c.not_engaged_on {
            events.push((on, "Did not engage with community treatment".into()));
        } else if released_into_community
            && never_engaged_from <= today
            && (!case.release_plans.is_empty() || !case.exits.is_empty())
        {
            // Never engaged: 21 days after release with nothing recorded.
            events.push((
                never_engaged_from,
                "No community treatment recorded 21 days after release".into(),
            ));
        }
    }
    let (since, why) = events.into_iter().max_by_key(|(on, _)| *on)?;
    let re_engaged = case
        .contacts
        .iter()
        .any(|(_, c)| c.on >= since && c.outcome == ContactOutcome::ReEngaged)
        || case
            .engagements
            .iter()
            .any(|(_, e)| e.on >= since && e.outcome == EngagementOutcome::Engaged)
        || case.courses.iter().any(|c| {
            c.steps
                .iter()
                .any(|(s, on)| *s == InterventionStatus::Started && *on > since)
        })
        || case
            .clinical
            .iter()
            .any(|(_, c)| c.step.starts_treatment() && local_date(c.at) > since)
        || !case.deaths.is_empty()
        // A follow-up closed since (lost to follow-up, deported, …) ends the attempts.
        || case.follow_ups.iter().any(|(_, f)| f.closed_on >= since);
    if re_engaged {
        return None;
    }
    let attempts: Vec<_> = case
        .contacts
        .iter()
        .map(|(_, c)| c)
        .filter(|c| c.on >= since && c.purpose == ContactPurpose::ReEngagement)
        .collect();
    let next_due = attempts
        .iter()
        .max_by_key(|c| c.on)
        .map(|c| c.next_due.unwrap_or(c.on))
        .unwrap_or(since);
    Some(ReEngagement {
        since,
        why,
        attempts: attempts.len(),
        next_due,
    })
}
