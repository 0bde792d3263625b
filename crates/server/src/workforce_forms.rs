//! The workforce forms on the governance dashboard (KM 5.42–5.50, 6.3.1): a staff
//! record, a trainee's sign-off, evidence of competence in a DANOS unit, a training
//! course, the annual training needs analysis, and a vacancy. Each form becomes one
//! service fact; the domain checks it (`throughcare_domain::workforce::validate`).

use throughcare_domain::danos;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_domain::workforce::{
    Clearance, CompetenceEvidence, StaffMember, StaffRole, TraineeSignOff, Traineeship,
    TrainingCourse, TrainingNeedsAnalysis, TrainingRecord, TrainingStatus, Vacancy,
};

use throughcare_domain::error::DomainError;
use throughcare_store::Store;

use crate::chrome::FormErrors;
use crate::form_data::FormData;
use crate::forms::{Field, FormSpec, area, date, radios, s, text, yes_no_options};
use crate::governance_pages::options;
use crate::recording::RecordError;

/// The workforce forms, by the name in their URL.
pub const FORMS: [(&str, &str); 6] = [
    ("staff", "Record a member of staff"),
    ("competence", "Record evidence of competence"),
    ("training", "Record training"),
    ("trainee-sign-off", "Sign off a trainee"),
    (
        "training-needs-analysis",
        "Record the training needs analysis",
    ),
    ("vacancy", "Record a vacancy"),
];

/// A staff record is linked to a sign-in account: refuses one whose username has no
/// account (KM 5.43.3 evidence must belong to someone who can sign in).
pub fn check_account(store: &dyn Store, kind: &EventKind) -> Result<(), RecordError> {
    if let EventKind::StaffRecorded(s) = kind
        && store.account(&s.username)?.is_none()
    {
        return Err(DomainError::invalid(
            "username",
            format!(
                "There is no sign-in account called {}: create the account first",
                s.username
            ),
        )
        .into());
    }
    Ok(())
}

/// The date fields each form fills with today's date when first shown.
pub fn today_fields(form: &str) -> Option<&'static [&'static str]> {
    Some(match form {
        "staff" => &[],
        "competence" => &["assessed_on"],
        "training" => &["on"],
        "trainee-sign-off" => &["signed_off_on"],
        "training-needs-analysis" => &["completed_on"],
        "vacancy" => &["vacant_since"],
        _ => return None,
    })
}

fn username(f: &FormData) -> Field {
    text(f, "username", "Username (their sign-in account)", "")
}

/// The form called `form`, if it is a workforce form.
pub fn spec(form: &str, f: &FormData, profile: &Profile) -> Option<FormSpec> {
    let title = FORMS.iter().find(|(n, _)| *n == form)?.1;
    let roles = || options(StaffRole::ALL, StaffRole::code, StaffRole::label);
    let fields = match form {
        "staff" => vec![
            text(
                f,
                "username",
                "Username (their sign-in account)",
                "Record it again with the same username to update it",
            ),
            text(f, "name", "Name", ""),
            radios(f, "role", "Role", roles()),
            Field::Checkboxes {
                name: s("establishments"),
                legend: s("Establishments they work at"),
                options: profile
                    .establishments
                    .iter()
                    .map(|e| (e.code.to_string(), e.name.clone()))
                    .collect(),
                selected: f.all("establishments"),
            },
            radios(
                f,
                "line_manager",
                "Do they line-manage others?",
                yes_no_options(),
            ),
            radios(
                f,
                "brief_interventions",
                "Do they undertake motivational approaches and brief interventions (KM 5.48)?",
                yes_no_options(),
            ),
            date(
                f,
                "clearance_granted_on",
                "Prison Service clearance granted (KM 5.46; leave blank if not yet)",
            ),
            date(f, "clearance_expires_on", "Clearance expires"),
            radios(
                f,
                "trainee",
                "Are they a trainee (KM 5.43.1)?",
                yes_no_options(),
            ),
            date(f, "trainee_since", "Traineeship began"),
            text(
                f,
                "supervisor",
                "Supervisor's username (a fully competent practitioner)",
                "",
            ),
            date(
                f,
                "revalidation_due_on",
                "Professional revalidation due (clinicians; KM 5.49)",
            ),
            date(f, "left_on", "Left the service (leave blank while in post)"),
        ],
        "competence" => vec![
            username(f),
            Field::Select {
                name: s("unit"),
                label: s("DANOS unit (KM tables 1–3)"),
                options: danos::all_units()
                    .into_iter()
                    .map(|u| (u.code.clone(), format!("{} {}", u.code, u.title)))
                    .collect(),
                selected: f.get("unit").to_string(),
            },
            area(f, "evidence", "Evidence of competence"),
            date(f, "assessed_on", "Date assessed"),
        ],
        "training" => vec![
            username(f),
            radios(
                f,
                "course",
                "Course",
                options(
                    TrainingCourse::ALL,
                    TrainingCourse::code,
                    TrainingCourse::label,
                ),
            ),
            text(f, "title", "Course title (for another course)", ""),
            radios(
                f,
                "status",
                "Status",
                options(
                    TrainingStatus::ALL,
                    TrainingStatus::code,
                    TrainingStatus::label,
                ),
            ),
            date(f, "on", "Date completed, or begun"),
        ],
        "trainee-sign-off" => vec![username(f), date(f, "signed_off_on", "Date signed off")],
        "training-needs-analysis" => vec![
            text(f, "year", "Year it covers", ""),
            date(f, "completed_on", "Date completed"),
            area(
                f,
                "summary",
                "What it found (record its actions as learning actions from TNA-<year>)",
            ),
        ],
        "vacancy" => vec![
            text(
                f,
                "post_ref",
                "Post reference",
                "Record it again with the same reference when it is filled",
            ),
            text(f, "post", "Post title", ""),
            radios(f, "role", "Role", roles()),
            date(f, "vacant_since", "Vacant since"),
            date(f, "filled_on", "Filled on (leave blank while vacant)"),
        ],
        _ => return None,
    };
    Some(FormSpec {
        title: s(title),
        fields,
    })
}

