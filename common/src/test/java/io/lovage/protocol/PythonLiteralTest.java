package io.lovage.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PythonLiteralTest {

  @Test
  void plainPythonReprsReadBackAsJson() {
    assertEquals(Json.MAPPER.readTree("5"), PythonLiteral.parse("5"));
    assertEquals(Json.MAPPER.readTree("\"it's\""), PythonLiteral.parse("\"it's\""));
    assertEquals(
        Json.MAPPER.readTree("{\"a\": [1, 2.5, null, true, false], \"b\": [\"x\"]}"),
        PythonLiteral.parse("{'a': [1, 2.5, None, True, False], 'b': ('x',)}"));
  }

  @Test
  void whatPythonWritesOfOurOwnReprsReadsBackUnchanged() {
    String json =
        "{\"list\": [1, \"two\", null, true], \"nested\": {\"pi\": 3.14, \"q\": \"a'b\\\"c\"}}";

    assertEquals(
        Json.MAPPER.readTree(json), PythonLiteral.parse(PythonRepr.of(Json.MAPPER.readTree(json))));
  }

  @Test
  void reprOfAnObjectStaysAString() {
    assertEquals(
        Json.MAPPER.getNodeFactory().stringNode("<Order id=7>"),
        PythonLiteral.parse("<Order id=7>"));
    assertEquals(Json.MAPPER.getNodeFactory().stringNode("[1, 2"), PythonLiteral.parse("[1, 2"));
  }
}
