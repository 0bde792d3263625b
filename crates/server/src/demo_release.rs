//! The demo's release and throughcare: release plans for people due out in the next
//! twelve weeks, releases over the fourteen months before `now` and what followed
//! them (treatment exits and their exit profiles, community engagement and the
//! 21-day window, post-treatment support and re-engagement contacts, deaths,
//! reoffending, the 12-month follow-up), consents and disclosures for community
//! transfer and offender management, and transfers between prisons mid-episode.
//!
//! It runs after [`crate::demo_care`] and works in two ways:
//!
//! - **People already in the caseload.** Everyone in custody with an expected release
//!   date in the next twelve weeks is put in some state of release planning (no plan,
//!   a plan lacking a first appointment, a housing referral, naloxone or bridging
//!   medication, a plan not yet agreed, or a complete plan agreed with the person).
//!   Expected release dates that had passed while the person is still held are
//!   recalculated to dates in the coming weeks (one is left passed), and a recall
//!   gets a date of its own. People released earlier in the caseload get community
//!   engagement (or its absence) and, at the IRC, their deportation's follow-up closed.
//!   A few people on the re-engagement list get attempts to re-engage them, and a
//!   few completed courses a summary to the offender manager.
//! - **A throughcare cohort of new people**, each a fixed story (the `stories` table below):
//!   received up to nineteen months before `now`, assessed, in treatment, then
//!   released (planned or not), deported, transferred, or still held after dropping
//!   out or declining. Fixed stories make sure every state a release screen shows is
//!   there whatever the choices; the seeded generator picks only names, times and
//!   wording.
//!
//! Like the rest of the demo, every fact goes through [`Recorder::record`], actions are
//! recorded in time order, and the same `now` gives the same events. Nothing is dated
//! after yesterday except appointment times named inside a plan, so the data reads
//! the same at any hour of `now`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use throughcare_domain::assessment::{Assessment, AssessmentKind};
use throughcare_domain::calendar::Calendar;
use throughcare_domain::case::Case;
use throughcare_domain::clinical::{
    ClinicalEvent, ClinicalStep, DetoxScope, DetoxSubstance, Medication, NaloxoneRecipient,
};
use throughcare_domain::consent::{
    ConsentDecision, ConsentPurpose, ConsentRecord, ConsentState, ConsentWithdrawal,
};
use throughcare_domain::custody::{
    CustodyStatus, ExpectedRelease, Reception, ReceptionType, Release, ReleaseKind, Transfer,
};
use throughcare_domain::decide::Command;
use throughcare_domain::error::DomainError;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, Postcode, PrisonNumber, StaffUsername};
use throughcare_domain::interventions::{
    InterventionFamily, InterventionStatus, InterventionTarget, InterventionUpdate,
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
    CarePlan, CarePlanReview, ContingencyPlan, Induction, InductionItem, InductionTick,
    KeyworkerAllocation,
};
use throughcare_domain::referrals::{Referral, ReferralSource};
use throughcare_domain::release::{
    CommunityEngagement, Contact, ContactOutcome, ContactPurpose, Death, DeathCause,
    EngagementOutcome, ExitReason, FollowUpClosed, FollowUpOutcome, ReleaseMedication, ReleasePlan,
    Reoffence, TreatmentExit, follow_up_ends,
};
use throughcare_domain::screening::{InjectingStatus, Screening, ScreeningSetting, Substance};
use throughcare_domain::sharing::{Disclosure, Recipient, SharingBasis};
use throughcare_domain::throughcare::{
    RELEASE_HORIZON_WEEKS, at_risk_of_overdose, on_substitute_medication, re_engagement,
};
use throughcare_domain::time::local_date;
use throughcare_store::{FeedRecord, Store};

use crate::demo::{
    ABROAD, FAMILY, FAMILY_DETAINEES, GIVEN_DETAINEES, GIVEN_MEN, GIVEN_WOMEN, INWARD_LETTERS,
    ISLAND_OUTWARD, KENT_OUTWARD, NUMBER_LETTERS, SEED, SplitMix64, local,
};
use crate::demo_care::listed_people;
use crate::recording::{RecordError, Recorder, load_case};

/// What the release part of the demo added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseSummary {
    /// People it registered (the throughcare cohort).
    pub people: usize,
    /// Events it appended.
    pub events: usize,
}

/// Every reason a treatment exit has in the demo (the tests check each appears).
pub const EXIT_REASONS: [ExitReason; 8] = [
    ExitReason::ReleasedReferredOn,
    ExitReason::ReleasedNotReferred,
    ExitReason::CompletedDrugFree,
    ExitReason::CompletedAlcoholFree,
    ExitReason::DroppedOut,
    ExitReason::Declined,
    ExitReason::TransferredInCustody,
    ExitReason::Deported,
];

/// Plans and records the demo's release and throughcare as of `now`, after the
/// caseload and its recovery care are recorded in `store`. Identifiers come from
/// `ids`, which must be the demo's own sequence so the same `now` gives the same events.
pub fn seed(
    store: &dyn Store,
    profile: &Profile,
    calendar: &Calendar,
    now: DateTime<Utc>,
    ids: &mut dyn IdSource,
) -> Result<ReleaseSummary, RecordError> {
    let recorder = Recorder {
        store,
        profile,
        calendar,
    };
    let mut p = ReleasePlanner::new(profile, calendar, now)?;
    let existing = p.existing(store)?;
    p.plan_release_queue(&existing);
    p.plan_after_release(&existing);
    p.plan_contacts_and_summaries(&existing);
    let mut people = 0;
    for (i, story) in stories().iter().enumerate() {
        if p.plan_story(i, story, ids)? {
            people += 1;
        }
    }
    let events = p.record(&recorder, now, ids)?;
    Ok(ReleaseSummary { people, events })
}

/// The release generator's seed: the demo's own, mixed with "RELEASE".
const RELEASE_SEED: u64 = SEED ^ 0x0052_454C_4541_5345;

// ---------------------------------------------------------------------------
// Stories

/// What the person used before custody, which shapes screening, treatment and TOPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Heroin and crack: prescribing (or an opiate detox) and keywork.
    Opiate,
    /// Alcohol: an alcohol detox and keywork.
    Alcohol,
    /// Crack and cocaine: keywork.
    Stimulant,
    /// Heroin, crack and spice: prescribing and keywork.
    Poly,
}

impl Use {
    fn substances(self) -> Vec<Substance> {
        match self {
            Use::Opiate => vec![Substance::Heroin, Substance::Crack],
            Use::Alcohol => vec![Substance::Alcohol, Substance::Cocaine],
            Use::Stimulant => vec![Substance::Crack, Substance::Cocaine],
            Use::Poly => vec![
                Substance::Heroin,
                Substance::Crack,
                Substance::PsychoactiveSubstances,
            ],
        }
    }

    fn opiate(self) -> bool {
        matches!(self, Use::Opiate | Use::Poly)
    }

    fn target(self) -> InterventionTarget {
        match self {
            Use::Opiate => InterventionTarget::Opiates,
            Use::Alcohol => InterventionTarget::Alcohol,
            Use::Stimulant => InterventionTarget::CrackOnly,
            Use::Poly => InterventionTarget::PolySubstance,
        }
    }
}

/// How a person in the cohort leaves custody.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaving {
    /// Released on the expected date with a release plan agreed beforehand.
    Planned,
    /// Released early or unexpectedly (from court, or a curfew release brought
    /// forward): no release plan.
    Unplanned,
    /// Deported from the immigration removal centre.
    Deported,
}

/// The person's consent to transfer their care plan to a community provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommunityConsent {
    Given,
    Refused,
    /// Given, then withdrawn this many days after release.
    WithdrawnAfter(i64),
}

/// A contact: purpose, outcome, day, and when the next is due (days after the anchor:
/// the exit in custody if there is one, else the release).
type ContactPlan = (ContactPurpose, ContactOutcome, i64, Option<i64>);

/// One person's throughcare story. Days are counted back from today unless said.
#[derive(Debug, Clone)]
struct Story {
    /// Establishments to receive the person at, most preferred first ("IRC": the
    /// profile's immigration removal centre; the story is left out without one).
    home: &'static [&'static str],
    women: bool,
    usage: Use,
    reception: ReceptionType,
    /// Days before today the person was received.
    received: i64,
    /// Opiates treated by a detoxification instead of prescribing.
    opiate_detox: bool,
    /// A transfer: days before today, where to, and whether treatment ends with it.
    transfer: Option<(i64, &'static [&'static str], bool)>,
    /// Treatment ended in custody: why, days before today, whether the exit TOP was done.
    exit: Option<(ExitReason, i64, bool)>,
    /// Treatment started again, days before today.
    restart: Option<i64>,
    /// Leaving custody: how, and days before today.
    leave: Option<(Leaving, i64)>,
    /// The treatment exit at release, and whether the exit TOP was done.
    exit_at_release: Option<(ExitReason, bool)>,
    /// An earlier, partial version of the release plan.
    plan_versions: bool,
    /// Still in custody: the expected release, days from today.
    expected: Option<i64>,
    /// A release plan for someone still in custody: days before today, and complete.
    plan_ahead: Option<(i64, bool)>,
    consent: CommunityConsent,
    /// The release plan sent to the community provider before release.
    share_community: bool,
    /// A summary of the completed course to the offender manager.
    share_om: bool,
    /// Engaged or not with community treatment, days after release.
    engagement: Option<(EngagementOutcome, i64)>,
    contacts: &'static [ContactPlan],
    /// Died, days after release.
    death: Option<(i64, DeathCause)>,
    /// Offended again, days after release.
    reoffence: Option<i64>,
    /// How the 12-month follow-up was closed, if it was.
    close: Option<FollowUpOutcome>,
    /// Medication for leaving custody free of dependence.
    release_medication: Option<ReleaseMedication>,
}

impl Story {
    fn base(home: &'static [&'static str], usage: Use, received: i64) -> Story {
        Story {
            home,
            women: false,
            usage,
            reception: ReceptionType::Sentenced,
            received,
            opiate_detox: false,
            transfer: None,
            exit: None,
            restart: None,
            leave: None,
            exit_at_release: None,
            plan_versions: false,
            expected: None,
            plan_ahead: None,
            consent: CommunityConsent::Given,
            share_community: false,
            share_om: false,
            engagement: None,
            contacts: &[],
            death: None,
            reoffence: None,
            close: None,
            release_medication: None,
        }
    }

    /// Released on the date with a plan, `ago` days before today, after `stay` days.
    fn planned(home: &'static [&'static str], usage: Use, ago: i64, stay: i64) -> Story {
        Story {
            leave: Some((Leaving::Planned, ago)),
            exit_at_release: Some((ExitReason::ReleasedReferredOn, true)),
            ..Story::base(home, usage, ago + stay)
        }
    }

    /// Released early or unexpectedly without a plan, not referred on.
    fn unplanned(home: &'static [&'static str], usage: Use, ago: i64, stay: i64) -> Story {
        Story {
            leave: Some((Leaving::Unplanned, ago)),
            exit_at_release: Some((ExitReason::ReleasedNotReferred, false)),
            ..Story::base(home, usage, ago + stay)
        }
    }
}

