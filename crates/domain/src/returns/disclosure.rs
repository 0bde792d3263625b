//! Disclosure control for outputs meant for publication or wide circulation
//! (REQUIREMENTS §16; the S4 six-monthly report feeds the public annual strategy
//! report, S4 §5): small counts suppressed, other counts rounded, rates over few
//! people suppressed, proportions computed from the rounded figures, and secondary
//! suppression where a suppressed cell could be recovered from the total. The rule is
//! configuration per return ([`DisclosureRule`] in the profile's returns); the KM
//! quarterly return to the commissioner is exact by default (KM 6.5: figures must be
//! accurate), and the service's own view is always exact.

use crate::returns::Return;
use crate::returns::figure::{RowKey, Value, one_decimal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The rule, as configured for a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureRule {
    /// Counts from 1 up to this are suppressed (default 7); zero is shown as zero.
    #[serde(default = "default_suppress_up_to")]
    pub suppress_up_to: i64,
    /// Other counts are rounded to the nearest multiple of this (default 5).
    #[serde(default = "default_round_to")]
    pub round_to: i64,
    /// Means and proportions over fewer people (or responses) than this are
    /// suppressed (default 8).
    #[serde(default = "default_minimum_base")]
    pub minimum_base: i64,
    /// Whether a second cell is suppressed when a suppressed cell could be recovered
    /// from the all-establishments total (default yes).
    #[serde(default = "default_true")]
    pub secondary: bool,
}

fn default_suppress_up_to() -> i64 {
    7
}
fn default_round_to() -> i64 {
    5
}
fn default_minimum_base() -> i64 {
    8
}
fn default_true() -> bool {
    true
}

impl Default for DisclosureRule {
    fn default() -> Self {
        DisclosureRule {
            suppress_up_to: default_suppress_up_to(),
            round_to: default_round_to(),
            minimum_base: default_minimum_base(),
            secondary: true,
        }
    }
}

/// A published cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cell {
    /// Shown as computed (units that are not counts of people or events, such as days
    /// of clinical cover, and lines with no value).
    Exact(Value),
    /// A count after rounding.
    Rounded(i64),
    /// A percentage computed from rounded figures: the rounded numerator and
    /// denominator, and the percentage to one decimal place.
    RoundedPercent {
        /// The rounded numerator.
        numerator: i64,
        /// The rounded denominator.
        denominator: i64,
    },
    /// Suppressed because the count is small, or the base of a rate is.
    Suppressed,
    /// Suppressed so that another suppressed cell cannot be recovered from a total.
    SecondarySuppressed,
}

impl Cell {
    /// The cell as printed: suppressed cells show `*` (primary) and `**` (secondary),
    /// with the legend under the table.
    pub fn display(&self) -> String {
        match self {
            Cell::Exact(v) => v.display(),
            Cell::Rounded(n) => n.to_string(),
            Cell::RoundedPercent {
                numerator,
                denominator,
            } => one_decimal(numerator * 100, *denominator).unwrap_or_default(),
            Cell::Suppressed => "*".into(),
            Cell::SecondarySuppressed => "**".into(),
        }
    }

    fn is_suppressed(&self) -> bool {
        matches!(self, Cell::Suppressed | Cell::SecondarySuppressed)
    }
}

/// Whether lines `a` and `b` are categories of the same breakdown: their codes
/// differ only in the last word (`EQ assessed sex female`, `EQ assessed sex male`).
fn same_breakdown(r: &Return, a: usize, b: usize) -> bool {
    let stem = |i: usize| {
        let code = &r.figures[i].code;
        code.rsplit_once(' ')
            .map_or(code.as_str(), |(s, _)| s)
            .to_string()
    };
    stem(a) == stem(b)
}

/// The legend printed under a controlled table.
pub const LEGEND: &str = "* a count from 1 to 7, or a rate over fewer than 8, suppressed; ** suppressed so that another cell cannot be worked out from the total; other counts rounded to the nearest 5, and percentages computed from the rounded figures.";

