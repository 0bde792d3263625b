//! The service's own governance records (REQUIREMENTS §13; KM 5.33–5.35; S4 §4):
//! serious incidents with their reporting and investigation, learning actions with
//! owners and due dates, drug- and alcohol-related death reviews, and the day-by-day
//! record of 24/7 clinical cover (KPIs 2.1–2.2). These facts are about the service,
//! not a person: their events carry no person, and [`ServiceRecord::fold`] reads them.
//! The registers (meetings, feedback, involvement, activities, commissioner issues,
//! sub-contractors, obligations done) are in [`crate::service_records`], folded here
//! into [`ServiceRecord::registers`] and checked through [`validate_service`].

use crate::decide::Context;
use crate::error::{DomainError, Problems};
use crate::events::NewEvent;
use crate::events::{EventKind, RecordedEvent};
use crate::identifiers::EstablishmentCode;
use crate::labelled_enum;
use crate::record_ids::IdSource;
use crate::record_ids::{EventId, PersonId};
use crate::service_records::Registers;
use crate::surveys::{SurveyKind, SurveyResponse, is_code_hash};
use crate::time::{local_date, local_midday, to_log_precision};
use crate::workforce::{Workforce, is_workforce_fact};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

labelled_enum! {
    /// The serious incidents requiring investigation (KM 5.33.1–5.33.8).
    pub enum IncidentCategory {
        /// KM 5.33.1.
        UnexpectedDeath = ("unexpected_death", "Unexpected or avoidable death (KM 5.33.1)"),
        /// KM 5.33.2.
        SeriousHarm = ("serious_harm", "Serious harm (KM 5.33.2)"),
        /// KM 5.33.3.
        ServiceContinuity = ("service_continuity", "Threat to continuing the service (KM 5.33.3)"),
        /// KM 5.33.4.
        AbuseAllegation = ("abuse_allegation", "Allegation of abuse (KM 5.33.4)"),
        /// KM 5.33.5.
        AdverseMedia = ("adverse_media", "Adverse media coverage or public concern (KM 5.33.5)"),
        /// KM 5.33.6.
        ControlledDrugs = ("controlled_drugs", "Serious incident involving controlled drugs (KM 5.33.6)"),
        /// KM 5.33.7.
        InformationSecurity = ("information_security", "Breach of information security (KM 5.33.7)"),
        /// KM 5.33.8.
        ProfessionalStandards = ("professional_standards", "Breach of Prison Service professional standards (KM 5.33.8)"),
    }
}

labelled_enum! {
    /// To whom a serious incident is reported (KM 5.34).
    pub enum ReportedTo {
        /// The commissioner (K/MDAAT; the Health Improvement Commission for S4).
        Commissioner = ("commissioner", "The commissioner"),
        /// The PCT or health body.
        HealthBody = ("health_body", "The PCT or health body"),
        /// The Prison Service.
        PrisonService = ("prison_service", "The Prison Service"),
    }
}

labelled_enum! {
    /// Where an investigation stands.
    pub enum InvestigationStatus {
        /// Reported, not yet under investigation.
        Reported = ("reported", "Reported"),
        /// Under investigation.
        UnderInvestigation = ("under_investigation", "Under investigation"),
        /// Investigation closed, with its outcome.
        Closed = ("closed", "Closed"),
    }
}

/// One report of an incident: to whom and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentReport {
    /// To whom.
    pub to: ReportedTo,
    /// When.
    pub on: NaiveDate,
}

/// A serious incident (KM 5.33–5.35). Recording one with the same reference again
/// records a new version (reports added, the investigation moved on); the latest counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriousIncident {
    /// The service's own reference for the incident.
    pub incident_ref: String,
    /// Its category.
    pub category: IncidentCategory,
    /// When it happened.
    pub occurred_on: NaiveDate,
    /// What happened, without more personal data than needed.
    pub summary: String,
    /// Whether it was drug or alcohol related (KPI 3.8).
    pub drug_or_alcohol_related: bool,
    /// Service users involved, if any.
    #[serde(default)]
    pub people: Vec<PersonId>,
    /// Whether staff were involved.
    #[serde(default)]
    pub staff_involved: bool,
    /// To whom it was reported, and when.
    #[serde(default)]
    pub reported: Vec<IncidentReport>,
    /// Where the investigation stands.
    pub investigation: InvestigationStatus,
    /// The investigation's outcome, once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// A learning action with an owner and a due date (KM 5.35; S4 §4; KM 6.3.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningAction {
    /// The action's own reference; recording it again updates it.
    pub action_ref: String,
    /// Where it comes from (an incident or review reference, an action plan), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// What is to be done.
    pub action: String,
    /// Who owns it.
    pub owner: String,
    /// When it is due.
    pub due_on: NaiveDate,
    /// When it was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_on: Option<NaiveDate>,
}

