import PGAdviseReport
import Testing

@Suite struct TextLayoutTests {
    /// A list item keeps its marker on the first line and continues under its text.
    @Test func aLeadStandsBeforeTheFirstLineOnly() {
        #expect(wrap("d9e68ff35eca196e 200 calls, cost 6,883 -> 283", width: 30, lead: "   - ", indent: "     ")
                == "   - d9e68ff35eca196e 200\n     calls, cost 6,883 -> 283")
        #expect(wrap("short", width: 30, lead: "  - ", indent: "    ") == "  - short")
    }
}
