import Foundation
@testable import IsoMerge
import Linalg
import XCTest

/// Malformed and hostile PyTorch files: each refused with the file and the reason, nothing
/// executed, no crash, no hang; and the readers' public entry points on arbitrary bytes.
final class PyTorchHostileTests: XCTestCase {
    func testHostileArchivesAreRefusedWithTheReason() {
        let cases: [(String, [String])] = [
            ("os_system.pt", ["GLOBAL", "refers to os.system", "nothing was executed"]),
            ("eval_in_state_dict.pt", ["STACK_GLOBAL", "refers to builtins.eval"]),
            ("call_in_state_dict.pt", ["tensor 'extra'", "result of calling collections.Counter", "never called"]),
            ("injected_call.pt", ["calls torch.hub.load and discards the result"]),
            ("offset_past_storage.pt", ["tensor 'w'", "storage offset 2", "reach element 5", "holds 4 F32 elements"]),
            ("stride_past_storage.pt", ["tensor 'w'", "strides [3, 1]", "reach element 4"]),
            ("missing_storage.pt", ["tensor 'w'", "storage '7'", "not in the archive"]),
            ("short_storage.pt", ["tensor 'w'", "holds 8 bytes but the pickle declares 16"]),
            ("recursion_bomb.pt", ["nest 5000 levels deep", "limit of 256"]),
            ("memo_index.pt", ["LONG_BINPUT", "memo index 4294967295"]),
            ("billion_laughs.pt", ["shared references multiply"]),
            ("shape_overflow.pt", ["_rebuild_tensor_v2", "not a valid layout"]),
            ("truncated.pt", ["no zip end-of-central-directory record"]),
            ("compressed.pt", ["is compressed (method 8)"]),
        ]
        for (name, fragments) in cases {
            XCTAssertSafetensorsError(["hostile/" + name] + fragments) { _ = try Checkpoint(path: TestFiles.fixture("torch/hostile/" + name)) }
        }
    }

    /// A call of an unknown callable parses into an inert record: `shutil.rmtree`-like gadgets are
    /// refused by name, any other call is never made (a `touch MARKER` through `os.system` is
    /// refused; through an unknown `tools.run` it is recorded, and the marker never appears).
    func testCallsAreRecordedNeverMade() throws {
        let marker = TestFiles.scratchDirectory(for: self) + "/marker"
        let command = Array("touch \(marker)".utf8)
        func call(_ global: String) -> [UInt8] {
            [0x80, 2, 0x63] + Array(global.utf8) + [0x58] + littleEndian32(command.count) + command + [0x85, 0x52, 0x2E]
        }
        XCTAssertSafetensorsError(["refers to os.system"]) { _ = try Pickle.parse(bytes: call("os\nsystem\n")) }
        XCTAssertSafetensorsError(["refers to subprocess.run"]) { _ = try Pickle.parse(bytes: call("subprocess\nrun\n")) }
        XCTAssertSafetensorsError(["refers to __builtin__.eval"]) { _ = try Pickle.parse(bytes: call("__builtin__\neval\n")) }
        let graph = try Pickle.parse(bytes: call("tools\nrun\n"))
        guard case let .record(record)? = graph.node(graph.root) else { return XCTFail("root is \(graph.root)") }
        XCTAssertEqual(record.origin, .call)
        XCTAssertEqual(record.typeName, "tools.run")
        XCTAssertEqual(record.arguments, [.string("touch \(marker)")])
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
        XCTAssertSafetensorsError(["<bytes>", "result of calling tools.run"]) {
            _ = try StateDictNaming.tensors(in: graph, key: nil, file: "<bytes>", limits: PickleLimits())
        }
        // The same call made and its result popped before an empty dict: an injected call.
        XCTAssertSafetensorsError(["calls tools.run and discards the result"]) {
            _ = try Pickle.parse(bytes: call("tools\nrun\n").dropLast() + [0x30, 0x7D, 0x2E])
        }
    }