/// A drug- or alcohol-related death review with its learning (S4 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeathReview {
    /// The review's own reference.
    pub review_ref: String,
    /// The person who died, if a service user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonId>,
    /// When they died.
    pub died_on: NaiveDate,
    /// When the review took place.
    pub reviewed_on: NaiveDate,
    /// The learning recorded.
    pub learning: String,
}

/// Whether 24/7 clinical cover was provided at the event's establishment on a day
/// (KPIs 2.1–2.2). Recording the same day again replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicalCoverDay {
    /// The day.
    pub on: NaiveDate,
    /// Whether cover was provided all day and night.
    pub provided: bool,
    /// Any note (why not, what was arranged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A survey code as issued (only its hash is known): what it opens and whether used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    /// The one survey it opens.
    pub survey: SurveyKind,
    /// Where it was issued: a response by this code is recorded there.
    pub establishment: EstablishmentCode,
    /// The pairing key of a before or after questionnaire.
    pub pair: Option<String>,
    /// Whether a response has been recorded with it.
    pub used: bool,
}

/// The service's governance records as they stand, from its service-level events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceRecord {
    /// Incidents by reference: the latest version, where, and its event.
    pub incidents: BTreeMap<String, (EventId, EstablishmentCode, SeriousIncident)>,
    /// Learning actions by reference (latest version).
    pub actions: BTreeMap<String, (EventId, LearningAction)>,
    /// Death reviews by reference.
    pub death_reviews: BTreeMap<String, (EventId, DeathReview)>,
    /// Clinical cover by establishment and day (latest record).
    pub cover: BTreeMap<(EstablishmentCode, NaiveDate), bool>,
    /// Survey codes by hash: the survey each opens, where it was issued, its
    /// pairing key, and whether it has been used.
    pub survey_codes: BTreeMap<String, IssuedCode>,
    /// Survey responses, with where they were recorded (anonymous: no person).
    pub survey_responses: Vec<(EstablishmentCode, SurveyResponse)>,
    /// The workforce: staff, competence, training, vacancies (KM 5.42–5.50).
    pub workforce: Workforce,
    /// Meetings, feedback, involvement, activities, commissioner issues,
    /// sub-contractors and obligations done ([`crate::service_records`]).
    pub registers: Registers,
    /// Returns signed off as submitted, in log order (KM 6.4–6.5; S4 §5).
    pub submissions: Vec<crate::submissions::Submission>,
    /// The commissioner's information-sharing requests and their decisions, by
    /// reference (KM 5.14; [`crate::information_requests`]).
    pub information_requests: crate::information_requests::Register,
}

impl ServiceRecord {
    /// Folds the service-level events (in log order; entered-in-error and superseded
    /// events are skipped).
    pub fn fold(events: &[RecordedEvent]) -> ServiceRecord {
        let mut dropped = std::collections::HashSet::new();
        for e in events {
            if let Some(t) = e.supersedes {
                dropped.insert(t);
            }
            if let EventKind::EnteredInError(x) = &e.kind {
                dropped.insert(x.target);
            }
        }
        let mut r = ServiceRecord::default();
        for e in events.iter().filter(|e| !dropped.contains(&e.id)) {
            r.apply(e);
        }
        r
    }