/// Units that count people or events (and so are controlled).
fn is_count_unit(unit: &str) -> bool {
    matches!(unit, "people" | "events" | "responses" | "%" | "points")
}

impl DisclosureRule {
    /// Rounds a count: zero stays zero; 1 to the threshold is suppressed; the rest go
    /// to the nearest multiple (halves upward).
    pub fn count(&self, n: i64) -> Cell {
        if n == 0 {
            Cell::Rounded(0)
        } else if n.abs() <= self.suppress_up_to {
            Cell::Suppressed
        } else {
            let r = self.round_to.max(1);
            Cell::Rounded((n + r / 2).div_euclid(r) * r)
        }
    }

    fn rounded(&self, n: i64) -> Option<i64> {
        match self.count(n) {
            Cell::Rounded(v) => Some(v),
            _ => None,
        }
    }

    /// One controlled cell, before secondary suppression. `base` is the number of
    /// people or values a mean or longest is taken over.
    pub fn cell(&self, unit: &str, value: &Value, base: i64) -> Cell {
        if !is_count_unit(unit) {
            return Cell::Exact(value.clone());
        }
        match value {
            Value::Count(n) => self.count(*n),
            Value::Percent {
                numerator,
                denominator,
            } => {
                if *denominator < self.minimum_base {
                    if *denominator == 0 {
                        Cell::Exact(value.clone())
                    } else {
                        Cell::Suppressed
                    }
                } else {
                    match (self.rounded(*numerator), self.rounded(*denominator)) {
                        (Some(numerator), Some(denominator)) => Cell::RoundedPercent {
                            numerator,
                            denominator,
                        },
                        // A numerator of 1–7 over a base of 8 or more.
                        _ => Cell::Suppressed,
                    }
                }
            }
            Value::Mean { count, .. } if *count == 0 => Cell::Exact(value.clone()),
            Value::Mean { count, .. } if *count < self.minimum_base => Cell::Suppressed,
            Value::Longest(Some(_)) if base < self.minimum_base => Cell::Suppressed,
            other => Cell::Exact(other.clone()),
        }
    }

    /// The controlled table of a return: for each line (in order), its cell in each
    /// row. A count line with exactly one suppressed establishment cell and a shown
    /// all-establishments total has a second cell suppressed (the smallest shown
    /// non-zero one; the total when there is none), so the first cannot be worked out.
    pub fn apply(&self, r: &Return) -> Vec<(String, BTreeMap<RowKey, Cell>)> {
        let mut out = Vec::new();
        for f in &r.figures {
            let mut cells: BTreeMap<RowKey, Cell> = r
                .rows
                .iter()
                .map(|row| {
                    let line = f.line(row);
                    let base = f.items(row).len() as i64;
                    (row.clone(), self.cell(&f.unit, &line.value, base))
                })
                .collect();
            if self.secondary && is_count_unit(&f.unit) {
                let suppressed = cells
                    .iter()
                    .filter(|(k, c)| **k != RowKey::All && c.is_suppressed())
                    .count();
                let total_shown = cells.get(&RowKey::All).is_some_and(|c| !c.is_suppressed());
                if suppressed == 1 && total_shown {
                    let next = cells
                        .iter()
                        .filter(|(k, _)| **k != RowKey::All)
                        .filter_map(|(k, c)| match c {
                            Cell::Rounded(n) if *n > 0 => Some((*n, k.clone())),
                            Cell::RoundedPercent { denominator, .. } => {
                                Some((*denominator, k.clone()))
                            }
                            _ => None,
                        })
                        .min();
                    let target = next.map(|(_, k)| k).unwrap_or(RowKey::All);
                    cells.insert(target, Cell::SecondarySuppressed);
                }
            }
            out.push((f.code.clone(), cells));
        }
        if self.secondary {
            self.protect_breakdowns(r, &mut out);
        }
        out
    }

