package dev.fieldproof.sample

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.os.Bundle
import android.text.format.Formatter
import androidx.activity.ComponentActivity
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts.RequestMultiplePermissions
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Surface
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.core.content.ContextCompat
import androidx.lifecycle.LifecycleOwner
import androidx.work.WorkInfo
import dev.fieldproof.core.AnswerValue
import dev.fieldproof.core.CaptureRequest
import dev.fieldproof.core.CheckInRequest
import dev.fieldproof.core.CheckItem
import dev.fieldproof.core.DayPlanEntry
import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.core.ItemKind
import dev.fieldproof.core.LocationFix
import dev.fieldproof.core.MissingKind
import dev.fieldproof.core.PhotoKind
import dev.fieldproof.core.PlanStatus
import dev.fieldproof.core.SyncPhase
import dev.fieldproof.core.User
import dev.fieldproof.core.VisitDetail
import dev.fieldproof.core.VisitReport
import dev.fieldproof.sdk.android.Fieldproof
import dev.fieldproof.sdk.android.FieldproofSyncWorker
import dev.fieldproof.sdk.code
import kotlinx.coroutines.launch
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import java.util.TimeZone

/**
 * One activity, one visit at a time: enrol → today's plan → check in → store check (answers and
 * photos) → report → complete and check out → sync in the background with its progress.
 *
 * The core is the state: the screen shown is derived from it at start (not enrolled, an open
 * visit, or the plan), so a rotation or a killed process resumes where the rep was.
 */
class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent {
            MaterialTheme {
                Surface { VisitFlow(lifecycleOwner = this) }
            }
        }
    }
}

/** Where the rep is in the flow. */
private sealed interface Step {
    data object Loading : Step
    data object Enrol : Step
    data class Plan(val user: User) : Step
    data class StoreCheck(val user: User, val visitId: String) : Step
    data class Photo(val user: User, val visitId: String, val itemId: String?, val retakeRequestId: String?) : Step
    data class Report(val user: User, val visitId: String) : Step
    data class Sync(val user: User?) : Step
}

@Composable
private fun VisitFlow(lifecycleOwner: LifecycleOwner) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var step by remember { mutableStateOf<Step>(Step.Loading) }
    var errorCode by remember { mutableStateOf<String?>(null) }
    var notice by remember { mutableStateOf<Int?>(null) }

    // Every SDK call is a suspend call that runs off the main thread; errors arrive with a code.
    fun act(block: suspend (FieldproofCore) -> Unit) {
        errorCode = null
        scope.launch {
            try {
                block(Fieldproof.core(context))
            } catch (e: FieldproofException) {
                errorCode = e.code
            }
        }
    }

    LaunchedEffect(Unit) {
        act { core ->
            val user = core.syncState().user
            step = when {
                user == null -> Step.Enrol
                else -> core.openVisit(user.id)?.let { Step.StoreCheck(user, it.id) } ?: Step.Plan(user)
            }
        }
    }

    Column(Modifier.padding(16.dp)) {
        errorCode?.let { code ->
            Text(stringResource(errorText(code), code), color = MaterialTheme.colorScheme.error)
        }
        // A notice stays until the rep taps it away.
        notice?.let { Text(stringResource(it), Modifier.clickable { notice = null }) }
        when (val s = step) {
            Step.Loading -> Unit
            Step.Enrol -> EnrolScreen { url, code ->
                act { core ->
                    core.enrol(url, code)
                    FieldproofSyncWorker.enqueuePeriodic(context)
                    // The first sync brings the rep's stores, templates and plans.
                    FieldproofSyncWorker.enqueueNow(context)
                    step = Step.Sync(user = null)
                }
            }
            is Step.Plan -> PlanScreen(
                user = s.user,
                act = ::act,
                onLocationDenied = { notice = R.string.location_denied },
            ) { entry, fix ->
                act { core ->
                    val visit = core.checkIn(
                        CheckInRequest(
                            userId = s.user.id,
                            storeId = entry.store.id,
                            planId = entry.planId,
                            templateId = entry.templateId,
                            fix = fix,
                        ),
                    )
                    step = Step.StoreCheck(s.user, visit.id)
                }
            }
            is Step.StoreCheck -> StoreCheckScreen(
                visitId = s.visitId,
                act = ::act,
                onPhoto = { itemId, retakeId -> step = Step.Photo(s.user, s.visitId, itemId, retakeId) },
                onReport = { step = Step.Report(s.user, s.visitId) },
            )
            is Step.Photo -> WithCameraPermission(onDenied = {
                notice = R.string.camera_denied
                step = Step.StoreCheck(s.user, s.visitId)
            }) {
                CameraCapture(
                    lifecycleOwner = lifecycleOwner,
                    onPhoto = { file ->
                        act { core ->
                            try {
                                // The position is evidence on the watermark; a photo without one
                                // is still taken.
                                val fix = currentLocationFix(context, timeoutMs = 5_000)
                                core.capturePhotoFile(
                                    CaptureRequest(
                                        visitId = s.visitId,
                                        itemId = s.itemId,
                                        kind = PhotoKind.SHELF_OVERVIEW,
                                        fix = fix,
                                        utcOffsetMinutes = utcOffsetMinutes(),
                                        retakeRequestId = s.retakeRequestId,
                                    ),
                                    file.path,
                                )
                                step = Step.StoreCheck(s.user, s.visitId)
                            } finally {
                                // The core keeps its own stamped copy.
                                file.delete()
                            }
                        }
                    },
                    onCameraError = { notice = R.string.camera_error },
                )
            }
            is Step.Report -> ReportScreen { notes ->
                act { core ->
                    core.saveReport(s.visitId, VisitReport(notes = notes))
                    try {
                        core.completeVisit(s.visitId)
                    } catch (e: FieldproofException) {
                        // completion_locked: back to the store check, which lists what is missing.
                        step = Step.StoreCheck(s.user, s.visitId)
                        throw e
                    }
                    core.checkOut(s.visitId, currentLocationFix(context, timeoutMs = 10_000))
                    FieldproofSyncWorker.enqueueNow(context)
                    step = Step.Sync(s.user)
                }
            }
            is Step.Sync -> SyncScreen {
                act { core ->
                    val user = s.user ?: core.syncState().user
                    step = if (user == null) Step.Enrol else Step.Plan(user)
                }
            }
        }
    }
}

