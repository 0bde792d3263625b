//! The return page's charts (REQUIREMENTS §16: "a return page with SVG charts of
//! each KPI across the last eight quarters"): one small line chart per line, drawn
//! with plotters' SVG backend into a string and put inline in the page. The SVG holds
//! only presentation attributes (no `style`), so the strict Content-Security-Policy
//! allows it; the page lists the same values as text beside each chart.

use plotters::prelude::*;

/// GOV.UK blue (`#1d70b8`).
const BLUE: RGBColor = RGBColor(29, 112, 184);
/// GOV.UK mid-grey (`#b1b4b6`) for the grid.
const GREY: RGBColor = RGBColor(177, 180, 182);

/// Width and height of a chart, in pixels.
const SIZE: (u32, u32) = (560, 180);

/// A top for the value axis a tenth above `max` (1 when there is nothing), on a
/// multiple of half a power of ten.
fn axis_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let want = max * 1.1;
    let step = 10f64.powf(want.log10().floor()) / 2.0;
    (want / step).ceil() * step
}

/// The runs of consecutive periods that have a value, for the line segments (a
/// period with no value breaks the line rather than drawing it to zero).
fn segments(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut run = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(y) => run.push((i as f64, *y)),
            None if !run.is_empty() => out.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// Draws the line chart of one line's values over `periods` (oldest first; a value
/// of `None` is a period with no figure). `unit` labels the value axis; a
/// percentage's axis runs to 100. Returns the SVG document, or an empty string if
/// plotters fails (the page then shows the values as text only).
pub fn line_chart(periods: &[String], values: &[Option<f64>], unit: &str) -> String {
    let mut svg = String::new();
    if draw(&mut svg, periods, values, unit).is_err() {
        return String::new();
    }
    svg
}

fn draw<'a>(
    svg: &'a mut String,
    periods: &'a [String],
    values: &'a [Option<f64>],
    unit: &'a str,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let n = periods.len().max(1);
    let max = values.iter().flatten().copied().fold(0.0, f64::max);
    let min = values.iter().flatten().copied().fold(0.0, f64::min);
    let top = if unit == "%" && max <= 100.0 {
        100.0
    } else {
        axis_top(max)
    };
    let bottom = if min < 0.0 { -axis_top(-min) } else { 0.0 };
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), bottom..top)?;
    let label = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 0.01 && i >= 0.0 {
            periods.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&label)
        .y_labels(5)
        .y_label_formatter(&|v: &f64| {
            if (v - v.round()).abs() < 1e-9 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        })
        .y_desc(unit)
        .light_line_style(WHITE)
        .bold_line_style(GREY.mix(0.5))
        .label_style(("sans-serif", 13))
        .draw()?;
    for run in segments(values) {
        chart.draw_series(LineSeries::new(run, BLUE.stroke_width(2)))?;
    }
    chart.draw_series(
        values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|y| Circle::new((i as f64, y), 4, BLUE.filled()))),
    )?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        [
            "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn a_chart_is_an_svg_with_every_period_named_and_no_style_attribute() {
        let values = [
            Some(3.0),
            Some(5.0),
            None,
            Some(8.0),
            Some(2.0),
            Some(0.0),
            Some(12.0),
            Some(9.0),
        ];
        let svg = line_chart(&names(), &values, "events");
        assert!(svg.starts_with("<svg"), "{svg}");
        for name in names() {
            assert!(svg.contains(&name), "{name} labels the axis");
        }
        // Two runs of line (the missing period breaks it) and seven points.
        assert_eq!(
            svg.matches("stroke=\"#1D70B8\" stroke-width=\"2\"").count(),
            2,
            "{svg}"
        );
        assert_eq!(svg.matches("<circle").count(), 7);
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
    }

    #[test]
    fn the_value_axis_rounds_up_and_a_percentage_runs_to_a_hundred() {
        assert_eq!(axis_top(0.0), 1.0);
        assert_eq!(axis_top(7.0), 8.0);
        assert_eq!(axis_top(12.0), 15.0);
        assert_eq!(axis_top(100.0), 150.0);
        let svg = line_chart(&names(), &[Some(45.5); 8], "%");
        assert!(svg.contains("\n100\n</text>"), "{svg}");
        assert_eq!(segments(&[None, None]), Vec::<Vec<(f64, f64)>>::new());
    }
}
