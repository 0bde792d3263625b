//! Information-sharing requests from the commissioner (KM 5.14–5.15; REQUIREMENTS
//! "Users": the commissioner sees person-level information "only through a
//! manager-approved, scoped, audited information-sharing request"). A commissioner
//! asks for named fields about a cohort of people at some establishments over a
//! period, citing the clause of the Kent and Medway Information Sharing Agreement
//! relied on; a manager of every establishment in scope approves or refuses it, once;
//! while approved and not expired, the rows are made from the log **as at the
//! decision instant**, so what was approved is fixed and reproducible
//! (docs/information-requests.md). Both facts are about the service: no person.

use crate::case::Case;
use crate::consent::{ConsentPurpose, ConsentState};
use crate::decide::Context;
use crate::error::{DomainError, Problems};
use crate::events::{EventKind, RecordedEvent};
use crate::identifiers::{EstablishmentCode, StaffUsername};
use crate::interventions::InterventionStatus;
use crate::labelled_enum;
use crate::record_ids::{EventId, PersonId};
use crate::referrals::AppointmentOutcomeKind;
use crate::returns::cut::{Cut, PersonRecord, event_date};
use crate::returns::km_activity_spans::Custody;
use crate::returns::shared::{episodes, releases, structured_starts};
use crate::time::local_date;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The longest purpose (and refusal reason), in characters.
pub const MAX_PURPOSE: usize = 2000;
/// The longest lawful basis, in characters.
pub const MAX_LAWFUL_BASIS: usize = 500;
/// The longest access a request may ask for, in days after the day it is made.
pub const MAX_ACCESS_DAYS: u64 = 90;

labelled_enum! {
    /// Whom a request is about (KM 5.14: "service users who attend and/or engage
    /// with treatment"). Each is defined in docs/information-requests.md.
    pub enum Cohort {
        /// A treatment episode (D4) open on a day of the period while held at a
        /// scoped establishment.
        InStructuredTreatment = ("in_structured_treatment", "In structured treatment during the period"),
        /// Released or deported from a scoped establishment during the period (D9).
        Released = ("released", "Released during the period"),
        /// Attended or engaged with treatment at a scoped establishment during the period.
        AllEngaged = ("all_engaged", "Attended or engaged with treatment during the period"),
    }
}

labelled_enum! {
    /// The fields a request may ask for: what the case fold can answer honestly.
    pub enum SharedField {
        /// A pseudonym for this request only (SHA-256 over profile, request and person).
        PseudonymousId = ("pseudonymous_id", "Pseudonymous identifier (this request only)"),
        /// The prison number the person is registered under.
        PrisonNumber = ("prison_number", "Prison number"),
        /// Given and family name.
        Name = ("name", "Name"),
        /// Date of birth.
        DateOfBirth = ("date_of_birth", "Date of birth"),
        /// The scoped establishment the person is counted at.
        Establishment = ("establishment", "Establishment"),
        /// The start of the latest treatment episode begun by the period's end.
        TreatmentStart = ("treatment_start", "Treatment start date"),
        /// That episode's exit date, if it has ended.
        TreatmentExit = ("treatment_exit", "Treatment exit date"),
        /// That episode's exit reason.
        ExitReason = ("exit_reason", "Treatment exit reason"),
        /// The latest release in the period.
        ReleaseDate = ("release_date", "Release date"),
        /// Community engagement recorded on or after that release: outcome and date.
        CommunityEngagement = ("community_engagement", "Community treatment engagement after release"),
    }
}

labelled_enum! {
    /// A manager's decision on a request.
    pub enum Decision {
        /// Approved: the rows may be downloaded until the request expires.
        Approved = ("approved", "Approved"),
        /// Refused, with the reason.
        Refused = ("refused", "Refused"),
    }
}

/// A commissioner's information-sharing request (KM 5.14). A fact about the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InformationRequestMade {
    /// The request's unique reference (`ISR-2026-001`).
    pub request_ref: String,
    /// The commissioner's username: whoever records the request.
    pub requested_by: StaffUsername,
    /// What the information is for (KM 5.15: "the continued development and
    /// improvement of K/MDAAT commissioned services").
    pub purpose: String,
    /// The clause of the Kent and Medway Information Sharing Agreement relied on.
    pub lawful_basis: String,
    /// The establishments in scope (codes of the profile).
    pub establishments: Vec<EstablishmentCode>,
    /// The period's first day.
    pub period_from: NaiveDate,
    /// The period's last day (inclusive; not in the future).
    pub period_to: NaiveDate,
    /// Whom it is about.
    pub cohort: Cohort,
    /// What is asked for, each once.
    pub fields: Vec<SharedField>,
    /// The last day access lasts (at most 90 days after the request).
    pub expires_on: NaiveDate,
}

