//! The punch rich menu: four large areas (clock in, clock out, break start, break end) that
//! send postbacks, drawn in-process as a 2500×1686 PNG with labels in the integration's
//! language, and the `lineworks.sync` job that creates it, sets it as the bot's default, and
//! removes it again when the admin turns the option off.

use super::api::{ApiError, Credentials, LineWorks};
use crate::error::outcome_of;
use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use dakoku_domain::{IntegrationId, Platform, PunchKind};
use dakoku_service::chat::{punch_action, ChatSettings, Phrases};
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::{Service, ServiceError};
use dakoku_store::jobs::Job;
use dakoku_worker::{BoxFuture, JobHandler, Outcome};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;

const WIDTH: u32 = 2500;
const HEIGHT: u32 = 1686;
const MENU_STATE: &str = "rich_menu_id";
/// Noto Sans CJK JP Bold, cut down to the label glyphs (see `scripts/menu-font.sh`).
static FONT: &[u8] = include_bytes!("../../assets/menu-font.otf");

/// The areas, left to right and top to bottom, with their colours.
const AREAS: [(PunchKind, [u8; 3]); 4] = [
    (PunchKind::ClockIn, [0x1b, 0x6e, 0x3c]),
    (PunchKind::ClockOut, [0x1f, 0x3f, 0x7a]),
    (PunchKind::BreakStart, [0xa8, 0x5a, 0x00]),
    (PunchKind::BreakEnd, [0x00, 0x6d, 0x77]),
];

fn bounds(index: usize) -> (u32, u32, u32, u32) {
    let (w, h) = (WIDTH / 2, HEIGHT / 2);
    ((index as u32 % 2) * w, (index as u32 / 2) * h, w, h)
}

/// The menu image: a PNG of exactly 2500×1686, well under the 1 MB limit.
pub fn menu_png(phrases: &Phrases) -> Vec<u8> {
    let font = FontRef::try_from_slice(FONT).expect("the embedded font parses");
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    for (index, (kind, colour)) in AREAS.iter().enumerate() {
        let (x0, y0, w, h) = bounds(index);
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                // A white gutter between the areas.
                let edge = x - x0 < 6 || x0 + w - x <= 6 || y - y0 < 6 || y0 + h - y <= 6;
                let at = ((y * WIDTH + x) * 3) as usize;
                pixels[at..at + 3].copy_from_slice(if edge { &[255, 255, 255] } else { colour });
            }
        }
        draw_centered(&font, &mut pixels, phrases.kind(*kind), (x0, y0, w, h), *colour);
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Best);
        let mut writer = encoder.write_header().expect("PNG header to memory");
        writer.write_image_data(&pixels).expect("PNG data to memory");
    }
    out
}

/// Draws `text` in white, as large as fits the area, centred.
fn draw_centered(font: &FontRef<'_>, pixels: &mut [u8], text: &str, area: (u32, u32, u32, u32), background: [u8; 3]) {
    let (x0, y0, w, h) = area;
    let width_at = |px: f32| {
        let scaled = font.as_scaled(PxScale::from(px));
        text.chars().map(|c| scaled.h_advance(font.glyph_id(c))).sum::<f32>()
    };
    let mut px = 220.0;
    while px > 40.0 && width_at(px) > w as f32 * 0.85 {
        px -= 10.0;
    }
    let scaled = font.as_scaled(PxScale::from(px));
    let mut caret = x0 as f32 + (w as f32 - width_at(px)) / 2.0;
    let baseline = y0 as f32 + (h as f32 + scaled.ascent() + scaled.descent()) / 2.0;
    for c in text.chars() {
        let glyph = font.glyph_id(c).with_scale_and_position(px, ab_glyph::point(caret, baseline));
        caret += scaled.h_advance(font.glyph_id(c));
        let Some(outline) = font.outline_glyph(glyph) else { continue };
        let b = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let (x, y) = (b.min.x as i64 + i64::from(gx), b.min.y as i64 + i64::from(gy));
            if x < 0 || y < 0 || x >= i64::from(WIDTH) || y >= i64::from(HEIGHT) {
                return;
            }
            let at = ((y as u32 * WIDTH + x as u32) * 3) as usize;
            for (channel, base) in background.iter().enumerate() {
                let blended = f32::from(*base) + (255.0 - f32::from(*base)) * coverage.clamp(0.0, 1.0);
                pixels[at + channel] = blended.round() as u8;
            }
        });
    }
}

