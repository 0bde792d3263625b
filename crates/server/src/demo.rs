//! The demo data set: a deterministic, wholly synthetic caseload for trying the
//! service out, training and screenshots.
//!
//! Every person is invented: names are drawn from small fixed lists of given and
//! family names and combined; prison numbers have the valid shape (A1234BC) but
//! start with `Z` and come from a seeded sequence; postcodes are real outward codes
//! (Kent, or the Isle of Wight for a one-prison profile) with made-up inward codes;
//! no addresses. Nothing here may be mixed with real records.
//!
//! Determinism: the same `now` gives the same events (only the store's own
//! `appended_at` stamps differ), because identifiers come from
//! [`SequentialIds`] and every choice from a seeded splitmix64 generator.
//!
//! Every fact goes through [`Recorder::record`] (or [`Recorder::merge`]), so the
//! domain checks each one exactly as it checks a worker's entry: the generator
//! builds a plan of dated actions for every person, sorts all of them by time, and
//! records them in that order, as if the service had been used day by day for
//! the six months before `now`. [`crate::demo_care`] then adds recovery care, the
//! clinical pathway and the diary from the cases as recorded, and
//! [`crate::demo_release`] release planning, releases and what followed them.
//!
//! The staff accounts it creates have fixed, published passwords: they are for
//! demonstration only and must never exist on a live system.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use throughcare_domain::assessment::{
    Assessment, AssessmentKind, ComprehensiveItems, FamilyIssues, RiskLevel,
};
use throughcare_domain::calendar::Calendar;
use throughcare_domain::consent::{
    ConsentDecision, ConsentPurpose, ConsentRecord, ConsentWithdrawal,
};
use throughcare_domain::custody::{
    ExpectedRelease, Reception, ReceptionType, Release, ReleaseKind, Transfer,
};
use throughcare_domain::decide::Command;
use throughcare_domain::error::DomainError;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, Postcode, PrisonNumber, StaffUsername};
use throughcare_domain::instruments::{AuditAnswers, AuditCAnswers};
use throughcare_domain::people::{
    Answer, EqualityMonitoring, Ethnicity, PersonDetails, RecordedPriorityFlags, Religion, Sex,
    SexualOrientation,
};
use throughcare_domain::profile::{Establishment, EstablishmentKind, Profile};
use throughcare_domain::record_ids::{EventId, IdSource, PersonId, SequentialIds};
use throughcare_domain::referrals::{
    AppointmentOffer, AppointmentOutcome, AppointmentOutcomeKind, DrugTestReason, DrugTestResult,
    OnwardReferral, OnwardService, Referral, ReferralSource,
};
use throughcare_domain::screening::{InjectingStatus, Screening, ScreeningSetting, Substance};
use throughcare_domain::sharing::{Disclosure, Recipient, SharingBasis};
use throughcare_domain::time::{local_date, local_instant};
use throughcare_store::{FeedRecord, Role, StaffAccount, Store, StoreError};

use crate::recording::{RecordError, Recorder};

/// What the demo seeded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DemoSummary {
    /// How many (synthetic) people the data set holds, after the one merge of two
    /// prison numbers into one person.
    pub people: usize,
    /// How many events were appended to the log.
    pub events: usize,
    /// The demo staff accounts: (username, password, role code). Demo only.
    pub accounts: Vec<(String, String, String)>,
}

/// Seeds an empty store with the demo data set, as of `now` (all dates in the past
/// relative to now, except the times of appointments booked ahead).
///
/// The same `now` always gives the same events. The store must be empty: a second
/// run into the same store is refused when it re-registers the first prison number.
pub fn seed(
    store: &dyn Store,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<DemoSummary, RecordError> {
    let calendar = profile.calendar();
    // The sign-ins first: the workforce records below belong to them.
    let accounts = put_accounts(store, profile, now)?;
    let mut ids = SequentialIds::new(SEED);
    let mut planner = Planner::new(profile, &calendar, local_date(now))?;
    let people = planner.plan_everyone(&mut ids)?;
    let events = planner.record(store, now, &mut ids)?;
    // Recovery care, the clinical pathway and the diary, planned from the cases above.
    let care = crate::demo_care::seed(store, profile, &calendar, now, &mut ids)?;
    // Release planning, releases and what followed them.
    let release = crate::demo_release::seed(store, profile, &calendar, now, &mut ids)?;
    // The service's own governance records (incidents, reviews, clinical cover).
    let governance = crate::demo_governance::seed(store, profile, now, &mut ids)?
        + crate::demo_workforce::seed(store, profile, now, &mut ids)?;
    // Its registers: meetings, feedback, involvement, activities, commissioner
    // issues, sub-contractors, obligations.
    let registers = crate::demo_service_records::seed(store, profile, now, &mut ids)?;
    // Surveys (codes, kiosk and paper answers, before-and-after pairs) and
    // self-referrals from the kiosk and the in-cell telephone system.
    let surveys = crate::demo_surveys::seed(store, profile, now, &mut ids)?;
    // People showing each data-quality issue, then two signed-off returns (last, so
    // nothing seeded after them touches their records).
    let submissions = crate::demo_submissions::seed(store, profile, now, &mut ids)?;
    // Information-sharing requests from the commissioner: approved, refused, pending
    // (service facts that change no return, so after the sign-offs).
    let requests = crate::demo_information_requests::seed(store, profile, now, &mut ids)?;
    Ok(DemoSummary {
        people: people + care.people + release.people + surveys.people,
        events: events
            + care.events
            + release.events
            + governance
            + registers
            + surveys.events
            + submissions
            + requests,
        accounts,
    })
}

/// The seed of both the identifier sequence and the choice generator ("THRUCARE").
pub(crate) const SEED: u64 = 0x5448_5255_4341_5245;

// ---------------------------------------------------------------------------
// Accounts

/// The demo accounts and their published, demo-only passwords.
const DEMO_ACCOUNTS: [(&str, &str, Role, &str); 6] = [
    (
        "worker",
        "demo-worker-2026",
        Role::Worker,
        "Demo Substance Use Worker",
    ),
    (
        "clinician",
        "demo-clinician-2026",
        Role::Clinician,
        "Demo Clinician",
    ),
    (
        "manager",
        "demo-manager-2026",
        Role::Manager,
        "Demo Manager",
    ),
    (
        "admin",
        "demo-admin-2026",
        Role::Admin,
        "Demo Administrator",
    ),
    (
        crate::demo_surveys::DEMO_TELEPHONE_USERNAME,
        "demo-telephone-2026",
        Role::SelfReferralService,
        "Demo in-cell telephone system",
    ),
    (
        "commissioner",
        "demo-commissioner-2026",
        Role::Commissioner,
        "Demo Commissioner",
    ),
];

/// The demo sign-ins, (username, password, role code), as [`seed`] creates them:
/// for printing when a database seeded earlier is served again. The same for every
/// profile today; the profile is taken so that may change without touching callers.
pub fn accounts(_profile: &Profile) -> Vec<(String, String, String)> {
    DEMO_ACCOUNTS
        .iter()
        .map(|(username, password, role, _)| {
            (
                username.to_string(),
                password.to_string(),
                role.code().to_string(),
            )
        })
        .collect()
}

/// Creates the five demo accounts: the worker at two establishments (HMP
/// Maidstone and HMP Elmley in the Kent and Medway profile, the one prison of a
/// one-prison profile), everyone else — the in-cell telephone system's service
/// account and the commissioner among them — at all of them.
fn put_accounts(
    store: &dyn Store,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<Vec<(String, String, String)>, RecordError> {
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
    for (username, password, role, display_name) in DEMO_ACCOUNTS {
        let password_hash = crate::auth::hash_password(password)
            .map_err(|e| StoreError::Config(format!("could not hash the demo password: {e}")))?;
        let account = StaffAccount {
            username: staff(username)?,
            display_name: display_name.to_string(),
            role,
            password_hash,
            establishments: if role == Role::Worker {
                worker_sites.clone()
            } else {
                all.clone()
            },
            active: true,
            created_at: now,
        };
        store.put_account(&account)?;
    }
    Ok(accounts(profile))
}

// ---------------------------------------------------------------------------
// Choices

/// splitmix64: a tiny, well-mixed generator, so the data set needs no dependency
/// and never changes with a library's version.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number from `lo` to `hi` inclusive (`lo` when the range is empty).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// True `percent` times in a hundred.
    pub(crate) fn chance(&mut self, percent: u32) -> bool {
        self.next_u64() % 100 < u64::from(percent)
    }

    /// True `per_mille` times in a thousand.
    fn chance_per_mille(&mut self, per_mille: u32) -> bool {
        self.next_u64() % 1000 < u64::from(per_mille)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// One of `items`, each as likely as its weight.
    pub(crate) fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut roll = self.next_u64() % total.max(1);
        for (item, w) in items {
            if roll < u64::from(*w) {
                return *item;
            }
            roll -= u64::from(*w);
        }
        items[items.len() - 1].0
    }
}

// ---------------------------------------------------------------------------
// Synthetic identities

pub(crate) const GIVEN_MEN: [&str; 24] = [
    "Aaron", "Ben", "Callum", "Connor", "Craig", "Daniel", "Darren", "Dean", "Ethan", "Gary",
    "Jack", "Jamie", "Jason", "Kyle", "Lee", "Liam", "Mark", "Nathan", "Paul", "Reece", "Ryan",
    "Scott", "Shane", "Wayne",
];
pub(crate) const GIVEN_WOMEN: [&str; 20] = [
    "Abbie",
    "Amy",
    "Chantelle",
    "Chloe",
    "Danielle",
    "Donna",
    "Emma",
    "Gemma",
    "Hayley",
    "Jade",
    "Kayleigh",
    "Kelly",
    "Kirsty",
    "Leanne",
    "Lisa",
    "Natalie",
    "Rebecca",
    "Sarah",
    "Stacey",
    "Zoe",
];
pub(crate) const GIVEN_DETAINEES: [&str; 14] = [
    "Adrian", "Ahmed", "Andrei", "Arben", "Dawit", "Emeka", "Florin", "Hamid", "Ionut", "Kamal",
    "Minh", "Omar", "Tomasz", "Yusuf",
];
pub(crate) const FAMILY: [&str; 30] = [
    "Ashcombe",
    "Birchley",
    "Brackwell",
    "Calloway",
    "Cobbold",
    "Dunstall",
    "Elderfield",
    "Fennimore",
    "Foxley",
    "Gadsby",
    "Hartwell",
    "Holloway",
    "Ingleby",
    "Kestrel",
    "Larkham",
    "Marlow",
    "Netherby",
    "Oakridge",
    "Pellow",
    "Quarrington",
    "Redfern",
    "Rookwood",
    "Saltmarsh",
    "Thornbury",
    "Underhill",
    "Varley",
    "Whitcombe",
    "Wrenfield",
    "Yardley",
    "Zennor",
];
pub(crate) const FAMILY_DETAINEES: [&str; 12] = [
    "Abara",
    "Berisha",
    "Dumitru",
    "Haile",
    "Hosseini",
    "Kowalczyk",
    "Mensah",
    "Nguyen",
    "Petrauskas",
    "Rahimi",
    "Salih",
    "Tesfaye",
];
/// Nationality and first language pairs for people who are not British nationals.
pub(crate) const ABROAD: [(&str, &str); 15] = [
    ("Albanian", "Albanian"),
    ("Romanian", "Romanian"),
    ("Polish", "Polish"),
    ("Vietnamese", "Vietnamese"),
    ("Eritrean", "Tigrinya"),
    ("Sudanese", "Arabic"),
    ("Afghan", "Pashto"),
    ("Iraqi", "Kurdish"),
    ("Iranian", "Farsi"),
    ("Lithuanian", "Lithuanian"),
    ("Nigerian", "English"),
    ("Jamaican", "English"),
    ("Brazilian", "Portuguese"),
    ("Pakistani", "Urdu"),
    ("Irish", "English"),
];
pub(crate) const KENT_OUTWARD: [&str; 31] = [
    "ME1", "ME2", "ME4", "ME5", "ME7", "ME8", "ME10", "ME12", "ME14", "ME15", "ME16", "ME17",
    "CT1", "CT2", "CT5", "CT9", "CT10", "CT11", "CT16", "CT17", "CT19", "CT20", "DA1", "DA11",
    "DA12", "TN1", "TN9", "TN10", "TN23", "TN24", "TN28",
];
pub(crate) const ISLAND_OUTWARD: [&str; 12] = [
    "PO30", "PO31", "PO32", "PO33", "PO34", "PO35", "PO36", "PO37", "PO38", "PO39", "PO40", "PO41",
];
/// Letters an inward code may use (never C, I, K, M, O or V).
pub(crate) const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
/// Letters for the end of a prison number.
pub(crate) const NUMBER_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXY";

/// Who an establishment holds, which shapes names, sex and what happens there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Population {
    /// A men's prison.
    Men,
    /// A women's prison (HMP/YOI East Sutton Park).
    Women,
    /// Immigration detainees (IRC Dover).
    Detainees,
    /// The one prison of a one-prison profile: mostly men, some women.
    Mixed,
}