/// A manager's decision on a request (KM 5.14). A fact about the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InformationRequestDecided {
    /// The request decided.
    pub request_ref: String,
    /// Approved or refused.
    pub decision: Decision,
    /// Why (required when refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The day decided.
    pub decided_on: NaiveDate,
}

/// A decision as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestDecision {
    /// The decision.
    pub fact: InformationRequestDecided,
    /// Its event.
    pub event: EventId,
    /// The manager who decided.
    pub decided_by: StaffUsername,
    /// When the decision entered the log: the rows are made as at this instant.
    pub decided_at: DateTime<Utc>,
}

/// A request as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformationRequest {
    /// The request.
    pub made: InformationRequestMade,
    /// Its event.
    pub event: EventId,
    /// The day it was made (the event's local date).
    pub requested_on: NaiveDate,
    /// Its decision, once decided.
    pub decision: Option<RequestDecision>,
}

/// Where a request stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// Not yet decided.
    Pending,
    /// Approved and not expired: the rows may be downloaded.
    Approved,
    /// Refused.
    Refused,
    /// Past its `expires_on`, whether approved or never decided.
    Expired,
}

impl RequestStatus {
    /// Words for pages.
    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Pending => "Pending",
            RequestStatus::Approved => "Approved",
            RequestStatus::Refused => "Refused",
            RequestStatus::Expired => "Expired",
        }
    }
}

impl InformationRequest {
    /// Where the request stands on `today`: refused stays refused; otherwise after
    /// `expires_on` it has expired; otherwise approved or pending.
    pub fn status(&self, today: NaiveDate) -> RequestStatus {
        match &self.decision {
            Some(d) if d.fact.decision == Decision::Refused => RequestStatus::Refused,
            _ if today > self.made.expires_on => RequestStatus::Expired,
            Some(_) => RequestStatus::Approved,
            None => RequestStatus::Pending,
        }
    }

    /// The instant the rows are made as at: the approval's, while the request is
    /// approved on `today`; none otherwise (nothing may leave).
    pub fn shareable_as_at(&self, today: NaiveDate) -> Option<DateTime<Utc>> {
        match (&self.decision, self.status(today)) {
            (Some(d), RequestStatus::Approved) => Some(d.decided_at),
            _ => None,
        }
    }
}

/// The register of requests, by reference.
pub type Register = BTreeMap<String, InformationRequest>;

/// Whether an event kind is one of this module's facts.
pub fn is_request_fact(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::InformationRequestMade(_) | EventKind::InformationRequestDecided(_)
    )
}

/// The payload date of a decision (a request takes the instant it is made).
pub fn fact_date(kind: &EventKind) -> Option<NaiveDate> {
    match kind {
        EventKind::InformationRequestDecided(d) => Some(d.decided_on),
        _ => None,
    }
}

/// Folds one event into the register (other kinds change nothing).
pub fn apply(register: &mut Register, e: &RecordedEvent) {
    match &e.kind {
        EventKind::InformationRequestMade(m) => {
            register.insert(
                m.request_ref.clone(),
                InformationRequest {
                    made: m.clone(),
                    event: e.id,
                    requested_on: local_date(e.occurred_at),
                    decision: None,
                },
            );
        }
        EventKind::InformationRequestDecided(d) => {
            if let Some(r) = register.get_mut(&d.request_ref)
                && r.decision.is_none()
            {
                r.decision = Some(RequestDecision {
                    fact: d.clone(),
                    event: e.id,
                    decided_by: e.recorded_by.clone(),
                    decided_at: e.appended_at,
                });
            }
        }
        _ => {}
    }
}