/// The rich-menu definition: one postback area per punch kind.
pub fn menu_body(phrases: &Phrases) -> Value {
    let areas: Vec<Value> = AREAS
        .iter()
        .enumerate()
        .map(|(index, (kind, _))| {
            let (x, y, width, height) = bounds(index);
            json!({
                "bounds": {"x": x, "y": y, "width": width, "height": height},
                "action": {
                    "type": "postback",
                    "label": phrases.kind(*kind),
                    "data": punch_action(*kind),
                    "displayText": phrases.kind(*kind),
                },
            })
        })
        .collect();
    json!({"richmenuName": "dakoku", "size": {"width": WIDTH, "height": HEIGHT}, "areas": areas})
}

impl LineWorks {
    /// Makes the platform match the `rich_menu` option: creates and sets the menu, or removes it.
    pub async fn sync_rich_menu(&self, service: &Service, integration: &OpenIntegration) -> Result<(), ApiError> {
        let creds = Credentials::of(integration)?;
        let id = &integration.stored.id;
        let wanted = integration.stored.settings.get("rich_menu").and_then(Value::as_bool).unwrap_or(false);
        let existing = service.integration_state(id, MENU_STATE).await.map_err(store_error)?;
        match (wanted, existing) {
            (true, None) => {
                let menu_id = self.create_rich_menu(service, id, &creds, integration).await?;
                service.set_integration_state(id, MENU_STATE, Some(&menu_id)).await.map_err(store_error)
            }
            (false, Some(menu_id)) => {
                let bot = format!("/bots/{}", creds.bot_id);
                self.call(service, id, &creds, Method::PATCH, &bot, Some(&json!({"defaultRichmenuId": null}))).await?;
                let path = format!("/bots/{}/richmenus/{menu_id}", creds.bot_id);
                match self.call(service, id, &creds, Method::DELETE, &path, None).await {
                    Ok(_) | Err(ApiError::Refused { status: 404, .. }) => {}
                    Err(e) => return Err(e),
                }
                service.set_integration_state(id, MENU_STATE, None).await.map_err(store_error)
            }
            _ => Ok(()),
        }
    }

    async fn create_rich_menu(
        &self,
        service: &Service,
        id: &IntegrationId,
        creds: &Credentials,
        integration: &OpenIntegration,
    ) -> Result<String, ApiError> {
        let settings = ChatSettings::from_settings(Platform::LineWorks, &integration.stored.settings);
        let phrases = Phrases::of(settings.language);
        let bot = &creds.bot_id;
        let (_, created) = self
            .call(service, id, creds, Method::POST, &format!("/bots/{bot}/richmenus"), Some(&menu_body(&phrases)))
            .await?;
        let menu_id = text_field(&created, "richmenuId")?;
        let body = json!({"fileName": "dakoku-menu.png"});
        let (_, attachment) =
            self.call(service, id, creds, Method::POST, &format!("/bots/{bot}/attachments"), Some(&body)).await?;
        let file_id = text_field(&attachment, "fileId")?;
        let upload_url = text_field(&attachment, "uploadUrl")?;
        let token = self.token(service, id, creds).await?;
        self.upload(&upload_url, &token.token, menu_png(&phrases)).await?;
        let image = json!({"fileId": file_id});
        let path = format!("/bots/{bot}/richmenus/{menu_id}/image");
        self.call(service, id, creds, Method::POST, &path, Some(&image)).await?;
        let default = json!({"defaultRichmenuId": menu_id});
        self.call(service, id, creds, Method::PATCH, &format!("/bots/{bot}"), Some(&default)).await?;
        Ok(menu_id)
    }
}

