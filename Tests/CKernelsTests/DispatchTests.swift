import CKernels
import Testing

extension KernelTests {
    @Suite struct DispatchTests {
        @Test func setClampsToDetectedLevel() {
            let detected = ck_isa_detected()
            let before = ck_isa_current()
            defer { _ = ck_isa_set(before) }
            #expect(ck_isa_set(CK_ISA_SCALAR) == CK_ISA_SCALAR)
            #expect(ck_isa_current() == CK_ISA_SCALAR)
            #expect(ck_isa_set(CK_ISA_AVX512).rawValue == detected.rawValue)
            #expect(String(cString: ck_isa_name(CK_ISA_AVX2)) == "avx2")
        }
    }
}
