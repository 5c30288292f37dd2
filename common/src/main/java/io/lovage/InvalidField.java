package io.lovage;

/**
 * A definition that cannot be (a schedule, a task's limits): which field of its JSON is at fault,
 * and why; a REST service answers it as a 400 whose pointer names the field.
 */
public class InvalidField extends IllegalArgumentException {
  private final String field;

  public InvalidField(String field, String message) {
    super(message);
    this.field = field;
  }

  /** The field at fault, as in the JSON (a path for a nested one); empty for the whole body. */
  public String field() {
    return field;
  }
}
