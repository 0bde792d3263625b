//! The staff forms for recovery care (S4 §4; KM 3.4–3.9, 4.9, 4.26, 5.17): the care
//! plan and its reviews, the induction, the Treatment Outcomes Profile, intervention
//! steps and sessions, the clinical pathway, blood-borne viruses, naloxone, drug
//! intelligence, moving an appointment, sentence plans, the keyworker, exclusions and
//! sharing the care plan.
//!
//! `forms` lists these forms and hands them here. Like every form, each one corrects
//! an earlier entry of its kind when `supersedes` and a `reason` are posted (handled
//! in `forms::parse`). Fields are checked for their shape here (a date, a whole
//! number, one of a list); the rules are the domain's (`decide`), whose messages
//! come back to the same field names.

use chrono::{Duration, NaiveDate};
use throughcare_domain::case::{AppointmentState, Case, Course};
use throughcare_domain::clinical::{
    BbvStep, BloodBorneVirusRecord, ClinicalEvent, ClinicalStep, DetoxScope, DetoxSubstance,
    DrugIntelligence, IntelligenceAction, IntelligenceConcern, Medication, NaloxoneRecipient,
    NaloxoneRecord, TestResult, Virus,
};
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::StaffUsername;
use throughcare_domain::interventions::{
    InterventionStatus, InterventionTarget, InterventionUpdate, MutualAidKind, SessionAttended,
    SessionKind,
};
use throughcare_domain::outcomes::{
    SubstanceUse, TopStage, TopSubstance, TreatmentOutcomesProfile,
};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::EventId;
use throughcare_domain::recovery::{
    CarePlan, CarePlanReview, ContingencyPlan, ExclusionGrounds, Induction, InductionItem,
    InductionTick, KeyworkerAllocation, SentencePlanContribution, ServiceExclusion,
};
use throughcare_domain::referrals::AppointmentReschedule;
use throughcare_domain::sharing::{Disclosure, Recipient, SharingBasis};
use throughcare_domain::time::local_instant;

use crate::chrome::FormErrors;
use crate::form_data::FormData;
use crate::forms::{
    Field, STAFF_USERNAME_MESSAGE, area, date, date_label, datetime, radios, s, select, text,
    yes_no_options,
};

/// The forms this module provides, by the name in their URL (their titles are in
/// `forms::FORMS`).
pub const NAMES: [&str; 15] = [
    "care-plan",
    "care-plan-review",
    "induction",
    "top",
    "intervention",
    "session",
    "clinical",
    "bbv",
    "naloxone",
    "drug-intelligence",
    "reschedule-appointment",
    "sentence-plan",
    "keyworker",
    "exclusion",
    "share-care-plan",
];

/// Whether `form` is one of this module's forms.
pub fn handles(form: &str) -> bool {
    NAMES.contains(&form)
}

/// The date fields that start with today's date on a new form. Optional dates that
/// default to something else when left blank (review dates, an exclusion's end) start
/// blank.
pub fn date_fields(form: &str) -> &'static [&'static str] {
    match form {
        "care-plan" => &["agreed_on"],
        "care-plan-review" => &["reviewed_on"],
        "induction" => &["inducted_on"],
        "top" => &["completed_on"],
        "intervention" | "session" | "bbv" | "naloxone" => &["on"],
        "clinical" | "reschedule-appointment" => &["at"],
        "drug-intelligence" => &["received_on"],
        "sentence-plan" => &["contributed_on"],
        "keyworker" => &["allocated_on"],
        "exclusion" => &["excluded_on"],
        "share-care-plan" => &["shared_on"],
        _ => &[],
    }
}

/// `(code, label)` options for every value of a labelled list.
macro_rules! options {
    ($t:ty) => {
        <$t>::ALL
            .iter()
            .map(|v| (v.code().to_string(), v.label().to_string()))
            .collect::<Vec<(String, String)>>()
    };
}

/// Whether the form corrects an earlier entry: its lists then also offer the ended
/// courses and the appointments with an outcome, which the entry may name.
fn correcting(f: &FormData) -> bool {
    !f.get("supersedes").is_empty()
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y at %H:%M")
        .to_string()
}

fn appointment_label(a: &AppointmentState) -> String {
    let mut label = when(a.offer.at);
    if let Some(p) = &a.offer.purpose {
        label.push_str(&format!(" – {p}"));
    }
    if let Some(c) = &a.offer.clinic {
        label.push_str(&format!(" ({c})"));
    }
    label
}

/// The appointments a form may name: those without an outcome (all, in a correction).
fn appointments(case: &Case, f: &FormData) -> Vec<(String, String)> {
    let all = correcting(f);
    case.appointments
        .iter()
        .filter(|a| all || a.outcome.is_none())
        .map(|a| (a.id.to_string(), appointment_label(a)))
        .collect()
}

/// A course labelled by its intervention's name and its first step's date.
fn course_label(c: &Course, profile: &Profile) -> String {
    let name = profile
        .intervention(&c.intervention)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| c.intervention.clone());
    match c.steps.first() {
        Some((status, on)) => format!(
            "{name} – {} {}",
            status.label().to_lowercase(),
            date_label(*on)
        ),
        None => name,
    }
}

fn catalogue(profile: &Profile) -> Vec<(String, String)> {
    profile
        .interventions
        .iter()
        .map(|i| (i.code.clone(), i.name.clone()))
        .collect()
}

fn review_weeks(profile: &Profile) -> Duration {
    Duration::weeks(i64::from(profile.clocks.care_plan_review_weeks))
}

fn blank_contingency() -> ContingencyPlan {
    ContingencyPlan {
        safety: String::new(),
        risk: String::new(),
        overdose_prevention: String::new(),
        harm_reduction: String::new(),
        unplanned_exit_support: String::new(),
        re_engagement: String::new(),
    }
}

/// The TOP's day counts other than substance use: field, label, and the words for
/// its message.
const TOP_DAY_COUNTS: [(&str, &str, &str); 7] = [
    ("injecting_days", "Days injected", "days injected"),
    (
        "shoplifting_days",
        "Days of shoplifting",
        "days of shoplifting",
    ),
    (
        "drug_selling_days",
        "Days of selling drugs",
        "days of selling drugs",
    ),
    (
        "other_theft_days",
        "Days of other theft",
        "days of other theft",
    ),
    (
        "assault_days",
        "Days of assault or violence",
        "days of assault or violence",
    ),
    ("paid_work_days", "Days of paid work", "days of paid work"),
    (
        "education_days",
        "Days of education or training",
        "days of education or training",
    ),
];

/// The TOP's wellbeing ratings: field, label, and the words for its message.
const TOP_RATINGS: [(&str, &str, &str); 3] = [
    (
        "psychological_health",
        "Psychological health, from 0 (poor) to 20 (good)",
        "psychological health",
    ),
    (
        "physical_health",
        "Physical health, from 0 (poor) to 20 (good)",
        "physical health",
    ),
    (
        "quality_of_life",
        "Overall quality of life, from 0 (poor) to 20 (good)",
        "quality of life",
    ),
];

fn day_count(f: &FormData, name: &str, label: &str) -> Field {
    text(
        f,
        name,
        label,
        "A number from 0 to 28; leave blank for none",
    )
}

