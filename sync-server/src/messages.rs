//! Exceptions, photo problems and refusals in the reader's language.
//!
//! [`render`] turns a stored code and its parameters (`crate::codes`) into a title, one
//! sentence that names stores, reps and template items by their names, the photos it is about
//! (thumbnails the page links), and a technical list (ids, hashes, record numbers) the pages
//! show only inside an expandable section. A row without parameters (raised before they were
//! stored) reads with its code's generic sentence. A leaf over `codes`, `i18n` and `values`.

use std::collections::HashMap;

use crate::codes::{Action, ExceptionParams, Fork, Observer, SkewKind};
use crate::i18n::Lang;
use crate::values;

/// Names the page knows for what a message refers to. Whatever it cannot name (another team's
/// photo, a deleted store) reads as a generic word; the id then goes only into `technical`.
pub trait Names {
    /// A store's name (门店名称).
    fn store(&self, store_id: &str) -> Option<String>;
    /// A rep's or supervisor's name.
    fn user(&self, user_id: &str) -> Option<String>;
    /// A photo the reader may see.
    fn photo(&self, photo_id: &str) -> Option<PhotoName>;
    /// A check item's label in the visit's template.
    fn item(&self, item_id: &str) -> Option<String>;
}

/// A photo as a page links it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoName {
    pub thumb_url: String,
    pub full_url: String,
    /// The photo's kind in words (货架全景…).
    pub kind: String,
}

/// A [`Names`] filled from maps (what a page has loaded).
#[derive(Debug, Clone, Default)]
pub struct NameTable {
    pub stores: HashMap<String, String>,
    pub users: HashMap<String, String>,
    pub photos: HashMap<String, PhotoName>,
    pub items: HashMap<String, String>,
}

impl Names for NameTable {
    fn store(&self, store_id: &str) -> Option<String> {
        self.stores.get(store_id).cloned()
    }
    fn user(&self, user_id: &str) -> Option<String> {
        self.users.get(user_id).cloned()
    }
    fn photo(&self, photo_id: &str) -> Option<PhotoName> {
        self.photos.get(photo_id).cloned()
    }
    fn item(&self, item_id: &str) -> Option<String> {
        self.items.get(item_id).cloned()
    }
}

/// A photo a message is about, linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoLink {
    pub thumb_url: String,
    pub full_url: String,
    /// "货架全景", or "本照片" / "相似照片" roles when the message says which is which.
    pub label: String,
}

/// A message ready for a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Short: the chip, the table's first column (在地理围栏外签退).
    pub title: String,
    /// One sentence in names and numbers; never an id or a hash.
    pub sentence: String,
    pub photos: Vec<PhotoLink>,
    /// (label, value) pairs for the expandable technical section: ids, hashes, record numbers.
    pub technical: Vec<(String, String)>,
}

