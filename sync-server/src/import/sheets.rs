//! What an import reads: the kinds of sheet, their names and column headers in English and
//! Chinese, what each column means, and the template workbook built from the same table (so
//! the template, the notes sheet, docs/HEAD-OFFICE.md and the reader cannot disagree).

/// Which kind of data a sheet (a CSV file) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportKind {
    // In the order they are checked: a later sheet may name what an earlier one holds.
    Territories,
    Supervisors,
    Teams,
    Reps,
    Stores,
    Products,
    Plans,
}

/// A sheet's column: its key (the English header in snake_case is accepted too), its headers,
/// whether a row must give it, an example value and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
    pub required: bool,
    pub example: &'static str,
    pub note_en: &'static str,
    pub note_zh: &'static str,
}

const fn col(
    key: &'static str,
    en: &'static str,
    zh: &'static str,
    required: bool,
    example: &'static str,
    note_en: &'static str,
    note_zh: &'static str,
) -> Column {
    Column {
        key,
        en,
        zh,
        required,
        example,
        note_en,
        note_zh,
    }
}

const ID_NOTE_EN: &str = "Optional. The record's id in the system; leave blank to match by code.";
const ID_NOTE_ZH: &str = "选填。系统内编号；留空则按编码匹配。";

const TERRITORIES: &[Column] = &[
    col(
        "code",
        "Territory code",
        "区域代码",
        true,
        "shanghai-east",
        "Unique, no spaces. Reps and stores name their territory by this code.",
        "唯一，不含空格。业务员和门店用此代码指定区域。",
    ),
    col(
        "name",
        "Territory name",
        "区域名称",
        true,
        "上海东区",
        "What people call it.",
        "区域的显示名称。",
    ),
];

const SUPERVISORS: &[Column] = &[
    col(
        "id",
        "Supervisor ID",
        "督导编号",
        true,
        "sup-wang",
        "Unique among reps and supervisors, no spaces; used for enrolment and on every record.",
        "在业务员和督导中唯一，不含空格；用于激活手机并记录在每条数据上。",
    ),
    col("name", "Name", "姓名", true, "王磊", "Full name.", "姓名。"),
    col(
        "phone",
        "Phone",
        "电话",
        false,
        "138 0013 8000",
        "Optional. Digits, spaces, + - ( ).",
        "选填。数字、空格、+ - ( )。",
    ),
    col(
        "territory",
        "Territory",
        "区域",
        false,
        "shanghai-east",
        "Optional. A territory code (the Territories sheet or one the system has).",
        "选填。区域代码（区域表中或系统已有的）。",
    ),
];

const TEAMS: &[Column] = &[
    col(
        "code",
        "Team code",
        "团队代码",
        true,
        "team-east",
        "Unique, no spaces. Reps name their team by this code.",
        "唯一，不含空格。业务员用此代码指定团队。",
    ),
    col(
        "name",
        "Team name",
        "团队名称",
        true,
        "东区一组",
        "What people call it.",
        "团队的显示名称。",
    ),
    col(
        "supervisor_id",
        "Supervisor ID",
        "督导编号",
        true,
        "sup-wang",
        "The supervisor who leads the team (Supervisors sheet or the system). One team per supervisor.",
        "带领该团队的督导（督导表中或系统已有的）。每名督导只带一个团队。",
    ),
];

const REPS: &[Column] = &[
    col(
        "id",
        "Rep ID",
        "业务员编号",
        true,
        "rep-li",
        "Unique among reps and supervisors, no spaces; used for enrolment and on every record.",
        "在业务员和督导中唯一，不含空格；用于激活手机并记录在每条数据上。",
    ),
    col("name", "Name", "姓名", true, "李娜", "Full name.", "姓名。"),
    col(
        "phone",
        "Phone",
        "电话",
        false,
        "139 0000 0001",
        "Optional. Digits, spaces, + - ( ).",
        "选填。数字、空格、+ - ( )。",
    ),
    col(
        "territory",
        "Territory",
        "区域",
        true,
        "shanghai-east",
        "A territory code. The rep's phone gets the stores of this territory.",
        "区域代码。业务员的手机会收到该区域的门店。",
    ),
    col(
        "team",
        "Team",
        "团队",
        false,
        "team-east",
        "Optional. A team code; the rep reports to its supervisor.",
        "选填。团队代码；业务员归该团队的督导管理。",
    ),
];

