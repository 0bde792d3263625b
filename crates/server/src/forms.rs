//! The staff forms for recording events: what each form shows, and how its fields
//! become a domain command. Every form can also correct an earlier entry of its kind
//! (hidden `supersedes` plus a reason). Validation beyond field shapes is the
//! domain's (`decide`), whose messages come back to the same fields.

use chrono::{NaiveDate, NaiveTime, Utc};
use throughcare_domain::assessment::{
    Assessment, AssessmentKind, ComprehensiveItems, FamilyIssues, RiskLevel,
};
use throughcare_domain::case::Case;
use throughcare_domain::consent::{
    ConsentDecision, ConsentPurpose, ConsentRecord, ConsentState, ConsentWithdrawal,
};
use throughcare_domain::custody::{
    ExpectedRelease, Reception, ReceptionType, Release, ReleaseKind, Transfer,
};
use throughcare_domain::decide::Command;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::instruments::{
    AUDIT_ITEM_LABELS, AuditAnswers, AuditCAnswers, audit_item_options,
};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::EventId;
use throughcare_domain::referrals::{
    AppointmentOffer, AppointmentOutcome, AppointmentOutcomeKind, DrugTestReason, DrugTestResult,
    OnwardReferral, OnwardService, Referral, ReferralClosure, ReferralClosureReason,
    ReferralSource,
};
use throughcare_domain::screening::{InjectingStatus, Screening, ScreeningSetting, Substance};
use throughcare_domain::time::{local_date, local_instant};

use crate::chrome::FormErrors;
use crate::form_data::FormData;

/// One field of a form, as the generic form template renders it.
#[derive(Debug, Clone)]
pub enum Field {
    /// A section heading.
    Heading(String),
    /// A one-line text input.
    Text {
        name: String,
        label: String,
        hint: String,
        value: String,
    },
    /// A multi-line text input.
    TextArea {
        name: String,
        label: String,
        value: String,
    },
    /// A GOV.UK date input.
    Date {
        name: String,
        legend: String,
        day: String,
        month: String,
        year: String,
    },
    /// A date and a 24-hour time.
    DateTime {
        name: String,
        legend: String,
        day: String,
        month: String,
        year: String,
        time: String,
    },
    /// One choice of several.
    Radios {
        name: String,
        legend: String,
        options: Vec<(String, String)>,
        selected: String,
    },
    /// Any of several.
    Checkboxes {
        name: String,
        legend: String,
        options: Vec<(String, String)>,
        selected: Vec<String>,
    },
    /// One choice from a drop-down.
    Select {
        name: String,
        label: String,
        options: Vec<(String, String)>,
        selected: String,
    },
}

/// A form to show.
#[derive(Debug, Clone)]
pub struct FormSpec {
    /// The page heading.
    pub title: String,
    /// The fields in order.
    pub fields: Vec<Field>,
}

/// The forms there are, by the name in their URL.
pub const FORMS: [(&str, &str); 40] = [
    ("referral", "Record a referral"),
    ("close-referral", "Close a referral without assessment"),
    ("appointment", "Offer an appointment"),
    ("reschedule-appointment", "Move an appointment"),
    ("drug-test", "Record a drug test result"),
    ("appointment-outcome", "Record an appointment outcome"),
    ("screening", "Record a screening"),
    ("assessment", "Record an assessment"),
    ("consent", "Record a consent decision"),
    ("withdraw-consent", "Record a consent withdrawn"),
    ("onward-referral", "Record an onward referral"),
    ("keyworker", "Allocate a keyworker"),
    ("induction", "Record induction items covered"),
    ("care-plan", "Agree a recovery care plan"),
    ("care-plan-review", "Review the recovery care plan"),
    ("share-care-plan", "Share the recovery care plan"),
    ("top", "Record a Treatment Outcomes Profile"),
    ("intervention", "Record an intervention step"),
    ("session", "Record a session attended"),
    ("clinical", "Record a clinical event"),
    ("bbv", "Record blood-borne virus screening or vaccination"),
    ("naloxone", "Record naloxone or overdose training"),
    ("drug-intelligence", "Record drug intelligence"),
    ("sentence-plan", "Record a sentence plan contribution"),
    ("exclusion", "Record an exclusion from the service"),
    ("reception", "Record a reception"),
    ("transfer", "Record a transfer out"),
    (
        "transfer-request-answer",
        "Answer a request to transfer the record",
    ),
    ("release", "Record a release"),
    ("expected-release", "Set the expected release date"),
    ("release-plan", "Agree a release plan"),
    ("treatment-exit", "Record a treatment exit"),
    (
        "community-engagement",
        "Record community engagement after release",
    ),
    ("contact", "Record a contact or re-engagement attempt"),
    ("death", "Record a death"),
    ("reoffence", "Record a reoffence after release"),
    ("follow-up", "Close a 12-month follow-up"),
    ("share-summary", "Share a summary with a partner"),
    ("entered-in-error", "Mark an entry as entered in error"),
    ("merge", "Merge a duplicate record into this one"),
];

/// The message for a staff username that is not one.
pub(crate) const STAFF_USERNAME_MESSAGE: &str = "Enter a staff username of 3 to 64 letters, numbers, dots, hyphens or underscores, like j.smith";

