//! Every string the pages show, in English and Simplified Chinese (terms from the field: see
//! `DESIGN.md`, "Words"). The language comes from `?lang=`, then the `lang` cookie, then
//! `Accept-Language` (`zh*` → zh-CN, anything else → en).

pub use crate::i18n::Lang;

impl Lang {
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
}

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
    ("import_done", "Imported.", "导入完成。"),
    ("import_stores", "Stores", "门店"),
    ("import_products", "Products", "产品"),
    ("import_plans", "Plans", "拜访计划"),
    ("download_xlsx", "Download XLSX", "下载 XLSX"),
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
    ("day_nav", "Day", "日期切换"),
    ("prev_day", "← Previous day", "← 前一天"),
    ("next_day", "Next day →", "后一天 →"),
    ("today", "Today", "今天"),
    ("wd_mon", "Monday", "星期一"),
    ("wd_tue", "Tuesday", "星期二"),
    ("wd_wed", "Wednesday", "星期三"),
    ("wd_thu", "Thursday", "星期四"),
    ("wd_fri", "Friday", "星期五"),
    ("wd_sat", "Saturday", "星期六"),
    ("wd_sun", "Sunday", "星期日"),
    ("workbook", "Workbook", "工作簿"),
    ("open_visit", "Open the visit", "查看拜访"),
    ("taken_at", "Taken", "拍摄时间"),
    ("mock_location_word", "mock location", "模拟定位"),
    ("photo_id", "Photo ID", "照片编号"),
    ("visit_id", "Visit ID", "拜访编号"),
    ("rep_id", "Rep ID", "业务员编号"),
    ("store_id", "Store ID", "门店编号"),
    ("template", "Check template", "检查模板"),
    ("no_answers", "No answers.", "没有检查项结果。"),
    ("other_items", "Other items", "其他项目"),
    ("technical", "Technical details", "技术信息"),
    (
        "other_team_photos",
        "Photos of another team are not shown.",
        "其他团队的照片不显示。",
    ),
    ("nav_export", "Export", "导出"),
    (
        "bad_query",
        "This link's parameters are not valid.",
        "链接中的参数无效。",
    ),
    (
        "bad_status",
        "Status must be open, resolved or all.",
        "状态只能是未处理、已处理或全部。",
    ),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::i18n::{CODES, MESSAGES};

    #[test]
    fn keys_are_unique_and_both_languages_filled() {
        let mut seen = std::collections::HashSet::new();
        for (k, en, zh) in TABLE.iter().chain(CODES).chain(MESSAGES) {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
        }
    }

    #[test]
    fn page_strings_in_both_languages() {
        assert_eq!(Lang::Zh.t("sign_in"), "登录");
        assert_eq!(Lang::En.t("sign_in"), "Sign in");
        assert_eq!(Lang::En.t("no_such_key"), "no_such_key");
    }
}
