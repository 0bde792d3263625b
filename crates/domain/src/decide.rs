//! Decisions: a command is checked against the current case and either becomes
//! events or is refused with every problem named. Nothing here reads the clock or
//! any store: `now` and identifiers come in as values.

use crate::access::{self, Act};
use crate::assessment::AssessmentKind;
use crate::calendar::Calendar;
use crate::case::Case;
use crate::consent::{ConsentDecision, ConsentPurpose, ConsentRecord, ConsentState};
use crate::custody::{CustodyStatus, Transfer};
use crate::error::{DomainError, Problems};
use crate::events::{EnteredInError, EventKind, Merge, NewEvent};
use crate::identifiers::{EstablishmentCode, StaffUsername};
use crate::profile::Profile;
use crate::record_ids::{EventId, IdSource};
use crate::referrals::{AppointmentOffer, Referral, ReferralSource};
use crate::sharing::{Disclosure, Recipient, SharingBasis, SharingDuty, check_basis};
use crate::time::{local_date, local_instant, local_midday, to_log_precision};
use crate::workforce::check_trainee_rule;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

/// Who is recording, where, and when: the context every decision is made in.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The contract profile.
    pub profile: &'a Profile,
    /// The profile's working-day calendar.
    pub calendar: &'a Calendar,
    /// Who records.
    pub recorded_by: StaffUsername,
    /// As what they record: the policy table ([`crate::access`]) is asked about it.
    pub actor: crate::access::Actor,
    /// The establishment the event belongs to.
    pub establishment: EstablishmentCode,
    /// The current instant.
    pub now: DateTime<Utc>,
    /// Trainees not yet signed off (KM 5.43.1): they may not be allocated as keyworker
    /// to, nor record work with, a person whose assessment flags complex needs.
    pub trainees: &'a [StaffUsername],
}

/// What a user or feed asks to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Record a new fact about the person.
    Record {
        /// When it happened, if the fact has a time of its own; otherwise the date in
        /// the payload (at midday) or now.
        occurred_at: Option<DateTime<Utc>>,
        /// The source system's own record time, for migrated history.
        recorded_at: Option<DateTime<Utc>>,
        /// The fact.
        kind: EventKind,
    },
    /// Replace an earlier fact with a corrected version of the same kind.
    Correct {
        /// The event corrected (must be its latest version).
        target: EventId,
        /// Why.
        reason: String,
        /// The corrected fact.
        kind: EventKind,
    },
    /// Mark an earlier fact as entered in error.
    EnterInError {
        /// The event.
        target: EventId,
        /// Why.
        reason: String,
    },
}

/// How far ahead of `now` an occurrence may be stamped (clock skew between machines).
const FUTURE_TOLERANCE_MINUTES: i64 = 5;

