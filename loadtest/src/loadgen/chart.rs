//! PNG chart of a run: throughput over time (top) and the latency percentile curves (bottom).
//! Drawn with plotters' bitmap backend into memory and encoded with `png`; no text, so no font
//! or fontconfig dependency. Colours: top — blue responses/s, grey sent/s, orange receipts/s;
//! bottom (x = percentile 0→100, y = ms, each curve scaled to its own max) — blue submit→resp,
//! orange accept→final receipt.

use std::{fs::File, io::BufWriter, path::Path};

use plotters::prelude::*;

use super::report::Report;
use crate::Error;

const W: u32 = 1200;
const H: u32 = 800;

fn draw_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Protocol(format!("chart: {e:?}"))
}

/// Renders `report` as a PNG at `path`.
pub fn write_png(report: &Report, path: &Path) -> Result<(), Error> {
    let mut pixels = vec![0u8; (W * H * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (top, bottom) = root.split_vertically(H / 2);
        let secs = report.throughput.len().max(2) as f64;
        let peak = report
            .throughput
            .iter()
            .map(|s| s.sent.max(s.responses).max(s.receipts))
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let mut chart = ChartBuilder::on(&top)
            .margin(20)
            .build_cartesian_2d(0.0..secs, 0.0..peak * 1.05)
            .map_err(draw_err)?;
        let series = |f: fn(&super::report::Second) -> u64| {
            report
                .throughput
                .iter()
                .map(move |s| (s.second as f64 + 0.5, f(s) as f64))
                .collect::<Vec<_>>()
        };
        chart
            .draw_series(LineSeries::new(
                series(|s| s.sent),
                RGBColor(150, 150, 150).stroke_width(2),
            ))
            .map_err(draw_err)?;
        chart
            .draw_series(LineSeries::new(
                series(|s| s.receipts),
                RGBColor(230, 120, 20).stroke_width(2),
            ))
            .map_err(draw_err)?;
        chart
            .draw_series(LineSeries::new(
                series(|s| s.responses),
                RGBColor(30, 90, 200).stroke_width(3),
            ))
            .map_err(draw_err)?;
        // Axes (zero lines) instead of labelled ones: no text, so no font dependency.
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, peak * 1.05), (0.0, 0.0), (secs, 0.0)],
                BLACK,
            ))
            .map_err(draw_err)?;

        let mut lat = ChartBuilder::on(&bottom)
            .margin(20)
            .build_cartesian_2d(0.0..100.0, 0.0..1.05)
            .map_err(draw_err)?;
        lat.draw_series(LineSeries::new(
            vec![(0.0, 1.05), (0.0, 0.0), (100.0, 0.0)],
            BLACK,
        ))
        .map_err(draw_err)?;
        for (curve, colour) in [
            (&report.latency_curve_ms.submit_resp, RGBColor(30, 90, 200)),
            (
                &report.latency_curve_ms.final_receipt,
                RGBColor(230, 120, 20),
            ),
        ] {
            let max = curve.iter().map(|(_, v)| *v).fold(0.0, f64::max);
            if max > 0.0 {
                let pts = curve.iter().map(|(p, v)| (*p, v / max)).collect::<Vec<_>>();
                lat.draw_series(LineSeries::new(pts, colour.stroke_width(3)))
                    .map_err(draw_err)?;
            }
        }
        root.present().map_err(draw_err)?;
    }
    let file = BufWriter::new(File::create(path)?);
    let mut enc = png::Encoder::new(file, W, H);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(draw_err)?;
    writer.write_image_data(&pixels).map_err(draw_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::report::{Curves, Latencies, Percentiles, Second};

    #[test]
    fn writes_a_png() {
        let p = Percentiles {
            count: 1,
            p50: 1.0,
            p90: 2.0,
            p99: 3.0,
            max: 4.0,
        };
        let report = Report {
            sent: 10,
            responses: 10,
            no_response: 0,
            accepted: 10,
            statuses: Default::default(),
            delivered: 10,
            failed: 0,
            expired: 0,
            lost: 0,
            duplicated_receipts: 0,
            intermediate_receipts: 0,
            unmatched_receipts: 0,
            elapsed_secs: 2.0,
            submits_per_sec: 5.0,
            pdus_per_sec: 20.0,
            latency_ms: Latencies {
                submit_resp: p.clone(),
                final_receipt: p,
            },
            latency_curve_ms: Curves {
                submit_resp: vec![(0.0, 1.0), (50.0, 2.0), (100.0, 4.0)],
                final_receipt: vec![],
            },
            throughput: (0..3)
                .map(|i| Second {
                    second: i,
                    sent: 5,
                    responses: 4,
                    receipts: 3,
                })
                .collect(),
        };
        let path = std::env::temp_dir().join(format!("semalink-chart-{}.png", std::process::id()));
        write_png(&report, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(&bytes[1..4], b"PNG");
        assert!(bytes.len() > 1000);
    }
}
