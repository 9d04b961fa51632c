//! The run chart: `loadgen blast --chart` writes a PNG that decodes at the advertised size and
//! actually carries drawing and text, for a long run, a 1–3 second run and an empty one.

use semalink_loadtest::loadgen::{
    Report,
    chart::{self, HEIGHT, WIDTH},
    report::{Curves, Latencies, Percentiles, Second},
};

fn pct(p50: f64, p99: f64, max: f64) -> Percentiles {
    Percentiles {
        count: 100,
        p50,
        p90: (p50 + p99) / 2.0,
        p99,
        max,
    }
}

fn curve(scale: f64) -> Vec<(f64, f64)> {
    (0..20)
        .map(|i| f64::from(i) * 5.0)
        .chain([99.0, 99.9, 100.0])
        .map(|p| (p, scale * (1.0 + p / 10.0)))
        .collect()
}

fn report(seconds: u64, receipts: bool) -> Report {
    let receipt_curve = if receipts { curve(40.0) } else { vec![] };
    Report {
        sent: seconds * 5000,
        responses: seconds * 5000,
        no_response: 0,
        accepted: seconds * 5000,
        statuses: Default::default(),
        delivered: seconds * 5000,
        failed: 0,
        expired: 0,
        lost: 0,
        duplicated_receipts: 0,
        intermediate_receipts: 0,
        unmatched_receipts: 0,
        elapsed_secs: seconds as f64,
        submits_per_sec: 5000.0,
        pdus_per_sec: 20000.0,
        latency_ms: Latencies {
            submit_resp: pct(1.5, 9.0, 12.0),
            final_receipt: pct(200.0, 480.0, 500.0),
        },
        latency_curve_ms: Curves {
            submit_resp: curve(0.3),
            final_receipt: receipt_curve,
        },
        throughput: (0..seconds)
            .map(|second| Second {
                second,
                sent: 5000,
                responses: 4900,
                receipts: if receipts { 4000 } else { 0 },
            })
            .collect(),
    }
}

/// Writes the chart of `r`, decodes it, returns the RGB pixels.
fn decoded(r: &Report, name: &str) -> Vec<u8> {
    let path =
        std::env::temp_dir().join(format!("semalink-chart-{name}-{}.png", std::process::id()));
    chart::write_png(r, &path).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    buf
}

/// Share of pixels in rows `rows` that are not white.
fn ink(px: &[u8], rows: std::ops::Range<u32>) -> f64 {
    let row = (WIDTH * 3) as usize;
    let part = &px[rows.start as usize * row..rows.end as usize * row];
    let inked = part
        .chunks(3)
        .filter(|c| c.iter().any(|v| *v < 200))
        .count();
    inked as f64 / (part.len() / 3) as f64
}

/// Whether any pixel is close to `rgb` (the series colours: lines were drawn).
fn has_colour(px: &[u8], rgb: [u8; 3]) -> bool {
    px.chunks(3)
        .any(|c| c.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) < 8))
}

const BLUE: [u8; 3] = [30, 90, 200];
const ORANGE: [u8; 3] = [230, 120, 20];

#[test]
fn long_run_chart_has_title_panels_and_both_flows() {
    let px = decoded(&report(60, true), "long");
    // The title strip holds text (dark glyph pixels) but is mostly background.
    let title = ink(&px, 0..70);
    assert!(title > 0.005 && title < 0.3, "title ink {title}");
    // Both panels carry axes, labels and lines.
    assert!(ink(&px, 100..HEIGHT / 2) > 0.01);
    assert!(ink(&px, HEIGHT / 2 + 50..HEIGHT) > 0.01);
    assert!(has_colour(&px, BLUE));
    assert!(has_colour(&px, ORANGE));
}

#[test]
fn short_run_and_no_receipts_still_draw() {
    for seconds in 1..=3 {
        let px = decoded(&report(seconds, false), &format!("short{seconds}"));
        assert!(ink(&px, 0..70) > 0.005);
        assert!(has_colour(&px, BLUE), "{seconds} s: responses drawn");
        assert!(
            !has_colour(&px, ORANGE),
            "{seconds} s: no receipts, nothing orange"
        );
    }
}

#[test]
fn empty_run_still_writes_a_chart() {
    let mut r = report(0, false);
    r.latency_curve_ms.submit_resp.clear();
    let px = decoded(&r, "empty");
    assert!(ink(&px, 0..70) > 0.005);
    assert!(!has_colour(&px, BLUE));
}