/// Decides a command against a person's case.
pub fn decide(
    case: &Case,
    command: Command,
    ctx: &Context<'_>,
    ids: &mut dyn IdSource,
) -> Result<Vec<NewEvent>, DomainError> {
    check_establishment(ctx)?;
    match command {
        Command::Record {
            occurred_at,
            recorded_at,
            kind,
        } => {
            if crate::governance::is_service_fact(&kind) {
                return Err(DomainError::invalid(
                    "type",
                    "this is a fact about the service, not about a person",
                ));
            }
            if matches!(
                kind,
                EventKind::EnteredInError(_) | EventKind::PeopleMerged(_)
            ) {
                return Err(DomainError::invalid(
                    "type",
                    "use the entered-in-error or merge action for this",
                ));
            }
            access::check(ctx.actor, Act::Record, kind.type_name())?;
            let occurred_at = occurrence(&kind, occurred_at, ctx.now);
            check_times(&kind, occurred_at, recorded_at, ctx.now)?;
            validate(case, &kind, occurred_at, None, ctx)?;
            check_trainee_rule(case.complex_needs(), &kind, &ctx.recorded_by, ctx.trainees)?;
            let mut out = vec![new_event(
                case,
                ctx,
                ids,
                occurred_at,
                recorded_at,
                kind.clone(),
            )];
            if let EventKind::DrugTestResulted(t) = &kind
                && t.positive
            {
                out.extend(positive_test_follow_up(
                    case,
                    ctx,
                    ids,
                    &out[0],
                    occurred_at,
                    recorded_at,
                ));
            }
            // Issue 14: accepting a transfer request records the transfer out, by
            // the establishment the person leaves.
            if let EventKind::TransferRequestAnswered(a) = &kind
                && a.accepted
                && let Some(r) = case
                    .transfer_requests
                    .iter()
                    .find(|x| x.id == case.identity(a.request))
            {
                out.push(new_event(
                    case,
                    ctx,
                    ids,
                    occurred_at,
                    recorded_at,
                    EventKind::Transferred(Transfer {
                        from: ctx.establishment.clone(),
                        to: r.to.clone(),
                        source_ref: None,
                        break_glass: None,
                    }),
                ));
            }
            // KM 3.3.6: the comprehensive assessment determines NDTMS consent; the
            // ledger records the decision so every later check sees it.
            if let EventKind::AssessmentCompleted(a) = &kind
                && let Some(c) = &a.comprehensive
            {
                let decision = if c.ndtms_consent {
                    ConsentDecision::Given
                } else {
                    ConsentDecision::Refused
                };
                out.push(new_event(
                    case,
                    ctx,
                    ids,
                    occurred_at,
                    recorded_at,
                    EventKind::ConsentRecorded(ConsentRecord {
                        purpose: ConsentPurpose::Ndtms,
                        decision,
                        decided_on: a.assessed_on,
                    }),
                ));
            }
            Ok(out)
        }
        Command::Correct {
            target,
            reason,
            kind,
        } => {
            let original = latest_version(case, target)?;
            access::check(ctx.actor, Act::Correct, original.kind.type_name())?;
            if !original.kind.same_kind(&kind) {
                return Err(DomainError::invalid(
                    "type",
                    format!(
                        "a correction must be of the same kind as the original ({})",
                        original.kind.type_name()
                    ),
                ));
            }
            require_reason(&reason)?;
            let occurred_at = occurrence(&kind, Some(original.occurred_at), ctx.now);
            check_times(&kind, occurred_at, None, ctx.now)?;
            validate(case, &kind, occurred_at, Some(target), ctx)?;
            check_trainee_rule(case.complex_needs(), &kind, &ctx.recorded_by, ctx.trainees)?;
            let mut e = new_event(case, ctx, ids, occurred_at, None, kind);
            e.establishment = original.establishment.clone();
            e.supersedes = Some(original.id);
            e.reason = Some(reason.trim().to_string());
            Ok(vec![e])
        }
        Command::EnterInError { target, reason } => {
            let original = latest_version(case, target)?;
            access::check(ctx.actor, Act::EnterInError, original.kind.type_name())?;
            if matches!(original.kind, EventKind::PersonRegistered(_)) {
                return Err(DomainError::Refused(
                    "a registration cannot be entered in error: correct it, or merge the record into the right person".into(),
                ));
            }
            require_reason(&reason)?;
            let mut e = new_event(
                case,
                ctx,
                ids,
                to_log_precision(ctx.now),
                None,
                EventKind::EnteredInError(EnteredInError {
                    target: original.id,
                }),
            );
            e.establishment = original.establishment.clone();
            e.reason = Some(reason.trim().to_string());
            Ok(vec![e])
        }
    }
}

