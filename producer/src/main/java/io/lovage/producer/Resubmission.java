package io.lovage.producer;

import io.lovage.protocol.Json;
import io.lovage.result.TaskArguments;
import io.lovage.result.TaskRecord;
import tools.jackson.databind.node.ObjectNode;

/**
 * The dashboard's resubmit: a finished task's name, args, kwargs and queue as the body of {@code
 * POST /tasks}, sent through {@link TaskController} as a new task (a new id). Only arguments kept
 * whole can be sent again: when the events carried them cut ({@link TaskArguments#truncated()}), or
 * did not carry them, the dashboard refuses and says so, rather than run the task with other
 * arguments than it had.
 */
final class Resubmission {
  private Resubmission() {}

  /** Why a task cannot be sent again; the page shows {@link #getMessage()}. */
  static final class Refused extends Exception {
    Refused(String why) {
      super(why);
    }
  }

  static byte[] body(TaskRecord record) throws Refused {
    if (!record.state().isFinal()) {
      throw new Refused(
          "task '" + record.id() + "' has not finished (" + record.state() + "): nothing to rerun");
    }
    if (record.task() == null) {
      throw new Refused("the name of task '" + record.id() + "' is not known");
    }
    TaskArguments arguments = record.arguments();
    if (arguments == null) {
      throw new Refused(
          "the arguments of task '"
              + record.id()
              + "' are not known (its events did not carry them): submit it through POST /tasks");
    }
    if (arguments.truncated()) {
      throw new Refused(
          "the arguments of task '"
              + record.id()
              + "' were longer than "
              + TaskArguments.MAX_CHARS
              + " characters and only their start is kept: submit it through POST /tasks");
    }
    if (arguments.args().isEmpty() || arguments.kwargs().isEmpty()) {
      throw new Refused(
          "the arguments of task '" + record.id() + "' are not a JSON list and object as kept");
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("task", record.task());
    body.set("args", arguments.args().get());
    body.set("kwargs", arguments.kwargs().get());
    if (record.queue() != null) {
      body.put("queue", record.queue());
    }
    return Json.MAPPER.writeValueAsBytes(body);
  }
}
