//! The workforce (REQUIREMENTS §15; S4 §7; KM 5.42–5.50, 6.3.1): staff records linked
//! to sign-in accounts, Prison Service clearance (KM 5.46), trainees with a named
//! supervisor and a sign-off date (KM 5.43.1), evidence of competence against the
//! DANOS units of tables 1–3 (KM 5.43.3, 5.47–5.49; see [`crate::danos`]), training
//! (child protection at a set interval, line management, the information sharing
//! agreement; KM 5.43.2), the annual training needs analysis, professional
//! revalidation (KM 5.49) and vacancies by post (KM 6.3.1). These are facts about the
//! service: their events carry no person.
//!
//! The trainee rule (KM 5.43.1: "No trainee works with complex needs Service Users
//! until fully competent") is enforced by `decide` through [`Context::trainees`].
//!
//! [`Context::trainees`]: crate::decide::Context::trainees

use crate::danos;
use crate::error::{DomainError, Problems};
use crate::events::EventKind;
use crate::identifiers::{EstablishmentCode, StaffUsername};
use crate::labelled_enum;
use crate::record_ids::EventId;
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

labelled_enum! {
    /// A member of staff's role in the service.
    pub enum StaffRole {
        /// A substance use worker (S4 §1).
        SubstanceUseWorker = ("substance_use_worker", "Substance use worker"),
        /// A practitioner delivering psychosocial interventions.
        PsychosocialPractitioner = ("psychosocial_practitioner", "Psychosocial practitioner"),
        /// A nurse.
        Nurse = ("nurse", "Nurse"),
        /// A doctor working in addiction (a substance misuse specialist; KM 5.49).
        Doctor = ("doctor", "Doctor (substance misuse specialist)"),
        /// A consultant psychiatrist (KM 5.49).
        ConsultantPsychiatrist = ("consultant_psychiatrist", "Consultant psychiatrist"),
        /// A team or service manager.
        Manager = ("manager", "Team or service manager"),
        /// Administrative staff: not a practitioner.
        Administrator = ("administrator", "Administrator (not a practitioner)"),
    }
}

impl StaffRole {
    /// Whether the role is a practitioner's (table 1 applies; KM 5.47).
    pub fn is_practitioner(self) -> bool {
        !matches!(self, StaffRole::Administrator)
    }
    /// Whether table 3 applies (KM 5.49).
    pub fn is_specialist(self) -> bool {
        matches!(self, StaffRole::Doctor | StaffRole::ConsultantPsychiatrist)
    }
    /// Whether the role has a professional revalidation (KM 5.49).
    pub fn revalidates(self) -> bool {
        matches!(
            self,
            StaffRole::Nurse | StaffRole::Doctor | StaffRole::ConsultantPsychiatrist
        )
    }
}

labelled_enum! {
    /// The training KM 5.43.2 asks for, and any other course.
    pub enum TrainingCourse {
        /// Child protection consistent with the Kent and Medway multi-agency procedures,
        /// repeated at the profile's interval (KM 5.43.2).
        ChildProtection = ("child_protection", "Child protection (multi-agency procedures)"),
        /// Line management, for line managers (KM 5.43.2).
        LineManagement = ("line_management", "Line management"),
        /// The information sharing agreement and the substance misuse standard
        /// operating procedure (KM 5.43.2).
        InformationSharing = ("information_sharing", "Information sharing agreement and standard operating procedure"),
        /// Any other course (continuing professional development).
        Other = ("other", "Other course"),
    }
}

labelled_enum! {
    /// Where a course stands for the person (KM 5.43.2: "have completed, or are undertaking").
    pub enum TrainingStatus {
        /// Completed on the date given.
        Completed = ("completed", "Completed"),
        /// Being undertaken since the date given.
        Undertaking = ("undertaking", "Undertaking"),
    }
}

/// Prison Service clearance (KM 5.46).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clearance {
    /// When it was granted.
    pub granted_on: NaiveDate,
    /// When it expires.
    pub expires_on: NaiveDate,
}

/// A trainee's details (KM 5.43.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traineeship {
    /// When the traineeship began: sign-off is due within two years of it.
    pub since: NaiveDate,
    /// The fully competent practitioner who supervises them.
    pub supervisor: StaffUsername,
}