    /// Secondary suppression within a breakdown (the annual report's equality
    /// tables, KM 4.18–4.24): the categories of a line's `sums_to` total add up to
    /// it, so in each row where exactly one category is suppressed and the total is
    /// shown, a second category is suppressed too (the smallest shown non-zero one;
    /// the total when there is none).
    fn protect_breakdowns(&self, r: &Return, table: &mut [(String, BTreeMap<RowKey, Cell>)]) {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, f) in r.figures.iter().enumerate() {
            if let Some(total) = &f.sums_to {
                groups.entry(total.as_str()).or_default().push(i);
            }
        }
        for (total, members) in groups {
            let Some(t) = r.figures.iter().position(|f| f.code == total) else {
                continue;
            };
            // Each block of categories of one breakdown is a run of consecutive
            // lines; judge each run on its own.
            let mut runs: Vec<Vec<usize>> = Vec::new();
            for i in members {
                match runs.last_mut() {
                    Some(run) if run.last() == Some(&(i - 1)) && same_breakdown(r, run[0], i) => {
                        run.push(i)
                    }
                    _ => runs.push(vec![i]),
                }
            }
            for run in runs {
                for row in &r.rows {
                    let cell = |table: &[(String, BTreeMap<RowKey, Cell>)], i: usize| {
                        table[i].1.get(row).cloned()
                    };
                    let suppressed = run
                        .iter()
                        .filter(|i| cell(table, **i).is_some_and(|c| c.is_suppressed()))
                        .count();
                    let total_shown = cell(table, t).is_some_and(|c| !c.is_suppressed());
                    if suppressed != 1 || !total_shown {
                        continue;
                    }
                    let next = run
                        .iter()
                        .filter_map(|i| match cell(table, *i) {
                            Some(Cell::Rounded(n)) if n > 0 => Some((n, *i)),
                            _ => None,
                        })
                        .min();
                    let target = next.map(|(_, i)| i).unwrap_or(t);
                    table[target]
                        .1
                        .insert(row.clone(), Cell::SecondarySuppressed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifiers::EstablishmentCode;
    use crate::record_ids::PersonId;
    use crate::returns::ReturnKind;
    use crate::returns::figure::{Figure, Item, LineFigure, Measure};
    use crate::returns::period::Period;

    fn rule() -> DisclosureRule {
        DisclosureRule::default()
    }

    #[test]
    fn counts_of_one_to_seven_are_suppressed_zero_is_zero_others_round_to_five() {
        let r = rule();
        assert_eq!(r.count(0), Cell::Rounded(0));
        for n in 1..=7 {
            assert_eq!(r.count(n), Cell::Suppressed, "{n}");
        }
        assert_eq!(r.count(8), Cell::Rounded(10));
        assert_eq!(r.count(12), Cell::Rounded(10));
        assert_eq!(r.count(13), Cell::Rounded(15), "halves go up");
        assert_eq!(r.count(17), Cell::Rounded(15));
        assert_eq!(r.count(102), Cell::Rounded(100));
        assert_eq!(r.count(0).display(), "0");
        assert_eq!(r.count(3).display(), "*");
    }

    #[test]
    fn rates_over_fewer_than_eight_are_suppressed() {
        let r = rule();
        let mean = |sum, count| Value::Mean { sum, count };
        assert_eq!(r.cell("points", &mean(14, 7), 7), Cell::Suppressed);
        assert_eq!(r.cell("points", &mean(16, 8), 8), Cell::Exact(mean(16, 8)));
        assert_eq!(
            r.cell("days", &Value::Longest(Some(40)), 3),
            Cell::Exact(Value::Longest(Some(40))),
            "days are not controlled"
        );
        let pct = |n, d| Value::Percent {
            numerator: n,
            denominator: d,
        };
        assert_eq!(r.cell("%", &pct(3, 7), 7), Cell::Suppressed);
    }

    #[test]
    fn proportions_are_computed_from_the_rounded_figures() {
        let r = rule();
        // 12 of 23: exactly 52.2 %; published from 10 of 25: 40.0 %.
        let c = r.cell(
            "%",
            &Value::Percent {
                numerator: 12,
                denominator: 23,
            },
            23,
        );
        assert_eq!(
            c,
            Cell::RoundedPercent {
                numerator: 10,
                denominator: 25
            }
        );
        assert_eq!(c.display(), "40.0");
        // A small numerator over a large base is still a small count.
        assert_eq!(
            r.cell(
                "%",
                &Value::Percent {
                    numerator: 2,
                    denominator: 40
                },
                40
            ),
            Cell::Suppressed
        );
    }

    fn people_return(per_establishment: &[(&str, usize)]) -> Return {
        let mut items = Vec::new();
        let mut n = 0u128;
        for (code, count) in per_establishment {
            for _ in 0..*count {
                n += 1;
                items.push(Item {
                    establishment: EstablishmentCode::parse(code).unwrap(),
                    person: Some(PersonId(uuid::Uuid::from_u128(n))),
                    event: None,
                    on: None,
                });
            }
        }
        let mut rows: Vec<RowKey> = per_establishment
            .iter()
            .map(|(c, _)| RowKey::Establishment(EstablishmentCode::parse(c).unwrap()))
            .collect();
        rows.push(RowKey::All);
        Return {
            kind: ReturnKind::S4SixMonthly,
            period: Period::parse("2026H1").unwrap(),
            as_at: crate::time::parse_instant("2026-07-10T09:00:00Z").unwrap(),
            last_seq: 0,
            profile: "test".into(),
            profile_version: "1".into(),
            rows,
            figures: vec![LineFigure::new(
                "1.23",
                "Number of individuals receiving 1 to 1 keyworking",
                "people",
                Figure::Count {
                    measure: Measure::People,
                    items,
                },
            )],
            narratives: vec![],
        }
    }

    #[test]
    fn one_suppressed_cell_beside_a_shown_total_takes_a_second_with_it() {
        // MDI 3 (suppressed), EYI 12 (→10), BHI 20 (→20), total 35 (→35): 3 could be
        // worked out as 35 − 12 − 20 without a second suppression; the smallest shown
        // cell, EYI, goes too.
        let r = people_return(&[("MDI", 3), ("EYI", 12), ("BHI", 20)]);
        let table = rule().apply(&r);
        let cells = &table[0].1;
        let at = |c: &str| &cells[&RowKey::Establishment(EstablishmentCode::parse(c).unwrap())];
        assert_eq!(at("MDI"), &Cell::Suppressed);
        assert_eq!(at("EYI"), &Cell::SecondarySuppressed);
        assert_eq!(at("BHI"), &Cell::Rounded(20));
        assert_eq!(cells[&RowKey::All], Cell::Rounded(35));
        // Two suppressed cells already protect each other.
        let r = people_return(&[("MDI", 3), ("EYI", 2), ("BHI", 20)]);
        let cells = &rule().apply(&r)[0].1;
        assert!(!cells.values().any(|c| *c == Cell::SecondarySuppressed));
        // A total as small as the suppressed cell is itself suppressed: nothing to add.
        let r = people_return(&[("MDI", 3), ("EYI", 0)]);
        let cells = &rule().apply(&r)[0].1;
        assert_eq!(cells[&RowKey::All], Cell::Suppressed);
        assert!(!cells.values().any(|c| *c == Cell::SecondarySuppressed));
        // Without secondary suppression configured, only the small cell goes.
        let no_secondary = DisclosureRule {
            secondary: false,
            ..rule()
        };
        let r = people_return(&[("MDI", 3), ("EYI", 12), ("BHI", 20)]);
        let cells = &no_secondary.apply(&r)[0].1;
        assert_eq!(
            cells
                .values()
                .filter(|c| matches!(c, Cell::Suppressed | Cell::SecondarySuppressed))
                .count(),
            1
        );
    }
}
