//! The demo's recovery care: keyworkers, recovery care plans and their reviews,
//! inductions, Treatment Outcomes Profiles, courses of interventions and the
//! sessions that make them up (1-to-1, group, programme, mutual aid), the clinical
//! pathway from the first night on, blood-borne virus screening and vaccination,
//! naloxone, drug intelligence, sentence plan contributions, the diary of
//! appointments around `now`, and one exclusion from the service.
//!
//! It runs after [`crate::demo`] has recorded its caseload and plans from the cases
//! as the store holds them, so every date follows what is already there: nothing
//! before a person's reception or first assessment, each course step after the
//! last, nothing after `now` except appointment times. Like the rest of the demo it
//! is deterministic (a generator seeded from the demo's seed, identifiers from the
//! same [`IdSource`]) and every fact goes through [`Recorder::record`], so the
//! domain checks each one as it checks a worker's entry.
//!
//! Some people are deliberately left without care, so that every work queue has
//! something in it: needs found at screening with nothing offered, drinkers without
//! structured advice, people triaged for structured treatment with no start. A few
//! people with long sentences (received well over six months before `now`) are
//! added, so that Treatment Outcomes Profiles and reassessments can fall overdue,
//! and a few people released earlier are recalled within the last hours, so that
//! first-night clocks are live.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use throughcare_domain::assessment::{
    Assessment, AssessmentKind, ComprehensiveItems, FamilyIssues, RiskLevel,
};
use throughcare_domain::calendar::Calendar;
use throughcare_domain::case::Case;
use throughcare_domain::clinical::{
    BbvStep, BloodBorneVirusRecord, ClinicalEvent, ClinicalStep, DetoxScope, DetoxSubstance,
    DrugIntelligence, IntelligenceAction, IntelligenceConcern, Medication, NaloxoneRecipient,
    NaloxoneRecord, TestResult, Virus,
};
use throughcare_domain::consent::{ConsentDecision, ConsentPurpose, ConsentRecord, ConsentState};
use throughcare_domain::custody::{
    CustodyStatus, ExpectedRelease, Reception, ReceptionType, ReleaseKind,
};
use throughcare_domain::decide::Command;
use throughcare_domain::error::DomainError;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, Postcode, PrisonNumber, StaffUsername};
use throughcare_domain::instruments::{AuditAnswers, AuditZone};
use throughcare_domain::interventions::{
    InterventionFamily, InterventionStatus, InterventionTarget, InterventionUpdate, MutualAidKind,
    SessionAttended, SessionKind,
};
use throughcare_domain::outcomes::{
    SubstanceUse, TopStage, TopSubstance, TreatmentOutcomesProfile,
};
use throughcare_domain::people::{
    Answer, EqualityMonitoring, Ethnicity, PersonDetails, RecordedPriorityFlags, Religion, Sex,
    SexualOrientation,
};
use throughcare_domain::profile::{EstablishmentKind, Profile};
use throughcare_domain::record_ids::{EventId, IdSource, PersonId};
use throughcare_domain::recovery::{
    CarePlan, CarePlanReview, ContingencyPlan, ExclusionGrounds, Induction, InductionItem,
    InductionTick, KeyworkerAllocation, SentencePlanContribution, ServiceExclusion,
    induction_revisit_due,
};
use throughcare_domain::referrals::{
    AppointmentOffer, AppointmentOutcome, AppointmentOutcomeKind, AppointmentReschedule, Referral,
    ReferralSource,
};
use throughcare_domain::screening::{InjectingStatus, Screening, ScreeningSetting, Substance};
use throughcare_domain::time::local_date;
use throughcare_store::{FeedRecord, Store};

use crate::demo::{
    FAMILY, GIVEN_MEN, GIVEN_WOMEN, INWARD_LETTERS, ISLAND_OUTWARD, KENT_OUTWARD, NUMBER_LETTERS,
    SEED, SplitMix64, local,
};
use crate::recording::{RecordError, Recorder, load_case};

/// What the recovery-care part of the demo added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareSummary {
    /// People it registered (the long-sentence cohort).
    pub people: usize,
    /// Events it appended.
    pub events: usize,
}

/// Plans and records the demo's recovery care as of `now`, after the demo's
/// caseload is recorded in `store`. Identifiers come from `ids`, which must be the
/// demo's own sequence so that the same `now` gives the same events.
pub fn seed(
    store: &dyn Store,
    profile: &Profile,
    calendar: &Calendar,
    now: DateTime<Utc>,
    ids: &mut dyn IdSource,
) -> Result<CareSummary, RecordError> {
    let recorder = Recorder {
        store,
        profile,
        calendar,
    };
    let mut p = CarePlanner::new(profile, calendar, now)?;
    // First the new arrivals: long sentences and recalls (with their first-night needs).
    let people = p.plan_long_stays(ids)?;
    p.plan_recalls(store)?;
    let mut events = p.record(&recorder, now, ids)?;
    // Then care, from every case as it now stands.
    let subjects = p.subjects(store)?;
    p.plan_care(&subjects, ids);
    events += p.record(&recorder, now, ids)?;
    Ok(CareSummary { people, events })
}

/// The care generator's seed: the demo's own, mixed with "CARE".
const CARE_SEED: u64 = SEED ^ 0x4341_5245_0000_0000;

// ---------------------------------------------------------------------------
// Plan

/// What an action records once the identifiers it depends on are known.
enum Step {
    /// A fact complete at planning time.
    Fact(EventKind),
    /// A later step of a course planned earlier.
    Progress {
        course: usize,
        update: InterventionUpdate,
    },
    /// A session of a course planned earlier.
    CourseSession {
        course: usize,
        session: SessionAttended,
    },
    /// The outcome of an appointment planned earlier.
    Outcome {
        appointment: usize,
        outcome: AppointmentOutcomeKind,
        note: Option<String>,
    },
    /// An appointment planned earlier moved to a new time.
    Reschedule {
        appointment: usize,
        at: DateTime<Utc>,
        reason: String,
    },
    /// A session recorded from an appointment planned earlier.
    AppointmentSession {
        appointment: usize,
        session: SessionAttended,
    },
    /// An assessment answering a referral planned earlier.
    Assessment {
        referral: usize,
        assessment: Assessment,
    },
}

/// One dated thing to record.
struct Action {
    at: DateTime<Utc>,
    /// Planning order: breaks ties so a dependent action follows what it depends on.
    order: usize,
    person: PersonId,
    establishment: EstablishmentCode,
    by: StaffUsername,
    step: Step,
    /// The slot the recorded event's identifier fills, if later actions refer to it.
    save: Option<usize>,
    feed: Option<FeedRecord>,
}

/// A person in custody at `now`, as the store holds them.
struct Subject {
    id: PersonId,
    case: Case,
    received_at: DateTime<Utc>,
    /// Where the person has been held since the latest reception, from when.
    stays: Vec<(EstablishmentCode, NaiveDate)>,
    detainee: bool,
    sentenced: bool,
    /// The first language, when it is not English.
    language: Option<String>,
    substances: Vec<Substance>,
    alcohol_risk: bool,
    alcohol_dependent: bool,
    injecting: bool,
    offending_linked: bool,
    /// The first assessment since the latest reception.
    first_assessed: Option<NaiveDate>,
    /// The latest assessment that found a need for structured treatment.
    triage: Option<NaiveDate>,
    long_stay: bool,
}

impl Subject {
    fn establishment_on(&self, d: NaiveDate) -> EstablishmentCode {
        self.stays
            .iter()
            .rev()
            .find(|(_, from)| *from <= d)
            .unwrap_or(&self.stays[0])
            .0
            .clone()
    }

    fn opiate(&self) -> bool {
        self.substances.iter().any(|s| s.is_opiate())
    }

    fn family_name(&self) -> String {
        self.case
            .details
            .as_ref()
            .map(|d| d.family_name.clone())
            .unwrap_or_default()
    }

    /// What the person's treatment targets (KPIs 1.12–1.13).
    fn target(&self) -> InterventionTarget {
        let opiate = self.opiate();
        let alcohol = self.substances.contains(&Substance::Alcohol);
        let crack = self.substances.contains(&Substance::Crack);
        let other = self
            .substances
            .iter()
            .any(|s| !s.is_opiate() && !matches!(s, Substance::Alcohol | Substance::Crack));
        let groups = [opiate, alcohol, crack, other]
            .iter()
            .filter(|x| **x)
            .count();
        if groups >= 2 {
            InterventionTarget::PolySubstance
        } else if opiate {
            InterventionTarget::Opiates
        } else if alcohol {
            InterventionTarget::Alcohol
        } else if crack {
            InterventionTarget::CrackOnly
        } else {
            InterventionTarget::Other
        }
    }
}

/// A person's time in care, for group sessions and the diary.
struct CareWindow {
    subject: usize,
    from: NaiveDate,
    to: NaiveDate,
    keyworker: StaffUsername,
    prescribed: bool,
    /// Excluded from the service at the end of the window (KM 4.9).
    excluded: bool,
}

/// The catalogue codes the demo uses, found by what the profile says about each.
struct Catalogue {
    keyworking: Option<String>,
    prescribing: Option<String>,
    detox: Option<String>,
    /// Structured alcohol advice that starts structured treatment (MOCAM), if any.
    alcohol_structured: Option<String>,
    /// Alcohol advice that does not.
    alcohol_brief: Option<String>,
    programmes: Vec<String>,
    mutual_aid: Vec<String>,
    /// Psychosocial interventions that are neither structured treatment nor
    /// structured psychosocial (so the IRC offers them too).
    light: Vec<String>,
    naloxone: Option<String>,
}

impl Catalogue {
    fn of(profile: &Profile) -> Catalogue {
        let has = |code: &str| profile.intervention(code).map(|d| d.code.clone());
        let first = |pred: &dyn Fn(&throughcare_domain::interventions::InterventionDef) -> bool| {
            profile
                .interventions
                .iter()
                .find(|d| pred(d))
                .map(|d| d.code.clone())
        };
        Catalogue {
            keyworking: has("keyworking"),
            prescribing: has("substitute-prescribing"),
            detox: first(&|d| d.family == InterventionFamily::Clinical && d.code.contains("detox")),
            alcohol_structured: first(&|d| d.alcohol_advice && d.structured_treatment),
            alcohol_brief: first(&|d| d.alcohol_advice && !d.structured_treatment),
            programmes: profile
                .interventions
                .iter()
                .filter(|d| d.family == InterventionFamily::Programme)
                .map(|d| d.code.clone())
                .collect(),
            mutual_aid: profile
                .interventions
                .iter()
                .filter(|d| d.family == InterventionFamily::MutualAid)
                .map(|d| d.code.clone())
                .collect(),
            light: profile
                .interventions
                .iter()
                .filter(|d| {
                    d.family == InterventionFamily::Psychosocial
                        && !d.structured_treatment
                        && !d.structured_psychosocial
                        && !d.alcohol_advice
                })
                .map(|d| d.code.clone())
                .collect(),
            naloxone: first(&|d| d.code.contains("naloxone")),
        }
    }
}

struct CarePlanner<'a> {
    profile: &'a Profile,
    calendar: &'a Calendar,
    now: DateTime<Utc>,
    today: NaiveDate,
    yesterday: NaiveDate,
    rng: SplitMix64,
    catalogue: Catalogue,
    worker: StaffUsername,
    clinician: StaffUsername,
    manager: StaffUsername,
    movements: StaffUsername,
    worker_sites: Vec<EstablishmentCode>,
    actions: Vec<Action>,
    slots: usize,
    /// People registered here, who get care whatever the draw.
    long_stays: BTreeSet<PersonId>,
    /// People recalled here, whose latest reception is within hours of now.
    recalled: BTreeSet<PersonId>,
    feed_refs: u32,
    /// People started on a prescription so far (every seventh drops out).
    prescriptions: u32,
}

