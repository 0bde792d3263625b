//! A return's outputs (REQUIREMENTS §16; KM 6.4–6.7; S4 §5): CSV, XLSX (a summary
//! sheet and a sheet per prison, numbers as numbers) and a plain-text table for the
//! terminal. Every output names the return, its period, the as-at instant, the last
//! event in the cut and the profile's version, and nothing that changes from one run
//! to the next — so a return regenerated for the same as-at instant is byte-identical.
//! Published outputs go through the return's disclosure rule; the service's own view
//! is exact.

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_domain::profile::Profile;
use throughcare_domain::returns::annual::{Section, section_of};
use throughcare_domain::returns::disclosure::{self, DisclosureRule};
use throughcare_domain::returns::figure::{LineFigure, RowKey, Value};
use throughcare_domain::returns::period::Period;
use throughcare_domain::returns::{Return, ReturnKind};
use throughcare_domain::time::canonical_instant;
use throughcare_store::{Store, StoreError};

/// One cell of an output table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Words.
    Text(String),
    /// A number, as its exact decimal text (written as a number to XLSX).
    Number(String),
    /// Nothing.
    Blank,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The cell as CSV or a terminal shows it.
    pub fn as_text(&self) -> &str {
        match self {
            Cell::Text(s) | Cell::Number(s) => s,
            Cell::Blank => "",
        }
    }
}

/// One sheet: a name and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// The sheet's name (`Summary`, an establishment's code, or a section:
    /// `Equality`, `Surveys`, `Narrative`).
    pub name: String,
    /// Its rows.
    pub rows: Vec<Vec<Cell>>,
    /// The row of column headings (bold in the XLSX).
    pub heading_row: usize,
    /// Whether the sheet is a section of the report that the CSV and the table
    /// print after the summary (a blank line between), rather than a per-prison copy.
    pub section: bool,
}

/// Reads an as-at instant: an RFC 3339 instant, or a date meaning the end of that day
/// in UK time (the last microsecond before the next day begins).
pub fn parse_as_at(text: &str) -> Result<DateTime<Utc>, String> {
    if let Some(at) = throughcare_domain::time::parse_instant(text.trim()) {
        return Ok(at);
    }
    let day: chrono::NaiveDate = text.trim().parse().map_err(|_| {
        format!(
            "{:?} is neither a date like 2025-10-05 nor an instant like 2025-10-05T09:00:00Z",
            text.chars().take(40).collect::<String>()
        )
    })?;
    let next = day.succ_opt().ok_or("the date is out of range")?;
    Ok(
        throughcare_domain::time::local_instant(next, chrono::NaiveTime::MIN)
            - chrono::Duration::microseconds(1),
    )
}

/// Computes a return over everything the store holds, as at `as_at`.
pub fn compute(
    store: &dyn Store,
    profile: &Profile,
    kind: ReturnKind,
    period: &Period,
    as_at: DateTime<Utc>,
) -> Result<Return, StoreError> {
    let events = store.events_after(0, usize::MAX)?;
    Ok(Return::compute(kind, profile, &events, as_at, period))
}

/// The disclosure rule the profile sets for a published `kind`, if any.
pub fn published_rule(profile: &Profile, kind: ReturnKind) -> Option<DisclosureRule> {
    profile
        .returns
        .iter()
        .find(|r| r.id == kind.code())
        .map(|r| r.disclosure_rule())
        .unwrap_or_else(|| Some(DisclosureRule::default()))
}

fn header(r: &Return, profile: &Profile, rule: Option<&DisclosureRule>) -> Vec<Vec<Cell>> {
    let title = profile
        .returns
        .iter()
        .find(|d| d.id == r.kind.code())
        .map(|d| d.title.clone())
        .unwrap_or_default();
    vec![
        vec![
            Cell::text("Return"),
            Cell::text(r.kind.code()),
            Cell::text(title),
        ],
        vec![
            Cell::text("Period"),
            Cell::text(r.period.name.clone()),
            Cell::text(r.period.first.to_string()),
            Cell::text(r.period.last.to_string()),
        ],
        vec![Cell::text("As at"), Cell::text(canonical_instant(r.as_at))],
        vec![
            Cell::text("Events up to"),
            Cell::Number(r.last_seq.to_string()),
        ],
        vec![
            Cell::text("Profile"),
            Cell::text(r.profile.clone()),
            Cell::text(r.profile_version.clone()),
        ],
        vec![
            Cell::text("Figures"),
            Cell::text(match rule {
                None => "Exact".to_string(),
                Some(_) => format!("Disclosure controlled: {}", disclosure::LEGEND),
            }),
        ],
        vec![],
        headings(),
    ]
}