/// The event type a form records, where one form always records one type (the
/// policy table rules on it; the other forms record entries any case role may).
fn fixed_type(form: &str) -> Option<&'static str> {
    match form {
        "clinical" => Some("clinical_event_recorded"),
        "transfer-request-answer" => Some("transfer_request_answered"),
        _ => None,
    }
}

/// Whether `role` may use `form` on a person's record (the domain's policy table,
/// [`throughcare_domain::access`]).
pub fn role_may_use(role: throughcare_store::Role, form: &str) -> bool {
    use throughcare_domain::access::{Act, Actor, may};
    role.sees_cases() && fixed_type(form).is_none_or(|t| may(Actor::Staff(role), Act::Record, t))
}

/// The groups of [`groups`] with only the forms `role` may use.
pub fn groups_for(
    role: throughcare_store::Role,
) -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    groups()
        .into_iter()
        .map(|(g, list)| {
            (
                g,
                list.into_iter()
                    .filter(|(f, _)| role_may_use(role, f))
                    .collect(),
            )
        })
        .filter(|(_, list): &(_, Vec<_>)| !list.is_empty())
        .collect()
}

/// The forms in the groups the person page lists them under; every form of
/// [`FORMS`] is in exactly one group (a test checks).
pub fn groups() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let group_of = |form: &str| match form {
        "referral" | "close-referral" | "drug-test" | "screening" | "assessment"
        | "onward-referral" => "Referral and assessment",
        "appointment" | "reschedule-appointment" | "appointment-outcome" => "Appointments",
        "keyworker" | "induction" | "care-plan" | "care-plan-review" | "top" | "intervention"
        | "session" | "sentence-plan" | "exclusion" => "Recovery care",
        "clinical" | "bbv" | "naloxone" | "drug-intelligence" => "Clinical and harm reduction",
        "consent" | "withdraw-consent" | "share-care-plan" => "Consent and sharing",
        "reception" | "transfer" | "transfer-request-answer" | "release" | "expected-release" => {
            "Custody"
        }
        other if crate::release_forms::handles(other) => "Release and after",
        _ => "Corrections",
    };
    let mut out: Vec<(&'static str, Vec<(&'static str, &'static str)>)> = Vec::new();
    for (form, title) in FORMS {
        let g = group_of(form);
        match out.iter_mut().find(|(name, _)| *name == g) {
            Some((_, list)) => list.push((form, title)),
            None => out.push((g, vec![(form, title)])),
        }
    }
    out
}

/// The title of a form, if the form exists.
pub fn title(form: &str) -> Option<&'static str> {
    FORMS.iter().find(|(f, _)| *f == form).map(|(_, t)| *t)
}

pub(crate) fn s(x: &str) -> String {
    x.to_string()
}

pub(crate) fn yes_no_options() -> Vec<(String, String)> {
    vec![(s("yes"), s("Yes")), (s("no"), s("No"))]
}

pub(crate) fn text(f: &FormData, name: &str, label: &str, hint: &str) -> Field {
    Field::Text {
        name: s(name),
        label: s(label),
        hint: s(hint),
        value: s(f.get(name)),
    }
}

pub(crate) fn area(f: &FormData, name: &str, label: &str) -> Field {
    Field::TextArea {
        name: s(name),
        label: s(label),
        value: s(f.get(name)),
    }
}

pub(crate) fn date(f: &FormData, name: &str, legend: &str) -> Field {
    Field::Date {
        name: s(name),
        legend: s(legend),
        day: s(f.get(&format!("{name}-day"))),
        month: s(f.get(&format!("{name}-month"))),
        year: s(f.get(&format!("{name}-year"))),
    }
}

pub(crate) fn datetime(f: &FormData, name: &str, legend: &str) -> Field {
    Field::DateTime {
        name: s(name),
        legend: s(legend),
        day: s(f.get(&format!("{name}-day"))),
        month: s(f.get(&format!("{name}-month"))),
        year: s(f.get(&format!("{name}-year"))),
        time: s(f.get(&format!("{name}-time"))),
    }
}

pub(crate) fn radios(
    f: &FormData,
    name: &str,
    legend: &str,
    options: Vec<(String, String)>,
) -> Field {
    Field::Radios {
        name: s(name),
        legend: s(legend),
        options,
        selected: s(f.get(name)),
    }
}

pub(crate) fn select(
    f: &FormData,
    name: &str,
    label: &str,
    options: Vec<(String, String)>,
) -> Field {
    Field::Select {
        name: s(name),
        label: s(label),
        options,
        selected: s(f.get(name)),
    }
}

pub(crate) fn code_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub(crate) fn from_code<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(code.to_string())).ok()
}

