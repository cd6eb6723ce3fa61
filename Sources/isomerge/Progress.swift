import Foundation
import IsoMerge

/// Progress on stderr while long work runs: one line redrawn in place, only when stderr is a
/// terminal and the user did not ask for quiet.
final class TerminalProgress {
    private let enabled: Bool
    private var lastDraw = 0.0

    init(quiet: Bool) {
        enabled = !quiet && isatty(STDERR_FILENO) == 1
    }

    func update(_ progress: MergeProgress) {
        guard enabled else { return }
        let final = progress.index == progress.count
        guard final || progress.elapsed - lastDraw >= 0.1 else { return }
        lastDraw = progress.elapsed
        var line = "[\(progress.index)/\(progress.count)] \(progress.phase): \(progress.tensor)"
        if progress.bytesTotal > 0 {
            let fraction = Double(progress.bytesDone) / Double(progress.bytesTotal)
            let eta = fraction > 0 ? progress.elapsed * (1 - fraction) / fraction : 0
            line += String(format: "  %@ / %@  %.1fs elapsed, ETA %.1fs", formatBytes(progress.bytesDone),
                           formatBytes(progress.bytesTotal), progress.elapsed, eta)
        }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    /// Clears the progress line.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}

/// The process's peak resident set size in bytes.
func peakMemoryBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}
