//! The service's registers beside its incidents and reviews (issue 6): meetings
//! attended in the prison and with partners (S4 §1, §8–9; KM 5.8, 5.16, 5.22,
//! 5.25, 5.35), complaints, comments and compliments with their handling (KM
//! 5.39–5.41, 6.3.5), service-user and carer involvement (KM 5.37–5.40), activities
//! (KM 4.5.8, 5.53; S4 §4), issues raised with the commissioner (KM 5.31–5.32), the
//! register of sub-contractors with their registrations and licences (KM 5.29), and
//! the service's own obligations marked done ([`crate::obligations`]).
//!
//! These are facts about the service, not a person: their events carry no person
//! and [`Registers`] is folded from them inside
//! [`crate::governance::ServiceRecord`]. The actions agreed on a commissioner issue,
//! and the access-audit and equality-impact-assessment action plans (KM 4.23–4.24,
//! 6.3.6), are learning actions ([`crate::governance::LearningAction`]) whose
//! `source_ref` names the issue or the plan.

use crate::calendar::Calendar;
use crate::error::Problems;
use crate::events::{EventKind, RecordedEvent};
use crate::governance::{LearningAction, ServiceRecord};
use crate::identifiers::EstablishmentCode;
use crate::labelled_enum;
use crate::obligations::ObligationCompleted;
use crate::profile::Profile;
use crate::record_ids::EventId;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest reference (feedback, issue) the registers accept.
pub const MAX_REF_CHARS: usize = 60;

labelled_enum! {
    /// The prison and partnership meetings the service attends.
    pub enum MeetingKind {
        /// S4 §1.
        SentencePlanning = ("sentence_planning", "Sentence planning (S4 §1)"),
        /// S4 §1.
        RiskManagement = ("risk_management", "Risk management (S4 §1)"),
        /// S4 §1.
        SaferCustody = ("safer_custody", "Safer custody (S4 §1)"),
        /// S4 §1.
        HealthcareOperational = ("healthcare_operational", "Healthcare operational (S4 §1)"),
        /// KM 5.8.
        ClinicalGovernance = ("clinical_governance", "Clinical governance (KM 5.8)"),
        /// KM 5.16: healthcare managers or pharmacists represented.
        SecurityCommittee = ("security_committee", "Security committee (KM 5.16)"),
        /// KM 5.16: the reciprocal arrangement with the security committee.
        MedicinesManagement = ("medicines_management", "Medicines management (KM 5.16)"),
        /// KM 5.22: a community meeting the manager attends.
        DrugAlcoholDeathsPanel = ("drug_alcohol_deaths_panel", "Drug and alcohol related deaths panel (KM 5.22)"),
        /// KM 5.35.
        SeriousIncident = ("serious_incident", "Serious incident meeting (KM 5.35)"),
        /// S4 §8: quarterly, and any extraordinary meeting the Substance Use Lead calls.
        SubstanceUseStrategy = ("substance_use_strategy", "Substance use strategy meeting (S4 §8)"),
        /// S4 §9: with the Substance Use Lead.
        AnnualReview = ("annual_review", "Annual review with the commissioner (S4 §9)"),
        /// KM 5.25; S4 §1 "any other that would be required": named in `title`.
        Other = ("other", "Other establishment or partnership meeting (KM 5.25)"),
    }
}

labelled_enum! {
    /// Complaint, comment or compliment (KM 6.3.5).
    pub enum FeedbackKind {
        /// A complaint: acknowledged, then answered by its response date.
        Complaint = ("complaint", "Complaint"),
        /// A comment.
        Comment = ("comment", "Comment"),
        /// A compliment.
        Compliment = ("compliment", "Compliment"),
    }
}

labelled_enum! {
    /// Who the feedback came from (KM 5.39: service users, their families and carers).
    pub enum FeedbackFrom {
        /// A service user.
        ServiceUser = ("service_user", "Service user"),
        /// A member of a service user's family.
        FamilyMember = ("family_member", "Family member"),
        /// A carer.
        Carer = ("carer", "Carer"),
        /// Anyone else (a stakeholder, KM 6.3.5).
        Other = ("other", "Other"),
    }
}

labelled_enum! {
    /// What a complaint's investigation found.
    pub enum ComplaintFinding {
        /// Upheld.
        Upheld = ("upheld", "Upheld"),
        /// Partly upheld.
        PartlyUpheld = ("partly_upheld", "Partly upheld"),
        /// Not upheld.
        NotUpheld = ("not_upheld", "Not upheld"),
    }
}