    /// Applies one more service event, as [`ServiceRecord::fold`] does for each. For
    /// events just appended (which supersede nothing), this is the fold's result
    /// without reading the whole log again.
    pub fn apply(&mut self, e: &RecordedEvent) {
        self.registers.apply(e);
        crate::information_requests::apply(&mut self.information_requests, e);
        match &e.kind {
            EventKind::IncidentRecorded(i) => {
                self.incidents.insert(
                    i.incident_ref.clone(),
                    (e.id, e.establishment.clone(), i.clone()),
                );
            }
            EventKind::LearningActionRecorded(a) => {
                self.actions.insert(a.action_ref.clone(), (e.id, a.clone()));
            }
            EventKind::DeathReviewRecorded(d) => {
                self.death_reviews
                    .insert(d.review_ref.clone(), (e.id, d.clone()));
            }
            EventKind::ClinicalCoverRecorded(c) => {
                self.cover
                    .insert((e.establishment.clone(), c.on), c.provided);
            }
            EventKind::SurveyCodeIssued(c) => {
                self.survey_codes.insert(
                    c.code_hash.clone(),
                    IssuedCode {
                        survey: c.survey,
                        establishment: e.establishment.clone(),
                        pair: c.pair.clone(),
                        used: false,
                    },
                );
            }
            EventKind::SurveyResponseRecorded(x) => {
                if let Some(h) = &x.code_hash
                    && let Some(code) = self.survey_codes.get_mut(h)
                {
                    code.used = true;
                }
                self.survey_responses
                    .push((e.establishment.clone(), x.clone()));
            }
            EventKind::ReturnSubmitted(s) => {
                self.submissions.push(crate::submissions::Submission {
                    id: e.id,
                    establishment: e.establishment.clone(),
                    recorded_by: e.recorded_by.clone(),
                    recorded_at: e.recorded_at,
                    fact: s.clone(),
                });
            }
            EventKind::InformationRequestMade(_) | EventKind::InformationRequestDecided(_) => {}
            other => self.workforce.apply(e.id, &e.establishment, other),
        }
    }

    /// Learning actions not done by the end of their due date, as at `today`.
    pub fn overdue_actions(&self, today: NaiveDate) -> Vec<&LearningAction> {
        self.actions
            .values()
            .map(|(_, a)| a)
            .filter(|a| a.completed_on.is_none() && a.due_on < today)
            .collect()
    }

    /// Whether a response to `survey` has been recorded with a code carrying the
    /// pairing key `pair`.
    pub fn answered(&self, survey: SurveyKind, pair: &str) -> bool {
        self.survey_responses.iter().any(|(_, x)| {
            x.survey == survey
                && x.code_hash
                    .as_ref()
                    .and_then(|h| self.survey_codes.get(h))
                    .is_some_and(|c| c.pair.as_deref() == Some(pair))
        })
    }

    /// Incidents whose investigation is not closed.
    pub fn open_incidents(&self) -> Vec<&SeriousIncident> {
        self.incidents
            .values()
            .map(|(_, _, i)| i)
            .filter(|i| i.investigation != InvestigationStatus::Closed)
            .collect()
    }
}

/// The longest survey comment, in characters.
pub const MAX_COMMENTS: usize = 2000;

/// Whether an event kind is about the service rather than a person.
pub fn is_service_fact(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::IncidentRecorded(_)
            | EventKind::LearningActionRecorded(_)
            | EventKind::DeathReviewRecorded(_)
            | EventKind::ClinicalCoverRecorded(_)
            | EventKind::SurveyCodeIssued(_)
            | EventKind::SurveyResponseRecorded(_)
            | EventKind::ReturnSubmitted(_)
            | EventKind::ReportNarrativeRecorded(_)
    ) || is_workforce_fact(kind)
        || crate::service_records::is_register_fact(kind)
        || crate::information_requests::is_request_fact(kind)
}