fn text_field(body: &Value, name: &str) -> Result<String, ApiError> {
    match body.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(ApiError::Unavailable(format!("LINE WORKS answered without {name}"))),
    }
}

fn store_error(e: ServiceError) -> ApiError {
    ApiError::Unavailable(format!("state store: {e}"))
}

/// The `lineworks.sync` job, queued whenever an integration is created or changed.
pub struct SyncJob {
    service: Service,
    lineworks: Arc<LineWorks>,
}

impl SyncJob {
    pub fn new(service: Service, lineworks: Arc<LineWorks>) -> Self {
        Self { service, lineworks }
    }

    async fn sync(&self, job: &Job) -> Outcome {
        let id = job.payload.get("integration_id").and_then(Value::as_str).map(|s| IntegrationId::from_db(s.into()));
        let (Some(id), Some(org)) = (id, &job.org_id) else {
            return Outcome::Fail { error: "sync job without integration".into() };
        };
        let integration = match self.service.open_integration(org, &id).await {
            Ok(i) => i,
            Err(ServiceError::NotFound(_)) => return Outcome::Done,
            Err(e) => return Outcome::Retry { error: e.to_string(), after: None },
        };
        match self.lineworks.sync_rich_menu(&self.service, &integration).await {
            Ok(()) => Outcome::Done,
            Err(e) => outcome_of(e),
        }
    }
}

impl JobHandler for SyncJob {
    fn kind(&self) -> dakoku_domain::JobKind {
        dakoku_domain::JobKind::LineWorksRichMenuSync
    }

    fn run<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(self.sync(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dakoku_service::chat::Language;

    #[test]
    fn the_menu_image_has_the_platform_size_and_fits_the_limit() {
        for language in [Language::Ja, Language::Zh, Language::En] {
            let png = menu_png(&Phrases::of(language));
            assert!(png.len() < 1024 * 1024, "{} bytes", png.len());
            let decoder = png::Decoder::new(png.as_slice());
            let reader = decoder.read_info().expect("a PNG");
            assert_eq!((reader.info().width, reader.info().height), (2500, 1686));
        }
    }

    #[test]
    fn labels_are_drawn() {
        // Text leaves white pixels inside an area, away from its gutter.
        let png = menu_png(&Phrases::of(Language::Ja));
        let mut reader = png::Decoder::new(png.as_slice()).read_info().expect("PNG");
        let mut pixels = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut pixels).expect("frame");
        let (x0, y0, w, h) = bounds(0);
        let white = (y0 + 50..y0 + h - 50)
            .flat_map(|y| (x0 + 50..x0 + w - 50).map(move |x| ((y * WIDTH + x) * 3) as usize))
            .filter(|&at| pixels[at..at + 3] == [255, 255, 255])
            .count();
        assert!(white > 5_000, "only {white} white pixels in the clock-in area");
    }

    #[test]
    fn every_label_glyph_is_in_the_font() {
        let font = FontRef::try_from_slice(FONT).expect("font");
        for language in [Language::Ja, Language::Zh, Language::En] {
            let phrases = Phrases::of(language);
            for (kind, _) in AREAS {
                for c in phrases.kind(kind).chars() {
                    assert_ne!(font.glyph_id(c).0, 0, "{c} is missing from assets/menu-font.otf");
                }
            }
        }
    }

    #[test]
    fn areas_cover_the_menu() {
        let body = menu_body(&Phrases::of(Language::En));
        let areas = body["areas"].as_array().expect("areas");
        assert_eq!(areas.len(), 4);
        let total: u64 = areas
            .iter()
            .map(|a| a["bounds"]["width"].as_u64().unwrap_or(0) * a["bounds"]["height"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(total, u64::from(WIDTH) * u64::from(HEIGHT));
    }
}
