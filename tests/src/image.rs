//! The PNG charts tools return as MCP image content, decoded so a test can check
//! their size and which series colours they hold.

use anyhow::{Context, Result, ensure};
use base64::Engine as _;
use rmcp::model::CallToolResult;

/// The colour of the `i`th series of a chart.
pub use plue_plugin_sdk::chart::series_color;

/// A decoded image: the PNG and its RGB pixels, row by row.
pub struct Image {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<[u8; 3]>,
}

impl Image {
    /// Whether any pixel with `x` in `xs` has `color`.
    pub fn has(&self, color: [u8; 3], xs: std::ops::Range<u32>) -> bool {
        !self.rows_with(color, xs).is_empty()
    }

    /// The rows (y) where `color` appears at some `x` in `xs`.
    pub fn rows_with(&self, color: [u8; 3], xs: std::ops::Range<u32>) -> Vec<u32> {
        (0..self.height)
            .filter(|y| {
                xs.clone()
                    .any(|x| self.pixels[(y * self.width + x) as usize] == color)
            })
            .collect()
    }
}

/// The one `image/png` content block of `result`, decoded.
pub fn png_of(result: &CallToolResult) -> Result<Image> {
    let images: Vec<_> = result.content.iter().filter_map(|c| c.as_image()).collect();
    ensure!(images.len() == 1, "want one image, got {}", images.len());
    ensure!(
        images[0].mime_type == "image/png",
        "{}",
        images[0].mime_type
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&images[0].data)
        .context("image data is not base64")?;
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes.as_slice()));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().context("not a PNG")?;
    let mut buf = vec![0; reader.output_buffer_size().context("PNG too big")?];
    let info = reader.next_frame(&mut buf).context("PNG frame")?;
    ensure!(
        info.color_type == png::ColorType::Rgb,
        "{:?}",
        info.color_type
    );
    Ok(Image {
        png: bytes.clone(),
        width: info.width,
        height: info.height,
        pixels: buf[..info.buffer_size()]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect(),
    })
}
