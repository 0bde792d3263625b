//! The workforce panels of the manager's governance dashboard (REQUIREMENTS §15; KM
//! 5.42–5.50, 6.3.1): staff working at the manager's establishment, competence gaps by
//! DANOS unit, training due or overdue, clearances missing or expiring, trainees'
//! sign-off dates, revalidations due, the training needs analysis and vacancies.

use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::workforce::{
    StaffMember, TrainingCourse, TrainingState, Workforce, WorkforceSettings,
};

use crate::governance_pages::Row;

/// What the dashboard shows about the workforce at one establishment.
pub struct WorkforcePanels {
    /// One row per member of staff.
    pub staff: Vec<Row>,
    /// Units some staff lack: code and title, how many, who.
    pub gaps: Vec<Row>,
    /// Training missing, due or overdue.
    pub training: Vec<Row>,
    /// Clearances missing, expired or expiring.
    pub clearances: Vec<Row>,
    /// Trainees and the date they are to be signed off by.
    pub trainees: Vec<Row>,
    /// Revalidations due.
    pub revalidations: Vec<Row>,
    /// Posts vacant.
    pub vacancies: Vec<Row>,
    /// The training needs analysis for this year, in words.
    pub analysis: String,
}

fn long(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn works_here(s: &StaffMember, here: &EstablishmentCode) -> bool {
    s.establishments.contains(here)
}

impl WorkforcePanels {
    /// The panels for `here` as at `today`.
    pub fn build(
        w: &Workforce,
        settings: &WorkforceSettings,
        here: &EstablishmentCode,
        today: NaiveDate,
    ) -> WorkforcePanels {
        let staff = w
            .current_staff(today)
            .filter(|s| works_here(s, here))
            .map(|s| {
                let required = w.required_units(s).len();
                let missing = w.missing_units(s).len();
                let cp = w
                    .next_due(&s.username, TrainingCourse::ChildProtection, settings)
                    .map(long)
                    .unwrap_or_else(|| "Not recorded".into());
                Row {
                    cells: vec![
                        s.username.to_string(),
                        s.name.clone(),
                        s.role.label().into(),
                        s.clearance
                            .as_ref()
                            .map(|c| long(c.expires_on))
                            .unwrap_or_else(|| "None recorded".into()),
                        if w.is_trainee(&s.username) {
                            format!(
                                "Trainee (supervisor {})",
                                s.trainee
                                    .as_ref()
                                    .map(|t| t.supervisor.to_string())
                                    .unwrap_or_default()
                            )
                        } else {
                            "—".into()
                        },
                        format!("{} of {}", required - missing, required),
                        cp,
                    ],
                    overdue: missing > 0 && w.is_trainee(&s.username),
                }
            })
            .collect();
        let gaps = w
            .competence_gaps(today)
            .into_iter()
            .filter_map(|(unit, who)| {
                let who: Vec<String> = who
                    .into_iter()
                    .filter(|s| works_here(s, here))
                    .map(|s| s.username.to_string())
                    .collect();
                (!who.is_empty()).then(|| Row {
                    cells: vec![
                        format!("{} {}", unit.code, unit.title),
                        who.len().to_string(),
                        who.join(", "),
                    ],
                    overdue: false,
                })
            })
            .collect();
        let training = w
            .training_due(settings, today)
            .into_iter()
            .filter(|t| {
                w.staff
                    .get(&t.username)
                    .is_some_and(|s| works_here(s, here))
            })
            .map(|t| Row {
                cells: vec![
                    t.username.to_string(),
                    t.course.label().into(),
                    t.due_on.map(long).unwrap_or_else(|| "—".into()),
                    match t.state {
                        TrainingState::Missing => "Not done",
                        TrainingState::Overdue => "Overdue",
                        TrainingState::Due => "Due",
                    }
                    .into(),
                ],
                overdue: t.state != TrainingState::Due,
            })
            .collect();
        let clearances = w
            .clearances_expiring(settings, today)
            .into_iter()
            .filter(|(s, _)| works_here(s, here))
            .map(|(s, expires)| Row {
                cells: vec![
                    s.username.to_string(),
                    s.name.clone(),
                    match expires {
                        None => "No clearance recorded".into(),
                        Some(d) if d < today => format!("Expired {}", long(d)),
                        Some(d) => format!("Expires {}", long(d)),
                    },
                ],
                overdue: expires.is_none_or(|d| d < today),
            })
            .collect();
        let trainees = w
            .sign_offs_due(settings)
            .into_iter()
            .filter(|(s, _)| works_here(s, here))
            .map(|(s, due)| Row {
                cells: vec![
                    s.username.to_string(),
                    s.trainee
                        .as_ref()
                        .map(|t| t.supervisor.to_string())
                        .unwrap_or_default(),
                    format!("{} units to evidence", w.missing_units(s).len()),
                    long(due),
                ],
                overdue: due < today,
            })
            .collect();
        let revalidations = w
            .revalidations_due(settings, today)
            .into_iter()
            .filter(|(s, _)| works_here(s, here))
            .map(|(s, due)| Row {
                cells: vec![s.username.to_string(), s.role.label().into(), long(due)],
                overdue: due < today,
            })
            .collect();
        let vacancies = w
            .open_vacancies(today)
            .into_iter()
            .filter(|(e, _)| *e == here)
            .map(|(_, v)| Row {
                cells: vec![
                    v.post_ref.clone(),
                    v.post.clone(),
                    long(v.vacant_since),
                    format!("{} days", (today - v.vacant_since).num_days()),
                ],
                overdue: false,
            })
            .collect();
        let analysis = match w.analyses.get(&today.year()) {
            Some(a) => format!(
                "The training needs analysis for {} was completed on {}.",
                a.year,
                long(a.completed_on)
            ),
            None => format!(
                "No training needs analysis recorded for {} yet (KM 5.43.2: annual).",
                today.year()
            ),
        };
        WorkforcePanels {
            staff,
            gaps,
            training,
            clearances,
            trainees,
            revalidations,
            vacancies,
            analysis,
        }
    }
}

/// The workforce figures as JSON for `GET /api/v1/service/governance`: the same
/// people and posts the dashboard shows the manager of `here` (staff who work at
/// `here`, its vacancies), so the API shows no more than the page (issue 14).
pub fn json(
    w: &Workforce,
    settings: &WorkforceSettings,
    here: &EstablishmentCode,
    today: NaiveDate,
) -> Value {
    let of_here = |u: &StaffUsername| w.staff.get(u).is_some_and(|s| works_here(s, here));
    json!({
        "staff": w.current_staff(today).filter(|s| works_here(s, here)).collect::<Vec<_>>(),
        "trainees": w.trainees().into_iter().filter(|u| of_here(u)).collect::<Vec<_>>(),
        "competence_gaps": w.competence_gaps(today).into_iter().filter_map(|(u, who)| {
            let who: Vec<_> = who.iter().filter(|s| works_here(s, here)).map(|s| &s.username).collect();
            (!who.is_empty()).then(|| json!({"unit": u.code, "staff": who}))
        }).collect::<Vec<_>>(),
        "training_due": w.training_due(settings, today).into_iter().filter(|t| of_here(&t.username)).map(|t| json!({"username": t.username, "course": t.course, "due_on": t.due_on, "state": format!("{:?}", t.state).to_lowercase()})).collect::<Vec<_>>(),
        "clearances_expiring": w.clearances_expiring(settings, today).into_iter().filter(|(s, _)| works_here(s, here)).map(|(s, e)| json!({"username": s.username, "expires_on": e})).collect::<Vec<_>>(),
        "vacancies": w.open_vacancies(today).into_iter().filter(|(e, _)| *e == here).map(|(e, v)| json!({"establishment": e, "vacancy": v})).collect::<Vec<_>>(),
    })
}