/// Decides the merge of `merged` into `survivor`: two prison numbers found to be one
/// person. The survivor's record gains the other's history; nothing is lost.
pub fn decide_merge(
    survivor: &Case,
    merged: &Case,
    ctx: &Context<'_>,
    ids: &mut dyn IdSource,
) -> Result<Vec<NewEvent>, DomainError> {
    check_establishment(ctx)?;
    access::check(ctx.actor, Act::Record, "people_merged")?;
    if survivor.person == merged.person {
        return Err(DomainError::invalid(
            "merge_with",
            "a record cannot be merged into itself",
        ));
    }
    let Some(other) = &merged.details else {
        return Err(DomainError::invalid(
            "merge_with",
            "the record to merge is not registered",
        ));
    };
    if survivor.details.is_none() {
        return Err(DomainError::invalid(
            "person",
            "the surviving record is not registered",
        ));
    }
    if survivor.merged_people.contains(&merged.person) {
        return Err(DomainError::invalid(
            "merge_with",
            "these records are already merged",
        ));
    }
    Ok(vec![new_event(
        survivor,
        ctx,
        ids,
        to_log_precision(ctx.now),
        None,
        EventKind::PeopleMerged(Merge {
            merged: merged.person,
            merged_prison_number: other.prison_number.clone(),
        }),
    )])
}

fn check_establishment(ctx: &Context<'_>) -> Result<(), DomainError> {
    if ctx.profile.establishment(&ctx.establishment).is_none() {
        return Err(DomainError::invalid(
            "establishment",
            format!(
                "{} is not an establishment of this service",
                ctx.establishment
            ),
        ));
    }
    Ok(())
}

fn require_reason(reason: &str) -> Result<(), DomainError> {
    if reason.trim().is_empty() {
        return Err(DomainError::invalid(
            "reason",
            "Enter the reason for the change",
        ));
    }
    Ok(())
}

/// The latest version of an event: refuses an unknown event, one already replaced
/// (correct the latest version instead) and one entered in error.
fn latest_version(
    case: &Case,
    target: EventId,
) -> Result<&crate::events::RecordedEvent, DomainError> {
    let e = case.event(target).ok_or_else(|| DomainError::NotFound {
        what: "that event for this person".into(),
    })?;
    if case.superseded.contains(&target) {
        return Err(DomainError::invalid(
            "target",
            "this entry has already been corrected: correct the latest version",
        ));
    }
    if case.in_error.contains(&target) || matches!(e.kind, EventKind::EnteredInError(_)) {
        return Err(DomainError::invalid(
            "target",
            "this entry is marked as entered in error",
        ));
    }
    Ok(e)
}

/// The date a fact carries in its payload, if it has one.
pub fn payload_date(kind: &EventKind) -> Option<NaiveDate> {
    match kind {
        EventKind::ReferralMade(r) => Some(r.referred_on),
        EventKind::ReferralClosed(c) => Some(c.closed_on),
        EventKind::DrugTestResulted(t) => Some(t.confirmed_on.unwrap_or(t.sampled_on)),
        EventKind::InformationShared(s) => Some(s.shared_on),
        EventKind::OnwardReferralMade(r) => Some(r.referred_on),
        EventKind::ScreeningCompleted(s) => Some(s.screened_on),
        EventKind::AssessmentCompleted(a) => Some(a.assessed_on),
        EventKind::ConsentRecorded(c) => Some(c.decided_on),
        EventKind::ConsentWithdrawn(w) => Some(w.withdrawn_on),
        EventKind::CarePlanAgreed(p) => Some(p.agreed_on),
        EventKind::CarePlanReviewed(r) => Some(r.reviewed_on),
        EventKind::InductionRecorded(i) => i.last_on(),
        EventKind::TopCompleted(t) => Some(t.completed_on),
        EventKind::InterventionUpdated(u) => Some(u.on),
        EventKind::SessionAttended(s) => Some(s.on),
        EventKind::ClinicalEventRecorded(c) => Some(local_date(c.at)),
        EventKind::BloodBorneVirusRecorded(b) => Some(b.on),
        EventKind::NaloxoneSupplied(n) => Some(n.on),
        EventKind::DrugIntelligenceRecorded(d) => Some(d.received_on),
        EventKind::SentencePlanContributed(c) => Some(c.contributed_on),
        EventKind::KeyworkerAllocated(k) => Some(k.allocated_on),
        EventKind::ServiceExclusionRecorded(x) => Some(x.excluded_on),
        EventKind::ReleasePlanAgreed(x) => Some(x.agreed_on),
        EventKind::TreatmentExited(x) => Some(x.exited_on),
        EventKind::CommunityEngagementRecorded(x) => Some(x.on),
        EventKind::ContactRecorded(x) => Some(x.on),
        EventKind::DeathRecorded(x) => Some(x.died_on),
        EventKind::ReoffenceRecorded(x) => Some(x.offended_on),
        EventKind::FollowUpClosed(x) => Some(x.closed_on),
        _ => None,
    }
}

