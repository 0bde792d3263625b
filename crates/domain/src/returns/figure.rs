//! What a KPI function returns, and how it becomes a return line (docs/kpis.md §1.1,
//! §1.5, §1.8). A KPI function lists the *items* that make up its figure — each with
//! the establishment it is attributed to, and the person and event behind it — so the
//! same list gives every row (one establishment, or all of them), the drill-down (the
//! people and events that make up a figure), and never a figure that cannot be
//! explained.

use crate::identifiers::EstablishmentCode;
use crate::record_ids::{EventId, PersonId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One thing a figure counts: attributed to an establishment, with the person and the
/// event behind it where there are ones, and the date it counts on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Item {
    /// The establishment it is attributed to.
    pub establishment: EstablishmentCode,
    /// The person, for facts about a person.
    pub person: Option<PersonId>,
    /// The event that qualifies it, if one does (a day without a cover record has none).
    pub event: Option<EventId>,
    /// The date it counts on.
    pub on: Option<NaiveDate>,
}

impl Item {
    /// An item for a person's event.
    pub fn event(
        establishment: &EstablishmentCode,
        person: PersonId,
        event: EventId,
        on: NaiveDate,
    ) -> Item {
        Item {
            establishment: establishment.clone(),
            person: Some(person),
            event: Some(event),
            on: Some(on),
        }
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    /// Every item counts (events, sessions, days): the all-establishments figure is
    /// the sum of the rows.
    Events,
    /// Each person counts once per row: the all-establishments figure counts a person
    /// once, however many establishments they count at.
    People,
}

/// A figure before it is cut into rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Figure {
    /// A count of items (events) or of the distinct people among them.
    Count {
        /// Events or people.
        measure: Measure,
        /// What is counted.
        items: Vec<Item>,
    },
    /// A proportion: numerator items over denominator items, both counted by the same
    /// measure. Each numerator item's person (or the item itself, for events) must
    /// also be in the denominator at the same establishment.
    Proportion {
        /// Events or people.
        measure: Measure,
        /// Those in the numerator.
        numerator: Vec<Item>,
        /// Those in the denominator.
        denominator: Vec<Item>,
    },
    /// The mean of values (days, points). With `latest_per_person`, each person
    /// contributes only their last value in list order in each row (list values in
    /// chronological order).
    Mean {
        /// Each item with its value.
        values: Vec<(Item, i64)>,
        /// Whether a person counts once per row (their latest value).
        latest_per_person: bool,
    },
    /// The largest value (the longest wait).
    Longest {
        /// Each item with its value.
        values: Vec<(Item, i64)>,
    },
    /// A line the specification leaves blank or cut off: nothing is reported.
    NotDefined,
    /// A line the specification defines but the product does not yet record what it
    /// needs: nothing is reported, and the reason is shown.
    NotRecorded {
        /// What is missing.
        reason: String,
    },
}

impl Figure {
    /// The figure restricted to the items of `keep`'s people (S4 §10: a line
    /// reported for the people of one service). Items with no person (anonymous
    /// survey responses, days) are dropped, so a caller restricting a line of
    /// anonymous items must say so rather than print the result.
    pub fn restricted(&self, keep: &BTreeSet<PersonId>) -> Figure {
        let ok = |i: &Item| i.person.is_some_and(|p| keep.contains(&p));
        let items = |v: &[Item]| v.iter().filter(|i| ok(i)).cloned().collect::<Vec<_>>();
        let values =
            |v: &[(Item, i64)]| v.iter().filter(|(i, _)| ok(i)).cloned().collect::<Vec<_>>();
        match self {
            Figure::Count { measure, items: v } => Figure::Count {
                measure: *measure,
                items: items(v),
            },
            Figure::Proportion {
                measure,
                numerator,
                denominator,
            } => Figure::Proportion {
                measure: *measure,
                numerator: items(numerator),
                denominator: items(denominator),
            },
            Figure::Mean {
                values: v,
                latest_per_person,
            } => Figure::Mean {
                values: values(v),
                latest_per_person: *latest_per_person,
            },
            Figure::Longest { values: v } => Figure::Longest { values: values(v) },
            Figure::NotDefined | Figure::NotRecorded { .. } => self.clone(),
        }
    }

    /// Whether any item has no person (anonymous responses, days of cover).
    pub fn has_anonymous_items(&self) -> bool {
        let anon = |i: &Item| i.person.is_none();
        match self {
            Figure::Count { items, .. } => items.iter().any(anon),
            Figure::Proportion {
                numerator,
                denominator,
                ..
            } => numerator.iter().chain(denominator).any(anon),
            Figure::Mean { values, .. } | Figure::Longest { values } => {
                values.iter().any(|(i, _)| anon(i))
            }
            Figure::NotDefined | Figure::NotRecorded { .. } => false,
        }
    }
}

