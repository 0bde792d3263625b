//! Who may record, correct, mark in error and read each type of event: the policy
//! table (REQUIREMENTS "Users"; KM 4.16–4.17, 3.9.3, 3.9.6 for clinical events).
//!
//! The table is data ([`RULES`], one row per event type, each citing its paragraph);
//! [`crate::decide::decide`], [`crate::decide::decide_merge`] and
//! [`crate::governance::decide_service`] refuse a write the table does not allow to
//! the [`Actor`] in their context, so pages, the API and imports are held to the same
//! rows. What a role may *read* of a person's record is [`reading`], and
//! [`redact_case`] takes away what a role may not read before any page or API answer
//! is made from the case.

use serde::{Deserialize, Serialize};

use crate::case::Case;
use crate::error::DomainError;
use crate::events::EventKind;

/// A staff role (REQUIREMENTS "Users"). Stored with each account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Substance use worker: case records at their establishments, and the
    /// clinical steps without their notes.
    Worker,
    /// As worker, plus clinical events (recorded, corrected, marked in error).
    Clinician,
    /// Case records and clinical events to read; the service's governance records,
    /// returns sign-off and information-request decisions.
    Manager,
    /// Users, roles, establishments, configuration; no case records.
    Admin,
    /// A system, not a person: the in-cell telephone system posting self-referrals
    /// (S4 §2). It may do that and nothing else: no page, no other API route.
    SelfReferralService,
    /// The commissioner: the aggregate returns only, as published (KM 6.4–6.7; S4
    /// §5), and information-sharing requests (KM 5.14) — never a person otherwise.
    Commissioner,
}

impl Role {
    /// The role's name in files and forms.
    pub fn code(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Clinician => "clinician",
            Role::Manager => "manager",
            Role::Admin => "admin",
            Role::SelfReferralService => "self_referral_service",
            Role::Commissioner => "commissioner",
        }
    }
    /// Every role.
    pub const ALL: [Role; 6] = [
        Role::Worker,
        Role::Clinician,
        Role::Manager,
        Role::Admin,
        Role::SelfReferralService,
        Role::Commissioner,
    ];
    /// The role with this name.
    pub fn from_code(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }
    /// Words for the page header.
    pub fn label(self) -> &'static str {
        match self {
            Role::Worker => "Substance use worker",
            Role::Clinician => "Clinician",
            Role::Manager => "Manager",
            Role::Admin => "Administrator",
            Role::SelfReferralService => "Self-referral service (in-cell telephone)",
            Role::Commissioner => "Commissioner",
        }
    }
    /// Whether the role reads people's case records at all (at its establishments).
    pub fn sees_cases(self) -> bool {
        matches!(self, Role::Worker | Role::Clinician | Role::Manager)
    }
}

/// Who is recording, for the policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in account in a role.
    Staff(Role),
    /// The kiosk for people in prison (no account): survey answers by one-time
    /// code and self-referrals (S4 §2).
    Kiosk,
    /// The command line, with the database's own authority: the movements,
    /// drug-test and outcomes feeds, the events import of migrated history, the
    /// demo. Each feed's parser produces only its own event types; the operator who
    /// runs an import is trusted as the one who may open the database itself.
    System,
}

/// Who is recording, by name and as what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The `recorded_by` of what is written.
    pub username: crate::identifiers::StaffUsername,
    /// What the policy table is asked about.
    pub actor: Actor,
}

impl Author {
    /// A member of staff in `role`.
    pub fn staff(username: crate::identifiers::StaffUsername, role: Role) -> Author {
        Author {
            username,
            actor: Actor::Staff(role),
        }
    }
    /// The command line (feeds, imports, the demo) recording as `username`.
    pub fn system(username: crate::identifiers::StaffUsername) -> Author {
        Author {
            username,
            actor: Actor::System,
        }
    }
}

/// What is done to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Recorded as new.
    Record,
    /// Replaced by a correction (`supersedes`).
    Correct,
    /// Marked as entered in error.
    EnterInError,
}

/// How much of an event a role reads on a person's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// All of it.
    Full,
    /// That it happened, when, and what (the step, the medication), without the
    /// free-text note.
    WithoutNote,
    /// Nothing (the role sees no case records).
    Nothing,
}