pub(crate) fn date_label(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// Default values for a new form: today's date in every date field.
pub fn defaults(form: &str, today: NaiveDate) -> FormData {
    let names: &[&str] = match form {
        "referral" => &["referred_on"],
        "drug-test" => &["sampled_on"],
        "close-referral" => &["closed_on"],
        "appointment" => &["at"],
        "screening" => &["screened_on"],
        "assessment" => &["assessed_on"],
        "consent" => &["decided_on"],
        "withdraw-consent" => &["withdrawn_on"],
        "onward-referral" => &["referred_on"],
        "reception" | "transfer" | "release" => &["moved_at"],
        other if crate::release_forms::handles(other) => crate::release_forms::date_fields(other),
        other => crate::care_forms::date_fields(other),
    };
    let mut pairs = Vec::new();
    for n in names {
        pairs.push((format!("{n}-day"), today.format("%-d").to_string()));
        pairs.push((format!("{n}-month"), today.format("%-m").to_string()));
        pairs.push((format!("{n}-year"), today.format("%Y").to_string()));
    }
    FormData::from_pairs(pairs)
}

/// What a form shows, filled with the values submitted so far.
pub fn spec(form: &str, case: &Case, profile: &Profile, f: &FormData) -> Option<FormSpec> {
    let mut fields = Vec::new();
    match form {
        "referral" => {
            fields.push(radios(
                f,
                "source",
                "Where did the referral come from?",
                ReferralSource::ALL
                    .iter()
                    .map(|r| (s(r.code()), s(r.label())))
                    .collect(),
            ));
            fields.push(date(f, "referred_on", "Date of referral"));
            fields.push(area(f, "note", "Reason or note (optional)"));
        }
        "close-referral" => {
            fields.push(select(f, "referral", "Referral", open_referrals(case)));
            fields.push(radios(
                f,
                "reason",
                "Why is it closed?",
                ReferralClosureReason::ALL
                    .iter()
                    .map(|r| (code_of(r), s(r.label())))
                    .collect(),
            ));
            fields.push(date(f, "closed_on", "Date closed"));
            fields.push(area(f, "note", "Note (optional)"));
        }
        "appointment" => {
            let mut refs = vec![(s(""), s("Not for a referral"))];
            refs.extend(open_referrals(case));
            fields.push(select(
                f,
                "referral",
                "Referral the appointment answers",
                refs,
            ));
            fields.push(datetime(f, "at", "Date and time of the appointment"));
            fields.push(text(
                f,
                "worker",
                "Worker (optional)",
                "Their staff username, like j.smith: the appointment shows in their diary",
            ));
            fields.push(text(
                f,
                "clinic",
                "Clinic or room (optional)",
                "The appointment shows on the clinic's list",
            ));
            fields.push(text(
                f,
                "purpose",
                "What it is for (optional)",
                "For example keyworking, or a clinic review",
            ));
        }
        "merge" => {
            fields.push(text(
                f,
                "prison_number",
                "Prison number of the duplicate record",
                "Its whole history joins this record; nothing is lost, and the number stays findable",
            ));
        }
        "drug-test" => {
            fields.push(text(
                f,
                "test_ref",
                "Test reference",
                "The testing system's reference for this test",
            ));
            fields.push(radios(
                f,
                "reason",
                "Why was the test taken?",
                vec![
                    (s("reception"), s("Reception")),
                    (s("random"), s("Random")),
                    (s("suspicion"), s("Suspicion")),
                    (s("clinical"), s("Clinical")),
                ],
            ));
            fields.push(date(f, "sampled_on", "Date of the sample"));
            fields.push(radios(
                f,
                "result",
                "Confirmed result",
                vec![
                    (s("positive"), s("Positive")),
                    (s("negative"), s("Negative")),
                ],
            ));
            fields.push(text(
                f,
                "substances",
                "Substances found (optional)",
                "Separate with semicolons",
            ));
        }
        "appointment-outcome" => {
            let open: Vec<(String, String)> = case
                .appointments
                .iter()
                .filter(|a| a.outcome.is_none())
                .map(|a| {
                    (
                        a.id.to_string(),
                        a.offer
                            .at
                            .with_timezone(&chrono_tz::Europe::London)
                            .format("%-d %B %Y at %H:%M")
                            .to_string(),
                    )
                })
                .collect();
            fields.push(select(f, "appointment", "Appointment", open));
            fields.push(radios(
                f,
                "outcome",
                "What happened?",
                [
                    AppointmentOutcomeKind::Attended,
                    AppointmentOutcomeKind::Missed,
                    AppointmentOutcomeKind::Declined,
                    AppointmentOutcomeKind::CancelledByPrison,
                    AppointmentOutcomeKind::CancelledByService,
                ]
                .iter()
                .map(|o| (code_of(o), s(o.label())))
                .collect(),
            ));
            fields.push(area(
                f,
                "note",
                "Note, such as the reason given for declining (optional)",
            ));
        }
        "screening" => {
            fields.push(radios(
                f,
                "setting",
                "Where was the screening?",
                vec![
                    (s("reception"), s("At reception")),
                    (s("on_referral"), s("After a referral")),
                ],
            ));
            fields.push(date(f, "screened_on", "Date of screening"));
            fields.push(Field::Heading(s("Alcohol: AUDIT (leave blank if not asked; answer the first three only for AUDIT-C)")));
            for (i, label) in AUDIT_ITEM_LABELS.iter().enumerate() {
                let mut options = vec![(s(""), s("Not asked"))];
                options.extend(
                    audit_item_options(i + 1)
                        .iter()
                        .map(|(score, l)| (score.to_string(), s(l))),
                );
                fields.push(select(
                    f,
                    &format!("audit_{}", i + 1),
                    &format!("{}. {}", i + 1, label),
                    options,
                ));
            }
            fields.push(Field::Heading(s("Substances")));
            let mut subs = vec![(s(""), s("None"))];
            subs.extend(Substance::ALL.iter().map(|x| (x.code(), s(x.label()))));
            for (n, label) in [
                ("problem_1", "Primary problem substance"),
                ("problem_2", "Secondary problem substance"),
                ("problem_3", "Tertiary problem substance"),
            ] {
                fields.push(select(f, n, label, subs.clone()));
            }
            fields.push(radios(
                f,
                "injecting",
                "Injecting status",
                vec![
                    (s("current"), s("Currently injecting")),
                    (s("previous"), s("Previously injected")),
                    (s("never"), s("Never injected")),
                    (s("not_stated"), s("Not stated")),
                ],
            ));
            fields.push(radios(
                f,
                "offending_linked",
                "Is their offending linked to their substance use?",
                yes_no_options(),
            ));
            fields.push(radios(
                f,
                "structured_treatment_needed",
                "Is structured treatment needed?",
                yes_no_options(),
            ));
        }
        "assessment" => {
            fields.push(radios(
                f,
                "kind",
                "Which assessment?",
                vec![
                    (s("initial"), s("Initial assessment")),
                    (s("comprehensive"), s("Comprehensive assessment (KM 3.3)")),
                ],
            ));
            fields.push(date(f, "assessed_on", "Date of assessment"));
            let mut refs = vec![(s(""), s("The earliest referral not yet assessed"))];
            refs.extend(case.referrals.iter().map(|r| {
                (
                    r.id.to_string(),
                    format!(
                        "{} – {}",
                        date_label(r.referral.referred_on),
                        r.referral.source.label()
                    ),
                )
            }));
            fields.push(select(
                f,
                "referral",
                "Referral this assessment answers",
                refs,
            ));
            fields.push(area(f, "summary", "Summary"));
            fields.push(radios(
                f,
                "structured_treatment_needed",
                "Is structured treatment needed?",
                yes_no_options(),
            ));
            fields.push(Field::Heading(s(
                "Comprehensive assessment only (KM 3.3.1–3.3.8)",
            )));
            fields.push(area(
                f,
                "needs_and_goals",
                "Immediate and long-term needs and goals (KM 3.3.1)",
            ));
            fields.push(text(
                f,
                "children_in_care",
                "Children in the person's care before custody",
                "A number, 0 if none",
            ));
            fields.push(radios(
                f,
                "child_protection_plan",
                "Is any child subject to a child protection plan?",
                yes_no_options(),
            ));
            fields.push(radios(
                f,
                "parenting_support_needed",
                "Is parenting support needed?",
                yes_no_options(),
            ));
            fields.push(area(
                f,
                "family_notes",
                "Family issues bearing on recovery (KM 3.3.2)",
            ));
            fields.push(area(
                f,
                "other_agencies",
                "Other agencies involved, one per line (KM 3.3.3)",
            ));
            fields.push(Field::Checkboxes {
                name: s("onward"),
                legend: s("Referrals made to other services (KM 3.3.4)"),
                options: OnwardService::ALL
                    .iter()
                    .map(|o| (s(o.code()), s(o.label())))
                    .collect(),
                selected: f.all("onward"),
            });
            fields.push(Field::Checkboxes {
                name: s("information_handling_explained"),
                legend: s("Information handling (KM 3.3.5)"),
                options: vec![(s("yes"), s("The person has read and understood how information about them is handled and shared"))],
                selected: f.all("information_handling_explained"),
            });
            fields.push(radios(
                f,
                "ndtms_consent",
                "Does the person consent to NDTMS submission? (KM 3.3.6)",
                yes_no_options(),
            ));
            let risks: Vec<(String, String)> = [
                RiskLevel::None,
                RiskLevel::Low,
                RiskLevel::Medium,
                RiskLevel::High,
            ]
            .iter()
            .map(|r| (code_of(r), s(r.label())))
            .collect();
            fields.push(radios(
                f,
                "risk_of_self_harm",
                "Risk of self-harm (KM 3.3.7)",
                risks.clone(),
            ));
            fields.push(radios(
                f,
                "risk_to_others",
                "Risk of harm to others (KM 3.3.7)",
                risks,
            ));
            fields.push(radios(
                f,
                "existing_risk_management_plans",
                "Are risk management plans already in place? (KM 3.3.8)",
                yes_no_options(),
            ));
            fields.push(area(
                f,
                "risk_management_plan",
                "Risk management plan (KM 3.3.8)",
            ));
            fields.push(radios(
                f,
                "complex_needs",
                "Does the person have complex needs?",
                yes_no_options(),
            ));
        }
        "consent" => {
            fields.push(radios(
                f,
                "purpose",
                "What is the consent for?",
                purposes(ConsentPurpose::ALL.iter().copied()),
            ));
            fields.push(radios(
                f,
                "decision",
                "The person's decision",
                vec![
                    (s("given"), s("Consent given")),
                    (s("refused"), s("Consent refused")),
                ],
            ));
            fields.push(date(f, "decided_on", "Date of the decision"));
        }
        "withdraw-consent" => {
            let given = case
                .consents
                .iter()
                .filter(|(_, st)| matches!(st, ConsentState::Given { .. }))
                .map(|(p, _)| p);
            fields.push(radios(
                f,
                "purpose",
                "Which consent is withdrawn?",
                purposes(given),
            ));
            fields.push(date(f, "withdrawn_on", "Date withdrawn"));
        }
        "onward-referral" => {
            fields.push(radios(
                f,
                "to",
                "Referred to",
                OnwardService::ALL
                    .iter()
                    .map(|o| (s(o.code()), s(o.label())))
                    .collect(),
            ));
            fields.push(date(f, "referred_on", "Date of referral"));
            fields.push(area(f, "reason", "Reason (optional)"));
        }
        "reception" => {
            fields.push(radios(
                f,
                "reception_type",
                "Reception type",
                [
                    ReceptionType::Remand,
                    ReceptionType::Sentenced,
                    ReceptionType::Recall,
                    ReceptionType::ImmigrationDetainee,
                ]
                .iter()
                .map(|r| (code_of(r), s(r.label())))
                .collect(),
            ));
            fields.push(datetime(f, "moved_at", "Date and time of reception"));
        }
        "transfer" => {
            fields.push(select(
                f,
                "to",
                "Transferred to",
                profile
                    .establishments
                    .iter()
                    .map(|e| (s(e.code.as_str()), e.name.clone()))
                    .collect(),
            ));
            fields.push(datetime(f, "moved_at", "Date and time of transfer"));
        }
        "release" => {
            fields.push(radios(
                f,
                "kind",
                "How did the person leave?",
                vec![
                    (s("released"), s("Released")),
                    (s("deported"), s("Deported or removed")),
                ],
            ));
            fields.push(datetime(f, "moved_at", "Date and time of release"));
        }
        "expected-release" => {
            fields.push(date(f, "date", "Expected release date"));
        }
        "transfer-request-answer" => {
            fields.push(select(
                f,
                "request",
                "Request",
                case.transfer_requests
                    .iter()
                    .filter(|r| r.is_open())
                    .map(|r| {
                        (
                            r.id.to_string(),
                            format!(
                                "{} – {} asks: {}",
                                date_label(r.requested_on),
                                profile
                                    .establishment(&r.to)
                                    .map(|e| e.name.clone())
                                    .unwrap_or_else(|| r.to.to_string()),
                                r.reason
                            ),
                        )
                    })
                    .collect(),
            ));
            fields.push(radios(
                f,
                "accepted",
                "Transfer the record?",
                vec![
                    (s("yes"), s("Yes: record the transfer out now")),
                    (s("no"), s("No: decline the request")),
                ],
            ));
            fields.push(area(
                f,
                "note",
                "Note for the establishment that asked (optional)",
            ));
        }
        "entered-in-error" => {
            let effective: Vec<(String, String)> = case
                .history
                .iter()
                .filter(|e| {
                    case.is_effective(e) && !matches!(e.kind, EventKind::PersonRegistered(_))
                })
                .map(|e| {
                    (
                        e.id.to_string(),
                        format!(
                            "{} – {}",
                            date_label(local_date(e.occurred_at)),
                            crate::timeline::describe(&e.kind)
                        ),
                    )
                })
                .collect();
            fields.push(select(f, "target", "Entry", effective));
            fields.push(area(f, "reason", "Why is it in error?"));
        }
        other if crate::release_forms::handles(other) => {
            fields.extend(crate::release_forms::fields(other, case, profile, f)?)
        }
        other => fields.extend(crate::care_forms::fields(other, case, profile, f)?),
    }
    if !f.get("supersedes").is_empty() && form != "entered-in-error" {
        fields.push(Field::Heading(s("Correction")));
        fields.push(area(f, "reason", "Why is this being corrected?"));
    }
    Some(FormSpec {
        title: title(form)?.to_string(),
        fields,
    })
}

fn open_referrals(case: &Case) -> Vec<(String, String)> {
    case.referrals
        .iter()
        .filter(|r| r.is_open())
        .map(|r| {
            (
                r.id.to_string(),
                format!(
                    "{} – {}",
                    date_label(r.referral.referred_on),
                    r.referral.source.label()
                ),
            )
        })
        .collect()
}

fn purposes(list: impl Iterator<Item = ConsentPurpose>) -> Vec<(String, String)> {
    list.map(|p| (s(p.code()), s(p.label()))).collect()
}

/// A parsed form: the command, and the establishment it is recorded at.
pub struct Parsed {
    /// The command for the domain.
    pub command: Command,
    /// Where it is recorded (a transfer by the establishment the person leaves).
    pub establishment: Option<EstablishmentCode>,
}

/// Turns a submitted form into a command, or field messages. The profile gives the
/// intervention catalogue and the default review intervals.
pub fn parse(
    form: &str,
    case: &Case,
    profile: &Profile,
    f: &FormData,
) -> Result<Parsed, FormErrors> {
    let mut e = FormErrors::default();
    let mut establishment = None;
    let mut occurred_at = None;
    let kind: Option<EventKind> = match form {
        "referral" => {
            let source = f.choice(
                "source",
                "Select where the referral came from",
                &mut e,
                ReferralSource::from_code,
            );
            let on = f.date("referred_on", "Date of referral", &mut e);
            match (source, on) {
                (Some(source), Some(referred_on)) => Some(EventKind::ReferralMade(Referral {
                    source,
                    referred_on,
                    note: f.optional("note"),
                })),
                _ => None,
            }
        }
        "close-referral" => {
            let referral = f.choice("referral", "Select the referral", &mut e, EventId::parse);
            let reason = f.choice(
                "reason",
                "Select why the referral is closed",
                &mut e,
                from_code::<ReferralClosureReason>,
            );
            let on = f.date("closed_on", "Date closed", &mut e);
            match (referral, reason, on) {
                (Some(referral), Some(reason), Some(closed_on)) => {
                    Some(EventKind::ReferralClosed(ReferralClosure {
                        referral,
                        reason,
                        closed_on,
                        note: f.optional("note"),
                    }))
                }
                _ => None,
            }
        }
        "appointment" => {
            let on = f.date("at", "Date of the appointment", &mut e);
            let time = f.time("at", "Time of the appointment", &mut e);
            let worker = match f.optional("worker") {
                None => Some(None),
                Some(w) => match StaffUsername::parse(&w) {
                    Ok(w) => Some(Some(w)),
                    Err(_) => {
                        e.add("worker", STAFF_USERNAME_MESSAGE);
                        None
                    }
                },
            };
            match (on, time, worker) {
                (Some(d), Some(t), Some(worker)) => {
                    Some(EventKind::AppointmentOffered(AppointmentOffer {
                        referral: EventId::parse(f.get("referral")),
                        at: local_instant(d, t),
                        worker,
                        clinic: f.optional("clinic"),
                        purpose: f.optional("purpose"),
                    }))
                }
                _ => None,
            }
        }
        "drug-test" => {
            let test_ref = f.required("test_ref", "Enter the test reference", &mut e);
            let reason = f.choice(
                "reason",
                "Select why the test was taken",
                &mut e,
                DrugTestReason::from_code,
            );
            let on = f.date("sampled_on", "Date of the sample", &mut e);
            let positive = f.choice(
                "result",
                "Select the confirmed result",
                &mut e,
                |v| match v {
                    "positive" => Some(true),
                    "negative" => Some(false),
                    _ => None,
                },
            );
            match (test_ref, reason, on, positive) {
                (Some(test_ref), Some(reason), Some(sampled_on), Some(positive)) => {
                    Some(EventKind::DrugTestResulted(DrugTestResult {
                        test_ref,
                        reason,
                        sampled_on,
                        confirmed_on: None,
                        positive,
                        substances: f
                            .get("substances")
                            .split(';')
                            .map(str::trim)
                            .filter(|x| !x.is_empty())
                            .map(str::to_string)
                            .collect(),
                    }))
                }
                _ => None,
            }
        }
        "appointment-outcome" => {
            let appointment = f.choice(
                "appointment",
                "Select the appointment",
                &mut e,
                EventId::parse,
            );
            let outcome = f.choice(
                "outcome",
                "Select what happened",
                &mut e,
                from_code::<AppointmentOutcomeKind>,
            );
            match (appointment, outcome) {
                (Some(appointment), Some(outcome)) => {
                    Some(EventKind::AppointmentOutcomeRecorded(AppointmentOutcome {
                        appointment,
                        outcome,
                        note: f.optional("note"),
                    }))
                }
                _ => None,
            }
        }
        "screening" => parse_screening(f, &mut e),
        "assessment" => parse_assessment(f, &mut e),
        "consent" => {
            let purpose = f.choice(
                "purpose",
                "Select what the consent is for",
                &mut e,
                ConsentPurpose::from_code,
            );
            let decision = f.choice(
                "decision",
                "Select the person's decision",
                &mut e,
                from_code::<ConsentDecision>,
            );
            let on = f.date("decided_on", "Date of the decision", &mut e);
            match (purpose, decision, on) {
                (Some(purpose), Some(decision), Some(decided_on)) => {
                    Some(EventKind::ConsentRecorded(ConsentRecord {
                        purpose,
                        decision,
                        decided_on,
                    }))
                }
                _ => None,
            }
        }
        "withdraw-consent" => {
            let purpose = f.choice(
                "purpose",
                "Select which consent is withdrawn",
                &mut e,
                ConsentPurpose::from_code,
            );
            let on = f.date("withdrawn_on", "Date withdrawn", &mut e);
            match (purpose, on) {
                (Some(purpose), Some(withdrawn_on)) => {
                    Some(EventKind::ConsentWithdrawn(ConsentWithdrawal {
                        purpose,
                        withdrawn_on,
                    }))
                }
                _ => None,
            }
        }
        "onward-referral" => {
            let to = f.choice("to", "Select the service referred to", &mut e, |c| {
                OnwardService::ALL.into_iter().find(|o| o.code() == c)
            });
            let on = f.date("referred_on", "Date of referral", &mut e);
            match (to, on) {
                (Some(to), Some(referred_on)) => {
                    Some(EventKind::OnwardReferralMade(OnwardReferral {
                        to,
                        referred_on,
                        reason: f.optional("reason"),
                    }))
                }
                _ => None,
            }
        }
        "reception" | "transfer" | "release" => {
            let on = f.date("moved_at", "Date", &mut e);
            let time = if f.get("moved_at-time").is_empty() {
                Some(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN))
            } else {
                f.time("moved_at", "Time", &mut e)
            };
            if let (Some(d), Some(t)) = (on, time) {
                occurred_at = Some(local_instant(d, t));
            }
            match form {
                "reception" => f
                    .choice(
                        "reception_type",
                        "Select the reception type",
                        &mut e,
                        from_code::<ReceptionType>,
                    )
                    .map(|reception_type| {
                        EventKind::Received(Reception {
                            reception_type,
                            source_ref: None,
                        })
                    }),
                "transfer" => {
                    let to = f.choice(
                        "to",
                        "Select the establishment transferred to",
                        &mut e,
                        |c| EstablishmentCode::parse(c).ok(),
                    );
                    // Recorded by the establishment the person leaves (REQUIREMENTS §10).
                    let from = case.establishment().cloned();
                    establishment = from.clone();
                    match (to, from) {
                        (Some(to), Some(from)) => Some(EventKind::Transferred(Transfer {
                            from,
                            to,
                            source_ref: None,
                            break_glass: None,
                        })),
                        _ => None,
                    }
                }
                _ => f
                    .choice(
                        "kind",
                        "Select how the person left",
                        &mut e,
                        from_code::<ReleaseKind>,
                    )
                    .map(|kind| {
                        EventKind::Released(Release {
                            kind,
                            source_ref: None,
                        })
                    }),
            }
        }
        "expected-release" => f
            .date("date", "Expected release date", &mut e)
            .map(|d| EventKind::ExpectedReleaseSet(ExpectedRelease { date: Some(d) })),
        "transfer-request-answer" => {
            let request = f.choice("request", "Select the request", &mut e, EventId::parse);
            let accepted = f.choice(
                "accepted",
                "Select whether to transfer the record",
                &mut e,
                |c| match c {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                },
            );
            match (request, accepted) {
                (Some(request), Some(accepted)) => Some(EventKind::TransferRequestAnswered(
                    throughcare_domain::custody::TransferRequestAnswer {
                        request,
                        accepted,
                        note: f.optional("note"),
                    },
                )),
                _ => None,
            }
        }
        "entered-in-error" => {
            let target = f.choice("target", "Select the entry", &mut e, EventId::parse);
            let reason = f.required("reason", "Enter why the entry is in error", &mut e);
            if let (Some(target), Some(reason)) = (target, reason) {
                return Ok(Parsed {
                    command: Command::EnterInError { target, reason },
                    establishment: None,
                });
            }
            None
        }
        other if crate::care_forms::handles(other) => {
            crate::care_forms::parse(other, case, profile, f, &mut e)
        }
        other if crate::release_forms::handles(other) => {
            crate::release_forms::parse(other, case, profile, f, &mut e)
        }
        _ => {
            e.add("form", "No such form");
            None
        }
    };
    let supersedes = EventId::parse(f.get("supersedes"));
    if supersedes.is_some() && f.get("reason").is_empty() {
        e.add("reason", "Enter why this is being corrected");
    }
    match kind {
        Some(kind) if e.is_empty() => Ok(Parsed {
            command: match supersedes {
                Some(target) => Command::Correct {
                    target,
                    reason: f.get("reason").to_string(),
                    kind,
                },
                None => Command::Record {
                    occurred_at,
                    recorded_at: None,
                    kind,
                },
            },
            establishment,
        }),
        _ => Err(e),
    }
}

