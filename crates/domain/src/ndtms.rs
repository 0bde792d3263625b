//! The NDTMS extract (KM 3.3.6, 4.28; REQUIREMENTS §16 (d); docs/ndtms.md): a
//! person-level file of the people in structured treatment in a period who consented
//! to NDTMS submission, in the core data set's fields, with a completeness check that
//! names every missing mandatory field (KM 4.28.5: "100% data quality").
//!
//! The data set — its version, its fields in order, which are mandatory, and the code
//! lists that turn our codes into the data set's — is data
//! (`data/ndtms-core-dataset.json`), so a new data set version is a data change.
//!
//! Structure (docs/ndtms.md §2): one row per modality of an episode, then one row per
//! Treatment Outcomes Profile of the episode; client and episode fields repeat on
//! every row, the modality fields are blank on a TOP row and the TOP fields on a
//! modality row. An episode is D4 of docs/kpis.md; a modality is a structured start
//! (D3). People without live NDTMS consent as at the cut are not in it at all.

use crate::clinical::ClinicalStep;
use crate::consent::ConsentPurpose;
use crate::events::{EventKind, RecordedEvent};
use crate::identifiers::EstablishmentCode;
use crate::interventions::InterventionStatus;
use crate::outcomes::{TopSubstance, TreatmentOutcomesProfile};
use crate::record_ids::PersonId;
use crate::release::TreatmentExit;
use crate::returns::cut::{Cut, PersonRecord, event_date};
use crate::returns::period::Period;
use crate::returns::shared::{Start, episodes, structured_starts};
use crate::screening::Screening;
use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// When a field must hold a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Required {
    /// On every row its section applies to.
    Always,
    /// On a row of a discharged episode.
    WhenDischarged,
    /// Never (filled when known).
    No,
}

/// Which part of the record a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The person: on every row.
    Client,
    /// The treatment episode: on every row.
    Episode,
    /// A modality: on modality rows only.
    Modality,
    /// A Treatment Outcomes Profile: on TOP rows only.
    Top,
}

/// One field of the data set, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Field {
    /// Our item: what Throughcare fills it from (fixed in code).
    pub item: String,
    /// The field's name in the data set (the CSV header).
    pub name: String,
    /// The data set's short name, as we believe it (to be checked; docs/ndtms.md).
    #[serde(default)]
    pub ndtms_name: Option<String>,
    /// The part of the record it belongs to.
    pub section: Section,
    /// When it must hold a value.
    pub required: Required,
    /// Where its value comes from, in words (docs/ndtms.md).
    pub source: String,
}

/// One code list: our codes to the data set's.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CodeList {
    /// `verified` once checked against the technical definitions, else `to_verify`.
    pub status: String,
    /// Our code → the data set's code.
    pub map: BTreeMap<String, String>,
}

/// The data set as the data file describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Dataset {
    /// Its name.
    pub dataset: String,
    /// Its version (printed with every extract).
    pub version: String,
    /// How far the names and codes have been checked.
    pub status: String,
    /// The fields, in file order.
    pub fields: Vec<Field>,
    /// The code lists, by name.
    pub codes: BTreeMap<String, CodeList>,
}

impl Dataset {
    /// The data set's code for our `code` in list `list`, if mapped.
    pub fn code(&self, list: &str, code: &str) -> Option<String> {
        self.codes.get(list)?.map.get(code).cloned()
    }
}

/// Every item this module can fill; a data file naming another fails its test.
pub const ITEMS: [&str; 43] = [
    "client_id",
    "agency",
    "first_initial",
    "surname_initial",
    "date_of_birth",
    "sex",
    "postcode",
    "episode_id",
    "referral_date",
    "referral_source",
    "triage_date",
    "drug1",
    "drug2",
    "drug3",
    "injecting_status",
    "discharge_date",
    "discharge_reason",
    "modality",
    "modality_start",
    "modality_end",
    "top_date",
    "top_stage",
    "top_alcohol_days",
    "top_opiate_days",
    "top_crack_days",
    "top_cocaine_days",
    "top_amphetamine_days",
    "top_cannabis_days",
    "top_other_drug_days",
    "top_injecting_days",
    "top_shared_needles",
    "top_shared_other_equipment",
    "top_shoplifting_days",
    "top_drug_selling_days",
    "top_other_theft_days",
    "top_assault_days",
    "top_psychological_health",
    "top_paid_work_days",
    "top_education_days",
    "top_acute_housing_problem",
    "top_risk_of_eviction",
    "top_physical_health",
    "top_quality_of_life",
];

/// The data set that ships in the binary.
pub fn dataset() -> &'static Dataset {
    static DATASET: OnceLock<Dataset> = OnceLock::new();
    DATASET.get_or_init(|| {
        // The file is part of the build: a malformed one fails `the_dataset_loads`.
        serde_json::from_str(include_str!("../data/ndtms-core-dataset.json")).unwrap_or(Dataset {
            dataset: String::new(),
            version: String::new(),
            status: String::new(),
            fields: Vec::new(),
            codes: BTreeMap::new(),
        })
    })
}

/// A mandatory field with no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingField {
    /// The person whose row it is (for the completeness page's link; not in the file).
    pub person: PersonId,
    /// The row's EPISODE_ID.
    pub episode: String,
    /// The row's number in the file (1 is the first row after the header).
    pub row: usize,
    /// The field's name in the data set.
    pub field: String,
}