labelled_enum! {
    /// Service-user and carer involvement (KM 5.37–5.41).
    pub enum InvolvementKind {
        /// KM 5.38, 5.40.
        ExpertPanel = ("expert_panel", "Service User and Carer Expert Panel (KM 5.38, 5.40)"),
        /// KM 5.38, 5.40.
        ConsultationEvent = ("consultation_event", "Service user and carer consultation event (KM 5.38, 5.40)"),
        /// KM 5.37, 5.39: a forum or feedback group in the prison.
        ServiceUserForum = ("service_user_forum", "Service user forum or feedback group (KM 5.37, 5.39)"),
        /// KM 5.41.
        CarersAgency = ("carers_agency", "Work with a local carers' agency (KM 5.41)"),
        /// KM 5.37.
        Other = ("other", "Other involvement (KM 5.37)"),
    }
}

labelled_enum! {
    /// The service's activities beyond treatment.
    pub enum ActivityKind {
        /// KM 4.5.8: for prison staff where there is an identified need.
        StaffAwareness = ("staff_awareness", "Staff awareness session (KM 4.5.8)"),
        /// S4 §4.
        HealthPromotion = ("health_promotion", "Health improvement or promotion initiative (S4 §4)"),
        /// KM 5.53.
        NationalCampaign = ("national_campaign", "National drug or alcohol campaign (KM 5.53)"),
        /// KM 5.53.
        PublicHealth = ("public_health", "Local public health activity or campaign (KM 5.53)"),
    }
}

labelled_enum! {
    /// What kind of issue was raised with the commissioner (KM 5.31).
    pub enum IssueKind {
        /// A capacity issue.
        Capacity = ("capacity", "Capacity"),
        /// A service delivery issue.
        ServiceDelivery = ("service_delivery", "Service delivery"),
    }
}

labelled_enum! {
    /// A registration or licence a sub-contractor needs for regulated interventions (KM 5.29).
    pub enum RegistrationKind {
        /// Registration with the Care Quality Commission.
        CareQualityCommission = ("cqc", "Care Quality Commission registration"),
        /// A Home Office controlled drugs licence.
        ControlledDrugsLicence = ("controlled_drugs_licence", "Home Office controlled drugs licence"),
        /// A professional registration (GMC, NMC, GPhC, …).
        Professional = ("professional", "Professional registration"),
        /// Any other registration or licence.
        Other = ("other", "Other registration or licence"),
    }
}

/// A meeting attended for the service, with who attended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingAttended {
    /// Which meeting.
    pub kind: MeetingKind,
    /// When it was held. `occurred_at` falls on this date.
    pub held_on: NaiveDate,
    /// The meeting's name; required for `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Who attended for the service (names or roles), at least one.
    pub attended_by: Vec<String>,
    /// What the service contributed or took away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A complaint, comment or compliment and its handling (KM 5.39, 6.3.5).
/// Recording one with the same reference again records a new version (acknowledged,
/// answered); the latest counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// The service's own reference.
    pub feedback_ref: String,
    /// Complaint, comment or compliment.
    pub kind: FeedbackKind,
    /// Who it came from.
    pub from: FeedbackFrom,
    /// When it was received. `occurred_at` falls on this date.
    pub received_on: NaiveDate,
    /// What it says, without more personal detail than needed.
    pub summary: String,
    /// When receipt was acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_on: Option<NaiveDate>,
    /// When it was answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_on: Option<NaiveDate>,
    /// What was done or answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Whether a complaint was upheld (complaints only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<ComplaintFinding>,
}

/// Service users', families' and carers' involvement in the service (KM 5.37–5.41).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Involvement {
    /// What kind.
    pub kind: InvolvementKind,
    /// When it took place. `occurred_at` falls on this date.
    pub held_on: NaiveDate,
    /// How many service users (or their representatives) took part.
    pub service_users: u32,
    /// How many family members, friends or carers took part.
    pub family_and_carers: u32,
    /// What happened.
    pub summary: String,
    /// How it is influencing the service (KM 5.39: evidence for the commissioner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub influence: Option<String>,
}

/// An activity: a staff awareness session, health promotion, a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// What kind.
    pub kind: ActivityKind,
    /// When. `occurred_at` falls on this date.
    pub on: NaiveDate,
    /// Its name (the session's subject, the campaign).
    pub title: String,
    /// Who it was for (wing staff, officers, a wing's prisoners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// How many people took part, where counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached: Option<u32>,
}