const STORES: &[Column] = &[
    col(
        "code",
        "Store code",
        "门店编码",
        true,
        "SH-E-001",
        "Unique, no spaces. Re-importing a code updates that store.",
        "唯一，不含空格。再次导入同一编码会更新该门店。",
    ),
    col(
        "name",
        "Store name",
        "门店名称",
        true,
        "联华超市（浦东南路店）",
        "",
        "",
    ),
    col(
        "address",
        "Address",
        "地址",
        false,
        "上海市浦东新区浦东南路1000号",
        "Optional.",
        "选填。",
    ),
    col(
        "latitude",
        "Latitude",
        "纬度",
        true,
        "31.2304",
        "-90 to 90.",
        "-90 至 90。",
    ),
    col(
        "longitude",
        "Longitude",
        "经度",
        true,
        "121.52",
        "-180 to 180.",
        "-180 至 180。",
    ),
    col(
        "geofence_radius_m",
        "Geofence radius (m)",
        "围栏半径（米）",
        true,
        "150",
        "1 to 50000 metres: how far from the store a check-in counts as at the store.",
        "1 至 50000 米：离门店多远以内签到算作在店。",
    ),
    col(
        "territory",
        "Territory",
        "区域",
        true,
        "shanghai-east",
        "A territory code (the Territories sheet or one the system has).",
        "区域代码（区域表中或系统已有的）。",
    ),
    col(
        "geofence_mode",
        "Geofence mode",
        "围栏模式",
        false,
        "flag",
        "Optional: off (no check), flag (check in, flag the visit), block (refuse the check-in). Also 关闭 / 标记 / 禁止.",
        "选填：关闭（不检查）、标记（可签到，标记异常）、禁止（不允许签到）。也可写 off / flag / block。",
    ),
    col("id", "ID", "系统编号", false, "", ID_NOTE_EN, ID_NOTE_ZH),
];

const PRODUCTS: &[Column] = &[
    col(
        "sku",
        "SKU",
        "产品编码",
        true,
        "6901234567890",
        "Unique. Re-importing a SKU updates that product.",
        "唯一。再次导入同一编码会更新该产品。",
    ),
    col("name", "Product name", "产品名称", true, "冰红茶 500ml", "", ""),
    col("brand", "Brand", "品牌", true, "康师傅", "", ""),
    col(
        "is_competitor",
        "Competitor",
        "是否竞品",
        false,
        "否",
        "Optional: yes/no, true/false, 1/0, 是/否 (default no).",
        "选填：是/否、yes/no、true/false、1/0（默认否）。",
    ),
    col(
        "reference_price",
        "Reference price (yuan)",
        "参考价（元）",
        false,
        "3.5",
        "Optional. Yuan, at most 2 decimals.",
        "选填。单位元，最多两位小数。",
    ),
    col("id", "ID", "系统编号", false, "", ID_NOTE_EN, ID_NOTE_ZH),
];

const PLANS: &[Column] = &[
    col(
        "rep_id",
        "Rep ID",
        "业务员编号",
        true,
        "rep-li",
        "A rep (the Reps sheet or the system).",
        "业务员编号（业务员表中或系统已有的）。",
    ),
    col(
        "store_code",
        "Store code",
        "门店编码",
        true,
        "SH-E-001",
        "A store (the Stores sheet or the system).",
        "门店编码（门店表中或系统已有的）。",
    ),
    col(
        "date",
        "Date",
        "日期",
        true,
        "2026-12-01",
        "YYYY-MM-DD or a date cell.",
        "YYYY-MM-DD 或日期格式的单元格。",
    ),
    col(
        "template_id",
        "Template ID",
        "模板编号",
        true,
        "tpl-store-check",
        "A store-check template the system has.",
        "系统中已有的巡店模板编号。",
    ),
    col(
        "sequence",
        "Sequence",
        "顺序",
        false,
        "1",
        "Optional. The visit's place in the day (default 0).",
        "选填。当天拜访的顺序（默认 0）。",
    ),
    col(
        "window_start",
        "Window start",
        "开始时间",
        false,
        "09:00",
        "Optional. Local time HH:MM from which the visit is planned (with Window end).",
        "选填。计划拜访时段的开始时间 HH:MM（当地时间，与结束时间一起填）。",
    ),
    col(
        "window_end",
        "Window end",
        "结束时间",
        false,
        "11:00",
        "Optional. Local time HH:MM by which the visit is planned; a check-in after it counts as late.",
        "选填。计划拜访时段的结束时间 HH:MM；晚于此时间签到记为迟到。",
    ),
    col(
        "id",
        "ID",
        "系统编号",
        false,
        "",
        "Optional. Blank: one plan per rep, day and store.",
        "选填。留空时每个业务员每天每家门店一条计划。",
    ),
];