/// A member of staff, linked to their sign-in account by username. Recording it
/// again records a new version; the latest counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    /// The sign-in account's username.
    pub username: StaffUsername,
    /// Their name as colleagues know it.
    pub name: String,
    /// Their role.
    pub role: StaffRole,
    /// The establishments they work at.
    pub establishments: Vec<EstablishmentCode>,
    /// Whether they line-manage others (line-management training; KM 5.43.2).
    #[serde(default)]
    pub line_manager: bool,
    /// Whether they undertake motivational approaches and brief interventions
    /// (table 2 applies; KM 5.48).
    #[serde(default)]
    pub brief_interventions: bool,
    /// Their Prison Service clearance, once granted (KM 5.46).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clearance: Option<Clearance>,
    /// Their traineeship, if they joined as a trainee (KM 5.43.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trainee: Option<Traineeship>,
    /// When their professional revalidation is next due (clinicians; KM 5.49).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revalidation_due_on: Option<NaiveDate>,
    /// When they left the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_on: Option<NaiveDate>,
}

/// A trainee signed off as fully competent (KM 5.43.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraineeSignOff {
    /// The trainee.
    pub username: StaffUsername,
    /// When.
    pub signed_off_on: NaiveDate,
}

/// Evidence of competence in one DANOS unit (KM 5.43.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetenceEvidence {
    /// Whose competence.
    pub username: StaffUsername,
    /// The unit's code from tables 1–3 (`AF2`).
    pub unit: String,
    /// The evidence (observed practice, qualification, portfolio reference).
    pub evidence: String,
    /// When it was assessed.
    pub assessed_on: NaiveDate,
}

/// A training course completed or being undertaken (KM 5.43.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// Whose training.
    pub username: StaffUsername,
    /// Which course.
    pub course: TrainingCourse,
    /// The course's title, for another course.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Completed or undertaking.
    pub status: TrainingStatus,
    /// When it was completed, or begun.
    pub on: NaiveDate,
}

/// The annual training needs analysis (KM 5.43.2); its actions are learning actions
/// whose source is `TNA-<year>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingNeedsAnalysis {
    /// The year it covers.
    pub year: i32,
    /// When it was completed.
    pub completed_on: NaiveDate,
    /// What it found.
    pub summary: String,
}

/// A post: vacant since a date, until filled (KM 6.3.1: level of staffing vacancies).
/// Recording the same post again updates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vacancy {
    /// The post's reference.
    pub post_ref: String,
    /// The post's title.
    pub post: String,
    /// The role it is for.
    pub role: StaffRole,
    /// Since when it has been vacant.
    pub vacant_since: NaiveDate,
    /// When it was filled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled_on: Option<NaiveDate>,
}

/// Workforce settings of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkforceSettings {
    /// Months between child protection courses. KM 5.43.2 says "biannually", which
    /// can mean twice a year or every two years; the default is every two years (24),
    /// the reading of the national child protection training guidance.
    #[serde(default = "default_child_protection_months")]
    pub child_protection_months: u32,
    /// Months within which a trainee is to be signed off (KM 5.43.1: two years).
    #[serde(default = "default_trainee_months")]
    pub trainee_sign_off_months: u32,
    /// Days ahead that an expiring clearance, revalidation or training is shown.
    #[serde(default = "default_warning_days")]
    pub warning_days: u32,
}

fn default_child_protection_months() -> u32 {
    24
}
fn default_trainee_months() -> u32 {
    24
}
fn default_warning_days() -> u32 {
    60
}

impl Default for WorkforceSettings {
    fn default() -> Self {
        WorkforceSettings {
            child_protection_months: default_child_protection_months(),
            trainee_sign_off_months: default_trainee_months(),
            warning_days: default_warning_days(),
        }
    }
}

/// The workforce as its events record it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workforce {
    /// Staff by username (latest version).
    pub staff: BTreeMap<StaffUsername, StaffMember>,
    /// Trainees signed off, and when.
    pub signed_off: BTreeMap<StaffUsername, NaiveDate>,
    /// Competence evidence by person and unit (latest).
    pub competence: BTreeMap<(StaffUsername, String), CompetenceEvidence>,
    /// Training records by person and course, in log order.
    pub training: BTreeMap<(StaffUsername, TrainingCourse), Vec<TrainingRecord>>,
    /// Training needs analyses by year.
    pub analyses: BTreeMap<i32, TrainingNeedsAnalysis>,
    /// Posts by reference, with the establishment they are at (latest version).
    pub vacancies: BTreeMap<String, (EstablishmentCode, Vacancy)>,
}

