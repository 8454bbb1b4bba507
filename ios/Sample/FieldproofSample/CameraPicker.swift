import SwiftUI
import UIKit

/// The system camera; the photo is handed over as a JPEG file (the core reads it from disk, which
/// costs less than passing the bytes and keeps the image out of Swift memory twice). The core
/// keeps its own stamped copy: the caller deletes the file afterwards.
struct CameraPicker: UIViewControllerRepresentable {
    let onPhoto: (URL?) -> Void

    func makeUIViewController(context: Context) -> UIImagePickerController {
        let picker = UIImagePickerController()
        #if targetEnvironment(simulator)
        // The simulator has no camera. A real app takes shelf photos with the camera only.
        picker.sourceType = .photoLibrary
        #else
        picker.sourceType = .camera
        #endif
        picker.delegate = context.coordinator
        return picker
    }

    func updateUIViewController(_ picker: UIImagePickerController, context: Context) {}

    func makeCoordinator() -> Coordinator { Coordinator(onPhoto: onPhoto) }

    final class Coordinator: NSObject, UIImagePickerControllerDelegate, UINavigationControllerDelegate {
        let onPhoto: (URL?) -> Void

        init(onPhoto: @escaping (URL?) -> Void) { self.onPhoto = onPhoto }

        func imagePickerController(
            _ picker: UIImagePickerController, didFinishPickingMediaWithInfo info: [UIImagePickerController.InfoKey: Any]
        ) {
            picker.dismiss(animated: true)
            // jpegData keeps the orientation as EXIF; the core turns the image upright by it.
            guard let image = info[.originalImage] as? UIImage,
                  let jpeg = image.jpegData(compressionQuality: 0.92) else {
                onPhoto(nil)
                return
            }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString).jpg")
            do {
                try jpeg.write(to: file, options: .completeFileProtection)
                onPhoto(file)
            } catch {
                onPhoto(nil)
            }
        }

        func imagePickerControllerDidCancel(_ picker: UIImagePickerController) {
            picker.dismiss(animated: true)
            onPhoto(nil)
        }
    }
}
