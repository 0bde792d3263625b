//! The manager's forms for the service's registers (issue 6): meetings attended,
//! complaints, comments and compliments, involvement, activities, issues raised
//! with the commissioner, sub-contractors, and an obligation marked done.
//!
//! `governance_pages` serves them at `/governance/record/{form}` beside its own
//! (manager only) and hands them here for their fields and parsing. Fields are
//! checked for their shape here; the rules are the domain's
//! (`service_records::validate`, `obligations::check_against_profile`), whose
//! messages come back to fields of the same names.

use chrono::NaiveDate;
use throughcare_domain::events::EventKind;
use throughcare_domain::obligations::ObligationCompleted;
use throughcare_domain::profile::Profile;
use throughcare_domain::service_records::{
    Activity, ActivityKind, CommissionerIssue, ComplaintFinding, Feedback, FeedbackFrom,
    FeedbackKind, Involvement, InvolvementKind, IssueKind, MeetingAttended, MeetingKind,
    Registration, RegistrationKind, Subcontractor,
};

use crate::care_forms::{lines, optional_date};
use crate::chrome::FormErrors;
use crate::form_data::FormData;
use crate::forms::{Field, FormSpec, area, date, radios, s, select, text, yes_no_options};

/// These forms, by the name in their URL, with their titles.
pub const FORMS: [(&str, &str); 7] = [
    ("meeting", "Record a meeting attended"),
    ("feedback", "Record a complaint, comment or compliment"),
    ("involvement", "Record service-user or carer involvement"),
    (
        "activity",
        "Record an awareness session, campaign or health promotion",
    ),
    (
        "commissioner-issue",
        "Record an issue raised with the commissioner",
    ),
    (
        "subcontractor",
        "Record a sub-contractor and its registrations",
    ),
    ("obligation-done", "Mark an obligation done"),
];

/// How many registrations the sub-contractor form offers at once.
pub const REGISTRATION_SLOTS: usize = 3;

/// Whether `form` is one of these forms.
pub fn handles(form: &str) -> bool {
    FORMS.iter().any(|(name, _)| *name == form)
}

/// The required date fields, which start with today's date on a new form.
pub fn date_fields(form: &str) -> &'static [&'static str] {
    match form {
        "meeting" | "involvement" => &["held_on"],
        "feedback" => &["received_on"],
        "activity" => &["on"],
        "commissioner-issue" => &["raised_on"],
        "obligation-done" => &["done_on"],
        _ => &[],
    }
}

/// Values a link may fill in on a new form: the obligation and its period (from the
/// dashboard's obligations), the issue an agreed action comes from (the
/// `learning-action` form, from the commissioner issues).
pub fn prefill(form: &str, query: &[(String, String)]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (k, v) in query {
        match (form, k.as_str()) {
            ("obligation-done", "obligation") | ("learning-action", "source_ref") => {
                pairs.push((k.clone(), v.clone()));
            }
            ("obligation-done", "period") => {
                if let Ok(day) = v.parse::<NaiveDate>() {
                    pairs.push(("period-day".into(), day.format("%-d").to_string()));
                    pairs.push(("period-month".into(), day.format("%-m").to_string()));
                    pairs.push(("period-year".into(), day.format("%Y").to_string()));
                }
            }
            _ => {}
        }
    }
    pairs
}

fn options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter().map(|v| (s(code(*v)), s(label(*v)))).collect()
}