/// The row of column headings in a sheet that starts with [`header`].
const HEADING_ROW: usize = 7;

fn value_cell(v: &Value) -> Cell {
    match v {
        Value::Count(_) | Value::Percent { .. } | Value::Mean { .. } | Value::Longest(_) => {
            let s = v.display();
            if s.is_empty() {
                Cell::Blank
            } else {
                Cell::Number(s)
            }
        }
        other => Cell::Text(other.display()),
    }
}

fn number(n: i64) -> Cell {
    Cell::Number(n.to_string())
}

fn row_name(row: &RowKey) -> String {
    match row {
        RowKey::Establishment(e) => e.to_string(),
        RowKey::All => "All".into(),
    }
}

/// The column headings of a table of lines.
fn headings() -> Vec<Cell> {
    [
        "Establishment",
        "Code",
        "Line",
        "Value",
        "Unit",
        "Numerator",
        "Denominator",
    ]
    .into_iter()
    .map(Cell::text)
    .collect()
}

/// The section a line is printed in: the annual report's lines by their code; every
/// line of the other returns in the summary.
fn section(r: &Return, f: &LineFigure) -> Section {
    match r.kind {
        ReturnKind::Annual => section_of(&f.code),
        _ => Section::Activity,
    }
}

/// The table rows of `r`'s lines in section `only` for the rows chosen, exact or
/// controlled by `rule`.
fn lines(
    r: &Return,
    rows: &[RowKey],
    rule: Option<&DisclosureRule>,
    only: Section,
) -> Vec<Vec<Cell>> {
    let controlled = rule.map(|rule| rule.apply(r));
    let mut out = Vec::new();
    for row in rows {
        for (i, f) in r.figures.iter().enumerate() {
            if section(r, f) != only {
                continue;
            }
            let line = f.line(row);
            let (value, parts) = match &controlled {
                None => (value_cell(&line.value), line.value.parts()),
                Some(table) => match table[i].1.get(row) {
                    Some(disclosure::Cell::Exact(v)) => (value_cell(v), v.parts()),
                    Some(disclosure::Cell::Rounded(n)) => (number(*n), None),
                    Some(
                        c @ disclosure::Cell::RoundedPercent {
                            numerator,
                            denominator,
                        },
                    ) => (Cell::Number(c.display()), Some((*numerator, *denominator))),
                    Some(c) => (Cell::Text(c.display()), None),
                    None => (Cell::Blank, None),
                },
            };
            let (n, d) = match parts {
                Some((n, d)) => (number(n), number(d)),
                None => (Cell::Blank, Cell::Blank),
            };
            out.push(vec![
                Cell::Text(row_name(row)),
                Cell::Text(line.code),
                Cell::Text(line.label),
                value,
                Cell::Text(line.unit),
                n,
                d,
            ]);
        }
    }
    out
}