/// (key, English, 中文). Keys: `<code>` is the code's generic sentence (rows without
/// parameters); `<code>.<variant>` a sentence with parameters; `title.<code>.<action>` a title
/// that names the action; `tech.*` technical labels; `word.*` words filled into sentences.
/// `{name}` is a parameter.
pub const TEXTS: &[(&str, &str, &str)] = &[
    // --- generic sentences, one per code ---
    (
        "bad_signature",
        "A record from this phone does not carry a valid signature: it may have been altered.",
        "该手机的一条记录签名无效，可能被篡改。",
    ),
    (
        "chain_gap",
        "Records from this phone are missing: its record chain has a gap.",
        "该手机的记录有缺失：记录链中断。",
    ),
    (
        "chain_fork",
        "This phone sent two different records for the same place in its record chain.",
        "该手机在记录链的同一位置发送了两条不同的记录。",
    ),
    (
        "reordered",
        "A record from this phone arrived out of order.",
        "该手机的一条记录顺序错乱。",
    ),
    (
        "backdated",
        "A record from this phone carries an earlier time than the record before it.",
        "该手机的一条记录时间早于前一条记录。",
    ),
    (
        "clock_jump",
        "The phone's clock was changed during the visit.",
        "拜访期间手机时间被修改。",
    ),
    (
        "clock_skew",
        "The phone's clock was far from the server's time.",
        "手机时间与服务器时间相差过大。",
    ),
    (
        "photo_missing",
        "A photo of this visit has not been uploaded, although the visit was completed.",
        "拜访已完成，但有照片尚未上传。",
    ),
    (
        "unknown_visit",
        "The server received a record for a visit whose check-in it does not have.",
        "服务器收到了一条拜访记录，但没有该拜访的签到记录。",
    ),
    (
        "unknown_store",
        "The check-in names a store that is not in head office's store list.",
        "签到的门店不在总部的门店列表中。",
    ),
    (
        "no_fix",
        "The rep had no location at check-in.",
        "签到时没有定位。",
    ),
    (
        "mock_location",
        "The phone reported a simulated (fake) location.",
        "手机使用了虚拟定位。",
    ),
    (
        "low_accuracy",
        "The location was too imprecise to check the geofence.",
        "定位精度太低，无法核验地理围栏。",
    ),
    (
        "stale_fix",
        "The location used at check-in was an old one.",
        "签到时使用的是过时的定位。",
    ),
    (
        "outside_geofence",
        "The rep was outside the store's geofence.",
        "业务员不在门店的地理围栏内。",
    ),
    (
        "price_gap_unexplained",
        "A competitor's price is far below ours and no negotiation note was written.",
        "竞品价格远低于我方价格，且未填写议价说明。",
    ),
    (
        "image_hash_mismatch",
        "The photo was changed after it was signed on the phone.",
        "照片在手机上签名后被修改过。",
    ),
    (
        "code_mismatch",
        "The evidence code burned into the photo does not match its record.",
        "照片上的防伪码与记录不符。",
    ),
    (
        "unknown_key",
        "The photo is signed by a phone the server does not know.",
        "照片由服务器未登记的手机签名。",
    ),
    (
        "revoked_key",
        "The photo is signed by a phone whose access was revoked.",
        "照片由已吊销的手机签名。",
    ),
    (
        "malformed_entry",
        "The record that came with the photo cannot be read.",
        "随照片上传的记录无法读取。",
    ),
    (
        "not_a_photo",
        "The uploaded file is not a photo.",
        "上传的文件不是照片。",
    ),
    (
        "photo_unreadable",
        "The photo cannot be decoded, so it could not be checked for reuse.",
        "照片无法解码，因此未能做重复检查。",
    ),
    (
        "possible_reuse",
        "This photo looks like a photo of another visit.",
        "该照片与其他拜访的照片相似。",
    ),
    (
        "supervisor_flag",
        "A supervisor flagged this visit for follow-up.",
        "督导标记了本次拜访，需要跟进。",
    ),
    (
        "lead_overdue",
        "A lead was not claimed in time; it went back to the pool.",
        "线索未在时限内认领，已退回公海。",
    ),
    (
        "customer_released",
        "A customer had no real interaction in time; it went back to the pool.",
        "客户在时限内没有有效跟进，已释放到公海。",
    ),
    (
        "customer_stalled",
        "A customer has stayed too long in one stage.",
        "客户在同一阶段停留过久。",
    ),
    (
        "pipeline_escalated",
        "Repeated follow-ups without progress; escalated.",
        "多次跟进仍无进展，已升级处理。",
    ),
    (
        "health_zero",
        "A part of a customer's health score has stayed at zero.",
        "客户健康度的某项指标持续为零。",
    ),
    (
        "file_missing",
        "The photo's file was not found on the server.",
        "服务器上找不到该照片文件。",
    ),
    (
        "conflicting_duplicate",
        "The phone sent a different record under an id already used; it was refused.",
        "手机用已使用的编号发送了另一条记录，已拒收。",
    ),
    (
        "wrong_user",
        "The record names another person than the phone's user; it was refused.",
        "记录中的人员不是该手机的用户，已拒收。",
    ),
    // A supervisor's photo review from a phone, refused (`crate::retakes::ReviewError`).
    (
        "review_bad_verdict",
        "A photo review from a supervisor's phone had no valid decision; it was refused.",
        "督导手机发来的照片审核结论无效，已拒收。",
    ),
    (
        "review_reason_required",
        "A photo rejection or retake request from a supervisor's phone had no reason; it was refused.",
        "督导手机发来的驳回或重拍要求未填写原因，已拒收。",
    ),
    (
        "review_reason_too_long",
        "A photo review from a supervisor's phone had too long a reason; it was refused.",
        "督导手机发来的照片审核原因过长，已拒收。",
    ),
    (
        "unknown_photo",
        "A photo review from a supervisor's phone named a photo the server does not have; it was refused.",
        "督导手机审核的照片在服务器上不存在，已拒收。",
    ),
    (
        "photo_not_in_team",
        "A photo review from a phone named a photo outside the reviewer's team; it was refused.",
        "手机发来的照片审核涉及审核人团队以外的照片，已拒收。",
    ),
    (
        "retake_not_a_rep",
        "A retake was asked of a photo that is not a rep's; it was refused.",
        "重拍要求针对的不是业务员拍摄的照片，已拒收。",
    ),
    (
        "retake_already_open",
        "A retake was asked of a photo that already has an open retake request; it was refused.",
        "该照片已有未完成的重拍要求，新的重拍要求已拒收。",
    ),
    // --- customers and leads (issue 15) ---
    (
        "customer_duplicate",
        "A rep entered a customer that is already in the system; the entry is kept, linked to the existing customer.",
        "业务员录入的客户已存在，该录入已保留并关联到已有客户。",
    ),
    (
        "customer_claim_conflict",
        "A claim did not take: another rep already has the customer or lead.",
        "认领未成功：该客户或线索已由其他业务员负责。",
    ),
    (
        "stage_evidence_missing",
        "A customer was moved to a stage without the evidence that stage needs.",
        "客户进入阶段时缺少该阶段所需的凭证。",
    ),
    (
        "customer_op_not_applied",
        "A record about a customer or lead was kept but changed nothing.",
        "一条客户或线索记录已保存，但未生效。",
    ),
    (
        "store_code_invalid",
        "The store code scanned at check-in did not verify.",
        "签到时扫描的门店码验证未通过。",
    ),
    // --- sentences with parameters ---
    (
        "bad_signature.op",
        "Record no. {seq} from this phone does not carry a valid signature: it may have been altered. It was refused.",
        "该手机的第 {seq} 条记录签名无效，可能被篡改，已拒收。",
    ),
    (
        "image_hash_mismatch.upload",
        "An upload did not match the photo its signed record announced; it was refused and the phone sends the photo again.",
        "上传的内容与签名记录所声明的照片不符，已拒收，手机将重新上传该照片。",
    ),
    (
        "bad_signature.photo",
        "The photo's signature is not valid: it may have been altered.",
        "照片的签名无效，可能被篡改。",
    ),
    (
        "chain_gap.seq",
        "Records from this phone are missing before record no. {seq} (the last one received was no. {previous}).",
        "该手机第 {seq} 条记录之前有记录缺失（此前收到的最后一条是第 {previous} 条）。",
    ),
    (
        "reordered.seq",
        "Record no. {seq} from this phone arrived after record no. {previous}.",
        "该手机的第 {seq} 条记录在第 {previous} 条之后才到达。",
    ),
    (
        "backdated.seq",
        "Record no. {seq} from this phone carries an earlier time than the record before it: the phone's clock may have been set back.",
        "该手机第 {seq} 条记录的时间早于前一条记录，手机时间可能被调早。",
    ),
    (
        "chain_fork.broken_link",
        "Record no. {seq} from this phone does not continue the records before it: records may have been deleted or replaced.",
        "该手机的第 {seq} 条记录与之前的记录衔接不上，记录可能被删除或替换。",
    ),
    (
        "chain_fork.op_id_reused",
        "This phone sent a different record under the id of a record already received (record no. {seq}); it was refused.",
        "该手机用已收到记录的编号发送了另一条不同的记录（第 {seq} 条），已拒收。",
    ),
    (
        "chain_fork.seq_taken",
        "This phone sent a second, different record no. {seq}; it was refused.",
        "该手机发送了第二条不同的第 {seq} 条记录，已拒收。",
    ),
    (
        "clock_jump.forward",
        "The phone's clock was set forward by {drift} during the visit.",
        "拜访期间手机时间被调快了 {drift}。",
    ),
    (
        "clock_jump.back",
        "The phone's clock was set back by {drift} during the visit.",
        "拜访期间手机时间被调慢了 {drift}。",
    ),
    (
        "clock_skew.offset_ahead",
        "When this was recorded the phone's clock was {drift} ahead of the server's time.",
        "记录时手机时间比服务器时间快 {drift}。",
    ),
    (
        "clock_skew.offset_behind",
        "When this was recorded the phone's clock was {drift} behind the server's time.",
        "记录时手机时间比服务器时间慢 {drift}。",
    ),
    (
        "clock_skew.ahead",
        "This record's time is {drift} later than the server's clock: the phone's clock was set forward.",
        "该记录的时间比服务器时间晚 {drift}，手机时间被调快。",
    ),
    (
        "unknown_visit.op",
        "The server received {op} for a visit whose check-in it does not have.",
        "服务器收到了{op}，但没有该拜访的签到记录。",
    ),
    (
        "no_fix.check_in",
        "The rep had no location at check-in.",
        "签到时没有定位。",
    ),
    (
        "no_fix.check_out",
        "The rep had no location at check-out.",
        "签退时没有定位。",
    ),
    (
        "no_fix.photo",
        "The photo was taken without a location.",
        "拍照时没有定位。",
    ),
    (
        "mock_location.check_in",
        "At check-in the phone reported a simulated (fake) location.",
        "签到时手机使用了虚拟定位。",
    ),
    (
        "mock_location.check_out",
        "At check-out the phone reported a simulated (fake) location.",
        "签退时手机使用了虚拟定位。",
    ),
    (
        "mock_location.photo",
        "When the photo was taken the phone reported a simulated (fake) location.",
        "拍摄照片时手机使用了虚拟定位。",
    ),
    (
        "low_accuracy.check_in",
        "At check-in the location was accurate only to {accuracy}; the limit is {limit}.",
        "签到时定位精度仅为 {accuracy}，上限为 {limit}。",
    ),
    (
        "low_accuracy.check_out",
        "At check-out the location was accurate only to {accuracy}; the limit is {limit}.",
        "签退时定位精度仅为 {accuracy}，上限为 {limit}。",
    ),
    (
        "low_accuracy.photo",
        "When the photo was taken the location was accurate only to {accuracy}; the limit is {limit}.",
        "拍照时定位精度仅为 {accuracy}，上限为 {limit}。",
    ),
    (
        "stale_fix.check_in",
        "At check-in the location was {age} old; at most {limit} is accepted.",
        "签到时使用的定位已过去 {age}，最多允许 {limit}。",
    ),
    (
        "stale_fix.check_out",
        "At check-out the location was {age} old; at most {limit} is accepted.",
        "签退时使用的定位已过去 {age}，最多允许 {limit}。",
    ),
    (
        "stale_fix.photo",
        "When the photo was taken the location was {age} old; at most {limit} is accepted.",
        "拍照时使用的定位已过去 {age}，最多允许 {limit}。",
    ),
    (
        "outside_geofence.check_in",
        "Checked in {distance} from {store}; the geofence radius is {radius}.",
        "在距{store} {distance} 处签到，地理围栏半径为 {radius}。",
    ),
    (
        "outside_geofence.check_out",
        "Checked out {distance} from {store}; the geofence radius is {radius}.",
        "在距{store} {distance} 处签退，地理围栏半径为 {radius}。",
    ),
    (
        "outside_geofence.photo",
        "The photo was taken {distance} from {store}; the geofence radius is {radius}.",
        "在距{store} {distance} 处拍照，地理围栏半径为 {radius}。",
    ),
    (
        "price_gap_unexplained.full",
        "The competitor's price for “{item}” is {theirs}, {gap} below ours for “{own_item}” ({ours}), more than the {threshold} allowed; no negotiation note was written.",
        "竞品“{item}”价格为 {theirs}，比我方“{own_item}”（{ours}）低 {gap}，超过允许的 {threshold}，且未填写议价说明。",
    ),
    (
        "price_gap_unexplained.item",
        "The competitor's price for “{item}” is far below ours and no negotiation note was written.",
        "竞品“{item}”价格远低于我方价格，且未填写议价说明。",
    ),
    (
        "possible_reuse.rep",
        "This photo looks like {count} earlier photo(s) of other visits; the closest was taken by {rep}.",
        "该照片与其他拜访中 {count} 张较早的照片相似，最相似的一张由{rep}拍摄。",
    ),
    (
        "possible_reuse.count",
        "This photo looks like {count} earlier photo(s) of other visits.",
        "该照片与其他拜访中 {count} 张较早的照片相似。",
    ),
    (
        "lead_overdue.full",
        "The lead “{name}” was not claimed within {time}; it went back to the pool.",
        "线索“{name}”未在 {time} 内认领，已退回公海。",
    ),
    (
        "customer_released.full",
        "“{name}” had no real interaction for {days} days; it went back to the pool.",
        "“{name}”连续 {days} 天没有有效跟进，已释放到公海。",
    ),
    (
        "customer_stalled.full",
        "“{name}” has been in the stage “{stage}” for {days} days.",
        "“{name}”已在“{stage}”阶段停留 {days} 天。",
    ),
    (
        "pipeline_escalated.full",
        "“{name}” was followed up {count} times in {days} days without progress.",
        "“{name}”在 {days} 天内跟进了 {count} 次仍无进展。",
    ),
    (
        "health_zero.full",
        "“{name}”: {component} has been at zero for {days} days.",
        "“{name}”：{component}已连续 {days} 天为零。",
    ),
    // --- titles that name the action ---
    (
        "title.outside_geofence.check_in",
        "Checked in outside the geofence",
        "在地理围栏外签到",
    ),
    (
        "title.outside_geofence.check_out",
        "Checked out outside the geofence",
        "在地理围栏外签退",
    ),
    (
        "title.outside_geofence.photo",
        "Photo taken outside the geofence",
        "在地理围栏外拍照",
    ),
    (
        "title.mock_location.check_in",
        "Mock location at check-in",
        "签到时虚拟定位",
    ),
    (
        "title.mock_location.check_out",
        "Mock location at check-out",
        "签退时虚拟定位",
    ),
    (
        "title.mock_location.photo",
        "Mock location on a photo",
        "拍照时虚拟定位",
    ),
    ("title.no_fix.check_in", "No location at check-in", "签到无定位"),
    ("title.no_fix.check_out", "No location at check-out", "签退无定位"),
    ("title.no_fix.photo", "No location on a photo", "拍照无定位"),
    (
        "title.low_accuracy.check_in",
        "Low location accuracy at check-in",
        "签到定位精度低",
    ),
    (
        "title.low_accuracy.check_out",
        "Low location accuracy at check-out",
        "签退定位精度低",
    ),
    (
        "title.low_accuracy.photo",
        "Low location accuracy on a photo",
        "拍照定位精度低",
    ),
    (
        "title.stale_fix.check_in",
        "Stale location at check-in",
        "签到定位过时",
    ),
    (
        "title.stale_fix.check_out",
        "Stale location at check-out",
        "签退定位过时",
    ),
    (
        "title.stale_fix.photo",
        "Stale location on a photo",
        "拍照定位过时",
    ),
    // --- words filled into sentences ---
    ("word.a_rep", "A rep", "一名业务员"),
    ("word.matched.phone", "phone number", "电话号码"),
    ("word.matched.company", "company name", "公司名称"),
    (
        "customer_duplicate.owner",
        "{rep} entered a customer that {owner} already has (same {matched}); the entry is kept, linked to it.",
        "{rep}录入的客户已由{owner}负责（{matched}相同），该录入已保留并关联到已有客户。",
    ),
    (
        "customer_duplicate.pool",
        "{rep} entered a customer already in the pool (same {matched}); the entry is kept, linked to it.",
        "{rep}录入的客户已在公海中（{matched}相同），该录入已保留并关联到已有客户。",
    ),
    (
        "customer_claim_conflict.customer",
        "{rep} claimed a customer that {holder} already has; the claim did not take.",
        "{rep}认领的客户已由{holder}负责，认领未成功。",
    ),
    (
        "customer_claim_conflict.lead",
        "{rep} claimed a lead that {holder} already has; the claim did not take.",
        "{rep}认领的线索已由{holder}负责，认领未成功。",
    ),
    (
        "stage_evidence_missing.list",
        "A customer was moved to “{stage}” without: {missing}.",
        "客户进入“{stage}”阶段时缺少：{missing}。",
    ),
    (
        "customer_op_not_applied.unknown",
        "The server kept {op} about a customer or lead it does not have.",
        "服务器已保存{op}，但没有对应的客户或线索。",
    ),
    (
        "customer_op_not_applied.not_owner",
        "The server kept {op} from a rep who does not hold the customer or lead; it changed nothing.",
        "服务器已保存{op}，但该业务员并不负责该客户或线索，记录未生效。",
    ),
    (
        "customer_op_not_applied.stage_move",
        "A stage move was not allowed from the customer's current stage; it is kept but changed nothing.",
        "该阶段变更不符合客户当前阶段的规则，记录已保存但未生效。",
    ),
    (
        "customer_op_not_applied.lead_closed",
        "The server kept {op} about a lead that is no longer open; it changed nothing.",
        "服务器已保存{op}，但对应的线索已不再开放，记录未生效。",
    ),
    (
        "customer_op_not_applied.reclaim_cooldown",
        "The rep gave this customer up too recently to claim it back; the claim is kept but did not take.",
        "该业务员释放此客户的时间太近，暂不能重新认领，认领记录已保存但未生效。",
    ),
    (
        "customer_op_not_applied.limit_reached",
        "The rep already holds as many customers as the settings allow; the claim is kept but did not take.",
        "该业务员持有的客户已达设置上限，认领记录已保存但未生效。",
    ),
    (
        "store_code_invalid.expired",
        "The store code scanned at check-in at {store} was not current: possibly a photo of an old code.",
        "在{store}签到时扫描的门店码已过期，可能是旧码的照片。",
    ),
    (
        "store_code_invalid.wrong_store",
        "The code scanned at check-in at {store} belongs to another store.",
        "在{store}签到时扫描的是其他门店的码。",
    ),
    (
        "store_code_invalid.bad_signature",
        "The store code scanned at check-in at {store} is forged or altered.",
        "在{store}签到时扫描的门店码是伪造或被篡改的。",
    ),
    (
        "store_code_invalid.unknown_key",
        "The store code scanned at check-in at {store} was signed by a key the server does not know for this store.",
        "在{store}签到时扫描的门店码所用密钥不属于该门店。",
    ),
    (
        "store_code_invalid.malformed",
        "What was scanned at check-in at {store} is not a store code.",
        "在{store}签到时扫描的不是门店码。",
    ),
    ("op.customer.create", "a new customer", "新客户记录"),
    ("op.customer.update", "a customer update", "客户信息更新"),
    ("op.customer.follow_up", "a follow-up", "跟进记录"),
    ("op.customer.stage", "a stage move", "阶段变更"),
    ("op.customer.photo", "a stage photo", "阶段凭证照片"),
    ("op.customer.claim", "a claim", "认领记录"),
    ("op.customer.release", "a release", "释放记录"),
    ("op.lead.claim", "a lead claim", "线索认领"),
    ("op.lead.close", "a lead closing", "线索关闭记录"),
    ("tech.customer", "Customer id", "客户编号"),
    ("tech.duplicate_of", "Existing customer id", "已有客户编号"),
    ("tech.lead", "Lead id", "线索编号"),
    ("tech.requirement", "Requirement id", "凭证要求编号"),
    ("tech.step", "Code step", "码序号"),
    ("word.store", "the store", "门店"),
    ("word.rep", "another rep", "其他业务员"),
    ("word.item", "a competitor's item", "竞品项目"),
    ("word.own_item", "our item", "我方项目"),
    ("word.this_photo", "This photo", "本照片"),
    ("word.similar_photo", "Similar photo", "相似照片"),
    ("op.visit.check_in", "a check-in", "签到记录"),
    ("op.visit.answer", "a check answer", "检查项答案"),
    ("op.visit.photo", "a photo", "照片"),
    ("op.visit.report", "a visit report", "拜访报告"),
    ("op.visit.complete", "the visit's completion", "完成拜访记录"),
    ("op.visit.check_out", "a check-out", "签退记录"),
    ("op.visit.cancel", "a cancellation", "取消拜访记录"),
    ("op.visit.review", "a supervisor's review", "督导审核"),
    ("op.other", "a record", "一条记录"),
    // --- technical labels ---
    ("tech.code", "Code", "代码"),
    ("tech.record", "Record no.", "记录序号"),
    ("tech.op", "Op id", "操作编号"),
    ("tech.other_op", "Op already stored", "已存储的操作编号"),
    ("tech.photo", "Photo id", "照片编号"),
    ("tech.sha256", "SHA-256", "SHA-256"),
    ("tech.expected_sha256", "Announced SHA-256", "声明的 SHA-256"),
    ("tech.actual_sha256", "Received SHA-256", "收到的 SHA-256"),
    ("tech.store", "Store id", "门店编号"),
    ("tech.item", "Item id", "项目编号"),
    ("tech.own_item", "Own item id", "我方项目编号"),
    ("tech.observer", "Seen by", "发现方"),
    ("tech.observer.device", "the phone", "手机"),
    ("tech.observer.server", "the server", "服务器"),
    ("tech.op_kind", "Record kind", "记录类型"),
    (
        "tech.threshold",
        "Reuse threshold (perceptual distance)",
        "重复判定阈值（感知距离）",
    ),
    ("tech.match", "Similar photo", "相似照片"),
    ("tech.distance", "perceptual distance", "感知距离"),
    ("tech.visit", "visit", "拜访"),
    ("tech.device", "device", "设备"),
];

