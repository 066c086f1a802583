//! Line charts as small PNG images, drawn inside the plugin (feature `chart`).
//!
//! A tool that has time series can add a picture an agent or its user can read at a
//! glance beside the text summary: 800×300 pixels, UTC time axis, y-axis ticks in
//! the series' unit, one coloured line per series (at most [`MAX_SERIES`], with a
//! legend). Drawn with built-in bitmap fonts into a 16-colour indexed image and
//! deflated, so a chart costs a few kilobytes of the tool's output limit. The PNG
//! container is written here (four chunks); the tests decode it with the `png` crate.
//!
//! ```
//! use plue_plugin_sdk::chart::{line_chart, Chart, Series};
//! let chart = Chart {
//!     title: "requests per second".into(),
//!     y_unit: "/s".into(),
//!     range: None,
//!     series: vec![Series { name: "api".into(), points: vec![(0.0, 1.0), (60.0, 3.0)] }],
//! };
//! let png = line_chart(&chart).unwrap();
//! assert!(png.starts_with(b"\x89PNG"));
//! ```

use std::convert::Infallible;
use std::fmt;

use chrono::{DateTime, Datelike, Timelike, Utc};
use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::mono_font::iso_8859_1::{FONT_6X13, FONT_7X13_BOLD};
use embedded_graphics::pixelcolor::PixelColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{Circle, Line, Polyline, PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};

/// Image width in pixels.
pub const WIDTH: u32 = 800;
/// Image height in pixels.
pub const HEIGHT: u32 = 300;
/// Series drawn at most; the caller says in its text how many were left out
/// (see [`left_out_note`]).
pub const MAX_SERIES: usize = 8;

/// One line: its legend name and `(Unix seconds, value)` points. Non-finite values
/// are gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend (cut to fit).
    pub name: String,
    /// `(Unix seconds, value)`, oldest first.
    pub points: Vec<(f64, f64)>,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Drawn above the plot.
    pub title: String,
    /// Unit of the values: `s` (shown as µs/ms/s/min/h), `B` or `B/s` (KiB, MiB, …),
    /// a rate such as `/s`, or any other word (SI prefixes on the ticks, the unit in
    /// the title); empty for plain numbers.
    pub y_unit: String,
    /// The time span of the x axis (Unix seconds); `None` for the span of the points.
    pub range: Option<(f64, f64)>,
    /// Drawn in order; only the first [`MAX_SERIES`].
    pub series: Vec<Series>,
}

/// Why no chart could be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartError {
    /// No series has a finite value in the range.
    NoData,
    /// The PNG encoder failed (should not happen).
    Encode(String),
}

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChartError::NoData => write!(f, "no series has a value to draw"),
            ChartError::Encode(e) => write!(f, "the PNG encoder failed: {e}"),
        }
    }
}

impl std::error::Error for ChartError {}

/// The text note for a chart of the first `drawn` of `total` series, if any were
/// left out.
pub fn left_out_note(drawn: usize, total: usize) -> Option<String> {
    (total > drawn).then(|| {
        format!(
            "The chart draws the first {drawn} of {total} series; {} are left out of it.",
            total - drawn
        )
    })
}

/// For a tool's `chart: bool` argument (`#[schemars(transform = chart::argument)]`):
/// leaves out `"default": false`, which every agent would read in `tools/list` to
/// learn what an absent boolean means anyway.
pub fn argument(schema: &mut schemars::Schema) {
    schema.remove("default");
}

// Palette indices. 16 colours at most: the image is 4 bits per pixel.
const BACKGROUND: u8 = 0;
const TEXT: u8 = 1;
const GRID: u8 = 2;
const AXIS: u8 = 3;
const FIRST_SERIES: u8 = 4;
const PALETTE: [[u8; 3]; 4 + MAX_SERIES] = [
    [0xff, 0xff, 0xff],
    [0x22, 0x22, 0x22],
    [0xe6, 0xe6, 0xe6],
    [0x88, 0x88, 0x88],
    [0x1f, 0x77, 0xb4],
    [0xff, 0x7f, 0x0e],
    [0x2c, 0xa0, 0x2c],
    [0xd6, 0x27, 0x28],
    [0x94, 0x67, 0xbd],
    [0x8c, 0x56, 0x4b],
    [0xe3, 0x77, 0xc2],
    [0x17, 0xbe, 0xcf],
];