/// What one of this module's forms shows, filled with the values submitted so far
/// (the correction fields are added by `forms::spec`); `None` for another form.
pub fn fields(form: &str, case: &Case, profile: &Profile, f: &FormData) -> Option<Vec<Field>> {
    let mut v = Vec::new();
    match form {
        "care-plan" => {
            v.push(area(
                f,
                "goals",
                "The person's goals, in their own words, one per line",
            ));
            v.push(Field::Checkboxes {
                name: s("interventions"),
                legend: s("Interventions chosen"),
                options: catalogue(profile),
                selected: f.all("interventions"),
            });
            v.push(Field::Heading(s("Contingency plan (S4 §4)")));
            for (name, label, _) in blank_contingency().sections() {
                v.push(area(f, name, label));
            }
            v.push(radios(
                f,
                "agreed_with_person",
                "Has the person agreed the plan?",
                yes_no_options(),
            ));
            v.push(date(f, "agreed_on", "Date the plan was agreed"));
            v.push(date(
                f,
                "review_on",
                &format!(
                    "Review date (leave blank for {} weeks after the plan is agreed)",
                    profile.clocks.care_plan_review_weeks
                ),
            ));
        }
        "care-plan-review" => {
            v.push(date(f, "reviewed_on", "Date of the review"));
            v.push(area(
                f,
                "summary",
                "What the review found, including the contingency plan",
            ));
            v.push(area(
                f,
                "goals",
                "New goals, one per line (leave blank if the goals are unchanged)",
            ));
            v.push(date(
                f,
                "next_review_on",
                &format!(
                    "Next review date (leave blank for {} weeks after this review)",
                    profile.clocks.care_plan_review_weeks
                ),
            ));
        }
        "induction" => {
            v.push(Field::Checkboxes {
                name: s("items"),
                legend: s("Items covered with the person"),
                options: options!(InductionItem),
                selected: f.all("items"),
            });
            v.push(date(f, "inducted_on", "Date the items were covered"));
        }
        "top" => top_fields(f, &mut v),
        "intervention" => {
            let mut interventions = vec![(s(""), s("Choose an intervention"))];
            interventions.extend(catalogue(profile));
            v.push(select(f, "intervention", "Intervention", interventions));
            v.push(radios(
                f,
                "target",
                "What does it target?",
                options!(InterventionTarget),
            ));
            v.push(radios(f, "status", "Step", options!(InterventionStatus)));
            v.push(date(f, "on", "Date of the step"));
            let all = correcting(f);
            let mut courses = vec![(s(""), s("A new course"))];
            courses.extend(
                case.courses
                    .iter()
                    .filter(|c| all || !c.is_ended())
                    .map(|c| (c.id.to_string(), course_label(c, profile))),
            );
            v.push(select(f, "course", "Course this step belongs to", courses));
            v.push(text(
                f,
                "language",
                "Language (optional)",
                "The language the advice was given in, at the IRC (KM 4.5.1); leave blank for English",
            ));
            v.push(area(f, "note", "Note (optional)"));
        }
        "session" => {
            v.push(radios(
                f,
                "session_kind",
                "What kind of session?",
                vec![
                    (s("keyworking"), s("1-to-1 keyworking session")),
                    (
                        s("course"),
                        s("A session of a programme the person has started"),
                    ),
                    (s("mutual_aid"), s("Mutual aid or peer support")),
                ],
            ));
            let all = correcting(f);
            let mut courses = vec![(s(""), s("Not a programme session"))];
            courses.extend(
                case.courses
                    .iter()
                    .filter(|c| {
                        c.date_of(InterventionStatus::Started).is_some() && (all || !c.is_ended())
                    })
                    .map(|c| (c.id.to_string(), course_label(c, profile))),
            );
            v.push(select(f, "course", "Programme", courses));
            let mut aid = vec![(s(""), s("Not mutual aid"))];
            aid.extend(options!(MutualAidKind));
            v.push(select(f, "aid", "Mutual aid or peer support", aid));
            v.push(date(f, "on", "Date of the session"));
            v.push(text(
                f,
                "minutes",
                "Length in minutes (optional)",
                "A whole number, like 45",
            ));
            v.push(area(f, "summary", "What the session covered"));
            let mut booked = vec![(s(""), s("Not booked as an appointment"))];
            booked.extend(appointments(case, f));
            v.push(select(
                f,
                "appointment",
                "Appointment it was booked as (it then counts as attended)",
                booked,
            ));
        }
        "clinical" => {
            v.push(radios(
                f,
                "step",
                "What happened?",
                ClinicalStep::CODES
                    .iter()
                    .map(|(c, l)| (s(c), s(l)))
                    .collect(),
            ));
            v.push(radios(
                f,
                "medication",
                "Medication (for substitute prescribing started)",
                options!(Medication),
            ));
            v.push(radios(
                f,
                "substance",
                "Detoxification from (for a detoxification started or completed)",
                options!(DetoxSubstance),
            ));
            v.push(radios(
                f,
                "scope",
                "Detoxification for (for a detoxification started or completed)",
                options!(DetoxScope),
            ));
            v.push(datetime(f, "at", "Date and time"));
            v.push(area(f, "note", "Note (optional)"));
        }
        "bbv" => {
            v.push(radios(f, "virus", "Virus", options!(Virus)));
            v.push(radios(f, "step", "Step", options!(BbvStep)));
            v.push(date(f, "on", "Date"));
            v.push(text(
                f,
                "dose",
                "Dose number (for a vaccine dose given)",
                "A whole number, like 1",
            ));
            let mut results = vec![(s(""), s("No result to record"))];
            results.extend(options!(TestResult));
            v.push(radios(f, "result", "Result (for a test done)", results));
        }
        "naloxone" => {
            v.push(radios(
                f,
                "recipient",
                "Who received it?",
                vec![
                    (s("person"), s("The person")),
                    (
                        s("family_or_carer"),
                        s("A family member or carer (with the person's consent)"),
                    ),
                ],
            ));
            v.push(text(
                f,
                "name",
                "Family member's or carer's name",
                "Only for a family member or carer",
            ));
            v.push(text(
                f,
                "relationship",
                "Their relationship to the person",
                "Only for a family member or carer",
            ));
            v.push(date(f, "on", "Date"));
            v.push(radios(
                f,
                "training_given",
                "Was overdose and life-support training given?",
                yes_no_options(),
            ));
            v.push(radios(
                f,
                "kit_supplied",
                "Was a naloxone kit supplied?",
                yes_no_options(),
            ));
        }
        "drug-intelligence" => {
            v.push(date(f, "received_on", "Date the intelligence was received"));
            v.push(radios(
                f,
                "concern",
                "What does it concern?",
                options!(IntelligenceConcern),
            ));
            v.push(area(f, "detail", "What the intelligence says"));
            v.push(radios(
                f,
                "action",
                "Action taken",
                options!(IntelligenceAction),
            ));
        }
        "reschedule-appointment" => {
            v.push(select(
                f,
                "appointment",
                "Appointment",
                appointments(case, f),
            ));
            v.push(datetime(f, "at", "New date and time"));
            v.push(area(f, "reschedule_reason", "Why it is moved (optional)"));
        }
        "sentence-plan" => {
            v.push(date(f, "contributed_on", "Date of the contribution"));
            v.push(area(f, "summary", "What the service contributed"));
        }
        "keyworker" => {
            v.push(text(
                f,
                "worker",
                "Keyworker",
                "Their staff username, like j.smith",
            ));
            v.push(date(f, "allocated_on", "Allocated from"));
        }
        "exclusion" => {
            v.push(date(f, "excluded_on", "Excluded from"));
            v.push(radios(
                f,
                "grounds",
                "Grounds (KM 4.9)",
                options!(ExclusionGrounds),
            ));
            v.push(area(f, "evidence", "Evidence for the grounds"));
            v.push(text(
                f,
                "commissioner_consent_ref",
                "Commissioner's consent reference",
                "The reference of the commissioner's prior written consent (KM 4.9)",
            ));
            v.push(date(
                f,
                "until",
                "Excluded until (leave blank if not for a set period)",
            ));
        }
        "share-care-plan" => {
            v.push(Field::Heading(match case.care_plan() {
                Some((_, plan)) => format!(
                    "The recovery care plan agreed on {}",
                    date_label(plan.agreed_on)
                ),
                None => s("There is no recovery care plan yet: agree one before sharing it"),
            }));
            v.push(radios(
                f,
                "recipient",
                "Shared with",
                vec![
                    (
                        s("offender_management"),
                        s("The offender manager or offender management unit"),
                    ),
                    (s("healthcare"), s("Prison healthcare")),
                ],
            ));
            v.push(date(f, "shared_on", "Date shared"));
            v.push(area(f, "summary", "What was shared"));
        }
        _ => return None,
    }
    Some(v)
}