/// Where a training requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrainingState {
    /// Never done nor being undertaken.
    Missing,
    /// Past its due date.
    Overdue,
    /// Due today or within the warning window.
    Due,
}

/// One training requirement not met, or about to lapse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingDue {
    /// Whose.
    pub username: StaffUsername,
    /// Which course.
    pub course: TrainingCourse,
    /// When it is (or was) due, if it has been done before.
    pub due_on: Option<NaiveDate>,
    /// Where it stands.
    pub state: TrainingState,
}

impl Workforce {
    /// Applies one service event (others are ignored).
    pub fn apply(&mut self, _id: EventId, at: &EstablishmentCode, kind: &EventKind) {
        match kind {
            EventKind::StaffRecorded(s) => {
                self.staff.insert(s.username.clone(), s.clone());
            }
            EventKind::TraineeSignedOff(s) => {
                self.signed_off.insert(s.username.clone(), s.signed_off_on);
            }
            EventKind::CompetenceRecorded(c) => {
                self.competence
                    .insert((c.username.clone(), c.unit.clone()), c.clone());
            }
            EventKind::TrainingRecorded(t) => {
                self.training
                    .entry((t.username.clone(), t.course))
                    .or_default()
                    .push(t.clone());
            }
            EventKind::TrainingNeedsAnalysisRecorded(a) => {
                self.analyses.insert(a.year, a.clone());
            }
            EventKind::VacancyRecorded(v) => {
                self.vacancies
                    .insert(v.post_ref.clone(), (at.clone(), v.clone()));
            }
            _ => {}
        }
    }

    /// Staff who have not left by `today`.
    pub fn current_staff(&self, today: NaiveDate) -> impl Iterator<Item = &StaffMember> {
        self.staff
            .values()
            .filter(move |s| s.left_on.is_none_or(|l| l > today))
    }

