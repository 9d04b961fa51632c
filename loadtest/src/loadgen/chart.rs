//! PNG chart of a run: a title with the totals, throughput per second (top panel) and the latency
//! distribution (bottom panel). Drawn with plotters' bitmap backend into memory and encoded with
//! `png`. Text is rendered with plotters' pure-Rust `ab_glyph` feature from DejaVu Sans embedded
//! in the binary (`loadtest/assets/`, Bitstream Vera/DejaVu licence), so there is no
//! fontconfig/freetype system dependency and the chart looks the same on every machine.

mod latency;
mod throughput;

use std::{fs::File, io::BufWriter, path::Path, sync::OnceLock};

use plotters::{
    prelude::*,
    style::{
        register_font,
        text_anchor::{HPos, Pos, VPos},
    },
};

use super::report::Report;
use crate::Error;

/// Width of the PNG in pixels.
pub const WIDTH: u32 = 1400;
/// Height of the PNG in pixels.
pub const HEIGHT: u32 = 1000;

/// Height of the title strip above the two panels.
const HEAD: u32 = 80;
/// Family name the embedded font is registered under (plotters' default family).
const FAMILY: &str = "sans-serif";
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Sent/s, submit→response latency and the like share one colour per message flow.
const GREY: RGBColor = RGBColor(120, 120, 120);
const BLUE: RGBColor = RGBColor(30, 90, 200);
const ORANGE: RGBColor = RGBColor(230, 120, 20);
const GRID: RGBColor = RGBColor(232, 232, 232);

fn draw_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Protocol(format!("chart: {e:?}"))
}

/// Registers the embedded font with plotters once per process.
fn register() -> Result<(), Error> {
    static OK: OnceLock<bool> = OnceLock::new();
    if *OK.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok()) {
        Ok(())
    } else {
        Err(Error::Protocol(
            "chart: embedded font does not parse".into(),
        ))
    }
}

/// `1234567` → `"1,234,567"`: totals are easier to read grouped.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Renders `report` as `WIDTH`×`HEIGHT` RGB pixels.
pub fn render(report: &Report) -> Result<Vec<u8>, Error> {
    register()?;
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (head, body) = root.split_vertically(HEAD);
        draw_title(&head, report)?;
        let (top, bottom) = body.split_vertically((HEIGHT - HEAD) / 2);
        throughput::draw(&top, &report.throughput)?;
        latency::draw(&bottom, report)?;
        root.present().map_err(draw_err)?;
    }
    Ok(pixels)
}

/// Renders `report` as a PNG at `path`.
pub fn write_png(report: &Report, path: &Path) -> Result<(), Error> {
    let pixels = render(report)?;
    let file = BufWriter::new(File::create(path)?);
    let mut enc = png::Encoder::new(file, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(draw_err)?;
    writer.write_image_data(&pixels).map_err(draw_err)?;
    writer.finish().map_err(draw_err)?;
    Ok(())
}

fn draw_title(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    r: &Report,
) -> Result<(), Error> {
    let centre = Pos::new(HPos::Center, VPos::Top);
    let x = (WIDTH / 2) as i32;
    let title = format!(
        "loadgen blast — {} messages, {} msg/s",
        grouped(r.sent),
        grouped(r.submits_per_sec.round() as u64)
    );
    area.draw_text(
        &title,
        &TextStyle::from((FAMILY, 30).into_font()).pos(centre),
        (x, 12),
    )
    .map_err(draw_err)?;
    let mut sub = format!(
        "{:.1} s · {} accepted · {} delivered · {} failed · {} expired · {} lost",
        r.elapsed_secs,
        grouped(r.accepted),
        grouped(r.delivered),
        grouped(r.failed),
        grouped(r.expired),
        grouped(r.lost),
    );
    if r.no_response > 0 {
        sub.push_str(&format!(" · {} unanswered", grouped(r.no_response)));
    }
    let style = TextStyle::from((FAMILY, 18).into_font())
        .pos(centre)
        .color(&GREY);
    area.draw_text(&sub, &style, (x, 52)).map_err(draw_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(2_000_000), "2,000,000");
        assert_eq!(grouped(12_345_678), "12,345,678");
    }

    #[test]
    fn embedded_font_registers() {
        register().unwrap();
        register().unwrap();
    }
}
