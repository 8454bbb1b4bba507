//! What an import reads: the kinds of sheet, their names and column headers in English and
//! Chinese, and what each column means. The server's template workbook is built from the same
//! table (so the template, its notes sheet, docs/HEAD-OFFICE.md and the reader cannot disagree).

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
    // Customers and leads (issue 15): imported on their own (never with the sheets above),
    // customers before the activities that name them.
    Customers,
    Activities,
    Leads,
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

const PHONES_NOTE_EN: &str = "Optional. One or more numbers, separated by ; or 、. A phone or the company is needed to find duplicates.";
const PHONES_NOTE_ZH: &str = "选填。可填多个号码，用 ; 或 、 分隔。电话和公司名称至少填一项，用于查重。";
const REGION_NOTE_EN: &str =
    "Optional. A territory code the system has: where the customer goes when released.";
const REGION_NOTE_ZH: &str = "选填。系统中已有的区域代码：客户被释放时进入该区域的公海。";
const BUDGET_NOTE_EN: &str = "Optional. Yuan, at most 2 decimals.";
const BUDGET_NOTE_ZH: &str = "选填。单位元，最多两位小数。";

const CUSTOMERS: &[Column] = &[
    col(
        "name",
        "Customer name",
        "客户名称",
        true,
        "张伟",
        "Who the rep deals with.",
        "业务员对接的客户。",
    ),
    col(
        "company",
        "Company",
        "公司名称",
        false,
        "上海启明科技有限公司",
        "Optional. Names that differ only in legal form or punctuation are one company (duplicates).",
        "选填。仅公司类型或标点不同的名称视为同一公司（查重）。",
    ),
    col(
        "phone",
        "Phone",
        "电话",
        false,
        "138 0013 8000",
        PHONES_NOTE_EN,
        PHONES_NOTE_ZH,
    ),
    col(
        "industry",
        "Industry",
        "行业",
        false,
        "零售",
        "Optional.",
        "选填。",
    ),
    col(
        "region",
        "Territory",
        "区域",
        false,
        "shanghai-east",
        REGION_NOTE_EN,
        REGION_NOTE_ZH,
    ),
    col(
        "budget",
        "Budget (yuan)",
        "预算（元）",
        false,
        "50000",
        BUDGET_NOTE_EN,
        BUDGET_NOTE_ZH,
    ),
    col(
        "owner",
        "Owner (rep ID)",
        "负责人编号",
        false,
        "rep-li",
        "Optional. The rep who owns the customer; blank: the customer goes to the pool (公海).",
        "选填。负责该客户的业务员编号；留空则进入公海。",
    ),
    col(
        "stage",
        "Stage",
        "阶段",
        false,
        "意向初探",
        "Optional. A stage of the pipeline settings, by its name or key (default: the first).",
        "选填。销售阶段设置中的阶段名称或代码（默认第一个阶段）。",
    ),
    col(
        "store_code",
        "Store code",
        "门店编码",
        false,
        "",
        "Optional. The customer's store, if it is one the system has.",
        "选填。客户对应的门店（系统中已有的门店编码）。",
    ),
    col(
        "id",
        "ID",
        "系统编号",
        false,
        "",
        "Optional. Blank: the system gives one.",
        "选填。留空则由系统生成。",
    ),
];

const ACTIVITIES: &[Column] = &[
    col(
        "customer",
        "Customer",
        "客户",
        true,
        "138 0013 8000",
        "The customer's phone, company name or system ID (the Customers sheet or the system).",
        "客户的电话、公司名称或系统编号（客户表中或系统已有的）。",
    ),
    col(
        "kind",
        "Type",
        "类型",
        true,
        "采购",
        "purchase, trial (new-product trial) or event (event participation); also 采购 / 试用 / 活动.",
        "采购、试用（新品试用）或活动（活动参与）；也可写 purchase / trial / event。",
    ),
    col(
        "date",
        "Date",
        "日期",
        true,
        "2026-11-20",
        "YYYY-MM-DD or a date cell.",
        "YYYY-MM-DD 或日期格式的单元格。",
    ),
    col("note", "Note", "备注", false, "", "Optional.", "选填。"),
];

