//! The checks on release planning and what follows release (REQUIREMENTS §10–11):
//! called by `decide::validate` for those kinds of fact.

use crate::case::Case;
use crate::custody::{CustodyStatus, ReleaseKind};
use crate::decide::Context;
use crate::error::{DomainError, Problems};
use crate::events::EventKind;
use crate::record_ids::EventId;
use crate::release::{EngagementOutcome, ExitReason, FollowUpOutcome, follow_up_ends};
use crate::time::local_date;
use chrono::NaiveDate;

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// Checks one fact of the release kinds; other kinds pass untouched.
pub(crate) fn validate(
    case: &Case,
    kind: &EventKind,
    correcting: Option<EventId>,
    ctx: &Context<'_>,
    p: &mut Problems,
) -> Result<(), DomainError> {
    let today = local_date(ctx.now);
    let latest_release = case.releases.last().map(|r| r.on);
    match kind {
        EventKind::ReleasePlanAgreed(plan) => {
            if !matches!(case.custody, CustodyStatus::InCustody { .. }) && correcting.is_none() {
                p.add(
                    "agreed_on",
                    "A release plan is made while the person is in custody",
                );
            }
            if plan
                .first_appointment
                .is_some_and(|a| local_date(a) < plan.agreed_on)
            {
                p.add(
                    "first_appointment",
                    "The first community appointment cannot be before the plan was agreed",
                );
            }
            if plan.housing_need && blank(&plan.housing_referral) {
                // Allowed: the release queue shows the gap until a referral is made.
            }
        }
        EventKind::TreatmentExited(x) => {
            if x.reason == ExitReason::Other && blank(&x.note) {
                p.add(
                    "note",
                    "Say why treatment ended when the reason is \"other\"",
                );
            }
            match crate::work_queues::current_episode(case, ctx.profile) {
                None => p.add(
                    "reason",
                    "The person has not started treatment, so there is no treatment to exit",
                ),
                Some(e) if e.exited_on.is_some() && correcting.is_none() => p.add(
                    "reason",
                    format!(
                        "Treatment already ended on {}: record a new start first",
                        long_date(e.exited_on.unwrap_or(e.started_on))
                    ),
                ),
                Some(e) if x.exited_on < e.started_on => p.add(
                    "exited_on",
                    format!(
                        "The exit date must be on or after treatment started ({})",
                        long_date(e.started_on)
                    ),
                ),
                Some(_) => {}
            }
        }
        EventKind::CommunityEngagementRecorded(e) => {
            if e.on > today {
                p.add("on", "The date must be today or in the past");
            }
            match latest_release {
                None => p.add(
                    "on",
                    "The person has not been released: community engagement follows release",
                ),
                Some(r) if e.on < r => p.add(
                    "on",
                    format!(
                        "The date must be on or after the release ({})",
                        long_date(r)
                    ),
                ),
                Some(_) => {}
            }
            if e.outcome == EngagementOutcome::Engaged && blank(&e.provider) {
                p.add(
                    "provider",
                    "Enter the community provider the person engaged with",
                );
            }
        }
        EventKind::ContactRecorded(c) => {
            if c.on > today {
                p.add("on", "The date must be today or in the past");
            }
            if c.next_due.is_some_and(|n| n < c.on) {
                p.add("next_due", "The next attempt must be on or after this one");
            }
        }
        EventKind::DeathRecorded(d) => {
            if d.died_on > today {
                p.add("died_on", "The date must be today or in the past");
            }
            if case
                .details
                .as_ref()
                .is_some_and(|x| d.died_on < x.date_of_birth)
            {
                p.add(
                    "died_on",
                    "The date cannot be before the person's date of birth",
                );
            }
            if !case.deaths.is_empty() && correcting.is_none() {
                p.add("died_on", "A death is already recorded: correct it instead");
            }
        }
        EventKind::ReoffenceRecorded(r) => {
            if r.offended_on > today {
                p.add("offended_on", "The date must be today or in the past");
            }
            match case.releases.last() {
                None => p.add(
                    "offended_on",
                    "The person has not been released: reoffending is recorded after release",
                ),
                Some(release) => {
                    let (on, establishment) = (&release.on, &release.establishment);
                    if r.offended_on < *on {
                        p.add(
                            "offended_on",
                            format!(
                                "The offence must be on or after the release ({})",
                                long_date(*on)
                            ),
                        );
                    }
                    if let Some(e) = ctx.profile.establishment(establishment)
                        && !e.reoffending_is_outcome
                    {
                        return Err(DomainError::Refused(format!(
                            "Reoffending is not an outcome for people released from {} (KM 2.1 note 1)",
                            e.name
                        )));
                    }
                }
            }
        }
        EventKind::FollowUpClosed(f) => {
            let Some(release) = case.releases.iter().find(|r| r.id == f.release) else {
                p.add("release", "No such release for this person");
                return Ok(());
            };
            let (released_on, establishment) = (&release.on, &release.establishment);
            let ends = follow_up_ends(*released_on);
            let in_window = |d: NaiveDate| d >= *released_on && d <= ends;
            if correcting.is_none() && case.follow_ups.iter().any(|(_, x)| x.release == f.release) {
                p.add(
                    "release",
                    "This release's follow-up is already closed: correct it instead",
                );
            }
            if f.closed_on > today {
                p.add("closed_on", "The date must be today or in the past");
            }
            let reoffending_counts = ctx
                .profile
                .establishment(establishment)
                .is_none_or(|e| e.reoffending_is_outcome);
            let reoffended = case
                .reoffences
                .iter()
                .any(|(_, r)| in_window(r.offended_on));
            let died = case.deaths.iter().any(|(_, d)| in_window(d.died_on));
            match f.outcome {
                FollowUpOutcome::Reoffended | FollowUpOutcome::NotReoffended
                    if !reoffending_counts =>
                {
                    return Err(DomainError::Refused(
                        "Reoffending is not an outcome at the immigration removal centre (KM 2.1 note 1): close with died, deported or unknown".into(),
                    ));
                }
                FollowUpOutcome::Reoffended if !reoffended => p.add(
                    "outcome",
                    "Record the reoffence (within 12 months of release) before closing with it",
                ),
                FollowUpOutcome::NotReoffended if died => p.add(
                    "outcome",
                    "A death within 12 months is recorded: close with \"died\"",
                ),
                FollowUpOutcome::NotReoffended if reoffended => p.add(
                    "outcome",
                    "A reoffence within 12 months is recorded: close with \"reoffended\"",
                ),
                FollowUpOutcome::NotReoffended if f.closed_on <= ends => p.add(
                    "closed_on",
                    format!(
                        "\"Not reoffended\" can be known only after the 12 months end ({})",
                        long_date(ends)
                    ),
                ),
                FollowUpOutcome::Died if !died => p.add(
                    "outcome",
                    "Record the death (within 12 months of release) before closing with it",
                ),
                FollowUpOutcome::Deported if release.kind != ReleaseKind::Deported => {
                    p.add("outcome", "This release was not a deportation")
                }
                FollowUpOutcome::LostToFollowUp if f.closed_on <= ends => p.add(
                    "closed_on",
                    format!(
                        "Close as unknown only after the 12 months end ({})",
                        long_date(ends)
                    ),
                ),
                _ => {}
            }
        }
        _ => {}
    }
    Ok(())
}
