//! The PNG chart of a `semalink demo` run: messages/s (final statuses per second, blue, left
//! axis) and cumulative delivered (green, right axis) over the run's seconds. Drawn into an
//! RGB pixel buffer — lines, axes, grid and a 5×7 bitmap font for the numbers and labels —
//! and encoded with `png` (already in the tree through the load generator): no plotting
//! library, no font file.

use std::path::Path;

use anyhow::Context;

/// Width of the PNG in pixels.
pub const WIDTH: usize = 960;
/// Height of the PNG in pixels.
pub const HEIGHT: usize = 480;

const LEFT: usize = 80;
const RIGHT: usize = 90;
const TOP: usize = 56;
const BOTTOM: usize = 60;

type Rgb = [u8; 3];
const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [40, 40, 40];
const GRID: Rgb = [228, 228, 228];
const BLUE: Rgb = [30, 90, 200];
const GREEN: Rgb = [20, 150, 70];

/// One sample of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Seconds since the campaign was sent.
    pub at: f64,
    /// Final messages per second since the previous sample.
    pub rate: f64,
    /// Messages delivered so far.
    pub delivered: f64,
}

struct Canvas {
    px: Vec<u8>,
}

impl Canvas {
    fn new() -> Canvas {
        Canvas {
            px: WHITE.repeat(WIDTH * HEIGHT),
        }
    }

    fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if (0..WIDTH as i64).contains(&x) && (0..HEIGHT as i64).contains(&y) {
            let i = (y as usize * WIDTH + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    /// A line `width` pixels thick (Bresenham, a square pen).
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: Rgb, width: i64) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            for ox in 0..width {
                for oy in 0..width {
                    self.set(x + ox - width / 2, y + oy - width / 2, c);
                }
            }
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// `text` with its top-left corner at (x, y), each font pixel `scale`² pixels.
    fn text(&mut self, x: i64, y: i64, text: &str, c: Rgb, scale: i64) {
        for (i, ch) in text.chars().enumerate() {
            let rows = glyph(ch);
            let left = x + i as i64 * 6 * scale;
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        for ox in 0..scale {
                            for oy in 0..scale {
                                self.set(left + col * scale + ox, y + r as i64 * scale + oy, c);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Width in pixels of `text` at `scale`.
fn text_width(text: &str, scale: i64) -> i64 {
    (text.chars().count() as i64 * 6 - 1) * scale
}

/// A round axis maximum at or above `max` (four steps of 1, 1.5, 2, 2.5, 3, 4 or 5 × 10ⁿ).
fn nice_max(max: f64) -> f64 {
    let max = max.max(4.0);
    let step = max / 4.0;
    let magnitude = 10f64.powf(step.log10().floor());
    let nice = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= step)
        .unwrap_or(10.0 * magnitude);
    nice * 4.0
}

fn label(v: f64) -> String {
    if v >= 10_000.0 && (v / 1000.0).fract() == 0.0 {
        format!("{}k", (v / 1000.0) as i64)
    } else if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// The chart of `samples` as RGB pixels (`WIDTH` × `HEIGHT`), titled `title`.
pub fn render(title: &str, samples: &[Sample]) -> Vec<u8> {
    let mut c = Canvas::new();
    let (x0, x1) = (LEFT as i64, (WIDTH - RIGHT) as i64);
    let (y0, y1) = (TOP as i64, (HEIGHT - BOTTOM) as i64);
    let t_max = nice_max(samples.iter().map(|s| s.at).fold(0.0, f64::max));
    let r_max = nice_max(samples.iter().map(|s| s.rate).fold(0.0, f64::max));
    let d_max = nice_max(samples.iter().map(|s| s.delivered).fold(0.0, f64::max));
    let px = |t: f64| x0 + ((t / t_max) * (x1 - x0) as f64).round() as i64;
    let py = |v: f64, max: f64| y1 - ((v / max) * (y1 - y0) as f64).round() as i64;

    c.text((WIDTH as i64 - text_width(title, 2)) / 2, 14, title, INK, 2);
    for i in 0..=4 {
        let f = f64::from(i) / 4.0;
        let y = py(f, 1.0);
        c.line((x0, y), (x1, y), GRID, 1);
        let left = label(r_max * f);
        c.text(x0 - 8 - text_width(&left, 2), y - 7, &left, BLUE, 2);
        c.text(x1 + 8, y - 7, &label(d_max * f), GREEN, 2);
        let x = px(t_max * f);
        c.line((x, y0), (x, y1), GRID, 1);
        let t = label(t_max * f);
        c.text(x - text_width(&t, 2) / 2, y1 + 8, &t, INK, 2);
    }
    c.line((x0, y0), (x0, y1), INK, 2);
    c.line((x1, y0), (x1, y1), INK, 2);
    c.line((x0, y1), (x1, y1), INK, 2);
    let axis = "seconds since the campaign was sent";
    c.text((x0 + x1 - text_width(axis, 2)) / 2, y1 + 32, axis, INK, 2);
    c.text(x0, y0 - 18, "messages/s (final)", BLUE, 2);
    let right = "delivered (cumulative)";
    c.text(x1 - text_width(right, 2), y0 - 18, right, GREEN, 2);

    for pair in samples.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        c.line(
            (px(a.at), py(a.delivered, d_max)),
            (px(b.at), py(b.delivered, d_max)),
            GREEN,
            3,
        );
        // A step: the rate held over the interval it was measured on.
        let y = py(b.rate, r_max);
        c.line((px(a.at), y), (px(b.at), y), BLUE, 3);
        c.line((px(a.at), py(a.rate, r_max)), (px(a.at), y), BLUE, 3);
    }
    c.px
}

/// Writes the chart of `samples` as a PNG at `path`.
pub fn write_png(path: &Path, title: &str, samples: &[Sample]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), WIDTH as u32, HEIGHT as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header()?;
    writer.write_image_data(&render(title, samples))?;
    writer.finish()?;
    Ok(())
}

/// The 5×7 glyph of `ch` (rows top to bottom, bit 4 the leftmost pixel); a box for a
/// character the font does not have.
fn glyph(ch: char) -> [u8; 7] {
    match ch.to_ascii_lowercase() {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'a' => [0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F],
        'b' => [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E],
        'c' => [0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E],
        'd' => [0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F],
        'e' => [0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E],
        'f' => [0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08],
        'g' => [0x00, 0x00, 0x0F, 0x11, 0x0F, 0x01, 0x0E],
        'h' => [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11],
        'i' => [0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E],
        'k' => [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12],
        'l' => [0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'm' => [0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11],
        'n' => [0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11],
        'o' => [0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E],
        'p' => [0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10],
        'r' => [0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10],
        's' => [0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E],
        't' => [0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06],
        'u' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D],
        'v' => [0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'w' => [0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A],
        'x' => [0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11],
        'y' => [0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E],
        'j' => [0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C],
        'q' => [0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01],
        'z' => [0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        ' ' => [0; 7],
        _ => [0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0.0), 4.0);
        assert_eq!(nice_max(9_700.0), 10_000.0);
        assert_eq!(nice_max(37.0), 40.0);
        assert_eq!(nice_max(12.8), 16.0);
        assert_eq!(nice_max(56.1), 60.0);
        assert_eq!(nice_max(430.0), 600.0);
    }

    #[test]
    fn lines_are_drawn_in_their_colours() {
        let samples = [
            Sample {
                at: 0.0,
                rate: 0.0,
                delivered: 0.0,
            },
            Sample {
                at: 10.0,
                rate: 400.0,
                delivered: 4_000.0,
            },
        ];
        let px = render("t", &samples);
        assert_eq!(px.len(), WIDTH * HEIGHT * 3);
        let has = |c: Rgb| px.chunks(3).any(|p| p == c);
        assert!(has(BLUE) && has(GREEN) && has(INK));
    }
}