    func testPickleLimitsAndMalformedOpcodes() {
        let cases: [([UInt8], [String])] = [
            ([0x80, 2] + [UInt8](repeating: 0x5D, count: 100_000) + [UInt8](repeating: 0x61, count: 99_999) + [0x2E], ["nest 100000 levels deep"]),
            ([0x80, 2] + [UInt8](repeating: 0x28, count: 50_000) + [UInt8](repeating: 0x74, count: 50_000) + [0x2E], ["levels deep"]),
            ([0x80, 2, 0x6A, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E], ["memo index 2147483647 was never set"]),
            ([0x80, 2, 0x7D, 0x72, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E], ["memo index 4294967295 is beyond"]),
            ([0x80, 2, 0x30, 0x2E], ["POP", "empty stack"]),
            ([0x80, 2, 0x28, 0x61, 0x2E], ["APPEND", "below a MARK"]),
            ([0x80, 2, 0x74, 0x2E], ["TUPLE", "needs a MARK"]),
            ([0x80, 2, 0x58, 0xFF, 0xFF, 0xFF, 0x0F, 0x61], ["BINUNICODE", "needs 268435455 more bytes"]),
            ([0x80, 2, 0x8B, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E], ["LONG4", "negative length"]),
            ([0x80, 2, 0x8D] + [UInt8](repeating: 0xFF, count: 8), ["BINUNICODE8", "beyond any pickle"]),
            ([0x80, 2, 0x4E], ["ends without STOP"]),
            ([0x80, 9, 0x4E, 0x2E], ["protocol 9"]),
            ([0x80, 2, 0xFF, 0x2E], ["unknown opcode 0xff"]),
            ([0x80, 2, 0x4E, 0x4E, 0x81, 0x2E], ["NEWOBJ", "arguments must be a tuple, not None"]),
            ([0x80, 2, 0x4E, 0x4E, 0x4E, 0x73, 0x2E], ["SETITEM", "sets items on None, not a dict"]),
            ([0x80, 2, 0x29, 0x4E, 0x62, 0x2E], ["BUILD", "state of a tuple"]),
            ([0x80, 2, 0x82, 0x01, 0x2E], ["EXT1", "extension registry"]),
            ([0x80, 2, 0x4E, 0x51, 0x2E], ["BINPERSID", "persistent id is None"]),
            ([0x80, 2] + Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + [0x4E, 0x85, 0x52, 0x2E], ["_rebuild_tensor_v2", "expects 6 or 7"]),
        ]
        for (bytes, fragments) in cases {
            XCTAssertSafetensorsError(fragments) { _ = try Pickle.parse(bytes: bytes) }
        }
        var small = PickleLimits()
        small.maximumBytes = 3
        XCTAssertSafetensorsError(["over the 3-byte limit"]) { _ = try Pickle.parse(bytes: [0x80, 2, 0x4E, 0x2E], limits: small) }
        small = PickleLimits()
        small.maximumObjects = 2
        XCTAssertSafetensorsError(["more than 2 objects"]) { _ = try Pickle.parse(bytes: [0x80, 2, 0x5D, 0x5D, 0x30, 0x5D, 0x2E], limits: small) }
        XCTAssertSafetensorsError(["more than 2 values on its stack"]) { _ = try Pickle.parse(bytes: [0x80, 2, 0x4E, 0x4E, 0x4E, 0x2E], limits: small) }
        XCTAssertSafetensorsError(["memoizes more than 2"]) {
            _ = try Pickle.parse(bytes: [0x80, 2, 0x4E, 0x94, 0x94, 0x94, 0x2E], limits: small)
        }
    }

    /// A list that contains itself parses (the memo allows it) and is refused where tensors are looked for.
    func testCyclesAreRefusedWhenWalked() throws {
        let pickle: [UInt8] = [0x80, 2, 0x7D, 0x58, 1, 0, 0, 0, 0x77, 0x5D, 0x71, 0, 0x68, 0, 0x61, 0x73, 0x2E]
        let graph = try Pickle.parse(bytes: pickle)
        XCTAssertEqual(graph.nodes.count, 2)
        XCTAssertSafetensorsError(["nest deeper than 256", "a cycle?"]) {
            _ = try StateDictNaming.tensors(in: graph, key: nil, file: "<bytes>", limits: PickleLimits())
        }
    }

    /// A dict that holds itself under an 8000-byte key (an 8 KB pickle, committed as a fuzz
    /// regression input): each level of the walk added the key to the name, up to 2 MB names
    /// built and copied 256 times. Names are bounded, and the error quotes only their start.
    func testLongKeysAlongACycleAreRefusedEarly() throws {
        let graph = try Pickle.parse(bytes: TestFiles.bytes(TestFiles.fixture("fuzz/torch-checkpoint/long-key-cycle.pkl")))
        XCTAssertSafetensorsError(["a name under 'kkk", "is longer than 4096 bytes"]) {
            do {
                _ = try StateDictNaming.tensors(in: graph, key: nil, file: "<bytes>", limits: PickleLimits())
            } catch {
                XCTAssertLessThan(String(describing: error).count, 200)
                throw error
            }
        }
    }