/// The RGB colour of the `i`th series (`i < MAX_SERIES`).
pub fn series_color(i: usize) -> [u8; 3] {
    PALETTE[FIRST_SERIES as usize + i % MAX_SERIES]
}

// Plot area and legend, in pixels.
const PLOT_LEFT: i32 = 70;
const PLOT_TOP: i32 = 28;
const PLOT_BOTTOM: i32 = HEIGHT as i32 - 36;
const PLOT_RIGHT: i32 = WIDTH as i32 - 196;
const LEGEND_LEFT: i32 = PLOT_RIGHT + 14;
const CHAR_WIDTH: i32 = 6;

/// Draw `chart` and encode it as PNG.
pub fn line_chart(chart: &Chart) -> Result<Vec<u8>, ChartError> {
    let series = &chart.series[..chart.series.len().min(MAX_SERIES)];
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.0.is_finite() && p.1.is_finite())
    };
    let (t0, t1) = match chart.range {
        Some(r) => r,
        None => finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        }),
    };
    let in_range = || finite().filter(|p| p.0 >= t0 && p.0 <= t1);
    let (lo, hi) = in_range().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
        (a.min(p.1), b.max(p.1))
    });
    if !lo.is_finite() {
        return Err(ChartError::NoData);
    }
    let (t0, t1) = if t1 > t0 {
        (t0, t1)
    } else {
        (t0 - 30.0, t0 + 30.0)
    };
    let y = YAxis::new(lo, hi, &chart.y_unit);

    let mut c = Canvas::new();
    let small = MonoTextStyle::new(&FONT_6X13, Ink(TEXT));
    let right = TextStyleBuilder::new()
        .alignment(Alignment::Right)
        .baseline(Baseline::Middle)
        .build();
    let center = TextStyleBuilder::new()
        .alignment(Alignment::Center)
        .baseline(Baseline::Top)
        .build();
    let top_left = TextStyleBuilder::new().baseline(Baseline::Top).build();
    let grid = PrimitiveStyle::with_stroke(Ink(GRID), 1);
    let axis = PrimitiveStyle::with_stroke(Ink(AXIS), 1);

    // Title, with the unit when the ticks do not show it.
    let mut title = chart.title.clone();
    if !y.unit_on_ticks && !chart.y_unit.is_empty() {
        title.push_str(&format!(" ({})", chart.y_unit));
    }
    let title = fit(&title, (WIDTH as i32 - 16) / 7);
    Text::with_text_style(
        &title,
        Point::new(8, 6),
        MonoTextStyle::new(&FONT_7X13_BOLD, Ink(TEXT)),
        top_left,
    )
    .draw(&mut c)
    .ok();

    // Horizontal grid and y ticks.
    let y_px = |v: f64| -> i32 {
        let f = (v - y.lo) / (y.hi - y.lo);
        (PLOT_BOTTOM as f64 - f * (PLOT_BOTTOM - PLOT_TOP) as f64).round() as i32
    };
    for (v, label) in y.ticks() {
        let py = y_px(v);
        Line::new(Point::new(PLOT_LEFT, py), Point::new(PLOT_RIGHT, py))
            .into_styled(grid)
            .draw(&mut c)
            .ok();
        Text::with_text_style(&label, Point::new(PLOT_LEFT - 6, py), small, right)
            .draw(&mut c)
            .ok();
    }

    // Vertical grid and time ticks.
    let x_px = |t: f64| -> i32 {
        let f = (t - t0) / (t1 - t0);
        (PLOT_LEFT as f64 + f * (PLOT_RIGHT - PLOT_LEFT) as f64).round() as i32
    };
    let time = TimeAxis::new(t0, t1);
    for t in time.ticks() {
        let px = x_px(t);
        Line::new(Point::new(px, PLOT_TOP), Point::new(px, PLOT_BOTTOM))
            .into_styled(grid)
            .draw(&mut c)
            .ok();
        Text::with_text_style(
            &time.label(t),
            Point::new(px, PLOT_BOTTOM + 5),
            small,
            center,
        )
        .draw(&mut c)
        .ok();
    }
    let caption = time.caption();
    Text::with_text_style(
        &caption,
        Point::new(
            PLOT_RIGHT - caption.chars().count() as i32 * CHAR_WIDTH,
            PLOT_BOTTOM + 20,
        ),
        small,
        top_left,
    )
    .draw(&mut c)
    .ok();

    // Axes.
    Line::new(
        Point::new(PLOT_LEFT, PLOT_TOP),
        Point::new(PLOT_LEFT, PLOT_BOTTOM),
    )
    .into_styled(axis)
    .draw(&mut c)
    .ok();
    Line::new(
        Point::new(PLOT_LEFT, PLOT_BOTTOM),
        Point::new(PLOT_RIGHT, PLOT_BOTTOM),
    )
    .into_styled(axis)
    .draw(&mut c)
    .ok();

    // The lines, broken where a series has no value for more than two of its steps.
    let plot = Rectangle::with_corners(
        Point::new(PLOT_LEFT, PLOT_TOP - 1),
        Point::new(PLOT_RIGHT, PLOT_BOTTOM),
    );
    for (i, s) in series.iter().enumerate() {
        let ink = Ink(FIRST_SERIES + i as u8);
        let line = PrimitiveStyle::with_stroke(ink, 2);
        let dot = PrimitiveStyle::with_fill(ink);
        let step = typical_step(&s.points);
        let mut run: Vec<Point> = Vec::new();
        let mut last_t = f64::NAN;
        let mut clipped = c.clipped(&plot);
        let mut flush = |run: &mut Vec<Point>| {
            match run.len() {
                0 => {}
                1 => {
                    Circle::with_center(run[0], 5)
                        .into_styled(dot)
                        .draw(&mut clipped)
                        .ok();
                }
                _ => {
                    Polyline::new(run).into_styled(line).draw(&mut clipped).ok();
                }
            }
            run.clear();
        };
        for &(t, v) in &s.points {
            if !(t.is_finite() && v.is_finite()) {
                flush(&mut run);
                continue;
            }
            if t - last_t > 2.5 * step {
                flush(&mut run);
            }
            last_t = t;
            let p = Point::new(x_px(t), y_px(v));
            if run.last() != Some(&p) {
                run.push(p);
            }
        }
        flush(&mut run);
    }

    // Legend: a swatch and the name of each series.
    let name_chars = (WIDTH as i32 - LEGEND_LEFT - 22 - 4) / CHAR_WIDTH;
    for (i, s) in series.iter().enumerate() {
        let row = PLOT_TOP + 6 + i as i32 * 16;
        Line::new(
            Point::new(LEGEND_LEFT, row),
            Point::new(LEGEND_LEFT + 14, row),
        )
        .into_styled(PrimitiveStyle::with_stroke(Ink(FIRST_SERIES + i as u8), 3))
        .draw(&mut c)
        .ok();
        let style = TextStyleBuilder::new().baseline(Baseline::Middle).build();
        Text::with_text_style(
            &fit(&s.name, name_chars),
            Point::new(LEGEND_LEFT + 22, row),
            small,
            style,
        )
        .draw(&mut c)
        .ok();
    }
    c.encode()
}