fn staff(name: &str) -> Result<StaffUsername, RecordError> {
    StaffUsername::parse(name)
        .map_err(|e| RecordError::Domain(DomainError::invalid("recorded_by", e.to_string())))
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

/// `d`, or the working day before it.
fn prev_working(calendar: &Calendar, mut d: NaiveDate) -> NaiveDate {
    for _ in 0..10 {
        if calendar.is_working_day(d) {
            break;
        }
        d -= days(1);
    }
    d
}

/// `d`, or the working day after it.
fn next_working(calendar: &Calendar, mut d: NaiveDate) -> NaiveDate {
    for _ in 0..10 {
        if calendar.is_working_day(d) {
            break;
        }
        d += days(1);
    }
    d
}

impl<'a> CarePlanner<'a> {
    fn new(
        profile: &'a Profile,
        calendar: &'a Calendar,
        now: DateTime<Utc>,
    ) -> Result<Self, RecordError> {
        let today = local_date(now);
        // The demo worker's establishments, as the demo accounts give them.
        let all: Vec<EstablishmentCode> = profile
            .establishments
            .iter()
            .map(|e| e.code.clone())
            .collect();
        let preferred: Vec<EstablishmentCode> = all
            .iter()
            .filter(|c| matches!(c.as_str(), "MDI" | "EYI"))
            .cloned()
            .collect();
        let worker_sites = if preferred.is_empty() {
            all.iter().take(2).cloned().collect()
        } else {
            preferred
        };
        Ok(CarePlanner {
            profile,
            calendar,
            now,
            today,
            yesterday: today - days(1),
            rng: SplitMix64(CARE_SEED),
            catalogue: Catalogue::of(profile),
            worker: staff("worker")?,
            clinician: staff("clinician")?,
            manager: staff("manager")?,
            movements: staff("feed.movements")?,
            worker_sites,
            actions: Vec::new(),
            slots: 0,
            long_stays: BTreeSet::new(),
            recalled: BTreeSet::new(),
            feed_refs: 0,
            prescriptions: 0,
        })
    }

    fn slot(&mut self) -> usize {
        self.slots += 1;
        self.slots - 1
    }

    fn push(
        &mut self,
        person: PersonId,
        establishment: EstablishmentCode,
        at: DateTime<Utc>,
        by: StaffUsername,
        step: Step,
    ) -> &mut Action {
        let order = self.actions.len();
        self.actions.push(Action {
            at,
            order,
            person,
            establishment,
            by,
            step,
            save: None,
            feed: None,
        });
        let last = self.actions.len() - 1;
        &mut self.actions[last]
    }

    /// A fact about a subject, at the establishment holding them on that day.
    fn fact(&mut self, s: &Subject, at: DateTime<Utc>, by: &StaffUsername, kind: EventKind) {
        let est = s.establishment_on(local_date(at));
        self.push(s.id, est, at, by.clone(), Step::Fact(kind));
    }

    fn movement_feed(&mut self, prefix: &str) -> (String, FeedRecord) {
        self.feed_refs += 1;
        let r = format!("DEMO-MOV-{prefix}{:04}", self.feed_refs);
        (
            r.clone(),
            FeedRecord {
                feed: "movements".into(),
                source_ref: r,
            },
        )
    }

    // -- New arrivals ------------------------------------------------------------

    /// A few people serving long sentences, received between seven and thirteen
    /// months before now: one at each prison, and one more at each of the demo
    /// worker's. Returns how many.
    fn plan_long_stays(&mut self, ids: &mut dyn IdSource) -> Result<usize, RecordError> {
        let mut homes: Vec<(EstablishmentCode, bool)> = Vec::new();
        for e in &self.profile.establishments {
            if e.kind != EstablishmentKind::Prison {
                continue;
            }
            let women = e.code.as_str() == "ESI";
            homes.push((e.code.clone(), women));
            if self.worker_sites.contains(&e.code) {
                homes.push((e.code.clone(), women));
            }
        }
        let single = self.profile.establishments.len() == 1;
        for (i, (home, women)) in homes.iter().enumerate() {
            let details = self.long_stay_details(i, *women, single)?;
            let person = PersonId(ids.next_uuid());
            self.long_stays.insert(person);
            self.plan_long_stay(person, home, details, i);
        }
        Ok(homes.len())
    }

    fn long_stay_details(
        &mut self,
        i: usize,
        women: bool,
        single: bool,
    ) -> Result<PersonDetails, RecordError> {
        let r = &mut self.rng;
        // Numbers far along the demo's own sequence (7919 is prime to 9000), so they
        // never meet one the caseload used.
        let n = 5000 + i as u64;
        let digits = 1000 + (n * 7919) % 9000;
        let a = *r.pick(NUMBER_LETTERS) as char;
        let b = *r.pick(NUMBER_LETTERS) as char;
        let prison_number = PrisonNumber::parse(&format!("Z{digits}{a}{b}")).map_err(|e| {
            RecordError::Domain(DomainError::invalid("prison_number", e.to_string()))
        })?;
        let given = if women {
            *r.pick(&GIVEN_WOMEN)
        } else {
            *r.pick(&GIVEN_MEN)
        };
        let family = *r.pick(&FAMILY);
        let age = r.range(24, 55);
        let date_of_birth = self.today - days(age * 365 + age / 4 + r.range(1, 360));
        let outward = if single {
            *r.pick(&ISLAND_OUTWARD)
        } else {
            *r.pick(&KENT_OUTWARD)
        };
        let postcode = format!(
            "{outward} {}{}{}",
            r.range(1, 9),
            *r.pick(INWARD_LETTERS) as char,
            *r.pick(INWARD_LETTERS) as char
        );
        let home_postcode = Some(Postcode::parse(&postcode).map_err(|e| {
            RecordError::Domain(DomainError::invalid("home_postcode", e.to_string()))
        })?);
        Ok(PersonDetails {
            prison_number,
            given_name: given.to_string(),
            family_name: family.to_string(),
            date_of_birth,
            home_postcode,
            equality: EqualityMonitoring {
                sex: if women { Sex::Female } else { Sex::Male },
                gender_identity_same_as_birth: Answer::Yes,
                ethnicity: r.weighted(&[
                    (Ethnicity::WhiteBritish, 70),
                    (Ethnicity::Mixed, 10),
                    (Ethnicity::Black, 10),
                    (Ethnicity::WhiteOther, 10),
                ]),
                religion: r.weighted(&[
                    (Religion::NoReligion, 50),
                    (Religion::Christian, 35),
                    (Religion::Muslim, 10),
                    (Religion::NotStated, 5),
                ]),
                sexual_orientation: r.weighted(&[
                    (SexualOrientation::Heterosexual, 90),
                    (SexualOrientation::NotStated, 10),
                ]),
                disability: r.weighted(&[(Answer::Yes, 25), (Answer::No, 75)]),
                learning_disability: Answer::No,
                sight_impairment: Answer::No,
                hearing_impairment: Answer::No,
                pregnant: Answer::No,
                nationality: Some("British".into()),
                first_language: Some("English".into()),
                interpreter_needed: Answer::No,
            },
            priority: RecordedPriorityFlags {
                prolific_offender: r.chance(30),
                dual_diagnosis: r.chance(20),
            },
        })
    }

    /// Registration, reception, screening, referral, assessments and consents of one
    /// person with a long sentence. Care follows with everyone else's.
    fn plan_long_stay(
        &mut self,
        person: PersonId,
        home: &EstablishmentCode,
        details: PersonDetails,
        i: usize,
    ) {
        let back = self.rng.range(215, 400);
        let received_on = prev_working(self.calendar, self.today - days(back));
        let arrival = local(received_on, self.rng.range(10, 14), self.rng.range(0, 59));
        let worker = self.worker.clone();
        let clinician = self.clinician.clone();
        let est = home.clone();
        self.push(
            person,
            est.clone(),
            arrival,
            worker.clone(),
            Step::Fact(EventKind::PersonRegistered(details)),
        );
        let (source_ref, feed) = self.movement_feed("L");
        let movements = self.movements.clone();
        self.push(
            person,
            est.clone(),
            arrival + minutes(1),
            movements.clone(),
            Step::Fact(EventKind::Received(Reception {
                reception_type: ReceptionType::Sentenced,
                source_ref: Some(source_ref),
            })),
        )
        .feed = Some(feed);
        let release = self.today + days(self.rng.range(90, 700));
        self.push(
            person,
            est.clone(),
            arrival + minutes(2),
            movements,
            Step::Fact(EventKind::ExpectedReleaseSet(ExpectedRelease {
                date: Some(release),
            })),
        );
        let (substances, audit) = match i % 4 {
            0 => (vec![Substance::Heroin, Substance::Crack], None),
            1 => (
                vec![Substance::Alcohol, Substance::Cocaine],
                AuditAnswers::new([4, 3, 3, 2, 2, 2, 2, 2, 2, 2]).ok(),
            ),
            2 => (vec![Substance::Heroin, Substance::Benzodiazepines], None),
            _ => (
                vec![Substance::Crack, Substance::PsychoactiveSubstances],
                None,
            ),
        };
        self.push(
            person,
            est.clone(),
            arrival + minutes(40),
            worker.clone(),
            Step::Fact(EventKind::ScreeningCompleted(Screening {
                setting: ScreeningSetting::Reception,
                screened_on: received_on,
                audit,
                audit_c: None,
                problem_substances: substances,
                injecting: if i.is_multiple_of(2) {
                    InjectingStatus::Previous
                } else {
                    InjectingStatus::Never
                },
                offending_linked: true,
                structured_treatment_needed: true,
            })),
        );
        let referral = self.slot();
        self.push(
            person,
            est.clone(),
            arrival + minutes(55),
            worker.clone(),
            Step::Fact(EventKind::ReferralMade(Referral {
                source: ReferralSource::ReceptionScreening,
                referred_on: received_on,
                note: Some("Reception screening found problem substance use".into()),
            })),
        )
        .save = Some(referral);
        let assessed_on = self.calendar.add_working_days(received_on, 1);
        let first = local(assessed_on, 14, 0);
        self.push(
            person,
            est.clone(),
            first,
            worker.clone(),
            Step::Assessment {
                referral,
                assessment: Assessment {
                    kind: AssessmentKind::Initial,
                    assessed_on,
                    referral: None,
                    summary: "Initial assessment. Long history of use before this sentence. Needs structured treatment: comprehensive assessment booked.".into(),
                    structured_treatment_needed: true,
                    comprehensive: None,
                },
            },
        );
        for (k, purpose) in ConsentPurpose::ALL.into_iter().enumerate() {
            let decision = if purpose == ConsentPurpose::FamilyInvolvement && i % 3 == 2 {
                ConsentDecision::Refused
            } else {
                ConsentDecision::Given
            };
            self.push(
                person,
                est.clone(),
                first + minutes(10 + k as i64),
                worker.clone(),
                Step::Fact(EventKind::ConsentRecorded(ConsentRecord {
                    purpose,
                    decision,
                    decided_on: assessed_on,
                })),
            );
        }
        let comprehensive_on = self.calendar.add_working_days(assessed_on, 3);
        self.push(
            person,
            est,
            local(comprehensive_on, 14, 30),
            clinician,
            Step::Assessment {
                referral,
                assessment: Assessment {
                    kind: AssessmentKind::Comprehensive,
                    assessed_on: comprehensive_on,
                    referral: None,
                    summary: "Comprehensive assessment completed; structured treatment agreed for the length of the sentence.".into(),
                    structured_treatment_needed: true,
                    comprehensive: Some(ComprehensiveItems {
                        needs_and_goals: "Stabilise, then work towards abstinence over a long sentence; rebuild family contact; a settled address on release.".into(),
                        family: FamilyIssues {
                            children_in_care: 0,
                            child_protection_plan: false,
                            parenting_support_needed: i.is_multiple_of(2),
                            notes: "Mother and sister visit; wants them involved.".into(),
                        },
                        other_agencies: vec!["Probation (community offender manager)".into()],
                        onward_referrals: Vec::new(),
                        information_handling_explained: true,
                        ndtms_consent: true,
                        risk_of_self_harm: RiskLevel::Low,
                        risk_to_others: RiskLevel::Low,
                        existing_risk_management_plans: false,
                        risk_management_plan: "No risk identified beyond the care plan; review at each keywork session.".into(),
                        complex_needs: i.is_multiple_of(3),
                    }),
                },
            },
        );
    }

    /// A few people released earlier who come back on recall: two received within
    /// the last three hours, their first-night need recorded and not yet answered
    /// (live clocks), and one received last evening whose clock stopped overnight
    /// with symptomatic relief still to record.
    fn plan_recalls(&mut self, store: &dyn Store) -> Result<(), RecordError> {
        let people = listed_people(store)?;
        // (person, where they left, when, whether they used opiates)
        let mut released: Vec<(PersonId, EstablishmentCode, DateTime<Utc>, bool)> = Vec::new();
        for id in people {
            if self.long_stays.contains(&id) {
                continue;
            }
            let (case, _) = load_case(store, id)?;
            let CustodyStatus::Left {
                establishment,
                kind: ReleaseKind::Released,
                ..
            } = &case.custody
            else {
                continue;
            };
            if self
                .profile
                .establishment(establishment)
                .is_none_or(|e| e.kind != EstablishmentKind::Prison)
            {
                continue;
            }
            let left = case
                .history
                .iter()
                .filter(|e| case.is_effective(e) && matches!(e.kind, EventKind::Released(_)))
                .map(|e| e.occurred_at)
                .max();
            // Only people whose screening found opiate or alcohol use have a
            // first-night prescribing need.
            let Some((_, screening)) = case.screenings.iter().max_by_key(|(_, s)| s.screened_on)
            else {
                continue;
            };
            let opiate = screening.problem_substances.iter().any(|x| x.is_opiate());
            let alcohol = screening.problem_substances.contains(&Substance::Alcohol);
            if let (Some(left), true) = (left, opiate || alcohol) {
                released.push((id, establishment.clone(), left, opiate));
            }
        }
        // Evening reception: the latest 21:00 at least ninety minutes before now.
        let mut evening_day = self.today;
        if local(evening_day, 21, 20) > self.now - minutes(90) {
            evening_day -= days(1);
        }
        let evening = local(evening_day, 21, 0);
        let opiate_notes = [
            "On 60 mg methadone in the community: dose to be confirmed with the community prescriber",
            "Says they were on 16 mg buprenorphine before recall; shaking and anxious",
        ];
        let alcohol_note = "Alcohol withdrawal: tremor and sweating, last drink this morning";
        let plans = [
            self.now - minutes(self.rng.range(40, 70)),
            self.now - minutes(self.rng.range(120, 165)),
            evening,
        ];
        for (k, received) in plans.into_iter().enumerate() {
            let Some(pos) = released
                .iter()
                .position(|(_, _, left, _)| *left + days(1) < received)
            else {
                break;
            };
            let (id, est, _, opiate) = released.remove(pos);
            let note = if opiate {
                opiate_notes[k % 2]
            } else {
                alcohol_note
            };
            self.recalled.insert(id);
            let (source_ref, feed) = self.movement_feed("R");
            let movements = self.movements.clone();
            self.push(
                id,
                est.clone(),
                received,
                movements,
                Step::Fact(EventKind::Received(Reception {
                    reception_type: ReceptionType::Recall,
                    source_ref: Some(source_ref),
                })),
            )
            .feed = Some(feed);
            let need = received + minutes(if k == 2 { 20 } else { 15 });
            let clinician = self.clinician.clone();
            self.push(
                id,
                est,
                need,
                clinician,
                Step::Fact(EventKind::ClinicalEventRecorded(ClinicalEvent {
                    step: ClinicalStep::FirstNightNeed,
                    at: need,
                    note: Some(note.into()),
                })),
            );
        }
        Ok(())
    }

    // -- Subjects ------------------------------------------------------------------

    /// Everyone in custody now, with what the plan needs to know, in log order.
    fn subjects(&self, store: &dyn Store) -> Result<Vec<Subject>, RecordError> {
        let mut out = Vec::new();
        for id in listed_people(store)? {
            let (case, _) = load_case(store, id)?;
            let CustodyStatus::InCustody {
                reception_type,
                received_on,
                ..
            } = case.custody.clone()
            else {
                continue;
            };
            let Some(received_at) = case
                .history
                .iter()
                .filter(|e| case.is_effective(e) && matches!(e.kind, EventKind::Received(_)))
                .map(|e| e.occurred_at)
                .max()
            else {
                continue;
            };
            let stays: Vec<(EstablishmentCode, NaiveDate)> = case
                .establishments_history
                .iter()
                .filter(|(_, from)| *from >= received_on)
                .cloned()
                .collect();
            if stays.is_empty() {
                continue;
            }
            let screening = case
                .screenings
                .iter()
                .max_by_key(|(_, s)| s.screened_on)
                .map(|(_, s)| s.clone());
            let substances = screening
                .as_ref()
                .map(|s| s.problem_substances.clone())
                .unwrap_or_default();
            let zone = screening
                .as_ref()
                .and_then(|s| s.audit.as_ref().map(|a| a.zone()));
            let audit_c = screening
                .as_ref()
                .and_then(|s| s.audit_c.as_ref().map(|c| (c.is_positive(), c.score())));
            let alcohol_risk = zone
                .map(|z| z >= AuditZone::IncreasingRisk)
                .unwrap_or(false)
                || audit_c.is_some_and(|(p, _)| p);
            let alcohol_dependent = substances.contains(&Substance::Alcohol)
                && (zone == Some(AuditZone::PossibleDependence)
                    || audit_c.is_some_and(|(_, s)| s >= 9)
                    || substances.first() == Some(&Substance::Alcohol));
            let assessed: Vec<(NaiveDate, bool)> = case
                .assessments
                .iter()
                .filter(|(_, a)| a.assessed_on >= received_on)
                .map(|(_, a)| (a.assessed_on, a.structured_treatment_needed))
                .collect();
            let details = case.details.clone();
            let language = details
                .as_ref()
                .and_then(|d| d.equality.first_language.clone())
                .filter(|l| l != "English");
            out.push(Subject {
                id,
                received_at,
                stays,
                detainee: reception_type == ReceptionType::ImmigrationDetainee,
                sentenced: matches!(
                    reception_type,
                    ReceptionType::Sentenced | ReceptionType::Recall
                ),
                language,
                alcohol_risk,
                alcohol_dependent,
                injecting: screening.as_ref().is_some_and(|s| {
                    matches!(
                        s.injecting,
                        InjectingStatus::Current | InjectingStatus::Previous
                    )
                }),
                offending_linked: case.offending_linked(),
                substances,
                first_assessed: assessed.iter().map(|(d, _)| *d).min(),
                triage: assessed.iter().filter(|(_, s)| *s).map(|(d, _)| *d).max(),
                long_stay: self.long_stays.contains(&id),
                case,
            });
        }
        Ok(out)
    }

    // -- Care ----------------------------------------------------------------------

    fn plan_care(&mut self, subjects: &[Subject], ids: &mut dyn IdSource) {
        // One person excluded from the service (KM 4.9), some weeks into their care.
        let excluded = subjects.iter().position(|s| {
            !s.detainee
                && !s.long_stay
                && !self.recalled.contains(&s.id)
                && s.triage.is_some()
                && s.first_assessed.is_some_and(|d| d <= self.today - days(70))
        });
        let mut windows: Vec<CareWindow> = Vec::new();
        for (i, s) in subjects.iter().enumerate() {
            if self.recalled.contains(&s.id) {
                continue;
            }
            self.plan_first_night(s);
            let forced = s.long_stay || Some(i) == excluded;
            // About two in three people assessed since their reception get care.
            if s.first_assessed.is_none() || !(forced || self.rng.chance(67)) {
                continue;
            }
            let exclusion_on = (Some(i) == excluded)
                .then(|| prev_working(self.calendar, self.today - days(self.rng.range(10, 18))));
            if let Some(w) = self.plan_person(i, s, exclusion_on) {
                windows.push(w);
            }
            if let Some(on) = exclusion_on {
                let manager = self.manager.clone();
                let ref_no = format!(
                    "{}-EXC-{}-{:03}",
                    if self.profile.establishments.len() > 1 {
                        "KMC"
                    } else {
                        "COMM"
                    },
                    on.format("%Y"),
                    self.rng.range(3, 40)
                );
                self.fact(
                    s,
                    local(on, 16, 0),
                    &manager,
                    EventKind::ServiceExclusionRecorded(ServiceExclusion {
                        excluded_on: on,
                        grounds: ExclusionGrounds::SeriousRisk,
                        evidence: "Threatened the group facilitator with a weapon made from a razor blade during a group session; adjudication proven; security department advises no group or 1-to-1 work until the review.".into(),
                        commissioner_consent_ref: ref_no,
                        until: Some(on + days(84)),
                    }),
                );
            }
        }
        self.plan_groups(subjects, &windows, ids);
        self.plan_diary(subjects, &windows);
    }

    /// The first night at reception for people received in the last four weeks with
    /// opiate or dependent alcohol use: the need, answered within hours (a few late).
    fn plan_first_night(&mut self, s: &Subject) {
        if s.received_at < self.now - days(28) || !(s.opiate() || s.alcohol_dependent) {
            return;
        }
        if !self.rng.chance(85) {
            return;
        }
        let clinician = self.clinician.clone();
        let need = s.received_at + minutes(self.rng.range(20, 50));
        let note = if s.opiate() {
            "Reports daily heroin use before reception; showing signs of withdrawal"
        } else {
            "Drinking heavily before reception; withdrawal expected tonight"
        };
        self.fact(
            s,
            need,
            &clinician,
            EventKind::ClinicalEventRecorded(ClinicalEvent {
                step: ClinicalStep::FirstNightNeed,
                at: need,
                note: Some(note.into()),
            }),
        );
        let answered = need
            + minutes(if self.rng.chance(88) {
                self.rng.range(40, 200)
            } else {
                self.rng.range(255, 330)
            });
        // Prescribing starts treatment; someone triaged since is seen by a doctor at
        // reception and prescribed after the clinical assessment instead.
        let step = if s.triage.is_some() || self.rng.chance(40) {
            ClinicalStep::SeenByDoctor
        } else if s.opiate() {
            ClinicalStep::PrescribingStarted {
                medication: self.medication(),
            }
        } else {
            ClinicalStep::DetoxStarted {
                substance: DetoxSubstance::Alcohol,
                scope: self.scope(s),
            }
        };
        self.fact(
            s,
            answered,
            &clinician,
            EventKind::ClinicalEventRecorded(ClinicalEvent {
                step,
                at: answered,
                note: None,
            }),
        );
    }

    fn medication(&mut self) -> Medication {
        self.rng
            .weighted(&[(Medication::Methadone, 60), (Medication::Buprenorphine, 40)])
    }

    fn scope(&self, s: &Subject) -> DetoxScope {
        if s.substances.len() > 1 {
            DetoxScope::PolySubstance
        } else {
            DetoxScope::SingleSubstance
        }
    }

    /// Whether every establishment the person has been held at since reception offers
    /// structured psychosocial interventions (never the IRC, KM 4.14).
    fn programmes_allowed(&self, s: &Subject) -> bool {
        s.stays.iter().all(|(code, _)| {
            self.profile.establishment(code).is_some_and(|e| {
                e.offers_structured_psychosocial && e.kind == EstablishmentKind::Prison
            })
        })
    }

    /// One person's care from their first assessment to yesterday (or the day before
    /// an exclusion).
    fn plan_person(
        &mut self,
        si: usize,
        s: &Subject,
        exclusion_on: Option<NaiveDate>,
    ) -> Option<CareWindow> {
        let end = exclusion_on.map_or(self.yesterday, |x| x - days(1));
        let first = s.first_assessed?;
        let start = (first + days(self.rng.range(0, 4))).max(s.triage.unwrap_or(first));
        let start = next_working(self.calendar, start);
        if start > end {
            return None;
        }
        let structured = s.triage.is_some();
        // The demo worker keyworks at their own establishments; the clinician
        // (who has every establishment) elsewhere. A transfer brings a new keyworker.
        let manager = self.manager.clone();
        let clinician = self.clinician.clone();
        let mut allocations: Vec<(NaiveDate, StaffUsername)> = Vec::new();
        for (code, from) in &s.stays {
            let on = (*from).max(start);
            if on > end {
                break;
            }
            if on == start {
                allocations.clear();
            }
            let kw = if self.worker_sites.contains(code) && !self.rng.chance(15) {
                self.worker.clone()
            } else {
                self.clinician.clone()
            };
            allocations.push((on, kw));
        }
        let keyworker = allocations
            .first()
            .map_or_else(|| self.clinician.clone(), |(_, k)| k.clone());
        let mut current = keyworker.clone();
        for (k, (on, kw)) in allocations.iter().enumerate() {
            if k > 0 && *kw == current {
                continue;
            }
            let at = local(*on, 9, self.rng.range(0, 30));
            self.fact(
                s,
                at,
                &manager,
                EventKind::KeyworkerAllocated(KeyworkerAllocation {
                    worker: kw.clone(),
                    allocated_on: *on,
                }),
            );
            current = kw.clone();
        }

        // What the person's care holds.
        let target = s.target();
        let c = &self.catalogue;
        let keywork = structured.then(|| c.keyworking.clone()).flatten();
        let detox_route = (structured && !s.opiate() && s.alcohol_dependent)
            || (structured && s.opiate() && self.rng.chance(15));
        let prescribing = structured && s.opiate() && !detox_route;
        let alcohol_code = if s.alcohol_risk || s.substances.contains(&Substance::Alcohol) {
            if self.rng.chance(85) {
                if structured {
                    c.alcohol_structured.clone().or(c.alcohol_brief.clone())
                } else {
                    c.alcohol_brief.clone().or(c.alcohol_structured.clone())
                }
            } else {
                None
            }
        } else {
            None
        };
        let programme = if structured
            && !c.programmes.is_empty()
            && self.programmes_allowed(s)
            && (s.long_stay || self.rng.chance(50))
        {
            Some(self.rng.pick(&c.programmes).clone())
        } else {
            None
        };
        let mutual_aid = if !c.mutual_aid.is_empty() && (s.long_stay || self.rng.chance(45)) {
            Some(self.rng.pick(&c.mutual_aid).clone())
        } else {
            None
        };
        // KM 4.5.1: advice and brief interventions at the IRC, in the person's language.
        let irc_advice = if s.detainee && alcohol_code.is_none() {
            c.alcohol_brief.clone()
        } else {
            None
        };
        let light = if !c.light.is_empty() && (s.detainee || !structured || self.rng.chance(40)) {
            Some(self.rng.pick(&c.light).clone())
        } else {
            None
        };
        let mut codes: Vec<String> = Vec::new();
        for code in [
            keywork.clone(),
            prescribing.then(|| c.prescribing.clone()).flatten(),
            detox_route.then(|| c.detox.clone()).flatten(),
            alcohol_code.clone(),
            irc_advice.clone(),
            programme.clone(),
            mutual_aid.clone(),
            light.clone(),
            (s.opiate() || s.injecting)
                .then(|| c.naloxone.clone())
                .flatten(),
        ]
        .into_iter()
        .flatten()
        {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        if codes.is_empty()
            && let Some(code) = c.light.first().or(c.alcohol_brief.as_ref())
        {
            codes.push(code.clone());
        }

        // The recovery care plan, its reviews and (for a few) a second version.
        let plan_on = (start + days(self.rng.range(0, 3))).min(end);
        let review_weeks = i64::from(self.profile.clocks.care_plan_review_weeks);
        let goals = self.goals(s, false);
        let contingency = self.contingency(s);
        self.fact(
            s,
            local(plan_on, 10, 30),
            &keyworker,
            EventKind::CarePlanAgreed(CarePlan {
                agreed_on: plan_on,
                goals,
                interventions: codes.clone(),
                contingency,
                agreed_with_person: true,
                review_on: plan_on + Duration::weeks(review_weeks),
            }),
        );
        let mut due = plan_on + Duration::weeks(review_weeks);
        let mut versions = 1;
        let mut last = plan_on;
        while due <= end {
            // About one review in four is missed and falls overdue.
            if !self.rng.chance(74) {
                break;
            }
            let on = (due - days(self.rng.range(0, 10)))
                .max(last + days(1))
                .min(end);
            if versions == 1 && self.rng.chance(14) {
                let goals = self.goals(s, true);
                let contingency = self.contingency(s);
                self.fact(
                    s,
                    local(on, 11, 0),
                    &keyworker,
                    EventKind::CarePlanAgreed(CarePlan {
                        agreed_on: on,
                        goals,
                        interventions: codes.clone(),
                        contingency,
                        agreed_with_person: true,
                        review_on: on + Duration::weeks(review_weeks),
                    }),
                );
                versions += 1;
            } else {
                let goals = self.rng.chance(35).then(|| self.goals(s, true));
                let summary = self.rng.pick(&REVIEW_SUMMARIES).to_string();
                self.fact(
                    s,
                    local(on, 11, 0),
                    &keyworker,
                    EventKind::CarePlanReviewed(CarePlanReview {
                        reviewed_on: on,
                        goals,
                        summary,
                        next_review_on: on + Duration::weeks(review_weeks),
                    }),
                );
            }
            last = on;
            due = on + Duration::weeks(review_weeks);
        }

        self.plan_induction(s, plan_on, end, &keyworker);

        // Treatment: the clinical pathway and the first structured start, with TOPs.
        let mut treatment_from: Option<NaiveDate> = None;
        if prescribing || detox_route {
            let tx = (plan_on + days(self.rng.range(0, 1))).min(end);
            treatment_from = Some(tx);
            self.plan_clinical(s, tx, end, prescribing, &clinician);
        }
        if keywork.is_some() {
            treatment_from = Some(treatment_from.map_or(plan_on, |t| t.min(plan_on)));
        }
        let alcohol_starts_treatment = alcohol_code.as_ref().is_some_and(|code| {
            self.profile
                .intervention(code)
                .is_some_and(|d| d.structured_treatment)
        });
        if alcohol_starts_treatment {
            treatment_from = Some(treatment_from.map_or(plan_on, |t| t.min(plan_on)));
        }
        if let Some(tx) = treatment_from {
            self.plan_tops(s, tx, end, &keyworker);
        }

        // Courses.
        if let Some(code) = keywork {
            self.plan_keyworking(s, &code, target, plan_on, end, &keyworker);
        }
        if let Some(code) = alcohol_code {
            let on = (plan_on + days(self.rng.range(0, 5))).min(end);
            let language = s.detainee.then(|| s.language.clone()).flatten();
            let steps = self.course_path(on, end, (28, 42), false);
            self.course(
                s,
                &code,
                InterventionTarget::Alcohol,
                &steps,
                language,
                &keyworker,
            );
        }
        if let Some(code) = irc_advice {
            let on = (plan_on + days(self.rng.range(0, 3))).min(end);
            let steps = self.course_path(on, end, (7, 21), false);
            self.course(s, &code, target, &steps, s.language.clone(), &keyworker);
        }
        if let Some(code) = programme {
            self.plan_programme(s, &code, target, plan_on, end, &keyworker);
        }
        if let Some(code) = mutual_aid {
            self.plan_mutual_aid(s, &code, target, plan_on, end, &keyworker);
        }
        if let Some(code) = light {
            let on = (plan_on + days(self.rng.range(2, 20))).min(end);
            let language = s.detainee.then(|| s.language.clone()).flatten();
            let steps = self.course_path(on, end, (7, 30), true);
            self.course(s, &code, target, &steps, language, &keyworker);
        }

        self.plan_bbv(s, first.max(start), end, &clinician);
        if s.opiate() || s.injecting {
            self.plan_naloxone(s, plan_on, end, &keyworker);
        }
        if (prescribing && self.rng.chance(20))
            || (s.substances.contains(&Substance::Benzodiazepines) && self.rng.chance(25))
            || self.rng.chance(3)
        {
            self.plan_intelligence(s, plan_on, end, prescribing);
        }
        if s.sentenced && self.rng.chance(40) {
            let on = (plan_on + days(self.rng.range(5, 30))).min(end);
            let summary = self.rng.pick(&SENTENCE_PLAN).to_string();
            self.fact(
                s,
                local(on, 15, 30),
                &keyworker,
                EventKind::SentencePlanContributed(SentencePlanContribution {
                    contributed_on: on,
                    summary,
                }),
            );
        }
        Some(CareWindow {
            subject: si,
            from: plan_on,
            to: end,
            keyworker: current,
            prescribed: prescribing,
            excluded: exclusion_on.is_some(),
        })
    }

    /// The person's goals, in their own words.
    fn goals(&mut self, s: &Subject, later: bool) -> Vec<String> {
        let mut pool: Vec<&str> = Vec::new();
        if later {
            pool.extend(LATER_GOALS);
        } else {
            if s.opiate() {
                pool.extend(OPIATE_GOALS);
            }
            if s.substances.contains(&Substance::Alcohol) || s.alcohol_risk {
                pool.extend(ALCOHOL_GOALS);
            }
            if s.substances.iter().any(|x| {
                matches!(
                    x,
                    Substance::Crack | Substance::Cocaine | Substance::PsychoactiveSubstances
                )
            }) {
                pool.extend(STIMULANT_GOALS);
            }
        }
        let general: &[&str] = if s.detainee {
            &DETAINEE_GOALS
        } else {
            &GENERAL_GOALS
        };
        let want = self.rng.range(2, 4) as usize;
        let mut goals: Vec<String> = Vec::new();
        for _ in 0..12 {
            if goals.len() >= want {
                break;
            }
            let g = if !pool.is_empty() && (goals.is_empty() || self.rng.chance(50)) {
                *self.rng.pick(&pool)
            } else {
                *self.rng.pick(general)
            };
            if !goals.iter().any(|x| x == g) {
                goals.push(g.to_string());
            }
        }
        goals
    }

    fn contingency(&mut self, s: &Subject) -> ContingencyPlan {
        let r = &mut self.rng;
        ContingencyPlan {
            safety: r.pick(&SAFETY).to_string(),
            risk: r.pick(&RISK).to_string(),
            overdose_prevention: if s.opiate() || s.injecting {
                r.pick(&OVERDOSE_OPIATE).to_string()
            } else {
                r.pick(&OVERDOSE_OTHER).to_string()
            },
            harm_reduction: r.pick(&HARM_REDUCTION).to_string(),
            unplanned_exit_support: if s.detainee {
                "If removed at short notice: a letter summarising treatment and medication goes with them, and the centre's healthcare team is told the same day.".to_string()
            } else {
                r.pick(&UNPLANNED_EXIT).to_string()
            },
            re_engagement: r.pick(&RE_ENGAGEMENT).to_string(),
        }
    }

    /// The induction at planning (all seven items, or only some), and its revisits
    /// every three months (some overdue).
    fn plan_induction(
        &mut self,
        s: &Subject,
        plan_on: NaiveDate,
        end: NaiveDate,
        by: &StaffUsername,
    ) {
        let all = InductionItem::ALL;
        if self.rng.chance(18) && !s.long_stay {
            // Only partly done: some items, the rest still to cover.
            let n = self.rng.range(2, 5) as usize;
            let items = all
                .iter()
                .take(n)
                .map(|i| InductionTick {
                    item: *i,
                    on: plan_on,
                })
                .collect();
            self.fact(
                s,
                local(plan_on, 10, 45),
                by,
                EventKind::InductionRecorded(Induction { items }),
            );
            return;
        }
        // All seven, most on the day the plan is agreed, some a day or two later.
        let later = (plan_on + days(self.rng.range(1, 3))).min(end);
        let split = if later > plan_on && self.rng.chance(30) {
            4
        } else {
            all.len()
        };
        let first: Vec<InductionTick> = all[..split]
            .iter()
            .map(|i| InductionTick {
                item: *i,
                on: plan_on,
            })
            .collect();
        self.fact(
            s,
            local(plan_on, 10, 45),
            by,
            EventKind::InductionRecorded(Induction { items: first }),
        );
        let mut done = plan_on;
        if split < all.len() {
            let rest: Vec<InductionTick> = all[split..]
                .iter()
                .map(|i| InductionTick {
                    item: *i,
                    on: later,
                })
                .collect();
            self.fact(
                s,
                local(later, 10, 45),
                by,
                EventKind::InductionRecorded(Induction { items: rest }),
            );
        }
        let months = self.profile.clocks.induction_revisit_months;
        loop {
            let due = induction_revisit_due(done, months);
            if due > end || !self.rng.chance(70) {
                break;
            }
            let on = prev_working(self.calendar, due - days(self.rng.range(0, 8)))
                .max(done + days(1))
                .min(end);
            let items = all.iter().map(|i| InductionTick { item: *i, on }).collect();
            self.fact(
                s,
                local(on, 10, 15),
                by,
                EventKind::InductionRecorded(Induction { items }),
            );
            done = on;
        }
    }

    /// Prescribing (methadone or buprenorphine) with its stages, or a detox from
    /// alcohol or opiates, from `tx`.
    fn plan_clinical(
        &mut self,
        s: &Subject,
        tx: NaiveDate,
        end: NaiveDate,
        prescribing: bool,
        by: &StaffUsername,
    ) {
        let step =
            |p: &mut Self, day: NaiveDate, h: i64, step: ClinicalStep, note: Option<&str>| {
                let at = local(day, h, p.rng.range(0, 50));
                p.fact(
                    s,
                    at,
                    by,
                    EventKind::ClinicalEventRecorded(ClinicalEvent {
                        step,
                        at,
                        note: note.map(str::to_string),
                    }),
                );
            };
        if self.rng.chance(50) {
            step(self, tx, 8, ClinicalStep::ClinicalReferral, None);
        }
        step(self, tx, 9, ClinicalStep::ClinicalAssessment, None);
        if prescribing {
            let medication = self.medication();
            step(
                self,
                tx,
                11,
                ClinicalStep::PrescribingStarted { medication },
                None,
            );
            self.prescriptions += 1;
            let dropped = self.prescriptions % 7 == 3;
            let stabilising = tx + days(self.rng.range(5, 10));
            if stabilising > end {
                return;
            }
            step(self, stabilising, 14, ClinicalStep::Stabilising, None);
            let maintenance = tx + days(self.rng.range(21, 35));
            if dropped {
                let on = (stabilising + days(self.rng.range(3, 20))).min(end);
                step(
                    self,
                    on,
                    15,
                    ClinicalStep::DroppedOutOfPrescribing,
                    Some("Stopped attending for dosing; says they no longer want the script"),
                );
                return;
            }
            if maintenance > end {
                return;
            }
            step(self, maintenance, 14, ClinicalStep::Maintenance, None);
            let reducing = maintenance + days(self.rng.range(40, 100));
            if reducing <= end && self.rng.chance(30) {
                step(
                    self,
                    reducing,
                    14,
                    ClinicalStep::Reducing,
                    Some("Asked to reduce towards release"),
                );
            }
            return;
        }
        let substance = if s.opiate() {
            DetoxSubstance::Opiates
        } else {
            DetoxSubstance::Alcohol
        };
        let scope = self.scope(s);
        step(
            self,
            tx,
            11,
            ClinicalStep::DetoxStarted { substance, scope },
            None,
        );
        if s.substances.contains(&Substance::Benzodiazepines) {
            step(self, tx, 12, ClinicalStep::BenzodiazepineDetoxStarted, None);
        }
        let length = match substance {
            DetoxSubstance::Alcohol => self.rng.range(7, 10),
            DetoxSubstance::Opiates => self.rng.range(14, 21),
        };
        let done = tx + days(length);
        if done <= end && self.rng.chance(85) {
            step(
                self,
                done,
                15,
                ClinicalStep::DetoxCompleted { substance, scope },
                None,
            );
        }
    }

    /// A TOP at treatment start (for most), and reviews every three to four months
    /// for some; the rest fall due or overdue.
    fn plan_tops(&mut self, s: &Subject, tx: NaiveDate, end: NaiveDate, by: &StaffUsername) {
        if !s.long_stay && !self.rng.chance(90) {
            return; // the start profile is still to do
        }
        let on = (tx + days(self.rng.range(0, 3))).min(end);
        let start = self.top(s, on, TopStage::Start, None);
        self.fact(
            s,
            local(on, 13, 0),
            by,
            EventKind::TopCompleted(start.clone()),
        );
        let mut last = on;
        let mut reviews = 0;
        loop {
            let next = last + days(self.rng.range(80, 125));
            if next > end {
                break;
            }
            // Long-sentence people: every other one lapses after one review, so
            // their last profile is more than 26 weeks old.
            let lapses = if s.long_stay {
                reviews >= 1 && s.id.0.as_u64_pair().1.is_multiple_of(2)
            } else {
                !self.rng.chance(60)
            };
            if lapses {
                break;
            }
            let review = self.top(s, next, TopStage::Review, Some(&start));
            self.fact(s, local(next, 13, 0), by, EventKind::TopCompleted(review));
            last = next;
            reviews += 1;
        }
    }

    fn top(
        &mut self,
        s: &Subject,
        on: NaiveDate,
        stage: TopStage,
        start: Option<&TreatmentOutcomesProfile>,
    ) -> TreatmentOutcomesProfile {
        let r = &mut self.rng;
        let improving = r.chance(80);
        let mut uses: Vec<SubstanceUse> = Vec::new();
        let mut other = None;
        for (k, sub) in s.substances.iter().enumerate() {
            let (t, amount) = match sub {
                Substance::Alcohol => (TopSubstance::Alcohol, "16 units"),
                Substance::Heroin
                | Substance::IllicitMethadone
                | Substance::IllicitBuprenorphine
                | Substance::OtherOpioids => (TopSubstance::Opiates, "£20"),
                Substance::Crack => (TopSubstance::Crack, "£40"),
                Substance::Cocaine => (TopSubstance::Cocaine, "1 g"),
                Substance::Amphetamines => (TopSubstance::Amphetamines, "1 g"),
                Substance::Cannabis => (TopSubstance::Cannabis, "£10"),
                x => {
                    if other.is_none() {
                        other = Some(
                            match x {
                                Substance::PsychoactiveSubstances => {
                                    "Synthetic cannabinoids (spice)"
                                }
                                Substance::Benzodiazepines => "Benzodiazepines (street diazepam)",
                                Substance::Ketamine => "Ketamine",
                                Substance::PrescriptionOrOverTheCounter => "Pregabalin",
                                _ => "Other substance",
                            }
                            .to_string(),
                        );
                    }
                    (TopSubstance::Other, "")
                }
            };
            if uses.iter().any(|u| u.substance == t) {
                continue;
            }
            let days = match start.and_then(|st| st.days_used(t)) {
                None => {
                    if k == 0 {
                        r.range(16, 28)
                    } else {
                        r.range(4, 20)
                    }
                }
                Some(before) if improving => r.range(0, (i64::from(before) / 4).max(2)),
                Some(before) => r.range((i64::from(before) / 2).max(1), i64::from(before)),
            } as u8;
            uses.push(SubstanceUse {
                substance: t,
                days,
                typical_amount: (k == 0 && !amount.is_empty() && days > 0)
                    .then(|| amount.to_string()),
            });
        }
        uses.push(SubstanceUse {
            substance: TopSubstance::Tobacco,
            days: r.weighted(&[(28u8, 70), (0, 30)]),
            typical_amount: None,
        });
        let rate = |r: &mut SplitMix64, before: Option<u8>, lo: i64, hi: i64| -> u8 {
            match before {
                None => r.range(lo, hi) as u8,
                Some(b) if improving => (i64::from(b) + r.range(2, 7)).min(20) as u8,
                Some(b) => (i64::from(b) - r.range(0, 3)).max(0) as u8,
            }
        };
        let in_community = start.is_none();
        let injecting = matches!(
            s.case
                .screenings
                .iter()
                .max_by_key(|(_, x)| x.screened_on)
                .map(|(_, x)| x.injecting),
            Some(InjectingStatus::Current)
        );
        let crime = |r: &mut SplitMix64, hi: i64| -> u8 {
            if in_community && s.offending_linked {
                r.range(0, hi) as u8
            } else {
                0
            }
        };
        TreatmentOutcomesProfile {
            completed_on: on,
            stage,
            substance_use: uses,
            other_substance: other,
            injecting_days: if injecting && in_community {
                r.range(4, 28) as u8
            } else {
                0
            },
            shared_needles: injecting && in_community && r.chance(20),
            shared_other_equipment: injecting && in_community && r.chance(30),
            shoplifting_days: crime(r, 12),
            drug_selling_days: crime(r, 8),
            other_theft_days: crime(r, 4),
            assault_days: crime(r, 2),
            psychological_health: rate(r, start.map(|x| x.psychological_health), 3, 10),
            physical_health: rate(r, start.map(|x| x.physical_health), 5, 12),
            quality_of_life: rate(r, start.map(|x| x.quality_of_life), 3, 9),
            paid_work_days: if in_community {
                r.weighted(&[(0u8, 75), (8, 15), (20, 10)])
            } else {
                r.range(0, 20) as u8
            },
            education_days: if in_community {
                0
            } else {
                r.range(0, 10) as u8
            },
            acute_housing_problem: in_community && r.chance(30),
            risk_of_eviction: in_community && r.chance(10),
        }
    }

    /// A course: the first step saved in a slot, later steps naming it. Returns the
    /// slot, and the day it started if it did.
    fn course(
        &mut self,
        s: &Subject,
        code: &str,
        target: InterventionTarget,
        steps: &[(InterventionStatus, NaiveDate)],
        language: Option<String>,
        by: &StaffUsername,
    ) -> (usize, Option<NaiveDate>) {
        let slot = self.slot();
        let mut started = None;
        for (k, (status, on)) in steps.iter().enumerate() {
            if *status == InterventionStatus::Started {
                started = Some(*on);
            }
            let update = InterventionUpdate {
                intervention: code.to_string(),
                target,
                status: *status,
                on: *on,
                course: None,
                language: if k == 0 { language.clone() } else { None },
                note: match status {
                    InterventionStatus::Declined => Some(self.rng.pick(&DECLINED).to_string()),
                    InterventionStatus::DroppedOut => Some(self.rng.pick(&DROPPED).to_string()),
                    _ => None,
                },
            };
            let at = local(*on, 11, 10 + 5 * k as i64);
            let est = s.establishment_on(*on);
            if k == 0 {
                self.push(
                    s.id,
                    est,
                    at,
                    by.clone(),
                    Step::Fact(EventKind::InterventionUpdated(update)),
                )
                .save = Some(slot);
            } else {
                self.push(
                    s.id,
                    est,
                    at,
                    by.clone(),
                    Step::Progress {
                        course: slot,
                        update,
                    },
                );
            }
        }
        (slot, started)
    }

    /// The steps of a course offered on `on`: declined, still offered, started and
    /// going on, completed after `length` days, or dropped out.
    fn course_path(
        &mut self,
        on: NaiveDate,
        end: NaiveDate,
        length: (i64, i64),
        offer_first: bool,
    ) -> Vec<(InterventionStatus, NaiveDate)> {
        use InterventionStatus::*;
        let mut steps = Vec::new();
        let mut day = on;
        if offer_first || self.rng.chance(30) {
            steps.push((Offered, day));
            let roll = self.rng.range(0, 99);
            if roll < 12 {
                steps.push((Declined, (day + days(self.rng.range(0, 5))).min(end)));
                return steps;
            }
            if roll < 22 && end - day < days(30) {
                return steps; // offered, waiting for an answer
            }
            day = (day + days(self.rng.range(1, 10))).min(end);
        }
        steps.push((Started, day));
        let done = day + days(self.rng.range(length.0, length.1));
        if self.rng.chance(12) {
            let out = (day + days(self.rng.range(3, 20))).min(end);
            steps.push((DroppedOut, out));
        } else if done <= end {
            steps.push((Completed, done));
        }
        steps
    }

    fn plan_keyworking(
        &mut self,
        s: &Subject,
        code: &str,
        target: InterventionTarget,
        plan_on: NaiveDate,
        end: NaiveDate,
        by: &StaffUsername,
    ) {
        let mut steps = vec![(InterventionStatus::Started, plan_on)];
        let mut stop = end;
        let roll = self.rng.range(0, 99);
        if roll < 8 {
            let out = plan_on + days(self.rng.range(20, 80));
            if out <= end {
                steps.push((InterventionStatus::DroppedOut, out));
                stop = out;
            }
        } else if roll < 30 {
            let done = plan_on + days(self.rng.range(100, 160));
            if done <= end {
                steps.push((InterventionStatus::Completed, done));
                stop = done;
            }
        }
        self.course(s, code, target, &steps, None, by);
        // 1-to-1 sessions every one to three weeks; the last few months only.
        let mut day = plan_on.max(stop - days(90)) + days(self.rng.range(3, 10));
        while day < stop {
            let d = prev_working(self.calendar, day);
            if d > plan_on {
                let summary = self.rng.pick(&KEYWORK).to_string();
                let minutes_long = *self.rng.pick(&[30u16, 45, 45, 60]);
                self.fact(
                    s,
                    local(d, 10, 0),
                    by,
                    EventKind::SessionAttended(SessionAttended {
                        session: SessionKind::Keyworking,
                        on: d,
                        minutes: Some(minutes_long),
                        summary,
                        appointment: None,
                    }),
                );
            }
            day += days(self.rng.range(10, 21));
        }
    }

    fn plan_programme(
        &mut self,
        s: &Subject,
        code: &str,
        target: InterventionTarget,
        plan_on: NaiveDate,
        end: NaiveDate,
        by: &StaffUsername,
    ) {
        use InterventionStatus::*;
        let offered = (plan_on + days(self.rng.range(3, 20))).min(end);
        let mut steps = vec![(Offered, offered)];
        let roll = self.rng.range(0, 99);
        if roll < 12 {
            steps.push((Declined, (offered + days(self.rng.range(1, 7))).min(end)));
            self.course(s, code, target, &steps, None, by);
            return;
        }
        if roll < 24 && end - offered < days(35) {
            self.course(s, code, target, &steps, None, by);
            return; // on the waiting list
        }
        let started = (offered + days(self.rng.range(7, 21))).min(end);
        steps.push((Started, started));
        let sessions = self.rng.range(5, 8);
        let drops = self.rng.chance(20);
        let attended = if drops {
            self.rng.range(2, 4)
        } else {
            sessions
        };
        let mut day = started;
        let mut held = Vec::new();
        for _ in 0..attended {
            day += days(7);
            if day > end {
                break;
            }
            held.push(day);
        }
        let finished = held.len() as i64 == attended;
        if finished {
            let last = held.last().copied().unwrap_or(started);
            if drops {
                steps.push((DroppedOut, (last + days(7)).min(end)));
            } else {
                steps.push((Completed, (last + days(1)).min(end)));
            }
        }
        let (slot, _) = self.course(s, code, target, &steps, None, by);
        let name = self
            .profile
            .intervention(code)
            .map_or("the programme".to_string(), |d| d.name.clone());
        for (n, d) in held.into_iter().enumerate() {
            let session = SessionAttended {
                session: SessionKind::Course {
                    course: EventId(uuid::Uuid::nil()),
                },
                on: d,
                minutes: Some(120),
                summary: format!(
                    "Session {} of {name}: {}",
                    n + 1,
                    PROGRAMME[n % PROGRAMME.len()]
                ),
                appointment: None,
            };
            let est = s.establishment_on(d);
            self.push(
                s.id,
                est,
                local(d, 14, 0),
                by.clone(),
                Step::CourseSession {
                    course: slot,
                    session,
                },
            );
        }
    }

    fn plan_mutual_aid(
        &mut self,
        s: &Subject,
        code: &str,
        target: InterventionTarget,
        plan_on: NaiveDate,
        end: NaiveDate,
        by: &StaffUsername,
    ) {
        let on = (plan_on + days(self.rng.range(5, 30))).min(end);
        let mut steps = vec![(InterventionStatus::Offered, on)];
        if self.rng.chance(15) {
            steps.push((InterventionStatus::Declined, on));
            self.course(s, code, target, &steps, None, by);
            return;
        }
        steps.push((InterventionStatus::Started, on));
        self.course(s, code, target, &steps, None, by);
        let aid = if code.contains("peer") {
            MutualAidKind::PeerNetwork
        } else if s.substances.contains(&Substance::Alcohol) {
            *self
                .rng
                .pick(&[MutualAidKind::TwelveStep, MutualAidKind::Smart])
        } else if s.opiate() {
            *self
                .rng
                .pick(&[MutualAidKind::NarcoticsAnonymous, MutualAidKind::Smart])
        } else {
            *self
                .rng
                .pick(&[MutualAidKind::Smart, MutualAidKind::RecoveryChampion])
        };
        let mut day = on + days(self.rng.range(2, 7));
        let mut n = 0;
        while day <= end && n < 3 {
            let summary = match aid {
                MutualAidKind::TwelveStep => "AA meeting in the chapel with visiting members",
                MutualAidKind::Smart => "SMART Recovery meeting on the wing",
                MutualAidKind::NarcoticsAnonymous => "NA meeting with members from the community",
                MutualAidKind::PeerNetwork => "Peer recovery network meeting",
                MutualAidKind::RecoveryChampion => "Met the wing's recovery champion",
            };
            self.fact(
                s,
                local(day, 18, 0),
                by,
                EventKind::SessionAttended(SessionAttended {
                    session: SessionKind::MutualAid { aid },
                    on: day,
                    minutes: Some(60),
                    summary: summary.into(),
                    appointment: None,
                }),
            );
            day += days(self.rng.range(7, 14));
            n += 1;
        }
    }

    /// Hepatitis C and HIV tests, and Hepatitis B vaccination (some courses left
    /// incomplete).
    fn plan_bbv(&mut self, s: &Subject, from: NaiveDate, end: NaiveDate, by: &StaffUsername) {
        use BbvStep::*;
        use Virus::*;
        if !(s.injecting || self.rng.chance(30)) {
            return;
        }
        let offered = (from + days(self.rng.range(0, 10))).min(end);
        // (minute of the day, the record): steps of one day keep their order.
        let rec = |p: &mut Self, minute: i64, r: BloodBorneVirusRecord| {
            p.fact(
                s,
                local(r.on, 14, minute),
                by,
                EventKind::BloodBorneVirusRecorded(r),
            );
        };
        let bbv = |virus, step, on| BloodBorneVirusRecord {
            virus,
            step,
            on,
            dose: None,
            result: None,
        };
        let tested = |p: &mut Self, virus| {
            let on = (offered + days(p.rng.range(1, 10))).min(end);
            let result = if p.today - on < days(10) {
                TestResult::Awaited
            } else if virus == HepatitisC && s.injecting && p.rng.chance(20) {
                TestResult::Positive
            } else {
                TestResult::Negative
            };
            BloodBorneVirusRecord {
                result: Some(result),
                ..bbv(virus, Tested, on)
            }
        };
        for (virus, share, minute) in [(HepatitisC, 100, 0), (Hiv, 50, 5)] {
            if !self.rng.chance(share) {
                continue;
            }
            rec(self, minute, bbv(virus, Offered, offered));
            if self.rng.chance(12) {
                rec(self, minute + 1, bbv(virus, Declined, offered));
            } else {
                rec(self, minute + 1, bbv(virus, Accepted, offered));
                let test = tested(self, virus);
                rec(self, minute + 2, test);
            }
        }
        // Hepatitis B vaccination: 0, 7 and 21 days; some stop after one or two doses.
        if !self.rng.chance(55) {
            return;
        }
        rec(self, 10, bbv(HepatitisB, VaccinationOffered, offered));
        if !self.rng.chance(80) {
            rec(self, 11, bbv(HepatitisB, VaccinationDeclined, offered));
            return;
        }
        rec(self, 11, bbv(HepatitisB, VaccinationAccepted, offered));
        let stop_after = self.rng.weighted(&[(1u8, 12), (2, 13), (3, 75)]);
        for (dose, gap) in [(1u8, 0i64), (2, 7), (3, 21)] {
            let on = offered + days(gap);
            if on > end || dose > stop_after {
                return;
            }
            let given = BloodBorneVirusRecord {
                dose: Some(dose),
                ..bbv(HepatitisB, VaccineDose, on)
            };
            rec(self, 12 + i64::from(dose), given);
        }
        let done = offered + days(21);
        rec(self, 20, bbv(HepatitisB, VaccinationCompleted, done));
    }

    /// Naloxone and overdose training for the person, and for a family member where
    /// the person consents to involving them (recorded first when never asked).
    fn plan_naloxone(
        &mut self,
        s: &Subject,
        plan_on: NaiveDate,
        end: NaiveDate,
        by: &StaffUsername,
    ) {
        if !self.rng.chance(70) {
            return;
        }
        let on = (plan_on + days(self.rng.range(7, 60))).min(end);
        let kit = self.rng.chance(60);
        self.fact(
            s,
            local(on, 15, 0),
            by,
            EventKind::NaloxoneSupplied(NaloxoneRecord {
                to: NaloxoneRecipient::Person,
                on,
                training_given: true,
                kit_supplied: kit,
            }),
        );
        if s.detainee {
            return;
        }
        let consent = s.case.consents.state(ConsentPurpose::FamilyInvolvement);
        let family_on = (on + days(self.rng.range(0, 20))).min(end);
        let consented = match consent {
            Some(ConsentState::Given { on: given }) => given <= family_on && self.rng.chance(50),
            None if self.rng.chance(30) => {
                self.fact(
                    s,
                    local(family_on, 9, 45),
                    by,
                    EventKind::ConsentRecorded(ConsentRecord {
                        purpose: ConsentPurpose::FamilyInvolvement,
                        decision: ConsentDecision::Given,
                        decided_on: family_on,
                    }),
                );
                true
            }
            _ => false,
        };
        if !consented {
            return;
        }
        let (relationship, given) = match self.rng.range(0, 4) {
            0 => ("Mother", *self.rng.pick(&GIVEN_WOMEN)),
            1 => ("Sister", *self.rng.pick(&GIVEN_WOMEN)),
            2 => ("Partner", *self.rng.pick(&GIVEN_WOMEN)),
            3 => ("Brother", *self.rng.pick(&GIVEN_MEN)),
            _ => ("Father", *self.rng.pick(&GIVEN_MEN)),
        };
        let name = format!("{given} {}", s.family_name());
        let kit_supplied = self.rng.chance(50);
        self.fact(
            s,
            local(family_on, 15, 30),
            by,
            EventKind::NaloxoneSupplied(NaloxoneRecord {
                to: NaloxoneRecipient::FamilyOrCarer {
                    name,
                    relationship: relationship.into(),
                },
                on: family_on,
                training_given: true,
                kit_supplied,
            }),
        );
    }

    fn plan_intelligence(
        &mut self,
        s: &Subject,
        plan_on: NaiveDate,
        end: NaiveDate,
        prescribed: bool,
    ) {
        let on = (plan_on + days(self.rng.range(10, 60))).min(end);
        let (concern, detail, action) = if prescribed && self.rng.chance(70) {
            *self.rng.pick(&[
                (
                    IntelligenceConcern::DivertedMedication,
                    "Officers saw the person leave the treatment hatch without swallowing the dose; suspected diversion of buprenorphine.",
                    IntelligenceAction::PrescriptionReview,
                ),
                (
                    IntelligenceConcern::DivertedMedication,
                    "Security information report: the person is said to be passing on methadone to pay a debt.",
                    IntelligenceAction::InPossessionRiskAssessment,
                ),
            ])
        } else {
            *self.rng.pick(&[
                (
                    IntelligenceConcern::IllicitMedication,
                    "Pregabalin capsules found in a cell search; the person says they were given them by another prisoner.",
                    IntelligenceAction::DrugTest,
                ),
                (
                    IntelligenceConcern::IllicitMedication,
                    "Intelligence that street diazepam is being traded on the landing; not specific to this person, so no action: to be watched at keywork.",
                    IntelligenceAction::NoAction,
                ),
            ])
        };
        let worker = self.worker.clone();
        self.fact(
            s,
            local(on, 16, 15),
            &worker,
            EventKind::DrugIntelligenceRecorded(DrugIntelligence {
                received_on: on,
                concern,
                detail: detail.into(),
                action,
            }),
        );
    }

    /// A few group sessions at each establishment in the last eight weeks: three to
    /// eight people in care there that day each get the same session and topic.
    fn plan_groups(
        &mut self,
        subjects: &[Subject],
        windows: &[CareWindow],
        ids: &mut dyn IdSource,
    ) {
        let groups = if self.profile.establishments.len() == 1 {
            5
        } else {
            3
        };
        let establishments: Vec<EstablishmentCode> = self
            .profile
            .establishments
            .iter()
            .map(|e| e.code.clone())
            .collect();
        for est in establishments {
            let detainees = self
                .profile
                .establishment(&est)
                .is_some_and(|e| e.kind == EstablishmentKind::ImmigrationRemovalCentre);
            for k in 0..groups {
                let day = prev_working(
                    self.calendar,
                    self.yesterday - days(7 * k as i64 + self.rng.range(0, 6)),
                );
                let mut present: Vec<&CareWindow> = windows
                    .iter()
                    .filter(|w| {
                        !w.excluded
                            && w.from < day
                            && day <= w.to
                            && subjects[w.subject].establishment_on(day) == est
                    })
                    .collect();
                if present.len() < 3 {
                    continue;
                }
                for i in (1..present.len()).rev() {
                    let j = self.rng.range(0, i as i64) as usize;
                    present.swap(i, j);
                }
                let n = (self.rng.range(3, 8) as usize).min(present.len());
                let topic = if detainees {
                    self.rng.pick(&DETAINEE_TOPICS).to_string()
                } else {
                    GROUP_TOPICS[(k + self.rng.range(0, 7) as usize) % GROUP_TOPICS.len()]
                        .to_string()
                };
                let session = ids.next_uuid();
                let facilitator = present[0].keyworker.clone();
                for w in present.into_iter().take(n) {
                    let s = &subjects[w.subject];
                    self.fact(
                        s,
                        local(day, 14, 0),
                        &facilitator,
                        EventKind::SessionAttended(SessionAttended {
                            session: SessionKind::Group {
                                session,
                                topic: topic.clone(),
                            },
                            on: day,
                            minutes: Some(90),
                            summary: format!(
                                "Group session: {topic}. Took part and shared their own experience."
                            ),
                            appointment: None,
                        }),
                    );
                }
            }
        }
    }

    /// The diary around now: past appointments with their outcomes (attended and
    /// recorded as a session, missed, cancelled by the prison in a lock-down or by
    /// the service), and appointments today and in the next days, some moved.
    fn plan_diary(&mut self, subjects: &[Subject], windows: &[CareWindow]) {
        // One lock-down: the last working day at the demo worker's first establishment.
        let lockdown_day = prev_working(self.calendar, self.yesterday);
        let lockdown_at = self.worker_sites.first().cloned();
        for w in windows {
            if w.excluded {
                continue;
            }
            let s = &subjects[w.subject];
            let est = s.establishment_on(self.today);
            let locked = lockdown_at.as_ref() == Some(&est);
            // Past: one appointment in the last fortnight.
            if self.rng.chance(65) {
                let mut day = if locked && self.rng.chance(40) {
                    lockdown_day
                } else {
                    prev_working(self.calendar, self.today - days(self.rng.range(0, 12)))
                };
                let slot_at = local(
                    day,
                    *self.rng.pick(&[9, 10, 11, 14, 15]),
                    *self.rng.pick(&[0, 30]),
                );
                let mut at = slot_at;
                if at + minutes(60) > self.now {
                    day = prev_working(self.calendar, self.yesterday);
                    at = local(day, 10, 0);
                }
                let offered_day = day - days(self.rng.range(2, 6));
                if offered_day > w.from && day <= w.to + days(1) {
                    self.past_appointment(
                        s,
                        w,
                        day,
                        at,
                        local(offered_day, 16, 0),
                        locked && day == lockdown_day,
                    );
                }
            }
            // Coming: today (if there is time left) or in the next working days.
            if self.rng.chance(80) {
                self.coming_appointment(s, w, &est);
            }
            if w.prescribed && self.rng.chance(50) {
                let clinician = self.clinician.clone();
                let day = next_working(self.calendar, self.today + days(self.rng.range(1, 10)));
                let at = local(
                    day,
                    *self.rng.pick(&[9, 10, 11]),
                    *self.rng.pick(&[0, 15, 30, 45]),
                );
                let offered = local(self.yesterday, 12, 0).max(local(w.from, 16, 0));
                self.push(
                    s.id,
                    est.clone(),
                    offered,
                    clinician.clone(),
                    Step::Fact(EventKind::AppointmentOffered(AppointmentOffer {
                        referral: None,
                        at,
                        worker: Some(clinician),
                        clinic: Some("Healthcare centre, clinic room 2".into()),
                        purpose: Some("Prescribing review".into()),
                    })),
                );
            }
        }
    }

    fn past_appointment(
        &mut self,
        s: &Subject,
        w: &CareWindow,
        day: NaiveDate,
        at: DateTime<Utc>,
        offered: DateTime<Utc>,
        lockdown: bool,
    ) {
        let est = s.establishment_on(day);
        let slot = self.slot();
        let purpose = self.rng.pick(&PURPOSES).to_string();
        let clinic = self.rng.pick(&CLINICS).to_string();
        self.push(
            s.id,
            s.establishment_on(local_date(offered)),
            offered,
            w.keyworker.clone(),
            Step::Fact(EventKind::AppointmentOffered(AppointmentOffer {
                referral: None,
                at,
                worker: Some(w.keyworker.clone()),
                clinic: Some(clinic),
                purpose: Some(purpose),
            })),
        )
        .save = Some(slot);
        #[derive(Clone, Copy)]
        enum Then {
            Session,
            Outcome(AppointmentOutcomeKind, &'static str),
            Nothing,
        }
        let then = if lockdown {
            Then::Outcome(
                AppointmentOutcomeKind::CancelledByPrison,
                "Lock-down: the establishment was locked down all day; no movement to appointments",
            )
        } else {
            self.rng.weighted(&[
                (Then::Session, 55),
                (
                    Then::Outcome(
                        AppointmentOutcomeKind::Missed,
                        "Not unlocked in time for the appointment",
                    ),
                    10,
                ),
                (
                    Then::Outcome(
                        AppointmentOutcomeKind::CancelledByPrison,
                        "Wing on lock-down after an incident; regime cancelled",
                    ),
                    12,
                ),
                (
                    Then::Outcome(
                        AppointmentOutcomeKind::CancelledByService,
                        "Keyworker off sick; rebooked for next week",
                    ),
                    6,
                ),
                (
                    Then::Outcome(
                        AppointmentOutcomeKind::Declined,
                        "Declined: had a visit booked at the same time",
                    ),
                    7,
                ),
                (Then::Nothing, 10),
            ])
        };
        match then {
            Then::Session => {
                let summary = self.rng.pick(&KEYWORK).to_string();
                self.push(
                    s.id,
                    est,
                    at + minutes(50),
                    w.keyworker.clone(),
                    Step::AppointmentSession {
                        appointment: slot,
                        session: SessionAttended {
                            session: SessionKind::Keyworking,
                            on: day,
                            minutes: Some(45),
                            summary,
                            appointment: None,
                        },
                    },
                );
            }
            Then::Outcome(outcome, note) => {
                self.push(
                    s.id,
                    est,
                    at + minutes(30),
                    w.keyworker.clone(),
                    Step::Outcome {
                        appointment: slot,
                        outcome,
                        note: Some(note.into()),
                    },
                );
            }
            Then::Nothing => {}
        }
    }

    fn coming_appointment(&mut self, s: &Subject, w: &CareWindow, est: &EstablishmentCode) {
        let hours = [9i64, 10, 11, 14, 15];
        let mut day = next_working(self.calendar, self.today + days(self.rng.range(0, 6)));
        let mut at = local(day, *self.rng.pick(&hours), *self.rng.pick(&[0, 30]));
        if at < self.now + minutes(30) {
            day = next_working(self.calendar, self.today + days(1));
            at = local(day, *self.rng.pick(&hours), *self.rng.pick(&[0, 30]));
        }
        let offered_day = (self.today - days(self.rng.range(1, 7))).max(w.from);
        let offered = local(offered_day, 16, 30).min(self.now - minutes(5));
        if offered <= local(w.from, 11, 0) {
            return;
        }
        let slot = self.slot();
        let purpose = self.rng.pick(&PURPOSES).to_string();
        let clinic = self.rng.pick(&CLINICS).to_string();
        self.push(
            s.id,
            s.establishment_on(local_date(offered)),
            offered,
            w.keyworker.clone(),
            Step::Fact(EventKind::AppointmentOffered(AppointmentOffer {
                referral: None,
                at,
                worker: Some(w.keyworker.clone()),
                clinic: Some(clinic),
                purpose: Some(purpose),
            })),
        )
        .save = Some(slot);
        let roll = self.rng.range(0, 99);
        let moved_at = (offered + minutes(60)).max(local(self.yesterday, 11, 0));
        if roll < 20 && moved_at < self.now {
            let new_day = next_working(self.calendar, day + days(self.rng.range(1, 3)));
            let new_at = local(new_day, *self.rng.pick(&hours), 0);
            if new_at != at {
                let reason = self.rng.pick(&RESCHEDULED).to_string();
                self.push(
                    s.id,
                    est.clone(),
                    moved_at,
                    w.keyworker.clone(),
                    Step::Reschedule {
                        appointment: slot,
                        at: new_at,
                        reason,
                    },
                );
            }
        } else if roll < 26 && moved_at < self.now {
            self.push(
                s.id,
                est.clone(),
                moved_at,
                w.keyworker.clone(),
                Step::Outcome {
                    appointment: slot,
                    outcome: AppointmentOutcomeKind::CancelledByPrison,
                    note: Some("Regime restricted on the wing that day: staff shortage".into()),
                },
            );
        }
    }

    // -- Recording -------------------------------------------------------------------

    /// Records every planned action in time order through the one recording path;
    /// returns how many events were appended.
    fn record(
        &mut self,
        recorder: &Recorder<'_>,
        now: DateTime<Utc>,
        ids: &mut dyn IdSource,
    ) -> Result<usize, RecordError> {
        let mut actions = std::mem::take(&mut self.actions);
        actions.sort_by_key(|a| (a.at, a.order));
        let mut slots: Vec<Option<EventId>> = vec![None; self.slots];
        let mut appended = 0;
        for a in actions {
            let slot = |s: usize| {
                slots.get(s).copied().flatten().ok_or_else(|| {
                    RecordError::Domain(DomainError::NotFound {
                        what: format!("demo care plan: slot {s}"),
                    })
                })
            };
            let kind = match a.step {
                Step::Fact(kind) => kind,
                Step::Progress { course, mut update } => {
                    update.course = Some(slot(course)?);
                    EventKind::InterventionUpdated(update)
                }
                Step::CourseSession {
                    course,
                    mut session,
                } => {
                    session.session = SessionKind::Course {
                        course: slot(course)?,
                    };
                    EventKind::SessionAttended(session)
                }
                Step::Outcome {
                    appointment,
                    outcome,
                    note,
                } => EventKind::AppointmentOutcomeRecorded(AppointmentOutcome {
                    appointment: slot(appointment)?,
                    outcome,
                    note,
                }),
                Step::Reschedule {
                    appointment,
                    at,
                    reason,
                } => EventKind::AppointmentRescheduled(AppointmentReschedule {
                    appointment: slot(appointment)?,
                    at,
                    reason: Some(reason),
                }),
                Step::AppointmentSession {
                    appointment,
                    mut session,
                } => {
                    session.appointment = Some(slot(appointment)?);
                    EventKind::SessionAttended(session)
                }
                Step::Assessment {
                    referral,
                    mut assessment,
                } => {
                    assessment.referral = Some(slot(referral)?);
                    EventKind::AssessmentCompleted(assessment)
                }
            };
            let command = Command::Record {
                occurred_at: Some(a.at),
                recorded_at: None,
                kind,
            };
            let done = recorder.record(
                &throughcare_domain::access::Author::system(a.by.clone()),
                &a.establishment,
                a.person,
                command,
                now,
                ids,
                a.feed.as_ref(),
            )?;
            if let (Some(s), Some(first)) = (a.save, done.first()) {
                slots[s] = Some(first.id);
            }
            appended += done.len();
        }
        Ok(appended)
    }
}

/// Every registered person who is not merged into another, in log order.
pub(crate) fn listed_people(store: &dyn Store) -> Result<Vec<PersonId>, RecordError> {
    let events = store.events_after(0, usize::MAX)?;
    let merged: BTreeSet<PersonId> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PeopleMerged(m) => Some(m.merged),
            _ => None,
        })
        .collect();
    let mut seen = BTreeSet::new();
    Ok(events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PersonRegistered(_)) && e.supersedes.is_none())
        .filter_map(|e| e.person)
        .filter(|p| !merged.contains(p) && seen.insert(*p))
        .collect())
}