impl ImportKind {
    pub const ALL: [ImportKind; 7] = [
        ImportKind::Territories,
        ImportKind::Supervisors,
        ImportKind::Teams,
        ImportKind::Reps,
        ImportKind::Stores,
        ImportKind::Products,
        ImportKind::Plans,
    ];

    /// The form's and the CLI's value: `territories`, `supervisors`, `teams`, `reps`,
    /// `stores`, `products`, `plans`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Territories => "territories",
            ImportKind::Supervisors => "supervisors",
            ImportKind::Teams => "teams",
            ImportKind::Reps => "reps",
            ImportKind::Stores => "stores",
            ImportKind::Products => "products",
            ImportKind::Plans => "plans",
        }
    }

    /// The English sheet name (problems of a CSV are reported under it).
    pub fn sheet_name(self) -> &'static str {
        self.sheet_name_in(false)
    }

    /// The sheet's name in Chinese (`zh`) or English.
    pub fn sheet_name_in(self, zh: bool) -> &'static str {
        match (self, zh) {
            (ImportKind::Territories, false) => "Territories",
            (ImportKind::Territories, true) => "区域",
            (ImportKind::Supervisors, false) => "Supervisors",
            (ImportKind::Supervisors, true) => "督导",
            (ImportKind::Teams, false) => "Teams",
            (ImportKind::Teams, true) => "团队",
            (ImportKind::Reps, false) => "Reps",
            (ImportKind::Reps, true) => "业务员",
            (ImportKind::Stores, false) => "Stores",
            (ImportKind::Stores, true) => "门店",
            (ImportKind::Products, false) => "Products",
            (ImportKind::Products, true) => "产品",
            (ImportKind::Plans, false) => "Plans",
            (ImportKind::Plans, true) => "计划",
        }
    }

    /// A sheet name or a form choice, English (any case, singular too) or Chinese.
    pub fn parse(s: &str) -> Option<ImportKind> {
        let s = s.trim().to_lowercase();
        let s = s.as_str();
        ImportKind::ALL
            .into_iter()
            .find(|k| s == k.as_str() || s == k.singular() || s == k.sheet_name_in(true))
    }

    fn singular(self) -> &'static str {
        match self {
            ImportKind::Territories => "territory",
            ImportKind::Supervisors => "supervisor",
            ImportKind::Teams => "team",
            ImportKind::Reps => "rep",
            ImportKind::Stores => "store",
            ImportKind::Products => "product",
            ImportKind::Plans => "plan",
        }
    }

    /// Whether the name is Chinese (problems then name columns by their Chinese headers).
    pub fn is_zh_name(s: &str) -> bool {
        ImportKind::ALL
            .into_iter()
            .any(|k| s.trim() == k.sheet_name_in(true))
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            ImportKind::Territories => TERRITORIES,
            ImportKind::Supervisors => SUPERVISORS,
            ImportKind::Teams => TEAMS,
            ImportKind::Reps => REPS,
            ImportKind::Stores => STORES,
            ImportKind::Products => PRODUCTS,
            ImportKind::Plans => PLANS,
        }
    }

    /// The column a header names: its key, English or Chinese header (case and spaces around
    /// ignored).
    pub fn column(self, header: &str) -> Option<&'static Column> {
        let h = header.trim().to_lowercase();
        self.columns()
            .iter()
            .find(|c| h == c.key || h == c.en.to_lowercase() || h == c.zh)
    }

    /// What the sheet holds, for the notes sheet and the docs.
    pub fn note(self, zh: bool) -> &'static str {
        match (self, zh) {
            (ImportKind::Territories, false) => "Territories: each rep and store belongs to one.",
            (ImportKind::Territories, true) => "区域：每个业务员和门店属于一个区域。",
            (ImportKind::Supervisors, false) => {
                "Supervisors. A new supervisor leads a new team coded by their ID unless the Teams sheet gives them one."
            }
            (ImportKind::Supervisors, true) => {
                "督导。新督导若未在团队表中指定团队，系统会以其编号建立一个团队。"
            }
            (ImportKind::Teams, false) => "Teams: a name and the supervisor who leads it.",
            (ImportKind::Teams, true) => "团队：名称及带领该团队的督导。",
            (ImportKind::Reps, false) => "Reps (sales representatives): their territory and team.",
            (ImportKind::Reps, true) => "业务员：所属区域和团队。",
            (ImportKind::Stores, false) => "Stores with their location and geofence.",
            (ImportKind::Stores, true) => "门店及其位置和地理围栏。",
            (ImportKind::Products, false) => "Products, own and competitors'.",
            (ImportKind::Products, true) => "产品，包括本品和竞品。",
            (ImportKind::Plans, false) => "Planned visits: which rep visits which store on which day.",
            (ImportKind::Plans, true) => "拜访计划：哪个业务员哪天拜访哪家门店。",
        }
    }
}

