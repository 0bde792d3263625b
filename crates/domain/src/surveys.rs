//! Surveys of people in prison (S4 §5–6, §10; KM 5.39; KPI 2.19): the annual
//! satisfaction survey and the client-experience questionnaire before and after
//! treatment. A person answers on a kiosk page reached by a one-time code a worker
//! issues; staff can enter a paper response. Responses are anonymous: they carry no
//! person, only (for the pre/post pair) an opaque pairing key for the change figure.
//! Only the code's hash is ever stored.
//!
//! This module also holds the code itself ([`SurveyCode`]: easy to type, hard to
//! guess), the pairing key of a before-and-after questionnaire ([`pair_key`],
//! [`experience_episode`]) and the anonymous results ([`results`]): counts per
//! rating per survey per quarter, and the before-to-after change.

use crate::case::Case;
use crate::governance::ServiceRecord;
use crate::identifiers::EstablishmentCode;
use crate::labelled_enum;
use crate::profile::Profile;
use crate::record_ids::PersonId;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

labelled_enum! {
    /// Which survey.
    pub enum SurveyKind {
        /// The annual satisfaction survey (S4 §6, §10; KPI 2.19).
        Satisfaction = ("satisfaction", "Annual satisfaction survey"),
        /// The client-experience questionnaire before treatment (S4 §5).
        ExperiencePre = ("experience_pre", "Client experience: before treatment"),
        /// The client-experience questionnaire after treatment (S4 §5).
        ExperiencePost = ("experience_post", "Client experience: after treatment"),
    }
}

labelled_enum! {
    /// The five-point scale, from very satisfied to very dissatisfied (KPI 2.19).
    pub enum Rating {
        /// Very satisfied.
        VerySatisfied = ("very_satisfied", "Very satisfied"),
        /// Satisfied.
        Satisfied = ("satisfied", "Satisfied"),
        /// Neither satisfied nor dissatisfied.
        Neither = ("neither", "Neither satisfied nor dissatisfied"),
        /// Dissatisfied.
        Dissatisfied = ("dissatisfied", "Dissatisfied"),
        /// Very dissatisfied.
        VeryDissatisfied = ("very_dissatisfied", "Very dissatisfied"),
    }
}

impl SurveyKind {
    /// The one question the kiosk asks for this survey, answered on the five-point
    /// scale (KPI 2.19; S4 §5: the experience questionnaire before and after).
    pub fn question(self) -> &'static str {
        match self {
            SurveyKind::Satisfaction => {
                "Overall, how satisfied are you with the help you get from the substance use service?"
            }
            SurveyKind::ExperiencePre => {
                "Before your treatment starts: overall, how satisfied are you with how things are for you at the moment?"
            }
            SurveyKind::ExperiencePost => {
                "Now your treatment has ended: overall, how satisfied are you with how things are for you now?"
            }
        }
    }

    /// Whether this is one half of the before-and-after questionnaire (its codes
    /// carry a pairing key; a satisfaction code never does).
    pub fn is_experience(self) -> bool {
        matches!(self, SurveyKind::ExperiencePre | SurveyKind::ExperiencePost)
    }
}

impl Rating {
    /// Whether the answer counts as satisfied or very satisfied (KPI 2.19).
    pub fn is_satisfied(self) -> bool {
        matches!(self, Rating::VerySatisfied | Rating::Satisfied)
    }
    /// The score for the pre/post change figure: 5 (very satisfied) to 1.
    pub fn score(self) -> i8 {
        match self {
            Rating::VerySatisfied => 5,
            Rating::Satisfied => 4,
            Rating::Neither => 3,
            Rating::Dissatisfied => 2,
            Rating::VeryDissatisfied => 1,
        }
    }
}

/// A one-time survey code issued by a worker: only its SHA-256 hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyCodeIssued {
    /// The code's SHA-256, lower-case hex.
    pub code_hash: String,
    /// The survey the code opens, and no other.
    pub survey: SurveyKind,
    /// When it was issued.
    pub issued_on: NaiveDate,
    /// An opaque key pairing a before and an after questionnaire, for the change
    /// figure only (never a person's identifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
}

