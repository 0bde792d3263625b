//! `throughcare report` as a real process over the demo database: the CSV is the same
//! file every time for the same as-at instant, and the XLSX opens in LibreOffice
//! (headless, converted back to CSV) and agrees with the CSV cell for cell.
//!
//! LibreOffice is installed by `scripts/test.sh` (Debian's `libreoffice-calc-nogui`),
//! which sets `THROUGHCARE_REQUIRE_LIBREOFFICE=1`; without it (a developer's machine
//! without LibreOffice) the XLSX comparison says so and is skipped.

use std::path::Path;
use std::process::Command;

mod common;
use common::{output_text, throughcare_cli};

/// LibreOffice's command, or none when it is not installed — which fails the test
/// where `scripts/test.sh` requires it, and otherwise says the comparison is skipped.
fn office_or_skip() -> Option<&'static str> {
    let office = soffice();
    if office.is_none() {
        assert!(
            std::env::var_os("THROUGHCARE_REQUIRE_LIBREOFFICE").is_none(),
            "LibreOffice is required (scripts/test.sh installs libreoffice-calc-nogui)"
        );
        eprintln!("LibreOffice is not installed: the XLSX comparison is skipped");
    }
    office
}

fn soffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .map(|r| {
            let mut row: Vec<String> = r.unwrap().iter().map(str::to_string).collect();
            while row.last().is_some_and(|c| c.is_empty()) {
                row.pop();
            }
            row
        })
        .collect()
}

/// Two cells agree when their text is the same, or both are numbers of equal value
/// (LibreOffice writes 40 for the number 40.0).
fn same(a: &str, b: &str) -> bool {
    a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if (x - y).abs() < 1e-9)
}

fn convert(office: &str, xlsx: &Path, out: &Path) -> Vec<u8> {
    let profile = out.join("lo-profile");
    let o = Command::new(office)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
        ])
        .arg("--outdir")
        .arg(out)
        .arg(xlsx)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let name = xlsx.file_stem().unwrap().to_str().unwrap();
    std::fs::read(out.join(format!("{name}.csv"))).unwrap()
}

#[test]
fn the_quarterly_return_is_the_same_file_each_time_and_its_xlsx_agrees_with_its_csv() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let db = db.to_str().unwrap();
    let out = throughcare_cli(db, &["demo"]);
    assert!(out.status.success(), "{}", output_text(&out));

    let as_at = throughcare_domain::time::canonical_instant(chrono::Utc::now());
    let today = throughcare_domain::time::local_date(chrono::Utc::now());
    let quarter = throughcare_domain::returns::period::Period::quarter_of(today).name;
    let args = |format: &'static str| {
        vec![
            "report".to_string(),
            "km-quarterly".into(),
            "--quarter".into(),
            quarter.clone(),
            "--as-at".into(),
            as_at.clone(),
            "--format".into(),
            format.into(),
        ]
    };
    let run = |extra: &[&str], format: &'static str| {
        let mut a = args(format);
        a.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = throughcare_cli(db, &a);
        assert!(o.status.success(), "{}", output_text(&o));
        o.stdout
    };
    let csv1 = run(&[], "csv");
    let csv2 = run(&[], "csv");
    assert_eq!(csv1, csv2, "the same as-at gives the same bytes");
    let rows = read_csv(&csv1);
    assert!(
        rows.iter()
            .any(|r| r.first().map(String::as_str) == Some("As at"))
    );
    assert!(
        rows.iter()
            .any(|r| r.len() > 1 && r[0] == "All" && r[1] == "1.1"),
        "an all-prisons row"
    );
    let table = String::from_utf8(run(&[], "table")).unwrap();
    assert!(table.contains("Events up to"), "{table}");

    // One establishment only.
    let mdi = read_csv(&run(&["--establishment", "MDI"], "csv"));
    assert!(mdi.iter().skip(8).all(|r| r[0] == "MDI"));
    // Bad arguments are named.
    let bad = throughcare_cli(
        db,
        &[
            "report",
            "km-quarterly",
            "--quarter",
            "2025Q5",
            "--format",
            "csv",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        output_text(&bad).contains("--quarter"),
        "{}",
        output_text(&bad)
    );
    let bad = throughcare_cli(
        db,
        &[
            "report",
            "km-quarterly",
            "--quarter",
            "2025Q3",
            "--establishment",
            "ZZZ",
        ],
    );
    assert!(
        output_text(&bad).contains("--establishment"),
        "{}",
        output_text(&bad)
    );

    let xlsx = dir.path().join("return.xlsx");
    run(&["--output", xlsx.to_str().unwrap()], "xlsx");
    let Some(office) = office_or_skip() else {
        return;
    };
    let converted = read_csv(&convert(office, &xlsx, dir.path()));
    assert_eq!(converted.len(), rows.len(), "as many rows");
    for (i, (a, b)) in rows.iter().zip(&converted).enumerate() {
        assert_eq!(a.len(), b.len(), "row {i}: {a:?} against {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!(same(x, y), "row {i}: {x:?} in the CSV, {y:?} in the XLSX");
        }
    }
}