    /// The unit codes `who` must evidence (KM 5.47–5.49).
    pub fn required_units(&self, who: &StaffMember) -> BTreeSet<&'static str> {
        danos::required_units(
            who.role.is_practitioner(),
            who.brief_interventions,
            who.role.is_specialist(),
        )
    }

    /// The required units `who` has no evidence for.
    pub fn missing_units(&self, who: &StaffMember) -> Vec<&'static str> {
        self.required_units(who)
            .into_iter()
            .filter(|u| {
                !self
                    .competence
                    .contains_key(&(who.username.clone(), (*u).to_string()))
            })
            .collect()
    }

    /// Whether `username` has evidence for every unit their role requires.
    pub fn fully_competent(&self, username: &StaffUsername) -> bool {
        self.staff
            .get(username)
            .is_some_and(|s| self.missing_units(s).is_empty())
    }

    /// Whether `username` is a trainee not yet signed off (KM 5.43.1).
    pub fn is_trainee(&self, username: &StaffUsername) -> bool {
        self.staff.get(username).is_some_and(|s| {
            s.trainee.as_ref().is_some_and(|t| {
                self.signed_off
                    .get(username)
                    .is_none_or(|signed| *signed < t.since)
            })
        })
    }

    /// Every trainee not yet signed off: the usernames `decide` keeps from work with
    /// people whose assessment flags complex needs.
    pub fn trainees(&self) -> Vec<StaffUsername> {
        self.staff
            .keys()
            .filter(|u| self.is_trainee(u))
            .cloned()
            .collect()
    }

    /// Trainees with the date they are to be signed off by (KM 5.43.1: within two
    /// years), earliest first.
    pub fn sign_offs_due(&self, settings: &WorkforceSettings) -> Vec<(&StaffMember, NaiveDate)> {
        let mut due: Vec<_> = self
            .staff
            .values()
            .filter(|s| self.is_trainee(&s.username))
            .filter_map(|s| {
                let t = s.trainee.as_ref()?;
                Some((s, add_months(t.since, settings.trainee_sign_off_months)))
            })
            .collect();
        due.sort_by_key(|(_, d)| *d);
        due
    }

    /// For each required unit, the current staff who lack evidence for it (the
    /// dashboard's competence gaps by unit); units nobody lacks are left out.
    pub fn competence_gaps(
        &self,
        today: NaiveDate,
    ) -> Vec<(&'static danos::Unit, Vec<&StaffMember>)> {
        let mut gaps: BTreeMap<&'static str, Vec<&StaffMember>> = BTreeMap::new();
        for s in self.current_staff(today) {
            for u in self.missing_units(s) {
                gaps.entry(u).or_default().push(s);
            }
        }
        danos::all_units()
            .into_iter()
            .filter_map(|u| gaps.remove(u.code.as_str()).map(|who| (u, who)))
            .collect()
    }

    /// When `course` is next due for `username`, from their latest completion; `None`
    /// if never completed. Child protection recurs at the profile's interval; the
    /// other required courses are done once.
    pub fn next_due(
        &self,
        username: &StaffUsername,
        course: TrainingCourse,
        settings: &WorkforceSettings,
    ) -> Option<NaiveDate> {
        let last = self
            .training
            .get(&(username.clone(), course))?
            .iter()
            .filter(|t| t.status == TrainingStatus::Completed)
            .map(|t| t.on)
            .max()?;
        Some(match course {
            TrainingCourse::ChildProtection => add_months(last, settings.child_protection_months),
            _ => NaiveDate::MAX,
        })
    }

    /// Training due, overdue or missing for current staff as at `today` (KM 5.43.2):
    /// child protection and the information sharing agreement for every practitioner,
    /// line management for line managers. A course being undertaken since its last
    /// completion counts as meeting the requirement ("completed, or are undertaking").
    pub fn training_due(&self, settings: &WorkforceSettings, today: NaiveDate) -> Vec<TrainingDue> {
        let mut out = Vec::new();
        for s in self.current_staff(today) {
            let mut courses = Vec::new();
            if s.role.is_practitioner() || s.line_manager {
                courses.push(TrainingCourse::ChildProtection);
                courses.push(TrainingCourse::InformationSharing);
            }
            if s.line_manager {
                courses.push(TrainingCourse::LineManagement);
            }
            for course in courses {
                let due_on = self.next_due(&s.username, course, settings);
                let records = self.training.get(&(s.username.clone(), course));
                let last_completed = records.and_then(|r| {
                    r.iter()
                        .filter(|t| t.status == TrainingStatus::Completed)
                        .map(|t| t.on)
                        .max()
                });
                let undertaking = records.is_some_and(|r| {
                    r.iter().any(|t| {
                        t.status == TrainingStatus::Undertaking
                            && last_completed.is_none_or(|c| t.on > c)
                    })
                });
                let warn = chrono::Duration::days(i64::from(settings.warning_days));
                let state = match due_on {
                    _ if undertaking => None,
                    None => Some(TrainingState::Missing),
                    Some(d) if d == NaiveDate::MAX => None,
                    Some(d) if d < today => Some(TrainingState::Overdue),
                    Some(d) if d - warn <= today => Some(TrainingState::Due),
                    Some(_) => None,
                };
                if let Some(state) = state {
                    out.push(TrainingDue {
                        username: s.username.clone(),
                        course,
                        due_on: due_on.filter(|d| *d != NaiveDate::MAX),
                        state,
                    });
                }
            }
        }
        out.sort_by_key(|t| (t.state, t.due_on));
        out
    }

    /// Current staff whose clearance is missing, expired, or expires within the
    /// warning window (KM 5.46), with its expiry (`None`: no clearance recorded).
    pub fn clearances_expiring(
        &self,
        settings: &WorkforceSettings,
        today: NaiveDate,
    ) -> Vec<(&StaffMember, Option<NaiveDate>)> {
        let horizon = today + chrono::Duration::days(i64::from(settings.warning_days));
        let mut out: Vec<_> = self
            .current_staff(today)
            .filter_map(|s| match &s.clearance {
                None => Some((s, None)),
                Some(c) if c.expires_on <= horizon => Some((s, Some(c.expires_on))),
                Some(_) => None,
            })
            .collect();
        out.sort_by_key(|(_, d)| *d);
        out
    }

    /// Current clinicians whose revalidation is due within the warning window or
    /// past (KM 5.49).
    pub fn revalidations_due(
        &self,
        settings: &WorkforceSettings,
        today: NaiveDate,
    ) -> Vec<(&StaffMember, NaiveDate)> {
        let horizon = today + chrono::Duration::days(i64::from(settings.warning_days));
        self.current_staff(today)
            .filter_map(|s| s.revalidation_due_on.map(|d| (s, d)))
            .filter(|(_, d)| *d <= horizon)
            .collect()
    }

    /// Posts vacant as at `today`, with their establishment (KM 6.3.1).
    pub fn open_vacancies(&self, today: NaiveDate) -> Vec<(&EstablishmentCode, &Vacancy)> {
        self.vacancies
            .values()
            .filter(|(_, v)| v.vacant_since <= today && v.filled_on.is_none_or(|f| f > today))
            .map(|(e, v)| (e, v))
            .collect()
    }
}

