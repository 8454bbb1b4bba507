import Fieldproof
import SwiftUI

/// One screen, top to bottom in the order a rep works: enrol once, then today's plan, the open
/// visit (photo, report, finish), and sync. Works at 390 pt wide (a List wraps every line).
struct ContentView: View {
    @EnvironmentObject private var model: VisitModel
    @State private var serverURL = "https://"
    @State private var enrolCode = ""
    @State private var notes = ""
    @State private var camera = false

    var body: some View {
        NavigationView {
            List {
                if model.user == nil {
                    enrolSection
                } else {
                    if model.visit != nil { visitSection } else { planSection }
                    syncSection
                }
            }
            .navigationTitle(Text("Fieldproof"))
            .disabled(model.busy)
        }
        .navigationViewStyle(.stack)
        .task { await model.start() }
        .sheet(isPresented: $camera) {
            CameraPicker { file in
                camera = false
                if let file { Task { await model.capture(file: file) } }
            }
            .ignoresSafeArea()
        }
        .alert(Text("Could not do that"), isPresented: Binding(
            get: { model.message != nil }, set: { if !$0 { model.message = nil } }
        )) {
            Button("OK", role: .cancel) {}
        } message: {
            Text(model.message ?? "")
        }
    }

    private var enrolSection: some View {
        Section(header: Text("Enrol this phone")) {
            TextField("Server address", text: $serverURL)
                .keyboardType(.URL)
                .textInputAutocapitalization(.never)
                .disableAutocorrection(true)
            TextField("Enrolment code", text: $enrolCode)
                .textInputAutocapitalization(.characters)
            Button("Enrol") { Task { await model.enrol(serverURL: serverURL, code: enrolCode) } }
                .disabled(enrolCode.isEmpty)
        }
    }

    private var planSection: some View {
        Section(header: Text("Today's plan")) {
            if model.plan.isEmpty {
                Text("No stores planned for today. Sync to get the plan.").foregroundColor(.secondary)
            }
            ForEach(model.plan, id: \.planId) { entry in
                Button {
                    Task { await model.checkIn(entry) }
                } label: {
                    VStack(alignment: .leading, spacing: 4) {
                        Text(entry.store.name).font(.headline)
                        Text(entry.store.address).font(.subheadline).foregroundColor(.secondary)
                        Text(statusText(entry.status)).font(.caption)
                    }
                }
                .disabled(entry.status == .completed || entry.status == .cancelled)
            }
        }
    }

    private var visitSection: some View {
        Section(header: Text("At the store")) {
            Button("Take a shelf photo") { camera = true }
            Text("Photos taken: \(model.photos.count)")
            TextEditor(text: $notes).frame(minHeight: 100)
            Button("Save report") { Task { await model.saveReport(notes: notes) } }
                .disabled(notes.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            if !model.missing.isEmpty {
                VStack(alignment: .leading) {
                    Text("Still missing:").font(.subheadline)
                    ForEach(model.missing, id: \.label) { item in Text("• \(item.label)") }
                }
            }
            Button("Finish the visit and check out") {
                Task {
                    await model.finishVisit()
                    if model.visit == nil { notes = "" }
                }
            }
        }
    }

    private var syncSection: some View {
        Section(header: Text("Sync")) {
            if model.syncing {
                if let p = model.progress {
                    ProgressView(value: fraction(p))
                    Text("Records sent: \(p.opsSent) of \(p.opsTotal)")
                    Text("Photos sent: \(p.photosSent) of \(p.photosTotal) (\(bytes(p.photoBytesSent)) of \(bytes(p.photoBytesTotal)))")
                } else {
                    ProgressView()
                }
                Button("Stop", role: .destructive) { model.cancelSync() }
            } else {
                Button("Sync now") { model.sync() }
                if let report = model.lastReport {
                    Text("Last sync: \(report.pushed) records and \(report.photosSent) photos sent, \(report.pending) waiting")
                        .font(.caption)
                }
            }
        }
    }

    /// Ops and photo bytes together; the pull has no total, so it shows as the last step.
    private func fraction(_ p: SyncProgress) -> Double {
        if p.phase == .done { return 1 }
        let ops = p.opsTotal > 0 ? Double(p.opsSent) / Double(p.opsTotal) : 1
        let photos = p.photoBytesTotal > 0 ? Double(p.photoBytesSent) / Double(p.photoBytesTotal) : 1
        return min(0.1 * ops + 0.8 * photos, 0.9)
    }

    private func bytes(_ n: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: n, countStyle: .file)
    }

    private func statusText(_ status: PlanStatus) -> LocalizedStringKey {
        switch status {
        case .notStarted: return "Not started"
        case .inProgress: return "In progress"
        case .completed: return "Done"
        case .cancelled: return "Cancelled"
        }
    }
}