@Composable
private fun EnrolScreen(onEnrol: (url: String, code: String) -> Unit) {
    var url by remember { mutableStateOf("https://") }
    var code by remember { mutableStateOf("") }
    Text(stringResource(R.string.enrol_title), style = MaterialTheme.typography.titleLarge)
    OutlinedTextField(url, { url = it }, label = { Text(stringResource(R.string.server_url)) })
    OutlinedTextField(code, { code = it }, label = { Text(stringResource(R.string.enrol_code)) })
    Button(onClick = { onEnrol(url.trim(), code.trim()) }) { Text(stringResource(R.string.enrol)) }
}

/**
 * Today's stops. Tapping one that is not started asks for the location permission (in context,
 * as Android asks apps to) and checks in with a fresh fix; without the permission the visit is
 * checked in without a position, and [onLocationDenied] lets the caller say so.
 */
@Composable
private fun PlanScreen(
    user: User,
    act: (suspend (FieldproofCore) -> Unit) -> Unit,
    onLocationDenied: () -> Unit,
    onCheckIn: (DayPlanEntry, LocationFix?) -> Unit,
) {
    val context = LocalContext.current
    var plan by remember { mutableStateOf<List<DayPlanEntry>>(emptyList()) }
    var pending by remember { mutableStateOf<DayPlanEntry?>(null) }
    var locating by remember { mutableStateOf(false) }
    val scope = rememberCoroutineScope()

    fun checkIn(entry: DayPlanEntry) {
        locating = true
        scope.launch {
            val fix = currentLocationFix(context)
            locating = false
            onCheckIn(entry, fix)
        }
    }
    val permission = rememberLauncherForActivityResult(RequestMultiplePermissions()) { granted ->
        if (granted.values.none { it }) onLocationDenied()
        pending?.let(::checkIn)
        pending = null
    }
    LaunchedEffect(user.id) { act { core -> plan = core.dayPlan(user.id, today()) } }

    Text(stringResource(R.string.plan_title), style = MaterialTheme.typography.titleLarge)
    if (locating) Text(stringResource(R.string.locating))
    if (plan.isEmpty()) Text(stringResource(R.string.plan_empty))
    LazyColumn {
        items(plan, key = { it.planId }) { entry ->
            Column(
                Modifier
                    .fillMaxWidth()
                    .clickable(enabled = entry.status == PlanStatus.NOT_STARTED && !locating) {
                        if (hasLocationPermission(context)) {
                            checkIn(entry)
                        } else {
                            pending = entry
                            permission.launch(
                                arrayOf(
                                    Manifest.permission.ACCESS_FINE_LOCATION,
                                    Manifest.permission.ACCESS_COARSE_LOCATION,
                                ),
                            )
                        }
                    }
                    .padding(vertical = 12.dp),
            ) {
                Text(entry.store.name, style = MaterialTheme.typography.titleMedium)
                Text(entry.store.address)
                Text(stringResource(planStatusText(entry.status)))
            }
        }
    }
}