/// Checks a service-level fact against the record and `today`.
pub fn validate_service(
    record: &ServiceRecord,
    kind: &EventKind,
    today: NaiveDate,
) -> Result<(), DomainError> {
    let mut p = Problems::new();
    let blank = |s: &str| s.trim().is_empty();
    let future = |p: &mut Problems, field: &str, d: NaiveDate| {
        if d > today {
            p.add(field, "The date must be today or in the past");
        }
    };
    match kind {
        EventKind::IncidentRecorded(i) => {
            p.check(
                blank(&i.incident_ref),
                "incident_ref",
                "Enter the incident's reference",
            );
            p.check(blank(&i.summary), "summary", "Enter what happened");
            future(&mut p, "occurred_on", i.occurred_on);
            for r in &i.reported {
                future(&mut p, "reported", r.on);
                if r.on < i.occurred_on {
                    p.add("reported", "A report cannot be dated before the incident");
                }
            }
            if i.investigation == InvestigationStatus::Closed
                && i.outcome.as_deref().is_none_or(blank)
            {
                p.add(
                    "outcome",
                    "Enter the investigation's outcome before closing it",
                );
            }
        }
        EventKind::LearningActionRecorded(a) => {
            p.check(
                blank(&a.action_ref),
                "action_ref",
                "Enter the action's reference",
            );
            p.check(blank(&a.action), "action", "Enter what is to be done");
            p.check(blank(&a.owner), "owner", "Enter who owns the action");
            if let Some(done) = a.completed_on {
                future(&mut p, "completed_on", done);
            }
            if let Some(src) = &a.source_ref
                && src.len() > 60
            {
                p.add(
                    "source_ref",
                    "The source reference must be 60 characters or fewer",
                );
            }
        }
        EventKind::DeathReviewRecorded(d) => {
            p.check(
                blank(&d.review_ref),
                "review_ref",
                "Enter the review's reference",
            );
            p.check(
                blank(&d.learning),
                "learning",
                "Enter the learning from the review",
            );
            future(&mut p, "reviewed_on", d.reviewed_on);
            if d.reviewed_on < d.died_on {
                p.add("reviewed_on", "The review cannot be before the death");
            }
        }
        EventKind::ClinicalCoverRecorded(c) => {
            future(&mut p, "on", c.on);
            if !c.provided && c.note.as_deref().is_none_or(blank) {
                p.add("note", "Say what happened when cover was not provided");
            }
        }
        EventKind::SurveyCodeIssued(c) => {
            p.check(
                !is_code_hash(&c.code_hash),
                "code_hash",
                "The code must be stored as its SHA-256 hash",
            );
            if record.survey_codes.contains_key(&c.code_hash) {
                p.add("code_hash", "This code has already been issued");
            }
            future(&mut p, "issued_on", c.issued_on);
            // S4 §5: only the before and after questionnaires are paired, by an
            // opaque key (never a person's identifier), and each half is answered
            // once per treatment episode.
            match (&c.pair, c.survey.is_experience()) {
                (None, true) => p.add(
                    "pair",
                    "A before or after questionnaire code needs its pairing key",
                ),
                (Some(_), false) => p.add(
                    "pair",
                    "Only the before and after questionnaires are paired",
                ),
                (Some(key), true) if !is_code_hash(key) => {
                    p.add("pair", "The pairing key must be an opaque SHA-256 hash")
                }
                (Some(key), true) if record.answered(c.survey, key) => {
                    return Err(DomainError::Refused(format!(
                        "The questionnaire \"{}\" has already been answered for this treatment episode",
                        c.survey.label()
                    )));
                }
                _ => {}
            }
        }
        EventKind::SurveyResponseRecorded(x) => {
            future(&mut p, "received_on", x.received_on);
            if x.comments
                .as_ref()
                .is_some_and(|c| c.chars().count() > MAX_COMMENTS)
            {
                p.add("comments", "Comments must be 2,000 characters or fewer");
            }
            if let Some(h) = &x.code_hash {
                match record.survey_codes.get(h) {
                    None => {
                        return Err(DomainError::Refused("This code is not valid".into()));
                    }
                    Some(code) if code.used => {
                        return Err(DomainError::Refused(
                            "This code has already been used: each code works once".into(),
                        ));
                    }
                    Some(code) if code.survey != x.survey => {
                        return Err(DomainError::Refused(
                            "This code is for another survey".into(),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        // Checked against the profile and the instant in `decide_service`.
        EventKind::ReturnSubmitted(_) | EventKind::ReportNarrativeRecorded(_) => {}
        // Checked against the profile, the recorder and the decider's establishments
        // in `decide_service_at`.
        k if crate::information_requests::is_request_fact(k) => {}
        other if is_workforce_fact(other) => {
            return crate::workforce::validate(&record.workforce, other, today);
        }
        k if crate::service_records::is_register_fact(k) => {
            crate::service_records::validate(k, today, &mut p);
        }
        _ => {
            return Err(DomainError::invalid(
                "type",
                "this is not a fact about the service",
            ));
        }
    }
    p.into_result()
}

/// Decides a fact about the service: checked against the record, it becomes one
/// event with no person, at the context's establishment. The recorder is taken to
/// manage that establishment only (see [`decide_service_at`]).
pub fn decide_service(
    record: &ServiceRecord,
    kind: EventKind,
    ctx: &Context<'_>,
    ids: &mut dyn IdSource,
) -> Result<Vec<NewEvent>, DomainError> {
    decide_service_at(
        record,
        kind,
        ctx,
        std::slice::from_ref(&ctx.establishment),
        ids,
    )
}

/// As [`decide_service`], by a recorder who manages `actor_establishments`: a
/// decision on an information request needs every establishment of the request
/// among them (KM 5.14).
pub fn decide_service_at(
    record: &ServiceRecord,
    kind: EventKind,
    ctx: &Context<'_>,
    actor_establishments: &[EstablishmentCode],
    ids: &mut dyn IdSource,
) -> Result<Vec<NewEvent>, DomainError> {
    if ctx.profile.establishment(&ctx.establishment).is_none() {
        return Err(DomainError::invalid(
            "establishment",
            format!(
                "{} is not an establishment of this service",
                ctx.establishment
            ),
        ));
    }
    crate::access::check(ctx.actor, crate::access::Act::Record, kind.type_name())?;
    if let EventKind::ReturnSubmitted(s) = &kind {
        crate::submissions::validate(s, ctx.profile, ctx.now)?;
    }
    if crate::information_requests::is_request_fact(&kind) {
        crate::information_requests::validate(
            &record.information_requests,
            &kind,
            ctx,
            actor_establishments,
        )?;
    }
    let mut kind = kind;
    if let EventKind::ReportNarrativeRecorded(n) = &mut kind {
        crate::narratives::validate(n, ctx.profile)?;
        n.text = n.text.trim().to_string();
    }
    validate_service(record, &kind, local_date(ctx.now))?;
    crate::obligations::check_against_profile(ctx.profile, &kind)?;
    let dated = match &kind {
        EventKind::IncidentRecorded(i) => Some(i.occurred_on),
        EventKind::DeathReviewRecorded(d) => Some(d.reviewed_on),
        EventKind::ClinicalCoverRecorded(c) => Some(c.on),
        EventKind::SurveyCodeIssued(c) => Some(c.issued_on),
        EventKind::SurveyResponseRecorded(x) => Some(x.received_on),
        EventKind::ReturnSubmitted(s) => Some(s.submitted_on),
        other => crate::workforce::fact_date(other)
            .or_else(|| crate::service_records::fact_date(other))
            .or_else(|| crate::information_requests::fact_date(other)),
    };
    let occurred_at = to_log_precision(dated.map(local_midday).unwrap_or(ctx.now));
    Ok(vec![NewEvent {
        id: EventId(ids.next_uuid()),
        person: None,
        establishment: ctx.establishment.clone(),
        occurred_at: occurred_at.min(to_log_precision(ctx.now)),
        recorded_at: None,
        recorded_by: ctx.recorded_by.clone(),
        supersedes: None,
        reason: None,
        kind,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn incident(r: &str, status: InvestigationStatus, outcome: Option<&str>) -> EventKind {
        EventKind::IncidentRecorded(SeriousIncident {
            incident_ref: r.into(),
            category: IncidentCategory::ControlledDrugs,
            occurred_on: d("2026-11-02"),
            summary: "Methadone stock discrepancy".into(),
            drug_or_alcohol_related: true,
            people: vec![],
            staff_involved: true,
            reported: vec![IncidentReport {
                to: ReportedTo::Commissioner,
                on: d("2026-11-03"),
            }],
            investigation: status,
            outcome: outcome.map(str::to_string),
        })
    }

    use crate::testkit::service_record as run;

    #[test]
    fn an_incident_moves_through_its_investigation_and_the_latest_version_counts() {
        let r = run(vec![
            incident("SI-2026-014", InvestigationStatus::Reported, None),
            incident("SI-2026-014", InvestigationStatus::UnderInvestigation, None),
        ])
        .unwrap();
        assert_eq!(r.open_incidents().len(), 1);
        let r = run(vec![
            incident("SI-2026-014", InvestigationStatus::Reported, None),
            incident(
                "SI-2026-014",
                InvestigationStatus::Closed,
                Some("Stock checks twice daily"),
            ),
        ])
        .unwrap();
        assert!(r.open_incidents().is_empty());
        assert_eq!(r.incidents.len(), 1);
    }

    #[test]
    fn an_incident_cannot_close_without_an_outcome_nor_be_reported_before_it_happened() {
        let e = run(vec![incident("SI-1", InvestigationStatus::Closed, None)]).unwrap_err();
        assert!(e.to_string().contains("outcome"), "{e}");
        let mut early = incident("SI-2", InvestigationStatus::Reported, None);
        if let EventKind::IncidentRecorded(i) = &mut early {
            i.reported[0].on = d("2026-11-01");
        }
        assert!(
            run(vec![early])
                .unwrap_err()
                .to_string()
                .contains("reported")
        );
    }

    #[test]
    fn learning_actions_are_overdue_after_their_due_day_until_done() {
        let action = |done: Option<&str>| {
            EventKind::LearningActionRecorded(LearningAction {
                action_ref: "LA-7".into(),
                source_ref: Some("SI-2026-014".into()),
                action: "Audit controlled drug handovers".into(),
                owner: "Clinical lead".into(),
                due_on: d("2026-11-18"),
                completed_on: done.map(d),
            })
        };
        let r = run(vec![action(None)]).unwrap();
        assert_eq!(r.overdue_actions(d("2026-11-18")).len(), 0, "due that day");
        assert_eq!(r.overdue_actions(d("2026-11-19")).len(), 1);
        let r = run(vec![action(None), action(Some("2026-11-19"))]).unwrap();
        assert!(r.overdue_actions(d("2026-11-20")).is_empty());
    }

    fn code(hash_of: &str, survey: SurveyKind) -> EventKind {
        use sha2::{Digest, Sha256};
        EventKind::SurveyCodeIssued(crate::surveys::SurveyCodeIssued {
            code_hash: hex::encode(Sha256::digest(hash_of.as_bytes())),
            survey,
            issued_on: d("2026-11-16"),
            pair: None,
        })
    }

    fn response(hash_of: Option<&str>, survey: SurveyKind) -> EventKind {
        use sha2::{Digest, Sha256};
        EventKind::SurveyResponseRecorded(SurveyResponse {
            code_hash: hash_of.map(|c| hex::encode(Sha256::digest(c.as_bytes()))),
            survey,
            received_on: d("2026-11-18"),
            rating: crate::surveys::Rating::Satisfied,
            comments: None,
        })
    }

    #[test]
    fn a_survey_code_works_once_and_only_for_its_survey() {
        let issued = code("K7P-42Q-9XM", SurveyKind::Satisfaction);
        // Not for another survey…
        let e = run(vec![
            issued.clone(),
            response(Some("K7P-42Q-9XM"), SurveyKind::ExperiencePre),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("another survey"), "{e}");
        // …once for its own…
        let r = run(vec![
            issued.clone(),
            response(Some("K7P-42Q-9XM"), SurveyKind::Satisfaction),
        ])
        .unwrap();
        assert_eq!(r.survey_responses.len(), 1);
        assert!(r.survey_codes.values().all(|c| c.used));
        // …and never twice.
        let e = run(vec![
            issued,
            response(Some("K7P-42Q-9XM"), SurveyKind::Satisfaction),
            response(Some("K7P-42Q-9XM"), SurveyKind::Satisfaction),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("already been used"), "{e}");
        // A code never issued opens nothing; a paper response needs no code.
        assert!(run(vec![response(Some("NOT-ISSUED"), SurveyKind::Satisfaction)]).is_err());
        assert!(run(vec![response(None, SurveyKind::Satisfaction)]).is_ok());
    }

    fn paired(hash_of: &str, survey: SurveyKind, pair: Option<&str>) -> EventKind {
        let mut kind = code(hash_of, survey);
        if let EventKind::SurveyCodeIssued(c) = &mut kind {
            c.pair = pair.map(|p| {
                use sha2::{Digest, Sha256};
                hex::encode(Sha256::digest(p.as_bytes()))
            });
        }
        kind
    }

    #[test]
    fn only_the_before_and_after_questionnaires_carry_a_pairing_key() {
        let e = run(vec![paired("A", SurveyKind::ExperiencePre, None)]).unwrap_err();
        assert!(e.to_string().contains("pair"), "{e}");
        let e = run(vec![paired("A", SurveyKind::Satisfaction, Some("episode"))]).unwrap_err();
        assert!(e.to_string().contains("pair"), "{e}");
        let mut raw = code("A", SurveyKind::ExperiencePost);
        if let EventKind::SurveyCodeIssued(c) = &mut raw {
            c.pair = Some("person 7, episode 1".into());
        }
        assert!(run(vec![raw]).unwrap_err().to_string().contains("opaque"));
        assert!(
            run(vec![paired(
                "A",
                SurveyKind::ExperiencePost,
                Some("episode")
            )])
            .is_ok()
        );
    }

    #[test]
    fn each_half_of_a_pair_is_answered_once_per_episode_but_may_be_issued_again_until_then() {
        let mut answer = response(Some("PRE-1"), SurveyKind::ExperiencePre);
        let r = run(vec![
            paired("PRE-1", SurveyKind::ExperiencePre, Some("episode")),
            // A lost code: a second one for the same half, before any answer.
            paired("PRE-2", SurveyKind::ExperiencePre, Some("episode")),
            answer.clone(),
        ])
        .unwrap();
        let key = {
            use sha2::{Digest, Sha256};
            hex::encode(Sha256::digest(b"episode"))
        };
        assert!(r.answered(SurveyKind::ExperiencePre, &key));
        assert!(!r.answered(SurveyKind::ExperiencePost, &key));
        let e = run(vec![
            paired("PRE-1", SurveyKind::ExperiencePre, Some("episode")),
            answer.clone(),
            paired("PRE-3", SurveyKind::ExperiencePre, Some("episode")),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("already been answered"), "{e}");
        // The after half, and another episode, are still open.
        assert!(
            run(vec![
                paired("PRE-1", SurveyKind::ExperiencePre, Some("episode")),
                answer.clone(),
                paired("POST-1", SurveyKind::ExperiencePost, Some("episode")),
                paired("PRE-9", SurveyKind::ExperiencePre, Some("next episode")),
            ])
            .is_ok()
        );
        // Comments have a limit.
        if let EventKind::SurveyResponseRecorded(x) = &mut answer {
            x.comments = Some("x".repeat(MAX_COMMENTS + 1));
        }
        let e = run(vec![
            paired("PRE-1", SurveyKind::ExperiencePre, Some("episode")),
            answer,
        ])
        .unwrap_err();
        assert!(e.to_string().contains("comments"), "{e}");
    }

    #[test]
    fn a_code_is_stored_only_as_its_hash() {
        let bad = EventKind::SurveyCodeIssued(crate::surveys::SurveyCodeIssued {
            code_hash: "K7P-42Q-9XM".into(),
            survey: SurveyKind::Satisfaction,
            issued_on: d("2026-11-16"),
            pair: None,
        });
        assert!(
            run(vec![bad])
                .unwrap_err()
                .to_string()
                .contains("code_hash")
        );
    }

    #[test]
    fn clinical_cover_is_one_record_per_day_and_a_gap_needs_a_note() {
        let day = |on: &str, provided: bool, note: Option<&str>| {
            EventKind::ClinicalCoverRecorded(ClinicalCoverDay {
                on: d(on),
                provided,
                note: note.map(str::to_string),
            })
        };
        assert!(run(vec![day("2026-11-10", false, None)]).is_err());
        let r = run(vec![
            day("2026-11-10", false, Some("No GP cover overnight")),
            day("2026-11-10", true, None),
            day("2026-11-11", true, None),
        ])
        .unwrap();
        let mdi = EstablishmentCode::parse("MDI").unwrap();
        assert_eq!(r.cover.get(&(mdi.clone(), d("2026-11-10"))), Some(&true));
        assert_eq!(r.cover.len(), 2);
        assert!(
            run(vec![day("2026-11-21", true, None)]).is_err(),
            "not in the future"
        );
    }
}