/// A survey response: through a code on the kiosk, or a paper response staff enter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyResponse {
    /// The hash of the code used; `None` for a paper response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_hash: Option<String>,
    /// Which survey.
    pub survey: SurveyKind,
    /// When it was received.
    pub received_on: NaiveDate,
    /// The overall rating.
    pub rating: Rating,
    /// Any comments, in the person's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
}

/// Whether `text` looks like a stored code hash (64 lower-case hex digits).
pub fn is_code_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// What is wrong with a typed survey code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Enter the code as it was given to you: 9 letters and numbers, like K7P-43Q-9XM")]
pub struct NotACode;

/// A one-time survey code as the person types it: nine symbols from
/// [`SurveyCode::ALPHABET`], shown in groups of three (`K7P-43Q-9XM`). The alphabet
/// leaves out symbols that are easy to confuse (0/O, 1/I/L, 2/Z, 5/S, 8/B, G, U), so
/// a code read aloud or copied from paper is typed right. 23⁹ ≈ 1.8 × 10¹² codes
/// (almost 41 bits): with a thousand codes outstanding, a guess opens one about
/// once in 1.8 billion tries. Only [`SurveyCode::hash`] is ever stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyCode(String);

impl SurveyCode {
    /// The symbols a code is made of.
    pub const ALPHABET: &'static [u8] = b"ACDEFHJKMNPQRTVWXY34679";
    /// How many symbols a code has.
    pub const LENGTH: usize = 9;

    /// A code from nine picks, each an index into [`SurveyCode::ALPHABET`] (the
    /// server draws them from a secure random source; the domain does no IO).
    /// `None` when a pick is out of range.
    pub fn from_picks(picks: [usize; SurveyCode::LENGTH]) -> Option<SurveyCode> {
        let symbols: Option<Vec<u8>> = picks
            .iter()
            .map(|i| SurveyCode::ALPHABET.get(*i).copied())
            .collect();
        Some(SurveyCode::grouped(&symbols?))
    }

    /// Reads a typed code: case, spaces and hyphens do not matter.
    pub fn parse(input: &str) -> Result<SurveyCode, NotACode> {
        let symbols: Vec<u8> = input
            .bytes()
            .filter(|b| !matches!(b, b' ' | b'-' | b'\t'))
            .map(|b| b.to_ascii_uppercase())
            .collect();
        if symbols.len() != SurveyCode::LENGTH
            || !symbols.iter().all(|b| SurveyCode::ALPHABET.contains(b))
        {
            return Err(NotACode);
        }
        Ok(SurveyCode::grouped(&symbols))
    }

    fn grouped(symbols: &[u8]) -> SurveyCode {
        let text: Vec<String> = symbols
            .chunks(3)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        SurveyCode(text.join("-"))
    }

