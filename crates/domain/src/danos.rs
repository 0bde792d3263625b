//! The competence standards of KM 5.47–5.49: the DANOS units of tables 1–3, loaded
//! from `data/danos-units.json` (kept as data, so a revised table is a data change),
//! and which of them a member of staff must evidence.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// To whom a table applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    /// Table 1: all practitioners (KM 5.47).
    AllPractitioners,
    /// Table 2: practitioners undertaking motivational approaches and brief
    /// interventions (KM 5.48).
    BriefInterventions,
    /// Table 3: substance misuse specialists and consultant psychiatrists (KM 5.49).
    Specialists,
}

/// One competence unit of a table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Unit {
    /// The DANOS code the specification lists first (`AA1`, `AH10`, `HSC331`).
    pub code: String,
    /// The replacement NOS code(s), as the table gives them.
    pub new_code: String,
    /// The unit's title.
    pub title: String,
}

/// One of the specification's competence tables.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Table {
    /// Its number (1–3).
    pub table: u8,
    /// To whom it applies.
    pub applies_to: AppliesTo,
    /// The paragraph that sets it.
    pub spec: String,
    /// Its title.
    pub title: String,
    /// Its units.
    pub units: Vec<Unit>,
}

#[derive(Deserialize)]
struct File {
    tables: Vec<Table>,
}

/// The three tables of KM 5.47–5.49.
pub fn tables() -> &'static [Table] {
    static TABLES: OnceLock<Vec<Table>> = OnceLock::new();
    TABLES.get_or_init(|| {
        // The file is part of the build: a malformed one fails the `tables_load` test.
        serde_json::from_str::<File>(include_str!("../data/danos-units.json"))
            .map(|f| f.tables)
            .unwrap_or_default()
    })
}

/// The unit with this code, from whichever table lists it first.
pub fn unit(code: &str) -> Option<&'static Unit> {
    tables()
        .iter()
        .flat_map(|t| t.units.iter())
        .find(|u| u.code == code)
}

/// Every unit once, in table order.
pub fn all_units() -> Vec<&'static Unit> {
    let mut seen = BTreeSet::new();
    tables()
        .iter()
        .flat_map(|t| t.units.iter())
        .filter(|u| seen.insert(u.code.as_str()))
        .collect()
}

/// The unit codes a member of staff must evidence: table 1 for every practitioner,
/// table 2 for those who undertake motivational approaches and brief interventions,
/// table 3 for specialists and consultant psychiatrists. A unit in two tables is
/// needed once.
pub fn required_units(
    practitioner: bool,
    brief_interventions: bool,
    specialist: bool,
) -> BTreeSet<&'static str> {
    tables()
        .iter()
        .filter(|t| match t.applies_to {
            AppliesTo::AllPractitioners => practitioner,
            AppliesTo::BriefInterventions => practitioner && brief_interventions,
            AppliesTo::Specialists => specialist,
        })
        .flat_map(|t| t.units.iter().map(|u| u.code.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load_with_every_unit_of_the_specification() {
        let t = tables();
        assert_eq!(
            t.iter()
                .map(|t| (t.table, t.units.len()))
                .collect::<Vec<_>>(),
            vec![(1, 33), (2, 13), (3, 2)]
        );
        assert_eq!(
            unit("AH10").map(|u| u.title.as_str()),
            Some("Carry out brief interventions with alcohol users")
        );
        // AH7 and AK2 are in tables 1 and 2: listed once overall.
        assert_eq!(all_units().len(), 33 + 13 + 2 - 2);
    }

    #[test]
    fn who_needs_which_units() {
        assert_eq!(required_units(true, false, false).len(), 33);
        assert_eq!(required_units(true, true, false).len(), 33 + 13 - 2);
        assert_eq!(required_units(true, true, true).len(), 33 + 13 - 2 + 2);
        assert!(required_units(false, true, false).is_empty());
        assert!(required_units(true, false, true).contains("AH1"));
    }
}