/// What a form shows, filled with the values submitted so far.
pub fn spec(form: &str, f: &FormData, profile: &Profile) -> Option<FormSpec> {
    let title = FORMS.iter().find(|(n, _)| *n == form)?.1;
    let fields = match form {
        "meeting" => vec![
            radios(
                f,
                "kind",
                "Which meeting",
                options(MeetingKind::ALL, MeetingKind::code, MeetingKind::label),
            ),
            text(f, "title", "Meeting name", "Required for another meeting"),
            date(f, "held_on", "Date of the meeting"),
            area(
                f,
                "attended_by",
                "Who attended for the service (one per line)",
            ),
            area(f, "notes", "What the service contributed or took away"),
        ],
        "feedback" => vec![
            text(
                f,
                "feedback_ref",
                "Reference",
                "Record it again with the same reference to add its handling",
            ),
            radios(
                f,
                "kind",
                "What is it?",
                options(FeedbackKind::ALL, FeedbackKind::code, FeedbackKind::label),
            ),
            radios(
                f,
                "from",
                "Who is it from?",
                options(FeedbackFrom::ALL, FeedbackFrom::code, FeedbackFrom::label),
            ),
            date(f, "received_on", "Date received"),
            area(
                f,
                "summary",
                "What it says (no more personal detail than needed)",
            ),
            date(f, "acknowledged_on", "Date acknowledged (optional)"),
            date(f, "responded_on", "Date answered (leave blank while open)"),
            area(f, "outcome", "Outcome or answer"),
            radios(
                f,
                "finding",
                "Was the complaint upheld? (complaints, once answered)",
                options(
                    ComplaintFinding::ALL,
                    ComplaintFinding::code,
                    ComplaintFinding::label,
                ),
            ),
        ],
        "involvement" => vec![
            radios(
                f,
                "kind",
                "What kind of involvement",
                options(
                    InvolvementKind::ALL,
                    InvolvementKind::code,
                    InvolvementKind::label,
                ),
            ),
            date(f, "held_on", "Date"),
            text(
                f,
                "service_users",
                "Service users taking part",
                "A number; 0 if none",
            ),
            text(
                f,
                "family_and_carers",
                "Family members, friends or carers taking part",
                "A number; 0 if none",
            ),
            area(f, "summary", "What happened"),
            area(
                f,
                "influence",
                "How it is influencing the service (KM 5.39)",
            ),
        ],
        "activity" => vec![
            radios(
                f,
                "kind",
                "What kind of activity",
                options(ActivityKind::ALL, ActivityKind::code, ActivityKind::label),
            ),
            date(f, "on", "Date"),
            text(f, "title", "Subject or campaign", ""),
            text(f, "audience", "Who it was for (optional)", ""),
            text(f, "reached", "How many took part (optional)", "A number"),
        ],
        "commissioner-issue" => vec![
            text(
                f,
                "issue_ref",
                "Reference",
                "Record it again with the same reference to update it; agreed actions are learning actions from this reference",
            ),
            radios(
                f,
                "kind",
                "What kind of issue (KM 5.31)",
                options(IssueKind::ALL, IssueKind::code, IssueKind::label),
            ),
            radios(f, "urgent", "Is it urgent? (KM 5.32)", yes_no_options()),
            date(f, "raised_on", "Date raised"),
            text(f, "raised_with", "Raised with", "Who at the commissioner"),
            area(f, "summary", "What the issue is"),
            area(f, "solution", "Solution agreed (KM 5.32)"),
            date(f, "resolved_on", "Date resolved (leave blank while open)"),
        ],
        "subcontractor" => {
            let mut fields = vec![
                text(
                    f,
                    "name",
                    "Sub-contractor",
                    "Record it again under the same name to renew or end it",
                ),
                area(f, "provides", "Interventions it provides"),
            ];
            let mut kinds = vec![(s(""), s("None"))];
            kinds.extend(options(
                RegistrationKind::ALL,
                RegistrationKind::code,
                RegistrationKind::label,
            ));
            for i in 1..=REGISTRATION_SLOTS {
                fields.push(Field::Heading(format!("Registration or licence {i}")));
                fields.push(select(f, &format!("reg{i}_kind"), "Kind", kinds.clone()));
                fields.push(text(f, &format!("reg{i}_reference"), "Number", ""));
                fields.push(date(
                    f,
                    &format!("reg{i}_expires_on"),
                    "Last valid day (blank if it does not expire)",
                ));
            }
            fields.push(date(
                f,
                "ended_on",
                "Date the sub-contract ended (leave blank while in force)",
            ));
            fields
        }
        "obligation-done" => vec![
            select(
                f,
                "obligation",
                "Obligation",
                profile
                    .obligations
                    .items
                    .iter()
                    .map(|o| (o.id.clone(), format!("{} ({})", o.title, o.spec)))
                    .collect(),
            ),
            date(
                f,
                "period",
                "First day of the period it is for (1 October 2026 for October to December)",
            ),
            date(f, "done_on", "Date done"),
            area(f, "note", "Note (where it went, a reference)"),
        ],
        _ => return None,
    };
    Some(FormSpec {
        title: s(title),
        fields,
    })
}

/// A whole number; blank counts as `blank`.
fn count(f: &FormData, name: &str, blank: Option<u32>, e: &mut FormErrors) -> Option<u32> {
    match f.get(name) {
        "" => blank,
        v => match v.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                e.add(name, "Enter a whole number, like 3");
                None
            }
        },
    }
}

