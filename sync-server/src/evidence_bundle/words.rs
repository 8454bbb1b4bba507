//! What bundles and their verification say to a person, in zh-CN and en: the verifier's
//! report (every finding with the photo, visit and record it concerns; no raw hashes, a short
//! one in parentheses at most), the export's refusals, and the README in the ZIP.

use crate::calendar::Calendar;
use crate::i18n::Lang;

use super::format::{Bundle, Selection};
use super::verify::{Finding, FindingCode, PhotoOutcome, Report, counts, short};
use super::{BundleError, SizeLimit};

/// (key, English, 中文); `{name}` is a parameter.
pub const TABLE: &[(&str, &str, &str)] = &[
    ("title", "Fieldproof evidence bundle", "Fieldproof 证据包"),
    (
        "exported",
        "Exported {time} (UTC{offset}) by {who}",
        "导出时间 {time}（UTC{offset}），导出人：{who}",
    ),
    (
        "who.admin_cli",
        "the server's administrator (command line)",
        "服务器管理员（命令行）",
    ),
    (
        "who.admin",
        "head office administrator {user}",
        "总部管理员 {user}",
    ),
    ("who.head_office", "head office user {user}", "总部用户 {user}"),
    (
        "who.supervisor",
        "supervisor {user} (own team only)",
        "督导 {user}（仅限本团队）",
    ),
    ("organisation", "Organisation: {name}", "组织：{name}"),
    ("selection", "Selection: {what}", "范围：{what}"),
    ("sel.visit", "visit {id}", "拜访 {id}"),
    ("sel.store", "store {store}", "门店 {store}"),
    ("sel.rep", "rep {rep}", "业务员 {rep}"),
    ("sel.from", "from {date}", "自 {date}"),
    ("sel.to", "to {date}", "至 {date}"),
    (
        "holds",
        "Visits: {visits} · photos: {photos} · signed records: {entries} · phones: {devices}",
        "{visits} 次拜访，{photos} 张照片，{entries} 条签名记录，{devices} 部手机",
    ),
    ("photos", "Photos", "照片"),
    (
        "photo.line",
        "{n}. {rep} · {store} · {time} · photo {code}: {verdict}",
        "{n}. {rep} · {store} · {time} · 照片（防伪码 {code}）：{verdict}",
    ),
    ("verdict.verified", "verified", "已验证"),
    (
        "verdict.revoked_later",
        "verified, key revoked later",
        "已验证（设备密钥后来被吊销）",
    ),
    (
        "verdict.not_received",
        "not received by the server (no photo file to check)",
        "服务器未收到照片（无照片文件可核验）",
    ),
    (
        "verdict.findings",
        "NOT verified: {problems}",
        "未通过：{problems}",
    ),
    ("chains", "Signed records", "签名记录"),
    (
        "chain.line",
        "{rep}'s phone ({device}): {n} records checked in the order the server received them",
        "{rep} 的手机（{device}）：按服务器接收顺序核验 {n} 条记录",
    ),
    (
        "entry.line",
        "{rep}'s phone ({device}), {record}{visit}: {problem}",
        "{rep} 的手机（{device}），{record}{visit}：{problem}",
    ),
    ("entry.record", "record no. {seq}", "第 {seq} 条记录"),
    (
        "entry.unreadable",
        "a record whose number cannot be read (no. {n} of this phone's records in the bundle)",
        "一条无法读出编号的记录（证据包中该手机的第 {n} 条）",
    ),
    (
        "entry.rejected_for_this",
        " (the server found this too when the record arrived, rejected it and never applied it)",
        "（服务器接收此记录时已发现同一问题并拒收，从未采用）",
    ),
    (
        "entry.rejected_on_receipt",
        " (the server rejected this record when it arrived: {reason}; it was never applied)",
        "（服务器接收时已拒收此记录：{reason}；从未采用）",
    ),
    (
        "entry.visit",
        " (visit: {store}, {time})",
        "（拜访：{store}，{time}）",
    ),
    (
        "device.unknown",
        "phone ({device}) is not among the bundle's keys: {problem}",
        "手机（{device}）不在证据包的密钥列表中：{problem}",
    ),
    ("summary", "Summary", "摘要"),
    (
        "summary.line",
        "the summary says {stated} {what}, the bundle holds {counted}",
        "摘要称{what}为 {stated}，包内实有 {counted}",
    ),
    ("count.visits", "visits", "拜访数"),
    ("count.photos", "photos", "照片数"),
    ("count.photo_files", "photo files", "照片文件数"),
    ("count.entries", "records", "记录数"),
    ("count.selected_entries", "selected records", "所选记录数"),
    ("count.devices", "phones", "手机数"),
    (
        "server_found",
        "The server's own findings on this selection: {list}",
        "服务器对此范围自身的发现：{list}",
    ),
    (
        "server_found.none",
        "The server's own findings on this selection: none",
        "服务器对此范围自身的发现：无",
    ),
    (
        "result.ok",
        "Result: no findings; every photo and record checks out.",
        "结果：未发现问题，所有照片和记录均核验通过。",
    ),
    (
        "result.findings",
        "Result: {n} findings: {list}",
        "结果：发现 {n} 个问题：{list}",
    ),
    (
        "result.found_on_receipt",
        "Of these, {n} are the server's own findings on records it rejected when they arrived (marked above): kept in the bundle so that anyone can check them again, they do not show that the bundle was changed.",
        "其中 {n} 个是服务器在接收时已发现并拒收的记录（上文已注明）：证据包保留它们以便任何人复核，并不表示证据包被改动。",
    ),
    (
        "manifest_missing",
        "Photo's signed record missing from the bundle",
        "证据包中缺少照片的签名记录",
    ),
    (
        "summary_mismatch",
        "Summary does not match the bundle",
        "摘要与证据包内容不符",
    ),
    (
        "file_missing",
        "Photo file missing from the bundle",
        "证据包中缺少照片文件",
    ),
    // Reading the file.
    (
        "read.failed",
        "Cannot verify {file}: {why}",
        "无法核验 {file}：{why}",
    ),
    ("read.open", "the file cannot be opened", "文件无法打开"),
    (
        "read.not_a_zip",
        "it is not a ZIP file (an evidence bundle is one)",
        "不是 ZIP 文件（证据包是 ZIP 文件）",
    ),
    (
        "read.no_bundle_json",
        "the ZIP holds no bundle.json",
        "ZIP 中没有 bundle.json",
    ),
    (
        "read.too_large",
        "a file in it is larger than a bundle may hold",
        "其中的文件超过证据包允许的大小",
    ),
    (
        "read.member",
        "a file in the ZIP cannot be read",
        "ZIP 中的文件无法读取",
    ),
    (
        "read.bad_json",
        "bundle.json is not a valid bundle description",
        "bundle.json 不是有效的证据包说明",
    ),
    (
        "read.not_a_bundle",
        "it is not a Fieldproof evidence bundle",
        "不是 Fieldproof 证据包",
    ),
    (
        "read.unsupported_version",
        "it is a newer bundle version than this verifier reads; use a newer Fieldproof",
        "证据包版本较新，此核验程序无法读取，请使用新版 Fieldproof",
    ),
    ("read.detail", "Details: {detail}", "详情：{detail}"),
    // Exporting.
    (
        "export.nothing_asked",
        "Choose what to export: a visit, a store, a rep or dates.",
        "请选择要导出的内容：拜访、门店、业务员或日期。",
    ),
    (
        "export.unknown_store",
        "There is no store {store}.",
        "没有门店 {store}。",
    ),
    (
        "export.unknown_rep",
        "There is no rep {rep}.",
        "没有业务员 {rep}。",
    ),
    (
        "export.ambiguous_rep",
        "{n} people are called {rep}; choose the rep by ID.",
        "有 {n} 人名为 {rep}，请按用户名选择。",
    ),
    (
        "export.bad_date",
        "{date} is not a date (YYYY-MM-DD).",
        "{date} 不是有效日期（YYYY-MM-DD）。",
    ),
    (
        "export.from_after_to",
        "The first date is after the last.",
        "开始日期晚于结束日期。",
    ),
    (
        "export.visit_not_found",
        "There is no visit {visit} that you may export.",
        "没有您可导出的拜访 {visit}。",
    ),
    (
        "export.nothing_selected",
        "No visit matches this selection.",
        "没有符合此范围的拜访。",
    ),
    (
        "export.too_large",
        "Too much for one evidence bundle: {count} {what}, at most {max}. Choose fewer days, one store or one rep.",
        "超出单个证据包的上限：{count}{what}，最多 {max}。请缩短日期范围，或只选一个门店或一名业务员。",
    ),
    (
        "export.photo_gone",
        "A photo is missing from the server's photo store; the bundle was not finished.",
        "服务器照片存储中缺少一张照片，证据包未完成。",
    ),
    (
        "export.storage",
        "The server could not read its data; try again in a moment.",
        "服务器无法读取数据，请稍后重试。",
    ),
    (
        "export.write",
        "The bundle could not be written: {detail}",
        "证据包无法写入：{detail}",
    ),
    ("limit.visits", " visits", " 次拜访"),
    ("limit.photos", " photos", " 张照片"),
    ("limit.photo_bytes", " MB of photos", " MB 照片"),
    ("limit.entry_bytes", " MB of signed records", " MB 签名记录"),
];