fn parse_screening(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let setting = f.choice(
        "setting",
        "Select where the screening took place",
        e,
        from_code::<ScreeningSetting>,
    );
    let on = f.date("screened_on", "Date of screening", e);
    let answers: Vec<Option<u8>> = (1..=10)
        .map(|i| f.get(&format!("audit_{i}")).parse::<u8>().ok())
        .collect();
    let answered = answers.iter().filter(|a| a.is_some()).count();
    let (mut audit, mut audit_c) = (None, None);
    if answered == 10 {
        let items: [u8; 10] = std::array::from_fn(|i| answers[i].unwrap_or(0));
        match AuditAnswers::new(items) {
            Ok(a) => audit = Some(a),
            Err(err) => e.add("audit_1", err.to_string()),
        }
    } else if answered == 3 && answers[..3].iter().all(Option::is_some) {
        match AuditCAnswers::new([
            answers[0].unwrap_or(0),
            answers[1].unwrap_or(0),
            answers[2].unwrap_or(0),
        ]) {
            Ok(a) => audit_c = Some(a),
            Err(err) => e.add("audit_1", err.to_string()),
        }
    } else if answered != 0 {
        e.add(
            "audit_1",
            "Answer all ten AUDIT questions, or only the first three for AUDIT-C",
        );
    }
    let problem_substances: Vec<Substance> = ["problem_1", "problem_2", "problem_3"]
        .iter()
        .filter_map(|n| Substance::from_code(f.get(n)))
        .collect();
    let injecting = f.choice(
        "injecting",
        "Select the injecting status",
        e,
        from_code::<InjectingStatus>,
    );
    let linked = f.yes_no(
        "offending_linked",
        "Select whether offending is linked to substance use",
        e,
    );
    let needed = f.yes_no(
        "structured_treatment_needed",
        "Select whether structured treatment is needed",
        e,
    );
    Some(EventKind::ScreeningCompleted(Screening {
        setting: setting?,
        screened_on: on?,
        audit,
        audit_c,
        problem_substances,
        injecting: injecting?,
        offending_linked: linked?,
        structured_treatment_needed: needed?,
    }))
}