/** The store check: every visible item of the visit's template, answered as it is changed. */
@Composable
private fun StoreCheckScreen(
    visitId: String,
    act: (suspend (FieldproofCore) -> Unit) -> Unit,
    onPhoto: (itemId: String?, retakeRequestId: String?) -> Unit,
    onReport: () -> Unit,
) {
    var detail by remember { mutableStateOf<VisitDetail?>(null) }
    fun reload() = act { core -> detail = core.visitDetail(visitId) }
    fun answer(itemId: String, value: AnswerValue) = act { core ->
        core.answer(visitId, itemId, value, null)
        detail = core.visitDetail(visitId)
    }
    LaunchedEffect(visitId) { reload() }
    val d = detail ?: return
    val answers = d.answers.associate { it.itemId to it.value }

    LazyColumn {
        item {
            Text(d.store.name, style = MaterialTheme.typography.titleLarge)
            Text(stringResource(R.string.store_check_title))
        }
        for (section in d.template.sections) {
            item { Heading(section.title) }
            items(section.items.filter { it.id !in d.hiddenItemIds }, key = { it.id }) { checkItem ->
                ItemRow(
                    item = checkItem,
                    current = answers[checkItem.id],
                    photos = d.photos.count { it.itemId == checkItem.id },
                    onAnswer = { answer(checkItem.id, it) },
                    onPhoto = { onPhoto(checkItem.id, null) },
                )
            }
        }
        if (d.missing.isNotEmpty()) {
            item { Heading(stringResource(R.string.still_missing)) }
            items(d.missing) { missing ->
                Row(verticalAlignment = Alignment.CenterVertically) {
                    Text(missing.label, Modifier.weight(1f))
                    if (missing.kind == MissingKind.RETAKE_PHOTO) {
                        OutlinedButton(onClick = { onPhoto(missing.itemId, missing.retakeRequestId) }) {
                            Text(stringResource(R.string.retake))
                        }
                    }
                }
            }
        }
        item {
            Spacer(Modifier.height(16.dp))
            Button(onClick = onReport) { Text(stringResource(R.string.to_report)) }
        }
    }
}

@Composable
private fun ItemRow(
    item: CheckItem,
    current: AnswerValue?,
    photos: Int,
    onAnswer: (AnswerValue) -> Unit,
    onPhoto: () -> Unit,
) {
    Column(Modifier.padding(vertical = 6.dp)) {
        Text(item.label)
        when (item.kind) {
            ItemKind.YES_NO -> Switch(
                checked = (current as? AnswerValue.YesNo)?.value ?: false,
                onCheckedChange = { onAnswer(AnswerValue.YesNo(it)) },
            )
            ItemKind.CHOICE -> item.choices.forEach { choice ->
                Row(verticalAlignment = Alignment.CenterVertically) {
                    RadioButton(
                        selected = (current as? AnswerValue.Choice)?.choiceId == choice.id,
                        onClick = { onAnswer(AnswerValue.Choice(choice.id)) },
                    )
                    Text(choice.label)
                }
            }
            ItemKind.NUMBER, ItemKind.PRICE, ItemKind.TEXT -> {
                var text by remember(item.id) { mutableStateOf(current?.asText() ?: "") }
                Row(verticalAlignment = Alignment.CenterVertically) {
                    OutlinedTextField(text, { text = it }, Modifier.weight(1f), singleLine = item.kind != ItemKind.TEXT)
                    OutlinedButton(onClick = { answerOf(item.kind, text)?.let(onAnswer) }) {
                        Text(stringResource(R.string.save))
                    }
                }
            }
            ItemKind.PHOTO -> Row(verticalAlignment = Alignment.CenterVertically) {
                Text(stringResource(R.string.photos_taken, photos), Modifier.weight(1f))
                OutlinedButton(onClick = onPhoto) { Text(stringResource(R.string.take_photo)) }
            }
        }
    }
}

@Composable
private fun ReportScreen(onComplete: (notes: String) -> Unit) {
    var notes by remember { mutableStateOf("") }
    Text(stringResource(R.string.report_title), style = MaterialTheme.typography.titleLarge)
    OutlinedTextField(
        value = notes,
        onValueChange = { notes = it },
        modifier = Modifier.fillMaxWidth(),
        label = { Text(stringResource(R.string.report_notes)) },
        minLines = 4,
    )
    Button(onClick = { onComplete(notes) }) { Text(stringResource(R.string.complete_visit)) }
}

