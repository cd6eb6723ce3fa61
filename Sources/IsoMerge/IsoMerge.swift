/// IsoMerge: merging fine-tuned checkpoints with isotropic methods, on top of Linalg.
public enum IsoMerge {
    /// The package version, written into the provenance of merged checkpoints.
    public static let version = "0.1.0"
}