/// An extract: the file's rows (the header first) and what it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extract {
    /// The data set's version.
    pub dataset_version: String,
    /// The period it covers.
    pub period: Period,
    /// The as-at instant's sequence number: the last event in the cut.
    pub last_seq: i64,
    /// The header (field names), then one row per modality or TOP.
    pub rows: Vec<Vec<String>>,
    /// The person of each data row, in row order (never written to the file).
    pub people: Vec<PersonId>,
    /// Every missing mandatory field, row by row.
    pub problems: Vec<MissingField>,
}

impl Extract {
    /// Whether every mandatory field of every row holds a value (KM 4.28.5).
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The pseudonymous CLIENT_ID: the first 20 hex digits of SHA-256 over the profile
/// id and the person id. Stable from one extract to the next; not the prison number
/// or name, and not reversible without the record.
pub fn client_id(profile_id: &str, person: PersonId) -> String {
    let digest = Sha256::digest(format!("ndtms-client:{profile_id}:{person}").as_bytes());
    hex::encode(digest)[..20].to_ascii_uppercase()
}

/// One episode with what its rows share.
struct EpisodeFacts<'a> {
    started_on: NaiveDate,
    /// The exit that closes it, when dated by the period's last day.
    exit: Option<&'a TreatmentExit>,
}

/// One data row before it is written out.
enum RowKind<'a> {
    Modality {
        code: Option<String>,
        start: NaiveDate,
        end: Option<NaiveDate>,
    },
    Top(&'a TreatmentOutcomesProfile),
}

struct Row<'a> {
    establishment: EstablishmentCode,
    kind: RowKind<'a>,
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn initial(name: &str) -> Option<String> {
    name.trim()
        .chars()
        .next()
        .filter(|c| c.is_alphabetic())
        .map(|c| c.to_uppercase().collect())
}

fn serde_code<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The modality of a structured start, through the code lists.
fn modality_of(ds: &Dataset, cut: &Cut<'_>, p: &PersonRecord, s: &Start<'_>) -> Option<String> {
    match &s.event.kind {
        EventKind::ClinicalEventRecorded(c) => ds.code("modality_by_clinical_step", c.step.code()),
        EventKind::InterventionUpdated(u) => {
            let code = course_of(p, s.event)
                .map(|c| c.intervention.clone())
                .unwrap_or_else(|| u.intervention.clone());
            ds.code("modality_by_intervention", &code).or_else(|| {
                cut.profile
                    .intervention(&code)
                    .and_then(|d| ds.code("modality_by_family", d.family.code()))
            })
        }
        _ => None,
    }
}

fn course_of<'a>(p: &'a PersonRecord, e: &RecordedEvent) -> Option<&'a crate::case::Course> {
    let EventKind::InterventionUpdated(u) = &e.kind else {
        return None;
    };
    let root = p.case.identity(u.course.unwrap_or(e.id));
    p.case
        .courses
        .iter()
        .find(|c| p.case.identity(c.id) == root)
}

/// Where a modality ended by its own record: the course completed or dropped out; a
/// detox completed; prescribing dropped out of.
fn own_end(p: &PersonRecord, s: &Start<'_>) -> Option<NaiveDate> {
    match &s.event.kind {
        EventKind::InterventionUpdated(_) => course_of(p, s.event).and_then(|c| {
            c.steps
                .iter()
                .find(|(st, on)| {
                    matches!(
                        st,
                        InterventionStatus::Completed | InterventionStatus::DroppedOut
                    ) && *on >= s.on
                })
                .map(|(_, on)| *on)
        }),
        EventKind::ClinicalEventRecorded(c) => {
            let ends = |step: &ClinicalStep| match (&c.step, step) {
                (
                    ClinicalStep::DetoxStarted { substance: a, .. },
                    ClinicalStep::DetoxCompleted { substance: b, .. },
                ) => a == b,
                (
                    ClinicalStep::PrescribingStarted { .. },
                    ClinicalStep::DroppedOutOfPrescribing,
                ) => true,
                _ => false,
            };
            p.of(|k| match k {
                EventKind::ClinicalEventRecorded(x) => Some(x),
                _ => None,
            })
            .filter(|(e, x)| e.seq != s.event.seq && ends(&x.step))
            .map(|(e, _)| event_date(e))
            .find(|on| *on >= s.on)
        }
        _ => None,
    }
}

/// The screening an episode's substances and injecting status come from: the latest
/// on or before its start, else the first after it.
fn screening_for(p: &PersonRecord, started_on: NaiveDate) -> Option<&Screening> {
    let s = &p.case.screenings;
    s.iter()
        .filter(|(_, x)| x.screened_on <= started_on)
        .max_by_key(|(_, x)| x.screened_on)
        .or_else(|| {
            s.iter()
                .filter(|(_, x)| x.screened_on > started_on)
                .min_by_key(|(_, x)| x.screened_on)
        })
        .map(|(_, x)| x)
}

