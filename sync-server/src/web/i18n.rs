//! Every string the pages show, in English and Simplified Chinese (terms from the field: see
//! `DESIGN.md`, "Words"). The language comes from `?lang=`, then the `lang` cookie, then
//! `Accept-Language` (`zh*` → zh-CN, anything else → en).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }

    /// `en`, `zh`, `zh-CN` (any case); anything else is not a language we have.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s == "en" || s.starts_with("en-") {
            Some(Lang::En)
        } else if s == "zh" || s.starts_with("zh-") || s.starts_with("zh_") {
            Some(Lang::Zh)
        } else {
            None
        }
    }

    /// The first language of `Accept-Language` we have, by the browser's order (q values are
    /// taken as given in order; browsers list them descending).
    pub fn from_accept_language(header: &str) -> Lang {
        for part in header.split(',') {
            let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::Zh;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::En
    }

    /// The page string for `key`; a key missing from the table shows as itself.
    pub fn t(self, key: &str) -> &str {
        match TABLE.iter().find(|(k, _, _)| *k == key) {
            Some((_, en, zh)) => match self {
                Lang::En => en,
                Lang::Zh => zh,
            },
            None => key,
        }
    }

    /// An exception or photo-problem code in words; an unknown code shows as itself.
    pub fn code_words(self, code: &str) -> String {
        match CODES.iter().find(|(k, _, _)| *k == code) {
            Some((_, en, zh)) => match self {
                Lang::En => (*en).to_string(),
                Lang::Zh => (*zh).to_string(),
            },
            None => code.to_string(),
        }
    }
}