    /// The code as shown: `K7P-43Q-9XM`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: the SHA-256 of the code as shown, lower-case hex.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// The opaque key pairing one person's before and after questionnaires for one
/// treatment episode (the change figure; S4 §5, KM 5.39): the SHA-256 of a fixed
/// label, the person's record id and the episode's ordinal ([`experience_episode`]).
/// The issuing page recomputes it, so nothing links a code to a person in the log
/// but this key. It is pseudonymous rather than anonymous: someone holding the
/// log and a person's record id could recompute it, so results never show it.
pub fn pair_key(person: PersonId, episode: u32) -> String {
    let mut h = Sha256::new();
    h.update(b"throughcare/survey-pair/v1\n");
    h.update(person.to_string().as_bytes());
    h.update(b"\n");
    h.update(episode.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Which treatment episode a before or after questionnaire is about, counted by
/// the exits before it (0 for a person's first episode), or `None` for a survey
/// that is not paired or an after questionnaire with no episode to ask about.
///
/// Before treatment is the episode under way, or the next one when none is
/// (the questionnaire is usually given before treatment starts, when there is no
/// episode yet); after treatment is the episode under way, or the one the latest
/// exit ended. So the two halves of one episode get the same key.
pub fn experience_episode(case: &Case, profile: &Profile, survey: SurveyKind) -> Option<u32> {
    let exits = u32::try_from(case.exits.len()).unwrap_or(u32::MAX);
    match survey {
        SurveyKind::Satisfaction => None,
        SurveyKind::ExperiencePre => Some(exits),
        SurveyKind::ExperiencePost => {
            let episode = crate::work_queues::current_episode(case, profile)?;
            Some(match episode.exited_on {
                None => exits,
                Some(_) => exits.saturating_sub(1),
            })
        }
    }
}

/// A calendar quarter (January to March is the first), in local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Quarter {
    /// The year.
    pub year: i32,
    /// 1 to 4.
    pub number: u8,
}

impl Quarter {
    /// The quarter a date falls in.
    pub fn of(date: NaiveDate) -> Quarter {
        Quarter {
            year: date.year(),
            number: u8::try_from(date.month0() / 3 + 1).unwrap_or(4),
        }
    }

    /// Words: "January to March 2026".
    pub fn label(self) -> String {
        let months = match self.number {
            1 => "January to March",
            2 => "April to June",
            3 => "July to September",
            _ => "October to December",
        };
        format!("{months} {}", self.year)
    }
}

/// How the responses to one survey in one quarter spread over the scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarterCounts {
    /// Which survey.
    pub survey: SurveyKind,
    /// The quarter the responses were received in.
    pub quarter: Quarter,
    /// How many answered each point of the scale, in [`Rating::ALL`] order.
    pub counts: [u32; 5],
}

impl QuarterCounts {
    /// Every response counted.
    pub fn total(&self) -> u32 {
        self.counts.iter().sum()
    }
    /// Those satisfied or very satisfied (KPI 2.19).
    pub fn satisfied(&self) -> u32 {
        Rating::ALL
            .iter()
            .zip(self.counts)
            .filter(|(r, _)| r.is_satisfied())
            .map(|(_, n)| n)
            .sum()
    }
}

/// The change from the before to the after questionnaire, over the episodes where
/// both were answered by code (a paper response carries no pairing key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExperienceChange {
    /// Episodes with both answers.
    pub pairs: u32,
    /// After scored higher than before.
    pub improved: u32,
    /// The same score.
    pub same: u32,
    /// After scored lower.
    pub worse: u32,
    /// The sum of (after − before) scores, for the mean change.
    pub total_change: i32,
    /// Each pair's change (after − before), in the order the pairs were found.
    pub changes: Vec<i32>,
}

impl ExperienceChange {
    /// The mean change in points on the five-point scale, if any pairs.
    pub fn mean(&self) -> Option<f64> {
        (self.pairs > 0).then(|| f64::from(self.total_change) / f64::from(self.pairs))
    }
}

/// The anonymous survey results: no code, pairing key or person in them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SurveyResults {
    /// Counts per survey per quarter, newest quarter first, then in survey order.
    pub quarters: Vec<QuarterCounts>,
    /// The before-to-after change.
    pub change: ExperienceChange,
}

/// The results of the responses recorded at `establishment` (every establishment
/// when `None`). A pair counts where its after questionnaire was answered.
pub fn results(record: &ServiceRecord, establishment: Option<&EstablishmentCode>) -> SurveyResults {
    results_in(record, establishment, None)
}