/// One row of the policy table: an event type, who records it (and so corrects and
/// marks it in error), who reads it, and the paragraph the rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The event's type name (as in docs/events.md).
    pub type_name: &'static str,
    /// The roles that record, correct and mark it in error.
    pub record: &'static [Role],
    /// Whether the kiosk may record it.
    pub kiosk: bool,
    /// The roles that read all of it; [`Rule::summary`] read it without notes.
    pub read: &'static [Role],
    /// The roles that read it without its note.
    pub summary: &'static [Role],
    /// Where the rule comes from.
    pub paragraph: &'static str,
}

const CASE: &[Role] = &[Role::Worker, Role::Clinician, Role::Manager];
const CLINICIAN: &[Role] = &[Role::Clinician];
const CLINICAL_READ: &[Role] = &[Role::Clinician, Role::Manager];
const WORKER: &[Role] = &[Role::Worker];
const MANAGER: &[Role] = &[Role::Manager];
const NOBODY: &[Role] = &[];

const fn case(type_name: &'static str, paragraph: &'static str) -> Rule {
    Rule {
        type_name,
        record: CASE,
        kiosk: false,
        read: CASE,
        summary: NOBODY,
        paragraph,
    }
}

const fn governance(type_name: &'static str, paragraph: &'static str) -> Rule {
    Rule {
        type_name,
        record: MANAGER,
        kiosk: false,
        read: MANAGER,
        summary: NOBODY,
        paragraph,
    }
}

