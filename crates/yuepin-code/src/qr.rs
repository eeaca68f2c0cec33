//! QR images of code URIs at error-correction level M: SVG text and PNG bytes (in memory), and
//! the bare modules for vector drawing (label sheets, `yuepin-codes-service`).

use crate::error::CodeError;
use image::{ImageEncoder as _, Luma};
use qrcode::{EcLevel, QrCode, Version};

/// Largest QR version a code URI may need (checked by tests on the longest realistic URI).
pub const MAX_VERSION: i16 = 10;

/// The QR symbol for `uri` at level M (segment modes chosen optimally by `qrcode`).
pub fn qr_code(uri: &str) -> Result<QrCode, CodeError> {
    QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).map_err(|e| CodeError::Qr {
        what: "uri",
        reason: e.to_string(),
    })
}

/// The modules of `uri`'s QR symbol: its width and, row by row, whether each module is dark
/// (for drawing it as vector shapes, e.g. on a PDF label; no quiet zone included).
pub fn qr_modules(uri: &str) -> Result<(usize, Vec<bool>), CodeError> {
    let code = qr_code(uri)?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok((code.width(), dark))
}

/// The QR version `uri` needs at level M.
pub fn qr_version(uri: &str) -> Result<i16, CodeError> {
    match qr_code(uri)?.version() {
        Version::Normal(version) | Version::Micro(version) => Ok(version),
    }
}

/// An SVG document, `module_px` user units per module, with the standard 4-module quiet zone.
pub fn qr_svg(uri: &str, module_px: u32) -> Result<String, CodeError> {
    let code = qr_code(uri)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .module_dimensions(module_px.max(1), module_px.max(1))
        .quiet_zone(true)
        .build())
}

/// A greyscale PNG, `module_px` pixels per module, with the quiet zone.
pub fn qr_png(uri: &str, module_px: u32) -> Result<Vec<u8>, CodeError> {
    let code = qr_code(uri)?;
    let image = code
        .render::<Luma<u8>>()
        .module_dimensions(module_px.max(1), module_px.max(1))
        .quiet_zone(true)
        .build();
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| CodeError::Qr {
            what: "png",
            reason: e.to_string(),
        })?;
    Ok(png)
}