/// The sheets of a return: a summary of the rows chosen (every row, or one
/// establishment's) and, for the whole return, a sheet per establishment; then the
/// annual report's sections (`Equality`, `Surveys`: every row chosen) and, for a
/// return with narratives (S4 §5, §9), the `Narrative` sheet. The CSV and the table
/// print the section sheets after the summary.
pub fn sheets(
    r: &Return,
    profile: &Profile,
    only: Option<&EstablishmentCode>,
    rule: Option<&DisclosureRule>,
) -> Vec<Sheet> {
    let chosen: Vec<RowKey> = match only {
        Some(e) => vec![RowKey::Establishment(e.clone())],
        None => r.rows.clone(),
    };
    let mut summary = header(r, profile, rule);
    summary.extend(lines(r, &chosen, rule, Section::Activity));
    let mut out = vec![Sheet {
        name: "Summary".into(),
        rows: summary,
        heading_row: HEADING_ROW,
        section: false,
    }];
    if only.is_none() && r.rows.len() > 1 {
        for row in r.rows.iter().filter(|k| **k != RowKey::All) {
            let mut rows = header(r, profile, rule);
            rows.extend(lines(r, std::slice::from_ref(row), rule, Section::Activity));
            out.push(Sheet {
                name: row_name(row),
                rows,
                heading_row: HEADING_ROW,
                section: false,
            });
        }
    }
    if r.kind == ReturnKind::Annual {
        for (section, about) in [
            (
                Section::Equality,
                "Access and outcomes by protected characteristic and KM 4.10 group (KM 4.18–4.24); each breakdown's categories sum to its total",
            ),
            (
                Section::Surveys,
                "Satisfaction survey results for the year (S4 §6)",
            ),
        ] {
            let mut rows = vec![
                vec![Cell::text(section.title()), Cell::text(about)],
                headings(),
            ];
            rows.extend(lines(r, &chosen, rule, section));
            out.push(Sheet {
                name: section.title().into(),
                rows,
                heading_row: 1,
                section: true,
            });
        }
    }
    if let Some(n) = r.kind.narrative_return() {
        let mut rows = vec![
            vec![
                Cell::text("Narrative"),
                Cell::text(
                    "Written by the service; the latest of each section by the as-at instant",
                ),
            ],
            vec![Cell::text("Section"), Cell::text("Text")],
        ];
        for section in n.sections() {
            let text = r
                .narratives
                .iter()
                .find(|x| x.section == *section)
                .map(|x| Cell::text(x.text.clone()))
                .unwrap_or_else(|| Cell::text("(not written)"));
            rows.push(vec![Cell::text(section.label()), text]);
        }
        out.push(Sheet {
            name: "Narrative".into(),
            rows,
            heading_row: 1,
            section: true,
        });
    }
    out
}

/// The rows the CSV and the table print: the summary, then each section sheet after
/// a blank line.
fn printed_rows(sheets: &[Sheet]) -> Vec<&[Cell]> {
    let mut out: Vec<&[Cell]> = Vec::new();
    if let Some(first) = sheets.first() {
        out.extend(first.rows.iter().map(Vec::as_slice));
    }
    for s in sheets.iter().filter(|s| s.section) {
        out.push(&[]);
        out.extend(s.rows.iter().map(Vec::as_slice));
    }
    out
}

/// The return as CSV: the summary sheet, then each section (the annual report's
/// equality and survey tables, the narrative) after a blank line.
pub fn csv(sheets: &[Sheet]) -> Result<Vec<u8>, csv::Error> {
    to_csv(&Sheet {
        name: "CSV".into(),
        rows: printed_rows(sheets)
            .into_iter()
            .map(<[Cell]>::to_vec)
            .collect(),
        heading_row: HEADING_ROW,
        section: false,
    })
}