/// A capacity or service delivery issue raised with the commissioner (KM 5.31–5.32).
/// Recording one with the same reference again records a new version; the latest
/// counts. The actions agreed on it are learning actions whose `source_ref` is
/// `issue_ref`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommissionerIssue {
    /// The service's own reference.
    pub issue_ref: String,
    /// Capacity or service delivery.
    pub kind: IssueKind,
    /// An urgent issue, of which the commissioner must be told (KM 5.32).
    pub urgent: bool,
    /// When it was raised. `occurred_at` falls on this date.
    pub raised_on: NaiveDate,
    /// With whom at the commissioner.
    pub raised_with: String,
    /// What the issue is.
    pub summary: String,
    /// The solution agreed with the commissioner (KM 5.32), once agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution: Option<String>,
    /// When it was resolved; open until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_on: Option<NaiveDate>,
}

/// One registration or licence of a sub-contractor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// What kind.
    pub kind: RegistrationKind,
    /// Its number or reference.
    pub reference: String,
    /// The last day it is valid, where it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
}

/// A sub-contractor with its registrations and licences (KM 5.28–5.29). Recording
/// one with the same name again records a new version (renewed registrations, the
/// sub-contract ended); the latest counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subcontractor {
    /// Its name; the register's key (ignoring case and outer spaces).
    pub name: String,
    /// The interventions it provides.
    pub provides: String,
    /// Its registrations and licences.
    #[serde(default)]
    pub registrations: Vec<Registration>,
    /// When the sub-contract ended; active until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<NaiveDate>,
}

impl Subcontractor {
    /// The register's key for this sub-contractor.
    pub fn key(&self) -> String {
        self.name.trim().to_lowercase()
    }

    /// Whether the sub-contract is still in force on `today`.
    pub fn active_on(&self, today: NaiveDate) -> bool {
        self.ended_on.is_none_or(|end| end >= today)
    }
}

/// Where a registration stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Valid beyond the warning window.
    Current,
    /// Valid, but its last day falls within the warning window.
    ExpiringSoon,
    /// Its last day has passed.
    Expired,
    /// It does not expire.
    NoExpiry,
}

impl RegistrationStatus {
    /// Words for the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            RegistrationStatus::Current => "Current",
            RegistrationStatus::ExpiringSoon => "Expiring soon",
            RegistrationStatus::Expired => "Expired",
            RegistrationStatus::NoExpiry => "No expiry date",
        }
    }
}

impl Registration {
    /// Where this registration stands on `today`: expired after its last day,
    /// expiring soon when that day is no more than `warning_days` away (the profile's
    /// `registration_warning_days`).
    pub fn status(&self, today: NaiveDate, warning_days: u32) -> RegistrationStatus {
        let horizon = today
            .checked_add_days(Days::new(u64::from(warning_days)))
            .unwrap_or(NaiveDate::MAX);
        match self.expires_on {
            None => RegistrationStatus::NoExpiry,
            Some(last) if last < today => RegistrationStatus::Expired,
            Some(last) if last <= horizon => RegistrationStatus::ExpiringSoon,
            Some(_) => RegistrationStatus::Current,
        }
    }
}

/// When a complaint's receipt is to be acknowledged: the profile's
/// `complaint_acknowledgement_working_days` after it was received.
pub fn acknowledgement_due(
    received_on: NaiveDate,
    profile: &Profile,
    calendar: &Calendar,
) -> NaiveDate {
    calendar.add_working_days(
        received_on,
        profile.clocks.complaint_acknowledgement_working_days,
    )
}

/// When a complaint is to be answered: the profile's
/// `complaint_response_working_days` after it was received (the specs set no time;
/// see docs/governance.md).
pub fn response_due(received_on: NaiveDate, profile: &Profile, calendar: &Calendar) -> NaiveDate {
    calendar.add_working_days(received_on, profile.clocks.complaint_response_working_days)
}

/// The registers as they stand, folded from the service's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registers {
    /// Meetings attended, in log order, with where they were recorded.
    pub meetings: Vec<(EventId, EstablishmentCode, MeetingAttended)>,
    /// Feedback by reference: the latest version, and where.
    pub feedback: BTreeMap<String, (EventId, EstablishmentCode, Feedback)>,
    /// Involvement, in log order.
    pub involvement: Vec<(EventId, EstablishmentCode, Involvement)>,
    /// Activities, in log order.
    pub activities: Vec<(EventId, EstablishmentCode, Activity)>,
    /// Commissioner issues by reference (latest version).
    pub issues: BTreeMap<String, (EventId, EstablishmentCode, CommissionerIssue)>,
    /// Sub-contractors by [`Subcontractor::key`] (latest version).
    pub subcontractors: BTreeMap<String, (EventId, Subcontractor)>,
    /// Obligations marked done, by obligation and period (latest record).
    pub obligations_done: BTreeMap<(String, NaiveDate), (EventId, ObligationCompleted)>,
}

