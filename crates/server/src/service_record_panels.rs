//! The manager's dashboard panels for the service's registers, and the same as
//! JSON for `GET /api/v1/service/governance`: obligations due or overdue (KM 4.23–
//! 4.24, 6.4–6.5; S4 §5–10), complaints past their response date and recent
//! feedback (KM 5.39, 6.3.5), issues raised with the commissioner and the actions
//! agreed on them (KM 5.31–5.32, 6.3.6), sub-contractors' registrations expiring or
//! expired (KM 5.29), and recent meetings, involvement and activities. Every
//! figure comes from the domain (`obligations_due`, `Registers`); this module only
//! lays it out.

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{Map, Value, json};
use throughcare_domain::calendar::Calendar;
use throughcare_domain::governance::{LearningAction, ServiceRecord};
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_domain::obligations::{ObligationStatus, obligations_due};
use throughcare_domain::profile::Profile;
use throughcare_domain::service_records::{FeedbackKind, RegistrationStatus, response_due};

/// How far back the dashboard shows meetings, involvement, activities and feedback
/// other than open complaints.
pub const RECENT_DAYS: i64 = 90;

/// One row of a panel.
pub struct Row {
    /// The cells, in column order.
    pub cells: Vec<String>,
    /// A tag for the last column (Overdue, Expired, …) shown in red, if any.
    pub flag: Option<String>,
    /// A link for the row's action: (href, words).
    pub link: Option<(String, String)>,
}

impl Row {
    fn plain(cells: Vec<String>) -> Row {
        Row {
            cells,
            flag: None,
            link: None,
        }
    }
}

/// An open commissioner issue and the actions agreed on it.
pub struct IssueRow {
    /// Reference, raised, kind, summary, solution.
    pub cells: Vec<String>,
    /// Urgent (KM 5.32).
    pub urgent: bool,
    /// The agreed actions, one line each.
    pub actions: Vec<Row>,
    /// Where to record another agreed action.
    pub add_action: String,
}

/// The registers' panels of the dashboard.
pub struct Panels {
    /// Obligations not yet done, overdue first.
    pub obligations: Vec<Row>,
    /// Open complaints (overdue first), then other feedback of the last 90 days.
    pub feedback: Vec<Row>,
    /// Open commissioner issues.
    pub issues: Vec<IssueRow>,
    /// Active sub-contractors' registrations, expired and expiring first.
    pub subcontractors: Vec<Row>,
    /// Meetings, involvement and activities of the last 90 days here, newest first.
    pub recent: Vec<Row>,
}

