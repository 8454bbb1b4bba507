//! Imports bound their work whatever the file claims (issue 9): dimension bombs (a far cell,
//! a lying `<dimension>`), zip bombs (a member that inflates far past its size, honest or
//! lying; thousands of members), string-table bombs (huge, or a huge `uniqueCount`), too many
//! rows, cells or text, and CSV with too many rows, columns or a huge field. Each is refused
//! with its typed limit error and nothing imported: in process, through the real server's web
//! upload (whose peak memory is read from /proc and which keeps answering /healthz), and by
//! `admin import` under an address-space limit. Plus the upload itself: 413 past the size
//! limit, 408 when the body stalls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "e2e/common.rs"]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Resp, Server, Session, admin, admin_ok, h, http, reference_file};
use fieldproof_server::import::{
    ImportError, ImportKind, ImportLimits, LimitError, import_csv, import_file, parse_csv, parse_file,
};
use fieldproof_server::{Limits, now_ms};

/// The server's peak resident memory (VmHWM) after every bomb has been posted to it, with the
/// default limits. Measured at about 60 MiB (the baseline is about 20 MiB); the unbounded
/// import reached 520 MiB on the Z300000 file alone and aborted on XFD1048576.
const SERVER_PEAK_BOUND_KIB: u64 = 192 * 1024;
/// `admin import` runs under this address-space limit (`ulimit -v`): a bomb that made it
/// allocate past the limits would abort (134) instead of exiting 1 with the refusal.
const ADMIN_ADDRESS_SPACE_KIB: u64 = 512 * 1024;

const ADMIN_PW: &str = "admin-password-1";

// --- hostile workbooks and CSV files, built member by member ---------------------------------

fn zip_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, bytes) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

/// A minimal workbook: one sheet named Stores with this XML, and a shared-strings part when
/// given, plus `extra` members.
fn workbook_with(sheet_xml: &[u8], shared: Option<Vec<u8>>, extra: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    workbook_named(&["Stores"], sheet_xml, shared, extra)
}

/// The same, with sheets of these names all pointing at the one sheet part.
fn workbook_named(
    names: &[&str],
    sheet_xml: &[u8],
    shared: Option<Vec<u8>>,
    extra: Vec<(String, Vec<u8>)>,
) -> Vec<u8> {
    let sheets: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!(r#"<sheet name="{n}" sheetId="{}" r:id="rId1"/>"#, i + 1))
        .collect();
    let mut members: Vec<(String, Vec<u8>)> = vec![
        (
            "[Content_Types].xml".into(),
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#.to_vec(),
        ),
        (
            "_rels/.rels".into(),
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).into_bytes(),
        ),
        (
            "xl/workbook.xml".into(),
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{sheets}</sheets></workbook>"#).into_bytes(),
        ),
        (
            "xl/_rels/workbook.xml.rels".into(),
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_NS}"><Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#).into_bytes(),
        ),
        ("xl/worksheets/sheet1.xml".into(), sheet_xml.to_vec()),
    ];
    if let Some(s) = shared {
        members.push(("xl/sharedStrings.xml".into(), s));
    }
    members.extend(extra);
    let refs: Vec<(&str, Vec<u8>)> = members.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    zip_of(&refs)
}

fn workbook(sheet_xml: &str) -> Vec<u8> {
    workbook_with(sheet_xml.as_bytes(), None, Vec::new())
}