    /// Every strict prefix of a real data.pkl is an error; random byte changes never crash or hang.
    func testTruncatedAndMutatedPicklesNeverCrash() throws {
        let archive = try ZipArchive(bytes: TestFiles.bytes(TestFiles.fixture("torch/state_dict.pt")))
        let pickle = try archive.contents(of: archive.entry(named: "state_dict/data.pkl")!, limit: 1 << 20)
        XCTAssertEqual(try StateDictNaming.tensors(in: try Pickle.parse(bytes: pickle), key: nil, file: "", limits: PickleLimits()).count, 20)
        for length in 0..<pickle.count {
            XCTAssertThrowsError(try Pickle.parse(bytes: Array(pickle[..<length])), "prefix of \(length) bytes")
        }
        var generator = SplitMix64(seed: 26)
        for _ in 0..<3000 {
            var mutated = pickle
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let graph = try? Pickle.parse(bytes: mutated) {
                _ = try? StateDictNaming.tensors(in: graph, key: nil, file: "", limits: PickleLimits())
            }
        }
    }

    /// Every prefix of a real archive, and random byte changes, give an error or entries — never a crash.
    func testTruncatedAndMutatedArchivesNeverCrash() throws {
        let bytes = TestFiles.bytes(TestFiles.fixture("torch/state_dict.pt"))
        let whole = try ZipArchive(bytes: bytes)
        XCTAssertEqual(whole.entries.count, 22)
        XCTAssertEqual(whole.entries.first?.name, "state_dict/data.pkl")
        for length in 0..<bytes.count - 22 {
            XCTAssertThrowsError(try ZipArchive(bytes: Array(bytes[..<length])), "prefix of \(length) bytes")
        }
        var generator = SplitMix64(seed: 28)
        for _ in 0..<3000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                mutated[Int.random(in: max(0, bytes.count - 1200)..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let archive = try? ZipArchive(bytes: mutated) {
                for entry in archive.entries { _ = try? archive.contents(of: entry, limit: 1 << 20) }
            }
        }
    }

    /// A torch archive repacked with every size and offset in ZIP64 extra fields (as torch writes
    /// them past 4 GiB) reads the same tensors.
    func testZip64ExtraFieldsAreHonoured() throws {
        let source = try ZipArchive(bytes: TestFiles.bytes(TestFiles.fixture("torch/state_dict.pt")))
        let files = try source.entries.map { ($0.name, try source.contents(of: $0, limit: 1 << 20)) }
        let path = TestFiles.scratchDirectory(for: self) + "/zip64.pt"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(zip64Archive(files))))
        let repacked = try ZipArchive(bytes: TestFiles.bytes(path))
        XCTAssertEqual(repacked.entries.map(\.size), source.entries.map(\.size))
        XCTAssertEqual(repacked.entries.map(\.name), source.entries.map(\.name))
        let ours = try Checkpoint(path: path), reference = try Checkpoint(path: TestFiles.fixture("torch/state_dict.pt"))
        XCTAssertEqual(ours.tensors.map(\.entry.name), reference.tensors.map(\.entry.name))
        for (_, entry) in reference.tensors {
            XCTAssertEqual(try ours.rawBytes(of: entry.name), try reference.rawBytes(of: entry.name), entry.name)
        }
    }

    /// A zip archive of stored `files` whose local and central headers put sizes and offsets in
    /// ZIP64 extra fields (32-bit fields saturated), ended by a ZIP64 record and locator.
    func zip64Archive(_ files: [(String, [UInt8])]) -> [UInt8] {
        func field(_ value: Int, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let saturated = field(0xFFFF_FFFF, 4)
        var archive: [UInt8] = [], directory: [UInt8] = []
        for (name, data) in files {
            let offset = archive.count, crc = Int(CRC32.checksum(data)), nameBytes = Array(name.utf8)
            let localExtra = field(1, 2) + field(16, 2) + field(data.count, 8) + field(data.count, 8)
            archive += field(0x0403_4B50, 4) + field(45, 2) + field(0, 8) + field(crc, 4) + saturated + saturated
            archive += field(nameBytes.count, 2) + field(localExtra.count, 2) + nameBytes + localExtra + data
            let centralExtra = field(1, 2) + field(24, 2) + field(data.count, 8) + field(data.count, 8) + field(offset, 8)
            directory += field(0x0201_4B50, 4) + field(45, 2) + field(45, 2) + field(0, 8) + field(crc, 4) + saturated + saturated
            directory += field(nameBytes.count, 2) + field(centralExtra.count, 2) + field(0, 10) + saturated + nameBytes + centralExtra
        }
        let directoryOffset = archive.count
        archive += directory
        let recordOffset = archive.count
        archive += field(0x0606_4B50, 4) + field(44, 8) + field(45, 2) + field(45, 2) + field(0, 8) + field(files.count, 8)
        archive += field(files.count, 8) + field(directory.count, 8) + field(directoryOffset, 8)
        archive += field(0x0706_4B50, 4) + field(0, 4) + field(recordOffset, 8) + field(1, 4)
        archive += field(0x0605_4B50, 4) + field(0, 4) + field(0xFFFF, 2) + field(0xFFFF, 2) + saturated + saturated + field(0, 2)
        return archive
    }

    func littleEndian32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