/// As [`results`], for the responses received between `within`'s first and last
/// days (inclusive) when given: a pair counts when its after questionnaire was
/// received then (the annual report, S4 §6).
pub fn results_in(
    record: &ServiceRecord,
    establishment: Option<&EstablishmentCode>,
    within: Option<(NaiveDate, NaiveDate)>,
) -> SurveyResults {
    let when = |d: NaiveDate| within.is_none_or(|(first, last)| first <= d && d <= last);
    let here = |e: &EstablishmentCode| establishment.is_none_or(|x| x == e);
    let mut counts: BTreeMap<(Quarter, SurveyKind), [u32; 5]> = BTreeMap::new();
    for (_, x) in record
        .survey_responses
        .iter()
        .filter(|(e, x)| here(e) && when(x.received_on))
    {
        let row = counts
            .entry((Quarter::of(x.received_on), x.survey))
            .or_default();
        if let Some(i) = Rating::ALL.iter().position(|r| *r == x.rating) {
            row[i] += 1;
        }
    }
    let mut quarters: Vec<QuarterCounts> = counts
        .into_iter()
        .map(|((quarter, survey), counts)| QuarterCounts {
            survey,
            quarter,
            counts,
        })
        .collect();
    quarters.sort_by_key(|q| (std::cmp::Reverse(q.quarter), q.survey));

    // The first answer to each half of each pair (the after one with whether it
    // was answered here).
    type Halves = (Option<Rating>, Option<(Rating, bool)>);
    let mut pairs: BTreeMap<&str, Halves> = BTreeMap::new();
    for (e, x) in &record.survey_responses {
        let Some(pair) = x
            .code_hash
            .as_ref()
            .and_then(|h| record.survey_codes.get(h))
            .and_then(|c| c.pair.as_deref())
        else {
            continue;
        };
        let slot = pairs.entry(pair).or_default();
        match x.survey {
            SurveyKind::ExperiencePre => {
                slot.0.get_or_insert(x.rating);
            }
            SurveyKind::ExperiencePost => {
                slot.1
                    .get_or_insert((x.rating, here(e) && when(x.received_on)));
            }
            SurveyKind::Satisfaction => {}
        }
    }
    let mut change = ExperienceChange::default();
    for (pre, post) in pairs.into_values() {
        let (Some(pre), Some((post, true))) = (pre, post) else {
            continue;
        };
        let delta = i32::from(post.score()) - i32::from(pre.score());
        change.pairs += 1;
        change.total_change += delta;
        change.changes.push(delta);
        match delta.signum() {
            1 => change.improved += 1,
            0 => change.same += 1,
            _ => change.worse += 1,
        }
    }
    SurveyResults { quarters, change }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_however_it_is_typed_and_only_its_hash_is_kept() {
        let code = SurveyCode::parse(" k7p 43q-9xm ").unwrap();
        assert_eq!(code.as_str(), "K7P-43Q-9XM");
        assert_eq!(code, SurveyCode::parse("K7P43Q9XM").unwrap());
        assert!(is_code_hash(&code.hash()));
        assert_ne!(
            code.hash(),
            SurveyCode::parse("K7P-43Q-9XA").unwrap().hash()
        );
    }

    #[test]
    fn a_code_with_a_confusable_symbol_or_the_wrong_length_is_not_one() {
        for bad in [
            "K7P-43Q-9X0",
            "K7P-43Q-9XMM",
            "K7P-43Q",
            "",
            "K7P-43Q-9XO",
            "ÄÄÄ-ÄÄÄ-ÄÄÄ",
        ] {
            assert_eq!(SurveyCode::parse(bad), Err(NotACode), "{bad}");
        }
    }

    #[test]
    fn a_code_is_drawn_from_the_alphabet_only() {
        let code = SurveyCode::from_picks([0, 1, 2, 3, 4, 5, 6, 7, 22]).unwrap();
        assert_eq!(code.as_str(), "ACD-EFH-JK9");
        assert!(SurveyCode::from_picks([0, 0, 0, 0, 0, 0, 0, 0, 23]).is_none());
        assert_eq!(SurveyCode::ALPHABET.len(), 23);
        let mut distinct = SurveyCode::ALPHABET.to_vec();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 23, "no symbol twice");
    }

    #[test]
    fn a_pair_key_is_opaque_and_differs_by_person_and_episode() {
        let a = PersonId(uuid::Uuid::from_u64_pair(1, 1));
        let b = PersonId(uuid::Uuid::from_u64_pair(1, 2));
        assert!(is_code_hash(&pair_key(a, 0)));
        assert_eq!(pair_key(a, 0), pair_key(a, 0));
        assert_ne!(pair_key(a, 0), pair_key(a, 1));
        assert_ne!(pair_key(a, 0), pair_key(b, 0));
        assert!(!pair_key(a, 0).contains(&a.to_string()));
    }

    fn answer(
        record: &mut ServiceRecord,
        at: &str,
        code: Option<(&str, SurveyKind, Option<&str>)>,
        survey: SurveyKind,
        on: &str,
        rating: Rating,
    ) {
        let establishment = EstablishmentCode::parse(at).unwrap();
        let code_hash = code.map(|(c, issued_for, pair)| {
            let hash = SurveyCode::parse(c).unwrap().hash();
            record.survey_codes.insert(
                hash.clone(),
                crate::governance::IssuedCode {
                    survey: issued_for,
                    establishment: establishment.clone(),
                    pair: pair.map(str::to_string),
                    used: true,
                },
            );
            hash
        });
        record.survey_responses.push((
            establishment,
            SurveyResponse {
                code_hash,
                survey,
                received_on: on.parse().unwrap(),
                rating,
                comments: None,
            },
        ));
    }

    #[test]
    fn results_count_each_rating_per_survey_per_quarter_and_the_change_per_pair() {
        use Rating::*;
        use SurveyKind::*;
        let mut r = ServiceRecord::default();
        let sat = Satisfaction;
        answer(
            &mut r,
            "MDI",
            Some(("AAA-AAA-AAA", sat, None)),
            sat,
            "2026-03-31",
            VerySatisfied,
        );
        answer(&mut r, "MDI", None, sat, "2026-02-01", Dissatisfied);
        answer(&mut r, "MDI", None, sat, "2026-04-01", Satisfied);
        answer(&mut r, "EYI", None, sat, "2026-03-01", VeryDissatisfied);
        // One pair improved by two points, one got worse by one, one has no after yet.
        let pre = |c, p| Some((c, ExperiencePre, Some(p)));
        let post = |c, p| Some((c, ExperiencePost, Some(p)));
        answer(
            &mut r,
            "MDI",
            pre("CCC-CCC-CCC", "k1"),
            ExperiencePre,
            "2026-01-10",
            Dissatisfied,
        );
        answer(
            &mut r,
            "MDI",
            post("DDD-DDD-DDD", "k1"),
            ExperiencePost,
            "2026-05-10",
            Satisfied,
        );
        answer(
            &mut r,
            "MDI",
            pre("EEE-EEE-EEE", "k2"),
            ExperiencePre,
            "2026-01-11",
            Satisfied,
        );
        answer(
            &mut r,
            "MDI",
            post("FFF-FFF-FFF", "k2"),
            ExperiencePost,
            "2026-05-11",
            Neither,
        );
        answer(
            &mut r,
            "MDI",
            pre("HHH-HHH-HHH", "k3"),
            ExperiencePre,
            "2026-01-12",
            Neither,
        );
        // A paper "after" answer has no key and pairs with nothing.
        answer(
            &mut r,
            "MDI",
            None,
            ExperiencePost,
            "2026-05-12",
            VerySatisfied,
        );

        let mdi = EstablishmentCode::parse("MDI").unwrap();
        let res = results(&r, Some(&mdi));
        let q1 = Quarter {
            year: 2026,
            number: 1,
        };
        let row = |q: Quarter, s: SurveyKind| {
            res.quarters
                .iter()
                .find(|x| x.quarter == q && x.survey == s)
                .cloned()
                .unwrap()
        };
        assert_eq!(
            row(q1, sat).counts,
            [1, 0, 0, 1, 0],
            "EYI's answer is not here"
        );
        assert_eq!((row(q1, sat).total(), row(q1, sat).satisfied()), (2, 1));
        let q2 = Quarter {
            year: 2026,
            number: 2,
        };
        assert_eq!(row(q2, sat).counts, [0, 1, 0, 0, 0]);
        assert_eq!(row(q2, ExperiencePost).total(), 3);
        assert_eq!(res.quarters[0].quarter, q2, "newest quarter first");
        assert_eq!(
            res.change,
            ExperienceChange {
                pairs: 2,
                improved: 1,
                same: 0,
                worse: 1,
                total_change: 1,
                changes: vec![2, -1],
            }
        );
        assert_eq!(res.change.mean(), Some(0.5));
        // Every establishment together.
        assert_eq!(row_total(&results(&r, None), q1, sat), 3);
        // Nothing in the results names a code or a pairing key.
        let shown = serde_json::to_string(&res).unwrap();
        assert!(
            !shown.contains("k1")
                && !shown.contains(&SurveyCode::parse("AAA-AAA-AAA").unwrap().hash())
        );
    }

    fn row_total(res: &SurveyResults, q: Quarter, s: SurveyKind) -> u32 {
        res.quarters
            .iter()
            .filter(|x| x.quarter == q && x.survey == s)
            .map(QuarterCounts::total)
            .sum()
    }

    #[test]
    fn quarters_are_calendar_quarters() {
        let q = Quarter::of(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
        assert_eq!((q.year, q.number), (2026, 1));
        assert_eq!(q.label(), "January to March 2026");
        assert_eq!(
            Quarter::of(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()).label(),
            "October to December 2026"
        );
    }
}
