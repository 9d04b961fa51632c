//! Bottom panel of the run chart: the latency distribution of submit→response and
//! accept→final receipt as percentile curves, HdrHistogram style. The x axis is
//! `log(1 / (1 - p))` so 90, 99 and 99.9 % get equal room instead of being squeezed into the right
//! edge; the y axis is logarithmic in ms so a 2 ms response and a 2 s receipt fit on one chart.
//! p50 and p99 are marked and written on each curve.

use plotters::{
    coord::Shift,
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};

use super::{BLUE, FAMILY, GREY, GRID, ORANGE, draw_err};
use crate::{
    Error,
    loadgen::report::{Percentiles, Report},
};

/// Where the maximum (percentile 100, infinitely far on this axis) is drawn: half a decade
/// right of 99.9 %.
const MAX_X: f64 = 3_162.277_660_168_379_5;

/// Percentile → x position, `1 / (1 - p)` on a log axis (plotters formats log axes; a plain f64
/// axis with custom key points cannot be labelled).
fn x_of(p: f64) -> f64 {
    if p >= 100.0 {
        MAX_X
    } else {
        1.0 / (1.0 - p / 100.0)
    }
}

/// x position → tick label.
fn tick(x: f64) -> String {
    if x >= MAX_X * (1.0 - 1e-9) {
        return "max".into();
    }
    format!("{}%", ms(100.0 * (1.0 - 1.0 / x)))
}

/// A value with about three significant digits, no trailing zeros: `0.25`, `1.5`, `7.09`, `120`.
fn ms(v: f64) -> String {
    let s = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Tick values 1-2-5 per decade from `lo` to `hi` (both powers of ten); only 1 per decade when
/// the range spans many decades.
fn y_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (from, to) = (lo.log10().round() as i32, hi.log10().round() as i32);
    let mantissas: &[f64] = if to - from <= 3 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let mut ticks = Vec::new();
    for e in from..=to {
        for m in mantissas {
            let v = m * 10f64.powi(e);
            if v <= hi * 1.0001 {
                ticks.push(v);
            }
        }
    }
    ticks
}

/// Whole decades around every positive value of `curves`, at least one decade. The minimum
/// (percentile 0) is left out: it is often 0 or a lone outlier and would stretch the log axis
/// over decades where nothing else is.
fn y_range(curves: &[&[(f64, f64)]]) -> (f64, f64) {
    let values = || {
        curves
            .iter()
            .flat_map(|c| c.iter().filter(|(p, _)| *p > 0.0).map(|(_, v)| *v))
    };
    let min = values().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    let max = values().fold(0.0, f64::max);
    if !min.is_finite() {
        return (0.1, 10.0);
    }
    let lo = 10f64.powf(min.log10().floor());
    let hi = 10f64.powf(max.log10().ceil()).max(lo * 10.0);
    (lo, hi)
}

/// One curve of the panel.
struct Curve<'a> {
    label: &'a str,
    colour: RGBColor,
    points: &'a [(f64, f64)],
    pct: &'a Percentiles,
}