fn top_fields(f: &FormData, v: &mut Vec<Field>) {
    v.push(date(f, "completed_on", "Date completed"));
    v.push(radios(f, "stage", "Stage", options!(TopStage)));
    v.push(Field::Heading(s("Substance use in the past 28 days")));
    for sub in TopSubstance::ALL {
        if *sub == TopSubstance::Other {
            v.push(text(
                f,
                "other_substance",
                "Other substance",
                "Its name, if the person used another substance",
            ));
        }
        v.push(day_count(
            f,
            &format!("{}_days", sub.code()),
            &format!("{}: days used", sub.label()),
        ));
        v.push(text(
            f,
            &format!("{}_amount", sub.code()),
            &format!("{}: typical amount on a day of use (optional)", sub.label()),
            "In units, grams or pounds spent",
        ));
    }
    v.push(Field::Heading(s("Injecting")));
    let (name, label, _) = TOP_DAY_COUNTS[0];
    v.push(day_count(f, name, label));
    v.push(radios(
        f,
        "shared_needles",
        "Shared needles or syringes?",
        yes_no_options(),
    ));
    v.push(radios(
        f,
        "shared_other_equipment",
        "Shared other injecting equipment?",
        yes_no_options(),
    ));
    v.push(Field::Heading(s("Offending in the past 28 days")));
    for (name, label, _) in &TOP_DAY_COUNTS[1..5] {
        v.push(day_count(f, name, label));
    }
    v.push(Field::Heading(s("Health and wellbeing")));
    for (name, label, _) in TOP_RATINGS {
        v.push(text(f, name, label, "A whole number from 0 to 20"));
    }
    v.push(Field::Heading(s("Social functioning in the past 28 days")));
    for (name, label, _) in &TOP_DAY_COUNTS[5..] {
        v.push(day_count(f, name, label));
    }
    v.push(radios(
        f,
        "acute_housing_problem",
        "Does the person have an acute housing problem?",
        yes_no_options(),
    ));
    v.push(radios(
        f,
        "risk_of_eviction",
        "Is the person at risk of eviction?",
        yes_no_options(),
    ));
}

/// Turns one of this module's forms into the fact it records, adding a message per
/// field whose shape is wrong. `None` when there are messages (or for another form).
pub fn parse(
    form: &str,
    case: &Case,
    profile: &Profile,
    f: &FormData,
    e: &mut FormErrors,
) -> Option<EventKind> {
    match form {
        "care-plan" => care_plan(f, profile, e),
        "care-plan-review" => care_plan_review(f, profile, e),
        "induction" => induction(f, e),
        "top" => top(f, e),
        "intervention" => intervention(case, f, e),
        "session" => session(f, e),
        "clinical" => clinical(f, e),
        "bbv" => bbv(f, e),
        "naloxone" => naloxone(f, e),
        "drug-intelligence" => drug_intelligence(f, e),
        "reschedule-appointment" => reschedule(f, e),
        "sentence-plan" => sentence_plan(f, e),
        "keyworker" => keyworker(f, e),
        "exclusion" => exclusion(f, e),
        "share-care-plan" => share_care_plan(case, f, e),
        _ => None,
    }
}

/// The trimmed, non-blank lines of a text area.
pub(crate) fn lines(f: &FormData, name: &str) -> Vec<String> {
    f.get(name)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A date that may be left blank: `Some(None)` when every box is empty, `None`
/// (with a message) when it is given but not a date.
pub(crate) fn optional_date(
    f: &FormData,
    name: &str,
    what: &str,
    e: &mut FormErrors,
) -> Option<Option<NaiveDate>> {
    let blank = ["day", "month", "year"]
        .iter()
        .all(|part| f.get(&format!("{name}-{part}")).is_empty());
    if blank {
        Some(None)
    } else {
        f.date(name, what, e).map(Some)
    }
}

/// A whole number; blank gives `blank` (a message when that is `None`).
fn number<T: std::str::FromStr + Copy>(
    f: &FormData,
    name: &str,
    blank: Option<T>,
    message: &str,
    e: &mut FormErrors,
) -> Option<T> {
    let v = f.get(name);
    if v.is_empty() {
        if blank.is_none() {
            e.add(name, message);
        }
        return blank;
    }
    match v.parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            e.add(name, message);
            None
        }
    }
}

/// A whole number that may be left blank: `Some(None)` when blank.
fn optional_number<T: std::str::FromStr + Copy>(
    f: &FormData,
    name: &str,
    message: &str,
    e: &mut FormErrors,
) -> Option<Option<T>> {
    if f.get(name).is_empty() {
        Some(None)
    } else {
        number(f, name, None, message, e).map(Some)
    }
}

/// An event chosen from a list that may be left blank: `Some(None)` when blank.
pub(crate) fn optional_event(
    f: &FormData,
    name: &str,
    message: &str,
    e: &mut FormErrors,
) -> Option<Option<EventId>> {
    match f.get(name) {
        "" => Some(None),
        v => match EventId::parse(v) {
            Some(id) => Some(Some(id)),
            None => {
                e.add(name, message);
                None
            }
        },
    }
}

fn care_plan(f: &FormData, profile: &Profile, e: &mut FormErrors) -> Option<EventKind> {
    let agreed_on = f.date("agreed_on", "Date the plan was agreed", e);
    let agreed = f.yes_no(
        "agreed_with_person",
        "Select whether the person has agreed the plan",
        e,
    );
    let review_on = optional_date(f, "review_on", "Review date", e);
    let agreed_on = agreed_on?;
    let text = |n: &str| f.get(n).to_string();
    Some(EventKind::CarePlanAgreed(CarePlan {
        agreed_on,
        goals: lines(f, "goals"),
        interventions: f
            .all("interventions")
            .into_iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
        contingency: ContingencyPlan {
            safety: text("safety"),
            risk: text("risk"),
            overdose_prevention: text("overdose_prevention"),
            harm_reduction: text("harm_reduction"),
            unplanned_exit_support: text("unplanned_exit_support"),
            re_engagement: text("re_engagement"),
        },
        agreed_with_person: agreed?,
        review_on: review_on?.unwrap_or(agreed_on + review_weeks(profile)),
    }))
}

fn care_plan_review(f: &FormData, profile: &Profile, e: &mut FormErrors) -> Option<EventKind> {
    let reviewed_on = f.date("reviewed_on", "Date of the review", e);
    let next = optional_date(f, "next_review_on", "Next review date", e);
    let reviewed_on = reviewed_on?;
    let goals = lines(f, "goals");
    Some(EventKind::CarePlanReviewed(CarePlanReview {
        reviewed_on,
        goals: (!goals.is_empty()).then_some(goals),
        summary: f.get("summary").to_string(),
        next_review_on: next?.unwrap_or(reviewed_on + review_weeks(profile)),
    }))
}

fn induction(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let on = f.date("inducted_on", "Date the items were covered", e);
    let mut items = Vec::new();
    for code in f.all("items") {
        match InductionItem::from_code(code.trim()) {
            Some(item) => items.push(item),
            None => {
                e.add("items", "Select the items covered from the list");
                return None;
            }
        }
    }
    let on = on?;
    Some(EventKind::InductionRecorded(Induction {
        items: items
            .into_iter()
            .map(|item| InductionTick { item, on })
            .collect(),
    }))
}

fn top(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let completed_on = f.date("completed_on", "Date completed", e);
    let stage = f.choice("stage", "Select the stage", e, TopStage::from_code);
    let mut substance_use = Vec::new();
    let mut complete = true;
    for sub in TopSubstance::ALL {
        let days = number(
            f,
            &format!("{}_days", sub.code()),
            Some(0u8),
            "Enter days used as a number from 0 to 28",
            e,
        );
        match days {
            Some(days) => substance_use.push(SubstanceUse {
                substance: *sub,
                days,
                typical_amount: f.optional(&format!("{}_amount", sub.code())),
            }),
            None => complete = false,
        }
    }
    let mut days = [0u8; 7];
    for (i, (name, _, words)) in TOP_DAY_COUNTS.iter().enumerate() {
        let message = format!("Enter {words} as a number from 0 to 28");
        match number(f, name, Some(0u8), &message, e) {
            Some(n) => days[i] = n,
            None => complete = false,
        }
    }
    let mut ratings = [0u8; 3];
    for (i, (name, _, words)) in TOP_RATINGS.iter().enumerate() {
        let message = format!("Enter {words} as a number from 0 to 20");
        match number(f, name, None, &message, e) {
            Some(n) => ratings[i] = n,
            None => complete = false,
        }
    }
    let shared_needles = f.yes_no(
        "shared_needles",
        "Select whether the person shared needles or syringes",
        e,
    );
    let shared_other = f.yes_no(
        "shared_other_equipment",
        "Select whether the person shared other injecting equipment",
        e,
    );
    let housing = f.yes_no(
        "acute_housing_problem",
        "Select whether the person has an acute housing problem",
        e,
    );
    let eviction = f.yes_no(
        "risk_of_eviction",
        "Select whether the person is at risk of eviction",
        e,
    );
    if !complete {
        return None;
    }
    let [
        injecting_days,
        shoplifting_days,
        drug_selling_days,
        other_theft_days,
        assault_days,
        paid_work_days,
        education_days,
    ] = days;
    let [psychological_health, physical_health, quality_of_life] = ratings;
    Some(EventKind::TopCompleted(TreatmentOutcomesProfile {
        completed_on: completed_on?,
        stage: stage?,
        substance_use,
        other_substance: f.optional("other_substance"),
        injecting_days,
        shared_needles: shared_needles?,
        shared_other_equipment: shared_other?,
        shoplifting_days,
        drug_selling_days,
        other_theft_days,
        assault_days,
        psychological_health,
        physical_health,
        quality_of_life,
        paid_work_days,
        education_days,
        acute_housing_problem: housing?,
        risk_of_eviction: eviction?,
    }))
}