/// The text for `key`; None when the catalogue lacks it.
fn text(lang: Lang, key: &str) -> Option<&'static str> {
    TEXTS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, zh)| match lang {
            Lang::En => *en,
            Lang::Zh => *zh,
        })
}

/// `text(key)`, falling back to the code's generic sentence.
fn fill(lang: Lang, key: &str, code: &str, params: &[(&str, String)]) -> String {
    let Some(mut out) = text(lang, key).map(str::to_string) else {
        return generic(lang, code);
    };
    for (k, v) in params {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// The code's generic sentence; an unknown code reads as its title.
fn generic(lang: Lang, code: &str) -> String {
    text(lang, code).map_or_else(|| lang.code_words(code), str::to_string)
}

fn action_key(a: Action) -> &'static str {
    match a {
        Action::CheckIn => "check_in",
        Action::CheckOut => "check_out",
        Action::Photo => "photo",
    }
}

/// A photo problem (`blobs.problems`, one code) in words, for a badge.
pub fn photo_problem(lang: Lang, code: &str) -> String {
    lang.code_words(code)
}

/// A photo's stored problems (`photos.problems`, comma-separated codes) in words, for the list
/// beside its badge; none for a photo without problems.
pub fn photo_problems(lang: Lang, problems: Option<&str>) -> Vec<String> {
    problems
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| photo_problem(lang, c))
        .collect()
}