/// `text` cut to `max` characters, ending in `..` when cut.
fn fit(text: &str, max: i32) -> String {
    let max = max.max(3) as usize;
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 2).collect();
    out.push_str("..");
    out
}

/// The smallest positive time between two points (a series' step), or infinity.
fn typical_step(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min)
}

/// A round step near `raw`: 1, 2, 2.5 or 5 times a power of ten.
fn nice_step(raw: f64) -> f64 {
    let e = 10f64.powf(raw.log10().floor());
    let f = raw / e;
    let n = [1.0, 2.0, 2.5, 5.0]
        .into_iter()
        .find(|n| f <= *n)
        .unwrap_or(10.0);
    n * e
}

/// The y axis: bounds on round values, and how ticks are written.
struct YAxis {
    lo: f64,
    hi: f64,
    // Tick spacing, in scaled units.
    step: f64,
    // Values are divided by `div` and written with `suffix`.
    div: f64,
    suffix: String,
    unit_on_ticks: bool,
}

impl YAxis {
    fn new(min: f64, max: f64, unit: &str) -> YAxis {
        // Start at zero for non-negative data unless it sits far from zero.
        let mut lo = if min >= 0.0 && min <= max * 0.5 {
            0.0
        } else {
            min
        };
        let mut hi = max;
        if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
            lo = if min >= 0.0 && min - pad < 0.0 {
                0.0
            } else {
                lo - pad
            };
            hi += pad;
        }
        let (div, suffix, unit_on_ticks) = scale(lo.abs().max(hi.abs()), unit);
        let step = nice_step((hi - lo) / div / 5.0);
        let lo_s = (lo / div / step).floor() * step;
        let mut hi_s = (hi / div / step).ceil() * step;
        // A line along the top edge is hard to see: leave room above the highest value.
        if hi_s - hi / div < 0.03 * (hi_s - lo_s) {
            hi_s += step;
        }
        YAxis {
            lo: lo_s * div,
            hi: hi_s * div,
            step,
            div,
            suffix,
            unit_on_ticks,
        }
    }

    /// `(value, label)` of each tick, bottom to top.
    fn ticks(&self) -> Vec<(f64, String)> {
        let decimals = decimals(self.step);
        let (lo, hi) = (self.lo / self.div, self.hi / self.div);
        let n = ((hi - lo) / self.step).round() as i64;
        (0..=n)
            .map(|i| {
                let v = lo + i as f64 * self.step;
                let text = format!("{:.*}", decimals, v);
                let text = if text
                    .trim_start_matches('-')
                    .chars()
                    .all(|c| c == '0' || c == '.')
                {
                    "0".to_string()
                } else {
                    format!("{text}{}", self.suffix)
                };
                (v * self.div, text)
            })
            .collect()
    }
}

