import Foundation
import IsoMerge

/// Progress on stderr while long work runs: one line redrawn in place, and the α search's
/// per-candidate lines, only when stderr is a terminal and the user did not ask for quiet. The
/// redrawn line is cut to the terminal's width (`ProgressLine`), so it never wraps (a wrapped
/// line would leave a stale copy at every redraw).
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
        let head = "[\(progress.index)/\(progress.count)] \(progress.phase): "
        var tail = ""
        if progress.bytesTotal > 0 {
            let fraction = Double(progress.bytesDone) / Double(progress.bytesTotal)
            let eta = fraction > 0 ? progress.elapsed * (1 - fraction) / fraction : 0
            tail = String(format: "  %@ / %@  %.1fs elapsed, ETA %.1fs", formatBytes(progress.bytesDone),
                          formatBytes(progress.bytesTotal), progress.elapsed, eta)
        }
        let line = ProgressLine.fit(head: head, name: progress.tensor, tail: tail, width: ProgressLine.terminalWidth() - 1)
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    /// A line of its own (after clearing the progress line).
    func message(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text + "\n").utf8))
    }

    /// Clears the progress line.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}

/// Fitting the progress line to the terminal (public for the tests).
public enum ProgressLine {
    /// Columns of the terminal on stderr (TIOCGWINSZ), else $COLUMNS, else 80.
    public static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        return 80
    }

    /// `head + name + tail` in at most `width` characters: the name loses its start first (shown
    /// as "…" and its end, the most telling part of a tensor name), then the tail its end, then the
    /// head its end.
    public static func fit(head: String, name: String, tail: String, width: Int) -> String {
        let width = max(width, 1)
        if head.count + name.count + tail.count <= width { return head + name + tail }
        let room = width - head.count - tail.count
        if room >= 2 { return head + "…" + String(name.suffix(room - 1)) + tail }
        let line = head + (name.isEmpty ? "" : "…") + tail
        return String(line.prefix(width))
    }
}

/// The process's peak resident set size in bytes.
func peakMemoryBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}
