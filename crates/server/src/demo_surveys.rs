//! Demo data for surveys and self-referral (issue 6): about a year of the annual
//! satisfaction survey at every establishment — codes the demo worker issued, most
//! answered at the kiosk a few days later, some never used, and paper responses —
//! so the results have several quarters; the client experience questionnaire before
//! and after treatment for people of the caseload with a treatment episode (pairs
//! for the change figure); three published codes left unused for trying the kiosk
//! ([`DEMO_KIOSK_CODES`]); and self-referrals from the kiosk and the in-cell
//! telephone system in the last few days, from people the service knows and from
//! new ones. Everything goes through the same recording paths as the pages.
//! Deterministic for a given `now`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use throughcare_domain::error::DomainError;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{PrisonNumber, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::IdSource;
use throughcare_domain::referrals::ReferralSource;
use throughcare_domain::self_referrals::SelfReferral;
use throughcare_domain::surveys::{
    Rating, SurveyCode, SurveyCodeIssued, SurveyKind, SurveyResponse, experience_episode, pair_key,
};
use throughcare_domain::time::{local_date, local_midday};
use throughcare_domain::work_queues::current_episode;
use throughcare_store::{FeedRecord, Store};

use crate::demo::{FAMILY, GIVEN_MEN, NUMBER_LETTERS, SplitMix64};
use crate::recording::{RecordError, Recorder};

/// Satisfaction survey codes the demo issues at the first establishment and leaves
/// unused, so that anyone trying the demo can answer at `/kiosk`. Each works once.
/// Demo only: published, like the demo passwords.
pub const DEMO_KIOSK_CODES: [&str; 3] = ["DEM-KKK-333", "DEM-KKK-444", "DEM-KKK-777"];

/// The username of the demo's in-cell telephone system account.
pub const DEMO_TELEPHONE_USERNAME: &str = "telephone";

/// What the surveys demo wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// People registered by a self-referral (prison numbers the service did not know).
    pub people: usize,
    /// Events appended.
    pub events: usize,
}

fn invalid(field: &str, e: impl std::fmt::Display) -> RecordError {
    RecordError::Domain(DomainError::invalid(field, e.to_string()))
}

fn username(name: &str) -> Result<StaffUsername, RecordError> {
    StaffUsername::parse(name).map_err(|e| invalid("recorded_by", e))
}

const COMMENTS: [&str; 6] = [
    "My worker listened to me",
    "The groups helped me stay off it",
    "Hard to get an appointment on my wing",
    "More help before release please",
    "Naloxone training was useful",
    "Good, but the waiting list was long",
];

/// Codes, responses and the clock they are recorded against.
struct Writer<'a> {
    recorder: Recorder<'a>,
    now: DateTime<Utc>,
    worker: StaffUsername,
    kiosk: StaffUsername,
    rng: SplitMix64,
    written: usize,
}

impl Writer<'_> {
    fn today(&self) -> NaiveDate {
        local_date(self.now)
    }

    fn code(&mut self) -> Result<SurveyCode, RecordError> {
        let mut picks = [0usize; SurveyCode::LENGTH];
        for p in &mut picks {
            *p = self.rng.range(0, SurveyCode::ALPHABET.len() as i64 - 1) as usize;
        }
        SurveyCode::from_picks(picks).ok_or_else(|| invalid("code", "no code drawn"))
    }

    fn rating(&mut self, leaning: &[(Rating, u32)]) -> Rating {
        self.rng.weighted(leaning)
    }

    /// An answer: at the kiosk with `code` (as the kiosk records it, with the code's
    /// feed record), or on paper entered by the worker.
    #[allow(clippy::too_many_arguments)]
    fn answer(
        &mut self,
        at: usize,
        code: Option<&SurveyCode>,
        survey: SurveyKind,
        on: NaiveDate,
        rating: Rating,
        establishments: &[throughcare_domain::identifiers::EstablishmentCode],
        ids: &mut dyn IdSource,
    ) -> Result<(), RecordError> {
        let comments = self
            .rng
            .chance(30)
            .then(|| self.rng.pick(&COMMENTS).to_string());
        let kind = EventKind::SurveyResponseRecorded(SurveyResponse {
            code_hash: code.map(SurveyCode::hash),
            survey,
            received_on: on,
            rating,
            comments,
        });
        let feed = code.map(|c| FeedRecord {
            feed: crate::kiosk::CODE_FEED.into(),
            source_ref: c.hash(),
        });
        let by = if code.is_some() {
            self.kiosk.clone()
        } else {
            self.worker.clone()
        };
        self.written += self
            .recorder
            .record_service(
                &throughcare_domain::access::Author::system(by.clone()),
                &establishments[at],
                kind,
                self.now,
                ids,
                feed.as_ref(),
            )?
            .len();
        Ok(())
    }
}

