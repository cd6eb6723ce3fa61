@testable import isomerge
import XCTest

/// The command-line parser on its own: values, lists, switches, `=` forms, and the usage errors
/// that name the flag.
final class ArgumentsTests: XCTestCase {
    let options: Set<String> = ["alpha", "base"], lists: Set<String> = ["models"], flags: Set<String> = ["help", "quiet"]

    func parse(_ arguments: [String]) throws -> Arguments {
        try Arguments(arguments, options: options, multiValued: lists, flags: flags)
    }

    func testValuesListsSwitchesAndPositionals() throws {
        let parsed = try parse(["in.safetensors", "--alpha", "1.5", "--models", "a", "b", "c", "--quiet", "--base=x=y", "-h", "-"])
        XCTAssertEqual(try parsed.value("alpha"), "1.5")
        XCTAssertEqual(parsed.all("models"), ["a", "b", "c"])
        XCTAssertEqual(try parsed.value("base"), "x=y", "only the first = splits")
        XCTAssertTrue(parsed.has("quiet") && parsed.has("help"))
        XCTAssertEqual(parsed.positional, ["in.safetensors", "-"])
        XCTAssertNil(try parsed.value("missing"))
        XCTAssertEqual(try parse(["--models", "a", "--models", "b"]).all("models"), ["a", "b"], "repeated lists add up")
        XCTAssertEqual(try parse(["--alpha", "-1"]).value("alpha"), "-1", "a value may start with one dash")
    }

    func testMistakesAreUsageErrorsNamingTheFlag() {
        let cases: [([String], String)] = [
            (["--colour", "red"], "unknown option --colour (known: --alpha --base --help --models --quiet)"),
            (["--alpha"], "--alpha needs a value"), (["--alpha", "--quiet"], "--alpha needs a value"),
            (["--quiet=yes"], "--quiet takes no value"), (["--models"], "--models needs a value"),
        ]
        for (arguments, message) in cases {
            XCTAssertThrowsError(try parse(arguments), "\(arguments)") { error in
                XCTAssertEqual("\(error)", message)
            }
        }
        XCTAssertThrowsError(try parse(["--alpha", "1", "--alpha", "2"]).value("alpha")) { error in
            XCTAssertEqual("\(error)", "--alpha given more than once")
        }
    }

    /// The α grid takes decimals and fractions; 15 steps of 1/30 land on 0.5 exactly, and the paper's
    /// 1/30:1:1/30 has 30 values ending at 1.
    func testAlphaGridTakesFractions() throws {
        let settings = MergeSettings(rules: .standard)
        let thirtieths = try settings.parseGrid("1/30:1:1/30")
        XCTAssertEqual(thirtieths.count, 30)
        XCTAssertEqual(thirtieths[14], 0.5)
        XCTAssertEqual(thirtieths.last, 1)
        XCTAssertEqual(thirtieths[0], 0.0333333333)
        XCTAssertEqual(try settings.parseGrid("0.1:0.3:0.1"), [0.1, 0.2, 0.3])
        for bad in ["1/0:1:0.1", "1/30:1", "a/b:1:0.1", "1//30:1:1/30", "0.5:0.1:0.1"] {
            XCTAssertThrowsError(try settings.parseGrid(bad), bad)
        }
    }
}