fn sheet(dimension: Option<&str>, rows: &str) -> String {
    let dim = dimension.map_or(String::new(), |d| format!(r#"<dimension ref="{d}"/>"#));
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{dim}<sheetData>{rows}</sheetData></worksheet>"#
    )
}

fn text_cell(at: &str, s: &str) -> String {
    format!(r#"<c r="{at}" t="inlineStr"><is><t>{s}</t></is></c>"#)
}

/// The header and one new store of a known territory: imports fine on its own.
fn good_rows() -> String {
    let header = [
        "code",
        "name",
        "latitude",
        "longitude",
        "geofence_radius_m",
        "territory",
    ];
    let store = ["SH-NEW-001", "New store", "31.2", "121.5", "100", "shanghai-east"];
    let cols = ["A", "B", "C", "D", "E", "F"];
    let row = |n: u32, values: &[&str]| {
        let cells: String = values
            .iter()
            .zip(cols)
            .map(|(v, c)| text_cell(&format!("{c}{n}"), v))
            .collect();
        format!(r#"<row r="{n}">{cells}</row>"#)
    };
    format!("{}{}", row(1, &header), row(2, &store))
}

fn good_workbook() -> Vec<u8> {
    workbook(&sheet(Some("A1:F2"), &good_rows()))
}

const GOOD_CSV: &str = "code,name,latitude,longitude,geofence_radius_m,territory\nSH-NEW-001,New store,31.2,121.5,100,shanghai-east\n";

/// Set a member's uncompressed size to `claimed` in its local and central headers: the zip
/// says the member is small, the data inflates to what it really is.
fn lie_about_size(zip: &mut [u8], name: &str, claimed: u32) {
    let mut patched = 0;
    for at in 0..zip.len().saturating_sub(46) {
        let (offset, name_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => (22, 30),
            b"PK\x01\x02" => (24, 46),
            _ => continue,
        };
        if zip[at + name_at..].starts_with(name.as_bytes()) {
            zip[at + offset..at + offset + 4].copy_from_slice(&claimed.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "{name}: local and central header");
}

/// A hostile file and the refusal it must get: a limit's code, or (`UNREADABLE`) the zip
/// reader's own refusal of a member larger than its header says.
struct Bomb {
    name: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
    code: &'static str,
}

const UNREADABLE: &str = "unreadable";

/// Built once per test binary (tens of MiB of deflate), shared by the tests.
fn bombs() -> &'static [Bomb] {
    static BOMBS: std::sync::OnceLock<Vec<Bomb>> = std::sync::OnceLock::new();
    BOMBS.get_or_init(build_bombs)
}

fn build_bombs() -> Vec<Bomb> {
    let mut v = Vec::new();
    let mut add = |name, file, bytes, code| {
        v.push(Bomb {
            name,
            file,
            bytes,
            code,
        })
    };
    // The finding: one cell at XFD1048576 made calamine allocate ~550 GB.
    let far = |cell: &str, row: &str| {
        workbook(&sheet(
            Some("A1:F2"),
            &format!(
                r#"{}<row r="{row}"><c r="{cell}"><v>1</v></c></row>"#,
                good_rows()
            ),
        ))
    };
    add(
        "far cell XFD1048576",
        "bomb.xlsx",
        far("XFD1048576", "1048576"),
        "import_cell_out_of_range",
    );
    add(
        "far cell Z300000",
        "bomb.xlsx",
        far("Z300000", "300000"),
        "import_cell_out_of_range",
    );
    add(
        "far column XFD1",
        "bomb.xlsx",
        far("XFD2", "2"),
        "import_cell_out_of_range",
    );
    // Cells without `r` are placed by their row and order: the position is still checked.
    add(
        "far row without cell references",
        "bomb.xlsx",
        workbook(&sheet(
            None,
            &format!(r#"{}<row r="1048576"><c><v>1</v></c></row>"#, good_rows()),
        )),
        "import_cell_out_of_range",
    );
    add(
        "dimension ref A1:XFD1048576 over a small sheet",
        "bomb.xlsx",
        workbook(&sheet(Some("A1:XFD1048576"), &good_rows())),
        "import_sheet_too_large",
    );
    // 33 MiB of sheet XML (a comment) in ~40 KiB of zip, its size told honestly...
    let padding = {
        let mut s = sheet(Some("A1:F2"), &good_rows()).into_bytes();
        let tail = s.split_off(s.len() - "</worksheet>".len());
        s.extend_from_slice(b"<!--");
        s.resize(s.len() + 33 * 1024 * 1024, b' ');
        s.extend_from_slice(b"-->");
        s.extend_from_slice(&tail);
        s
    };
    add(
        "zip member inflating to 33 MiB",
        "bomb.xlsx",
        workbook_with(&padding, None, Vec::new()),
        "import_member_too_large",
    );
    // ...and claiming 1000 bytes: the zip reader stops at 1000 and refuses the member.
    let mut lying = workbook_with(&padding, None, Vec::new());
    lie_about_size(&mut lying, "xl/worksheets/sheet1.xml", 1000);
    add(
        "zip member claiming 1000 bytes, inflating to 33 MiB",
        "bomb.xlsx",
        lying,
        UNREADABLE,
    );
    // Three members of 24 MiB each: each under the member limit, together over 64 MiB.
    let big = |i: usize| (format!("xl/media/pad{i}.bin"), vec![0u8; 24 * 1024 * 1024]);
    add(
        "three members of 24 MiB",
        "bomb.xlsx",
        workbook_with(
            sheet(Some("A1:F2"), &good_rows()).as_bytes(),
            None,
            (0..3).map(big).collect(),
        ),
        "import_unpacked_too_large",
    );
    add(
        "fifteen sheets of import names",
        "bomb.xlsx",
        workbook_named(
            &[
                "Stores",
                "stores",
                "门店",
                "STORES",
                "Products",
                "产品",
                "Plans",
                "计划",
                "Reps",
                "业务员",
                "Teams",
                "团队",
                "Territories",
                "区域",
                "督导",
            ],
            sheet(Some("A1:F2"), &good_rows()).as_bytes(),
            None,
            Vec::new(),
        ),
        "import_too_many_sheets",
    );
    add(
        "2000 members",
        "bomb.xlsx",
        workbook_with(
            sheet(Some("A1:F2"), &good_rows()).as_bytes(),
            None,
            (0..2000)
                .map(|i| (format!("xl/pad/{i}.xml"), Vec::new()))
                .collect(),
        ),
        "import_too_many_members",
    );
    // One 17 MiB shared string.
    let mut shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>"#
    )
    .into_bytes();
    shared.resize(shared.len() + 17 * 1024 * 1024, b'x');
    shared.extend_from_slice(b"</t></si></sst>");
    add(
        "17 MiB sharedStrings",
        "bomb.xlsx",
        workbook_with(
            sheet(Some("A1:F2"), &good_rows()).as_bytes(),
            Some(shared),
            Vec::new(),
        ),
        "import_shared_strings_too_large",
    );
    // A few bytes that made calamine reserve room for four billion strings.
    let claimed = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="1" uniqueCount="4000000000"><si><t>a</t></si></sst>"#
    );
    add(
        "sharedStrings uniqueCount 4000000000",
        "bomb.xlsx",
        workbook_with(
            sheet(Some("A1:F2"), &good_rows()).as_bytes(),
            Some(claimed.into_bytes()),
            Vec::new(),
        ),
        "import_too_many_shared_strings",
    );
    let mut many = format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}">"#);
    many.push_str(&"<si/>".repeat(1_000_001));
    many.push_str("</sst>");
    add(
        "1000001 shared strings",
        "bomb.xlsx",
        workbook_with(
            sheet(Some("A1:F2"), &good_rows()).as_bytes(),
            Some(many.into_bytes()),
            Vec::new(),
        ),
        "import_too_many_shared_strings",
    );
    // 100,001 records after the header: the last row is past row 100001.
    let rows: String = (3..=100_002)
        .map(|r| format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#))
        .collect();
    add(
        "100001 records",
        "bomb.xlsx",
        workbook(&sheet(None, &format!("{}{rows}", good_rows()))),
        "import_cell_out_of_range",
    );
    // 15,700 rows with one number in column BL: 15,700 values, but each row is stored with
    // the 63 blanks before it, so 1,004,800 cells.
    let rows: String = (3..15_703)
        .map(|r| format!(r#"<row r="{r}"><c r="BL{r}"><v>1</v></c></row>"#))
        .collect();
    add(
        "15700 rows reaching column BL (1004800 cells)",
        "bomb.xlsx",
        workbook(&sheet(None, &format!("{}{rows}", good_rows()))),
        "import_too_many_cells",
    );
    // One 4000-byte shared string in 9000 cells: 36 MB of text from 4 KB of strings.
    let shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}"><si><t>{}</t></si></sst>"#,
        "x".repeat(4000)
    );
    let rows: String = (3..9003)
        .map(|r| format!(r#"<row r="{r}"><c r="B{r}" t="s"><v>0</v></c></row>"#))
        .collect();
    add(
        "one 4000-byte shared string in 9000 cells",
        "bomb.xlsx",
        workbook_with(
            sheet(None, &format!("{}{rows}", good_rows())).as_bytes(),
            Some(shared.into_bytes()),
            Vec::new(),
        ),
        "import_too_much_text",
    );
    add(
        "a 5000-byte cell",
        "bomb.xlsx",
        workbook(&sheet(
            None,
            &format!(
                r#"{}<row r="3">{}</row>"#,
                good_rows(),
                text_cell("B3", &"x".repeat(5000))
            ),
        )),
        "import_cell_too_long",
    );
    // CSV.
    let mut csv = GOOD_CSV.to_string();
    csv.push_str(&"x\n".repeat(100_000));
    add(
        "CSV with 100001 records",
        "stores.csv",
        csv.into_bytes(),
        "import_too_many_rows",
    );
    let csv = format!(
        "{GOOD_CSV}SH-NEW-002,{},31.2,121.5,100,shanghai-east\n",
        "x".repeat(10_000)
    );
    add(
        "CSV with a 10000-byte field",
        "stores.csv",
        csv.into_bytes(),
        "import_cell_too_long",
    );
    let csv = format!("{GOOD_CSV}{}\n", ",".repeat(64));
    add(
        "CSV with 65 columns",
        "stores.csv",
        csv.into_bytes(),
        "import_cell_out_of_range",
    );
    let csv = format!("{GOOD_CSV}\"{}", "x".repeat(15 * 1024 * 1024));
    add(
        "CSV with an unclosed 15 MiB quote",
        "stores.csv",
        csv.into_bytes(),
        "import_cell_too_long",
    );
    v
}

fn refusal_code(e: &ImportError) -> Option<&'static str> {
    match e {
        ImportError::Limit(l) => Some(l.code()),
        ImportError::Unreadable(_) => Some(UNREADABLE),
        _ => None,
    }
}

fn store_count(data_dir: &Path) -> i64 {
    let c = common::test_db::connect(data_dir);
    c.query_row("SELECT count(*) FROM stores", [], |r| r.get(0))
        .unwrap()
}

// --- in process --------------------------------------------------------------------------------

#[test]
fn every_bomb_is_refused_with_its_limit_and_nothing_imported() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::test_db::store(dir.path());
    store
        .load_reference_json(&std::fs::read_to_string(reference_file()).unwrap(), now_ms())
        .unwrap();
    let before = store.reference_data().unwrap();
    for b in bombs() {
        let r = import_file(&store, b.file, &b.bytes, kind_of(b.file), now_ms());
        let e = r.expect_err(b.name);
        assert_eq!(refusal_code(&e), Some(b.code), "{}: {e}", b.name);
        assert_eq!(store.reference_data().unwrap(), before, "{}", b.name);
    }
    // The files they were built from import: the limits, not the builders, refuse the bombs.
    let report = import_file(&store, "good.xlsx", &good_workbook(), None, now_ms()).unwrap();
    assert_eq!(report.stores, 1);
    let report = import_csv(&store, ImportKind::Stores, GOOD_CSV.as_bytes(), now_ms()).unwrap();
    assert_eq!(report.stores, 1);
}

#[test]
fn limits_are_exact_and_errors_name_the_place() {
    let limits = ImportLimits {
        max_rows: 3,
        max_columns: 6,
        max_cells: 1000,
        max_cell_bytes: 10,
        ..ImportLimits::default()
    };
    // Three records and six columns are in; a fourth record or a seventh column is out.
    let rows = |n: usize, cols: usize| -> String {
        (0..=n)
            .map(|_| vec!["a"; cols].join(","))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let p = parse_csv(ImportKind::Stores, rows(3, 6).as_bytes(), &limits).unwrap();
    assert_eq!((p.rows(), p.max_row_cells()), (4, 6));
    let e = parse_csv(ImportKind::Stores, rows(4, 6).as_bytes(), &limits).unwrap_err();
    assert_eq!(
        e,
        ImportError::Limit(LimitError::TooManyRows {
            sheet: "Stores".into(),
            limit: 3
        })
    );
    let e = parse_csv(ImportKind::Stores, rows(1, 7).as_bytes(), &limits).unwrap_err();
    assert_eq!(
        e,
        ImportError::Limit(LimitError::CellOutOfRange {
            sheet: "Stores".into(),
            cell: "G1".into(),
            max_rows: 3,
            max_columns: 6
        })
    );
    // A field of exactly the limit is in; one byte more is out, named by its cell.
    let csv = format!("a,{}\nb,{}x", "x".repeat(10), "x".repeat(10));
    let e = parse_csv(ImportKind::Stores, csv.as_bytes(), &limits).unwrap_err();
    assert_eq!(
        e,
        ImportError::Limit(LimitError::CellTooLong {
            sheet: "Stores".into(),
            cell: "B2".into(),
            limit: 10
        })
    );
    // Row 4 (three records) is in, row 5 is out; column F is in, G is out.
    let cell = |at: &str| workbook(&sheet(None, &format!(r#"<row><c r="{at}"><v>1</v></c></row>"#)));
    for ok in ["A4", "F1", "F4"] {
        parse_file("x.xlsx", &cell(ok), None, &limits).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for (far, name) in [("A5", "A5"), ("G1", "G1"), ("XFD1048576", "XFD1048576")] {
        let e = parse_file("x.xlsx", &cell(far), None, &limits).unwrap_err();
        assert_eq!(
            e,
            ImportError::Limit(LimitError::CellOutOfRange {
                sheet: "Stores".into(),
                cell: name.into(),
                max_rows: 3,
                max_columns: 6
            })
        );
    }
    // Messages: the CLI's English and the pages' Chinese name the sheet, the cell and the area.
    let e = parse_file("x.xlsx", &cell("Z300000"), None, &ImportLimits::default()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("Stores") && text.contains("Z300000") && text.contains("100001") && text.contains("BL"),
        "{text}"
    );
    let ImportError::Limit(l) = &e else { panic!("{e}") };
    let zh = fieldproof_server::web::i18n::Lang::Zh.message(l.code(), &l.params());
    assert!(zh.contains("工作表 Stores") && zh.contains("Z300000"), "{zh}");
}

// --- the real server ------------------------------------------------------------------------

/// Signed in as head office (the shared sign-in helper), with the import form's token.
struct Importer {
    addr: SocketAddr,
    cookie: String,
    csrf: String,
}

fn sign_in(addr: SocketAddr) -> Importer {
    let session = Session::new(addr, "boss", ADMIN_PW);
    let csrf = session.csrf();
    Importer {
        addr,
        cookie: session.cookie,
        csrf,
    }
}

const BOUNDARY: &str = "fieldproof-import-test-7d3f0c";

/// What the tests' CSV files hold (the import never takes it from the name: the form says it).
fn kind_of(file_name: &str) -> Option<ImportKind> {
    file_name.ends_with(".csv").then_some(ImportKind::Stores)
}

fn multipart(csrf: &str, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let kind = kind_of(file_name).map_or("", |k| k.as_str());
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl Importer {
    fn import(&self, file_name: &str, bytes: &[u8], lang: &str) -> Resp {
        http(
            self.addr,
            "POST",
            "/app/import",
            &[
                h("Cookie", &self.cookie),
                h(
                    "Content-Type",
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                ),
                h("Accept-Language", lang),
            ],
            &multipart(&self.csrf, file_name, bytes),
        )
    }
}

fn data_code(html: &str) -> Option<String> {
    let start = html.find("data-code=\"")? + "data-code=\"".len();
    Some(html[start..start + html[start..].find('"')?].to_string())
}

fn server_with_head_office() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    admin_ok(dir.path(), &["init"]);
    admin_ok(
        dir.path(),
        &["load-reference", reference_file().to_str().unwrap()],
    );
    admin_ok(
        dir.path(),
        &[
            "create-user",
            "--id",
            "boss",
            "--name",
            "Boss",
            "--role",
            "admin",
            "--password",
            ADMIN_PW,
        ],
    );
    let server = Server::start(dir.path());
    (dir, server)
}

#[test]
fn the_server_refuses_every_bomb_in_bounded_memory_and_stays_up() {
    let (dir, server) = server_with_head_office();
    let session = sign_in(server.addr);
    let stores = store_count(dir.path());
    let baseline = server.proc_kib("VmHWM");
    for (i, b) in bombs().iter().enumerate() {
        // Both languages, alternately: the refusal is the code's text in the reader's language.
        let (lang, word) = match (i % 2 == 0, b.code == UNREADABLE) {
            (true, false) => ("en-US", "Import refused"),
            (false, false) => ("zh-CN", "导入被拒绝"),
            (true, true) => ("en-US", "could not be read"),
            (false, true) => ("zh-CN", "无法读取"),
        };
        let r = session.import(b.file, &b.bytes, lang);
        assert_eq!(r.status, 422, "{}: {}", b.name, r.text());
        let html = r.text();
        // An unreadable workbook's page carries its own code (import_bad_workbook).
        let code = match data_code(&html) {
            Some(c) if c != "import_bad_workbook" => c,
            _ => UNREADABLE.to_string(),
        };
        assert_eq!(code, b.code, "{}", b.name);
        assert!(html.contains(word), "{}: {html}", b.name);
        let health = http(server.addr, "GET", "/healthz", &[], b"");
        assert_eq!(health.status, 200, "{}", b.name);
        assert_eq!(store_count(dir.path()), stores, "{}: nothing imported", b.name);
    }
    let peak = server.proc_kib("VmHWM");
    println!(
        "server peak memory (VmHWM): {} KiB at start, {} KiB after every bomb (bound {} KiB)",
        baseline, peak, SERVER_PEAK_BOUND_KIB
    );
    assert!(peak < SERVER_PEAK_BOUND_KIB, "VmHWM {peak} KiB");
    // And the server still imports.
    let r = session.import("good.xlsx", &good_workbook(), "en");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(store_count(dir.path()), stores + 1);
}

#[test]
fn admin_import_of_a_bomb_exits_with_the_refusal_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    admin_ok(dir.path(), &["init"]);
    admin_ok(
        dir.path(),
        &["load-reference", reference_file().to_str().unwrap()],
    );
    let stores = store_count(dir.path());
    for b in bombs()
        .iter()
        .filter(|b| b.name.starts_with("far cell") || b.name.contains("uniqueCount"))
    {
        let file = dir.path().join(b.file);
        std::fs::write(&file, &b.bytes).unwrap();
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "ulimit -v {ADMIN_ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\""
            ))
            .arg(common::BIN)
            .env("FIELDPROOF_DATABASE", common::test_db::database_env(dir.path()))
            .args(["admin", "import"])
            .arg(&file)
            .args(kind_of(b.file).map(|k| format!("--kind={}", k.as_str())))
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // 1, not 134 (abort) or a signal; the refusal in English, as the pages' en rendering.
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", b.name);
        let refusal = parse_file(b.file, &b.bytes, kind_of(b.file), &ImportLimits::default()).unwrap_err();
        assert!(stderr.contains(&refusal.to_string()), "{}: {stderr}", b.name);
        assert_eq!(store_count(dir.path()), stores);
    }
    // A file over the size limit is refused without being read whole.
    let big = dir.path().join("stores-big.csv");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(17 * 1024 * 1024)
        .unwrap();
    let out = admin(dir.path(), &["import", big.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("larger than 16 MiB"), "{stderr}");
}

#[test]
fn an_upload_over_the_limit_is_413_in_the_readers_language() {
    let (_dir, server) = server_with_head_office();
    let session = sign_in(server.addr);
    let big = vec![b'x'; 17 * 1024 * 1024];
    for (lang, text) in [("en", "larger than 16 MiB"), ("zh-CN", "文件超过 16 MiB")] {
        let r = session.import("stores.csv", &big, lang);
        assert_eq!(r.status, 413, "{}", r.text());
        assert_eq!(data_code(&r.text()).as_deref(), Some("import_file_too_large"));
        assert!(r.text().contains(text), "{}", r.text());
    }
    // Without a Content-Length (chunked), the body is cut off at the limit while it is read.
    let body = multipart(&session.csrf, "stores.csv", &big);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /app/import HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nConnection: close\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.addr, session.cookie
    );
    s.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(256 * 1024) {
        // The server may answer and close before the end: keep what it said.
        if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_err()
            || s.write_all(chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.starts_with("HTTP/1.1 413"),
        "{}",
        &text[..text.len().min(300)]
    );
    assert!(text.contains("import_file_too_large"));
    assert_eq!(http(server.addr, "GET", "/healthz", &[], b"").status, 200);
}

// --- a stalled upload, in process (a body timeout of one second) --------------------------------

#[test]
fn a_stalled_or_trickling_upload_ends_with_408() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        import: ImportLimits {
            body_timeout: Duration::from_secs(1),
            ..ImportLimits::default()
        },
        ..Limits::default()
    };
    let store = std::sync::Arc::new(common::test_db::store_with(dir.path(), limits));
    fieldproof_server::web::auth::create_user(&store, "boss", "Boss", "admin", None, ADMIN_PW, now_ms())
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(fieldproof_server::serve_on(
        listener,
        store,
        std::future::pending(),
    ));
    let session = sign_in(addr);
    let body = multipart(&session.csrf, "stores.csv", GOOD_CSV.as_bytes());
    for trickle in [false, true] {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "POST /app/import HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nAccept-Language: zh-CN\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
            session.cookie,
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let started = Instant::now();
        // All but the last bytes, then nothing (stalled) or a byte every 100 ms (trickling).
        let (most, _) = body.split_at(body.len() - 40);
        if trickle {
            let t = s.try_clone().unwrap();
            let most = most.to_vec();
            std::thread::spawn(move || {
                let mut t = t;
                for b in most {
                    if t.write_all(&[b]).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        } else {
            s.write_all(most).unwrap();
            // Meanwhile the stalled upload holds the import: another one is turned away.
            std::thread::sleep(Duration::from_millis(200));
            let r = http(
                addr,
                "POST",
                "/app/import",
                &[
                    h("Cookie", &session.cookie),
                    h(
                        "Content-Type",
                        &format!("multipart/form-data; boundary={BOUNDARY}"),
                    ),
                ],
                &body,
            );
            assert_eq!(r.status, 409, "{}", r.text());
            assert_eq!(data_code(&r.text()).as_deref(), Some("import_busy"));
        }
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        let waited = started.elapsed();
        assert!(text.starts_with("HTTP/1.1 408"), "trickle={trickle}: {text}");
        assert!(
            text.contains("import_body_timeout") && text.contains("1 秒"),
            "{text}"
        );
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(10),
            "{waited:?}"
        );
    }
    // The same upload, sent whole, is imported (the timeout, not the body, ended the others).
    let r = http(
        addr,
        "POST",
        "/app/import",
        &[
            h("Cookie", &session.cookie),
            h(
                "Content-Type",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
        ],
        &body,
    );
    assert!(r.status == 200 || r.status == 422, "{}", r.text());
    assert!(r.text().contains("id=\"import-result\""));
}

// --- the fuzz target's seeds ---------------------------------------------------------------------

/// A workbook as Excel-like writers make it (shared strings, styles, a date cell), sheets
/// Stores and Plans.
fn written_workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let ws = book.add_worksheet();
    ws.set_name("Stores").unwrap();
    for (c, v) in [
        "code",
        "name",
        "latitude",
        "longitude",
        "geofence_radius_m",
        "territory",
        "geofence_mode",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *v).unwrap();
    }
    for (r, code) in [(1, "SH-NEW-001"), (2, "SH-NEW-002")] {
        ws.write_string(r, 0, code).unwrap();
        ws.write_string(r, 1, "门店").unwrap();
        ws.write_number(r, 2, 31.2).unwrap();
        ws.write_number(r, 3, 121.5).unwrap();
        ws.write_number(r, 4, 100).unwrap();
        ws.write_string(r, 5, "shanghai-east").unwrap();
        ws.write_string(r, 6, "flag").unwrap();
    }
    let ws = book.add_worksheet();
    ws.set_name("Plans").unwrap();
    for (c, v) in ["rep_id", "store_code", "date", "template_id", "sequence"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *v).unwrap();
    }
    ws.write_string(1, 0, "rep-li").unwrap();
    ws.write_string(1, 1, "SH-NEW-001").unwrap();
    ws.write_number_with_format(1, 2, 46_357.0, &date).unwrap();
    ws.write_string(1, 3, "tpl-store-check").unwrap();
    ws.write_boolean(1, 4, false).unwrap();
    book.save_to_buffer().unwrap()
}

fn fuzz_seed(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds")
            .join(name),
    )
    .unwrap()
}

/// The committed seeds are the files these builders make (regenerate them with
/// `FIELDPROOF_WRITE_FUZZ_SEEDS=1`; `written.xlsx` carries its writer's timestamp, so it is
/// written but not compared), and each reads as it should: the valid ones within the
/// limits, the hostile ones refused with their limit.
#[test]
fn the_fuzz_seeds_are_current_and_read_as_they_should() {
    let far = workbook(&sheet(
        Some("A1:F2"),
        &format!(
            r#"{}<row r="300000"><c r="Z300000"><v>1</v></c></row>"#,
            good_rows()
        ),
    ));
    let claimed = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="1" uniqueCount="4000000000"><si><t>a</t></si></sst>"#
    );
    let rows = format!(r#"{}<row r="3"><c r="A3" t="s"><v>0</v></c></row>"#, good_rows());
    let seeds: [(&str, Vec<u8>, Option<&str>); 6] = [
        ("valid.xlsx", good_workbook(), None),
        ("written.xlsx", written_workbook(), None),
        ("valid.csv", GOOD_CSV.as_bytes().to_vec(), None),
        ("far-cell.xlsx", far, Some("import_cell_out_of_range")),
        (
            "dimension-lie.xlsx",
            workbook(&sheet(Some("A1:XFD1048576"), &good_rows())),
            Some("import_sheet_too_large"),
        ),
        (
            "shared-strings.xlsx",
            workbook_with(
                sheet(None, &rows).as_bytes(),
                Some(claimed.into_bytes()),
                Vec::new(),
            ),
            Some("import_too_many_shared_strings"),
        ),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    for (name, bytes, refusal) in seeds {
        if std::env::var_os("FIELDPROOF_WRITE_FUZZ_SEEDS").is_some() {
            std::fs::write(dir.join(name), &bytes).unwrap();
        }
        // rust_xlsxwriter stamps the time into its files: that seed is only read, not compared.
        let bytes = if name == "written.xlsx" {
            fuzz_seed(name)
        } else {
            bytes
        };
        assert!(
            fuzz_seed(name) == bytes,
            "{name} is stale: FIELDPROOF_WRITE_FUZZ_SEEDS=1"
        );
        let file = if name.ends_with(".csv") {
            "stores.csv"
        } else {
            name
        };
        match (
            parse_file(file, &bytes, kind_of(file), &ImportLimits::default()),
            refusal,
        ) {
            (Ok(p), None) => assert!(p.rows() >= 2, "{name}: {p:?}"),
            (Err(e), Some(code)) => assert_eq!(refusal_code(&e), Some(code), "{name}: {e}"),
            (r, _) => panic!("{name}: {r:?}"),
        }
    }
}

/// A refused file lists every problem by sheet, row and column, each said in the reader's
/// language (a code and its parameters, not the parser's English).
#[test]
fn a_refused_files_problems_read_in_the_readers_language() {
    let (_dir, s) = server_with_head_office();
    let importer = sign_in(s.addr);
    let bad = "code,name,latitude,longitude,geofence_radius_m,territory\n\
               SH-X-1,店一,abc,121.5,100,shanghai-east\n\
               SH-X-1,店二,31.2,500,100,nowhere\n";
    let zh = importer.import("stores.csv", bad.as_bytes(), "zh-CN");
    assert_eq!(zh.status, 422);
    let html = zh.text();
    for want in [
        "“abc”不是数字。",
        "500 超出范围（-180 至 180）。",
        "“SH-X-1”重复（第 2 行也有）。",
        "没有区域“nowhere”",
    ] {
        assert!(html.contains(want), "{want}: {html}");
    }
    assert!(
        !html.contains("is not a number") && !html.contains("out of range"),
        "{html}"
    );
    let en = importer.import("stores.csv", bad.as_bytes(), "en").text();
    for want in [
        "&quot;abc&quot; is not a number.",
        "500 is out of range (-180 to 180).",
        "&quot;SH-X-1&quot; appears twice (also on row 2).",
    ] {
        assert!(en.contains(want), "{want}: {en}");
    }
}