impl Registers {
    /// Applies one effective service event (the caller skips superseded and
    /// entered-in-error ones); other kinds are ignored.
    pub fn apply(&mut self, e: &RecordedEvent) {
        let here = || e.establishment.clone();
        match &e.kind {
            EventKind::MeetingAttended(m) => self.meetings.push((e.id, here(), m.clone())),
            EventKind::FeedbackRecorded(f) => {
                self.feedback
                    .insert(f.feedback_ref.clone(), (e.id, here(), f.clone()));
            }
            EventKind::InvolvementRecorded(i) => self.involvement.push((e.id, here(), i.clone())),
            EventKind::ActivityRecorded(a) => self.activities.push((e.id, here(), a.clone())),
            EventKind::CommissionerIssueRecorded(i) => {
                self.issues
                    .insert(i.issue_ref.clone(), (e.id, here(), i.clone()));
            }
            EventKind::SubcontractorRecorded(s) => {
                self.subcontractors.insert(s.key(), (e.id, s.clone()));
            }
            EventKind::ObligationCompleted(c) => {
                self.obligations_done
                    .insert((c.obligation.clone(), c.period), (e.id, c.clone()));
            }
            _ => {}
        }
    }

    /// Complaints not yet answered, with their response date, earliest first.
    pub fn open_complaints(
        &self,
        profile: &Profile,
        calendar: &Calendar,
    ) -> Vec<(&Feedback, NaiveDate)> {
        let mut open: Vec<(&Feedback, NaiveDate)> = self
            .feedback
            .values()
            .map(|(_, _, f)| f)
            .filter(|f| f.kind == FeedbackKind::Complaint && f.responded_on.is_none())
            .map(|f| (f, response_due(f.received_on, profile, calendar)))
            .collect();
        open.sort_by_key(|(f, due)| (*due, f.feedback_ref.clone()));
        open
    }

    /// Complaints not answered by the end of their response date, as at `today`.
    pub fn overdue_complaints(
        &self,
        profile: &Profile,
        calendar: &Calendar,
        today: NaiveDate,
    ) -> Vec<(&Feedback, NaiveDate)> {
        self.open_complaints(profile, calendar)
            .into_iter()
            .filter(|(_, due)| *due < today)
            .collect()
    }

    /// Commissioner issues not yet resolved.
    pub fn open_issues(&self) -> Vec<&CommissionerIssue> {
        self.issues
            .values()
            .map(|(_, _, i)| i)
            .filter(|i| i.resolved_on.is_none())
            .collect()
    }

    /// The registrations of active sub-contractors that have expired or expire
    /// within `warning_days` of `today`, soonest first.
    pub fn registrations_needing_attention(
        &self,
        today: NaiveDate,
        warning_days: u32,
    ) -> Vec<(&Subcontractor, &Registration, RegistrationStatus)> {
        let mut out: Vec<(&Subcontractor, &Registration, RegistrationStatus)> = self
            .subcontractors
            .values()
            .map(|(_, s)| s)
            .filter(|s| s.active_on(today))
            .flat_map(|s| s.registrations.iter().map(move |r| (s, r)))
            .map(|(s, r)| (s, r, r.status(today, warning_days)))
            .filter(|(_, _, st)| {
                matches!(
                    st,
                    RegistrationStatus::Expired | RegistrationStatus::ExpiringSoon
                )
            })
            .collect();
        out.sort_by_key(|(s, r, _)| (r.expires_on, s.key()));
        out
    }
}

impl ServiceRecord {
    /// The learning actions agreed on an issue or an action plan: those whose
    /// `source_ref` is `source_ref` (KM 5.32, 6.3.6), by reference.
    pub fn actions_for(&self, source_ref: &str) -> Vec<&LearningAction> {
        self.actions
            .values()
            .map(|(_, a)| a)
            .filter(|a| a.source_ref.as_deref() == Some(source_ref))
            .collect()
    }
}

/// Whether an event kind is one of these registers' facts.
pub fn is_register_fact(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::MeetingAttended(_)
            | EventKind::FeedbackRecorded(_)
            | EventKind::InvolvementRecorded(_)
            | EventKind::ActivityRecorded(_)
            | EventKind::CommissionerIssueRecorded(_)
            | EventKind::SubcontractorRecorded(_)
            | EventKind::ObligationCompleted(_)
    )
}