/// The policy table: every event type, once.
pub const RULES: [Rule; 64] = [
    Rule {
        record: &[
            Role::Worker,
            Role::Clinician,
            Role::Manager,
            Role::SelfReferralService,
        ],
        kiosk: true,
        ..case(
            "person_registered",
            "REQUIREMENTS §3; S4 §2 (a self-referral registers an unknown prison number)",
        )
    },
    case(
        "people_merged",
        "REQUIREMENTS §3 (duplicates are merged, never deleted)",
    ),
    case("received", "REQUIREMENTS §4; KM 4.16 (reception)"),
    case(
        "transferred",
        "REQUIREMENTS §10 (recorded by the establishment the person leaves, or the movements feed)",
    ),
    Rule {
        record: MANAGER,
        ..case(
            "transfer_requested",
            "REQUIREMENTS §10; issue 14 (a manager asks; the holding establishment answers)",
        )
    },
    Rule {
        record: MANAGER,
        ..case(
            "transfer_request_answered",
            "REQUIREMENTS §10; issue 14 (a manager of the holding establishment answers)",
        )
    },
    case("expected_release_set", "REQUIREMENTS §4"),
    case("released", "REQUIREMENTS §4"),
    Rule {
        record: &[
            Role::Worker,
            Role::Clinician,
            Role::Manager,
            Role::SelfReferralService,
        ],
        kiosk: true,
        ..case(
            "referral_made",
            "S4 §2; KM 4.5 (referral routes, self-referral)",
        )
    },
    case("referral_closed", "S4 §3"),
    case("appointment_offered", "S4 §3"),
    case("appointment_outcome_recorded", "S4 §3"),
    case("drug_test_resulted", "S4 §2; KM 5.17"),
    case("information_shared", "KM 5.17; REQUIREMENTS §9 (consent)"),
    case("onward_referral_made", "S4 §3"),
    case("screening_completed", "S4 §3; KM 4.6"),
    case("assessment_completed", "S4 §3; KM 4.7"),
    case("consent_recorded", "KM 3.3.6; REQUIREMENTS §9"),
    case("consent_withdrawn", "KM 3.3.6; REQUIREMENTS §9"),
    case(
        "entered_in_error",
        "REQUIREMENTS §3 (judged by the rule of the entry it marks)",
    ),
    case("appointment_rescheduled", "S4 §3"),
    case("care_plan_agreed", "KM 3.5; S4 §4"),
    case("care_plan_reviewed", "KM 3.5; S4 §4"),
    case("induction_recorded", "KM 3.5"),
    case("top_completed", "KM 4.28 (Treatment Outcomes Profile)"),
    case("intervention_updated", "KM 3.6–3.8; S4 §4"),
    case("session_attended", "KM 3.6–3.8; S4 §4"),
    Rule {
        type_name: "clinical_event_recorded",
        record: CLINICIAN,
        kiosk: false,
        read: CLINICAL_READ,
        summary: WORKER,
        paragraph: "KM 4.16–4.17, 3.9.3, 3.9.6: the first-night pathway, prescribing, detoxification, clinical assessment and referral are the clinician's; the worker sees the step and medication in the care plan, not the clinical note",
    },
    case("blood_borne_virus_recorded", "KM 3.1.10"),
    case("naloxone_supplied", "KM 3.1.10; S4 §4 (harm reduction)"),
    case("drug_intelligence_recorded", "KM 5.17"),
    case("sentence_plan_contributed", "KM 3.5"),
    case("keyworker_allocated", "KM 3.5; KM 5.43.1"),
    case("service_exclusion_recorded", "KM 4.9"),
    case("release_plan_agreed", "KM 3.11; REQUIREMENTS §10"),
    case("treatment_exited", "KM 3.11; REQUIREMENTS §10"),
    case(
        "community_engagement_recorded",
        "KM 3.11 (the 21-day window)",
    ),
    case("contact_recorded", "REQUIREMENTS §10 (continuity of care)"),
    case("death_recorded", "REQUIREMENTS §10"),
    case("reoffence_recorded", "REQUIREMENTS §10 (follow-up)"),
    case("follow_up_closed", "REQUIREMENTS §10 (follow-up)"),
    governance(
        "incident_recorded",
        "KM 5.33–5.35 (governance: manager only)",
    ),
    governance("learning_action_recorded", "KM 5.33–5.35"),
    governance("death_review_recorded", "KM 5.33–5.35"),
    governance("clinical_cover_recorded", "KM 5.33–5.35"),
    Rule {
        record: CASE,
        ..governance(
            "survey_code_issued",
            "S4 §5 (any member of staff gives a person a one-time survey code)",
        )
    },
    Rule {
        record: CASE,
        kiosk: true,
        ..governance(
            "survey_response_recorded",
            "S4 §5 (answered at the kiosk, or a paper response typed in by staff)",
        )
    },
    governance("staff_recorded", "KM 5.40–5.45 (workforce)"),
    governance("trainee_signed_off", "KM 5.43.1"),
    governance("competence_recorded", "KM 5.40–5.45; DANOS"),
    governance("training_recorded", "KM 5.40–5.45"),
    governance("training_needs_analysis_recorded", "KM 5.40–5.45"),
    governance("vacancy_recorded", "KM 5.40–5.45"),
    governance("meeting_attended", "KM 5.1–5.14 (registers)"),
    governance("feedback_recorded", "KM 5.1–5.14 (registers)"),
    governance("involvement_recorded", "KM 5.1–5.14 (registers)"),
    governance("activity_recorded", "KM 5.1–5.14 (registers)"),
    governance("commissioner_issue_recorded", "KM 5.1–5.14 (registers)"),
    governance("subcontractor_recorded", "KM 5.1–5.14 (registers)"),
    governance(
        "obligation_completed",
        "KM 6.2–6.5 (the obligations schedule)",
    ),
    governance(
        "return_submitted",
        "KM 6.4–6.5 (a manager signs off a return)",
    ),
    Rule {
        record: &[Role::Commissioner],
        ..governance(
            "information_request_made",
            "KM 5.14 (the commissioner asks)",
        )
    },
    governance(
        "information_request_decided",
        "KM 5.14 (a manager of every establishment in scope decides)",
    ),
    governance(
        "report_narrative_recorded",
        "S4 §5 (a manager writes the narrative)",
    ),
];

/// The row of the policy table for an event type.
pub fn rule(type_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.type_name == type_name)
}

/// Whether `actor` may do `act` to an event of type `type_name`. Correcting and
/// marking in error follow the recording rule: whoever may record an entry may
/// amend it, and nobody else (KM 4.16–4.17 for clinical entries). Deny by default: a
/// type with no row is refused.
pub fn may(actor: Actor, _act: Act, type_name: &str) -> bool {
    let Some(rule) = rule(type_name) else {
        return false;
    };
    match actor {
        Actor::System => true,
        Actor::Kiosk => rule.kiosk,
        Actor::Staff(role) => rule.record.contains(&role),
    }
}

