//! Customers and leads, offline: entering a customer (duplicates refused), follow-ups, stage
//! moves behind their evidence, stage-evidence photos, claiming and releasing, leads, and what
//! the screens read. Each action is one signed op; a refused one writes nothing.

use std::sync::Arc;

use fieldproof_core::{
    Customer, CustomerDetail, CustomerList, CustomerPhoto, CustomerPhotoRequest, CustomerUpdate,
    DuplicateMatch, FollowUp, FollowUpRequest, Lead, LeadList, LocationFix, NewCustomer, PipelineDay,
    StageChange, StageDef,
};

use crate::{FieldproofCore, PhotoBytes, Result};

#[uniffi::export(async_runtime = "tokio")]
impl FieldproofCore {
    /// The pipeline's stages in order (open ones first), with what entering each needs.
    pub async fn pipeline_stages(self: Arc<Self>) -> Result<Vec<StageDef>> {
        self.run(|core| core.pipeline_config().map(|c| c.stages)).await
    }

    /// The customers this phone knows that `customer` would duplicate, as the rep types (writes
    /// nothing). A match names the owner, never their phone numbers.
    pub async fn check_customer_duplicates(
        self: Arc<Self>,
        customer: NewCustomer,
    ) -> Result<Vec<DuplicateMatch>> {
        self.run(move |core| core.check_customer_duplicates(&customer))
            .await
    }

    /// Enter a customer (or convert a lead: `from_lead_id`), owned by `user_id`, in the first
    /// stage. Refused with `Conflict` `duplicate_customer` (its `duplicates` names the match)
    /// when the phone knows the customer already.
    pub async fn create_customer(
        self: Arc<Self>,
        user_id: String,
        customer: NewCustomer,
    ) -> Result<Customer> {
        self.run(move |core| core.create_customer(&user_id, &customer))
            .await
    }

    /// Replace the contacts and budget of one of the rep's customers (`not_customer_owner`
    /// otherwise).
    pub async fn update_customer(
        self: Arc<Self>,
        user_id: String,
        customer_id: String,
        update: CustomerUpdate,
    ) -> Result<Customer> {
        self.run(move |core| core.update_customer(&user_id, &customer_id, &update))
            .await
    }

    /// Log a call, visit or message with its outcome and next step + date.
    pub async fn log_follow_up(
        self: Arc<Self>,
        user_id: String,
        request: FollowUpRequest,
    ) -> Result<FollowUp> {
        self.run(move |core| core.log_follow_up(&user_id, &request)).await
    }

    /// Move a customer to another stage. Refused with `stage_locked` carrying the `missing`
    /// list while the stage's evidence is not on the phone (offline), `stage_not_allowed` for a
    /// move the pipeline does not allow (skipping, back or to 流失 without a reason).
    pub async fn move_customer_stage(
        self: Arc<Self>,
        user_id: String,
        customer_id: String,
        to_stage: String,
        reason: Option<String>,
    ) -> Result<StageChange> {
        self.run(move |core| core.move_customer_stage(&user_id, &customer_id, &to_stage, reason.as_deref()))
            .await
    }

    /// Take a stage's evidence photo (the signed form, the contract) from the camera's JPEG:
    /// stamped, signed, chained, uploaded with the next sync like a visit photo.
    pub async fn capture_customer_photo(
        self: Arc<Self>,
        user_id: String,
        request: CustomerPhotoRequest,
        fix: Option<LocationFix>,
        utc_offset_minutes: i32,
        jpeg: PhotoBytes,
    ) -> Result<CustomerPhoto> {
        self.run(move |core| {
            core.capture_customer_photo(
                &user_id,
                &request,
                fix.as_ref(),
                utc_offset_minutes,
                jpeg.as_slice(),
            )
        })
        .await
    }

    /// Claim a customer from the pool. `Conflict`: `customer_owned_by_other` (`owner_name`),
    /// `claim_cooldown` (`until_ms`); `customer_limit_reached` (Refused) when the rep holds the most
    /// they may.
    pub async fn claim_customer(self: Arc<Self>, user_id: String, customer_id: String) -> Result<Customer> {
        self.run(move |core| core.claim_customer(&user_id, &customer_id))
            .await
    }

    /// Give one of the rep's customers back to the pool, with a reason (`reason_required`).
    pub async fn release_customer(
        self: Arc<Self>,
        user_id: String,
        customer_id: String,
        reason: String,
    ) -> Result<Customer> {
        self.run(move |core| core.release_customer(&user_id, &customer_id, &reason))
            .await
    }

    /// Claim a lead routed to the rep or from the pool (`Conflict` `lead_not_claimable`).
    pub async fn claim_lead(self: Arc<Self>, user_id: String, lead_id: String) -> Result<Lead> {
        self.run(move |core| core.claim_lead(&user_id, &lead_id)).await
    }

    /// Close one of the rep's leads that came to nothing, with a reason.
    pub async fn close_lead(
        self: Arc<Self>,
        user_id: String,
        lead_id: String,
        reason: String,
    ) -> Result<Lead> {
        self.run(move |core| core.close_lead(&user_id, &lead_id, &reason))
            .await
    }

    /// The rep's customers, the pool, or the duplicates linked to the rep, by name.
    pub async fn customers(self: Arc<Self>, user_id: String, list: CustomerList) -> Result<Vec<Customer>> {
        self.run(move |core| core.customers(&user_id, list)).await
    }

    /// One customer with its follow-ups, stage moves, photos and what its next stage needs.
    pub async fn customer_detail(self: Arc<Self>, customer_id: String) -> Result<CustomerDetail> {
        self.run(move |core| core.customer_detail(&customer_id)).await
    }

    /// Leads routed to or claimed by the rep (soonest deadline first), or the pool.
    pub async fn leads(self: Arc<Self>, user_id: String, list: LeadList) -> Result<Vec<Lead>> {
        self.run(move |core| core.leads(&user_id, list)).await
    }

    /// The pipeline's part of the rep's day (`YYYY-MM-DD`): follow-ups due, stalled customers,
    /// leads waiting for the claim, customers near their release.
    pub async fn pipeline_day(self: Arc<Self>, user_id: String, day: String) -> Result<PipelineDay> {
        self.run(move |core| core.pipeline_day(&user_id, &day)).await
    }

    /// Load customer and lead records, customer keys, store keys and the pipeline settings as
    /// the feed carries them (a JSON array of `{seq, kind, id, body}`), for a phone set up from
    /// a file and for tests; all or nothing (`bad_reference_data`). Returns the count applied.
    pub async fn load_pipeline_records(self: Arc<Self>, json: String) -> Result<i32> {
        self.run(move |core| core.load_pipeline_records(&json)).await
    }
}