fn long(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn action_row(a: &LearningAction, today: NaiveDate) -> Row {
    let overdue = a.completed_on.is_none() && a.due_on < today;
    Row {
        cells: vec![
            a.action.clone(),
            a.owner.clone(),
            format!("due {}", long(a.due_on)),
            match a.completed_on {
                Some(done) => format!("done {}", long(done)),
                None if overdue => "Overdue".into(),
                None => "Open".into(),
            },
        ],
        flag: overdue.then(|| "Overdue".to_string()),
        link: None,
    }
}

/// The panels for a manager at `here`, as at `today`. Obligations, commissioner
/// issues and sub-contractors are the whole service's; feedback, meetings,
/// involvement and activities are those recorded at `here`.
pub fn panels(
    r: &ServiceRecord,
    profile: &Profile,
    calendar: &Calendar,
    here: &EstablishmentCode,
    today: NaiveDate,
) -> Panels {
    let since = today - Duration::days(RECENT_DAYS);
    let obligations = obligations_due(profile, r, today)
        .into_iter()
        .filter(|o| o.status != ObligationStatus::Done)
        .map(|o| {
            let overdue = o.status == ObligationStatus::Overdue;
            Row {
                cells: vec![
                    format!("{} ({})", o.title, o.spec),
                    o.period_label.clone(),
                    long(o.due_on),
                    if overdue { "Overdue" } else { "Due" }.into(),
                ],
                flag: overdue.then(|| "Overdue".to_string()),
                link: Some((
                    format!(
                        "/governance/record/obligation-done?obligation={}&period={}",
                        o.obligation, o.period
                    ),
                    "Mark as done".into(),
                )),
            }
        })
        .collect();

    let regs = &r.registers;
    let mut feedback: Vec<(u8, NaiveDate, Row)> = regs
        .feedback
        .values()
        .filter(|(_, e, _)| e == here)
        .map(|(_, _, f)| f)
        .filter_map(|f| {
            let complaint = f.kind == FeedbackKind::Complaint;
            let open = complaint && f.responded_on.is_none();
            if !open && f.received_on < since {
                return None;
            }
            let due = complaint.then(|| response_due(f.received_on, profile, calendar));
            let overdue = open && due.is_some_and(|d| d < today);
            let status = match (f.responded_on, f.finding) {
                (Some(on), Some(finding)) => format!("Answered {} – {}", long(on), finding.label()),
                (Some(on), None) => format!("Answered {}", long(on)),
                (None, _) if overdue => "Overdue".into(),
                (None, _) if open => match f.acknowledged_on {
                    Some(ack) => format!("Acknowledged {}", long(ack)),
                    None => "Open".into(),
                },
                (None, _) => "Received".into(),
            };
            let rank = if overdue {
                0
            } else if open {
                1
            } else {
                2
            };
            Some((
                rank,
                f.received_on,
                Row {
                    cells: vec![
                        f.feedback_ref.clone(),
                        long(f.received_on),
                        f.kind.label().into(),
                        f.from.label().into(),
                        f.summary.clone(),
                        due.map(long).unwrap_or_default(),
                        status,
                    ],
                    flag: overdue.then(|| "Overdue".to_string()),
                    link: None,
                },
            ))
        })
        .collect();
    // Open complaints oldest first; other feedback newest first.
    feedback.sort_by_key(|(rank, received, _)| {
        let day = received.num_days_from_ce();
        (*rank, if *rank < 2 { day } else { -day })
    });

    let issues = regs
        .issues
        .values()
        .filter(|(_, e, i)| e == here && i.resolved_on.is_none())
        .map(|(_, _, i)| i)
        .map(|i| IssueRow {
            cells: vec![
                i.issue_ref.clone(),
                long(i.raised_on),
                i.kind.label().into(),
                i.summary.clone(),
                i.solution
                    .clone()
                    .unwrap_or_else(|| "Not yet agreed".into()),
            ],
            urgent: i.urgent,
            actions: r
                .actions_for(&i.issue_ref)
                .into_iter()
                .map(|a| action_row(a, today))
                .collect(),
            add_action: format!(
                "/governance/record/learning-action?source_ref={}",
                url_component(&i.issue_ref)
            ),
        })
        .collect();

    let warning = profile.clocks.registration_warning_days;
    let mut subcontractors: Vec<(u8, Option<NaiveDate>, Row)> = Vec::new();
    for (_, s) in regs.subcontractors.values() {
        if !s.active_on(today) {
            continue;
        }
        if s.registrations.is_empty() {
            subcontractors.push((
                3,
                None,
                Row::plain(vec![
                    s.name.clone(),
                    s.provides.clone(),
                    "None recorded".into(),
                    String::new(),
                    String::new(),
                ]),
            ));
        }
        for reg in &s.registrations {
            let status = reg.status(today, warning);
            let rank = match status {
                RegistrationStatus::Expired => 0,
                RegistrationStatus::ExpiringSoon => 1,
                RegistrationStatus::Current => 2,
                RegistrationStatus::NoExpiry => 3,
            };
            subcontractors.push((
                rank,
                reg.expires_on,
                Row {
                    cells: vec![
                        s.name.clone(),
                        s.provides.clone(),
                        format!("{}: {}", reg.kind.label(), reg.reference),
                        reg.expires_on.map(long).unwrap_or_default(),
                        status.label().into(),
                    ],
                    flag: (rank < 2).then(|| status.label().to_string()),
                    link: None,
                },
            ));
        }
    }
    subcontractors.sort_by_key(|(rank, expires, _)| (*rank, *expires));

    let mut recent: Vec<(NaiveDate, Row)> = Vec::new();
    for (_, e, m) in &regs.meetings {
        if e == here && m.held_on >= since {
            let what = match &m.title {
                Some(t) => format!("{} – {t}", m.kind.label()),
                None => m.kind.label().into(),
            };
            recent.push((
                m.held_on,
                Row::plain(vec![
                    long(m.held_on),
                    what,
                    m.attended_by.join(", "),
                    m.notes.clone().unwrap_or_default(),
                ]),
            ));
        }
    }
    for (_, e, i) in &regs.involvement {
        if e == here && i.held_on >= since {
            recent.push((
                i.held_on,
                Row::plain(vec![
                    long(i.held_on),
                    i.kind.label().into(),
                    format!(
                        "{} service users, {} family or carers",
                        i.service_users, i.family_and_carers
                    ),
                    match &i.influence {
                        Some(x) => format!("{} Influence: {x}", i.summary),
                        None => i.summary.clone(),
                    },
                ]),
            ));
        }
    }
    for (_, e, a) in &regs.activities {
        if e == here && a.on >= since {
            recent.push((
                a.on,
                Row::plain(vec![
                    long(a.on),
                    format!("{}: {}", a.kind.label(), a.title),
                    match (&a.audience, a.reached) {
                        (Some(who), Some(n)) => format!("{who} ({n})"),
                        (Some(who), None) => who.clone(),
                        (None, Some(n)) => format!("{n} people"),
                        (None, None) => String::new(),
                    },
                    String::new(),
                ]),
            ));
        }
    }
    recent.sort_by_key(|(on, _)| std::cmp::Reverse(*on));

    Panels {
        obligations,
        feedback: feedback.into_iter().map(|(_, _, r)| r).collect(),
        issues,
        subcontractors: subcontractors.into_iter().map(|(_, _, r)| r).collect(),
        recent: recent.into_iter().map(|(_, r)| r).collect(),
    }
}

/// A query-string value with the characters that would break it escaped.
fn url_component(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The registers as JSON for the API, as the dashboard shows them to the manager of
/// `here` as at `today` (issue 14: an API route shows no more than its page): the
/// service's obligations with their status and its sub-contractors with each
/// registration's status (both are the service's, not one prison's); and, for
/// `here` only, open and overdue complaints with their response dates, feedback,
/// meetings, involvement, activities, and commissioner issues with their actions.
pub fn json(
    r: &ServiceRecord,
    profile: &Profile,
    calendar: &Calendar,
    here: &EstablishmentCode,
    today: NaiveDate,
) -> Map<String, Value> {
    let regs = &r.registers;
    let feedback_here: std::collections::BTreeSet<&str> = regs
        .feedback
        .values()
        .filter(|(_, e, _)| e == here)
        .map(|(_, _, f)| f.feedback_ref.as_str())
        .collect();
    let warning = profile.clocks.registration_warning_days;
    let mut m = Map::new();
    m.insert(
        "obligations".into(),
        json!(obligations_due(profile, r, today)),
    );
    m.insert(
        "open_complaints".into(),
        Value::Array(
            regs.open_complaints(profile, calendar)
                .into_iter()
                .filter(|(f, _)| feedback_here.contains(f.feedback_ref.as_str()))
                .map(|(f, due)| json!({"feedback": f, "response_due": due, "overdue": due < today}))
                .collect(),
        ),
    );
    m.insert(
        "feedback".into(),
        Value::Array(
            regs.feedback
                .values()
                .filter(|(_, e, _)| e == here)
                .map(|(_, e, f)| json!({"establishment": e, "feedback": f}))
                .collect(),
        ),
    );
    m.insert(
        "meetings".into(),
        Value::Array(
            regs.meetings
                .iter()
                .filter(|(_, e, _)| e == here)
                .map(|(_, e, x)| json!({"establishment": e, "meeting": x}))
                .collect(),
        ),
    );
    m.insert(
        "involvement".into(),
        Value::Array(
            regs.involvement
                .iter()
                .filter(|(_, e, _)| e == here)
                .map(|(_, e, x)| json!({"establishment": e, "involvement": x}))
                .collect(),
        ),
    );
    m.insert(
        "activities".into(),
        Value::Array(
            regs.activities
                .iter()
                .filter(|(_, e, _)| e == here)
                .map(|(_, e, x)| json!({"establishment": e, "activity": x}))
                .collect(),
        ),
    );
    m.insert(
        "commissioner_issues".into(),
        Value::Array(
            regs.issues
                .values()
                .filter(|(_, e, _)| e == here)
                .map(|(_, e, i)| {
                    json!({"establishment": e, "issue": i, "open": i.resolved_on.is_none(),
                        "actions": r.actions_for(&i.issue_ref)})
                })
                .collect(),
        ),
    );
    m.insert(
        "subcontractors".into(),
        Value::Array(
            regs.subcontractors
                .values()
                .map(|(_, s)| {
                    json!({"subcontractor": s, "active": s.active_on(today),
                        "registration_status": s.registrations.iter().map(|x| x.status(today, warning)).collect::<Vec<_>>()})
                })
                .collect(),
        ),
    );
    m.insert(
        "registrations_needing_attention".into(),
        Value::Array(
            regs.registrations_needing_attention(today, warning)
                .into_iter()
                .map(|(s, x, st)| json!({"subcontractor": s.name, "registration": x, "status": st}))
                .collect(),
        ),
    );
    m
}