fn intervention(case: &Case, f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let course_id = optional_event(f, "course", "Select the course from the list", e);
    // A later step may leave the intervention and target to be the course's own.
    let course = course_id
        .flatten()
        .and_then(|id| case.courses.iter().find(|c| c.id == id));
    let intervention = match (f.get("intervention"), course) {
        ("", Some(c)) => Some(c.intervention.clone()),
        ("", None) => {
            e.add("intervention", "Select the intervention");
            None
        }
        (code, _) => Some(code.to_string()),
    };
    let target = match (f.get("target"), course) {
        ("", Some(c)) => Some(c.target),
        _ => f.choice(
            "target",
            "Select what the intervention targets",
            e,
            InterventionTarget::from_code,
        ),
    };
    let status = f.choice(
        "status",
        "Select the step",
        e,
        InterventionStatus::from_code,
    );
    let on = f.date("on", "Date of the step", e);
    Some(EventKind::InterventionUpdated(InterventionUpdate {
        intervention: intervention?,
        target: target?,
        status: status?,
        on: on?,
        course: course_id?,
        language: f.optional("language"),
        note: f.optional("note"),
    }))
}

fn session(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let kind = match f.get("session_kind") {
        "keyworking" => Some(SessionKind::Keyworking),
        "course" => f
            .choice(
                "course",
                "Select the programme the session belongs to",
                e,
                EventId::parse,
            )
            .map(|course| SessionKind::Course { course }),
        "mutual_aid" => f
            .choice(
                "aid",
                "Select the kind of mutual aid or peer support",
                e,
                MutualAidKind::from_code,
            )
            .map(|aid| SessionKind::MutualAid { aid }),
        _ => {
            e.add("session_kind", "Select what kind of session it was");
            None
        }
    };
    let on = f.date("on", "Date of the session", e);
    let minutes = optional_number::<u16>(
        f,
        "minutes",
        "Enter the length in minutes as a whole number, like 45",
        e,
    );
    let appointment = optional_event(f, "appointment", "Select the appointment from the list", e);
    Some(EventKind::SessionAttended(SessionAttended {
        session: kind?,
        on: on?,
        minutes: minutes?,
        summary: f.get("summary").to_string(),
        appointment: appointment?,
    }))
}

fn clinical(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let step = match f.get("step") {
        "first_night_need" => Some(ClinicalStep::FirstNightNeed),
        "seen_by_doctor" => Some(ClinicalStep::SeenByDoctor),
        "symptomatic_relief" => Some(ClinicalStep::SymptomaticRelief),
        "prescribing_started" => f
            .choice(
                "medication",
                "Select the medication prescribed",
                e,
                Medication::from_code,
            )
            .map(|medication| ClinicalStep::PrescribingStarted { medication }),
        "benzodiazepine_detox_started" => Some(ClinicalStep::BenzodiazepineDetoxStarted),
        code @ ("detox_started" | "detox_completed") => {
            let substance = f.choice(
                "substance",
                "Select what the detoxification is from",
                e,
                DetoxSubstance::from_code,
            );
            let scope = f.choice(
                "scope",
                "Select whether the detoxification is for that substance only or several",
                e,
                DetoxScope::from_code,
            );
            match (substance, scope, code) {
                (Some(substance), Some(scope), "detox_started") => {
                    Some(ClinicalStep::DetoxStarted { substance, scope })
                }
                (Some(substance), Some(scope), _) => {
                    Some(ClinicalStep::DetoxCompleted { substance, scope })
                }
                _ => None,
            }
        }
        "maintenance" => Some(ClinicalStep::Maintenance),
        "stabilising" => Some(ClinicalStep::Stabilising),
        "reducing" => Some(ClinicalStep::Reducing),
        "dropped_out_of_prescribing" => Some(ClinicalStep::DroppedOutOfPrescribing),
        "clinical_referral" => Some(ClinicalStep::ClinicalReferral),
        "clinical_assessment" => Some(ClinicalStep::ClinicalAssessment),
        _ => {
            e.add("step", "Select what happened");
            None
        }
    };
    let on = f.date("at", "Date of the clinical event", e);
    let time = f.time("at", "Time of the clinical event", e);
    Some(EventKind::ClinicalEventRecorded(ClinicalEvent {
        step: step?,
        at: local_instant(on?, time?),
        note: f.optional("note"),
    }))
}

fn bbv(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let virus = f.choice("virus", "Select the virus", e, Virus::from_code);
    let step = f.choice("step", "Select the step", e, BbvStep::from_code);
    let on = f.date("on", "Date", e);
    let dose = optional_number::<u8>(
        f,
        "dose",
        "Enter the dose number as a whole number, like 1",
        e,
    );
    let result = match f.get("result") {
        "" => Some(None),
        _ => f
            .choice("result", "Select the result", e, TestResult::from_code)
            .map(Some),
    };
    Some(EventKind::BloodBorneVirusRecorded(BloodBorneVirusRecord {
        virus: virus?,
        step: step?,
        on: on?,
        dose: dose?,
        result: result?,
    }))
}

fn naloxone(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let to = match f.get("recipient") {
        "person" => Some(NaloxoneRecipient::Person),
        "family_or_carer" => Some(NaloxoneRecipient::FamilyOrCarer {
            name: f.get("name").to_string(),
            relationship: f.get("relationship").to_string(),
        }),
        _ => {
            e.add("recipient", "Select who received it");
            None
        }
    };
    let on = f.date("on", "Date", e);
    let training = f.yes_no(
        "training_given",
        "Select whether overdose training was given",
        e,
    );
    let kit = f.yes_no(
        "kit_supplied",
        "Select whether a naloxone kit was supplied",
        e,
    );
    Some(EventKind::NaloxoneSupplied(NaloxoneRecord {
        to: to?,
        on: on?,
        training_given: training?,
        kit_supplied: kit?,
    }))
}

fn drug_intelligence(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let received_on = f.date("received_on", "Date the intelligence was received", e);
    let concern = f.choice(
        "concern",
        "Select what the intelligence concerns",
        e,
        IntelligenceConcern::from_code,
    );
    let action = f.choice(
        "action",
        "Select the action taken",
        e,
        IntelligenceAction::from_code,
    );
    Some(EventKind::DrugIntelligenceRecorded(DrugIntelligence {
        received_on: received_on?,
        concern: concern?,
        detail: f.get("detail").to_string(),
        action: action?,
    }))
}

fn reschedule(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let appointment = f.choice("appointment", "Select the appointment", e, EventId::parse);
    let on = f.date("at", "New date of the appointment", e);
    let time = f.time("at", "New time of the appointment", e);
    Some(EventKind::AppointmentRescheduled(AppointmentReschedule {
        appointment: appointment?,
        at: local_instant(on?, time?),
        reason: f.optional("reschedule_reason"),
    }))
}

fn sentence_plan(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let on = f.date("contributed_on", "Date of the contribution", e);
    Some(EventKind::SentencePlanContributed(
        SentencePlanContribution {
            contributed_on: on?,
            summary: f.get("summary").to_string(),
        },
    ))
}

fn keyworker(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let worker = match f.get("worker") {
        "" => {
            e.add("worker", "Enter the keyworker's staff username");
            None
        }
        w => match StaffUsername::parse(w) {
            Ok(w) => Some(w),
            Err(_) => {
                e.add("worker", STAFF_USERNAME_MESSAGE);
                None
            }
        },
    };
    let on = f.date("allocated_on", "Date allocated from", e);
    Some(EventKind::KeyworkerAllocated(KeyworkerAllocation {
        worker: worker?,
        allocated_on: on?,
    }))
}

fn exclusion(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let excluded_on = f.date("excluded_on", "Date excluded from", e);
    let grounds = f.choice(
        "grounds",
        "Select the grounds",
        e,
        ExclusionGrounds::from_code,
    );
    let until = optional_date(f, "until", "Date excluded until", e);
    Some(EventKind::ServiceExclusionRecorded(ServiceExclusion {
        excluded_on: excluded_on?,
        grounds: grounds?,
        evidence: f.get("evidence").to_string(),
        commissioner_consent_ref: f.get("commissioner_consent_ref").to_string(),
        until: until?,
    }))
}