/// The value of a line for one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    /// A whole number.
    Count(i64),
    /// A proportion, shown as a percentage to one decimal place; no value when the
    /// denominator is 0.
    Percent {
        /// The numerator.
        numerator: i64,
        /// The denominator.
        denominator: i64,
    },
    /// A mean, to one decimal place; no value when the count is 0.
    Mean {
        /// The sum of the values.
        sum: i64,
        /// How many values.
        count: i64,
    },
    /// The largest value, if there is any.
    Longest(Option<i64>),
    /// Not defined by the specification.
    NotDefined,
    /// Not applicable at this establishment, with the reason.
    NotApplicable(String),
    /// Not recorded yet, with the reason.
    NotRecorded(String),
}

/// `numerator / denominator` to one decimal place, rounded half away from zero, in
/// integer arithmetic (docs/kpis.md §1.8); `None` when the denominator is 0.
pub fn one_decimal(numerator: i64, denominator: i64) -> Option<String> {
    if denominator == 0 {
        return None;
    }
    let negative = (numerator < 0) != (denominator < 0);
    let (n, d) = (i128::from(numerator).abs(), i128::from(denominator).abs());
    let tenths = (n * 20 + d) / (2 * d);
    let sign = if negative && tenths != 0 { "-" } else { "" };
    Some(format!("{sign}{}.{}", tenths / 10, tenths % 10))
}

impl Value {
    /// The value as the return prints it: `12`, `45.5` (a percentage, without the
    /// sign), `3.2`, or empty when there is no value.
    pub fn display(&self) -> String {
        match self {
            Value::Count(n) => n.to_string(),
            Value::Percent {
                numerator,
                denominator,
            } => one_decimal(numerator * 100, *denominator).unwrap_or_default(),
            Value::Mean { sum, count } => one_decimal(*sum, *count).unwrap_or_default(),
            Value::Longest(v) => v.map(|v| v.to_string()).unwrap_or_default(),
            Value::NotDefined => "Not defined by the specification".into(),
            Value::NotApplicable(why) => format!("Not applicable ({why})"),
            Value::NotRecorded(why) => format!("Not recorded ({why})"),
        }
    }

    /// The numerator and denominator, for a proportion or a mean.
    pub fn parts(&self) -> Option<(i64, i64)> {
        match self {
            Value::Percent {
                numerator,
                denominator,
            } => Some((*numerator, *denominator)),
            Value::Mean { sum, count } => Some((*sum, *count)),
            _ => None,
        }
    }
}

/// Which row of a return.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RowKey {
    /// One establishment.
    Establishment(EstablishmentCode),
    /// All establishments of the return together.
    All,
}

impl RowKey {
    /// Whether an item at `at` belongs to this row.
    pub fn holds(&self, at: &EstablishmentCode) -> bool {
        match self {
            RowKey::Establishment(e) => e == at,
            RowKey::All => true,
        }
    }
}

/// One line of a KPI as computed: its code and label, the unit, the figure, and the
/// establishments where it does not apply (left out of the all-establishments row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFigure {
    /// The spec's number, with a qualifier for a sub-row (`1.28 programme-abstinence`).
    pub code: String,
    /// The spec's wording.
    pub label: String,
    /// The unit: `events`, `people`, `days`, `%`, `points`, `responses`.
    pub unit: String,
    /// The figure.
    pub figure: Figure,
    /// Establishments where the line does not apply, with the reason (KM 2.1.1 note 1).
    pub not_applicable: BTreeMap<EstablishmentCode, String>,
    /// For a category of a breakdown (the annual report's equality tables, KM
    /// 4.18–4.24): the code of the line its categories sum to, so disclosure control
    /// can protect a suppressed category against that total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sums_to: Option<String>,
}

/// One line of a return for one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The spec's number.
    pub code: String,
    /// The spec's wording.
    pub label: String,
    /// The value.
    pub value: Value,
    /// The unit.
    pub unit: String,
}

fn distinct_people(items: &[&Item]) -> i64 {
    items
        .iter()
        .map(|i| (i.person, if i.person.is_none() { i.event } else { None }))
        .collect::<BTreeSet<_>>()
        .len() as i64
}

fn count(measure: Measure, items: &[&Item]) -> i64 {
    match measure {
        Measure::Events => items.len() as i64,
        Measure::People => distinct_people(items),
    }
}

impl LineFigure {
    /// A line with no establishment where it does not apply.
    pub fn new(code: &str, label: &str, unit: &str, figure: Figure) -> LineFigure {
        LineFigure {
            code: code.into(),
            label: label.into(),
            unit: unit.into(),
            figure,
            not_applicable: BTreeMap::new(),
            sums_to: None,
        }
    }

