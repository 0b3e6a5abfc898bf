/// Spate's version, as `spate --version` prints it.
public enum SpateVersion {
    public static let string = "0.1.0"
}