use ContactOutcome::{Declined as CDeclined, NoResponse, ReEngaged, Reached};
use ContactPurpose::{PostTreatmentSupport as Support, ReEngagement as ReEngage};
use EngagementOutcome::{Engaged, NotEngaged};

/// The throughcare cohort: one story per person.
fn stories() -> Vec<Story> {
    vec![
        // Twelve months and more ago: follow-up windows that have ended.
        Story {
            share_community: true,
            engagement: Some((Engaged, 21)),
            contacts: &[
                (Support, Reached, 14, Some(42)),
                (Support, Reached, 42, None),
            ],
            close: Some(FollowUpOutcome::NotReoffended),
            ..Story::planned(&["EYI"], Use::Opiate, 410, 150)
        },
        Story {
            reception: ReceptionType::Remand,
            engagement: Some((NotEngaged, 25)),
            contacts: &[(ReEngage, NoResponse, 26, Some(40))],
            close: Some(FollowUpOutcome::LostToFollowUp),
            ..Story::unplanned(&["MDI"], Use::Stimulant, 395, 60)
        },
        Story {
            share_community: true,
            plan_versions: true,
            engagement: Some((Engaged, 30)),
            reoffence: Some(150),
            close: Some(FollowUpOutcome::Reoffended),
            ..Story::planned(&["SWI", "EYI"], Use::Poly, 430, 200)
        },
        Story {
            reception: ReceptionType::Recall,
            consent: CommunityConsent::WithdrawnAfter(40),
            engagement: Some((Engaged, 10)),
            ..Story::planned(&["CBI", "MDI"], Use::Alcohol, 385, 100)
        },
        Story {
            contacts: &[(ReEngage, NoResponse, 30, Some(45))],
            ..Story::planned(&["EYI"], Use::Opiate, 375, 120)
        },
        // Deaths within twelve months of release.
        Story {
            share_community: true,
            plan_versions: true,
            engagement: Some((Engaged, 3)),
            death: Some((95, DeathCause::DrugRelated)),
            close: Some(FollowUpOutcome::Died),
            ..Story::planned(&["MDI"], Use::Opiate, 220, 180)
        },
        Story {
            reception: ReceptionType::Remand,
            engagement: Some((NotEngaged, 23)),
            death: Some((70, DeathCause::NotRelated)),
            ..Story::unplanned(&["RCI", "EYI"], Use::Alcohol, 130, 45)
        },
        Story {
            consent: CommunityConsent::Refused,
            engagement: Some((Engaged, 18)),
            death: Some((200, DeathCause::AlcoholRelated)),
            close: Some(FollowUpOutcome::Died),
            ..Story::planned(&["SWI", "MDI"], Use::Alcohol, 300, 150)
        },
        // Reoffended within the window, not yet closed.
        Story {
            engagement: Some((Engaged, 21)),
            reoffence: Some(45),
            ..Story::planned(&["EYI"], Use::Stimulant, 100, 90)
        },
        // Released in the last few months: the 21-day window.
        Story {
            share_community: true,
            engagement: Some((Engaged, 1)),
            contacts: &[
                (Support, Reached, 7, Some(35)),
                (Support, Reached, 35, Some(67)),
            ],
            ..Story::planned(&["MDI"], Use::Opiate, 60, 130)
        },
        Story {
            engagement: Some((Engaged, 21)),
            ..Story::planned(&["CBI", "EYI"], Use::Poly, 45, 100)
        },
        Story {
            reception: ReceptionType::Recall,
            consent: CommunityConsent::Refused,
            engagement: Some((Engaged, 22)),
            ..Story::planned(&["EYI"], Use::Alcohol, 70, 60)
        },
        Story {
            exit_at_release: Some((ExitReason::ReleasedReferredOn, false)),
            engagement: Some((Engaged, 35)),
            ..Story::unplanned(&["SHI", "MDI"], Use::Stimulant, 150, 120)
        },
        Story {
            engagement: Some((NotEngaged, 28)),
            contacts: &[(ReEngage, Reached, 30, Some(55))],
            ..Story::planned(&["MDI"], Use::Opiate, 50, 140)
        },
        Story {
            share_community: true,
            ..Story::planned(&["EYI"], Use::Alcohol, 10, 100)
        },
        Story {
            contacts: &[(ReEngage, NoResponse, 25, Some(37))],
            ..Story::planned(&["RCI", "MDI"], Use::Opiate, 40, 110)
        },
        Story {
            reception: ReceptionType::Remand,
            engagement: Some((NotEngaged, 22)),
            contacts: &[
                (ReEngage, NoResponse, 24, Some(38)),
                (ReEngage, NoResponse, 38, Some(52)),
            ],
            ..Story::unplanned(&["EYI"], Use::Opiate, 55, 40)
        },
        Story {
            exit_at_release: Some((ExitReason::ReleasedReferredOn, false)),
            share_community: true,
            engagement: Some((Engaged, 4)),
            ..Story::unplanned(&["MDI"], Use::Stimulant, 16, 75)
        },
        // Completed treatment in custody, supported afterwards, released later.
        Story {
            opiate_detox: true,
            exit: Some((ExitReason::CompletedDrugFree, 200, true)),
            share_om: true,
            contacts: &[
                (Support, Reached, 30, Some(80)),
                (Support, Reached, 80, None),
            ],
            leave: Some((Leaving::Planned, 90)),
            exit_at_release: None,
            engagement: Some((Engaged, 7)),
            release_medication: Some(ReleaseMedication::Naltrexone),
            ..Story::base(&["SWI", "EYI"], Use::Opiate, 330)
        },
        Story {
            women: true,
            exit: Some((ExitReason::CompletedAlcoholFree, 120, false)),
            share_om: true,
            contacts: &[(Support, Reached, 20, None)],
            leave: Some((Leaving::Planned, 75)),
            exit_at_release: None,
            engagement: Some((Engaged, 12)),
            release_medication: Some(ReleaseMedication::Disulfiram),
            ..Story::base(&["ESI"], Use::Alcohol, 260)
        },
        // The immigration removal centre: reoffending is not an outcome there.
        Story {
            reception: ReceptionType::ImmigrationDetainee,
            leave: Some((Leaving::Deported, 250)),
            exit_at_release: Some((ExitReason::Deported, true)),
            close: Some(FollowUpOutcome::Deported),
            ..Story::base(&["IRC"], Use::Alcohol, 330)
        },
        Story {
            reception: ReceptionType::ImmigrationDetainee,
            share_community: true,
            engagement: Some((Engaged, 14)),
            close: Some(FollowUpOutcome::LostToFollowUp),
            ..Story::planned(&["IRC"], Use::Opiate, 400, 120)
        },
        // Still in custody: dropped out, declined, re-engaged.
        Story {
            exit: Some((ExitReason::DroppedOut, 60, true)),
            contacts: &[
                (ReEngage, NoResponse, 15, Some(30)),
                (ReEngage, CDeclined, 30, Some(50)),
            ],
            expected: Some(25),
            ..Story::base(&["EYI"], Use::Stimulant, 140)
        },
        Story {
            exit: Some((ExitReason::Declined, 40, false)),
            contacts: &[(ReEngage, Reached, 20, Some(46))],
            expected: Some(70),
            plan_ahead: Some((12, false)),
            ..Story::base(&["MDI"], Use::Alcohol, 110)
        },
        Story {
            reception: ReceptionType::Recall,
            exit: Some((ExitReason::DroppedOut, 88, true)),
            contacts: &[
                (ReEngage, NoResponse, 13, Some(28)),
                (ReEngage, ReEngaged, 28, None),
            ],
            restart: Some(58),
            expected: Some(200),
            ..Story::base(&["EYI", "MDI"], Use::Opiate, 170)
        },
        // Transferred between prisons mid-episode (recorded by the receiving prison).
        Story {
            transfer: Some((35, &["EYI", "MDI"], false)),
            expected: Some(40),
            plan_ahead: Some((10, true)),
            ..Story::base(&["SWI", "RCI"], Use::Opiate, 200)
        },
        Story {
            transfer: Some((20, &["MDI", "EYI"], false)),
            expected: Some(300),
            ..Story::base(&["EYI", "MDI"], Use::Alcohol, 120)
        },
        Story {
            transfer: Some((60, &["CBI", "EYI"], true)),
            restart: Some(50),
            expected: Some(150),
            ..Story::base(&["RCI", "SWI"], Use::Stimulant, 210)
        },
    ]
}

// ---------------------------------------------------------------------------
// Plan

/// What an action records once the identifiers it depends on are known.
enum Step {
    /// A fact complete at planning time.
    Fact(EventKind),
    /// An assessment answering a referral planned earlier.
    Assessment {
        referral: usize,
        assessment: Assessment,
    },
    /// A later step of a course planned earlier.
    Progress {
        course: usize,
        update: InterventionUpdate,
    },
    /// The follow-up of a release planned earlier, closed.
    Close {
        release: usize,
        closed_on: NaiveDate,
        outcome: FollowUpOutcome,
        note: Option<String>,
    },
    /// A disclosure about an event planned earlier.
    Share {
        about: usize,
        disclosure: Disclosure,
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

/// A person already in the store, as the store holds them now.
struct Existing {
    id: PersonId,
    case: Case,
}

impl Existing {
    fn received(&self) -> Option<(EstablishmentCode, NaiveDate, DateTime<Utc>)> {
        let CustodyStatus::InCustody {
            establishment,
            received_on,
            ..
        } = &self.case.custody
        else {
            return None;
        };
        let at = self
            .case
            .history
            .iter()
            .filter(|e| self.case.is_effective(e) && matches!(e.kind, EventKind::Received(_)))
            .map(|e| e.occurred_at)
            .max()?;
        Some((establishment.clone(), *received_on, at))
    }
}

/// One person of the cohort as planned so far.
struct Planned<'s> {
    story: &'s Story,
    person: PersonId,
    details: PersonDetails,
    home: EstablishmentCode,
    /// The keyworker where the person is received.
    worker: StaffUsername,
    /// Where the person is held from when: the reception, then any transfer.
    stays: Vec<(EstablishmentCode, DateTime<Utc>)>,
    received_on: NaiveDate,
    arrival: DateTime<Utc>,
    /// A transfer: when, where to, and whether treatment ends with it.
    transfer: Option<(NaiveDate, EstablishmentCode, bool)>,
    /// Treatment ended in custody: why, when, whether the exit TOP was done.
    exit: Option<(ExitReason, NaiveDate, bool)>,
    leave: Option<(Leaving, NaiveDate)>,
    expected: Option<NaiveDate>,
    prescribing: bool,
    /// When the first stretch of treatment ends (today if it goes on).
    ends: NaiveDate,
    /// The catalogue codes of the care plan.
    codes: Vec<String>,
    /// The slot of the first keywork course.
    course: usize,
    start_top: Option<TreatmentOutcomesProfile>,
}

impl Planned<'_> {
    /// Where the person is held at an instant.
    fn held_at(&self, at: DateTime<Utc>) -> EstablishmentCode {
        self.stays
            .iter()
            .rev()
            .find(|(_, from)| *from <= at)
            .unwrap_or(&self.stays[0])
            .0
            .clone()
    }