// ---------------------------------------------------------------------------
// Plan

/// What an action records once the identifiers it depends on are known.
enum Step {
    /// A fact complete at planning time.
    Fact(EventKind),
    /// An appointment offered for a referral planned earlier.
    Offer { referral: usize, at: DateTime<Utc> },
    /// The outcome of an appointment planned earlier.
    Outcome {
        appointment: usize,
        outcome: AppointmentOutcomeKind,
        note: Option<String>,
    },
    /// An assessment answering a referral planned earlier.
    Assessment {
        referral: usize,
        assessment: Assessment,
    },
    /// A disclosure, optionally about an event planned earlier.
    Share {
        disclosure: Disclosure,
        about: Option<usize>,
    },
    /// A correction of an event planned earlier.
    Correct {
        target: usize,
        reason: String,
        kind: EventKind,
    },
    /// An event planned earlier marked as entered in error.
    EnterInError { target: usize, reason: String },
    /// Another person record merged into this one.
    Merge { merged: usize },
}

/// One dated thing to record.
struct Action {
    at: DateTime<Utc>,
    /// Planning order: breaks ties so a dependent action follows what it depends on.
    order: usize,
    person: usize,
    establishment: EstablishmentCode,
    by: StaffUsername,
    step: Step,
    /// The movements or drug-test feed record it came from, if any.
    feed: Option<FeedRecord>,
    /// Which returned events fill which of the person's slots, by event type.
    saves: Vec<(&'static str, usize)>,
}

/// A planned person record.
struct PlannedPerson {
    id: PersonId,
    /// Slots for event identifiers other actions refer to (slot 0: the registration).
    slots: usize,
    details: PersonDetails,
    population: Population,
    arrival: DateTime<Utc>,
    /// Where the person is held from when: the reception, then each transfer.
    stays: Vec<(EstablishmentCode, DateTime<Utc>)>,
    released: bool,
    plain: bool,
}

impl PlannedPerson {
    fn establishment_at(&self, at: DateTime<Utc>) -> EstablishmentCode {
        self.stays
            .iter()
            .rev()
            .find(|(_, from)| *from <= at)
            .unwrap_or(&self.stays[0])
            .0
            .clone()
    }
}

/// Something a person's plan must include, so the data set shows every case a
/// demo needs whatever the choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Force {
    None,
    /// A referral made in the last few days, still within its five working days.
    Due,
    /// A referral several weeks old with no assessment.
    Overdue,
    /// At least one referral from this source.
    Source(ReferralSource),
}

/// A referral as planned, with its appointment if one is offered.
struct PlannedReferral {
    slot: usize,
    at: DateTime<Utc>,
    source: ReferralSource,
    appointment: Option<(usize, DateTime<Utc>)>,
    keep_open: bool,
}

/// A person's pattern of use, which every screening and assessment reflects.
struct UseProfile {
    substances: Vec<Substance>,
    audit_zone: u8,
    injecting: InjectingStatus,
    offending_linked: bool,
    structured: bool,
}

/// The staff and feeds that record demo events.
struct Recorders {
    worker: StaffUsername,
    clinician: StaffUsername,
    manager: StaffUsername,
    movements: StaffUsername,
    drug_tests: StaffUsername,
}

struct Planner<'a> {
    profile: &'a Profile,
    calendar: &'a Calendar,
    today: NaiveDate,
    rng: SplitMix64,
    by: Recorders,
    people: Vec<PlannedPerson>,
    actions: Vec<Action>,
    movement_refs: u32,
    test_refs: u32,
    numbers: u64,
}

fn staff(name: &str) -> Result<StaffUsername, RecordError> {
    StaffUsername::parse(name).map_err(|e| invalid("recorded_by", e))
}

