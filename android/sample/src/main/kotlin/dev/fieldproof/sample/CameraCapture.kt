package dev.fieldproof.sample

import android.content.Context
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageCapture
import androidx.camera.core.ImageCaptureException
import androidx.camera.core.Preview
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.compose.ui.viewinterop.AndroidView
import androidx.core.content.ContextCompat
import androidx.lifecycle.LifecycleOwner
import kotlinx.coroutines.launch
import kotlinx.coroutines.suspendCancellableCoroutine
import java.io.File
import java.util.UUID
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/**
 * Camera preview and a shutter button. CameraX writes the JPEG straight to a file in the app's
 * cache; [onPhoto] gets that file, hands its path to the core and deletes it afterwards. The
 * photo never passes through the Java heap: the core reads the file itself, checks its size
 * before reading, and keeps its own stamped copy.
 */
@Composable
fun CameraCapture(
    lifecycleOwner: LifecycleOwner,
    onPhoto: suspend (File) -> Unit,
    onCameraError: () -> Unit,
) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    val previewView = remember { PreviewView(context) }
    val imageCapture = remember {
        ImageCapture.Builder()
            .setCaptureMode(ImageCapture.CAPTURE_MODE_MINIMIZE_LATENCY)
            .build()
    }
    DisposableEffect(lifecycleOwner) {
        val providerFuture = ProcessCameraProvider.getInstance(context)
        providerFuture.addListener({
            val provider = providerFuture.get()
            val preview = Preview.Builder().build().also { it.setSurfaceProvider(previewView.surfaceProvider) }
            provider.unbindAll()
            provider.bindToLifecycle(lifecycleOwner, CameraSelector.DEFAULT_BACK_CAMERA, preview, imageCapture)
        }, ContextCompat.getMainExecutor(context))
        onDispose {
            if (providerFuture.isDone) providerFuture.get().unbindAll()
        }
    }
    Box(Modifier.fillMaxSize()) {
        AndroidView(factory = { previewView }, modifier = Modifier.fillMaxSize())
        Button(
            onClick = {
                scope.launch {
                    val file = try {
                        imageCapture.takePictureToFile(context)
                    } catch (e: ImageCaptureException) {
                        onCameraError()
                        return@launch
                    }
                    onPhoto(file)
                }
            },
            modifier = Modifier.align(Alignment.BottomCenter).padding(24.dp),
        ) { Text(stringResource(R.string.take_photo)) }
    }
}

/** Takes one picture into a new file under cacheDir/camera/. */
private suspend fun ImageCapture.takePictureToFile(context: Context): File {
    val file = File(File(context.cacheDir, "camera").apply { mkdirs() }, "${UUID.randomUUID()}.jpg")
    val options = ImageCapture.OutputFileOptions.Builder(file).build()
    return suspendCancellableCoroutine { cont ->
        takePicture(
            options,
            ContextCompat.getMainExecutor(context),
            object : ImageCapture.OnImageSavedCallback {
                override fun onImageSaved(output: ImageCapture.OutputFileResults) = cont.resume(file)
                override fun onError(exception: ImageCaptureException) {
                    file.delete()
                    cont.resumeWithException(exception)
                }
            },
        )
    }
}
