//! The visit flow: the day plan, check-in, answers, report, completion, check-out, the
//! supervisor's review, and what the screens read.

use std::sync::Arc;

use fieldproof_core::{
    AnswerOutcome, AnswerValue, CheckInRequest, DayPlanEntry, LocationFix, OpenException, RetakeRequest,
    Review, ReviewVerdict, Store, Visit, VisitDetail, VisitReport, VisitSummary,
};

use crate::{FieldproofCore, Result};

#[uniffi::export(async_runtime = "tokio")]
impl FieldproofCore {
    /// A rep's plan for one local date (`YYYY-MM-DD`), in route order, with each stop's status.
    pub async fn day_plan(self: Arc<Self>, rep_id: String, date: String) -> Result<Vec<DayPlanEntry>> {
        self.run(move |core| core.day_plan(&rep_id, &date)).await
    }

    /// Stores in a territory (all stores when `territory` is null), by code.
    pub async fn stores(self: Arc<Self>, territory: Option<String>) -> Result<Vec<Store>> {
        self.run(move |core| core.stores(territory.as_deref())).await
    }

    /// Check in at a store: resolves the template (explicit, the plan's, or the default), runs the
    /// location rules, and opens the visit. Refused (`visit_already_open`) when the user already
    /// has an open visit, and (`outside_geofence`, `no_fix`) when the geofence is in block mode
    /// and the fix is outside or missing.
    pub async fn check_in(self: Arc<Self>, request: CheckInRequest) -> Result<Visit> {
        self.run(move |core| core.check_in(&request)).await
    }

    /// Check in with the store's rotating QR code scanned (扫码签到): verified offline, refused
    /// with `store_code_expired` (an old or photographed code), `store_code_wrong_store`,
    /// `store_code_unknown_key`, `store_code_invalid` (forged) or `store_code_malformed`, nothing
    /// written. A valid code goes into the check-in's signed op. Otherwise as `check_in`.
    pub async fn check_in_scanned(
        self: Arc<Self>,
        request: CheckInRequest,
        store_code: String,
    ) -> Result<Visit> {
        self.run(move |core| core.check_in_scanned(&request, &store_code))
            .await
    }

    /// Answer (or correct) one item. Returns what is still missing, which items are hidden and
    /// the visit's open flags (a price gap shows at once).
    pub async fn answer(
        self: Arc<Self>,
        visit_id: String,
        item_id: String,
        value: AnswerValue,
        note: Option<String>,
    ) -> Result<AnswerOutcome> {
        self.run(move |core| core.answer(&visit_id, &item_id, &value, note.as_deref()))
            .await
    }

    /// Save (or revise) the visit report. The latest revision is the report; all are kept.
    pub async fn save_report(self: Arc<Self>, visit_id: String, report: VisitReport) -> Result<()> {
        self.run(move |core| core.save_report(&visit_id, &report)).await
    }

    /// Complete the store check and fix its score. Refused with `completion_locked`, carrying the
    /// exact `missing` list, while a required answer, photo or the report is missing.
    pub async fn complete_visit(self: Arc<Self>, visit_id: String) -> Result<Visit> {
        self.run(move |core| core.complete_visit(&visit_id)).await
    }

    /// Leave the store. Only a completed visit can be checked out (`visit_not_completed`
    /// otherwise); an unfinished one is cancelled instead.
    pub async fn check_out(self: Arc<Self>, visit_id: String, fix: Option<LocationFix>) -> Result<Visit> {
        self.run(move |core| core.check_out(&visit_id, fix.as_ref()))
            .await
    }

    /// Abandon a visit (store closed, manager absent…). The reason is required.
    pub async fn cancel_visit(self: Arc<Self>, visit_id: String, reason: String) -> Result<Visit> {
        self.run(move |core| core.cancel_visit(&visit_id, &reason)).await
    }

    /// A supervisor accepts or flags a rep's finished visit. Flagging needs a comment and raises
    /// `supervisor_flag`; a later acceptance clears it. Only the rep's own supervisor may review
    /// (`not_allowed` otherwise).
    pub async fn review_visit(
        self: Arc<Self>,
        reviewer_id: String,
        visit_id: String,
        verdict: ReviewVerdict,
        comment: String,
    ) -> Result<Review> {
        self.run(move |core| core.review_visit(&reviewer_id, &visit_id, verdict, &comment))
            .await
    }

    /// The rep's retake requests (newest first), each with its state on `date` (local
    /// `YYYY-MM-DD`): open, overdue (open past its due day), done (photo taken here or received
    /// by the server) or cancelled. The day plan lists the ones owed at each stop.
    pub async fn retake_requests(
        self: Arc<Self>,
        rep_id: String,
        date: String,
    ) -> Result<Vec<RetakeRequest>> {
        self.run(move |core| core.retake_requests(&rep_id, &date)).await
    }

    /// One visit with its open flags.
    pub async fn visit(self: Arc<Self>, visit_id: String) -> Result<Visit> {
        self.run(move |core| core.visit(&visit_id)).await
    }

    /// The user's open visit (in progress or completed, not yet checked out), if any.
    pub async fn open_visit(self: Arc<Self>, user_id: String) -> Result<Option<Visit>> {
        self.run(move |core| core.open_visit(&user_id)).await
    }

    /// Everything about one visit, for the visit screen and the supervisor.
    pub async fn visit_detail(self: Arc<Self>, visit_id: String) -> Result<VisitDetail> {
        self.run(move |core| core.visit_detail(&visit_id)).await
    }

    /// Past and current visits at a store, newest first.
    /// A negative `limit` is refused (`negative_number`); 0 returns nothing.
    pub async fn store_history(self: Arc<Self>, store_id: String, limit: i32) -> Result<Vec<VisitSummary>> {
        self.run(move |core| core.store_history(&store_id, limit)).await
    }

    /// Every open flag on this device, newest first (异常).
    /// A negative `limit` is refused (`negative_number`); 0 returns nothing.
    pub async fn open_exceptions(self: Arc<Self>, limit: i32) -> Result<Vec<OpenException>> {
        self.run(move |core| core.open_exceptions(limit)).await
    }
}