// ---------------------------------------------------------------------------
// Words

const OPIATE_GOALS: [&str; 4] = [
    "I want to get stable on my script and stop topping up on the wing",
    "I want to come off heroin for good and stay off when I get out",
    "I want to reduce my methadone slowly so I'm not rattling on release",
    "I want to stop injecting and look after my veins",
];
const ALCOHOL_GOALS: [&str; 3] = [
    "I want to stop drinking and not go back to the pub when I get out",
    "I want to understand why I drink when I'm stressed",
    "I want to get through the detox and stay dry",
];
const STIMULANT_GOALS: [&str; 4] = [
    "I want to stop using crack and stay away from the people I used with",
    "I want to stop smoking spice on the wing",
    "I want to keep my drug tests clean so I can get my enhanced status back",
    "I want to stop using to cope with boredom",
];
const GENERAL_GOALS: [&str; 7] = [
    "I want to get back in touch with my kids",
    "I want somewhere safe to live when I'm released",
    "I want to get a job in the kitchens and keep it",
    "I want to sort my health out and get my liver checked",
    "I want to go to meetings and find people who get it",
    "I want to do a course and get some qualifications",
    "I want to pay off my debts on the wing and stop borrowing",
];
const DETAINEE_GOALS: [&str; 4] = [
    "I want to stop drinking while I wait for my case",
    "I want to sleep without using anything",
    "I want to stay healthy and safe here",
    "I want to know where to get help in my own country",
];
const LATER_GOALS: [&str; 6] = [
    "I've done the detox; now I want to stay off it for good",
    "I want to become a recovery champion on the wing",
    "I want to plan my release and keep going to meetings outside",
    "I want to move to the drug recovery wing",
    "I want to keep my tests clean until my parole hearing",
    "I want to start reducing my script before release",
];
const SAFETY: [&str; 3] = [
    "Talks to the keyworker or wing staff when feeling unsafe; knows how to use the cell bell and the Samaritans phone.",
    "Keeps away from the landing where debts are collected; will ask for a move if threatened.",
    "Tells healthcare at once if feeling withdrawn or unwell; agreed to check-ins twice a week.",
];
const RISK: [&str; 3] = [
    "Risk of relapse after bad news from home; the keyworker is told of any family crisis.",
    "Risk of debt from using on the wing; referred to the safer custody team if it comes up.",
    "Low mood in the past; mental health team involved; reviewed at each keywork session.",
];
const OVERDOSE_OPIATE: [&str; 3] = [
    "Lower tolerance after time off opiates explained; naloxone training and a kit before release.",
    "Never use alone, and never mix with alcohol or benzodiazepines; naloxone carried on release.",
    "Overdose risk in the first two weeks after release explained; family member to be trained in naloxone.",
];
const OVERDOSE_OTHER: [&str; 2] = [
    "Risks of mixing substances and of synthetic cannabinoids explained; knows the signs of overdose.",
    "Explained how tolerance falls in custody; knows to call 999 and stay with someone who collapses.",
];
const HARM_REDUCTION: [&str; 3] = [
    "Hepatitis B vaccination and hepatitis C testing offered; safer injecting advice given.",
    "Advice on never sharing equipment and on safer routes of use; knows where needle exchange is on release.",
    "Advice on drinking less and safer, and on the risk of withdrawal fits.",
];
const UNPLANNED_EXIT: [&str; 3] = [
    "If released unexpectedly from court: the community service is told the same day and a script bridged for 72 hours.",
    "Community drug and alcohol service appointment booked for the day of release; the keyworker rings the offender manager.",
    "If they leave treatment on release: the community team and probation keep trying to contact them for four weeks.",
];
const RE_ENGAGEMENT: [&str; 3] = [
    "Can self-refer again at any time by application or the in-cell phone; no waiting list for someone returning.",
    "Community service drop-in on weekdays; the peer mentor met in custody will meet them at the gate.",
    "Can come back to keywork at any point; the plan stays open for three months after any drop-out.",
];
const REVIEW_SUMMARIES: [&str; 5] = [
    "Reviewed with the person: engaging well with keywork; goals and contingency plan still right.",
    "Missed two sessions after a move of wing; goals restated; contingency plan updated with the release address.",
    "Clean tests for six weeks; ready for a programme; overdose risk on release discussed again.",
    "Used on the wing after bad news from home; more keywork agreed; contingency plan unchanged.",
    "Stable on the script; talked about reducing before release; family now involved.",
];
const SENTENCE_PLAN: [&str; 3] = [
    "Substance use objectives added to the sentence plan: keywork, clean tests and a recovery programme.",
    "Report to the sentence plan review: engaging well; recommends the drug recovery wing.",
    "Contribution to the OASys review: progress in treatment and the release plan for community treatment.",
];
const KEYWORK: [&str; 7] = [
    "Cravings and triggers; coping plan updated",
    "Talked through a positive test and what led to it",
    "Relapse prevention: high-risk situations on the wing",
    "Release planning: community treatment appointment and naloxone",
    "Goals reviewed; agreed to try a SMART meeting",
    "Sleep, stress and boredom; distraction techniques",
    "Family contact and how it affects their use",
];
const PROGRAMME: [&str; 8] = [
    "understanding the cycle of change",
    "triggers and high-risk situations",
    "thinking errors and use",
    "managing cravings",
    "relationships and recovery",
    "building recovery capital",
    "lapse and relapse",
    "planning for the future",
];
const GROUP_TOPICS: [&str; 8] = [
    "Understanding cravings",
    "Overdose awareness and naloxone",
    "Spice and synthetic cannabinoids: the risks",
    "Managing stress without substances",
    "Preparing for release: the first 72 hours",
    "Alcohol and your health",
    "Healthy relationships and recovery",
    "Hepatitis C: testing and treatment",
];
const DETAINEE_TOPICS: [&str; 3] = [
    "Harm reduction and overdose awareness (with interpreters)",
    "Sleep and stress without alcohol or drugs",
    "Where to find help after removal",
];
const DECLINED: [&str; 3] = [
    "Says they do not need it at the moment",
    "Clashes with their job in the workshops",
    "Does not want to talk in a group",
];
const DROPPED: [&str; 3] = [
    "Stopped coming after a move of wing",
    "Withdrew after falling out with another member of the group",
    "Stopped attending; says they will come back after their court date",
];
const PURPOSES: [&str; 5] = [
    "Keyworking session",
    "Care plan review",
    "TOP review",
    "Pre-release planning",
    "Relapse prevention work",
];
const CLINICS: [&str; 5] = [
    "Substance misuse service office, A wing",
    "Programmes room, education block",
    "Wing office, C wing",
    "Interview room, visits hall",
    "Healthcare centre, clinic room 1",
];
const RESCHEDULED: [&str; 3] = [
    "Clashes with a legal visit",
    "Moved at the person's request: education class at that time",
    "Keyworker on training that morning",
];