/// `d` plus whole calendar months (the last day of a shorter month where needed).
pub fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether an event kind is a workforce fact.
pub fn is_workforce_fact(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::StaffRecorded(_)
            | EventKind::TraineeSignedOff(_)
            | EventKind::CompetenceRecorded(_)
            | EventKind::TrainingRecorded(_)
            | EventKind::TrainingNeedsAnalysisRecorded(_)
            | EventKind::VacancyRecorded(_)
    )
}

/// The date a workforce fact is about (its occurrence in the log).
pub fn fact_date(kind: &EventKind) -> Option<NaiveDate> {
    match kind {
        EventKind::TraineeSignedOff(s) => Some(s.signed_off_on),
        EventKind::CompetenceRecorded(c) => Some(c.assessed_on),
        EventKind::TrainingRecorded(t) => Some(t.on),
        EventKind::TrainingNeedsAnalysisRecorded(a) => Some(a.completed_on),
        EventKind::VacancyRecorded(v) => Some(v.filled_on.unwrap_or(v.vacant_since)),
        _ => None,
    }
}

/// Checks a workforce fact against the workforce as recorded and `today`.
pub fn validate(w: &Workforce, kind: &EventKind, today: NaiveDate) -> Result<(), DomainError> {
    let mut p = Problems::new();
    let blank = |s: &str| s.trim().is_empty();
    let future = |p: &mut Problems, field: &str, d: NaiveDate| {
        if d > today {
            p.add(field, "The date must be today or in the past");
        }
    };
    let known = |p: &mut Problems, u: &StaffUsername| {
        if !w.staff.contains_key(u) {
            p.add(
                "username",
                format!("{u} has no staff record: record the member of staff first"),
            );
        }
    };
    match kind {
        EventKind::StaffRecorded(s) => {
            p.check(blank(&s.name), "name", "Enter the member of staff's name");
            p.check(
                s.establishments.is_empty(),
                "establishments",
                "Select at least one establishment",
            );
            if let Some(c) = &s.clearance {
                future(&mut p, "clearance_granted_on", c.granted_on);
                if c.expires_on <= c.granted_on {
                    p.add(
                        "clearance_expires_on",
                        "The clearance must expire after it was granted",
                    );
                }
            }
            if let Some(t) = &s.trainee {
                future(&mut p, "trainee_since", t.since);
                if t.supervisor == s.username {
                    p.add("supervisor", "A trainee cannot supervise themselves");
                } else if !w.staff.contains_key(&t.supervisor) {
                    p.add(
                        "supervisor",
                        format!("{} has no staff record", t.supervisor),
                    );
                } else if w.is_trainee(&t.supervisor) || !w.fully_competent(&t.supervisor) {
                    p.add(
                        "supervisor",
                        format!(
                            "{} is not a fully competent practitioner: a trainee's supervisor must be (KM 5.43.1)",
                            t.supervisor
                        ),
                    );
                }
            }
            if let Some(l) = s.left_on {
                future(&mut p, "left_on", l);
            }
        }
        EventKind::TraineeSignedOff(s) => {
            future(&mut p, "signed_off_on", s.signed_off_on);
            match w.staff.get(&s.username) {
                None => known(&mut p, &s.username),
                Some(m) if !w.is_trainee(&m.username) => {
                    p.add("username", format!("{} is not a trainee", s.username));
                }
                Some(m) => {
                    let missing = w.missing_units(m);
                    if !missing.is_empty() {
                        return Err(DomainError::Refused(format!(
                            "{} cannot be signed off: no evidence of competence yet in {} (KM 5.43.1, 5.47–5.49)",
                            s.username,
                            missing.join(", ")
                        )));
                    }
                    if let Some(t) = &m.trainee
                        && s.signed_off_on < t.since
                    {
                        p.add(
                            "signed_off_on",
                            "The sign-off cannot be before the traineeship began",
                        );
                    }
                }
            }
        }
        EventKind::CompetenceRecorded(c) => {
            known(&mut p, &c.username);
            if danos::unit(&c.unit).is_none() {
                p.add(
                    "unit",
                    format!("{:?} is not a unit of KM tables 1–3", c.unit),
                );
            }
            p.check(
                blank(&c.evidence),
                "evidence",
                "Enter the evidence of competence",
            );
            future(&mut p, "assessed_on", c.assessed_on);
        }
        EventKind::TrainingRecorded(t) => {
            known(&mut p, &t.username);
            future(&mut p, "on", t.on);
            if t.course == TrainingCourse::Other && t.title.as_deref().is_none_or(blank) {
                p.add("title", "Enter the course's title");
            }
        }
        EventKind::TrainingNeedsAnalysisRecorded(a) => {
            future(&mut p, "completed_on", a.completed_on);
            p.check(
                blank(&a.summary),
                "summary",
                "Enter what the analysis found",
            );
            if !(2000..=2100).contains(&a.year) {
                p.add("year", "Enter the year the analysis covers");
            }
        }
        EventKind::VacancyRecorded(v) => {
            p.check(blank(&v.post_ref), "post_ref", "Enter the post's reference");
            p.check(blank(&v.post), "post", "Enter the post's title");
            future(&mut p, "vacant_since", v.vacant_since);
            if let Some(f) = v.filled_on {
                future(&mut p, "filled_on", f);
                if f < v.vacant_since {
                    p.add("filled_on", "A post cannot be filled before it fell vacant");
                }
            }
        }
        _ => {
            return Err(DomainError::invalid("type", "this is not a workforce fact"));
        }
    }
    p.into_result()
}

