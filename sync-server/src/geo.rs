//! Map geometry for the day's map (`/app/map`): the WGS-84 → GCJ-02 offset Chinese tile
//! providers (AMap, Tencent) need, and Web Mercator tile math (world pixels, tiles, the zoom
//! that fits a day's points). A leaf: plain numbers in, plain numbers out.
//!
//! Phones report WGS-84 (GPS). Maps of mainland China published by AMap and Tencent are drawn
//! in GCJ-02, a deliberately offset datum: a WGS-84 point plotted on them unconverted lands
//! 100–700 m off. OpenStreetMap tiles are WGS-84 and take the points unchanged.

use std::f64::consts::PI;

/// Tile edge in pixels (every XYZ/TMS provider the map supports uses 256).
pub const TILE_PX: f64 = 256.0;

/// Web Mercator's latitude limit: the world is a square at every zoom.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Equatorial circumference over 256 px: metres per pixel at zoom 0 on the equator.
const METRES_PER_PX_Z0: f64 = 2.0 * PI * 6_378_137.0 / TILE_PX;

/// Which datum a tile server draws in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datum {
    /// OpenStreetMap and most of the world's tiles: points go on unchanged.
    Wgs84,
    /// AMap (高德), Tencent (腾讯): points inside mainland China are offset first.
    Gcj02,
}

impl Datum {
    /// `wgs84` / `gcj02`, as `--map-tiles-crs` takes it.
    pub fn parse(s: &str) -> Option<Datum> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wgs84" | "wgs-84" => Some(Datum::Wgs84),
            "gcj02" | "gcj-02" => Some(Datum::Gcj02),
            _ => None,
        }
    }

    /// A WGS-84 (lat, lon) as this datum's (lat, lon).
    pub fn from_wgs84(self, lat: f64, lon: f64) -> (f64, f64) {
        match self {
            Datum::Wgs84 => (lat, lon),
            Datum::Gcj02 => wgs84_to_gcj02(lat, lon),
        }
    }
}

