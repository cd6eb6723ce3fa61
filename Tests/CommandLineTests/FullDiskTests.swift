import Foundation
import IsoMerge
import XCTest

/// A full disk while shards are written, simulated with a file size limit (RLIMIT_FSIZE through
/// the shell's `ulimit -f`, SIGXFSZ ignored so that a write past it fails with EFBIG): the first
/// shards fit, the last does not. Nothing may be left — no shard, no index, no temporary — and
/// the same command succeeds once there is room.
final class FullDiskTests: CommandLineTestCase {
    func testAFullDiskWhileWritingShardsLeavesNothingAndTheRerunSucceeds() throws {
        // Under ThreadSanitizer any process with a small RLIMIT_FSIZE dies of SIGBUS inside the
        // sanitizer's own shadow-memory access (`isomerge --version` does too), so the limit
        // cannot be simulated there; the plain and AddressSanitizer runs keep the test.
        try XCTSkipIf(dlsym(nil, "__tsan_init") != nil,  // nil is RTLD_DEFAULT
                      "a file size limit kills ThreadSanitizer's runtime")
        // Five 4 KiB tensors (a shard each) written before one of 512 KiB, more than the limit.
        let shapes = (0..<5).map { ("a\($0).weight", [32, 32]) } + [("z.weight", [512, 256])]
        let (base, models) = try models(shapes: shapes)
        let output = directory + "/out"
        let arguments = ["merge", "--method", "average", "--base", base, "--models"] + models
            + ["--output", output, "--shard-size", "5000", "--quiet"]
        let command = arguments.map(shellQuote).joined(separator: " ")
        let before = try snapshot(directory)
        // 256 blocks are 128 KiB in dash (512-byte blocks) and 256 KiB in bash: between the sizes either way.
        let limited = try Isomerge.shell("trap '' XFSZ; ulimit -f 256 || exit 99; exec \"$ISOMERGE\" \(command)")
        try XCTSkipIf(limited.status == 99, "the shell cannot set a file size limit: \(limited.stderr)")
        XCTAssertEqual(limited.status, 1, limited.stderr)
        XCTAssertTrue(limited.stderr.contains("z.weight") || limited.stderr.contains("File too large"), limited.stderr)
        XCTAssertEqual(try snapshot(directory), before, "something was left")
        XCTAssertEqual(try hiddenEntries(directory), [])

        let rerun = try Isomerge.run(arguments)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try Checkpoint(path: output).tensors.count, shapes.count + 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output).count, 7, "six shards and the index")
    }
}