/// Whether recording `kind` for a person is work with them (KM 5.43.1): every fact
/// about their care and treatment. Facts from the prison's systems (movements),
/// registration, referrals received, consent and the log's own corrections are not.
pub fn is_work_with_person(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::PersonRegistered(_)
            | EventKind::PeopleMerged(_)
            | EventKind::Received(_)
            | EventKind::Transferred(_)
            | EventKind::ExpectedReleaseSet(_)
            | EventKind::Released(_)
            | EventKind::ReferralMade(_)
            | EventKind::ConsentRecorded(_)
            | EventKind::ConsentWithdrawn(_)
            | EventKind::EnteredInError(_)
            | EventKind::DeathRecorded(_)
            | EventKind::ReoffenceRecorded(_)
    ) && !is_workforce_fact(kind)
}

/// The trainee rule (KM 5.43.1): refuses allocating a trainee as keyworker to a
/// person whose assessment flags complex needs, and a trainee recording work with
/// such a person, until they are signed off.
pub fn check_trainee_rule(
    complex_needs: bool,
    kind: &EventKind,
    recorded_by: &StaffUsername,
    trainees: &[StaffUsername],
) -> Result<(), DomainError> {
    if !complex_needs {
        return Ok(());
    }
    if let EventKind::KeyworkerAllocated(a) = kind
        && trainees.contains(&a.worker)
    {
        return Err(DomainError::Refused(format!(
            "{} is a trainee not yet signed off, and this person's assessment flags complex needs: a trainee cannot be their keyworker until signed off as fully competent (KM 5.43.1)",
            a.worker
        )));
    }
    if trainees.contains(recorded_by) && is_work_with_person(kind) {
        return Err(DomainError::Refused(format!(
            "{recorded_by} is a trainee not yet signed off, and this person's assessment flags complex needs: ask a fully competent colleague to record this work (KM 5.43.1)"
        )));
    }
    Ok(())
}
