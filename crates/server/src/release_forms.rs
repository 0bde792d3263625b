//! The staff forms for release and what follows it (REQUIREMENTS §10–11; S4 §1,
//! §3–5; KM 3.9.13–3.9.19, 5.18–5.22, 5.27): the release plan, the end of a
//! treatment episode, engagement with community treatment after release, contacts
//! and re-engagement attempts, deaths, reoffending, closing a release's 12-month
//! follow-up, and summaries shared with partners.
//!
//! `forms` lists these forms and hands them here, as it does the recovery-care
//! forms of `care_forms`. Like every form, each one corrects an earlier entry of its
//! kind when `supersedes` and a `reason` are posted (handled in `forms::parse`), so
//! no field here is called `reason`: the treatment exit's reason is `exit_reason`,
//! and the domain's messages about its `reason` come back to that field
//! ([`form_field`]). Fields are checked for their shape here; the rules are the
//! domain's (`decide`).

use throughcare_domain::case::{Case, Course, ReleaseRecord};
use throughcare_domain::custody::ReleaseKind;
use throughcare_domain::events::EventKind;
use throughcare_domain::profile::Profile;
use throughcare_domain::release::{
    CommunityEngagement, Contact, ContactOutcome, ContactPurpose, Death, DeathCause,
    EngagementOutcome, ExitReason, FollowUpClosed, FollowUpOutcome, ReleaseMedication, ReleasePlan,
    Reoffence, TreatmentExit, follow_up_ends,
};
use throughcare_domain::sharing::{Disclosure, Recipient, SharingBasis};
use throughcare_domain::time::local_instant;

use crate::care_forms::{lines, optional_date, optional_event};
use crate::chrome::FormErrors;
use crate::form_data::FormData;
use crate::forms::{
    Field, area, date, date_label, datetime, radios, s, select, text, yes_no_options,
};

/// The forms this module provides, by the name in their URL (their titles are in
/// `forms::FORMS`).
pub const NAMES: [&str; 8] = [
    "release-plan",
    "treatment-exit",
    "community-engagement",
    "contact",
    "death",
    "reoffence",
    "follow-up",
    "share-summary",
];

/// Whether `form` is one of this module's forms.
pub fn handles(form: &str) -> bool {
    NAMES.contains(&form)
}

/// The required date fields, which start with today's date on a new form. Optional
/// dates (the first community appointment, the next contact) start blank.
pub fn date_fields(form: &str) -> &'static [&'static str] {
    match form {
        "release-plan" => &["agreed_on"],
        "treatment-exit" => &["exited_on"],
        "community-engagement" | "contact" => &["on"],
        "death" => &["died_on"],
        "reoffence" => &["offended_on"],
        "follow-up" => &["closed_on"],
        "share-summary" => &["shared_on"],
        _ => &[],
    }
}

/// The field of one of this module's forms that shows a problem the domain reported
/// on `domain_field`, where the form names it otherwise; `None` when the names agree.
pub fn form_field(form: &str, domain_field: &str) -> Option<&'static str> {
    match (form, domain_field) {
        ("treatment-exit", "reason") => Some("exit_reason"),
        _ => None,
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

/// The recipients a summary may be shared with, with their words on the form.
const SUMMARY_RECIPIENTS: [(&str, Recipient, &str); 4] = [
    (
        "offender_management",
        Recipient::OffenderManagement,
        "The offender manager or offender management unit (after each episode of intervention, S4 §3)",
    ),
    (
        "healthcare",
        Recipient::Healthcare,
        "Prison healthcare or the prison GP, in shared care (KM 5.27)",
    ),
    (
        "other_professional",
        Recipient::OtherProfessional,
        "Another professional involved in the person's care (KM 5.27)",
    ),
    (
        "community_provider",
        Recipient::CommunityProvider,
        "A community treatment team, in shared care (KM 5.27)",
    ),
];

/// Whether the form corrects an earlier entry: the follow-up form then also offers
/// releases whose follow-up is closed, which the entry may name.
fn correcting(f: &FormData) -> bool {
    !f.get("supersedes").is_empty()
}

fn release_kind_label(kind: ReleaseKind) -> &'static str {
    match kind {
        ReleaseKind::Released => "released",
        ReleaseKind::Deported => "deported",
    }
}

/// A release labelled by its date and kind, and when its follow-up ends.
fn release_label(r: &ReleaseRecord) -> String {
    format!(
        "{} – {} (12-month follow-up to {})",
        date_label(r.on),
        release_kind_label(r.kind),
        date_label(follow_up_ends(r.on))
    )
}

/// The releases the follow-up form may close: those whose follow-up is open (all,
/// in a correction).
fn open_releases(case: &Case, f: &FormData) -> Vec<(String, String)> {
    let all = correcting(f);
    case.releases
        .iter()
        .filter(|r| all || !case.follow_ups.iter().any(|(_, x)| x.release == r.id))
        .map(|r| (r.id.to_string(), release_label(r)))
        .collect()
}

/// A course labelled by its intervention's name and the dates of its steps.
fn course_label(c: &Course, profile: &Profile) -> String {
    let name = profile
        .intervention(&c.intervention)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| c.intervention.clone());
    let steps: Vec<String> = c
        .steps
        .iter()
        .map(|(status, on)| format!("{} {}", status.label().to_lowercase(), date_label(*on)))
        .collect();
    if steps.is_empty() {
        name
    } else {
        format!("{name} – {}", steps.join(", "))
    }
}

/// The hint for the unexpected-release contact, naming the prison's own single
/// point of contact for the person's establishment (KM 5.21) from the profile.
fn unexpected_release_hint(case: &Case, profile: &Profile) -> String {
    let mut hint = s(
        "The local provider to contact if the person is released unexpectedly or early (KM 5.21)",
    );
    if let Some(e) = case.establishment().and_then(|c| profile.establishment(c)) {
        hint.push_str(&format!(
            ". The prison's single point of contact is {}: telephone {}, secure email {}",
            e.spoc.name, e.spoc.telephone, e.spoc.secure_email
        ));
    }
    hint
}

