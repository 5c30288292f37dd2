package io.lovage;

import java.util.List;
import tools.jackson.databind.node.ObjectNode;

/** Steps one after the other (Celery's {@code chain}); see {@link Canvas}. */
public record Chain(List<Canvas> steps) implements Canvas {
  public Chain {
    steps = List.copyOf(steps);
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a chain needs at least one step");
    }
  }

  @Override
  public ObjectNode toJson() {
    return Group.container("celery.chain", "chain", steps);
  }
}