const LEADS: &[Column] = &[
    col(
        "name",
        "Lead name",
        "线索名称",
        true,
        "王芳",
        "The person or business to contact.",
        "需要联系的人或企业。",
    ),
    col(
        "company",
        "Company",
        "公司名称",
        false,
        "杭州云帆贸易有限公司",
        "Optional. Used to find duplicates, like the phone.",
        "选填。与电话一样用于查重。",
    ),
    col(
        "phone",
        "Phone",
        "电话",
        false,
        "139 0000 1234",
        PHONES_NOTE_EN,
        PHONES_NOTE_ZH,
    ),
    col(
        "industry",
        "Industry",
        "行业",
        false,
        "餐饮",
        "Optional. Routing rules may match on it.",
        "选填。分配规则可按行业匹配。",
    ),
    col(
        "region",
        "Territory",
        "区域",
        false,
        "shanghai-east",
        "Optional. A territory code the system has; routing rules may match on it.",
        "选填。系统中已有的区域代码；分配规则可按区域匹配。",
    ),
    col(
        "budget",
        "Budget (yuan)",
        "预算（元）",
        false,
        "20000",
        BUDGET_NOTE_EN,
        BUDGET_NOTE_ZH,
    ),
    col(
        "source",
        "Source",
        "来源",
        false,
        "展会",
        "Optional. Where the lead came from.",
        "选填。线索来源。",
    ),
    col(
        "id",
        "ID",
        "系统编号",
        false,
        "",
        "Optional. Blank: the system gives one.",
        "选填。留空则由系统生成。",
    ),
];

impl ImportKind {
    pub const ALL: [ImportKind; 10] = [
        ImportKind::Territories,
        ImportKind::Supervisors,
        ImportKind::Teams,
        ImportKind::Reps,
        ImportKind::Stores,
        ImportKind::Products,
        ImportKind::Plans,
        ImportKind::Customers,
        ImportKind::Activities,
        ImportKind::Leads,
    ];

    /// The reference data: territories to plans (the first template workbook).
    pub const REFERENCE: [ImportKind; 7] = [
        ImportKind::Territories,
        ImportKind::Supervisors,
        ImportKind::Teams,
        ImportKind::Reps,
        ImportKind::Stores,
        ImportKind::Products,
        ImportKind::Plans,
    ];

    /// Customers and leads (the second template workbook): a file holds these or the
    /// reference data, not both.
    pub const PIPELINE: [ImportKind; 3] = [ImportKind::Customers, ImportKind::Activities, ImportKind::Leads];

    /// Whether this is a customers-and-leads kind.
    pub fn is_pipeline(self) -> bool {
        ImportKind::PIPELINE.contains(&self)
    }

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
            ImportKind::Customers => "customers",
            ImportKind::Activities => "activities",
            ImportKind::Leads => "leads",
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
            (ImportKind::Customers, false) => "Customers",
            (ImportKind::Customers, true) => "客户",
            (ImportKind::Activities, false) => "Activities",
            (ImportKind::Activities, true) => "客户活动",
            (ImportKind::Leads, false) => "Leads",
            (ImportKind::Leads, true) => "线索",
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
            ImportKind::Customers => "customer",
            ImportKind::Activities => "activity",
            ImportKind::Leads => "lead",
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
            ImportKind::Customers => CUSTOMERS,
            ImportKind::Activities => ACTIVITIES,
            ImportKind::Leads => LEADS,
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
            (ImportKind::Customers, false) => {
                "Customers, with their owner (blank: the pool) and stage. A phone or company the system already has is refused as a duplicate."
            }
            (ImportKind::Customers, true) => {
                "客户及其负责人（留空则进入公海）和阶段。系统中已有的电话或公司会作为重复客户被拒绝。"
            }
            (ImportKind::Activities, false) => {
                "Customer activities the health score counts: purchases, new-product trials, event participation."
            }
            (ImportKind::Activities, true) => "健康度计算所用的客户活动：采购、新品试用、活动参与。",
            (ImportKind::Leads, false) => {
                "New leads: the routing rules give them to reps (while routing is not live they wait as new leads)."
            }
            (ImportKind::Leads, true) => "新线索：由分配规则分配给业务员（规则未启用时作为新线索等待分配）。",
        }
    }
}

impl Column {
    pub fn header(&self, zh: bool) -> &'static str {
        if zh { self.zh } else { self.en }
    }
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