fn top_value(ds: &Dataset, t: &TreatmentOutcomesProfile, item: &str) -> Option<String> {
    let days = |s: TopSubstance| t.days_used(s).map(|d| d.to_string());
    let yes_no = |b: bool| ds.code("yes_no", if b { "yes" } else { "no" });
    match item {
        "top_date" => Some(iso(t.completed_on)),
        "top_stage" => ds.code("top_stage", t.stage.code()),
        "top_alcohol_days" => days(TopSubstance::Alcohol),
        "top_opiate_days" => days(TopSubstance::Opiates),
        "top_crack_days" => days(TopSubstance::Crack),
        "top_cocaine_days" => days(TopSubstance::Cocaine),
        "top_amphetamine_days" => days(TopSubstance::Amphetamines),
        "top_cannabis_days" => days(TopSubstance::Cannabis),
        "top_other_drug_days" => days(TopSubstance::Other),
        "top_injecting_days" => Some(t.injecting_days.to_string()),
        "top_shared_needles" => yes_no(t.shared_needles),
        "top_shared_other_equipment" => yes_no(t.shared_other_equipment),
        "top_shoplifting_days" => Some(t.shoplifting_days.to_string()),
        "top_drug_selling_days" => Some(t.drug_selling_days.to_string()),
        "top_other_theft_days" => Some(t.other_theft_days.to_string()),
        "top_assault_days" => Some(t.assault_days.to_string()),
        "top_psychological_health" => Some(t.psychological_health.to_string()),
        "top_paid_work_days" => Some(t.paid_work_days.to_string()),
        "top_education_days" => Some(t.education_days.to_string()),
        "top_acute_housing_problem" => yes_no(t.acute_housing_problem),
        "top_risk_of_eviction" => yes_no(t.risk_of_eviction),
        "top_physical_health" => Some(t.physical_health.to_string()),
        "top_quality_of_life" => Some(t.quality_of_life.to_string()),
        _ => None,
    }
}

/// The values of one person-episode's client and episode fields, by item.
fn episode_values(
    ds: &Dataset,
    cut: &Cut<'_>,
    p: &PersonRecord,
    ep: &EpisodeFacts<'_>,
) -> BTreeMap<&'static str, String> {
    let mut v = BTreeMap::new();
    let client = client_id(&cut.profile.id, p.person);
    v.insert(
        "episode_id",
        format!("{client}-{}", ep.started_on.format("%Y%m%d")),
    );
    v.insert("client_id", client);
    if let Some(d) = &p.case.details {
        if let Some(i) = initial(&d.given_name) {
            v.insert("first_initial", i);
        }
        if let Some(i) = initial(&d.family_name) {
            v.insert("surname_initial", i);
        }
        v.insert("date_of_birth", iso(d.date_of_birth));
        if let Some(c) = ds.code("sex", &serde_code(&d.equality.sex)) {
            v.insert("sex", c);
        }
        if let Some(pc) = &d.home_postcode {
            v.insert("postcode", pc.as_str().to_string());
        }
    }
    let referral = p
        .case
        .referrals
        .iter()
        .filter(|r| r.referral.referred_on <= ep.started_on)
        .max_by_key(|r| r.referral.referred_on);
    if let Some(r) = referral {
        v.insert("referral_date", iso(r.referral.referred_on));
        if let Some(c) = ds.code("referral_source", r.referral.source.code()) {
            v.insert("referral_source", c);
        }
        let triage = r.first_assessment.map(|(_, on)| on).or_else(|| {
            p.case
                .assessments
                .iter()
                .map(|(_, a)| a.assessed_on)
                .filter(|on| *on >= r.referral.referred_on && *on <= ep.started_on)
                .min()
        });
        if let Some(t) = triage {
            v.insert("triage_date", iso(t));
        }
    }
    if let Some(s) = screening_for(p, ep.started_on) {
        for (item, sub) in ["drug1", "drug2", "drug3"]
            .into_iter()
            .zip(&s.problem_substances)
        {
            if let Some(c) = ds.code("substance", &sub.code()) {
                v.insert(item, c);
            }
        }
        if let Some(c) = ds.code("injecting_status", &serde_code(&s.injecting)) {
            v.insert("injecting_status", c);
        }
    }
    if let Some(x) = ep.exit {
        v.insert("discharge_date", iso(x.exited_on));
        if let Some(c) = ds.code("discharge_reason", x.reason.code()) {
            v.insert("discharge_reason", c);
        }
    }
    v
}