fn staff_username(f: &FormData, name: &str, e: &mut FormErrors) -> Option<StaffUsername> {
    let raw = f.get(name).trim();
    if raw.is_empty() {
        e.add(name, "Enter the username");
        return None;
    }
    match StaffUsername::parse(raw) {
        Ok(u) => Some(u),
        Err(err) => {
            e.add(name, err.to_string());
            None
        }
    }
}

/// The fact a submitted workforce form records, or every problem with it; `None`
/// if `form` is not a workforce form.
pub fn parse(form: &str, f: &FormData) -> Option<Result<EventKind, FormErrors>> {
    let mut e = FormErrors::default();
    let kind = match form {
        "staff" => {
            let username = staff_username(f, "username", &mut e);
            let name = f.required("name", "Enter the member of staff's name", &mut e);
            let role = f.choice("role", "Select the role", &mut e, StaffRole::from_code);
            let mut establishments = Vec::new();
            for code in f.all("establishments") {
                match EstablishmentCode::parse(&code) {
                    Ok(c) => establishments.push(c),
                    Err(err) => e.add("establishments", err.to_string()),
                }
            }
            let line_manager = f.yes_no(
                "line_manager",
                "Select whether they line-manage others",
                &mut e,
            );
            let brief = f.yes_no(
                "brief_interventions",
                "Select whether they undertake brief interventions",
                &mut e,
            );
            let granted =
                f.optional_date("clearance_granted_on", "Date clearance was granted", &mut e);
            let expires = f.optional_date("clearance_expires_on", "Date clearance expires", &mut e);
            let clearance = match (granted, expires) {
                (Some(Some(granted_on)), Some(Some(expires_on))) => Some(Clearance {
                    granted_on,
                    expires_on,
                }),
                (Some(None), Some(None)) => None,
                (Some(Some(_)), Some(None)) => {
                    e.add("clearance_expires_on", "Enter when the clearance expires");
                    None
                }
                (Some(None), Some(Some(_))) => {
                    e.add(
                        "clearance_granted_on",
                        "Enter when the clearance was granted",
                    );
                    None
                }
                _ => None,
            };
            let trainee = match f.yes_no("trainee", "Select whether they are a trainee", &mut e) {
                Some(true) => {
                    let since = f.date("trainee_since", "Date the traineeship began", &mut e);
                    let supervisor = staff_username(f, "supervisor", &mut e);
                    match (since, supervisor) {
                        (Some(since), Some(supervisor)) => Some(Traineeship { since, supervisor }),
                        _ => None,
                    }
                }
                _ => None,
            };
            let revalidation =
                f.optional_date("revalidation_due_on", "Revalidation due date", &mut e);
            let left = f.optional_date("left_on", "Date they left", &mut e);
            match (
                username,
                name,
                role,
                line_manager,
                brief,
                revalidation,
                left,
            ) {
                (
                    Some(username),
                    Some(name),
                    Some(role),
                    Some(line_manager),
                    Some(brief_interventions),
                    Some(revalidation_due_on),
                    Some(left_on),
                ) => Some(EventKind::StaffRecorded(StaffMember {
                    username,
                    name,
                    role,
                    establishments,
                    line_manager,
                    brief_interventions,
                    clearance,
                    trainee,
                    revalidation_due_on,
                    left_on,
                })),
                _ => None,
            }
        }
        "competence" => {
            let username = staff_username(f, "username", &mut e);
            let unit = f.required("unit", "Select the unit", &mut e);
            let evidence = f.required("evidence", "Enter the evidence of competence", &mut e);
            let assessed_on = f.date("assessed_on", "Date assessed", &mut e);
            match (username, unit, evidence, assessed_on) {
                (Some(username), Some(unit), Some(evidence), Some(assessed_on)) => {
                    Some(EventKind::CompetenceRecorded(CompetenceEvidence {
                        username,
                        unit,
                        evidence,
                        assessed_on,
                    }))
                }
                _ => None,
            }
        }
        "training" => {
            let username = staff_username(f, "username", &mut e);
            let course = f.choice(
                "course",
                "Select the course",
                &mut e,
                TrainingCourse::from_code,
            );
            let status = f.choice(
                "status",
                "Select whether it is completed or being undertaken",
                &mut e,
                TrainingStatus::from_code,
            );
            let on = f.date("on", "Date completed or begun", &mut e);
            match (username, course, status, on) {
                (Some(username), Some(course), Some(status), Some(on)) => {
                    Some(EventKind::TrainingRecorded(TrainingRecord {
                        username,
                        course,
                        title: f.optional("title"),
                        status,
                        on,
                    }))
                }
                _ => None,
            }
        }
        "trainee-sign-off" => {
            let username = staff_username(f, "username", &mut e);
            let on = f.date("signed_off_on", "Date signed off", &mut e);
            match (username, on) {
                (Some(username), Some(signed_off_on)) => {
                    Some(EventKind::TraineeSignedOff(TraineeSignOff {
                        username,
                        signed_off_on,
                    }))
                }
                _ => None,
            }
        }
        "training-needs-analysis" => {
            let year = match f.get("year").trim().parse::<i32>() {
                Ok(y) => Some(y),
                Err(_) => {
                    e.add("year", "Enter the year as four digits, like 2026");
                    None
                }
            };
            let completed_on = f.date("completed_on", "Date completed", &mut e);
            let summary = f.required("summary", "Enter what the analysis found", &mut e);
            match (year, completed_on, summary) {
                (Some(year), Some(completed_on), Some(summary)) => Some(
                    EventKind::TrainingNeedsAnalysisRecorded(TrainingNeedsAnalysis {
                        year,
                        completed_on,
                        summary,
                    }),
                ),
                _ => None,
            }
        }
        "vacancy" => {
            let post_ref = f.required("post_ref", "Enter the post's reference", &mut e);
            let post = f.required("post", "Enter the post's title", &mut e);
            let role = f.choice("role", "Select the role", &mut e, StaffRole::from_code);
            let vacant_since = f.date("vacant_since", "Date the post fell vacant", &mut e);
            let filled_on = f.optional_date("filled_on", "Date the post was filled", &mut e);
            match (post_ref, post, role, vacant_since, filled_on) {
                (Some(post_ref), Some(post), Some(role), Some(vacant_since), Some(filled_on)) => {
                    Some(EventKind::VacancyRecorded(Vacancy {
                        post_ref,
                        post,
                        role,
                        vacant_since,
                        filled_on,
                    }))
                }
                _ => None,
            }
        }
        _ => return None,
    };
    Some(match kind {
        Some(k) if e.is_empty() => Ok(k),
        _ => {
            if e.is_empty() {
                e.add("form", "Check the form");
            }
            Err(e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form_data::Post;

    #[test]
    fn a_staff_record_with_a_traineeship_parses_and_names_missing_fields() {
        let f = Post::new()
            .set("username", "trainee.tia")
            .set("name", "Tia Synthetic")
            .set("role", "substance_use_worker")
            .set("establishments", "MDI")
            .set("line_manager", "no")
            .set("brief_interventions", "no")
            .set("trainee", "yes")
            .date("trainee_since", "2026-03-02")
            .set("supervisor", "worker.sam")
            .data();
        let Some(Ok(EventKind::StaffRecorded(s))) = parse("staff", &f) else {
            panic!("expected a staff record");
        };
        assert_eq!(
            s.trainee.map(|t| t.supervisor.to_string()),
            Some("worker.sam".into())
        );
        assert!(s.clearance.is_none());

        let f = Post::new()
            .set("username", "trainee.tia")
            .set("trainee", "yes")
            .date("clearance_granted_on", "2026-03-02")
            .data();
        let Some(Err(e)) = parse("staff", &f) else {
            panic!("expected problems");
        };
        for field in [
            "name",
            "role",
            "line_manager",
            "brief_interventions",
            "clearance_expires_on",
            "trainee_since",
            "supervisor",
        ] {
            assert!(
                e.for_field(field).is_some() || e.for_date(field).is_some(),
                "{field} not named"
            );
        }
    }

    #[test]
    fn other_forms_are_not_workforce_forms() {
        assert!(parse("incident", &FormData::from_pairs(vec![])).is_none());
        let profile = Profile::builtin("kent-medway").unwrap();
        assert!(spec("incident", &FormData::from_pairs(vec![]), &profile).is_none());
        assert!(spec("competence", &FormData::from_pairs(vec![]), &profile).is_some());
    }
}
