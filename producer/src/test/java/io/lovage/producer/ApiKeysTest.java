package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.core.annotation.AnnotationMetadata;
import io.micronaut.http.HttpMethod;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
  private static final String FILE =
      """
      # billing submits and reads; ops administers
      %s submit,read billing
      %s admin ops team

      """
          .formatted(hex("billing-key"), hex("ops-key"));

  @Test
  void aKeyFileGivesEachKeyItsScopesAndName() {
    ApiKeys keys = ApiKeys.parse(FILE, "keys.txt");

    ApiKeys.Key billing = keys.match("billing-key").orElseThrow();
    ApiKeys.Key ops = keys.match("ops-key").orElseThrow();

    assertEquals("billing", billing.name());
    assertEquals(Set.of(ApiScope.SUBMIT, ApiScope.READ), billing.scopes());
    assertEquals("ops team", ops.name());
    assertEquals(Set.of(ApiScope.ADMIN), ops.scopes());
    assertTrue(keys.match("billing-key ").isEmpty(), "the key exactly, nothing around it");
  }

  @Test
  void theSingleKeyHasEveryScopeBesideTheFilesKeys() {
    ApiKeys keys = ApiKeys.parse(FILE, "keys.txt").with(ApiKeys.single("old-key"));

    assertEquals(Set.of(ApiScope.values()), keys.match("old-key").orElseThrow().scopes());
    assertTrue(keys.match("billing-key").isPresent(), "both at once, for a rotation");
  }

  @Test
  void aLineThatIsNotHashScopesNameIsRefusedWithItsNumber() {
    var notAHash = assertThrows(IllegalArgumentException.class, () -> parse("abc read x"));
    var unknownScope =
        assertThrows(
            IllegalArgumentException.class, () -> parse("\n" + hex("k") + " write someone"));

    assertTrue(notAHash.getMessage().contains("keys.txt line 1"), notAHash.getMessage());
    assertTrue(unknownScope.getMessage().contains("keys.txt line 2"), unknownScope.getMessage());
    assertTrue(unknownScope.getMessage().contains("'write'"), unknownScope.getMessage());
  }

  @Test
  void getReadsSubmitRoutesSubmitAndEveryOtherChangeIsAdmin() {
    AnnotationMetadata none = AnnotationMetadata.EMPTY_METADATA;

    assertEquals(ApiScope.READ, ApiScope.of(HttpMethod.GET, none));
    assertEquals(ApiScope.ADMIN, ApiScope.of(HttpMethod.DELETE, none));
    assertEquals(ApiScope.ADMIN, ApiScope.of(HttpMethod.POST, none));
    assertEquals(ApiScope.ADMIN, ApiScope.of(HttpMethod.PUT, none));
  }

  private static ApiKeys parse(String text) {
    return ApiKeys.parse(text, "keys.txt");
  }

  private static String hex(String key) {
    return HexFormat.of().formatHex(ApiKeys.sha256(key));
  }
}