fn share_care_plan(case: &Case, f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let about = match case.care_plan() {
        Some((id, _)) => Some(*id),
        None => {
            e.add(
                "about",
                "There is no recovery care plan to share: agree one first",
            );
            None
        }
    };
    let recipient = f.choice(
        "recipient",
        "Select who the care plan was shared with",
        e,
        |c| match c {
            "offender_management" => Some(Recipient::OffenderManagement),
            "healthcare" => Some(Recipient::Healthcare),
            _ => None,
        },
    );
    let shared_on = f.date("shared_on", "Date shared", e);
    let summary = f.required("summary", "Enter what was shared", e);
    let recipient = recipient?;
    Some(EventKind::InformationShared(Disclosure {
        recipient,
        basis: SharingBasis::Consent {
            purpose: recipient.consent_purpose(),
        },
        shared_on: shared_on?,
        about: Some(about?),
        summary: summary?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form_data::Post;
    use crate::forms::test_support::{kind, message, parsed};
    use crate::forms::{self, FORMS, Parsed};
    use throughcare_domain::consent::{ConsentDecision, ConsentPurpose, ConsentRecord};
    use throughcare_domain::decide::{Command, Context, decide};
    use throughcare_domain::error::DomainError;
    use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber};
    use throughcare_domain::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
    use throughcare_domain::record_ids::{PersonId, SequentialIds};
    use throughcare_domain::referrals::AppointmentOffer;
    use throughcare_domain::time::parse_instant;
    use uuid::Uuid;

    const APPOINTMENT: &str = "e1000000-0000-4000-8000-000000000008";
    const COURSE: &str = "e1000000-0000-4000-8000-000000000020";
    const PLAN: &str = "e1000000-0000-4000-8000-000000000030";

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn id(s: &str) -> EventId {
        EventId::parse(s).unwrap()
    }

    fn profile() -> Profile {
        Profile::builtin("kent-medway").unwrap()
    }

    /// A person with no history.
    fn empty() -> Case {
        Case::new(PersonId(Uuid::nil()))
    }

    /// A registered person with an appointment waiting for its outcome, a started
    /// keyworking course, a care plan, and consent to share with offender management
    /// and to involve family.
    fn case() -> Case {
        let mut case = empty();
        case.details = Some(PersonDetails {
            prison_number: PrisonNumber::parse("A1234BC").unwrap(),
            given_name: "Alex".into(),
            family_name: "Example".into(),
            date_of_birth: d("1990-05-17"),
            home_postcode: None,
            equality: EqualityMonitoring::default(),
            priority: RecordedPriorityFlags::default(),
        });
        case.appointments.push(AppointmentState {
            id: id(APPOINTMENT),
            offer: AppointmentOffer {
                referral: None,
                at: parse_instant("2026-03-12T10:00:00Z").unwrap(),
                worker: None,
                clinic: Some("Healthcare room 2".into()),
                purpose: Some("Keyworking".into()),
            },
            outcome: None,
            establishment: EstablishmentCode::parse("MDI").unwrap(),
        });
        case.courses.push(Course {
            id: id(COURSE),
            establishment: EstablishmentCode::parse("MDI").unwrap(),
            intervention: "keyworking".into(),
            target: InterventionTarget::Opiates,
            steps: vec![
                (InterventionStatus::Offered, d("2026-03-01")),
                (InterventionStatus::Started, d("2026-03-02")),
            ],
            language: None,
        });
        case.care_plans.push((
            id(PLAN),
            CarePlan {
                agreed_on: d("2026-03-02"),
                goals: vec!["Stay off heroin".into()],
                interventions: vec!["keyworking".into()],
                contingency: ContingencyPlan {
                    safety: "a".into(),
                    risk: "b".into(),
                    overdose_prevention: "c".into(),
                    harm_reduction: "d".into(),
                    unplanned_exit_support: "e".into(),
                    re_engagement: "f".into(),
                },
                agreed_with_person: true,
                review_on: d("2026-05-25"),
            },
        ));
        // The plan's own entry, so a share can be about it.
        let plan = case.care_plans[0].1.clone();
        let at = parse_instant("2026-03-02T12:00:00Z").unwrap();
        case.history
            .push(throughcare_domain::events::RecordedEvent {
                seq: 1,
                id: id(PLAN),
                person: Some(case.person),
                establishment: EstablishmentCode::parse("MDI").unwrap(),
                occurred_at: at,
                recorded_at: at,
                appended_at: at,
                recorded_by: StaffUsername::parse("worker.one").unwrap(),
                supersedes: None,
                reason: None,
                kind: EventKind::CarePlanAgreed(plan),
                prev_hash: "0".repeat(64),
                hash: "0".repeat(64),
            });
        for purpose in [
            ConsentPurpose::OffenderManagementSummaries,
            ConsentPurpose::FamilyInvolvement,
        ] {
            case.consents.record(&ConsentRecord {
                purpose,
                decision: ConsentDecision::Given,
                decided_on: d("2026-03-01"),
            });
        }
        case
    }

    /// What the domain says about recording `kind` on `case`.
    fn decided(case: &Case, kind: EventKind) -> Result<(), DomainError> {
        let profile = profile();
        let calendar = profile.calendar();
        let ctx = Context {
            profile: &profile,
            calendar: &calendar,
            recorded_by: StaffUsername::parse("worker.one").unwrap(),
            actor: throughcare_domain::access::Actor::System,
            establishment: EstablishmentCode::parse("MDI").unwrap(),
            now: parse_instant("2026-03-20T12:00:00Z").unwrap(),
            trainees: &[],
        };
        let command = Command::Record {
            occurred_at: None,
            recorded_at: None,
            kind,
        };
        decide(case, command, &ctx, &mut SequentialIds::new(99)).map(|_| ())
    }

    fn care_plan_post() -> Post {
        Post::new()
            .set(
                "goals",
                "Stay off heroin\n\n  Rebuild contact with my daughter  ",
            )
            .set("interventions", "keyworking")
            .set("interventions", "relapse-prevention")
            .set("safety", "Stays on the wing with a peer mentor")
            .set("risk", "Risk of relapse on bad news from court")
            .set("overdose_prevention", "Naloxone kit on release")
            .set("harm_reduction", "Needle exchange details given")
            .set("unplanned_exit_support", "Community team contact card")
            .set("re_engagement", "Can self-refer by in-cell telephone")
            .set("agreed_with_person", "yes")
            .date("agreed_on", "2026-03-02")
    }

    fn top_post() -> Post {
        Post::new()
            .date("completed_on", "2026-03-03")
            .set("stage", "start")
            .set("opiates_days", "20")
            .set("opiates_amount", "£20")
            .set("crack_days", "4")
            .set("alcohol_days", "")
            .set("injecting_days", "")
            .set("shared_needles", "no")
            .set("shared_other_equipment", "no")
            .set("shoplifting_days", "6")
            .set("psychological_health", "9")
            .set("physical_health", "12")
            .set("quality_of_life", "8")
            .set("acute_housing_problem", "yes")
            .set("risk_of_eviction", "no")
    }

    /// One valid submission of every form, for the tests that go through them all.
    fn valid_posts() -> Vec<(&'static str, Post)> {
        vec![
            ("care-plan", care_plan_post()),
            (
                "care-plan-review",
                Post::new()
                    .date("reviewed_on", "2026-03-09")
                    .set("summary", "Engaging well; contingency plan unchanged"),
            ),
            (
                "induction",
                Post::new()
                    .set("items", "service_details")
                    .set("items", "code_of_conduct")
                    .date("inducted_on", "2026-03-02"),
            ),
            ("top", top_post()),
            (
                "intervention",
                Post::new()
                    .set("intervention", "relapse-prevention")
                    .set("target", "opiates")
                    .set("status", "offered")
                    .date("on", "2026-03-04"),
            ),
            (
                "session",
                Post::new()
                    .set("session_kind", "keyworking")
                    .date("on", "2026-03-12")
                    .set("minutes", "45")
                    .set("summary", "Cravings and coping plan")
                    .set("appointment", APPOINTMENT),
            ),
            (
                "clinical",
                Post::new()
                    .set("step", "prescribing_started")
                    .set("medication", "methadone")
                    .at("at", "2026-03-02", "21:15"),
            ),
            (
                "bbv",
                Post::new()
                    .set("virus", "hepatitis_b")
                    .set("step", "vaccine_dose")
                    .date("on", "2026-03-05")
                    .set("dose", "1")
                    .set("result", ""),
            ),
            (
                "naloxone",
                Post::new()
                    .set("recipient", "family_or_carer")
                    .set("name", "Sam Example")
                    .set("relationship", "Sister")
                    .date("on", "2026-03-06")
                    .set("training_given", "yes")
                    .set("kit_supplied", "no"),
            ),
            (
                "drug-intelligence",
                Post::new()
                    .date("received_on", "2026-03-07")
                    .set("concern", "diverted_medication")
                    .set("detail", "Seen passing tablets at the hatch")
                    .set("action", "prescription_review"),
            ),
            (
                "reschedule-appointment",
                Post::new()
                    .set("appointment", APPOINTMENT)
                    .at("at", "2026-03-13", "14:00")
                    .set("reschedule_reason", "Wing lock-down"),
            ),
            (
                "sentence-plan",
                Post::new()
                    .date("contributed_on", "2026-03-08")
                    .set("summary", "Recommended the recovery programme"),
            ),
            (
                "keyworker",
                Post::new()
                    .set("worker", " J.Smith ")
                    .date("allocated_on", "2026-03-02"),
            ),
            (
                "exclusion",
                Post::new()
                    .date("excluded_on", "2026-03-10")
                    .set("grounds", "serious_risk")
                    .set("evidence", "Assaulted a worker on 9 March")
                    .set("commissioner_consent_ref", "KCC-EX-0001")
                    .date("until", "2026-04-10"),
            ),
            (
                "share-care-plan",
                Post::new()
                    .set("recipient", "offender_management")
                    .date("shared_on", "2026-03-10")
                    .set("summary", "Care plan goals and contingency plan"),
            ),
        ]
    }

    #[test]
    fn every_form_of_this_module_is_listed_and_has_a_valid_example_here() {
        let posted: Vec<&str> = valid_posts().iter().map(|(f, _)| *f).collect();
        for name in NAMES {
            assert!(forms::title(name).is_some(), "{name} is not in FORMS");
            assert!(posted.contains(&name), "{name} has no valid example");
        }
    }

    #[test]
    fn every_valid_submission_is_a_fact_the_domain_accepts() {
        let case = case();
        for (form, post) in valid_posts() {
            let kind = kind(form, &case, &post);
            if let Err(e) = decided(&case, kind) {
                panic!("{form}: refused: {e}");
            }
        }
    }

    #[test]
    fn every_listed_form_shows_and_starts_with_todays_date() {
        let (case, profile) = (case(), profile());
        let today = d("2026-03-20");
        for (name, title) in FORMS {
            let f = forms::defaults(name, today);
            let spec = forms::spec(name, &case, &profile, &f)
                .unwrap_or_else(|| panic!("{name} has no fields"));
            assert_eq!(spec.title, title);
            assert!(!spec.fields.is_empty());
        }
        for name in NAMES {
            let f = forms::defaults(name, today);
            for field in date_fields(name) {
                assert_eq!(f.get(&format!("{field}-day")), "20", "{name}: {field}");
                assert_eq!(f.get(&format!("{field}-year")), "2026", "{name}: {field}");
            }
            assert!(!date_fields(name).is_empty(), "{name}: no date");
        }
        assert!(
            forms::defaults("care-plan", today)
                .get("review_on-day")
                .is_empty()
        );
    }

    #[test]
    fn a_correction_of_a_care_form_needs_a_reason_and_replaces_the_entry() {
        let case = case();
        let post = care_plan_post().set("supersedes", PLAN);
        assert_eq!(
            message("care-plan", &case, &post, "reason"),
            "Enter why this is being corrected"
        );
        match parsed("care-plan", &case, &post.set("reason", "Wrong review date")) {
            Ok(Parsed {
                command:
                    Command::Correct {
                        target,
                        reason,
                        kind: EventKind::CarePlanAgreed(_),
                    },
                ..
            }) => {
                assert_eq!(target, id(PLAN));
                assert_eq!(reason, "Wrong review date");
            }
            _ => panic!("not a correction"),
        }
        // The correction form adds its reason box once, after the form's own fields.
        let f = FormData::from_pairs(vec![("supersedes".into(), PLAN.into())]);
        let spec = forms::spec("reschedule-appointment", &case, &profile(), &f).unwrap();
        let reasons = spec
            .fields
            .iter()
            .filter(|x| matches!(x, Field::TextArea { name, .. } if name == "reason"))
            .count();
        assert_eq!(reasons, 1);
    }

    #[test]
    fn care_plan_defaults_its_review_date_and_keeps_goals_line_by_line() {
        let EventKind::CarePlanAgreed(plan) = kind("care-plan", &empty(), &care_plan_post()) else {
            panic!("not a care plan");
        };
        assert_eq!(
            plan.goals,
            ["Stay off heroin", "Rebuild contact with my daughter"]
        );
        assert_eq!(plan.interventions, ["keyworking", "relapse-prevention"]);
        assert_eq!(
            plan.contingency.re_engagement,
            "Can self-refer by in-cell telephone"
        );
        assert!(plan.agreed_with_person);
        assert_eq!(plan.agreed_on, d("2026-03-02"));
        assert_eq!(plan.review_on, d("2026-05-25"), "12 weeks later");

        let given = care_plan_post().date("review_on", "2026-04-01");
        let EventKind::CarePlanAgreed(plan) = kind("care-plan", &empty(), &given) else {
            panic!("not a care plan");
        };
        assert_eq!(plan.review_on, d("2026-04-01"));

        let half = care_plan_post().set("review_on-day", "3");
        assert_eq!(
            message("care-plan", &empty(), &half, "review_on"),
            "Review date must include a month and year"
        );
    }

    #[test]
    fn care_plan_review_keeps_goals_unless_new_ones_are_given() {
        let post = Post::new()
            .date("reviewed_on", "2026-03-09")
            .set("summary", "Going well");
        let EventKind::CarePlanReviewed(r) = kind("care-plan-review", &case(), &post) else {
            panic!("not a review");
        };
        assert_eq!(r.goals, None);
        assert_eq!(r.next_review_on, d("2026-06-01"));
        assert_eq!(r.summary, "Going well");
        let post = post
            .set("goals", "Finish the programme\n")
            .date("next_review_on", "2026-04-09");
        let EventKind::CarePlanReviewed(r) = kind("care-plan-review", &case(), &post) else {
            panic!("not a review");
        };
        assert_eq!(r.goals, Some(vec!["Finish the programme".to_string()]));
        assert_eq!(r.next_review_on, d("2026-04-09"));

        let undated = Post::new().set("summary", "Going well");
        assert_eq!(
            message("care-plan-review", &case(), &undated, "reviewed_on"),
            "Enter the date of the review"
        );
    }

    #[test]
    fn induction_dates_every_ticked_item() {
        let post = Post::new()
            .set("items", "service_details")
            .set("items", "emergency_planning")
            .date("inducted_on", "2026-03-02");
        let EventKind::InductionRecorded(i) = kind("induction", &empty(), &post) else {
            panic!("not an induction");
        };
        assert_eq!(
            i.items,
            [
                InductionTick {
                    item: InductionItem::ServiceDetails,
                    on: d("2026-03-02")
                },
                InductionTick {
                    item: InductionItem::EmergencyPlanning,
                    on: d("2026-03-02")
                },
            ]
        );
        let bad = post.set("items", "tea_and_biscuits");
        assert_eq!(
            message("induction", &empty(), &bad, "items"),
            "Select the items covered from the list"
        );
    }

    #[test]
    fn top_records_every_substance_and_blank_days_as_none() {
        let EventKind::TopCompleted(t) = kind("top", &empty(), &top_post()) else {
            panic!("not a TOP");
        };
        assert_eq!(t.stage, TopStage::Start);
        assert_eq!(t.substance_use.len(), TopSubstance::ALL.len());
        assert_eq!(t.days_used(TopSubstance::Opiates), Some(20));
        assert_eq!(t.days_used(TopSubstance::Crack), Some(4));
        assert_eq!(t.days_used(TopSubstance::Alcohol), Some(0));
        assert_eq!(t.substance_use[1].typical_amount.as_deref(), Some("£20"));
        assert_eq!(t.substance_use[0].typical_amount, None);
        assert_eq!(
            (t.injecting_days, t.shoplifting_days, t.paid_work_days),
            (0, 6, 0)
        );
        assert_eq!(
            (t.psychological_health, t.physical_health, t.quality_of_life),
            (9, 12, 8)
        );
        assert!(t.acute_housing_problem && !t.risk_of_eviction && !t.shared_needles);

        let words = top_post().put("cannabis_days", "most days");
        assert_eq!(
            message("top", &empty(), &words, "cannabis_days"),
            "Enter days used as a number from 0 to 28"
        );
        let fraction = top_post().put("assault_days", "1.5");
        assert_eq!(
            message("top", &empty(), &fraction, "assault_days"),
            "Enter days of assault or violence as a number from 0 to 28"
        );
        let unrated = top_post().without("quality_of_life");
        assert_eq!(
            message("top", &empty(), &unrated, "quality_of_life"),
            "Enter quality of life as a number from 0 to 20"
        );
    }

    #[test]
    fn a_top_day_count_over_28_comes_back_from_the_domain_on_its_field() {
        let kind = kind("top", &case(), &top_post().put("opiates_days", "29"));
        match decided(&case(), kind) {
            Err(DomainError::Invalid(ps)) => {
                assert!(ps.iter().any(|p| p.field == "opiates_days"), "{ps:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_intervention_step_starts_a_course_or_continues_one() {
        let case = case();
        let first = Post::new()
            .set("intervention", "relapse-prevention")
            .set("target", "alcohol")
            .set("status", "offered")
            .date("on", "2026-03-04")
            .set("language", "Polish");
        let EventKind::InterventionUpdated(u) = kind("intervention", &case, &first) else {
            panic!("not an intervention step");
        };
        assert_eq!(u.intervention, "relapse-prevention");
        assert_eq!(u.target, InterventionTarget::Alcohol);
        assert_eq!(u.status, InterventionStatus::Offered);
        assert_eq!(u.course, None);
        assert_eq!(u.language.as_deref(), Some("Polish"));

        // A later step may leave the intervention and target as the course's.
        let later = Post::new()
            .set("course", COURSE)
            .set("status", "completed")
            .date("on", "2026-03-15");
        let EventKind::InterventionUpdated(u) = kind("intervention", &case, &later) else {
            panic!("not an intervention step");
        };
        assert_eq!(u.course, Some(id(COURSE)));
        assert_eq!(u.intervention, "keyworking");
        assert_eq!(u.target, InterventionTarget::Opiates);
        assert_eq!(u.status, InterventionStatus::Completed);
        assert!(decided(&case, EventKind::InterventionUpdated(u)).is_ok());

        let no_step = Post::new()
            .set("intervention", "keyworking")
            .set("target", "opiates")
            .date("on", "2026-03-04");
        assert_eq!(
            message("intervention", &case, &no_step, "status"),
            "Select the step"
        );
        let nothing = Post::new()
            .set("status", "offered")
            .date("on", "2026-03-04");
        assert_eq!(
            message("intervention", &case, &nothing, "intervention"),
            "Select the intervention"
        );
    }

    #[test]
    fn the_intervention_form_offers_open_courses_by_name_and_date() {
        let mut case = case();
        let mut ended = case.courses[0].clone();
        ended.id = EventId(Uuid::from_u128(77));
        ended
            .steps
            .push((InterventionStatus::Completed, d("2026-03-03")));
        case.courses.push(ended);
        let spec = forms::spec("intervention", &case, &profile(), &FormData::default()).unwrap();
        let courses = spec
            .fields
            .iter()
            .find_map(|x| match x {
                Field::Select { name, options, .. } if name == "course" => Some(options.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            courses,
            [
                (s(""), s("A new course")),
                (s(COURSE), s("Intensive keyworking – offered 1 March 2026")),
            ]
        );
    }

    #[test]
    fn a_session_is_keyworking_a_programme_or_mutual_aid() {
        let case = case();
        let EventKind::SessionAttended(x) = kind("session", &case, &valid_posts()[5].1) else {
            panic!("not a session");
        };
        assert_eq!(x.session, SessionKind::Keyworking);
        assert_eq!(x.minutes, Some(45));
        assert_eq!(x.appointment, Some(id(APPOINTMENT)));
        assert_eq!(x.on, d("2026-03-12"));

        let programme = Post::new()
            .set("session_kind", "course")
            .set("course", COURSE)
            .date("on", "2026-03-12")
            .set("summary", "Week 3");
        let EventKind::SessionAttended(x) = kind("session", &case, &programme) else {
            panic!("not a session");
        };
        assert_eq!(x.session, SessionKind::Course { course: id(COURSE) });
        assert_eq!((x.minutes, x.appointment), (None, None));

        let aid = Post::new()
            .set("session_kind", "mutual_aid")
            .set("aid", "smart")
            .date("on", "2026-03-12")
            .set("summary", "First meeting");
        let EventKind::SessionAttended(x) = kind("session", &case, &aid) else {
            panic!("not a session");
        };
        assert_eq!(
            x.session,
            SessionKind::MutualAid {
                aid: MutualAidKind::Smart
            }
        );

        let long = valid_posts()[5].1.clone().put("minutes", "an hour");
        assert_eq!(
            message("session", &case, &long, "minutes"),
            "Enter the length in minutes as a whole number, like 45"
        );
        let no_course = programme.without("course");
        assert_eq!(
            message("session", &case, &no_course, "course"),
            "Select the programme the session belongs to"
        );
    }

    #[test]
    fn a_link_can_start_a_session_from_its_appointment() {
        let f = forms::defaults("session", d("2026-03-12")).with(vec![
            ("appointment".into(), APPOINTMENT.into()),
            ("session_kind".into(), "keyworking".into()),
        ]);
        let spec = forms::spec("session", &case(), &profile(), &f).unwrap();
        let chosen = |field: &str| {
            spec.fields.iter().find_map(|x| match x {
                Field::Select {
                    name,
                    selected,
                    options,
                    ..
                } if name == field => Some((selected.clone(), options.clone())),
                Field::Radios {
                    name,
                    selected,
                    options,
                    ..
                } if name == field => Some((selected.clone(), options.clone())),
                _ => None,
            })
        };
        let (selected, options) = chosen("appointment").unwrap();
        assert_eq!(selected, APPOINTMENT);
        assert!(options.contains(&(
            s(APPOINTMENT),
            s("12 March 2026 at 10:00 – Keyworking (Healthcare room 2)")
        )));
        assert_eq!(chosen("session_kind").unwrap().0, "keyworking");
    }

    #[test]
    fn a_clinical_event_has_its_step_and_local_time() {
        let EventKind::ClinicalEventRecorded(c) = kind("clinical", &empty(), &valid_posts()[6].1)
        else {
            panic!("not a clinical event");
        };
        assert_eq!(
            c.step,
            ClinicalStep::PrescribingStarted {
                medication: Medication::Methadone
            }
        );
        assert_eq!(c.at, parse_instant("2026-03-02T21:15:00Z").unwrap());
        // British Summer Time: 21:15 local is 20:15 UTC.
        let summer = Post::new()
            .set("step", "seen_by_doctor")
            .at("at", "2026-07-02", "21:15");
        let EventKind::ClinicalEventRecorded(c) = kind("clinical", &empty(), &summer) else {
            panic!("not a clinical event");
        };
        assert_eq!(c.at, parse_instant("2026-07-02T20:15:00Z").unwrap());

        for (code, _) in ClinicalStep::CODES {
            let post = Post::new()
                .set("step", code)
                .set("medication", "buprenorphine")
                .set("substance", "alcohol")
                .set("scope", "single_substance")
                .at("at", "2026-03-02", "09:00");
            let EventKind::ClinicalEventRecorded(c) = kind("clinical", &empty(), &post) else {
                panic!("not a clinical event");
            };
            assert_eq!(c.step.code(), code);
        }

        let unmedicated =
            Post::new()
                .set("step", "prescribing_started")
                .at("at", "2026-03-02", "21:15");
        assert_eq!(
            message("clinical", &empty(), &unmedicated, "medication"),
            "Select the medication prescribed"
        );
        let detox = Post::new()
            .set("step", "detox_started")
            .set("substance", "opiates")
            .at("at", "2026-03-02", "21:15");
        assert!(message("clinical", &empty(), &detox, "scope").starts_with("Select whether"));
    }

    #[test]
    fn bbv_reads_an_optional_dose_and_result() {
        let EventKind::BloodBorneVirusRecorded(b) = kind("bbv", &empty(), &valid_posts()[7].1)
        else {
            panic!("not a BBV record");
        };
        assert_eq!(
            (b.virus, b.step, b.dose, b.result),
            (Virus::HepatitisB, BbvStep::VaccineDose, Some(1), None)
        );
        let tested = Post::new()
            .set("virus", "hepatitis_c")
            .set("step", "tested")
            .date("on", "2026-03-05")
            .set("result", "awaited");
        let EventKind::BloodBorneVirusRecorded(b) = kind("bbv", &empty(), &tested) else {
            panic!("not a BBV record");
        };
        assert_eq!((b.dose, b.result), (None, Some(TestResult::Awaited)));
        let worded = valid_posts()[7].1.clone().put("dose", "first");
        assert_eq!(
            message("bbv", &empty(), &worded, "dose"),
            "Enter the dose number as a whole number, like 1"
        );
    }

    #[test]
    fn naloxone_names_a_family_member_or_carer() {
        let EventKind::NaloxoneSupplied(n) = kind("naloxone", &empty(), &valid_posts()[8].1) else {
            panic!("not naloxone");
        };
        assert_eq!(
            n.to,
            NaloxoneRecipient::FamilyOrCarer {
                name: "Sam Example".into(),
                relationship: "Sister".into()
            }
        );
        assert!(n.training_given && !n.kit_supplied);
        let nobody = Post::new()
            .date("on", "2026-03-06")
            .set("training_given", "yes")
            .set("kit_supplied", "yes");
        assert_eq!(
            message("naloxone", &empty(), &nobody, "recipient"),
            "Select who received it"
        );
    }

    #[test]
    fn drug_intelligence_records_concern_and_action() {
        let EventKind::DrugIntelligenceRecorded(x) =
            kind("drug-intelligence", &empty(), &valid_posts()[9].1)
        else {
            panic!("not intelligence");
        };
        assert_eq!(x.concern, IntelligenceConcern::DivertedMedication);
        assert_eq!(x.action, IntelligenceAction::PrescriptionReview);
        assert_eq!(x.detail, "Seen passing tablets at the hatch");
        let vague = Post::new()
            .date("received_on", "2026-03-07")
            .set("action", "no_action");
        assert_eq!(
            message("drug-intelligence", &empty(), &vague, "concern"),
            "Select what the intelligence concerns"
        );
    }

    #[test]
    fn an_appointment_moves_to_a_new_local_time() {
        let EventKind::AppointmentRescheduled(r) =
            kind("reschedule-appointment", &case(), &valid_posts()[10].1)
        else {
            panic!("not a reschedule");
        };
        assert_eq!(r.appointment, id(APPOINTMENT));
        assert_eq!(r.at, parse_instant("2026-03-13T14:00:00Z").unwrap());
        assert_eq!(r.reason.as_deref(), Some("Wing lock-down"));
        let pm = Post::new()
            .set("appointment", APPOINTMENT)
            .date("at", "2026-03-13")
            .set("at-time", "2pm");
        assert_eq!(
            message("reschedule-appointment", &case(), &pm, "at"),
            "New time of the appointment must be a time in the 24-hour clock, like 14:30"
        );
    }

    #[test]
    fn sentence_plan_keyworker_and_exclusion() {
        let EventKind::SentencePlanContributed(c) =
            kind("sentence-plan", &empty(), &valid_posts()[11].1)
        else {
            panic!("not a contribution");
        };
        assert_eq!(c.contributed_on, d("2026-03-08"));
        assert_eq!(c.summary, "Recommended the recovery programme");
        assert_eq!(
            message(
                "sentence-plan",
                &empty(),
                &Post::new().set("summary", "x"),
                "contributed_on"
            ),
            "Enter the date of the contribution"
        );

        let EventKind::KeyworkerAllocated(k) = kind("keyworker", &empty(), &valid_posts()[12].1)
        else {
            panic!("not an allocation");
        };
        assert_eq!(k.worker.as_str(), "j.smith");
        assert_eq!(k.allocated_on, d("2026-03-02"));
        let spaced = Post::new()
            .set("worker", "j smith")
            .date("allocated_on", "2026-03-02");
        assert_eq!(
            message("keyworker", &empty(), &spaced, "worker"),
            STAFF_USERNAME_MESSAGE
        );

        let EventKind::ServiceExclusionRecorded(x) =
            kind("exclusion", &empty(), &valid_posts()[13].1)
        else {
            panic!("not an exclusion");
        };
        assert_eq!(x.grounds, ExclusionGrounds::SeriousRisk);
        assert_eq!(x.until, Some(d("2026-04-10")));
        assert_eq!(x.commissioner_consent_ref, "KCC-EX-0001");
        let open_ended = valid_posts()[13].1.clone().without("until");
        let EventKind::ServiceExclusionRecorded(x) = kind("exclusion", &empty(), &open_ended)
        else {
            panic!("not an exclusion");
        };
        assert_eq!(x.until, None);
        let half = open_ended.set("until-year", "2026");
        assert_eq!(
            message("exclusion", &empty(), &half, "until"),
            "Date excluded until must include a day and month"
        );
    }

    #[test]
    fn sharing_the_care_plan_names_it_and_needs_live_consent() {
        let case = case();
        let post = valid_posts()[14].1.clone();
        let EventKind::InformationShared(x) = kind("share-care-plan", &case, &post) else {
            panic!("not a share");
        };
        assert_eq!(x.recipient, Recipient::OffenderManagement);
        assert_eq!(
            x.basis,
            SharingBasis::Consent {
                purpose: ConsentPurpose::OffenderManagementSummaries
            }
        );
        assert_eq!(x.about, Some(id(PLAN)));
        assert_eq!(x.shared_on, d("2026-03-10"));

        // Healthcare has no consent in this case: the domain refuses, and says why.
        let healthcare = post.clone().put("recipient", "healthcare");
        let refused = decided(&case, kind("share-care-plan", &case, &healthcare));
        let Err(DomainError::Refused(why)) = refused else {
            panic!("not refused: {refused:?}");
        };
        assert!(why.contains("no live consent"), "{why}");

        let mut no_plan = case.clone();
        no_plan.care_plans.clear();
        assert_eq!(
            message("share-care-plan", &no_plan, &post, "about"),
            "There is no recovery care plan to share: agree one first"
        );
    }

    #[test]
    fn the_appointment_form_takes_a_worker_clinic_and_purpose() {
        let post = Post::new()
            .at("at", "2026-03-12", "10:00")
            .set("worker", "Worker.One")
            .set("clinic", "Healthcare room 2")
            .set("purpose", "Keyworking");
        let EventKind::AppointmentOffered(a) = kind("appointment", &empty(), &post) else {
            panic!("not an offer");
        };
        assert_eq!(
            a.worker.map(|w| w.as_str().to_string()),
            Some(s("worker.one"))
        );
        assert_eq!(a.clinic.as_deref(), Some("Healthcare room 2"));
        assert_eq!(a.purpose.as_deref(), Some("Keyworking"));
        let bad = post.put("worker", "Worker One");
        assert_eq!(
            message("appointment", &empty(), &bad, "worker"),
            STAFF_USERNAME_MESSAGE
        );
    }

    #[test]
    fn the_outcome_form_offers_every_outcome() {
        let spec = forms::spec(
            "appointment-outcome",
            &case(),
            &profile(),
            &FormData::default(),
        )
        .unwrap();
        let outcomes: Vec<String> = spec
            .fields
            .iter()
            .find_map(|x| match x {
                Field::Radios { name, options, .. } if name == "outcome" => {
                    Some(options.iter().map(|(c, _)| c.clone()).collect())
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(
            outcomes,
            [
                "attended",
                "missed",
                "declined",
                "cancelled_by_prison",
                "cancelled_by_service"
            ]
        );
    }

    #[test]
    fn the_timeline_corrects_each_new_fact_with_its_form() {
        let case = case();
        for (form, post) in valid_posts() {
            let kind = kind(form, &case, &post);
            let expected = if form == "share-care-plan" {
                None
            } else {
                Some(form)
            };
            assert_eq!(crate::timeline::form_for(&kind), expected, "{form}");
        }
        let group = EventKind::SessionAttended(SessionAttended {
            session: SessionKind::Group {
                session: Uuid::nil(),
                topic: "Relapse prevention".into(),
            },
            on: d("2026-03-12"),
            minutes: None,
            summary: "Group".into(),
            appointment: None,
        });
        assert_eq!(crate::timeline::form_for(&group), None);
    }
}