/// Draws the latency panel into `area`.
pub(super) fn draw(area: &DrawingArea<BitMapBackend<'_>, Shift>, r: &Report) -> Result<(), Error> {
    let curves: Vec<Curve<'_>> = [
        Curve {
            label: "submit→response",
            colour: BLUE,
            points: &r.latency_curve_ms.submit_resp,
            pct: &r.latency_ms.submit_resp,
        },
        Curve {
            label: "accept→final receipt",
            colour: ORANGE,
            points: &r.latency_curve_ms.final_receipt,
            pct: &r.latency_ms.final_receipt,
        },
    ]
    .into_iter()
    .filter(|c| c.points.iter().any(|(p, _)| *p > 0.0))
    .collect();
    let (lo, hi) = y_range(&curves.iter().map(|c| c.points).collect::<Vec<_>>());
    let x_keys = [5.0, 50.0, 75.0, 90.0, 99.0, 99.9, 100.0]
        .map(x_of)
        .to_vec();
    let mut chart = ChartBuilder::on(area)
        .caption("latency distribution", (FAMILY, 22))
        .margin(12)
        .margin_right(40)
        .x_label_area_size(55)
        .y_label_area_size(95)
        .build_cartesian_2d(
            (x_of(5.0)..MAX_X).log_scale().with_key_points(x_keys),
            (lo..hi).log_scale().with_key_points(y_ticks(lo, hi)),
        )
        .map_err(draw_err)?;
    let x_fmt = |x: &f64| tick(*x);
    let y_fmt = |v: &f64| ms(*v);
    chart
        .configure_mesh()
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc("percentile of messages")
        .y_desc("latency, ms (log scale)")
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .draw()
        .map_err(draw_err)?;
    if curves.is_empty() {
        let centre = Pos::new(HPos::Center, VPos::Center);
        let style = TextStyle::from((FAMILY, 20).into_font())
            .pos(centre)
            .color(&GREY);
        let at = (MAX_X.sqrt(), (lo * hi).sqrt());
        chart
            .draw_series(std::iter::once(Text::new("no latency samples", at, style)))
            .map_err(draw_err)?;
        return Ok(());
    }
    let clamp = |v: f64| v.max(lo);
    for c in &curves {
        let points = c
            .points
            .iter()
            .filter(|(p, _)| *p > 0.0)
            .map(|(p, v)| (x_of(*p), clamp(*v)));
        let colour = c.colour;
        chart
            .draw_series(LineSeries::new(points, colour.filled().stroke_width(3)).point_size(3))
            .map_err(draw_err)?
            .label(format!(
                "{}   p50 {} ms · p99 {} ms · max {} ms",
                c.label,
                ms(c.pct.p50),
                ms(c.pct.p99),
                ms(c.pct.max)
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
            });
    }
    // p50/p99 annotations; where two curves are marked at one percentile, the higher value's
    // text goes above its point and the lower one's below, so they do not overlap.
    for (p, value) in [
        (50.0, (|q: &Percentiles| q.p50) as fn(&Percentiles) -> f64),
        (99.0, |q| q.p99),
    ] {
        let top = curves.iter().map(|c| value(c.pct)).fold(0.0, f64::max);
        for c in &curves {
            let v = value(c.pct);
            // Curves rise to the right: above-left and below-right of a point are clear. Above
            // is only used with room left under the top edge of the plot.
            let near_top = (hi / v.max(lo)).ln() < 0.1 * (hi / lo).ln();
            let (anchor, at) = if v >= top && !near_top {
                (Pos::new(HPos::Right, VPos::Bottom), (-8, -8))
            } else {
                (Pos::new(HPos::Left, VPos::Top), (8, 8))
            };
            let text = format!("p{p} {} ms", ms(v));
            let style = TextStyle::from((FAMILY, 15).into_font())
                .pos(anchor)
                .color(&c.colour);
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((x_of(p), clamp(v)))
                        + Circle::new((0, 0), 6, c.colour.stroke_width(2))
                        + Text::new(text, at, style),
                ))
                .map_err(draw_err)?;
        }
    }
    chart
        .configure_series_labels()
        // Curves rise to the right: the lower right is where they are not.
        .position(SeriesLabelPosition::LowerRight)
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
    fn percentile_axis_round_trips() {
        for p in [5.0, 50.0, 90.0, 99.0, 99.9] {
            assert_eq!(tick(x_of(p)), format!("{}%", ms(p)));
        }
        assert_eq!(tick(x_of(100.0)), "max");
        assert_eq!(tick(x_of(99.0)), "99%");
    }

    #[test]
    fn y_range_spans_whole_decades() {
        let a = [(0.0, 0.0001), (50.0, 0.3), (100.0, 4.0)];
        let b = [(0.0, 20.0), (100.0, 2500.0)];
        assert_eq!(y_range(&[&a, &b]), (0.1, 10_000.0));
        assert_eq!(y_range(&[&[(50.0, 5.0)]]), (1.0, 10.0));
        // Only a minimum: nothing to scale to.
        assert_eq!(y_range(&[&[(0.0, 5.0)]]), (0.1, 10.0));
        assert_eq!(y_range(&[]), (0.1, 10.0));
        assert_eq!(
            y_ticks(1.0, 100.0),
            vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        );
        assert_eq!(y_ticks(0.01, 1000.0).len(), 6);
    }
}