/// Why a pushed op was refused, in one sentence.
pub fn refusal(lang: Lang, reason: &str) -> String {
    generic(lang, reason)
}

/// An exception's code and stored parameters in `lang`, with names from `names`.
pub fn render(lang: Lang, code: &str, params: Option<&serde_json::Value>, names: &dyn Names) -> Rendered {
    let t = |key: &str| text(lang, key).unwrap_or(key).to_string();
    let mut out = Rendered {
        title: lang.code_words(code),
        sentence: generic(lang, code),
        photos: Vec::new(),
        technical: vec![(t("tech.code"), code.to_string())],
    };
    let Some(p) = params.and_then(|v| ExceptionParams::parse(code, v)) else {
        return out;
    };
    let photo = |out: &mut Rendered, photo_id: &str, label: Option<String>| {
        if let Some(n) = (!photo_id.is_empty()).then(|| names.photo(photo_id)).flatten() {
            out.photos.push(PhotoLink {
                thumb_url: n.thumb_url,
                full_url: n.full_url,
                label: label.unwrap_or(n.kind),
            });
        }
    };
    let seq = |s: i64| s.to_string();
    match p {
        ExceptionParams::OutsideGeofence(g) => {
            let a = action_key(g.action);
            out.title = t(&format!("title.{code}.{a}"));
            let store = names.store(&g.store_id).unwrap_or_else(|| t("word.store"));
            out.sentence = fill(
                lang,
                &format!("{code}.{a}"),
                code,
                &[
                    ("distance", values::metres(lang, g.distance_m)),
                    ("radius", values::metres(lang, g.radius_m)),
                    ("store", store),
                ],
            );
            out.technical.push((t("tech.store"), g.store_id));
        }
        ExceptionParams::MockLocation(m) => {
            let a = action_key(m.action);
            out.title = t(&format!("title.{code}.{a}"));
            out.sentence = fill(lang, &format!("{code}.{a}"), code, &[]);
            if let Some(id) = &m.photo_id {
                photo(&mut out, id, None);
                out.technical.push((t("tech.photo"), id.clone()));
            }
            if let Some(sha) = m.sha256 {
                out.technical.push((t("tech.sha256"), sha));
            }
        }
        ExceptionParams::NoFix(n) => {
            let a = action_key(n.action);
            out.title = t(&format!("title.{code}.{a}"));
            out.sentence = fill(lang, &format!("{code}.{a}"), code, &[]);
        }
        ExceptionParams::LowAccuracy(l) => {
            let a = action_key(l.action);
            out.title = t(&format!("title.{code}.{a}"));
            out.sentence = fill(
                lang,
                &format!("{code}.{a}"),
                code,
                &[
                    ("accuracy", values::metres(lang, l.accuracy_m)),
                    ("limit", values::metres(lang, l.limit_m)),
                ],
            );
        }
        ExceptionParams::StaleFix(s) => {
            let a = action_key(s.action);
            out.title = t(&format!("title.{code}.{a}"));
            out.sentence = fill(
                lang,
                &format!("{code}.{a}"),
                code,
                &[
                    ("age", values::duration_s(lang, s.age_s)),
                    ("limit", values::duration_s(lang, s.limit_s)),
                ],
            );
        }
        ExceptionParams::ClockJump(j) => {
            if let Some(d) = j.drift_s {
                let key = if d >= 0 {
                    "clock_jump.forward"
                } else {
                    "clock_jump.back"
                };
                out.sentence = fill(lang, key, code, &[("drift", values::duration_s(lang, d))]);
            }
            let observer = match j.observer {
                Observer::Device => "tech.observer.device",
                Observer::Server => "tech.observer.server",
            };
            out.technical.push((t("tech.observer"), t(observer)));
            out.technical.push((t("tech.record"), seq(j.seq)));
        }
        ExceptionParams::ClockSkew(s) => {
            let key = match s.kind {
                SkewKind::Offset if s.seconds >= 0 => "clock_skew.offset_ahead",
                SkewKind::Offset => "clock_skew.offset_behind",
                SkewKind::Ahead => "clock_skew.ahead",
            };
            out.sentence = fill(lang, key, code, &[("drift", values::duration_s(lang, s.seconds))]);
            out.technical.push((t("tech.record"), seq(s.seq)));
        }
        ExceptionParams::Chain(c) => {
            let key = match (code, c.fork) {
                ("chain_fork", Some(Fork::OpIdReused)) => "chain_fork.op_id_reused".to_string(),
                ("chain_fork", Some(Fork::SeqTaken)) => "chain_fork.seq_taken".to_string(),
                ("chain_fork", _) => "chain_fork.broken_link".to_string(),
                _ if c.previous_seq.is_some() => format!("{code}.seq"),
                _ => code.to_string(),
            };
            let previous = c.previous_seq.map_or_else(String::new, seq);
            out.sentence = fill(lang, &key, code, &[("seq", seq(c.seq)), ("previous", previous)]);
            out.technical.push((t("tech.record"), seq(c.seq)));
            if let Some(o) = c.other_op_id {
                out.technical.push((t("tech.other_op"), o));
            }
        }
        ExceptionParams::BadSignature(b) => {
            out.sentence = fill(lang, "bad_signature.op", code, &[("seq", seq(b.seq))]);
            out.technical.push((t("tech.record"), seq(b.seq)));
        }
        ExceptionParams::Photo(ph) => {
            if code == "bad_signature" {
                out.sentence = fill(lang, "bad_signature.photo", code, &[]);
            }
            photo(&mut out, &ph.photo_id, None);
            if !ph.photo_id.is_empty() {
                out.technical.push((t("tech.photo"), ph.photo_id));
            }
            out.technical.push((t("tech.sha256"), ph.sha256));
        }
        ExceptionParams::PhotoHashMismatch(h) => {
            out.sentence = fill(lang, "image_hash_mismatch.upload", code, &[]);
            if let Some(id) = h.photo_id {
                out.technical.push((t("tech.photo"), id));
            }
            out.technical.push((t("tech.expected_sha256"), h.expected_sha256));
            out.technical.push((t("tech.actual_sha256"), h.actual_sha256));
        }
        ExceptionParams::UnknownStore(s) => {
            out.technical.push((t("tech.store"), s.store_id));
        }
        ExceptionParams::UnknownVisit(u) => {
            let op = text(lang, &format!("op.{}", u.op_kind))
                .unwrap_or_else(|| text(lang, "op.other").unwrap_or(""));
            out.sentence = fill(lang, "unknown_visit.op", code, &[("op", op.to_string())]);
            out.technical.push((t("tech.op_kind"), u.op_kind));
            out.technical.push((t("tech.record"), seq(u.seq)));
        }
        ExceptionParams::PriceGap(g) => {
            let item = names.item(&g.item_id).unwrap_or_else(|| t("word.item"));
            out.sentence = match (g.competitor_cents, g.own_cents, g.gap_pct, g.threshold_pct) {
                (Some(theirs), Some(ours), Some(gap), Some(threshold)) => {
                    let own_item = g
                        .own_item_id
                        .as_deref()
                        .and_then(|i| names.item(i))
                        .unwrap_or_else(|| t("word.own_item"));
                    fill(
                        lang,
                        "price_gap_unexplained.full",
                        code,
                        &[
                            ("item", item),
                            ("own_item", own_item),
                            ("theirs", values::money(theirs)),
                            ("ours", values::money(ours)),
                            ("gap", values::percent(gap)),
                            ("threshold", values::percent(threshold)),
                        ],
                    )
                }
                _ => fill(lang, "price_gap_unexplained.item", code, &[("item", item)]),
            };
            out.technical.push((t("tech.item"), g.item_id));
            if let Some(own) = g.own_item_id {
                out.technical.push((t("tech.own_item"), own));
            }
        }
        ExceptionParams::Reuse(r) => {
            let count = r.matches_total.to_string();
            let closest_rep = r
                .matches
                .first()
                .and_then(|m| m.user_id.as_deref())
                .and_then(|u| names.user(u));
            out.sentence = match closest_rep {
                Some(rep) => fill(
                    lang,
                    "possible_reuse.rep",
                    code,
                    &[("count", count), ("rep", rep)],
                ),
                None => fill(lang, "possible_reuse.count", code, &[("count", count)]),
            };
            photo(&mut out, &r.photo_id, Some(t("word.this_photo")));
            out.technical.push((t("tech.photo"), r.photo_id));
            out.technical.push((t("tech.sha256"), r.sha256));
            out.technical.push((t("tech.threshold"), r.threshold.to_string()));
            for m in r.matches {
                photo(&mut out, &m.photo_id, Some(t("word.similar_photo")));
                out.technical.push((
                    t("tech.match"),
                    format!(
                        "{} · {} {} · {} {} · {} {} · SHA-256 {}",
                        m.photo_id,
                        t("tech.distance"),
                        m.distance,
                        t("tech.visit"),
                        m.visit_id,
                        t("tech.device"),
                        m.device_id,
                        m.sha256
                    ),
                ));
            }
        }
        ExceptionParams::CustomerDuplicate(d) => {
            let rep = names.user(&d.entered_by).unwrap_or_else(|| t("word.a_rep"));
            let matched = match d.matched_on {
                crate::codes::MatchedOn::Phone => t("word.matched.phone"),
                crate::codes::MatchedOn::Company => t("word.matched.company"),
            };
            out.sentence = match &d.owner_id {
                Some(owner) => {
                    let owner = names.user(owner).unwrap_or_else(|| t("word.rep"));
                    fill(
                        lang,
                        "customer_duplicate.owner",
                        code,
                        &[("rep", rep), ("owner", owner), ("matched", matched)],
                    )
                }
                None => fill(
                    lang,
                    "customer_duplicate.pool",
                    code,
                    &[("rep", rep), ("matched", matched)],
                ),
            };
            out.technical.push((t("tech.customer"), d.customer_id));
            out.technical.push((t("tech.duplicate_of"), d.duplicate_of));
        }
        ExceptionParams::ClaimConflict(c) => {
            let rep = names.user(&c.claimant_id).unwrap_or_else(|| t("word.a_rep"));
            let holder = c
                .holder_id
                .as_deref()
                .and_then(|h| names.user(h))
                .unwrap_or_else(|| t("word.rep"));
            let key = if c.what == "lead" {
                "customer_claim_conflict.lead"
            } else {
                "customer_claim_conflict.customer"
            };
            out.sentence = fill(lang, key, code, &[("rep", rep), ("holder", holder)]);
            let label = if c.what == "lead" {
                "tech.lead"
            } else {
                "tech.customer"
            };
            out.technical.push((t(label), c.id));
        }
        ExceptionParams::StageEvidenceMissing(m) => {
            let sep = if lang == Lang::Zh { "、" } else { ", " };
            out.sentence = fill(
                lang,
                "stage_evidence_missing.list",
                code,
                &[("stage", m.to_label), ("missing", m.missing_labels.join(sep))],
            );
            out.technical.push((t("tech.customer"), m.customer_id));
            for r in m.missing {
                out.technical.push((t("tech.requirement"), r));
            }
        }
        ExceptionParams::CustomerOpNotApplied(n) => {
            let op = text(lang, &format!("op.{}", n.op_kind))
                .unwrap_or_else(|| text(lang, "op.other").unwrap_or(""));
            let key = match n.why {
                crate::codes::NotApplied::Unknown => "customer_op_not_applied.unknown",
                crate::codes::NotApplied::NotOwner => "customer_op_not_applied.not_owner",
                crate::codes::NotApplied::StageMove => "customer_op_not_applied.stage_move",
                crate::codes::NotApplied::LeadClosed => "customer_op_not_applied.lead_closed",
                crate::codes::NotApplied::ReclaimCooldown => "customer_op_not_applied.reclaim_cooldown",
                crate::codes::NotApplied::LimitReached => "customer_op_not_applied.limit_reached",
            };
            out.sentence = fill(lang, key, code, &[("op", op.to_string())]);
            out.technical.push((t("tech.op_kind"), n.op_kind));
            out.technical.push((t("tech.customer"), n.id));
        }
        ExceptionParams::StoreCodeInvalid(s) => {
            let store = names.store(&s.store_id).unwrap_or_else(|| t("word.store"));
            let key = match s.problem {
                crate::codes::StoreCodeFault::Expired => "store_code_invalid.expired",
                crate::codes::StoreCodeFault::WrongStore => "store_code_invalid.wrong_store",
                crate::codes::StoreCodeFault::BadSignature => "store_code_invalid.bad_signature",
                crate::codes::StoreCodeFault::UnknownKey => "store_code_invalid.unknown_key",
                crate::codes::StoreCodeFault::Malformed => "store_code_invalid.malformed",
            };
            out.sentence = fill(lang, key, code, &[("store", store)]);
            out.technical.push((t("tech.store"), s.store_id));
            if let Some(step) = s.step {
                out.technical.push((t("tech.step"), step.to_string()));
            }
        }
        ExceptionParams::Pipeline(p) => {
            let days = p.days.unwrap_or(0).to_string();
            let filled: Vec<(&str, String)> = match code {
                "lead_overdue" => vec![
                    ("name", p.name),
                    ("time", values::duration_s(lang, p.minutes.unwrap_or(0) * 60)),
                ],
                "customer_stalled" => vec![
                    ("name", p.name),
                    ("stage", p.stage.unwrap_or_default()),
                    ("days", days),
                ],
                "pipeline_escalated" => vec![
                    ("name", p.name),
                    ("count", p.count.unwrap_or(0).to_string()),
                    ("days", days),
                ],
                "health_zero" => {
                    let component = match lang {
                        Lang::En => p.component_en,
                        Lang::Zh => p.component_zh,
                    };
                    vec![
                        ("name", p.name),
                        ("component", component.unwrap_or_default()),
                        ("days", days),
                    ]
                }
                _ => vec![("name", p.name), ("days", days)],
            };
            out.sentence = fill(lang, &format!("{code}.full"), code, &filled);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;
    use crate::codes;

    /// Parameters as the server writes them, for every exception code that has any.
    fn samples(code: &str) -> Vec<serde_json::Value> {
        let sha = "f555f555f555f555f555f555f555f555f555f555f555f555f555f555f555f555";
        let photo = json!({"photo_id": "0193a2b4-5c6d-7e8f-9012-3456789abcde", "sha256": sha});
        let actions = ["check_in", "check_out", "photo"];
        match code {
            "outside_geofence" => actions
                .iter()
                .map(|a| json!({"action": a, "distance_m": 590.4, "radius_m": 150.0, "store_id": "store-1"}))
                .collect(),
            "mock_location" => actions
                .iter()
                .map(|a| json!({"action": a, "photo_id": "0193a2b4-5c6d-7e8f-9012-3456789abcde", "sha256": sha}))
                .collect(),
            "no_fix" => actions.iter().map(|a| json!({"action": a})).collect(),
            "low_accuracy" => actions
                .iter()
                .map(|a| json!({"action": a, "accuracy_m": 250.0, "limit_m": 100.0}))
                .collect(),
            "stale_fix" => actions
                .iter()
                .map(|a| json!({"action": a, "age_s": 900, "limit_s": 300}))
                .collect(),
            "clock_jump" => vec![
                json!({"observer": "server", "drift_s": 3600, "seq": 12}),
                json!({"observer": "device", "drift_s": -7200, "seq": 12}),
                json!({"observer": "device", "drift_s": null, "seq": 12}),
            ],
            "clock_skew" => vec![
                json!({"kind": "offset", "seconds": 1200, "seq": 4}),
                json!({"kind": "offset", "seconds": -1200, "seq": 4}),
                json!({"kind": "ahead", "seconds": 86400, "seq": 4}),
            ],
            "chain_gap" | "reordered" | "backdated" => vec![json!({"seq": 9, "previous_seq": 5})],
            "chain_fork" => vec![
                json!({"seq": 9, "previous_seq": 8, "fork": "broken_link"}),
                json!({"seq": 9, "previous_seq": null, "fork": "op_id_reused"}),
                json!({"seq": 9, "previous_seq": null, "fork": "seq_taken",
                       "other_op_id": "0193a2b4-5c6d-7e8f-9012-3456789abcdf"}),
            ],
            "bad_signature" => vec![json!({"seq": 3}), photo],
            "photo_missing" | "photo_unreadable" | "code_mismatch" | "unknown_key" | "revoked_key"
            | "malformed_entry" | "not_a_photo" => vec![photo],
            "image_hash_mismatch" => vec![
                photo,
                json!({"photo_id": "0193a2b4-5c6d-7e8f-9012-3456789abcde",
                    "expected_sha256": sha, "actual_sha256": "00aa".repeat(16)}),
            ],
            "unknown_store" => vec![json!({"store_id": "0193a2b4-5c6d-7e8f-9012-000000000001"})],
            "unknown_visit" => vec![
                json!({"op_kind": "visit.answer", "seq": 2}),
                json!({"op_kind": "visit.future_kind", "seq": 2}),
            ],
            "price_gap_unexplained" => vec![
                json!({"item_id": "competitor_price", "own_item_id": "own_price", "competitor_cents": 990,
                       "own_cents": 1500, "gap_pct": 34.0, "threshold_pct": 15.0}),
                json!({"item_id": "competitor_price"}),
            ],
            "possible_reuse" => vec![
                json!({"photo_id": "0193a2b4-5c6d-7e8f-9012-3456789abcde", "sha256": sha, "threshold": 12,
                       "matches_total": 3, "matches": [{"sha256": "ab".repeat(32), "distance": 4,
                       "photo_id": "0193a2b4-5c6d-7e8f-9012-3456789abce0", "visit_id": "v-1",
                       "device_id": "dev-1", "user_id": "rep-chen"}]}),
                json!({"photo_id": "p", "sha256": sha, "threshold": 12, "matches_total": 1, "matches": []}),
            ],
            "customer_duplicate" => vec![
                json!({"customer_id": "c-2", "duplicate_of": "c-1", "matched_on": "phone",
                       "entered_by": "rep-chen", "owner_id": "rep-wang"}),
                json!({"customer_id": "c-2", "duplicate_of": "c-1", "matched_on": "company",
                       "entered_by": "rep-chen", "owner_id": null}),
            ],
            "customer_claim_conflict" => vec![
                json!({"what": "customer", "id": "c-1", "claimant_id": "rep-chen", "holder_id": "rep-wang"}),
                json!({"what": "lead", "id": "l-1", "claimant_id": "rep-x", "holder_id": null}),
            ],
            "stage_evidence_missing" => vec![json!({"customer_id": "c-1", "from_stage": "demo",
                "to_stage": "negotiation", "to_label": "报价谈判", "missing": ["tech_spec_form"],
                "missing_labels": ["签字的技术参数确认单"]})],
            "customer_op_not_applied" => [
                "unknown",
                "not_owner",
                "stage_move",
                "lead_closed",
                "reclaim_cooldown",
                "limit_reached",
            ]
                .iter()
                .map(|w| json!({"op_kind": "customer.stage", "id": "c-1", "why": w, "stage_refusal": "skips"}))
                .collect(),
            "store_code_invalid" => ["malformed", "wrong_store", "unknown_key", "bad_signature", "expired"]
                .iter()
                .map(|p| json!({"store_id": "store-1", "problem": p, "step": 59866666}))
                .collect(),
            "lead_overdue" => vec![json!({"name": "华东食品", "minutes": 120})],
            "customer_released" => vec![json!({"name": "华东食品", "days": 7})],
            "customer_stalled" => vec![json!({"name": "华东食品", "stage": "需求确认", "days": 6})],
            "pipeline_escalated" => vec![json!({"name": "华东食品", "count": 3, "days": 7})],
            "health_zero" => vec![json!({"name": "华东食品", "component_zh": "新品试用",
                "component_en": "New-product trials", "days": 14})],
            _ => vec![],
        }
    }

    fn names() -> NameTable {
        let mut n = NameTable::default();
        n.stores.insert("store-1".into(), "华联超市（徐汇店）".into());
        n.users.insert("rep-chen".into(), "陈静".into());
        n.items.insert("competitor_price".into(), "竞品价格".into());
        n.items.insert("own_price".into(), "本品价格".into());
        n.photos.insert(
            "0193a2b4-5c6d-7e8f-9012-3456789abcde".into(),
            PhotoName {
                thumb_url: "/app/thumbs/f555".into(),
                full_url: "/app/photos/f555".into(),
                kind: "货架全景".into(),
            },
        );
        n
    }

    /// A UUID-like run or a long hex run (a hash, a device id).
    fn has_id(s: &str) -> bool {
        let mut run = 0;
        for c in s.chars() {
            if c.is_ascii_hexdigit() || c == '-' {
                run += 1;
                if run >= 12 {
                    return true;
                }
            } else {
                run = 0;
            }
        }
        false
    }

    /// The ASCII words of a text outside its `{placeholders}`.
    fn ascii_words(s: &str) -> Vec<String> {
        let mut without = String::new();
        let mut depth = 0;
        for c in s.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                c if depth == 0 => without.push(c),
                _ => {}
            }
        }
        without
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() > 1)
            .map(str::to_lowercase)
            .collect()
    }

    #[test]
    fn every_code_has_a_title_and_a_sentence_in_both_languages() {
        for code in codes::all_codes() {
            for lang in [Lang::En, Lang::Zh] {
                assert_ne!(lang.code_words(code), code, "{code}: no title in {lang:?}");
                assert!(text(lang, code).is_some(), "{code}: no sentence in {lang:?}");
            }
        }
    }

    #[test]
    fn no_english_in_the_chinese_catalogue() {
        // SHA-256 is a name, not English prose.
        let allowed = ["sha"];
        for (key, en, zh) in TEXTS.iter().chain(crate::i18n::CODES) {
            let en_words = ascii_words(en);
            for w in ascii_words(zh) {
                assert!(
                    allowed.contains(&w.as_str()) || !en_words.contains(&w),
                    "{key}: English word {w:?} in {zh:?}"
                );
            }
        }
        // Every placeholder of a text is in both languages.
        let names = |t: &str| {
            let mut v: Vec<String> = t
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                .collect();
            v.sort();
            v
        };
        let mut seen = std::collections::HashSet::new();
        for (key, en, zh) in TEXTS {
            assert!(seen.insert(*key), "duplicate {key}");
            assert_eq!(names(en), names(zh), "{key}");
        }
    }

    #[test]
    fn rendering_every_raised_code_with_sample_params_leaves_no_placeholder_or_id() {
        let names = names();
        for code in codes::EXCEPTION_CODES {
            let mut params = samples(code);
            if params.is_empty() {
                assert_eq!(*code, "supervisor_flag", "{code} has no sample parameters");
            }
            // A row from before parameters were stored.
            params.push(serde_json::Value::Null);
            for p in &params {
                for lang in [Lang::En, Lang::Zh] {
                    let r = render(lang, code, Some(p), &names);
                    for s in [&r.title, &r.sentence] {
                        assert!(!s.contains('{') && !s.contains('}'), "{code} {lang:?}: {s}");
                        assert!(!has_id(s), "{code} {lang:?}: id in {s}");
                        assert!(!s.is_empty(), "{code} {lang:?}");
                        if lang == Lang::Zh {
                            assert!(
                                !s.chars().any(|c| c.is_ascii_alphabetic()),
                                "{code}: English in {s}"
                            );
                        }
                    }
                    if !p.is_null() {
                        assert!(ExceptionParams::parse(code, p).is_some(), "{code}: sample {p}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_check_out_far_away_does_not_read_as_a_check_in() {
        let names = names();
        let p = json!({"action": "check_out", "distance_m": 590.4, "radius_m": 150.0, "store_id": "store-1"});
        let zh = render(Lang::Zh, "outside_geofence", Some(&p), &names);
        assert_eq!(zh.title, "在地理围栏外签退");
        assert_eq!(
            zh.sentence,
            "在距华联超市（徐汇店） 590 米 处签退，地理围栏半径为 150 米。"
        );
        let en = render(Lang::En, "outside_geofence", Some(&p), &names);
        assert_eq!(en.title, "Checked out outside the geofence");
        assert_eq!(
            en.sentence,
            "Checked out 590 m from 华联超市（徐汇店）; the geofence radius is 150 m."
        );
        // A store the page cannot name reads as "the store", never its id.
        let p = json!({"action": "check_out", "distance_m": 590.4, "radius_m": 150.0, "store_id": "store-x"});
        let other = render(Lang::En, "outside_geofence", Some(&p), &names);
        assert!(other.sentence.contains("from the store;"), "{}", other.sentence);
    }

    #[test]
    fn reuse_names_the_rep_links_the_photos_and_keeps_hashes_technical() {
        let names = names();
        let p = &samples("possible_reuse")[0];
        let r = render(Lang::Zh, "possible_reuse", Some(p), &names);
        assert_eq!(r.title, "重复照片");
        assert_eq!(
            r.sentence,
            "该照片与其他拜访中 3 张较早的照片相似，最相似的一张由陈静拍摄。"
        );
        assert_eq!(r.photos.len(), 1, "only the photo the reader may see is linked");
        assert_eq!(r.photos[0].label, "本照片");
        assert_eq!(r.photos[0].thumb_url, "/app/thumbs/f555");
        let tech: Vec<&str> = r.technical.iter().map(|(_, v)| v.as_str()).collect();
        assert!(tech.iter().any(|v| v.starts_with("f555")), "{tech:?}");
        assert!(tech.iter().any(|v| v.contains("dev-1")), "{tech:?}");
    }

    #[test]
    fn old_rows_read_with_the_generic_sentence() {
        let names = NameTable::default();
        let r = render(Lang::Zh, "possible_reuse", None, &names);
        assert_eq!(r.sentence, "该照片与其他拜访的照片相似。");
        let r = render(Lang::En, "outside_geofence", Some(&json!({"old": 1})), &names);
        assert_eq!(r.sentence, "The rep was outside the store's geofence.");
        assert_eq!(
            r.technical,
            vec![("Code".to_string(), "outside_geofence".to_string())]
        );
        let r = render(Lang::Zh, "brand_new_code", None, &names);
        assert_eq!(r.title, "brand_new_code");
    }

    #[test]
    fn price_gap_names_the_items_and_formats_the_prices() {
        let names = names();
        let p = &samples("price_gap_unexplained")[0];
        let zh = render(Lang::Zh, "price_gap_unexplained", Some(p), &names);
        assert_eq!(
            zh.sentence,
            "竞品“竞品价格”价格为 ¥9.90，比我方“本品价格”（¥15.00）低 34%，超过允许的 15%，且未填写议价说明。"
        );
    }

    #[test]
    fn clock_sentences_say_which_way() {
        let names = NameTable::default();
        let back = json!({"observer": "device", "drift_s": -7200, "seq": 1});
        assert_eq!(
            render(Lang::Zh, "clock_jump", Some(&back), &names).sentence,
            "拜访期间手机时间被调慢了 2 小时。"
        );
        let behind = json!({"kind": "offset", "seconds": -1200, "seq": 4});
        assert_eq!(
            render(Lang::En, "clock_skew", Some(&behind), &names).sentence,
            "When this was recorded the phone's clock was 20 min behind the server's time."
        );
    }

    #[test]
    fn photo_problems_and_refusals_in_words() {
        for code in codes::PHOTO_PROBLEM_CODES {
            assert_ne!(photo_problem(Lang::Zh, code), *code);
        }
        assert_eq!(
            photo_problems(Lang::Zh, Some("code_mismatch,unknown_key")),
            ["防伪码不符", "未知密钥签名"]
        );
        assert!(photo_problems(Lang::En, None).is_empty());
        assert!(photo_problems(Lang::En, Some("")).is_empty());
        for code in codes::REFUSAL_CODES {
            assert!(!refusal(Lang::Zh, code).chars().any(|c| c.is_ascii_alphabetic()));
        }
    }
}
