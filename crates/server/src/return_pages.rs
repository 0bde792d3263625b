//! The return pages (REQUIREMENTS §16; KM 6.4–6.7; S4 §5; docs/returns.md): the
//! profile's return for a period, as at an instant, for one row (an establishment or
//! all of them) — every line with a chart of it across the eight periods to the one
//! chosen, CSV and XLSX downloads byte-identical to `throughcare report`, and (for
//! managers, "internal view only") the drill-down listing the people and events
//! behind a figure.
//!
//! Who sees what is decided by [`policy::returns`] and [`policy::drill_down`]: a
//! manager sees the exact figures (the service's internal view is always exact) and
//! may preview the published ones; the commissioner sees the published figures only
//! — exact for the KM quarterly return (KM 6.5), disclosure controlled for a published
//! report (S4 §5) — and never a person. Every view, download and drill-down is written
//! to the access audit.
//!
//! The charts compute one return per period from a single cut of the log (one fold
//! of every case); fine for a service's log, a cache per (period, as-at) is the next
//! step if it grows.

#![allow(clippy::cmp_owned)]

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeSet, HashMap};
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_domain::profile::Profile;
use throughcare_domain::returns::cut::Cut;
use throughcare_domain::returns::disclosure::{self, DisclosureRule};
use throughcare_domain::returns::figure::{Item, RowKey};
use throughcare_domain::returns::period::Period;
use throughcare_domain::returns::{Return, ReturnKind};
use throughcare_domain::time::canonical_instant;
use throughcare_store::AccessEntry;

use crate::app::AppState;
use crate::auth::{PageStaff, Staff};
use crate::chrome::{Chrome, FormErrors};
use crate::policy::{self, Denied, ReturnsAccess};
use crate::report_export as rx;
use crate::web::{chrome, denied, message, render, with_status};

/// The returns the profile owes that the product computes, in the profile's order:
/// the KM quarterly return or the S4 six-monthly report, and the annual report (the
/// profile's `returns`).
pub fn profile_kinds(profile: &Profile) -> Vec<ReturnKind> {
    profile
        .returns
        .iter()
        .filter_map(|r| ReturnKind::from_code(&r.id))
        .collect()
}

/// The return the page shows when none is chosen: the profile's first.
pub fn profile_kind(profile: &Profile) -> Option<ReturnKind> {
    profile_kinds(profile).into_iter().next()
}

/// What the page was asked for, once read and checked.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Which return.
    pub kind: ReturnKind,
    /// The period.
    pub period: Period,
    /// The as-at instant.
    pub as_at: DateTime<Utc>,
    /// One establishment, or `None` for every row (the download's summary then holds
    /// every row, with a sheet per establishment, as `throughcare report` without
    /// `--establishment`).
    pub only: Option<EstablishmentCode>,
    /// Exact figures (the internal view) rather than the published ones.
    pub exact: bool,
}

impl Choice {
    /// The row the page shows: the establishment, or all of them (the one
    /// establishment of a one-prison profile).
    fn row(&self, r: &Return) -> RowKey {
        match &self.only {
            Some(e) => RowKey::Establishment(e.clone()),
            None if r.rows.contains(&RowKey::All) => RowKey::All,
            None => r.rows.first().cloned().unwrap_or(RowKey::All),
        }
    }

    /// The query string that asks for this choice again (fixed as-at instant).
    fn query(&self) -> String {
        let pairs = [
            ("kind", self.kind.code().to_string()),
            ("period", self.period.name.clone()),
            ("as_at", canonical_instant(self.as_at)),
            (
                "row",
                self.only
                    .as_ref()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "all".into()),
            ),
            (
                "figures",
                if self.exact { "exact" } else { "published" }.to_string(),
            ),
        ];
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The disclosure rule the figures go through: none for the exact view, else
    /// the profile's published rule for the return.
    fn rule(&self, profile: &Profile) -> Option<DisclosureRule> {
        if self.exact {
            None
        } else {
            rx::published_rule(profile, self.kind)
        }
    }

