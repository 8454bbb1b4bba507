//! The reader's language and the catalogues of coded messages (exception and photo-problem
//! codes, import refusals) in English and Simplified Chinese. A leaf: the pages, the export and
//! the import all use it without depending on each other. The page strings themselves live in
//! `web::i18n`.

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
        "import_not_time",
        "\"{value}\" is not a time (HH:MM, for example 09:30).",
        "“{value}”不是时间（HH:MM，例如 09:30）。",
    ),
    // Customers, activities and leads (import/pipeline.rs, issue 15).
    (
        "import_pipeline_separate",
        "Customers, activities and leads are imported in a file of their own, without the sheet \"{sheet}\": import the two files one after the other.",
        "客户、客户活动和线索须单独成一个文件导入，不能与“{sheet}”工作表放在一起：请分两个文件依次导入。",
    ),
    (
        "import_needs_phone_or_company",
        "Give a phone or the company: duplicates are found by them.",
        "请填写电话或公司名称：系统据此查重。",
    ),
    (
        "import_duplicate_customer",
        "The same customer as on row {first_row} (\"{value}\"). Keep one row.",
        "与第 {first_row} 行是同一客户（“{value}”），请只保留一行。",
    ),
    (
        "import_customer_exists",
        "The system already has this customer (\"{value}\"): {name}. Leave the row out.",
        "系统中已有该客户（“{value}”）：{name}。请删除此行。",
    ),
    (
        "import_duplicate_lead",
        "The same lead as on row {first_row} (\"{value}\"). Keep one row.",
        "与第 {first_row} 行是同一线索（“{value}”），请只保留一行。",
    ),
    (
        "import_lead_exists",
        "An open lead already has this (\"{value}\"): {name}. Leave the row out.",
        "已有未关闭的线索使用该信息（“{value}”）：{name}。请删除此行。",
    ),
    (
        "import_unknown_customer",
        "There is no customer \"{value}\" (by phone, company or ID, in the Customers sheet or the system).",
        "没有客户“{value}”（按电话、公司名称或系统编号，客户表和系统中均没有）。",
    ),
    (
        "import_bad_activity_kind",
        "\"{value}\" is not an activity type: purchase, trial or event (采购、试用、活动).",
        "“{value}”不是有效的活动类型：采购、试用或活动（purchase / trial / event）。",
    ),
    (
        "import_unknown_stage",
        "There is no stage \"{value}\". The stages: {expected}.",
        "没有阶段“{value}”。可用阶段：{expected}。",
    ),
    (
        "import_id_exists",
        "The ID \"{value}\" is already in use. Leave it blank and the system gives one.",
        "系统编号“{value}”已被使用。留空则由系统生成。",
    ),
    (
        "import_window_half",
        "A plan's window needs both a start and an end time (only \"{value}\" is given).",
        "计划时段需要同时填写开始和结束时间（只填了“{value}”）。",
    ),
    (
        "import_window_order",
        "The window's start must be before its end (end \"{value}\").",
        "时段的开始时间必须早于结束时间（结束时间“{value}”）。",
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
    // --- photo review with retakes (crate::retakes::ReviewError, the web's words; keyed
    // `refused.<code>`: the codes' titles and phone sentences are in CODES and messages::TEXTS)
    (
        "refused.review_bad_verdict",
        "\"{value}\" is not a decision: choose approve, reject or retake.",
        "“{value}”不是有效的审核结论：请选择通过、驳回或要求重拍。",
    ),
    (
        "refused.review_reason_required",
        "Rejecting a photo or asking for a retake needs a reason the rep can act on.",
        "驳回照片或要求重拍须填写原因，便于业务员改正。",
    ),
    (
        "refused.review_reason_too_long",
        "The reason is longer than {max} characters.",
        "原因超过 {max} 个字符。",
    ),
    (
        "refused.unknown_photo",
        "This photo does not exist or is not yours to review.",
        "该照片不存在或不在您的审核范围内。",
    ),
    (
        "refused.photo_not_in_team",
        "Only the rep's own supervisor (or head office) reviews this photo.",
        "只有该业务员的督导（或总部）可以审核这张照片。",
    ),
    (
        "refused.retake_not_a_rep",
        "A retake is asked of a rep; this photo is not a rep's.",
        "重拍只能要求业务员；这张照片不是业务员拍摄的。",
    ),
    (
        "refused.retake_already_open",
        "A retake of this photo is already requested and still open.",
        "这张照片已要求重拍，尚未完成。",
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
    // The exception queue's refusals (`crate::queue::QueueError::code`): nothing was changed.
    (
        "queue_bad_date",
        "“{value}” is not a date; dates are written YYYY-MM-DD.",
        "“{value}”不是日期，日期格式应为 YYYY-MM-DD。",
    ),
    (
        "queue_bad_range",
        "The first day is after the last day.",
        "开始日期晚于结束日期。",
    ),
    (
        "queue_bad_page_size",
        "A page shows between 1 and {limit} exceptions.",
        "每页显示 1 至 {limit} 条异常。",
    ),
    (
        "queue_bad_page",
        "The page number must be a whole number from 1.",
        "页码须为从 1 开始的整数。",
    ),
    (
        "queue_search_too_long",
        "The search text is longer than {limit} characters.",
        "搜索内容超过 {limit} 个字。",
    ),
    (
        "queue_nothing_chosen",
        "No exception was selected. Tick the exceptions to change first.",
        "没有选择任何异常。请先勾选要处理的异常。",
    ),
    (
        "queue_too_many",
        "{count} exceptions were selected; at most {limit} can be changed at once.",
        "选择了 {count} 条异常，一次最多处理 {limit} 条。",
    ),
    (
        "queue_comment_required",
        "A comment is required to resolve, dismiss or reopen an exception.",
        "解决、驳回或重新打开异常需要填写处理说明。",
    ),
    (
        "queue_comment_too_long",
        "The comment is longer than {limit} characters.",
        "处理说明超过 {limit} 个字。",
    ),
    (
        "queue_not_visible",
        "{count} of the selected exceptions do not exist or belong to another team. Nothing was changed.",
        "所选异常中有 {count} 条不存在或属于其他团队，未做任何更改。",
    ),
    (
        "queue_wrong_state",
        "{count} of the selected exceptions are {status}: they cannot be {action}. Nothing was changed.",
        "所选异常中有 {count} 条状态为“{status}”，无法{action}，未做任何更改。",
    ),
    (
        "queue_unknown_assignee",
        "The person chosen to assign to is not a web user. Nothing was changed.",
        "所选的指派对象不是网页用户，未做任何更改。",
    ),
    (
        "queue_assignee_cannot_see",
        "The person chosen cannot see {count} of the selected exceptions (another team's). Nothing was changed.",
        "所选的指派对象无权查看所选异常中的 {count} 条（属于其他团队），未做任何更改。",
    ),
    (
        "queue_already_open",
        "{count} of the selected exceptions cannot be reopened: the same finding is already open again as a newer exception. Nothing was changed.",
        "所选异常中有 {count} 条无法重新打开：同一问题已作为新的异常再次打开，未做任何更改。",
    ),
    (
        "queue_storage",
        "The server could not save this. Try again; if it persists, tell the administrator.",
        "服务器无法保存该操作。请重试；如果仍然失败，请联系管理员。",
    ),
    ("queue_action_resolve", "resolved", "解决"),
    ("queue_action_dismiss", "dismissed", "驳回"),
    ("queue_action_assign", "assigned", "指派"),
    ("queue_action_reopen", "reopened", "重新打开"),
    // --- alerts (src/alerts/, src/alert_queue.rs): severities, the messages sent to WeCom /
    // DingTalk / email, why a delivery failed, and the alert forms' refusals.
    ("severity_info", "Info", "提示"),
    ("severity_warning", "Warning", "警告"),
    ("severity_critical", "Critical", "严重"),
    (
        "alert_subject",
        "[{severity}] {title} · {store}",
        "【{severity}】{title} · {store}",
    ),
    ("alert_line_store", "Store: {store}", "门店：{store}"),
    ("alert_line_rep", "Rep: {rep}", "业务员：{rep}"),
    ("alert_line_time", "When: {time}", "时间：{time}"),
    ("alert_line_link", "Open: {link}", "查看：{link}"),
    ("alert_no_store", "no store", "无门店"),
    ("alert_no_rep", "unknown rep", "未知业务员"),
    (
        "digest_subject",
        "Daily summary · {team} · {date}",
        "每日汇总 · {team} · {date}",
    ),
    (
        "digest_missed",
        "Planned stops not visited: {n}",
        "计划未拜访门店：{n}",
    ),
    ("digest_missed_line", "- {store} ({rep})", "- {store}（{rep}）"),
    ("digest_open", "Open exceptions: {n}", "未处理异常：{n}"),
    ("digest_open_line", "- {code}: {n}", "- {code}：{n}"),
    (
        "digest_retakes",
        "Photo retakes overdue: {n}",
        "逾期未补拍照片：{n}",
    ),
    ("digest_more", "- and {n} more", "- 另有 {n} 项"),
    (
        "alert_test_subject",
        "Fieldproof test message",
        "Fieldproof 测试消息",
    ),
    (
        "alert_test_body",
        "This channel ({name}) receives Fieldproof alerts.",
        "此渠道（{name}）可以接收 Fieldproof 提醒。",
    ),
    (
        "alert_err_http_status",
        "The receiver answered HTTP {status}.",
        "接收方返回 HTTP {status}。",
    ),
    (
        "alert_err_robot",
        "The robot refused the message: error {errcode} ({errmsg}).",
        "机器人拒收消息：错误码 {errcode}（{errmsg}）。",
    ),
    (
        "alert_err_timeout",
        "No answer within {secs} s.",
        "{secs} 秒内无应答。",
    ),
    (
        "alert_err_connect",
        "Could not reach the receiver ({detail}).",
        "无法连接接收方（{detail}）。",
    ),
    (
        "alert_err_smtp",
        "The mail server refused the message ({detail}).",
        "邮件服务器拒收（{detail}）。",
    ),
    (
        "alert_err_config",
        "The channel's settings are incomplete ({detail}).",
        "渠道设置不完整（{detail}）。",
    ),
    ("alert_err_disabled", "The channel is disabled.", "该渠道已停用。"),
    (
        "alert_bad_name",
        "Give a name (up to 100 characters).",
        "请填写名称（不超过 100 个字符）。",
    ),
    (
        "alert_bad_url",
        "The webhook address must start with https:// (http:// only for a local test server).",
        "Webhook 地址须以 https:// 开头（http:// 仅限本机测试服务器）。",
    ),
    (
        "alert_bad_secret",
        "DingTalk's signing secret is the SEC… text from the robot's security settings.",
        "钉钉加签密钥为机器人安全设置中以 SEC 开头的字符串。",
    ),
    (
        "alert_bad_email",
        "{value} is not an email address.",
        "{value} 不是有效的邮箱地址。",
    ),
    (
        "alert_bad_smtp",
        "Give the mail server's name and port (1–65535).",
        "请填写邮件服务器地址和端口（1–65535）。",
    ),
    (
        "alert_bad_quiet",
        "Quiet hours are two times such as 22:00 and 07:00, or none.",
        "免打扰时段须为两个时间（如 22:00 与 07:00），或不填。",
    ),
    (
        "alert_bad_code",
        "{value} is not an exception type.",
        "{value} 不是异常类型。",
    ),
    (
        "alert_bad_team",
        "There is no team {value}.",
        "没有团队 {value}。",
    ),
    (
        "alert_bad_territory",
        "There is no territory {value}.",
        "没有区域 {value}。",
    ),
    ("alert_bad_channel", "There is no such channel.", "没有该渠道。"),
    ("alert_bad_rule", "There is no such rule.", "没有该规则。"),
    (
        "alert_bad_delivery",
        "Only a failed message can be sent again.",
        "只有发送失败的消息可以重发。",
    ),
    (
        "alert_bad_choice",
        "Choose one of the listed options.",
        "请从列出的选项中选择。",
    ),
    (
        "alert_storage",
        "The server could not save this. Try again.",
        "服务器无法保存，请重试。",
    ), // --- the pipeline's settings and routing (crate::pipeline_jobs) ---------------------------
    (
        "pipeline_settings_invalid",
        "The settings were not saved: correct the marked fields.",
        "设置未保存：请修改标出的字段。",
    ),
    (
        "pipeline_bad_json",
        "This is not a valid settings document (line {line}, column {column}).",
        "这不是有效的设置文档（第 {line} 行，第 {column} 列）。",
    ),
    (
        "pipeline_version_conflict",
        "Someone saved these settings meanwhile. Reload the page and make your change again.",
        "其他人已同时保存了这些设置。请刷新页面后重新修改。",
    ),
    (
        "pipeline_unknown_rep",
        "No field rep with this account.",
        "没有该账号的业务员。",
    ),
    (
        "pipeline_storage",
        "The server could not save this. Try again.",
        "服务器无法保存，请重试。",
    ),
    (
        "pipeline_out_of_range",
        "{setting} must be between {min} and {max}.",
        "{setting}必须在 {min} 到 {max} 之间。",
    ),
    (
        "pipeline_setting_lead_response_minutes",
        "Lead response time (minutes)",
        "线索响应时限（分钟）",
    ),
    (
        "pipeline_setting_release_days",
        "Days before an idle customer is released",
        "客户无跟进释放天数",
    ),
    (
        "pipeline_setting_release_warning_days",
        "Release warning (days before)",
        "释放提前提醒天数",
    ),
    (
        "pipeline_setting_stall_days",
        "Days in a stage before a stall",
        "阶段停滞天数",
    ),
    (
        "pipeline_setting_escalate_follow_ups",
        "Follow-ups before escalation",
        "升级前跟进次数",
    ),
    (
        "pipeline_setting_escalate_window_days",
        "Escalation window (days)",
        "升级统计天数",
    ),
    (
        "pipeline_setting_reclaim_cooldown_days",
        "Reclaim cooldown (days)",
        "重新认领冷却天数",
    ),
    (
        "pipeline_setting_routing_live_threshold",
        "Matched share needed to go live",
        "上线所需匹配率",
    ),
    (
        "pipeline_setting_response_goal",
        "Lead response rate goal",
        "线索响应率目标",
    ),
    (
        "pipeline_no_stages",
        "The pipeline needs at least one stage.",
        "销售流程至少需要一个阶段。",
    ),
    (
        "pipeline_stage_no_key",
        "Stage {n} has no code.",
        "第 {n} 个阶段没有代码。",
    ),
    (
        "pipeline_duplicate_stage",
        "Stage {n} has the same code as an earlier stage.",
        "第 {n} 个阶段的代码与前面的阶段重复。",
    ),
    (
        "pipeline_stage_no_label",
        "Stage {n} has no name.",
        "第 {n} 个阶段没有名称。",
    ),
    (
        "pipeline_requirement_id",
        "Requirement {n} of “{stage}” has no code or repeats one.",
        "“{stage}”的第 {n} 项要求没有代码或代码重复。",
    ),
    (
        "pipeline_requirement_no_label",
        "Requirement {n} of “{stage}” has no name.",
        "“{stage}”的第 {n} 项要求没有名称。",
    ),
    (
        "pipeline_requirement_no_field",
        "Requirement {n} of “{stage}” does not say which customer field must be filled.",
        "“{stage}”的第 {n} 项要求未指明必须填写的客户字段。",
    ),
    (
        "pipeline_no_open_stage",
        "The pipeline needs at least one open (not final) stage.",
        "销售流程至少需要一个未结束的阶段。",
    ),
    (
        "routing_duplicate_position",
        "Two rules have the order number {position}.",
        "有两条规则的顺序号都是 {position}。",
    ),
    (
        "routing_rule_no_name",
        "Rule {position} has no name.",
        "第 {position} 条规则没有名称。",
    ),
    (
        "routing_negative_budget",
        "Rule {position} has a budget below zero.",
        "第 {position} 条规则的预算小于零。",
    ),
    (
        "routing_empty_budget",
        "Rule {position} accepts no budget: from {min} up to (not including) {max}.",
        "第 {position} 条规则的预算范围为空：从 {min} 到 {max}（不含）。",
    ),
    (
        "routing_zero_max_load",
        "Rule {position} has a maximum load of 0, so it could never assign a lead.",
        "第 {position} 条规则的最大负荷为 0，无法分配任何线索。",
    ),
    (
        "health_no_components",
        "The health model needs at least one component.",
        "健康度模型至少需要一项指标。",
    ),
    (
        "health_no_key",
        "Component {n} has no code.",
        "第 {n} 项指标没有代码。",
    ),
    (
        "health_duplicate_key",
        "Two components have the code “{component}”.",
        "有两项指标的代码都是“{component}”。",
    ),
    (
        "health_no_label",
        "Component “{component}” needs a name in Chinese and in English.",
        "指标“{component}”需要中文和英文名称。",
    ),
    (
        "health_unknown_kind",
        "Component “{component}” counts an unknown activity; choose purchase, trial or event.",
        "指标“{component}”统计的活动类型无效，请选择采购、试用或活动。",
    ),
    (
        "health_weight_not_positive",
        "Component “{component}” has weight {weight}; weights must be above 0.",
        "指标“{component}”的权重为 {weight}，权重必须大于 0。",
    ),
    (
        "health_cap_not_positive",
        "Component “{component}” has full marks at {cap}; it must be above 0.",
        "指标“{component}”的满分次数为 {cap}，必须大于 0。",
    ),
    (
        "health_empty_window",
        "Component “{component}” counts over 0 days.",
        "指标“{component}”的统计天数为 0。",
    ),
    (
        "health_grade_lines",
        "Grade lines A {a} and B {b}: B must not be above A, both between 0 and 100.",
        "等级线 A {a}、B {b}：B 不能高于 A，且都在 0 到 100 之间。",
    ),
    (
        "health_no_warning_days",
        "The zero warning needs at least 1 day.",
        "零值预警至少需要 1 天。",
    ),
    (
        "routing_no_dry_run",
        "Run a dry run of the rules before going live.",
        "上线前请先试运行规则。",
    ),
    (
        "routing_dry_run_stale",
        "The rules changed since the last dry run. Run it again before going live.",
        "规则在上次试运行后已修改，请重新试运行后再上线。",
    ),
    (
        "routing_below_threshold",
        "The last dry run matched {share} of leads, below the {goal} needed to go live.",
        "上次试运行匹配了 {share} 的线索，低于上线所需的 {goal}。",
    ),
    (
        "routing_no_rules",
        "There is no enabled rule to go live with.",
        "没有可上线的已启用规则。",
    ),
    ("routing_no_rule", "No rule matched", "没有匹配的规则"),
    (
        "routing_no_capacity",
        "Rules matched, no rep had room",
        "规则匹配但业务员已满负荷",
    ),
    (
        "pipeline_not_a_number",
        "Enter a number here.",
        "此处请输入数字。",
    ),
    (
        "routing_customer_in_pool",
        "Customer is in the pool",
        "客户在公海中",
    ),
];

/// Exception codes and photo problems in words: (code, English, 中文).
pub const CODES: &[(&str, &str, &str)] = &[
    ("outside_geofence", "Outside the geofence", "不在地理围栏内"),
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
    ("no_fix", "No location fix", "无定位"),
    ("low_accuracy", "Low location accuracy", "定位精度低"),
    ("stale_fix", "Stale location fix", "定位过时"),
    ("unknown_store", "Unknown store", "未知门店"),
    ("unknown_visit", "Unknown visit", "未知拜访"),
    ("supervisor_flag", "Flagged by a supervisor", "督导标记"),
    ("customer_duplicate", "Duplicate customer", "重复客户"),
    ("customer_claim_conflict", "Claim conflict", "认领冲突"),
    ("stage_evidence_missing", "Stage evidence missing", "阶段凭证缺失"),
    (
        "customer_op_not_applied",
        "Customer record not applied",
        "客户记录未生效",
    ),
    (
        "store_code_invalid",
        "Store code did not verify",
        "门店码验证未通过",
    ),
    ("file_missing", "Photo file missing", "照片文件缺失"),
    (
        "conflicting_duplicate",
        "Different record under a used id",
        "编号重复的不同记录",
    ),
    ("wrong_user", "Record of another user", "其他用户的记录"),
    // --- photo review with retakes (crate::retakes::ReviewError) ------------------------------
    (
        "review_bad_verdict",
        "Not a review decision",
        "不是有效的审核结论",
    ),
    (
        "review_reason_required",
        "Review without a reason",
        "审核未填写原因",
    ),
    ("review_reason_too_long", "Review reason too long", "审核原因过长"),
    ("unknown_photo", "Unknown photo", "未知照片"),
    ("photo_not_in_team", "Photo of another team", "其他团队的照片"),
    (
        "retake_not_a_rep",
        "Retake asked of a non-rep",
        "重拍只能要求业务员",
    ),
    ("retake_already_open", "Retake already requested", "已要求重拍"),
    // --- the pipeline's scheduled jobs (crate::pipeline_jobs) ---------------------------------
    ("lead_overdue", "Lead not claimed in time", "线索超时未认领"),
    (
        "customer_released",
        "Customer released to the pool",
        "客户释放到公海",
    ),
    ("customer_stalled", "Customer stalled in a stage", "客户阶段停滞"),
    (
        "pipeline_escalated",
        "Follow-ups without progress",
        "跟进无进展升级",
    ),
    ("health_zero", "Health component at zero", "健康度指标持续为零"),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

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