/// The sentence `key` in `lang` with its parameters; an unknown key shows as itself.
pub fn say(lang: Lang, key: &str, params: &[(&str, String)]) -> String {
    let mut out = match TABLE.iter().find(|(k, _, _)| *k == key) {
        Some((_, en, zh)) => match lang {
            Lang::En => (*en).to_string(),
            Lang::Zh => (*zh).to_string(),
        },
        None => key.to_string(),
    };
    for (k, v) in params {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// A finding's code in words: the format's findings as the pages name them, the bundle's own
/// from this table.
pub fn code_words(lang: Lang, code: FindingCode) -> String {
    match code {
        FindingCode::Evidence(c) => lang.code_words(c.as_str()),
        other => say(lang, other.as_str(), &[]),
    }
}

fn list_sep(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ", ",
        Lang::Zh => "、",
    }
}

/// An export's refusal in words.
pub fn export_error(lang: Lang, e: &BundleError) -> String {
    let p: Vec<(&str, String)> = match e {
        BundleError::UnknownStore(s) => vec![("store", s.clone())],
        BundleError::UnknownRep(r) => vec![("rep", r.clone())],
        BundleError::AmbiguousRep(r, n) => vec![("rep", r.clone()), ("n", n.to_string())],
        BundleError::BadDate(d) => vec![("date", d.clone())],
        BundleError::VisitNotFound(v) => vec![("visit", v.clone())],
        BundleError::TooLarge { limit, count, max } => {
            let mb = |b: u64| (b / (1024 * 1024)).to_string();
            let (count, max) = match limit {
                SizeLimit::PhotoBytes | SizeLimit::EntryBytes => (mb(*count), mb(*max)),
                _ => (count.to_string(), max.to_string()),
            };
            vec![
                ("count", count),
                ("max", max),
                ("what", say(lang, &format!("limit.{}", limit.as_str()), &[])),
            ]
        }
        BundleError::Write(d) => vec![("detail", d.clone())],
        _ => vec![],
    };
    say(lang, e.code(), &p)
}

/// Why a file could not be verified, in words (the technical detail on a line of its own).
pub fn read_error(lang: Lang, file: &str, e: &super::BundleReadError) -> String {
    format!(
        "{}\n{}",
        say(
            lang,
            "read.failed",
            &[("file", file.into()), ("why", say(lang, e.code(), &[]))]
        ),
        say(lang, "read.detail", &[("detail", e.to_string())])
    )
}

fn selection_words(lang: Lang, s: &Selection, report: &Report) -> String {
    let store_name = |id: &str| {
        report.visits.iter().find(|v| v.store_id == id).map_or_else(
            || id.to_string(),
            |v| format!("{} {}", v.store_code, v.store_name),
        )
    };
    let rep_name = |id: &str| {
        report
            .visits
            .iter()
            .find(|v| v.rep_id == id)
            .map_or_else(|| id.to_string(), |v| v.rep_name.clone())
    };
    let mut parts = Vec::new();
    if let Some(v) = &s.visit_id {
        parts.push(say(lang, "sel.visit", &[("id", short(v).to_string())]));
    }
    if let Some(v) = &s.store_id {
        parts.push(say(lang, "sel.store", &[("store", store_name(v))]));
    }
    if let Some(v) = &s.rep_id {
        parts.push(say(lang, "sel.rep", &[("rep", rep_name(v))]));
    }
    if let Some(v) = &s.from {
        parts.push(say(lang, "sel.from", &[("date", v.clone())]));
    }
    if let Some(v) = &s.to {
        parts.push(say(lang, "sel.to", &[("date", v.clone())]));
    }
    parts.join(" · ")
}

fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// The verifier's report in `lang`, line by line: what the bundle is, each photo, each phone's
/// records with their findings, the summary, the result.
pub fn report_text(lang: Lang, r: &Report) -> String {
    let cal = Calendar::fixed(r.utc_offset_minutes).unwrap_or_default();
    let rep_of = |device: &str| {
        r.devices
            .iter()
            .find(|d| d.device_id == device)
            .map_or_else(|| short(device).to_string(), |d| d.rep_name.clone())
    };
    let visit_words = |visit: Option<&str>| -> Option<(String, String)> {
        let v = r.visits.iter().find(|v| Some(v.visit_id.as_str()) == visit)?;
        Some((
            format!("{} {}", v.store_code, v.store_name),
            cal.datetime(v.started_ms),
        ))
    };
    let mut out = Vec::new();
    out.push(say(lang, "title", &[]));
    let who_key = format!("who.{}", r.exported_by.role);
    let who = say(
        lang,
        &who_key,
        &[("user", r.exported_by.user_id.clone().unwrap_or_default())],
    );
    out.push(say(
        lang,
        "exported",
        &[
            ("time", cal.datetime(r.exported_ms)),
            ("offset", offset_text(r.utc_offset_minutes)),
            ("who", who),
        ],
    ));
    if let Some(o) = &r.organisation {
        out.push(say(lang, "organisation", &[("name", o.clone())]));
    }
    out.push(say(
        lang,
        "selection",
        &[("what", selection_words(lang, &r.selection, r))],
    ));
    out.push(say(
        lang,
        "holds",
        &[
            ("visits", r.visits.len().to_string()),
            ("photos", r.photos.len().to_string()),
            ("entries", r.entries.to_string()),
            ("devices", r.devices.len().to_string()),
        ],
    ));
    out.push(String::new());
    out.push(say(lang, "photos", &[]));
    for (i, p) in r.photos.iter().enumerate() {
        let (store, time) = visit_words(Some(&p.visit_id)).unwrap_or_default();
        let verdict = match p.outcome {
            PhotoOutcome::Verified => say(lang, "verdict.verified", &[]),
            PhotoOutcome::VerifiedKeyRevokedLater => say(lang, "verdict.revoked_later", &[]),
            PhotoOutcome::NotReceived => say(lang, "verdict.not_received", &[]),
            PhotoOutcome::Findings => {
                let words: Vec<String> = p.problems.iter().map(|c| code_words(lang, *c)).collect();
                say(
                    lang,
                    "verdict.findings",
                    &[("problems", words.join(list_sep(lang)))],
                )
            }
        };
        out.push(format!(
            "  {}",
            say(
                lang,
                "photo.line",
                &[
                    ("n", (i + 1).to_string()),
                    ("rep", rep_of(&p.device_id)),
                    ("store", store),
                    ("time", time),
                    ("code", p.evidence_code.clone()),
                    ("verdict", verdict),
                ],
            )
        ));
    }
    out.push(String::new());
    out.push(say(lang, "chains", &[]));
    for d in &r.devices {
        out.push(format!(
            "  {}",
            say(
                lang,
                "chain.line",
                &[
                    ("rep", d.rep_name.clone()),
                    ("device", short(&d.device_id).to_string()),
                    ("n", r.chain_len(&d.device_id).to_string()),
                ],
            )
        ));
    }
    for f in r.findings.iter().filter(|f| f.photo_id.is_none()) {
        out.push(format!("  {}", entry_finding(lang, f, &rep_of, &visit_words)));
    }
    out.push(String::new());
    out.push(match r.server_findings.is_empty() {
        true => say(lang, "server_found.none", &[]),
        false => {
            let list: Vec<String> = r
                .server_findings
                .iter()
                .map(|(code, n)| format!("{} ×{n}", lang.code_words(code)))
                .collect();
            say(lang, "server_found", &[("list", list.join(list_sep(lang)))])
        }
    });
    if r.clean() {
        out.push(say(lang, "result.ok", &[]));
    } else {
        let list: Vec<String> = counts(&r.findings)
            .into_iter()
            .map(|(c, n)| format!("{} ×{n}", code_words(lang, c)))
            .collect();
        out.push(say(
            lang,
            "result.findings",
            &[
                ("n", r.findings.len().to_string()),
                ("list", list.join(list_sep(lang))),
            ],
        ));
        if r.found_on_receipt > 0 {
            out.push(say(
                lang,
                "result.found_on_receipt",
                &[("n", r.found_on_receipt.to_string())],
            ));
        }
    }
    out.join("\n")
}

/// A visit's store and start time in words, by its id.
type VisitWords<'a> = dyn Fn(Option<&str>) -> Option<(String, String)> + 'a;

/// A finding that is not a photo's: on a record, a phone, or the summary.
fn entry_finding(
    lang: Lang,
    f: &Finding,
    rep_of: &dyn Fn(&str) -> String,
    visit_words: &VisitWords<'_>,
) -> String {
    let problem = code_words(lang, f.code);
    if let Some((what, stated, counted)) = &f.count {
        return format!(
            "{}: {}",
            problem,
            say(
                lang,
                "summary.line",
                &[
                    ("what", say(lang, &format!("count.{what}"), &[])),
                    ("stated", stated.to_string()),
                    ("counted", counted.to_string()),
                ],
            )
        );
    }
    let device = f.device_id.clone().unwrap_or_default();
    if f.position.is_none() {
        return say(
            lang,
            "device.unknown",
            &[("device", short(&device).to_string()), ("problem", problem)],
        );
    }
    let visit = visit_words(f.visit_id.as_deref())
        .map(|(store, time)| say(lang, "entry.visit", &[("store", store), ("time", time)]))
        .unwrap_or_default();
    let record = match (f.seq, f.position) {
        (Some(seq), _) => say(lang, "entry.record", &[("seq", seq.to_string())]),
        (None, at) => say(
            lang,
            "entry.unreadable",
            &[("n", at.map_or(0, |i| i + 1).to_string())],
        ),
    };
    let line = say(
        lang,
        "entry.line",
        &[
            ("rep", rep_of(&device)),
            ("device", short(&device).to_string()),
            ("record", record),
            ("visit", visit),
            ("problem", problem),
        ],
    );
    match &f.server_rejected {
        Some(_) if f.found_on_receipt() => format!("{line}{}", say(lang, "entry.rejected_for_this", &[])),
        // The server's reason in words (a finding code, or another refusal such as
        // `wrong_user`), so a reader sees the server flagged it, not the bundle's handling.
        Some(reason) => format!(
            "{line}{}",
            say(
                lang,
                "entry.rejected_on_receipt",
                &[("reason", lang.code_words(reason))]
            )
        ),
        None => line,
    }
}

/// `README.txt`, Chinese half.
pub const README_ZH: &str = "\
Fieldproof 证据包

本文件（ZIP）包含：
- bundle.json：所选拜访的照片清单、每部手机按服务器接收顺序排列的签名记录（原样字节与签名）、
  手机公钥及其登记与吊销时间、摘要；
- photos/：照片原件，文件名为照片的 SHA-256。

如何核验（无需联网，无需服务器数据）：
  fieldproof-server verify 本文件.zip            （中文输出）
  fieldproof-server verify 本文件.zip --lang en  （英文输出）
  fieldproof-server verify 本文件.zip --json     （机器可读）
退出码 0 表示未发现问题；1 表示发现问题（逐条列出）；2 表示文件无法读取。

也可以按 docs/evidence-bundle.md 与 docs/evidence-format.md 自行编写核验程序：
每条记录的 UTF-8 字节即手机签名的字节（Ed25519），照片的 SHA-256 写在其签名记录中。";

/// `README.txt`, English half.
pub const README_EN: &str = "\
Fieldproof evidence bundle

This file (a ZIP) holds:
- bundle.json: the selected visits' photos, each phone's signed records in the order the server
  received them (their exact bytes and signatures), the phones' public keys with their enrolment
  and revocation times, and a summary;
- photos/: the photo files, named by their SHA-256.

How to verify (offline, without the server's data):
  fieldproof-server verify THIS-FILE.zip --lang en
  fieldproof-server verify THIS-FILE.zip --json      (for machines)
Exit code 0: no findings; 1: findings (each listed); 2: the file cannot be read.

Or write your own verifier from docs/evidence-bundle.md and docs/evidence-format.md: each
record's UTF-8 bytes are exactly the bytes the phone signed (Ed25519), and each photo's SHA-256
is in its signed record.";

/// For a `Bundle` not yet verified (the web page's summary line).
pub fn holds(lang: Lang, b: &Bundle) -> String {
    say(
        lang,
        "holds",
        &[
            ("visits", b.visits.len().to_string()),
            ("photos", b.photos.len().to_string()),
            ("entries", b.summary.entries.to_string()),
            ("devices", b.devices.len().to_string()),
        ],
    )
}