/// An optional choice: `Some(None)` when blank.
fn optional_choice<T>(
    f: &FormData,
    name: &str,
    message: &str,
    e: &mut FormErrors,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<Option<T>> {
    match f.get(name) {
        "" => Some(None),
        v => match parse(v) {
            Some(x) => Some(Some(x)),
            None => {
                e.add(name, message);
                None
            }
        },
    }
}

fn registrations(f: &FormData, e: &mut FormErrors) -> Vec<Registration> {
    let mut out = Vec::new();
    for i in 1..=REGISTRATION_SLOTS {
        let (kind_name, reference_name, expires_name) = (
            format!("reg{i}_kind"),
            format!("reg{i}_reference"),
            format!("reg{i}_expires_on"),
        );
        let dated = ["day", "month", "year"]
            .iter()
            .any(|p| !f.get(&format!("{expires_name}-{p}")).is_empty());
        if f.get(&kind_name).is_empty() && f.get(&reference_name).is_empty() && !dated {
            continue;
        }
        let kind = f.choice(
            &kind_name,
            "Select the kind of registration or licence",
            e,
            RegistrationKind::from_code,
        );
        let reference = f.required(
            &reference_name,
            "Enter the registration or licence number",
            e,
        );
        let expires_on = optional_date(f, &expires_name, "Last valid day", e);
        if let (Some(kind), Some(reference), Some(expires_on)) = (kind, reference, expires_on) {
            out.push(Registration {
                kind,
                reference,
                expires_on,
            });
        }
    }
    out
}

/// The fact a submitted form records, or every problem with its fields.
pub fn parse(form: &str, f: &FormData) -> Result<EventKind, FormErrors> {
    let mut e = FormErrors::default();
    let kind = match form {
        "meeting" => {
            let kind = f.choice(
                "kind",
                "Select which meeting",
                &mut e,
                MeetingKind::from_code,
            );
            let held_on = f.date("held_on", "Date of the meeting", &mut e);
            let attended_by = lines(f, "attended_by");
            if attended_by.is_empty() {
                e.add("attended_by", "Enter who attended for the service");
            }
            match (kind, held_on) {
                (Some(kind), Some(held_on)) => Some(EventKind::MeetingAttended(MeetingAttended {
                    kind,
                    held_on,
                    title: f.optional("title"),
                    attended_by,
                    notes: f.optional("notes"),
                })),
                _ => None,
            }
        }
        "feedback" => {
            let feedback_ref = f.required("feedback_ref", "Enter the feedback's reference", &mut e);
            let kind = f.choice(
                "kind",
                "Select complaint, comment or compliment",
                &mut e,
                FeedbackKind::from_code,
            );
            let from = f.choice(
                "from",
                "Select who it is from",
                &mut e,
                FeedbackFrom::from_code,
            );
            let received_on = f.date("received_on", "Date received", &mut e);
            let summary = f.required("summary", "Enter what the feedback says", &mut e);
            let acknowledged_on = optional_date(f, "acknowledged_on", "Date acknowledged", &mut e);
            let responded_on = optional_date(f, "responded_on", "Date answered", &mut e);
            let finding = optional_choice(
                f,
                "finding",
                "Select whether the complaint was upheld",
                &mut e,
                ComplaintFinding::from_code,
            );
            match (
                feedback_ref,
                kind,
                from,
                received_on,
                summary,
                acknowledged_on,
                responded_on,
                finding,
            ) {
                (
                    Some(feedback_ref),
                    Some(kind),
                    Some(from),
                    Some(received_on),
                    Some(summary),
                    Some(acknowledged_on),
                    Some(responded_on),
                    Some(finding),
                ) => Some(EventKind::FeedbackRecorded(Feedback {
                    feedback_ref,
                    kind,
                    from,
                    received_on,
                    summary,
                    acknowledged_on,
                    responded_on,
                    outcome: f.optional("outcome"),
                    finding,
                })),
                _ => None,
            }
        }
        "involvement" => {
            let kind = f.choice(
                "kind",
                "Select what kind of involvement",
                &mut e,
                InvolvementKind::from_code,
            );
            let held_on = f.date("held_on", "Date", &mut e);
            let service_users = count(f, "service_users", Some(0), &mut e);
            let family_and_carers = count(f, "family_and_carers", Some(0), &mut e);
            let summary = f.required("summary", "Enter what happened", &mut e);
            match (kind, held_on, service_users, family_and_carers, summary) {
                (
                    Some(kind),
                    Some(held_on),
                    Some(service_users),
                    Some(family_and_carers),
                    Some(summary),
                ) => Some(EventKind::InvolvementRecorded(Involvement {
                    kind,
                    held_on,
                    service_users,
                    family_and_carers,
                    summary,
                    influence: f.optional("influence"),
                })),
                _ => None,
            }
        }
        "activity" => {
            let kind = f.choice(
                "kind",
                "Select what kind of activity",
                &mut e,
                ActivityKind::from_code,
            );
            let on = f.date("on", "Date", &mut e);
            let title = f.required("title", "Enter the activity's name", &mut e);
            let reached = if f.get("reached").is_empty() {
                Some(None)
            } else {
                count(f, "reached", None, &mut e).map(Some)
            };
            match (kind, on, title, reached) {
                (Some(kind), Some(on), Some(title), Some(reached)) => {
                    Some(EventKind::ActivityRecorded(Activity {
                        kind,
                        on,
                        title,
                        audience: f.optional("audience"),
                        reached,
                    }))
                }
                _ => None,
            }
        }
        "commissioner-issue" => {
            let issue_ref = f.required("issue_ref", "Enter the issue's reference", &mut e);
            let kind = f.choice(
                "kind",
                "Select what kind of issue",
                &mut e,
                IssueKind::from_code,
            );
            let urgent = f.yes_no("urgent", "Select whether it is urgent", &mut e);
            let raised_on = f.date("raised_on", "Date raised", &mut e);
            let raised_with =
                f.required("raised_with", "Enter who the issue was raised with", &mut e);
            let summary = f.required("summary", "Enter what the issue is", &mut e);
            let resolved_on = optional_date(f, "resolved_on", "Date resolved", &mut e);
            match (
                issue_ref,
                kind,
                urgent,
                raised_on,
                raised_with,
                summary,
                resolved_on,
            ) {
                (
                    Some(issue_ref),
                    Some(kind),
                    Some(urgent),
                    Some(raised_on),
                    Some(raised_with),
                    Some(summary),
                    Some(resolved_on),
                ) => Some(EventKind::CommissionerIssueRecorded(CommissionerIssue {
                    issue_ref,
                    kind,
                    urgent,
                    raised_on,
                    raised_with,
                    summary,
                    solution: f.optional("solution"),
                    resolved_on,
                })),
                _ => None,
            }
        }
        "subcontractor" => {
            let name = f.required("name", "Enter the sub-contractor's name", &mut e);
            let provides = f.required("provides", "Enter the interventions it provides", &mut e);
            let registrations = registrations(f, &mut e);
            let ended_on = optional_date(f, "ended_on", "Date the sub-contract ended", &mut e);
            match (name, provides, ended_on) {
                (Some(name), Some(provides), Some(ended_on)) => {
                    Some(EventKind::SubcontractorRecorded(Subcontractor {
                        name,
                        provides,
                        registrations,
                        ended_on,
                    }))
                }
                _ => None,
            }
        }
        "obligation-done" => {
            let obligation = f.required("obligation", "Select the obligation", &mut e);
            let period = f.date("period", "First day of the period", &mut e);
            let done_on = f.date("done_on", "Date done", &mut e);
            match (obligation, period, done_on) {
                (Some(obligation), Some(period), Some(done_on)) => {
                    Some(EventKind::ObligationCompleted(ObligationCompleted {
                        obligation,
                        period,
                        done_on,
                        note: f.optional("note"),
                    }))
                }
                _ => None,
            }
        }
        _ => None,
    };
    match kind {
        Some(k) if e.is_empty() => Ok(k),
        _ => {
            if e.is_empty() {
                e.add("form", "There is no such form");
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form_data::Post;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn message(form: &str, post: &Post, field: &str) -> String {
        match parse(form, &post.data()) {
            Ok(k) => panic!("{form}: accepted as {k:?}"),
            Err(e) => e
                .for_field(field)
                .unwrap_or_else(|| panic!("{form}: no message on {field}: {:?}", e.errors))
                .to_string(),
        }
    }

    #[test]
    fn every_form_has_fields_and_every_date_field_is_on_it() {
        let profile = Profile::builtin("kent-medway").unwrap();
        for (form, title) in FORMS {
            let spec = spec(form, &FormData::default(), &profile).unwrap();
            assert_eq!(spec.title, title);
            for name in date_fields(form) {
                assert!(
                    spec.fields
                        .iter()
                        .any(|f| matches!(f, Field::Date { name: n, .. } if n == name)),
                    "{form}: {name}"
                );
            }
        }
        assert!(spec("incident", &FormData::default(), &profile).is_none());
    }

    #[test]
    fn a_meeting_lists_who_attended_one_per_line() {
        let post = Post::new()
            .set("kind", "drug_alcohol_deaths_panel")
            .date("held_on", "2026-11-04")
            .set("attended_by", "Service manager\n\n  Harm reduction lead \n");
        let EventKind::MeetingAttended(m) = parse("meeting", &post.data()).unwrap() else {
            panic!("not a meeting");
        };
        assert_eq!(m.kind, MeetingKind::DrugAlcoholDeathsPanel);
        assert_eq!(m.attended_by, ["Service manager", "Harm reduction lead"]);
        assert_eq!(
            message("meeting", &post.without("attended_by"), "attended_by"),
            "Enter who attended for the service"
        );
    }

    #[test]
    fn a_complaint_is_recorded_open_and_later_with_its_handling() {
        let open = Post::new()
            .set("feedback_ref", "CF-9")
            .set("kind", "complaint")
            .set("from", "carer")
            .date("received_on", "2026-11-02")
            .set("summary", "No reply to a letter");
        let EventKind::FeedbackRecorded(f) = parse("feedback", &open.data()).unwrap() else {
            panic!("not feedback");
        };
        assert_eq!((f.responded_on, f.finding), (None, None));
        let answered = open
            .clone()
            .date("responded_on", "2026-11-20")
            .set("outcome", "Letter answered")
            .set("finding", "not_upheld");
        let EventKind::FeedbackRecorded(f) = parse("feedback", &answered.data()).unwrap() else {
            panic!("not feedback");
        };
        assert_eq!(f.responded_on, Some(d("2026-11-20")));
        assert_eq!(f.finding, Some(ComplaintFinding::NotUpheld));
        assert_eq!(
            message("feedback", &open.put("from", "stranger"), "from"),
            "Select who it is from"
        );
    }

    #[test]
    fn involvement_counts_are_whole_numbers() {
        let post = Post::new()
            .set("kind", "expert_panel")
            .date("held_on", "2026-11-02")
            .set("service_users", "two")
            .set("summary", "Panel");
        assert_eq!(
            message("involvement", &post, "service_users"),
            "Enter a whole number, like 3"
        );
        let EventKind::InvolvementRecorded(i) =
            parse("involvement", &post.put("service_users", "2").data()).unwrap()
        else {
            panic!("not involvement");
        };
        assert_eq!((i.service_users, i.family_and_carers), (2, 0));
    }

    #[test]
    fn a_subcontractor_takes_the_registrations_filled_in_and_names_a_missing_number() {
        let post = Post::new()
            .set("name", "Kent Acupuncture Partnership")
            .set("provides", "Auricular acupuncture")
            .set("reg1_kind", "professional")
            .set("reg1_reference", "BAAB-20417")
            .date("reg1_expires_on", "2026-12-31")
            .set("reg2_kind", "cqc")
            .set("reg2_reference", "1-2345")
            .set("reg3_kind", "");
        let EventKind::SubcontractorRecorded(s) = parse("subcontractor", &post.data()).unwrap()
        else {
            panic!("not a sub-contractor");
        };
        assert_eq!(s.registrations.len(), 2);
        assert_eq!(s.registrations[0].expires_on, Some(d("2026-12-31")));
        assert_eq!(s.registrations[1].expires_on, None);
        assert_eq!(
            message(
                "subcontractor",
                &post.put("reg2_reference", ""),
                "reg2_reference"
            ),
            "Enter the registration or licence number"
        );
    }

    #[test]
    fn an_obligation_link_fills_in_the_obligation_and_its_period() {
        let q = vec![
            ("obligation".to_string(), "km-quarterly-return".to_string()),
            ("period".to_string(), "2026-07-01".to_string()),
            ("other".to_string(), "x".to_string()),
        ];
        let pairs = prefill("obligation-done", &q);
        let f = FormData::from_pairs(pairs).with(vec![
            ("done_on-day".into(), "14".into()),
            ("done_on-month".into(), "10".into()),
            ("done_on-year".into(), "2026".into()),
        ]);
        let EventKind::ObligationCompleted(c) = parse("obligation-done", &f).unwrap() else {
            panic!("not an obligation");
        };
        assert_eq!(c.obligation, "km-quarterly-return");
        assert_eq!(c.period, d("2026-07-01"));
        assert!(prefill("meeting", &q).is_empty());
    }
}
