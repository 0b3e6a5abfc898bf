import Engine
import Testing

@Test func versionIsSemantic() {
    #expect(SpateVersion.string.split(separator: ".").count == 3)
}