fn well_formed_ref(r: &str) -> bool {
    !r.is_empty() && r.len() <= 40 && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// Checks a request or a decision against the register, the profile, who records
/// it (`ctx.recorded_by`) and today. `decider_establishments` are the establishments
/// the recorder manages: a decision needs every establishment of the request among
/// them (the server passes a manager's own; the role is checked in its policy).
pub fn validate(
    register: &Register,
    kind: &EventKind,
    ctx: &Context<'_>,
    decider_establishments: &[EstablishmentCode],
) -> Result<(), DomainError> {
    let today = local_date(ctx.now);
    let mut p = Problems::new();
    let blank = |s: &str| s.trim().is_empty();
    match kind {
        EventKind::InformationRequestMade(m) => {
            if blank(&m.request_ref) {
                p.add("request_ref", "Enter the request's reference");
            } else if !well_formed_ref(&m.request_ref) {
                p.add(
                    "request_ref",
                    "Use letters, digits and hyphens only, up to 40 characters (like ISR-2026-001)",
                );
            } else if register.contains_key(&m.request_ref) {
                p.add(
                    "request_ref",
                    "A request with this reference already exists: choose another",
                );
            }
            p.check(
                m.requested_by != ctx.recorded_by,
                "requested_by",
                "A request is made in the name of whoever records it",
            );
            if blank(&m.purpose) {
                p.add("purpose", "Enter what the information is for");
            } else if m.purpose.chars().count() > MAX_PURPOSE {
                p.add("purpose", "The purpose must be 2,000 characters or fewer");
            }
            if blank(&m.lawful_basis) {
                p.add(
                    "lawful_basis",
                    "Enter the clause of the Information Sharing Agreement relied on",
                );
            } else if m.lawful_basis.chars().count() > MAX_LAWFUL_BASIS {
                p.add(
                    "lawful_basis",
                    "The lawful basis must be 500 characters or fewer",
                );
            }
            if m.establishments.is_empty() {
                p.add("establishments", "Choose at least one establishment");
            }
            for (i, e) in m.establishments.iter().enumerate() {
                if ctx.profile.establishment(e).is_none() {
                    p.add(
                        "establishments",
                        format!("{e} is not an establishment of this service"),
                    );
                } else if m.establishments[..i].contains(e) {
                    p.add("establishments", format!("{e} is named more than once"));
                }
            }
            if m.period_from > m.period_to {
                p.add(
                    "period_to",
                    "The end of the period must be on or after its start",
                );
            }
            p.check(
                m.period_to > today,
                "period_to",
                "The period must have ended by today: information is shared about the past",
            );
            if m.fields.is_empty() {
                p.add("fields", "Choose at least one field");
            }
            for (i, f) in m.fields.iter().enumerate() {
                if m.fields[..i].contains(f) {
                    p.add(
                        "fields",
                        format!("{} is asked for more than once", f.code()),
                    );
                }
            }
            let latest = today.checked_add_days(Days::new(MAX_ACCESS_DAYS));
            if m.expires_on < today {
                p.add("expires_on", "The day access ends must be today or later");
            } else if latest.is_some_and(|l| m.expires_on > l) {
                p.add(
                    "expires_on",
                    format!(
                        "Access lasts at most {MAX_ACCESS_DAYS} days: end it on or before {}",
                        latest.map(long_date).unwrap_or_default()
                    ),
                );
            }
            p.into_result()
        }
        EventKind::InformationRequestDecided(d) => {
            let Some(r) = register.get(&d.request_ref) else {
                return Err(DomainError::invalid(
                    "request_ref",
                    "There is no information request with this reference",
                ));
            };
            if let Some(done) = &r.decision {
                return Err(DomainError::Refused(format!(
                    "Request {} was already {} on {}: a request is decided once",
                    d.request_ref,
                    done.fact.decision.code(),
                    long_date(done.fact.decided_on)
                )));
            }
            if r.made.requested_by == ctx.recorded_by {
                return Err(DomainError::Refused(
                    "Whoever made a request cannot decide it".into(),
                ));
            }
            let outside: Vec<String> = r
                .made
                .establishments
                .iter()
                .filter(|e| !decider_establishments.contains(e))
                .map(ToString::to_string)
                .collect();
            if !outside.is_empty() {
                return Err(DomainError::Refused(format!(
                    "Only a manager of every establishment in the request can decide it; you do not manage {}",
                    outside.join(", ")
                )));
            }
            if d.decision == Decision::Approved && today > r.made.expires_on {
                return Err(DomainError::Refused(format!(
                    "Request {} expired on {}: it can no longer be approved",
                    d.request_ref,
                    long_date(r.made.expires_on)
                )));
            }
            match &d.reason {
                Some(why) if why.chars().count() > MAX_PURPOSE => {
                    p.add("reason", "The reason must be 2,000 characters or fewer")
                }
                None if d.decision == Decision::Refused => {
                    p.add("reason", "Say why the request is refused")
                }
                Some(why) if blank(why) && d.decision == Decision::Refused => {
                    p.add("reason", "Say why the request is refused")
                }
                _ => {}
            }
            p.check(
                d.decided_on > today,
                "decided_on",
                "The date decided must be today or in the past",
            );
            p.check(
                d.decided_on < r.requested_on,
                "decided_on",
                "A request cannot be decided before it was made",
            );
            p.into_result()
        }
        _ => Err(DomainError::invalid(
            "type",
            "this is not an information request",
        )),
    }
}

/// One person's row of an approved request: the approved fields, in the request's
/// order, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRow {
    /// The person (for the access audit; never itself shared).
    pub person: PersonId,
    /// The values, one for each field of the request.
    pub values: Vec<(SharedField, String)>,
}

/// The pseudonym of `person` for one request: the first 20 hex digits of SHA-256
/// over the profile, the request's reference and the person — stable within a
/// request, and not linkable across requests or to the NDTMS CLIENT_ID (KM 5.15).
pub fn pseudonym(profile_id: &str, request_ref: &str, person: PersonId) -> String {
    let digest = Sha256::digest(format!("isr:{profile_id}:{request_ref}:{person}").as_bytes());
    hex::encode(digest).chars().take(20).collect()
}