/// Decimals needed to write multiples of `step` exactly.
fn decimals(step: f64) -> usize {
    (0..6)
        .find(|d| {
            let scaled = step * 10f64.powi(*d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6) as usize
}

/// How to write values of `unit` up to `max`: divisor, tick suffix, and whether the
/// ticks carry the unit (else the title does).
fn scale(max: f64, unit: &str) -> (f64, String, bool) {
    match unit {
        "s" => {
            let (div, suffix) = match max {
                m if m < 1e-3 => (1e-6, "µs"),
                m if m < 1.0 => (1e-3, "ms"),
                m if m < 180.0 => (1.0, "s"),
                m if m < 3.0 * 3600.0 => (60.0, "min"),
                _ => (3600.0, "h"),
            };
            (div, suffix.to_string(), true)
        }
        "B" | "B/s" => {
            let names = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
            let mut k = 0;
            while k + 1 < names.len() && max >= 1024f64.powi(k as i32 + 1) {
                k += 1;
            }
            let per = unit.strip_prefix('B').unwrap_or("");
            (1024f64.powi(k as i32), format!("{}{per}", names[k]), true)
        }
        _ => {
            let prefixes = ["", "k", "M", "G", "T", "P"];
            let mut k = 0;
            while k + 1 < prefixes.len() && max >= 1000f64.powi(k as i32 + 1) {
                k += 1;
            }
            let on_ticks = unit.starts_with('/') || unit == "%";
            let suffix = if on_ticks {
                format!("{}{unit}", prefixes[k])
            } else {
                prefixes[k].to_string()
            };
            (1000f64.powi(k as i32), suffix, on_ticks || unit.is_empty())
        }
    }
}

/// The time axis: round UTC tick times and their labels.
struct TimeAxis {
    t0: f64,
    t1: f64,
    step: f64,
}

impl TimeAxis {
    fn new(t0: f64, t1: f64) -> TimeAxis {
        const STEPS: [f64; 21] = [
            1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
            7200.0, 10800.0, 21600.0, 43200.0, 86400.0, 172800.0, 604800.0, 2592000.0,
        ];
        let span = t1 - t0;
        // Labels up to 11 characters wide: at most about 6 fit the plot.
        let step = STEPS
            .into_iter()
            .find(|s| span / s <= 6.0)
            .unwrap_or((span / 6.0 / 86400.0).ceil() * 86400.0);
        TimeAxis { t0, t1, step }
    }

    fn ticks(&self) -> Vec<f64> {
        let first = (self.t0 / self.step).ceil() as i64;
        let last = (self.t1 / self.step).floor() as i64;
        (first..=last).map(|i| i as f64 * self.step).collect()
    }

    fn spans_days(&self) -> bool {
        day(self.t0) != day(self.t1)
    }

    fn label(&self, t: f64) -> String {
        let d = utc(t);
        let (date, hm) = (
            format!("{:02}-{:02}", d.month(), d.day()),
            format!("{:02}:{:02}", d.hour(), d.minute()),
        );
        if self.step >= 86400.0 {
            date
        } else if self.spans_days() {
            format!("{date} {hm}")
        } else if self.step < 60.0 {
            format!("{hm}:{:02}", d.second())
        } else {
            hm
        }
    }

    /// Under the axis: the time zone, and the date when the labels do not show it.
    fn caption(&self) -> String {
        let d = utc(self.t0);
        if self.spans_days() || self.step >= 86400.0 {
            format!("UTC, {}", d.year())
        } else {
            format!("UTC, {}-{:02}-{:02}", d.year(), d.month(), d.day())
        }
    }
}

/// `t` in UTC (written by hand, not with `format`: strftime patterns would cost
/// the plugin binary more than the chart itself needs).
fn utc(t: f64) -> DateTime<Utc> {
    DateTime::from_timestamp(t.floor() as i64, 0).unwrap_or_default()
}

fn day(t: f64) -> i64 {
    (t / 86400.0).floor() as i64
}

/// A palette index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ink(u8);

impl PixelColor for Ink {
    type Raw = ();
}

/// The image: one palette index per pixel.
struct Canvas {
    pixels: Vec<u8>,
}

impl Canvas {
    fn new() -> Canvas {
        Canvas {
            pixels: vec![BACKGROUND; (WIDTH * HEIGHT) as usize],
        }
    }

    /// PNG: 4-bit indexed colour, rows unfiltered (flat colours compress best so),
    /// zlib at the highest level.
    fn encode(&self) -> Result<Vec<u8>, ChartError> {
        let row_bytes = WIDTH.div_ceil(2) as usize;
        let mut raw = Vec::with_capacity((row_bytes + 1) * HEIGHT as usize);
        for row in self.pixels.chunks(WIDTH as usize) {
            raw.push(0); // filter type: none
            raw.extend(
                row.chunks(2)
                    .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0)),
            );
        }
        let mut header = Vec::with_capacity(13);
        header.extend(WIDTH.to_be_bytes());
        header.extend(HEIGHT.to_be_bytes());
        // Bit depth 4, colour type 3 (palette), deflate, adaptive filters, no interlace.
        header.extend([4, 3, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut out, b"IHDR", &header);
        chunk(&mut out, b"PLTE", &PALETTE.concat());
        let data = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 10);
        if data.is_empty() {
            return Err(ChartError::Encode("deflate gave nothing".into()));
        }
        chunk(&mut out, b"IDAT", &data);
        chunk(&mut out, b"IEND", &[]);
        Ok(out)
    }
}