/// The return as a plain-text table: the summary, then each section.
pub fn table(sheets: &[Sheet]) -> String {
    printed_rows(sheets)
        .split(|r| r.is_empty())
        .map(|block| {
            to_table(&Sheet {
                name: String::new(),
                rows: block.iter().map(|r| r.to_vec()).collect(),
                heading_row: 0,
                section: false,
            })
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The summary sheet as CSV (RFC 4180, `\n` line ends).
pub fn to_csv(sheet: &Sheet) -> Result<Vec<u8>, csv::Error> {
    let width = sheet.rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for row in &sheet.rows {
        let mut cells: Vec<&str> = row.iter().map(Cell::as_text).collect();
        if cells.is_empty() {
            cells.resize(width.max(1), "");
        }
        w.write_record(&cells)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Every sheet as one XLSX workbook, numbers as numbers. The workbook's document
/// properties carry a fixed creation time (the as-at instant), so the same return
/// gives the same file.
pub fn to_xlsx(r: &Return, sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let created = rust_xlsxwriter::ExcelDateTime::parse_from_str(
        &r.as_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
    )?;
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_title(format!("{} {}", r.kind.code(), r.period.name))
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let ws = book.add_worksheet();
        ws.set_name(&sheet.name)?;
        for (y, row) in sheet.rows.iter().enumerate() {
            for (x, cell) in row.iter().enumerate() {
                let (y, x) = (y as u32, x as u16);
                match cell {
                    Cell::Text(s) if y as usize == sheet.heading_row => {
                        ws.write_string_with_format(y, x, s, &bold)?;
                    }
                    Cell::Text(s) => {
                        ws.write_string(y, x, s)?;
                    }
                    Cell::Number(s) => match s.parse::<f64>() {
                        Ok(n) => {
                            ws.write_number(y, x, n)?;
                        }
                        Err(_) => {
                            ws.write_string(y, x, s)?;
                        }
                    },
                    Cell::Blank => {}
                }
            }
        }
        if sheet.name == "Narrative" {
            ws.set_column_width(1, 100)?;
        } else {
            ws.set_column_width(2, 60)?;
        }
    }
    book.save_to_buffer()
}

/// The summary sheet as a plain-text table for the terminal.
pub fn to_table(sheet: &Sheet) -> String {
    let width = sheet.rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; width];
    for row in &sheet.rows {
        for (i, c) in row.iter().enumerate() {
            let n = c.as_text().chars().count().min(70);
            widths[i] = widths[i].max(n);
        }
    }
    let mut out = String::new();
    for row in &sheet.rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let t: String = c.as_text().chars().take(70).collect();
                match c {
                    Cell::Number(_) => format!("{t:>w$}", w = widths[i]),
                    _ => format!("{t:<w$}", w = widths[i]),
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use throughcare_domain::returns::figure::{Figure, LineFigure, Measure};

    fn sample() -> (Return, Profile) {
        let profile = Profile::builtin("kent-medway").unwrap();
        let r = Return {
            kind: ReturnKind::KmQuarterly,
            period: Period::parse("2026Q3").unwrap(),
            as_at: throughcare_domain::time::parse_instant("2026-10-05T09:00:00Z").unwrap(),
            last_seq: 41,
            profile: profile.id.clone(),
            profile_version: profile.version.clone(),
            rows: vec![
                RowKey::Establishment(EstablishmentCode::parse("MDI").unwrap()),
                RowKey::All,
            ],
            figures: vec![
                LineFigure::new("2.14", "", "", Figure::NotDefined),
                LineFigure::new(
                    "1.1",
                    "Number of substance misuse screenings completed at reception",
                    "events",
                    Figure::Count {
                        measure: Measure::Events,
                        items: vec![],
                    },
                ),
            ],
            narratives: vec![],
        };
        (r, profile)
    }

    #[test]
    fn as_at_reads_an_instant_or_the_end_of_a_uk_day() {
        assert_eq!(
            canonical_instant(parse_as_at("2026-10-05T09:00:00Z").unwrap()),
            "2026-10-05T09:00:00.000000Z"
        );
        // 5 October 2026 is in British Summer Time: the day ends at 23:00 UTC.
        assert_eq!(
            canonical_instant(parse_as_at("2026-10-05").unwrap()),
            "2026-10-05T22:59:59.999999Z"
        );
        assert!(
            parse_as_at("5/10/2026")
                .unwrap_err()
                .contains("neither a date")
        );
    }

    #[test]
    fn the_csv_names_the_as_at_instant_and_the_profile_version_and_repeats_exactly() {
        let (r, profile) = sample();
        let s = sheets(&r, &profile, None, None);
        assert_eq!(s.len(), 2, "a summary and MDI");
        let csv = String::from_utf8(to_csv(&s[0]).unwrap()).unwrap();
        assert!(csv.contains("As at,2026-10-05T09:00:00.000000Z"), "{csv}");
        assert!(
            csv.contains(&format!("Profile,kent-medway,{}", profile.version)),
            "{csv}"
        );
        assert!(
            csv.contains(
                "MDI,1.1,Number of substance misuse screenings completed at reception,0,events,,"
            ),
            "{csv}"
        );
        assert!(
            csv.contains("All,2.14,,Not defined by the specification"),
            "{csv}"
        );
        assert_eq!(
            to_csv(&s[0]).unwrap(),
            to_csv(&sheets(&r, &profile, None, None)[0]).unwrap()
        );
        let x1 = to_xlsx(&r, &s).unwrap();
        let x2 = to_xlsx(&r, &sheets(&r, &profile, None, None)).unwrap();
        assert_eq!(x1, x2, "the same workbook, byte for byte");
        assert!(to_table(&s[0]).contains("Events up to"));
    }
}