/// When a fact happened: the given instant when it agrees with the payload's date,
/// else midday on the payload's date, else the given instant or now.
fn occurrence(kind: &EventKind, given: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    // A clinical event carries its own instant: the first-night clock runs in hours.
    if let EventKind::ClinicalEventRecorded(c) = kind {
        return to_log_precision(c.at);
    }
    let at = match (payload_date(kind), given) {
        (Some(d), Some(g)) if local_date(g) == d => g,
        (Some(d), _) => local_midday(d),
        (None, Some(g)) => g,
        (None, None) => now,
    };
    to_log_precision(at)
}

/// The payload field that carries a fact's date or time, where it has one: a date
/// in the future is reported against it.
pub fn payload_date_field(kind: &EventKind) -> Option<&'static str> {
    Some(match kind {
        EventKind::ReferralMade(_) | EventKind::OnwardReferralMade(_) => "referred_on",
        EventKind::ReferralClosed(_) => "closed_on",
        EventKind::DrugTestResulted(_) => "sampled_on",
        EventKind::InformationShared(_) => "shared_on",
        EventKind::ScreeningCompleted(_) => "screened_on",
        EventKind::AssessmentCompleted(_) => "assessed_on",
        EventKind::ConsentRecorded(_) => "decided_on",
        EventKind::ConsentWithdrawn(_) => "withdrawn_on",
        EventKind::CarePlanAgreed(_) => "agreed_on",
        EventKind::CarePlanReviewed(_) => "reviewed_on",
        EventKind::InductionRecorded(_) => "items",
        EventKind::TopCompleted(_) => "completed_on",
        EventKind::InterventionUpdated(_)
        | EventKind::SessionAttended(_)
        | EventKind::BloodBorneVirusRecorded(_)
        | EventKind::NaloxoneSupplied(_) => "on",
        EventKind::ClinicalEventRecorded(_) => "at",
        EventKind::DrugIntelligenceRecorded(_) => "received_on",
        EventKind::SentencePlanContributed(_) => "contributed_on",
        EventKind::KeyworkerAllocated(_) => "allocated_on",
        EventKind::ServiceExclusionRecorded(_) => "excluded_on",
        EventKind::ReleasePlanAgreed(_) => "agreed_on",
        EventKind::TreatmentExited(_) => "exited_on",
        EventKind::CommunityEngagementRecorded(_) | EventKind::ContactRecorded(_) => "on",
        EventKind::DeathRecorded(_) => "died_on",
        EventKind::ReoffenceRecorded(_) => "offended_on",
        EventKind::FollowUpClosed(_) => "closed_on",
        _ => return None,
    })
}

fn check_times(
    kind: &EventKind,
    occurred_at: DateTime<Utc>,
    recorded_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let limit = now + Duration::minutes(FUTURE_TOLERANCE_MINUTES);
    let mut p = Problems::new();
    let future = match kind {
        // A clinical event carries its own time: it may not be later than now.
        EventKind::ClinicalEventRecorded(_) => occurred_at > limit,
        _ => local_date(occurred_at) > local_date(now) || occurred_at > limit + Duration::hours(12),
    };
    if future {
        p.add(
            payload_date_field(kind).unwrap_or("occurred_at"),
            "The date must be today or in the past",
        );
    }
    if let Some(r) = recorded_at
        && r > limit
    {
        p.add("recorded_at", "The record time cannot be in the future");
    }
    p.into_result()
}

