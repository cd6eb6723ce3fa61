import Foundation
import IsoMerge
@testable import isomerge
import XCTest

/// Adding a method is one file (`ToyMedianRule`) and one registry line: the command line's help,
/// flags, config keys, validation and the output's provenance all follow from the declaration, and
/// the engine merges with it.
final class MergeRuleRegistryTests: CommandLineTestCase {
    let rules = MergeRules.standard.adding(ToyMedianRule.self)

    func testAToyMethodIsOfferedValidatedAndRecorded() throws {
        let help = MergeCommand.help(rules: rules)
        XCTAssertTrue(help.contains("toy_median") && help.contains(ToyMedianRule.summary), help)
        XCTAssertTrue(help.contains("--shrink X") && help.contains("toy_median: how far the median is pulled toward zero (default 0.25)"),
                      help)
        XCTAssertFalse(MergeCommand.help(rules: .standard).contains("--shrink"))

        let (base, models) = try models()
        let output = directory + "/toy.safetensors"
        let config = directory + "/toy.json"
        try Data("{\"method\": \"toy-median\", \"shrink\": 0.5}".utf8).write(to: URL(fileURLWithPath: config))
        try MergeCommand.run(["--config", config, "--base", base, "--models"] + models + ["--output", output, "--quiet"], rules: rules)

        let merged = try Checkpoint(path: output)
        let metadata = Dictionary(uniqueKeysWithValues: merged.metadata.map { ($0.key, $0.value) })
        XCTAssertEqual(metadata["isomerge.method"], "toy_median")
        XCTAssertEqual(metadata["isomerge.shrink"], "0.5")
        XCTAssertEqual(metadata["isomerge.alpha"], "0.9")
        // θ = θ₀ + 0.9·0.5·median_t(θ_t − θ₀), element by element, rounded once to F32.
        let theta0 = try Checkpoint(path: base), thetas = try models.map { try Checkpoint(path: $0) }
        for name in ["layer.weight", "layer.bias", "head.weight"] {
            let b = try theta0.values(of: name, as: Float.self)
            let taus = try thetas.map { try zip($0.values(of: name, as: Float.self), b).map { Float(Double($0) - Double($1)) } }
            let expected = b.indices.map { i in Float(Double(b[i]) + 0.9 * Double(Float(0.5) * taus.map { $0[i] }.sorted()[1])) }
            XCTAssertEqual(try merged.values(of: name, as: Float.self), expected, name)
        }

        XCTAssertThrowsError(try MergeCommand.run(["--method", "toy_median", "--shrink", "1.5", "--base", base, "--models"] + models
                                                  + ["--output", directory + "/bad.safetensors"], rules: rules)) { error in
            XCTAssertTrue("\(error)".contains("--shrink must be in [0, 1] (how far the median is pulled toward zero, e.g. 0.25), not 1.5"),
                          "\(error)")
        }
        XCTAssertThrowsError(try MergeCommand.run(["--method", "toy_median", "--shrink", "0.5"], rules: .standard)) { error in
            XCTAssertTrue("\(error)".contains("unknown option --shrink"), "\(error)")
        }
        var settings = MergeSettings(rules: rules)
        settings.method = "iso_c"
        settings.parameters = ["shrink": .number(0.5)]
        XCTAssertEqual(settings.ignoredParameters(for: try settings.rule()), ["--shrink is used only by toy_median"])
        XCTAssertTrue(settings.keys.contains("shrink"))
    }
}