/// Whether the person has refused or withdrawn consent to information sharing: such
/// a person is never in a request's rows (docs/information-requests.md, choices).
pub fn refuses_sharing(case: &Case) -> bool {
    matches!(
        case.consents.state(ConsentPurpose::InformationSharing),
        Some(ConsentState::Refused { .. } | ConsentState::Withdrawn { .. })
    )
}

/// Whether an effective event is the person attending or engaging with treatment
/// (the `all_engaged` cohort): an assessment, an appointment attended, a session, a
/// course started or completed, prescribing or a detox started, a TOP.
fn engages(kind: &EventKind) -> bool {
    match kind {
        EventKind::AssessmentCompleted(_)
        | EventKind::SessionAttended(_)
        | EventKind::TopCompleted(_) => true,
        EventKind::AppointmentOutcomeRecorded(o) => o.outcome == AppointmentOutcomeKind::Attended,
        EventKind::InterventionUpdated(u) => matches!(
            u.status,
            InterventionStatus::Started | InterventionStatus::Completed
        ),
        EventKind::ClinicalEventRecorded(c) => c.step.starts_treatment(),
        _ => false,
    }
}

/// The scoped establishment the person is counted at for the request, if they are in
/// its cohort at all.
fn attributed(
    cut: &Cut<'_>,
    p: &PersonRecord,
    m: &InformationRequestMade,
) -> Option<EstablishmentCode> {
    let scoped = |e: &EstablishmentCode| m.establishments.contains(e);
    let in_period = |d: NaiveDate| m.period_from <= d && d <= m.period_to;
    match m.cohort {
        Cohort::InStructuredTreatment => {
            let custody = Custody::of(p);
            let starts = structured_starts(cut.profile, p);
            for ep in episodes(cut.profile, p) {
                let first = ep.started_on.max(m.period_from);
                let last = ep.exited_on.map_or(m.period_to, |x| x.min(m.period_to));
                let opener = starts
                    .iter()
                    .find(|s| s.on == ep.started_on)
                    .map(|s| &s.event.establishment);
                for day in first.iter_days().take_while(|d| *d <= last) {
                    if let Some(e) = custody.held_at(day).or(opener)
                        && scoped(e)
                    {
                        return Some(e.clone());
                    }
                }
            }
            None
        }
        Cohort::Released => releases(p)
            .into_iter()
            .rfind(|r| in_period(r.on) && scoped(&r.event.establishment))
            .map(|r| r.event.establishment.clone()),
        Cohort::AllEngaged => p
            .events
            .iter()
            .find(|e| engages(&e.kind) && in_period(event_date(e)) && scoped(&e.establishment))
            .map(|e| e.establishment.clone()),
    }
}

/// The values of the approved fields for one person of the cohort.
fn values(
    cut: &Cut<'_>,
    p: &PersonRecord,
    request_ref: &str,
    m: &InformationRequestMade,
    at: &EstablishmentCode,
) -> Vec<(SharedField, String)> {
    let details = p.case.details.as_ref();
    let episode = episodes(cut.profile, p)
        .into_iter()
        .rfind(|e| e.started_on <= m.period_to);
    let exit_reason = episode.as_ref().and_then(|e| e.exited_on).and_then(|x| {
        p.of(|k| match k {
            EventKind::TreatmentExited(t) if t.exited_on == x => Some(t.reason),
            _ => None,
        })
        .last()
        .map(|(_, r)| r)
    });
    let release = releases(p).into_iter().rfind(|r| {
        m.period_from <= r.on
            && r.on <= m.period_to
            && (m.cohort != Cohort::Released || m.establishments.contains(&r.event.establishment))
    });
    let engagement = release.as_ref().and_then(|r| {
        p.of(|k| match k {
            EventKind::CommunityEngagementRecorded(c) if c.on >= r.on => Some((c.outcome, c.on)),
            _ => None,
        })
        .next()
        .map(|(_, c)| c)
    });
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    m.fields
        .iter()
        .map(|f| {
            let v = match f {
                SharedField::PseudonymousId => pseudonym(&cut.profile.id, request_ref, p.person),
                SharedField::PrisonNumber => details
                    .map(|d| d.prison_number.to_string())
                    .unwrap_or_default(),
                SharedField::Name => details
                    .map(|d| format!("{} {}", d.given_name, d.family_name))
                    .unwrap_or_default(),
                SharedField::DateOfBirth => date(details.map(|d| d.date_of_birth)),
                SharedField::Establishment => at.to_string(),
                SharedField::TreatmentStart => date(episode.as_ref().map(|e| e.started_on)),
                SharedField::TreatmentExit => date(episode.as_ref().and_then(|e| e.exited_on)),
                SharedField::ExitReason => exit_reason
                    .map(|r| r.code().to_string())
                    .unwrap_or_default(),
                SharedField::ReleaseDate => date(release.as_ref().map(|r| r.on)),
                SharedField::CommunityEngagement => engagement
                    .map(|(o, on)| format!("{} {on}", o.code()))
                    .unwrap_or_default(),
            };
            (*f, v)
        })
        .collect()
}