/// Append a PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    out.extend(crc32(kind.iter().chain(data)).to_be_bytes());
}

/// CRC-32 (ISO 3309, as PNG uses it), bit by bit: a chart is a few kilobytes.
fn crc32<'a>(bytes: impl Iterator<Item = &'a u8>) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

impl OriginDimensions for Canvas {
    fn size(&self) -> Size {
        Size::new(WIDTH, HEIGHT)
    }
}

impl DrawTarget for Canvas {
    type Color = Ink;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Infallible>
    where
        I: IntoIterator<Item = Pixel<Ink>>,
    {
        for Pixel(p, ink) in pixels {
            if (0..WIDTH as i32).contains(&p.x) && (0..HEIGHT as i32).contains(&p.y) {
                self.pixels[p.y as usize * WIDTH as usize + p.x as usize] = ink.0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoded image: width, height and RGB pixels.
    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let px = buf[..info.buffer_size()]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        (info.width, info.height, px)
    }

    /// Rows (y) of the plot area where `color` appears.
    fn rows_with(px: &[[u8; 3]], color: [u8; 3]) -> Vec<i32> {
        let mut rows = Vec::new();
        for y in PLOT_TOP..=PLOT_BOTTOM {
            let row = &px[(y as u32 * WIDTH) as usize..((y as u32 + 1) * WIDTH) as usize];
            if row[(PLOT_LEFT + 1) as usize..PLOT_RIGHT as usize].contains(&color) {
                rows.push(y);
            }
        }
        rows
    }

    fn flat(name: &str, value: f64) -> Series {
        Series {
            name: name.into(),
            points: (0..60)
                .map(|i| (1_700_000_000.0 + i as f64 * 60.0, value))
                .collect(),
        }
    }

    #[test]
    fn draws_each_series_where_its_values_are() {
        let chart = Chart {
            title: "two levels".into(),
            y_unit: "s".into(),
            range: None,
            series: vec![flat("high", 0.8), flat("low", 0.2)],
        };
        let png_bytes = line_chart(&chart).unwrap();
        let (w, h, px) = decode(&png_bytes);
        assert_eq!((w, h), (WIDTH, HEIGHT));
        let high = rows_with(&px, series_color(0));
        let low = rows_with(&px, series_color(1));
        assert!(!high.is_empty() && !low.is_empty());
        // The higher value is drawn higher up (smaller y), each as a flat 2-pixel line.
        assert!(high.iter().max() < low.iter().min(), "{high:?} {low:?}");
        assert!(high.len() <= 2 && low.len() <= 2, "{high:?} {low:?}");
        // Colours of series not in the chart are nowhere.
        for i in 2..MAX_SERIES {
            assert!(!px.contains(&series_color(i)), "series {i}");
        }
        // Small: indexed colour, deflated.
        assert!(png_bytes.len() < 20_000, "{} bytes", png_bytes.len());
    }

    #[test]
    fn draws_at_most_eight_series() {
        let series: Vec<Series> = (0..10).map(|i| flat(&format!("s{i}"), i as f64)).collect();
        let chart = Chart {
            title: "ten".into(),
            y_unit: String::new(),
            range: None,
            series,
        };
        let (_, _, px) = decode(&line_chart(&chart).unwrap());
        for i in 0..MAX_SERIES {
            assert!(!rows_with(&px, series_color(i)).is_empty(), "series {i}");
        }
        assert_eq!(
            left_out_note(8, 10).unwrap(),
            "The chart draws the first 8 of 10 series; 2 are left out of it."
        );
        assert_eq!(left_out_note(8, 8), None);
    }

    #[test]
    fn gaps_break_lines_and_no_data_is_an_error() {
        let mut s = flat("gappy", 1.0);
        for p in &mut s.points[20..40] {
            p.1 = f64::NAN;
        }
        let chart = Chart {
            title: "gap".into(),
            y_unit: String::new(),
            range: None,
            series: vec![s],
        };
        let (_, _, px) = decode(&line_chart(&chart).unwrap());
        let row = rows_with(&px, series_color(0))[0];
        let line = &px[(row as u32 * WIDTH) as usize..((row as u32 + 1) * WIDTH) as usize];
        // Points 20..40 of 60 span x 1/3..2/3 of the plot: no line there.
        let mid = (PLOT_LEFT + PLOT_RIGHT) / 2;
        assert_ne!(line[mid as usize], series_color(0));
        assert_eq!(line[(PLOT_LEFT + 20) as usize], series_color(0));
        let empty = Chart {
            series: vec![Series {
                name: "none".into(),
                points: vec![(0.0, f64::NAN)],
            }],
            ..chart
        };
        assert_eq!(line_chart(&empty), Err(ChartError::NoData));
    }

    #[test]
    fn tick_labels_carry_units() {
        let labels = |lo, hi, unit| -> Vec<String> {
            YAxis::new(lo, hi, unit)
                .ticks()
                .into_iter()
                .map(|t| t.1)
                .collect()
        };
        assert_eq!(
            labels(0.0, 0.25, "s"),
            ["0", "50ms", "100ms", "150ms", "200ms", "250ms", "300ms"]
        );
        assert_eq!(labels(0.0, 3.0 * 1024.0 * 1024.0, "B")[1], "1MiB");
        assert_eq!(labels(0.0, 2500.0, "/s")[1], "0.5k/s");
        assert_eq!(labels(0.0, 9.0, "lines"), ["0", "2", "4", "6", "8", "10"]);
        assert_eq!(scale(10.0, "lines"), (1.0, String::new(), false));
        // Data far from zero keeps its own bounds.
        assert_eq!(labels(100.0, 110.0, "")[0], "100");
    }

    #[test]
    fn the_argument_schema_is_a_described_boolean() {
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Args {
            /// PNG.
            #[serde(default)]
            #[schemars(transform = argument)]
            chart: bool,
        }
        let schema = crate::schema::input_of::<Args>();
        assert_eq!(
            schema["properties"]["chart"],
            serde_json::json!({"description": "PNG.", "type": "boolean"})
        );
        assert!(schema.get("required").is_none(), "{schema}");
    }

    #[test]
    fn time_labels_are_utc() {
        // 2023-11-14T22:13:20Z to +1h.
        let t = TimeAxis::new(1_700_000_000.0, 1_700_003_600.0);
        assert_eq!(t.step, 600.0);
        let ticks = t.ticks();
        assert_eq!(ticks.len(), 6);
        assert_eq!(t.label(ticks[0]), "22:20");
        assert_eq!(t.caption(), "UTC, 2023-11-14");
        // Three days: dates on the labels.
        let t = TimeAxis::new(1_700_000_000.0, 1_700_000_000.0 + 3.0 * 86400.0);
        assert_eq!(t.label(t.ticks()[0]), "11-15 00:00");
    }
}