fn parse_assessment(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let kind = f.choice(
        "kind",
        "Select which assessment",
        e,
        from_code::<AssessmentKind>,
    );
    let on = f.date("assessed_on", "Date of assessment", e);
    let summary = f.required("summary", "Enter a summary of the assessment", e);
    let needed = f.yes_no(
        "structured_treatment_needed",
        "Select whether structured treatment is needed",
        e,
    );
    let referral = EventId::parse(f.get("referral"));
    let comprehensive = if kind == Some(AssessmentKind::Comprehensive) {
        let children = match f.get("children_in_care") {
            "" => Some(0),
            v => match v.parse::<u8>() {
                Ok(n) => Some(n),
                Err(_) => {
                    e.add(
                        "children_in_care",
                        "Children in care must be a whole number, like 0 or 2",
                    );
                    None
                }
            },
        };
        let cpp = f.yes_no(
            "child_protection_plan",
            "Select whether any child has a child protection plan",
            e,
        );
        let parenting = f.yes_no(
            "parenting_support_needed",
            "Select whether parenting support is needed",
            e,
        );
        let ndtms = f.yes_no(
            "ndtms_consent",
            "Select whether the person consents to NDTMS submission",
            e,
        );
        let self_harm = f.choice(
            "risk_of_self_harm",
            "Select the risk of self-harm",
            e,
            from_code::<RiskLevel>,
        );
        let others = f.choice(
            "risk_to_others",
            "Select the risk of harm to others",
            e,
            from_code::<RiskLevel>,
        );
        let existing = f.yes_no(
            "existing_risk_management_plans",
            "Select whether risk management plans are in place",
            e,
        );
        let complex = f.yes_no(
            "complex_needs",
            "Select whether the person has complex needs",
            e,
        );
        Some(ComprehensiveItems {
            needs_and_goals: f.get("needs_and_goals").to_string(),
            family: FamilyIssues {
                children_in_care: children?,
                child_protection_plan: cpp?,
                parenting_support_needed: parenting?,
                notes: f.get("family_notes").to_string(),
            },
            other_agencies: f
                .get("other_agencies")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            onward_referrals: f
                .all("onward")
                .iter()
                .filter_map(|c| OnwardService::ALL.into_iter().find(|o| o.code() == c))
                .collect(),
            information_handling_explained: f.ticked("information_handling_explained"),
            ndtms_consent: ndtms?,
            risk_of_self_harm: self_harm?,
            risk_to_others: others?,
            existing_risk_management_plans: existing?,
            risk_management_plan: f.get("risk_management_plan").to_string(),
            complex_needs: complex?,
        })
    } else {
        None
    };
    Some(EventKind::AssessmentCompleted(Assessment {
        kind: kind?,
        assessed_on: on?,
        referral,
        summary: summary?,
        structured_treatment_needed: needed?,
        comprehensive,
    }))
}