/** Follows the background sync through WorkManager: waiting, its progress, its outcome. */
@Composable
private fun SyncScreen(onDone: () -> Unit) {
    val context = LocalContext.current
    val flow = remember { FieldproofSyncWorker.nowWorkInfo(context) }
    val info by flow.collectAsState(initial = null)
    Text(stringResource(R.string.sync_title), style = MaterialTheme.typography.titleLarge)
    val i = info
    if (i == null) {
        Text(stringResource(R.string.sync_waiting))
    } else when (i.state) {
        WorkInfo.State.ENQUEUED, WorkInfo.State.BLOCKED -> Text(stringResource(R.string.sync_waiting))
        WorkInfo.State.RUNNING -> FieldproofSyncWorker.syncProgress(i)?.let { p ->
            when (p.phase) {
                SyncPhase.PUSHING -> {
                    Text(stringResource(R.string.sync_pushing, p.opsSent, p.opsTotal))
                    ProgressBar(p.opsSent.toLong(), p.opsTotal.toLong())
                }
                SyncPhase.UPLOADING_PHOTOS -> {
                    val size = Formatter.formatShortFileSize(context, p.photoBytesTotal)
                    Text(stringResource(R.string.sync_photos, p.photosSent, p.photosTotal, size))
                    ProgressBar(p.photoBytesSent, p.photoBytesTotal)
                }
                SyncPhase.PULLING, SyncPhase.DONE -> Text(stringResource(R.string.sync_pulling, p.changesPulled))
            }
        }
        WorkInfo.State.SUCCEEDED -> Text(
            stringResource(
                R.string.sync_done,
                i.outputData.getInt(FieldproofSyncWorker.KEY_PUSHED, 0),
                i.outputData.getInt(FieldproofSyncWorker.KEY_PULLED, 0),
            ),
        )
        WorkInfo.State.FAILED, WorkInfo.State.CANCELLED -> {
            val code = FieldproofSyncWorker.errorCode(i) ?: "sync_cancelled"
            Text(stringResource(errorText(code), code), color = MaterialTheme.colorScheme.error)
        }
    }
    Spacer(Modifier.height(16.dp))
    Button(onClick = onDone) { Text(stringResource(R.string.back_to_plan)) }
}

/** Asks for the camera when it is not granted yet; shows [content] once it is. */
@Composable
private fun WithCameraPermission(onDenied: () -> Unit, content: @Composable () -> Unit) {
    val context = LocalContext.current
    var granted by remember { mutableStateOf(hasPermission(context, Manifest.permission.CAMERA)) }
    val launcher = rememberLauncherForActivityResult(RequestMultiplePermissions()) { result ->
        granted = result.values.all { it }
        if (!granted) onDenied()
    }
    LaunchedEffect(Unit) { if (!granted) launcher.launch(arrayOf(Manifest.permission.CAMERA)) }
    if (granted) content()
}

private fun hasPermission(context: Context, permission: String) =
    ContextCompat.checkSelfPermission(context, permission) == PackageManager.PERMISSION_GRANTED

@Composable
private fun Heading(text: String) {
    Text(text, style = MaterialTheme.typography.titleMedium, modifier = Modifier.padding(top = 12.dp))
}

@Composable
private fun ProgressBar(done: Long, total: Long) {
    val fraction = if (total <= 0) 0f else (done.toFloat() / total).coerceIn(0f, 1f)
    LinearProgressIndicator(progress = { fraction }, modifier = Modifier.fillMaxWidth())
}

/** The rep's local date, as the plan stores it. */
private fun today(): String = SimpleDateFormat("yyyy-MM-dd", Locale.US).format(Date())

/** The phone's UTC offset now; the watermark prints local time with it. */
private fun utcOffsetMinutes(): Int = TimeZone.getDefault().getOffset(System.currentTimeMillis()) / 60_000

/** The text field's content for an answer already given. */
private fun AnswerValue.asText(): String? = when (this) {
    is AnswerValue.Number -> value.toString()
    is AnswerValue.Price -> "%d.%02d".format(Locale.US, cents / 100, cents % 100)
    is AnswerValue.Text -> value
    else -> null
}

/** The answer typed into a field, or `null` when it is not a number where one is needed. */
private fun answerOf(kind: ItemKind, text: String): AnswerValue? = when (kind) {
    ItemKind.NUMBER -> text.trim().toDoubleOrNull()?.let { AnswerValue.Number(it) }
    // Prices are typed in yuan and stored in fen (cents).
    ItemKind.PRICE -> text.trim().toBigDecimalOrNull()?.movePointRight(2)?.toLong()?.let { AnswerValue.Price(it) }
    ItemKind.TEXT -> AnswerValue.Text(text)
    else -> null
}

private fun planStatusText(status: PlanStatus): Int = when (status) {
    PlanStatus.NOT_STARTED -> R.string.status_not_started
    PlanStatus.IN_PROGRESS -> R.string.status_in_progress
    PlanStatus.COMPLETED -> R.string.status_completed
    PlanStatus.CANCELLED -> R.string.status_cancelled
}