/// Refuses, naming the rule, when `actor` may not do `act` to `type_name`.
pub fn check(actor: Actor, act: Act, type_name: &str) -> Result<(), DomainError> {
    if may(actor, act, type_name) {
        return Ok(());
    }
    let what = match act {
        Act::Record => "record",
        Act::Correct => "correct",
        Act::EnterInError => "mark as entered in error",
    };
    let who = rule(type_name)
        .map(|r| {
            r.record
                .iter()
                .map(|role| role.label().to_lowercase())
                .collect::<Vec<_>>()
                .join(" or ")
        })
        .unwrap_or_default();
    let why = rule(type_name).map(|r| r.paragraph).unwrap_or("");
    Err(DomainError::NotPermitted(format!(
        "Your role may not {what} this entry ({type_name}): only a {who} may ({why})."
    )))
}

/// How much of an event of `type_name` a role reads on a person's record.
pub fn reading(role: Role, type_name: &str) -> Reading {
    match rule(type_name) {
        Some(r) if r.read.contains(&role) => Reading::Full,
        Some(r) if r.summary.contains(&role) => Reading::WithoutNote,
        _ => Reading::Nothing,
    }
}

/// The case as `role` may read it: clinical notes taken away for a role that reads
/// clinical steps without them (the worker, KM 4.16–4.17). Every page and API answer
/// about a person is made from this (the server's `open_case` returns it).
pub fn redact_case(mut case: Case, role: Role) -> Case {
    if reading(role, "clinical_event_recorded") == Reading::WithoutNote {
        for (_, c) in case.clinical.iter_mut() {
            c.note = None;
        }
        for e in case.history.iter_mut() {
            if let EventKind::ClinicalEventRecorded(c) = &mut e.kind {
                c.note = None;
            }
        }
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_has_exactly_one_rule() {
        for name in EventKind::TYPE_NAMES {
            assert_eq!(
                RULES.iter().filter(|r| r.type_name == name).count(),
                1,
                "{name}"
            );
        }
        assert_eq!(RULES.len(), EventKind::TYPE_NAMES.len());
    }

    #[test]
    fn only_a_clinician_writes_clinical_events() {
        for act in [Act::Record, Act::Correct, Act::EnterInError] {
            assert!(may(
                Actor::Staff(Role::Clinician),
                act,
                "clinical_event_recorded"
            ));
            for role in [
                Role::Worker,
                Role::Manager,
                Role::Admin,
                Role::Commissioner,
                Role::SelfReferralService,
            ] {
                assert!(
                    !may(Actor::Staff(role), act, "clinical_event_recorded"),
                    "{role:?}"
                );
            }
            assert!(!may(Actor::Kiosk, act, "clinical_event_recorded"));
        }
        // A worker still records a screening; the kiosk records nothing clinical.
        assert!(may(
            Actor::Staff(Role::Worker),
            Act::Record,
            "screening_completed"
        ));
        assert!(!may(Actor::Kiosk, Act::Record, "screening_completed"));
        let refused = check(
            Actor::Staff(Role::Worker),
            Act::Correct,
            "clinical_event_recorded",
        );
        assert!(matches!(refused, Err(DomainError::NotPermitted(m)) if m.contains("KM 4.16")));
    }

    #[test]
    fn a_worker_reads_clinical_steps_without_their_notes() {
        assert_eq!(
            reading(Role::Worker, "clinical_event_recorded"),
            Reading::WithoutNote
        );
        assert_eq!(
            reading(Role::Clinician, "clinical_event_recorded"),
            Reading::Full
        );
        assert_eq!(
            reading(Role::Manager, "clinical_event_recorded"),
            Reading::Full
        );
        assert_eq!(
            reading(Role::Admin, "clinical_event_recorded"),
            Reading::Nothing
        );
        assert_eq!(reading(Role::Worker, "screening_completed"), Reading::Full);
        assert_eq!(
            reading(Role::Commissioner, "screening_completed"),
            Reading::Nothing
        );
    }

    #[test]
    fn an_unknown_type_is_refused_to_everyone_but_the_command_line() {
        assert!(!may(
            Actor::Staff(Role::Manager),
            Act::Record,
            "no_such_type"
        ));
        assert!(!may(Actor::Kiosk, Act::Record, "no_such_type"));
    }
}