    /// The last establishment to hold the person.
    fn last(&self) -> EstablishmentCode {
        self.stays
            .last()
            .map_or_else(|| self.home.clone(), |s| s.0.clone())
    }
}

/// What a release plan is made of for one person.
struct PlanContext {
    provider: String,
    council: String,
    housing_need: bool,
    at_risk: bool,
    /// The substitute medication the person is on, if any (bridging is needed).
    prescribed: Option<Medication>,
    medication: Option<ReleaseMedication>,
}

/// Which parts of a release plan are left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Missing {
    first_appointment: bool,
    housing_referral: bool,
    naloxone: bool,
    bridging: bool,
    not_agreed: bool,
}

/// The states of release planning the queue cycles through for people assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlanState {
    NoPlan,
    Complete,
    /// An earlier partial version, then the complete plan.
    Versioned,
    NoFirstAppointment,
    HousingWithoutReferral,
    /// No naloxone or no bridging prescription, whichever applies.
    DrugSafety,
    NotAgreed,
}

const PLAN_CYCLE: [PlanState; 10] = [
    PlanState::Complete,
    PlanState::NoFirstAppointment,
    PlanState::NoPlan,
    PlanState::Complete,
    PlanState::HousingWithoutReferral,
    PlanState::Versioned,
    PlanState::DrugSafety,
    PlanState::Complete,
    PlanState::NotAgreed,
    PlanState::NoFirstAppointment,
];

struct ReleasePlanner<'a> {
    profile: &'a Profile,
    calendar: &'a Calendar,
    today: NaiveDate,
    yesterday: NaiveDate,
    rng: SplitMix64,
    worker: StaffUsername,
    clinician: StaffUsername,
    manager: StaffUsername,
    movements: StaffUsername,
    worker_sites: Vec<EstablishmentCode>,
    actions: Vec<Action>,
    slots: usize,
    feed_refs: u32,
    keywork_code: Option<String>,
    prescribing_code: Option<String>,
    detox_code: Option<String>,
}