const SATISFACTION_LEANING: [(Rating, u32); 5] = [
    (Rating::VerySatisfied, 30),
    (Rating::Satisfied, 40),
    (Rating::Neither, 15),
    (Rating::Dissatisfied, 10),
    (Rating::VeryDissatisfied, 5),
];
const BEFORE_LEANING: [(Rating, u32); 5] = [
    (Rating::VerySatisfied, 5),
    (Rating::Satisfied, 15),
    (Rating::Neither, 30),
    (Rating::Dissatisfied, 30),
    (Rating::VeryDissatisfied, 20),
];
const AFTER_LEANING: [(Rating, u32); 5] = [
    (Rating::VerySatisfied, 25),
    (Rating::Satisfied, 40),
    (Rating::Neither, 20),
    (Rating::Dissatisfied, 10),
    (Rating::VeryDissatisfied, 5),
];

/// Records the surveys and self-referral demo.
pub fn seed(
    store: &dyn Store,
    profile: &Profile,
    now: DateTime<Utc>,
    ids: &mut dyn IdSource,
) -> Result<Seeded, RecordError> {
    let calendar = profile.calendar();
    let mut w = Writer {
        recorder: Recorder {
            store,
            profile,
            calendar: &calendar,
        },
        now,
        worker: username("worker")?,
        kiosk: username(crate::kiosk::KIOSK_USERNAME)?,
        rng: SplitMix64(crate::demo::SEED ^ 0x5355_5256_4559_5300),
        written: 0,
    };
    let today = w.today();
    let sites: Vec<_> = profile
        .establishments
        .iter()
        .map(|e| e.code.clone())
        .collect();

    // A year of the annual satisfaction survey, a few each quarter everywhere.
    for at in 0..sites.len() {
        for quarter in 0..4i64 {
            let issued = w.rng.range(2, 5);
            for _ in 0..issued {
                let back = quarter * 91 + w.rng.range(2, 88);
                let on = today - Duration::days(back);
                let code = w.code()?;
                issue_with(
                    &mut w,
                    at,
                    &code,
                    SurveyKind::Satisfaction,
                    on,
                    None,
                    &sites,
                    ids,
                )?;
                if w.rng.chance(85) {
                    let answered = on + Duration::days(w.rng.range(0, 4.min(back)));
                    let rating = w.rating(&SATISFACTION_LEANING);
                    w.answer(
                        at,
                        Some(&code),
                        SurveyKind::Satisfaction,
                        answered,
                        rating,
                        &sites,
                        ids,
                    )?;
                }
            }
            if w.rng.chance(70) {
                let on = today - Duration::days(quarter * 91 + w.rng.range(1, 88));
                let rating = w.rating(&SATISFACTION_LEANING);
                w.answer(at, None, SurveyKind::Satisfaction, on, rating, &sites, ids)?;
            }
        }
    }
    for typed in DEMO_KIOSK_CODES {
        let code = SurveyCode::parse(typed).map_err(|e| invalid("code", e))?;
        issue_with(
            &mut w,
            0,
            &code,
            SurveyKind::Satisfaction,
            today,
            None,
            &sites,
            ids,
        )?;
    }

    // The questionnaire before and after treatment, for people with an episode.
    for (at, site) in sites.iter().enumerate() {
        for row in store.caseload(site)? {
            if !w.rng.chance(60) {
                continue;
            }
            let (case, _) = crate::recording::load_case(store, row.person)?;
            let Some(episode) = current_episode(&case, profile) else {
                continue;
            };
            // Back-dated to the episode, so the key is that of the episode as the
            // issuing page would have derived it then.
            let Some(number) = experience_episode(&case, profile, SurveyKind::ExperiencePost)
            else {
                continue;
            };
            let pair = pair_key(case.person, number);
            let pre = w.code()?;
            let start = episode.started_on.min(today);
            issue_with(
                &mut w,
                at,
                &pre,
                SurveyKind::ExperiencePre,
                start,
                Some(pair.clone()),
                &sites,
                ids,
            )?;
            let rating = w.rating(&BEFORE_LEANING);
            let answered = (start + Duration::days(1)).min(today);
            w.answer(
                at,
                Some(&pre),
                SurveyKind::ExperiencePre,
                answered,
                rating,
                &sites,
                ids,
            )?;
            if let Some(exit) = episode.exited_on.filter(|x| *x <= today) {
                let post = w.code()?;
                issue_with(
                    &mut w,
                    at,
                    &post,
                    SurveyKind::ExperiencePost,
                    exit,
                    Some(pair),
                    &sites,
                    ids,
                )?;
                if w.rng.chance(80) {
                    let rating = w.rating(&AFTER_LEANING);
                    let answered = (exit + Duration::days(w.rng.range(0, 3))).min(today);
                    w.answer(
                        at,
                        Some(&post),
                        SurveyKind::ExperiencePost,
                        answered,
                        rating,
                        &sites,
                        ids,
                    )?;
                }
            }
        }
    }

    // Self-referrals in the last few days, from the kiosk and the telephone system.
    let telephone = username(DEMO_TELEPHONE_USERNAME)?;
    let known: Vec<_> = store
        .caseload(&sites[0])?
        .into_iter()
        .filter(|r| r.in_custody)
        .collect();
    let mut people = 0;
    for i in 0..8usize {
        let (source, by) = if i % 2 == 0 {
            (ReferralSource::SelfReferralApplication, w.kiosk.clone())
        } else {
            (
                ReferralSource::SelfReferralInCellTelephone,
                telephone.clone(),
            )
        };
        let at = &sites[i % sites.len()];
        let when = now - Duration::days(w.rng.range(0, 3)) - Duration::hours(w.rng.range(0, 5));
        let when = when.min(now).max(local_midday(today - Duration::days(3)));
        let given = if i < 4 && !known.is_empty() {
            let row = &known[w.rng.range(0, known.len() as i64 - 1) as usize];
            SelfReferral {
                prison_number: PrisonNumber::parse(&row.prison_number)
                    .map_err(|e| invalid("prison_number", e))?,
                given_name: row.given_name.clone(),
                family_name: row.family_name.clone(),
                date_of_birth: row.date_of_birth,
                help: w
                    .rng
                    .chance(50)
                    .then(|| "Help with my drinking".to_string()),
            }
        } else {
            // Numbers far along the demo's own sequence (7919 is prime to 9000),
            // beyond every other demo cohort's.
            let n = 8000 + i as u64;
            let digits = 1000 + (n * 7919) % 9000;
            let a = *w.rng.pick(NUMBER_LETTERS) as char;
            let b = *w.rng.pick(NUMBER_LETTERS) as char;
            people += 1;
            SelfReferral {
                prison_number: PrisonNumber::parse(&format!("Z{digits}{a}{b}"))
                    .map_err(|e| invalid("prison_number", e))?,
                given_name: w.rng.pick(&GIVEN_MEN).to_string(),
                family_name: w.rng.pick(&FAMILY).to_string(),
                date_of_birth: NaiveDate::from_ymd_opt(w.rng.range(1970, 2004) as i32, 6, 15)
                    .ok_or_else(|| invalid("date_of_birth", "no such date"))?,
                help: w.rng.chance(50).then(|| "Coming off spice".to_string()),
            }
        };
        let before = store.log_length()?;
        crate::self_referral::record(
            &w.recorder,
            &throughcare_domain::access::Author::system(by.clone()),
            at,
            source,
            &given,
            when,
            ids,
            None,
        )?;
        w.written += usize::try_from(store.log_length()? - before).unwrap_or(0);
    }
    Ok(Seeded {
        people,
        events: w.written,
    })
}

/// Issues a code with event ids from the demo's own sequence.
#[allow(clippy::too_many_arguments)]
fn issue_with(
    w: &mut Writer<'_>,
    at: usize,
    code: &SurveyCode,
    survey: SurveyKind,
    on: NaiveDate,
    pair: Option<String>,
    establishments: &[throughcare_domain::identifiers::EstablishmentCode],
    ids: &mut dyn IdSource,
) -> Result<(), RecordError> {
    let kind = EventKind::SurveyCodeIssued(SurveyCodeIssued {
        code_hash: code.hash(),
        survey,
        issued_on: on,
        pair,
    });
    w.written += w
        .recorder
        .record_service(
            &throughcare_domain::access::Author::system(w.worker.clone()),
            &establishments[at],
            kind,
            w.now,
            ids,
            None,
        )?
        .len();
    Ok(())
}