    /// Whether `item` belongs in `row` (an all-establishments row leaves out the
    /// establishments where the line does not apply).
    fn in_row(&self, row: &RowKey, item: &Item) -> bool {
        row.holds(&item.establishment) && !self.not_applicable.contains_key(&item.establishment)
    }

    /// The items behind the figure in `row`: the drill-down.
    pub fn items(&self, row: &RowKey) -> Vec<&Item> {
        let keep = |i: &&Item| self.in_row(row, i);
        match &self.figure {
            Figure::Count { items, .. } => items.iter().filter(keep).collect(),
            Figure::Proportion { denominator, .. } => denominator.iter().filter(keep).collect(),
            Figure::Mean { values, .. } | Figure::Longest { values } => {
                values.iter().map(|(i, _)| i).filter(keep).collect()
            }
            Figure::NotDefined | Figure::NotRecorded { .. } => Vec::new(),
        }
    }

    /// The numerator's items in `row`, for a proportion.
    pub fn numerator_items(&self, row: &RowKey) -> Vec<&Item> {
        match &self.figure {
            Figure::Proportion { numerator, .. } => {
                numerator.iter().filter(|i| self.in_row(row, i)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The line for `row`.
    pub fn line(&self, row: &RowKey) -> Line {
        let value = match (row, &self.figure) {
            (_, Figure::NotDefined) => Value::NotDefined,
            (_, Figure::NotRecorded { reason }) => Value::NotRecorded(reason.clone()),
            (RowKey::Establishment(e), _) if self.not_applicable.contains_key(e) => {
                Value::NotApplicable(self.not_applicable[e].clone())
            }
            (_, Figure::Count { measure, items }) => {
                let items: Vec<&Item> = items.iter().filter(|i| self.in_row(row, i)).collect();
                Value::Count(count(*measure, &items))
            }
            (
                _,
                Figure::Proportion {
                    measure,
                    numerator,
                    denominator,
                },
            ) => {
                let mut n: Vec<&Item> = numerator.iter().filter(|i| self.in_row(row, i)).collect();
                let d: Vec<&Item> = denominator.iter().filter(|i| self.in_row(row, i)).collect();
                // In the all-establishments row a person is in the numerator only if
                // they are at every establishment where they are in the denominator
                // (met at one prison and not at another is not met).
                if *row == RowKey::All && *measure == Measure::People {
                    let met: BTreeSet<(Option<PersonId>, &EstablishmentCode)> =
                        n.iter().map(|i| (i.person, &i.establishment)).collect();
                    let unmet: BTreeSet<Option<PersonId>> = d
                        .iter()
                        .filter(|i| !met.contains(&(i.person, &i.establishment)))
                        .map(|i| i.person)
                        .collect();
                    n.retain(|i| !unmet.contains(&i.person));
                }
                Value::Percent {
                    numerator: count(*measure, &n),
                    denominator: count(*measure, &d),
                }
            }
            (
                _,
                Figure::Mean {
                    values,
                    latest_per_person,
                },
            ) => {
                let in_row = values.iter().filter(|(i, _)| self.in_row(row, i));
                let kept: Vec<i64> = if *latest_per_person {
                    let mut latest: BTreeMap<Option<PersonId>, i64> = BTreeMap::new();
                    let mut anonymous = Vec::new();
                    for (i, v) in in_row {
                        match i.person {
                            Some(_) => {
                                latest.insert(i.person, *v);
                            }
                            None => anonymous.push(*v),
                        }
                    }
                    latest.into_values().chain(anonymous).collect()
                } else {
                    in_row.map(|(_, v)| *v).collect()
                };
                Value::Mean {
                    sum: kept.iter().sum(),
                    count: kept.len() as i64,
                }
            }
            (_, Figure::Longest { values }) => Value::Longest(
                values
                    .iter()
                    .filter(|(i, _)| self.in_row(row, i))
                    .map(|(_, v)| *v)
                    .max(),
            ),
        };
        Line {
            code: self.code.clone(),
            label: self.label.clone(),
            value,
            unit: self.unit.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn est(c: &str) -> EstablishmentCode {
        EstablishmentCode::parse(c).unwrap()
    }

    fn item(at: &str, person: u128, event: u128) -> Item {
        Item {
            establishment: est(at),
            person: Some(PersonId(Uuid::from_u128(person))),
            event: Some(EventId(Uuid::from_u128(event))),
            on: None,
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero_to_one_decimal() {
        assert_eq!(one_decimal(1, 3).as_deref(), Some("0.3"));
        assert_eq!(one_decimal(2, 3).as_deref(), Some("0.7"));
        assert_eq!(one_decimal(1, 20).as_deref(), Some("0.1"), "0.05 rounds up");
        assert_eq!(
            one_decimal(-1, 20).as_deref(),
            Some("-0.1"),
            "away from zero"
        );
        assert_eq!(one_decimal(-1, 40).as_deref(), Some("0.0"), "-0.025 is 0.0");
        assert_eq!(one_decimal(200, 3).as_deref(), Some("66.7"));
        assert_eq!(one_decimal(5, 0), None);
        let half = Value::Percent {
            numerator: 1,
            denominator: 8,
        };
        assert_eq!(half.display(), "12.5");
        assert_eq!(
            Value::Percent {
                numerator: 0,
                denominator: 0
            }
            .display(),
            ""
        );
    }

    #[test]
    fn people_count_once_per_row_and_once_in_all_events_sum() {
        // Person 1 at MDI twice and at EYI once; person 2 at EYI.
        let items = vec![
            item("MDI", 1, 10),
            item("MDI", 1, 11),
            item("EYI", 1, 12),
            item("EYI", 2, 13),
        ];
        let people = LineFigure::new(
            "1.23",
            "x",
            "people",
            Figure::Count {
                measure: Measure::People,
                items: items.clone(),
            },
        );
        let mdi = RowKey::Establishment(est("MDI"));
        let eyi = RowKey::Establishment(est("EYI"));
        assert_eq!(people.line(&mdi).value, Value::Count(1));
        assert_eq!(people.line(&eyi).value, Value::Count(2));
        assert_eq!(people.line(&RowKey::All).value, Value::Count(2));
        let events = LineFigure::new(
            "1.22",
            "x",
            "events",
            Figure::Count {
                measure: Measure::Events,
                items,
            },
        );
        assert_eq!(events.line(&mdi).value, Value::Count(2));
        assert_eq!(events.line(&RowKey::All).value, Value::Count(4));
        assert_eq!(events.items(&mdi).len(), 2, "the drill-down lists them");
    }

    #[test]
    fn a_line_not_applicable_somewhere_leaves_it_out_of_all() {
        let mut f = LineFigure::new(
            "3.4",
            "x",
            "people",
            Figure::Count {
                measure: Measure::People,
                items: vec![item("MDI", 1, 10), item("DVI", 2, 11)],
            },
        );
        f.not_applicable
            .insert(est("DVI"), "KM 2.1.1 note 1".into());
        assert_eq!(
            f.line(&RowKey::Establishment(est("DVI"))).value,
            Value::NotApplicable("KM 2.1.1 note 1".into())
        );
        assert_eq!(f.line(&RowKey::All).value, Value::Count(1));
    }

    #[test]
    fn in_all_a_person_met_at_one_prison_and_not_another_is_not_met() {
        let f = LineFigure::new(
            "2.3",
            "x",
            "%",
            Figure::Proportion {
                measure: Measure::People,
                numerator: vec![item("MDI", 1, 10), item("MDI", 2, 12)],
                denominator: vec![item("MDI", 1, 10), item("EYI", 1, 11), item("MDI", 2, 12)],
            },
        );
        // MDI 2/2; EYI 0/1; All: person 1 unmet at EYI → 1/2.
        assert_eq!(
            f.line(&RowKey::Establishment(est("MDI"))).value.parts(),
            Some((2, 2))
        );
        assert_eq!(
            f.line(&RowKey::Establishment(est("EYI"))).value.parts(),
            Some((0, 1))
        );
        assert_eq!(f.line(&RowKey::All).value.parts(), Some((1, 2)));
    }

    #[test]
    fn a_figure_restricted_to_some_people_keeps_only_their_items() {
        let f = Figure::Proportion {
            measure: Measure::People,
            numerator: vec![item("MDI", 1, 10)],
            denominator: vec![item("MDI", 1, 10), item("MDI", 2, 11)],
        };
        let only_2: BTreeSet<PersonId> = [PersonId(Uuid::from_u128(2))].into();
        let line = LineFigure::new("x", "x", "%", f.restricted(&only_2));
        // Person 1 (in the numerator) is not kept: 0 of 1.
        assert_eq!(
            line.line(&RowKey::Establishment(est("MDI"))).value.parts(),
            Some((0, 1))
        );
        assert!(!f.has_anonymous_items());
    }

    #[test]
    fn a_mean_of_latest_values_per_person() {
        let f = LineFigure::new(
            "3.6",
            "x",
            "points",
            Figure::Mean {
                values: vec![
                    (item("MDI", 1, 10), 2),
                    (item("EYI", 1, 11), 5),
                    (item("MDI", 2, 12), -1),
                ],
                latest_per_person: true,
            },
        );
        // MDI: person 1 → 2, person 2 → -1: mean 0.5. All: person 1's latest is 5.
        assert_eq!(
            f.line(&RowKey::Establishment(est("MDI"))).value.display(),
            "0.5"
        );
        assert_eq!(f.line(&RowKey::All).value, Value::Mean { sum: 4, count: 2 });
        assert_eq!(f.line(&RowKey::All).value.display(), "2.0");
    }
}