fn staff(name: &str) -> Result<StaffUsername, RecordError> {
    StaffUsername::parse(name)
        .map_err(|e| RecordError::Domain(DomainError::invalid("recorded_by", e.to_string())))
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

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

impl<'a> ReleasePlanner<'a> {
    fn new(
        profile: &'a Profile,
        calendar: &'a Calendar,
        now: DateTime<Utc>,
    ) -> Result<Self, RecordError> {
        let today = local_date(now);
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
        let code = |pred: &dyn Fn(&throughcare_domain::interventions::InterventionDef) -> bool| {
            profile
                .interventions
                .iter()
                .find(|d| pred(d))
                .map(|d| d.code.clone())
        };
        Ok(ReleasePlanner {
            profile,
            calendar,
            today,
            yesterday: today - days(1),
            rng: SplitMix64(RELEASE_SEED),
            worker: staff("worker")?,
            clinician: staff("clinician")?,
            manager: staff("manager")?,
            movements: staff("feed.movements")?,
            worker_sites,
            actions: Vec::new(),
            slots: 0,
            feed_refs: 0,
            keywork_code: code(&|d| d.code == "keyworking"),
            prescribing_code: code(&|d| d.code == "substitute-prescribing"),
            detox_code: code(&|d| {
                d.family == InterventionFamily::Clinical
                    && d.code.contains("detox")
                    && d.structured_treatment
            }),
        })
    }

    fn slot(&mut self) -> usize {
        self.slots += 1;
        self.slots - 1
    }

    fn push(
        &mut self,
        person: PersonId,
        establishment: &EstablishmentCode,
        at: DateTime<Utc>,
        by: &StaffUsername,
        step: Step,
    ) -> &mut Action {
        let order = self.actions.len();
        self.actions.push(Action {
            at,
            order,
            person,
            establishment: establishment.clone(),
            by: by.clone(),
            step,
            save: None,
            feed: None,
        });
        let last = self.actions.len() - 1;
        &mut self.actions[last]
    }

    fn fact(
        &mut self,
        person: PersonId,
        establishment: &EstablishmentCode,
        at: DateTime<Utc>,
        by: &StaffUsername,
        kind: EventKind,
    ) -> &mut Action {
        self.push(person, establishment, at, by, Step::Fact(kind))
    }

    /// The demo worker at their own establishments; the clinician elsewhere.
    fn worker_at(&self, est: &EstablishmentCode) -> StaffUsername {
        if self.worker_sites.contains(est) {
            self.worker.clone()
        } else {
            self.clinician.clone()
        }
    }

    fn movement_feed(&mut self) -> (String, FeedRecord) {
        self.feed_refs += 1;
        let r = format!("DEMO-MOV-T{:04}", self.feed_refs);
        (
            r.clone(),
            FeedRecord {
                feed: "movements".into(),
                source_ref: r,
            },
        )
    }

    fn working_on_or_after(&self, mut d: NaiveDate) -> NaiveDate {
        for _ in 0..10 {
            if self.calendar.is_working_day(d) {
                break;
            }
            d += days(1);
        }
        d
    }

    fn working_on_or_before(&self, mut d: NaiveDate) -> NaiveDate {
        for _ in 0..10 {
            if self.calendar.is_working_day(d) {
                break;
            }
            d -= days(1);
        }
        d
    }

    /// The first of `preferred` this profile has ("IRC": its removal centre), else
    /// (for a prison) the profile's first prison.
    fn site(&self, preferred: &[&str]) -> Option<EstablishmentCode> {
        if preferred.contains(&"IRC") {
            return self
                .profile
                .establishments
                .iter()
                .find(|e| e.kind == EstablishmentKind::ImmigrationRemovalCentre)
                .map(|e| e.code.clone());
        }
        preferred
            .iter()
            .filter_map(|c| EstablishmentCode::parse(c).ok())
            .find(|c| self.profile.establishment(c).is_some())
            .or_else(|| {
                self.profile
                    .establishments
                    .iter()
                    .find(|e| e.kind == EstablishmentKind::Prison)
                    .map(|e| e.code.clone())
            })
    }

    /// The first of `preferred` this profile has other than `from`: the prisons of a
    /// transfer must be two.
    fn other_site(
        &self,
        preferred: &[&str],
        from: &EstablishmentCode,
    ) -> Option<EstablishmentCode> {
        preferred
            .iter()
            .filter_map(|c| EstablishmentCode::parse(c).ok())
            .find(|c| c != from && self.profile.establishment(c).is_some())
    }

    // -- People already in the caseload -------------------------------------------

    /// Everyone registered and not merged into another, with their case now.
    fn existing(&self, store: &dyn Store) -> Result<Vec<Existing>, RecordError> {
        let mut out = Vec::new();
        for id in listed_people(store)? {
            let (case, _) = load_case(store, id)?;
            out.push(Existing { id, case });
        }
        Ok(out)
    }

    /// The community provider and housing authority for a postcode area.
    fn local_services(postcode: Option<&Postcode>, single: bool) -> (&'static str, &'static str) {
        let area: String = postcode
            .map(|p| {
                p.to_string()
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect()
            })
            .unwrap_or_default();
        match area.as_str() {
            "ME" => ("Medway Community Recovery Service", "Medway Council"),
            "CT" => ("East Kent Recovery Partnership", "Canterbury City Council"),
            "DA" => (
                "North Kent Drug and Alcohol Service",
                "Dartford Borough Council",
            ),
            "TN" => ("West Kent Recovery Service", "Ashford Borough Council"),
            "PO" => ("Island Recovery Service", "Isle of Wight Council"),
            _ if single => ("Island Recovery Service", "Isle of Wight Council"),
            _ => ("Swale Community Recovery Service", "Swale Borough Council"),
        }
    }

    fn plan_context(&mut self, case: &Case, medication: Option<ReleaseMedication>) -> PlanContext {
        let single = self.profile.establishments.len() == 1;
        let postcode = case.details.as_ref().and_then(|d| d.home_postcode.clone());
        let (provider, council) = Self::local_services(postcode.as_ref(), single);
        let mut prescribed = None;
        if on_substitute_medication(case) {
            prescribed = Some(
                case.clinical
                    .iter()
                    .filter_map(|(_, c)| match c.step {
                        ClinicalStep::PrescribingStarted { medication } => Some((c.at, medication)),
                        _ => None,
                    })
                    .max_by_key(|(at, _)| *at)
                    .map_or(Medication::Methadone, |(_, m)| m),
            );
        }
        PlanContext {
            provider: provider.to_string(),
            council: council.to_string(),
            housing_need: postcode.is_none() || self.rng.chance(25),
            at_risk: at_risk_of_overdose(case),
            prescribed,
            medication,
        }
    }

    /// A release plan agreed on `agreed_on` for a release on `release_on`, lacking
    /// what `missing` says.
    fn release_plan(
        &mut self,
        c: &PlanContext,
        agreed_on: NaiveDate,
        release_on: NaiveDate,
        missing: Missing,
    ) -> ReleasePlan {
        let after = days(self.rng.range(1, 3));
        let first_day = self.working_on_or_after((release_on + after).max(agreed_on + days(1)));
        let first_appointment = (!missing.first_appointment)
            .then(|| local(first_day, *self.rng.pick(&[10, 11, 14]), 0));
        let housing_referral = (c.housing_need && !missing.housing_referral).then(|| {
            format!(
                "{} housing options: duty to refer made {}",
                c.council,
                long_date(agreed_on)
            )
        });
        let bridging_medication = match (c.prescribed, missing.bridging) {
            (Some(m), false) => Some(match m {
                Medication::Methadone => format!(
                    "Methadone {} mg daily: bridging prescription to the first community appointment",
                    self.rng.pick(&[40, 50, 60, 70])
                ),
                Medication::Buprenorphine => format!(
                    "Buprenorphine {} mg daily: bridging prescription to the first community appointment",
                    self.rng.pick(&[8, 12, 16])
                ),
            }),
            _ => None,
        };
        let mut aftercare = vec![format!("{}: keywork and recovery group", c.provider)];
        if self.rng.chance(40) {
            aftercare.push(
                self.rng
                    .pick(&[
                        "Probation: approved premises keyworker",
                        "Community mental health team",
                        "GP registration on release",
                        "Peer mentor to meet at the gate",
                    ])
                    .to_string(),
            );
        }
        ReleasePlan {
            agreed_on,
            community_provider: Some(c.provider.clone()),
            first_appointment,
            unexpected_release_contact: Some(format!("{} duty worker", c.provider)),
            housing_need: c.housing_need,
            housing_referral,
            mutual_aid: self.rng.chance(60).then(|| {
                self.rng
                    .pick(&[
                        "SMART Recovery meeting, Tuesday evenings",
                        "Narcotics Anonymous, weekly local meeting",
                        "Alcoholics Anonymous, Thursday lunchtime meeting",
                        "Recovery café on Saturdays, with the peer mentor",
                    ])
                    .to_string()
            }),
            naloxone_supplied: c.at_risk && !missing.naloxone,
            release_medication: c.medication.into_iter().collect(),
            bridging_medication,
            aftercare_referrals: aftercare,
            agreed_with_person: !missing.not_agreed,
        }
    }

    /// The release queue: expected dates passed while still held are recalculated
    /// (one left), a recall gets a date of its own, and everyone due out in the next
    /// twelve weeks is put in a state of release planning.
    fn plan_release_queue(&mut self, existing: &[Existing]) {
        let today = self.today;
        let movements = self.movements.clone();
        // (index, expected release as it will stand)
        let mut dated: Vec<(usize, NaiveDate)> = Vec::new();
        let mut passed: Vec<(usize, NaiveDate)> = Vec::new();
        let mut stale = 0;
        for (i, x) in existing.iter().enumerate() {
            let Some((est, received_on, received_at)) = x.received() else {
                continue;
            };
            if self
                .profile
                .establishment(&est)
                .is_none_or(|e| e.kind != EstablishmentKind::Prison)
            {
                continue;
            }
            let Some(expected) = x.case.expected_release else {
                continue;
            };
            if expected < received_on {
                // A date from an earlier stay: the recall brings a date of its own.
                let date = today + days([30, 120, 65][stale % 3]);
                stale += 1;
                self.fact(
                    x.id,
                    &est,
                    received_at + minutes(3),
                    &movements,
                    EventKind::ExpectedReleaseSet(ExpectedRelease { date: Some(date) }),
                );
                dated.push((i, date));
            } else if expected < today {
                passed.push((i, expected));
            } else {
                dated.push((i, expected));
            }
        }
        // Keep the most recent passed date if it is within a fortnight; recalculate
        // the rest (additional days, a new sentence) to dates in the coming weeks.
        passed.sort_by_key(|(i, d)| (std::cmp::Reverse(*d), existing[*i].id));
        let offsets = [2, 5, 9, 16, 24, 38, 55, 71];
        let mut moved = 0;
        for (k, (i, old)) in passed.into_iter().enumerate() {
            if k == 0 && today - old <= days(14) {
                dated.push((i, old));
                continue;
            }
            let x = &existing[i];
            let Some((est, received_on, _)) = x.received() else {
                continue;
            };
            let on = (old - days(1)).max(received_on).min(self.yesterday);
            let date = today + days(offsets[moved % offsets.len()]);
            moved += 1;
            self.fact(
                x.id,
                &est,
                local(on, 16, 0),
                &movements,
                EventKind::ExpectedReleaseSet(ExpectedRelease { date: Some(date) }),
            );
            dated.push((i, date));
        }
        let horizon = today + days(RELEASE_HORIZON_WEEKS * 7);
        let mut queue: Vec<(usize, NaiveDate)> =
            dated.into_iter().filter(|(_, d)| *d <= horizon).collect();
        queue.sort_by_key(|(i, d)| (*d, existing[*i].id));

        // Who can show a missing naloxone or bridging prescription.
        let assessed = |x: &Existing| {
            x.received().is_some_and(|(_, received_on, _)| {
                x.case
                    .assessments
                    .iter()
                    .any(|(_, a)| a.assessed_on >= received_on)
            })
        };
        let kit = |c: &Case| {
            c.naloxone
                .iter()
                .any(|(_, n)| n.kit_supplied && matches!(n.to, NaloxoneRecipient::Person))
        };
        let bridging_gap = queue
            .iter()
            .map(|(i, _)| *i)
            .find(|i| assessed(&existing[*i]) && on_substitute_medication(&existing[*i].case));
        let naloxone_gap = queue.iter().map(|(i, _)| *i).find(|i| {
            let c = &existing[*i].case;
            Some(*i) != bridging_gap
                && assessed(&existing[*i])
                && at_risk_of_overdose(c)
                && !kit(c)
                && !on_substitute_medication(c)
        });
        let mut k = 0;
        let mut planned = 0;
        let mut withdrawals = 0;
        for (i, expected) in queue {
            let x = &existing[i];
            if !assessed(x) {
                continue; // never seen by the service: no plan
            }
            let state = if Some(i) == bridging_gap || Some(i) == naloxone_gap {
                PlanState::DrugSafety
            } else {
                let s = PLAN_CYCLE[k % PLAN_CYCLE.len()];
                k += 1;
                s
            };
            if state == PlanState::NoPlan {
                continue;
            }
            if self.plan_for_existing(x, expected, state, planned, withdrawals < 2) {
                withdrawals += 1;
            }
            planned += 1;
        }
    }

    /// Plans one person's release plan in `state` (the `nth` planned), and returns
    /// whether they then withdrew consent to community transfer (only if `may_withdraw`).
    fn plan_for_existing(
        &mut self,
        x: &Existing,
        expected: NaiveDate,
        state: PlanState,
        nth: usize,
        may_withdraw: bool,
    ) -> bool {
        let Some((est, received_on, _)) = x.received() else {
            return false;
        };
        let case = &x.case;
        let consent = case.consents.state(ConsentPurpose::CommunityTransfer);
        let consent_on = match consent {
            Some(ConsentState::Given { on })
            | Some(ConsentState::Refused { on })
            | Some(ConsentState::Withdrawn { on }) => on,
            None => received_on,
        };
        let last_assessed = case
            .assessments
            .iter()
            .map(|(_, a)| a.assessed_on)
            .max()
            .unwrap_or(received_on);
        let lo = received_on.max(last_assessed).max(consent_on) + days(1);
        // Planning starts within twelve weeks of release: agreed in the last three
        // weeks, but not before that.
        let want = self.yesterday - days(self.rng.range(0, 21));
        let agreed_on = want
            .max(expected - days(RELEASE_HORIZON_WEEKS * 7))
            .max(lo)
            .min(self.yesterday);
        if agreed_on < lo {
            return false;
        }
        let mut ctx = self.plan_context(case, None);
        let by = self.worker_at(&est);
        let mut missing = Missing::default();
        match state {
            PlanState::NoFirstAppointment => missing.first_appointment = true,
            PlanState::HousingWithoutReferral => missing.housing_referral = true,
            PlanState::NotAgreed => missing.not_agreed = true,
            PlanState::DrugSafety => {
                missing.bridging = ctx.prescribed.is_some();
                missing.naloxone = ctx.prescribed.is_none() && ctx.at_risk;
                if !missing.bridging && !missing.naloxone {
                    missing.first_appointment = true;
                }
            }
            _ => {}
        }
        if state == PlanState::HousingWithoutReferral {
            ctx.housing_need = true;
        }
        // Care plan transfer: most agree (again) at release planning; a few refuse.
        let refuses = nth % 7 == 3;
        let live = matches!(consent, Some(ConsentState::Given { .. }));
        let at = local(agreed_on, 14, self.rng.range(0, 40));
        if refuses {
            if !matches!(consent, Some(ConsentState::Refused { .. })) {
                self.fact(
                    x.id,
                    &est,
                    at - minutes(5),
                    &by,
                    EventKind::ConsentRecorded(ConsentRecord {
                        purpose: ConsentPurpose::CommunityTransfer,
                        decision: ConsentDecision::Refused,
                        decided_on: agreed_on,
                    }),
                );
            }
        } else if !live {
            self.fact(
                x.id,
                &est,
                at - minutes(5),
                &by,
                EventKind::ConsentRecorded(ConsentRecord {
                    purpose: ConsentPurpose::CommunityTransfer,
                    decision: ConsentDecision::Given,
                    decided_on: agreed_on,
                }),
            );
        }
        if state == PlanState::Versioned {
            let first = agreed_on - days(self.rng.range(10, 20));
            if first >= lo {
                let draft = self.release_plan(
                    &ctx,
                    first,
                    expected,
                    Missing {
                        first_appointment: true,
                        housing_referral: true,
                        ..Missing::default()
                    },
                );
                self.fact(
                    x.id,
                    &est,
                    local(first, 14, 50),
                    &by,
                    EventKind::ReleasePlanAgreed(draft),
                );
            }
        }
        let plan = self.release_plan(&ctx, agreed_on, expected, missing);
        self.fact(x.id, &est, at, &by, EventKind::ReleasePlanAgreed(plan));
        // A few change their mind about the community provider hearing from us.
        let room = (self.yesterday - agreed_on).num_days();
        if !refuses && may_withdraw && nth >= 4 && room >= 2 {
            let on = agreed_on + days(self.rng.range(2, room.min(8)));
            self.fact(
                x.id,
                &est,
                local(on, 15, 20),
                &by,
                EventKind::ConsentWithdrawn(ConsentWithdrawal {
                    purpose: ConsentPurpose::CommunityTransfer,
                    withdrawn_on: on,
                }),
            );
            return true;
        }
        false
    }

    /// People the caseload released earlier: community engagement (or not) after
    /// release, a reoffence, and the follow-up of deportations from the IRC.
    fn plan_after_release(&mut self, existing: &[Existing]) {
        let mut released: Vec<(&Existing, EventId, NaiveDate, EstablishmentCode)> = Vec::new();
        let mut deported: Vec<(&Existing, EventId, NaiveDate, EstablishmentCode)> = Vec::new();
        for x in existing {
            let CustodyStatus::Left {
                establishment,
                kind,
                on,
            } = &x.case.custody
            else {
                continue;
            };
            let Some(release) = x.case.releases.last() else {
                continue;
            };
            let prison = self
                .profile
                .establishment(establishment)
                .is_some_and(|e| e.kind == EstablishmentKind::Prison);
            match kind {
                ReleaseKind::Deported => deported.push((x, release.id, *on, establishment.clone())),
                ReleaseKind::Released if prison => {
                    released.push((x, release.id, *on, establishment.clone()))
                }
                ReleaseKind::Released => {}
            }
        }
        // Every deportation's follow-up is closed within days, but the latest.
        deported.sort_by_key(|(x, _, on, _)| (*on, x.id));
        let keep_open = deported.len().saturating_sub(1);
        for (x, release, on, est) in deported.into_iter().take(keep_open) {
            let closed_on = (on + days(self.rng.range(1, 5))).min(self.yesterday);
            if closed_on < on {
                continue;
            }
            let by = self.worker_at(&est);
            self.fact(
                x.id,
                &est,
                local(closed_on, 12, 0),
                &by,
                EventKind::FollowUpClosed(FollowUpClosed {
                    release,
                    closed_on,
                    outcome: FollowUpOutcome::Deported,
                    note: Some("Removed from the United Kingdom: no follow-up possible".into()),
                }),
            );
        }
        // Released from prison with no plan: some engaged in time, some late, some
        // not, some with nothing known yet; one reoffended.
        released.sort_by_key(|(x, _, on, _)| (*on, x.id));
        for (k, (x, _, on, est)) in released.into_iter().enumerate() {
            let by = self.worker_at(&est);
            let single = self.profile.establishments.len() == 1;
            let postcode = x
                .case
                .details
                .as_ref()
                .and_then(|d| d.home_postcode.as_ref());
            let (provider, _) = Self::local_services(postcode, single);
            let (outcome, day) = match k % 5 {
                0 => (Some(Engaged), self.rng.range(1, 20)),
                1 => (Some(NotEngaged), self.rng.range(22, 28)),
                2 => (None, 0),
                3 => (Some(Engaged), self.rng.range(23, 40)),
                _ => (Some(Engaged), self.rng.range(2, 14)),
            };
            let Some(outcome) = outcome else { continue };
            let engaged_on = on + days(day);
            if engaged_on > self.yesterday {
                continue;
            }
            self.fact(
                x.id,
                &est,
                local(engaged_on, 12, 30),
                &by,
                EventKind::CommunityEngagementRecorded(CommunityEngagement {
                    outcome,
                    on: engaged_on,
                    provider: (outcome == Engaged).then(|| provider.to_string()),
                    note: (outcome == NotEngaged).then(|| {
                        "Released without a plan; did not present to the community service"
                            .to_string()
                    }),
                }),
            );
            if k % 5 == 4 {
                let offended_on = engaged_on + days(self.rng.range(10, 30));
                if offended_on <= self.yesterday {
                    self.fact(
                        x.id,
                        &est,
                        local(offended_on.max(engaged_on), 16, 0),
                        &by,
                        EventKind::ReoffenceRecorded(Reoffence {
                            offended_on,
                            source: Some("Offender manager".into()),
                        }),
                    );
                }
            }
        }
    }

    /// Attempts to re-engage a few people in custody who declined or dropped out,
    /// and summaries of a few completed courses to the offender manager.
    fn plan_contacts_and_summaries(&mut self, existing: &[Existing]) {
        let mut listed: Vec<(&Existing, NaiveDate, EstablishmentCode)> = existing
            .iter()
            .filter_map(|x| {
                let (est, _, _) = x.received()?;
                let r = re_engagement(&x.case, self.today)?;
                (r.attempts == 0 && r.since <= self.today - days(10)).then_some((x, r.since, est))
            })
            .collect();
        listed.sort_by_key(|(x, since, _)| (*since, x.id));
        // (outcome, next due from today)
        let plans = [
            (ContactOutcome::Reached, Some(4)),
            (ContactOutcome::NoResponse, Some(-2)),
            (ContactOutcome::ReEngaged, None),
            (ContactOutcome::Declined, Some(10)),
        ];
        let step = (listed.len() / plans.len()).max(1);
        for (k, (outcome, next)) in plans.into_iter().enumerate() {
            let Some((x, since, est)) = listed.get(k * step) else {
                break;
            };
            let on = (*since + days(self.rng.range(3, 8))).min(self.yesterday - days(3));
            let next_due = next.map(|n| (self.today + days(n)).max(on));
            let by = self.worker_at(est);
            let method = self.contact_method(ContactPurpose::ReEngagement, false);
            self.fact(
                x.id,
                est,
                local(on, 11, 30),
                &by,
                EventKind::ContactRecorded(Contact {
                    on,
                    purpose: ContactPurpose::ReEngagement,
                    outcome,
                    method: Some(method),
                    next_due,
                    note: Some(
                        match outcome {
                            ContactOutcome::Reached => {
                                "Talked it through; wants to think about coming back"
                            }
                            ContactOutcome::NoResponse => {
                                "Not in cell; left a note to get in touch"
                            }
                            ContactOutcome::ReEngaged => {
                                "Agreed to come back to keywork; booked in"
                            }
                            ContactOutcome::Declined => {
                                "Says not now; try again after their court date"
                            }
                        }
                        .into(),
                    ),
                }),
            );
        }
        // S4 §3–4: a summary to the offender manager when a course is completed.
        let mut shared = 0;
        for x in existing {
            if shared >= 3 {
                break;
            }
            let Some((est, _, _)) = x.received() else {
                continue;
            };
            let Some(e) = x.case.history.iter().find(|e| {
                x.case.is_effective(e)
                    && matches!(&e.kind, EventKind::InterventionUpdated(u) if u.status == InterventionStatus::Completed)
            }) else {
                continue;
            };
            let EventKind::InterventionUpdated(u) = &e.kind else {
                continue;
            };
            let on = (u.on + days(self.rng.range(1, 3))).min(self.yesterday);
            if !x
                .case
                .consents
                .is_live(ConsentPurpose::OffenderManagementSummaries, on)
            {
                continue;
            }
            let by = self.worker_at(&est);
            let name = self
                .profile
                .intervention(&u.intervention)
                .map_or(u.intervention.clone(), |d| d.name.clone());
            self.fact(
                x.id,
                &est,
                local(on, 16, 10),
                &by,
                EventKind::InformationShared(Disclosure {
                    recipient: Recipient::OffenderManagement,
                    basis: SharingBasis::Consent {
                        purpose: ConsentPurpose::OffenderManagementSummaries,
                    },
                    shared_on: on,
                    about: Some(e.id),
                    summary: format!(
                        "Course completed: {name}; progress summary for the sentence plan"
                    ),
                }),
            );
            shared += 1;
        }
    }

    // -- The cohort ------------------------------------------------------------------

    fn details(&mut self, i: usize, story: &Story) -> Result<PersonDetails, RecordError> {
        let detainee = story.reception == ReceptionType::ImmigrationDetainee;
        let single = self.profile.establishments.len() == 1;
        let r = &mut self.rng;
        // Numbers far along the demo's own sequence (7919 is prime to 9000), beyond
        // the caseload's and the long-sentence cohort's.
        let n = 6000 + i as u64;
        let digits = 1000 + (n * 7919) % 9000;
        let a = *r.pick(NUMBER_LETTERS) as char;
        let b = *r.pick(NUMBER_LETTERS) as char;
        let prison_number = PrisonNumber::parse(&format!("Z{digits}{a}{b}"))
            .map_err(|e| invalid("prison_number", e))?;
        let (given, family) = if detainee {
            (*r.pick(&GIVEN_DETAINEES), *r.pick(&FAMILY_DETAINEES))
        } else if story.women {
            (*r.pick(&GIVEN_WOMEN), *r.pick(&FAMILY))
        } else {
            (*r.pick(&GIVEN_MEN), *r.pick(&FAMILY))
        };
        let age = r.range(22, 58);
        let date_of_birth = self.today - days(age * 365 + age / 4 + r.range(1, 360));
        // About one in six has no fixed address.
        let home_postcode = if detainee || r.chance(16) {
            None
        } else {
            let outward = if single {
                *r.pick(&ISLAND_OUTWARD)
            } else {
                *r.pick(&KENT_OUTWARD)
            };
            let code = format!(
                "{outward} {}{}{}",
                r.range(1, 9),
                *r.pick(INWARD_LETTERS) as char,
                *r.pick(INWARD_LETTERS) as char
            );
            Some(Postcode::parse(&code).map_err(|e| invalid("home_postcode", e))?)
        };
        let (nationality, language, interpreter) = if detainee {
            let (n, l) = *r.pick(&ABROAD);
            let interpreter = if l == "English" {
                Answer::No
            } else {
                Answer::Yes
            };
            (n, l, interpreter)
        } else {
            ("British", "English", Answer::No)
        };
        Ok(PersonDetails {
            prison_number,
            given_name: given.to_string(),
            family_name: family.to_string(),
            date_of_birth,
            home_postcode,
            equality: EqualityMonitoring {
                sex: if story.women { Sex::Female } else { Sex::Male },
                gender_identity_same_as_birth: Answer::Yes,
                ethnicity: if detainee {
                    r.weighted(&[
                        (Ethnicity::WhiteOther, 40),
                        (Ethnicity::Black, 30),
                        (Ethnicity::Asian, 30),
                    ])
                } else {
                    r.weighted(&[
                        (Ethnicity::WhiteBritish, 70),
                        (Ethnicity::Mixed, 8),
                        (Ethnicity::Black, 10),
                        (Ethnicity::WhiteOther, 8),
                        (Ethnicity::NotStated, 4),
                    ])
                },
                religion: r.weighted(&[
                    (Religion::NoReligion, 45),
                    (Religion::Christian, 30),
                    (Religion::Muslim, 15),
                    (Religion::NotStated, 10),
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
                nationality: Some(nationality.into()),
                first_language: Some(language.into()),
                interpreter_needed: interpreter,
            },
            priority: RecordedPriorityFlags {
                prolific_offender: !detainee && r.chance(30),
                dual_diagnosis: r.chance(15),
            },
        })
    }

    /// A Treatment Outcomes Profile: at the start, use in the 28 days before
    /// custody; later, use in custody (mostly less) and ratings that mostly improve.
    fn top(
        &mut self,
        usage: Use,
        on: NaiveDate,
        stage: TopStage,
        start: Option<&TreatmentOutcomesProfile>,
    ) -> TreatmentOutcomesProfile {
        let r = &mut self.rng;
        let improving = r.chance(80);
        let mut uses = Vec::new();
        let mut other = None;
        for (k, s) in usage.substances().into_iter().enumerate() {
            let (t, amount) = match s {
                Substance::Heroin => (TopSubstance::Opiates, "£20"),
                Substance::Crack => (TopSubstance::Crack, "£40"),
                Substance::Cocaine => (TopSubstance::Cocaine, "1 g"),
                Substance::Alcohol => (TopSubstance::Alcohol, "16 units"),
                _ => {
                    other = Some("Synthetic cannabinoids (spice)".to_string());
                    (TopSubstance::Other, "")
                }
            };
            let days_used = match start.and_then(|st| st.days_used(t)) {
                None if k == 0 => r.range(18, 28),
                None => r.range(4, 16),
                Some(before) if improving => r.range(0, (i64::from(before) / 5).max(1)),
                Some(before) => r.range((i64::from(before) / 3).max(1), i64::from(before)),
            } as u8;
            uses.push(SubstanceUse {
                substance: t,
                days: days_used,
                typical_amount: (k == 0 && !amount.is_empty() && days_used > 0)
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
        let community = start.is_none();
        let crime = |r: &mut SplitMix64, hi: i64| if community { r.range(0, hi) as u8 } else { 0 };
        TreatmentOutcomesProfile {
            completed_on: on,
            stage,
            substance_use: uses,
            other_substance: other,
            injecting_days: 0,
            shared_needles: false,
            shared_other_equipment: false,
            shoplifting_days: crime(r, 12),
            drug_selling_days: crime(r, 6),
            other_theft_days: crime(r, 3),
            assault_days: crime(r, 1),
            psychological_health: rate(r, start.map(|x| x.psychological_health), 3, 10),
            physical_health: rate(r, start.map(|x| x.physical_health), 5, 12),
            quality_of_life: rate(r, start.map(|x| x.quality_of_life), 3, 9),
            paid_work_days: if community {
                r.weighted(&[(0u8, 80), (10, 20)])
            } else {
                r.range(0, 20) as u8
            },
            education_days: if community { 0 } else { r.range(0, 8) as u8 },
            acute_housing_problem: community && r.chance(30),
            risk_of_eviction: community && r.chance(10),
        }
    }

    fn contingency(&mut self, usage: Use) -> ContingencyPlan {
        ContingencyPlan {
            safety: "Talks to the keyworker or wing staff when feeling unsafe; knows how to use the cell bell and the Samaritans phone.".into(),
            risk: "Risk of relapse after bad news from home or debt on the wing; the keyworker is told of any crisis.".into(),
            overdose_prevention: if usage.opiate() {
                "Lower tolerance after time off opiates explained; naloxone training and a kit before release.".into()
            } else {
                "Risks of mixing substances explained; knows the signs of overdose and to call 999.".into()
            },
            harm_reduction: self
                .rng
                .pick(&[
                    "Hepatitis B vaccination and hepatitis C testing offered; safer use advice given.",
                    "Advice on never sharing equipment and on safer routes of use.",
                    "Advice on drinking less and safer, and on the risk of withdrawal fits.",
                ])
                .to_string(),
            unplanned_exit_support: "If released unexpectedly: the community service is told the same day by the single point of contact.".into(),
            re_engagement: "Can self-refer again at any time by application or the in-cell phone; no waiting list for someone returning.".into(),
        }
    }

    /// Plans one story; false when the profile cannot hold it (no IRC, one prison).
    fn plan_story(
        &mut self,
        i: usize,
        story: &Story,
        ids: &mut dyn IdSource,
    ) -> Result<bool, RecordError> {
        let today = self.today;
        let Some(home) = self.site(story.home) else {
            return Ok(false);
        };
        let transfer = match story.transfer {
            Some((ago, to, ends)) => match self.other_site(to, &home) {
                Some(to) => Some((today - days(ago), to, ends)),
                None => return Ok(false),
            },
            None => None,
        };
        let details = self.details(i, story)?;
        let person = PersonId(ids.next_uuid());
        let received_on = today - days(story.received);
        let arrival = local(received_on, self.rng.range(10, 14), self.rng.range(0, 59));
        let mut stays = vec![(home.clone(), arrival)];
        if let Some((on, to, _)) = &transfer {
            stays.push((to.clone(), local(*on, 8, 30)));
        }
        let leave = story.leave.map(|(how, ago)| (how, today - days(ago)));
        let exit = story
            .exit
            .map(|(reason, ago, top)| (reason, today - days(ago), top));
        let expected = match (story.reception, leave) {
            (ReceptionType::ImmigrationDetainee | ReceptionType::Remand, _) => None,
            (_, Some((Leaving::Planned, on))) => Some(on),
            (_, Some((_, on))) => Some(on + days(self.rng.range(30, 70))),
            (_, None) => story.expected.map(|d| today + days(d)),
        };
        // This stretch of treatment ends at an exit in custody, a transfer that ends
        // it, or leaving custody; otherwise it goes on.
        let tic = transfer.as_ref().filter(|t| t.2).map(|t| t.0);
        let ends = [exit.map(|e| e.1), tic, leave.map(|l| l.1)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(today);
        let mut p = Planned {
            story,
            person,
            worker: self.worker_at(&home),
            details,
            home,
            stays,
            received_on,
            arrival,
            transfer,
            exit,
            leave,
            expected,
            prescribing: story.usage.opiate() && !story.opiate_detox,
            ends,
            codes: Vec::new(),
            course: 0,
            start_top: None,
        };
        let assessed_on = self.plan_intake(&p);
        self.plan_treatment(&mut p, assessed_on);
        self.plan_transfer(&p);
        self.plan_exit(&p);
        if let Some(ago) = story.restart {
            self.plan_restart(&p, today - days(ago));
        }
        if let (Some((ago, complete)), Some(expected)) = (story.plan_ahead, p.expected) {
            let agreed_on = today - days(ago);
            let est = p.held_at(local(agreed_on, 14, 0));
            let by = self.worker_at(&est);
            let on_script = p.prescribing && p.exit.is_none();
            let ctx = self.planned_context(&p.details, story.usage, on_script, None);
            let missing = Missing {
                first_appointment: !complete,
                ..Missing::default()
            };
            let plan = self.release_plan(&ctx, agreed_on, expected, missing);
            self.fact(
                person,
                &est,
                local(agreed_on, 14, 0),
                &by,
                EventKind::ReleasePlanAgreed(plan),
            );
        }
        match p.leave {
            Some((how, left_on)) => self.plan_leaving(&p, how, left_on),
            None => self.plan_contacts(&p),
        }
        Ok(true)
    }

    /// Registration, reception, the expected release date, a transfer, screening,
    /// the referral, the initial assessment and consents; returns the assessment date.
    fn plan_intake(&mut self, p: &Planned<'_>) -> NaiveDate {
        let (story, person, home, worker) = (p.story, p.person, &p.home, &p.worker);
        let usage = story.usage;
        let detainee = story.reception == ReceptionType::ImmigrationDetainee;
        let movements = self.movements.clone();
        self.fact(
            person,
            home,
            p.arrival,
            worker,
            EventKind::PersonRegistered(p.details.clone()),
        );
        let (source_ref, feed) = self.movement_feed();
        self.fact(
            person,
            home,
            p.arrival + minutes(1),
            &movements,
            EventKind::Received(Reception {
                reception_type: story.reception,
                source_ref: Some(source_ref),
            }),
        )
        .feed = Some(feed);
        if let Some(date) = p.expected {
            self.fact(
                person,
                home,
                p.arrival + minutes(2),
                &movements,
                EventKind::ExpectedReleaseSet(ExpectedRelease { date: Some(date) }),
            );
        }
        if let Some((on, to, _)) = &p.transfer {
            // Recorded by the receiving prison.
            let (source_ref, feed) = self.movement_feed();
            self.fact(
                person,
                to,
                local(*on, 8, 30),
                &movements,
                EventKind::Transferred(Transfer {
                    from: home.clone(),
                    to: to.clone(),
                    source_ref: Some(source_ref),
                    break_glass: None,
                }),
            )
            .feed = Some(feed);
        }
        self.fact(
            person,
            home,
            p.arrival + minutes(40),
            worker,
            EventKind::ScreeningCompleted(Screening {
                setting: ScreeningSetting::Reception,
                screened_on: p.received_on,
                audit: None,
                audit_c: None,
                problem_substances: usage.substances(),
                injecting: if usage.opiate() {
                    InjectingStatus::Previous
                } else {
                    InjectingStatus::Never
                },
                offending_linked: !detainee,
                structured_treatment_needed: true,
            }),
        );
        let referral = self.slot();
        self.fact(
            person,
            home,
            p.arrival + minutes(55),
            worker,
            EventKind::ReferralMade(Referral {
                source: ReferralSource::ReceptionScreening,
                referred_on: p.received_on,
                note: Some("Reception screening found problem substance use".into()),
            }),
        )
        .save = Some(referral);
        let assessed_on = self.calendar.add_working_days(p.received_on, 1);
        let first = local(assessed_on, 14, 0);
        self.push(
            person,
            home,
            first,
            worker,
            Step::Assessment {
                referral,
                assessment: Assessment {
                    kind: AssessmentKind::Initial,
                    assessed_on,
                    referral: None,
                    summary: format!(
                        "Initial assessment. Primary substance: {}. Needs structured treatment: keywork{}.",
                        usage.substances()[0].label().to_lowercase(),
                        match (usage, story.opiate_detox) {
                            (Use::Alcohol, _) | (_, true) => " and a detoxification",
                            (Use::Opiate | Use::Poly, false) => " and substitute prescribing",
                            _ => "",
                        }
                    ),
                    structured_treatment_needed: true,
                    comprehensive: None,
                },
            },
        );
        let ct = match story.consent {
            CommunityConsent::Refused => ConsentDecision::Refused,
            _ => ConsentDecision::Given,
        };
        let mut consents = vec![(ConsentPurpose::CommunityTransfer, ct)];
        if !detainee {
            consents.push((
                ConsentPurpose::OffenderManagementSummaries,
                ConsentDecision::Given,
            ));
        }
        for (k, (purpose, decision)) in consents.into_iter().enumerate() {
            self.fact(
                person,
                home,
                first + minutes(10 + k as i64),
                worker,
                EventKind::ConsentRecorded(ConsentRecord {
                    purpose,
                    decision,
                    decided_on: assessed_on,
                }),
            );
        }
        assessed_on
    }

    /// The care plan, keywork, prescribing or a detoxification, TOPs, sessions and
    /// care plan reviews, from the working day after the assessment.
    fn plan_treatment(&mut self, p: &mut Planned<'_>, assessed_on: NaiveDate) {
        let (story, person, home, worker) = (p.story, p.person, p.home.clone(), p.worker.clone());
        let usage = story.usage;
        let manager = self.manager.clone();
        let plan_on = self.working_on_or_after(assessed_on + days(1));
        let detox = match usage {
            Use::Alcohol => Some(DetoxSubstance::Alcohol),
            Use::Opiate | Use::Poly if story.opiate_detox => Some(DetoxSubstance::Opiates),
            _ => None,
        };
        p.codes = self.keywork_code.iter().cloned().collect();
        if p.prescribing {
            p.codes.extend(self.prescribing_code.iter().cloned());
        }
        if detox.is_some() {
            p.codes.extend(self.detox_code.iter().cloned());
        }
        let contingency = self.contingency(usage);
        let goal = self.goal(usage);
        let review_weeks = self.review_weeks();
        self.fact(
            person,
            &home,
            local(plan_on, 10, 30),
            &worker,
            EventKind::CarePlanAgreed(CarePlan {
                agreed_on: plan_on,
                goals: vec![
                    goal.to_string(),
                    "I want somewhere safe to live when I'm released".to_string(),
                ],
                interventions: p.codes.clone(),
                contingency,
                agreed_with_person: true,
                review_on: plan_on + review_weeks,
            }),
        );
        let in_custody_now = p.leave.is_none();
        if in_custody_now {
            self.fact(
                person,
                &home,
                local(plan_on, 9, 15),
                &manager,
                EventKind::KeyworkerAllocated(KeyworkerAllocation {
                    worker: worker.clone(),
                    allocated_on: plan_on,
                }),
            );
            self.fact(
                person,
                &home,
                local(plan_on, 10, 45),
                &worker,
                EventKind::InductionRecorded(Induction {
                    items: InductionItem::ALL
                        .iter()
                        .map(|item| InductionTick {
                            item: *item,
                            on: plan_on,
                        })
                        .collect(),
                }),
            );
        }
        p.course = self.keywork_start(person, &home, plan_on, usage, &worker);
        if p.prescribing {
            let medication = if self.rng.chance(60) {
                Medication::Methadone
            } else {
                Medication::Buprenorphine
            };
            for (h, step) in [
                (9, ClinicalStep::ClinicalAssessment),
                (11, ClinicalStep::PrescribingStarted { medication }),
            ] {
                let at = local(plan_on, h, self.rng.range(0, 40));
                self.clinical(person, &home, at, step, None);
            }
        }
        if let Some(substance) = detox {
            let scope = if usage.substances().len() > 2 {
                DetoxScope::PolySubstance
            } else {
                DetoxScope::SingleSubstance
            };
            let at = local(plan_on, 11, self.rng.range(0, 40));
            self.clinical(
                person,
                &home,
                at,
                ClinicalStep::DetoxStarted { substance, scope },
                None,
            );
            let length = match substance {
                DetoxSubstance::Alcohol => self.rng.range(7, 10),
                DetoxSubstance::Opiates => self.rng.range(14, 21),
            };
            let done = plan_on + days(length);
            if done < p.ends {
                let at = local(done, 15, self.rng.range(0, 40));
                let step = ClinicalStep::DetoxCompleted { substance, scope };
                self.clinical(person, &p.held_at(at), at, step, None);
            }
        }
        let start_top = self.top(usage, plan_on + days(1), TopStage::Start, None);
        self.fact(
            person,
            &home,
            local(plan_on + days(1), 13, 0),
            &worker,
            EventKind::TopCompleted(start_top.clone()),
        );
        // A review three months in, if treatment goes on that long.
        let review_on = self.working_on_or_before(plan_on + days(91));
        if review_on + days(7) < p.ends {
            let review = self.top(usage, review_on, TopStage::Review, Some(&start_top));
            let at = local(review_on, 13, 0);
            let est = p.held_at(at);
            let by = self.worker_at(&est);
            self.fact(person, &est, at, &by, EventKind::TopCompleted(review));
        }
        p.start_top = Some(start_top);
        // Keywork sessions, and care plan reviews for people still in treatment.
        for offset in [12, 33, 60] {
            let d = self.working_on_or_before(plan_on + days(offset));
            if d > plan_on && d < p.ends && d <= self.yesterday {
                self.session(person, &p.held_at(local(d, 10, 0)), d);
            }
        }
        if in_custody_now && p.exit.is_none() {
            let mut due = plan_on + review_weeks;
            while due <= self.yesterday && due < p.ends {
                let early = days(self.rng.range(0, 6));
                let on = self.working_on_or_before(due - early);
                let at = local(on, 11, 0);
                let est = p.held_at(at);
                let by = self.worker_at(&est);
                let summary = if est != home {
                    "Reviewed after the transfer: care continues here; keyworker changed; release plan to start."
                } else {
                    "Reviewed with the person: engaging with keywork; goals and contingency plan still right."
                };
                self.fact(
                    person,
                    &est,
                    at,
                    &by,
                    EventKind::CarePlanReviewed(CarePlanReview {
                        reviewed_on: on,
                        goals: None,
                        summary: summary.into(),
                        next_review_on: on + review_weeks,
                    }),
                );
                due = on + review_weeks;
            }
        }
    }

    /// A transfer: mid-episode, a new keyworker and sessions at the receiving prison;
    /// or treatment ending with the move (its exit profile the day before).
    fn plan_transfer(&mut self, p: &Planned<'_>) {
        let Some((on, to, ending)) = p.transfer.clone() else {
            return;
        };
        if !ending {
            let to_worker = self.worker_at(&to);
            let manager = self.manager.clone();
            self.fact(
                p.person,
                &to,
                local(on + days(1), 9, 0),
                &manager,
                EventKind::KeyworkerAllocated(KeyworkerAllocation {
                    worker: to_worker,
                    allocated_on: on + days(1),
                }),
            );
            for offset in [6, 20] {
                let d = self.working_on_or_before(on + days(offset));
                if d > on && d <= self.yesterday {
                    self.session(p.person, &to, d);
                }
            }
            return;
        }
        let top = self.top(
            p.story.usage,
            on - days(1),
            TopStage::Exit,
            p.start_top.as_ref(),
        );
        self.fact(
            p.person,
            &p.home,
            local(on - days(1), 14, 0),
            &p.worker,
            EventKind::TopCompleted(top),
        );
        self.fact(
            p.person,
            &p.home,
            local(on, 8, 0),
            &p.worker,
            EventKind::TreatmentExited(TreatmentExit {
                exited_on: on,
                reason: ExitReason::TransferredInCustody,
                note: Some(format!(
                    "Transferred to {to}; care handed over to the team there"
                )),
            }),
        );
    }

    /// Treatment ended in custody: the keywork course's last step, the exit, its
    /// profile, and a summary to the offender manager after a completed course.
    fn plan_exit(&mut self, p: &Planned<'_>) {
        let Some((reason, on, exit_top)) = p.exit else {
            return;
        };
        let (person, worker, usage) = (p.person, &p.worker, p.story.usage);
        let at = local(on, 11, 0);
        let est = p.held_at(at);
        let completed = matches!(
            reason,
            ExitReason::CompletedDrugFree | ExitReason::CompletedAlcoholFree
        );
        if p.prescribing && reason == ExitReason::DroppedOut {
            let at = local(on - days(2), 15, 0);
            self.clinical(
                person,
                &est,
                at,
                ClinicalStep::DroppedOutOfPrescribing,
                Some("Stopped attending for dosing; says they no longer want the script"),
            );
        }
        let done = self.slot();
        if let Some(code) = self.keywork_code.clone() {
            let (status, note) = match reason {
                _ if completed => (InterventionStatus::Completed, None),
                ExitReason::Declined => (
                    InterventionStatus::DroppedOut,
                    Some("Said they want no more keywork".to_string()),
                ),
                _ => (
                    InterventionStatus::DroppedOut,
                    Some("Stopped coming after a move of wing".to_string()),
                ),
            };
            self.push(
                person,
                &est,
                at,
                worker,
                Step::Progress {
                    course: p.course,
                    update: InterventionUpdate {
                        intervention: code,
                        target: usage.target(),
                        status,
                        on,
                        course: None,
                        language: None,
                        note,
                    },
                },
            )
            .save = Some(done);
        }
        self.fact(
            person,
            &est,
            local(on, 15, 0),
            worker,
            EventKind::TreatmentExited(TreatmentExit {
                exited_on: on,
                reason,
                note: match reason {
                    ExitReason::Declined => Some("Declined further treatment at review".into()),
                    ExitReason::DroppedOut => Some("Stopped attending keywork".into()),
                    _ => None,
                },
            }),
        );
        if exit_top {
            let top = self.top(usage, on, TopStage::Exit, p.start_top.as_ref());
            self.fact(
                person,
                &est,
                local(on, 15, 30),
                worker,
                EventKind::TopCompleted(top),
            );
        }
        if p.story.share_om && completed && self.keywork_code.is_some() {
            let shared_on = on + days(2);
            self.push(
                person,
                &est,
                local(shared_on, 10, 0),
                worker,
                Step::Share {
                    about: done,
                    disclosure: Disclosure {
                        recipient: Recipient::OffenderManagement,
                        basis: SharingBasis::Consent {
                            purpose: ConsentPurpose::OffenderManagementSummaries,
                        },
                        shared_on,
                        about: None,
                        summary: format!(
                            "Treatment completed ({}): summary of progress for the offender manager",
                            reason.label().to_lowercase()
                        ),
                    },
                },
            );
        }
    }

    /// Treatment started again on `on`: after a transfer that ended it, a new care
    /// plan and keyworker there; after dropping out, the plan reviewed. Then a new
    /// keywork course, a new start profile and sessions.
    fn plan_restart(&mut self, p: &Planned<'_>, on: NaiveDate) {
        let (person, usage) = (p.person, p.story.usage);
        let est = p.held_at(local(on, 11, 0));
        let by = self.worker_at(&est);
        let review_weeks = self.review_weeks();
        if p.transfer.as_ref().is_some_and(|t| t.2) {
            let contingency = self.contingency(usage);
            let goal = self.goal(usage);
            let manager = self.manager.clone();
            self.fact(
                person,
                &est,
                local(on, 10, 30),
                &by,
                EventKind::CarePlanAgreed(CarePlan {
                    agreed_on: on,
                    goals: vec![goal.to_string()],
                    interventions: p.codes.clone(),
                    contingency,
                    agreed_with_person: true,
                    review_on: on + review_weeks,
                }),
            );
            self.fact(
                person,
                &est,
                local(on, 9, 15),
                &manager,
                EventKind::KeyworkerAllocated(KeyworkerAllocation {
                    worker: by.clone(),
                    allocated_on: on,
                }),
            );
        } else {
            self.fact(
                person,
                &est,
                local(on, 10, 30),
                &by,
                EventKind::CarePlanReviewed(CarePlanReview {
                    reviewed_on: on,
                    goals: None,
                    summary: "Back in touch after dropping out; keywork restarted; contingency plan gone through again.".into(),
                    next_review_on: on + review_weeks,
                }),
            );
        }
        self.keywork_start(person, &est, on, usage, &by);
        let top = self.top(usage, on + days(1), TopStage::Start, None);
        self.fact(
            person,
            &est,
            local(on + days(1), 13, 0),
            &by,
            EventKind::TopCompleted(top),
        );
        for offset in [9, 23] {
            let d = self.working_on_or_before(on + days(offset));
            if d > on && d <= self.yesterday {
                self.session(person, &est, d);
            }
        }
    }

    /// Leaving custody on `left_on`: the release plan (planned releases), the care
    /// plan sent to the community provider, the exit profile, the release or
    /// deportation, the treatment exit, and what followed.
    fn plan_leaving(&mut self, p: &Planned<'_>, how: Leaving, left_on: NaiveDate) {
        let (story, person) = (p.story, p.person);
        let last = p.last();
        let by = self.worker_at(&last);
        let on_script = p.prescribing && p.exit.is_none();
        let ctx =
            self.planned_context(&p.details, story.usage, on_script, story.release_medication);
        // The release plan, with an earlier partial version for some.
        if how == Leaving::Planned {
            let agreed_on = left_on - days(self.rng.range(10, 16));
            if story.plan_versions {
                let draft_on = left_on - days(self.rng.range(35, 45));
                let draft = self.release_plan(
                    &ctx,
                    draft_on,
                    left_on,
                    Missing {
                        first_appointment: true,
                        housing_referral: true,
                        ..Missing::default()
                    },
                );
                self.fact(
                    person,
                    &last,
                    local(draft_on, 14, 0),
                    &by,
                    EventKind::ReleasePlanAgreed(draft),
                );
            }
            let plan = self.release_plan(&ctx, agreed_on, left_on, Missing::default());
            self.fact(
                person,
                &last,
                local(agreed_on, 14, 30),
                &by,
                EventKind::ReleasePlanAgreed(plan),
            );
        }
        // Care plan transfer to the community provider, with consent.
        if story.share_community && story.consent != CommunityConsent::Refused {
            let shared_on = if how == Leaving::Planned {
                left_on - days(2)
            } else {
                left_on
            };
            let summary = if how == Leaving::Planned {
                format!(
                    "Release plan, recovery care plan and latest TOP sent to {}",
                    ctx.provider
                )
            } else {
                format!(
                    "Released at short notice: care plan and prescribing details sent to {} by the single point of contact",
                    ctx.provider
                )
            };
            self.fact(
                person,
                &last,
                local(shared_on, 12, 0),
                &by,
                EventKind::InformationShared(Disclosure {
                    recipient: Recipient::CommunityProvider,
                    basis: SharingBasis::Consent {
                        purpose: ConsentPurpose::CommunityTransfer,
                    },
                    shared_on,
                    about: None,
                    summary,
                }),
            );
        }
        // The exit profile the day before a planned release; the release; the exit.
        let at_release = story.exit_at_release.filter(|_| p.exit.is_none());
        if let Some((_, true)) = at_release {
            let top = self.top(
                story.usage,
                left_on - days(1),
                TopStage::Exit,
                p.start_top.as_ref(),
            );
            self.fact(
                person,
                &last,
                local(left_on - days(1), 14, 0),
                &by,
                EventKind::TopCompleted(top),
            );
        }
        let release_slot = self.slot();
        let (source_ref, feed) = self.movement_feed();
        let movements = self.movements.clone();
        let action = self.fact(
            person,
            &last,
            local(left_on, 9, 0),
            &movements,
            EventKind::Released(Release {
                kind: if how == Leaving::Deported {
                    ReleaseKind::Deported
                } else {
                    ReleaseKind::Released
                },
                source_ref: Some(source_ref),
            }),
        );
        action.feed = Some(feed);
        action.save = Some(release_slot);
        if let Some((reason, _)) = at_release {
            let note = match (how, reason) {
                (Leaving::Unplanned, ExitReason::ReleasedNotReferred) => {
                    Some("Released from court; no chance to refer on")
                }
                (Leaving::Unplanned, _) => Some(
                    "Released early at short notice; referred on by the single point of contact",
                ),
                _ => None,
            };
            self.fact(
                person,
                &last,
                local(left_on, 11, 0),
                &by,
                EventKind::TreatmentExited(TreatmentExit {
                    exited_on: left_on,
                    reason,
                    note: note.map(str::to_string),
                }),
            );
        }
        self.after_release(p, &ctx, left_on, release_slot);
    }

    fn review_weeks(&self) -> Duration {
        Duration::weeks(i64::from(self.profile.clocks.care_plan_review_weeks))
    }

    fn clinical(
        &mut self,
        person: PersonId,
        est: &EstablishmentCode,
        at: DateTime<Utc>,
        step: ClinicalStep,
        note: Option<&str>,
    ) {
        let clinician = self.clinician.clone();
        self.fact(
            person,
            est,
            at,
            &clinician,
            EventKind::ClinicalEventRecorded(ClinicalEvent {
                step,
                at,
                note: note.map(str::to_string),
            }),
        );
    }

    fn goal(&mut self, usage: Use) -> &'static str {
        let options: [&'static str; 2] = match usage {
            Use::Opiate | Use::Poly => [
                "I want to come off heroin for good and stay off when I get out",
                "I want to get stable on my script and stop topping up on the wing",
            ],
            Use::Alcohol => [
                "I want to get through the detox and stay dry",
                "I want to stop drinking and not go back to the pub when I get out",
            ],
            Use::Stimulant => [
                "I want to stop using crack and stay away from the people I used with",
                "I want to keep my drug tests clean",
            ],
        };
        options[self.rng.range(0, 1) as usize]
    }

    /// Keywork started on `on` (a new course); returns its slot.
    fn keywork_start(
        &mut self,
        person: PersonId,
        est: &EstablishmentCode,
        on: NaiveDate,
        usage: Use,
        by: &StaffUsername,
    ) -> usize {
        let slot = self.slot();
        if let Some(code) = self.keywork_code.clone() {
            self.fact(
                person,
                est,
                local(on, 11, 10),
                by,
                EventKind::InterventionUpdated(InterventionUpdate {
                    intervention: code,
                    target: usage.target(),
                    status: InterventionStatus::Started,
                    on,
                    course: None,
                    language: None,
                    note: None,
                }),
            )
            .save = Some(slot);
        }
        slot
    }

    fn session(&mut self, person: PersonId, est: &EstablishmentCode, on: NaiveDate) {
        let by = self.worker_at(est);
        let summary = self
            .rng
            .pick(&[
                "Cravings and triggers; coping plan updated",
                "Relapse prevention: high-risk situations on the wing",
                "Release planning: community treatment appointment and naloxone",
                "Goals reviewed; agreed to try a SMART meeting",
                "Family contact and how it affects their use",
            ])
            .to_string();
        let length = *self.rng.pick(&[30u16, 45, 60]);
        self.fact(
            person,
            est,
            local(on, 10, 0),
            &by,
            EventKind::SessionAttended(SessionAttended {
                session: SessionKind::Keyworking,
                on,
                minutes: Some(length),
                summary,
                appointment: None,
            }),
        );
    }

    /// The plan context of a cohort person (their case is not in the store yet).
    fn planned_context(
        &mut self,
        details: &PersonDetails,
        usage: Use,
        on_script: bool,
        medication: Option<ReleaseMedication>,
    ) -> PlanContext {
        let single = self.profile.establishments.len() == 1;
        let (provider, council) = Self::local_services(details.home_postcode.as_ref(), single);
        PlanContext {
            provider: provider.to_string(),
            council: council.to_string(),
            housing_need: details.home_postcode.is_none() || self.rng.chance(25),
            at_risk: usage.opiate(),
            prescribed: on_script.then(|| {
                if self.rng.chance(60) {
                    Medication::Methadone
                } else {
                    Medication::Buprenorphine
                }
            }),
            medication,
        }
    }

    /// The story's contacts, counted from the exit in custody if there was one, else
    /// from the release: support after completing treatment, attempts to re-engage
    /// after dropping out, declining or not engaging.
    fn plan_contacts(&mut self, p: &Planned<'_>) {
        let left_on = p.leave.map(|l| l.1);
        let Some(anchor) = p.exit.map(|e| e.1).or(left_on) else {
            return;
        };
        let est = p.last();
        let by = self.worker_at(&est);
        for &(purpose, outcome, day, next) in p.story.contacts {
            let on = anchor + days(day);
            if on > self.yesterday {
                continue;
            }
            let community = left_on.is_some_and(|l| on >= l);
            let method = self.contact_method(purpose, community);
            self.fact(
                p.person,
                &est,
                local(on, 11, 45),
                &by,
                EventKind::ContactRecorded(Contact {
                    on,
                    purpose,
                    outcome,
                    method: Some(method),
                    next_due: next.map(|n| anchor + days(n)),
                    note: Some(contact_note(purpose, outcome).into()),
                }),
            );
        }
    }

    fn contact_method(&mut self, purpose: ContactPurpose, community: bool) -> String {
        let options: &[&str] = match (purpose, community) {
            (_, false) => &["Wing visit", "In-cell telephone", "Letter under the door"],
            (ContactPurpose::PostTreatmentSupport, true) => &[
                "Telephone",
                "In person at the community hub",
                "Text message",
            ],
            (ContactPurpose::ReEngagement, true) => &[
                "Telephone",
                "Letter",
                "Through probation",
                "Home visit with the outreach worker",
            ],
        };
        self.rng.pick(options).to_string()
    }

    /// Engagement, contacts, consent withdrawn, death, reoffence and the follow-up
    /// after a release on `left_on` (its `released` event in slot `release`).
    fn after_release(
        &mut self,
        p: &Planned<'_>,
        ctx: &PlanContext,
        left_on: NaiveDate,
        release: usize,
    ) {
        let (story, person) = (p.story, p.person);
        let est = &p.last();
        let by = &self.worker_at(est);
        let yesterday = self.yesterday;
        if let Some((outcome, day)) = story.engagement {
            let on = left_on + days(day);
            if on <= yesterday {
                self.fact(
                    person,
                    est,
                    local(on, 12, 30),
                    by,
                    EventKind::CommunityEngagementRecorded(CommunityEngagement {
                        outcome,
                        on,
                        provider: (outcome == Engaged).then(|| ctx.provider.clone()),
                        note: Some(
                            if outcome == Engaged {
                                "Attended the community service for assessment and a script review"
                            } else {
                                "Did not attend the first appointment or the two rebooked; not reached by telephone"
                            }
                            .into(),
                        ),
                    }),
                );
            }
        }
        self.plan_contacts(p);
        if let CommunityConsent::WithdrawnAfter(day) = story.consent {
            let on = left_on + days(day);
            if on <= yesterday {
                self.fact(
                    person,
                    est,
                    local(on, 15, 0),
                    by,
                    EventKind::ConsentWithdrawn(ConsentWithdrawal {
                        purpose: ConsentPurpose::CommunityTransfer,
                        withdrawn_on: on,
                    }),
                );
            }
        }
        let death = story.death.map(|(day, cause)| (left_on + days(day), cause));
        if let Some((died_on, cause)) = death.filter(|(d, _)| *d <= yesterday) {
            self.fact(
                person,
                est,
                local(died_on + days(3), 10, 0).min(local(yesterday, 10, 0)),
                by,
                EventKind::DeathRecorded(Death {
                    died_on,
                    cause,
                    source: Some(
                        match cause {
                            DeathCause::NotRelated => "Probation (community offender manager)",
                            _ => "Coroner's office notification",
                        }
                        .into(),
                    ),
                }),
            );
        }
        let reoffence = story.reoffence.map(|day| left_on + days(day));
        if let Some(offended_on) = reoffence.filter(|d| *d <= yesterday) {
            self.fact(
                person,
                est,
                local((offended_on + days(2)).min(yesterday), 16, 0),
                by,
                EventKind::ReoffenceRecorded(Reoffence {
                    offended_on,
                    source: Some("Police National Computer check through probation".into()),
                }),
            );
        }
        let Some(outcome) = story.close else { return };
        let ends = follow_up_ends(left_on);
        let (closed_on, note) = match outcome {
            FollowUpOutcome::Reoffended => (reoffence.map(|d| d + days(12)), None),
            FollowUpOutcome::Died => (death.map(|(d, _)| d + days(14)), None),
            FollowUpOutcome::Deported => (
                Some(left_on + days(4)),
                Some("Removed from the United Kingdom: no follow-up possible".to_string()),
            ),
            FollowUpOutcome::NotReoffended => (
                Some(ends + days(10)),
                Some("No further offence in the 12 months, confirmed with probation".to_string()),
            ),
            FollowUpOutcome::LostToFollowUp => (
                Some(ends + days(10)),
                Some("No contact since the last attempt; probation holds no record".to_string()),
            ),
        };
        let Some(closed_on) = closed_on.filter(|d| *d <= yesterday) else {
            return;
        };
        self.push(
            person,
            est,
            local(closed_on, 16, 30),
            by,
            Step::Close {
                release,
                closed_on,
                outcome,
                note,
            },
        );
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
                        what: format!("demo release plan: slot {s}"),
                    })
                })
            };
            let kind = match a.step {
                Step::Fact(kind) => kind,
                Step::Assessment {
                    referral,
                    mut assessment,
                } => {
                    assessment.referral = Some(slot(referral)?);
                    EventKind::AssessmentCompleted(assessment)
                }
                Step::Progress { course, mut update } => {
                    update.course = Some(slot(course)?);
                    EventKind::InterventionUpdated(update)
                }
                Step::Close {
                    release,
                    closed_on,
                    outcome,
                    note,
                } => EventKind::FollowUpClosed(FollowUpClosed {
                    release: slot(release)?,
                    closed_on,
                    outcome,
                    note,
                }),
                Step::Share {
                    about,
                    mut disclosure,
                } => {
                    disclosure.about = Some(slot(about)?);
                    EventKind::InformationShared(disclosure)
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

fn contact_note(purpose: ContactPurpose, outcome: ContactOutcome) -> &'static str {
    match (purpose, outcome) {
        (ContactPurpose::PostTreatmentSupport, ContactOutcome::Reached) => {
            "Check-in after treatment: staying free of use; talked about keeping busy"
        }
        (ContactPurpose::PostTreatmentSupport, _) => "Support call after treatment",
        (ContactPurpose::ReEngagement, ContactOutcome::Reached) => {
            "Talked it through; wants to think about coming back"
        }
        (ContactPurpose::ReEngagement, ContactOutcome::NoResponse) => {
            "No answer; left a message with the way back in"
        }
        (ContactPurpose::ReEngagement, ContactOutcome::Declined) => {
            "Says not now; agreed we can try again"
        }
        (ContactPurpose::ReEngagement, ContactOutcome::ReEngaged) => {
            "Agreed to come back to keywork; booked in"
        }
    }
}