/// The problems the domain reported, each moved to the form's own field where the
/// form names it otherwise than the domain does (a treatment exit's `reason` is the
/// form's `exit_reason`: a form's `reason` is the reason for a correction).
pub fn on_form_fields(form: &str, mut errors: FormErrors) -> FormErrors {
    for e in &mut errors.errors {
        if let Some(field) = crate::release_forms::form_field(form, &e.field) {
            e.field = field.to_string();
        }
    }
    errors
}

/// Today's local date.
pub fn today() -> NaiveDate {
    local_date(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_in_exactly_one_group_and_merge_is_under_corrections() {
        let groups = groups();
        let listed: Vec<&str> = groups
            .iter()
            .flat_map(|(_, l)| l.iter().map(|(f, _)| *f))
            .collect();
        assert_eq!(listed.len(), FORMS.len());
        for (form, _) in FORMS {
            assert_eq!(listed.iter().filter(|f| **f == form).count(), 1, "{form}");
        }
        let corrections = groups.iter().find(|(g, _)| *g == "Corrections").unwrap();
        let names: Vec<&str> = corrections.1.iter().map(|(f, _)| *f).collect();
        assert_eq!(names, ["entered-in-error", "merge"]);
    }
}

/// Helpers for the form modules' tests: a submission parsed against the Kent and
/// Medway profile, the fact it records, or the message on one field.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{Parsed, parse};
    use crate::chrome::FormErrors;
    use crate::form_data::Post;
    use throughcare_domain::case::Case;
    use throughcare_domain::decide::Command;
    use throughcare_domain::events::EventKind;
    use throughcare_domain::profile::Profile;

    /// The submission parsed.
    pub(crate) fn parsed(form: &str, case: &Case, post: &Post) -> Result<Parsed, FormErrors> {
        let profile = Profile::builtin("kent-medway").expect("the built-in profile");
        parse(form, case, &profile, &post.data())
    }

    /// The fact a valid submission records.
    pub(crate) fn kind(form: &str, case: &Case, post: &Post) -> EventKind {
        match parsed(form, case, post) {
            Ok(Parsed {
                command: Command::Record { kind, .. },
                ..
            }) => kind,
            Ok(Parsed { command, .. }) => panic!("{form}: not a new fact: {command:?}"),
            Err(e) => panic!("{form}: {:?}", e.errors),
        }
    }

    /// The message on `field` of an invalid submission.
    pub(crate) fn message(form: &str, case: &Case, post: &Post, field: &str) -> String {
        match parsed(form, case, post) {
            Ok(_) => panic!("{form}: accepted"),
            Err(e) => e
                .for_field(field)
                .unwrap_or_else(|| panic!("{form}: no message on {field}: {:?}", e.errors))
                .to_string(),
        }
    }
}