fn invalid(field: &str, e: impl std::fmt::Display) -> RecordError {
    RecordError::Domain(DomainError::invalid(field, e.to_string()))
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

/// The instant of a local time on a date.
pub(crate) fn local(day: NaiveDate, hour: i64, minute: i64) -> DateTime<Utc> {
    let t = NaiveTime::from_hms_opt(hour as u32, minute as u32, 0).unwrap_or(NaiveTime::MIN);
    local_instant(day, t)
}

/// `candidate`, or `gap` minutes after `earlier` when that is later: a same-day
/// action that depends on another must come after it.
fn not_before(candidate: DateTime<Utc>, earlier: DateTime<Utc>, gap: i64) -> DateTime<Utc> {
    candidate.max(earlier + minutes(gap))
}

impl<'a> Planner<'a> {
    fn new(
        profile: &'a Profile,
        calendar: &'a Calendar,
        today: NaiveDate,
    ) -> Result<Self, RecordError> {
        Ok(Planner {
            profile,
            calendar,
            today,
            rng: SplitMix64(SEED),
            by: Recorders {
                worker: staff("worker")?,
                clinician: staff("clinician")?,
                manager: staff("manager")?,
                movements: staff("feed.movements")?,
                drug_tests: staff("feed.drug-tests")?,
            },
            people: Vec::new(),
            actions: Vec::new(),
            movement_refs: 0,
            test_refs: 0,
            numbers: 0,
        })
    }

    /// Plans every person and the one-off cases (corrections, an entry in error, a
    /// merge); returns how many people there are.
    fn plan_everyone(&mut self, ids: &mut dyn IdSource) -> Result<usize, RecordError> {
        let establishments = self.profile.establishments.clone();
        let mut homes: Vec<&Establishment> = Vec::new();
        let single = establishments.len() == 1;
        for e in &establishments {
            let n = if single { 60 } else { share_of(e) };
            homes.extend(std::iter::repeat_n(e, n));
        }
        // Interleave establishments so the forced cases land in several of them.
        let mut order: Vec<usize> = (0..homes.len()).collect();
        for i in (1..order.len()).rev() {
            let j = self.rng.range(0, i as i64) as usize;
            order.swap(i, j);
        }
        let mut sources = ReferralSource::ALL.into_iter();
        for (i, &h) in order.iter().enumerate() {
            let home = homes[h];
            let detainee = home.kind == EstablishmentKind::ImmigrationRemovalCentre;
            let force = match i % 25 {
                3 => Force::Due,
                11 => Force::Overdue,
                _ if !detainee => sources.next().map_or(Force::None, Force::Source),
                _ => Force::None,
            };
            self.plan_person(home, force, single, ids)?;
        }
        let people = self.people.len();
        self.plan_one_offs(ids)?;
        Ok(people)
    }

    fn new_person(
        &mut self,
        ids: &mut dyn IdSource,
        details: PersonDetails,
        population: Population,
        arrival: DateTime<Utc>,
        home: EstablishmentCode,
    ) -> usize {
        self.people.push(PlannedPerson {
            id: PersonId(ids.next_uuid()),
            slots: 1,
            details,
            population,
            arrival,
            stays: vec![(home, arrival)],
            released: false,
            plain: false,
        });
        self.people.len() - 1
    }

    fn slot(&mut self, p: usize) -> usize {
        let s = self.people[p].slots;
        self.people[p].slots += 1;
        s
    }

    /// Adds an action at the establishment the person is at then.
    fn push(&mut self, p: usize, at: DateTime<Utc>, by: StaffUsername, step: Step) -> &mut Action {
        let establishment = self.people[p].establishment_at(at);
        let order = self.actions.len();
        self.actions.push(Action {
            at,
            order,
            person: p,
            establishment,
            by,
            step,
            feed: None,
            saves: Vec::new(),
        });
        let last = self.actions.len() - 1;
        &mut self.actions[last]
    }

    fn movement_feed(&mut self) -> (String, FeedRecord) {
        self.movement_refs += 1;
        let r = format!("DEMO-MOV-{:06}", self.movement_refs);
        (
            r.clone(),
            FeedRecord {
                feed: "movements".into(),
                source_ref: r,
            },
        )
    }

    fn prison_number(&mut self) -> Result<PrisonNumber, RecordError> {
        // 7919 is prime to 9000, so the first 9000 numbers are all different.
        let digits = 1000 + (self.numbers * 7919) % 9000;
        self.numbers += 1;
        let a = *self.rng.pick(NUMBER_LETTERS) as char;
        let b = *self.rng.pick(NUMBER_LETTERS) as char;
        PrisonNumber::parse(&format!("Z{digits}{a}{b}")).map_err(|e| invalid("prison_number", e))
    }

    fn population(&self, home: &Establishment, single: bool) -> Population {
        if home.kind == EstablishmentKind::ImmigrationRemovalCentre {
            Population::Detainees
        } else if single {
            Population::Mixed
        } else if home.code.as_str() == "ESI" {
            Population::Women
        } else {
            Population::Men
        }
    }

    /// The men's prisons of the profile, for transfers.
    fn mens_prisons(&self) -> Vec<EstablishmentCode> {
        self.profile
            .establishments
            .iter()
            .filter(|e| e.kind == EstablishmentKind::Prison && e.code.as_str() != "ESI")
            .map(|e| e.code.clone())
            .collect()
    }

    fn plan_person(
        &mut self,
        home: &Establishment,
        force: Force,
        single: bool,
        ids: &mut dyn IdSource,
    ) -> Result<(), RecordError> {
        let today = self.today;
        let population = self.population(home, single);
        let detainee = population == Population::Detainees;
        let min_back = match force {
            Force::None => 3,
            Force::Due => 10,
            Force::Overdue => 45,
            Force::Source(_) => 30,
        };
        let back = self.rng.range(min_back, 180);
        let received_on = today - days(back);
        let arrival = local(received_on, self.rng.range(9, 15), self.rng.range(0, 59));
        let details = self.details(population, single)?;
        let p = self.new_person(ids, details.clone(), population, arrival, home.code.clone());

        // Release, and the last day anything else happens.
        let release =
            if force == Force::None && back >= 30 && self.rng.chance(if detainee { 30 } else { 9 })
            {
                let day = received_on + days(self.rng.range(21, back - 1));
                let kind = if detainee && self.rng.chance(70) {
                    ReleaseKind::Deported
                } else {
                    ReleaseKind::Released
                };
                Some((day, kind))
            } else {
                None
            };
        let last_day = release.map_or(today - days(1), |(d, _)| d - days(1));
        let span = (last_day - received_on).num_days();
        self.people[p].released = release.is_some();

        // Transfers between men's prisons: the record follows the person.
        let mens = self.mens_prisons();
        if population == Population::Men
            && mens.len() >= 2
            && force == Force::None
            && span >= 20
            && self.rng.chance(22)
        {
            let mut day = received_on + days(self.rng.range(14, span - 2));
            loop {
                let from = self.people[p].stays.last().map(|s| s.0.clone());
                let choices: Vec<EstablishmentCode> = mens
                    .iter()
                    .filter(|c| Some(*c) != from.as_ref())
                    .cloned()
                    .collect();
                let to = self.rng.pick(&choices).clone();
                self.people[p].stays.push((to, local(day, 8, 30)));
                let left = (last_day - day).num_days();
                if left < 20 || !self.rng.chance(15) {
                    break;
                }
                day += days(self.rng.range(14, left - 2));
            }
        }

        // Registration and reception.
        self.push(
            p,
            arrival,
            self.by.worker.clone(),
            Step::Fact(EventKind::PersonRegistered(details)),
        )
        .saves
        .push(("person_registered", 0));
        let reception_type = self.reception_type(home, population);
        let (source_ref, feed) = self.movement_feed();
        self.push(
            p,
            arrival + minutes(1),
            self.by.movements.clone(),
            Step::Fact(EventKind::Received(Reception {
                reception_type,
                source_ref: Some(source_ref),
            })),
        )
        .feed = Some(feed);
        self.plan_expected_release(p, reception_type, received_on, release, last_day);
        let stays = self.people[p].stays.clone();
        for pair in stays.windows(2) {
            let (source_ref, feed) = self.movement_feed();
            self.push(
                p,
                pair[1].1,
                self.by.movements.clone(),
                Step::Fact(EventKind::Transferred(Transfer {
                    from: pair[0].0.clone(),
                    to: pair[1].0.clone(),
                    source_ref: Some(source_ref),
                    break_glass: None,
                })),
            )
            .feed = Some(feed);
        }

        // Use, screening at reception and the referrals it and others make.
        let uses =
            matches!(force, Force::Source(_)) || self.rng.chance(if detainee { 40 } else { 72 });
        let usage = self.use_profile(uses);
        let mut referrals: Vec<PlannedReferral> = Vec::new();
        let screened = force == Force::Source(ReferralSource::ReceptionScreening)
            || self.rng.chance(if detainee { 80 } else { 88 });
        if screened {
            let s = self.screening(ScreeningSetting::Reception, received_on, &usage);
            let slot = self.slot(p);
            self.push(
                p,
                arrival + minutes(40),
                self.by.worker.clone(),
                Step::Fact(EventKind::ScreeningCompleted(s)),
            )
            .saves
            .push(("screening_completed", slot));
            let refer = match force {
                Force::Source(ReferralSource::ReceptionScreening) => true,
                Force::None => uses && self.rng.chance(60),
                _ => false,
            };
            if refer {
                referrals.push(self.referral(
                    p,
                    arrival + minutes(55),
                    ReferralSource::ReceptionScreening,
                    Some("Reception screening found problem substance use".into()),
                ));
            }
        }
        match force {
            Force::Due => {
                let day = today - days(self.rng.range(1, 3));
                let at = not_before(local(day, 15, self.rng.range(0, 45)), arrival, 60);
                let source = self.manual_source(detainee);
                let mut r = self.referral(p, at, source, None);
                r.keep_open = true;
                referrals.push(r);
            }
            Force::Overdue => {
                let day = today - days(self.rng.range(15, 40));
                let at = local(day, 10, self.rng.range(0, 59));
                let source = self.manual_source(detainee);
                let mut r = self.referral(p, at, source, None);
                r.keep_open = true;
                referrals.push(r);
            }
            Force::None | Force::Source(_) => {
                let extra = if span < 2 {
                    0
                } else if uses {
                    self.rng.weighted(&[(0, 40), (1, 40), (2, 20)])
                } else {
                    self.rng.weighted(&[(0, 80), (1, 20)])
                };
                let mut sources: Vec<ReferralSource> =
                    (0..extra).map(|_| self.manual_source(detainee)).collect();
                if let Force::Source(s) = force
                    && !matches!(
                        s,
                        ReferralSource::PositiveDrugTest | ReferralSource::ReceptionScreening
                    )
                {
                    sources.push(s);
                }
                for source in sources {
                    let day = received_on + days(self.rng.range(2, span.max(2)));
                    let at = local(day, 10, self.rng.range(0, 89));
                    referrals.push(self.referral(p, at, source, None));
                }
                if let Some((release_day, _)) = release
                    && !detainee
                    && self.rng.chance(60)
                {
                    let day = (release_day - days(self.rng.range(5, 20)))
                        .max(received_on + days(1))
                        .min(last_day);
                    let at = local(day, 11, self.rng.range(0, 59));
                    referrals.push(self.referral(
                        p,
                        at,
                        ReferralSource::PreReleaseMeeting,
                        Some("Re-referred at the pre-release meeting".into()),
                    ));
                }
                self.plan_drug_tests(p, force, uses, &usage, received_on, span, &mut referrals);
            }
        }

        self.plan_care(p, referrals, &usage, last_day)?;

        if let Some((day, kind)) = release {
            let (source_ref, feed) = self.movement_feed();
            self.push(
                p,
                local(day, 9, 0),
                self.by.movements.clone(),
                Step::Fact(EventKind::Released(Release {
                    kind,
                    source_ref: Some(source_ref),
                })),
            )
            .feed = Some(feed);
        }
        self.people[p].plain = force == Force::None && release.is_none();
        Ok(())
    }

    fn plan_expected_release(
        &mut self,
        p: usize,
        reception_type: ReceptionType,
        received_on: NaiveDate,
        release: Option<(NaiveDate, ReleaseKind)>,
        last_day: NaiveDate,
    ) {
        let arrival = self.people[p].arrival;
        let date = match (reception_type, release) {
            (ReceptionType::ImmigrationDetainee, _) => return,
            (_, Some((day, _))) => Some(Some(day)),
            (ReceptionType::Remand, None) => self.rng.chance(45).then_some(None),
            (ReceptionType::Recall, None) => self
                .rng
                .chance(80)
                .then(|| Some(received_on + days(self.rng.range(28, 365)))),
            (ReceptionType::Sentenced, None) => self
                .rng
                .chance(90)
                .then(|| Some(received_on + days(self.rng.range(60, 900)))),
        };
        if let Some(date) = date {
            self.push(
                p,
                arrival + minutes(2),
                self.by.movements.clone(),
                Step::Fact(EventKind::ExpectedReleaseSet(ExpectedRelease { date })),
            );
        }
        // Some people on remand are sentenced later and get a date then.
        let span = (last_day - received_on).num_days();
        if reception_type == ReceptionType::Remand
            && release.is_none()
            && span >= 30
            && self.rng.chance(30)
        {
            let day = received_on + days(self.rng.range(20, span));
            let date = Some(day + days(self.rng.range(30, 700)));
            self.push(
                p,
                local(day, 16, 0),
                self.by.movements.clone(),
                Step::Fact(EventKind::ExpectedReleaseSet(ExpectedRelease { date })),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_drug_tests(
        &mut self,
        p: usize,
        force: Force,
        uses: bool,
        usage: &UseProfile,
        received_on: NaiveDate,
        span: i64,
        referrals: &mut Vec<PlannedReferral>,
    ) {
        let forced = force == Force::Source(ReferralSource::PositiveDrugTest);
        let count = if forced {
            1
        } else {
            self.rng.weighted(&[(0, 55), (1, 35), (2, 10)])
        };
        let arrival = self.people[p].arrival;
        let last_day = received_on + days(span.max(0));
        for _ in 0..count {
            let sampled = received_on + days(self.rng.range(0, span.max(0)));
            let confirmed_on = self
                .rng
                .chance(55)
                .then(|| (sampled + days(self.rng.range(1, 3))).min(last_day));
            let day = confirmed_on.unwrap_or(sampled);
            let reason = if sampled == received_on && self.rng.chance(50) {
                DrugTestReason::Reception
            } else {
                self.rng.weighted(&[
                    (DrugTestReason::Random, 50),
                    (DrugTestReason::Suspicion, 30),
                    (DrugTestReason::Clinical, 20),
                ])
            };
            let positive = forced || self.rng.chance(if uses { 45 } else { 8 });
            let substances = if positive {
                self.positive_substances(usage)
            } else {
                Vec::new()
            };
            self.test_refs += 1;
            let test_ref = format!("DEMO-MDT-{:06}", self.test_refs);
            let at = not_before(local(day, 11, self.rng.range(0, 120)), arrival, 20);
            let referral = self.slot(p);
            let appointment = self.slot(p);
            let action = self.push(
                p,
                at,
                self.by.drug_tests.clone(),
                Step::Fact(EventKind::DrugTestResulted(DrugTestResult {
                    test_ref: test_ref.clone(),
                    reason,
                    sampled_on: sampled,
                    confirmed_on,
                    positive,
                    substances,
                })),
            );
            action.feed = Some(FeedRecord {
                feed: "drug-tests".into(),
                source_ref: test_ref,
            });
            action.saves = vec![
                ("referral_made", referral),
                ("appointment_offered", appointment),
            ];
            if positive {
                // Mirrors the domain's follow-up: 10:00 on the next working day.
                let appointment_at = local(self.calendar.add_working_days(day, 1), 10, 0);
                referrals.push(PlannedReferral {
                    slot: referral,
                    at,
                    source: ReferralSource::PositiveDrugTest,
                    appointment: Some((appointment, appointment_at)),
                    keep_open: false,
                });
            }
        }
    }

    fn referral(
        &mut self,
        p: usize,
        at: DateTime<Utc>,
        source: ReferralSource,
        note: Option<String>,
    ) -> PlannedReferral {
        let slot = self.slot(p);
        let by = self.by.worker.clone();
        self.push(
            p,
            at,
            by,
            Step::Fact(EventKind::ReferralMade(Referral {
                source,
                referred_on: local_date(at),
                note,
            })),
        )
        .saves
        .push(("referral_made", slot));
        PlannedReferral {
            slot,
            at,
            source,
            appointment: None,
            keep_open: false,
        }
    }

    /// Appointments, outcomes, screening on referral, assessments, consents,
    /// shares and onward referrals that follow a person's referrals.
    fn plan_care(
        &mut self,
        p: usize,
        mut referrals: Vec<PlannedReferral>,
        usage: &UseProfile,
        last_day: NaiveDate,
    ) -> Result<(), RecordError> {
        let released = self.people[p].released;
        referrals.sort_by_key(|r| r.at);
        // (when, referral slot, assessment slot)
        let mut assessments: Vec<(DateTime<Utc>, usize, usize)> = Vec::new();
        for mut r in referrals {
            let ref_day = local_date(r.at);
            let due = self.calendar.add_working_days(ref_day, 5);
            if r.appointment.is_none()
                && !r.keep_open
                && r.source != ReferralSource::ReceptionScreening
                && self.rng.chance(45)
            {
                let slot = self.slot(p);
                let day = self
                    .calendar
                    .add_working_days(ref_day, self.rng.range(1, 4) as u32);
                let when = local(day, *self.rng.pick(&[10, 14]), 0);
                self.push(
                    p,
                    r.at + minutes(20),
                    self.by.worker.clone(),
                    Step::Offer {
                        referral: r.slot,
                        at: when,
                    },
                )
                .saves
                .push(("appointment_offered", slot));
                r.appointment = Some((slot, when));
            }
            let mut assess: Option<DateTime<Utc>> = None;
            match r.appointment {
                Some((slot, when)) if local_date(when) <= last_day => {
                    let outcome = self.rng.weighted(&[
                        (AppointmentOutcomeKind::Attended, 60),
                        (AppointmentOutcomeKind::Missed, 18),
                        (AppointmentOutcomeKind::Declined, 22),
                    ]);
                    let note = match outcome {
                        AppointmentOutcomeKind::Declined => Some(
                            self.rng
                                .pick(&[
                                    "Says they do not need support at the moment",
                                    "Declined: working in the kitchens at that time",
                                    "Does not want to engage with the service yet",
                                ])
                                .to_string(),
                        ),
                        AppointmentOutcomeKind::Missed => {
                            Some("Not unlocked in time for the appointment".to_string())
                        }
                        _ => None,
                    };
                    self.push(
                        p,
                        when + minutes(40),
                        self.by.worker.clone(),
                        Step::Outcome {
                            appointment: slot,
                            outcome,
                            note,
                        },
                    );
                    let day = local_date(when);
                    assess = match outcome {
                        AppointmentOutcomeKind::Attended => Some(when + minutes(50)),
                        AppointmentOutcomeKind::Missed if self.rng.chance(85) => {
                            let d = self
                                .calendar
                                .add_working_days(day, self.rng.range(1, 6) as u32);
                            Some(local(d, 14, self.rng.range(0, 90)))
                        }
                        AppointmentOutcomeKind::Declined if self.rng.chance(75) => {
                            let d = self
                                .calendar
                                .add_working_days(day, self.rng.range(3, 10) as u32);
                            Some(local(d, 14, self.rng.range(0, 90)))
                        }
                        _ => None,
                    };
                }
                Some(_) => {}
                None if r.keep_open => {}
                None => {
                    let d = match self.rng.weighted(&[(0u8, 74), (1, 23), (2, 3)]) {
                        0 => Some(
                            self.calendar
                                .add_working_days(ref_day, self.rng.range(0, 5) as u32),
                        ),
                        1 => Some(
                            self.calendar
                                .add_working_days(due, self.rng.range(1, 12) as u32),
                        ),
                        _ => None,
                    };
                    assess = d.map(|d| local(d, 14, self.rng.range(0, 90)));
                }
            }
            // Nobody leaves custody with a referral still open in the demo.
            if released && assess.is_none_or(|a| local_date(a) > last_day) {
                assess = Some(local(last_day, 14, self.rng.range(0, 90)));
            }
            let Some(when) = assess.filter(|a| local_date(*a) <= last_day) else {
                continue;
            };
            let when = not_before(when, r.at, 30);
            if r.source != ReferralSource::ReceptionScreening && self.rng.chance(70) {
                let s = self.screening(ScreeningSetting::OnReferral, local_date(when), usage);
                self.push(
                    p,
                    when - minutes(15),
                    self.by.worker.clone(),
                    Step::Fact(EventKind::ScreeningCompleted(s)),
                );
            }
            let slot = self.slot(p);
            let assessment = Assessment {
                kind: AssessmentKind::Initial,
                assessed_on: local_date(when),
                referral: None,
                summary: initial_summary(usage),
                structured_treatment_needed: usage.structured,
                comprehensive: None,
            };
            self.push(
                p,
                when,
                self.by.worker.clone(),
                Step::Assessment {
                    referral: r.slot,
                    assessment,
                },
            )
            .saves
            .push(("assessment_completed", slot));
            assessments.push((when, r.slot, slot));
        }
        assessments.sort_by_key(|a| a.0);
        let Some(&(first, referral, assessment)) = assessments.first() else {
            return Ok(());
        };
        self.plan_consents_and_beyond(p, first, referral, assessment, usage, last_day)
    }

    /// Consents at the first assessment, a summary to the offender manager, a few
    /// withdrawals, and the comprehensive assessment with its onward referrals.
    fn plan_consents_and_beyond(
        &mut self,
        p: usize,
        first: DateTime<Utc>,
        referral: usize,
        assessment: usize,
        usage: &UseProfile,
        last_day: NaiveDate,
    ) -> Result<(), RecordError> {
        let first_day = local_date(first);
        let mut given = Vec::new();
        for (k, purpose) in ConsentPurpose::ALL.into_iter().enumerate() {
            if !self.rng.chance(92) {
                continue;
            }
            let yes = match purpose {
                ConsentPurpose::InformationSharing => 85,
                ConsentPurpose::Ndtms => 80,
                ConsentPurpose::OffenderManagementSummaries => 70,
                ConsentPurpose::Healthcare => 88,
                ConsentPurpose::CommunityTransfer => 65,
                ConsentPurpose::FamilyInvolvement => 45,
            };
            let decision = if self.rng.chance(yes) {
                given.push(purpose);
                ConsentDecision::Given
            } else {
                ConsentDecision::Refused
            };
            self.push(
                p,
                first + minutes(10 + k as i64),
                self.by.worker.clone(),
                Step::Fact(EventKind::ConsentRecorded(ConsentRecord {
                    purpose,
                    decision,
                    decided_on: first_day,
                })),
            );
        }
        // S4 §3: a summary to the offender manager, with consent.
        if given.contains(&ConsentPurpose::OffenderManagementSummaries) && self.rng.chance(50) {
            self.push(
                p,
                first + minutes(40),
                self.by.worker.clone(),
                Step::Share {
                    disclosure: Disclosure {
                        recipient: Recipient::OffenderManagement,
                        basis: SharingBasis::Consent {
                            purpose: ConsentPurpose::OffenderManagementSummaries,
                        },
                        shared_on: first_day,
                        about: None,
                        summary: "Summary of the initial assessment for the offender manager"
                            .into(),
                    },
                    about: Some(assessment),
                },
            );
        }
        for &purpose in &given {
            let left = (last_day - first_day).num_days();
            if left >= 3 && self.rng.chance_per_mille(20) {
                let day = first_day + days(self.rng.range(3, left.min(40)));
                self.push(
                    p,
                    local(day, 15, 30),
                    self.by.worker.clone(),
                    Step::Fact(EventKind::ConsentWithdrawn(ConsentWithdrawal {
                        purpose,
                        withdrawn_on: day,
                    })),
                );
            }
        }
        let detainee = self.people[p].population == Population::Detainees;
        if !usage.structured || !self.rng.chance(if detainee { 40 } else { 85 }) {
            return Ok(());
        }
        let day = self
            .calendar
            .add_working_days(first_day, self.rng.range(1, 7) as u32);
        if day > last_day {
            return Ok(());
        }
        let items = self.comprehensive_items(given.contains(&ConsentPurpose::Ndtms));
        let onward = items.onward_referrals.clone();
        let at = local(day, 14, 30);
        let complex = items.complex_needs;
        self.push(
            p,
            at,
            self.by.clinician.clone(),
            Step::Assessment {
                referral,
                assessment: Assessment {
                    kind: AssessmentKind::Comprehensive,
                    assessed_on: day,
                    referral: None,
                    summary: format!(
                        "Comprehensive assessment completed; structured treatment agreed{}.",
                        if complex { "; complex needs" } else { "" }
                    ),
                    structured_treatment_needed: true,
                    comprehensive: Some(items),
                },
            },
        );
        for (k, to) in onward.into_iter().enumerate() {
            self.push(
                p,
                at + minutes(20 + k as i64),
                self.by.clinician.clone(),
                Step::Fact(EventKind::OnwardReferralMade(OnwardReferral {
                    to,
                    referred_on: day,
                    reason: Some(onward_reason(to).into()),
                })),
            );
        }
        Ok(())
    }

    /// The one-off cases: two corrections, an entry in error and a merge.
    fn plan_one_offs(&mut self, ids: &mut dyn IdSource) -> Result<(), RecordError> {
        let today = self.today;
        // A family name misspelt at registration, corrected the next day.
        if let Some(i) = self.actions.iter().position(|a| {
            matches!(a.step, Step::Fact(EventKind::PersonRegistered(_)))
                && self.people[a.person].plain
        }) {
            let p = self.actions[i].person;
            let at = local(local_date(self.actions[i].at) + days(1), 16, 0);
            let right = self.people[p].details.clone();
            let mut wrong = right.clone();
            let mut name: Vec<char> = wrong.family_name.chars().collect();
            name.remove(name.len() - 2);
            wrong.family_name = name.into_iter().collect();
            self.actions[i].step = Step::Fact(EventKind::PersonRegistered(wrong));
            let reason = "Family name misspelt at reception; corrected from the warrant".into();
            self.push(
                p,
                at,
                self.by.worker.clone(),
                Step::Correct {
                    target: 0,
                    reason,
                    kind: EventKind::PersonRegistered(right),
                },
            );
        }
        // An injecting history recorded as never, corrected after a review.
        if let Some(i) = self.actions.iter().position(|a| match &a.step {
            Step::Fact(EventKind::ScreeningCompleted(s)) => {
                s.setting == ScreeningSetting::Reception
                    && s.problem_substances.iter().any(|x| x.is_opiate())
                    && s.screened_on <= today - days(4)
                    && !a.saves.is_empty()
            }
            _ => false,
        }) {
            let Step::Fact(EventKind::ScreeningCompleted(s)) = &self.actions[i].step else {
                return Err(invalid("demo", "the screening to correct went missing"));
            };
            let mut wrong = s.clone();
            wrong.injecting = InjectingStatus::Never;
            let mut right = s.clone();
            right.injecting = InjectingStatus::Previous;
            let (p, target) = (self.actions[i].person, self.actions[i].saves[0].1);
            let at = local(s.screened_on + days(2), 15, 0);
            self.actions[i].step = Step::Fact(EventKind::ScreeningCompleted(wrong));
            self.push(
                p,
                at,
                self.by.worker.clone(),
                Step::Correct {
                    target,
                    reason: "Recorded as never injected; at review the person described injecting before this sentence".into(),
                    kind: EventKind::ScreeningCompleted(right),
                },
            );
        }
        // A consent decision recorded twice by mistake; the copy is entered in error.
        if let Some(i) = self.actions.iter().position(|a| match &a.step {
            Step::Fact(EventKind::ConsentRecorded(c)) => c.decided_on <= today - days(3),
            _ => false,
        }) {
            let Step::Fact(EventKind::ConsentRecorded(c)) = &self.actions[i].step else {
                return Err(invalid("demo", "the consent to copy went missing"));
            };
            let copy = EventKind::ConsentRecorded(c.clone());
            let (p, at, by) = (
                self.actions[i].person,
                self.actions[i].at,
                self.actions[i].by.clone(),
            );
            let slot = self.slot(p);
            self.push(p, at + minutes(1), by, Step::Fact(copy))
                .saves
                .push(("consent_recorded", slot));
            self.push(
                p,
                local(local_date(at) + days(1), 15, 10),
                self.by.worker.clone(),
                Step::EnterInError {
                    target: slot,
                    reason: "Recorded twice; this copy is a duplicate".into(),
                },
            );
        }
        // A self-referral filed under an old prison number from a previous sentence:
        // the two records are merged two days later and the referral assessed.
        if let Some(s) = (0..self.people.len()).find(|&i| {
            let q = &self.people[i];
            q.plain
                && q.population == Population::Men
                && local_date(q.arrival) <= today - days(20)
                && self.actions.iter().all(|a| {
                    a.person != i
                        || !matches!(a.step, Step::Correct { .. } | Step::EnterInError { .. })
                })
        }) {
            let survivor = &self.people[s];
            let arrival = survivor.arrival;
            let mut details = survivor.details.clone();
            details.prison_number = self.prison_number()?;
            let day = local_date(arrival) + days(self.rng.range(3, 8));
            let home = self.people[s].establishment_at(local(day, 10, 15));
            let population = self.people[s].population;
            let dup = self.new_person(ids, details.clone(), population, arrival, home);
            self.people[dup].stays = self.people[s].stays.clone();
            self.push(
                dup,
                local(day, 10, 15),
                self.by.worker.clone(),
                Step::Fact(EventKind::PersonRegistered(details)),
            );
            let r = self.referral(
                dup,
                local(day, 10, 30),
                ReferralSource::SelfReferralApplication,
                Some("Application form gave an old prison number".into()),
            );
            self.push(
                s,
                local(day + days(2), 16, 0),
                self.by.manager.clone(),
                Step::Merge { merged: dup },
            );
            let when = local(day + days(3), 11, 0);
            let usage = UseProfile {
                substances: vec![Substance::Cannabis],
                audit_zone: 0,
                injecting: InjectingStatus::Never,
                offending_linked: false,
                structured: false,
            };
            self.push(
                dup,
                when,
                self.by.worker.clone(),
                Step::Assessment {
                    referral: r.slot,
                    assessment: Assessment {
                        kind: AssessmentKind::Initial,
                        assessed_on: local_date(when),
                        referral: None,
                        summary: initial_summary(&usage),
                        structured_treatment_needed: false,
                        comprehensive: None,
                    },
                },
            );
        }
        Ok(())
    }

    // -- Choices about one person ------------------------------------------------

    fn details(
        &mut self,
        population: Population,
        single: bool,
    ) -> Result<PersonDetails, RecordError> {
        let r = &mut self.rng;
        let sex = match population {
            Population::Women => Sex::Female,
            Population::Men => r.weighted(&[(Sex::Male, 97), (Sex::NotStated, 3)]),
            Population::Detainees => {
                r.weighted(&[(Sex::Male, 85), (Sex::Female, 12), (Sex::NotStated, 3)])
            }
            Population::Mixed => {
                r.weighted(&[(Sex::Male, 86), (Sex::Female, 11), (Sex::NotStated, 3)])
            }
        };
        let given = match (population, sex) {
            (Population::Detainees, _) => *r.pick(&GIVEN_DETAINEES),
            (_, Sex::Female) => *r.pick(&GIVEN_WOMEN),
            _ => *r.pick(&GIVEN_MEN),
        };
        let family = if population == Population::Detainees {
            *r.pick(&FAMILY_DETAINEES)
        } else {
            *r.pick(&FAMILY)
        };
        let age = match population {
            Population::Women | Population::Men | Population::Mixed => {
                let band = r.weighted(&[
                    ((18, 25), 22),
                    ((26, 35), 35),
                    ((36, 49), 31),
                    ((50, 72), 12),
                ]);
                r.range(band.0, band.1)
            }
            Population::Detainees => r.range(19, 55),
        };
        let date_of_birth = self.today - days(age * 365 + age / 4 + r.range(1, 360));
        let abroad = population == Population::Detainees || r.chance(10);
        let (nationality, language) = if abroad {
            let (n, l) = *r.pick(&ABROAD);
            (Some(n.to_string()), Some(l.to_string()))
        } else if r.chance(4) {
            (None, None)
        } else {
            (Some("British".to_string()), Some("English".to_string()))
        };
        let interpreter_needed = match language.as_deref() {
            Some("English") => Answer::No,
            Some(_) => r.weighted(&[(Answer::Yes, 55), (Answer::No, 40), (Answer::NotStated, 5)]),
            None => Answer::NotStated,
        };
        let ethnicity = if population == Population::Detainees {
            r.weighted(&[
                (Ethnicity::WhiteOther, 25),
                (Ethnicity::Asian, 20),
                (Ethnicity::Black, 25),
                (Ethnicity::Arab, 15),
                (Ethnicity::Other, 10),
                (Ethnicity::NotStated, 5),
            ])
        } else {
            r.weighted(&[
                (Ethnicity::WhiteBritish, 60),
                (Ethnicity::WhiteIrish, 2),
                (Ethnicity::WhiteGypsyTravellerRoma, 4),
                (Ethnicity::WhiteOther, 8),
                (Ethnicity::Mixed, 5),
                (Ethnicity::Asian, 6),
                (Ethnicity::Black, 9),
                (Ethnicity::Arab, 1),
                (Ethnicity::Other, 1),
                (Ethnicity::NotStated, 4),
            ])
        };
        let religion = r.weighted(&[
            (Religion::NoReligion, 40),
            (Religion::Christian, 30),
            (
                Religion::Muslim,
                if population == Population::Detainees {
                    35
                } else {
                    14
                },
            ),
            (Religion::Hindu, 1),
            (Religion::Sikh, 1),
            (Religion::Jewish, 1),
            (Religion::Buddhist, 2),
            (Religion::Other, 3),
            (Religion::NotStated, 8),
        ]);
        let yes_no = |r: &mut SplitMix64, yes: u32| {
            r.weighted(&[
                (Answer::Yes, yes),
                (Answer::No, 92 - yes),
                (Answer::NotStated, 8),
            ])
        };
        let equality = EqualityMonitoring {
            sex,
            gender_identity_same_as_birth: r.weighted(&[
                (Answer::Yes, 89),
                (Answer::No, 2),
                (Answer::NotStated, 9),
            ]),
            ethnicity,
            religion,
            sexual_orientation: r.weighted(&[
                (SexualOrientation::Heterosexual, 84),
                (SexualOrientation::GayOrLesbian, 3),
                (SexualOrientation::Bisexual, 3),
                (SexualOrientation::Other, 1),
                (SexualOrientation::NotStated, 9),
            ]),
            disability: yes_no(r, 25),
            learning_disability: yes_no(r, 7),
            sight_impairment: yes_no(r, 4),
            hearing_impairment: yes_no(r, 5),
            pregnant: if sex == Sex::Female {
                yes_no(r, 8)
            } else {
                Answer::No
            },
            nationality,
            first_language: language,
            interpreter_needed,
        };
        let priority = RecordedPriorityFlags {
            prolific_offender: population != Population::Detainees && r.chance(11),
            dual_diagnosis: r.chance(12),
        };
        let home_postcode = if (population == Population::Detainees && !r.chance(20)) || r.chance(7)
        {
            None
        } else {
            let outward = if single {
                *r.pick(&ISLAND_OUTWARD)
            } else {
                *r.pick(&KENT_OUTWARD)
            };
            let digit = r.range(1, 9);
            let a = *r.pick(INWARD_LETTERS) as char;
            let b = *r.pick(INWARD_LETTERS) as char;
            Some(
                Postcode::parse(&format!("{outward} {digit}{a}{b}"))
                    .map_err(|e| invalid("home_postcode", e))?,
            )
        };
        Ok(PersonDetails {
            prison_number: self.prison_number()?,
            given_name: given.to_string(),
            family_name: family.to_string(),
            date_of_birth,
            home_postcode,
            equality,
            priority,
        })
    }

    fn reception_type(&mut self, home: &Establishment, population: Population) -> ReceptionType {
        if population == Population::Detainees {
            return ReceptionType::ImmigrationDetainee;
        }
        // Open and resettlement prisons take sentenced people only.
        if matches!(home.code.as_str(), "BHI" | "SHI" | "ESI") {
            return ReceptionType::Sentenced;
        }
        self.rng.weighted(&[
            (ReceptionType::Remand, 30),
            (ReceptionType::Sentenced, 55),
            (ReceptionType::Recall, 15),
        ])
    }

    fn manual_source(&mut self, detainee: bool) -> ReferralSource {
        let (om, pre_release) = if detainee { (0, 0) } else { (14, 6) };
        self.rng.weighted(&[
            (ReferralSource::SelfReferralApplication, 20),
            (ReferralSource::SelfReferralInCellTelephone, 12),
            (ReferralSource::OffenderManagement, om),
            (ReferralSource::Healthcare, 16),
            (ReferralSource::Gp, 9),
            (ReferralSource::PreReleaseMeeting, pre_release),
            (ReferralSource::OtherAgency, 9),
        ])
    }

    fn use_profile(&mut self, uses: bool) -> UseProfile {
        let r = &mut self.rng;
        if !uses {
            return UseProfile {
                substances: Vec::new(),
                audit_zone: r.weighted(&[(0, 75), (1, 22), (2, 3)]),
                injecting: r.weighted(&[
                    (InjectingStatus::Never, 88),
                    (InjectingStatus::NotStated, 12),
                ]),
                offending_linked: false,
                structured: false,
            };
        }
        let pool = [
            (Substance::Heroin, 18),
            (Substance::Crack, 14),
            (Substance::Cannabis, 16),
            (Substance::PsychoactiveSubstances, 14),
            (Substance::Cocaine, 10),
            (Substance::Alcohol, 18),
            (Substance::Benzodiazepines, 5),
            (Substance::IllicitBuprenorphine, 3),
            (Substance::IllicitMethadone, 3),
            (Substance::OtherOpioids, 2),
            (Substance::Amphetamines, 3),
            (Substance::PrescriptionOrOverTheCounter, 2),
            (Substance::Ketamine, 2),
            (Substance::Other, 1),
        ];
        let count = r.weighted(&[(1, 45), (2, 35), (3, 20)]);
        let mut substances = Vec::new();
        while substances.len() < count {
            let s = r.weighted(&pool);
            if !substances.contains(&s) {
                substances.push(s);
            }
        }
        let opiate = substances.iter().any(|s| s.is_opiate());
        let audit_zone = if substances.contains(&Substance::Alcohol) {
            r.weighted(&[(1, 25), (2, 35), (3, 40)])
        } else {
            r.weighted(&[(0, 55), (1, 35), (2, 10)])
        };
        let injecting = if opiate {
            r.weighted(&[
                (InjectingStatus::Current, 20),
                (InjectingStatus::Previous, 35),
                (InjectingStatus::Never, 35),
                (InjectingStatus::NotStated, 10),
            ])
        } else {
            r.weighted(&[
                (InjectingStatus::Previous, 6),
                (InjectingStatus::Never, 84),
                (InjectingStatus::NotStated, 10),
            ])
        };
        let heavy = opiate || substances.contains(&Substance::Crack) || audit_zone >= 2;
        UseProfile {
            substances,
            audit_zone,
            injecting,
            offending_linked: r.chance(45),
            structured: r.chance(if heavy { 80 } else { 25 }),
        }
    }

    fn screening(
        &mut self,
        setting: ScreeningSetting,
        day: NaiveDate,
        usage: &UseProfile,
    ) -> Screening {
        let r = &mut self.rng;
        let (audit, audit_c) = match r.weighted(&[(0u8, 50), (1, 35), (2, 15)]) {
            0 => (Some(audit_answers(r, usage.audit_zone)), None),
            1 => (None, Some(audit_c_answers(r, usage.audit_zone))),
            _ => (None, None),
        };
        Screening {
            setting,
            screened_on: day,
            audit,
            audit_c,
            problem_substances: usage.substances.clone(),
            injecting: usage.injecting,
            offending_linked: usage.offending_linked,
            structured_treatment_needed: usage.structured,
        }
    }

    fn positive_substances(&mut self, usage: &UseProfile) -> Vec<String> {
        let found: Vec<String> = usage
            .substances
            .iter()
            .filter(|s| **s != Substance::Alcohol)
            .take(2)
            .map(|s| s.label().to_string())
            .collect();
        if found.is_empty() {
            vec![
                self.rng
                    .pick(&["Cannabis", "Synthetic cannabinoids", "Buprenorphine"])
                    .to_string(),
            ]
        } else {
            found
        }
    }

    fn comprehensive_items(&mut self, ndtms_consent: bool) -> ComprehensiveItems {
        let r = &mut self.rng;
        let risk = |r: &mut SplitMix64| {
            r.weighted(&[
                (RiskLevel::None, 40),
                (RiskLevel::Low, 35),
                (RiskLevel::Medium, 18),
                (RiskLevel::High, 7),
            ])
        };
        let risk_of_self_harm = risk(r);
        let risk_to_others = risk(r);
        let mut onward_referrals = Vec::new();
        if risk_of_self_harm >= RiskLevel::Medium && r.chance(60) {
            onward_referrals.push(OnwardService::MentalHealth);
        }
        if r.chance(20) {
            let s = *r.pick(&OnwardService::ALL);
            if !onward_referrals.contains(&s) {
                onward_referrals.push(s);
            }
        }
        let children_in_care = r.weighted(&[(0u8, 45), (1, 25), (2, 18), (3, 8), (4, 4)]);
        let other_agencies = (0..r.range(0, 2))
            .map(|_| {
                r.pick(&[
                    "Probation (community offender manager)",
                    "Community mental health team",
                    "Children's social care",
                    "Local housing options team",
                    "Community drug and alcohol service",
                ])
                .to_string()
            })
            .fold(Vec::new(), |mut v: Vec<String>, a| {
                if !v.contains(&a) {
                    v.push(a);
                }
                v
            });
        ComprehensiveItems {
            needs_and_goals: r
                .pick(&[
                    "Stabilise on a substitute prescription and stop illicit use; longer term, abstinence and a return to work.",
                    "Stop using synthetic cannabinoids on the wing; rebuild contact with the children; settled housing before release.",
                    "Alcohol detox completed on reception; wants relapse prevention work and SMART Recovery.",
                    "Reduce crack use and keep clean tests to progress to open conditions.",
                    "Manage cravings, join the psychosocial group, and plan community treatment for release.",
                ])
                .to_string(),
            family: FamilyIssues {
                children_in_care,
                child_protection_plan: children_in_care > 0 && r.chance(12),
                parenting_support_needed: children_in_care > 0 && r.chance(40),
                notes: r
                    .pick(&[
                        "Children live with their mother; contact by video call.",
                        "Mother is the main support and wants to be involved.",
                        "No contact with family at present.",
                        "Partner also uses; the children are with their grandparents.",
                        "Close to siblings; family visit monthly.",
                    ])
                    .to_string(),
            },
            other_agencies,
            onward_referrals,
            information_handling_explained: true,
            ndtms_consent,
            risk_of_self_harm,
            risk_to_others,
            existing_risk_management_plans: r.chance(20),
            risk_management_plan: r
                .pick(&[
                    "No risk identified beyond the care plan; review at each keywork session.",
                    "Open ACCT reviewed on the wing; weekly check-ins with the keyworker.",
                    "Overdose awareness and naloxone training; review prescribing on any transfer.",
                    "Risk information shared with the offender manager under consent.",
                ])
                .to_string(),
            complex_needs: r.chance(15),
        }
    }
}

/// How many demo people an establishment of a multi-establishment profile gets,
/// roughly in proportion to its size (Kent and Medway codes; others 35).
fn share_of(e: &Establishment) -> usize {
    match e.code.as_str() {
        "EYI" => 60,
        "SWI" => 45,
        "MDI" | "RCI" => 40,
        "CBI" | "SHI" | "DVI" => 30,
        "ESI" => 25,
        "BHI" => 20,
        _ => 35,
    }
}

/// AUDIT answers scoring inside a zone (0 lower risk … 3 possible dependence).
fn audit_answers(r: &mut SplitMix64, zone: u8) -> AuditAnswers {
    let (lo, hi) = match zone {
        0 => (0, 7),
        1 => (8, 15),
        2 => (16, 19),
        _ => (20, 34),
    };
    let target = r.range(lo, hi);
    let mut items = [0u8; 10];
    // Items 9 and 10 score 0, 2 or 4; items 1–8 take the rest (at most 32).
    let mut rest = target;
    for item in &mut items[8..] {
        let v = *r.pick(&[0i64, 2, 4]);
        if rest - v >= 0 {
            *item = v as u8;
            rest -= v;
        }
    }
    rest = rest.min(32);
    while rest > 0 {
        let i = r.range(0, 7) as usize;
        if items[i] < 4 {
            items[i] += 1;
            rest -= 1;
        }
    }
    match AuditAnswers::new(items) {
        Ok(a) => a,
        // Every item is within its allowed values by construction.
        Err(e) => unreachable!("{e}"),
    }
}

/// AUDIT-C answers to match a zone: negative in the lower zones, positive above.
fn audit_c_answers(r: &mut SplitMix64, zone: u8) -> AuditCAnswers {
    let target = match zone {
        0 => r.range(0, 3),
        1 => r.range(3, 6),
        2 => r.range(6, 9),
        _ => r.range(9, 12),
    };
    let mut items = [0u8; 3];
    let mut rest = target;
    while rest > 0 {
        let i = r.range(0, 2) as usize;
        if items[i] < 4 {
            items[i] += 1;
            rest -= 1;
        }
    }
    match AuditCAnswers::new(items) {
        Ok(a) => a,
        // Every item is 0–4 by construction.
        Err(e) => unreachable!("{e}"),
    }
}

fn initial_summary(usage: &UseProfile) -> String {
    let primary = usage
        .substances
        .first()
        .map_or("none reported".to_string(), |s| s.label().to_lowercase());
    let plan = if usage.structured {
        "Needs structured treatment: comprehensive assessment booked."
    } else if usage.substances.is_empty() {
        "No current problem use: harm reduction information given."
    } else {
        "Brief intervention and harm reduction advice given; keywork offered."
    };
    format!("Initial assessment. Primary substance: {primary}. {plan}")
}

fn onward_reason(to: OnwardService) -> &'static str {
    match to {
        OnwardService::Psychology => "Trauma history raised at assessment",
        OnwardService::MentalHealth => "Low mood and self-harm risk identified",
        OnwardService::Icats => "Clinical review of prescribing",
        OnwardService::Housing => "No fixed abode on release",
        OnwardService::AdultSafeguarding => "Concern about exploitation on the wing",
        OnwardService::ChildrensServices => "Children's welfare concern raised by the person",
    }
}

// ---------------------------------------------------------------------------
// Recording

impl Planner<'_> {
    /// Records every planned action in time order through the one recording path;
    /// returns how many events were appended.
    fn record(
        &mut self,
        store: &dyn Store,
        now: DateTime<Utc>,
        ids: &mut dyn IdSource,
    ) -> Result<usize, RecordError> {
        let recorder = Recorder {
            store,
            profile: self.profile,
            calendar: self.calendar,
        };
        let mut actions = std::mem::take(&mut self.actions);
        actions.sort_by_key(|a| (a.at, a.order));
        let mut slots: Vec<Vec<Option<EventId>>> =
            self.people.iter().map(|p| vec![None; p.slots]).collect();
        let mut appended = 0;
        for a in actions {
            let person = self.people[a.person].id;
            let filled = &slots[a.person];
            let slot = |s: usize| {
                filled.get(s).copied().flatten().ok_or_else(|| {
                    RecordError::Domain(DomainError::NotFound {
                        what: format!("demo plan: slot {s} of person {}", a.person),
                    })
                })
            };
            let record = |kind: EventKind| Command::Record {
                occurred_at: Some(a.at),
                recorded_at: None,
                kind,
            };
            // Corrections, entries in error and merges are dated by when they are
            // made, so they are recorded as of their own time.
            let (command, as_of) = match a.step {
                Step::Fact(kind) => (record(kind), now),
                Step::Offer { referral, at } => (
                    record(EventKind::AppointmentOffered(AppointmentOffer {
                        referral: Some(slot(referral)?),
                        at,
                        worker: None,
                        clinic: None,
                        purpose: Some("Assessment".into()),
                    })),
                    now,
                ),
                Step::Outcome {
                    appointment,
                    outcome,
                    note,
                } => (
                    record(EventKind::AppointmentOutcomeRecorded(AppointmentOutcome {
                        appointment: slot(appointment)?,
                        outcome,
                        note,
                    })),
                    now,
                ),
                Step::Assessment {
                    referral,
                    mut assessment,
                } => {
                    assessment.referral = Some(slot(referral)?);
                    (record(EventKind::AssessmentCompleted(assessment)), now)
                }
                Step::Share {
                    mut disclosure,
                    about,
                } => {
                    disclosure.about = about.map(slot).transpose()?;
                    (record(EventKind::InformationShared(disclosure)), now)
                }
                Step::Correct {
                    target,
                    reason,
                    kind,
                } => (
                    Command::Correct {
                        target: slot(target)?,
                        reason,
                        kind,
                    },
                    a.at,
                ),
                Step::EnterInError { target, reason } => (
                    Command::EnterInError {
                        target: slot(target)?,
                        reason,
                    },
                    a.at,
                ),
                Step::Merge { merged } => {
                    let other = self.people[merged].id;
                    let done = recorder.merge(
                        &throughcare_domain::access::Author::system(a.by.clone()),
                        &a.establishment,
                        person,
                        other,
                        a.at,
                        ids,
                    )?;
                    appended += done.len();
                    continue;
                }
            };
            let done = recorder.record(
                &throughcare_domain::access::Author::system(a.by.clone()),
                &a.establishment,
                person,
                command,
                as_of,
                ids,
                a.feed.as_ref(),
            )?;
            for e in &done {
                for (type_name, s) in &a.saves {
                    if e.kind.type_name() == *type_name {
                        slots[a.person][*s] = Some(e.id);
                    }
                }
            }
            appended += done.len();
        }
        Ok(appended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::OnceLock;
    use throughcare_domain::time::parse_instant;
    use throughcare_store::SqliteStore;

    struct Seeded {
        _dir: tempfile::TempDir,
        store: SqliteStore,
        summary: DemoSummary,
        profile: Profile,
    }

    fn now() -> DateTime<Utc> {
        parse_instant("2026-06-15T09:30:00Z").unwrap()
    }

    fn seed_fresh(profile_name: &str, now: DateTime<Utc>) -> Seeded {
        let profile = Profile::builtin(profile_name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        let store = SqliteStore::open(path.to_str().unwrap(), &profile).unwrap();
        let summary = match seed(&store, &profile, now) {
            Ok(s) => s,
            Err(e) => panic!("seeding {profile_name} as of {now} failed: {e}"),
        };
        Seeded {
            _dir: dir,
            store,
            summary,
            profile,
        }
    }

    /// One Kent and Medway demo shared by the tests that only read it.
    fn kent_medway() -> &'static Seeded {
        static SEEDED: OnceLock<Seeded> = OnceLock::new();
        SEEDED.get_or_init(|| seeded_once("kent-medway", now()))
    }

    /// The demo as seeded once per build of this test binary and kept in the temp
    /// directory: nextest runs each test in a process of its own, and seeding takes
    /// many seconds, so the first process seeds (holding a lock file) and every process
    /// opens its own copy of the file. A lock left by a killed process is taken over
    /// after ten minutes.
    fn seeded_once(profile_name: &str, now: DateTime<Utc>) -> Seeded {
        use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};
        let exe = std::fs::metadata(std::env::current_exe().unwrap()).unwrap();
        let built = exe
            .modified()
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let shared = std::env::temp_dir().join(format!(
            "throughcare-demo-{profile_name}-{}-{}-{built}",
            now.timestamp(),
            exe.len()
        ));
        std::fs::create_dir_all(&shared).unwrap();
        let (db, summary_file, lock) = (
            shared.join("demo.db"),
            shared.join("summary.json"),
            shared.join("lock"),
        );
        while !summary_file.exists() {
            let taken = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock);
            if taken.is_ok() {
                let _ = std::fs::remove_file(&db);
                let s = seed_fresh(profile_name, now);
                let fresh = s._dir.path().join("demo.db");
                let summary = serde_json::to_string(&s.summary).unwrap();
                drop(s.store);
                std::fs::copy(&fresh, &db).unwrap();
                let staged = shared.join("summary.json.part");
                std::fs::write(&staged, summary).unwrap();
                std::fs::rename(&staged, &summary_file).unwrap();
                break;
            }
            let stale = std::fs::metadata(&lock)
                .and_then(|m| m.modified())
                .map(|t| SystemTime::now().duration_since(t).unwrap_or_default())
                .is_ok_and(|age| age > StdDuration::from_secs(600));
            if stale {
                let _ = std::fs::remove_file(&lock);
            }
            std::thread::sleep(StdDuration::from_millis(200));
        }
        let profile = Profile::builtin(profile_name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        std::fs::copy(&db, &path).unwrap();
        let summary =
            serde_json::from_str(&std::fs::read_to_string(&summary_file).unwrap()).unwrap();
        let store = SqliteStore::open(path.to_str().unwrap(), &profile).unwrap();
        Seeded {
            _dir: dir,
            store,
            summary,
            profile,
        }
    }

    fn all_events(store: &SqliteStore) -> Vec<throughcare_domain::events::RecordedEvent> {
        store.events_after(0, usize::MAX).unwrap()
    }

    #[test]
    fn the_manager_dashboard_has_incidents_actions_a_review_and_cover_gaps() {
        use throughcare_domain::governance::ServiceRecord;
        let s = kent_medway();
        let r = ServiceRecord::fold(&s.store.service_events().unwrap());
        assert_eq!(r.incidents.len(), 3);
        assert_eq!(r.open_incidents().len(), 2);
        assert_eq!(r.overdue_actions(local_date(now())).len(), 1);
        assert_eq!(r.death_reviews.len(), 1);
        assert_eq!(r.cover.len(), 30 * s.profile.establishments.len());
        assert!(
            r.cover.values().any(|provided| !provided),
            "some nights without cover"
        );
    }

    #[test]
    fn every_workforce_panel_of_the_dashboard_has_content() {
        use throughcare_domain::governance::ServiceRecord;
        let s = kent_medway();
        let r = ServiceRecord::fold(&s.store.service_events().unwrap());
        let today = local_date(now());
        let settings = &s.profile.workforce;
        let mdi = EstablishmentCode::parse("MDI").unwrap();
        let panels =
            crate::workforce_panels::WorkforcePanels::build(&r.workforce, settings, &mdi, today);
        for (name, rows) in [
            ("staff", &panels.staff),
            ("gaps", &panels.gaps),
            ("training", &panels.training),
            ("clearances", &panels.clearances),
            ("trainees", &panels.trainees),
            ("revalidations", &panels.revalidations),
            ("vacancies", &panels.vacancies),
        ] {
            assert!(!rows.is_empty(), "the {name} panel is empty at MDI");
        }
        let w = &r.workforce;
        assert_eq!(w.trainees().len(), 2);
        // Training in every state somewhere in the service.
        let states: BTreeSet<_> = w
            .training_due(settings, today)
            .into_iter()
            .map(|t| t.state)
            .collect();
        assert_eq!(states.len(), 3, "{states:?}");
        // Every staff record belongs to an account.
        for u in w.staff.keys() {
            assert!(s.store.account(u).unwrap().is_some(), "{u} has no account");
        }
    }

    #[test]
    fn the_surveys_demo_has_quarters_of_answers_pairs_codes_to_try_and_self_referrals() {
        use throughcare_domain::governance::ServiceRecord;
        use throughcare_domain::surveys::{SurveyCode, SurveyKind, results};
        let s = kent_medway();
        let r = ServiceRecord::fold(&s.store.service_events().unwrap());
        let res = results(&r, None);
        let quarters: BTreeSet<_> = res
            .quarters
            .iter()
            .filter(|q| q.survey == SurveyKind::Satisfaction)
            .map(|q| q.quarter)
            .collect();
        assert!(quarters.len() >= 4, "{quarters:?}");
        assert!(res.change.pairs >= 5, "{:?}", res.change);
        let paper = r
            .survey_responses
            .iter()
            .filter(|(_, x)| x.code_hash.is_none())
            .count();
        assert!(paper > 0);
        for typed in crate::demo_surveys::DEMO_KIOSK_CODES {
            let code = SurveyCode::parse(typed).unwrap();
            assert!(!r.survey_codes[&code.hash()].used, "{typed} is left to try");
        }
        let referrals: Vec<_> = all_events(&s.store)
            .into_iter()
            .filter_map(|e| match &e.kind {
                EventKind::ReferralMade(x)
                    if matches!(
                        x.source,
                        ReferralSource::SelfReferralApplication
                            | ReferralSource::SelfReferralInCellTelephone
                    ) =>
                {
                    Some((e.recorded_by.to_string(), x.source))
                }
                _ => None,
            })
            .collect();
        for (by, source) in [
            ("kiosk", ReferralSource::SelfReferralApplication),
            ("telephone", ReferralSource::SelfReferralInCellTelephone),
        ] {
            assert!(
                referrals.contains(&(by.to_string(), source)),
                "{referrals:?}"
            );
        }
    }

    /// Issue 15: over the whole demo (300 people with every kind of history), the
    /// queue projection answers what the fold answers at every establishment, at
    /// instants from a month before the demo's day to four months after.
    #[test]
    fn the_queue_projection_equals_the_fold_over_the_demo() {
        use throughcare_domain::work_queues::work_items;
        let s = kent_medway();
        let calendar = s.profile.calendar();
        let mut compared = 0;
        for e in &s.profile.establishments {
            let mut people: Vec<_> = s.store.caseload(&e.code).unwrap();
            people.sort_by_key(|r| r.person.to_string());
            let cases: Vec<_> = people
                .iter()
                .map(|r| {
                    (
                        r.person,
                        throughcare_domain::case::Case::fold(
                            r.person,
                            s.store.person_events(r.person).unwrap(),
                        ),
                    )
                })
                .collect();
            for day in (-30..120).step_by(3) {
                for hour in [2, 10, 22] {
                    let at = now() + Duration::days(day) + Duration::hours(hour);
                    let key = |x: &(PersonId, throughcare_domain::work_queues::WorkItem)| {
                        (
                            x.0.to_string(),
                            x.1.due,
                            x.1.queue.code(),
                            x.1.detail.clone(),
                        )
                    };
                    let mut folded: Vec<_> = cases
                        .iter()
                        .flat_map(|(p, c)| {
                            work_items(c, &s.profile, &calendar, at)
                                .into_iter()
                                .map(move |i| (*p, i))
                        })
                        .collect();
                    folded.sort_by_key(key);
                    let page = s
                        .store
                        .queue(&throughcare_store::QueueQuery {
                            establishment: e.code.clone(),
                            now: at,
                            queue: None,
                            keyworker: None,
                            offset: 0,
                            limit: 100_000,
                        })
                        .unwrap();
                    assert_eq!(page.total, page.rows.len());
                    let mut stored: Vec<_> = page
                        .rows
                        .into_iter()
                        .map(|q| (q.case.person, q.item))
                        .collect();
                    stored.sort_by_key(key);
                    assert_eq!(stored, folded, "{} at {at}", e.code);
                    compared += stored.len();
                }
            }
        }
        assert!(compared > 10_000, "{compared} items compared");
    }

    #[test]
    fn kent_medway_demo_has_300_people_at_all_nine_establishments() {
        let s = kent_medway();
        assert!(s.summary.people >= 300, "{} people", s.summary.people);
        let mut total = 0;
        for e in &s.profile.establishments {
            let rows = s.store.caseload(&e.code).unwrap();
            assert!(!rows.is_empty(), "nobody at {}", e.code);
            total += rows.len();
        }
        assert!(total >= 300, "{total} people in caseloads");
    }

    #[test]
    fn irc_dover_holds_immigration_detainees_only() {
        let s = kent_medway();
        let rows = s
            .store
            .caseload(&EstablishmentCode::parse("DVI").unwrap())
            .unwrap();
        assert!(
            rows.iter()
                .filter(|r| r.in_custody)
                .all(|r| r.custody == "In custody (immigration detainee)")
        );
    }

    #[test]
    fn demo_has_assessments_due_and_overdue() {
        let s = kent_medway();
        let today = local_date(now());
        let due: Vec<NaiveDate> = s
            .profile
            .establishments
            .iter()
            .flat_map(|e| s.store.assessments_due(&e.code).unwrap())
            .filter_map(|r| r.assessment_due)
            .collect();
        assert!(due.iter().any(|d| *d < today), "nothing overdue");
        assert!(due.iter().any(|d| *d >= today), "nothing due from today");
    }

    #[test]
    fn demo_chain_verifies() {
        let report = kent_medway().store.verify().unwrap();
        assert!(report.broken.is_none(), "{:?}", report.broken);
        assert_eq!(report.verified as usize, kent_medway().summary.events);
    }

    #[test]
    fn every_referral_source_appears() {
        let sources: BTreeSet<ReferralSource> = all_events(&kent_medway().store)
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::ReferralMade(r) => Some(r.source),
                _ => None,
            })
            .collect();
        for s in ReferralSource::ALL {
            assert!(sources.contains(&s), "no referral from {s:?}");
        }
    }

    #[test]
    fn demo_has_declines_consents_given_and_refused_withdrawals_and_one_offs() {
        let events = all_events(&kent_medway().store);
        let has = |f: &dyn Fn(&EventKind) -> bool| events.iter().any(|e| f(&e.kind));
        assert!(has(&|k| matches!(
            k,
            EventKind::AppointmentOutcomeRecorded(o) if o.outcome == AppointmentOutcomeKind::Declined
        )));
        assert!(has(&|k| matches!(
            k,
            EventKind::ConsentRecorded(c) if c.decision == ConsentDecision::Given
        )));
        assert!(has(&|k| matches!(
            k,
            EventKind::ConsentRecorded(c) if c.decision == ConsentDecision::Refused
        )));
        assert!(has(&|k| matches!(k, EventKind::ConsentWithdrawn(_))));
        assert!(has(&|k| matches!(k, EventKind::PeopleMerged(_))));
        assert!(has(&|k| matches!(k, EventKind::EnteredInError(_))));
        assert!(has(&|k| matches!(k, EventKind::OnwardReferralMade(_))));
        assert!(has(&|k| matches!(k, EventKind::Transferred(_))));
        assert!(has(&|k| matches!(k, EventKind::Released(_))));
        assert_eq!(events.iter().filter(|e| e.supersedes.is_some()).count(), 2);
    }

    #[test]
    fn nothing_happens_after_now() {
        let events = all_events(&kent_medway().store);
        assert!(events.iter().all(|e| e.occurred_at <= now()));
    }

    #[test]
    fn demo_shows_every_data_quality_issue_and_its_sign_offs_reproduce() {
        use throughcare_domain::data_quality::{IssueKind, data_quality};
        use throughcare_domain::governance::ServiceRecord;
        use throughcare_domain::returns::cut::Cut;
        let s = kent_medway();
        let events = all_events(&s.store);
        let cut = Cut::new(&s.profile, &events, Utc::now());
        let here = &s.profile.establishments[0].code;
        let kinds: BTreeSet<IssueKind> = data_quality(&cut, here, now() + Duration::hours(1))
            .iter()
            .map(|i| i.kind)
            .collect();
        assert_eq!(kinds.len(), IssueKind::ALL.len(), "{kinds:?}");
        let r = ServiceRecord::fold(&s.store.service_events().unwrap());
        assert_eq!(r.submissions.len(), 2);
        for sub in &r.submissions {
            let bytes = crate::submission_pages::produce(&s.store, &s.profile, &sub.fact).unwrap();
            assert_eq!(crate::submission_pages::sha256_hex(&bytes), sub.fact.sha256);
        }
        // The KM profile owes an annual report (no six-monthly one): its last complete
        // service year carries all four narrative sections.
        use throughcare_domain::returns::{Return, ReturnKind};
        let year = ReturnKind::Annual.last_complete(local_date(now()), 4);
        let annual = Return::from_cut(ReturnKind::Annual, &cut, &year);
        assert_eq!(annual.narratives.len(), 4, "{:?}", annual.narratives);
    }

    #[test]
    fn same_now_gives_same_events() {
        let other = seed_fresh("kent-medway", now());
        // A sign-off names the instant its file was made as at and that file's hash,
        // which depend on when the events were appended: only its type is compared.
        let parts = |store: &SqliteStore| -> Vec<(String, String)> {
            all_events(store)
                .into_iter()
                .map(|e| match e.kind {
                    EventKind::ReturnSubmitted(_) => {
                        (e.kind.type_name().to_string(), String::new())
                    }
                    _ => (e.kind.type_name().to_string(), e.kind.payload_json()),
                })
                .collect()
        };
        assert_eq!(parts(&kent_medway().store), parts(&other.store));
        assert_eq!(kent_medway().summary, other.summary);
    }

    #[test]
    fn single_prison_demo_seeds_about_sixty_people_on_awkward_dates() {
        // Around Christmas, across the clocks changing, and at the start of a day.
        for at in [
            "2026-06-15T09:30:00Z",
            "2026-12-29T10:00:00Z",
            "2027-01-04T00:10:00Z",
            "2026-03-30T08:00:00Z",
        ] {
            let s = seed_fresh("single-prison", parse_instant(at).unwrap());
            // Sixty in the caseload, two with long sentences from demo_care, the
            // throughcare cohort of demo_release that one prison can hold (23 of 28:
            // no removal centre, no transfers), and four new people who referred
            // themselves (demo_surveys).
            assert_eq!(s.summary.people, 89);
            let code = &s.profile.establishments[0].code;
            assert!(s.store.caseload(code).unwrap().len() >= 89);
            assert_eq!(s.summary.accounts.len(), 6);
        }
    }

    #[test]
    fn demo_accounts_sign_in_with_their_published_passwords() {
        let s = kent_medway();
        for (username, password, role) in &s.summary.accounts {
            let account = s
                .store
                .account(&StaffUsername::parse(username).unwrap())
                .unwrap()
                .unwrap();
            assert_eq!(account.role.code(), role);
            assert!(crate::auth::verify_password(
                password,
                &account.password_hash
            ));
        }
        let worker = s
            .store
            .account(&StaffUsername::parse("worker").unwrap())
            .unwrap()
            .unwrap();
        let sites: Vec<&str> = worker.establishments.iter().map(|e| e.as_str()).collect();
        assert_eq!(sites, ["MDI", "EYI"]);
    }

    /// Every registered person who is not merged into another, folded as at now.
    fn cases(s: &Seeded) -> Vec<throughcare_domain::case::Case> {
        let merged: BTreeSet<PersonId> = all_events(&s.store)
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::PeopleMerged(m) => Some(m.merged),
                _ => None,
            })
            .collect();
        let people: BTreeSet<PersonId> = all_events(&s.store)
            .into_iter()
            .filter(|e| matches!(e.kind, EventKind::PersonRegistered(_)))
            .filter_map(|e| e.person)
            .filter(|p| !merged.contains(p))
            .collect();
        people
            .into_iter()
            .map(|p| crate::recording::load_case(&s.store, p).unwrap().0)
            .collect()
    }

    #[test]
    fn every_work_queue_has_something_at_the_demo_now() {
        use throughcare_domain::work_queues::{QueueKind, work_items};
        let s = kent_medway();
        let calendar = s.profile.calendar();
        let mut found: BTreeSet<QueueKind> = BTreeSet::new();
        let mut overdue: BTreeSet<QueueKind> = BTreeSet::new();
        let mut live_first_night = 0;
        let mut top_lapsed = 0;
        for case in cases(s) {
            for item in work_items(&case, &s.profile, &calendar, now()) {
                found.insert(item.queue);
                // KM 3.7 note 2: the last profile more than 26 weeks ago.
                if item.queue == QueueKind::Top && item.overdue && item.detail.starts_with("Last") {
                    top_lapsed += 1;
                }
                if item.overdue {
                    overdue.insert(item.queue);
                } else if item.queue == QueueKind::FirstNight {
                    live_first_night += 1;
                }
            }
        }
        for kind in QueueKind::ALL {
            assert!(found.contains(kind), "nothing in the {} queue", kind.code());
        }
        for kind in [
            QueueKind::Top,
            QueueKind::Induction,
            QueueKind::CarePlanReview,
            QueueKind::SymptomaticRelief,
        ] {
            assert!(
                overdue.contains(&kind),
                "nothing overdue in {}",
                kind.code()
            );
        }
        assert!(
            live_first_night >= 2,
            "{live_first_night} live first-night clocks"
        );
        assert!(top_lapsed >= 1, "no TOP more than 26 weeks old");
    }

    #[test]
    fn demo_has_an_approved_a_refused_and_a_pending_information_request() {
        use throughcare_domain::governance::ServiceRecord;
        use throughcare_domain::information_requests::{RequestStatus, rows};
        use throughcare_domain::returns::cut::Cut;
        let s = kent_medway();
        let events = all_events(&s.store);
        let service: Vec<_> = events
            .iter()
            .filter(|e| e.person.is_none())
            .cloned()
            .collect();
        let reg = ServiceRecord::fold(&service).information_requests;
        let today = local_date(now());
        let statuses: Vec<RequestStatus> = reg.values().map(|r| r.status(today)).collect();
        assert_eq!(
            statuses,
            [
                RequestStatus::Approved,
                RequestStatus::Refused,
                RequestStatus::Pending
            ]
        );
        // The approved request shares someone, pseudonymously, from its approval's cut.
        let approved = reg.values().next().unwrap();
        let as_at = approved.shareable_as_at(today).unwrap();
        let shared = rows(
            &Cut::new(&s.profile, &events, as_at),
            &approved.made.request_ref,
            &approved.made,
        );
        assert!(
            !shared.is_empty(),
            "people in treatment at the first prison"
        );
    }

    #[test]
    fn demo_has_group_sessions_and_every_kind_of_recovery_care() {
        use throughcare_domain::clinical::NaloxoneRecipient;
        use throughcare_domain::interventions::{InterventionStatus, SessionKind};
        let s = kent_medway();
        let events = all_events(&s.store);
        let mut groups: std::collections::BTreeMap<String, BTreeSet<PersonId>> = Default::default();
        let mut statuses = BTreeSet::new();
        for e in &events {
            match &e.kind {
                EventKind::SessionAttended(x) => {
                    if let SessionKind::Group { session, .. } = &x.session {
                        groups
                            .entry(session.to_string())
                            .or_default()
                            .extend(e.person);
                    }
                }
                EventKind::InterventionUpdated(u) => {
                    statuses.insert(u.status);
                    // KM 4.14: no structured psychosocial intervention at the IRC.
                    if e.establishment.as_str() == "DVI" {
                        let def = s.profile.intervention(&u.intervention).unwrap();
                        assert!(!def.structured_psychosocial, "{} at DVI", u.intervention);
                    }
                }
                _ => {}
            }
        }
        assert!(
            groups.values().any(|people| people.len() >= 3),
            "no group session with three or more people"
        );
        for status in InterventionStatus::ALL {
            assert!(statuses.contains(status), "no course {}", status.code());
        }
        let types: BTreeSet<&str> = events.iter().map(|e| e.kind.type_name()).collect();
        for t in [
            "appointment_rescheduled",
            "care_plan_agreed",
            "care_plan_reviewed",
            "induction_recorded",
            "top_completed",
            "intervention_updated",
            "session_attended",
            "clinical_event_recorded",
            "blood_borne_virus_recorded",
            "naloxone_supplied",
            "drug_intelligence_recorded",
            "sentence_plan_contributed",
            "keyworker_allocated",
            "service_exclusion_recorded",
        ] {
            assert!(types.contains(t), "no {t} in the demo");
        }
        let steps: BTreeSet<&str> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::ClinicalEventRecorded(c) => Some(c.step.code()),
                _ => None,
            })
            .collect();
        for (code, _) in throughcare_domain::clinical::ClinicalStep::CODES {
            if code != "symptomatic_relief" {
                assert!(steps.contains(code), "no clinical step {code}");
            }
        }
        assert!(events.iter().any(|e| matches!(
            &e.kind,
            EventKind::NaloxoneSupplied(n) if matches!(n.to, NaloxoneRecipient::FamilyOrCarer { .. })
        )));
        assert!(events.iter().any(|e| matches!(
            &e.kind,
            EventKind::AppointmentOffered(a) if a.at > now() && a.worker.is_some() && a.clinic.is_some()
        )));
    }

    #[test]
    fn the_release_queue_has_every_state_of_planning() {
        use throughcare_domain::release::PlanGap;
        use throughcare_domain::throughcare::release_item;
        let s = kent_medway();
        let today = local_date(now());
        let items: Vec<_> = cases(s)
            .iter()
            .filter_map(|c| release_item(c, today))
            .collect();
        let no_plan = items.iter().filter(|i| i.gaps == [PlanGap::NoPlan]).count();
        let complete = items.iter().filter(|i| i.gaps.is_empty()).count();
        let partial = items
            .iter()
            .filter(|i| !i.gaps.is_empty() && !i.gaps.contains(&PlanGap::NoPlan))
            .count();
        assert!(no_plan >= 2, "{no_plan} without a plan");
        assert!(complete >= 2, "{complete} with a complete plan");
        assert!(partial >= 2, "{partial} with a partial plan");
        for gap in [
            PlanGap::NoFirstAppointment,
            PlanGap::NoHousingReferral,
            PlanGap::NoNaloxone,
            PlanGap::NoBridgingMedication,
            PlanGap::NotAgreed,
        ] {
            assert!(
                items.iter().any(|i| i.gaps.contains(&gap)),
                "nobody in the release queue lacks {}",
                gap.code()
            );
        }
        assert!(items.iter().any(|i| i.short_sentence), "no short sentence");
        assert!(
            items.iter().any(|i| !i.short_sentence),
            "only short sentences"
        );
        assert!(
            items.iter().any(|i| (0..=7).contains(&i.days_left)),
            "nobody due out within a week"
        );
        assert!(
            items.iter().any(|i| i.days_left > 42),
            "nobody due out after six weeks"
        );
    }

    #[test]
    fn continuity_after_release_is_within_21_days_late_not_engaged_and_unknown() {
        use throughcare_domain::throughcare::continuity;
        let s = kent_medway();
        let mut within = BTreeSet::new();
        let mut day_21 = 0;
        for case in cases(s) {
            let Some(c) = continuity(&case) else { continue };
            within.insert(c.within_21_days);
            if c.engaged_on
                .is_some_and(|d| (d - c.released_on).num_days() == 21)
            {
                day_21 += 1;
            }
        }
        for w in [Some(true), Some(false), None] {
            assert!(
                within.contains(&w),
                "no released person with within_21_days {w:?}"
            );
        }
        assert!(day_21 >= 1, "nobody engaged on exactly day 21");
    }

    #[test]
    fn every_follow_up_outcome_closes_a_window_and_one_ended_window_is_open() {
        use throughcare_domain::release::FollowUpOutcome;
        use throughcare_domain::throughcare::follow_ups;
        let s = kent_medway();
        let today = local_date(now());
        let mut closed = BTreeSet::new();
        let mut open_ended = 0;
        for case in cases(s) {
            for f in follow_ups(&case, &s.profile) {
                match f.outcome {
                    Some(o) => {
                        closed.insert(o);
                    }
                    None if f.ends_on < today => open_ended += 1,
                    None => {}
                }
            }
        }
        for o in FollowUpOutcome::ALL {
            assert!(closed.contains(o), "no follow-up closed as {}", o.code());
        }
        assert!(open_ended >= 1, "no ended follow-up window still open");
    }

    #[test]
    fn every_exit_reason_the_demo_uses_appears_and_the_new_facts_are_recorded() {
        let events = all_events(&kent_medway().store);
        let reasons: BTreeSet<_> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::TreatmentExited(x) => Some(x.reason),
                _ => None,
            })
            .collect();
        for r in crate::demo_release::EXIT_REASONS {
            assert!(reasons.contains(&r), "no treatment exit {}", r.code());
        }
        let types: BTreeSet<&str> = events.iter().map(|e| e.kind.type_name()).collect();
        for t in [
            "release_plan_agreed",
            "treatment_exited",
            "community_engagement_recorded",
            "contact_recorded",
            "death_recorded",
            "reoffence_recorded",
            "follow_up_closed",
        ] {
            assert!(types.contains(t), "no {t} in the demo");
        }
        // Shares with the community provider and the offender manager, each on the
        // consent for its purpose.
        for (recipient, purpose) in [
            (
                Recipient::CommunityProvider,
                ConsentPurpose::CommunityTransfer,
            ),
            (
                Recipient::OffenderManagement,
                ConsentPurpose::OffenderManagementSummaries,
            ),
        ] {
            assert!(events.iter().any(|e| matches!(
                &e.kind,
                EventKind::InformationShared(d)
                    if d.recipient == recipient
                        && d.basis == SharingBasis::Consent { purpose }
            )));
        }
        // Consent to community transfer refused and withdrawn, as well as given.
        assert!(events.iter().any(|e| matches!(
            &e.kind,
            EventKind::ConsentWithdrawn(w) if w.purpose == ConsentPurpose::CommunityTransfer
        )));
        // No reoffence after a release from the removal centre (KM 2.1 note 1).
        let dover: BTreeSet<PersonId> = events
            .iter()
            .filter(|e| {
                matches!(e.kind, EventKind::Released(_)) && e.establishment.as_str() == "DVI"
            })
            .filter_map(|e| e.person)
            .collect();
        assert!(events.iter().all(|e| {
            !matches!(e.kind, EventKind::ReoffenceRecorded(_))
                || e.person.is_none_or(|p| !dover.contains(&p))
        }));
    }

    #[test]
    fn transfers_mid_episode_leave_open_care_at_the_receiving_prison() {
        use throughcare_domain::custody::CustodyStatus;
        use throughcare_domain::work_queues::current_episode;
        let s = kent_medway();
        let mut found = 0;
        for case in cases(s) {
            let CustodyStatus::InCustody { establishment, .. } = &case.custody else {
                continue;
            };
            let Some(episode) = current_episode(&case, &s.profile) else {
                continue;
            };
            let moved_in_episode = case.establishments_history.iter().skip(1).any(|(to, on)| {
                to == establishment && *on > episode.started_on && episode.exited_on.is_none()
            });
            if moved_in_episode {
                found += 1;
            }
        }
        assert!(found >= 2, "{found} people transferred with open care");
    }
}