/// A message given as a code and parameters (e.g. an import limit), in words: the code's
/// template from [`MESSAGES`] with each `{name}` replaced by its parameter. An unknown code
/// shows as itself with its parameters, so nothing said is lost.
impl Lang {
    pub fn message(self, code: &str, params: &[(&str, String)]) -> String {
        let Some((_, en, zh)) = MESSAGES.iter().find(|(k, _, _)| *k == code) else {
            let list: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            return format!("{code} ({})", list.join(", "));
        };
        let mut out = match self {
            Lang::En => (*en).to_string(),
            Lang::Zh => (*zh).to_string(),
        };
        for (k, v) in params {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out
    }
}

/// Messages with parameters: (code, English, 中文), `{name}` for a parameter. The import's
/// limits (`crate::import::LimitError`); the CLI prints the English.
pub const MESSAGES: &[(&str, &str, &str)] = &[
    (
        "import_file_too_large",
        "The file is larger than {limit}, the most an import takes. Split it into several files.",
        "文件超过 {limit}，超出导入上限。请拆分为多个文件。",
    ),
    (
        "import_too_many_members",
        "The workbook holds more than {limit} parts; it is not a spreadsheet this reads.",
        "该工作簿包含超过 {limit} 个部件，不是可读取的电子表格。",
    ),
    (
        "import_member_too_large",
        "The workbook part {member} unpacks to more than {limit}.",
        "工作簿部件 {member} 解压后超过 {limit}。",
    ),
    (
        "import_unpacked_too_large",
        "The workbook unpacks to more than {limit}. Split it into several files.",
        "工作簿解压后超过 {limit}。请拆分为多个文件。",
    ),
    (
        "import_shared_strings_too_large",
        "The workbook's text table unpacks to more than {limit}. Split it into several files.",
        "工作簿的文本表解压后超过 {limit}。请拆分为多个文件。",
    ),
    (
        "import_too_many_shared_strings",
        "The workbook's text table holds more than {limit} entries.",
        "工作簿的文本表超过 {limit} 条。",
    ),
    (
        "import_too_many_sheets",
        "The workbook has more than {limit} sheets of the names an import reads (Stores, Reps, 门店, 业务员, …).",
        "工作簿中可导入名称的工作表（门店、业务员、Stores、Reps 等）超过 {limit} 个。",
    ),
    (
        "import_sheet_too_large",
        "Sheet {sheet} says it spans {dimension}, beyond what an import reads (rows 1 to {last_row}, columns A to {last_column}). Delete the rows and columns after your data and save again.",
        "工作表 {sheet} 的范围为 {dimension}，超出导入读取的范围（第 1 至 {last_row} 行，A 至 {last_column} 列）。请删除数据之后的行和列，然后重新保存。",
    ),
    (
        "import_cell_out_of_range",
        "Sheet {sheet}: cell {cell} is beyond what an import reads (rows 1 to {last_row}, columns A to {last_column}). Delete it, or split the file.",
        "工作表 {sheet}：单元格 {cell} 超出导入读取的范围（第 1 至 {last_row} 行，A 至 {last_column} 列）。请删除该单元格或拆分文件。",
    ),
    (
        "import_too_many_rows",
        "Sheet {sheet} has more than {limit} rows after the header. Split it into several files.",
        "工作表 {sheet} 除表头外超过 {limit} 行。请拆分为多个文件。",
    ),
    (
        "import_too_many_cells",
        "The file holds more than {limit} cells. Split it into several files.",
        "文件超过 {limit} 个单元格。请拆分为多个文件。",
    ),
    (
        "import_cell_too_long",
        "Sheet {sheet}: cell {cell} holds more than {limit} of text.",
        "工作表 {sheet}：单元格 {cell} 的文字超过 {limit}。",
    ),
    (
        "import_busy",
        "Another import is running. Try again when it is done.",
        "另一个导入正在进行，请在其完成后重试。",
    ),
    (
        "import_body_timeout",
        "The file did not arrive within {seconds} seconds. Check the connection and try again.",
        "文件未在 {seconds} 秒内上传完成。请检查网络后重试。",
    ),
    (
        "import_too_much_text",
        "The file's cells hold more than {limit} of text together. Split it into several files.",
        "文件中单元格的文字合计超过 {limit}。请拆分为多个文件。",
    ),
    // --- import problems (crate::import::CellProblem, UnreadableFile) --------------------------
    ("import_value_missing", "This value is required.", "此项为必填。"),
    (
        "import_not_number",
        "\"{value}\" is not a number.",
        "“{value}”不是数字。",
    ),
    (
        "import_out_of_range",
        "{value} is out of range ({min} to {max}).",
        "{value} 超出范围（{min} 至 {max}）。",
    ),
    (
        "import_too_long",
        "Longer than {limit} characters.",
        "超过 {limit} 个字符。",
    ),
    (
        "import_bad_id",
        "\"{value}\" cannot be an ID or code: use 1 to 64 characters without spaces.",
        "“{value}”不能作为编号或代码：请使用 1 至 64 个字符，不含空格。",
    ),
    (
        "import_bad_phone",
        "\"{value}\" is not a phone number (digits, spaces, + - ( ), at most 32 characters).",
        "“{value}”不是有效的电话号码（数字、空格、+ - ( )，最多 32 个字符）。",
    ),
    (
        "import_duplicate",
        "\"{value}\" appears twice (also on row {first_row}).",
        "“{value}”重复（第 {first_row} 行也有）。",
    ),
    (
        "import_duplicate_plan",
        "Plan \"{value}\" appears twice (also on row {first_row}): one plan per rep, day and store.",
        "计划“{value}”重复（第 {first_row} 行也有）：每个业务员每天每家门店只能有一条计划。",
    ),
    (
        "import_unknown_territory",
        "There is no territory \"{value}\" (in the Territories sheet or the system).",
        "没有区域“{value}”（区域表和系统中均没有）。",
    ),
    (
        "import_unknown_team",
        "There is no team \"{value}\" (in the Teams sheet or the system).",
        "没有团队“{value}”（团队表和系统中均没有）。",
    ),
    (
        "import_unknown_supervisor",
        "There is no supervisor \"{value}\" (in the Supervisors sheet or the system).",
        "没有督导“{value}”（督导表和系统中均没有）。",
    ),
    (
        "import_not_a_supervisor",
        "\"{value}\" is a rep, not a supervisor.",
        "“{value}”是业务员，不是督导。",
    ),
    (
        "import_supervisor_two_teams",
        "Supervisor \"{value}\" already leads a team on row {first_row}: one team per supervisor.",
        "督导“{value}”已在第 {first_row} 行带领一个团队：每名督导只带一个团队。",
    ),
    (
        "import_leads_team",
        "\"{value}\" is the supervisor of team {team}: give that team another supervisor before making them a rep.",
        "“{value}”是团队 {team} 的督导：请先为该团队指定其他督导，再将其改为业务员。",
    ),
    (
        "import_supervisor_busy",
        "\"{value}\" leads team {team}, which has reps: this would merge the two teams. Give team {team} another supervisor first (in this file or on the people pages).",
        "“{value}”是团队 {team} 的督导，该团队有业务员：这样会合并两个团队。请先为团队 {team} 指定其他督导（可在本文件或人员页面中）。",
    ),
    (
        "import_bad_geofence_mode",
        "\"{value}\" is not a geofence mode (off, flag or block; 关闭, 标记 or 禁止).",
        "“{value}”不是围栏模式（关闭、标记或禁止；off、flag 或 block）。",
    ),
    (
        "import_not_yes_no",
        "\"{value}\" is not yes or no.",
        "“{value}”不是“是”或“否”。",
    ),
    (
        "import_negative_price",
        "The price {value} is negative.",
        "价格 {value} 为负数。",
    ),
    (
        "import_price_decimals",
        "{value} has more than 2 decimals.",
        "{value} 超过两位小数。",
    ),
    (
        "import_is_supervisor",
        "\"{value}\" is a supervisor, not a rep.",
        "“{value}”是督导，不是业务员。",
    ),
    (
        "import_unknown_rep",
        "There is no rep \"{value}\" (in the Reps sheet or the system).",
        "没有业务员“{value}”（业务员表和系统中均没有）。",
    ),
    (
        "import_unknown_store_code",
        "There is no store with code \"{value}\" (in the Stores sheet or the system).",
        "没有编码为“{value}”的门店（门店表和系统中均没有）。",
    ),
    (
        "import_not_date",
        "\"{value}\" is not a date (YYYY-MM-DD).",
        "“{value}”不是日期（YYYY-MM-DD）。",
    ),
    (
        "import_inspection_template",
        "\"{value}\" is an inspection template; plans need a store-check template.",
        "“{value}”是督导检查模板；计划需要巡店模板。",
    ),
    (
        "import_unknown_template",
        "There is no template \"{value}\".",
        "没有模板“{value}”。",
    ),
    (
        "import_not_whole",
        "{value} is not a whole number 0 or more.",
        "{value} 不是大于等于 0 的整数。",
    ),
    (
        "import_sheet_empty",
        "The sheet is empty: row 1 must be the header.",
        "工作表为空：第 1 行必须是表头。",
    ),
    (
        "import_unknown_column",
        "Unknown column \"{column}\". The columns are: {expected}.",
        "未知的列“{column}”。可用的列：{expected}。",
    ),
    (
        "import_column_twice",
        "Column \"{column}\" appears twice.",
        "列“{column}”出现了两次。",
    ),
    (
        "import_column_missing",
        "The header has no column \"{column}\", which is required.",
        "表头缺少必填列“{column}”。",
    ),
    (
        "import_invalid_record",
        "The record was refused: {detail}",
        "该记录被拒绝：{detail}",
    ),
    (
        "import_not_a_spreadsheet",
        "This is not an XLSX or CSV file. Save it as Excel Workbook (.xlsx) or CSV UTF-8.",
        "不是 XLSX 或 CSV 文件。请另存为 Excel 工作簿（.xlsx）或 CSV UTF-8。",
    ),
    (
        "import_no_known_sheet",
        "No sheet has a name the import knows (区域, 督导, 团队, 业务员, 门店, 产品, 计划 or Territories, Supervisors, Teams, Reps, Stores, Products, Plans).",
        "没有可识别名称的工作表（区域、督导、团队、业务员、门店、产品、计划，或对应英文名）。",
    ),
    (
        "import_csv_needs_kind",
        "Choose what the CSV file holds (stores, reps, …).",
        "请选择 CSV 文件的数据类型（门店、业务员等）。",
    ),
    (
        "import_csv_not_utf8",
        "The CSV is not UTF-8. In Excel, save it as \"CSV UTF-8\".",
        "CSV 文件不是 UTF-8 编码。请在 Excel 中另存为“CSV UTF-8”。",
    ),
    (
        "import_bad_workbook",
        "The workbook cannot be read. Open it in Excel and save it again as .xlsx.",
        "无法读取该工作簿。请在 Excel 中打开并重新另存为 .xlsx。",
    ),
    (
        "import_cannot_read",
        "The file cannot be read.",
        "无法读取该文件。",
    ),
    // --- people and structure (crate::people::PeopleError) -------------------------------------
    (
        "people_not_allowed",
        "Only head office and admins manage people; only an admin manages admin accounts.",
        "只有总部和管理员可以管理人员；只有管理员可以管理管理员账号。",
    ),
    (
        "people_invalid_id",
        "\"{value}\" cannot be an ID or code: use 1 to 64 characters without spaces.",
        "“{value}”不能作为编号或代码：请使用 1 至 64 个字符，不含空格。",
    ),
    (
        "people_invalid_name",
        "The name must be 1 to 200 characters.",
        "名称须为 1 至 200 个字符。",
    ),
    (
        "people_invalid_phone",
        "\"{value}\" is not a phone number (digits, spaces, + - ( ), at most 32 characters).",
        "“{value}”不是有效的电话号码（数字、空格、+ - ( )，最多 32 个字符）。",
    ),
    (
        "people_password_too_short",
        "The password must be at least {min} characters.",
        "密码至少需要 {min} 个字符。",
    ),
    ("people_id_taken", "{id} already exists.", "{id} 已存在。"),
    (
        "people_unknown_field_user",
        "There is no rep or supervisor {id}.",
        "没有编号为 {id} 的业务员或督导。",
    ),
    (
        "people_unknown_web_user",
        "There is no web user {id}.",
        "没有账号 {id}。",
    ),
    (
        "people_unknown_territory",
        "There is no territory {code}. Create it first.",
        "没有代码为 {code} 的区域，请先创建。",
    ),
    (
        "people_unknown_team",
        "There is no team {code}. Create it first.",
        "没有代码为 {code} 的团队，请先创建。",
    ),
    (
        "people_unknown_device",
        "There is no device {id}.",
        "没有设备 {id}。",
    ),
    (
        "people_rep_needs_territory",
        "A rep needs a territory.",
        "业务员必须属于一个区域。",
    ),
    (
        "people_not_a_supervisor",
        "{id} is not a supervisor.",
        "{id} 不是督导。",
    ),
    (
        "people_leads_team",
        "{id} leads team {team}. Give that team another supervisor first.",
        "{id} 是团队 {team} 的督导，请先为该团队指定其他督导。",
    ),
    (
        "people_has_reps",
        "{reps} reps still report to {id}. Move them to another team first.",
        "仍有 {reps} 名业务员隶属 {id}，请先将他们调到其他团队。",
    ),
    ("people_deactivated", "{id} is deactivated.", "{id} 已停用。"),
    (
        "people_own_account",
        "You cannot deactivate your own account or change its role.",
        "不能停用自己的账号或更改自己的角色。",
    ),
    (
        "people_bad_server_url",
        "\"{value}\" is not an address a phone connects to (https://…).",
        "“{value}”不是手机可以连接的地址（https://…）。",
    ),
    (
        "people_bad_lifetime",
        "That validity is out of range (sign-in links: 1 minute to 24 hours; enrolment codes: 1 hour to 30 days).",
        "有效期超出范围（登录链接：1 分钟至 24 小时；激活码：1 小时至 30 天）。",
    ),
    (
        "people_rejected",
        "The record was refused: {detail}",
        "记录被拒绝：{detail}",
    ),
    (
        "people_storage",
        "The server could not save this. Try again; if it persists, tell the administrator.",
        "服务器未能保存，请重试；如仍失败，请联系管理员。",
    ),
];

/// (key, English, 中文)
pub const TABLE: &[(&str, &str, &str)] = &[
    ("app_name", "Fieldproof head office", "Fieldproof 总部"),
    ("nav_today", "Visits", "拜访"),
    ("nav_exceptions", "Exceptions", "异常"),
    ("nav_gallery", "Photos", "照片"),
    ("nav_health", "Process health", "流程健康"),
    ("nav_data", "Export / import", "导出 / 导入"),
    ("switch_lang", "中文", "English"),
    ("sign_in", "Sign in", "登录"),
    ("sign_out", "Sign out", "退出登录"),
    ("user_id", "User ID", "用户名"),
    ("password", "Password", "密码"),
    ("bad_login", "Wrong user ID or password.", "用户名或密码错误。"),
    (
        "link_invalid",
        "This sign-in link is unknown, used or expired. Sign in with your password.",
        "登录链接无效、已使用或已过期，请用密码登录。",
    ),
    (
        "link_signed_in",
        "Signed in. Opening the page…",
        "已登录，正在打开页面…",
    ),
    (
        "too_many_logins",
        "Too many failed sign-ins; try again in {minutes} min.",
        "登录失败次数过多，请 {minutes} 分钟后再试。",
    ),
    (
        "login_busy",
        "The server is checking many sign-ins right now; try again in a few seconds.",
        "服务器正在处理大量登录请求，请几秒钟后再试。",
    ),
    ("role_admin", "admin", "管理员"),
    ("role_head_office", "head office", "总部"),
    ("role_supervisor", "supervisor", "督导"),
    ("date", "Date", "日期"),
    ("show", "Show", "查看"),
    ("visits_on", "Visits on", "拜访日期"),
    ("by_rep", "By rep", "按业务员"),
    ("by_store", "By store", "按门店"),
    ("rep", "Rep", "业务员"),
    ("store", "Store", "门店"),
    ("time", "Time", "时间"),
    ("status", "Status", "状态"),
    ("duration", "Duration", "时长"),
    ("geofence", "Geofence", "地理围栏"),
    ("flags", "Exceptions", "异常"),
    ("visit", "Visit", "拜访"),
    ("open", "Open", "打开"),
    ("none", "None", "无"),
    ("no_visits", "No visits on this day.", "当天没有拜访。"),
    ("visits", "Visits", "拜访数"),
    ("completed", "Completed", "已完成"),
    ("min", "min", "分钟"),
    ("exceptions_queue", "Exception queue", "异常队列"),
    ("code", "Code", "类型"),
    ("detail", "Detail", "详情"),
    ("created", "Raised", "发现时间"),
    ("resolution", "Resolution", "处理"),
    ("resolve", "Resolve", "处理完成"),
    ("comment", "Comment", "处理说明"),
    ("resolved_by", "Resolved by", "处理人"),
    ("st_open", "Open", "待处理"),
    ("st_resolved", "Resolved", "已处理"),
    ("st_all", "All", "全部"),
    ("all", "All", "全部"),
    ("filter", "Filter", "筛选"),
    ("no_exceptions", "No exceptions match.", "没有符合条件的异常。"),
    (
        "comment_required",
        "A comment is required to resolve an exception.",
        "处理异常需要填写处理说明。",
    ),
    (
        "already_resolved",
        "This exception was already resolved.",
        "该异常已被处理。",
    ),
    ("visit_page", "Visit", "拜访详情"),
    ("started", "Started", "开始"),
    ("ended", "Ended", "结束"),
    ("distance", "Distance to store", "距门店距离"),
    ("score", "Score", "得分"),
    ("answers", "Answers", "检查项"),
    ("item", "Item", "项目"),
    ("value", "Value", "结果"),
    ("note", "Note", "备注"),
    ("report", "Visit report", "拜访报告"),
    ("no_report", "No report.", "没有拜访报告。"),
    ("photos", "Photos", "照片"),
    ("no_photos", "No photos.", "没有照片。"),
    (
        "photos_range",
        "Photos {from}–{to} of {total}",
        "第 {from}–{to} 张，共 {total} 张",
    ),
    ("prev_page", "← Previous", "← 上一页"),
    ("next_page", "Next →", "下一页 →"),
    (
        "bad_page",
        "The page number must be a whole number from 1.",
        "页码须为从 1 开始的整数。",
    ),
    ("badge_verified", "verified", "已验证"),
    ("badge_tampered", "tampered", "已篡改"),
    ("badge_unknown_key", "unknown key", "未知密钥"),
    ("badge_not_received", "not received", "未收到"),
    ("badge_unverified", "not verified", "未验证"),
    ("manifest", "Manifest", "照片清单"),
    ("evidence_code", "Evidence code", "防伪码"),
    ("device", "Device", "设备"),
    ("location", "Location", "位置"),
    ("problems", "Problems", "问题"),
    ("kind", "Kind", "类型"),
    ("gallery", "Photo gallery", "照片库"),
    ("reuse_pairs", "Possible reused photos", "疑似重复照片"),
    ("this_photo", "This photo", "本照片"),
    ("looks_like", "Looks like", "相似于"),
    ("other_team", "another team's photo", "其他团队的照片"),
    ("reuse_distance", "Perceptual distance", "感知距离"),
    (
        "reuse_total",
        "Similar earlier photos of other visits",
        "其他拜访中相似的较早照片",
    ),
    ("health", "Process health", "流程健康"),
    ("last_14_days", "Last 14 days up to", "最近 14 天，截至"),
    ("kac_rate", "Key-action completion rate", "关键动作完成率"),
    (
        "kac_formula",
        "visits with every key action (check-in inside the geofence or explained, store check complete, photo, report) ÷ visits started",
        "完成全部关键动作的拜访（在地理围栏内签到或异常已说明、门店巡检完成、有照片、有拜访报告）÷ 开始的拜访",
    ),
    ("ontime_rate", "On-time visit rate", "按计划准时拜访率"),
    (
        "ontime_formula",
        "planned visits done on their planned date ÷ planned visits",
        "在计划日期完成的计划拜访 ÷ 计划拜访",
    ),
    ("resolution_rate", "Exception resolution rate", "异常处理率"),
    (
        "resolution_formula",
        "exceptions resolved ÷ exceptions raised",
        "已处理的异常 ÷ 发现的异常",
    ),
    ("goal", "Goal", "目标"),
    ("no_goal", "no fixed goal", "无固定目标"),
    ("period_total", "14-day figure", "14 天合计"),
    ("day", "Day", "日期"),
    ("daily_table", "Daily figures", "每日数据"),
    ("numerator", "Numerator", "分子"),
    ("denominator", "Denominator", "分母"),
    ("rate", "Rate", "比率"),
    ("meets_goal", "meets the goal", "达标"),
    ("below_goal", "below the goal", "未达标"),
    (
        "compliance",
        "Store compliance score over time",
        "门店合规得分趋势",
    ),
    (
        "compliance_note",
        "average score of the store's completed visits per day",
        "每天该门店已完成拜访的平均得分",
    ),
    ("no_data", "no data", "无数据"),
    ("export", "Export", "导出"),
    (
        "export_note",
        "With the filters below (empty = everything you may see).",
        "按以下条件导出（留空 = 你可查看的全部数据）。",
    ),
    ("from", "From", "开始日期"),
    ("to", "To", "结束日期"),
    ("territory", "Territory", "区域"),
    ("team_of", "Team of", "督导团队"),
    ("import", "Import", "导入"),
    ("import_file", "File (.xlsx or .csv)", "文件（.xlsx 或 .csv）"),
    ("import_kind", "A CSV file holds", "CSV 文件的数据类型"),
    (
        "import_kind_from_sheets",
        "(workbook: by sheet names)",
        "（工作簿：按工作表名称）",
    ),
    ("import_template", "Template workbook", "模板工作簿"),
    ("technical", "Technical details", "技术详情"),
    ("import_done", "Imported.", "导入完成。"),
    (
        "import_refused",
        "Import refused; nothing was changed. Problems:",
        "导入被拒绝，未做任何更改。问题：",
    ),
    (
        "import_unreadable",
        "The file could not be read.",
        "无法读取该文件。",
    ),
    (
        "import_refused_limit",
        "Import refused; nothing was changed. The file is beyond what an import reads:",
        "导入被拒绝，未做任何更改。文件超出导入的限制：",
    ),
    ("sheet", "Sheet", "工作表"),
    ("row", "Row", "行"),
    ("column", "Column", "列"),
    ("message", "Problem", "问题"),
    ("not_found", "Not found", "未找到"),
    (
        "not_found_text",
        "There is nothing here, or you may not see it.",
        "此处没有内容，或你无权查看。",
    ),
    ("bad_request", "Bad request", "请求无效"),
    ("too_large", "Too large", "内容过大"),
    (
        "too_large_text",
        "What was sent is larger than the server accepts here (at most {kib} KiB).",
        "提交的内容超过了服务器在此处允许的大小（最多 {kib} KiB）。",
    ),
    ("timed_out", "Took too long", "请求超时"),
    (
        "timed_out_text",
        "What was sent did not arrive in time. Check the connection and try again.",
        "提交的内容未能及时送达。请检查网络后重试。",
    ),
    (
        "bad_form_text",
        "The form arrived incomplete or unreadable. Go back and send it again.",
        "表单不完整或无法读取。请返回后重新提交。",
    ),
    ("forbidden", "Forbidden", "禁止访问"),
    (
        "csrf_failed",
        "The form expired or did not come from this site. Go back, reload and try again.",
        "表单已过期或并非来自本站。请返回、刷新后重试。",
    ),
    ("error", "Something went wrong", "出错了"),
    (
        "error_text",
        "The server could not do this. Try again; if it persists, tell the administrator.",
        "服务器无法完成该操作。请重试；如果仍然失败，请联系管理员。",
    ),
    (
        "bad_date",
        "Dates are written YYYY-MM-DD.",
        "日期格式应为 YYYY-MM-DD。",
    ),
    ("back", "Back", "返回"),
    ("vs_completed", "completed", "已完成"),
    ("vs_checked_out", "checked out", "已签退"),
    ("vs_in_progress", "in progress", "进行中"),
    ("vs_cancelled", "cancelled", "已取消"),
    ("gf_verified", "inside", "围栏内"),
    ("gf_outside", "outside", "围栏外"),
    ("gf_no_fix", "no location", "无定位"),
    ("gf_low_accuracy", "low accuracy", "定位精度低"),
    ("gf_stale_fix", "stale location", "定位过时"),
    ("gf_off", "not checked", "未检查"),
    ("gf_unknown_store", "unknown store", "未知门店"),
];

/// Exception codes and photo problems in words: (code, English, 中文).
pub const CODES: &[(&str, &str, &str)] = &[
    (
        "outside_geofence",
        "Checked in outside the geofence",
        "在地理围栏外签到",
    ),
    ("mock_location", "Mock location (fake GPS)", "虚拟定位"),
    (
        "clock_jump",
        "Clock jump (time changed on the phone)",
        "篡改时间（手机时间跳变）",
    ),
    (
        "clock_skew",
        "Phone clock far from server time",
        "手机时间与服务器相差过大",
    ),
    ("possible_reuse", "Reused photo", "重复照片"),
    ("chain_gap", "Gap in the device's record chain", "设备记录链缺失"),
    ("chain_fork", "Forked device record chain", "设备记录链分叉"),
    ("reordered", "Records out of order", "记录顺序错乱"),
    ("backdated", "Backdated record", "记录时间倒填"),
    (
        "price_gap_unexplained",
        "Price gap without a negotiation note",
        "价格差异未填写议价说明",
    ),
    ("bad_signature", "Bad signature", "签名无效"),
    (
        "image_hash_mismatch",
        "Photo bytes changed after signing",
        "照片签名后被修改",
    ),
    ("code_mismatch", "Evidence code does not match", "防伪码不符"),
    ("unknown_key", "Signed by an unknown key", "未知密钥签名"),
    ("revoked_key", "Signed by a revoked device", "已吊销设备签名"),
    ("malformed_entry", "Malformed record", "记录格式错误"),
    ("not_a_photo", "Not a photo", "不是照片"),
    ("photo_missing", "Photo not received", "照片未上传"),
    ("photo_unreadable", "Photo cannot be decoded", "照片无法解码"),
    (
        "photo_hash_mismatch",
        "Upload did not match its hash",
        "上传内容与哈希不符",
    ),
    ("no_fix", "No location fix", "无定位"),
    ("low_accuracy", "Low location accuracy", "定位精度低"),
    ("stale_fix", "Stale location fix", "定位过时"),
    ("unknown_store", "Unknown store", "未知门店"),
    ("unknown_visit", "Unknown visit", "未知拜访"),
    ("supervisor_flag", "Flagged by a supervisor", "督导标记"),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_filled() {
        let mut seen = std::collections::HashSet::new();
        for (k, en, zh) in TABLE.iter().chain(CODES).chain(MESSAGES) {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
        }
    }

    #[test]
    fn language_is_chosen_from_the_header() {
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("zh-TW"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr-FR,zh;q=0.5"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("de"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("<script>"), None);
        assert_eq!(Lang::Zh.t("sign_in"), "登录");
        assert_eq!(Lang::En.code_words("mock_location"), "Mock location (fake GPS)");
        assert_eq!(Lang::En.code_words("new_code"), "new_code");
    }

    #[test]
    fn messages_fill_their_parameters_in_both_languages() {
        let params = [
            ("sheet", "Stores".to_string()),
            ("cell", "XFD1048576".to_string()),
        ];
        for lang in [Lang::En, Lang::Zh] {
            let m = lang.message(
                "import_cell_too_long",
                &[params[0].clone(), params[1].clone(), ("limit", "4 KiB".into())],
            );
            assert!(
                m.contains("Stores") && m.contains("XFD1048576") && m.contains("4 KiB"),
                "{m}"
            );
            assert!(!m.contains('{'), "{m}");
        }
        assert_eq!(
            Lang::Zh.message("new_code", &params),
            "new_code (sheet=Stores, cell=XFD1048576)"
        );
        // Every placeholder of a template is in both languages (a translation cannot drop one).
        for (code, en, zh) in MESSAGES {
            let names = |t: &str| {
                let mut v: Vec<String> = t
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(names(en), names(zh), "{code}");
        }
    }
}