/// Outside the rectangle the offset is defined for, GCJ-02 is WGS-84 (the rectangle used by
/// the published implementations; it is coarse on purpose: the same test everyone applies).
fn outside_china(lat: f64, lon: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

/// The offset polynomial of GCJ-02 in (lon − 105°, lat − 35°), metres-ish units before the
/// ellipsoid scaling: (latitude part, longitude part).
fn offset(x: f64, y: f64) -> (f64, f64) {
    let waves = (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    let lat = -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * x.abs().sqrt()
        + waves
        + (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0
        + (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let lon = 300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * x.abs().sqrt()
        + waves
        + (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0
        + (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    (lat, lon)
}

/// WGS-84 (lat, lon) → GCJ-02 (lat, lon): the offset polynomial scaled to degrees on the
/// Krasovsky 1940 ellipsoid (a = 6 378 245 m, e² = 0.006 693 421 622 965 943 23), the
/// algorithm of the published converters (eviltransform, coordtransform). Unchanged outside
/// mainland China.
pub fn wgs84_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    const A: f64 = 6_378_245.0;
    const EE: f64 = 0.006_693_421_622_965_943; // 0.00669342162296594323 as published
    if !lat.is_finite() || !lon.is_finite() || outside_china(lat, lon) {
        return (lat, lon);
    }
    let (d_lat, d_lon) = offset(lon - 105.0, lat - 35.0);
    let rad = lat.to_radians();
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = d_lat * 180.0 / (A * (1.0 - EE) / (magic * sqrt_magic) * PI);
    let d_lon = d_lon * 180.0 / (A / sqrt_magic * rad.cos() * PI);
    (lat + d_lat, lon + d_lon)
}

/// The world's size in pixels at zoom `z`.
pub fn world_px(z: u8) -> f64 {
    TILE_PX * f64::from(1u32 << z.min(30))
}

/// (lat, lon) → world pixel (x right, y down) at zoom `z`, Web Mercator (EPSG:3857).
pub fn to_px(lat: f64, lon: f64, z: u8) -> (f64, f64) {
    let size = world_px(z);
    let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (lon + 180.0) / 360.0 * size;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * size;
    (x, y)
}

/// The tile (x, y) holding world pixel (px, py) at zoom `z` (XYZ numbering: y from the north).
pub fn tile_of(px: f64, py: f64, z: u8) -> (u32, u32) {
    let last = (1u32 << z.min(30)) - 1;
    let t = |p: f64| ((p / TILE_PX).floor().max(0.0) as u32).min(last);
    (t(px), t(py))
}

/// TMS numbering (`{-y}`, Tencent): rows counted from the south.
pub fn tms_y(y: u32, z: u8) -> u32 {
    ((1u32 << z.min(30)) - 1).saturating_sub(y)
}

/// Metres one pixel covers at latitude `lat` and zoom `z` (for geofence circles and the
/// scale bar).
pub fn metres_per_px(lat: f64, z: u8) -> f64 {
    METRES_PER_PX_Z0 * lat.clamp(-MAX_LAT, MAX_LAT).to_radians().cos() / f64::from(1u32 << z.min(30))
}

/// A box of (lat, lon) points: south-west and north-east corners.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

impl Bounds {
    /// The box around `points` (lat, lon); None without a finite point.
    pub fn around(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Bounds> {
        let mut b: Option<Bounds> = None;
        for (lat, lon) in points {
            if !lat.is_finite() || !lon.is_finite() {
                continue;
            }
            b = Some(match b {
                None => Bounds {
                    south: lat,
                    west: lon,
                    north: lat,
                    east: lon,
                },
                Some(b) => Bounds {
                    south: b.south.min(lat),
                    west: b.west.min(lon),
                    north: b.north.max(lat),
                    east: b.east.max(lon),
                },
            });
        }
        b
    }

    /// The centre, (lat, lon), taken in projected space so it is the middle of the drawing.
    pub fn centre_px(&self, z: u8) -> (f64, f64) {
        let (x0, y0) = to_px(self.north, self.west, z);
        let (x1, y1) = to_px(self.south, self.east, z);
        ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    }
}

/// The largest zoom in `min_z..=max_z` at which `b` fits in `width` × `height` pixels (a box
/// that fits nowhere gets `min_z`; a single point gets `max_z`).
pub fn fit_zoom(b: &Bounds, width: f64, height: f64, min_z: u8, max_z: u8) -> u8 {
    (min_z..=max_z)
        .rev()
        .find(|&z| {
            let (x0, y0) = to_px(b.north, b.west, z);
            let (x1, y1) = to_px(b.south, b.east, z);
            x1 - x0 <= width && y1 - y0 <= height
        })
        .unwrap_or(min_z)
}

/// The latitude of world pixel row `y` at zoom `z` (the inverse of [`to_px`]'s y).
pub fn lat_of_px(y: f64, z: u8) -> f64 {
    let n = PI * (1.0 - 2.0 * y / world_px(z));
    n.sinh().atan().to_degrees()
}

/// A drawing `width` × `height` pixels of the world at zoom `z`, whose top-left corner is world
/// pixel (`left`, `top`): where points go, and which tiles lie behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub z: u8,
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// One tile behind a viewport: its numbers and where its top-left corner is in the drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacedTile {
    pub z: u8,
    pub x: u32,
    pub y: u32,
    pub left: f64,
    pub top: f64,
}

impl Viewport {
    /// The viewport centred on `b` at the largest zoom in `min_z..=max_z` that keeps `pad`
    /// pixels free on every side.
    pub fn fit(b: &Bounds, width: f64, height: f64, pad: f64, min_z: u8, max_z: u8) -> Viewport {
        let z = fit_zoom(b, width - 2.0 * pad, height - 2.0 * pad, min_z, max_z);
        let (cx, cy) = b.centre_px(z);
        Viewport {
            z,
            left: cx - width / 2.0,
            top: cy - height / 2.0,
            width,
            height,
        }
    }

    /// (lat, lon) → drawing pixel (x right, y down).
    pub fn project(&self, lat: f64, lon: f64) -> (f64, f64) {
        let (x, y) = to_px(lat, lon, self.z);
        (x - self.left, y - self.top)
    }

    /// Metres per pixel at the drawing's middle row (the scale bar's).
    pub fn metres_per_px(&self) -> f64 {
        metres_per_px(lat_of_px(self.top + self.height / 2.0, self.z), self.z)
    }

    /// The tiles covering the drawing, row by row. Columns wrap round the antimeridian; rows
    /// beyond the poles are left out.
    pub fn tiles(&self) -> Vec<PlacedTile> {
        let n = i64::from(1u32 << self.z.min(30));
        let first = |p: f64| (p / TILE_PX).floor() as i64;
        let (x0, x1) = (first(self.left), first(self.left + self.width - 1.0));
        let (y0, y1) = (
            first(self.top).max(0),
            first(self.top + self.height - 1.0).min(n - 1),
        );
        let mut out = Vec::new();
        for ty in y0..=y1 {
            for tx in x0..=x1 {
                out.push(PlacedTile {
                    z: self.z,
                    x: tx.rem_euclid(n) as u32,
                    y: ty as u32,
                    left: tx as f64 * TILE_PX - self.left,
                    top: ty as f64 * TILE_PX - self.top,
                });
            }
        }
        out
    }
}

/// A tile server head office configured (`serve --map-tiles …`): the page shows its tiles
/// behind the day's points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileSource {
    /// `http(s)://…` with `{z}`, `{x}`, and `{y}` (XYZ) or `{-y}` (TMS, Tencent); `{s}` picks
    /// one of `subdomains`.
    pub template: String,
    pub subdomains: Vec<String>,
    pub datum: Datum,
    /// Shown under the map (© OpenStreetMap contributors, © AutoNavi…).
    pub attribution: Option<String>,
}

/// Why a tile configuration was refused (the server does not start with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileConfigError {
    #[error("--map-tiles must start with http:// or https:// and name a host")]
    NotHttp,
    #[error("--map-tiles must contain {{z}}, {{x}} and {{y}} or {{-y}}")]
    MissingPlaceholder,
    #[error("--map-tiles uses {{s}}: give --map-tiles-subdomains (e.g. a,b,c)")]
    NoSubdomains,
    #[error("--map-tiles contains a character a page cannot carry in an image address: {0:?}")]
    BadCharacter(char),
    #[error("--map-tiles-crs must be wgs84 or gcj02")]
    BadDatum,
}

impl TileSource {
    /// Checks a template and its options; `subdomains` comma-separated, `crs` `wgs84`/`gcj02`
    /// (default wgs84).
    pub fn new(
        template: &str,
        subdomains: Option<&str>,
        crs: Option<&str>,
        attribution: Option<&str>,
    ) -> Result<TileSource, TileConfigError> {
        let template = template.trim().to_string();
        let rest = template
            .strip_prefix("https://")
            .or_else(|| template.strip_prefix("http://"))
            .ok_or(TileConfigError::NotHttp)?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(TileConfigError::NotHttp);
        }
        // The address goes into a CSP header and an `src` attribute: printable ASCII only,
        // nothing that would end the policy or the attribute.
        if let Some(c) = template
            .chars()
            .find(|c| !c.is_ascii_graphic() || matches!(c, ';' | ',' | '"' | '\'' | '<' | '>' | '\\'))
        {
            return Err(TileConfigError::BadCharacter(c));
        }
        if !template.contains("{z}")
            || !template.contains("{x}")
            || !(template.contains("{y}") || template.contains("{-y}"))
        {
            return Err(TileConfigError::MissingPlaceholder);
        }
        let subdomains: Vec<String> = subdomains
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if template.contains("{s}") && subdomains.is_empty() {
            return Err(TileConfigError::NoSubdomains);
        }
        if let Some(c) = subdomains
            .iter()
            .flat_map(|s| s.chars())
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(TileConfigError::BadCharacter(c));
        }
        let datum = match crs {
            None => Datum::Wgs84,
            Some(c) => Datum::parse(c).ok_or(TileConfigError::BadDatum)?,
        };
        let attribution = attribution
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        Ok(TileSource {
            template,
            subdomains,
            datum,
            attribution,
        })
    }

    /// The address of tile (x, y) at zoom `z` (XYZ numbering; `{-y}` gets the TMS row).
    /// Subdomains take turns by tile, so a browser spreads its requests over them.
    pub fn url(&self, z: u8, x: u32, y: u32) -> String {
        let mut u = self
            .template
            .replace("{z}", &z.to_string())
            .replace("{x}", &x.to_string())
            .replace("{-y}", &tms_y(y, z).to_string())
            .replace("{y}", &y.to_string());
        if !self.subdomains.is_empty() {
            let i = (x as usize + y as usize) % self.subdomains.len();
            u = u.replace("{s}", &self.subdomains[i]);
        }
        u
    }

    /// The hosts the page's images come from, as CSP sources (`https://a.tile.example`…).
    pub fn csp_sources(&self) -> Vec<String> {
        let (scheme, rest) = self
            .template
            .split_once("://")
            .unwrap_or(("https", &self.template));
        let host = rest.split('/').next().unwrap_or(rest);
        if host.contains("{s}") {
            self.subdomains
                .iter()
                .map(|s| format!("{scheme}://{}", host.replace("{s}", s)))
                .collect()
        } else {
            vec![format!("{scheme}://{host}")]
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use fieldproof_core::rules::distance_m;

    /// Published WGS-84 → GCJ-02 pairs: (wgs lat, wgs lon, gcj lat, gcj lon).
    /// - Shanghai, Shenzhen, Beijing: the test table of googollee/eviltransform
    ///   (`go/transform_test.go`, the same rows in its python, php and C tests).
    /// - Tiananmen (116.404, 39.915): the README example of wandergis/coordtransform
    ///   (`test/app.js`, "wgs84togcj02: [ 116.41024449916938, 39.91640428150164 ]").
    const PAIRS: &[(f64, f64, f64, f64)] = &[
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
        (39.915, 116.404, 39.91640428150164, 116.41024449916938),
    ];

    #[test]
    fn gcj02_matches_published_pairs_within_a_metre() {
        for &(lat, lon, g_lat, g_lon) in PAIRS {
            let (c_lat, c_lon) = wgs84_to_gcj02(lat, lon);
            let off = distance_m(c_lat, c_lon, g_lat, g_lon);
            assert!(
                off < 1.0,
                "({lat}, {lon}) → ({c_lat}, {c_lon}), {off} m from ({g_lat}, {g_lon})"
            );
            // And the offset is really applied (hundreds of metres), not the identity.
            assert!(distance_m(lat, lon, c_lat, c_lon) > 100.0);
            assert_eq!(Datum::Gcj02.from_wgs84(lat, lon), (c_lat, c_lon));
        }
    }

    #[test]
    fn osm_and_outside_china_stay_wgs84() {
        for &(lat, lon, _, _) in PAIRS {
            assert_eq!(Datum::Wgs84.from_wgs84(lat, lon), (lat, lon));
        }
        // London, New York, Sydney: outside the offset's rectangle, GCJ-02 is WGS-84.
        for (lat, lon) in [(51.5074, -0.1278), (40.7128, -74.006), (-33.8688, 151.2093)] {
            assert_eq!(wgs84_to_gcj02(lat, lon), (lat, lon));
        }
        assert!(wgs84_to_gcj02(f64::NAN, 116.0).0.is_nan());
    }

    #[test]
    fn datum_names() {
        assert_eq!(Datum::parse("gcj02"), Some(Datum::Gcj02));
        assert_eq!(Datum::parse(" WGS84 "), Some(Datum::Wgs84));
        assert_eq!(Datum::parse("bd09"), None);
    }

    #[test]
    fn web_mercator_pixels_and_tiles() {
        // Zoom 0: the world is one 256 px tile, (0, 0) in its middle.
        assert_eq!(to_px(0.0, 0.0, 0), (128.0, 128.0));
        let (x, y) = to_px(MAX_LAT, -180.0, 3);
        assert!(x.abs() < 1e-9 && y.abs() < 1e-6);
        // 39.9°N 116.4°E (Beijing) is in tile (13489, 6208) at zoom 14: 296.4/360 of 2^14 columns.
        let (px, py) = to_px(39.9, 116.4, 14);
        assert_eq!(tile_of(px, py, 14), (13489, 6208));
        assert_eq!(tms_y(6208, 14), (1 << 14) - 1 - 6208);
        assert_eq!(tile_of(-5.0, 1e12, 2), (0, 3));
        // ~4.1 m per pixel at 30°N, zoom 15 (156 543 m × cos 30° / 2^15).
        let m = metres_per_px(30.0, 15);
        assert!((m - 4.13).abs() < 0.05, "{m}");
    }

    #[test]
    fn zoom_fits_the_box() {
        // Points ~3 km apart in Shanghai fit 960 × 600 around zoom 14; one point takes max.
        let b = Bounds::around([(31.20, 121.45), (31.23, 121.48)]).expect("points");
        let z = fit_zoom(&b, 900.0, 540.0, 3, 17);
        let (x0, y0) = to_px(b.north, b.west, z);
        let (x1, y1) = to_px(b.south, b.east, z);
        assert!(x1 - x0 <= 900.0 && y1 - y0 <= 540.0);
        let (x0, y0) = to_px(b.north, b.west, z + 1);
        let (x1, y1) = to_px(b.south, b.east, z + 1);
        assert!(
            x1 - x0 > 900.0 || y1 - y0 > 540.0,
            "zoom {z} is not the largest that fits"
        );
        let one = Bounds::around([(31.2, 121.4)]).expect("point");
        assert_eq!(fit_zoom(&one, 900.0, 540.0, 3, 17), 17);
        assert_eq!(Bounds::around([(f64::NAN, 1.0)]), None);
    }
    #[test]
    fn tile_templates() {
        let osm = TileSource::new(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            None,
            None,
            Some("© OpenStreetMap"),
        )
        .expect("osm");
        assert_eq!(osm.datum, Datum::Wgs84);
        assert_eq!(
            osm.url(14, 13489, 6208),
            "https://tile.openstreetmap.org/14/13489/6208.png"
        );
        assert_eq!(osm.csp_sources(), ["https://tile.openstreetmap.org"]);
        let amap = TileSource::new(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            Some("1,2,3,4"),
            Some("gcj02"),
            None,
        )
        .expect("amap");
        assert_eq!(amap.datum, Datum::Gcj02);
        assert_eq!(
            amap.url(3, 1, 1),
            "https://webrd03.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x=1&y=1&z=3"
        );
        assert_eq!(amap.csp_sources().len(), 4);
        let tencent = TileSource::new(
            "https://rt{s}.map.gtimg.com/realtimerender?z={z}&x={x}&y={-y}&type=vector&style=0",
            Some("0,1,2,3"),
            Some("gcj02"),
            None,
        )
        .expect("tencent");
        assert_eq!(
            tencent.url(2, 0, 0),
            "https://rt0.map.gtimg.com/realtimerender?z=2&x=0&y=3&type=vector&style=0"
        );
        assert_eq!(
            TileSource::new("ftp://x/{z}/{x}/{y}", None, None, None),
            Err(TileConfigError::NotHttp)
        );
        assert_eq!(
            TileSource::new("https://x/{z}/{x}.png", None, None, None),
            Err(TileConfigError::MissingPlaceholder)
        );
        assert_eq!(
            TileSource::new("https://{s}.x/{z}/{x}/{y}", None, None, None),
            Err(TileConfigError::NoSubdomains)
        );
        assert_eq!(
            TileSource::new("https://x/{z}/{x}/{y}; script-src *", None, None, None),
            Err(TileConfigError::BadCharacter(';'))
        );
        assert_eq!(
            TileSource::new("https://x/{z}/{x}/{y}", None, Some("bd09"), None),
            Err(TileConfigError::BadDatum)
        );
    }
    #[test]
    fn viewport_places_points_and_tiles() {
        let b = Bounds::around([(31.20, 121.45), (31.23, 121.48)]).expect("points");
        let v = Viewport::fit(&b, 960.0, 600.0, 48.0, 3, 17);
        for (lat, lon) in [(31.20, 121.45), (31.23, 121.48)] {
            let (x, y) = v.project(lat, lon);
            assert!(
                (48.0..=912.0).contains(&x) && (48.0..=552.0).contains(&y),
                "({x}, {y})"
            );
        }
        // The tiles cover the drawing edge to edge and each is where its numbers say.
        let tiles = v.tiles();
        assert!(
            tiles
                .iter()
                .all(|t| t.left > -TILE_PX && t.left < 960.0 && t.top > -TILE_PX && t.top < 600.0)
        );
        assert!(tiles.iter().any(|t| t.left <= 0.0 && t.top <= 0.0));
        assert!(
            tiles
                .iter()
                .any(|t| t.left + TILE_PX >= 960.0 && t.top + TILE_PX >= 600.0)
        );
        let t = tiles[0];
        let (wx, wy) = (t.left + v.left, t.top + v.top);
        assert_eq!(tile_of(wx + 1.0, wy + 1.0, v.z), (t.x, t.y));
        assert!((lat_of_px(to_px(31.2, 0.0, 12).1, 12) - 31.2).abs() < 1e-9);
        assert!((v.metres_per_px() - metres_per_px(31.215, v.z)).abs() < 0.01);
    }
}