/// What one of this module's forms shows, filled with the values submitted so far
/// (the correction fields are added by `forms::spec`); `None` for another form.
pub fn fields(form: &str, case: &Case, profile: &Profile, f: &FormData) -> Option<Vec<Field>> {
    let mut v = Vec::new();
    match form {
        "release-plan" => {
            v.push(date(f, "agreed_on", "Date the plan was agreed"));
            v.push(Field::Heading(s("Community treatment")));
            v.push(text(
                f,
                "community_provider",
                "Community treatment provider",
                "The provider the person goes to after release",
            ));
            v.push(datetime(
                f,
                "first_appointment",
                "First community appointment (leave the date and time blank if none is booked yet)",
            ));
            v.push(text(
                f,
                "unexpected_release_contact",
                "Contact for an unexpected or early release",
                &unexpected_release_hint(case, profile),
            ));
            v.push(Field::Heading(s("Housing and support")));
            v.push(radios(
                f,
                "housing_need",
                "Does the person need housing on release?",
                yes_no_options(),
            ));
            v.push(text(
                f,
                "housing_referral",
                "Housing referral (optional)",
                "To whom and when the referral was made",
            ));
            v.push(text(
                f,
                "mutual_aid",
                "Mutual aid arranged after release (optional)",
                "For example a SMART Recovery or 12-step meeting (S4 §4)",
            ));
            v.push(area(
                f,
                "aftercare_referrals",
                "Referrals for aftercare, one per line (S4 §4)",
            ));
            v.push(Field::Heading(s("Harm reduction and medication")));
            v.push(radios(
                f,
                "naloxone_supplied",
                "Was naloxone supplied for release? (KM 3.9.17)",
                yes_no_options(),
            ));
            v.push(Field::Checkboxes {
                name: s("release_medication"),
                legend: s("Medication on release to stay free of dependence"),
                options: options!(ReleaseMedication),
                selected: f.all("release_medication"),
            });
            v.push(text(
                f,
                "bridging_medication",
                "Bridging medication (optional)",
                "Short-term substitute medication until the community prescriber takes over (KM 3.9.19)",
            ));
            v.push(radios(
                f,
                "agreed_with_person",
                "Has the person agreed the plan?",
                yes_no_options(),
            ));
        }
        "treatment-exit" => {
            v.push(date(f, "exited_on", "Date treatment ended"));
            v.push(radios(
                f,
                "exit_reason",
                "Why did treatment end?",
                options!(ExitReason),
            ));
            v.push(area(f, "note", "Note (needed when the reason is other)"));
        }
        "community-engagement" => {
            v.push(radios(
                f,
                "outcome",
                "Did the person engage with community treatment?",
                options!(EngagementOutcome),
            ));
            v.push(date(
                f,
                "on",
                "Date engaged, or the date non-engagement was established",
            ));
            v.push(text(
                f,
                "provider",
                "Community provider",
                "Needed when the person engaged",
            ));
            v.push(area(f, "note", "Note (optional)"));
        }
        "contact" => {
            v.push(radios(
                f,
                "purpose",
                "What was the contact for?",
                options!(ContactPurpose),
            ));
            v.push(radios(
                f,
                "outcome",
                "How did it go?",
                options!(ContactOutcome),
            ));
            v.push(date(f, "on", "Date of the contact"));
            v.push(text(
                f,
                "method",
                "How (optional)",
                "For example telephone, letter, in person or through probation",
            ));
            v.push(date(
                f,
                "next_due",
                "Next attempt due (leave blank if none is planned)",
            ));
            v.push(area(f, "note", "Note (optional)"));
        }
        "death" => {
            v.push(date(f, "died_on", "Date of death"));
            v.push(radios(
                f,
                "cause",
                "Was the death related to drugs or alcohol?",
                options!(DeathCause),
            ));
            v.push(text(
                f,
                "source",
                "Source of the information (optional)",
                "For example the coroner or the offender manager",
            ));
        }
        "reoffence" => {
            v.push(date(f, "offended_on", "Date of the offence"));
            v.push(text(
                f,
                "source",
                "Source of the information (optional)",
                "For example the offender manager",
            ));
        }
        "follow-up" => {
            let releases = open_releases(case, f);
            if releases.is_empty() {
                v.push(Field::Heading(s(
                    "The person has no release whose 12-month follow-up is open",
                )));
            }
            v.push(select(f, "release", "Release", releases));
            v.push(radios(
                f,
                "outcome",
                "Outcome of the 12-month follow-up",
                options!(FollowUpOutcome),
            ));
            v.push(date(f, "closed_on", "Date closed"));
            v.push(area(f, "note", "Note (optional)"));
        }
        "share-summary" => {
            v.push(radios(
                f,
                "recipient",
                "Shared with",
                SUMMARY_RECIPIENTS
                    .iter()
                    .map(|(code, _, label)| (s(code), s(label)))
                    .collect(),
            ));
            v.push(date(f, "shared_on", "Date shared"));
            v.push(area(f, "summary", "What was shared"));
            let mut courses = vec![(s(""), s("Not about one intervention"))];
            courses.extend(
                case.courses
                    .iter()
                    .map(|c| (c.id.to_string(), course_label(c, profile))),
            );
            v.push(select(
                f,
                "about",
                "The intervention the summary is about (optional)",
                courses,
            ));
        }
        _ => return None,
    }
    Some(v)
}