impl Column {
    pub fn header(&self, zh: bool) -> &'static str {
        if zh { self.zh } else { self.en }
    }
}

/// The template workbook: one sheet per kind with its headers and an example row, and a
/// notes sheet (说明 / Notes) describing every sheet and column, in Chinese (`zh`) or English.
/// The example rows import as they are into a system holding the demo's templates.
pub fn template_xlsx(zh: bool) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    {
        let notes = book.add_worksheet();
        notes.set_name(if zh { "说明" } else { "Notes" })?;
        let heads = if zh {
            ["工作表", "列", "必填", "说明"]
        } else {
            ["Sheet", "Column", "Required", "Meaning"]
        };
        for (c, h) in heads.iter().enumerate() {
            notes.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        let intro = if zh {
            "每个工作表一类数据，工作表名称决定数据类型（中文或英文均可）；第 1 行为表头（中文或英文均可，顺序不限）。整个文件一起检查：有任何问题则全部不导入，并列出每个问题所在的工作表、行和列。不需要的工作表可以删除。"
        } else {
            "One kind of data per sheet, told by the sheet's name (English or Chinese); row 1 is the header (English or Chinese, any order). The whole file is checked together: if anything is wrong nothing is imported, and every problem is listed by sheet, row and column. Delete the sheets you do not need."
        };
        notes.write_string_with_format(1, 0, intro, &wrap)?;
        let mut row = 3u32;
        for kind in ImportKind::ALL {
            notes.write_string_with_format(row, 0, kind.sheet_name_in(zh), &bold)?;
            notes.write_string(row, 3, kind.note(zh))?;
            row += 1;
            for c in kind.columns() {
                notes.write_string(row, 1, c.header(zh))?;
                let req = match (c.required, zh) {
                    (true, true) => "是",
                    (false, true) => "否",
                    (true, false) => "yes",
                    (false, false) => "no",
                };
                notes.write_string(row, 2, req)?;
                notes.write_string(row, 3, if zh { c.note_zh } else { c.note_en })?;
                row += 1;
            }
            row += 1;
        }
        notes.set_column_width(0, 14)?;
        notes.set_column_width(1, 22)?;
        notes.set_column_width(2, 8)?;
        notes.set_column_width(3, 90)?;
    }
    for kind in ImportKind::ALL {
        let sheet = book.add_worksheet();
        sheet.set_name(kind.sheet_name_in(zh))?;
        for (c, column) in kind.columns().iter().enumerate() {
            let c = c as u16;
            sheet.write_string_with_format(0, c, column.header(zh), &bold)?;
            if !column.example.is_empty() {
                // Numbers as numbers, so the example reads as Excel users would type it.
                match column.example.parse::<f64>() {
                    Ok(n) if column.key != "sku" && column.key != "phone" => sheet.write_number(1, c, n)?,
                    _ => sheet.write_string(1, c, column.example)?,
                };
            }
            let width = column
                .header(zh)
                .chars()
                .count()
                .max(column.example.chars().count())
                + 4;
            sheet.set_column_width(c, width.min(40) as f64)?;
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sheet_names_parse_in_both_languages_and_headers_are_unique_per_sheet() {
        for k in ImportKind::ALL {
            assert_eq!(ImportKind::parse(k.as_str()), Some(k));
            assert_eq!(ImportKind::parse(&k.sheet_name().to_uppercase()), Some(k));
            assert_eq!(ImportKind::parse(k.sheet_name_in(true)), Some(k));
            let mut seen = std::collections::HashSet::new();
            for c in k.columns() {
                for h in [c.key.to_string(), c.en.to_lowercase(), c.zh.to_string()] {
                    assert_eq!(k.column(&h).map(|c| c.key), Some(c.key), "{k:?} {h}");
                }
                assert!(
                    seen.insert(c.en.to_lowercase()) && seen.insert(c.zh.to_string()),
                    "{k:?}"
                );
            }
        }
        assert_eq!(ImportKind::parse("rep"), Some(ImportKind::Reps));
        assert_eq!(ImportKind::parse("territory"), Some(ImportKind::Territories));
        assert_eq!(ImportKind::parse("Sheet1"), None);
    }
}