fn new_event(
    case: &Case,
    ctx: &Context<'_>,
    ids: &mut dyn IdSource,
    occurred_at: DateTime<Utc>,
    recorded_at: Option<DateTime<Utc>>,
    kind: EventKind,
) -> NewEvent {
    NewEvent {
        id: EventId(ids.next_uuid()),
        person: Some(case.person),
        establishment: ctx.establishment.clone(),
        occurred_at,
        recorded_at: recorded_at.map(to_log_precision),
        recorded_by: ctx.recorded_by.clone(),
        supersedes: None,
        reason: None,
        kind,
    }
}

/// S4 §2: a confirmed positive test makes a referral and offers an appointment;
/// KM 5.17: the result is shared with the prison authorities as a duty.
fn positive_test_follow_up(
    case: &Case,
    ctx: &Context<'_>,
    ids: &mut dyn IdSource,
    test: &NewEvent,
    occurred_at: DateTime<Utc>,
    recorded_at: Option<DateTime<Utc>>,
) -> Vec<NewEvent> {
    let on = local_date(occurred_at);
    let referral = new_event(
        case,
        ctx,
        ids,
        occurred_at,
        recorded_at,
        EventKind::ReferralMade(Referral {
            source: ReferralSource::PositiveDrugTest,
            referred_on: on,
            note: Some("Automatic referral after a confirmed positive drug test".into()),
        }),
    );
    let appointment_day = ctx.calendar.add_working_days(on, 1);
    let ten = NaiveTime::from_hms_opt(10, 0, 0).unwrap_or(NaiveTime::MIN);
    let offer = new_event(
        case,
        ctx,
        ids,
        occurred_at,
        recorded_at,
        EventKind::AppointmentOffered(AppointmentOffer {
            referral: Some(referral.id),
            at: local_instant(appointment_day, ten),
            worker: None,
            clinic: None,
            purpose: Some("Assessment after a positive drug test".into()),
        }),
    );
    let share = new_event(
        case,
        ctx,
        ids,
        occurred_at,
        recorded_at,
        EventKind::InformationShared(Disclosure {
            recipient: Recipient::PrisonAuthorities,
            basis: SharingBasis::Duty {
                duty: SharingDuty::PositiveDrugTest,
            },
            shared_on: on,
            about: Some(test.id),
            summary: "Positive drug test result".into(),
        }),
    );
    vec![referral, offer, share]
}