/// The person's episodes in structured treatment during `period`, with their rows.
fn person_rows<'a>(
    ds: &Dataset,
    cut: &Cut<'_>,
    p: &'a PersonRecord,
    period: &Period,
) -> Vec<(EpisodeFacts<'a>, Vec<Row<'a>>)> {
    let starts = structured_starts(cut.profile, p);
    let exits: Vec<(&RecordedEvent, &TreatmentExit)> = p
        .of(|k| match k {
            EventKind::TreatmentExited(x) => Some(x),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    let mut after: Option<NaiveDate> = None;
    for ep in episodes(cut.profile, p) {
        let this_after = after;
        after = ep.exited_on.and_then(|x| x.succ_opt());
        // In structured treatment during the period: started by its last day and not
        // exited before its first.
        if ep.started_on > period.last || ep.exited_on.is_some_and(|x| x < period.first) {
            continue;
        }
        let exit = ep
            .exited_on
            .filter(|x| *x <= period.last)
            .and_then(|x| exits.iter().rev().find(|(_, e)| e.exited_on == x))
            .map(|(_, e)| *e);
        let facts = EpisodeFacts {
            started_on: ep.started_on,
            exit,
        };
        let ends_on = exit.map(|x| x.exited_on);
        let mut rows: Vec<Row<'a>> = Vec::new();
        for s in &starts {
            let in_episode = s.on >= ep.started_on && ep.exited_on.is_none_or(|x| s.on <= x);
            if !in_episode || s.on > period.last {
                continue;
            }
            let code = modality_of(ds, cut, p, s);
            let end = own_end(p, s)
                .filter(|e| *e <= period.last)
                .map(|e| ends_on.map_or(e, |x| e.min(x)))
                .or(ends_on);
            let duplicate = rows.iter().any(|r| {
                matches!(&r.kind, RowKind::Modality { code: c, start, .. } if *c == code && *start == s.on)
            });
            if !duplicate {
                rows.push(Row {
                    establishment: s.event.establishment.clone(),
                    kind: RowKind::Modality {
                        code,
                        start: s.on,
                        end,
                    },
                });
            }
        }
        // The episode's TOPs: from its referral (a start TOP is often done at
        // assessment) to its exit or the period's end, never before the previous
        // episode's exit.
        let last = ends_on.unwrap_or(period.last).min(period.last);
        let first = p
            .case
            .referrals
            .iter()
            .map(|r| r.referral.referred_on)
            .filter(|d| *d <= ep.started_on && this_after.is_none_or(|a| *d >= a))
            .max()
            .unwrap_or(ep.started_on)
            .max(this_after.unwrap_or(NaiveDate::MIN));
        for (e, t) in p.of(|k| match k {
            EventKind::TopCompleted(t) => Some(t),
            _ => None,
        }) {
            if t.completed_on >= first && t.completed_on <= last {
                rows.push(Row {
                    establishment: e.establishment.clone(),
                    kind: RowKind::Top(t),
                });
            }
        }
        out.push((facts, rows));
    }
    out
}

/// The NDTMS extract over `cut` for `period`: people with live NDTMS consent as at the
/// cut (KM 3.3.6) in structured treatment during the period, rows at `establishment`
/// only when one is given, and every missing mandatory field (KM 4.28.5).
pub fn extract(
    cut: &Cut<'_>,
    period: &Period,
    establishment: Option<&EstablishmentCode>,
) -> Extract {
    extract_with(dataset(), cut, period, establishment)
}

/// [`extract`] with a given data set (tests use altered ones).
pub fn extract_with(
    ds: &Dataset,
    cut: &Cut<'_>,
    period: &Period,
    establishment: Option<&EstablishmentCode>,
) -> Extract {
    let today = cut.today();
    let mut keyed: Vec<Keyed> = Vec::new();
    for p in cut.people.values() {
        // Refused, withdrawn or never asked: not in the extract at all.
        if !p.case.consents.is_live(ConsentPurpose::Ndtms, today) {
            continue;
        }
        for (ep, rows) in person_rows(ds, cut, p, period) {
            let base = episode_values(ds, cut, p, &ep);
            for row in rows {
                if establishment.is_some_and(|e| *e != row.establishment) {
                    continue;
                }
                let mut v = base.clone();
                v.insert("agency", row.establishment.as_str().to_string());
                let (order, on, modality_row) = match &row.kind {
                    RowKind::Modality { code, start, end } => {
                        if let Some(c) = code {
                            v.insert("modality", c.clone());
                        }
                        v.insert("modality_start", iso(*start));
                        if let Some(e) = end {
                            v.insert("modality_end", iso(*e));
                        }
                        (0u8, *start, true)
                    }
                    RowKind::Top(t) => {
                        for item in ITEMS.iter().filter(|i| i.starts_with("top_")) {
                            if let Some(x) = top_value(ds, t, item) {
                                v.insert(item, x);
                            }
                        }
                        (1u8, t.completed_on, false)
                    }
                };
                let cells: Vec<String> = ds
                    .fields
                    .iter()
                    .map(|f| {
                        if applies(f.section, modality_row) {
                            v.get(f.item.as_str()).cloned().unwrap_or_default()
                        } else {
                            String::new()
                        }
                    })
                    .collect();
                let key = (
                    v.get("client_id").cloned().unwrap_or_default(),
                    v.get("episode_id").cloned().unwrap_or_default(),
                    order,
                    on,
                    cells.join(","),
                );
                keyed.push(Keyed {
                    key,
                    person: p.person,
                    cells,
                    modality_row,
                    discharged: ep.exit.is_some(),
                });
            }
        }
    }
    keyed.sort_by(|a, b| a.key.cmp(&b.key));
    let mut rows = vec![ds.fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>()];
    let mut people = Vec::new();
    let mut problems = Vec::new();
    for (n, k) in keyed.into_iter().enumerate() {
        for (f, cell) in ds.fields.iter().zip(&k.cells) {
            let needed = match f.required {
                Required::Always => true,
                Required::WhenDischarged => k.discharged,
                Required::No => false,
            };
            if applies(f.section, k.modality_row) && needed && cell.is_empty() {
                problems.push(MissingField {
                    person: k.person,
                    episode: k.key.1.clone(),
                    row: n + 1,
                    field: f.name.clone(),
                });
            }
        }
        people.push(k.person);
        rows.push(k.cells);
    }
    Extract {
        dataset_version: ds.version.clone(),
        period: period.clone(),
        last_seq: cut.last_seq,
        rows,
        people,
        problems,
    }
}

/// Whether a field of `section` belongs on a modality row (`modality_row`) or a TOP row.
fn applies(section: Section, modality_row: bool) -> bool {
    match section {
        Section::Client | Section::Episode => true,
        Section::Modality => modality_row,
        Section::Top => !modality_row,
    }
}

/// One data row with its sort key and what the completeness check needs.
struct Keyed {
    /// (CLIENT_ID, EPISODE_ID, modality before TOP, date, the cells): the file's order
    /// depends on nothing but the pseudonymous identifiers and the row itself.
    key: (String, String, u8, NaiveDate, String),
    person: PersonId,
    cells: Vec<String>,
    modality_row: bool,
    discharged: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{Assessment, AssessmentKind};
    use crate::consent::{ConsentDecision, ConsentRecord, ConsentWithdrawal};
    use crate::identifiers::Postcode;
    use crate::interventions::{InterventionFamily, InterventionTarget, InterventionUpdate};
    use crate::outcomes::{SubstanceUse, TopStage};
    use crate::people::Sex;
    use crate::profile::Profile;
    use crate::referrals::{Referral, ReferralSource};
    use crate::release::ExitReason;
    use crate::screening::{InjectingStatus, ScreeningSetting, Substance};
    use crate::testkit::{Log, at, code, d, details};

    fn period(name: &str) -> Period {
        Period::parse(name).unwrap()
    }

    fn consent(decision: ConsentDecision, on: &str) -> EventKind {
        EventKind::ConsentRecorded(ConsentRecord {
            purpose: ConsentPurpose::Ndtms,
            decision,
            decided_on: d(on),
        })
    }

    fn referral(source: ReferralSource, on: &str) -> EventKind {
        EventKind::ReferralMade(Referral {
            source,
            referred_on: d(on),
            note: None,
        })
    }

    fn assessed(on: &str) -> EventKind {
        EventKind::AssessmentCompleted(Assessment {
            kind: AssessmentKind::Initial,
            assessed_on: d(on),
            referral: None,
            summary: "Opiate use, wants treatment.".into(),
            structured_treatment_needed: true,
            comprehensive: None,
        })
    }

    fn screened(on: &str, substances: Vec<Substance>, injecting: InjectingStatus) -> EventKind {
        EventKind::ScreeningCompleted(Screening {
            setting: ScreeningSetting::OnReferral,
            screened_on: d(on),
            audit: None,
            audit_c: None,
            problem_substances: substances,
            injecting,
            offending_linked: false,
            structured_treatment_needed: true,
        })
    }

    fn step(
        code: &str,
        status: InterventionStatus,
        on: &str,
        course: Option<crate::record_ids::EventId>,
    ) -> EventKind {
        EventKind::InterventionUpdated(InterventionUpdate {
            intervention: code.into(),
            target: InterventionTarget::Opiates,
            status,
            on: d(on),
            course,
            language: None,
            note: None,
        })
    }

    fn top(on: &str, stage: TopStage, with_substances: bool) -> EventKind {
        let uses = if with_substances {
            [
                TopSubstance::Alcohol,
                TopSubstance::Opiates,
                TopSubstance::Crack,
                TopSubstance::Cocaine,
                TopSubstance::Amphetamines,
                TopSubstance::Cannabis,
            ]
            .into_iter()
            .map(|s| SubstanceUse {
                substance: s,
                days: if s == TopSubstance::Opiates { 20 } else { 0 },
                typical_amount: None,
            })
            .collect()
        } else {
            vec![]
        };
        EventKind::TopCompleted(TreatmentOutcomesProfile {
            completed_on: d(on),
            stage,
            substance_use: uses,
            other_substance: None,
            injecting_days: 3,
            shared_needles: true,
            shared_other_equipment: false,
            shoplifting_days: 2,
            drug_selling_days: 0,
            other_theft_days: 0,
            assault_days: 0,
            psychological_health: 7,
            physical_health: 9,
            quality_of_life: 6,
            paid_work_days: 0,
            education_days: 4,
            acute_housing_problem: false,
            risk_of_eviction: true,
        })
    }

    fn exit(on: &str, reason: ExitReason) -> EventKind {
        EventKind::TreatmentExited(TreatmentExit {
            exited_on: d(on),
            reason,
            note: None,
        })
    }

    /// Records `kind` for `p` as appended at midday UK time on `on`.
    fn on(log: &mut Log, p: PersonId, day: &str, kind: EventKind) -> crate::record_ids::EventId {
        log.now = crate::testkit::midday(day);
        log.record(p, kind).unwrap()[0]
    }

    /// A fully recorded person at MDI: registered with a postcode, referred,
    /// screened, assessed, consenting, keyworking started on 6 July 2026 and a start
    /// TOP on 3 July; `consented` decides the NDTMS consent.
    fn treated(
        log: &mut Log,
        n: u64,
        prison_number: &str,
        consented: Option<ConsentDecision>,
    ) -> PersonId {
        let p = PersonId(uuid::Uuid::from_u64_pair(42, n));
        let mut who = details(prison_number);
        who.given_name = "alex".into();
        who.family_name = "Rowe".into();
        who.date_of_birth = d("1988-02-29");
        who.equality.sex = Sex::Male;
        who.home_postcode = Some(Postcode::parse("ME14 1XQ").unwrap());
        on(log, p, "2026-06-20", EventKind::PersonRegistered(who));
        log.receive(p);
        on(
            log,
            p,
            "2026-06-29",
            referral(ReferralSource::SelfReferralApplication, "2026-06-29"),
        );
        on(
            log,
            p,
            "2026-07-01",
            screened(
                "2026-07-01",
                vec![Substance::Heroin, Substance::Crack],
                InjectingStatus::Current,
            ),
        );
        on(log, p, "2026-07-02", assessed("2026-07-02"));
        if let Some(decision) = consented {
            on(log, p, "2026-07-02", consent(decision, "2026-07-02"));
        }
        on(
            log,
            p,
            "2026-07-03",
            top("2026-07-03", TopStage::Start, true),
        );
        on(
            log,
            p,
            "2026-07-06",
            step(
                "keyworking",
                InterventionStatus::Started,
                "2026-07-06",
                None,
            ),
        );
        p
    }

    fn q3(log: &Log, as_at: &str) -> Extract {
        let cut = Cut::new(&log.profile, &log.events, at(as_at));
        extract(&cut, &period("2026Q3"), None)
    }

    fn column(x: &Extract, name: &str) -> usize {
        x.rows[0]
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    fn cell<'a>(x: &'a Extract, row: usize, name: &str) -> &'a str {
        &x.rows[row][column(x, name)]
    }

    #[test]
    fn the_dataset_loads_and_maps_every_code_we_record() {
        let ds = dataset();
        assert!(
            ds.version.starts_with("throughcare-ndtms-"),
            "{}",
            ds.version
        );
        assert_eq!(ds.fields.len(), ITEMS.len(), "every item has a field");
        for f in &ds.fields {
            assert!(ITEMS.contains(&f.item.as_str()), "unknown item {}", f.item);
        }
        let mut names: Vec<&str> = ds.fields.iter().map(|f| f.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ds.fields.len(), "field names are unique");
        for s in ReferralSource::ALL {
            assert!(ds.code("referral_source", s.code()).is_some(), "{s:?}");
        }
        for s in Substance::ALL {
            assert!(ds.code("substance", &s.code()).is_some(), "{s:?}");
        }
        for i in [
            InjectingStatus::Current,
            InjectingStatus::Previous,
            InjectingStatus::Never,
            InjectingStatus::NotStated,
        ] {
            assert!(
                ds.code("injecting_status", &serde_code(&i)).is_some(),
                "{i:?}"
            );
        }
        for s in [Sex::Male, Sex::Female, Sex::NotStated] {
            assert!(ds.code("sex", &serde_code(&s)).is_some(), "{s:?}");
        }
        for r in ExitReason::ALL {
            assert!(ds.code("discharge_reason", r.code()).is_some(), "{r:?}");
        }
        for s in TopStage::ALL {
            assert!(ds.code("top_stage", s.code()).is_some(), "{s:?}");
        }
        for f in InterventionFamily::ALL {
            assert!(ds.code("modality_by_family", f.code()).is_some(), "{f:?}");
        }
        for c in [
            "prescribing_started",
            "detox_started",
            "benzodiazepine_detox_started",
        ] {
            assert!(ds.code("modality_by_clinical_step", c).is_some(), "{c}");
        }
        for profile in ["kent-medway", "single-prison"] {
            let p = Profile::builtin(profile).unwrap();
            for i in p.interventions.iter().filter(|i| i.structured_treatment) {
                assert!(
                    ds.code("modality_by_intervention", &i.code).is_some()
                        || ds.code("modality_by_family", i.family.code()).is_some(),
                    "{profile}: {}",
                    i.code
                );
            }
        }
    }

    #[test]
    fn a_consented_person_appears_with_the_data_sets_codes() {
        let mut log = Log::new();
        let p = treated(&mut log, 1, "A1234BC", Some(ConsentDecision::Given));
        on(
            &mut log,
            p,
            "2026-09-10",
            exit("2026-09-10", ExitReason::TransferredInCustody),
        );
        let x = q3(&log, "2026-10-05T09:00:00Z");
        assert_eq!(
            x.rows.len(),
            3,
            "header, the keyworking modality and the start TOP: {:#?}",
            x.rows
        );
        assert_eq!(x.people, vec![p, p]);
        let client = client_id("kent-medway", p);
        assert_eq!(client.len(), 20);
        // Row 1: the modality, hand-checked against data/ndtms-core-dataset.json.
        for (name, want) in [
            ("CLIENT_ID", client.as_str()),
            ("AGENCY", "MDI"),
            ("FIRST_INITIAL", "A"),
            ("SURNAME_INITIAL", "R"),
            ("DATE_OF_BIRTH", "1988-02-29"),
            ("SEX", "1"),
            ("POSTCODE", "ME14 1XQ"),
            ("EPISODE_ID", &format!("{client}-20260706")),
            ("REFERRAL_DATE", "2026-06-29"),
            ("REFERRAL_SOURCE", "SELF"),
            ("TRIAGE_DATE", "2026-07-02"),
            ("DRUG1", "HEROIN"),
            ("DRUG2", "CRACK"),
            ("DRUG3", ""),
            ("INJECTING_STATUS", "C"),
            ("DISCHARGE_DATE", "2026-09-10"),
            ("DISCHARGE_REASON", "TRANSFERRED_IN_CUSTODY"),
            ("MODALITY", "PSYCH"),
            ("MODALITY_START", "2026-07-06"),
            ("MODALITY_END", "2026-09-10"),
            ("TOP_DATE", ""),
        ] {
            assert_eq!(cell(&x, 1, name), want, "row 1 {name}");
        }
        // Row 2: the start TOP, on the same client and episode.
        for (name, want) in [
            ("EPISODE_ID", format!("{client}-20260706").as_str()),
            ("MODALITY", ""),
            ("TOP_DATE", "2026-07-03"),
            ("TOP_STAGE", "S"),
            ("TOP_OPIATE_DAYS", "20"),
            ("TOP_ALCOHOL_DAYS", "0"),
            ("TOP_INJECTING_DAYS", "3"),
            ("TOP_SHARED_NEEDLES", "Y"),
            ("TOP_SHARED_OTHER_EQUIPMENT", "N"),
            ("TOP_RISK_OF_EVICTION", "Y"),
            ("TOP_PSYCHOLOGICAL_HEALTH", "7"),
            ("TOP_QUALITY_OF_LIFE", "6"),
        ] {
            assert_eq!(cell(&x, 2, name), want, "row 2 {name}");
        }
        assert!(x.is_complete(), "{:#?}", x.problems);
        let file = x
            .rows
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(",");
        assert!(
            !file.contains("A1234BC") && !file.contains("Rowe"),
            "{file}"
        );
    }

    #[test]
    fn refused_withdrawn_and_never_asked_people_are_not_in_it_at_all() {
        let mut log = Log::new();
        let given = treated(&mut log, 1, "A1111AA", Some(ConsentDecision::Given));
        treated(&mut log, 2, "B2222BB", Some(ConsentDecision::Refused));
        treated(&mut log, 3, "C3333CC", None);
        let withdrawn = treated(&mut log, 4, "D4444DD", Some(ConsentDecision::Given));
        on(
            &mut log,
            withdrawn,
            "2026-08-01",
            EventKind::ConsentWithdrawn(ConsentWithdrawal {
                purpose: ConsentPurpose::Ndtms,
                withdrawn_on: d("2026-08-01"),
            }),
        );
        let x = q3(&log, "2026-10-05T09:00:00Z");
        assert_eq!(x.people, vec![given, given]);
        let ids: Vec<&str> = x.rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert!(
            ids.iter().all(|id| *id == client_id("kent-medway", given)),
            "{ids:?}"
        );
        assert!(x.problems.iter().all(|m| m.person == given));
    }

    #[test]
    fn a_missing_mandatory_field_is_named_on_its_row() {
        let mut log = Log::new();
        let p = PersonId(uuid::Uuid::from_u64_pair(42, 9));
        on(
            &mut log,
            p,
            "2026-06-20",
            EventKind::PersonRegistered(details("E5555EE")),
        );
        log.receive(p);
        on(
            &mut log,
            p,
            "2026-07-02",
            consent(ConsentDecision::Given, "2026-07-02"),
        );
        on(
            &mut log,
            p,
            "2026-07-07",
            top("2026-07-07", TopStage::Review, false),
        );
        on(
            &mut log,
            p,
            "2026-07-06",
            step(
                "keyworking",
                InterventionStatus::Started,
                "2026-07-06",
                None,
            ),
        );
        on(
            &mut log,
            p,
            "2026-09-01",
            exit("2026-09-01", ExitReason::DroppedOut),
        );
        let x = q3(&log, "2026-10-05T09:00:00Z");
        let named = |row: usize| -> Vec<&str> {
            x.problems
                .iter()
                .filter(|m| m.row == row)
                .map(|m| m.field.as_str())
                .collect()
        };
        // No postcode, no referral, no assessment, no screening recorded.
        assert_eq!(
            named(1),
            [
                "POSTCODE",
                "REFERRAL_DATE",
                "REFERRAL_SOURCE",
                "TRIAGE_DATE",
                "DRUG1",
                "INJECTING_STATUS"
            ]
        );
        // The TOP row also lacks the substance days the form left blank.
        let top_row = named(2);
        assert!(
            top_row.contains(&"TOP_ALCOHOL_DAYS") && top_row.contains(&"TOP_CANNABIS_DAYS"),
            "{top_row:?}"
        );
        assert!(!top_row.contains(&"TOP_OTHER_DRUG_DAYS"), "optional");
        assert!(
            x.problems
                .iter()
                .all(|m| m.person == p && m.episode.ends_with("-20260706"))
        );
        assert!(!x.is_complete());
    }

    #[test]
    fn a_discharge_without_a_mapped_reason_is_named() {
        let mut log = Log::new();
        let p = treated(&mut log, 1, "A1234BC", Some(ConsentDecision::Given));
        on(
            &mut log,
            p,
            "2026-09-10",
            exit("2026-09-10", ExitReason::Died),
        );
        let mut ds = dataset().clone();
        if let Some(list) = ds.codes.get_mut("discharge_reason") {
            list.map.remove("died");
        }
        let cut = Cut::new(&log.profile, &log.events, at("2026-10-05T09:00:00Z"));
        let x = extract_with(&ds, &cut, &period("2026Q3"), None);
        let fields: Vec<&str> = x.problems.iter().map(|m| m.field.as_str()).collect();
        assert_eq!(
            fields,
            ["DISCHARGE_REASON", "DISCHARGE_REASON"],
            "on both rows"
        );
    }

    #[test]
    fn a_person_not_in_structured_treatment_is_not_in_it() {
        let mut log = Log::new();
        let p = PersonId(uuid::Uuid::from_u64_pair(42, 5));
        on(
            &mut log,
            p,
            "2026-06-20",
            EventKind::PersonRegistered(details("F6666FF")),
        );
        log.receive(p);
        on(
            &mut log,
            p,
            "2026-07-02",
            consent(ConsentDecision::Given, "2026-07-02"),
        );
        on(
            &mut log,
            p,
            "2026-07-03",
            screened(
                "2026-07-03",
                vec![Substance::Alcohol],
                InjectingStatus::Never,
            ),
        );
        // Brief advice is not structured treatment (the profile's catalogue).
        on(
            &mut log,
            p,
            "2026-07-06",
            step(
                "brief-advice",
                InterventionStatus::Started,
                "2026-07-06",
                None,
            ),
        );
        let x = q3(&log, "2026-10-05T09:00:00Z");
        assert_eq!(x.rows.len(), 1, "the header only: {:#?}", x.rows);
        // A structured start in the next quarter is not in this one either.
        on(
            &mut log,
            p,
            "2026-10-02",
            step(
                "keyworking",
                InterventionStatus::Started,
                "2026-10-02",
                None,
            ),
        );
        assert_eq!(q3(&log, "2026-10-05T09:00:00Z").rows.len(), 1);
        let cut = Cut::new(&log.profile, &log.events, at("2027-01-05T09:00:00Z"));
        assert_eq!(extract(&cut, &period("2026Q4"), None).people, vec![p]);
    }

    #[test]
    fn the_as_at_cut_is_respected() {
        let mut log = Log::new();
        let p = treated(&mut log, 1, "A1234BC", Some(ConsentDecision::Given));
        // Recorded after the as-at instant: a withdrawal and an exit.
        on(
            &mut log,
            p,
            "2026-10-07",
            EventKind::ConsentWithdrawn(ConsentWithdrawal {
                purpose: ConsentPurpose::Ndtms,
                withdrawn_on: d("2026-10-07"),
            }),
        );
        let before = q3(&log, "2026-10-05T09:00:00Z");
        assert_eq!(
            before.people,
            vec![p, p],
            "as at 5 October the consent stood"
        );
        assert_eq!(
            q3(&log, "2026-10-08T09:00:00Z").rows.len(),
            1,
            "withdrawn by 8 October"
        );
        // The same as-at gives the same file, whatever is recorded later.
        assert_eq!(q3(&log, "2026-10-05T09:00:00Z"), before);
        // An exit dated in the period but recorded after the as-at does not show.
        let mut log = Log::new();
        let p = treated(&mut log, 1, "A1234BC", Some(ConsentDecision::Given));
        on(
            &mut log,
            p,
            "2026-10-06",
            exit("2026-09-20", ExitReason::DroppedOut),
        );
        assert_eq!(
            cell(&q3(&log, "2026-10-05T09:00:00Z"), 1, "DISCHARGE_DATE"),
            ""
        );
        assert_eq!(
            cell(&q3(&log, "2026-10-07T09:00:00Z"), 1, "DISCHARGE_DATE"),
            "2026-09-20"
        );
    }

    #[test]
    fn modalities_end_with_their_course_and_the_establishment_filter_keeps_its_rows() {
        let mut log = Log::new();
        let p = treated(&mut log, 1, "A1234BC", Some(ConsentDecision::Given));
        let first = log
            .events
            .iter()
            .rev()
            .find(|e| matches!(e.kind, EventKind::InterventionUpdated(_)))
            .map(|e| e.id);
        on(
            &mut log,
            p,
            "2026-08-14",
            step(
                "keyworking",
                InterventionStatus::Completed,
                "2026-08-14",
                first,
            ),
        );
        on(
            &mut log,
            p,
            "2026-08-15",
            step(
                "substitute-prescribing",
                InterventionStatus::Started,
                "2026-08-15",
                None,
            ),
        );
        let x = q3(&log, "2026-10-05T09:00:00Z");
        let modalities: Vec<(&str, &str, &str)> = (1..x.rows.len())
            .filter(|r| !cell(&x, *r, "MODALITY_START").is_empty())
            .map(|r| {
                (
                    cell(&x, r, "MODALITY"),
                    cell(&x, r, "MODALITY_START"),
                    cell(&x, r, "MODALITY_END"),
                )
            })
            .collect();
        assert_eq!(
            modalities,
            [
                ("PSYCH", "2026-07-06", "2026-08-14"),
                ("PHARM", "2026-08-15", "")
            ]
        );
        assert!(
            x.is_complete(),
            "an open episode's modality needs no end: {:#?}",
            x.problems
        );
        let cut = Cut::new(&log.profile, &log.events, at("2026-10-05T09:00:00Z"));
        assert_eq!(
            extract(&cut, &period("2026Q3"), Some(&code("EYI")))
                .rows
                .len(),
            1
        );
        assert_eq!(
            extract(&cut, &period("2026Q3"), Some(&code("MDI")))
                .rows
                .len(),
            4
        );
    }
}