/// The date a register fact happened on, for its `occurred_at`; `None` for a
/// sub-contractor (recorded as at now) and for other kinds.
pub fn fact_date(kind: &EventKind) -> Option<NaiveDate> {
    match kind {
        EventKind::MeetingAttended(m) => Some(m.held_on),
        EventKind::FeedbackRecorded(f) => Some(f.received_on),
        EventKind::InvolvementRecorded(i) => Some(i.held_on),
        EventKind::ActivityRecorded(a) => Some(a.on),
        EventKind::CommissionerIssueRecorded(i) => Some(i.raised_on),
        EventKind::ObligationCompleted(c) => Some(c.done_on),
        _ => None,
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn not_future(p: &mut Problems, field: &str, d: NaiveDate, today: NaiveDate) {
    if d > today {
        p.add(field, "The date must be today or in the past");
    }
}

fn reference(p: &mut Problems, field: &str, value: &str, what: &str) {
    if blank(value) {
        p.add(field, format!("Enter the {what}'s reference"));
    } else if value.chars().count() > MAX_REF_CHARS {
        p.add(
            field,
            format!("The reference must be {MAX_REF_CHARS} characters or fewer"),
        );
    }
}

/// Checks one register fact against `today`, noting every problem by field. The
/// obligation's place in the profile's schedule is checked by
/// [`crate::obligations::check_against_profile`].
pub fn validate(kind: &EventKind, today: NaiveDate, p: &mut Problems) {
    match kind {
        EventKind::MeetingAttended(m) => {
            not_future(p, "held_on", m.held_on, today);
            if m.attended_by.iter().all(|who| blank(who)) {
                p.add("attended_by", "Enter who attended for the service");
            }
            if m.kind == MeetingKind::Other && m.title.as_deref().is_none_or(blank) {
                p.add("title", "Enter the meeting's name");
            }
        }
        EventKind::FeedbackRecorded(f) => {
            reference(p, "feedback_ref", &f.feedback_ref, "feedback");
            p.check(blank(&f.summary), "summary", "Enter what the feedback says");
            not_future(p, "received_on", f.received_on, today);
            for (field, date) in [
                ("acknowledged_on", f.acknowledged_on),
                ("responded_on", f.responded_on),
            ] {
                if let Some(d) = date {
                    not_future(p, field, d, today);
                    if d < f.received_on {
                        p.add(field, "The date cannot be before the feedback was received");
                    }
                }
            }
            if f.kind == FeedbackKind::Complaint {
                if f.responded_on.is_some() {
                    p.check(
                        f.outcome.as_deref().is_none_or(blank),
                        "outcome",
                        "Enter the outcome of the complaint",
                    );
                    p.check(
                        f.finding.is_none(),
                        "finding",
                        "Select whether the complaint was upheld",
                    );
                }
            } else if f.finding.is_some() {
                p.add("finding", "Only a complaint is upheld or not upheld");
            }
        }
        EventKind::InvolvementRecorded(i) => {
            not_future(p, "held_on", i.held_on, today);
            p.check(blank(&i.summary), "summary", "Enter what happened");
            p.check(
                i.service_users == 0 && i.family_and_carers == 0,
                "service_users",
                "Enter how many service users, family members or carers took part",
            );
        }
        EventKind::ActivityRecorded(a) => {
            not_future(p, "on", a.on, today);
            p.check(blank(&a.title), "title", "Enter the activity's name");
        }
        EventKind::CommissionerIssueRecorded(i) => {
            reference(p, "issue_ref", &i.issue_ref, "issue");
            p.check(
                blank(&i.raised_with),
                "raised_with",
                "Enter who the issue was raised with",
            );
            p.check(blank(&i.summary), "summary", "Enter what the issue is");
            not_future(p, "raised_on", i.raised_on, today);
            if let Some(done) = i.resolved_on {
                not_future(p, "resolved_on", done, today);
                if done < i.raised_on {
                    p.add(
                        "resolved_on",
                        "The issue cannot be resolved before it was raised",
                    );
                }
                p.check(
                    i.solution.as_deref().is_none_or(blank),
                    "solution",
                    "Enter the solution agreed before marking the issue resolved",
                );
            }
        }
        EventKind::SubcontractorRecorded(s) => {
            p.check(blank(&s.name), "name", "Enter the sub-contractor's name");
            p.check(
                blank(&s.provides),
                "provides",
                "Enter the interventions it provides",
            );
            if s.registrations.iter().any(|r| blank(&r.reference)) {
                p.add(
                    "registrations",
                    "Enter the number of every registration or licence",
                );
            }
            if let Some(end) = s.ended_on {
                not_future(p, "ended_on", end, today);
            }
        }
        EventKind::ObligationCompleted(c) => {
            not_future(p, "done_on", c.done_on, today);
            if c.done_on < c.period {
                p.add(
                    "done_on",
                    "The date done cannot be before the period it is for begins",
                );
            }
        }
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::decide::Context;
    use crate::error::DomainError;
    use crate::governance::decide_service;
    use crate::identifiers::StaffUsername;
    use crate::record_ids::SequentialIds;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Decides and "appends" each fact under `profile` as at `now`, at its first
    /// establishment, folding the record as a store would.
    pub(crate) fn run_with(
        profile: &Profile,
        now: &str,
        kinds: Vec<EventKind>,
    ) -> Result<ServiceRecord, DomainError> {
        crate::testkit::service_record_with(profile, &profile.establishments[0].code, now, kinds)
    }

    /// As [`run_with`], under Kent and Medway as at 2026-11-20.
    fn run(kinds: Vec<EventKind>) -> Result<ServiceRecord, DomainError> {
        let profile = Profile::builtin("kent-medway").unwrap();
        run_with(&profile, "2026-11-20T10:00:00Z", kinds)
    }

    /// The fields named by a refusal.
    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Invalid(ps) => ps.into_iter().map(|p| p.field).collect(),
            other => panic!("not a field error: {other}"),
        }
    }

    fn meeting(kind: MeetingKind, on: &str, who: &[&str]) -> MeetingAttended {
        MeetingAttended {
            kind,
            held_on: d(on),
            title: None,
            attended_by: who.iter().map(|w| w.to_string()).collect(),
            notes: None,
        }
    }

    fn complaint(r: &str, received: &str) -> Feedback {
        Feedback {
            feedback_ref: r.into(),
            kind: FeedbackKind::Complaint,
            from: FeedbackFrom::FamilyMember,
            received_on: d(received),
            summary: "Visit booking not passed on to the keyworker".into(),
            acknowledged_on: None,
            responded_on: None,
            outcome: None,
            finding: None,
        }
    }

    #[test]
    fn a_meeting_needs_who_attended_and_an_other_meeting_its_name() {
        let e = run(vec![EventKind::MeetingAttended(meeting(
            MeetingKind::Other,
            "2026-11-21",
            &["  "],
        ))])
        .unwrap_err();
        assert_eq!(fields(e), ["held_on", "attended_by", "title"]);
        let r = run(vec![EventKind::MeetingAttended(meeting(
            MeetingKind::SecurityCommittee,
            "2026-11-18",
            &["Pharmacist"],
        ))])
        .unwrap();
        assert_eq!(r.registers.meetings.len(), 1);
        assert_eq!(
            r.registers.meetings[0].2.kind,
            MeetingKind::SecurityCommittee
        );
    }

    #[test]
    fn a_meeting_happens_on_its_date() {
        let profile = Profile::builtin("kent-medway").unwrap();
        let calendar = profile.calendar();
        let ctx = Context {
            profile: &profile,
            calendar: &calendar,
            recorded_by: StaffUsername::parse("manager.one").unwrap(),
            actor: crate::access::Actor::System,
            establishment: EstablishmentCode::parse("MDI").unwrap(),
            now: crate::time::parse_instant("2026-11-20T10:00:00Z").unwrap(),
            trainees: &[],
        };
        let events = decide_service(
            &ServiceRecord::default(),
            EventKind::MeetingAttended(meeting(
                MeetingKind::ClinicalGovernance,
                "2026-11-02",
                &["Service manager"],
            )),
            &ctx,
            &mut SequentialIds::new(1),
        )
        .unwrap();
        assert_eq!(events[0].person, None);
        assert_eq!(
            crate::time::local_date(events[0].occurred_at),
            d("2026-11-02")
        );
    }

    #[test]
    fn a_complaint_response_is_due_twenty_working_days_after_receipt() {
        let profile = Profile::builtin("kent-medway").unwrap();
        let calendar = profile.calendar();
        // Received Monday 14 December 2026. Working days after it: 15–18 Dec (4),
        // 21–24 Dec (8); 25 and 28 Dec are Christmas Day and the Boxing Day
        // substitute (26 Dec is a Saturday); 29–31 Dec (11); 1 Jan is New Year's Day;
        // 4–8 Jan (16), 11–14 Jan (20).
        assert_eq!(
            response_due(d("2026-12-14"), &profile, &calendar),
            d("2027-01-14")
        );
        // Acknowledged within three working days: 15, 16, 17 December.
        assert_eq!(
            acknowledgement_due(d("2026-12-14"), &profile, &calendar),
            d("2026-12-17")
        );
    }

    #[test]
    fn a_complaint_is_overdue_after_its_response_date_until_answered() {
        let profile = Profile::builtin("kent-medway").unwrap();
        let calendar = profile.calendar();
        // Received Monday 19 October 2026: 20 working days later is Monday 16 November.
        let r = run(vec![EventKind::FeedbackRecorded(complaint(
            "CF-1",
            "2026-10-19",
        ))])
        .unwrap();
        let open = r.registers.open_complaints(&profile, &calendar);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].1, d("2026-11-16"));
        assert!(
            r.registers
                .overdue_complaints(&profile, &calendar, d("2026-11-16"))
                .is_empty(),
            "due that day"
        );
        assert_eq!(
            r.registers
                .overdue_complaints(&profile, &calendar, d("2026-11-17"))
                .len(),
            1
        );
        let mut answered = complaint("CF-1", "2026-10-19");
        answered.acknowledged_on = Some(d("2026-10-20"));
        answered.responded_on = Some(d("2026-11-19"));
        answered.outcome = Some("Apology; visit bookings now copied to the keyworker".into());
        answered.finding = Some(ComplaintFinding::Upheld);
        let r = run(vec![
            EventKind::FeedbackRecorded(complaint("CF-1", "2026-10-19")),
            EventKind::FeedbackRecorded(answered),
        ])
        .unwrap();
        assert!(r.registers.open_complaints(&profile, &calendar).is_empty());
        assert_eq!(r.registers.feedback.len(), 1, "one complaint, two versions");
    }

    #[test]
    fn an_answered_complaint_needs_its_outcome_and_finding_and_only_complaints_are_upheld() {
        let mut c = complaint("CF-2", "2026-11-02");
        c.responded_on = Some(d("2026-10-30"));
        let e = run(vec![EventKind::FeedbackRecorded(c)]).unwrap_err();
        assert_eq!(fields(e), ["responded_on", "outcome", "finding"]);
        let mut compliment = complaint("CF-3", "2026-11-02");
        compliment.kind = FeedbackKind::Compliment;
        compliment.finding = Some(ComplaintFinding::Upheld);
        let e = run(vec![EventKind::FeedbackRecorded(compliment)]).unwrap_err();
        assert_eq!(fields(e), ["finding"]);
        let mut unnamed = complaint(" ", "2026-11-02");
        unnamed.summary = String::new();
        let e = run(vec![EventKind::FeedbackRecorded(unnamed)]).unwrap_err();
        assert_eq!(fields(e), ["feedback_ref", "summary"]);
    }

    #[test]
    fn involvement_needs_someone_taking_part() {
        let event = |users: u32, carers: u32| {
            EventKind::InvolvementRecorded(Involvement {
                kind: InvolvementKind::ExpertPanel,
                held_on: d("2026-11-05"),
                service_users: users,
                family_and_carers: carers,
                summary: "Views on the new group programme".into(),
                influence: None,
            })
        };
        let e = run(vec![event(0, 0)]).unwrap_err();
        assert_eq!(fields(e), ["service_users"]);
        assert_eq!(
            run(vec![event(0, 2)]).unwrap().registers.involvement.len(),
            1
        );
    }

    #[test]
    fn an_activity_needs_its_name_and_a_past_date() {
        let e = run(vec![EventKind::ActivityRecorded(Activity {
            kind: ActivityKind::StaffAwareness,
            on: d("2026-11-21"),
            title: String::new(),
            audience: Some("Officers at IRC Dover".into()),
            reached: Some(12),
        })])
        .unwrap_err();
        assert_eq!(fields(e), ["on", "title"]);
    }

    #[test]
    fn a_commissioner_issue_is_open_until_resolved_with_a_solution_and_its_actions_name_it() {
        let issue = |resolved: Option<&str>, solution: Option<&str>| {
            EventKind::CommissionerIssueRecorded(CommissionerIssue {
                issue_ref: "CI-1".into(),
                kind: IssueKind::Capacity,
                urgent: true,
                raised_on: d("2026-11-03"),
                raised_with: "K/MDAAT commissioning manager".into(),
                summary: "Two nurse vacancies at Elmley".into(),
                solution: solution.map(str::to_string),
                resolved_on: resolved.map(d),
            })
        };
        let e = run(vec![issue(Some("2026-11-02"), None)]).unwrap_err();
        assert_eq!(fields(e), ["resolved_on", "solution"]);
        let action = EventKind::LearningActionRecorded(LearningAction {
            action_ref: "CI-1-A1".into(),
            source_ref: Some("CI-1".into()),
            action: "Agency nurse cover for the evening medication round".into(),
            owner: "Clinical lead".into(),
            due_on: d("2026-11-30"),
            completed_on: None,
        });
        let r = run(vec![issue(None, None), action]).unwrap();
        assert_eq!(r.registers.open_issues().len(), 1);
        assert_eq!(r.actions_for("CI-1").len(), 1);
        let r = run(vec![
            issue(None, None),
            issue(
                Some("2026-11-19"),
                Some("Resources rerouted from Swaleside"),
            ),
        ])
        .unwrap();
        assert!(r.registers.open_issues().is_empty());
    }

    #[test]
    fn a_register_fact_is_refused_for_a_person() {
        use crate::case::Case;
        use crate::decide::{Command, decide};
        let profile = Profile::builtin("kent-medway").unwrap();
        let calendar = profile.calendar();
        let ctx = Context {
            profile: &profile,
            calendar: &calendar,
            recorded_by: StaffUsername::parse("manager.one").unwrap(),
            actor: crate::access::Actor::System,
            establishment: EstablishmentCode::parse("MDI").unwrap(),
            now: crate::time::parse_instant("2026-11-20T10:00:00Z").unwrap(),
            trainees: &[],
        };
        let e = decide(
            &Case::new(crate::record_ids::PersonId(uuid::Uuid::nil())),
            Command::Record {
                occurred_at: None,
                recorded_at: None,
                kind: EventKind::FeedbackRecorded(complaint("CF-4", "2026-11-02")),
            },
            &ctx,
            &mut SequentialIds::new(1),
        )
        .unwrap_err();
        assert_eq!(fields(e), ["type"]);
    }

    fn licence(expires: Option<&str>) -> Registration {
        Registration {
            kind: RegistrationKind::ControlledDrugsLicence,
            reference: "CDL-0042".into(),
            expires_on: expires.map(d),
        }
    }

    #[test]
    fn a_registration_expires_after_its_last_day_and_warns_within_the_window() {
        let today = d("2026-11-20");
        assert_eq!(
            licence(Some("2026-11-19")).status(today, 60),
            RegistrationStatus::Expired
        );
        assert_eq!(
            licence(Some("2026-11-20")).status(today, 60),
            RegistrationStatus::ExpiringSoon,
            "valid on its last day"
        );
        // 60 days after 20 November 2026 is 19 January 2027.
        assert_eq!(
            licence(Some("2027-01-19")).status(today, 60),
            RegistrationStatus::ExpiringSoon
        );
        assert_eq!(
            licence(Some("2027-01-20")).status(today, 60),
            RegistrationStatus::Current
        );
        assert_eq!(
            licence(None).status(today, 60),
            RegistrationStatus::NoExpiry
        );
    }

    #[test]
    fn the_register_lists_expiring_and_expired_registrations_of_active_subcontractors() {
        let sub = |name: &str, expires: &str, ended: Option<&str>| {
            EventKind::SubcontractorRecorded(Subcontractor {
                name: name.into(),
                provides: "Auricular acupuncture".into(),
                registrations: vec![licence(Some(expires))],
                ended_on: ended.map(d),
            })
        };
        let r = run(vec![
            sub("Soon Ltd", "2026-12-01", None),
            sub("Lapsed Ltd", "2026-10-01", None),
            sub("Fine Ltd", "2027-06-01", None),
            sub("Gone Ltd", "2026-09-01", Some("2026-09-30")),
        ])
        .unwrap();
        let due = r
            .registers
            .registrations_needing_attention(d("2026-11-20"), 60);
        let names: Vec<(&str, RegistrationStatus)> = due
            .iter()
            .map(|(s, _, st)| (s.name.as_str(), *st))
            .collect();
        assert_eq!(
            names,
            [
                ("Lapsed Ltd", RegistrationStatus::Expired),
                ("Soon Ltd", RegistrationStatus::ExpiringSoon)
            ]
        );
        // Renewed: a new version under the same name (any case) replaces it.
        let r = run(vec![
            sub("Soon Ltd", "2026-12-01", None),
            sub("SOON LTD ", "2027-12-01", None),
        ])
        .unwrap();
        assert_eq!(r.registers.subcontractors.len(), 1);
        assert!(
            r.registers
                .registrations_needing_attention(d("2026-11-20"), 60)
                .is_empty()
        );
    }

    #[test]
    fn a_subcontractor_needs_its_name_services_and_registration_numbers() {
        let e = run(vec![EventKind::SubcontractorRecorded(Subcontractor {
            name: " ".into(),
            provides: String::new(),
            registrations: vec![Registration {
                kind: RegistrationKind::CareQualityCommission,
                reference: " ".into(),
                expires_on: None,
            }],
            ended_on: None,
        })])
        .unwrap_err();
        assert_eq!(fields(e), ["name", "provides", "registrations"]);
    }
}