    /// The access-audit detail: the route and the choice, no personal data.
    fn audit_detail(&self, route: &str) -> String {
        format!("{route}?{}", self.query())
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Why the page could not do as asked.
enum Refusal {
    /// A field is wrong: (field, message) pairs.
    Fields(FormErrors),
    /// The role does not allow it.
    Denied(Denied),
    /// The profile owes no return the product computes.
    NoReturn,
}

/// Reads and checks the query: each wrong field named. A commissioner asking for
/// exact figures of a controlled return is refused.
fn choose(
    state: &AppState,
    access: &ReturnsAccess,
    q: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Result<Choice, Refusal> {
    let profile = &state.profile;
    let kinds = profile_kinds(profile);
    let Some(mut kind) = kinds.first().copied() else {
        return Err(Refusal::NoReturn);
    };
    let mut errors = FormErrors::default();
    let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(asked) = get("kind") {
        match kinds.iter().find(|k| k.code() == asked) {
            Some(k) => kind = *k,
            None => errors.add(
                "kind",
                format!(
                    "The {} profile's returns are {}, not {:?}",
                    profile.id,
                    kinds
                        .iter()
                        .map(|k| k.code())
                        .collect::<Vec<_>>()
                        .join(" and "),
                    asked.chars().take(40).collect::<String>()
                ),
            ),
        }
    }
    let starts = profile.obligations.year_starts_month;
    let today = throughcare_domain::time::local_date(now);
    let parsed = |text: &str| match kind {
        ReturnKind::Annual => Period::parse_year(text, starts),
        _ => Period::parse(text),
    };
    let period = match get("period") {
        None => Some(kind.last_complete(today, starts)),
        Some(text) => match parsed(text) {
            Ok(p) if kind.period_of(p.first, starts) == p => Some(p),
            Ok(_) => {
                errors.add(
                    "period",
                    match kind {
                        ReturnKind::KmQuarterly => "Enter a quarter, like 2025Q3",
                        ReturnKind::S4SixMonthly => "Enter a half-year, like 2025H2",
                        ReturnKind::Annual => "Enter the year it starts in, like 2025",
                    },
                );
                None
            }
            Err(e) => {
                errors.add("period", e.to_string());
                None
            }
        },
    };
    let as_at = match get("as_at") {
        None => Some(now),
        Some(text) => match rx::parse_as_at(text) {
            Ok(at) => Some(at),
            Err(e) => {
                errors.add("as_at", format!("As at: {e}"));
                None
            }
        },
    };
    let only = match get("row") {
        None => None,
        Some(r) if r.eq_ignore_ascii_case("all") => None,
        Some(r) => match EstablishmentCode::parse(r) {
            Ok(code) if profile.establishment(&code).is_some() => Some(code),
            _ => {
                errors.add(
                    "row",
                    format!(
                        "Choose an establishment of the {} profile, or all",
                        profile.id
                    ),
                );
                None
            }
        },
    };
    let exact = match (get("figures"), access) {
        (None, ReturnsAccess::Internal) | (Some("exact"), ReturnsAccess::Internal) => true,
        (None, ReturnsAccess::Published) | (Some("published"), _) => false,
        (Some("exact"), ReturnsAccess::Published) => {
            // The KM return is published exact: asking for exact figures is asking
            // for what the commissioner already sees.
            if rx::published_rule(profile, kind).is_some() {
                return Err(Refusal::Denied(Denied::Forbidden(
                    "The commissioner sees the return as it is published: its figures are disclosure controlled.",
                )));
            }
            false
        }
        (Some(_), _) => {
            errors.add("figures", "Choose exact or published figures");
            false
        }
    };
    match (period, as_at) {
        (Some(period), Some(as_at)) if errors.is_empty() => Ok(Choice {
            kind,
            period,
            as_at,
            only,
            exact,
        }),
        _ => Err(Refusal::Fields(errors)),
    }
}

/// Writes one entry to the access audit.
fn audit(
    state: &AppState,
    staff: &Staff,
    person: Option<throughcare_domain::record_ids::PersonId>,
    action: &str,
    detail: String,
) -> Result<(), Denied> {
    state.store.record_access(&AccessEntry {
        at: Utc::now(),
        username: staff.username().to_string(),
        person,
        action: action.into(),
        detail,
    })?;
    Ok(())
}

/// One line of the table on the page: the download's cells for the row shown.
pub struct TableLine {
    code: String,
    /// The code as an HTML id (`1.28-programme-abstinence`).
    anchor: String,
    label: String,
    value: String,
    unit: String,
    numerator: String,
    denominator: String,
    /// The drill-down link, for a manager, when the figure has items.
    drill: Option<String>,
}

/// One line's chart.
pub struct Chart {
    code: String,
    /// The code as an HTML id.
    anchor: String,
    label: String,
    /// The SVG document (inline; empty if it could not be drawn).
    svg: String,
    /// Each period with its value as printed, for reading without the chart.
    points: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "returns.html")]
struct ReturnsPage {
    chrome: Chrome,
    errors: FormErrors,
    title: String,
    kind: String,
    /// The profile's returns, to choose from: (code, title).
    kinds: Vec<(String, String)>,
    period: String,
    as_at: String,
    rows: Vec<(String, String)>,
    row: String,
    internal: bool,
    figures: String,
    figure_options: Vec<(String, String)>,
    report: Option<Report>,
}

/// A line's code as an HTML id: spaces become hyphens.
fn anchor(code: &str) -> String {
    code.replace(' ', "-")
}

/// The computed part of the page.
struct Report {
    facts: Vec<(String, String)>,
    row_name: String,
    controlled: bool,
    legend: &'static str,
    future: bool,
    csv: String,
    xlsx: String,
    lines: Vec<TableLine>,
    /// The annual report's equality and survey tables: (title, lines).
    sections: Vec<(String, Vec<TableLine>)>,
    charts: Vec<Chart>,
    /// The narrative sections of the return, with the text as at the as-at instant.
    narratives: Vec<NarrativeView>,
    /// Whether the user may write narratives (a manager).
    may_write: bool,
    /// The return's code and period name, for the narrative forms.
    narrative_kind: String,
    narrative_period: String,
}

/// One narrative section on the page (S4 §5, §9; KM 4.24).
pub struct NarrativeView {
    /// The section's code (the form's `section`).
    code: String,
    /// Its heading.
    label: String,
    /// Its text as at the page's as-at instant (empty when not written).
    text: String,
}

fn row_label(state: &AppState, row: &RowKey) -> String {
    match row {
        RowKey::Establishment(e) => state.establishment_name(e.as_str()),
        RowKey::All => "All establishments".into(),
    }
}

fn row_code(row: &RowKey) -> String {
    match row {
        RowKey::Establishment(e) => e.to_string(),
        RowKey::All => "All".into(),
    }
}

/// Each line's value in `row` as the return prints it, by code: exact, or through
/// the rule.
fn printed(r: &Return, row: &RowKey, rule: Option<&DisclosureRule>) -> Vec<(String, String)> {
    match rule {
        None => r
            .figures
            .iter()
            .map(|f| (f.code.clone(), f.line(row).value.display()))
            .collect(),
        Some(rule) => rule
            .apply(r)
            .into_iter()
            .map(|(code, cells)| {
                (
                    code,
                    cells.get(row).map(|c| c.display()).unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// The charts: each line across the eight periods to the chosen one, from one cut.
fn charts(
    cut: &Cut<'_>,
    choice: &Choice,
    r: &Return,
    row: &RowKey,
    rule: Option<&DisclosureRule>,
) -> Vec<Chart> {
    let periods =
        choice
            .kind
            .periods_to(&choice.period, 8, cut.profile.obligations.year_starts_month);
    let names: Vec<String> = periods.iter().map(|p| p.name.clone()).collect();
    let per_period: Vec<HashMap<String, String>> = periods
        .iter()
        .map(|p| {
            let rp = if *p == choice.period {
                r.clone()
            } else {
                Return::from_cut(choice.kind, cut, p)
            };
            printed(&rp, row, rule).into_iter().collect()
        })
        .collect();
    r.figures
        .iter()
        .map(|f| {
            let shown: Vec<String> = per_period
                .iter()
                .map(|m| m.get(&f.code).cloned().unwrap_or_default())
                .collect();
            let values: Vec<Option<f64>> = shown.iter().map(|s| s.parse().ok()).collect();
            let svg = if values.iter().any(Option::is_some) {
                crate::return_charts::line_chart(&names, &values, &f.unit)
            } else {
                String::new()
            };
            Chart {
                anchor: anchor(&f.code),
                code: f.code.clone(),
                label: f.label.clone(),
                svg,
                points: names.iter().cloned().zip(shown).collect(),
            }
        })
        .collect()
}

/// Everything the log holds (the cut is taken from it as at the chosen instant).
fn load(state: &AppState) -> Result<Vec<throughcare_domain::events::RecordedEvent>, Denied> {
    Ok(state.store.events_after(0, usize::MAX)?)
}

fn form_values(
    state: &AppState,
    q: &HashMap<String, String>,
) -> (String, String, String, Vec<(String, String)>) {
    let kinds = profile_kinds(&state.profile);
    let kind = q
        .get("kind")
        .and_then(|k| kinds.iter().find(|x| x.code() == k.trim()))
        .or(kinds.first())
        .map(|k| k.code().to_string())
        .unwrap_or_default();
    let mut rows: Vec<(String, String)> = Vec::new();
    if state.profile.establishments.len() > 1 {
        rows.push(("all".into(), "All establishments".into()));
    }
    rows.extend(
        state
            .profile
            .establishments
            .iter()
            .map(|e| (e.code.to_string(), e.name.clone())),
    );
    let v = |k: &str| q.get(k).cloned().unwrap_or_default();
    (kind, v("period"), v("as_at"), rows)
}

/// GET /returns: the return page (managers and the commissioner).
pub async fn page(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let access = match policy::returns(&staff) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let internal = access == ReturnsAccess::Internal;
    let (kind_code, period_text, as_at_text, rows) = form_values(&state, &q);
    let title = state
        .profile
        .returns
        .iter()
        .find(|r| r.id == kind_code)
        .map(|r| r.title.clone())
        .unwrap_or_else(|| "Returns".into());
    let kinds: Vec<(String, String)> = profile_kinds(&state.profile)
        .into_iter()
        .map(|k| {
            let title = state
                .profile
                .returns
                .iter()
                .find(|r| r.id == k.code())
                .map(|r| r.title.clone())
                .unwrap_or_default();
            (k.code().to_string(), title)
        })
        .collect();
    let mut page = ReturnsPage {
        chrome: chrome(&state, &staff, "/returns"),
        errors: FormErrors::default(),
        title,
        kind: kind_code,
        kinds,
        period: period_text,
        as_at: as_at_text,
        rows,
        row: q.get("row").cloned().unwrap_or_else(|| "all".into()),
        internal,
        figures: q
            .get("figures")
            .cloned()
            .unwrap_or_else(|| if internal { "exact" } else { "published" }.into()),
        figure_options: vec![
            ("exact".into(), "Exact (the service's internal view)".into()),
            (
                "published".into(),
                "As published to the commissioner".into(),
            ),
        ],
        report: None,
    };
    let now = Utc::now();
    let choice = match choose(&state, &access, &q, now) {
        Ok(c) => c,
        Err(Refusal::Fields(errors)) => {
            page.errors = errors;
            return with_status(StatusCode::UNPROCESSABLE_ENTITY, render(page));
        }
        Err(r) => return refused(&state, &staff, r, "The return could not be made"),
    };
    let events = match load(&state) {
        Ok(e) => e,
        Err(d) => return denied(&state, &staff, d),
    };
    let cut = Cut::new(&state.profile, &events, choice.as_at);
    let r = Return::from_cut(choice.kind, &cut, &choice.period);
    let row = choice.row(&r);
    let rule = choice.rule(&state.profile);
    let sheets = rx::sheets(&r, &state.profile, choice.only.as_ref(), rule.as_ref());
    let name = row_code(&row);
    let drill_ok = policy::drill_down(&staff).is_ok();
    let table_lines = |rows: &[Vec<rx::Cell>]| -> Vec<TableLine> {
        rows.iter()
            .filter(|cells| cells.len() == 7 && cells[0].as_text() == name)
            .map(|cells| {
                let code = cells[1].as_text().to_string();
                let has_items = r.figure(&code).is_some_and(|f| !f.items(&row).is_empty());
                TableLine {
                    drill: (drill_ok && has_items).then(|| {
                        format!(
                            "/returns/drill?{}&code={}",
                            Choice {
                                exact: true,
                                ..choice.clone()
                            }
                            .query(),
                            encode(&code)
                        )
                    }),
                    anchor: anchor(&code),
                    code,
                    label: cells[2].as_text().into(),
                    value: cells[3].as_text().into(),
                    unit: cells[4].as_text().into(),
                    numerator: cells[5].as_text().into(),
                    denominator: cells[6].as_text().into(),
                }
            })
            .collect()
    };
    let lines = table_lines(&sheets[0].rows);
    let sections: Vec<(String, Vec<TableLine>)> = sheets
        .iter()
        .filter(|sh| sh.section && sh.name != "Narrative")
        .map(|sh| (sh.name.clone(), table_lines(&sh.rows)))
        .collect();
    let narratives: Vec<NarrativeView> = choice
        .kind
        .narrative_return()
        .map(|n| {
            n.sections()
                .iter()
                .map(|sec| NarrativeView {
                    code: sec.code().to_string(),
                    label: sec.label().to_string(),
                    text: r
                        .narratives
                        .iter()
                        .find(|x| x.section == *sec)
                        .map(|x| x.text.clone())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let may_write = policy::manager_here(&staff).is_ok();
    // The annual report's hundreds of breakdown lines are not charted over eight
    // years: its table is the report.
    let charts = if choice.kind == ReturnKind::Annual {
        Vec::new()
    } else {
        charts(&cut, &choice, &r, &row, rule.as_ref())
    };
    if let Err(d) = audit(
        &state,
        &staff,
        None,
        "return-view",
        choice.audit_detail("/returns"),
    ) {
        return denied(&state, &staff, d);
    }
    let local = choice
        .as_at
        .with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y at %H:%M:%S (UK time)")
        .to_string();
    page.period = choice.period.name.clone();
    page.as_at = canonical_instant(choice.as_at);
    page.row = choice
        .only
        .as_ref()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "all".into());
    page.figures = if choice.exact { "exact" } else { "published" }.into();
    page.report = Some(Report {
        facts: vec![
            (
                "Period".into(),
                format!(
                    "{} ({} to {})",
                    choice.period.name,
                    choice.period.first.format("%-d %B %Y"),
                    choice.period.last.format("%-d %B %Y")
                ),
            ),
            (
                "As at".into(),
                format!("{local} — {}", canonical_instant(choice.as_at)),
            ),
            ("Events up to".into(), r.last_seq.to_string()),
            (
                "Profile".into(),
                format!("{} version {}", r.profile, r.profile_version),
            ),
            (
                "Figures".into(),
                match (&rule, choice.exact) {
                    (None, true) => "Exact (the service's internal view)".into(),
                    (None, false) => "Exact, as published (KM 6.5)".into(),
                    (Some(_), _) => "Disclosure controlled, as published".into(),
                },
            ),
        ],
        row_name: row_label(&state, &row),
        controlled: rule.is_some(),
        legend: disclosure::LEGEND,
        future: choice.as_at > now,
        csv: format!("/returns/download.csv?{}", choice.query()),
        xlsx: format!("/returns/download.xlsx?{}", choice.query()),
        lines,
        sections,
        charts,
        narratives,
        may_write,
        narrative_kind: choice.kind.code().to_string(),
        narrative_period: choice.period.name.clone(),
    });
    render(page)
}

/// The answer to a refused choice where there is no form to show it on: the fields'
/// problems on a message page (422), the role's refusal, or no return owed.
fn refused(state: &AppState, staff: &Staff, refusal: Refusal, title: &str) -> Response {
    match refusal {
        Refusal::Fields(errors) => {
            let text = errors
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            message(state, staff, StatusCode::UNPROCESSABLE_ENTITY, title, &text)
        }
        Refusal::Denied(d) => denied(state, staff, d),
        Refusal::NoReturn => no_return(state, staff),
    }
}

fn no_return(state: &AppState, staff: &Staff) -> Response {
    message(
        state,
        staff,
        StatusCode::NOT_FOUND,
        "No return",
        "This service's profile owes no return the product computes.",
    )
}

/// The download formats.
#[derive(Clone, Copy)]
enum Format {
    Csv,
    Xlsx,
}

/// GET /returns/download.csv: the summary sheet, as `throughcare report --format csv`.
pub async fn download_csv(
    state: State<AppState>,
    staff: PageStaff,
    q: Query<HashMap<String, String>>,
) -> Response {
    download(state, staff, q, Format::Csv).await
}

/// GET /returns/download.xlsx: the workbook, as `throughcare report --format xlsx`.
pub async fn download_xlsx(
    state: State<AppState>,
    staff: PageStaff,
    q: Query<HashMap<String, String>>,
) -> Response {
    download(state, staff, q, Format::Xlsx).await
}

async fn download(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(q): Query<HashMap<String, String>>,
    format: Format,
) -> Response {
    let access = match policy::returns(&staff) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let choice = match choose(&state, &access, &q, Utc::now()) {
        Ok(c) => c,
        Err(r) => return refused(&state, &staff, r, "The return could not be made"),
    };
    let r = match rx::compute(
        state.store.as_ref(),
        &state.profile,
        choice.kind,
        &choice.period,
        choice.as_at,
    ) {
        Ok(r) => r,
        Err(e) => return denied(&state, &staff, Denied::Store(e)),
    };
    let rule = choice.rule(&state.profile);
    let sheets = rx::sheets(&r, &state.profile, choice.only.as_ref(), rule.as_ref());
    let (bytes, mime, ext) = match format {
        Format::Csv => (
            rx::csv(&sheets).map_err(|e| e.to_string()),
            "text/csv; charset=utf-8",
            "csv",
        ),
        Format::Xlsx => (
            rx::to_xlsx(&r, &sheets).map_err(|e| e.to_string()),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "return export failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "The export failed.").into_response();
        }
    };
    if let Err(d) = audit(
        &state,
        &staff,
        None,
        "return-download",
        choice.audit_detail(&format!("/returns/download.{ext}")),
    ) {
        return denied(&state, &staff, d);
    }
    let file = format!(
        "attachment; filename=\"{}-{}-{}-as-at-{}.{ext}\"",
        choice.kind.code(),
        choice.period.name,
        choice
            .only
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "all".into()),
        choice.as_at.format("%Y%m%dT%H%M%S%.6fZ"),
    );
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, file),
        ],
        bytes,
    )
        .into_response()
}

/// One item of a figure, as the drill-down lists it.
pub struct DrillRow {
    person: Option<String>,
    name: String,
    prison_number: String,
    establishment: String,
    event: String,
    on: String,
    in_numerator: bool,
}

#[derive(Template)]
#[template(path = "return_drill.html")]
struct DrillPage {
    chrome: Chrome,
    code: String,
    label: String,
    value: String,
    unit: String,
    period: String,
    as_at: String,
    row_name: String,
    proportion: bool,
    rows: Vec<DrillRow>,
    left_out: usize,
    back: String,
}

/// GET /returns/drill: the people and events behind one figure (managers only,
/// exact, only the items at establishments the manager works at).
pub async fn drill(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let drill = match policy::drill_down(&staff) {
        Ok(d) => d,
        Err(d) => return denied(&state, &staff, d),
    };
    let mut q = q;
    q.insert("figures".into(), "exact".into());
    let choice = match choose(&state, &ReturnsAccess::Internal, &q, Utc::now()) {
        Ok(c) => c,
        Err(r) => return refused(&state, &staff, r, "The figure could not be shown"),
    };
    let code = q.get("code").map(|c| c.trim()).unwrap_or_default();
    let events = match load(&state) {
        Ok(e) => e,
        Err(d) => return denied(&state, &staff, d),
    };
    let cut = Cut::new(&state.profile, &events, choice.as_at);
    let r = Return::from_cut(choice.kind, &cut, &choice.period);
    let Some(figure) = r.figure(code) else {
        return message(
            &state,
            &staff,
            StatusCode::NOT_FOUND,
            "No such line",
            &format!(
                "code: the {} return has no line {:?}",
                choice.kind.code(),
                code.chars().take(40).collect::<String>()
            ),
        );
    };
    let row = choice.row(&r);
    let numerator: BTreeSet<&Item> = figure.numerator_items(&row).into_iter().collect();
    let items = figure.items(&row);
    let (shown, hidden): (Vec<&Item>, Vec<&Item>) = items
        .into_iter()
        .partition(|i| drill.shows(&i.establishment));
    let rows = drill_rows(&state, &cut, &shown, &numerator);
    let people: BTreeSet<_> = shown.iter().filter_map(|i| i.person).collect();
    let detail = format!("{}&code={}", choice.audit_detail("/returns/drill"), code);
    for p in &people {
        if let Err(d) = audit(&state, &staff, Some(*p), "return-drill", detail.clone()) {
            return denied(&state, &staff, d);
        }
    }
    if people.is_empty()
        && let Err(d) = audit(&state, &staff, None, "return-drill", detail)
    {
        return denied(&state, &staff, d);
    }
    let line = figure.line(&row);
    render(DrillPage {
        chrome: chrome(&state, &staff, "/returns"),
        code: line.code,
        label: line.label,
        value: line.value.display(),
        unit: line.unit,
        period: choice.period.name.clone(),
        as_at: canonical_instant(choice.as_at),
        row_name: row_label(&state, &row),
        proportion: !numerator.is_empty()
            || matches!(
                figure.figure,
                throughcare_domain::returns::figure::Figure::Proportion { .. }
            ),
        rows,
        left_out: hidden.len(),
        back: format!("/returns?{}", choice.query()),
    })
}

fn drill_rows(
    state: &AppState,
    cut: &Cut<'_>,
    items: &[&Item],
    numerator: &BTreeSet<&Item>,
) -> Vec<DrillRow> {
    let mut rows: Vec<(Option<NaiveDate>, String, DrillRow)> = items
        .iter()
        .map(|item| {
            let record = item.person.and_then(|p| cut.people.get(&p));
            let details = record.and_then(|r| r.case.details.as_ref());
            let event = item.event.and_then(|id| {
                record
                    .and_then(|r| r.events.iter().find(|e| e.id == id))
                    .or_else(|| cut.service_events.iter().find(|e| e.id == id))
            });
            let name = details
                .map(|d| format!("{}, {}", d.family_name, d.given_name))
                .unwrap_or_default();
            (
                item.on,
                name.clone(),
                DrillRow {
                    person: item.person.map(|p| p.to_string()),
                    name,
                    prison_number: details
                        .map(|d| d.prison_number.to_string())
                        .unwrap_or_default(),
                    establishment: state.establishment_name(item.establishment.as_str()),
                    event: event
                        .map(|e| crate::timeline::describe(&e.kind))
                        .unwrap_or_default(),
                    on: item
                        .on
                        .map(|d| d.format("%-d %b %Y").to_string())
                        .unwrap_or_default(),
                    in_numerator: numerator.contains(item),
                },
            )
        })
        .collect();
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    rows.into_iter().map(|(_, _, r)| r).collect()
}

/// POST /returns/narrative: a manager writes one narrative section of a return for a
/// period (S4 §5, §9; KM 4.24) — `kind`, `period`, `section`, `text`, with the form's
/// CSRF token. Checked by the domain (the return owed, its period, its section, 1 to
/// 5,000 characters); a refusal names the field and records nothing.
pub async fn record_narrative(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    headers: axum::http::HeaderMap,
    axum::extract::Form(pairs): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let f = match crate::web::checked_form(&state, &staff, &headers, pairs) {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    if let Err(d) = policy::manager_here(&staff) {
        return denied(
            &state,
            &staff,
            match d {
                Denied::Forbidden(_) => {
                    Denied::Forbidden("Only a service manager can write a return's narrative.")
                }
                other => other,
            },
        );
    }
    use throughcare_domain::narratives::{NarrativeReturn, NarrativeSection, ReportNarrative};
    let mut errors = FormErrors::default();
    let report = NarrativeReturn::from_code(f.get("kind").trim());
    if report.is_none() {
        errors.add(
            "kind",
            "Choose a return that has narratives: s4-six-monthly or annual",
        );
    }
    let section = NarrativeSection::from_code(f.get("section").trim());
    if section.is_none() {
        errors.add("section", "Choose a section of the return");
    }
    let refuse = |errors: FormErrors| {
        let text = errors
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        message(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            "The narrative was not recorded",
            &text,
        )
    };
    let (Some(report), Some(section)) = (report, section) else {
        return refuse(errors);
    };
    let period = f.get("period").trim().to_string();
    let fact = ReportNarrative {
        report,
        period: period.clone(),
        section,
        text: f.get("text").to_string(),
    };
    let recorded = state.recorder().record_service(
        &staff.author(),
        staff.establishment(),
        throughcare_domain::events::EventKind::ReportNarrativeRecorded(fact),
        Utc::now(),
        &mut throughcare_domain::record_ids::RandomIds,
        None,
    );
    match recorded {
        Ok(_) => axum::response::Redirect::to(&format!(
            "/returns?kind={}&period={}#narrative-{}",
            encode(report.code()),
            encode(&period),
            section.code()
        ))
        .into_response(),
        Err(crate::recording::RecordError::Domain(e)) => refuse(crate::web::domain_errors(&e)),
        Err(crate::recording::RecordError::Store(e)) => denied(&state, &staff, Denied::Store(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_value_is_percent_encoded() {
        assert_eq!(
            encode("2026-10-05T09:00:00.000000Z"),
            "2026-10-05T09%3A00%3A00.000000Z"
        );
        assert_eq!(encode("1.28 programme"), "1.28%20programme");
    }
}
