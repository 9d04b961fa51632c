//! Top panel of the run chart: messages per second over the run — `submit_sm` sent, responses
//! read and receipts read — with markers on every sample when the run is short enough that a
//! line alone would hide how few points there are.

use plotters::{coord::Shift, prelude::*};

use super::{BLUE, FAMILY, GREY, GRID, ORANGE, draw_err};
use crate::{Error, loadgen::report::Second};

/// Up to this many seconds each sample also gets a marker.
const MARKED: usize = 30;

/// One plotted series: a per-second count and how it is drawn.
struct Flow {
    label: &'static str,
    colour: RGBColor,
    /// Line width.
    width: u32,
    /// Marker radius when samples are few.
    marker: u32,
    value: fn(&Second) -> u64,
}

/// `150000.0` → `"150k"`: axis labels stay narrow at any rate.
fn si(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{}M", trim(v / 1_000_000.0))
    } else if v >= 1000.0 {
        format!("{}k", trim(v / 1000.0))
    } else {
        trim(v)
    }
}

/// One decimal at most, none when it is zero.
fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// Draws the throughput panel into `area`.
pub(super) fn draw(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    t: &[Second],
) -> Result<(), Error> {
    let secs = t.len().max(1) as f64;
    let peak = t
        .iter()
        .map(|s| s.sent.max(s.responses).max(s.receipts))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption("throughput per second", (FAMILY, 22))
        .margin(12)
        .margin_right(40)
        .x_label_area_size(55)
        .y_label_area_size(95)
        // Head-room so the legend does not sit on the plateau.
        .build_cartesian_2d(0.0..secs, 0.0..peak * 1.35)
        .map_err(draw_err)?;
    let x_fmt = |v: &f64| trim(*v);
    let y_fmt = |v: &f64| si(*v);
    chart
        .configure_mesh()
        // A whole number of seconds per label: f64 key points step by 1, 2, 5, 10, ...
        .x_labels((t.len() + 1).clamp(2, 12))
        .y_labels(8)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc("seconds since start")
        .y_desc("messages / s")
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_err)?;

    let few = t.len() <= MARKED;
    // Markers shrink in drawing order, so equal values show as concentric dots, not one.
    let flows = [
        Flow {
            label: "sent",
            colour: GREY,
            width: 2,
            marker: 8,
            value: |s| s.sent,
        },
        Flow {
            label: "responses",
            colour: BLUE,
            width: 3,
            marker: 5,
            value: |s| s.responses,
        },
        Flow {
            label: "receipts",
            colour: ORANGE,
            width: 2,
            marker: 3,
            value: |s| s.receipts,
        },
    ];
    let mut drawn = 0;
    // A flow that never moved (receipts with `--no-receipts`) is left out of plot and legend.
    for f in flows
        .into_iter()
        .filter(|f| t.iter().any(|s| (f.value)(s) > 0))
    {
        let Flow {
            label,
            colour,
            width,
            marker,
            value,
        } = f;
        let marker = if few { marker } else { 0 };
        drawn += 1;
        // Each sample is the count during second `n`, plotted at the middle of that second.
        let points = t.iter().map(|s| (s.second as f64 + 0.5, value(s) as f64));
        chart
            .draw_series(
                LineSeries::new(points, colour.filled().stroke_width(width)).point_size(marker),
            )
            .map_err(draw_err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
            });
    }
    if drawn == 0 {
        return Ok(());
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .label_font((FAMILY, 16))
        .draw()
        .map_err(draw_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short() {
        assert_eq!(si(0.0), "0");
        assert_eq!(si(250.0), "250");
        assert_eq!(si(2500.0), "2.5k");
        assert_eq!(si(150_000.0), "150k");
        assert_eq!(si(1_200_000.0), "1.2M");
    }
}