/// The rows of a request over `cut` (which the caller takes as at the approval,
/// [`InformationRequest::shareable_as_at`]): one per person in the cohort at a
/// scoped establishment within the period, leaving out anyone who has refused or
/// withdrawn consent to information sharing in the cut, with only the request's
/// fields, ordered by establishment then pseudonym (never by name).
pub fn rows(cut: &Cut<'_>, request_ref: &str, m: &InformationRequestMade) -> Vec<SharedRow> {
    let mut out: Vec<(EstablishmentCode, String, SharedRow)> = cut
        .people
        .values()
        .filter(|p| !refuses_sharing(&p.case))
        .filter_map(|p| {
            let at = attributed(cut, p, m)?;
            let row = SharedRow {
                person: p.person,
                values: values(cut, p, request_ref, m, &at),
            };
            Some((at, pseudonym(&cut.profile.id, request_ref, p.person), row))
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out.into_iter().map(|(_, _, r)| r).collect()
}

/// Leaves out of `rows` anyone who has refused or withdrawn information-sharing
/// consent in `now` (the log as it stands at download): a refusal after the
/// approval is still honoured; nobody is ever added.
pub fn still_shareable(rows: Vec<SharedRow>, now: &Cut<'_>) -> Vec<SharedRow> {
    rows.into_iter()
        .filter(|r| {
            now.people
                .values()
                .find(|p| p.person == r.person || p.case.merged_people.contains(&r.person))
                .is_none_or(|p| !refuses_sharing(&p.case))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clinical::{ClinicalEvent, ClinicalStep, Medication};
    use crate::consent::{ConsentDecision, ConsentRecord, ConsentWithdrawal};
    use crate::governance::{ServiceRecord, decide_service_at};
    use crate::release::{ExitReason, TreatmentExit};
    use crate::returns::testkit::record_at;
    use crate::testkit::{Log, at, code, d, midday, problem_fields};

    /// Decides a service fact recorded by `by`, who manages `manages`, against the
    /// log's service record, and appends it.
    fn record(
        log: &mut Log,
        by: &str,
        manages: &[&str],
        kind: EventKind,
    ) -> Result<Vec<EventId>, DomainError> {
        log.recorded_by = StaffUsername::parse(by).unwrap();
        let service: Vec<RecordedEvent> = log
            .events
            .iter()
            .filter(|e| e.person.is_none())
            .cloned()
            .collect();
        let record = ServiceRecord::fold(&service);
        let manages: Vec<EstablishmentCode> = manages.iter().map(|c| code(c)).collect();
        let mut ids = log.ids.clone();
        let events = decide_service_at(&record, kind, &log.ctx(), &manages, &mut ids)?;
        log.ids = ids;
        Ok(log.append(events))
    }

    fn register(log: &Log) -> Register {
        let service: Vec<RecordedEvent> = log
            .events
            .iter()
            .filter(|e| e.person.is_none())
            .cloned()
            .collect();
        ServiceRecord::fold(&service).information_requests
    }

    /// A request by `commissioner.kent` for people in structured treatment at MDI
    /// in the third quarter of 2026 (the test clock is 20 November 2026, 10:00).
    fn request(r: &str, establishments: &[&str]) -> InformationRequestMade {
        InformationRequestMade {
            request_ref: r.into(),
            requested_by: StaffUsername::parse("commissioner.kent").unwrap(),
            purpose: "Review of opiate substitution continuity at Maidstone".into(),
            lawful_basis: "Kent and Medway Information Sharing Agreement, clause 7.2".into(),
            establishments: establishments.iter().map(|c| code(c)).collect(),
            period_from: d("2026-07-01"),
            period_to: d("2026-09-30"),
            cohort: Cohort::InStructuredTreatment,
            fields: vec![
                SharedField::PseudonymousId,
                SharedField::Establishment,
                SharedField::TreatmentStart,
                SharedField::TreatmentExit,
                SharedField::ExitReason,
            ],
            expires_on: d("2026-12-31"),
        }
    }

    fn made(m: InformationRequestMade) -> EventKind {
        EventKind::InformationRequestMade(m)
    }

    fn decided(r: &str, decision: Decision, reason: Option<&str>) -> EventKind {
        EventKind::InformationRequestDecided(InformationRequestDecided {
            request_ref: r.into(),
            decision,
            reason: reason.map(str::to_string),
            decided_on: d("2026-11-20"),
        })
    }

    fn fields_of(m: InformationRequestMade) -> Vec<String> {
        let mut log = Log::new();
        problem_fields(record(&mut log, "commissioner.kent", &[], made(m)).unwrap_err())
    }

    #[test]
    fn each_bad_field_of_a_request_is_named() {
        let ok = request("ISR-2026-001", &["MDI"]);
        let mut log = Log::new();
        assert!(record(&mut log, "commissioner.kent", &[], made(ok.clone())).is_ok());
        let bad = |f: fn(&mut InformationRequestMade)| {
            let mut m = ok.clone();
            f(&mut m);
            fields_of(m)
        };
        assert_eq!(bad(|m| m.request_ref = " ".into()), ["request_ref"]);
        assert_eq!(bad(|m| m.request_ref = "ISR 1/2".into()), ["request_ref"]);
        assert_eq!(
            bad(|m| m.requested_by = StaffUsername::parse("someone.else").unwrap()),
            ["requested_by"]
        );
        assert_eq!(bad(|m| m.purpose = "".into()), ["purpose"]);
        assert_eq!(
            bad(|m| m.purpose = "x".repeat(MAX_PURPOSE + 1)),
            ["purpose"]
        );
        assert_eq!(bad(|m| m.lawful_basis = " ".into()), ["lawful_basis"]);
        assert_eq!(bad(|m| m.establishments.clear()), ["establishments"]);
        assert_eq!(
            bad(|m| m.establishments.push(code("ZZZ"))),
            ["establishments"]
        );
        assert_eq!(
            bad(|m| m.establishments.push(code("MDI"))),
            ["establishments"],
            "named twice"
        );
        assert_eq!(
            bad(|m| m.period_from = d("2026-10-01")),
            ["period_to"],
            "from after to"
        );
        assert_eq!(
            bad(|m| m.period_to = d("2026-11-21")),
            ["period_to"],
            "the period ends in the future"
        );
        assert_eq!(bad(|m| m.fields.clear()), ["fields"]);
        assert_eq!(
            bad(|m| m.fields.push(SharedField::Establishment)),
            ["fields"]
        );
        assert_eq!(
            bad(|m| m.expires_on = d("2026-11-19")),
            ["expires_on"],
            "already over"
        );
        // 20 November 2026 + 90 days = 18 February 2027 (10 + 31 + 31 + 18).
        assert_eq!(bad(|m| m.expires_on = d("2027-02-19")), ["expires_on"]);
        let mut last_day = ok.clone();
        last_day.request_ref = "ISR-2026-002".into();
        last_day.expires_on = d("2027-02-18");
        assert!(record(&mut log, "commissioner.kent", &[], made(last_day)).is_ok());
        // The reference is unique.
        assert_eq!(
            problem_fields(record(&mut log, "commissioner.kent", &[], made(ok)).unwrap_err()),
            ["request_ref"]
        );
    }

    #[test]
    fn a_request_is_decided_once_by_a_manager_of_every_establishment_never_its_requester() {
        let mut log = Log::new();
        // A manager may request too (it is their own request they cannot decide).
        let mut own = request("ISR-2026-001", &["MDI"]);
        own.requested_by = StaffUsername::parse("manager.one").unwrap();
        record(&mut log, "manager.one", &["MDI"], made(own)).unwrap();
        let e = record(
            &mut log,
            "manager.one",
            &["MDI"],
            decided("ISR-2026-001", Decision::Approved, None),
        )
        .unwrap_err();
        assert!(e.to_string().contains("cannot decide it"), "{e}");

        record(
            &mut log,
            "commissioner.kent",
            &[],
            made(request("ISR-2026-002", &["MDI", "EYI"])),
        )
        .unwrap();
        // A manager of MDI alone cannot decide a request over MDI and EYI.
        let e = record(
            &mut log,
            "manager.one",
            &["MDI"],
            decided("ISR-2026-002", Decision::Approved, None),
        )
        .unwrap_err();
        assert!(e.to_string().contains("you do not manage EYI"), "{e}");
        // Refused without a reason: the field is named.
        let e = record(
            &mut log,
            "manager.one",
            &["MDI", "EYI"],
            decided("ISR-2026-002", Decision::Refused, Some("  ")),
        )
        .unwrap_err();
        assert_eq!(problem_fields(e), ["reason"]);
        record(
            &mut log,
            "manager.one",
            &["MDI", "EYI", "SWI"],
            decided("ISR-2026-002", Decision::Approved, None),
        )
        .unwrap();
        // Never twice, in either direction.
        let e = record(
            &mut log,
            "manager.two",
            &["MDI", "EYI"],
            decided("ISR-2026-002", Decision::Refused, Some("Second thoughts")),
        )
        .unwrap_err();
        assert!(e.to_string().contains("decided once"), "{e}");
        // An unknown reference names the field.
        let e = record(
            &mut log,
            "manager.one",
            &["MDI"],
            decided("ISR-2026-999", Decision::Approved, None),
        )
        .unwrap_err();
        assert_eq!(problem_fields(e), ["request_ref"]);
        let reg = register(&log);
        let r = &reg["ISR-2026-002"];
        assert_eq!(
            r.decision.as_ref().unwrap().decided_by.as_str(),
            "manager.one"
        );
        assert_eq!(r.status(d("2026-11-20")), RequestStatus::Approved);
    }

    #[test]
    fn statuses_pending_approved_refused_and_expired_as_of_a_day() {
        let mut log = Log::new();
        for r in ["ISR-1", "ISR-2", "ISR-3"] {
            record(
                &mut log,
                "commissioner.kent",
                &[],
                made(request(r, &["MDI"])),
            )
            .unwrap();
        }
        record(
            &mut log,
            "manager.one",
            &["MDI"],
            decided("ISR-2", Decision::Approved, None),
        )
        .unwrap();
        record(
            &mut log,
            "manager.one",
            &["MDI"],
            decided(
                "ISR-3",
                Decision::Refused,
                Some("Names are not needed for this purpose"),
            ),
        )
        .unwrap();
        let reg = register(&log);
        let on = |r: &str, day: &str| reg[r].status(d(day));
        assert_eq!(on("ISR-1", "2026-11-20"), RequestStatus::Pending);
        assert_eq!(
            on("ISR-2", "2026-12-31"),
            RequestStatus::Approved,
            "its last day"
        );
        assert_eq!(on("ISR-2", "2027-01-01"), RequestStatus::Expired);
        assert_eq!(on("ISR-1", "2027-01-01"), RequestStatus::Expired);
        assert_eq!(on("ISR-3", "2027-01-01"), RequestStatus::Refused);
        assert!(reg["ISR-2"].shareable_as_at(d("2026-11-20")).is_some());
        assert!(reg["ISR-2"].shareable_as_at(d("2027-01-01")).is_none());
        assert!(reg["ISR-1"].shareable_as_at(d("2026-11-20")).is_none());
        assert!(reg["ISR-3"].shareable_as_at(d("2026-11-20")).is_none());
        // An expired request can no longer be approved.
        log.now = at("2027-01-01T10:00:00Z");
        let e = record(
            &mut log,
            "manager.one",
            &["MDI"],
            decided("ISR-1", Decision::Approved, None),
        )
        .unwrap_err();
        assert!(e.to_string().contains("expired"), "{e}");
    }

    fn prescribing(log: &mut Log, p: PersonId, on: &str) {
        record_at(
            log,
            p,
            midday(on),
            EventKind::ClinicalEventRecorded(ClinicalEvent {
                step: ClinicalStep::PrescribingStarted {
                    medication: Medication::Methadone,
                },
                at: midday(on),
                note: None,
            }),
        );
    }

    /// Receives a new person at `est` and starts prescribing on `on`.
    fn treated(log: &mut Log, number: &str, est: &str, on: &str) -> PersonId {
        log.establishment = code(est);
        let p = log.prisoner(number);
        prescribing(log, p, on);
        p
    }

    #[test]
    fn the_rows_are_the_cohort_in_scope_and_period_as_at_the_approval_with_approved_fields_only() {
        let mut log = Log::new();
        log.now = at("2026-11-19T09:00:00Z");
        // A: at MDI, prescribing from 10 August, exited 20 September: in.
        let a = treated(&mut log, "A0001BC", "MDI", "2026-08-10");
        log.record(
            a,
            EventKind::TreatmentExited(TreatmentExit {
                exited_on: d("2026-09-20"),
                reason: ExitReason::CompletedDrugFree,
                note: None,
            }),
        )
        .unwrap();
        // B: the same at EYI: another establishment.
        treated(&mut log, "A0002BC", "EYI", "2026-08-10");
        // C: at MDI but starting on 5 October: outside the period.
        treated(&mut log, "A0003BC", "MDI", "2026-10-05");
        // D: at MDI in treatment, but withdrew information-sharing consent.
        let dd = treated(&mut log, "A0004BC", "MDI", "2026-08-12");
        log.record(
            dd,
            EventKind::ConsentRecorded(ConsentRecord {
                purpose: ConsentPurpose::InformationSharing,
                decision: ConsentDecision::Given,
                decided_on: d("2026-08-01"),
            }),
        )
        .unwrap();
        log.record(
            dd,
            EventKind::ConsentWithdrawn(ConsentWithdrawal {
                purpose: ConsentPurpose::InformationSharing,
                withdrawn_on: d("2026-09-01"),
            }),
        )
        .unwrap();
        // The request and its approval, at 10:00 on 20 November.
        log.now = at("2026-11-20T10:00:00Z");
        log.establishment = code("MDI");
        record(
            &mut log,
            "commissioner.kent",
            &[],
            made(request("ISR-2026-001", &["MDI"])),
        )
        .unwrap();
        record(
            &mut log,
            "manager.one",
            &["MDI"],
            decided("ISR-2026-001", Decision::Approved, None),
        )
        .unwrap();
        // E: in treatment at MDI in August, but recorded after the decision instant.
        log.now = at("2026-11-20T11:00:00Z");
        log.recorded_by = StaffUsername::parse("worker.one").unwrap();
        treated(&mut log, "A0005BC", "MDI", "2026-08-15");

        let reg = register(&log);
        let req = &reg["ISR-2026-001"];
        let as_at = req.shareable_as_at(d("2026-11-20")).unwrap();
        assert_eq!(as_at, at("2026-11-20T10:00:00Z"));
        let cut = Cut::new(&log.profile, &log.events, as_at);
        let shared = rows(&cut, "ISR-2026-001", &req.made);
        // Only A: B is at EYI, C outside the period, D withdrew consent, E after.
        assert_eq!(shared.len(), 1, "{shared:#?}");
        assert_eq!(shared[0].person, a);
        assert_eq!(
            shared[0].values,
            vec![
                (
                    SharedField::PseudonymousId,
                    pseudonym("kent-medway", "ISR-2026-001", a)
                ),
                (SharedField::Establishment, "MDI".to_string()),
                (SharedField::TreatmentStart, "2026-08-10".to_string()),
                (SharedField::TreatmentExit, "2026-09-20".to_string()),
                (SharedField::ExitReason, "completed_drug_free".to_string()),
            ]
        );
        // No name, prison number or date of birth was approved: none appears.
        assert!(
            !format!("{shared:?}").contains("A0001BC") && !format!("{shared:?}").contains("Testy")
        );
        // The pseudonym is this request's: another request gives another.
        assert_ne!(
            pseudonym("kent-medway", "ISR-2026-001", a),
            pseudonym("kent-medway", "ISR-2026-002", a)
        );
        assert_eq!(pseudonym("kent-medway", "ISR-2026-001", a).len(), 20);

        // As the log stands later, E is in treatment too, but the approval's rows
        // are fixed: the same one person.
        let later = Cut::new(&log.profile, &log.events, log.now);
        assert_eq!(still_shareable(shared.clone(), &later).len(), 1);
        // A refusal after the approval is honoured at download.
        log.recorded_by = StaffUsername::parse("worker.one").unwrap();
        log.record(
            a,
            EventKind::ConsentRecorded(ConsentRecord {
                purpose: ConsentPurpose::InformationSharing,
                decision: ConsentDecision::Refused,
                decided_on: d("2026-11-20"),
            }),
        )
        .unwrap();
        let now = Cut::new(&log.profile, &log.events, log.now);
        assert!(still_shareable(shared, &now).is_empty());
    }

    #[test]
    fn released_and_engaged_cohorts_follow_their_definitions() {
        use crate::custody::{Release, ReleaseKind};
        use crate::release::{CommunityEngagement, EngagementOutcome};
        let mut log = Log::new();
        log.now = at("2026-11-19T09:00:00Z");
        // F: treated at MDI, released 15 September, engaged in the community 1 October.
        let f = treated(&mut log, "A0006BC", "MDI", "2026-08-10");
        record_at(
            &mut log,
            f,
            midday("2026-09-15"),
            EventKind::Released(Release {
                kind: ReleaseKind::Released,
                source_ref: None,
            }),
        );
        log.record(
            f,
            EventKind::CommunityEngagementRecorded(CommunityEngagement {
                outcome: EngagementOutcome::Engaged,
                on: d("2026-10-01"),
                provider: Some("Forward Trust Maidstone".into()),
                note: None,
            }),
        )
        .unwrap();
        // G: at MDI, received but never engaged nor released.
        log.establishment = code("MDI");
        log.prisoner("A0007BC");
        log.now = at("2026-11-20T10:00:00Z");
        let mut released = request("ISR-R", &["MDI"]);
        released.cohort = Cohort::Released;
        released.fields = vec![
            SharedField::PrisonNumber,
            SharedField::ReleaseDate,
            SharedField::CommunityEngagement,
        ];
        let mut engaged = released.clone();
        engaged.request_ref = "ISR-E".into();
        engaged.cohort = Cohort::AllEngaged;
        engaged.fields = vec![SharedField::Name, SharedField::DateOfBirth];
        let cut = Cut::new(&log.profile, &log.events, log.now);
        let r = rows(&cut, "ISR-R", &released);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].values,
            vec![
                (SharedField::PrisonNumber, "A0006BC".to_string()),
                (SharedField::ReleaseDate, "2026-09-15".to_string()),
                (
                    SharedField::CommunityEngagement,
                    "engaged 2026-10-01".to_string()
                ),
            ]
        );
        let e = rows(&cut, "ISR-E", &engaged);
        assert_eq!(e.len(), 1, "G never engaged");
        assert_eq!(
            e[0].values,
            vec![
                (SharedField::Name, "Testy Example".to_string()),
                (SharedField::DateOfBirth, "1990-04-01".to_string()),
            ]
        );
        // Released from MDI, so not in a request scoped to EYI.
        released.establishments = vec![code("EYI")];
        assert!(rows(&cut, "ISR-R", &released).is_empty());
    }
}