/// Converts every sheet of `xlsx` to CSV with LibreOffice (sheet `-1`: one file per
/// sheet, named `{stem}-{sheet}.csv`) and reads the one named `sheet`.
fn convert_sheet(office: &str, xlsx: &Path, out: &Path, sheet: &str) -> Vec<Vec<String>> {
    let name = xlsx.file_stem().unwrap().to_str().unwrap();
    let path = out.join(format!("{name}-{sheet}.csv"));
    if !path.exists() {
        let profile = out.join("lo-profile");
        let o = Command::new(office)
            .arg(format!(
                "-env:UserInstallation=file://{}",
                profile.display()
            ))
            .args([
                "--headless",
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            ])
            .arg("--outdir")
            .arg(out)
            .arg(xlsx)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", output_text(&o));
    }
    read_csv(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

#[test]
fn the_annual_report_is_the_same_file_each_time_and_its_xlsx_sheets_agree_with_its_csv() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let db = db.to_str().unwrap();
    let out = throughcare_cli(db, &["demo"]);
    assert!(out.status.success(), "{}", output_text(&out));

    // The Kent and Medway year starts in April: the year holding today.
    let as_at = throughcare_domain::time::canonical_instant(chrono::Utc::now());
    let today = throughcare_domain::time::local_date(chrono::Utc::now());
    use chrono::Datelike;
    let start = if today.month() >= 4 {
        today.year()
    } else {
        today.year() - 1
    };
    let year = start.to_string();
    let run = |extra: &[&str], format: &str| {
        let mut a = vec![
            "report", "annual", "--year", &year, "--as-at", &as_at, "--format", format,
        ];
        a.extend(extra);
        let o = throughcare_cli(db, &a);
        assert!(o.status.success(), "{}", output_text(&o));
        o.stdout
    };
    let csv1 = run(&[], "csv");
    assert_eq!(csv1, run(&[], "csv"), "the same as-at gives the same bytes");
    let rows = read_csv(&csv1);
    let name = format!("{start}-{:02}", (start + 1) % 100);
    assert!(
        rows.iter()
            .any(|r| r.len() > 1 && r[0] == "Period" && r[1] == name),
        "the period is the KM year {name}"
    );
    assert!(
        rows.iter()
            .any(|r| r.first().map(String::as_str) == Some("Return") && r[1] == "annual")
    );
    // The sections follow the summary, each after a blank line.
    for title in ["Equality", "Surveys", "Narrative"] {
        let at = rows
            .iter()
            .position(|r| r.first().map(String::as_str) == Some(title))
            .unwrap_or_else(|| panic!("no {title} section"));
        assert!(rows[at - 1].is_empty(), "a blank line before {title}");
    }
    assert!(
        rows.iter()
            .any(|r| r.len() > 1 && r[0] == "All" && r[1] == "SPI S4.5.2"),
        "the SPI lines"
    );
    assert!(
        rows.iter()
            .any(|r| r.len() > 1 && r[0] == "All" && r[1] == "EQ assessed sex not_recorded"),
        "'not recorded' is a category"
    );
    // Published: disclosure controlled by default.
    assert!(
        rows.iter()
            .any(|r| r.first().map(String::as_str) == Some("Figures")
                && r[1].starts_with("Disclosure controlled")),
    );
    let exact = read_csv(&run(&["--exact"], "csv"));
    assert!(
        exact
            .iter()
            .any(|r| r.len() > 1 && r[0] == "Figures" && r[1] == "Exact")
    );
    // A year written wrongly is named.
    let bad = throughcare_cli(db, &["report", "annual", "--year", "2025-27"]);
    assert!(!bad.status.success());
    assert!(
        output_text(&bad).contains("--year"),
        "{}",
        output_text(&bad)
    );

    let xlsx = dir.path().join("annual.xlsx");
    run(&["--output", xlsx.to_str().unwrap()], "xlsx");
    let Some(office) = office_or_skip() else {
        return;
    };
    // The CSV is the Summary sheet, then the Equality, Surveys and Narrative sheets,
    // each after a blank line.
    let mut expected: Vec<Vec<String>> = convert_sheet(office, &xlsx, dir.path(), "Summary");
    for sheet in ["Equality", "Surveys", "Narrative"] {
        expected.push(Vec::new());
        expected.extend(convert_sheet(office, &xlsx, dir.path(), sheet));
    }
    // A per-prison sheet is there too.
    assert!(!convert_sheet(office, &xlsx, dir.path(), "MDI").is_empty());
    assert_eq!(expected.len(), rows.len(), "as many rows");
    for (i, (a, b)) in rows.iter().zip(&expected).enumerate() {
        assert_eq!(a.len(), b.len(), "row {i}: {a:?} against {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!(same(x, y), "row {i}: {x:?} in the CSV, {y:?} in the XLSX");
        }
    }
}