/// Turns one of this module's forms into the fact it records, adding a message per
/// field whose shape is wrong. `None` when there are messages (or for another form).
pub fn parse(
    form: &str,
    _case: &Case,
    _profile: &Profile,
    f: &FormData,
    e: &mut FormErrors,
) -> Option<EventKind> {
    match form {
        "release-plan" => release_plan(f, e),
        "treatment-exit" => treatment_exit(f, e),
        "community-engagement" => community_engagement(f, e),
        "contact" => contact(f, e),
        "death" => death(f, e),
        "reoffence" => reoffence(f, e),
        "follow-up" => follow_up(f, e),
        "share-summary" => share_summary(f, e),
        _ => None,
    }
}

/// An optional date and time: `Some(None)` when the date boxes and the time are
/// all blank, `None` (with a message) when partly filled or not a date and time.
fn optional_datetime(
    f: &FormData,
    name: &str,
    what: &str,
    e: &mut FormErrors,
) -> Option<Option<chrono::DateTime<chrono::Utc>>> {
    let blank = ["day", "month", "year", "time"]
        .iter()
        .all(|part| f.get(&format!("{name}-{part}")).is_empty());
    if blank {
        return Some(None);
    }
    // One message for the field: the date's, else the time's.
    let on = f.date(name, &format!("Date of the {what}"), e)?;
    let at = if f.get(&format!("{name}-time")).is_empty() {
        e.add(
            name,
            format!("Enter the time of the {what}, like 14:30, or leave the date and time blank"),
        );
        None
    } else {
        f.time(name, &format!("Time of the {what}"), e)
    };
    Some(Some(local_instant(on, at?)))
}

fn release_plan(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let agreed_on = f.date("agreed_on", "Date the plan was agreed", e);
    let first_appointment =
        optional_datetime(f, "first_appointment", "first community appointment", e);
    let housing_need = f.yes_no(
        "housing_need",
        "Select whether the person needs housing on release",
        e,
    );
    let naloxone = f.yes_no(
        "naloxone_supplied",
        "Select whether naloxone was supplied for release",
        e,
    );
    let mut release_medication = Vec::new();
    for code in f.all("release_medication") {
        match ReleaseMedication::from_code(code.trim()) {
            Some(m) if !release_medication.contains(&m) => release_medication.push(m),
            Some(_) => {}
            None => {
                e.add(
                    "release_medication",
                    "Select the medication on release from the list",
                );
                break;
            }
        }
    }
    let agreed = f.yes_no(
        "agreed_with_person",
        "Select whether the person has agreed the plan",
        e,
    );
    Some(EventKind::ReleasePlanAgreed(ReleasePlan {
        agreed_on: agreed_on?,
        community_provider: f.optional("community_provider"),
        first_appointment: first_appointment?,
        unexpected_release_contact: f.optional("unexpected_release_contact"),
        housing_need: housing_need?,
        housing_referral: f.optional("housing_referral"),
        mutual_aid: f.optional("mutual_aid"),
        naloxone_supplied: naloxone?,
        release_medication,
        bridging_medication: f.optional("bridging_medication"),
        aftercare_referrals: lines(f, "aftercare_referrals"),
        agreed_with_person: agreed?,
    }))
}

fn treatment_exit(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let exited_on = f.date("exited_on", "Date treatment ended", e);
    let reason = f.choice(
        "exit_reason",
        "Select why treatment ended",
        e,
        ExitReason::from_code,
    );
    Some(EventKind::TreatmentExited(TreatmentExit {
        exited_on: exited_on?,
        reason: reason?,
        note: f.optional("note"),
    }))
}

fn community_engagement(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let outcome = f.choice(
        "outcome",
        "Select whether the person engaged with community treatment",
        e,
        EngagementOutcome::from_code,
    );
    let on = f.date("on", "Date", e);
    Some(EventKind::CommunityEngagementRecorded(
        CommunityEngagement {
            outcome: outcome?,
            on: on?,
            provider: f.optional("provider"),
            note: f.optional("note"),
        },
    ))
}

fn contact(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let purpose = f.choice(
        "purpose",
        "Select what the contact was for",
        e,
        ContactPurpose::from_code,
    );
    let outcome = f.choice(
        "outcome",
        "Select how the contact went",
        e,
        ContactOutcome::from_code,
    );
    let on = f.date("on", "Date of the contact", e);
    let next_due = optional_date(f, "next_due", "Date the next attempt is due", e);
    Some(EventKind::ContactRecorded(Contact {
        on: on?,
        purpose: purpose?,
        outcome: outcome?,
        method: f.optional("method"),
        next_due: next_due?,
        note: f.optional("note"),
    }))
}

fn death(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let died_on = f.date("died_on", "Date of death", e);
    let cause = f.choice(
        "cause",
        "Select whether the death was related to drugs or alcohol",
        e,
        DeathCause::from_code,
    );
    Some(EventKind::DeathRecorded(Death {
        died_on: died_on?,
        cause: cause?,
        source: f.optional("source"),
    }))
}

fn reoffence(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let offended_on = f.date("offended_on", "Date of the offence", e);
    Some(EventKind::ReoffenceRecorded(Reoffence {
        offended_on: offended_on?,
        source: f.optional("source"),
    }))
}

fn follow_up(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let release = f.choice(
        "release",
        "Select the release whose follow-up is closed",
        e,
        throughcare_domain::record_ids::EventId::parse,
    );
    let outcome = f.choice(
        "outcome",
        "Select the outcome of the follow-up",
        e,
        FollowUpOutcome::from_code,
    );
    let closed_on = f.date("closed_on", "Date closed", e);
    Some(EventKind::FollowUpClosed(FollowUpClosed {
        release: release?,
        closed_on: closed_on?,
        outcome: outcome?,
        note: f.optional("note"),
    }))
}