/// Checks one fact against the case. `correcting` names the event being replaced,
/// whose own presence must not count against its correction.
fn validate(
    case: &Case,
    kind: &EventKind,
    occurred_at: DateTime<Utc>,
    correcting: Option<EventId>,
    ctx: &Context<'_>,
) -> Result<(), DomainError> {
    let today = local_date(ctx.now);
    let on = local_date(occurred_at);
    let mut p = Problems::new();
    let registered = case.is_registered();
    if !matches!(kind, EventKind::PersonRegistered(_)) && !registered {
        return Err(DomainError::invalid("person", "Register the person first"));
    }
    let born = case.details.as_ref().map(|d| d.date_of_birth);
    let check_not_before_birth = |p: &mut Problems, field: &str, d: NaiveDate| {
        if born.is_some_and(|b| d < b) {
            p.add(
                field,
                "The date cannot be before the person's date of birth",
            );
        }
    };
    match kind {
        EventKind::PersonRegistered(d) => {
            if registered && correcting.is_none() {
                p.add("prison_number", "This person is already registered");
            }
            p.check(
                d.given_name.trim().is_empty(),
                "given_name",
                "Enter the person's given name",
            );
            p.check(
                d.family_name.trim().is_empty(),
                "family_name",
                "Enter the person's family name",
            );
            p.check(
                d.given_name.len() > 100,
                "given_name",
                "Given name must be 100 characters or fewer",
            );
            p.check(
                d.family_name.len() > 100,
                "family_name",
                "Family name must be 100 characters or fewer",
            );
            if d.date_of_birth > today {
                p.add("date_of_birth", "Date of birth must be in the past");
            } else if d.age_on(today) > 120 {
                p.add(
                    "date_of_birth",
                    "Date of birth must be within the last 120 years",
                );
            } else if d.age_on(today) < 15 {
                p.add("date_of_birth", "The person must be at least 15 years old");
            }
        }
        EventKind::Received(_) => {
            if let CustodyStatus::InCustody { establishment, .. } = &case.custody
                && correcting.is_none()
            {
                p.add(
                    "establishment",
                    format!("The person is already in custody at {establishment}: record a transfer instead"),
                );
            }
        }
        EventKind::Transferred(t) => {
            // REQUIREMENTS §10: a transfer comes from the movements feed (the
            // command line, at either end) or is recorded by the establishment the
            // person leaves. The receiving establishment never records one: that
            // would open to it a record it may not see until the person is moved.
            // The one exception is a manager's break-glass with a reason, flagged
            // for review on the receiving caseload and the timeline (issue 14).
            let break_glass = t.break_glass.as_deref().map(str::trim);
            let recorded_at_an_end = match (ctx.actor, break_glass) {
                (crate::access::Actor::System, None) => {
                    t.to == ctx.establishment || t.from == ctx.establishment
                }
                (crate::access::Actor::Staff(crate::access::Role::Manager), Some(_)) => {
                    t.to == ctx.establishment
                }
                (_, Some(_)) => {
                    p.add(
                        "break_glass",
                        "Only a manager at the receiving establishment can transfer a person in by break-glass",
                    );
                    true
                }
                _ => t.from == ctx.establishment,
            };
            if !recorded_at_an_end && correcting.is_none() {
                p.add(
                    "from",
                    "The transfer must be recorded by the establishment the person leaves",
                );
            }
            if let Some(reason) = break_glass
                && reason.chars().count() < crate::custody::MIN_BREAK_GLASS_REASON
            {
                p.add(
                    "break_glass",
                    format!(
                        "Say why the record cannot wait for the transfer out, in at least {} characters",
                        crate::custody::MIN_BREAK_GLASS_REASON
                    ),
                );
            }
            if t.from == t.to {
                p.add(
                    "to",
                    "The establishment transferred to must differ from the one transferred from",
                );
            }
            if ctx.profile.establishment(&t.to).is_none() {
                p.add(
                    "to",
                    format!("{} is not an establishment of this service", t.to),
                );
            }
            match &case.custody {
                CustodyStatus::InCustody { establishment, .. } if *establishment == t.from => {}
                _ if correcting.is_some() => {}
                _ => p.add(
                    "from",
                    format!("The person is not in custody at {}", t.from),
                ),
            }
        }
        EventKind::TransferRequested(r) => {
            // Asked by the establishment that wants the record, of the one that
            // holds it; it opens nothing until answered (issue 14).
            if r.to != ctx.establishment {
                p.add(
                    "to",
                    "A transfer request is made by the establishment that asks for the record",
                );
            }
            match &case.custody {
                CustodyStatus::InCustody { establishment, .. } if *establishment != r.to => {}
                _ if correcting.is_some() => {}
                _ => p.add("to", "The person is not held at another establishment"),
            }
            if r.reason.trim().chars().count() < crate::custody::MIN_BREAK_GLASS_REASON {
                p.add(
                    "reason",
                    format!(
                        "Say why the record should move, in at least {} characters",
                        crate::custody::MIN_BREAK_GLASS_REASON
                    ),
                );
            }
            if correcting.is_none()
                && case
                    .transfer_requests
                    .iter()
                    .any(|x| x.is_open() && x.to == r.to)
            {
                p.add("to", "This establishment has already asked for the record");
            }
        }
        EventKind::TransferRequestAnswered(a) => {
            let request = case.identity(a.request);
            match case.transfer_requests.iter().find(|x| x.id == request) {
                Some(x) if x.is_open() || correcting.is_some() => {}
                Some(_) => p.add("request", "The request has been answered already"),
                None => p.add("request", "There is no such transfer request"),
            }
            match &case.custody {
                CustodyStatus::InCustody { establishment, .. }
                    if *establishment == ctx.establishment => {}
                _ if correcting.is_some() => {}
                _ => p.add(
                    "request",
                    "A transfer request is answered by the establishment that holds the record",
                ),
            }
        }
        EventKind::Released(_) => match &case.custody {
            CustodyStatus::InCustody { establishment, .. }
                if *establishment == ctx.establishment => {}
            _ if correcting.is_some() => {}
            _ => p.add(
                "establishment",
                format!("The person is not in custody at {}", ctx.establishment),
            ),
        },
        EventKind::ExpectedReleaseSet(x) => {
            if let (Some(d), Some(r)) = (x.date, case.received_on())
                && d < r
            {
                p.add(
                    "date",
                    "The expected release date cannot be before the reception date",
                );
            }
        }
        EventKind::ReferralMade(r) => {
            check_not_before_birth(&mut p, "referred_on", r.referred_on);
            // A corrected referral keeps its identity: it cannot move after the
            // assessment that answered it.
            if let Some(target) = correcting
                && let Some((_, assessed_on)) = case
                    .referrals
                    .iter()
                    .find(|x| x.id == case.identity(target))
                    .and_then(|x| x.first_assessment)
                && assessed_on < r.referred_on
            {
                p.add(
                    "referred_on",
                    format!(
                        "The referral date cannot be after its assessment ({})",
                        assessed_on.format("%-d %B %Y")
                    ),
                );
            }
        }
        EventKind::ReferralClosed(c) => match case.referrals.iter().find(|r| r.id == c.referral) {
            None => p.add("referral", "No such referral for this person"),
            Some(r) if correcting.is_none() && !r.is_open() => {
                p.add("referral", "This referral is already assessed or closed")
            }
            Some(r) if c.closed_on < r.referral.referred_on => p.add(
                "closed_on",
                format!(
                    "The closing date must be on or after the referral date ({})",
                    r.referral.referred_on.format("%-d %B %Y")
                ),
            ),
            Some(_) => {}
        },
        EventKind::AppointmentOffered(a) => {
            if let Some(r) = a.referral
                && !case.referrals.iter().any(|x| x.id == r)
            {
                p.add("referral", "No such referral for this person");
            }
        }
        EventKind::AppointmentOutcomeRecorded(o) => {
            match case.appointments.iter().find(|a| a.id == o.appointment) {
                None => p.add("appointment", "No such appointment for this person"),
                Some(a) if a.outcome.is_some() && correcting.is_none() => p.add(
                    "appointment",
                    "This appointment already has an outcome: correct it instead",
                ),
                Some(_) => {}
            }
        }
        EventKind::DrugTestResulted(t) => {
            p.check(
                t.test_ref.trim().is_empty(),
                "test_ref",
                "Enter the test's reference",
            );
            if let Some(c) = t.confirmed_on
                && c < t.sampled_on
            {
                p.add(
                    "confirmed_on",
                    "The confirmation date cannot be before the sample date",
                );
            }
            if correcting.is_none()
                && case
                    .drug_tests
                    .iter()
                    .any(|(_, x)| x.test_ref == t.test_ref)
            {
                p.add(
                    "test_ref",
                    "A result with this test reference is already recorded",
                );
            }
            check_not_before_birth(&mut p, "sampled_on", t.sampled_on);
        }
        EventKind::InformationShared(s) => {
            if let Some(a) = s.about
                && case.event(a).is_none()
            {
                p.add("about", "No such entry for this person");
            }
            check_basis(&case.consents, s.recipient, s.basis, s.shared_on)?;
        }
        EventKind::OnwardReferralMade(r) => {
            check_not_before_birth(&mut p, "referred_on", r.referred_on);
        }
        EventKind::ScreeningCompleted(s) => {
            let mut seen = Vec::new();
            for sub in &s.problem_substances {
                if seen.contains(sub) {
                    p.add(
                        "problem_substances",
                        "Each problem substance can be ranked only once",
                    );
                    break;
                }
                seen.push(*sub);
            }
            p.check(
                s.problem_substances.len() > 3,
                "problem_substances",
                "Rank at most three problem substances (primary, secondary, tertiary)",
            );
            p.check(
                s.audit.is_some() && s.audit_c.is_some(),
                "audit_c",
                "Record either the full AUDIT or AUDIT-C, not both",
            );
            check_not_before_birth(&mut p, "screened_on", s.screened_on);
        }
        EventKind::AssessmentCompleted(a) => {
            p.check(
                a.summary.trim().is_empty(),
                "summary",
                "Enter a summary of the assessment",
            );
            if a.kind == AssessmentKind::Comprehensive {
                match &a.comprehensive {
                    None => p.add(
                        "comprehensive",
                        "A comprehensive assessment must cover every item of KM 3.3.1–3.3.8",
                    ),
                    Some(c) => {
                        p.check(
                            c.needs_and_goals.trim().is_empty(),
                            "needs_and_goals",
                            "Enter the person's needs and goals (KM 3.3.1)",
                        );
                        p.check(!c.information_handling_explained, "information_handling_explained", "Explain how information is handled and shared, and confirm it (KM 3.3.5)");
                        p.check(
                            c.risk_management_plan.trim().is_empty(),
                            "risk_management_plan",
                            "Enter the risk management plan, or say none is needed (KM 3.3.8)",
                        );
                    }
                }
            } else if a.comprehensive.is_some() {
                p.add(
                    "kind",
                    "Only a comprehensive assessment has the KM 3.3 items",
                );
            }
            match a.referral {
                Some(r) => match case.referrals.iter().find(|x| x.id == r) {
                    None => p.add("referral", "No such referral for this person"),
                    Some(x) if a.assessed_on < x.referral.referred_on => p.add(
                        "assessed_on",
                        format!(
                            "The assessment date must be on or after the referral date ({})",
                            x.referral.referred_on.format("%-d %B %Y")
                        ),
                    ),
                    Some(_) => {}
                },
                None => {
                    let open: Vec<_> = case
                        .referrals
                        .iter()
                        .filter(|r| r.first_assessment.is_none())
                        .collect();
                    if !open.is_empty()
                        && open.iter().all(|r| a.assessed_on < r.referral.referred_on)
                    {
                        let first = open
                            .iter()
                            .map(|r| r.referral.referred_on)
                            .min()
                            .unwrap_or(a.assessed_on);
                        p.add(
                            "assessed_on",
                            format!(
                                "The assessment date must be on or after the referral date ({})",
                                first.format("%-d %B %Y")
                            ),
                        );
                    }
                }
            }
            check_not_before_birth(&mut p, "assessed_on", a.assessed_on);
        }
        EventKind::ConsentRecorded(c) => {
            check_not_before_birth(&mut p, "decided_on", c.decided_on);
        }
        EventKind::ConsentWithdrawn(w) => {
            if !matches!(
                case.consents.state(w.purpose),
                Some(ConsentState::Given { .. })
            ) && correcting.is_none()
            {
                p.add(
                    "purpose",
                    "There is no consent for this purpose to withdraw",
                );
            }
            if let Some(ConsentState::Given { on: given }) = case.consents.state(w.purpose)
                && w.withdrawn_on < given
            {
                p.add(
                    "withdrawn_on",
                    "Consent cannot be withdrawn before it was given",
                );
            }
        }
        _ => {}
    }
    crate::care_rules::validate(case, kind, correcting, ctx, &mut p)?;
    crate::release_rules::validate(case, kind, correcting, ctx, &mut p)?;
    let _ = on;
    p.into_result()
}
