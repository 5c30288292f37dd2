package io.lovage.protocol;

import tools.jackson.databind.json.JsonMapper;

/** The one JSON mapper of the library: plain JSON, no type information, no default typing. */
public final class Json {
  public static final JsonMapper MAPPER = JsonMapper.builder().build();

  private Json() {}
}