fn share_summary(f: &FormData, e: &mut FormErrors) -> Option<EventKind> {
    let recipient = f.choice(
        "recipient",
        "Select who the summary was shared with",
        e,
        |c| {
            SUMMARY_RECIPIENTS
                .iter()
                .find(|(code, _, _)| *code == c)
                .map(|(_, r, _)| *r)
        },
    );
    let shared_on = f.date("shared_on", "Date shared", e);
    let summary = f.required("summary", "Enter what was shared", e);
    let about = optional_event(f, "about", "Select the intervention from the list", e);
    let recipient = recipient?;
    Some(EventKind::InformationShared(Disclosure {
        recipient,
        // The domain refuses the share unless this consent is live on the day.
        basis: SharingBasis::Consent {
            purpose: recipient.consent_purpose(),
        },
        shared_on: shared_on?,
        about: about?,
        summary: summary?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form_data::Post;
    use crate::forms::test_support::{kind, message, parsed};
    use crate::forms::{self, Parsed};
    use chrono::{DateTime, NaiveDate, Utc};
    use throughcare_domain::consent::{ConsentDecision, ConsentPurpose, ConsentRecord};
    use throughcare_domain::custody::{Reception, ReceptionType, Release};
    use throughcare_domain::decide::{Command, Context, decide};
    use throughcare_domain::error::DomainError;
    use throughcare_domain::events::{NewEvent, RecordedEvent};
    use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
    use throughcare_domain::interventions::{
        InterventionStatus, InterventionTarget, InterventionUpdate,
    };
    use throughcare_domain::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
    use throughcare_domain::record_ids::{EventId, PersonId, SequentialIds};
    use throughcare_domain::time::parse_instant;
    use uuid::Uuid;

    /// "Now" for every decision in these tests.
    const NOW: &str = "2026-04-15T12:00:00Z";

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn instant(s: &str) -> DateTime<Utc> {
        parse_instant(s).unwrap()
    }

    fn profile() -> Profile {
        Profile::builtin("kent-medway").unwrap()
    }

    /// A person's log, every event decided by the real domain as it is added.
    #[derive(Clone)]
    struct Log {
        person: PersonId,
        events: Vec<RecordedEvent>,
        ids: SequentialIds,
    }

    impl Log {
        /// A person registered at `establishment` and received there on 5 January.
        fn received(prison_number: &str, establishment: &str, how: ReceptionType) -> Log {
            let mut log = Log {
                person: PersonId(Uuid::from_u128(1)),
                events: Vec::new(),
                ids: SequentialIds::new(7),
            };
            log.record(
                establishment,
                None,
                EventKind::PersonRegistered(PersonDetails {
                    prison_number: PrisonNumber::parse(prison_number).unwrap(),
                    given_name: "Alex".into(),
                    family_name: "Example".into(),
                    date_of_birth: d("1990-05-17"),
                    home_postcode: None,
                    equality: EqualityMonitoring::default(),
                    priority: RecordedPriorityFlags::default(),
                }),
            );
            log.record(
                establishment,
                Some("2026-01-05T09:00:00Z"),
                EventKind::Received(Reception {
                    reception_type: how,
                    source_ref: None,
                }),
            );
            log
        }

        fn case(&self) -> Case {
            Case::fold(self.person, self.events.clone())
        }

        /// Decides `kind` as recorded at `establishment` and adds its events; the id
        /// of the first. Panics if the domain refuses.
        fn record(&mut self, establishment: &str, at: Option<&str>, kind: EventKind) -> EventId {
            let profile = profile();
            let calendar = profile.calendar();
            let ctx = Context {
                profile: &profile,
                calendar: &calendar,
                recorded_by: StaffUsername::parse("worker.one").unwrap(),
                actor: throughcare_domain::access::Actor::System,
                establishment: EstablishmentCode::parse(establishment).unwrap(),
                now: instant(NOW),
                trainees: &[],
            };
            let command = Command::Record {
                occurred_at: at.map(instant),
                recorded_at: None,
                kind,
            };
            let events = decide(&self.case(), command, &ctx, &mut self.ids)
                .unwrap_or_else(|e| panic!("set-up refused: {e}"));
            let first = events[0].id;
            for n in events {
                let seq = self.events.len() as i64 + 1;
                self.events.push(stored(n, seq));
            }
            first
        }
    }

    fn stored(n: NewEvent, seq: i64) -> RecordedEvent {
        let now = instant(NOW);
        RecordedEvent {
            seq,
            id: n.id,
            person: n.person,
            establishment: n.establishment,
            occurred_at: n.occurred_at,
            recorded_at: n.recorded_at.unwrap_or(now),
            appended_at: now,
            recorded_by: n.recorded_by,
            supersedes: n.supersedes,
            reason: n.reason,
            kind: n.kind,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// The cases the forms are tried on.
    struct Fixture {
        /// At HMP Maidstone, consenting to summaries for offender management, with a
        /// course of intensive keyworking started on 8 January.
        in_custody: Case,
        /// The same person released on 2 March, who reoffended on 20 March.
        released: Case,
        /// The release.
        release: EventId,
        /// The keyworking course.
        course: EventId,
    }

    fn fixture() -> Fixture {
        let mut log = Log::received("A1234BC", "MDI", ReceptionType::Sentenced);
        log.record(
            "MDI",
            None,
            EventKind::ConsentRecorded(ConsentRecord {
                purpose: ConsentPurpose::OffenderManagementSummaries,
                decision: ConsentDecision::Given,
                decided_on: d("2026-01-06"),
            }),
        );
        let course = log.record(
            "MDI",
            None,
            EventKind::InterventionUpdated(InterventionUpdate {
                intervention: "keyworking".into(),
                target: InterventionTarget::Opiates,
                status: InterventionStatus::Started,
                on: d("2026-01-08"),
                course: None,
                language: None,
                note: None,
            }),
        );
        let in_custody = log.case();
        let release = log.record(
            "MDI",
            Some("2026-03-02T10:00:00Z"),
            EventKind::Released(Release {
                kind: ReleaseKind::Released,
                source_ref: None,
            }),
        );
        log.record(
            "MDI",
            None,
            EventKind::ReoffenceRecorded(Reoffence {
                offended_on: d("2026-03-20"),
                source: None,
            }),
        );
        Fixture {
            in_custody,
            released: log.case(),
            release,
            course,
        }
    }

    impl Fixture {
        /// The case a form's valid example is recorded on: a release plan while in
        /// custody, everything else after release.
        fn case_for(&self, form: &str) -> &Case {
            if form == "release-plan" {
                &self.in_custody
            } else {
                &self.released
            }
        }
    }

    /// What the domain says about recording `kind` on `case` at HMP Maidstone.
    fn decided(case: &Case, kind: EventKind) -> Result<(), DomainError> {
        decided_at(case, kind, "MDI")
    }

    fn decided_at(case: &Case, kind: EventKind, establishment: &str) -> Result<(), DomainError> {
        let profile = profile();
        let calendar = profile.calendar();
        let ctx = Context {
            profile: &profile,
            calendar: &calendar,
            recorded_by: StaffUsername::parse("worker.one").unwrap(),
            actor: throughcare_domain::access::Actor::System,
            establishment: EstablishmentCode::parse(establishment).unwrap(),
            now: instant(NOW),
            trainees: &[],
        };
        let command = Command::Record {
            occurred_at: None,
            recorded_at: None,
            kind,
        };
        decide(case, command, &ctx, &mut SequentialIds::new(99)).map(|_| ())
    }

    fn release_plan_post() -> Post {
        Post::new()
            .date("agreed_on", "2026-02-20")
            .set("community_provider", "Medway community recovery service")
            .at("first_appointment", "2026-03-03", "10:30")
            .set(
                "unexpected_release_contact",
                "Medway community recovery service duty worker",
            )
            .set("housing_need", "yes")
            .set("housing_referral", "Duty to refer made on 18 February")
            .set("mutual_aid", "SMART Recovery, Thursdays")
            .set(
                "aftercare_referrals",
                "Recovery café\n\n  Employment support \n",
            )
            .set("naloxone_supplied", "yes")
            .set("release_medication", "naltrexone")
            .set("bridging_medication", "")
            .set("agreed_with_person", "yes")
    }

    /// One valid submission of every form, for the tests that go through them all.
    fn valid_posts(fx: &Fixture) -> Vec<(&'static str, Post)> {
        vec![
            ("release-plan", release_plan_post()),
            (
                "treatment-exit",
                Post::new()
                    .date("exited_on", "2026-03-02")
                    .set("exit_reason", "released_referred_on"),
            ),
            (
                "community-engagement",
                Post::new()
                    .set("outcome", "engaged")
                    .date("on", "2026-03-10")
                    .set("provider", "Medway community recovery service"),
            ),
            (
                "contact",
                Post::new()
                    .set("purpose", "post_treatment_support")
                    .set("outcome", "reached")
                    .date("on", "2026-03-25")
                    .set("method", "Telephone")
                    .date("next_due", "2026-04-22"),
            ),
            (
                "death",
                Post::new()
                    .date("died_on", "2026-04-10")
                    .set("cause", "not_known")
                    .set("source", "Offender manager"),
            ),
            (
                "reoffence",
                Post::new()
                    .date("offended_on", "2026-04-01")
                    .set("source", "Offender manager"),
            ),
            (
                "follow-up",
                Post::new()
                    .set("release", &fx.release.to_string())
                    .set("outcome", "reoffended")
                    .date("closed_on", "2026-04-14"),
            ),
            (
                "share-summary",
                Post::new()
                    .set("recipient", "offender_management")
                    .date("shared_on", "2026-03-02")
                    .set("summary", "Keyworking episode summary at release")
                    .set("about", &fx.course.to_string()),
            ),
        ]
    }

    #[test]
    fn every_form_of_this_module_is_listed_grouped_and_has_a_valid_example_here() {
        let fx = fixture();
        let posted: Vec<&str> = valid_posts(&fx).iter().map(|(f, _)| *f).collect();
        let groups = forms::groups();
        let (_, group) = groups
            .iter()
            .find(|(g, _)| *g == "Release and after")
            .expect("no Release and after group");
        let grouped: Vec<&str> = group.iter().map(|(f, _)| *f).collect();
        assert_eq!(grouped, NAMES);
        for name in NAMES {
            assert!(forms::title(name).is_some(), "{name} is not in FORMS");
            assert!(posted.contains(&name), "{name} has no valid example");
        }
    }

    #[test]
    fn every_valid_submission_is_a_fact_the_domain_accepts() {
        let fx = fixture();
        for (form, post) in valid_posts(&fx) {
            let case = fx.case_for(form);
            let kind = kind(form, case, &post);
            if let Err(e) = decided(case, kind) {
                panic!("{form}: refused: {e}");
            }
        }
    }

    #[test]
    fn every_form_shows_and_starts_with_todays_date_in_its_required_dates_only() {
        let (fx, profile) = (fixture(), profile());
        let today = d("2026-04-15");
        for name in NAMES {
            let f = forms::defaults(name, today);
            let spec = forms::spec(name, fx.case_for(name), &profile, &f)
                .unwrap_or_else(|| panic!("{name} has no fields"));
            assert_eq!(Some(spec.title.as_str()), forms::title(name));
            assert!(!date_fields(name).is_empty(), "{name}: no date");
            for field in date_fields(name) {
                assert_eq!(f.get(&format!("{field}-day")), "15", "{name}: {field}");
                assert_eq!(f.get(&format!("{field}-year")), "2026", "{name}: {field}");
            }
            // No field of these forms is called `reason`: that is the correction's.
            assert!(
                !spec.fields.iter().any(|x| matches!(
                    x,
                    Field::Radios { name, .. } | Field::TextArea { name, .. } if name == "reason"
                )),
                "{name} has a field called reason"
            );
        }
        assert!(
            forms::defaults("release-plan", today)
                .get("first_appointment-day")
                .is_empty()
        );
        assert!(
            forms::defaults("contact", today)
                .get("next_due-day")
                .is_empty()
        );
    }

    #[test]
    fn one_invalid_submission_per_form_names_its_field() {
        let fx = fixture();
        let posts = valid_posts(&fx);
        let post = |form: &str| {
            posts
                .iter()
                .find(|(f, _)| *f == form)
                .map(|(_, p)| p.clone())
                .unwrap()
        };
        let cases: Vec<(&str, Post, &str, &str)> = vec![
            (
                "release-plan",
                post("release-plan").without("housing_need"),
                "housing_need",
                "Select whether the person needs housing on release",
            ),
            (
                "treatment-exit",
                post("treatment-exit").without("exit_reason"),
                "exit_reason",
                "Select why treatment ended",
            ),
            (
                "community-engagement",
                post("community-engagement").put("outcome", "maybe"),
                "outcome",
                "Select whether the person engaged with community treatment",
            ),
            (
                "contact",
                post("contact").put("next_due-month", ""),
                "next_due",
                "Date the next attempt is due must include a month",
            ),
            (
                "death",
                post("death").without("cause"),
                "cause",
                "Select whether the death was related to drugs or alcohol",
            ),
            (
                "reoffence",
                post("reoffence").without("offended_on"),
                "offended_on",
                "Enter the date of the offence",
            ),
            (
                "follow-up",
                post("follow-up").without("release"),
                "release",
                "Select the release whose follow-up is closed",
            ),
            (
                "share-summary",
                post("share-summary").put("summary", "  "),
                "summary",
                "Enter what was shared",
            ),
        ];
        assert_eq!(cases.len(), NAMES.len());
        for (form, bad, field, expected) in cases {
            assert_eq!(
                message(form, fx.case_for(form), &bad, field),
                expected,
                "{form}"
            );
        }
    }

    #[test]
    fn a_release_plan_keeps_every_field_and_its_first_appointment_in_local_time() {
        let fx = fixture();
        let EventKind::ReleasePlanAgreed(p) =
            kind("release-plan", &fx.in_custody, &release_plan_post())
        else {
            panic!("not a release plan");
        };
        assert_eq!(p.agreed_on, d("2026-02-20"));
        assert_eq!(
            p.community_provider.as_deref(),
            Some("Medway community recovery service")
        );
        assert_eq!(p.first_appointment, Some(instant("2026-03-03T10:30:00Z")));
        assert!(p.housing_need && p.naloxone_supplied && p.agreed_with_person);
        assert_eq!(p.release_medication, [ReleaseMedication::Naltrexone]);
        assert_eq!(p.bridging_medication, None);
        assert_eq!(
            p.aftercare_referrals,
            ["Recovery café", "Employment support"]
        );

        // British Summer Time: 10:30 local on 2 July is 09:30 UTC.
        let summer = release_plan_post()
            .put("first_appointment-day", "2")
            .put("first_appointment-month", "7");
        let EventKind::ReleasePlanAgreed(p) = kind("release-plan", &fx.in_custody, &summer) else {
            panic!("not a release plan");
        };
        assert_eq!(p.first_appointment, Some(instant("2026-07-02T09:30:00Z")));

        // Left blank, there is no first appointment (a gap on the release queue).
        let none = release_plan_post().without("first_appointment");
        let EventKind::ReleasePlanAgreed(p) = kind("release-plan", &fx.in_custody, &none) else {
            panic!("not a release plan");
        };
        assert_eq!(p.first_appointment, None);
    }

    #[test]
    fn a_partly_filled_first_appointment_is_an_error() {
        let fx = fixture();
        let no_time = release_plan_post().put("first_appointment-time", "");
        assert_eq!(
            message(
                "release-plan",
                &fx.in_custody,
                &no_time,
                "first_appointment"
            ),
            "Enter the time of the first community appointment, like 14:30, or leave the date and time blank"
        );
        let time_only = release_plan_post()
            .without("first_appointment")
            .set("first_appointment-time", "10:30");
        assert_eq!(
            message(
                "release-plan",
                &fx.in_custody,
                &time_only,
                "first_appointment"
            ),
            "Enter the date of the first community appointment"
        );
        let no_year = release_plan_post().put("first_appointment-year", "");
        assert_eq!(
            message(
                "release-plan",
                &fx.in_custody,
                &no_year,
                "first_appointment"
            ),
            "Date of the first community appointment must include a year"
        );
        // A date missing its month and year, and its time, gets one message.
        let day_only = release_plan_post()
            .without("first_appointment")
            .set("first_appointment-day", "3");
        match parsed("release-plan", &fx.in_custody, &day_only) {
            Err(e) => assert_eq!(
                e.errors
                    .iter()
                    .filter(|x| x.field == "first_appointment")
                    .map(|x| x.message.as_str())
                    .collect::<Vec<_>>(),
                ["Date of the first community appointment must include a month and year"]
            ),
            Ok(_) => panic!("accepted"),
        }
        let pm = release_plan_post().put("first_appointment-time", "2pm");
        assert_eq!(
            message("release-plan", &fx.in_custody, &pm, "first_appointment"),
            "Time of the first community appointment must be a time in the 24-hour clock, like 14:30"
        );
        let pill = release_plan_post().set("release_medication", "methadone");
        assert_eq!(
            message("release-plan", &fx.in_custody, &pill, "release_medication"),
            "Select the medication on release from the list"
        );
    }

    #[test]
    fn the_release_plan_names_the_prison_spoc_for_an_unexpected_release() {
        let fx = fixture();
        let spec = forms::spec(
            "release-plan",
            &fx.in_custody,
            &profile(),
            &FormData::default(),
        )
        .unwrap();
        let hint = spec
            .fields
            .iter()
            .find_map(|x| match x {
                Field::Text { name, hint, .. } if name == "unexpected_release_contact" => {
                    Some(hint.clone())
                }
                _ => None,
            })
            .unwrap();
        assert!(hint.contains("(KM 5.21)"), "{hint}");
        assert!(
            hint.contains("Substance misuse service SPOC, HMP Maidstone"),
            "{hint}"
        );
        assert!(hint.contains("01632 960104"), "{hint}");
        let medication = spec
            .fields
            .iter()
            .find_map(|x| match x {
                Field::Checkboxes { name, options, .. } if name == "release_medication" => {
                    Some(options.len())
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(medication, ReleaseMedication::ALL.len());
    }

    #[test]
    fn a_release_plan_after_release_is_refused_on_its_date() {
        let fx = fixture();
        let plan = kind("release-plan", &fx.in_custody, &release_plan_post());
        match decided(&fx.released, plan) {
            Err(DomainError::Invalid(ps)) => {
                assert!(ps.iter().any(|p| p.field == "agreed_on"), "{ps:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_domain_on_a_treatment_exit_reason_comes_back_to_exit_reason() {
        // No treatment started: the domain names `reason`, the form's `exit_reason`.
        let custody = Log::received("A1234BC", "MDI", ReceptionType::Remand).case();
        let post = Post::new()
            .date("exited_on", "2026-03-02")
            .set("exit_reason", "dropped_out");
        let refused = decided(&custody, kind("treatment-exit", &custody, &post)).unwrap_err();
        let errors = forms::on_form_fields("treatment-exit", crate::web::domain_errors(&refused));
        assert_eq!(
            errors.for_field("exit_reason"),
            Some("The person has not started treatment, so there is no treatment to exit")
        );
        assert_eq!(errors.for_field("reason"), None);
        // Other forms keep the domain's names.
        let errors = forms::on_form_fields("referral", crate::web::domain_errors(&refused));
        assert!(errors.for_field("reason").is_some());

        // "Other" needs a note, on the note.
        let fx = fixture();
        let other = post.put("exit_reason", "other");
        match decided(&fx.released, kind("treatment-exit", &fx.released, &other)) {
            Err(DomainError::Invalid(ps)) => assert!(ps.iter().any(|p| p.field == "note")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_follow_up_form_offers_open_releases_by_date_and_kind() {
        let fx = fixture();
        let releases = |case: &Case, f: &FormData| {
            forms::spec("follow-up", case, &profile(), f)
                .unwrap()
                .fields
                .iter()
                .find_map(|x| match x {
                    Field::Select { name, options, .. } if name == "release" => {
                        Some(options.clone())
                    }
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(
            releases(&fx.released, &FormData::default()),
            [(
                fx.release.to_string(),
                s("2 March 2026 – released (12-month follow-up to 2 March 2027)")
            )]
        );
        // Once closed, it is offered only to correct the closure.
        let mut closed = fx.released.clone();
        closed.follow_ups.push((
            EventId(Uuid::from_u128(5)),
            FollowUpClosed {
                release: fx.release,
                closed_on: d("2026-04-14"),
                outcome: FollowUpOutcome::Reoffended,
                note: None,
            },
        ));
        assert!(releases(&closed, &FormData::default()).is_empty());
        let correcting = FormData::from_pairs(vec![("supersedes".into(), "x".into())]);
        assert_eq!(releases(&closed, &correcting).len(), 1);
        assert!(releases(&fx.in_custody, &FormData::default()).is_empty());

        // Closing as "not reoffended" with a reoffence in the window is refused.
        let post = valid_posts(&fx)[6]
            .1
            .clone()
            .put("outcome", "not_reoffended");
        match decided(&fx.released, kind("follow-up", &fx.released, &post)) {
            Err(DomainError::Invalid(ps)) => assert!(ps.iter().any(|p| p.field == "outcome")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_summary_is_shared_on_consent_and_refused_without_it() {
        let fx = fixture();
        let post = valid_posts(&fx)[7].1.clone();
        let EventKind::InformationShared(x) = kind("share-summary", &fx.released, &post) else {
            panic!("not a share");
        };
        assert_eq!(x.recipient, Recipient::OffenderManagement);
        assert_eq!(
            x.basis,
            SharingBasis::Consent {
                purpose: ConsentPurpose::OffenderManagementSummaries
            }
        );
        assert_eq!(x.about, Some(fx.course));
        assert_eq!(x.summary, "Keyworking episode summary at release");

        // Not about one intervention.
        let general = post.clone().put("about", "");
        let EventKind::InformationShared(x) = kind("share-summary", &fx.released, &general) else {
            panic!("not a share");
        };
        assert_eq!(x.about, None);

        // Each recipient is shared with on its own purpose's consent; without it the
        // domain refuses, and the refusal comes back to the page.
        for (code, recipient, purpose) in [
            (
                "healthcare",
                Recipient::Healthcare,
                ConsentPurpose::Healthcare,
            ),
            (
                "other_professional",
                Recipient::OtherProfessional,
                ConsentPurpose::InformationSharing,
            ),
            (
                "community_provider",
                Recipient::CommunityProvider,
                ConsentPurpose::CommunityTransfer,
            ),
        ] {
            let shared = kind(
                "share-summary",
                &fx.released,
                &post.clone().put("recipient", code),
            );
            let EventKind::InformationShared(x) = &shared else {
                panic!("not a share");
            };
            assert_eq!(x.recipient, recipient);
            assert_eq!(x.basis, SharingBasis::Consent { purpose });
            let refused = decided(&fx.released, shared).unwrap_err();
            let DomainError::Refused(why) = &refused else {
                panic!("{code}: not refused: {refused:?}");
            };
            assert!(why.contains("no live consent"), "{why}");
            let errors =
                forms::on_form_fields("share-summary", crate::web::domain_errors(&refused));
            assert_eq!(errors.for_field("form"), Some(why.as_str()));
        }

        let unknown = post.put("recipient", "prison_authorities");
        assert_eq!(
            message("share-summary", &fx.released, &unknown, "recipient"),
            "Select who the summary was shared with"
        );
    }

    #[test]
    fn the_summary_form_offers_courses_by_intervention_name_and_dates() {
        let fx = fixture();
        let spec = forms::spec(
            "share-summary",
            &fx.released,
            &profile(),
            &FormData::default(),
        )
        .unwrap();
        let about = spec
            .fields
            .iter()
            .find_map(|x| match x {
                Field::Select { name, options, .. } if name == "about" => Some(options.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            about,
            [
                (s(""), s("Not about one intervention")),
                (
                    fx.course.to_string(),
                    s("Intensive keyworking – started 8 January 2026")
                ),
            ]
        );
        let recipients: Vec<String> = spec
            .fields
            .iter()
            .find_map(|x| match x {
                Field::Radios { name, options, .. } if name == "recipient" => {
                    Some(options.iter().map(|(c, _)| c.clone()).collect())
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(
            recipients,
            [
                "offender_management",
                "healthcare",
                "other_professional",
                "community_provider"
            ]
        );
    }

    #[test]
    fn engagement_contact_death_and_reoffence_keep_their_fields() {
        let fx = fixture();
        let posts = valid_posts(&fx);
        let EventKind::CommunityEngagementRecorded(x) =
            kind("community-engagement", &fx.released, &posts[2].1)
        else {
            panic!("not an engagement");
        };
        assert_eq!(
            (x.outcome, x.on, x.provider.as_deref(), x.note),
            (
                EngagementOutcome::Engaged,
                d("2026-03-10"),
                Some("Medway community recovery service"),
                None
            )
        );
        let EventKind::ContactRecorded(x) = kind("contact", &fx.released, &posts[3].1) else {
            panic!("not a contact");
        };
        assert_eq!(
            (x.purpose, x.outcome, x.on, x.next_due),
            (
                ContactPurpose::PostTreatmentSupport,
                ContactOutcome::Reached,
                d("2026-03-25"),
                Some(d("2026-04-22"))
            )
        );
        assert_eq!(x.method.as_deref(), Some("Telephone"));
        let no_next = posts[3].1.clone().without("next_due");
        let EventKind::ContactRecorded(x) = kind("contact", &fx.released, &no_next) else {
            panic!("not a contact");
        };
        assert_eq!(x.next_due, None);
        let EventKind::DeathRecorded(x) = kind("death", &fx.released, &posts[4].1) else {
            panic!("not a death");
        };
        assert_eq!(
            (x.died_on, x.cause, x.source.as_deref()),
            (
                d("2026-04-10"),
                DeathCause::NotKnown,
                Some("Offender manager")
            )
        );
        let EventKind::ReoffenceRecorded(x) = kind("reoffence", &fx.released, &posts[5].1) else {
            panic!("not a reoffence");
        };
        assert_eq!(x.offended_on, d("2026-04-01"));

        // Engagement before release is the domain's to refuse, on its date.
        let early = posts[2].1.clone().without("on").date("on", "2026-03-01");
        match decided(
            &fx.released,
            kind("community-engagement", &fx.released, &early),
        ) {
            Err(DomainError::Invalid(ps)) => assert!(ps.iter().any(|p| p.field == "on")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_reoffence_after_release_from_the_irc_is_refused() {
        let mut log = Log::received("B2345CD", "DVI", ReceptionType::ImmigrationDetainee);
        log.record(
            "DVI",
            Some("2026-03-02T10:00:00Z"),
            EventKind::Released(Release {
                kind: ReleaseKind::Released,
                source_ref: None,
            }),
        );
        let case = log.case();
        let post = Post::new().date("offended_on", "2026-04-01");
        let refused = decided_at(&case, kind("reoffence", &case, &post), "DVI").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Reoffending is not an outcome for people released from IRC Dover (KM 2.1 note 1)"
        );
    }

    #[test]
    fn a_correction_of_a_release_form_needs_a_reason_and_replaces_the_entry() {
        let fx = fixture();
        let target = EventId(Uuid::from_u128(42)).to_string();
        let post = valid_posts(&fx)[1].1.clone().set("supersedes", &target);
        assert_eq!(
            message("treatment-exit", &fx.released, &post, "reason"),
            "Enter why this is being corrected"
        );
        match parsed(
            "treatment-exit",
            &fx.released,
            &post.set("reason", "Wrong date"),
        ) {
            Ok(Parsed {
                command:
                    Command::Correct {
                        target: t,
                        reason,
                        kind: EventKind::TreatmentExited(x),
                    },
                ..
            }) => {
                assert_eq!(t.to_string(), target);
                assert_eq!(reason, "Wrong date");
                assert_eq!(x.reason, ExitReason::ReleasedReferredOn);
            }
            other => panic!("not a correction: {:?}", other.err()),
        }
        // The correction form adds its reason box once.
        let f = FormData::from_pairs(vec![("supersedes".into(), target)]);
        let spec = forms::spec("treatment-exit", &fx.released, &profile(), &f).unwrap();
        let reasons = spec
            .fields
            .iter()
            .filter(|x| matches!(x, Field::TextArea { name, .. } if name == "reason"))
            .count();
        assert_eq!(reasons, 1);
    }

    #[test]
    fn the_timeline_corrects_each_new_fact_with_its_form() {
        let fx = fixture();
        for (form, post) in valid_posts(&fx) {
            let kind = kind(form, fx.case_for(form), &post);
            // A share is not corrected from the timeline (as for the care plan's).
            let expected = (form != "share-summary").then_some(form);
            assert_eq!(crate::timeline::form_for(&kind), expected, "{form}");
        }
    }
}
